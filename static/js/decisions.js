// The decision screens. A row is saved by htmx when its level or reason changes (see the row's
// hx-* attributes); this file adds what htmx does not do by itself:
// - a row's "Accept" button chooses the suggested level in the row's list, which saves the row;
//   without JavaScript the button submits the page's form instead, which the server understands too;
// - a bulk button with data-confirm asks first;
// - a request that fails (network down, server error) says so above the table.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var accept = event.target.closest("[data-accept]");
    if (accept) {
      var select = document.getElementById(accept.getAttribute("data-select"));
      if (select) {
        event.preventDefault();
        select.value = accept.getAttribute("data-accept");
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
      return;
    }
    var confirmed = event.target.closest("[data-confirm]");
    if (confirmed && confirmed.getAttribute("data-confirm") && !window.confirm(confirmed.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
  function failed() {
    var box = document.getElementById("decision-errors");
    if (!box) return;
    box.textContent = box.getAttribute("data-failed");
    box.className = "alert alert-danger";
    box.setAttribute("role", "alert");
    box.scrollIntoView({ block: "center" });
  }
  document.body.addEventListener("htmx:responseError", failed);
  document.body.addEventListener("htmx:sendError", failed);
})();
