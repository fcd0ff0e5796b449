"""The records of a trace: a Trace of one training step, a LayerTrace per layer."""
from __future__ import annotations

import numpy as np

from . import render


class LayerTrace:
    """What one layer did in the step.  Arrays are copies; None where a quantity does not apply.

    input, output (= a), z            forward (z only for layers with weights, Dense)
    weights / weights_after           {"W": ..., "b": ...} before and after the update
    grad_output (= dL/da)             None when the loss is fused with the activation
    grad_z (= dL/dz)                  the gradient at the weighted sum
    grads                             {"W": dL/dW, "b": dL/db}
    grad_input (= dL/dx)              what goes back to the layer below (None for the first one)

    Convolution and pooling layers (see glassnet.explain.pixels):
    conv / pool                       their sizes (kernel, strides, padding, pads, out, ...), else None
    cols                              im2col(x): one row per output pixel (convolution layers)
    pixel                             a PixelSum: one output pixel's z written out tap by tap
    weight_sum                        a WeightGradientSum: one entry of dL/dW written out
    pool_pixel                        a PoolPick: one output pixel of a pooling layer and its window
    """

    def __init__(self, name, kind, role, activation=None, units=None):
        self.name, self.kind, self.role = name, kind, role
        self.activation, self.units = activation, units
        self.input = self.output = self.z = None
        self.weights: dict[str, np.ndarray] = {}
        self.weights_after: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.grad_output = self.grad_z = self.grad_input = None
        self.fused = False            # the loss took dL/dz straight from the logits
        self.backward_ran = False
        self.trainable = True
        self.conv = self.pool = None            # convolution / pooling sizes (explain.pixels)
        self.cols = self.pixel = self.weight_sum = self.pool_pixel = None
        self.pixel_index = None                 # (sample, *pixel, filter) chosen for this layer
        self.regularizer = None                 # a convolution's kernel regulariser (its gradient joins dL/dW)

    # the textbook names
    x = property(lambda self: self.input)
    a = property(lambda self: self.output)
    W = property(lambda self: self.weights.get("W"))
    b = property(lambda self: self.weights.get("b"))
    W_after = property(lambda self: self.weights_after.get("W"))
    b_after = property(lambda self: self.weights_after.get("b"))
    dL_da = property(lambda self: self.grad_output)
    dL_dz = property(lambda self: self.grad_z)
    dL_dx = property(lambda self: self.grad_input)
    dW = property(lambda self: self.grads.get("W"))
    db = property(lambda self: self.grads.get("b"))

    @property
    def delta(self):
        """The study notes' delta = -dL/dz (note 002: (target - output) * f'(output))."""
        return None if self.grad_z is None else -self.grad_z

    @property
    def update(self) -> dict:
        """{"W": after - before, "b": ...}: what the optimizer changed (or would change)."""
        return {k: self.weights_after[k] - self.weights[k] for k in self.weights if k in self.weights_after}

    def __repr__(self):
        return f"<LayerTrace {self.name!r} ({self.kind}) role={self.role!r}>"


class Trace:
    """One training step of a model, recorded.  `str(trace)` is a table; `to_markdown()` for notebooks.

    Attributes: layers (list of LayerTrace), x, y, loss, outputs, model_name, architecture,
    dtype, loss_name, optimizer_name, learning_rate, applied (was the update applied?).
    `trace["dense"]` or `trace[0]` picks a layer.
    """

    def __init__(self):
        self.layers: list[LayerTrace] = []
        self.x = self.y = None
        self.loss = 0.0
        self.data_loss = 0.0
        self.regularization = 0.0
        self.model_name = ""
        self.architecture = ""
        self.dtype = ""
        self.loss_name = ""
        self.optimizer_name = ""
        self.optimizer_config: dict = {}
        self.learning_rate = None
        self.input_names = self.output_names = None     # models with several inputs / outputs
        self.output_indices = None                       # several outputs: their positions in layers
        self.output_losses: dict = {}                    # several outputs: {name: (loss, weight)}
        self.plain_sgd = False
        self.applied = True
        self.lang = "en"
        self.precision = 4
        self.max_items = 40

    @property
    def outputs(self):
        """The output layer's output; with several outputs, a list of them in output order."""
        if self.output_names:
            return [self.layers[i].output for i in self.output_indices]
        return self.layers[-1].output if self.layers else None

    def __getitem__(self, key):
        if isinstance(key, str):
            for layer in self.layers:
                if layer.name == key:
                    return layer
            raise KeyError(f"no layer named {key!r}; layers: {', '.join(l.name for l in self.layers)}")
        return self.layers[key]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    # -- output --------------------------------------------------------------
    def to_text(self, lang=None, precision="default", max_items=None, deltas=False) -> str:
        """The trace as a table for a terminal.

        lang: "en" or "ko"; precision: significant digits (None: every digit, as repr(float));
        max_items: arrays larger than this are summarised (shape, min, max, mean);
        deltas: also show the notes' delta = -dL/dz.
        """
        lang = lang or self.lang
        items = render.document(self, lang, deltas)
        return render.render_text(items, self._precision(precision), max_items or self.max_items, lang)

    def to_markdown(self, lang=None, precision="default", max_items=None, deltas=False) -> str:
        """The trace as Markdown tables (for notebooks and documents)."""
        lang = lang or self.lang
        items = render.document(self, lang, deltas)
        return render.render_markdown(items, self._precision(precision), max_items or self.max_items, lang)

    def _precision(self, precision):
        precision = self.precision if precision == "default" else precision
        if precision is not None and (isinstance(precision, bool) or not isinstance(precision, (int, np.integer))
                                      or precision < 1):
            raise ValueError(f"precision must be a positive number of significant digits or None, got {precision!r}")
        return precision

    def _repr_markdown_(self):
        return self.to_markdown()

    def __str__(self):
        return self.to_text()

    def __repr__(self):
        return (f"<Trace {self.model_name!r} {self.architecture} loss={self.loss:.6g} "
                f"applied={self.applied} layers={len(self.layers)}>")
