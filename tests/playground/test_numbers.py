"""The numbers panel: each value checked against a hand computation from the weights before the step and the
batch, and the gradients against float64 central differences of the loss."""
import re

import numpy as np
import pytest

from glassnet.explain.words import _WORDS
from glassnet.playground import Session

SETTINGS = {"dataset": "moons", "hidden": [3], "activation": "tanh", "loss": "binary_crossentropy",
            "regularization": "l2", "regularization_rate": 0.01, "batch_size": 8, "n_samples": 60,
            "learning_rate": 0.1}
H = 1e-6


def batch_loss(W1, b1, W2, b2, x, t, rate, z1=None):
    """The step's loss on the batch, float64: mean binary cross-entropy + rate * sum of squared kernels.
    z1, when given, replaces the hidden layer's weighted sum (to differentiate with respect to it)."""
    z1 = x @ W1 + b1 if z1 is None else z1
    z2 = np.tanh(z1) @ W2 + b2
    p = 1 / (1 + np.exp(-z2[:, 0]))
    return -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p)) + rate * ((W1 ** 2).sum() + (W2 ** 2).sum())


def central(f, a, index):
    plus, minus = a.copy(), a.copy()
    plus[index] += H
    minus[index] -= H
    return (f(plus) - f(minus)) / (2 * H)


@pytest.fixture
def traced(isolated_random_state):
    """A session after 5 steps, the weights then, then one more (traced) step: (session, before, x, t)."""
    s = Session(SETTINGS)
    s.train(5)
    before = s.weights()
    s.train(1)
    x, t = s.x_train[s.last_batch], s.y_train[s.last_batch].astype(np.float64)
    return s, before, x, t


def values(result):
    return [row["value"] for row in result["rows"]]


def test_hidden_neuron(traced):
    s, (W1, b1, W2, b2), x, t = traced
    z1 = x @ W1 + b1
    rate = SETTINGS["regularization_rate"]
    grid = np.array([[central(lambda zz: batch_loss(W1, b1, W2, b2, x, t, rate, z1=zz), z1, (n, j))
                      for j in range(3)] for n in range(len(x))])
    n, j = np.unravel_index(np.argmax(np.abs(grid)), grid.shape)   # the largest dL/dz: a check well above roundoff
    n, j = int(n), int(j)
    out = s.numbers("neuron", layer=1, unit=j, sample=n)
    v = values(out)
    terms = [x[n, i] * W1[i, j] for i in range(2)]
    assert v[:2] == terms                                           # x_i * W_ij, exactly
    assert v[2] == b1[j]
    z = terms[0] + terms[1] + b1[j]
    np.testing.assert_allclose(v[3], z, rtol=1e-13)
    np.testing.assert_allclose(v[4], np.tanh(z), rtol=1e-13)
    np.testing.assert_allclose(v[5], grid[n, j], rtol=1e-5, atol=1e-10)
    assert abs(grid[n, j]) > 1e-4
    db = central(lambda bb: batch_loss(W1, bb, W2, b2, x, t, rate), b1, j)
    np.testing.assert_allclose(v[6], db, rtol=1e-5, atol=1e-10)
    after = s.weights()[1][j]
    assert v[7] == b1[j] and v[8] == after and v[9] == after - b1[j]
    np.testing.assert_allclose(after - b1[j], -SETTINGS["learning_rate"] * db, rtol=1e-6, atol=1e-12)   # plain SGD
    assert "delta" in out["rows"][5]["text"] and str(j) in out["title"] and out["lang"] == "en"


def test_output_neuron_fused_gradient(traced):
    s, (W1, b1, W2, b2), x, t = traced
    v = values(s.numbers("neuron", layer=2, unit=0, sample=1))
    z = np.tanh(x[1] @ W1 + b1) @ W2[:, 0] + b2[0]
    np.testing.assert_allclose(v[-7], z, rtol=1e-13)
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(v[-6], p, rtol=1e-13)
    np.testing.assert_allclose(v[-5], (p - t[1]) / len(t), rtol=1e-10)     # dL/dz of the batch mean


def test_edge(traced):
    s, (W1, b1, W2, b2), x, t = traced
    rate = SETTINGS["regularization_rate"]
    for layer, (i, j) in ((1, (1, 2)), (2, (2, 0))):
        v = values(s.numbers("edge", layer=layer, source=i, target=j, sample=3))
        W = W1 if layer == 1 else W2
        f = (lambda w: batch_loss(w, b1, W2, b2, x, t, rate)) if layer == 1 else \
            (lambda w: batch_loss(W1, b1, w, b2, x, t, rate))
        dw = central(f, W, (i, j))
        after = s.weights()[0 if layer == 1 else 2][i, j]
        assert v[0] == W[i, j]
        np.testing.assert_allclose(v[1], dw, rtol=1e-5, atol=1e-10)          # with the L2 penalty's 2 * rate * W
        assert v[2] == after - W[i, j] and v[3] == after
        x_i = x[3, i] if layer == 1 else np.tanh(x[3] @ W1 + b1)[i]
        np.testing.assert_allclose(v[4], x_i, rtol=1e-13)
        np.testing.assert_allclose(v[5], x_i * W[i, j], rtol=1e-13)


def test_input_neuron(traced):
    s, _, x, _ = traced
    out = s.numbers("neuron", layer=0, unit=1, sample=4)
    assert values(out) == [x[4, 1]]
    assert "y" in out["rows"][0]["label"]


def _template(text):
    """A words.py template as a regex: its {placeholders} match anything."""
    return re.compile("^" + re.sub(r"\\\{[a-z]+\\\}", ".+", re.escape(text)) + "$")


def test_korean_labels_come_from_words(traced):
    s = traced[0]
    templates = [_template(v) for k, v in _WORDS["ko"].items() if k.startswith("pg_")]
    for args in (dict(kind="neuron", layer=1, unit=0), dict(kind="edge", layer=2, source=1, target=0),
                 dict(kind="neuron", layer=0, unit=0)):
        en, ko = s.numbers(**args), s.numbers(**args, lang="ko")
        assert ko["lang"] == "ko" and ko["title"] != en["title"]
        assert values(en) == values(ko)
        for a, b in zip(en["rows"], ko["rows"]):
            assert a["label"] != b["label"]
            assert any(p.match(b["label"]) for p in templates), b["label"]
        assert any(p.match(ko["title"]) for p in templates)
    with pytest.raises(ValueError, match="unknown language"):
        s.numbers("neuron", 1, unit=0, lang="fr")


def test_arguments(traced, isolated_random_state):
    s = traced[0]
    with pytest.raises(ValueError, match=r"unit: an integer from 0 to 2, got 3"):
        s.numbers("neuron", 1, unit=3)
    with pytest.raises(ValueError, match=r"layer: an integer from 0 to 2, got 3"):
        s.numbers("neuron", 3, unit=0)
    with pytest.raises(ValueError, match=r"sample: an integer from 0 to 7, got 8"):
        s.numbers("neuron", 1, unit=0, sample=8)
    with pytest.raises(ValueError, match=r"source: an integer from 0 to 1, got 2"):
        s.numbers("edge", 1, source=2, target=0)
    with pytest.raises(ValueError, match="kind"):
        s.numbers("weight", 1, unit=0)
    with pytest.raises(ValueError, match="an edge belongs to a Dense layer"):
        s.numbers("edge", 0, source=0, target=0)
    with pytest.raises(ValueError, match="train first"):
        Session(SETTINGS).numbers("neuron", 1, unit=0)


@pytest.mark.parametrize("lang", [["en"], {"ko": 1}, None, "EN", 1])
def test_a_language_that_is_not_one_is_named(traced, lang):
    """lang arrives from the page's JSON: a list or an object is a ValueError naming lang, not 'unhashable'."""
    with pytest.raises(ValueError) as err:
        traced[0].numbers("neuron", 1, unit=0, lang=lang)
    message = str(err.value)
    assert message.startswith("lang: ") and "'en', 'ko'" in message and "unknown language" in message
    assert "unhashable" not in message


def test_huge_indices_are_cut_in_messages(traced):
    for args in ({"layer": 10 ** 400, "unit": 0}, {"layer": 1, "unit": "u" * 70000}, {"layer": 1, "unit": 0,
                                                                                      "sample": [0] * 9000}):
        with pytest.raises(ValueError) as err:
            traced[0].numbers("neuron", **args)
        assert len(str(err.value)) < 200
    with pytest.raises(ValueError) as err:
        traced[0].numbers("k" * 70000, 1, unit=0)
    assert str(err.value).startswith("kind: 'neuron' or 'edge'") and len(str(err.value)) < 200


@pytest.mark.filterwarnings("error::RuntimeWarning")       # as train() and state(): the doctor speaks, NumPy is quiet
def test_numbers_of_a_diverging_network_raise_no_warning(isolated_random_state):
    """learning_rate 10: the products x_i * W_ij overflow on the way to NaN; the numbers are null, never a
    RuntimeWarning printed into the server's log."""
    s = Session({"dataset": "plane", "activation": "relu", "hidden": [16, 16], "learning_rate": 10,
                 "n_samples": 40, "batch_size": 5})
    overflowed = False
    for _ in range(12):
        s.train(1)
        for layer in (1, 2, 3):
            width = s.model.layers[layer - 1].units
            rows = [r for u in range(width) for r in s.numbers("neuron", layer, unit=u)["rows"]]
            fan_in = s.model.layers[layer - 1].params["W"].shape[0]
            rows += s.numbers("edge", layer, source=fan_in - 1, target=0)["rows"]
            overflowed |= any(r["value"] is None for r in rows)
    assert overflowed                                       # the case reached the overflow it is about
