/* glassnet playground: the numbers panel, and the two ways to take the network away (export, save).
 *
 * The numbers panel shows what one neuron or one edge did in the last training step: the forward sum
 * written out term by term, the activation, the gradient dL/dz and the update.  They come from the
 * trace of that step (glassnet.explain.trace, the same record `glassnet explain` prints), in the page's
 * language (English or Korean: the server words them).  Each row keeps the exact float in its data-value
 * attribute; the text shows it rounded.  The panel follows training: after each redraw it asks again
 * (one request at a time; the app sends its next training request only after this one is answered, so
 * the numbers shown are always those of the step the page shows, kept in the panel's data-step).
 */
"use strict";

var GN = window.GN || {};
window.GN = GN;

GN.NumbersPanel = function (app) {
  this.app = app;
  this.what = null;
  this.box = document.getElementById("numbers");
  this.title = document.getElementById("numbers-title");
  this.body = document.querySelector("#numbers-table tbody");
  this.sampleInput = document.getElementById("numbers-sample");
  this.request = 0;
  this.pending = null;           // the /api/numbers request in flight, if any
  this.shown = null;             // {step, lang, sample} of the numbers on screen
  var self = this;
  document.getElementById("numbers-close").addEventListener("click", function () { self.close(); });
  this.sampleInput.addEventListener("change", function () { self.refresh(); });
};

/* Open the panel on a neuron ({kind: "neuron", layer, unit}) or an edge ({kind: "edge", layer, source,
 * target}); clickedAt is the time of the click (for glassnet.lastNumbersMs). */
GN.NumbersPanel.prototype.show = function (what, clickedAt) {
  this.what = what;
  this.box.hidden = false;
  return this.refresh(clickedAt);
};

GN.NumbersPanel.prototype.close = function () {
  this.what = null;
  this.shown = null;
  this.box.hidden = true;
  this.app.network.highlight(null);
};

/* After a redraw: the open panel asks for the numbers of the step now shown, unless it shows them already
 * or a request is still on its way (then this redraw is skipped; the app waits for that answer before it
 * trains on, so no step is missed at the end). */
GN.NumbersPanel.prototype.follow = function () {
  var state = this.app.state, shown = this.shown;
  if (!this.what || this.pending || !state) { return; }
  if (shown && shown.step === state.step && shown.lang === GN.lang) { return; }
  this.refresh();
};

/* Ask the server for the numbers of the chosen neuron or edge, and show them. */
GN.NumbersPanel.prototype.refresh = function (clickedAt) {
  var self = this, what = this.what, app = this.app;
  if (!what || !app.session) { return Promise.resolve(); }
  var started = clickedAt || performance.now();
  var sample = Math.max(0, parseInt(this.sampleInput.value, 10) || 0);
  var body = {session: app.session, kind: what.kind, layer: what.layer, sample: sample, lang: GN.lang};
  if (what.kind === "neuron") {
    body.unit = what.unit;
  } else {
    body.source = what.source;
    body.target = what.target;
  }
  var ticket = ++this.request, step = app.state ? app.state.step : 0, lang = GN.lang;
  if (!step) {                                     // the numbers are those of the last step: none yet
    this.note(what, GN.t("no_step"));
    this.shown = {step: 0, lang: lang, sample: sample};
    this.pending = null;
    this.box.removeAttribute("data-loading");
    return Promise.resolve();
  }
  this.box.setAttribute("data-loading", "1");
  var request = GN.postJSON("/api/numbers", body).then(function (numbers) {
    if (ticket !== self.request) { return; }         // a newer click won
    self.render(numbers, what, step);
    self.shown = {step: step, lang: lang, sample: sample};
    app.lastNumbersMs = performance.now() - started;
  }, function (error) {
    if (ticket !== self.request) { return; }
    self.note(what, error.message, true);
    GN.report(error);
  }).then(function () {
    if (ticket === self.request) { self.box.removeAttribute("data-loading"); }
    if (self.pending === request) { self.pending = null; }
  });
  this.pending = request;
  return request;
};

/* A line of text in the panel instead of numbers (no step yet, or the server's error). */
GN.NumbersPanel.prototype.note = function (what, text, isError) {
  this.title.textContent = what.kind === "neuron" ? GN.t("note_neuron", {layer: what.layer, unit: what.unit})
    : GN.t("note_edge", {layer: what.layer, source: what.source, target: what.target});
  this.box.removeAttribute("data-step");
  this.body.textContent = "";
  var row = document.createElement("tr"), cell = document.createElement("td");
  cell.colSpan = 2;
  cell.className = isError ? "panel-error" : "panel-note";
  cell.textContent = text;
  row.appendChild(cell);
  this.body.appendChild(row);
};

GN.NumbersPanel.prototype.render = function (numbers, what, step) {
  this.title.textContent = numbers.title;
  this.box.setAttribute("data-kind", what.kind);
  this.box.setAttribute("data-layer", what.layer);
  this.box.setAttribute("data-step", step);
  this.box.setAttribute("lang", numbers.lang || GN.lang);
  this.box.setAttribute("data-lang", numbers.lang || GN.lang);
  var body = this.body;
  body.textContent = "";
  numbers.rows.forEach(function (row, index) {
    var tr = document.createElement("tr"), th = document.createElement("th"), td = document.createElement("td");
    tr.className = "number-row";
    tr.setAttribute("data-index", index);
    if (row.value !== null && row.value !== undefined) {
      tr.setAttribute("data-value", String(row.value));   // JS prints the shortest text that reads back exactly
    }
    th.textContent = row.label;
    td.textContent = row.text !== undefined && row.text !== "" ? row.text : GN.short(row.value);
    tr.appendChild(th);
    tr.appendChild(td);
    body.appendChild(tr);
  });
};

/* Export: the Python script that reproduces the network and its training, shown and downloadable. */
GN.exportCode = function (app) {
  if (!app.session) { return Promise.resolve(); }
  return GN.postJSON("/api/export", {session: app.session}).then(function (answer) {
    var dialog = document.getElementById("export-dialog");
    var name = answer.filename || "playground.py";
    document.getElementById("export-code").textContent = answer.code;
    var link = document.getElementById("export-download");
    if (link.href && link.href.indexOf("blob:") === 0) { URL.revokeObjectURL(link.href); }
    link.href = URL.createObjectURL(new Blob([answer.code], {type: "text/x-python"}));
    link.download = name;
    dialog.querySelector("h2").textContent = name;
    if (!dialog.open) {
      if (dialog.showModal) { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
    }
    return answer;
  }).catch(GN.report);
};

/* Save: the trained model as a .glassnet file (glassnet.models.load_model reads it back). */
GN.saveModel = function (app) {
  if (!app.session) { return Promise.resolve(); }
  return GN.post("/api/save", {session: app.session}).then(function (response) {
    return response.blob();
  }).then(function (blob) {
    GN.download(blob, "playground.glassnet");
  }).catch(GN.report);
};

GN.wirePanels = function (app) {
  document.getElementById("export").addEventListener("click", function () { GN.exportCode(app); });
  document.getElementById("save").addEventListener("click", function () { GN.saveModel(app); });
  document.getElementById("export-close").addEventListener("click", function () {
    document.getElementById("export-dialog").close();
  });
  document.getElementById("export-copy").addEventListener("click", function () {
    var text = document.getElementById("export-code").textContent;
    if (navigator.clipboard) {
      navigator.clipboard.writeText(text).catch(GN.report);
    }
  });
  document.getElementById("message-close").addEventListener("click", GN.clearMessage);
};
