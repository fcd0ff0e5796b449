"""keras.backend.clear_session (and keras.utils.clear_session): after it, Keras 3 names a new model's
layers from "dense" again; glassnet numbers names inside each model, so its names are Keras's
after clear_session, with or without the call.  Like Keras's, it keeps floatx and the seeded
random stream."""
import gc

import numpy as np
import pytest

import glassnet as gn

pytestmark = pytest.mark.usefixtures("isolated_random_state")


def _names(lib):
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(4), lib.layers.Dropout(0.1), lib.layers.Dense(1)])
    return [layer.name for layer in model.layers]


def test_layer_names_after_clear_session_are_keras_3s(keras):
    _names(keras)
    keras.backend.clear_session()
    theirs = _names(keras)
    gn.backend.clear_session()
    assert _names(gn) == theirs == ["dense", "dropout", "dense_1"]
    keras.utils.clear_session(free_memory=False)
    gn.utils.clear_session(free_memory=False)
    assert _names(gn) == _names(keras)


def test_clear_session_keeps_the_float_type_and_the_seeded_stream():
    gn.set_floatx("float64")
    try:
        gn.backend.clear_session()
        assert gn.backend.floatx() == "float64"
    finally:
        gn.set_floatx("float32")
    gn.utils.set_random_seed(5)
    first = gn.Sequential([gn.Input((3,)), gn.layers.Dense(2)]).get_weights()[0]
    gn.utils.set_random_seed(5)
    gn.utils.clear_session()
    again = gn.Sequential([gn.Input((3,)), gn.layers.Dense(2)]).get_weights()[0]
    np.testing.assert_array_equal(first, again)


def test_free_memory_runs_the_garbage_collector(monkeypatch):
    calls = []
    monkeypatch.setattr(gc, "collect", lambda *args: calls.append(args) or 0)
    gn.backend.clear_session(free_memory=False)
    assert calls == []
    gn.backend.clear_session()
    assert calls == [()]
    assert gn.utils.clear_session is gn.backend.clear_session
