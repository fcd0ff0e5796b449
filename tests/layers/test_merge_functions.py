"""Keras's functional merge forms (layers.concatenate, add, ...): the layer called on the list, on
symbolic tensors inside a graph model and on arrays alike; numbers checked against Keras 3."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import layers

FORMS = ["concatenate", "add", "subtract", "multiply", "average", "maximum", "minimum"]


@pytest.mark.parametrize("name", FORMS)
def test_each_form_gives_keras_numbers_on_arrays(keras, name):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=(4, 3)).astype("float32")
    ours = np.asarray(getattr(layers, name)([a, b]))
    theirs = np.asarray(getattr(keras.layers, name)([a, b]))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_a_form_builds_a_graph_model_with_its_arguments():
    x = gn.Input((3,))
    left, right = layers.Dense(2)(x), layers.Dense(4)(x)
    joined = layers.concatenate([left, right], axis=-1, name="joined")
    model = gn.Model(x, joined)
    assert model.get_layer("joined").output_shape == (None, 6)
    data = np.ones((2, 3), dtype="float32")
    np.testing.assert_allclose(model.predict(data), np.concatenate([left._layer(data), right._layer(data)], axis=1),
                               rtol=1e-6)

