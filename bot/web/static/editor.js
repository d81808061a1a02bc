// The rules and template editors: checking while typing, the caret's line, problems that jump
// to their line, and a preview that follows the text. Every button also works without this file.
(function () {
  "use strict";
  var form = document.querySelector("form[data-check-url]");
  var text = document.getElementById("text");
  if (!form || !text) { return; }
  var caret = document.getElementById("caret");
  var seq = 0;
  var timer = null;

  function lineStart(n) {
    var lines = text.value.split("\n");
    var at = 0;
    for (var i = 0; i < Math.min(n - 1, lines.length); i++) { at += lines[i].length + 1; }
    return [at, at + (lines[n - 1] || "").length];
  }
  function goToLine(n) {
    var span = lineStart(n);
    text.focus();
    text.setSelectionRange(span[0], span[1]);
    // Scroll the textarea so the chosen line is in view.
    var height = text.scrollHeight / Math.max(text.value.split("\n").length, 1);
    text.scrollTop = Math.max(0, (n - 5) * height);
    showCaret();
  }
  function showCaret() {
    if (!caret) { return; }
    var before = text.value.slice(0, text.selectionStart).split("\n");
    caret.textContent = "Line " + before.length + ", column " + (before[before.length - 1].length + 1);
  }
  function lineButtons(root) {
    Array.prototype.forEach.call(root.querySelectorAll("span.line[data-line]"), function (span) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "line";
      button.textContent = span.textContent;
      button.title = "Show this line in the editor";
      button.addEventListener("click", function () { goToLine(parseInt(span.getAttribute("data-line"), 10)); });
      span.parentNode.replaceChild(button, span);
    });
  }
  function showProblems(data) {
    var box = document.getElementById("problems");
    if (!box) { return; }
    box.textContent = "";
    if (data.ok) {
      var ok = document.createElement("p");
      ok.className = "flash flash-ok";
      ok.textContent = "No mistakes found so far.";
      box.appendChild(ok);
      return;
    }
    var alert = document.createElement("div");
    alert.className = "alert alert-error";
    var head = document.createElement("strong");
    var n = data.problems.length;
    head.textContent = n + " mistake" + (n === 1 ? "" : "s") + " to fix before saving:";
    alert.appendChild(head);
    var list = document.createElement("ul");
    list.className = "problem-list";
    data.problems.forEach(function (p) {
      var item = document.createElement("li");
      var span = document.createElement("span");
      span.className = "line";
      span.setAttribute("data-line", String(p.line));
      span.textContent = "Line " + p.line;
      item.appendChild(span);
      item.appendChild(document.createTextNode(" " + p.message));
      list.appendChild(item);
    });
    alert.appendChild(list);
    box.appendChild(alert);
    lineButtons(box);
  }
  function showPreview(data) {
    var pre = document.getElementById("preview-text");
    var frame = document.getElementById("preview-frame");
    var subject = document.getElementById("preview-subject");
    var notes = document.getElementById("preview-notes");
    var changes = document.getElementById("changes");
    if (pre && data.text) { pre.textContent = data.text; }
    if (subject && data.subject) { subject.textContent = data.subject; }
    if (frame && data.preview) { frame.src = data.preview; }
    if (notes && data.notes) {
      notes.textContent = "";
      data.notes.forEach(function (n) {
        var p = document.createElement("p");
        p.className = "note small";
        p.textContent = n;
        notes.appendChild(p);
      });
    }
    // Made and escaped by the server's own template, like the rest of the page.
    if (changes && typeof data.changes === "string") { changes.innerHTML = data.changes; }
  }
  function check() {
    var mine = ++seq;
    var body = new FormData(form);
    var token = form.querySelector("input[name=csrf_token]").value;
    fetch(form.getAttribute("data-check-url"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": token }
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
      if (!data || mine !== seq) { return; }  // an older answer than the text on screen
      showProblems(data);
      showPreview(data);
    }).catch(function () { /* the Check button still works */ });
  }
  function later() {
    clearTimeout(timer);
    timer = setTimeout(check, 700);
  }
  text.addEventListener("input", function () { showCaret(); later(); });
  ["keyup", "click", "focus"].forEach(function (ev) { text.addEventListener(ev, showCaret); });
  var inquiry = document.getElementById("inquiry");
  if (inquiry) { inquiry.addEventListener("change", check); }
  var pasted = document.getElementById("pasted");
  if (pasted) { pasted.addEventListener("input", later); }
  lineButtons(document);
})();
