/* The metrics page's charts, drawn with Chart.js from the JSON the page carries (#metrics-chart-data, written by
   metrics/charts.py). No inline script: this file finds the data, draws, and draws again when htmx swaps the
   results in. A click on a bar or a point opens the customers behind it. The same figures are in the tables
   below each chart, for those who do not see it; without JavaScript the page still has every number. */
(function () {
  "use strict";

  /* Okabe & Ito's palette: told apart with any of the common colour-vision deficiencies. Gains in blues and
     green, losses in orange and vermillion, MRR in black; lines also differ by dash and point shape. */
  const COLOURS = {
    new: "#0072B2",
    expansion: "#009E73",
    reactivation: "#56B4E9",
    contraction: "#E69F00",
    churn: "#D55E00",
    mrr: "#000000",
    logo_churn: "#D55E00",
    nrr: "#0072B2",
  };
  const charts = [];

  function money(data) {
    const format = new Intl.NumberFormat(data.locale, { style: "currency", currency: data.currency, maximumFractionDigits: 0 });
    return (value) => format.format(value);
  }

  function percent(data) {
    const format = new Intl.NumberFormat(data.locale, { maximumFractionDigits: 1 });
    return (value) => (value === null || value === undefined ? "—" : `${format.format(value)} %`);
  }

  function follow(chart, event, series) {
    const hit = chart.getElementsAtEventForMode(event, "nearest", { intersect: true }, true)[0];
    if (!hit) return;
    const link = series[hit.datasetIndex].links[hit.index];
    if (link) window.location.assign(link);
  }

  function pointer(event, elements) {
    event.native.target.style.cursor = elements.length ? "pointer" : "default";
  }

  function drawMrr(canvas, data) {
    const series = [...data.mrr.bars, data.mrr.line];
    const asMoney = money(data);
    const datasets = data.mrr.bars.map((bar) => ({
      type: "bar",
      label: bar.label,
      data: bar.values,
      backgroundColor: COLOURS[bar.key],
      stack: "movements",
      order: 2,
    }));
    datasets.push({
      type: "line",
      label: data.mrr.line.label,
      data: data.mrr.line.values,
      borderColor: COLOURS.mrr,
      backgroundColor: COLOURS.mrr,
      pointStyle: "rectRot",
      pointRadius: 4,
      pointHoverRadius: 6,
      yAxisID: "mrr",
      order: 1,
    });
    return new window.Chart(canvas, {
      data: { labels: data.labels, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "nearest", intersect: true },
        onClick: (event, _elements, chart) => follow(chart, event, series),
        onHover: pointer,
        scales: {
          x: { stacked: true },
          y: { stacked: true, ticks: { callback: asMoney }, title: { display: false } },
          mrr: { position: "right", grid: { drawOnChartArea: false }, ticks: { callback: asMoney }, beginAtZero: true },
        },
        plugins: {
          legend: { position: "bottom", labels: { usePointStyle: true, boxWidth: 10 } },
          tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${asMoney(item.raw)}` } },
        },
      },
    });
  }

  function drawRetention(canvas, data) {
    const asPercent = percent(data);
    const styles = { logo_churn: { dash: [6, 4], point: "triangle" }, nrr: { dash: [], point: "circle" } };
    const datasets = data.retention.map((line) => ({
      type: "line",
      label: line.label,
      data: line.values,
      borderColor: COLOURS[line.key],
      backgroundColor: COLOURS[line.key],
      borderDash: styles[line.key].dash,
      pointStyle: styles[line.key].point,
      pointRadius: 4,
      pointHoverRadius: 6,
      spanGaps: false,
      yAxisID: line.key === "nrr" ? "nrr" : "y",
    }));
    return new window.Chart(canvas, {
      type: "line",
      data: { labels: data.labels, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "nearest", intersect: true },
        onClick: (event, _elements, chart) => follow(chart, event, data.retention),
        onHover: pointer,
        scales: {
          y: { beginAtZero: true, ticks: { callback: asPercent }, title: { display: true, text: data.retention[0].label } },
          nrr: { position: "right", grid: { drawOnChartArea: false }, ticks: { callback: asPercent },
                 title: { display: true, text: data.retention[1].label } },
        },
        plugins: {
          legend: { position: "bottom", labels: { usePointStyle: true, boxWidth: 10 } },
          tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${asPercent(item.raw)}` } },
        },
      },
    });
  }

  function draw() {
    while (charts.length) charts.pop().destroy();
    const source = document.getElementById("metrics-chart-data");
    if (!source || !window.Chart) return;
    const data = JSON.parse(source.textContent);
    const mrr = document.getElementById("chart-mrr");
    const retention = document.getElementById("chart-retention");
    if (mrr) charts.push(drawMrr(mrr, data));
    if (retention) charts.push(drawRetention(retention, data));
  }

  /* Draw again when htmx brings charts in: the results after a change of period or filter, or any panel that
     carries a canvas; and when the browser's back button restores a page htmx had swapped. */
  function swapped(event) {
    const target = event.detail && event.detail.elt ? event.detail.elt : event.target;
    if (!target || !target.querySelector) return;
    if (target.id === "results" || target.querySelector("#metrics-chart-data, canvas")) draw();
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", swapped);
  document.addEventListener("htmx:historyRestore", draw);
})();
