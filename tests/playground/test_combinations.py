"""Every activation with every loss, each optimizer and initializer among them, on the smallest data (20
points, a test set of 2, one batch larger than the training set): each session builds, trains, and its own
forward pass (views.Forward, what the page draws and the losses it reports) agrees with the layers' own
(model.evaluate, model.predict).  And a diverging network stays JSON all the way through the server."""
import itertools
import json

import numpy as np
import pytest

from glassnet.playground import Session
from glassnet.playground import data as playground_data
from glassnet.playground.settings import ACTIVATIONS, CLASSIFICATION_LOSSES, INITIALIZERS, OPTIMIZERS
from glassnet.playground.views import BOUNDARY_SIZE, grid

from playground.server_helpers import Running, new_session, request
from playground.server_helpers import static  # noqa: F401  (fixture)

TASKS = [("circles", loss) for loss in CLASSIFICATION_LOSSES] + [("plane", "mean_squared_error"),
                                                                 ("plane", "mean_absolute_error")]


def combinations():
    """54 settings: each activation with each (data set, loss); optimizer, initializer and regularization
    cycle so that each activation meets every optimizer and each initializer meets several activations."""
    for i, (activation, (dataset, loss)) in enumerate(itertools.product(ACTIVATIONS, TASKS)):
        yield {"dataset": dataset, "activation": activation, "loss": loss, "optimizer": OPTIMIZERS[i % 5],
               "initializer": INITIALIZERS[(i // 5) % 6], "regularization": ("none", "l1", "l2")[i % 3],
               "regularization_rate": 0.01, "n_samples": 20, "train_fraction": 0.9, "batch_size": 256,
               "hidden": [3, 2]}


def test_the_combinations_cover_every_choice():
    seen = list(combinations())
    for key, choices in (("activation", ACTIVATIONS), ("optimizer", OPTIMIZERS), ("initializer", INITIALIZERS)):
        assert {c[key] for c in seen} == set(choices)
    assert {(c["activation"], c["optimizer"]) for c in seen} == set(itertools.product(ACTIVATIONS, OPTIMIZERS))


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_every_combination_trains_and_its_pictures_match_the_layers(isolated_random_state):
    for values in combinations():
        s = Session(values)
        assert (s.n_train, len(s.x_test)) == (18, 2)
        s.train(3)
        step, train_loss, test_loss = s.history[-1]
        evaluated = [s.model.evaluate(x, y, batch_size=len(x), verbose=0)
                     for x, y in ((s.x_train, s.y_train), (s.x_test, s.y_test))]
        assert [train_loss, test_loss] == pytest.approx(evaluated, rel=1e-12, abs=1e-300), values
        points = playground_data.features(grid(BOUNDARY_SIZE), s.settings.features)
        outputs, _ = s._forward.run(points)
        np.testing.assert_allclose(outputs[-1], s.model.predict(points, verbose=0), rtol=1e-12, atol=1e-15)
        state = s.state()
        json.dumps(state, allow_nan=False)
        assert [np.asarray(w["W"]).shape for w in state["weights"]] == [(2, 3), (3, 2), (2, s.model.layers[-1].units)]
        assert len(s.last_batch) == 18                          # the whole training set, one batch per step
        rows = s.numbers("neuron", 3, unit=0, sample=17)["rows"]   # the output neuron: 2 terms, then b, z, ...
        x, W, b = s.last_trace.layers[2].input[17], s.last_trace.layers[2].W, s.last_trace.layers[2].b
        assert [r["value"] for r in rows[:2]] == [x[0] * W[0, 0], x[1] * W[1, 0]]
        assert rows[3]["value"] == pytest.approx(x @ W[:, 0] + b[0], rel=1e-12, abs=1e-15)


def post_strict(run, path, body):
    """(status, answer) read as JSON.parse would: NaN or Infinity in the answer fails the test."""
    status, _, data = request(run, "POST", path, body)
    return status, json.loads(data, parse_constant=lambda name: pytest.fail(f"{name} in the answer of {path}"))


def test_a_diverging_network_is_json_through_the_server(static):     # noqa: F811
    """learning_rate 10, relu, no penalty: the weights overflow to inf and NaN; every answer is still JSON
    that JavaScript's JSON.parse reads (null where a number is not finite)."""
    run = Running(static_dir=static)
    try:
        sid = new_session(run, {"dataset": "plane", "activation": "relu", "hidden": [16, 16], "learning_rate": 10,
                                "optimizer": "momentum", "n_samples": 40})
        for _ in range(3):
            status, answer = post_strict(run, "/api/step", {"session": sid, "steps": 100})
            assert status == 200, answer
        assert answer["state"]["loss"] == {"train": None, "test": None}
        assert None in answer["state"]["weights"][0]["W"][0]
        for body in ({"kind": "neuron", "layer": 2, "unit": 3}, {"kind": "edge", "layer": 3, "source": 1, "target": 0}):
            status, numbers = post_strict(run, "/api/numbers", {"session": sid, **body})
            assert status == 200 and None in [row["value"] for row in numbers["rows"]], numbers
        assert "error in" not in run.log.getvalue()
    finally:
        run.stop()
