"""Normalization(axis=None) adapted on a flat list of numbers (TF's one-feature regression tutorial):
its mean and variance can be read before a model builds it, as in Keras 3, and it normalises with them."""
import numpy as np
import pytest

import glassnet as gn

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
COLUMN = np.random.default_rng(0).normal(50, 10, 300).astype("float32")


def test_statistics_of_a_flat_list_are_readable_before_the_layer_is_built(keras):
    ours, theirs = gn.layers.Normalization(axis=None), keras.layers.Normalization(axis=None)
    ours.adapt(COLUMN)
    theirs.adapt(COLUMN)
    assert not ours.built and ours.mean.shape == ours.variance.shape == (1,)
    np.testing.assert_allclose(ours.mean.numpy(), keras.ops.convert_to_numpy(theirs.mean), rtol=1e-6)
    np.testing.assert_allclose(ours.variance.numpy(), keras.ops.convert_to_numpy(theirs.variance), rtol=1e-5)
    np.testing.assert_allclose(ours.mean.numpy(), [COLUMN.astype(np.float64).mean()], rtol=1e-6)
    x = np.array([[60.0], [40.0]], dtype="float32")
    np.testing.assert_allclose(np.asarray(ours(x)), keras.ops.convert_to_numpy(theirs(x)), atol=1e-5)
    assert ours.built and ours.mean.shape == (1, 1)         # built for (batch, 1): broadcasts against it


def test_an_unadapted_layer_names_itself_in_the_error():
    with pytest.raises(AttributeError, match="Normalization 'scaler' has no mean yet"):
        gn.layers.Normalization(axis=None, name="scaler").mean
    with pytest.raises(AttributeError, match="^Normalization has no variance yet"):
        gn.layers.Normalization().variance
