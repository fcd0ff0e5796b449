"""Graph models with several outputs: losses per output, loss_weights, metrics per output, the
History's keys, y and predict as lists or dicts; checked against Keras 3 and central differences."""
import runpy
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet.layers import Dense
from reference import saved_random_state

SCRIPTS = Path(__file__).parent / "scripts"


def _two_heads(dtype="float32", names=("kind", "size")):
    """inputs (4,) -> Dense 8 relu -> a softmax head of 3 and a linear head of 1."""
    inputs = gn.Input(shape=(4,), name="features", dtype=dtype)
    h = Dense(8, activation="relu", name="hidden", dtype=dtype)(inputs)
    kind = Dense(3, activation="softmax", name=names[0], dtype=dtype)(h)
    size = Dense(1, name=names[1], dtype=dtype)(h)
    return inputs, h, kind, size


def _data(n=32, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, 4)).astype(dtype), rng.integers(0, 3, n), rng.normal(size=(n, 1)).astype(dtype))


def _seeded(builder, seed=3):
    with saved_random_state():
        gn.set_random_seed(seed)
        return builder()


# ---------------------------------------------------------------------------- against Keras 3
def _keras_twin(keras, model, outputs_as="list"):
    i = keras.Input(shape=(4,), name="features")
    h = keras.layers.Dense(8, activation="relu", name="hidden")(i)
    kind = keras.layers.Dense(3, activation="softmax", name="kind")(h)
    size = keras.layers.Dense(1, name="size")(h)
    twin = keras.Model(i, {"kind": kind, "size": size} if outputs_as == "dict" else [kind, size])
    twin.set_weights(model.get_weights())
    return twin


def test_one_sgd_step_evaluate_and_history_keys_match_keras(keras):
    inputs, _, kind, size = _seeded(_two_heads)
    model = gn.Model(inputs, [kind, size])
    twin = _keras_twin(keras, model)
    x, labels, sizes = _data()
    settings = dict(loss=["sparse_categorical_crossentropy", "mse"], loss_weights=[1.0, 0.5],
                    metrics=[["accuracy"], ["mae"]])
    model.compile(optimizer=gn.optimizers.SGD(learning_rate=0.1), **settings)
    twin.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), **settings)
    ours, theirs = model.evaluate(x, [labels, sizes], verbose=0), twin.evaluate(x, [labels, sizes], verbose=0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    assert ours[0] == pytest.approx(ours[1] + 0.5 * ours[2], rel=1e-12)   # the weighted sum, unweighted parts
    assert model.evaluate(x, [labels, sizes], verbose=0, return_dict=True).keys() == \
        twin.evaluate(x, [labels, sizes], verbose=0, return_dict=True).keys()
    np.testing.assert_allclose(model.train_on_batch(x, [labels, sizes])[0],
                               twin.train_on_batch(x, [labels, sizes])[0], rtol=1e-5)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
    ours = model.fit(x, [labels, sizes], epochs=1, verbose=0, validation_split=0.25).history
    theirs = twin.fit(x, [labels, sizes], epochs=1, verbose=0, validation_split=0.25).history
    assert sorted(ours) == sorted(theirs)
    assert "size_mae" in ours and "val_kind_accuracy" in ours


def test_dict_outputs_take_dict_targets_and_predict_a_dict_as_keras(keras):
    inputs, _, kind, size = _seeded(_two_heads)
    model = gn.Model(inputs, {"kind": kind, "size": size})
    twin = _keras_twin(keras, model, "dict")
    x, labels, sizes = _data()
    ours, theirs = model.predict(x), twin.predict(x, verbose=0)
    assert isinstance(ours, dict) and sorted(ours) == sorted(theirs) == ["kind", "size"]
    for key in ours:
        np.testing.assert_allclose(ours[key], theirs[key], atol=1e-6)
    settings = dict(loss={"kind": "sparse_categorical_crossentropy", "size": "mse"},
                    loss_weights={"size": 2.0, "kind": 1.0}, metrics={"kind": "accuracy"})
    model.compile(optimizer="sgd", **settings)
    twin.compile(optimizer="sgd", **settings)
    y = {"size": sizes, "kind": labels}
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), twin.evaluate(x, y, verbose=0), rtol=1e-5)
    assert sorted(model.fit(x, y, verbose=0).history) == sorted(twin.fit(x, y, verbose=0).history)


# ---------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("second_loss", ["mse", "binary_crossentropy", "bce_logits"])
def test_weighted_losses_pass_gradient_check_in_float64(second_loss):
    """A fused softmax head, and a sigmoid head (fused), a linear from_logits head or an MSE head."""
    def build():
        i = gn.Input(shape=(4,), dtype="float64")
        h = Dense(6, activation="tanh", dtype="float64")(i)
        a = Dense(3, activation="softmax", name="a", dtype="float64")(h)
        act = "linear" if second_loss == "bce_logits" else "sigmoid" if second_loss != "mse" else "relu"
        b = Dense(2, activation=act, name="b", dtype="float64")(Dense(5, activation="relu", dtype="float64")(h))
        return gn.Model(i, [a, b])
    model = _seeded(build)
    loss = gn.losses.BinaryCrossentropy(from_logits=True) if second_loss == "bce_logits" else second_loss
    model.compile(optimizer="sgd", loss=["sparse_categorical_crossentropy", loss], loss_weights=[0.7, 1.9])
    rng = np.random.default_rng(1)
    x, labels, t = rng.normal(size=(6, 4)), rng.integers(0, 3, 6), rng.uniform(size=(6, 2))
    report = gn.gradient_check(model, x, [labels, t])
    assert max(report.values()) < 1e-6, report


def test_an_output_that_other_layers_read_gets_both_gradients():
    """outputs = {hidden, kind}: 'hidden' feeds 'kind' and has a loss of its own (the step does not
    run its layer: run_forward returns it), so its layer's gradient sums two paths."""
    inputs, h, kind, _ = _seeded(lambda: _two_heads("float64"))
    model = gn.Model(inputs, {"hidden": h, "kind": kind})
    assert [ran for _, ran in model.output_nodes] == [False, True]
    model.compile(optimizer="sgd", loss={"hidden": "mse", "kind": "sparse_categorical_crossentropy"},
                  loss_weights={"hidden": 0.3})
    x, labels, _ = _data(8, np.float64)
    targets = np.random.default_rng(2).uniform(size=(8, 8))
    report = gn.gradient_check(model, x, {"hidden": targets, "kind": labels})
    assert max(report.values()) < 1e-6, report


def test_the_gradient_is_the_weighted_sum_of_each_outputs_gradient():
    inputs, _, kind, size = _seeded(lambda: _two_heads("float64"))
    model = gn.Model(inputs, [kind, size])
    x, labels, sizes = _data(16, np.float64)
    y = [labels, sizes]
    model.compile(optimizer="sgd", loss=["sparse_categorical_crossentropy", "mse"], loss_weights=[0.25, 3.0])
    loss, both = model.compute_gradients(x, y)
    model.compile(optimizer="sgd", loss=["sparse_categorical_crossentropy", None])
    loss_a, only_a = model.compute_gradients(x, [labels, None])
    assert np.all(only_a[4] == 0) and np.all(only_a[5] == 0)      # the size head reaches no loss
    model.compile(optimizer="sgd", loss=[None, "mse"])
    loss_b, only_b = model.compute_gradients(x, [None, sizes])
    assert loss == pytest.approx(0.25 * loss_a + 3.0 * loss_b, rel=1e-12)
    for g, a, b in zip(both, only_a, only_b):
        np.testing.assert_allclose(g, 0.25 * a + 3.0 * b, rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------------------- compile and y
def test_one_loss_and_a_flat_metrics_list_apply_to_every_output():
    inputs, _, kind, size = _seeded(_two_heads)
    model = gn.Model(inputs, [kind, size])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    assert model.metrics_names == ["loss", "kind_loss", "size_loss", "kind_mae", "size_mae"]
    x, labels, sizes = _data()
    onehot = np.eye(3, dtype=np.float32)[labels]
    logs = model.evaluate(x, [onehot, sizes], verbose=0, return_dict=True)
    kind_p, size_p = model.predict(x)
    assert logs["kind_mae"] == pytest.approx(np.abs(kind_p - onehot).mean(), rel=1e-5)
    assert logs["size_loss"] == pytest.approx(np.square(size_p - sizes).mean(), rel=1e-5)
    assert logs["loss"] == pytest.approx(logs["kind_loss"] + logs["size_loss"], rel=1e-6)


def test_only_one_output_with_a_loss_names_no_per_output_loss():
    inputs, _, kind, size = _seeded(_two_heads)
    model = gn.Model(inputs, [kind, size])
    model.compile(optimizer="sgd", loss=[None, "mse"], metrics=[["accuracy"], []])
    assert model.metrics_names == ["loss", "kind_accuracy"]


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(loss=["mse"]), ValueError, r"the model has 2 outputs \(kind, size\): loss must be a list of 2"),
    (dict(loss={"kind": "mse", "sise": "mse"}), ValueError, r"got unknown keys \['sise'\]"),
    (dict(loss=[None, None]), ValueError, "needs a loss for at least one of the outputs"),
    (dict(loss="mse", loss_weights=[1.0, -1.0]), ValueError, "loss_weights must be >= 0"),
    (dict(loss="mse", metrics=[["mae"], ["nope"]]), ValueError, "nope"),
])
def test_bad_compile_arguments_are_refused_by_name(kwargs, error, match):
    inputs, _, kind, size = _seeded(_two_heads)
    model = gn.Model(inputs, [kind, size])
    with pytest.raises(error, match=match):
        model.compile(optimizer="sgd", **kwargs)
    assert not model.compiled


def test_bad_targets_are_refused_by_name():
    inputs, _, kind, size = _seeded(_two_heads)
    model = gn.Model(inputs, [kind, size])
    model.compile(optimizer="sgd", loss=["sparse_categorical_crossentropy", "mse"])
    x, labels, sizes = _data()
    with pytest.raises(ValueError, match=r"the model has 2 outputs \(kind, size\): y must be a list of 2"):
        model.fit(x, labels, verbose=0)
    with pytest.raises(ValueError, match=r"unknown keys \['sizes'\]"):
        model.fit(x, {"kind": labels, "sizes": sizes}, verbose=0)
    with pytest.raises(ValueError, match=r"y\['size'\] is required"):
        model.fit(x, {"kind": labels}, verbose=0)
    with pytest.raises(ValueError, match=r"y\['kind'\]"):
        model.fit(x, [labels + 3, sizes], verbose=0)
    with pytest.raises(ValueError, match="same number of samples"):
        model.fit(x, [labels, sizes[:-1]], verbose=0)


def test_a_model_with_one_output_takes_a_loss_weight_of_one_only():
    model = gn.Sequential([Dense(1, input_shape=(2,))])
    model.compile(optimizer="sgd", loss=["mse"], loss_weights={"dense": 1.0})
    assert model.loss.name == "mean_squared_error"
    with pytest.raises(ValueError, match="loss weight can only be 1, got \\[2.0\\]"):
        model.compile(optimizer="sgd", loss="mse", loss_weights=[2.0])


def test_a_model_with_several_outputs_is_not_a_layer():
    inputs, _, kind, size = _seeded(_two_heads)
    model = gn.Model(inputs, [kind, size])
    with pytest.raises(ValueError, match="has 2 outputs; only a model with one input and one output"):
        model(gn.Input(shape=(4,)))


# ---------------------------------------------------------------------------- files and scripts
def test_save_and_load_keep_the_outputs_losses_weights_metrics_and_optimizer(tmp_path):
    inputs, _, kind, size = _seeded(_two_heads)
    model = gn.Model(inputs, {"kind": kind, "size": size}, name="two_heads")
    model.compile(optimizer="adam", loss={"kind": "sparse_categorical_crossentropy", "size": "mse"},
                  loss_weights={"size": 0.5}, metrics={"kind": ["accuracy"], "size": ["mae"]})
    x, labels, sizes = _data()
    y = {"kind": labels, "size": sizes}
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    model.save(tmp_path / "m.glassnet")
    loaded = gn.load_model(tmp_path / "m.glassnet")
    assert loaded.output_names == ["kind", "size"] and loaded.metrics_names == model.metrics_names
    assert loaded._loss_weights == [1.0, 0.5]
    for key, value in model.predict(x).items():
        np.testing.assert_array_equal(loaded.predict(x)[key], value)
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    for m in (model, loaded):
        m.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_the_digit_and_size_script_learns_both_heads(capsys):
    runpy.run_path(str(SCRIPTS / "digit_and_size.py"), run_name="__main__")
    out = capsys.readouterr().out
    results = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    assert float(results["digit accuracy"]) >= 0.85
    assert float(results["large accuracy"]) >= 0.9
    assert "val_digit_accuracy" in results["history keys"] and "large_loss" in results["history keys"]


def test_a_dict_of_outputs_is_ordered_by_key_as_keras_orders_it(keras):
    inputs, _, kind, size = _seeded(_two_heads)
    model = gn.Model(inputs, {"size": size, "kind": kind})
    twin = _keras_twin(keras, model, "dict")
    assert model.output_names == ["kind", "size"]
    settings = dict(loss={"size": "mse", "kind": "sparse_categorical_crossentropy"}, metrics={"size": ["mae"]})
    model.compile(optimizer="sgd", **settings)
    twin.compile(optimizer="sgd", **settings)
    x, labels, sizes = _data()
    y = {"size": sizes, "kind": labels}
    assert model.metrics_names == ["loss", "size_loss", "kind_loss", "size_mae"]    # the loss dict's order
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), twin.evaluate(x, y, verbose=0), rtol=1e-5)
    with pytest.raises(TypeError, match="keyed by str names"):
        gn.Model(inputs, {1: size})


def test_the_order_of_a_loss_dict_survives_a_glassnet_file(tmp_path):
    inputs, _, kind, size = _seeded(_two_heads)
    model = gn.Model(inputs, {"size": size, "kind": kind})
    model.compile(optimizer="sgd", loss={"size": "mse", "kind": "sparse_categorical_crossentropy"})
    loaded = gn.load_model(model.save(tmp_path / "order.glassnet"))
    assert loaded.metrics_names == model.metrics_names == ["loss", "size_loss", "kind_loss"]
