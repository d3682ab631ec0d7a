// Page behaviours, progressive: every page works without them.
// - [data-copy="id"]: a button that copies the text (or value) of element #id.
// - textarea[data-segments="id"]: a live character count and how many texts the message is
//   sent as, written into #id
//   (the same GSM-7 / UCS-2 rules as the server's counter in src/domain/sms.rs).
// - form[data-confirm="question"]: asks before submitting.
// - select[data-ring-time]: disabled when its form's carrier/mode has no ring time.
(function () {
  "use strict";

  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENSION = "\f^{}\\[~]|€";

  function segments(text) {
    var chars = Array.from(text);
    var gsm = true;
    var costs = chars.map(function (c) {
      if (BASIC.indexOf(c) >= 0) return 1;
      if (EXTENSION.indexOf(c) >= 0) return 2;
      gsm = false;
      return 0;
    });
    var single = 160, multi = 153, encoding = "GSM-7";
    if (!gsm) {
      costs = chars.map(function (c) { return c.length; });
      single = 70; multi = 67; encoding = "UCS-2";
    }
    var units = costs.reduce(function (a, b) { return a + b; }, 0);
    var parts = 0;
    if (units > 0 && units <= single) parts = 1;
    else if (units > single) {
      parts = 1;
      var used = 0;
      costs.forEach(function (c) {
        if (used + c > multi) { parts += 1; used = 0; }
        used += c;
      });
    }
    return { chars: chars.length, units: units, parts: parts, encoding: encoding };
  }

  function wireCounter(area) {
    var out = document.getElementById(area.getAttribute("data-segments"));
    if (!out) return;
    var update = function () {
      var s = segments(area.value);
      var max = parseInt(area.getAttribute("maxlength") || "0", 10);
      // Plain words for the front desk: how many texts the patient is charged as.
      out.textContent = s.chars + (max ? " / " + max : "") + " characters · sent as " + s.parts +
        (s.parts === 1 ? " text" : " texts") +
        (s.encoding === "UCS-2" ? " (emoji or special letters make each text shorter)" : "");
    };
    area.addEventListener("input", update);
    update();
  }

  function wireCopy(button) {
    button.addEventListener("click", function () {
      var src = document.getElementById(button.getAttribute("data-copy"));
      if (!src) return;
      var text = "value" in src && src.value !== undefined ? src.value : src.textContent;
      var done = function () {
        var label = button.textContent;
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = label; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text.trim()).then(done, function () { select(src); });
      } else {
        select(src);
        try { document.execCommand("copy"); done(); } catch (e) { /* selected for manual copy */ }
      }
    });
    button.hidden = false;
  }

  function select(el) {
    if (el.select) { el.select(); return; }
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  function wire(root) {
    root.querySelectorAll("textarea[data-segments]").forEach(wireCounter);
    root.querySelectorAll("[data-copy]").forEach(wireCopy);
    root.querySelectorAll("select[data-ring-time]").forEach(wireRingTime);
  }

  // == telephony ==
  // select[data-ring-time]: the ring time only exists for a GSM carrier's safety net, so the
  // select is disabled (and not sent) when the chosen carrier option has data-gsm="0" or the
  // form's mode is total_ai. Without this the server refuses the combination with a message.
  function wireRingTime(ring) {
    var form = ring.form;
    if (!form) return;
    var update = function () {
      var carrier = form.querySelector("select[name=carrier]");
      var opt = carrier && carrier.options[carrier.selectedIndex];
      var mode = form.querySelector("input[name=mode]:checked");
      var off = (opt && opt.getAttribute("data-gsm") === "0") || (mode && mode.value === "total_ai");
      ring.disabled = !!off;
    };
    form.addEventListener("change", update);
    update();
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    var q = form.getAttribute && form.getAttribute("data-confirm");
    if (q && !window.confirm(q)) e.preventDefault();
  });
  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:load", function (e) { wire(e.target); });
})();
