/* glassnet playground: the pictures drawn on <canvas>: heat maps, the data with its decision boundary, and
 * the loss curves.
 *
 * A heat map arrives from the server as {size, lo, hi, data}: data is base64 of size*size bytes, row 0 at
 * the top (y = +6), column 0 at the left (x = -6), and a byte u stands for lo + (hi - lo) * u / 255.
 * Colours follow one rule everywhere on the page: orange is negative (class 0), blue is positive (class 1),
 * near-white is the middle (0, or probability 0.5).  The loss plot's words are in the page's language.
 */
"use strict";

var GN = window.GN || {};
window.GN = GN;

GN.NEGATIVE = [245, 147, 34];     // orange
GN.MIDDLE = [244, 244, 244];      // near white
GN.POSITIVE = [8, 119, 189];      // blue
GN.FRAME = 6;                     // the data live in [-6, 6] x [-6, 6]

/* The colour of t in [-1, 1] (clipped): orange at -1, white at 0, blue at +1. */
GN.colour = function (t) {
  if (!(t === t)) { t = 0; }                     // NaN: the middle colour
  t = Math.max(-1, Math.min(1, t));
  var end = t < 0 ? GN.NEGATIVE : GN.POSITIVE, w = Math.abs(t);
  return [0, 1, 2].map(function (i) { return Math.round(GN.MIDDLE[i] + (end[i] - GN.MIDDLE[i]) * w); });
};

GN.css = function (rgb) { return "rgb(" + rgb[0] + "," + rgb[1] + "," + rgb[2] + ")"; };

/* The values of a heat map as a Float64Array (row-major, row 0 = top). */
GN.decodeHeat = function (heat) {
  var bytes = atob(heat.data), n = bytes.length, values = new Float64Array(n);
  var step = (heat.hi - heat.lo) / 255;
  for (var i = 0; i < n; i++) {
    values[i] = heat.lo + step * bytes.charCodeAt(i);
  }
  return values;
};

/* A heat map painted on a canvas of its own size: t = (value - centre) / scale gives the colour.  The
 * scale is the largest |value - centre| of the map unless one is given (the boundary uses a fixed one). */
GN.paintHeat = function (canvas, heat, centre, scale) {
  var size = heat.size, values = GN.decodeHeat(heat);
  if (!scale) {
    scale = Math.max(Math.abs(heat.lo - centre), Math.abs(heat.hi - centre)) || 1;
  }
  canvas.width = size;
  canvas.height = size;
  var context = canvas.getContext("2d"), image = context.createImageData(size, size);
  for (var i = 0; i < values.length; i++) {
    var rgb = GN.colour((values[i] - centre) / scale);
    image.data[4 * i] = rgb[0];
    image.data[4 * i + 1] = rgb[1];
    image.data[4 * i + 2] = rgb[2];
    image.data[4 * i + 3] = 255;
  }
  context.putImageData(image, 0, 0);
  return canvas;
};

/* A heat map as a PNG data URL (the neurons of the SVG show it as an <image>). */
GN.heatURL = (function () {
  var scratch = null;
  return function (heat, centre) {
    scratch = scratch || document.createElement("canvas");
    return GN.paintHeat(scratch, heat, centre).toDataURL("image/png");
  };
}());

/* The data and the decision boundary (or the regression surface).
 * boundary: the heat map of the model's output over the frame; points: {train, test} of [x, y, label];
 * task: "classification" (output = P(class 1), white at 0.5) or "regression" (output = the value). */
GN.drawBoundary = function (canvas, boundary, points, task) {
  var context = canvas.getContext("2d"), width = canvas.width, height = canvas.height;
  var regression = task === "regression";
  var scale = 1;
  if (regression && points) {
    points.train.concat(points.test).forEach(function (p) { scale = Math.max(scale, Math.abs(p[2])); });
  }
  var centre = regression ? 0 : 0.5, half = regression ? scale : 0.5;
  context.clearRect(0, 0, width, height);
  if (boundary) {
    var small = GN.paintHeat(document.createElement("canvas"), boundary, centre, half);
    context.imageSmoothingEnabled = true;
    context.globalAlpha = 0.85;
    context.drawImage(small, 0, 0, width, height);
    context.globalAlpha = 1;
  }
  if (!points) { return; }
  var toX = function (x) { return (x + GN.FRAME) / (2 * GN.FRAME) * width; };
  var toY = function (y) { return (GN.FRAME - y) / (2 * GN.FRAME) * height; };
  var colourOf = function (label) {
    return GN.css(GN.colour(regression ? label / scale : 2 * label - 1));
  };
  points.train.forEach(function (p) {              // training data: filled, with a white rim
    context.beginPath();
    context.arc(toX(p[0]), toY(p[1]), 3.2, 0, 2 * Math.PI);
    context.fillStyle = colourOf(p[2]);
    context.fill();
    context.lineWidth = 1;
    context.strokeStyle = "#ffffff";
    context.stroke();
  });
  points.test.forEach(function (p) {               // test data: a ring in the class colour, dark rim
    context.beginPath();
    context.arc(toX(p[0]), toY(p[1]), 3.4, 0, 2 * Math.PI);
    context.lineWidth = 2.2;
    context.strokeStyle = "#333333";
    context.stroke();
    context.lineWidth = 1.4;
    context.strokeStyle = colourOf(p[2]);
    context.stroke();
  });
};

/* The train and test loss curves: history is [[step, train loss, test loss], ...]. */
GN.drawLoss = function (canvas, history) {
  var context = canvas.getContext("2d"), width = canvas.width, height = canvas.height;
  var left = 44, right = 8, top = 8, bottom = 18;
  context.clearRect(0, 0, width, height);
  context.fillStyle = "#ffffff";
  context.fillRect(0, 0, width, height);
  context.strokeStyle = "#999999";
  context.lineWidth = 1;
  context.strokeRect(left, top, width - left - right, height - top - bottom);
  context.fillStyle = "#555555";
  context.font = "10px sans-serif";
  if (!history || history.length === 0) {
    context.fillText(GN.t("loss_empty"), left + 8, top + 20);
    return;
  }
  var first = history[0][0], last = history[history.length - 1][0], highest = 0;
  history.forEach(function (row) {
    [row[1], row[2]].forEach(function (v) { if (isFinite(v)) { highest = Math.max(highest, v); } });
  });
  highest = highest || 1;
  var span = Math.max(last - first, 1);
  var toX = function (s) { return left + (s - first) / span * (width - left - right); };
  var toY = function (v) { return top + (1 - Math.min(v, highest) / highest) * (height - top - bottom); };
  context.fillText(GN.short(highest), 2, top + 8);
  context.fillText("0", 2, height - bottom);
  context.fillText(GN.t("loss_step", {n: first}), left, height - 4);
  var lastText = GN.t("loss_step", {n: last});
  context.fillText(lastText, width - right - context.measureText(lastText).width, height - 4);
  [[1, "#222222"], [2, "rgb(245,147,34)"]].forEach(function (pair) {
    context.beginPath();
    context.strokeStyle = pair[1];
    context.lineWidth = 1.6;
    var started = false;
    history.forEach(function (row) {
      var v = row[pair[0]];
      if (!isFinite(v)) { started = false; return; }
      if (started) { context.lineTo(toX(row[0]), toY(v)); } else { context.moveTo(toX(row[0]), toY(v)); }
      started = true;
    });
    if (history.length === 1) {                   // one point: a dot, so that it shows
      context.arc(toX(history[0][0]), toY(history[0][pair[0]]), 2, 0, 2 * Math.PI);
    }
    context.stroke();
  });
};

/* A number in a few significant digits, for labels (the exact value stays in data-value). */
GN.short = function (v) {
  if (v === null || v === undefined) { return "\u2013"; }
  if (!isFinite(v)) { return String(v); }
  var a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) { return v.toExponential(3); }
  return String(Number(v.toPrecision(4)));
};
