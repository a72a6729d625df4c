// The dashboard's charts, drawn by ECharts from the figures the page passes as JSON
// (#dashboard-charts). Each chart sits above a table of the same figures: once the chart is drawn,
// the table is kept for screen readers and printing, and a button shows it. Clicking a bar, a
// funnel layer or a point opens the list behind it.
(function () {
  "use strict";

  var PALETTE = ["#0d6efd", "#20c997", "#fd7e14", "#6f42c1", "#dc3545", "#6c757d"];

  function axisOptions(spec) {
    var categories = { type: "category", data: spec.labels, axisLabel: { hideOverlap: true } };
    var values = { type: "value", minInterval: 1 };
    return spec.horizontal ? { xAxis: values, yAxis: categories } : { xAxis: categories, yAxis: values };
  }

  function options(spec) {
    var base = {
      color: PALETTE,
      animation: false,
      tooltip: { trigger: spec.kind === "funnel" ? "item" : "axis", confine: true },
    };
    if (spec.kind === "funnel") {
      // Stages top to bottom in the programme's order, each named beside its layer.
      base.series = [{
        type: "funnel",
        sort: "none",
        top: 8, bottom: 8, left: "4%", width: "56%",
        minSize: "6%",
        gap: 2,
        label: { show: true, position: "right", formatter: "{b}: {c}" },
        labelLine: { show: true },
        data: spec.data.map(function (item) { return { name: item.name, value: item.value }; }),
      }];
      return base;
    }
    var axes = axisOptions(spec);
    if (spec.series.length > 1) base.legend = { top: 0, type: "scroll" };
    base.grid = { top: spec.series.length > 1 ? 36 : 12, left: 8, right: 16, bottom: 8, containLabel: true };
    base.xAxis = axes.xAxis;
    base.yAxis = axes.yAxis;
    base.series = spec.series.map(function (series) {
      return { type: "bar", name: series.name, data: series.data, stack: spec.stacked ? "all" : undefined };
    });
    return base;
  }

  function urlOf(spec, params) {
    if (spec.kind === "funnel") return (spec.data[params.dataIndex] || {}).url;
    var series = spec.series[params.seriesIndex];
    return series && series.urls ? series.urls[params.dataIndex] : null;
  }

  function isEmpty(spec) {
    var values = spec.kind === "funnel"
      ? spec.data.map(function (item) { return item.value; })
      : [].concat.apply([], spec.series.map(function (series) { return series.data; }));
    return !values.some(function (value) { return value; });
  }

  function showTableButton(table, label) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-link btn-sm p-0 chart-table-toggle";
    button.textContent = label;
    button.setAttribute("aria-expanded", "false");
    button.addEventListener("click", function () {
      var hidden = table.classList.toggle("visually-hidden");
      button.setAttribute("aria-expanded", hidden ? "false" : "true");
    });
    table.parentNode.insertBefore(button, table);
  }

  function draw() {
    var source = document.getElementById("dashboard-charts");
    if (!source || typeof window.echarts === "undefined") return; // the tables stay the page
    var specs = JSON.parse(source.textContent);
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var spec = specs[element.dataset.chart];
      if (!spec) return;
      if (isEmpty(spec)) {
        // Nothing to draw: the table says so plainly, in the chart's room too when it has a column.
        element.hidden = true;
        if (element.parentNode.classList.contains("chart-column")) element.parentNode.hidden = true;
        return;
      }
      var chart = window.echarts.init(element, null, { renderer: "canvas" });
      chart.setOption(options(spec));
      chart.on("click", function (params) {
        var url = urlOf(spec, params);
        if (url) window.location.assign(url);
      });
      charts.push(chart);
      element.classList.add("chart-drawn");
      var table = element.parentNode.querySelector(".chart-table");
      if (table) {
        table.classList.add("visually-hidden");
        showTableButton(table, element.dataset.showTable);
      }
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
