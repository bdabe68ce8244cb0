/* clinicflow website widget: the inquiry form on any page of the clinic's site.
 *
 *   <script src="https://crm.clinic.example/widget.js" data-branch="2" data-lang="ru" async></script>
 *
 * Optional: data-target="#where" (a CSS selector; default: right after this tag). The form lives in a
 * shadow root, so the host page's CSS neither breaks it nor is broken by it. It sends the page's utm_* tags
 * (kept from the landing page for the visit), the landing page and the referrer. Texts, the consent text
 * and its version come from the CRM (GET /api/v1/public/widget), in Russian or English.
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
    "form{display:grid;gap:.6rem;max-width:28rem;padding:1rem;border:1px solid #dee2e6;border-radius:.5rem;background:#fff}",
    "h2{margin:0;font-size:1.15rem}",
    "label{display:grid;gap:.2rem;overflow-wrap:anywhere}",
    "input,textarea,select,button{font:inherit;padding:.45rem .6rem;border:1px solid #ced4da;border-radius:.375rem;box-sizing:border-box;width:100%}",
    ".check{display:flex;gap:.5rem;align-items:flex-start}.check input{width:auto;margin-top:.2rem}",
    "button{background:#0d6efd;color:#fff;border-color:#0d6efd;cursor:pointer}button[disabled]{opacity:.6}",
    ".hp{position:absolute;left:-9999px;width:1px;height:1px;overflow:hidden}",
    ".error{color:#b02a37;margin:0}.done{color:#146c43;margin:0}a{color:#0a58ca}",
  ].join("");

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function field(label, input) { return el("label", {}, [el("span", {text: label}), input]); }

  function render(root, config) {
    var t = config.labels, branchId = script.getAttribute("data-branch") || "";
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
    var send = el("button", {type: "submit", text: t.send});
    var parts = [el("h2", {text: t.title}), field(t.name, name), field(t.phone, phone)];
    var branch = null;
    if (!branchId && config.branches.length > 1) {
      branch = el("select", {name: "branch"}, config.branches.map(function (b) {
        return el("option", {value: String(b.id), text: b.address ? b.name + " — " + b.address : b.name});
      }));
      parts.push(field(t.branch, branch));
    }
    parts.push(field(t.comment, comment), el("label", {"class": "check"}, [consent, consentText]),
               el("label", {"class": "check"}, [marketing, el("span", {text: t.marketing})]),
               el("div", {"class": "hp", "aria-hidden": "true"}, [trap]), send, status);
    var form = el("form", {novalidate: ""}, parts);
    var requestId = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).slice(0, 100);

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      status.className = "error";
      if (!phone.value.trim()) { status.textContent = t.phone_required; phone.focus(); return; }
      if (!consent.checked) { status.textContent = t.consent_required; consent.focus(); return; }
      if (trap.value) { finish(); return; }
      var v = visit(), payload = {
        name: name.value.trim(), phone: phone.value.trim(), comment: comment.value.trim(), consent: true,
        marketing_consent: marketing.checked, consent_text_version: config.consent_text_version,
        page_url: v.landing, referrer: v.referrer, request_id: requestId,
      };
      var chosen = branchId || (branch && branch.value);
      if (chosen) { payload.branch_id = Number(chosen); }
      Object.keys(v.utm).forEach(function (key) { payload[key] = v.utm[key]; });
      send.disabled = true; status.className = ""; status.textContent = t.sending;
      fetch(base + "/api/v1/public/inquiries", {
        method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(payload), credentials: "omit",
      }).then(function (response) {
        if (response.ok) { finish(); return; }
        return response.json().then(function (body) { fail(body); }, function () { fail(null); });
      }, function () { fail(null); });
    });

    function finish() { form.replaceChildren(el("p", {"class": "done", role: "status", text: t.thanks})); }

    function fail(body) {
      send.disabled = false; status.className = "error";
      var detail = body && body.detail;
      if (Array.isArray(detail)) {
        status.textContent = detail.map(function (d) { return d.msg; }).join(" ");
      } else {
        status.textContent = (typeof detail === "string" && detail) || t.failed;
      }
    }
    // A constructed style sheet passes a host page's strict Content-Security-Policy; a <style> may not.
    if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
      root.replaceChildren(form);
    } else {
      root.replaceChildren(el("style", {text: CSS}), form);
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
