// The paper self-reviews page: one box ticks (or unticks) every member at once.
(function () {
  "use strict";
  document.querySelectorAll("[data-tick-all]").forEach(function (all) {
    var name = all.getAttribute("data-tick-all");
    all.addEventListener("change", function () {
      document.querySelectorAll('[data-tick="' + name + '"]').forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });
})();
