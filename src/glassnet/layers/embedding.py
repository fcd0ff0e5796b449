"""Embedding (Keras's name, arguments and defaults): integer ids -> learnt vectors.

    Embedding(input_dim=10_000, output_dim=16)     ids in [0, 10000) -> vectors of 16 numbers

The weight `embeddings` (Keras's name) has shape (input_dim, output_dim); row i is the vector of id i.
A batch of ids of shape (batch, steps) gives (batch, steps, output_dim): y[b, t] = embeddings[x[b, t]].
Backward adds each dL/dy[b, t] into the row of its id (an id seen twice gets both gradients):

    dL/dembeddings[i] = sum of dL/dy[b, t] over the positions where x[b, t] == i

Ids are not differentiable: the layer passes no gradient back to its input.

Ids arrive as integers, or as whole floats: a model converts its inputs to its float type, and every
integer below 2**24 is exact in float32 (2**53 in float64). Each batch is checked: an id that is not a
whole number, or lies outside [0, input_dim), is a ValueError naming it (Keras would fail inside its
backend, or silently truncate 2.7 to 2).
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import _checks
from .. import initializers as _initializers
from .._registry import register
from .base import Layer

#: the largest input_dim whose ids all pass exactly through each float type
_EXACT_IDS = {"float32": 2**24, "float64": 2**53}


@register("layer")
class Embedding(Layer):
    """Embedding(input_dim, output_dim, embeddings_initializer="uniform"): a lookup table of learnt vectors."""

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, weights=None, lora_rank=None, input_length=None,
                 **kwargs):
        if input_length is not None:                       # Keras 2's argument: Keras 3 warns and ignores it
            warnings.warn("Embedding's input_length is deprecated (Keras 3 ignores it); glassnet takes it as "
                          "input_shape=(input_length,)", UserWarning, stacklevel=2)
            kwargs.setdefault("input_shape", (_checks.positive_int(input_length, "Embedding input_length"),))
        super().__init__(**kwargs)
        self.input_dim = _checks.positive_int(input_dim, "Embedding input_dim")
        self.output_dim = _checks.positive_int(output_dim, "Embedding output_dim")
        if self.input_dim > _EXACT_IDS[self.dtype]:
            raise ValueError(f"Embedding input_dim={self.input_dim} is more ids than {self.dtype} holds exactly "
                             f"(2**{_EXACT_IDS[self.dtype].bit_length() - 1}); a model carries ids in its float "
                             f"type: use dtype='float64'")
        if mask_zero:
            raise ValueError("Embedding mask_zero=True is not supported: glassnet has no masks yet, so padding "
                             "id 0 would be averaged in as a token; leave mask_zero=False (id 0 then has a "
                             "vector of its own, learnt like the others)")
        for what, value in (("embeddings_regularizer", embeddings_regularizer),
                            ("embeddings_constraint", embeddings_constraint), ("lora_rank", lora_rank)):
            if value is not None:
                raise ValueError(f"Embedding {what} is not supported by glassnet; got {value!r}: leave it None")
        self.embeddings_initializer = _initializers.get(embeddings_initializer)
        self.mask_zero = False
        self._initial = None
        if weights is not None:                            # Keras: Embedding(..., weights=[matrix]), pretrained vectors
            matrix = np.asarray(weights[0] if isinstance(weights, (list, tuple)) else weights)
            if matrix.shape != (self.input_dim, self.output_dim) or matrix.dtype.kind not in "fiu" \
                    or not np.isfinite(matrix).all():
                raise ValueError(f"Embedding weights must be one finite array of shape ({self.input_dim}, "
                                 f"{self.output_dim}), got {matrix.dtype} of shape {matrix.shape}")
            self._initial = matrix
        self._ids = None
        self._x_shape = None

    embeddings = property(lambda self: self._variable("params", "embeddings", "embeddings"),
                          doc="the table of vectors, (input_dim, output_dim) (a Variable)")

    def build(self, input_shape):
        table = (self.input_dim, self.output_dim)
        if self._initial is not None:
            self.params = {"embeddings": self._initial.astype(self.dtype)}
            self._initial = None
        else:
            self.params = {"embeddings": self.embeddings_initializer(table, self.dtype)}
        self.grads = {"embeddings": np.zeros_like(self.params["embeddings"])}
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def check_input_values(self, x, what="x"):
        """Raise ValueError unless every id in x (the whole data set a model is given, read in slices)
        is a whole number in [0, input_dim); a model calls this before it runs, so that no batch fails
        halfway through an epoch."""
        for start, part in _row_slices(x):
            self._check_ids(part, what, start)

    def _check_ids(self, x, what, first_row=0, where=True):
        """x (an array of numbers) as integer ids, each checked; first_row: x's row 0 in the data it was
        taken from; where=False: do not name a position (a shuffled batch's rows are not the data's)."""
        if x.dtype.kind not in "iuf":
            raise TypeError(f"{self._label()} takes integer ids, got an array of dtype {x.dtype}")
        if x.size == 0:
            return x.astype(np.intp)
        if x.dtype.kind == "f":
            whole = np.isfinite(x) & (x == np.floor(x))
            if not whole.all():
                raise ValueError(f"{self._label()} takes integer ids, but {what} holds {_number(x[~whole].flat[0])}"
                                 f"{_position(~whole, first_row) if where else ''}: ids must be whole numbers "
                                 f"in [0, {self.input_dim})")
        low, high = x.min(), x.max()
        if low < 0 or high >= self.input_dim:
            outside = (x < 0) | (x >= self.input_dim)
            raise ValueError(f"{self._label()} has input_dim={self.input_dim}, so ids must lie in "
                             f"[0, {self.input_dim}); {what} holds the id {_number(x[outside].flat[0])}"
                             f"{_position(outside, first_row) if where else ''}: raise input_dim above the "
                             f"largest id, or map the ids into range")
        return x.astype(np.intp, copy=False)

    def forward(self, x, training=False):
        x = np.asarray(x)
        if x.ndim < 2:
            raise ValueError(f"{self._label()} expects a batch of ids of shape (batch, steps), got shape {x.shape}; "
                             f"for one id per sample pass x.reshape(-1, 1)")
        self._ensure_built(x)
        problem = self._input_mismatch(x)
        if problem:
            raise ValueError(f"{self._label()} expects {problem}")
        # inside a model's fit/evaluate/predict (_reuse) the model checked every id already, and a
        # shuffled batch's rows are not the data's: a failure there names no position
        ids = self._check_ids(x, "a batch of x" if self._reuse else "x", where=not self._reuse)
        self._ids = ids
        self._x_shape = x.shape
        table = self.params["embeddings"]
        out = self._buffer("y", ids.shape + (self.output_dim,))
        return np.take(table, ids, axis=0, out=out)

    def backward(self, dy):
        if self._ids is None:
            raise RuntimeError("Embedding.backward called before forward")
        dy = np.asarray(dy, dtype=self.dtype)
        expected = self._ids.shape + (self.output_dim,)
        if dy.shape != expected:
            raise ValueError(f"{self._label()} backward expects dy of shape {expected}, got {dy.shape}")
        grad = self.grads["embeddings"]
        grad[...] = 0
        np.add.at(grad, self._ids.reshape(-1), dy.reshape(-1, self.output_dim))
        if not self.need_input_grad:
            return None
        return np.zeros(self._x_shape, dtype=self.dtype)          # ids are not differentiable

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": _initializers.serialize(self.embeddings_initializer),
                "mask_zero": self.mask_zero}


def _position(mask, first_row=0):
    """Where the first True of `mask` is, as " at sample 3, position 7"."""
    at = np.argwhere(mask)[0]
    return f" at sample {first_row + at[0]}" + (f", position {', '.join(map(str, at[1:]))}" if len(at) > 1 else "")


def _number(value):
    """A NumPy number as plain Python shows it: 12, 6.5."""
    value = value.item()
    return int(value) if float(value).is_integer() else value


def _row_slices(x, elements=1 << 20):
    """(first row, x[first row: ...]) in slices of about `elements` numbers (a scan of a large or
    memory-mapped x then needs temporaries of one slice only)."""
    rows = max(1, elements // max(1, int(np.prod(x.shape[1:]))))
    for start in range(0, len(x), rows):
        yield start, np.asarray(x[start:start + rows])
