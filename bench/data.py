"""The benchmark's data: Fashion-MNIST when it is installed locally, else glassnet's bundled MNIST sample.

Images become float32 rows in [0, 1] (784 numbers), labels int64; every peer
gets the very same arrays.  Nothing is downloaded: the Fashion-MNIST search
runs with GLASSNET_OFFLINE=1 (it finds Debian's dataset-fashion-mnist package
in /usr/share/datasets/fashion-mnist, $GLASSNET_DATA and glassnet's cache).
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

QUICK_TRAIN, QUICK_TEST = 1000, 500
QUICK_CONVNET_TRAIN, QUICK_CONVNET_TEST = 384, 250    # --quick on C5/C6: 3 batches of 128, one batch to predict


@dataclass
class Data:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str

    def head(self, n_train, n_test):
        """The first rows only (a small copy-free view), for warm-up runs."""
        return Data(self.x_train[:n_train], self.y_train[:n_train], self.x_test[:n_test],
                    self.y_test[:n_test], self.name)

    @property
    def nbytes(self):
        return sum(a.nbytes for a in (self.x_train, self.y_train, self.x_test, self.y_test))


@contextmanager
def _offline():
    old = os.environ.get("GLASSNET_OFFLINE")
    os.environ["GLASSNET_OFFLINE"] = "1"
    try:
        yield
    finally:
        if old is None:
            del os.environ["GLASSNET_OFFLINE"]
        else:
            os.environ["GLASSNET_OFFLINE"] = old


def rows(images):
    """uint8 images (n, 28, 28) -> float32 rows (n, 784) in [0, 1], with one full-size array."""
    x = images.reshape(len(images), -1).astype(np.float32)
    x *= np.float32(1 / 255)
    return x


def load(gn, quick=False, images=None):
    """Data for the benchmark; `quick` keeps the first 1,000 training and 500 test images, `images` the first
    that many training images (--images)."""
    note = ""
    try:
        with _offline():
            (x_train, y_train), (x_test, y_test) = gn.datasets.fashion_mnist.load_data()
        name = "Fashion-MNIST (gn.datasets.fashion_mnist.load_data())"
    except (OSError, ValueError) as err:             # DatasetNotFoundError is a FileNotFoundError
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        note = f"; Fashion-MNIST not available: {first}"
        (x_train, y_train), (x_test, y_test) = gn.datasets.mnist_mini.load_data()
        name = "MNIST sample bundled with glassnet (gn.datasets.mnist_mini)" + note
    if quick:
        x_train, y_train = x_train[:QUICK_TRAIN], y_train[:QUICK_TRAIN]
        x_test, y_test = x_test[:QUICK_TEST], y_test[:QUICK_TEST]
        name += ", --quick subset"
    if images is not None and images < len(x_train):
        x_train, y_train = x_train[:images], y_train[:images]
        name += f", its first {images:,} training images (--images)"
    return Data(rows(x_train), y_train.astype(np.int64), rows(x_test), y_test.astype(np.int64), name)
