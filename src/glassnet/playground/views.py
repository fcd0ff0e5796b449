"""What the page draws, as JSON: the decision boundary and each neuron as heat maps, the weights, the losses.

A heat map is a square grid of values over the frame [-6, 6]^2 sent as bytes:

    {"size": n, "lo": lo, "hi": hi, "data": base64 of n*n uint8}
    row 0 is the top (y = +6), column 0 the left (x = -6); a byte u stands for lo + (hi - lo) * u / 255

so a 60 x 60 map is 3600 bytes (4.8 KB of base64) instead of 3600 JSON numbers, and the browser
decodes it straight into pixels.  The grid's values come from one vectorised forward pass of all its
points through the model's current weights (Forward below), with the same activation functions the
layers use; the layers' own forward is not called, so their cached inputs (which the doctor reads)
stay those of the last training step.
"""
from __future__ import annotations

import base64
import math

import numpy as np

from .. import activations, losses
from . import data as _data

FRAME = 6.0             # the frame is [-FRAME, FRAME]^2
BOUNDARY_SIZE = 60      # the decision boundary's grid
NEURON_SIZE = 20        # each neuron's grid
HISTORY_POINTS = 500    # the loss points state() sends (the last ones)


def grid(n) -> np.ndarray:
    """The (n*n, 2) points of an n x n grid over the frame, row-major, row 0 at y = +6, column 0 at x = -6."""
    v = np.linspace(-FRAME, FRAME, n)
    xs, ys = np.meshgrid(v, v[::-1])
    return np.column_stack([xs.ravel(), ys.ravel()])


def number(value):
    """A float for JSON: None for NaN and infinities (JSON has no such numbers)."""
    value = float(value)
    return value if math.isfinite(value) else None


def array_json(a):
    """Nested lists of floats for JSON (None where not finite)."""
    a = np.asarray(a, dtype=np.float64)
    if np.isfinite(a).all():
        return a.tolist()
    return _replace_nan(a.tolist())


def _replace_nan(x):
    if isinstance(x, list):
        return [_replace_nan(v) for v in x]
    return number(x)


def heat(values, n, lo=None, hi=None) -> dict:
    """One heat map of n*n values (row-major, as grid() orders them); lo/hi default to their min and max."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    finite = np.isfinite(v)
    if lo is None or hi is None:
        lo, hi = (float(v[finite].min()), float(v[finite].max())) if finite.any() else (0.0, 0.0)
    span = hi - lo
    if span > 0:
        u = np.rint((np.where(finite, v, lo) - lo) * (255.0 / span))
        np.clip(u, 0, 255, out=u)
        u = u.astype(np.uint8)
    else:
        u = np.zeros(v.size, dtype=np.uint8)
    return {"size": int(n), "lo": float(lo), "hi": float(hi), "data": base64.b64encode(u.tobytes()).decode("ascii")}


def heat_columns(values, n) -> list[dict]:
    """One heat map per column of values (n*n, k), each with its own lo/hi: a whole layer at once."""
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    if not finite.all():
        return [heat(v[:, j], n) for j in range(v.shape[1])]
    lo, hi = v.min(axis=0), v.max(axis=0)
    span = hi - lo
    scale = np.divide(255.0, span, out=np.zeros_like(span), where=span > 0)
    u = np.rint((v - lo) * scale)
    np.clip(u, 0, 255, out=u)
    u = np.ascontiguousarray(u.T.astype(np.uint8))
    return [{"size": int(n), "lo": float(lo[j]), "hi": float(hi[j]),
             "data": base64.b64encode(u[j].tobytes()).decode("ascii")} for j in range(v.shape[1])]


class Forward:
    """The model's forward pass written out in NumPy on any inputs: every layer's a, and the output's z."""

    def __init__(self, session):
        self.session = session
        self.layers = session.model.layers
        self._acts = [activations.get(layer.activation) for layer in self.layers]
        names = session.settings.features
        self.grids = {n: _data.features(grid(n), names) for n in (BOUNDARY_SIZE, NEURON_SIZE)}

    def run(self, x):
        """(list of a per layer, z of the output layer)."""
        outs, a, z = [], x, None
        for layer, f in zip(self.layers, self._acts):
            z = a @ layer.params["W"] + layer.params["b"]
            a = f(z)
            outs.append(a)
        return outs, z

    def loss(self, x, y) -> float:
        """model.evaluate's loss on (x, y): the mean data loss plus the regularization penalty."""
        outs, z = self.run(x)
        name = self.session.settings.loss
        if name == "sparse_categorical_crossentropy":
            per = losses.sparse_categorical_crossentropy(y, z, from_logits=True)
        elif name == "binary_crossentropy":
            per = losses.binary_crossentropy(y.reshape(-1, 1).astype(np.float64), z, from_logits=True)
        elif name == "mean_squared_error":
            per = losses.mean_squared_error(y.reshape(-1, 1).astype(np.float64), outs[-1])
        else:
            per = losses.mean_absolute_error(y.reshape(-1, 1).astype(np.float64), outs[-1])
        penalty = sum(layer.regularization_loss() for layer in self.layers)
        return float(np.mean(per)) + float(penalty)

    def prediction(self, a_out):
        """The boundary's value: P(class 1) for a classification, the output for the regression."""
        return a_out[:, 1] if a_out.shape[1] == 2 else a_out[:, 0]


def state(session) -> dict:
    """The page's picture of the session now (the brief's `state()` JSON)."""
    fw = session._forward
    task = session.settings.task
    if session.history and session.history[-1][0] == session.step:
        _, train_loss, test_loss = session.history[-1]
    else:
        train_loss = session.loss(session.x_train, session.y_train)
        test_loss = session.loss(session.x_test, session.y_test)
    outs, _ = fw.run(fw.grids[BOUNDARY_SIZE])
    value = fw.prediction(outs[-1])
    boundary = heat(value, BOUNDARY_SIZE, 0.0, 1.0) if task == "classification" else heat(value, BOUNDARY_SIZE)
    small_x = fw.grids[NEURON_SIZE]
    small, _ = fw.run(small_x)
    neurons = [heat_columns(a, NEURON_SIZE) for a in [small_x] + small]
    return {
        "step": session.step,
        "pass": session.step / session.steps_per_pass,
        "history": [[s, number(a), number(b)] for s, a, b in session.history[-HISTORY_POINTS:]],
        "loss": {"train": number(train_loss), "test": number(test_loss)},
        "boundary": boundary,
        "neurons": neurons,
        "weights": weights(session),
        "findings": session.findings(),
        "task": task,
    }


def weights(session) -> list[dict]:
    """[{"W": nested lists (in, out), "b": list}] per Dense layer, bottom to top."""
    return [{"W": array_json(layer.params["W"]), "b": array_json(layer.params["b"])}
            for layer in session.model.layers]


def points(session) -> dict:
    """{"train": [[x, y, label], ...], "test": [...]}: the points and their targets (float for plane)."""
    pts, y, k = session.data["points"], session.data["y"], session.n_train
    label = (lambda v: float(v)) if session.settings.task == "regression" else (lambda v: int(v))
    rows = [[float(p[0]), float(p[1]), label(t)] for p, t in zip(pts.tolist(), y.tolist())]
    return {"train": rows[:k], "test": rows[k:]}
