"""steps_per_epoch, validation_steps, validation_batch_size, validation_freq and evaluate/predict's steps,
as Keras 3 runs them on arrays: a spy layer records which samples each batch holds, in glassnet and
in Keras, and the records are compared."""
import warnings

import numpy as np
import pytest

import glassnet as gn

X = np.arange(10, dtype=np.float32).reshape(-1, 1)     # each sample is its own index
Y = np.zeros((10, 1), dtype=np.float32)


class Spy(gn.layers.Flatten):
    """Records the sample indices of every batch it sees: (training, [indices])."""
    seen = []

    def forward(self, x, training=False):
        Spy.seen.append((bool(training), [int(v) for v in np.asarray(x)[:, 0]]))
        return super().forward(x, training)


def _marker(base, seen):
    class Marker(base):
        def on_train_begin(self, logs=None):
            seen.clear()

        def on_epoch_begin(self, epoch, logs=None):
            seen.append(("epoch", epoch))

        def on_epoch_end(self, epoch, logs=None):
            seen.append(("end", sorted(logs)))
    return Marker()


def _ours():
    Spy.seen = []
    model = gn.Sequential([Spy(input_shape=(1,)), gn.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model, Spy.seen


def _keras_spy(keras):
    seen = []

    class KerasSpy(keras.layers.Layer):
        def call(self, x, training=None):
            seen.append((bool(training), [int(v) for v in keras.ops.convert_to_numpy(x[:, 0])]))
            return x
    model = keras.Sequential([keras.Input((1,)), KerasSpy(), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model, seen


def _run(model, seen, base, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        extra = {"doctor": False} if isinstance(model, gn.models.Model) else {}
        history = model.fit(X, Y, shuffle=False, verbose=0, callbacks=[_marker(base, seen)], **kwargs, **extra)
    ran_out = sum("ran out of data" in str(w.message) for w in caught)
    return list(seen), sorted((k, len(v)) for k, v in history.history.items()), ran_out


@pytest.mark.parametrize("kwargs", [
    dict(batch_size=3, epochs=4, steps_per_epoch=3),                   # the pass runs out inside epoch 2 and 4
    dict(batch_size=3, epochs=3, steps_per_epoch=2),                   # 4 batches a pass: two epochs each
    dict(epochs=2, steps_per_epoch=3),                                 # no batch_size: ceil(10 / 3) = 4
    dict(batch_size=3, epochs=2, steps_per_epoch=6),                   # more steps than a pass holds
    dict(batch_size=3, epochs=4, steps_per_epoch=3, validation_data=(X, Y), validation_steps=2,
         validation_batch_size=2, validation_freq=2),
    dict(batch_size=4, epochs=3, validation_data=(X, Y), validation_freq=[1, 3], validation_batch_size=3),
    dict(batch_size=4, epochs=2, validation_data=(X, Y), validation_steps=2),     # no batch size: ceil(10 / 2)
])
def test_batches_per_epoch_and_validation_match_keras(keras, kwargs):
    ours, ours_seen = _ours()
    theirs, keras_seen = _keras_spy(keras)
    a = _run(ours, ours_seen, gn.callbacks.Callback, **kwargs)
    b = _run(theirs, keras_seen, keras.callbacks.Callback, **kwargs)
    assert a == b


def test_steps_per_epoch_goes_on_through_one_shuffled_pass_then_draws_a_new_one():
    model, seen = _ours()
    batches = []

    class Batches(gn.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            batches.append(seen[-1][1])

    with pytest.warns(UserWarning, match="ran out of data; the epoch ends after 1 of steps_per_epoch=3"):
        model.fit(X, Y, batch_size=3, epochs=4, steps_per_epoch=3, callbacks=[Batches()], verbose=0, doctor=False)
    assert [len(b) for b in batches] == [3, 3, 3, 1] * 2
    first, second = sum(batches[:4], []), sum(batches[4:], [])
    assert sorted(first) == sorted(second) == list(range(10))     # each pass: every sample once
    assert first != second and first != list(range(10))            # shuffled, and a new order per pass


def test_steps_per_epoch_sets_the_progress_steps_and_the_last_steps_done():
    model, _ = _ours()
    got = []

    class Params(gn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            got.append((self.params["steps"], self.model._steps_done))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, Y, batch_size=3, epochs=2, steps_per_epoch=3, callbacks=[Params()], verbose=0, doctor=False)
    assert got == [(3, 3), (3, 1)]


def test_validation_steps_validate_on_the_first_batches_only():
    model, _ = _ours()
    history = model.fit(X, Y, batch_size=10, epochs=1, validation_data=(X, Y + 1), validation_steps=2,
                        validation_batch_size=3, shuffle=False, verbose=0, doctor=False)
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(X[:6], Y[:6] + 1, verbose=0), rel=1e-6)


def test_evaluate_and_predict_take_keras_steps(keras):
    ours, ours_seen = _ours()
    theirs, keras_seen = _keras_spy(keras)
    theirs.set_weights(ours.get_weights())
    for model, seen in ((ours, ours_seen), (theirs, keras_seen)):
        seen.clear()
        model.evaluate(X, Y + 1, steps=2, verbose=0)
        model.evaluate(X, Y + 1, steps=2, batch_size=3, verbose=0)
        model.predict(X, steps=2, verbose=0)
        model.predict(X, steps=3, batch_size=2, verbose=0)
    assert ours_seen == keras_seen[-len(ours_seen):]
    np.testing.assert_allclose(ours.evaluate(X, Y + 1, steps=2, batch_size=3, verbose=0),
                               theirs.evaluate(X, Y + 1, steps=2, batch_size=3, verbose=0), rtol=1e-6)
    assert ours.predict(X, steps=3, batch_size=2).shape == theirs.predict(X, steps=3, batch_size=2, verbose=0).shape \
        == (6, 1)
    with pytest.warns(UserWarning, match="ran out of data"):
        assert ours.predict(X, steps=5, batch_size=4).shape == (10, 1)


@pytest.mark.parametrize("kwargs, message", [
    (dict(steps_per_epoch=0), "steps_per_epoch must be a positive integer, got 0"),
    (dict(steps_per_epoch=2.5), "steps_per_epoch must be a positive integer, got 2.5"),
    (dict(validation_steps=-1), "validation_steps must be a positive integer"),
    (dict(validation_batch_size=0), "validation_batch_size must be a positive integer"),
    (dict(validation_freq=0), r"validation_freq \(an int, or a list of epochs\) must be a positive integer"),
    (dict(validation_freq="2"), r"validation_freq \(an int, or a list of epochs\) must be a positive integer"),
    (dict(validation_freq=[1, 0]), "each epoch in validation_freq must be a positive integer, got 0"),
])
def test_bad_step_arguments_are_refused(kwargs, message):
    model, _ = _ours()
    with pytest.raises(ValueError, match=message):
        model.fit(X, Y, verbose=0, **kwargs)
    if "steps_per_epoch" in kwargs:
        with pytest.raises(ValueError, match=message.replace("steps_per_epoch", "steps")):
            model.evaluate(X, Y, steps=kwargs["steps_per_epoch"], verbose=0)
