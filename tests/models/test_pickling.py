"""Pickling models and layers (issue 13): no scratch buffers in the pickle, the same predictions
after unpickling, training that continues as the original's would, and joblib's read-only
memory-mapping (mmap_mode="r") that still predicts and fits."""
import copy
import importlib.util
import pathlib
import pickle

import numpy as np
import pytest

import glassnet as gn

pytestmark = pytest.mark.usefixtures("isolated_random_state")
L = gn.layers
SMALL = 4096          # bytes a pickle may hold beyond its arrays: names, config, optimizer settings


def _contract_cases():
    path = pathlib.Path(__file__).parent.parent / "layers" / "test_contract.py"
    spec = importlib.util.spec_from_file_location("_contract_for_pickling", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CONTRACT = _contract_cases()


def data(n=4000, features=512, classes=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, features), dtype=np.float32), rng.integers(0, classes, n)


def sequential():
    return gn.Sequential([L.Dense(64, activation="relu", input_shape=(512,)), L.Dense(10, activation="softmax")])


def functional():
    inputs = L.Input(shape=(512,))
    a = L.Dense(32, activation="relu")(inputs)
    b = L.Dense(32, activation="tanh")(inputs)
    h = L.Concatenate()([a, b])
    return gn.Model(inputs, L.Dense(10, activation="softmax")(h))


def convnet():
    return gn.Sequential([L.Reshape((16, 32, 1), input_shape=(512,)),
                          L.Conv2D(4, 3, activation="relu"), L.BatchNormalization(),
                          L.MaxPooling2D(2), L.Dropout(0.25, seed=1), L.Flatten(),
                          L.Dense(10, activation="softmax")])


MODELS = {"sequential": sequential, "functional": functional, "convnet": convnet}


def weight_bytes(model):
    return sum(w.nbytes for w in model.weights)


def trained(make, optimizer="sgd", seed=1):
    gn.set_random_seed(seed)
    model = make()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = data(512)
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    return model


@pytest.mark.parametrize("name", MODELS)
def test_the_pickle_after_predict_is_about_the_weights(name):
    gn.set_random_seed(0)
    model = MODELS[name]()
    x, _ = data()
    before = len(pickle.dumps(model))
    model.predict(x, verbose=0)
    after = len(pickle.dumps(model))
    assert after < 2 * weight_bytes(model) + SMALL
    assert after < before + SMALL
    # trained with plain SGD: still only the weights (and small state)
    model = trained(MODELS[name])
    model.predict(x, verbose=0)
    model.evaluate(*data(1000), verbose=0)
    assert len(pickle.dumps(model)) < 2 * weight_bytes(model) + SMALL


def test_adam_state_is_kept_but_not_its_scratch():
    model = trained(sequential, optimizer="adam")
    model.predict(data()[0], verbose=0)
    # the weights, and Adam's m and v: nothing else of weight size
    assert len(pickle.dumps(model)) < 3 * weight_bytes(model) + SMALL
    copy_ = pickle.loads(pickle.dumps(model))
    assert copy_.optimizer.iterations == model.optimizer.iterations
    for mine, theirs in zip(model.optimizer.slots, copy_.optimizer.slots):
        for k in mine:
            np.testing.assert_array_equal(mine[k], theirs[k])


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("name", MODELS)
def test_predictions_and_training_continue_identically(name, optimizer):
    model = trained(MODELS[name], optimizer)
    x, y = data(300, seed=5)
    expected = model.predict(x, verbose=0)
    twin = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(twin.predict(x, verbose=0), expected)           # bit for bit
    np.testing.assert_array_equal(twin.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0))
    for m in (model, twin):
        gn.set_random_seed(7)
        m.fit(x, y, epochs=1, batch_size=32, verbose=0)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(twin.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("name", MODELS)
def test_after_unpickling_the_flat_buffer_is_what_the_layers_use(name):
    model = trained(MODELS[name])
    twin = pickle.loads(pickle.dumps(model))
    x, y = data(200, seed=3)
    before = twin.predict(x, verbose=0)
    twin.fit(x, y, epochs=1, batch_size=50, verbose=0)                 # a step changes what predict uses
    assert not np.array_equal(twin.predict(x, verbose=0), before)
    for layer, key in twin.trainable_entries:
        assert np.shares_memory(layer.params[key], twin._flat_weights)
        assert np.shares_memory(layer.grads[key], twin._flat_grads)
    assert twin.optimizer._variables[0] is twin._flat_weights


@pytest.mark.parametrize("name", MODELS)
def test_deepcopy_gives_an_independent_working_model(name):
    model = trained(MODELS[name])
    x, y = data(200, seed=4)
    clone = copy.deepcopy(model)
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    before = model.get_weights()
    clone.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)                             # the original is untouched


def test_an_unpickled_model_saves_and_loads(tmp_path):
    model = pickle.loads(pickle.dumps(trained(convnet)))
    x, _ = data(64, seed=2)
    path = tmp_path / "m.glassnet"
    model.save(path)
    np.testing.assert_array_equal(gn.load_model(path).predict(x, verbose=0), model.predict(x, verbose=0))


def test_an_unbuilt_model_pickles():
    model = gn.Sequential([L.Dense(3), L.Dense(1)])
    twin = pickle.loads(pickle.dumps(model))
    twin.compile(optimizer="sgd", loss="mse")
    x, _ = data(20, features=4)
    twin.fit(x, x[:, :1], epochs=1, verbose=0)


@pytest.mark.parametrize("name", MODELS)
def test_joblib_memory_mapped_model_predicts_and_fits(name, tmp_path):
    joblib = pytest.importorskip("joblib")
    model = trained(MODELS[name], "adam")
    x, y = data(300, seed=6)
    expected = model.predict(x, verbose=0)
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    loaded = joblib.load(path, mmap_mode="r")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    for m in (model, loaded):
        gn.set_random_seed(3)
        m.fit(x, y, epochs=1, batch_size=32, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_joblib_read_only_arrays_are_made_writable(tmp_path):
    joblib = pytest.importorskip("joblib")
    model = trained(convnet, "adam")
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    loaded = joblib.load(path, mmap_mode="r")
    for layer in loaded.layers:
        for w in list(layer.params.values()) + list(layer.state.values()):
            assert w.flags.writeable
    for slot in loaded.optimizer.slots:
        for v in slot.values():
            assert v.flags.writeable


@pytest.mark.parametrize("c", CONTRACT.LAYERS, ids=[c.id for c in CONTRACT.LAYERS])
def test_every_layer_pickles(c):
    layer, x, _ = CONTRACT.built(c)
    layer.forward(x, training=c.training)
    twin = pickle.loads(pickle.dumps(layer))
    deep = copy.deepcopy(layer)
    assert twin._buffers == {}
    for key in type(layer)._FORWARD_CACHES:
        assert getattr(twin, key, None) is None
    assert twin.get_config() == layer.get_config()
    # the random generators were pickled with their state: all three draw the same from here
    y = layer.forward(x, training=c.training)
    for other in (twin, deep):
        out = other.forward(x, training=c.training)
        if isinstance(y, list):
            for a, b in zip(out, y):
                np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_array_equal(out, y)
            assert other.backward(np.ones_like(y)).shape == np.shape(x)     # the copy trains too


def nested():
    inner = gn.Sequential([L.Dense(16, activation="relu", input_shape=(512,)), L.Dense(8, activation="tanh")])
    return gn.Sequential([inner, L.Dense(10, activation="softmax")])


@pytest.mark.parametrize("make, optimizer", [(nested, "adam"),
                                             (sequential, gn.optimizers.SGD(0.1, momentum=0.9, clipnorm=1.0))])
def test_a_nested_model_and_a_clipping_optimizer_continue_identically(make, optimizer):
    model = trained(make, optimizer)
    x, y = data(200, seed=8)
    twin = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(twin.predict(x, verbose=0), model.predict(x, verbose=0))
    for m in (model, twin):
        gn.set_random_seed(9)
        m.fit(x, y, epochs=1, batch_size=40, verbose=0)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(twin.predict(x, verbose=0), model.predict(x, verbose=0))
    inner = twin.layers[0]
    if isinstance(inner, gn.Sequential):                # the inner model's weights are views of the outer buffer
        for layer, key in inner.trainable_entries:
            assert np.shares_memory(layer.params[key], twin._flat_weights)
        np.testing.assert_array_equal(inner.predict(x, verbose=0), model.layers[0].predict(x, verbose=0))
