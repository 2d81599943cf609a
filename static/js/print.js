// The printable pages: a button with data-print prints the page (no inline handler: the Content-Security-Policy
// allows no inline script).
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
