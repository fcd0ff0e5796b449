"""Every Keras hook, in Keras's order, with Keras's logs: fit (with validation), evaluate and predict
run the same recording callback in glassnet and in Keras 3, on the same weights, and the lists of
calls are compared; then the Keras 2 aliases (on_batch_begin/on_batch_end) and the hooks of the
glassnet-only paths."""
import numpy as np
import pytest

import glassnet as gn

WITH_INDEX = ["on_epoch_begin", "on_epoch_end", "on_train_batch_begin", "on_train_batch_end",
              "on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end"]
WITHOUT_INDEX = ["on_train_begin", "on_train_end", "on_test_begin", "on_test_end", "on_predict_begin",
                 "on_predict_end"]


def _plain(logs):
    """Logs as comparable values: numbers as floats, arrays as float64 arrays."""
    if logs is None:
        return None
    return {k: (np.asarray(v, dtype=np.float64) if k == "outputs" else float(v)) for k, v in logs.items()}


def recording(base):
    """A subclass of `base` (glassnet's or Keras's Callback) that records every hook it gets."""
    def with_index(name):
        def hook(self, index, logs=None):
            self.calls.append((name, index, _plain(logs)))
        return hook

    def without_index(name):
        def hook(self, logs=None):
            self.calls.append((name, None, _plain(logs)))
        return hook

    body = {"__init__": lambda self: (base.__init__(self), setattr(self, "calls", []))[0]}
    body.update({name: with_index(name) for name in WITH_INDEX})
    body.update({name: without_index(name) for name in WITHOUT_INDEX})
    return type("Recording", (base,), body)


def old_style(base):
    """A Keras 2 style callback: only on_batch_begin and on_batch_end."""
    def hook(name):
        def method(self, batch, logs=None):
            self.calls.append((name, batch, sorted(logs or {})))
        return method
    body = {"__init__": lambda self: (base.__init__(self), setattr(self, "calls", []))[0],
            "on_batch_begin": hook("on_batch_begin"), "on_batch_end": hook("on_batch_end")}
    return type("OldStyle", (base,), body)


def _data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(10, 3)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.float32)
    return x, y


def _pair(keras):
    rng = np.random.default_rng(4)
    weights = [rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=4).astype(np.float32),
               rng.normal(size=(4, 1)).astype(np.float32), rng.normal(size=1).astype(np.float32)]
    ours = gn.Sequential([gn.layers.Dense(4, activation="tanh", input_shape=(3,)),
                          gn.layers.Dense(1, activation="sigmoid")])
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
                               keras.layers.Dense(1, activation="sigmoid")])
    for model, optimizers in ((ours, gn.optimizers), (theirs, keras.optimizers)):
        model.set_weights(weights)
        model.compile(optimizer=optimizers.SGD(learning_rate=0.1), loss="binary_crossentropy", metrics=["accuracy"])
    return ours, theirs


def _assert_same_calls(ours, theirs):
    assert [(name, index, None if logs is None else sorted(logs)) for name, index, logs in ours] == \
        [(name, index, None if logs is None else sorted(logs)) for name, index, logs in theirs]
    for (name, index, a), (_, _, b) in zip(ours, theirs):
        for key in a or {}:
            np.testing.assert_allclose(a[key], b[key], rtol=2e-5, atol=1e-6, err_msg=f"{name}({index}) {key}")


def test_fit_with_validation_calls_the_hooks_keras_calls_with_keras_logs(keras):
    x, y = _data()
    ours, theirs = _pair(keras)
    mine, twin = recording(gn.callbacks.Callback)(), recording(keras.callbacks.Callback)()
    ours.fit(x, y, batch_size=4, epochs=2, shuffle=False, validation_data=(x[:5], y[:5]), callbacks=[mine],
             verbose=0, doctor=False)
    theirs.fit(x, y, batch_size=4, epochs=2, shuffle=False, validation_data=(x[:5], y[:5]), callbacks=[twin],
               verbose=0)
    _assert_same_calls(mine.calls, twin.calls)
    names = [name for name, _, _ in mine.calls]
    assert names.count("on_test_batch_begin") == 4 and names.count("on_train_batch_end") == 6
    assert mine.calls[-1][0] == "on_train_end" and "val_loss" in mine.calls[-1][2]    # the last epoch's logs


def test_evaluate_calls_every_test_hook_as_keras(keras):
    x, y = _data()
    ours, theirs = _pair(keras)
    mine, twin = recording(gn.callbacks.Callback)(), recording(keras.callbacks.Callback)()
    a = ours.evaluate(x, y, batch_size=4, callbacks=[mine], verbose=0)
    b = theirs.evaluate(x, y, batch_size=4, callbacks=[twin], verbose=0)
    np.testing.assert_allclose(a, b, rtol=1e-5)
    _assert_same_calls(mine.calls, twin.calls)
    assert [name for name, _, _ in mine.calls][:3] == ["on_test_begin", "on_test_batch_begin", "on_test_batch_end"]


def test_predict_calls_every_predict_hook_with_the_batch_outputs_as_keras(keras):
    x, _ = _data()
    ours, theirs = _pair(keras)
    mine, twin = recording(gn.callbacks.Callback)(), recording(keras.callbacks.Callback)()
    out = ours.predict(x, batch_size=4, callbacks=[mine])
    theirs.predict(x, batch_size=4, callbacks=[twin], verbose=0)
    _assert_same_calls(mine.calls, twin.calls)
    batches = [logs["outputs"] for name, _, logs in mine.calls if name == "on_predict_batch_end"]
    np.testing.assert_array_equal(np.concatenate(batches), out)     # each batch's rows of the result


def test_keras_2_batch_hooks_are_called_for_training_batches_only_as_keras(keras):
    x, y = _data()
    ours, theirs = _pair(keras)
    mine, twin = old_style(gn.callbacks.Callback)(), old_style(keras.callbacks.Callback)()
    for model, cb, extra in ((ours, mine, {"doctor": False}), (theirs, twin, {})):
        model.fit(x, y, batch_size=4, epochs=2, validation_split=0.3, callbacks=[cb], verbose=0, **extra)
        model.evaluate(x, y, batch_size=4, callbacks=[cb], verbose=0)
        model.predict(x, batch_size=4, callbacks=[cb], verbose=0)
    assert mine.calls == twin.calls
    assert mine.calls[:2] == [("on_batch_begin", 0, []), ("on_batch_end", 0, ["accuracy", "loss"])]
    assert len(mine.calls) == 2 * 2 * 2          # 7 training samples in batches of 4: 2 batches, 2 epochs


def test_a_subclass_defining_on_batch_end_is_called_after_every_training_batch():
    """The issue's silent fault: such a callback was never called."""
    x, y = _data()
    seen = []

    class Counter(gn.callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append((batch, round(logs["loss"], 6)))

    model = gn.Sequential([gn.layers.Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    history = model.fit(x, y, batch_size=3, epochs=2, callbacks=[Counter()], verbose=0)
    assert [b for b, _ in seen] == [0, 1, 2, 3] * 2
    assert seen[3][1] == round(history.history["loss"][0], 6)       # the last batch's running mean is the epoch's


def test_overriding_on_train_batch_end_replaces_the_alias_as_in_keras():
    """Keras's base on_train_batch_end calls on_batch_end; a subclass that overrides it (without super())
    gets on_train_batch_end only."""
    x, y = _data()
    calls = []

    class Both(gn.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            calls.append("train")

        def on_batch_end(self, batch, logs=None):
            calls.append("alias")

    model = gn.Sequential([gn.layers.Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    model.fit(x, y, batch_size=5, epochs=1, callbacks=[Both()], verbose=0)
    assert calls == ["train", "train"]


def test_evaluate_calls_on_test_batch_begin_and_includes_the_penalty_in_batch_logs():
    x, y = _data()
    seen = []

    class Recorder(gn.callbacks.Callback):
        def on_test_batch_begin(self, batch, logs=None):
            seen.append(("begin", batch, logs))

        def on_test_batch_end(self, batch, logs=None):
            seen.append(("end", batch, logs["loss"]))

        def on_test_end(self, logs=None):
            seen.append(("done", None, logs["loss"]))

    model = gn.Sequential([gn.layers.Dense(1, activation="sigmoid", input_shape=(3,),
                                           kernel_regularizer=gn.regularizers.L2(0.5))])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    loss = model.evaluate(x, y, batch_size=10, callbacks=[Recorder()], verbose=0)
    assert seen[0] == ("begin", 0, {})
    assert seen[1][2] == pytest.approx(loss) and seen[2][2] == pytest.approx(loss)  # one batch: its logs are the result
    penalty = 0.5 * float(np.sum(model.layers[0].params["W"].astype(np.float64) ** 2))
    unregularized = model.evaluate(x, y, verbose=0) - penalty
    assert 0 < unregularized < loss


def test_callbacks_in_evaluate_and_predict_get_the_model_and_keras_params():
    x, y = _data()
    got = {}

    class Params(gn.callbacks.Callback):
        def on_test_begin(self, logs=None):
            got["test"] = (self.model, dict(self.params))

        def on_predict_begin(self, logs=None):
            got["predict"] = (self.model, dict(self.params))

    model = gn.Sequential([gn.layers.Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    model.evaluate(x, y, batch_size=4, callbacks=[Params()], verbose=0)
    model.predict(x, batch_size=3, callbacks=[Params()])
    assert got["test"] == (model, {"epochs": 1, "steps": 3, "verbose": 0})
    assert got["predict"] == (model, {"epochs": 1, "steps": 4, "verbose": 0})
    with pytest.raises(TypeError, match="callbacks must be glassnet Callback objects, got function"):
        model.predict(x, callbacks=[lambda *a: None])
    with pytest.raises(TypeError, match="callbacks must be glassnet Callback objects"):
        model.evaluate(x, y, callbacks=["early"], verbose=0)


def test_predict_hooks_of_a_model_with_two_outputs_get_both_outputs():
    i = gn.Input(shape=(3,))
    h = gn.layers.Dense(4, activation="relu")(i)
    model = gn.Model(i, [gn.layers.Dense(2, activation="softmax", name="a")(h), gn.layers.Dense(1, name="b")(h)])
    batches = []

    class Outputs(gn.callbacks.Callback):
        def on_predict_batch_end(self, batch, logs=None):
            batches.append(logs["outputs"])

    x, _ = _data()
    out = model.predict(x, batch_size=6, callbacks=[Outputs()])
    assert len(batches) == 2 and all(isinstance(b, list) and len(b) == 2 for b in batches)
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), out[0])
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), out[1])
