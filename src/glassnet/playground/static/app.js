/* glassnet playground: the page's state and its training loop.
 *
 * The real model lives in the server (a glassnet Session); the page only shows it.  A change of a
 * control writes the settings into the URL hash and asks for a new session (POST /api/session); "step"
 * trains one batch (POST /api/step with steps=1); "play" repeats /api/step, choosing how many steps each
 * request does so that the picture updates about ten times a second, until "pause" (which lets the
 * current request finish).  window.glassnet exposes the numbers the browser tests and the benchmark read:
 * step, lastUpdateMs (from a click on "step" to the redrawn page), stepsPerSecond (while playing),
 * lastNumbersMs (from a click on a neuron or an edge to its numbers on screen), lang.
 *
 * The page speaks English or Korean (i18n.js).  The language sits in the URL hash next to the settings
 * ("#dataset=moons&...&lang=ko") but is the page's own: it is taken out before the settings go to the
 * server, which knows no setting "lang".  An address without it opens in the browser's language.
 */
"use strict";

var GN = window.GN || {};
window.GN = GN;

GN.TARGET_MS = 100;          // one picture per ~100 ms while playing
GN.MAX_STEPS = 1000;         // the server's limit per request

/* Resolves at the next animation frame: the moment the browser paints what was just drawn. */
GN.nextFrame = function () {
  return new Promise(function (resolve) { requestAnimationFrame(function () { resolve(performance.now()); }); });
};

GN.App = function () {
  this.session = null;
  this.settings = null;
  this.state = null;
  this.points = null;
  this.generation = 0;           // bumped by each new session: answers for an older one are dropped
  this.playing = false;
  this.busy = null;              // the /api/step request in flight, if any
  this.stepsPerRequest = 1;
  this.lastUpdateMs = null;
  this.lastNumbersMs = null;
  this.stepsPerSecond = null;
  this.updates = 0;
  this.lastHash = null;
  this.lastQuery = null;         // the settings part of lastHash (the server's query form)
  this.timer = null;
  this.network = new GN.Network(document.getElementById("network"), this.selected.bind(this));
  this.numbers = new GN.NumbersPanel(this);
};

GN.App.prototype.start = function () {
  var self = this;
  this.wire();
  this.setLang(GN.splitHash(location.hash).lang || GN.browserLang());
  return GN.getJSON("/api/options").then(function (options) {
    self.controls = new GN.Controls(document.getElementById("controls"), options, self.changed.bind(self));
    var values = self.fromHash();
    self.controls.set(values);
    return self.newSession(values);
  }).catch(GN.report);
};

GN.App.prototype.wire = function () {
  var self = this;
  document.getElementById("step").addEventListener("click", function () { self.stepClicked(); });
  document.getElementById("play").addEventListener("click", function () { self.play(); });
  document.getElementById("pause").addEventListener("click", function () { self.pause(); });
  document.getElementById("reset").addEventListener("click", function () {
    self.newSession(self.controls.values());
  });
  Array.prototype.forEach.call(document.querySelectorAll("#language [data-lang]"), function (button) {
    button.addEventListener("click", function () { self.setLang(button.getAttribute("data-lang")); });
  });
  window.addEventListener("hashchange", function () {
    if (location.hash === self.lastHash) { return; }     // our own change
    var hash = GN.splitHash(location.hash), lang = hash.lang || GN.browserLang();
    var same = !self.controls || hash.query === self.lastQuery;
    if (lang !== GN.lang) { self.setLang(lang, same); }   // new settings: the new session writes the address
    if (same) {                                           // only the language changed
      if (self.lastHash !== null) { self.writeHash(); }
      return;
    }
    var values = self.fromHash();
    self.controls.set(values);
    self.newSession(values);
  });
  GN.wirePanels(this);
};

/* The defaults, overridden by what the URL hash says (its settings: lang is the page's, not the server's). */
GN.App.prototype.fromHash = function () {
  var values = this.controls.defaults(), given = this.controls.fromQuery(GN.splitHash(location.hash).query);
  if (given.dataset === "plane" && given.loss === undefined) { values.loss = "mean_squared_error"; }
  Object.keys(given).forEach(function (name) { values[name] = given[name]; });
  return values;
};

/* A control changed: rebuild the session (after a short pause, so that typing is one change). */
GN.App.prototype.changed = function (values) {
  var self = this;
  clearTimeout(this.timer);
  this.timer = setTimeout(function () { self.newSession(values); }, 120);
};

/* POST /api/session: a new model on new data; the settings the server normalized go back into the
 * controls and into the URL. */
GN.App.prototype.newSession = function (values) {
  var self = this, generation = ++this.generation;
  return GN.postJSON("/api/session", {settings: values}).then(function (answer) {
    if (generation !== self.generation) { return; }
    GN.clearMessage();
    self.session = answer.session;
    self.settings = answer.settings;
    self.points = answer.points;
    self.controls.set(answer.settings);
    document.getElementById("numbers-sample").max = Math.max(0, answer.settings.batch_size - 1);
    self.lastQuery = answer.query !== undefined ? answer.query : self.controls.toQuery(answer.settings);
    self.writeHash();
    self.layout(answer.state);
    self.render(answer.state);
    self.numbers.refresh();
  }).catch(function (error) {
    if (generation === self.generation) { GN.report(error); }
  });
};

/* Rebuild the network drawing for the sizes of this session's layers. */
GN.App.prototype.layout = function (state) {
  var sizes = state.neurons.map(function (layer) { return layer.length; });
  var settings = this.settings, regression = state.task === "regression";
  var hiddenCentre = ["sigmoid", "softmax", "step"].indexOf(settings.activation) >= 0 ? 0.5 : 0;
  var centres = sizes.map(function (n, layer) {
    if (layer === 0) { return 0; }
    if (layer === sizes.length - 1) { return regression ? 0 : 0.5; }
    return hiddenCentre;
  });
  this.network.build(sizes, settings.features || [], centres);
  this.network.highlight(this.numbers.what);
  var legend = document.getElementById("boundary-legend");
  legend.setAttribute("data-i18n", regression ? "legend_regression" : "legend_classification");
  legend.textContent = GN.t(legend.getAttribute("data-i18n"));
};

/* The address: the settings the server normalized, and the page's language. */
GN.App.prototype.writeHash = function () {
  this.lastHash = GN.joinHash(this.lastQuery || "", GN.lang);
  if (location.hash !== this.lastHash) { history.replaceState(null, "", this.lastHash); }
};

/* Speak `lang` ("en" or "ko"): every word of the page, the drawings, the numbers panel and (unless
 * writeAddress is false) the address. */
GN.App.prototype.setLang = function (lang, writeAddress) {
  GN.lang = GN.LANGS.indexOf(lang) >= 0 ? lang : "en";
  document.documentElement.lang = GN.lang;
  GN.translate(document);
  document.title = GN.t("page_title");
  Array.prototype.forEach.call(document.querySelectorAll("#language [data-lang]"), function (button) {
    var on = button.getAttribute("data-lang") === GN.lang;
    button.classList.toggle("active", on);
    button.setAttribute("aria-pressed", String(on));
  });
  document.getElementById("doctor-note").hidden = GN.lang === "en";
  this.showSpeed();
  if (this.state && this.settings) {
    this.layout(this.state);
    this.render(this.state);
  }
  if (this.lastQuery !== null && writeAddress !== false) { this.writeHash(); }
  return this.numbers.what ? this.numbers.refresh() : Promise.resolve();
};

GN.App.prototype.showSpeed = function () {
  document.getElementById("speed").textContent = this.stepsPerSecond === null ? ""
    : GN.t("speed", {n: Math.round(this.stepsPerSecond)});
};

/* Draw one state: counters, the picture, the network, the losses, the doctor. */
GN.App.prototype.render = function (state) {
  this.state = state;
  var count = document.getElementById("step-count");
  count.textContent = state.step;
  count.setAttribute("data-value", state.step);
  document.getElementById("pass-count").textContent = Number(state.pass || 0).toFixed(2);
  ["train", "test"].forEach(function (part) {
    var element = document.getElementById(part + "-loss"), v = state.loss ? state.loss[part] : null;
    element.textContent = GN.short(v);
    element.setAttribute("data-value", v === null || v === undefined ? "" : String(v));
  });
  GN.drawBoundary(document.getElementById("boundary"), state.boundary, this.points, state.task);
  this.network.update(state);
  GN.drawLoss(document.getElementById("loss-curve"), state.history);
  var list = document.getElementById("findings");
  list.textContent = "";
  var findings = state.findings || [];
  if (!findings.length) {
    var quiet = GN.worded("li", state.step ? "healthy" : "no_findings");
    quiet.className = "quiet";
    list.appendChild(quiet);
  }
  findings.forEach(function (finding) {
    var item = document.createElement("li"), cause = document.createElement("b");
    item.setAttribute("data-cause", finding.cause);
    cause.textContent = String(finding.cause).replace(/_/g, " ") + ": ";
    item.appendChild(cause);
    item.appendChild(document.createTextNode(finding.message));
    list.appendChild(item);
  });
  this.updates += 1;
  document.body.setAttribute("data-step", state.step);
};

/* POST /api/step for n steps, then draw; resolves to the answer (null if the session changed meanwhile). */
GN.App.prototype.train = function (n) {
  var self = this;
  if (!this.session) { return Promise.resolve(null); }
  var run = function () {          // one request at a time: they queue behind each other, and behind the
    var generation = self.generation;                // numbers panel's request (its numbers are this step's)
    return Promise.resolve(self.numbers.pending).then(function () {
      return GN.postJSON("/api/step", {session: self.session, steps: n});
    }).then(function (answer) {
      if (generation !== self.generation) { return null; }
      self.render(answer.state);
      self.numbers.follow();
      return answer;
    });
  };
  var request = (this.busy || Promise.resolve()).then(run);
  var settled = request.then(function () {}, function () {});
  this.busy = settled;
  settled.then(function () { if (self.busy === settled) { self.busy = null; } });
  return request;
};

/* "step": one batch; lastUpdateMs is the time from the click to the frame that shows the new state. */
GN.App.prototype.stepClicked = function () {
  var self = this, clickedAt = performance.now();
  if (this.playing) { this.pause(); }
  return this.train(1).then(function (answer) {
    if (!answer) { return; }
    return GN.nextFrame().then(function (painted) {
      self.lastUpdateMs = painted - clickedAt;
      return self.numbers.pending;
    });
  }).catch(GN.report);
};

GN.App.prototype.setPlaying = function (playing) {
  this.playing = playing;
  document.getElementById("play").disabled = playing;
  document.getElementById("pause").disabled = !playing;
  document.body.classList.toggle("playing", playing);
};

/* "play": request, draw, repeat.  Each request's step count follows the last one's timing: more steps
 * when a request and its picture took less than ~100 ms, fewer when they took more (so about ten pictures
 * a second), but never so few that the fixed costs (network, JSON, drawing) outweigh the training. */
GN.App.prototype.play = function () {
  if (this.playing || !this.session) { return; }
  var self = this, recent = [];
  this.setPlaying(true);
  var loop = function () {
    if (!self.playing) { return Promise.resolve(); }
    var n = self.stepsPerRequest, started = performance.now();
    return self.train(n).then(function (answer) {
      return GN.nextFrame().then(function (painted) {
        if (!answer) { return; }
        var total = Math.max(painted - started, 1), server = Math.max(answer.elapsed_ms || 0, 0.01);
        var ratio = Math.max(0.5, Math.min(2, Math.pow(GN.TARGET_MS / total, 0.7)));
        var next = n * ratio;
        if (total - server > server) { next = Math.max(next, n * (total - server) / server); }  // half trains
        self.stepsPerRequest = Math.max(1, Math.min(GN.MAX_STEPS, Math.round(next), 2 * n + 1));
        recent.push([painted, n]);
        while (recent.length > 2 && painted - recent[0][0] > 3000) { recent.shift(); }
        if (recent.length > 1) {
          var steps = 0;
          for (var i = 1; i < recent.length; i++) { steps += recent[i][1]; }
          self.stepsPerSecond = steps / ((painted - recent[0][0]) / 1000);
          self.showSpeed();
        }
      });
    }).then(loop);
  };
  return loop().catch(function (error) {
    self.setPlaying(false);
    GN.report(error);
  });
};

GN.App.prototype.pause = function () {
  if (!this.playing) { return Promise.resolve(); }
  var self = this;
  this.setPlaying(false);
  return (this.busy || Promise.resolve()).then(function () { return self.numbers.pending; }).then(function () {
    self.numbers.follow();
    return self.numbers.pending;
  });
};

/* A neuron or an edge was clicked. */
GN.App.prototype.selected = function (what) {
  return this.numbers.show(what, performance.now());
};

(function () {
  var app = new GN.App();
  var ready = app.start();
  var api = {
    ready: ready,
    train: function (n) { return app.train(n || 1); },
    stepOnce: function () { return app.stepClicked(); },
    play: function () { return app.play(); },
    pause: function () { return app.pause(); },
    idle: function () {
      return (app.busy || Promise.resolve()).then(function () { return app.numbers.pending; });
    },
    setLang: function (lang) { return app.setLang(lang); },
    app: app
  };
  ["session", "settings", "state", "playing", "lastUpdateMs", "lastNumbersMs", "stepsPerSecond",
   "stepsPerRequest", "updates"].forEach(function (name) {
    Object.defineProperty(api, name, {get: function () { return app[name]; }, enumerable: true});
  });
  Object.defineProperty(api, "step", {get: function () { return app.state ? app.state.step : 0; },
                                      enumerable: true});
  Object.defineProperty(api, "lang", {get: function () { return GN.lang; }, enumerable: true});
  window.glassnet = api;
}());
