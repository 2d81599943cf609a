// Autosave of a review form: a few seconds after the last keystroke the draft is posted to the same
// address as the "Save draft" button, with the version the page was loaded at. A newer copy saved
// elsewhere makes the server refuse (409): we then stop and say so, and nothing is overwritten.
(function () {
  "use strict";
  var form = document.getElementById("assessment-form");
  if (!form) return;
  document.querySelectorAll("[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
  if (form.getAttribute("data-autosave") !== "on") return;

  var status = document.getElementById("save-status");
  var version = document.getElementById("id_version");
  var levelCheck = document.getElementById("level-check");
  var timer = null, saving = false, dirty = false, stopped = false;
  var DELAY = 2500;

  function say(text, kind) {
    if (!status) return;
    status.textContent = text;
    status.className = "ms-2 " + (kind === "error" ? "text-danger fw-semibold" : "text-muted");
  }

  var levelReason = document.getElementById("level-reason");

  function showLevelCheck(check) {
    if (!levelCheck || !check) return;
    if (levelReason) levelReason.hidden = !check.needs_reason;
    var list = check.blocking.length ? check.blocking : check.warnings;
    levelCheck.className = "alert " + (check.blocking.length ? "alert-danger" : check.warnings.length ? "alert-warning" : "alert-light border");
    levelCheck.textContent = "";
    if (!list.length) {
      levelCheck.textContent = levelCheck.getAttribute("data-clear") || levelCheck.textContent;
      return;
    }
    var ul = document.createElement("ul");
    ul.className = "mb-0";
    list.forEach(function (message) {
      var li = document.createElement("li");
      li.textContent = message;
      ul.appendChild(li);
    });
    levelCheck.appendChild(ul);
  }

  function save() {
    timer = null;
    if (stopped || saving || !dirty) return;
    saving = true;
    dirty = false;
    var data = new FormData(form);
    fetch(form.getAttribute("action"), {method: "POST", body: data, headers: {"X-Requested-With": "fetch"}, credentials: "same-origin"})
      .then(function (response) {
        return response.json().then(function (body) { return {status: response.status, body: body}; });
      })
      .then(function (result) {
        saving = false;
        if (result.status === 200) {
          version.value = result.body.version;
          say(result.body.message);
          showLevelCheck(result.body.level_check);
          if (dirty) schedule();
        } else if (result.status === 409) {
          stopped = true;
          say(result.body.error, "error");
        } else {
          say(result.body.error + (result.body.errors && result.body.errors.length ? " " + result.body.errors.join(" ") : ""), "error");
        }
      })
      .catch(function () {
        saving = false;
        dirty = true;
        say(status.getAttribute("data-offline") || "…", "error");
        schedule();
      });
  }

  function schedule() {
    if (stopped) return;
    if (timer) window.clearTimeout(timer);
    timer = window.setTimeout(save, DELAY);
  }

  form.addEventListener("input", function () { dirty = true; schedule(); });
  form.addEventListener("change", function () { dirty = true; schedule(); });
  form.addEventListener("submit", function () { stopped = true; if (timer) window.clearTimeout(timer); });
  form.setAttribute("data-autosave-ready", "yes");  // for people's tools and the browser tests alike
  window.addEventListener("beforeunload", function (event) {
    if ((dirty || saving) && !stopped) { event.preventDefault(); event.returnValue = ""; }
  });
})();
