/* The organiser dashboard's charts (dashboard.html), drawn with the vendored
 * ECharts from the figures the page carries as JSON (#dashboard-data): no
 * inline script, no request of its own. Each figure's data table stays in
 * the page behind its toggle for screen readers and print.
 *
 * Made for a 360 px phone first: bars lie on their side so every category's
 * name is read whole, wrapped at its own width, never cut or slanted; the
 * days of a period are thinned by ECharts until no two labels touch; and the
 * chart text grows with the page's text (elder mode: body.elder). */
(function () {
  "use strict";

  var NUMBER = /^-?[0-9]+(\.[0-9]+)?$/;
  var DAY = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
  var MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  // Chart text as a share of the page's base text (17 px → 14 px; elder 22 px → 18 px).
  var TEXT_SHARE = 0.8;
  // A category's name takes at most this share of a lying bar chart's width.
  var NAME_SHARE = 0.45;

  function numeric(value) {
    return typeof value === "number" ? value : (NUMBER.test(String(value)) ? Number(value) : 0);
  }

  function parts(row, columns) {
    var words = [];
    columns.forEach(function (column, index) {
      if (!column.numeric) { words.push(String(row[index])); }
    });
    return words;
  }

  function label(row, columns) {
    return parts(row, columns).join(" · ");
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

  // A day on the time axis, short (the tooltip keeps the whole date):
  // 10月12日 / 12 Oct.
  function shortDay(value, english) {
    var parts = DAY.exec(String(value));
    if (!parts) { return String(value); }
    var month = Number(parts[2]);
    var day = Number(parts[3]);
    return english ? day + " " + MONTHS_EN[month - 1] : month + "月" + day + "日";
  }

  // The chart text: the page's own fonts, and its size a share of the page's
  // text, so elder mode (body.elder, larger base text in pages.css) makes it
  // larger too.
  function pageText() {
    var style = window.getComputedStyle(document.body);
    var base = parseFloat(style.fontSize) || 17;
    return { size: Math.round(base * TEXT_SHARE), family: style.fontFamily || "sans-serif", color: style.color || "#111" };
  }

  // The width the longest of ``names`` takes in the chart's text, so a lying
  // bar chart gives its names what they need and the bars the rest.
  function widest(names, text) {
    var context = document.createElement("canvas").getContext("2d");
    if (!context) { return 0; }
    context.font = text.size + "px " + text.family;
    return names.reduce(function (most, name) {
      return Math.max(most, context.measureText(name).width);
    }, 0);
  }

  // Service hours per day: the figure lists the days that had any; the
  // chart's time axis shows every day of the period (none: 0 hours), so the
  // days are evenly spaced and thinning them keeps the line true.
  function everyDay(figure, period) {
    var first = DAY.exec(period.from);
    var last = DAY.exec(period.to);
    if (figure.chart !== "line" || !first || !last) { return figure; }
    var by = {};
    figure.rows.forEach(function (row) { by[String(row[0])] = row; });
    var rows = [];
    var day = new Date(Date.UTC(Number(first[1]), Number(first[2]) - 1, Number(first[3])));
    var end = Date.UTC(Number(last[1]), Number(last[2]) - 1, Number(last[3]));
    while (day.getTime() <= end && rows.length < 400) {
      var key = day.toISOString().slice(0, 10);
      rows.push(by[key] || figure.columns.map(function (column, i) { return i === 0 ? key : 0; }));
      day.setUTCDate(day.getUTCDate() + 1);
    }
    return Object.assign({}, figure, { rows: rows });
  }

  function option(figure, english, page, width) {
    var text = page.size;
    // The page's ink, not ECharts' grey: readable on the cards, AAA in elder mode.
    var words = { fontSize: text, fontFamily: page.family, color: page.color };
    var index = valueIndex(figure.columns);
    var names = figure.rows.map(function (row) { return label(row, figure.columns); });
    var values = figure.rows.map(function (row) { return numeric(row[index]); });
    var seriesName = english ? figure.columns[index].en : figure.columns[index].zh;
    if (figure.key === "on_time") {
      index = figure.columns.length - 1;
      values = figure.rows.map(function (row) { return numeric(row[index]); });
      seriesName = english ? figure.columns[index].en : figure.columns[index].zh;
    }
    var common = {
      animation: false,
      textStyle: words,
      tooltip: { textStyle: words, confine: true }
    };
    if (figure.chart === "pie") {
      return Object.assign(common, {
        tooltip: { trigger: "item", textStyle: words, confine: true },
        series: [{
          type: "pie", name: seriesName, radius: "55%", center: ["50%", "50%"],
          label: Object.assign({ width: Math.round(width * 0.3), overflow: "break" }, words),
          labelLine: { length: 8, length2: 8 },
          data: names.map(function (name, i) { return { name: name, value: values[i] }; })
        }]
      });
    }
    if (figure.chart === "line") {
      var valueAxis = {
        type: "value",
        axisLabel: Object.assign({ hideOverlap: true }, words),
        splitNumber: width < 480 ? 3 : 5
      };
      return Object.assign(common, {
        // Room on the right for half a day's label under the last days.
        grid: { left: 8, right: Math.round(text * 2.5), top: text, bottom: 8, containLabel: true },
        tooltip: { trigger: "axis", textStyle: words, confine: true },
        xAxis: {
          type: "category", data: names, boundaryGap: false,
          // "auto": ECharts shows every n-th day, n chosen from the labels'
          // own size, so neighbours never overlap; the rest stay in the tooltip.
          axisLabel: Object.assign({
            interval: "auto", hideOverlap: true, rotate: 0,
            formatter: function (value) { return shortDay(value, english); }
          }, words)
        },
        yAxis: valueAxis,
        series: [{ type: "line", name: seriesName, data: values, symbolSize: Math.round(text / 3) }]
      });
    }
    // Bars on their side: the category names down the left, each whole, and
    // each bar's value written at its end (no scale to read across).
    var percent = figure.columns[index].key === "rate" ? "%" : "";
    // Points always with their two places (2,092.50), as everywhere else.
    var places = figure.columns[index].key === "points" ? 2 : 0;
    var number = new Intl.NumberFormat(english ? "en-GB" : "zh-CN", {
      minimumFractionDigits: places, maximumFractionDigits: 2
    });
    var shown = function (value) { return number.format(value) + percent; };
    // A name too long for its room goes on as many lines as it has parts
    // (a campaign, then its status), rather than breaking mid-part.
    var room = width * NAME_SHARE;
    // ECharts breaks a line a little before the width it is given: a
    // character to spare keeps a line that fits whole.
    var spare = text;
    var lying = figure.rows.map(function (row, i) {
      var words = parts(row, figure.columns);
      return widest([names[i]], page) + spare > room && words.length > 1 ? words.join("\n") : names[i];
    });
    // The names' column: as wide as the longest line needs, at most its
    // room; a line longer than that breaks into even lines (never one
    // character left alone on the last).
    var longest = widest(lying.join("\n").split("\n"), page);
    var lines = Math.ceil((longest + spare) / room);
    var nameWidth = Math.ceil(Math.min(longest / lines + spare, room));
    return Object.assign(common, {
      grid: {
        left: 8, top: 8, bottom: 8, containLabel: true,
        right: Math.ceil(widest(values.map(shown), page)) + text
      },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, textStyle: words, confine: true },
      yAxis: {
        type: "category", data: lying, inverse: true,
        axisTick: { show: false },
        axisLabel: Object.assign({
          interval: 0, overflow: "break",
          width: nameWidth,
          lineHeight: Math.round(text * 1.3)
        }, words)
      },
      xAxis: { type: "value", axisLabel: { show: false }, splitLine: { show: false } },
      series: [{
        type: "bar", name: seriesName, data: values, barMaxWidth: text * 2,
        label: Object.assign({
          show: true, position: "right",
          formatter: function (item) { return shown(item.value); }
        }, words)
      }]
    });
  }

  // A lying bar chart is as tall as its rows need (room for a name on two
  // lines each), so a long list is never squeezed; line and pie charts keep
  // the height pages.css gives them.
  function fitHeight(element, figure, text) {
    if (figure.chart !== "bar") { return; }
    var rows = Math.max(figure.rows.length, 1);
    var height = Math.max(rows * text * 3 + text * 3, text * 12);
    element.style.height = height + "px";
  }

  function draw() {
    var source = document.getElementById("dashboard-data");
    if (!source || typeof window.echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var english = document.documentElement.lang === "en";
    var page = pageText();
    var period = { from: data.from_day, to: data.to_day };
    var charts = [];
    data.figures.forEach(function (shown) {
      var figure = everyDay(shown, period);
      var element = document.querySelector('.chart[data-figure="' + figure.key + '"]');
      if (!element) { return; }
      fitHeight(element, figure, page.size);
      var chart = window.echarts.init(element, null, { renderer: "canvas" });
      chart.setOption(option(figure, english, page, element.clientWidth));
      element.setAttribute("data-drawn", "true");
      element.setAttribute("data-text-size", String(page.size));
      charts.push({ chart: chart, figure: figure, element: element });
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (drawn) {
        drawn.chart.setOption(option(drawn.figure, english, page, drawn.element.clientWidth));
        drawn.chart.resize();
      });
    });
  }

  // "选日期": the browser's own calendar for a typed date field, where the
  // browser can open one from script (showPicker); the field keeps the
  // year-month-day it shows in any language, the calendar only fills it.
  function setUpDatePickers() {
    document.querySelectorAll(".date-pick").forEach(function (button) {
      var field = document.getElementById(button.getAttribute("data-for") || "");
      var proxy = document.createElement("input");
      proxy.type = "date";
      if (!field || proxy.type !== "date" || typeof proxy.showPicker !== "function") { return; }
      proxy.className = "date-proxy";
      proxy.tabIndex = -1;
      proxy.setAttribute("aria-hidden", "true");
      proxy.setAttribute("aria-label", button.textContent || "");
      button.parentNode.appendChild(proxy);
      button.hidden = false;
      button.addEventListener("click", function () {
        proxy.value = DAY.test(field.value.trim()) ? field.value.trim() : "";
        try {
          proxy.showPicker();
        } catch (refused) {
          field.focus();
        }
      });
      proxy.addEventListener("change", function () {
        if (proxy.value) { field.value = proxy.value; }
      });
    });
  }

  function start() {
    setUpDatePickers();
    draw();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
