/* The little behaviour htmx leaves to the page, called from hx-on attributes. Every page works without it. */
window.leme = {
  /* A header checkbox ticks (or clears) every row's checkbox of its form. */
  selectAll(box) {
    box.form.querySelectorAll("input[type=checkbox][name=customers]").forEach((row) => {
      row.checked = box.checked;
    });
  },

  /* Before a bulk reassignment, ask: "Move 3 customers to Beatriz Santos?" (the texts come translated in the
     form's data-confirm-one / data-confirm-many). With nothing ticked the server says what is missing. */
  confirmReassign(form, event) {
    // Another bulk action's button (core.bulk) posts elsewhere: it is not a reassignment.
    if (event.submitter && event.submitter.hasAttribute("formaction")) return;
    const count = form.querySelectorAll("input[name=customers]:checked").length;
    const target = form.elements.to_owner;
    if (!count || !target || !target.value) return;
    const template = count === 1 ? form.dataset.confirmOne : form.dataset.confirmMany;
    const text = template.replace("%(count)s", count).replace("%(name)s", target.selectedOptions[0].text);
    if (!window.confirm(text)) event.preventDefault();
  },
};
