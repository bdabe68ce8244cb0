/* clinicflow website widget: the inquiry form on any page of the clinic's site.
 *
 *   <script src="https://crm.clinic.example/widget.js" data-branch="2" data-lang="ru" async></script>
 *
 * Optional: data-target="#where" (a CSS selector; default: right after this tag). The form lives in a
 * shadow root, so the host page's CSS neither breaks it nor is broken by it. It sends the page's utm_* tags
 * (kept from the landing page for the visit), the landing page and the referrer. Texts, the consent text
 * and its version come from the CRM (GET /api/v1/public/widget), in Russian or English.
 *
 * While the clinic offers free slots (the config's slots_offered), a second step books a time: the visitor
 * picks a service, a day and a time (GET /api/v1/public/slots) and books it (POST /api/v1/public/bookings)
 * with the form's request_id, so a repeated click books nothing twice and a time just taken (409) is
 * replaced by one of the alternatives for the same inquiry. Times are shown in the branch's zone.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var base = new URL(script.src).origin;
  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];
  var STORE = "clinicflow-widget-visit";

  // The visit's first page carries the campaign's tags; later pages of the site usually do not.
  function visit() {
    var stored = null;
    try { stored = JSON.parse(sessionStorage.getItem(STORE) || "null"); } catch (e) { stored = null; }
    var params = new URLSearchParams(location.search), utm = {}, tagged = false;
    UTM.forEach(function (name) { if (params.get(name)) { utm[name] = params.get(name).slice(0, 200); tagged = true; } });
    if (tagged || !stored) {
      stored = {utm: utm, landing: location.href.slice(0, 1000), referrer: document.referrer.slice(0, 1000)};
      try { sessionStorage.setItem(STORE, JSON.stringify(stored)); } catch (e) { /* private mode */ }
    }
    return stored;
  }

  var CSS = [
    ":host{all:initial;display:block;font:15px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#212529}",
    "[hidden]{display:none!important}",
    "form,section{display:grid;gap:.6rem;max-width:28rem;padding:1rem;border:1px solid #dee2e6;border-radius:.5rem;background:#fff}",
    "h2{margin:0;font-size:1.15rem}p{margin:0}",
    ".field{display:grid;gap:.2rem}label{display:grid;gap:.2rem;overflow-wrap:anywhere}",
    "input,textarea,select,button{font:inherit;padding:.45rem .6rem;border:1px solid #ced4da;border-radius:.375rem;box-sizing:border-box;width:100%}",
    ".check{display:flex;gap:.5rem;align-items:flex-start}.check input{width:auto;margin-top:.2rem}",
    "button{background:#0d6efd;color:#fff;border-color:#0d6efd;cursor:pointer}button[disabled]{opacity:.6}",
    "button:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid #86b7fe;outline-offset:1px}",
    ".secondary,.days button,.times button{background:#fff;color:#0a58ca}",
    ".days,.times{display:flex;flex-wrap:wrap;gap:.4rem}.days button,.times button{width:auto}",
    ".days button[aria-pressed=true],.times button[aria-pressed=true]{background:#0d6efd;color:#fff}",
    ".doctor{margin:.3rem 0 0;font-weight:600;overflow-wrap:anywhere}",
    ".hp{position:absolute;left:-9999px;width:1px;height:1px;overflow:hidden}",
    ".note{margin:0;color:#6c757d;font-size:.9em;overflow-wrap:anywhere}",
    ".error{color:#b02a37;margin:0;overflow-wrap:anywhere}.done{color:#146c43;margin:0;overflow-wrap:anywhere}a{color:#0a58ca}",
  ].join("");

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (whole, key) { return key in values ? values[key] : whole; });
  }

  function send(url, options, lang) {
    // The server's own messages (which field is wrong and why) come in the widget's language.
    var headers = Object.assign({"Accept-Language": lang}, options.headers || {});
    return fetch(url, Object.assign({}, options, {headers: headers, credentials: "omit"}));
  }

  // "2026-11-30": the calendar day of a moment in a zone, and day arithmetic on such keys.
  function dayKey(moment, zone) {
    var parts = {};
    new Intl.DateTimeFormat("en-US", {timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit"})
      .formatToParts(moment).forEach(function (part) { parts[part.type] = part.value; });
    return parts.year + "-" + parts.month + "-" + parts.day;
  }

  function addDays(key, days) {
    var p = key.split("-");
    return new Date(Date.UTC(Number(p[0]), Number(p[1]) - 1, Number(p[2]) + days)).toISOString().slice(0, 10);
  }

  function render(root, config) {
    var t = config.labels, lang = config.language, branchId = script.getAttribute("data-branch") || "";
    var errors = {}, inputs = {};

    // A field's label, its input and, under it, the error that names it (`shown`: a label of its own).
    function field(key, label, input, shown) {
      var error = el("p", {"class": "error", id: "clinicflow-error-" + key, hidden: ""});
      errors[key] = error; inputs[key] = input;
      input.setAttribute("aria-describedby", error.id);
      return el("div", {"class": "field"}, [shown || el("label", {}, [el("span", {text: label}), input]), error]);
    }

    var name = el("input", {name: "name", autocomplete: "name", maxlength: "160"});
    var phone = el("input", {name: "phone", type: "tel", autocomplete: "tel", required: "", maxlength: "40"});
    var comment = el("textarea", {name: "comment", rows: "3", maxlength: "2000"});
    var consent = el("input", {type: "checkbox", name: "consent", required: ""});
    var marketing = el("input", {type: "checkbox", name: "marketing_consent"});
    // Invisible to people, irresistible to form-filling bots.
    var trap = el("input", {name: "website", tabindex: "-1", autocomplete: "off"});
    var consentText = el("span", {text: config.consent_text + " "});
    if (config.privacy_policy_url) {
      consentText.appendChild(el("a", {href: config.privacy_policy_url, target: "_blank", rel: "noopener", text: t.privacy}));
    }
    var status = el("p", {role: "status", "aria-live": "polite"});
    var submit = el("button", {type: "submit", text: t.send});
    var parts = [el("h2", {text: t.title}), field("name", t.name, name), field("phone", t.phone, phone)];
    var branch = null;
    if (!branchId && config.branches.length > 1) {
      branch = el("select", {name: "branch"}, config.branches.map(function (b) {
        return el("option", {value: String(b.id), text: b.address ? b.name + " — " + b.address : b.name});
      }));
      parts.push(field("branch_id", t.branch, branch));
    }
    parts.push(field("comment", t.comment, comment),
               field("consent", "", consent, el("label", {"class": "check"}, [consent, consentText])),
               el("label", {"class": "check"}, [marketing, el("span", {text: t.marketing})]),
               el("div", {"class": "hp", "aria-hidden": "true"}, [trap]));
    var choose = null;
    if (config.slots_offered) {
      choose = el("button", {type: "button", "class": "secondary", text: t.choose_time});
      parts.push(choose);
    }
    parts.push(submit, status);
    var form = el("form", {novalidate: ""}, parts);
    var requestId = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).slice(0, 100);
    var box = el("div", {}, [form]);

    function chosenBranch() {
      var chosen = branchId || (branch && branch.value) || (config.branches.length === 1 ? config.branches[0].id : "");
      return chosen ? Number(chosen) : null;
    }

    function clearErrors() {
      Object.keys(errors).forEach(function (key) {
        errors[key].hidden = true; errors[key].textContent = "";
        inputs[key].removeAttribute("aria-invalid");
      });
      status.textContent = "";
    }

    function showError(key, message) {
      var error = errors[key];
      if (!error) { return false; }
      error.textContent = (error.textContent ? error.textContent + " " : "") + message;
      error.hidden = false;
      inputs[key].setAttribute("aria-invalid", "true");
      return true;
    }

    // The client's own checks: the two fields without which nothing can be sent.
    function checkForm() {
      clearErrors();
      if (!phone.value.trim()) { showError("phone", t.phone_required); phone.focus(); return false; }
      if (!consent.checked) { showError("consent", t.consent_required); consent.focus(); return false; }
      return true;
    }

    function payload() {
      var v = visit(), body = {
        name: name.value.trim(), phone: phone.value.trim(), comment: comment.value.trim(), consent: true,
        marketing_consent: marketing.checked, consent_text_version: config.consent_text_version,
        page_url: v.landing, referrer: v.referrer, request_id: requestId,
      };
      var chosen = chosenBranch();
      if (chosen) { body.branch_id = chosen; }
      Object.keys(v.utm).forEach(function (key) { body[key] = v.utm[key]; });
      return body;
    }

    // A 422 names its fields: each message goes under its field; the rest into `fallback`.
    function showProblems(body, fallback) {
      var detail = body && body.detail, rest = [];
      if (Array.isArray(detail)) {
        detail.forEach(function (d) {
          var loc = d.loc || [], key = loc.indexOf("slot") >= 0 ? "slot" : loc[loc.length - 1];
          if (!showError(key, d.msg)) { rest.push(d.msg); }
        });
      } else {
        rest.push((typeof detail === "string" && detail) || t.failed);
      }
      fallback.className = "error";
      fallback.textContent = rest.join(" ");
      var first = Object.keys(errors).filter(function (key) { return !errors[key].hidden; })[0];
      return first;
    }

    function finish(lines) {
      box.replaceChildren(el("section", {role: "status"}, (lines || [t.thanks]).map(function (line) {
        return el("p", {"class": "done", text: line});
      })));
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!checkForm()) { return; }
      if (trap.value) { finish(); return; }
      submit.disabled = true; status.className = ""; status.textContent = t.sending;
      send(base + "/api/v1/public/inquiries", {
        method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(payload()),
      }, lang).then(function (response) {
        if (response.ok) { finish(); return; }
        return response.json().then(fail, function () { fail(null); });
      }, function () { fail(null); });
    });

    function fail(body) {
      submit.disabled = false;
      var first = showProblems(body, status);
      if (first) { inputs[first].focus(); }
    }

    if (choose) {
      var booking = bookingStep();
      box.appendChild(booking.section);
      choose.addEventListener("click", function () {
        if (!checkForm()) { return; }
        if (trap.value) { finish(); return; }
        form.hidden = true;
        booking.open();
      });
    }

    // The second step: a service, a day, a time, and the booking.
    function bookingStep() {
      var services = [];
      var service = el("select", {name: "service"});
      var serviceField = field("service_id", t.service, service);
      var note = el("p", {"class": "note", hidden: ""});
      var days = el("div", {"class": "days", role: "group", "aria-label": t.slots_title});
      var times = el("div", {"aria-describedby": "clinicflow-error-slot"});
      var earlier = el("button", {type: "button", "class": "secondary", text: t.earlier});
      var later = el("button", {type: "button", "class": "secondary", text: t.later});
      var info = el("p", {role: "status", "aria-live": "polite"});
      var slotError = el("p", {"class": "error", id: "clinicflow-error-slot", hidden: ""});
      var chosen = el("p", {"class": "note", "aria-live": "polite"});
      var book = el("button", {type: "button", text: t.book});
      var back = el("button", {type: "button", "class": "secondary", text: t.back});
      errors.slot = slotError; inputs.slot = times;
      var section = el("section", {hidden: "", "aria-label": t.slots_title}, [
        el("h2", {text: t.slots_title}), serviceField, note, info, days, times,
        el("div", {"class": "days"}, [earlier, later]), slotError, chosen, book, back]);
      var state = {zone: "", today: "", from: "", picked: null, loaded: 0, branch: null};

      function format(iso, options) {
        return new Intl.DateTimeFormat(lang, Object.assign({timeZone: state.zone}, options)).format(new Date(iso));
      }
      function dayText(iso) { return format(iso, {weekday: "short", day: "numeric", month: "short"}); }
      function timeText(iso) { return format(iso, {hour: "2-digit", minute: "2-digit"}); }
      function dayTimeText(iso) {
        return format(iso, {weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit"});
      }
      function zoneDiffers() {
        return Intl.DateTimeFormat().resolvedOptions().timeZone !== state.zone;
      }
      function fullText(iso) {
        var options = {weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit"};
        if (zoneDiffers()) { options.timeZoneName = "short"; }
        return format(iso, options);
      }

      // The services of the branch chosen on the first step (the visitor may go back and choose another).
      function open() {
        section.hidden = false;
        if (state.branch !== chosenBranch()) {
          state.branch = chosenBranch(); state.from = "";
          var here = config.branches.filter(function (b) { return b.id === state.branch; })[0];
          services = config.services.filter(function (s) { return here && here.service_ids.indexOf(s.id) >= 0; });
          service.replaceChildren(el("option", {value: "", text: t.choose_service}));
          services.forEach(function (s) { service.appendChild(el("option", {value: String(s.id), text: s.name})); });
          pick(null); days.replaceChildren(); times.replaceChildren();
        }
        serviceField.hidden = !services.length;
        (services.length ? service : book).focus();
        if (!services.length || service.value) { load(); } else { info.textContent = t.choose_service; }
      }

      function load() {
        var query = "branch_id=" + chosenBranch() + "&days=7";
        if (service.value) { query += "&service_id=" + service.value; }
        if (state.from) { query += "&date_from=" + state.from; }
        pick(null); days.replaceChildren(); times.replaceChildren();
        info.className = ""; info.textContent = t.loading;
        var loading = ++state.loaded;
        send(base + "/api/v1/public/slots?" + query, {}, lang).then(function (response) {
          return response.json().then(function (body) {
            if (loading !== state.loaded) { return; }  // an answer to an earlier choice arrived late
            if (!response.ok) { clearErrors(); showProblems(body, info); return; }
            showSlots(body);
          });
        }).catch(function () { info.className = "error"; info.textContent = t.failed; });
      }

      function showSlots(body) {
        state.zone = body.time_zone;
        state.today = dayKey(new Date(), state.zone);
        state.from = state.from || state.today;
        earlier.disabled = state.from <= state.today;
        note.hidden = !zoneDiffers();
        note.textContent = fill(t.zone_note, {zone: state.zone});
        info.className = ""; info.textContent = body.slots.length ? "" : t.no_slots;
        var byDay = {}, order = [];
        body.slots.forEach(function (slot) {
          var key = dayKey(new Date(slot.starts_at), state.zone);
          if (!byDay[key]) { byDay[key] = []; order.push(key); }
          byDay[key].push(slot);
        });
        days.replaceChildren.apply(days, order.map(function (key) {
          var button = el("button", {type: "button", "aria-pressed": "false", "data-day": key,
                                     text: dayText(byDay[key][0].starts_at)});
          button.addEventListener("click", function () { showDay(key, byDay[key]); });
          return button;
        }));
        if (order.length) { showDay(order[0], byDay[order[0]]); }
      }

      function showDay(key, slots) {
        Array.prototype.forEach.call(days.children, function (button) {
          button.setAttribute("aria-pressed", String(button.getAttribute("data-day") === key));
        });
        showTimes(slots, timeText);
      }

      // Time buttons grouped by doctor; `label` writes a slot's time (alternatives name their day too).
      function showTimes(slots, label) {
        pick(null);
        var doctors = {}, order = [];
        slots.forEach(function (slot) {
          if (!doctors[slot.doctor_id]) { doctors[slot.doctor_id] = []; order.push(slot.doctor_id); }
          doctors[slot.doctor_id].push(slot);
        });
        times.replaceChildren.apply(times, order.map(function (id) {
          var own = doctors[id];
          return el("div", {}, [el("p", {"class": "doctor", text: own[0].doctor_name}),
            el("div", {"class": "times", role: "group", "aria-label": own[0].doctor_name}, own.map(function (slot) {
              var button = el("button", {type: "button", "aria-pressed": "false", "data-doctor": String(slot.doctor_id),
                                         "data-starts-at": slot.starts_at, text: label(slot.starts_at),
                                         "aria-label": fullText(slot.starts_at) + ", " + slot.doctor_name});
              button.addEventListener("click", function () { pick(slot, button); });
              return button;
            }))]);
        }));
      }

      function pick(slot, button) {
        state.picked = slot;
        Array.prototype.forEach.call(times.querySelectorAll(".times button"), function (other) {
          other.setAttribute("aria-pressed", String(other === button));
        });
        chosen.textContent = slot ? fill(t.chosen, {time: fullText(slot.starts_at), doctor: slot.doctor_name}) : "";
        if (slot) { slotError.hidden = true; }
      }

      function submitBooking() {
        clearErrors();
        if (!state.picked) { showError("slot", t.pick_time); return; }
        var slot = state.picked, body = payload();
        body.branch_id = chosenBranch();
        if (service.value) { body.service_id = Number(service.value); }
        body.slot = {doctor_id: slot.doctor_id, starts_at: slot.starts_at};
        book.disabled = true; info.className = ""; info.textContent = t.booking;
        send(base + "/api/v1/public/bookings", {
          method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
        }, lang).then(function (response) {
          return response.json().then(function (answer) { booked(response.status, answer, slot); });
        }).catch(function () { book.disabled = false; info.className = "error"; info.textContent = t.failed; });
      }

      function booked(code, answer, slot) {
        book.disabled = false;
        if (code === 200 || code === 201) {
          var when = {time: fullText(answer.starts_at), doctor: slot.doctor_name};
          finish([answer.message, fill(answer.status === "booked" ? t.booked : t.requested, when)]);
        } else if (code === 409) {
          // Someone else was quicker: offer the times the server found instead, with their days.
          days.replaceChildren();
          showTimes(answer.alternatives || [], dayTimeText);
          info.className = "error"; info.textContent = t.taken;
          var first = times.querySelector("button");
          if (first) { first.focus(); }
        } else {
          info.textContent = "";
          var key = showProblems(answer, info);
          if (key && key !== "slot" && key !== "service_id") { backToForm(); }
          if (key) { inputs[key].focus(); }
        }
      }

      function backToForm() { section.hidden = true; form.hidden = false; }

      service.addEventListener("change", function () { state.from = ""; load(); });
      earlier.addEventListener("click", function () {
        state.from = addDays(state.from, -7) < state.today ? state.today : addDays(state.from, -7); load();
      });
      later.addEventListener("click", function () { state.from = addDays(state.from || state.today, 7); load(); });
      book.addEventListener("click", submitBooking);
      back.addEventListener("click", function () { clearErrors(); backToForm(); phone.focus(); });
      return {section: section, open: open};
    }

    // A constructed style sheet passes a host page's strict Content-Security-Policy; a <style> may not.
    if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
      root.replaceChildren(box);
    } else {
      root.replaceChildren(el("style", {text: CSS}), box);
    }
  }

  var host = el("div", {"class": "clinicflow-widget"});
  var target = script.getAttribute("data-target");
  var place = target && document.querySelector(target);
  if (place) { place.appendChild(host); } else { script.parentNode.insertBefore(host, script.nextSibling); }
  var root = host.attachShadow({mode: "open"});
  var lang = script.getAttribute("data-lang") || "";
  fetch(base + "/api/v1/public/widget" + (lang ? "?lang=" + encodeURIComponent(lang) : ""), {credentials: "omit"})
    .then(function (response) { return response.json(); })
    .then(function (config) { render(root, config); })
    .catch(function () { /* the CRM is unreachable: the page stays as it was */ });
}());
