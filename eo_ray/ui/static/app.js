// eo-ray UI: draws the plotly charts of a page and makes tables sortable (no other scripts).
"use strict";

function drawCharts() {
  if (typeof Plotly === "undefined") return;
  document.querySelectorAll("div.chart[data-figure]").forEach(function (el) {
    var figure = JSON.parse(el.dataset.figure);
    Plotly.newPlot(el, figure.data, figure.layout, { responsive: true, displaylogo: false });
  });
}

function cellValue(row, index) {
  var cell = row.cells[index];
  if (!cell) return "";
  var raw = cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent.trim();
  var number = parseFloat(raw);
  return raw !== "" && isFinite(number) && /^[-+0-9.eE]+$/.test(raw) ? number : raw.toLowerCase();
}

function sortTable(table, index, header) {
  var body = table.tBodies[0];
  var ascending = header.dataset.order !== "asc";
  table.querySelectorAll("thead th").forEach(function (th) { delete th.dataset.order; });
  header.dataset.order = ascending ? "asc" : "desc";
  var rows = Array.prototype.slice.call(body.rows);
  rows.sort(function (a, b) {
    var x = cellValue(a, index), y = cellValue(b, index);
    if (x === y) return 0;
    if (x === "") return 1;  // empty cells last, whatever the order
    if (y === "") return -1;
    var less = typeof x === typeof y ? x < y : typeof x === "number";
    return (less ? -1 : 1) * (ascending ? 1 : -1);
  });
  rows.forEach(function (row) { body.appendChild(row); });
}

function makeSortable() {
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead th").forEach(function (th, index) {
      th.addEventListener("click", function () { sortTable(table, index, th); });
    });
  });
}

document.addEventListener("DOMContentLoaded", function () {
  makeSortable();
  drawCharts();
});
