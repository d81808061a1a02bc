// Optional keyboard shortcuts for the common path. Everything also works without them.
// Queue: j/k move the selection, Enter opens. Inquiry: j/k next/previous,
// a approve (asks first), e edit the text, r reject (focuses the reason).
(function () {
  "use strict";
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  function follow(id) {
    var link = document.getElementById(id);
    if (link) { window.location.href = link.href; }
  }
  function queueKeys(key) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-row]"));
    if (!rows.length) { return false; }
    var at = rows.findIndex(function (r) { return r.classList.contains("selected"); });
    if (key === "j" || key === "k") {
      var next = key === "j" ? Math.min(at + 1, rows.length - 1) : Math.max(at - 1, 0);
      if (at >= 0) { rows[at].classList.remove("selected"); }
      rows[next].classList.add("selected");
      rows[next].querySelector("a.row-link").focus();
      return true;
    }
    return false;
  }
  function inquiryKeys(key) {
    if (key === "j") { follow("nav-next"); return true; }
    if (key === "k") { follow("nav-prev"); return true; }
    if (key === "a") {
      var form = document.getElementById("approve-form");
      if (form && window.confirm("Approve this reply? It will be sent to the person.")) { form.submit(); }
      return !!form;
    }
    if (key === "e") {
      var details = document.getElementById("edit-details");
      if (!details) { return false; }
      details.open = true;
      document.getElementById("edit-text").focus();
      return true;
    }
    if (key === "r") {
      var reason = document.getElementById("reject-reason");
      if (reason) { reason.scrollIntoView({ block: "center" }); reason.focus(); }
      return !!reason;
    }
    return false;
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) { return; }
    var body = document.body.classList;
    var handled = body.contains("page-queue") ? queueKeys(ev.key)
      : body.contains("page-inquiry") ? inquiryKeys(ev.key) : false;
    if (handled) { ev.preventDefault(); }
  });
})();
