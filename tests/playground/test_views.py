"""state() and points(): heat maps decode to the model's own outputs, the right way up; plain JSON."""
import base64
import json

import numpy as np
import pytest

from glassnet.playground import Session


def decode(heat):
    n = heat["size"]
    u = np.frombuffer(base64.b64decode(heat["data"]), dtype=np.uint8)
    assert u.size == n * n
    return (heat["lo"] + (heat["hi"] - heat["lo"]) * u.astype(np.float64) / 255).reshape(n, n)


def frame_grid(n):
    """Row r is y = 6 - 12 r / (n - 1) (row 0 at the top), column c is x = -6 + 12 c / (n - 1)."""
    r, c = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return np.column_stack([(-6 + 12 * c / (n - 1)).ravel(), (6 - 12 * r / (n - 1)).ravel()])


@pytest.mark.parametrize("values", [
    {"dataset": "moons", "features": ["x", "y", "xy"], "hidden": [5, 3], "n_samples": 80},
    {"dataset": "plane", "hidden": [4], "n_samples": 80},
    {"dataset": "xor", "loss": "sparse_categorical_crossentropy", "hidden": [], "n_samples": 80},
])
def test_heat_maps_decode_to_the_models_outputs(values, isolated_random_state):
    s = Session(values)
    s.train(30)
    state = s.state()
    assert json.loads(json.dumps(state, allow_nan=False)) == state
    # the boundary against model.predict (the model's own forward) on the frame's grid
    g = frame_grid(60)
    cols = {"x": g[:, 0], "y": g[:, 1], "xy": g[:, 0] * g[:, 1]}
    x = np.column_stack([cols[f] for f in s.settings.features])
    out = s.model.predict(x, verbose=0)
    want = (out[:, 1] if out.shape[1] == 2 else out[:, 0]).reshape(60, 60)
    b = state["boundary"]
    got = decode(b)
    assert np.abs(got - want).max() <= (b["hi"] - b["lo"]) / 255 + 1e-12
    if s.settings.task == "classification":
        assert (b["lo"], b["hi"]) == (0.0, 1.0)
    else:
        assert b["lo"] == pytest.approx(want.min()) and b["hi"] == pytest.approx(want.max())
    # each neuron's map: layer 0 the features, then each Dense layer's units, by plain NumPy
    small = frame_grid(20)
    a = np.column_stack([{"x": small[:, 0], "y": small[:, 1], "xy": small[:, 0] * small[:, 1]}[f]
                         for f in s.settings.features])
    layers = [a]
    for layer in s.model.layers:
        W, bias = layer.get_weights()
        z = a @ W + bias
        if layer.activation == "tanh":
            a = np.tanh(z)
        elif layer.activation == "sigmoid":
            a = 1 / (1 + np.exp(-z))
        elif layer.activation == "softmax":
            a = np.exp(z - z.max(1, keepdims=True))
            a /= a.sum(1, keepdims=True)
        else:
            a = z
        layers.append(a)
    assert [len(row) for row in state["neurons"]] == [m.shape[1] for m in layers]
    for maps, values_ in zip(state["neurons"], layers):
        for j, heat in enumerate(maps):
            assert heat["size"] == 20
            step = (heat["hi"] - heat["lo"]) / 255
            assert np.abs(decode(heat) - values_[:, j].reshape(20, 20)).max() <= step / 2 + 1e-12
    assert [np.array(w["W"]).shape for w in state["weights"]] == [w.shape for w in s.weights()[::2]]
    assert all(np.array_equal(np.array(w["b"]), b_) for w, b_ in zip(state["weights"], s.weights()[1::2]))
    assert state["step"] == 30 and state["pass"] == 30 / s.steps_per_pass and state["task"] == s.settings.task
    assert state["history"] == [[30, state["loss"]["train"], state["loss"]["test"]]]


def test_orientation(isolated_random_state):
    s = Session({"features": ["x", "y"]})
    state = s.state()                       # before any step: the features' maps already show the frame
    fx, fy = (decode(h) for h in state["neurons"][0])
    assert fy[0, 0] == 6.0 and fy[-1, 0] == -6.0        # row 0 = top = y +6
    assert fx[0, 0] == -6.0 and fx[0, -1] == 6.0        # column 0 = left = x -6
    assert state["step"] == 0 and state["history"] == [] and state["findings"] == []


def test_points_and_history_cap(isolated_random_state):
    s = Session({"dataset": "plane", "n_samples": 30, "train_fraction": 0.4, "batch_size": 256})
    pts = s.points()
    assert len(pts["train"]) == 12 and len(pts["test"]) == 18
    assert pts["train"][0] == [float(s.data["points"][0, 0]), float(s.data["points"][0, 1]), float(s.data["y"][0])]
    assert isinstance(pts["train"][0][2], float)
    for _ in range(510):
        s.train(1)
    assert len(s.state()["history"]) == 500 and s.state()["history"][-1][0] == 510
    c = Session({"n_samples": 30})
    assert {row[2] for row in c.points()["train"] + c.points()["test"]} == {0, 1}


@pytest.mark.filterwarnings("error::RuntimeWarning")       # the doctor speaks; NumPy stays quiet
def test_broken_numbers_stay_json(isolated_random_state):
    s = Session({"dataset": "plane", "activation": "linear", "hidden": [8, 8], "learning_rate": 10.0})
    s.train(60)
    state = s.state()
    json.dumps(state, allow_nan=False)                  # NaN and inf are sent as null
    assert state["loss"]["train"] is None
    assert "nan_loss" in [f["cause"] for f in state["findings"]]
    numbers = s.numbers("neuron", 1, unit=0)
    json.dumps(numbers, allow_nan=False)
