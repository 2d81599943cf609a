// The cell meeting's page: checks the attendance, the date and each line of the count as they are typed.
(function () {
  var form = document.getElementById("meeting-form");
  if (!form) { return; }
  var msg = form.dataset;
  var order = ["HTXSNV", "HTTNV", "HTNV", "KHTNV"];
  var shared = ["issued", "received", "valid"];
  var levels = ["htxsnv", "httnv", "htnv", "khtnv"];
  var labels = JSON.parse(document.getElementById("level-labels").textContent);
  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) { return values[key] !== undefined ? values[key] : all; });
  }
  function num(el) {
    if (!el) { return null; }
    var raw = (el.value !== undefined ? el.value : el.dataset.value || "").toString().trim();
    if (raw === "") { return null; }
    var n = Number(raw);
    return Number.isInteger(n) ? n : NaN;
  }
  function field(scope, name) { return scope.querySelector(".count-" + name); }
  function checkAttendance() {
    var total = num(document.getElementById("id_members_total"));
    var present = num(document.getElementById("id_present"));
    var absent = num(document.getElementById("id_absent"));
    var ticked = form.querySelectorAll("input.absentee:checked").length;
    var out = document.getElementById("attendance-check");
    var problems = [];
    if (total !== null && present !== null && absent !== null && present + absent !== total) { problems.push(msg.msgAttendance); }
    if (absent !== null && ticked !== absent) { problems.push(msg.msgTicked); }
    out.textContent = problems.join(" ");
    out.className = "row-check" + (problems.length ? " bad" : "");
    return present;
  }
  // The date as the secretary types it (day/month/year), read back in words so a slip shows at once.
  function checkDate() {
    var input = document.getElementById("id_held_on");
    var out = document.getElementById("held_on_echo");
    if (!input || !out) { return; }
    var raw = input.value.trim();
    var m = raw.match(/^(\d{4})-(\d{1,2})-(\d{1,2})$/);
    var d, mo, y;
    if (m) { y = +m[1]; mo = +m[2]; d = +m[3]; }
    else {
      m = raw.match(/^(\d{1,2})\s*[\/.\-]\s*(\d{1,2})\s*[\/.\-]\s*(\d{4})$/);
      if (m) { d = +m[1]; mo = +m[2]; y = +m[3]; }
    }
    if (raw === "") { out.textContent = ""; out.className = "date-echo"; return; }
    var date = m ? new Date(Date.UTC(y, mo - 1, d)) : null;
    if (!date || date.getUTCDate() !== d || date.getUTCMonth() !== mo - 1) {
      out.textContent = msg.msgDateBad; out.className = "date-echo row-check bad"; return;
    }
    var iso = y + "-" + String(mo).padStart(2, "0") + "-" + String(d).padStart(2, "0");
    if (iso > msg.today) { out.textContent = msg.msgDateFuture; out.className = "date-echo row-check bad"; return; }
    out.textContent = fmt(msg.msgDate, {d: String(d).padStart(2, "0"), m: String(mo).padStart(2, "0"), y: y});
    out.className = "date-echo fw-semibold";
  }
  function checkLine(line, present) {
    var names = shared.concat(levels);
    var v = {};
    var filled = 0, levelsFilled = 0;
    names.forEach(function (name) {
      v[name] = num(field(line, name));
      if (v[name] !== null) { filled += 1; if (levels.indexOf(name) >= 0) { levelsFilled += 1; } }
    });
    var out = line.querySelector(".row-check");
    var live = line.querySelector(".live-proposal");
    var problems = [];
    if (filled === 0) { out.textContent = msg.msgEmpty; out.className = "row-check mt-1 text-muted"; return; }
    if (levelsFilled === 0) {
      // Only the numbers shared by every line: the line waits for its level counts.
      var text = msg.msgPending;
      if (v.valid !== null && !isNaN(v.valid)) { text += " " + fmt(msg.msgPendingSum, {valid: v.valid}); }
      out.textContent = text;
      out.className = "row-check mt-1 todo";
      return;
    }
    if (filled < names.length) {
      var missing = names.filter(function (n) { return v[n] === null; }).map(function (n) {
        var el = field(line, n);
        return (el && el.dataset.label) || n.toUpperCase();
      });
      problems.push(fmt(msg.msgMissing, {fields: missing.join(", ")}));
    }
    else if (names.some(function (n) { return isNaN(v[n]) || v[n] < 0; })) { problems.push(msg.msgNegative); }
    else {
      if (present !== null && !isNaN(present) && v.issued > present) { problems.push(fmt(msg.msgIssued, {issued: v.issued, present: present})); }
      if (v.received > v.issued) { problems.push(fmt(msg.msgReceived, {received: v.received, issued: v.issued})); }
      if (v.valid > v.received) { problems.push(fmt(msg.msgValid, {valid: v.valid, received: v.received})); }
      var total = v.htxsnv + v.httnv + v.htnv + v.khtnv;
      if (total !== v.valid) { problems.push(fmt(msg.msgLevels, {total: total, valid: v.valid})); }
      if (v.valid === 0) { problems.push(msg.msgZero); }
    }
    out.textContent = problems.length ? problems.join(" ") : msg.msgOk;
    out.className = "row-check mt-1 " + (problems.length ? "bad" : "ok");
    if (problems.length || !live) { return; }
    var counts = [v.htxsnv, v.httnv, v.htnv, v.khtnv];
    var cumulative = 0, level = null;
    for (var i = 0; i < order.length; i++) {
      cumulative += counts[i];
      if (cumulative * 2 > v.valid) { level = i; break; }
    }
    var cap = order.indexOf(line.dataset.cap);
    if (level !== null && cap > level) { level = cap; }
    if (level !== null) { live.textContent = labels[order[level]] + " (" + order[level] + ")"; }
  }
  function checkAll() {
    var present = checkAttendance();
    checkDate();
    form.querySelectorAll("tbody.member-line").forEach(function (line) { checkLine(line, present); });
  }
  form.addEventListener("input", checkAll);
  form.addEventListener("change", checkAll);
  var fill = document.getElementById("fill-all");
  if (fill) {
    fill.hidden = false;
    document.getElementById("fill-all-button").addEventListener("click", function () {
      var issued = document.getElementById("fill-issued").value.trim();
      var received = document.getElementById("fill-received").value.trim();
      var status = document.getElementById("fill-all-status");
      if (issued === "" && received === "") { status.textContent = msg.msgFillNothing; status.className = "mt-2 mb-0 fw-semibold row-check bad"; return; }
      var count = 0;
      // Only the lines that take typing (a decided member's count stays as it is).
      form.querySelectorAll("tbody.member-line").forEach(function (line) {
        var i = line.querySelector("input.count-issued");
        var r = line.querySelector("input.count-received");
        var v = line.querySelector("input.count-valid");
        if (!i || !r || !v) { return; }
        if (issued !== "") { i.value = issued; }
        if (received !== "") {
          r.value = received;
          if (v.value.trim() === "") { v.value = received; }
        }
        count += 1;
      });
      status.textContent = fmt(msg.msgFillDone, {count: count});
      status.className = "mt-2 mb-0 fw-semibold";
      checkAll();
    });
  }
  checkAll();
  var refusal = document.getElementById("refusal");
  if (refusal) { refusal.focus(); }
})();
