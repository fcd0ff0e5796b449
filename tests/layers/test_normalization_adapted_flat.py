"""Normalization(axis=None) adapted on a flat list before any model gives it an input: its mean and
variance can be read at once, shaped as Keras 3 shapes them."""
import numpy as np

import glassnet as gn


def test_flat_statistics_read_before_the_layer_is_built_match_keras(keras):
    values = np.array([72.0, 95.0, 150.0, 88.0, 110.0, 46.0], dtype="float32")      # horsepower, say
    ours, theirs = gn.layers.Normalization(axis=None), keras.layers.Normalization(axis=None)
    ours.adapt(values)
    theirs.adapt(values)
    for name in ("mean", "variance"):
        mine, reference = getattr(ours, name), np.asarray(getattr(theirs, name))
        assert mine.shape == reference.shape == (1,)
        np.testing.assert_allclose(mine.numpy(), reference, rtol=1e-6)
    np.testing.assert_allclose(ours.mean.numpy(), [values.mean()], rtol=1e-6)
    np.testing.assert_allclose(ours.variance.numpy(), [values.var()], rtol=1e-6)     # population variance
    assert not ours.built                             # the model that receives it still decides its input
    model = gn.Sequential([gn.Input((1,)), ours])
    column = values.reshape(-1, 1)
    np.testing.assert_allclose(model.predict(column, verbose=0), np.asarray(theirs(column)), rtol=1e-5, atol=1e-6)
