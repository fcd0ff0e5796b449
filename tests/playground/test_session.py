"""Session: the brief's recipe, written here again with plain glassnet calls, gives the same weights bit for
bit in any chunking; its losses equal a plain NumPy evaluation; building is safe across threads; the doctor."""
import threading

import numpy as np
import pytest

import glassnet as gn
from glassnet.playground import Session, Settings

CASES = [
    {"dataset": "moons", "regularization": "l2", "regularization_rate": 0.01, "batch_size": 7, "n_samples": 60},
    {"dataset": "xor", "optimizer": "adam", "learning_rate": 0.01, "features": ["x", "y", "xy"], "activation": "relu",
     "hidden": [5, 3], "n_samples": 60, "batch_size": 4},
    {"dataset": "plane", "hidden": [3], "optimizer": "momentum", "regularization": "l1", "regularization_rate": 0.003,
     "n_samples": 50, "batch_size": 8, "noise": 0.3},
    {"dataset": "spirals", "loss": "sparse_categorical_crossentropy", "optimizer": "rmsprop",
     "features": ["x", "y", "x2", "y2", "xy", "sinx", "siny"], "initializer": "he_uniform", "n_samples": 60,
     "batch_size": 9, "activation": "swish"},
    {"dataset": "gaussians", "hidden": [], "optimizer": "adagrad", "loss": "mean_squared_error",
     "initializer": "random_normal", "n_samples": 40, "batch_size": 3, "seed": 12345},
]

FEATURE_COLUMNS = {"x": lambda p: p[:, 0], "y": lambda p: p[:, 1], "x2": lambda p: p[:, 0] ** 2,
                   "y2": lambda p: p[:, 1] ** 2, "xy": lambda p: p[:, 0] * p[:, 1],
                   "sinx": lambda p: np.sin(p[:, 0]), "siny": lambda p: np.sin(p[:, 1])}


def recipe(values, steps):
    """The brief's recipe with glassnet's public API only: (model, x_train, y_train, x_test, y_test)."""
    s = {**Settings.from_dict({}).to_dict(), **values}
    if s["dataset"] == "plane" and "loss" not in values:
        s["loss"] = "mean_squared_error"
    gn.set_random_seed(s["seed"])
    points, y = gn.datasets.toy.make_2d(s["dataset"], s["n_samples"], noise=s["noise"], seed=s["seed"])
    y = y.astype(np.float64 if s["dataset"] == "plane" else np.int64)
    x = np.column_stack([FEATURE_COLUMNS[f](points) for f in s["features"]])
    n_train = min(max(round(s["n_samples"] * s["train_fraction"]), 1), s["n_samples"] - 1)
    x_train, y_train, x_test, y_test = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
    init = gn.initializers.RandomNormal(stddev=0.01) if s["initializer"] == "random_normal" else s["initializer"]
    rate = s["regularization_rate"]

    def reg():                                          # a new regularizer object per layer
        return {"none": None, "l1": gn.regularizers.L1(rate), "l2": gn.regularizers.L2(rate)}[s["regularization"]]

    layers = [gn.layers.Dense(u, activation=s["activation"], kernel_initializer=init, kernel_regularizer=reg(),
                              dtype="float64") for u in s["hidden"]]
    if s["dataset"] == "plane":
        out = (1, "linear")
    elif s["loss"] == "sparse_categorical_crossentropy":
        out = (2, "softmax")
    else:
        out = (1, "sigmoid")
    layers.append(gn.layers.Dense(out[0], activation=out[1], kernel_initializer=init, kernel_regularizer=reg(),
                                  dtype="float64"))
    model = gn.Sequential(layers)
    lr = s["learning_rate"]
    opt = {"sgd": lambda: gn.optimizers.SGD(learning_rate=lr),
           "momentum": lambda: gn.optimizers.SGD(learning_rate=lr, momentum=0.9),
           "rmsprop": lambda: gn.optimizers.RMSprop(learning_rate=lr),
           "adagrad": lambda: gn.optimizers.Adagrad(learning_rate=lr),
           "adam": lambda: gn.optimizers.Adam(learning_rate=lr)}[s["optimizer"]]()
    model.compile(optimizer=opt, loss=s["loss"])
    model.build((None, x.shape[1]))
    order_rng = np.random.default_rng(s["seed"])
    b = s["batch_size"]
    per_pass = -(-n_train // b)
    for step in range(steps):
        k = step % per_pass
        if k == 0:
            order = order_rng.permutation(n_train)
        idx = order[k * b:(k + 1) * b]
        model.train_on_batch(x_train[idx], y_train[idx])
    return model, x_train, y_train, x_test, y_test


def numpy_loss(model, loss, x, y, regularization, rate):
    """model.evaluate's loss by plain float64 NumPy: mean data loss + the penalty."""
    a = x
    acts = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0), "linear": lambda z: z,
            "swish": lambda z: z / (1 + np.exp(-z)), "sigmoid": lambda z: 1 / (1 + np.exp(-z))}
    penalty = 0.0
    for layer in model.layers:
        W, b = layer.get_weights()
        z = a @ W + b
        if regularization != "none":
            penalty += rate * (np.abs(W).sum() if regularization == "l1" else (W ** 2).sum())
        a = np.exp(z - z.max(1, keepdims=True)) / np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True) \
            if layer.activation == "softmax" else acts[layer.activation](z)
    if loss == "binary_crossentropy":
        p, t = a[:, 0], y
        data = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    elif loss == "sparse_categorical_crossentropy":
        data = -np.mean(np.log(a[np.arange(len(y)), y]))
    elif loss == "mean_squared_error":
        data = np.mean((a[:, 0] - y) ** 2)
    else:
        data = np.mean(np.abs(a[:, 0] - y))
    return data + penalty


@pytest.mark.parametrize("values", CASES, ids=lambda v: f"{v['dataset']}-{v.get('optimizer', 'sgd')}")
def test_chunks_equal_the_recipe_bit_for_bit(values, isolated_random_state):
    model, x_train, y_train, x_test, y_test = recipe(values, 11)
    chunked = Session(Settings.from_dict(values))
    for n in (3, 1, 7):
        chunked.train(n)
    whole = Session(values)
    whole.train(11)
    assert chunked.step == whole.step == 11
    for w_ref, w_a, w_b in zip(model.get_weights(), chunked.weights(), whole.weights(), strict=True):
        assert np.array_equal(w_ref, w_a) and np.array_equal(w_ref, w_b)
    # the history: one point per call, the whole sets' losses after it
    assert [h[0] for h in chunked.history] == [3, 4, 11]
    s = chunked.settings
    train = numpy_loss(model, s.loss, x_train, y_train, s.regularization, s.regularization_rate)
    test = numpy_loss(model, s.loss, x_test, y_test, s.regularization, s.regularization_rate)
    np.testing.assert_allclose(chunked.history[-1][1:], [train, test], rtol=1e-10)
    np.testing.assert_allclose(model.evaluate(x_test, y_test, verbose=0), test, rtol=1e-10)
    # the last step of each call was traced: its batch and its weights after are the model's
    assert chunked.last_trace.x.shape[0] == len(chunked.last_batch)
    assert np.array_equal(chunked.last_trace.layers[-1].weights_after["W"], chunked.weights()[-2])


def test_steps_argument(isolated_random_state):
    s = Session({"n_samples": 40})
    for bad in (0, 1001, 2.0, True, "5"):
        with pytest.raises(ValueError, match=r"steps: an integer from 1 to 1000, got"):
            s.train(bad)
    with pytest.raises(ValueError, match=r"steps: an integer from 1 to 1000, got 1000") as err:
        s.train(10 ** 400)                                  # a JSON number from the page: cut in the message
    assert len(str(err.value)) < 150
    with pytest.raises(TypeError, match="Settings"):
        Session(["moons"])
    with pytest.raises(ValueError, match="hidden: at most 8"):
        Session({"hidden": [1] * 9})


def test_sessions_built_in_threads_match_sessions_built_alone(isolated_random_state):
    seeds = [3, 4]
    alone = [Session({"seed": seed, "hidden": [16, 16, 16]}).weights() for seed in seeds]
    for _ in range(3):
        results, barrier = {}, threading.Barrier(len(seeds))

        def build(seed):
            barrier.wait()
            results[seed] = Session({"seed": seed, "hidden": [16, 16, 16]}).weights()

        threads = [threading.Thread(target=build, args=(seed,)) for seed in seeds]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for seed, ref in zip(seeds, alone):
            assert all(np.array_equal(a, b) for a, b in zip(ref, results[seed], strict=True))


def test_doctor_finds_a_broken_setting_and_not_a_healthy_one(isolated_random_state):
    broken = Session({"activation": "relu", "learning_rate": 10.0})
    for _ in range(3):
        broken.train(100)
    causes = [f["cause"] for f in broken.findings()]
    assert causes and set(causes) <= set(gn.doctor.RULES)
    assert all(isinstance(f["message"], str) and f["cause"] in f["message"] for f in broken.findings())
    healthy = Session({"dataset": "xor", "activation": "tanh", "hidden": [4], "learning_rate": 0.03})
    for _ in range(3):
        healthy.train(100)
    assert healthy.findings() == []
    assert healthy.history[-1][1] < healthy.history[0][1]          # and it learned


def test_package_import_loads_no_server():
    """`import glassnet.playground` gives Settings and Session; serve and export_script load on first use."""
    import subprocess
    import sys
    code = ("import sys, glassnet.playground as p; print(sorted(m for m in sys.modules if m.startswith("
            "'glassnet.playground'))); print(p.Session.__name__, p.Settings.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "server" not in out and "export" not in out and "http" not in out
    assert "Session Settings" in out
    import glassnet.playground as p
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        p.nothing
