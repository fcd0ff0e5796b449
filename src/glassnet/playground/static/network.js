/* glassnet playground: the network drawn as SVG.
 *
 * One column per layer: the input features (layer 0), each hidden layer, the output layer, numbered as
 * the server numbers them.  Each neuron is a small square showing its output over the whole frame as a
 * heat map (the same colours as the big picture); each edge from unit i of layer l-1 to unit j of layer l
 * is the weight W[i][j] of the Dense layer l: blue when positive, orange when negative, thicker when |w| is
 * larger.  Neurons carry data-layer and data-unit, edges data-layer, data-source and data-target: a click
 * on either asks for its numbers (panels.js), and the browser tests find them by these attributes.  The
 * words (column heads, tooltips) are in the page's language: a switch of language rebuilds the drawing.
 */
"use strict";

var GN = window.GN || {};
window.GN = GN;

GN.SVG_NS = "http://www.w3.org/2000/svg";

/* How a feature is written (x², sin x, ...): the same in every language, kept in the i18n table. */
GN.featureLabel = function (name) { return GN.t("feature." + name, null, name); };

GN.svg = function (name, attributes, parent) {
  var element = document.createElementNS(GN.SVG_NS, name);
  Object.keys(attributes || {}).forEach(function (key) { element.setAttribute(key, attributes[key]); });
  if (parent) { parent.appendChild(element); }
  return element;
};

GN.Network = function (svg, onSelect) {
  this.svg = svg;
  this.onSelect = onSelect;
  this.sizes = null;
  this.neurons = [];      // neurons[layer][unit] = {group, image}
  this.edges = [];        // edges[layer - 1] = [{group, line, source, target}]
};

/* Rebuild the drawing for layer sizes (e.g. [2, 4, 2, 1]) and feature names (the labels of layer 0). */
GN.Network.prototype.build = function (sizes, features, centres) {
  var svg = this.svg, self = this;
  while (svg.firstChild) { svg.removeChild(svg.firstChild); }
  this.sizes = sizes.slice();
  this.centres = centres;
  this.neurons = [];
  this.edges = [];
  var box = 36, pitch = 46, top = 30, left = 62, gap = sizes.length > 6 ? 92 : 118;
  var most = Math.max.apply(null, sizes);
  var width = left + (sizes.length - 1) * gap + box + 24, height = top + most * pitch + 6;
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.style.maxHeight = Math.max(height, 260) + "px";
  var position = function (layer, unit) {
    var x = left + layer * gap, y = top + ((most - sizes[layer]) / 2 + unit) * pitch;
    return {x: x, y: y};
  };
  var edgeLayer = GN.svg("g", {"class": "edges"}, svg);
  var neuronLayer = GN.svg("g", {"class": "neurons"}, svg);
  sizes.forEach(function (count, layer) {
    var heading = layer === 0 ? GN.t("column_features") : layer === sizes.length - 1 ? GN.t("column_output")
      : GN.t("column_hidden", {i: layer});
    var head = GN.svg("text", {x: left + layer * gap + box / 2, y: 14, "class": "column-head"}, svg);
    head.textContent = heading + (layer === 0 ? "" : " (" + count + ")");
    self.neurons.push([]);
    for (var unit = 0; unit < count; unit++) {
      var p = position(layer, unit);
      var group = GN.svg("g", {"class": "neuron", "data-layer": layer, "data-unit": unit, tabindex: 0,
                               transform: "translate(" + p.x + "," + p.y + ")"}, neuronLayer);
      GN.svg("rect", {"class": "neuron-back", x: 0, y: 0, width: box, height: box}, group);
      var image = GN.svg("image", {x: 0, y: 0, width: box, height: box, preserveAspectRatio: "none"}, group);
      GN.svg("rect", {"class": "neuron-rim", x: 0, y: 0, width: box, height: box}, group);
      var title = GN.svg("title", {}, group);
      if (layer === 0) {
        var name = features[unit];
        var label = GN.svg("text", {x: -6, y: box / 2 + 4, "class": "feature-label"}, group);
        label.textContent = GN.featureLabel(name);
        title.textContent = GN.t("feature_title", {name: GN.featureLabel(name)});
      } else {
        title.textContent = GN.t("neuron_title", {layer: heading, unit: unit});
      }
      self.neurons[layer].push({group: group, image: image});
      group.addEventListener("click", self.select.bind(self, {kind: "neuron", layer: layer, unit: unit}));
      group.addEventListener("keydown", self.keySelect.bind(self, {kind: "neuron", layer: layer, unit: unit}));
    }
  });
  for (var layer = 1; layer < sizes.length; layer++) {
    var edges = [];
    for (var source = 0; source < sizes[layer - 1]; source++) {
      for (var target = 0; target < sizes[layer]; target++) {
        var a = position(layer - 1, source), b = position(layer, target);
        var x1 = a.x + box, y1 = a.y + box / 2, x2 = b.x, y2 = b.y + box / 2, mx = (x1 + x2) / 2;
        var d = "M" + x1 + "," + y1 + " C" + mx + "," + y1 + " " + mx + "," + y2 + " " + x2 + "," + y2;
        var group = GN.svg("g", {"class": "edge", "data-layer": layer, "data-source": source,
                                 "data-target": target}, edgeLayer);
        var line = GN.svg("path", {d: d, "class": "edge-line"}, group);
        GN.svg("path", {d: d, "class": "edge-hit"}, group);
        var title = GN.svg("title", {}, group);
        var item = {group: group, line: line, title: title, source: source, target: target};
        edges.push(item);
        group.addEventListener("click", self.select.bind(self, {kind: "edge", layer: layer, source: source,
                                                                 target: target}));
      }
    }
    this.edges.push(edges);
  }
};

GN.Network.prototype.select = function (what, event) {
  if (event) { event.stopPropagation(); }
  this.highlight(what);
  this.onSelect(what);
};

GN.Network.prototype.keySelect = function (what, event) {
  if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    this.select(what, event);
  }
};

/* Mark the chosen neuron or edge (and nothing else). */
GN.Network.prototype.highlight = function (what) {
  var old = this.svg.querySelectorAll(".selected");
  for (var i = 0; i < old.length; i++) { old[i].classList.remove("selected"); }
  if (!what) { return; }
  var group = null;
  if (what.kind === "neuron" && this.neurons[what.layer]) {
    group = (this.neurons[what.layer][what.unit] || {}).group;
  } else if (what.kind === "edge" && this.edges[what.layer - 1]) {
    var sizes = this.sizes;
    group = (this.edges[what.layer - 1][what.source * sizes[what.layer] + what.target] || {}).group;
  }
  if (group) { group.classList.add("selected"); }
};

/* Show a state: each neuron's heat map and each edge's weight. */
GN.Network.prototype.update = function (state) {
  var self = this;
  (state.neurons || []).forEach(function (maps, layer) {
    var column = self.neurons[layer];
    if (!column) { return; }
    maps.forEach(function (heat, unit) {
      if (column[unit]) {
        column[unit].image.setAttribute("href", GN.heatURL(heat, self.centres[layer]));
      }
    });
  });
  (state.weights || []).forEach(function (dense, index) {
    var edges = self.edges[index];
    if (!edges) { return; }
    edges.forEach(function (edge) {
      var row = dense.W[edge.source];
      var w = row ? row[edge.target] : 0;
      var style = edge.line.style;              // style, not attributes: the stylesheet's grey would win
      style.stroke = w >= 0 ? GN.css(GN.POSITIVE) : GN.css(GN.NEGATIVE);
      style.strokeWidth = (0.4 + Math.min(Math.abs(w), 5) * 1.6).toFixed(2);
      style.strokeOpacity = (0.35 + Math.min(Math.abs(w), 1) * 0.6).toFixed(2);
      edge.group.setAttribute("data-weight", String(w));
      edge.title.textContent = GN.t("edge_title", {w: GN.short(w), source: edge.source, target: edge.target});
    });
  });
};
