"""Rosenblatt's perceptron: the learning rule step by step against hand-worked numbers, the logic
gates it learns (AND, OR, NAND), the one it cannot (XOR), and a multi-layer network that can."""
import warnings

import numpy as np
import pytest

import glassnet as gn
from glassnet.perceptron import ConvergenceWarning, Perceptron


@pytest.fixture(autouse=True)
def _random_state(isolated_random_state):
    gn.set_random_seed(0)
    yield


def fit_quietly(p, x, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")                # a converging fit must not warn
        return p.fit(x, y, **kwargs)


# ----------------------------------------------------------------------------
# The rule, by hand
# ----------------------------------------------------------------------------

# AND, w = 0, b = 0, learning rate 1, samples 00, 01, 10, 11 in order; y = step(x.w + b), step(0) = 0.
# After each sample: (w1, w2, b)
AND_BY_HAND = [
    # epoch 1: only 11 is wrong (z = 0 -> 0, t = 1): w += x, b += 1
    (0, 0, 0), (0, 0, 0), (0, 0, 0), (1, 1, 1),
    # epoch 2: 00 z=1 -> 1 (t=0): b -= 1; 01 z=1 -> 1: w2 -= 1, b -= 1; 10 z=0 -> 0 ok; 11 z=0 -> 0 (t=1): +x, +1
    (1, 1, 0), (1, 0, -1), (1, 0, -1), (2, 1, 0),
    # epoch 3: 00 z=0 ok; 01 z=1 wrong; 10 z=1 wrong; 11 z=-1 wrong
    (2, 1, 0), (2, 0, -1), (1, 0, -2), (2, 1, -1),
    # epoch 4: 00 z=-1 ok; 01 z=0 ok; 10 z=1 wrong; 11 z=0 wrong
    (2, 1, -1), (2, 1, -1), (1, 1, -2), (2, 2, -1),
    # epoch 5: 00 ok; 01 z=1 wrong; 10 z=0 ok; 11 z=1 ok
    (2, 2, -1), (2, 1, -2), (2, 1, -2), (2, 1, -2),
    # epoch 6: no mistakes
    (2, 1, -2), (2, 1, -2), (2, 1, -2), (2, 1, -2),
]


def test_perceptron_rule_step_by_step_on_and():
    x, t = gn.datasets.logic_gate("and")
    p = Perceptron().initialize(2)
    assert p.w.tolist() == [0, 0] and p.b == 0
    expected = iter(AND_BY_HAND)
    for epoch in range(6):
        for xi, ti in zip(x, t):
            p.update(xi, ti, lr=1.0)
            w1, w2, b = next(expected)
            assert (p.w.tolist(), p.b) == ([w1, w2], b), f"epoch {epoch + 1}, sample {xi}"


def test_fit_on_and_gives_the_hand_worked_result():
    x, t = gn.datasets.logic_gate("and")
    p = fit_quietly(Perceptron(), x, t, epochs=20, lr=1.0)
    assert p.errors_ == [1, 3, 3, 2, 1, 0]           # mistakes per epoch, counted above
    assert p.converged and p.epochs_ == 6
    assert p.w.tolist() == [2, 1] and p.b == -2
    assert p.predict(x).tolist() == [0, 0, 0, 1]
    assert p.net_input(x).tolist() == [-2, -1, 0, 1]   # step(0) = 0: the boundary belongs to class 0
    assert "converged" in p.message


def _rule_by_hand(x, t, lr, epochs, w, b):
    """The perceptron rule in plain Python floats."""
    w = [float(v) for v in w]
    errors = []
    for _ in range(epochs):
        mistakes = 0
        for xi, ti in zip(x.tolist(), t.tolist()):
            z = sum(a * c for a, c in zip(xi, w)) + b
            e = ti - (1 if z > 0 else 0)
            if e:
                mistakes += 1
                w = [wi + lr * e * xj for wi, xj in zip(w, xi)]
                b = b + lr * e
        errors.append(mistakes)
        if mistakes == 0:
            break
    return w, b, errors


@pytest.mark.parametrize("seed", range(5))
def test_fit_matches_the_rule_in_plain_python(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(30, 3))
    t = (x @ np.array([1.0, -2.0, 0.5]) + 0.3 > 0).astype(int)     # separable by construction
    p = Perceptron(init="random", seed=seed)
    p.initialize(3)
    w0, b0 = p.w.copy(), p.b
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        p.fit(x, t, epochs=50, lr=0.05)
    w, b, errors = _rule_by_hand(x, t, 0.05, 50, w0, b0)
    np.testing.assert_allclose(p.w, w, rtol=1e-12, atol=1e-12)
    assert p.b == pytest.approx(b, abs=1e-12)
    assert p.errors_ == errors


# ----------------------------------------------------------------------------
# Logic gates
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("gate", ["and", "or", "nand"])
@pytest.mark.parametrize("lr", [0.1, 1.0])
def test_learns_the_linearly_separable_gates(gate, lr):
    x, t = gn.datasets.logic_gate(gate)
    p = fit_quietly(Perceptron(), x, t, epochs=20, lr=lr)
    assert p.converged and p.errors_[-1] == 0 and len(p.errors_) < 20
    assert p.predict(x).tolist() == t.tolist()
    assert p.score(x, t) == 1.0
    assert p.w.shape == (2,) and isinstance(p.b, float)


def test_xor_is_not_learnt_and_fit_says_why():
    x, t = gn.datasets.logic_gate("xor")
    with pytest.warns(ConvergenceWarning) as caught:
        p = Perceptron().fit(x, t, epochs=25, lr=0.1)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert message.startswith("XOR is not linearly separable: no line separates the classes")
    assert "25 epochs" in message
    assert not p.converged and len(p.errors_) == 25 and p.errors_[-1] > 0
    assert p.message == message
    assert p.score(x, t) < 1.0


def test_the_warning_is_generic_for_other_data():
    x = np.array([[0.0], [1.0], [2.0]])
    t = np.array([0, 1, 0])                            # not separable on a line either, but not XOR
    with pytest.warns(ConvergenceWarning, match="did not converge in 5 epochs") as caught:
        p = Perceptron().fit(x, t, epochs=5)
    assert "XOR is not" not in str(caught[0].message) and not p.converged


def test_a_multi_layer_network_learns_xor():
    x, t = gn.datasets.logic_gate("xor")
    gn.set_random_seed(0)
    model = gn.Sequential([gn.layers.Dense(4, activation="tanh", input_shape=(2,)),
                           gn.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=gn.optimizers.Adam(0.1), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, t, epochs=200, batch_size=4, verbose=0)
    assert (model.predict(x)[:, 0] > 0.5).astype(int).tolist() == [0, 1, 1, 0]


# ----------------------------------------------------------------------------
# Initialisation and checks
# ----------------------------------------------------------------------------

def test_random_init_is_seeded_and_shuffle_is_reproducible():
    x, t = gn.datasets.logic_gate("or")
    a = fit_quietly(Perceptron(init="random", seed=3), x, t, epochs=30, shuffle=True)
    b = fit_quietly(Perceptron(init="random", seed=3), x, t, epochs=30, shuffle=True)
    c = Perceptron(init="random", seed=4).initialize(2)
    assert a.w.tolist() == b.w.tolist() and a.b == b.b and a.errors_ == b.errors_
    assert Perceptron(init="random", seed=3).initialize(2).w.tolist() != c.w.tolist()
    assert np.all(np.abs(c.w) <= 0.5)


def test_bad_arguments():
    x, t = gn.datasets.logic_gate("and")
    with pytest.raises(ValueError, match="targets are 0 and 1"):
        Perceptron().fit(x, [0, 1, 2, 1])
    with pytest.raises(ValueError, match="one target per sample"):
        Perceptron().fit(x, [0, 1])
    with pytest.raises(ValueError, match="no weights yet"):
        Perceptron().predict(x)
    with pytest.raises(ValueError, match="init must be"):
        Perceptron(init="ones")
    with pytest.raises(ValueError, match="lr must be"):
        Perceptron().fit(x, t, lr=0)
    with pytest.raises(ValueError, match="epochs must be"):
        Perceptron().fit(x, t, epochs=0)
    p = fit_quietly(Perceptron(), x, t)
    with pytest.raises(ValueError, match="expects 2 features per sample, got 3"):
        p.predict(np.ones((1, 3)))
