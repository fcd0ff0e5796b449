"""SpatialDropout2D: whole channels of a sample dropped while training, kept ones scaled by 1 / (1 - rate), the
identity at inference; backward with the same mask; its generator seeded like Dropout's and kept in .glassnet
files, so a reloaded model draws the same masks next; gradient_check holds its masks fixed; the errors."""
import numpy as np
import pytest

import glassnet as gn

L = gn.layers
pytestmark = pytest.mark.usefixtures("isolated_random_state")


def test_whole_channels_are_dropped_and_kept_ones_scaled():
    rate = 0.4
    x = np.random.default_rng(0).normal(size=(50, 3, 4, 20)) + 5.0          # no zeros of its own
    layer = L.SpatialDropout2D(rate, seed=1, dtype="float64")
    y = layer.forward(x, training=True)
    zero = (y == 0).reshape(50, 12, 20)
    assert np.all(zero == zero[:, :1, :]), "a channel was dropped only in part"
    np.testing.assert_allclose(y[y != 0], x[y != 0] / (1 - rate), rtol=1e-15)
    kept = ~zero[:, 0, :]
    dropped = 1 - np.mean(kept)                                            # 1000 channels: sd of the mean 0.015
    assert abs(dropped - rate) < 0.06, f"dropped {dropped:.3f} of the channels, asked for {rate}"
    assert len({tuple(row) for row in kept}) > 40, "every sample should get its own mask"
    dy = np.random.default_rng(2).normal(size=y.shape)
    np.testing.assert_allclose(layer.backward(dy), dy * (y != 0) / (1 - rate), rtol=1e-15)


def test_backward_uses_the_forward_mask_exactly():
    x = np.random.default_rng(3).normal(size=(4, 2, 2, 6)) + 5.0
    layer = L.SpatialDropout2D(0.5, seed=4, dtype="float64")
    y = layer.forward(x, training=True)
    dy = np.random.default_rng(5).normal(size=y.shape)
    mask = (y != 0) * 2.0
    np.testing.assert_array_equal(layer.backward(dy), dy * mask)


def test_inference_and_rate_zero_are_the_identity():
    x = np.random.default_rng(6).normal(size=(3, 4, 4, 2))
    for layer, training in ((L.SpatialDropout2D(0.5, dtype="float64"), False),
                            (L.SpatialDropout2D(0.0, dtype="float64"), True)):
        assert np.array_equal(layer.forward(x, training=training), x)
        dy = np.ones_like(x)
        assert np.array_equal(layer.backward(dy), dy)


def test_float32_stays_float32():
    x = np.ones((2, 3, 3, 4), dtype=np.float32)
    layer = L.SpatialDropout2D(0.25, seed=0)
    y = layer.forward(x, training=True)
    assert y.dtype == np.float32 and layer.backward(y).dtype == np.float32
    assert set(np.unique(y)) <= {np.float32(0.0), np.float32(1 / 0.75)}


def test_a_seed_repeats_the_masks():
    x = np.ones((6, 2, 2, 8))
    a, b, c = (L.SpatialDropout2D(0.5, seed=s, dtype="float64") for s in (7, 7, 8))
    masks = [layer.forward(x, training=True) for layer in (a, b, c)]
    assert np.array_equal(masks[0], masks[1]) and not np.array_equal(masks[0], masks[2])
    assert not np.array_equal(a.forward(x, training=True), masks[0]), "each batch draws a new mask"


def _model(seed=0):
    gn.set_random_seed(seed)
    model = gn.Sequential([gn.Input((6, 6, 1)), L.Conv2D(4, 3, activation="relu"), L.SpatialDropout2D(0.5),
                           L.Flatten(), L.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def test_the_generator_state_is_saved_in_glassnet_files(tmp_path):
    """After a save and a load, the next training step draws the same channel masks as the original would."""
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(16, 6, 6, 1)), rng.integers(0, 2, size=16)
    model = _model()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)       # the generator has moved on from its seed
    model.save(tmp_path / "m.glassnet")
    assert "spatial_dropout2d" in gn.saving.read_config(tmp_path / "m.glassnet")["rng_states"]
    loaded = gn.load_model(tmp_path / "m.glassnet")
    assert loaded.layers[1].rng.bit_generator.state == model.layers[1].rng.bit_generator.state
    model.train_on_batch(x[:8], y[:8])
    loaded.train_on_batch(x[:8], y[:8])
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    fresh = _model(seed=1)                                     # other draws give other weights: the test can fail
    fresh.set_weights(gn.load_model(tmp_path / "m.glassnet").get_weights())
    fresh.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    fresh.train_on_batch(x[:8], y[:8])
    assert not all(np.array_equal(a, b) for a, b in zip(model.get_weights(), fresh.get_weights()))


def test_gradient_check_holds_the_masks_fixed():
    model = _model()
    x = np.random.default_rng(9).normal(size=(4, 6, 6, 1))
    result = gn.gradient_check(model, x, np.array([0, 1, 1, 0]))
    assert result.passed, str(result)


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_config_and_shape_agree_with_keras(keras):
    ours, theirs = L.SpatialDropout2D(0.3, seed=2), keras.layers.SpatialDropout2D(0.3, seed=2)
    assert ours.compute_output_shape((None, 5, 5, 3)) == tuple(theirs.compute_output_shape((None, 5, 5, 3)))
    for key in ("rate", "seed", "data_format"):
        assert ours.get_config()[key] == theirs.get_config()[key]
    x = np.ones((2, 5, 5, 3), dtype=np.float32)
    assert np.array_equal(ours.forward(x), keras.ops.convert_to_numpy(theirs(x)))       # inference: identity


@pytest.mark.parametrize("make, message", [
    (lambda: L.SpatialDropout2D(1.0), r"SpatialDropout2D rate must be a number in \[0, 1\), got 1.0"),
    (lambda: L.SpatialDropout2D(-0.1), r"SpatialDropout2D rate must be a number in \[0, 1\), got -0.1"),
    (lambda: L.SpatialDropout2D("0.5"), r"SpatialDropout2D rate must be a number in \[0, 1\), got '0.5'"),
    (lambda: L.SpatialDropout2D(0.5, seed=-1), r"seed must be None or a non-negative integer, got -1"),
    (lambda: L.SpatialDropout2D(0.5, data_format="channels_first"),
     r"SpatialDropout2D reads channels-last images .* got data_format='channels_first'"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_arguments_are_refused_by_name(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_wrong_rank_is_refused_by_name():
    with pytest.raises(ValueError, match=r"SpatialDropout2D expects images of shape \(batch, height, width, channels\)"
                                         r", got inputs of shape \(None, 4, 3\)"):
        L.SpatialDropout2D(0.5).forward(np.zeros((2, 4, 3)), training=True)
