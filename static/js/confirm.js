// A submit button with data-confirm asks its question first; "Cancel" leaves the form unsent. For the pages
// whose own script does not already do it (the meeting and the ballot).
(function () {
  "use strict";
  document.querySelectorAll("[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      var question = button.getAttribute("data-confirm");
      if (question && !window.confirm(question)) {
        event.preventDefault();
      }
    });
  });
})();
