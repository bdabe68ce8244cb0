// clinicflow: small progressive enhancements. Pages work without it; this adds timers,
// keyboard shortcuts and new-inquiry notifications (the kanban has kanban.js).
(function () {
  "use strict";

  function formatSeconds(total) {
    total = Math.max(0, Math.floor(total));
    const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    const mm = String(m).padStart(2, "0"), ss = String(s).padStart(2, "0");
    return h ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }

  // Response timers: the server renders the working seconds elapsed; we tick while the branch is open.
  function tickTimers() {
    document.querySelectorAll("[data-timer]").forEach(function (el) {
      const open = el.dataset.open === "1";
      let elapsed = parseFloat(el.dataset.elapsed);
      if (open) { elapsed += 1; el.dataset.elapsed = elapsed; }
      const target = parseFloat(el.dataset.target);
      el.textContent = formatSeconds(elapsed);
      el.classList.toggle("cf-ok", elapsed < target * 0.6);
      el.classList.toggle("cf-soon", elapsed >= target * 0.6 && elapsed < target);
      el.classList.toggle("cf-late", elapsed >= target);
      el.classList.toggle("cf-paused", !open);
    });
  }
  setInterval(tickTimers, 1000);

  // New inquiries: update the unread badge and title, and notify when the newest id grows.
  let newestSeen = null;
  function onQueueUpdate() {
    const queue = document.getElementById("queue");
    if (!queue) return;
    const unread = parseInt(queue.dataset.unread || "0", 10);
    const newest = parseInt(queue.dataset.newest || "0", 10);
    const badge = document.getElementById("nav-unread");
    if (badge) { badge.textContent = unread || ""; badge.hidden = !unread; }
    document.title = (unread ? "(" + unread + ") " : "") + document.title.replace(/^\(\d+\) /, "");
    if (newestSeen !== null && newest > newestSeen && "Notification" in window && Notification.permission === "granted") {
      new Notification(queue.dataset.notifyTitle || "New inquiry", { body: queue.dataset.newestLabel || "", tag: "clinicflow-queue" });
    }
    newestSeen = newestSeen === null ? newest : Math.max(newestSeen, newest);
    tickTimers();
  }
  document.addEventListener("DOMContentLoaded", function () {
    onQueueUpdate();
    const ask = document.getElementById("enable-notifications");
    if (ask && "Notification" in window && Notification.permission === "default") {
      ask.hidden = false;
      ask.addEventListener("click", function () { Notification.requestPermission().then(function () { ask.hidden = true; }); });
    }
  });
  document.addEventListener("htmx:afterSettle", onQueueUpdate);

  // Keyboard: "/" search, j/k move in the queue, Enter opens, n new inquiry, Alt+Q/C/T/P switch screens,
  // Ctrl+Enter submits a textarea's form. Letters match the physical key (event.code), not the character:
  // on a Russian layout J types "о" and "/" sits elsewhere, yet the same keys must work. Alt+letter is
  // handled here rather than left to accesskey: Chromium matches accesskeys by character, so they fail on
  // a Russian layout.
  const SCREENS = { KeyQ: "q", KeyC: "c", KeyT: "t", KeyP: "p", KeyS: "s" };
  document.addEventListener("keydown", function (e) {
    const typing = /INPUT|TEXTAREA|SELECT/.test(e.target.tagName) || e.target.isContentEditable;
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && e.target.tagName === "TEXTAREA") {
      e.preventDefault(); e.target.form.requestSubmit(); return;
    }
    if (e.altKey && !e.ctrlKey && !e.metaKey && !e.shiftKey && SCREENS[e.code]) {
      const link = document.querySelector('nav a[accesskey="' + SCREENS[e.code] + '"]');
      if (link) { e.preventDefault(); window.location = link.href; }
      return;
    }
    if (typing || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.code === "Slash" || e.key === "/") { const s = document.getElementById("global-search"); if (s) { e.preventDefault(); s.focus(); } return; }
    if (e.code === "KeyN") { const n = document.getElementById("new-inquiry"); if (n) { e.preventDefault(); n.click(); } return; }
    const rows = Array.from(document.querySelectorAll("#queue tr[data-href]"));
    if (!rows.length) return;
    let index = rows.findIndex(function (r) { return r.classList.contains("cf-selected"); });
    // "b": book for the selected inquiry's patient and case on the schedule screen.
    if (e.code === "KeyB" && index >= 0 && rows[index].dataset.bookHref) { e.preventDefault(); window.location = rows[index].dataset.bookHref; return; }
    if (e.code === "KeyJ" || e.code === "KeyK") {
      index = e.code === "KeyJ" ? Math.min(index + 1, rows.length - 1) : Math.max(index - 1, 0);
      rows.forEach(function (r) { r.classList.remove("cf-selected"); });
      rows[index].classList.add("cf-selected");
      rows[index].scrollIntoView({ block: "nearest" });
      sessionStorage.setItem("cf-selected", rows[index].dataset.id);
    } else if (e.key === "Enter" && index >= 0) {
      window.location = rows[index].dataset.href;
    }
  });
  document.addEventListener("click", function (e) {
    const row = e.target.closest("#queue tr[data-href]");
    if (row && !e.target.closest("a,button,form")) window.location = row.dataset.href;
  });
  document.addEventListener("htmx:afterSettle", function () {
    const id = sessionStorage.getItem("cf-selected");
    const row = id && document.querySelector('#queue tr[data-id="' + id + '"]');
    if (row) row.classList.add("cf-selected");
  });
})();

// "Done · Undo": the server refuses an undo after its window; the button goes when the window closes.
(function () {
  "use strict";
  function expireUndo(root) {
    root.querySelectorAll("form.cf-undo[data-undo-seconds]:not([data-armed])").forEach(function (form) {
      form.dataset.armed = "1";
      setTimeout(function () { form.remove(); }, parseInt(form.dataset.undoSeconds, 10) * 1000);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { expireUndo(document); });
  document.addEventListener("htmx:afterSettle", function () { expireUndo(document); });
})();
