"""Pooling layers (Keras's names and arguments): MaxPooling2D, AveragePooling2D, MaxPooling1D,
AveragePooling1D, written with glassnet.convolution's windows and col2im. (The global pooling layers are
in global_pooling.py.)

MaxPooling2D(2) keeps the largest pixel of each 2x2 window of each channel:

    (batch, 26, 26, 32) -> (batch, 13, 13, 32)
    backward: each window's dL/dy goes to the pixel that was the max (the first one on a tie), 0 to the rest

AveragePooling2D(2) keeps each window's mean; backward shares dL/dy equally over the window's pixels
(with padding="same", over its real pixels only: the zeros added at the edge do not count, as in Keras).

Two ways to compute the same numbers:

    the reference, any pool_size, strides and padding: every window is read through
        glassnet.convolution.windows (a strided view, no copy) and reduced; backward puts each window's
        gradient in place and folds the windows back onto the image with col2im (overlaps add up).
    windows side by side (strides == pool_size, padding="valid": MaxPooling2D(2), the common case):
        the image, cut to a whole number of windows (an odd last row or column is dropped, as Keras
        floors), is reshaped to (batch, out_h, pool_h, out_w, pool_w, channels) without a copy, and the
        window's pixels ("taps") are visited one at a time across many samples at once:
            forward   y = tap 0, then y = max(y, tap t); wins[t] = tap t > y so far (a later tap wins
                      only when strictly larger: the first max keeps a tie, as in the reference)
            backward  from the last tap back: tap t gets dL/dy where wins[t] and no later tap won
        a few passes over memory instead of an argmax over gathered windows, made slice by slice of the
        batch (CHUNK_BYTES) so that the passes over one slice find it in the cache.
    the same, compiled (glassnet/_conv_kernels.py: max_pool, max_unpool, average_pool, average_unpool):
        inside a model, float32, with numba installed (glassnet.backend.kernel hands the kernels out), one
        pass each way: forward keeps each window's max and the index of its first winning pixel, backward
        writes every pixel of dL/dx once (dL/dy at the winner, 0 elsewhere). 4-6x faster than the NumPy
        passes on MaxPooling2D(2) at batch 128; the same numbers bit for bit.
layer.tiled = False sends the common case through the reference too; the tests hold the three against each other
and against torch.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from .. import convolution as _conv
from .._registry import register
from .base import Layer

#: the fast path works through the batch in slices of about this many bytes of input (a few samples), so
#: that its passes over one slice (a compare and a max per tap forward, a multiply and a subtract backward)
#: find it in the CPU's cache instead of streaming the whole batch from memory each time; a batch of at most
#: WHOLE_BYTES runs in one piece. Measured on MaxPooling2D(2) at batch 128: (26, 26, 32) images (11 MB) ran
#: about 30 % faster in 1 MB slices than whole, (11, 11, 64) images (4 MB) as fast or faster whole
CHUNK_BYTES = 1 << 20
WHOLE_BYTES = 4 << 20


class _Pooling(Layer):
    """Max or average pooling over windows of `rank` spatial axes (see the module doc)."""

    rank = 2
    kind = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.pool_size = _conv.normalize_tuple(pool_size, self.rank, f"{name} pool_size")
        self.strides = _conv.normalize_tuple(self.pool_size if strides is None else strides, self.rank,
                                             f"{name} strides")
        self.padding = _conv.check_padding(padding, _conv.PADDINGS, f"{name} padding")
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{name} reads channels-last inputs (data_format='channels_last'), got "
                             f"data_format={data_format!r}")
        self.geometry = None
        self._x_shape = self._index = self._wins = self._x = self._argmax = None
        self._prefer_tiles = True
        self._compiled = False       # the last forward ran the compiled kernel

    def _feature_dims(self):
        return (("height", "width") if self.rank == 2 else ("steps",)) + ("channels",)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            want = "(batch, height, width, channels)" if self.rank == 2 else "(batch, steps, channels)"
            raise ValueError(f"{type(self).__name__} expects inputs of shape {want}, got inputs of shape "
                             f"{input_shape}")
        spatial = input_shape[1:-1]
        if self.padding == "valid" and any(p > n for p, n in zip(self.pool_size, spatial)):
            raise ValueError(f"{type(self).__name__} pool_size {self.pool_size} is larger than the inputs' spatial "
                             f"shape {tuple(spatial)} with padding='valid': no window fits (use padding='same' or "
                             f"a smaller pool)")
        self.geometry = _conv.Geometry(spatial, self.pool_size, self.strides, self.padding)
        super().build(input_shape)

    @property
    def tiled(self):
        """True when the windows lie side by side (strides == pool_size, padding='valid'), so the fast path
        runs; set it to False to send them through the reference path instead."""
        return self._prefer_tiles and self.strides == self.pool_size and self.padding == "valid"

    @tiled.setter
    def tiled(self, value):
        self._prefer_tiles = bool(value)

    def compute_output_shape(self, input_shape):
        g = self.geometry or _conv.Geometry(input_shape[1:-1], self.pool_size, self.strides, self.padding)
        return (input_shape[0],) + g.out + (input_shape[-1],)

    def _windows(self, x, fill):
        """Every window of x: (batch, *out, taps, channels), the padding filled with `fill`."""
        g = self.geometry
        if any(a or b for a, b in g.pads):
            x = np.pad(x, ((0, 0),) + g.pads + ((0, 0),), constant_values=fill)
        view = _conv.windows(x, g)
        return view.reshape(view.shape[:1 + g.rank] + (g.taps, x.shape[-1]))

    def _tiles(self, x):
        """x (batch, *spatial, channels) cut to whole windows and seen as (batch, out_1, pool_1, ..., channels)."""
        g = self.geometry
        cut = x[(slice(None),) + tuple(slice(0, o * p) for o, p in zip(g.out, g.kernel))]
        return cut.reshape((x.shape[0],) + sum(((o, p) for o, p in zip(g.out, g.kernel)), ()) + (x.shape[-1],))

    def _tap(self, tiles, tap):
        """One pixel of every window: (batch, *out, channels), a view of the tiles."""
        return tiles[(slice(None),) + sum(((slice(None), t) for t in tap), ()) + (slice(None),)]

    def forward(self, x, training=False):
        x = self._check_input(np.asarray(x, dtype=self.dtype))
        self._x_shape = x.shape
        self._compiled = False
        if self.tiled:
            if self._kernel(self.kind + "_pool", x) is not None and self._kernel_fits():
                return self._forward_compiled(x, training)
            return self._forward_tiled(x, training)
        return self._forward_windows(x)

    def _kernel(self, name, *arrays):
        """The compiled kernel `name` (glassnet/_conv_kernels.py) for this layer's dtype, used only inside a
        model (self._reuse) and only if `arrays` are C-contiguous and of that dtype; else None: run NumPy."""
        if not self._reuse:
            return None
        dtype = np.dtype(self.dtype)
        if any(a.dtype != dtype or not a.flags.c_contiguous for a in arrays):
            return None
        return backend.kernel(name, dtype)

    def _kernel_fits(self):
        """The kernels' index is a uint8: windows of at most 256 pixels."""
        return self.geometry.taps <= 256

    def _as_2d(self, a):
        """The kernels see 2-D images: a sequence (batch, steps, channels) as (batch, 1, steps, channels)."""
        return a if self.rank == 2 else a.reshape(a.shape[0], 1, a.shape[1], a.shape[2])

    def _kernel_window(self):
        return tuple(self.geometry.kernel) if self.rank == 2 else (1, self.geometry.kernel[0])

    def _forward_compiled(self, x, training):
        g = self.geometry
        out_shape = (x.shape[0],) + g.out + (x.shape[-1],)
        y = self._buffer("y", out_shape, x.dtype)
        kh, kw = self._kernel_window()
        self._wins = None
        self._x = x                          # for a backward after a forward at inference (rare)
        if self.kind == "average":
            self._kernel("average_pool")(self._as_2d(x), self._as_2d(y), kh, kw, x.dtype.type(1.0 / g.taps))
        else:
            self._argmax = self._buffer("argmax", out_shape, np.uint8) if training else None
            self._kernel("max_pool")(self._as_2d(x), self._as_2d(y),
                                     None if self._argmax is None else self._as_2d(self._argmax), kh, kw)
        self._compiled = True
        return y

    def _backward_compiled(self, dy):
        g = self.geometry
        dx = self._buffer("dx", self._x_shape, dy.dtype)
        kh, kw = self._kernel_window()
        if self.kind == "average":
            self._kernel("average_unpool")(self._as_2d(dy), self._as_2d(dx), kh, kw, dy.dtype.type(1.0 / g.taps))
            return dx
        if self._argmax is None:              # the forward pass ran at inference: find the winners now
            self._argmax = np.empty(dy.shape, np.uint8)
            self._kernel("max_pool")(self._as_2d(self._x), self._as_2d(np.empty_like(dy)),
                                     self._as_2d(self._argmax), kh, kw)
        self._kernel("max_unpool")(self._as_2d(dy), self._as_2d(self._argmax), self._as_2d(dx), kh, kw)
        return dx

    def _chunks(self, n, sample_bytes):
        """Slices of the batch of about CHUNK_BYTES each: the tap-by-tap passes over one chunk stay in cache."""
        if n * sample_bytes <= WHOLE_BYTES:            # small enough: slicing would cost more than it saves
            return [slice(None)]
        step = max(1, CHUNK_BYTES // max(1, sample_bytes))
        return [slice(start, start + step) for start in range(0, n, step)]

    def _forward_tiled(self, x, training):
        g = self.geometry
        tiles = self._tiles(x)
        taps = list(np.ndindex(*g.kernel))
        out_shape = (x.shape[0],) + g.out + (x.shape[-1],)
        y = self._buffer("y", out_shape, x.dtype)
        keep = training and self.kind == "max"
        self._x = None if keep else x       # at inference, backward (rare) scans x again for the winners
        self._wins = self._buffer("wins", (len(taps) - 1,) + out_shape, bool) if keep else None
        for rows in self._chunks(x.shape[0], x[0].nbytes):
            self._pool_tiles(tiles[rows], taps, y[rows], None if self._wins is None else self._wins[:, rows])
        return y

    def _pool_tiles(self, tiles, taps, y, wins=None):
        """y = the max (or mean) over the taps; wins[k] = True where tap k + 1 beats every earlier tap."""
        if len(taps) == 1:
            np.copyto(y, self._tap(tiles, taps[0]))
            return y
        if self.kind == "average":
            np.add(self._tap(tiles, taps[0]), self._tap(tiles, taps[1]), out=y)
            for tap in taps[2:]:
                y += self._tap(tiles, tap)
            y *= y.dtype.type(1.0 / len(taps))
            return y
        best = self._tap(tiles, taps[0])
        for k, tap in enumerate(taps[1:]):
            pixel = self._tap(tiles, tap)
            if wins is not None:
                np.greater(pixel, best, out=wins[k])
            best = np.maximum(best, pixel, out=y)
        return y

    def _backward_tiled(self, dy):
        g = self.geometry
        dx = self._buffer("dx", self._x_shape, dy.dtype)
        for axis, (o, p) in enumerate(zip(g.out, g.kernel), start=1):       # an odd last row/column: no gradient
            if o * p < self._x_shape[axis]:
                dx[(slice(None),) * axis + (slice(o * p, None),)] = 0
        tiles = self._tiles(dx)
        taps = list(np.ndindex(*g.kernel))
        if self.kind == "max" and self._wins is None:     # the forward pass ran at inference: find the winners now
            self._wins = np.empty((len(taps) - 1,) + dy.shape, dtype=bool)
            self._pool_tiles(self._tiles(self._x), taps, np.empty_like(dy), self._wins)
        rest = self._buffer("rest", dy.shape, dy.dtype) if self.kind == "max" else None
        for rows in self._chunks(dx.shape[0], dx[0].nbytes):
            self._unpool_tiles(tiles[rows], taps, dy[rows], None if rest is None else self._wins[:, rows],
                               None if rest is None else rest[rows])
        return dx

    def _unpool_tiles(self, tiles, taps, dy, wins, rest):
        """Each tap's dL/dx: dy / taps (average), or, from the last tap back, dy where the tap won and no later
        tap did (max; `rest` holds the gradient not yet taken)."""
        if self.kind == "average":
            share = dy * dy.dtype.type(1.0 / len(taps))
            for tap in taps:
                np.copyto(self._tap(tiles, tap), share)
            return
        if len(taps) == 1:
            np.copyto(self._tap(tiles, taps[0]), dy)
            return
        for k in range(len(taps) - 1, 0, -1):
            pixel = self._tap(tiles, taps[k])
            np.multiply(dy if k == len(taps) - 1 else rest, wins[k - 1], out=pixel)
            np.subtract(dy if k == len(taps) - 1 else rest, pixel, out=self._tap(tiles, taps[0]) if k == 1 else rest)

    def _forward_windows(self, x):
        g = self.geometry
        if self.kind == "max":
            win = self._windows(x, -np.inf)
            self._index = np.argmax(win, axis=-2)[..., None, :]
            return np.take_along_axis(win, self._index, axis=-2)[..., 0, :]
        self._counts = self._windows(np.ones((1,) + g.spatial + (1,), dtype=x.dtype), 0.0).sum(axis=-2)
        return self._windows(x, 0.0).sum(axis=-2) / self._counts

    def backward(self, dy):
        if self._x_shape is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        if not self.need_input_grad:
            return None
        g = self.geometry
        dy = np.asarray(dy, dtype=self.dtype)
        expected = (self._x_shape[0],) + g.out + (self._x_shape[-1],)
        if dy.shape != expected:
            raise ValueError(f"{self._label()} backward expects dy of shape {expected}, got {dy.shape}")
        if self.tiled:
            if self._compiled and self._kernel(self.kind + "_unpool", dy) is not None:
                return self._backward_compiled(dy)
            return self._backward_tiled(dy)
        win = np.zeros(expected[:-1] + (g.taps, expected[-1]), dtype=dy.dtype)
        if self.kind == "max":
            np.put_along_axis(win, self._index, dy[..., None, :], axis=-2)
        else:
            win += (dy / self._counts)[..., None, :]
        return _conv.col2im(win.reshape(-1, g.taps * expected[-1]), self._x_shape, g.kernel, g.strides, g.padding)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": "channels_last"}


@register("layer")
class MaxPooling2D(_Pooling):
    """MaxPooling2D(pool_size=(2, 2), strides=None, padding="valid"): the max of each window."""

    rank, kind = 2, "max"


@register("layer")
class AveragePooling2D(_Pooling):
    """AveragePooling2D(pool_size=(2, 2), strides=None, padding="valid"): the mean of each window."""

    rank, kind = 2, "average"


@register("layer")
class MaxPooling1D(_Pooling):
    """MaxPooling1D(pool_size=2, strides=None, padding="valid") on sequences (batch, steps, channels)."""

    rank, kind = 1, "max"


@register("layer")
class AveragePooling1D(_Pooling):
    """AveragePooling1D(pool_size=2, strides=None, padding="valid") on sequences (batch, steps, channels)."""

    rank, kind = 1, "average"
