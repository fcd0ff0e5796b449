"""The matmul-only limit (the floor): the time of a step's matrix products alone, at the step's exact shapes.

Every layer with weights is one matrix product.  A Dense layer n_in -> n_out on a batch of B images is
(B, n_in) @ (n_in, n_out); a convolution is the same product on its im2col rows: one row per output
pixel, the pixel's patch as the row (kernel taps x input channels), so Conv2D 32 3x3 on 28x28x1 images
is (B * 26 * 26, 9) @ (9, 32).  A layer is therefore described by (rows per image, inputs per row,
outputs per row) -- bench/configs.py's `matmul_layers` -- and with R = B * rows per image a training
step does these products (m x k times k x n, written (m, k, n)):

    forward, each layer i:          z_i = x_i @ W_i        (R_i, n_in, n_out)
    backward, each layer i:        dW_i = x_i.T @ dz_i     (n_in, R_i, n_out)
    backward, each layer but the first: dx_i = dz_i @ W_i.T   (R_i, n_out, n_in)

(the first layer needs no dL/dx: its input is the data).  Inference does the forward products only.
The limit of an epoch is these products done with np.matmul into preallocated outputs, with the
operands in the layouts a real step has (x.T and W.T are transposed views, as in glassnet and
PyTorch), `steps` times, plus the last, shorter batch.  Nothing else: no bias, activation, loss,
optimizer, batch gathering, and for a convnet no im2col copy, col2im scatter or pooling.  No NumPy
implementation of the step can be faster, except by doing fewer products.
"""
from __future__ import annotations

import time

import numpy as np


def dense_layers(sizes):
    """[(1, n_in, n_out)] of a Dense network with layer widths `sizes` (784, 50, 10): one row per image."""
    return [(1, n_in, n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def step_shapes(layers, batch, training=True):
    """[(m, k, n), ...]: the matmuls of one step on `batch` images, in the order a step does them."""
    shapes = [(batch * rows, n_in, n_out) for rows, n_in, n_out in layers]
    if training:
        for i in range(len(layers) - 1, -1, -1):
            rows, n_in, n_out = layers[i]
            shapes.append((n_in, batch * rows, n_out))            # dW = x.T @ dz
            if i > 0:
                shapes.append((batch * rows, n_out, n_in))        # dx = dz @ W.T
    return shapes


def flops(layers, batch, training=True):
    return sum(2 * m * k * n for m, k, n in step_shapes(layers, batch, training))


class MatmulStep:
    """The operands and outputs of one step's matmuls at batch size `batch`; run() does the products."""

    def __init__(self, layers, batch, training=True, dtype=np.float32, seed=0):
        rng = np.random.default_rng(seed)
        self.calls = []
        xs = [rng.random((batch * rows, n_in), dtype=dtype) for rows, n_in, _ in layers]
        ws = [rng.random((n_in, n_out), dtype=dtype) for _, n_in, n_out in layers]
        for x, w in zip(xs, ws):                                            # forward
            self.calls.append((x, w, np.empty((x.shape[0], w.shape[1]), dtype=dtype)))
        if training:
            dzs = [rng.random((batch * rows, n_out), dtype=dtype) for rows, _, n_out in layers]
            for i in range(len(layers) - 1, -1, -1):                        # backward
                self.calls.append((xs[i].T, dzs[i], np.empty(ws[i].shape, dtype=dtype)))
                if i > 0:
                    self.calls.append((dzs[i], ws[i].T, np.empty(xs[i].shape, dtype=dtype)))

    @property
    def shapes(self):
        return [(a.shape[0], a.shape[1], b.shape[1]) for a, b, _ in self.calls]

    def run(self):
        matmul = np.matmul
        for a, b, out in self.calls:
            matmul(a, b, out=out)


class MatmulEpoch:
    """An epoch of n images in batches of `batch`: the full steps, then the remainder step."""

    def __init__(self, layers, batch, n, training=True, dtype=np.float32):
        self.full_steps, remainder = divmod(n, batch)
        self.step = MatmulStep(layers, batch, training, dtype)
        self.last = MatmulStep(layers, remainder, training, dtype) if remainder else None

    def seconds(self):
        step = self.step.run
        start = time.perf_counter()
        for _ in range(self.full_steps):
            step()
        if self.last is not None:
            self.last.run()
        return time.perf_counter() - start
