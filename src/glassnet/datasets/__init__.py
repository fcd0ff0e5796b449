"""Datasets, as keras.datasets, plus toy sets for teaching and helpers to prepare data.

    (x_train, y_train), (x_test, y_test) = gn.datasets.mnist.load_data()          # 60,000 / 10,000 digits
    (x_train, y_train), (x_test, y_test) = gn.datasets.fashion_mnist.load_data()  # Zalando's articles
    (x_train, y_train), (x_test, y_test) = gn.datasets.mnist_mini.load_data()     # bundled, offline, 8,000 / 2,000

    x, y = gn.datasets.toy.make_moons(200, noise=0.1, seed=0)     # also make_circles, make_spirals,
    x, y = gn.datasets.logic_gate("xor")                          # logic_gate, backprop_demo

    y_onehot = gn.datasets.to_categorical(y_train, 10)
    x_tr, x_val, y_tr, y_val = gn.datasets.train_test_split(x, y, test_size=0.2, stratify=True, seed=0)

`mnist` and `fashion_mnist` look for the files in path=, $GLASSNET_DATA, the
user cache, Keras's cache and the system dataset directories, and download
them (SHA-256 verified) when found nowhere; see docs/datasets.md.
"""
from . import fashion_mnist, mnist, mnist_mini, toy, utils
from ._loader import DatasetNotFoundError, cache_dir
from .idx import read_idx, read_idx_pair
from .py_dataset import PyDataset
from .toy import backprop_demo, logic_gate, make_circles, make_moons, make_spirals
from .utils import normalize, standardize, to_categorical, train_test_split

__all__ = ["mnist", "fashion_mnist", "mnist_mini", "toy", "utils", "DatasetNotFoundError", "cache_dir",
           "read_idx", "read_idx_pair", "backprop_demo", "logic_gate", "make_moons", "make_circles",
           "make_spirals", "to_categorical", "train_test_split", "normalize", "standardize", "PyDataset"]
