"""Keras-style layers of your own (add_weight and call) are refused with the reason: glassnet's own
layers define forward and backward (glassnet.layers.base), since it has no automatic differentiation."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import layers


def test_a_keras_style_layer_of_your_own_is_refused_with_the_reason():
    """Keras's custom layers (add_weight in build, call) need automatic differentiation; glassnet's
    layers of your own define forward and backward instead, and the error says so."""
    class Linear(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 2), initializer="random_normal")

        def call(self, inputs):
            return inputs @ self.w

    with pytest.raises(NotImplementedError, match="Linear calls add_weight: .*forward.*backward.*automatic "
                                                  "differentiation"):
        Linear()(gn.Input((4,)))

    class Doubled(layers.Layer):
        def call(self, inputs):
            return 2 * inputs

    with pytest.raises(NotImplementedError, match=r"Doubled defines no forward\(x, training\)"):
        Doubled()(np.ones((2, 3)))
