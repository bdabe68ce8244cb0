// clinicflow: the menu's search box. htmx fetches the top hits as one types; this shows them under the
// box, moves through them with the arrow keys, and opens the chosen one (or the only one) with Enter.
(function () {
  "use strict";

  function box() { return document.getElementById("global-search"); }
  function list() { return document.getElementById("global-search-hits"); }
  function hits() { return Array.from(list().querySelectorAll("a.cf-hit")); }

  function show(open) {
    const hitsList = list();
    if (!hitsList) return;
    hitsList.hidden = !open || !hitsList.textContent.trim();
    box().setAttribute("aria-expanded", String(!hitsList.hidden));
  }

  function select(index) {
    const all = hits();
    all.forEach(function (a, n) { a.classList.toggle("active", n === index); a.setAttribute("aria-selected", String(n === index)); });
    if (all[index]) all[index].scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "global-search-hits") show(document.activeElement === box());
  });

  document.addEventListener("keydown", function (e) {
    if (e.target !== box()) return;
    const all = hits(), current = all.findIndex(function (a) { return a.classList.contains("active"); });
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (!all.length) return;
      e.preventDefault();
      show(true);
      select(e.key === "ArrowDown" ? Math.min(current + 1, all.length - 1) : Math.max(current - 1, 0));
    } else if (e.key === "Enter") {
      const single = list().querySelector("[data-single]");
      const target = current >= 0 ? all[current].href : single && !list().hidden ? single.dataset.single : null;
      if (target) { e.preventDefault(); window.location = target; }
      // Otherwise the form submits: the search page (which opens the card itself for one hit).
    } else if (e.key === "Escape") {
      show(false);
    }
  });

  document.addEventListener("focusin", function (e) {
    const form = box() && box().form;
    if (!form) return;
    show(form.contains(e.target));
  });
  document.addEventListener("click", function (e) {
    const form = box() && box().form;
    if (form && !form.contains(e.target)) show(false);
  });
})();
