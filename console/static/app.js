// Waystation console: live boards and checks as people type. The pages
// work without it.
"use strict";

(function () {
  // A live board: on each "changed" event of /live, fetch the board's body
  // again and swap it in. Only the board is replaced: a form being typed
  // elsewhere on the page keeps its input.
  function liveBoard(el) {
    var src = el.getAttribute("data-src");
    var live = el.getAttribute("data-live");
    if (!src || !live || !window.EventSource) return;
    var pending = false;
    function refresh() {
      if (pending) return;
      pending = true;
      fetch(src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) {
          if (r.status === 401) { window.location.assign("/login"); return null; }
          return r.ok ? r.text() : null;
        })
        .then(function (html) { if (html !== null && html !== undefined) el.innerHTML = html; })
        .catch(function () {})
        .then(function () { pending = false; });
    }
    var es = new EventSource(live);
    es.addEventListener("changed", refresh);
  }

  // The resident ID number (GB 11643): 17 digits and a check character,
  // checked as it is typed. The server checks it again.
  var weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  var checks = "10X98765432";
  function residentIDProblem(v) {
    v = v.trim().toUpperCase();
    if (v === "") return "";
    if (!/^\d{17}[\dX]$/.test(v)) return "form";
    var sum = 0;
    for (var i = 0; i < 17; i++) sum += (v.charCodeAt(i) - 48) * weights[i];
    return checks.charAt(sum % 11) === v.charAt(17) ? "" : "check";
  }
  function idCheck(input) {
    var hint = document.createElement("p");
    hint.className = "hint";
    hint.id = input.id + "-hint";
    hint.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", hint);
    input.setAttribute("aria-describedby", (input.getAttribute("aria-describedby") || "") + " " + hint.id);
    var type = document.querySelector("[name='person.id_type']");
    function update() {
      if (type && type.value && type.value !== "resident_id") { hint.textContent = ""; return; }
      var p = residentIDProblem(input.value);
      if (input.value.trim() === "") { hint.textContent = ""; hint.className = "hint"; return; }
      if (p === "") { hint.textContent = input.getAttribute("data-ok"); hint.className = "hint good"; }
      else if (p === "form") { hint.textContent = input.getAttribute("data-bad-form"); hint.className = "hint bad"; }
      else { hint.textContent = input.getAttribute("data-bad-digit"); hint.className = "hint bad"; }
    }
    input.addEventListener("input", update);
    if (type) type.addEventListener("change", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var board = document.getElementById("board");
    if (board) liveBoard(board);
    var ids = document.querySelectorAll("input[data-check='resident-id']");
    for (var i = 0; i < ids.length; i++) idCheck(ids[i]);
  });
})();

// ---- inspect: the version slider of /inspect/cases/{id} ----
// The slider's form is a plain GET form with a submit button; with
// JavaScript, the number beside it follows the slider and letting go of
// it submits the form.
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form[data-autosubmit]");
    for (var i = 0; i < forms.length; i++) {
      (function (form) {
        var range = form.querySelector("input[type=range]");
        var out = form.querySelector("output");
        if (!range) return;
        var label = out ? out.textContent : "";
        range.addEventListener("input", function () {
          if (out) out.textContent = label.replace(/\d+/, range.value);
        });
        range.addEventListener("change", function () { form.submit(); });
      })(forms[i]);
    }
  });
})();
