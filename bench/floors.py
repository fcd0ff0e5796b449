"""The baselines of the speed benchmark: the notes' textbook NumPy loop, and the matmul-only limit (the floor).

Each is a Peer (bench/peer_base.py) like the libraries of bench/peers.py, and runs in the same table.
"""
from __future__ import annotations

import time

import numpy as np

from . import configs as C
from . import limit as limit_module
from . import textbook
from .peer_base import Peer, Skip, _c4_images


class TextbookNumpy(Peer):
    key, label = "numpy", "textbook NumPy"
    how = ("bench/textbook.py: the notes' W1, b1, W2, b2 network in plain NumPy (np.dot, sigmoid, softmax, "
           "cross-entropy, backprop, the notes' SGD/Adam classes), new arrays every batch, "
           "one permutation per epoch; the notes' Dense network only (no C5/C6)")

    def check(self):
        return np.__version__

    def supports(self, config):
        return not config.convnet

    def train(self, config, data, epochs, seed):
        net = textbook.TextbookNet(config.sizes, config.activation, seed=seed)
        if config.optimizer == "sgd":
            opt = textbook.SGD(lr=config.learning_rate)
        else:
            opt = textbook.Adam(lr=config.learning_rate, beta1=C.ADAM_BETAS[0], beta2=C.ADAM_BETAS[1],
                                eps=C.ADAM_EPSILON)
        rng = np.random.default_rng(seed)
        times = []
        for _ in range(epochs):
            start = time.perf_counter()
            textbook.train_epoch(net, opt, data.x_train, data.y_train, config.batch, rng)
            times.append(time.perf_counter() - start)
        return times, float(net.accuracy(data.x_test, data.y_test))

    def infer(self, config, data, passes, seed):
        net = textbook.TextbookNet(config.sizes, config.activation, seed=seed)
        x = _c4_images(config, data)
        times = []
        for _ in range(passes):
            start = time.perf_counter()
            textbook.predict_batches(net, x, config.batch)
            times.append(time.perf_counter() - start)
        return times, None


class MatmulLimit(Peer):
    key, label = "limit", "matmul-only limit"
    how = ("bench/limit.py: np.matmul into preallocated outputs at the exact shapes of a step "
           "(forward x@W, backward x.T@dz and dz@W.T but for the first layer), times the steps of an epoch; "
           "C5/C6 (the floor): the same products at the convolutions' im2col shapes (one row per output "
           "pixel, its 3x3 patch as the row), e.g. conv1 (128*26*26, 9)@(9, 32); no im2col, col2im or pooling")

    def check(self):
        return np.__version__

    def train(self, config, data, epochs, seed):
        epoch = limit_module.MatmulEpoch(config.matmul_layers, config.batch, len(data.x_train), training=True)
        return [epoch.seconds() for _ in range(epochs)], None

    def infer(self, config, data, passes, seed):
        epoch = limit_module.MatmulEpoch(config.matmul_layers, config.batch, len(_c4_images(config, data)),
                                         training=False)
        return [epoch.seconds() for _ in range(passes)], None


class MatmulLimitOneThread(MatmulLimit):
    key, label = "limit-1t", "matmul-only limit, 1 thread"
    how = ("the matmul-only limit with NumPy's BLAS limited to 1 thread (threadpoolctl): small products "
           "are often faster without threads; not run when the BLAS already uses 1 thread")

    def check(self):
        try:
            from threadpoolctl import threadpool_info, threadpool_limits
        except ImportError:
            raise Skip("needs threadpoolctl (pip install threadpoolctl)") from None
        threads = [p.get("num_threads") for p in threadpool_info() if p.get("user_api") == "blas"]
        if threads and max(threads) == 1:
            raise Skip("NumPy's BLAS already uses 1 thread: the matmul-only limit row is that")
        self.limits = threadpool_limits
        return np.__version__

    def train(self, config, data, epochs, seed):
        with self.limits(1, user_api="blas"):
            return super().train(config, data, epochs, seed)

    def infer(self, config, data, passes, seed):
        with self.limits(1, user_api="blas"):
            return super().infer(config, data, passes, seed)
