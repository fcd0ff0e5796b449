"""What every peer of the speed benchmark shares: the Peer interface, Skip, and the timing helpers.

bench/peers.py holds the library peers (glassnet, PyTorch, scikit-learn, Keras), bench/floors.py the
baselines they are measured against (the textbook NumPy loop and the matmul-only limit).
"""
from __future__ import annotations

import os
import sys
import time

from . import configs as C


class Skip(Exception):
    """The peer cannot run here (its library is missing); the message says why."""


def _import_glassnet():
    try:
        import glassnet
    except ImportError:               # run from a checkout that is not installed
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))
        import glassnet
    return glassnet


def _import(module, pip_name):
    try:
        return __import__(module)
    except ImportError as err:
        raise Skip(f"not installed (pip install {pip_name}; {type(err).__name__}: {err})") from None


def _time_predict(model, x, batch, passes):
    """Seconds of each of `passes` calls of a Keras-style model.predict over x."""
    times = []
    for _ in range(passes):
        start = time.perf_counter()
        model.predict(x, batch_size=batch, verbose=0)
        times.append(time.perf_counter() - start)
    return times


def _c4_images(config, data):
    """The images C4 and C6 predict, as the configuration's network reads them."""
    n = min(C.INFERENCE_IMAGES, len(data.x_test))
    return config.inputs(data.x_test[:n])


class Peer:
    key = ""             # the name --peers takes
    label = ""           # the table's row name
    how = ""             # one line on what exactly runs

    def check(self) -> str:
        raise NotImplementedError

    def supports(self, config) -> bool:
        return True

    def train(self, config, data, epochs, seed):
        raise NotImplementedError

    def infer(self, config, data, passes, seed):
        raise NotImplementedError
