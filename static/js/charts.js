// The charts of the statistics page, drawn by the vendored Chart.js from the same figures as the
// tables beside them (a JSON block written by the server). Each level has its own pattern and a
// printed number on the bar, so the charts read in black and white; no animation, for calm and print.
(function () {
  "use strict";
  var source = document.getElementById("stats-data");
  if (!source || !window.Chart) return;
  var data = JSON.parse(source.textContent);

  // Best level first: a dark solid fill, then lighter fills with diagonal lines, dots, crosses; the
  // undecided stay white with an outline.
  var SHADES = ["#1f3a5f", "#4f7fb0", "#9cc1e3", "#c0392b", "#ffffff"];
  var PATTERNS = ["solid", "diagonal", "dots", "cross", "none"];

  function pattern(index) {
    var kind = PATTERNS[index % PATTERNS.length];
    var colour = SHADES[index % SHADES.length];
    if (kind === "solid" || kind === "none") return colour;
    var canvas = document.createElement("canvas");
    canvas.width = canvas.height = 10;
    var ctx = canvas.getContext("2d");
    ctx.fillStyle = colour;
    ctx.fillRect(0, 0, 10, 10);
    ctx.strokeStyle = "#000";
    ctx.fillStyle = "#000";
    ctx.lineWidth = 1.5;
    if (kind === "diagonal") {
      ctx.beginPath(); ctx.moveTo(0, 10); ctx.lineTo(10, 0); ctx.moveTo(-5, 5); ctx.lineTo(5, -5);
      ctx.moveTo(5, 15); ctx.lineTo(15, 5); ctx.stroke();
    } else if (kind === "dots") {
      ctx.beginPath(); ctx.arc(5, 5, 1.6, 0, 2 * Math.PI); ctx.fill();
    } else if (kind === "cross") {
      ctx.beginPath(); ctx.moveTo(0, 0); ctx.lineTo(10, 10); ctx.moveTo(10, 0); ctx.lineTo(0, 10); ctx.stroke();
    }
    return ctx.createPattern(canvas, "repeat");
  }

  // Writes each bar's value on or above it, so that no figure depends on colour.
  var valueLabels = {
    id: "valueLabels",
    afterDatasetsDraw: function (chart, _args, options) {
      var ctx = chart.ctx;
      ctx.save();
      ctx.font = "bold 13px sans-serif";
      ctx.textAlign = "center";
      chart.data.datasets.forEach(function (dataset, d) {
        var meta = chart.getDatasetMeta(d);
        if (meta.hidden) return;
        meta.data.forEach(function (bar, i) {
          var value = dataset.data[i];
          if (!value) return;
          var text = value + (options.suffix || "");
          if (options.inside) {
            if (Math.abs(bar.base - bar.y) < 16) return; // too thin to hold a label: the table has it
            var x = bar.x, y = (bar.y + bar.base) / 2 + 5;
            var w = ctx.measureText(text).width + 6;
            ctx.fillStyle = "#fff"; ctx.fillRect(x - w / 2, y - 13, w, 17);
            ctx.fillStyle = "#000"; ctx.fillText(text, x, y);
          } else {
            ctx.fillStyle = "#000"; ctx.fillText(text, bar.x, bar.y - 5);
          }
        });
      });
      ctx.restore();
    },
  };

  var charts = [];
  var base = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    layout: { padding: { top: 22 } },
    plugins: { legend: { labels: { font: { size: 14 }, color: "#000" } }, valueLabels: {} },
    scales: {
      x: { ticks: { font: { size: 14 }, color: "#000" } },
      y: { beginAtZero: true, ticks: { font: { size: 13 }, color: "#000", precision: 0 } },
    },
  };

  function options(extra) {
    return Object.assign({}, base, extra || {});
  }

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    config.plugins = [valueLabels];
    charts.push(new window.Chart(canvas, config));
  }

  // Members by level: one bar per level, each with its pattern.
  draw("chart-members", {
    type: "bar",
    data: {
      labels: data.members.labels,
      datasets: [{
        label: "",
        data: data.members.counts,
        backgroundColor: data.members.counts.map(function (_v, i) { return pattern(i); }),
        borderColor: "#000",
        borderWidth: 1,
      }],
    },
    options: options({ plugins: { legend: { display: false }, valueLabels: {} } }),
  });

  // Organisations by level: one series per kind of organisation, told apart by pattern.
  draw("chart-organizations", {
    type: "bar",
    data: {
      labels: data.organizations.labels,
      datasets: data.organizations.series.map(function (series, i) {
        return {
          label: series.label,
          data: series.counts,
          backgroundColor: pattern(i === 0 ? 0 : 2),
          borderColor: "#000",
          borderWidth: 1,
        };
      }),
    },
    options: options(),
  });

  // Year over year: a stacked bar per year, one band per level in percent of those to be classified.
  draw("chart-years", {
    type: "bar",
    data: {
      labels: data.years.labels,
      datasets: data.years.series.map(function (series, i) {
        return {
          label: series.label,
          data: series.percents,
          backgroundColor: pattern(i),
          borderColor: "#000",
          borderWidth: 1,
        };
      }),
    },
    options: options({
      plugins: { legend: { labels: { font: { size: 14 }, color: "#000" } }, valueLabels: { inside: true, suffix: "%" } },
      scales: {
        x: { stacked: true, ticks: { font: { size: 14 }, color: "#000" } },
        y: { stacked: true, beginAtZero: true, max: 100, ticks: { color: "#000", callback: function (v) { return v + "%"; } } },
      },
    }),
  });

  // Charts drawn for the screen are redrawn at the printed size, and back.
  function resizeAll() { charts.forEach(function (chart) { chart.resize(); }); }
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
