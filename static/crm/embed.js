/* CRM website form. Paste on any page (see docs/embedding.md):
 *   <div data-crm-form-key="KEY" data-crm-render></div>           renders a default form
 *   <form data-crm-form-key="KEY"> ...your fields... </form>       sends your own form
 *   <script src="https://crm.example.com/static/crm/embed.js" defer></script>
 * Plain JavaScript, no build step. Posts JSON to <api>/api/v1/leads with the form key, a fresh
 * Idempotency-Key per submission (the same one when the same submission is retried), UTM
 * parameters, the page address, the referrer and the form token from <api>/f/<key>/token. */
(function () {
  "use strict";
  var script = document.currentScript;
  var HONEYPOT = "website_url";
  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];
  var FIELDS = [ // name, label, input type, autocomplete, required
    ["name", "Name", "text", "name"],
    ["email", "Email", "email", "email", 1],
    ["phone", "Phone", "tel", "tel"],
    ["company", "Company", "text", "organization"],
    ["message", "How can we help?", "textarea", "off"]
  ];
  var CSS =
    ".crm-form{max-width:30rem;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2933}" +
    ".crm-form .crm-consent label{display:inline;font-weight:400;margin-left:.4rem}.crm-form .crm-consent input{width:auto}" +
    ".crm-field{margin:0 0 1rem}.crm-form label{display:block;font-weight:600;font-size:.9em;margin:0 0 .3rem}" +
    ".crm-form input,.crm-form textarea{box-sizing:border-box;width:100%;padding:.6rem .75rem;border:1px solid #cbd2d9;" +
    "border-radius:6px;font:inherit;color:inherit;background:#fff}.crm-form textarea{min-height:6.5rem;resize:vertical}" +
    ".crm-form input:focus,.crm-form textarea:focus{outline:3px solid rgba(37,99,235,.2);border-color:#2563eb}" +
    ".crm-form button{background:#2563eb;color:#fff;border:0;border-radius:6px;padding:.65rem 1.4rem;font:inherit;" +
    "font-weight:600;cursor:pointer}.crm-form button:hover{background:#1d4ed8}.crm-form button:disabled{opacity:.6;cursor:wait}" +
    "[data-crm-form-key] [aria-invalid=true],[data-crm-form-key] [aria-invalid=true]:focus{border-color:#c62828}" +
    ".crm-error{color:#c62828;font-size:.85em;margin:.3rem 0 0}.crm-note{color:#c62828;margin:.75rem 0 0}" +
    ".crm-thanks{box-sizing:border-box;max-width:30rem;padding:1rem 1.25rem;border-radius:8px;background:#ecfdf3;border:1px solid #abefc6;color:#05603a;" +
    "font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}" +
    ".crm-hp{position:absolute!important;left:-10000px!important;width:1px;height:1px;overflow:hidden}";
  var seq = 0;

  var NOT_ALLOWED = "This form is not allowed on this site.";
  var UNREACHABLE = "Could not reach the server; please check your connection and try again.";

  // Where the CRM lives: data-crm-api on the script tag, else the server this script came from.
  function baseUrl() {
    var explicit = script && script.getAttribute("data-crm-api");
    var base = explicit ? new URL(explicit, location.href).href
      : (script ? script.src : location.href).replace(/static\/crm\/embed\.js(\?.*)?$/, "");
    return base.replace(/\/?$/, "/");
  }
  var BASE = baseUrl(), API = BASE + "api/v1/leads";

  // The server's signed "form shown now" (the spam trap measures from it). Its answer also says
  // whether this site may use the form: a refused post itself would fail like a network error.
  function getToken(formKey) {
    return fetch(BASE + "f/" + encodeURIComponent(formKey) + "/token", { mode: "cors", credentials: "omit" })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (response.ok) return { token: body.token, at: Date.now(), ttl: body.max_age_seconds, wait: body.min_fill_seconds };
          if (response.status === 403) return { refused: NOT_ALLOWED };
          if (response.status === 404) return { refused: body.detail || "Unknown form." };
          throw response.status; // the server is in trouble: as good as unreachable
        });
      });
  }

  // A token young enough to send, once the first request has answered. Without one (that
  // request failed) or with an old one, a new one is fetched and its minimum fill time waited
  // out: the server measures from now.
  function ready(state, formKey) {
    return state.first.then(function () {
      var t = state.ticket;
      if (t && (t.refused || Date.now() - t.at < t.ttl * 900)) return t;
      return getToken(formKey).then(function (fresh) {
        state.ticket = fresh;
        return new Promise(function (done) { setTimeout(done, fresh.refused ? 0 : fresh.wait * 1000 + 200, fresh); });
      });
    });
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var name in attrs) node.setAttribute(name, attrs[name]);
    if (text) node.textContent = text;
    return node;
  }

  function addStyles() {
    if (document.getElementById("crm-form-css")) return;
    var style = el("style", { id: "crm-form-css" });
    style.textContent = CSS;
    document.head.appendChild(style);
  }

  function render(box) {
    var form = el("form", { "class": "crm-form", novalidate: "" });
    FIELDS.forEach(function (f) {
      var id = "crm-" + f[0] + "-" + (++seq);
      var wrap = el("div", { "class": "crm-field" });
      var input = el(f[2] === "textarea" ? "textarea" : "input", { id: id, name: f[0], autocomplete: f[3] });
      if (f[2] !== "textarea") input.type = f[2];
      if (f[4]) input.required = true;
      wrap.appendChild(el("label", { "for": id }, f[1] + (f[4] ? " *" : "")));
      wrap.appendChild(input);
      form.appendChild(wrap);
    });
    var ct = box.getAttribute("data-crm-consent"); // docs/privacy.md: an unticked consent box
    if (ct) {
      var c = el("div", { "class": "crm-field crm-consent" }), cb = el("input", { id: "crm-c" + (++seq), name: "marketing_consent", value: "true", type: "checkbox" });
      c.appendChild(cb);
      c.appendChild(el("label", { "for": cb.id }, ct));
      c.appendChild(el("input", { type: "hidden", name: "consent_wording", value: box.getAttribute("data-crm-consent-version") || "" }));
      form.appendChild(c);
    }
    form.appendChild(el("button", { type: "submit" }, box.getAttribute("data-crm-submit") || "Send"));
    box.appendChild(form);
    return form;
  }

  // Bots fill every field; people never see this one.
  function honeypot() {
    var wrap = el("div", { "class": "crm-hp", "aria-hidden": "true" });
    wrap.appendChild(el("label", {}, "Leave this empty"));
    wrap.lastChild.appendChild(el("input", { type: "text", name: HONEYPOT, tabindex: "-1", autocomplete: "off" }));
    return wrap;
  }

  function collect(form, host) {
    var data = {}, query = new URLSearchParams(location.search);
    new FormData(form).forEach(function (value, name) {
      if (typeof value !== "string" || value === "") return; // files are not sent; blanks say nothing
      data[name] = name in data ? [].concat(data[name], value) : value;
    });
    UTM.forEach(function (name) {
      if (!(name in data) && query.get(name)) data[name] = query.get(name);
    });
    if (host.getAttribute("data-crm-campaign")) data.campaign = host.getAttribute("data-crm-campaign");
    data.source_url = location.href;
    if (document.referrer) data.referrer = document.referrer;
    return data;
  }

  function newKey() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes); // unlike randomUUID, also on plain-http pages
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll(".crm-error,.crm-note"), function (n) { n.remove(); });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (n) {
      n.removeAttribute("aria-invalid");
      n.removeAttribute("aria-describedby");
    });
  }

  function note(form, text) {
    form.appendChild(el("p", { "class": "crm-note", role: "alert" }, text));
  }

  // A 400 body is {"field": ["message", ...]}: each message goes under its field.
  function showErrors(form, errors) {
    var loose = [], first = null;
    for (var name in errors) {
      var text = [].concat(errors[name]).join(" ");
      var field = form.elements[name];
      if (field && field.nodeType === 1 && field.type !== "hidden") {
        var id = "crm-err-" + (++seq);
        field.setAttribute("aria-invalid", "true");
        field.setAttribute("aria-describedby", id);
        field.insertAdjacentElement("afterend", el("div", { "class": "crm-error", id: id }, text));
        first = first || field;
      } else {
        loose.push(text);
      }
    }
    if (loose.length) note(form, loose.join(" "));
    if (first) first.focus();
  }

  function thank(form, host) {
    var box = el("p", { "class": "crm-thanks", role: "status" },
      host.getAttribute("data-crm-thanks") || "Thank you! We have your message and will be in touch soon.");
    form.hidden = true;
    form.insertAdjacentElement("afterend", box);
    form.dispatchEvent(new CustomEvent("crm:submitted", { bubbles: true }));
  }

  function attach(form, host) {
    if (form.crmAttached) return;
    form.crmAttached = true;
    var pending = null, formKey = host.getAttribute("data-crm-form-key"), state = {};
    var rendered = host.getAttribute("data-crm-token"); // the hosted page renders its token
    if (rendered) state.ticket = { token: rendered, at: Date.now(), ttl: +host.getAttribute("data-crm-token-max-age") };
    state.first = rendered ? Promise.resolve()
      : getToken(formKey).then(function (t) { state.ticket = t; }, function () {});
    if (!form.elements[HONEYPOT]) form.appendChild(honeypot());
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("[type=submit]");
      var data = collect(form, host), print = JSON.stringify(data);
      clearErrors(form);
      if (button) button.disabled = true;
      function done(text) {
        if (button) button.disabled = false;
        if (text) note(form, text);
      }
      ready(state, formKey).then(function (t) {
        if (t.refused) return done(t.refused);
        // Same answers as the last try: a retry, so the same key (and the same body) again.
        if (!pending || pending.print !== print) pending = { print: print, key: newKey(), token: t.token };
        data._token = pending.token;
        return fetch(API, {
          method: "POST", mode: "cors", credentials: "omit",
          headers: { "Content-Type": "application/json", "X-Form-Key": formKey, "Idempotency-Key": pending.key },
          body: JSON.stringify(data)
        }).then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (body) {
            done();
            if (response.ok) return thank(form, host);
            if (response.status === 400) return showErrors(form, body);
            note(form, response.status === 429 ? "Too many submissions from here; please try again later."
              : body.detail || "Sorry, something went wrong; please try again.");
          });
        });
      }).catch(function () {
        // The network, or a refusal of this site the browser hid from us: the token page tells which.
        getToken(formKey).then(function (t) { done(t.refused || UNREACHABLE); }, function () { done(UNREACHABLE); });
      });
    });
  }

  function init(root) {
    addStyles();
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-crm-form-key]"), function (host) {
      if (host.tagName === "FORM") attach(host, host);
      else if (host.hasAttribute("data-crm-render") && !host.querySelector("form")) attach(render(host), host);
    });
  }

  window.CRMForms = { init: init }; // for pages that add forms later
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { init(); });
  else init();
})();
