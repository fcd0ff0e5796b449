"""The numbers behind one neuron or one edge in the last training step, read from its Trace.

    session.train(10)
    session.numbers("neuron", layer=1, unit=0)            # hidden layer 1, neuron 0, batch sample 0
    session.numbers("edge", layer=2, source=3, target=0, lang="ko")

Layers are numbered as the page draws them: 0 = the input features, 1..L the hidden layers, L+1 the
output layer.  Every value comes from the trace of the step (glassnet.explain.trace), which is
train_on_batch's own step recorded, so what the panel shows is what training did:

    neuron j of layer l, for sample s:  the terms x_i * W[i, j], b[j], z = their sum + b[j], a = f(z),
                                        dL/dz (the notes' delta is its negative), dL/db[j] over the batch,
                                        b before, after, and the change
    edge W[i, j] of layer l:            W before, dL/dW[i, j] over the batch, the change, W after,
                                        x_i of sample s and its contribution x_i * W[i, j]

The labels come from glassnet.explain.words, in English or Korean, like `glassnet explain`'s tables.
"""
from __future__ import annotations

import numpy as np

from ..explain.words import LANGS, _words
from . import data as _data


def _short(value, limit=60):
    """repr(value) for a message, cut to about `limit` characters (the request's value may be huge)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _index(value, what, count):
    """An int index from 0 to count - 1, or a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < count:
        raise ValueError(f"{what}: an integer from 0 to {count - 1}, got {_short(value)}")
    return int(value)


def _value(x):
    x = float(x)
    return x if np.isfinite(x) else None


def _row(label, value, text=None):
    return {"label": label, "value": _value(value), "text": repr(float(value)) if text is None else text}


def _layer_name(words, layer, n_layers):
    if layer == 0:
        return words["input_layer"]
    if layer == n_layers:
        return words["output_layer"]
    return words["hidden_layer"].format(i=layer)


def numbers(session, kind, layer, unit=None, source=None, target=None, sample=0, lang="en") -> dict:
    """{"title", "rows": [{"label", "value", "text"}], "lang"} for a neuron or an edge of the last step."""
    if not isinstance(lang, str) or lang not in LANGS:      # a list from the page's JSON is not "unhashable"
        raise ValueError(f"lang: one of {', '.join(map(repr, LANGS))}, got {_short(lang)} (an unknown language)")
    words = _words(lang)
    tr = session.last_trace
    if tr is None:
        raise ValueError(f"numbers: {_words('en')['pg_no_step']}")
    if kind not in ("neuron", "edge"):
        raise ValueError(f"kind: 'neuron' or 'edge', got {_short(kind)}")
    n_layers = len(tr.layers)                       # Dense layers: hidden + output
    layer = _index(layer, "layer", n_layers + 1)
    batch = len(tr.x)
    sample = _index(sample, "sample", batch)
    where = {"layer": _layer_name(words, layer, n_layers), "s": sample, "n": batch, "step": session.step}
    if kind == "neuron":
        width = tr.x.shape[1] if layer == 0 else tr.layers[layer - 1].units
        j = _index(unit, "unit", width)
        if layer == 0:
            return _input(words, lang, session, tr, j, where)
        return _neuron(words, lang, tr.layers[layer - 1], j, where, tr)
    if layer == 0:
        raise ValueError("layer: an edge belongs to a Dense layer, 1 to "
                         f"{n_layers} (it joins layer - 1 to layer), got 0")
    rec = tr.layers[layer - 1]
    i = _index(source, "source", rec.W.shape[0])
    j = _index(target, "target", rec.W.shape[1])
    return _edge(words, lang, rec, i, j, where, tr, session.settings.regularization != "none")


def _input(words, lang, session, tr, j, where):
    label = _data.FEATURES[session.settings.features[j]].label
    title = words["pg_input_title"].format(label=label, **where)
    value = tr.x[where["s"], j]
    return {"title": title, "rows": [_row(words["pg_feature"].format(label=label, s=where["s"]), value)],
            "lang": lang}


def _rule(words, tr):
    return words["rule_sgd"] if tr.plain_sgd else words["rule_other"].format(name=tr.optimizer_name)


def _neuron(words, lang, rec, j, where, tr):
    s = where["s"]
    x, W, b = rec.input[s], rec.W, rec.b
    rows = []
    terms = []
    for i in range(W.shape[0]):
        product = x[i] * W[i, j]
        terms.append(product)
        rows.append(_row(words["pg_term"].format(i=i, j=j), product, f"{float(x[i])!r} * {float(W[i, j])!r}"))
    rows.append(_row(words["pg_bias"].format(j=j), b[j]))
    z = rec.z[s, j]
    rows.append(_row(words["pg_z"].format(j=j), z,
                     " + ".join(repr(float(t)) for t in terms + [b[j]]) + f" = {float(z)!r}"))
    act = rec.activation or "linear"
    a = rec.output[s, j]
    rows.append(_row(words["pg_a"].format(act=act), a, f"{act}({float(z)!r}) = {float(a)!r}"))
    dz = rec.grad_z[s, j]
    rows.append(_row(words["pg_dz"], dz, f"{float(dz)!r} (delta = {float(-dz)!r})"))
    rows.append(_row(words["pg_db"].format(j=j), rec.db[j]))
    before, after = rec.b[j], rec.b_after[j]
    rows.append(_row(words["pg_b_before"].format(j=j), before))
    rows.append(_row(words["pg_b_after"].format(j=j), after, f"{float(after)!r}  ({_rule(words, tr)})"))
    rows.append(_row(words["pg_change"], after - before))
    return {"title": words["pg_neuron_title"].format(j=j, **where), "rows": rows, "lang": lang}


def _edge(words, lang, rec, i, j, where, tr, regularized):
    s = where["s"]
    before, after = rec.W[i, j], rec.W_after[i, j]
    dw = rec.dW[i, j]
    x = rec.input[s, i]
    how = words["pg_dw_text"].format(i=i, j=j) + (f" + {words['plus_reg']}" if regularized else "")
    rows = [
        _row(words["pg_w_before"].format(i=i, j=j), before),
        _row(words["pg_dw"].format(i=i, j=j), dw, f"{float(dw)!r}  ({how})"),
        _row(words["pg_change"], after - before),
        _row(words["pg_w_after"].format(i=i, j=j), after, f"{float(after)!r}  ({_rule(words, tr)})"),
        _row(words["pg_x"].format(i=i, s=s), x),
        _row(words["pg_contribution"].format(i=i, j=j, s=s), x * before, f"{float(x)!r} * {float(before)!r}"),
    ]
    return {"title": words["pg_edge_title"].format(i=i, j=j, **where), "rows": rows, "lang": lang}
