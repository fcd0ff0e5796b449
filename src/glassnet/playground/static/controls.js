/* glassnet playground: the settings controls, built from the server's table (GET /api/options), and the
 * settings in the URL's hash.
 *
 * The server declares every setting once (playground/settings.py): its name, kind, default, its choices
 * or its limits, and a help text.  The page builds one control per setting from that table, so a new
 * setting needs no change here.  The URL hash holds the settings in the server's own query form,
 * "#dataset=moons&hidden=4,2&...": copy the address, and whoever opens it gets the same setup.  The words
 * of each control (its label, its choices' names, its help text) come from the page's table (i18n.js) in
 * the page's language; each element keeps its key in data-i18n, so a switch of language rewrites them.
 */
"use strict";

var GN = window.GN || {};
window.GN = GN;

GN.GROUPS = [               // [key of the group's name in the i18n table, its settings]
  ["group.data", ["dataset", "noise", "n_samples", "train_fraction", "seed"]],
  ["group.features", ["features"]],
  ["group.network", ["hidden", "activation", "initializer"]],
  ["group.training", ["loss", "optimizer", "learning_rate", "batch_size", "regularization", "regularization_rate"]]
];

/* An element showing the text of an i18n key (or `fallback`, for a name the table does not know). */
GN.worded = function (tag, key, fallback) {
  var element = document.createElement(tag);
  element.setAttribute("data-i18n", key);
  element.textContent = GN.t(key, null, fallback);
  return element;
};

GN.REGRESSION_LOSSES = ["mean_squared_error", "mean_absolute_error"];

/* How an option's value is written and read: "choices" (several of a list), "ints" (a list of numbers),
 * "choice", "int" or "float". */
GN.shapeOf = function (option) {
  var list = Array.isArray(option["default"]);
  if (list && option.choices) { return "choices"; }
  if (list) { return "ints"; }
  if (option.choices) { return "choice"; }
  return /int/.test(option.kind) ? "int" : "float";
};

GN.Controls = function (container, options, onChange) {
  this.container = container;
  this.options = options;
  this.byName = {};
  this.inputs = {};
  this.onChange = onChange;
  var self = this;
  options.forEach(function (option) { self.byName[option.name] = option; });
  var byTask = this.byName.loss && this.byName.loss.choices_by_task;
  this.regressionLosses = byTask && byTask.regression ? byTask.regression : GN.REGRESSION_LOSSES;
  this.build();
};

GN.Controls.prototype.build = function () {
  var self = this, container = this.container, placed = {};
  container.textContent = "";
  var groups = GN.GROUPS.map(function (g) { return [g[0], g[1].filter(function (n) { return self.byName[n]; })]; });
  var rest = this.options.map(function (o) { return o.name; }).filter(function (name) {
    return !GN.GROUPS.some(function (g) { return g[1].indexOf(name) >= 0; });
  });
  if (rest.length) { groups.push(["group.other", rest]); }
  groups.forEach(function (group) {
    if (!group[1].length) { return; }
    var fieldset = document.createElement("fieldset");
    fieldset.appendChild(GN.worded("legend", group[0]));
    group[1].forEach(function (name) {
      fieldset.appendChild(self.control(self.byName[name]));
      placed[name] = true;
    });
    container.appendChild(fieldset);
  });
};

/* One control: a <select>, checkboxes, or a text/number input, with the help text as its tooltip (the
 * server's English help, or the table's words for it in the page's language). */
GN.Controls.prototype.control = function (option) {
  var self = this, shape = GN.shapeOf(option), wrap = document.createElement("div");
  wrap.className = "control";
  wrap.setAttribute("data-setting", option.name);
  wrap.setAttribute("data-i18n-title", "help." + option.name);
  wrap.title = GN.hasText("help." + option.name) ? GN.t("help." + option.name) : option.help || "";
  var label = GN.worded("label", "label." + option.name, option.name.replace(/_/g, " "));
  var input;
  if (shape === "choices") {
    input = document.createElement("span");
    input.className = "checks";
    option.choices.forEach(function (choice) {
      var item = document.createElement("label");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.value = choice;
      box.name = option.name;
      box.addEventListener("change", function () { self.changed(option.name); });
      item.appendChild(box);
      item.appendChild(document.createTextNode(" "));
      item.appendChild(GN.worded("span", "feature." + choice, choice));
      input.appendChild(item);
    });
    wrap.appendChild(label);
  } else {
    if (shape === "choice") {
      input = document.createElement("select");
      option.choices.forEach(function (choice) {
        var item = GN.worded("option", "choice." + option.name + "." + choice, choice.replace(/_/g, " "));
        item.value = choice;
        input.appendChild(item);
      });
    } else {
      input = document.createElement("input");
      if (shape === "ints") {
        input.type = "text";
        input.setAttribute("data-i18n-placeholder", "hidden_placeholder");
        input.placeholder = GN.t("hidden_placeholder");
      } else {
        input.type = "number";
        input.step = shape === "int" ? "1" : "any";
        if (option.min !== undefined) { input.min = option.min; }
        if (option.max !== undefined) { input.max = option.max; }
      }
    }
    input.id = "setting-" + option.name;
    input.name = option.name;
    label.htmlFor = input.id;
    input.addEventListener("change", function () { self.changed(option.name); });
    wrap.appendChild(label);
  }
  this.inputs[option.name] = input;
  wrap.appendChild(input);
  return wrap;
};

GN.Controls.prototype.changed = function (name) {
  var values = this.values();
  if (name === "dataset") {                     // plane is regression: keep the loss a regression loss
    var plane = values.dataset === "plane";
    if (plane && this.regressionLosses.indexOf(values.loss) < 0) { values.loss = "mean_squared_error"; }
    if (!plane && this.byName.loss && values.loss === "mean_squared_error" &&
        this.byName.loss["default"] !== "mean_squared_error") {
      values.loss = this.byName.loss["default"];
    }
    this.set(values);
  }
  this.onChange(values, name);
};

/* The settings as JSON values, read from the controls. */
GN.Controls.prototype.values = function () {
  var self = this, values = {};
  this.options.forEach(function (option) {
    var input = self.inputs[option.name], shape = GN.shapeOf(option);
    if (shape === "choices") {
      values[option.name] = Array.prototype.filter.call(input.querySelectorAll("input"), function (box) {
        return box.checked;
      }).map(function (box) { return box.value; });
    } else {
      values[option.name] = GN.parseValue(option, input.value);
    }
  });
  return values;
};

/* Put settings (JSON values) into the controls. */
GN.Controls.prototype.set = function (values) {
  var self = this;
  Object.keys(values).forEach(function (name) {
    var option = self.byName[name], input = self.inputs[name];
    if (!option || !input) { return; }
    var shape = GN.shapeOf(option), value = values[name];
    if (shape === "choices") {
      Array.prototype.forEach.call(input.querySelectorAll("input"), function (box) {
        box.checked = Array.isArray(value) && value.indexOf(box.value) >= 0;
      });
    } else if (shape === "ints") {
      input.value = Array.isArray(value) ? value.join(",") : String(value);
    } else {
      input.value = String(value);
    }
  });
  if (this.inputs.loss && this.inputs.loss.options) {          // classification losses make no sense on plane
    var plane = values.dataset === "plane", allowed = this.regressionLosses;
    Array.prototype.forEach.call(this.inputs.loss.options, function (item) {
      item.disabled = plane && allowed.indexOf(item.value) < 0;
    });
  }
};

GN.Controls.prototype.defaults = function () {
  var values = {};
  this.options.forEach(function (option) { values[option.name] = option["default"]; });
  return values;
};

/* A text (from a control or the URL) as the JSON value of an option.  What does not parse is sent as
 * the text itself: the server then refuses it with a message naming the setting and what is allowed. */
GN.parseValue = function (option, text) {
  var shape = GN.shapeOf(option);
  text = String(text).trim();
  if (shape === "choices") {
    return text === "" ? [] : text.split(",").map(function (s) { return s.trim(); });
  }
  if (shape === "ints") {
    if (text === "") { return []; }
    var parts = text.split(",").map(function (s) { return s.trim(); });
    return parts.map(function (s) { return /^-?\d+$/.test(s) ? Number(s) : s; });
  }
  if (shape === "int") { return /^-?\d+$/.test(text) ? Number(text) : text; }
  if (shape === "float") { return text !== "" && isFinite(Number(text)) ? Number(text) : text; }
  return text;
};

/* "#a=1&b=x,y" -> {a: 1, b: ["x", "y"]}, each value read by its option (unknown names kept as text, so
 * that the server names them in its error). */
GN.Controls.prototype.fromQuery = function (query) {
  var self = this, values = {};
  query = query.replace(/^#/, "");
  if (!query) { return values; }
  query.split("&").forEach(function (part) {
    if (!part) { return; }
    var cut = part.indexOf("="), name = decodeURIComponent(cut < 0 ? part : part.slice(0, cut));
    var text = cut < 0 ? "" : decodeURIComponent(part.slice(cut + 1).replace(/\+/g, " "));
    values[name] = self.byName[name] ? GN.parseValue(self.byName[name], text) : text;
  });
  return values;
};

/* The settings in the query form (the page uses the server's own "query" when it has one). */
GN.Controls.prototype.toQuery = function (values) {
  return Object.keys(values).map(function (name) {
    var value = Array.isArray(values[name]) ? values[name].join(",") : String(values[name]);
    return encodeURIComponent(name) + "=" + encodeURIComponent(value).replace(/%2C/g, ",");
  }).join("&");
};
