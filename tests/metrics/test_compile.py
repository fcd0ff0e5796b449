"""Metric objects and names in compile: fit, evaluate, train_on_batch and test_on_batch report them
as Keras 3 does (same keys, same values from the same weights), accumulated over the epoch and reset
for each epoch and each evaluation; the accuracy fast paths stay as they were."""
import numpy as np
import pytest

import glassnet as gn

pytestmark = [pytest.mark.usefixtures("isolated_random_state"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]


def _binary_data(n=400):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    y = ((x[:, 0] + 0.5 * x[:, 1] + 0.5 * rng.normal(size=n)) > 0).astype(np.float32).reshape(-1, 1)
    return x, y


def _binary_pair(keras, last="sigmoid"):
    gn.set_random_seed(1)
    model = gn.Sequential([gn.layers.Dense(8, activation="relu", input_shape=(6,)), gn.layers.Dense(1, activation=last)])
    twin = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                             keras.layers.Dense(1, activation=last)])
    twin.set_weights(model.get_weights())
    return model, twin


def _binary_metrics(m):
    # Keras numbers default names across the process (precision_14 after 14 others): it gets the name glassnet
    # gives a Precision() by default
    precision = m.Precision() if m is gn.metrics else m.Precision(name="precision")
    return ["accuracy", precision, m.Recall(name="recall"), m.AUC(name="auc"), m.AUC(name="prc", curve="PR"),
            m.BinaryCrossentropy(name="bce"), "mse", m.F1Score(threshold=0.5)]


def test_a_binary_classifier_reports_its_metrics_as_keras_does(keras):
    x, y = _binary_data()
    model, twin = _binary_pair(keras)
    model.compile(optimizer=gn.optimizers.SGD(0.1), loss="binary_crossentropy", metrics=_binary_metrics(gn.metrics))
    twin.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy",
                 metrics=_binary_metrics(keras.metrics))
    ours = model.fit(x, y, epochs=3, batch_size=32, shuffle=False, validation_split=0.25, verbose=0).history
    theirs = twin.fit(x, y, epochs=3, batch_size=32, shuffle=False, validation_split=0.25, verbose=0).history
    assert sorted(ours) == sorted(theirs)
    assert {"precision", "val_auc", "prc", "f1_score"} <= set(ours)
    for key in ours:
        np.testing.assert_allclose(ours[key], np.ravel(theirs[key]), rtol=1e-5, atol=1e-6, err_msg=key)
    assert ours["auc"][2] > ours["auc"][0] + 0.05                         # it learns, and the metrics follow
    flat = lambda values: np.concatenate([np.ravel(v) for v in values])    # Keras's F1Score gives an array of 1
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=50, verbose=0),
                               flat(twin.evaluate(x, y, batch_size=50, verbose=0)), rtol=1e-5, atol=1e-6)
    ours, theirs = model.train_on_batch(x[:64], y[:64], return_dict=True), twin.train_on_batch(x[:64], y[:64],
                                                                                                 return_dict=True)
    assert ours.keys() == theirs.keys()
    np.testing.assert_allclose([ours[k] for k in ours], flat([theirs[k] for k in ours]), rtol=1e-5, atol=1e-6)
    ours, theirs = model.test_on_batch(x[64:128], y[64:128]), twin.test_on_batch(x[64:128], y[64:128])
    np.testing.assert_allclose(ours, flat(theirs), rtol=1e-5, atol=1e-6)


def test_stateful_metrics_restart_each_epoch_and_each_evaluation():
    """With a learning rate of 1e-30 (no float32 weight moves) every epoch sees the same predictions: an
    epoch's true positives are the count over the training samples (not a running total across epochs), validation's over its own."""
    x, y = _binary_data()
    gn.set_random_seed(2)
    model = gn.Sequential([gn.layers.Dense(1, activation="sigmoid", input_shape=(6,))])
    model.compile(optimizer=gn.optimizers.SGD(1e-30), loss="binary_crossentropy",
                  metrics=[gn.metrics.TruePositives(name="tp"), gn.metrics.AUC(name="auc")])
    weights = model.get_weights()
    history = model.fit(x, y, epochs=3, batch_size=32, validation_split=0.25, verbose=0).history
    assert max(np.abs(a - b).max() for a, b in zip(weights, model.get_weights())) < 1e-20
    p = model.predict(x)
    train, val = slice(0, 300), slice(300, 400)
    assert history["tp"] == [float(np.sum((p[train] > 0.5) & (y[train] == 1)))] * 3
    assert history["val_tp"] == [float(np.sum((p[val] > 0.5) & (y[val] == 1)))] * 3
    assert model.evaluate(x[val], y[val], verbose=0, return_dict=True)["tp"] == history["val_tp"][0]
    auc = gn.metrics.AUC()
    auc.update_state(y[train], p[train])
    assert history["auc"] == pytest.approx([float(auc.result())] * 3, abs=1e-12)
    seen = []

    class BatchLogs(gn.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(logs["tp"])

    model.fit(x[train], y[train], epochs=1, batch_size=100, shuffle=False, verbose=0, callbacks=[BatchLogs()])
    by_batch = [float(np.sum((p[:stop] > 0.5) & (y[:stop] == 1))) for stop in (100, 200, 300)]
    assert seen == by_batch                                            # the running count within an epoch


def test_a_multiclass_model_with_top_k_strings_objects_and_the_accuracy_fast_path(keras):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 5)).astype(np.float32)
    labels = (x[:, :3].argmax(axis=1) + (rng.random(300) < 0.3) * rng.integers(0, 7, 300)) % 7
    onehot = np.eye(7, dtype=np.float32)[labels]
    gn.set_random_seed(4)
    model = gn.Sequential([gn.layers.Dense(7, activation="softmax", input_shape=(5,))])
    twin = keras.Sequential([keras.Input((5,)), keras.layers.Dense(7, activation="softmax")])
    twin.set_weights(model.get_weights())
    metrics = lambda m: ["accuracy", "top_k_categorical_accuracy", m.TopKCategoricalAccuracy(k=2, name="top2"),
                         m.Precision(top_k=1, name="p1"), m.CategoricalCrossentropy(name="cce")]
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=metrics(gn.metrics))
    twin.compile(optimizer="adam", loss="categorical_crossentropy", metrics=metrics(keras.metrics))
    ours = model.fit(x, onehot, epochs=2, batch_size=50, shuffle=False, verbose=0).history
    theirs = twin.fit(x, onehot, epochs=2, batch_size=50, shuffle=False, verbose=0).history
    assert sorted(ours) == sorted(theirs)
    for key in ours:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, atol=1e-6, err_msg=key)
    assert [kind for kind, _, _ in model._scorers] == ["argmax_onehot", "outputs", "metric", "metric", "metric"]


def test_metrics_of_a_from_logits_model_read_the_logits_as_keras(keras):
    x, y = _binary_data(200)
    model, twin = _binary_pair(keras, last="linear")
    metrics = lambda m: [m.AUC(from_logits=True, name="auc"), m.Precision(thresholds=0.0, name="p0"),
                         m.BinaryCrossentropy(from_logits=True, name="bce")]
    model.compile(optimizer="sgd", loss=gn.losses.BinaryCrossentropy(from_logits=True), metrics=metrics(gn.metrics))
    twin.compile(optimizer="sgd", loss=keras.losses.BinaryCrossentropy(from_logits=True), metrics=metrics(keras.metrics))
    ours, theirs = model.evaluate(x, y, verbose=0, return_dict=True), twin.evaluate(x, y, verbose=0, return_dict=True)
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert ours[key] == pytest.approx(theirs[key], rel=1e-5, abs=1e-6), key
    assert 0.05 < ours["p0"] < 0.95                      # thresholds 0 on logits (p > 0.5), not on probabilities


def test_several_outputs_take_metric_objects_per_output(keras):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(128, 5)).astype(np.float32)
    ya, yb = (x[:, :1] > 0).astype(np.float32), rng.integers(0, 3, 128)

    def build(m, layers, inputs):
        a = layers.Dense(1, activation="sigmoid", name="a")(inputs)
        b = layers.Dense(3, activation="softmax", name="b")(inputs)
        return m(inputs, [a, b])

    gn.set_random_seed(6)
    model = build(gn.Model, gn.layers, gn.Input(shape=(5,)))
    twin = build(keras.Model, keras.layers, keras.Input(shape=(5,)))
    twin.set_weights(model.get_weights())
    metrics = lambda m: [[m.AUC(name="auc"), "accuracy", m.Precision(name="p")],
                         ["accuracy", m.SparseTopKCategoricalAccuracy(k=2, name="top2")]]
    losses = ["binary_crossentropy", "sparse_categorical_crossentropy"]
    model.compile(optimizer="sgd", loss=losses, metrics=metrics(gn.metrics))
    twin.compile(optimizer="sgd", loss=losses, metrics=metrics(keras.metrics))
    ours = model.evaluate(x, [ya, yb], batch_size=32, verbose=0, return_dict=True)
    theirs = twin.evaluate(x, [ya, yb], batch_size=32, verbose=0, return_dict=True)
    assert ours.keys() == theirs.keys() and "b_top2" in ours and "a_auc" in ours
    for key in ours:
        assert ours[key] == pytest.approx(theirs[key], rel=1e-5, abs=1e-6), key
    # one object for every output (a flat list): each output gets its own copy, with its own state
    shared = gn.metrics.MeanAbsoluteError(name="mae")
    model.compile(optimizer="sgd", loss="mse", metrics=[shared])
    logs = model.evaluate(x, [ya, np.eye(3)[yb]], verbose=0, return_dict=True)
    pa, pb = model.predict(x)
    assert logs["a_mae"] == pytest.approx(np.mean(np.abs(pa - ya)), rel=1e-6)
    assert logs["b_mae"] == pytest.approx(np.mean(np.abs(pb - np.eye(3)[yb])), rel=1e-6)


def test_history_keys_are_names_made_unique_as_keras_makes_them(keras):
    x, y = _binary_data(64)
    model, twin = _binary_pair(keras)
    metrics = lambda m: [m.Precision(name="p"), m.Precision(name="p"), "auc", m.AUC(name="auc"), "mse", "mse"]
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=metrics(gn.metrics))
    twin.compile(optimizer="sgd", loss="binary_crossentropy", metrics=metrics(keras.metrics))
    assert model.metrics_names == ["loss", "p", "p_1", "auc", "auc_1", "mse", "mse_1"]
    assert sorted(model.fit(x, y, verbose=0).history) == sorted(twin.fit(x, y, verbose=0).history)
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=[gn.metrics.Precision(), gn.metrics.Precision()])
    assert model.metrics_names == ["loss", "precision", "precision_1"]     # no counter kept across models


def test_a_metric_that_gives_several_values_is_refused_before_training():
    x, y = _binary_data(32)
    model = gn.Sequential([gn.layers.Dense(3, activation="softmax", input_shape=(6,))])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=[gn.metrics.F1Score()])
    with pytest.raises(ValueError, match=r"'f1_score' \(F1Score\) gives 3 values, one per class.*average='macro'"):
        model.fit(x, y[:, 0].astype(int), verbose=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=[gn.metrics.Precision(thresholds=[0.3, 0.6])])
    with pytest.raises(ValueError, match=r"gives 2 values, one per threshold.*give it one threshold"):
        model.evaluate(x, y[:, 0].astype(int), verbose=0)


def test_a_keras_style_metric_of_your_own_trains_with_the_model():
    class BinaryTruePositives(gn.metrics.Metric):
        def __init__(self, name="binary_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), initializer="zeros", name="true_positives")

        def update_state(self, y_true, y_pred, sample_weight=None):
            hits = (np.asarray(y_true) > 0.5) & (np.asarray(y_pred) > 0.5)
            self.true_positives.assign(self.true_positives + np.sum(hits))

        def result(self):
            return self.true_positives

    x, y = _binary_data(120)
    gn.set_random_seed(7)
    model = gn.Sequential([gn.layers.Dense(1, activation="sigmoid", input_shape=(6,))])
    model.compile(optimizer=gn.optimizers.SGD(1e-30), loss="binary_crossentropy",
                  metrics=[BinaryTruePositives(), gn.metrics.TruePositives()])
    logs = model.fit(x, y, epochs=2, batch_size=16, verbose=0).history
    assert logs["binary_true_positives"] == logs["true_positives"] and logs["true_positives"][0] > 0


def test_the_accuracy_strings_keep_their_fast_paths():
    model = gn.Sequential([gn.layers.Dense(4, activation="softmax", input_shape=(3,))])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", gn.metrics.sparse_categorical_accuracy, gn.metrics.SparseCategoricalAccuracy()])
    model.evaluate(np.zeros((4, 3)), np.zeros(4, dtype=int), verbose=0)
    assert [kind for kind, _, _ in model._scorers] == ["argmax_label", "argmax_label", "metric"]
    assert model._needs_outputs                      # the Metric object reads the probabilities
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.evaluate(np.zeros((4, 3)), np.zeros(4, dtype=int), verbose=0)
    assert not model._needs_outputs                  # accuracy alone: counted on the logits, no probabilities


def test_weighted_metrics_are_named_and_weighted_as_keras(keras):
    x, y = _binary_data(200)
    w = np.random.default_rng(8).random(200).astype(np.float32)
    model, twin = _binary_pair(keras)
    for m, lib in ((model, gn), (twin, keras)):
        m.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy", lib.metrics.AUC(name="auc")],
                  weighted_metrics=["accuracy", lib.metrics.AUC(name="auc"), "mse"])
    assert model.metrics_names == ["loss", "accuracy", "auc", "weighted_accuracy", "weighted_auc", "mse"]
    ours, theirs = model.evaluate(x, y, verbose=0, return_dict=True), twin.evaluate(x, y, verbose=0, return_dict=True)
    assert ours.keys() == theirs.keys()
    for key in ours:                                    # no sample weights: weighted and plain agree
        assert ours[key] == pytest.approx(theirs[key], rel=1e-5, abs=1e-6), key
    # with weights: the running totals fit adds up (models/scoring.py), given each batch's weights
    totals, p = [0.0] * 5, model.predict(x)
    for part in (slice(0, 64), slice(64, 200)):
        for i, score in enumerate(model._scores(y[part], p[part], w[part])):
            totals[i] += score
    ours = model._logs(0.0, totals, 200)
    theirs = twin.evaluate(x, y, sample_weight=w, batch_size=64, verbose=0, return_dict=True)
    for key in ("accuracy", "auc", "weighted_accuracy", "weighted_auc", "mse"):
        assert ours[key] == pytest.approx(theirs[key], rel=1e-5, abs=1e-6), key
    assert ours["weighted_auc"] != pytest.approx(ours["auc"], abs=1e-3)     # the weights did weigh


def test_keras_execution_settings_are_accepted_and_weighted_metrics_need_one_output():
    model = gn.Sequential([gn.layers.Dense(1, input_shape=(2,))])
    model.compile(optimizer="sgd", loss="mse", run_eagerly=True, jit_compile=False, steps_per_execution=4,
                  auto_scale_loss=False)
    with pytest.raises(ValueError, match="steps_per_execution must be a positive integer, got 0"):
        model.compile(optimizer="sgd", loss="mse", steps_per_execution=0)
    inputs = gn.Input(shape=(2,))
    two = gn.Model(inputs, [gn.layers.Dense(1, name="a")(inputs), gn.layers.Dense(1, name="b")(inputs)])
    with pytest.raises(ValueError, match="weighted_metrics are for a model with one output; this one has 2"):
        two.compile(optimizer="sgd", loss="mse", weighted_metrics=["mae"])
    assert not two.compiled
