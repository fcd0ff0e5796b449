"""Fixtures of the saving tests."""
import os

import pytest


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip(f"the Keras reference tests run Keras on torch, this Keras runs on {keras.backend.backend()}")
    return keras
