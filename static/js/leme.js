/* The little behaviour htmx leaves to the page, bound here by data attributes: the Content-Security-Policy
   runs no inline code (no onclick=, no hx-on). Listeners sit on the document, so rows that htmx swaps in later
   work too. Every page works without this file. */
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

/* <input type="checkbox" data-select-all>: ticks every row of its form. */
document.addEventListener("change", (event) => {
  if (event.target.matches("input[type=checkbox][data-select-all]")) window.leme.selectAll(event.target);
});

/* <form data-confirm-one="…" data-confirm-many="…">: asks before moving customers. */
document.addEventListener("submit", (event) => {
  if (event.target.matches("form[data-confirm-one]")) window.leme.confirmReassign(event.target, event);
});

/* <button data-print>: the browser's print dialog (a report saved as PDF). */
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
