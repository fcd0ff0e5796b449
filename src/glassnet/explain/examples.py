"""The study notes' worked examples: `glassnet explain --example NAME`."""
from __future__ import annotations

import random

import numpy as np

from .. import layers as layers_module
from .. import optimizers
from ..models import Sequential
from .render import _number, _pad, _width
from .trace import trace
from .words import _words

#: The worked examples `glassnet explain --example NAME` knows.
EXAMPLES = ("backprop-2-1-2",)


def backprop_example(learning_rate=0.5):
    """Study note 002's worked network, compiled: (model, x, y).

    initialize_network(2, 1, 2) after random.seed(1): a hidden layer of one sigmoid neuron
    (weights 0.134..., 0.847..., bias 0.763...) and an output layer of two sigmoid neurons;
    input row [1, 0], target [0, 1].  The weights are drawn exactly as the note draws them
    (Python's random, seed 1, each neuron [w_1, ..., w_n, bias]) without touching the global
    random state.  Loss: 'mse', which for one sample and two outputs is the note's
    0.5 * sum((output - target)^2).  float64, SGD with `learning_rate`.
    """
    rng = random.Random(1)

    def neurons(n_inputs, n_neurons):
        drawn = np.array([[rng.random() for _ in range(n_inputs + 1)] for _ in range(n_neurons)])
        return drawn[:, :-1].T.copy(), drawn[:, -1].copy()      # W (in, out), b (out,)

    W1, b1 = neurons(2, 1)
    W2, b2 = neurons(1, 2)
    model = Sequential([
        layers_module.Dense(1, activation="sigmoid", input_shape=(2,), dtype="float64", name="hidden"),
        layers_module.Dense(2, activation="sigmoid", dtype="float64", name="output"),
    ], name="note_002")
    model.set_weights([W1, b1, W2, b2])
    model.compile(optimizer=optimizers.SGD(learning_rate=learning_rate), loss="mse")
    x = np.array([[1.0, 0.0]])
    y = np.array([[0.0, 1.0]])
    return model, x, y


#: what note 002 prints for the worked network (its In [4] and In [6])
NOTE_002 = {
    "hidden_output": [0.7105668883115941],
    "outputs": [0.6629970129852887, 0.7253160725279748],
    "hidden_delta": [-0.002711797799238243],
    "output_deltas": [-0.14813473120687762, 0.05472601157879688],
}


def explain_example(name="backprop-2-1-2", lang="en", markdown=False, precision=None, learning_rate=0.5,
                    update=True):
    """The printout of `glassnet explain --example NAME`: an introduction, the trace (with the notes'
    deltas), and a check of the numbers against the ones the note prints."""
    if name not in EXAMPLES:
        raise ValueError(f"unknown example {name!r}; known examples: {', '.join(EXAMPLES)}")
    w = _words(lang)
    model, x, y = backprop_example(learning_rate)
    tr = trace(model, x, y, update=update, lang=lang, precision=precision)
    hidden, output = tr.layers
    ours = [hidden.output[0], output.output[0], hidden.delta[0], output.delta[0]]
    theirs = [NOTE_002[k] for k in ("hidden_output", "outputs", "hidden_delta", "output_deltas")]
    check = []
    for label, mine, note in zip(w["example_rows"], ours, theirs):
        mine_text = ", ".join(_number(v, None) for v in mine)
        note_text = ", ".join(_number(v, None) for v in note)
        same = "==" if mine_text == note_text else "!="
        check.append((label, mine_text, same, note_text))
    if markdown:
        lines = [f"## {w['example_title']}", "", " ".join(w["example_intro"]), "",
                 tr.to_markdown(lang=lang, precision=precision, deltas=True), f"#### {w['example_check']}", "",
                 f"| | glassnet | | {w['example_printed']} |", "| --- | --- | --- | --- |"]
        lines += [f"| {a} | `{b}` | {c} | `{d}` |" for a, b, c, d in check]
        return "\n".join(lines) + "\n"
    lines = [w["example_title"], "=" * _width(w["example_title"])] + w["example_intro"] + [""]
    lines.append(tr.to_text(lang=lang, precision=precision, deltas=True))
    lines += ["", w["example_check"], "-" * _width(w["example_check"])]
    label_width = max(_width(c[0]) for c in check)
    value_width = max(len(c[1]) for c in check)
    for a, b, c, d in check:
        lines.append(f"  {_pad(a, label_width)}  glassnet {b.ljust(value_width)}  {c}  {w['example_printed']} {d}")
    return "\n".join(lines)
