"""mnist_mini: real handwritten digits that work offline.

The official MNIST test split (10,000 digits, LeCun, Cortes and Burges; the
checksums were verified when it was added) ships inside glassnet.  It is split
deterministically: every fifth image (index % 5 == 4) is a test image, the rest
train, so both halves mix the split's two writer populations.

    (x_train, y_train), (x_test, y_test) = gn.datasets.mnist_mini.load_data()
    # x_train: (8000, 28, 28) uint8, y_train: (8000,) uint8; x_test: (2000, 28, 28), y_test: (2000,)
"""
from __future__ import annotations

import os

import numpy as np

from .idx import read_idx_pair

DATA_DIR = os.path.join(os.path.dirname(__file__), "data")
IMAGES = "t10k-images-idx3-ubyte.gz"
LABELS = "t10k-labels-idx1-ubyte.gz"


def load_data():
    """((x_train, y_train), (x_test, y_test)): 8,000 and 2,000 uint8 images of shape (28, 28)."""
    x, y = read_idx_pair(os.path.join(DATA_DIR, IMAGES), os.path.join(DATA_DIR, LABELS))
    if x.shape != (10000, 28, 28) or y.shape != (10000,):
        raise ValueError(f"bundled MNIST files have shapes {x.shape} and {y.shape}, "
                         f"expected (10000, 28, 28) and (10000,)")
    test = np.arange(len(x)) % 5 == 4
    return (x[~test], y[~test]), (x[test], y[test])
