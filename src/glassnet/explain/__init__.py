"""Traces: one training step of a model, recorded number by number, printed as a table.

    trace = model.trace(x, y)          # one forward / backward / update step of a compiled Sequential
    print(trace)                       # a table for the terminal (English)
    print(trace.to_text(lang="ko"))    # the same in Korean, with the study notes' terms
    trace                              # in a notebook: a Markdown table (trace.to_markdown())

What is recorded, per layer (`trace.layers`, a list of `LayerTrace`):

    forward    x (the layer's input), W and b (before the update), z = xW + b, a = f(z)
    loss       L, the model's loss on the batch (plus any regularisation penalty)
    backward   dL/da, dL/dz, dL/dW, dL/db and dL/dx (what the layer hands back to the one below)
    update     W and b after the optimizer's step, and the change (after - before)

The numbers are the library's own: the trace is `model.train_on_batch(x, y)` with a recorder
(glassnet.models.Recorder) that copies what the model's one step function hands it, so after
`model.trace(x, y)` the weights are exactly those that `model.train_on_batch(x, y)` would give.
With `update=False` nothing is kept: the step runs inside a snapshot of the model (weights,
moving statistics, optimizer state, random generators) that is put back afterwards, and the
trace shows the update the optimizer made.

Sign convention.  The study notes (note 002) write the error of a neuron as
delta = (target - output) * f'(output), for the loss L = 0.5 * sum((output - target)^2):
that is delta = -dL/dz.  The traces show dL/dz (the gradient); `LayerTrace.delta` and
`to_text(deltas=True)` give the notes' delta as well.

`backprop_example()` builds the notes' worked 2-1-2 network (`glassnet explain --example
backprop-2-1-2`).

Convolutional networks: a trace writes one output pixel of each convolution layer out as its sum,
tap by tap (`model.trace(x, y, pixel=(row, column, filter))`), one entry of dL/dW as its sum,
and one window of each pooling layer (pixels.py); `convnet_example()` is the small ConvNet on 8x8
digits that `glassnet explain --model convnet` traces (convnet.py).

The package: trace.py records a step, records.py holds Trace and LayerTrace, pixels.py writes a
convolution's numbers out as sums, render.py (and render_conv.py for convolution and pooling layers)
formats them, words.py has the English and Korean words, examples.py the notes' worked examples,
convnet.py the small ConvNet.
"""
from __future__ import annotations

from .convnet import CONVNET_DEFAULTS, convnet_example, small_digits
from .examples import EXAMPLES, NOTE_002, backprop_example, explain_example
from .pixels import PixelSum, PoolPick, WeightGradientSum
from .records import LayerTrace, Trace
from .trace import trace
from .words import LANGS

__all__ = ["Trace", "LayerTrace", "trace", "EXAMPLES", "NOTE_002", "LANGS", "backprop_example", "explain_example",
           "convnet_example", "small_digits", "CONVNET_DEFAULTS", "PixelSum", "WeightGradientSum", "PoolPick"]
