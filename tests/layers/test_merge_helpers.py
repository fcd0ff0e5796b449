"""Keras's lowercase merge helpers (layers.concatenate, add, subtract, multiply, average, maximum,
minimum): each is its layer class called on the list, in a graph model and on arrays, with the
layer's own arguments; checked against NumPy's closed forms and against Keras 3 itself."""
import numpy as np
import pytest

import glassnet as gn

pytestmark = [pytest.mark.usefixtures("isolated_random_state"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]
L = gn.layers
rng = np.random.default_rng(0)
A, B = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
CLOSED_FORMS = {
    "add": A + B, "subtract": A - B, "multiply": A * B, "average": (A + B) / 2,
    "maximum": np.maximum(A, B), "minimum": np.minimum(A, B), "concatenate": np.concatenate([A, B], axis=-1),
}


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_a_helper_on_arrays_gives_the_closed_form(name):
    out = getattr(L, name)([A, B])
    np.testing.assert_allclose(np.asarray(out), CLOSED_FORMS[name].astype("float32"), rtol=1e-6)


def test_concatenate_takes_the_axis_and_the_layer_arguments():
    a3, b3 = A[:, :, None], B[:, :, None]
    assert np.asarray(L.concatenate([a3, b3], axis=1)).shape == (4, 6, 1)
    x, y = gn.Input((3,)), gn.Input((2,))
    joined = L.concatenate([x, y], name="joined")
    assert joined.shape == (None, 5)
    model = gn.Model([x, y], L.Dense(1)(joined))
    assert isinstance(model.get_layer("joined"), L.Concatenate)
    assert model.get_layer("joined").get_config()["axis"] == -1
    with pytest.raises(TypeError, match="unexpected keyword"):
        L.add([x, x], axes=1)


def test_a_graph_built_with_the_helpers_trains_and_saves(tmp_path):
    a, b = gn.Input((3,), name="a"), gn.Input((3,), name="b")
    mixed = L.concatenate([L.add([a, b]), L.subtract([a, b]), L.multiply([a, b]),
                           L.average([a, b]), L.maximum([a, b]), L.minimum([a, b])])
    model = gn.Model([a, b], L.Dense(1)(mixed))
    assert [type(layer).__name__ for layer in model.layers[2:]] == \
        ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dense"]
    model.compile(optimizer="adam", loss="mse")
    target = (A * B).sum(axis=1, keepdims=True)
    assert gn.gradient_check(model, [A, B], target).passed
    model.save(tmp_path / "merged.glassnet")
    again = gn.load_model(tmp_path / "merged.glassnet")
    np.testing.assert_array_equal(again.predict([A, B], verbose=0), model.predict([A, B], verbose=0))


def test_the_helpers_match_keras(keras):
    def build(lib):
        a, b = lib.Input((3,), name="a"), lib.Input((3,), name="b")
        K = lib.layers
        mixed = K.concatenate([K.add([a, b]), K.subtract([a, b]), K.multiply([a, b]),
                               K.average([a, b]), K.maximum([a, b]), K.minimum([a, b])], name="joined")
        return lib.Model([a, b], K.Dense(2, name="head")(mixed))

    ours, theirs = build(gn), build(keras)
    theirs.get_layer("head").set_weights(ours.get_layer("head").get_weights())
    x = [A.astype("float32"), B.astype("float32")]
    np.testing.assert_allclose(ours.predict(x, verbose=0), np.asarray(theirs.predict(x, verbose=0)), atol=1e-5)
    assert ours.get_layer("joined").output.shape == tuple(theirs.get_layer("joined").output.shape) == (None, 18)
    for name in CLOSED_FORMS:                                      # on arrays, outside a model
        np.testing.assert_allclose(np.asarray(getattr(L, name)(x)),
                                   keras.ops.convert_to_numpy(getattr(keras.layers, name)(x)), atol=1e-6)
