"""What the Sequential-model and functional-API guides read off a model, checked against Keras 3:
weights and the summary before a model is built, model.inputs / outputs and every layer's output
(feature extraction), get_layer, non_trainable_weights, a layer frozen after the model was built,
layers shared by two models, and default model names inside another model."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.layers import Dense


def _keras_dense_model(keras, frozen=()):
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="relu"),
                              keras.layers.Dense(4, activation="relu"), keras.layers.Dense(3)])
    for i in frozen:
        model.layers[i].trainable = False
    return model


def _same_weights(ours, theirs):
    theirs.set_weights(ours.get_weights())


def test_an_unbuilt_model_has_no_weights_and_prints_keras_3s_unbuilt_table(keras, capsys):
    theirs = keras.Sequential([keras.layers.Dense(2, name="first"), keras.layers.Dense(4, name="second")],
                              name="unbuilt")
    ours = gn.Sequential([Dense(2, name="first"), Dense(4, name="second")], name="unbuilt")
    assert ours.weights == [] == list(theirs.weights)
    assert ours.trainable_weights == [] and ours.non_trainable_weights == []
    capsys.readouterr()
    theirs.summary()
    keras_text = capsys.readouterr().out
    ours.summary(details=False)                  # Keras's table alone (glassnet adds a note after it)
    our_text = capsys.readouterr().out
    assert [line.rstrip() for line in our_text.splitlines()] == [line.rstrip() for line in keras_text.splitlines()]
    with pytest.raises(ValueError, match="has not been built yet"):
        ours.count_params()                          # Keras raises here too
    ours.build((None, 3))
    assert [w.shape for w in ours.weights] == [(3, 2), (2,), (2, 4), (4,)]


def test_a_sequential_models_inputs_outputs_and_every_layers_output(keras):
    ours = gn.Sequential([gn.Input((6,)), Dense(5, activation="relu"), Dense(4, activation="relu", name="middle"),
                          Dense(3)])
    theirs = _keras_dense_model(keras)
    _same_weights(ours, theirs)
    assert [t.shape for t in ours.inputs] == [(None, 6)] and [t.shape for t in ours.outputs] == [(None, 3)]
    ours_x = gn.Model(inputs=ours.inputs, outputs=[layer.output for layer in ours.layers])
    theirs_x = keras.Model(inputs=theirs.inputs, outputs=[layer.output for layer in theirs.layers])
    x = np.random.default_rng(0).normal(size=(7, 6)).astype("float32")
    for a, b in zip(ours_x.predict(x, verbose=0), theirs_x.predict(x, verbose=0)):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)
    middle = gn.Model(inputs=ours.inputs, outputs=ours.get_layer(name="middle").output)
    assert middle.predict(x).shape == (7, 4) and ours.get_layer(index=-1) is ours.layers[-1]
    # pop(): the graph follows the layers, each layer keeps one output
    ours.pop()
    assert [t.shape for t in ours.outputs] == [(None, 4)] and ours.layers[-1].output.shape == (None, 4)


def test_a_sequential_without_an_input_shape_has_no_inputs_yet():
    model = gn.Sequential([Dense(2)])
    with pytest.raises(AttributeError, match="no inputs or outputs yet"):
        model.inputs
    model.build((None, 3))
    assert model.inputs[0].shape == (None, 3)


def test_non_trainable_weights_follow_keras(keras):
    ours = gn.Sequential([gn.Input((6,)), Dense(5, activation="relu"), gn.layers.BatchNormalization(), Dense(3)])
    theirs = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="relu"),
                               keras.layers.BatchNormalization(), keras.layers.Dense(3)])
    ours.layers[0].trainable = False
    theirs.layers[0].trainable = False
    shapes = lambda ws: [tuple(w.shape) for w in ws]                        # noqa: E731
    assert shapes(ours.non_trainable_weights) == shapes(theirs.non_trainable_weights)
    assert shapes(ours.trainable_weights) == shapes(theirs.trainable_weights)


@pytest.mark.parametrize("frozen", [(0, 1), (2,)])
def test_layers_frozen_after_the_model_is_built_stop_training_as_in_keras(keras, frozen, isolated_random_state):
    ours = gn.Sequential([gn.Input((6,)), Dense(5, activation="relu"), Dense(4, activation="relu"), Dense(3)])
    theirs = _keras_dense_model(keras)
    _same_weights(ours, theirs)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(32, 6)).astype("float32"), rng.normal(size=(32, 3)).astype("float32")
    ours.compile(optimizer=gn.optimizers.SGD(0.1), loss="mse")
    ours.fit(x, y, epochs=1, batch_size=32, verbose=0)                       # packed, trained: all trainable
    _same_weights(ours, theirs)
    before = ours.get_weights()
    for i in frozen:
        ours.layers[i].trainable = False
        theirs.layers[i].trainable = False
    ours.compile(optimizer=gn.optimizers.SGD(0.1), loss="mse")
    theirs.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    ours.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    theirs.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    for i, (b, a, k) in enumerate(zip(before, ours.get_weights(), theirs.get_weights())):
        assert np.array_equal(a, b) == (i // 2 in frozen)
        np.testing.assert_allclose(a, k, rtol=1e-4, atol=1e-5)


def test_layers_shared_by_two_models_train_in_both(isolated_random_state):
    """An encoder inside an autoencoder (the functional guide): training either changes both."""
    gn.set_random_seed(0)
    image = gn.Input((8,))
    code = Dense(3, activation="relu")(image)
    encoder = gn.Model(image, code)
    autoencoder = gn.Model(image, Dense(8)(code))          # packs the encoder's layer into its own buffer
    x = np.random.default_rng(2).normal(size=(40, 8)).astype("float32")
    encoder.compile(optimizer="sgd", loss="mse")
    autoencoder.compile(optimizer="sgd", loss="mse")
    start = encoder.get_weights()[0].copy()
    encoder.fit(x, np.ones((40, 3)), epochs=1, verbose=0)
    after_encoder = autoencoder.get_weights()[0].copy()
    assert not np.array_equal(start, after_encoder)         # the encoder trained what the layer uses
    autoencoder.fit(x, x, epochs=1, verbose=0)
    assert not np.array_equal(after_encoder, encoder.get_weights()[0])
    np.testing.assert_array_equal(encoder.get_weights()[0], autoencoder.get_weights()[0])
    # the encoder's own forward pass agrees with a NumPy one on the current weights
    w, b = encoder.get_weights()
    np.testing.assert_allclose(encoder.predict(x), np.maximum(x @ w + b, 0), rtol=1e-5, atol=1e-6)


def test_default_model_names_are_numbered_inside_another_model():
    def member():
        inputs = gn.Input((4,))
        return gn.Model(inputs, Dense(1)(inputs))

    a, b, c = member(), member(), member()
    inputs = gn.Input((4,))
    ensemble = gn.Model(inputs, gn.layers.average([a(inputs), b(inputs), c(inputs)]))
    assert [a.name, b.name, c.name] == ["functional", "functional_1", "functional_2"]
    x = np.random.default_rng(3).normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(ensemble.predict(x), (a.predict(x) + b.predict(x) + c.predict(x)) / 3, rtol=1e-5)
    named = [gn.Sequential([gn.Input((4,)), Dense(1)], name="same") for _ in range(2)]
    inputs = gn.Input((4,))
    with pytest.raises(ValueError, match="a layer named 'same' is already in this model"):
        gn.Model(inputs, gn.layers.add([named[0](inputs), named[1](inputs)]))
