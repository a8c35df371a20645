/* The little behaviour htmx leaves to the page, bound here by data attributes: the Content-Security-Policy
   runs no inline code (no onclick=, no hx-on). Listeners sit on the document, so rows that htmx swaps in later
   work too. Every page works without this file. */
window.leme = {
  /* A header checkbox ticks (or clears) every row's checkbox of its form. */
  selectAll(box) {
    box.form.querySelectorAll("input[type=checkbox][name=customers]").forEach((row) => {
      row.checked = box.checked;
    });
    // Clearing the page clears "all matching" too: the selection is never wider than what shows ticked.
    const matching = box.form.querySelector("input[data-all-matching]");
    if (matching && !box.checked) matching.checked = false;
  },

  /* "Select all 1,234 customers matching" ticks the page as well (what the person sees); unticking one row
     of the page narrows the selection back to the ticked rows. The server computes the matching set itself. */
  selectMatching(box) {
    box.form.querySelectorAll("input[type=checkbox][name=customers], input[data-select-all]").forEach((row) => {
      row.checked = box.checked;
    });
  },
  rowChanged(row) {
    if (row.checked) return;
    row.form.querySelectorAll("input[data-all-matching], input[data-select-all]").forEach((box) => {
      box.checked = false;
    });
  },

  /* Before a bulk reassignment, ask: "Move 3 customers to Beatriz Santos?" (the texts come translated in the
     form's data-confirm-one / data-confirm-many). With nothing ticked the server says what is missing. */
  confirmReassign(form, event) {
    // Another bulk action's button (core.bulk) posts elsewhere: it is not a reassignment.
    if (event.submitter && event.submitter.hasAttribute("formaction")) return;
    const matching = form.querySelector("input[data-all-matching]:checked");
    const count = matching ? matching.dataset.count : form.querySelectorAll("input[name=customers]:checked").length;
    const target = form.elements.to_owner;
    if (!count || !target || !target.value) return;
    const template = count === 1 ? form.dataset.confirmOne : form.dataset.confirmMany;
    const text = template.replace("%(count)s", count).replace("%(name)s", target.selectedOptions[0].text);
    if (!window.confirm(text)) event.preventDefault();
  },
};

/* <input type="checkbox" data-select-all>: ticks every row of its form; data-all-matching: every customer the
   filters match. */
document.addEventListener("change", (event) => {
  if (event.target.matches("input[type=checkbox][data-select-all]")) window.leme.selectAll(event.target);
  if (event.target.matches("input[type=checkbox][data-all-matching]")) window.leme.selectMatching(event.target);
  if (event.target.matches("input[type=checkbox][name=customers]")) window.leme.rowChanged(event.target);
});

/* <form data-confirm-one="…" data-confirm-many="…">: asks before moving customers. */
document.addEventListener("submit", (event) => {
  if (event.target.matches("form[data-confirm-one]")) window.leme.confirmReassign(event.target, event);
});

/* <button data-print>: the browser's print dialog (a report saved as PDF). */
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});

/* Search from anywhere (the top bar in base.html). "/" or Ctrl-K (⌘K) puts the cursor in the field; htmx fills
   the listbox under it as the person types. The ARIA combobox pattern: the focus stays in the field while the
   up and down arrows move through the options (aria-activedescendant names the chosen one), Enter opens it,
   Escape closes the list. Without a chosen option Enter submits the form: the results page. */
(() => {
  const field = () => document.getElementById("topsearch-q");
  const list = () => document.getElementById("topsearch-results");
  const options = () => Array.from(list()?.querySelectorAll("[role=option]") ?? []);
  const chosen = () => options().findIndex((option) => option.getAttribute("aria-selected") === "true");

  function choose(option) {
    options().forEach((each) => each.setAttribute("aria-selected", each === option ? "true" : "false"));
    if (option) {
      field().setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      field().removeAttribute("aria-activedescendant");
    }
  }

  function show(open) {
    const input = field();
    if (!input) return;
    const really = open && options().length > 0;
    input.setAttribute("aria-expanded", really ? "true" : "false");
    list().classList.toggle("open", really);
    if (!really) choose(null);
  }

  function typingElsewhere(target) {
    return target instanceof Element && target.closest("input, textarea, select, [contenteditable]:not([contenteditable=false])");
  }

  document.addEventListener("keydown", (event) => {
    const input = field();
    if (!input) return;
    const slash = event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !typingElsewhere(event.target);
    const ctrlK = (event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "k";
    if (slash || ctrlK) {
      event.preventDefault();
      input.focus();
      input.select();
      return;
    }
    if (event.target !== input) return;
    const all = options();
    const current = chosen();
    if ((event.key === "ArrowDown" || event.key === "ArrowUp") && all.length) {
      event.preventDefault();
      show(true);
      const next = event.key === "ArrowDown" ? (current + 1) % all.length : (current <= 0 ? all.length : current) - 1;
      choose(all[next]);
    } else if (event.key === "Enter" && current >= 0 && list().classList.contains("open")) {
      event.preventDefault();
      window.location.assign(all[current].href);
    } else if (event.key === "Escape" && list().classList.contains("open")) {
      event.preventDefault();
      show(false);
    }
  });

  // A new set of matches: open the list (or close it when nothing came back); nothing is chosen yet.
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target === list()) {
      choose(null);
      show(true);
    }
  });
  document.addEventListener("focusin", (event) => {
    if (event.target === field()) show(true);
  });
  document.addEventListener("click", (event) => {
    if (field() && !(event.target instanceof Element && event.target.closest("#topsearch"))) show(false);
  });
})();

/* The bell (templates/_bell.html): a click asks htmx for the notices and the list drops down under the bell; a
   second click, a click elsewhere or Escape closes it. Without JavaScript the bell is a link to the page. */
(() => {
  const panel = () => document.getElementById("bell-panel");
  const button = () => document.getElementById("bell-button");

  function close() {
    const open = panel();
    if (!open || open.hidden) return;
    open.hidden = true;
    button()?.setAttribute("aria-expanded", "false");
  }

  document.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.elt === button() && panel() && !panel().hidden) {
      event.preventDefault();
      close();
    }
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target === panel()) {
      panel().hidden = false;
      button()?.setAttribute("aria-expanded", "true");
    }
  });
  document.addEventListener("click", (event) => {
    if (event.target instanceof Element && !event.target.closest("[data-bell]")) close();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && panel() && !panel().hidden) {
      close();
      button()?.focus();
    }
  });
})();

/* The customer page's panels ask for their form when first opened (hx-trigger="toggle once", with a
   .deferred-form placeholder inside). A panel opened while the page was still loading, before htmx bound it,
   asks now: its toggle went unheard. */
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("details[open][hx-get] > .deferred-form").forEach((placeholder) => {
    window.htmx?.trigger(placeholder.parentElement, "toggle");
  });
});
