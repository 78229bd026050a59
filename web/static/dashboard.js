/* The organiser dashboard's charts (dashboard.html), drawn with the vendored
 * ECharts from the figures the page carries as JSON (#dashboard-data): no
 * inline script, no request of its own. Each figure's data table stays in
 * the page behind its toggle for screen readers and print. */
(function () {
  "use strict";

  var NUMBER = /^-?[0-9]+(\.[0-9]+)?$/;

  function numeric(value) {
    return typeof value === "number" ? value : (NUMBER.test(String(value)) ? Number(value) : 0);
  }

  function label(row, columns) {
    var words = [];
    columns.forEach(function (column, index) {
      if (!column.numeric) { words.push(String(row[index])); }
    });
    return words.join(" · ");
  }

  // The chart shows the figure's points where it has them (what its rows
  // are ranked by: a team's points, not its hours), else its last numeric
  // column (count, hours…), never a rate.
  function valueIndex(columns) {
    for (var p = 0; p < columns.length; p += 1) {
      if (columns[p].key === "points") { return p; }
    }
    for (var i = columns.length - 1; i >= 0; i -= 1) {
      if (columns[i].numeric && columns[i].key !== "rate") { return i; }
    }
    return columns.length - 1;
  }

  function option(figure, english) {
    var index = valueIndex(figure.columns);
    var names = figure.rows.map(function (row) { return label(row, figure.columns); });
    var values = figure.rows.map(function (row) { return numeric(row[index]); });
    var seriesName = english ? figure.columns[index].en : figure.columns[index].zh;
    if (figure.key === "on_time") {
      index = figure.columns.length - 1;
      values = figure.rows.map(function (row) { return numeric(row[index]); });
      seriesName = english ? figure.columns[index].en : figure.columns[index].zh;
    }
    if (figure.chart === "pie") {
      return {
        animation: false,
        tooltip: { trigger: "item" },
        series: [{ type: "pie", name: seriesName, radius: "65%",
          data: names.map(function (name, i) { return { name: name, value: values[i] }; }) }]
      };
    }
    return {
      animation: false,
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: names.length > 2 ? 30 : 0, width: 90, overflow: "truncate" } },
      yAxis: { type: "value" },
      series: [{ type: figure.chart === "line" ? "line" : "bar", name: seriesName, data: values }]
    };
  }

  function draw() {
    var source = document.getElementById("dashboard-data");
    if (!source || typeof window.echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var english = document.documentElement.lang === "en";
    var charts = [];
    data.figures.forEach(function (figure) {
      var element = document.querySelector('.chart[data-figure="' + figure.key + '"]');
      if (!element) { return; }
      var chart = window.echarts.init(element, null, { renderer: "canvas" });
      chart.setOption(option(figure, english));
      element.setAttribute("data-drawn", "true");
      charts.push(chart);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
