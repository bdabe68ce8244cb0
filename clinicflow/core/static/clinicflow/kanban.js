// clinicflow kanban: drag a card onto a column; the server accepts or explains why not, at the card.
// Without this file the board still works through each card's menu.
(function () {
  "use strict";

  const CASE_TYPE = "application/x-clinicflow-case";

  // The board's filters travel with every move, so the board comes back as the person left it.
  function filterValues() {
    const form = document.getElementById("board-filters");
    const values = {};
    if (form) new FormData(form).forEach(function (value, name) { values[name] = value; });
    return values;
  }

  document.addEventListener("dragstart", function (e) {
    const card = e.target.closest && e.target.closest(".cf-case[draggable=true]");
    if (card) e.dataTransfer.setData(CASE_TYPE, card.dataset.moveUrl);
  });
  document.addEventListener("dragover", function (e) {
    const col = e.target.closest && e.target.closest(".cf-column");
    if (col) { e.preventDefault(); col.classList.add("cf-drop"); }
  });
  document.addEventListener("dragleave", function (e) {
    const col = e.target.closest && e.target.closest(".cf-column");
    if (col) col.classList.remove("cf-drop");
  });
  document.addEventListener("drop", function (e) {
    const col = e.target.closest && e.target.closest(".cf-column");
    if (!col) return;
    e.preventDefault(); col.classList.remove("cf-drop");
    // Only a card of ours: never POST to whatever text someone dropped from another page.
    const url = e.dataTransfer.getData(CASE_TYPE);
    if (!/^\/cases\/\d+\/move\/$/.test(url)) return;
    const values = Object.assign(filterValues(), { stage: col.dataset.stage, view: "board" });
    htmx.ajax("POST", url, { target: "#board", swap: "outerHTML", values: values });
  });

  // A refused move is explained at its card: bring that card into view (also sideways on a narrow
  // screen) and, when Lost needs a reason, put the cursor on the reason list.
  document.addEventListener("htmx:afterSettle", function () {
    const error = document.getElementById("move-error");
    if (!error) return;
    error.scrollIntoView({ block: "nearest", inline: "nearest" });
    const reason = document.querySelector("#lost-form select");
    if (reason) reason.focus({ preventScroll: true });
  });
})();
