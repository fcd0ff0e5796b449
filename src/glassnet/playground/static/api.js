/* glassnet playground: talking to the server, and showing what went wrong.
 *
 * Every request the page makes goes through here.  The server (playground/server.py) accepts a POST only
 * with the page's token (it is written into <meta name="glassnet-token"> when the page is served) and a
 * JSON body: that is how it tells the page's own requests from any other web page's.  An error comes back
 * as JSON {"error": "..."}; the page shows it in the message area at the top, it never hides it.  The
 * server's messages are English; the page's own (the server is unreachable, ...) are in the page's language.
 */
"use strict";

var GN = window.GN || {};
window.GN = GN;

GN.token = function () {
  var meta = document.querySelector('meta[name="glassnet-token"]');
  return meta ? meta.getAttribute("content") : "";
};

/* Show a message in the visible message area (kind "error" or "info"). */
GN.showMessage = function (text, kind) {
  var box = document.getElementById("message");
  document.getElementById("message-text").textContent = text;
  box.className = kind || "error";
  box.hidden = false;
};

GN.clearMessage = function () {
  document.getElementById("message").hidden = true;
};

/* An Error carrying the server's own message (and the HTTP status). */
GN.ServerError = function (message, status) {
  var error = new Error(message);
  error.status = status;
  error.fromServer = true;
  return error;
};

/* The error text of a failed answer: the JSON "error" field when there is one, else the status line. */
GN.errorText = function (response) {
  return response.text().then(function (text) {
    try {
      var body = JSON.parse(text);
      if (body && typeof body.error === "string") {
        return body.error;
      }
    } catch (ignored) { /* not JSON: fall through to the status line */ }
    return GN.t("answered", {status: response.status, text: response.statusText}) +
      (text ? ": " + text.slice(0, 200) : "");
  });
};

/* POST a JSON body to a route; resolves to the Response (already checked to be ok). */
GN.post = function (route, body) {
  return fetch(route, {
    method: "POST",
    headers: {"Content-Type": "application/json", "X-Glassnet-Token": GN.token()},
    body: JSON.stringify(body),
    cache: "no-store"
  }).catch(function (error) {
    throw GN.ServerError(GN.t("unreachable", {error: error.message}), 0);
  }).then(function (response) {
    if (response.ok) {
      return response;
    }
    return GN.errorText(response).then(function (text) {
      throw GN.ServerError(text, response.status);
    });
  });
};

/* POST and read the JSON answer. */
GN.postJSON = function (route, body) {
  return GN.post(route, body).then(function (response) { return response.json(); });
};

/* GET a JSON route (only /api/options). */
GN.getJSON = function (route) {
  return fetch(route, {cache: "no-store"}).then(function (response) {
    if (response.ok) {
      return response.json();
    }
    return GN.errorText(response).then(function (text) { throw GN.ServerError(text, response.status); });
  });
};

/* The one place errors end up: shown on the page (and logged as a warning, not hidden). */
GN.report = function (error) {
  var text = error && error.message ? error.message : String(error);
  if (error && error.fromServer && error.status) { text = GN.t("server_says", {message: text}); }  // English
  GN.showMessage(text, "error");
  if (window.console) {
    console.warn("glassnet playground:", text);
  }
};

/* Let the browser download bytes or text under a file name (export and save). */
GN.download = function (blob, filename) {
  var url = URL.createObjectURL(blob);
  var link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
};
