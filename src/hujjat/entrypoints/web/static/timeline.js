// Incidents per week by type, as a stacked bar chart (Chart.js, shipped with the app).
(function () {
  "use strict";
  var canvas = document.getElementById("timeline");
  if (!canvas || !window.Chart) { return; }
  var colours = ["#1f4e79", "#b03a2e", "#d68910", "#1e8449", "#6c3483", "#117a65", "#7b7d7d", "#a04000"];
  fetch(canvas.dataset.source, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.weeks,
        datasets: data.series.map(function (s, i) {
          return { label: s.type, data: s.counts, backgroundColor: colours[i % colours.length] };
        })
      },
      options: { animation: false, responsive: true, maintainAspectRatio: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }
    });
    canvas.dataset.loaded = String(data.weeks.length);
  });
})();
