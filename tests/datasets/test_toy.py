"""glassnet.datasets.toy: the notes' backprop set, the logic gates and the moons, circles and
spirals; truth tables from Python's bit operators, geometry from the closed forms."""
import pathlib
import re

import numpy as np
import pytest

import glassnet as gn
from glassnet.datasets import toy

SEED_002 = pathlib.Path("/work/shared/seeds/002_da351929dd048291.txt")


# --------------------------------------------------------------------------- toy sets

NOTE_002 = [[2.7810836, 2.550537003, 0], [1.465489372, 2.362125076, 0], [3.396561688, 4.400293529, 0],
            [1.38807019, 1.850220317, 0], [3.06407232, 3.005305973, 0], [7.627531214, 2.759262235, 1],
            [5.332441248, 2.088626775, 1], [6.922596716, 1.77106367, 1], [8.675418651, -0.242068655, 1],
            [7.673756466, 3.508563011, 1]]


def test_backprop_demo_is_the_notes_dataset():
    x, y = gn.datasets.backprop_demo()
    assert x.shape == (10, 2) and x.dtype == np.float64 and y.shape == (10,) and y.dtype.kind == "i"
    assert x.tolist() == [row[:2] for row in NOTE_002] and y.tolist() == [row[2] for row in NOTE_002]
    if SEED_002.exists():                     # the note itself, where the study notes are at hand
        text = SEED_002.read_text(encoding="utf-8")
        rows = re.findall(r"\[\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*,\s*([01])\s*\]", text.split("dataset = [", 1)[1])
        assert [[float(a), float(b), int(c)] for a, b, c in rows] == NOTE_002


def test_logic_gates_match_pythons_bit_operators():
    ops = {"and": lambda a, b: a & b, "or": lambda a, b: a | b, "nand": lambda a, b: 1 - (a & b),
           "xor": lambda a, b: a ^ b}
    for name, op in ops.items():
        x, y = gn.datasets.logic_gate(name.upper() if name == "xor" else name)
        assert x.shape == (4, 2) and x.dtype == np.float64 and y.shape == (4,)
        assert x.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
        assert y.tolist() == [op(int(a), int(b)) for a, b in x]
    with pytest.raises(ValueError, match="'xor'"):
        gn.datasets.logic_gate("xnor")


@pytest.mark.parametrize("n", [100, 101, 2])
def test_moons_shapes_balance_and_geometry(n):
    x, y = gn.datasets.make_moons(n, seed=0)
    assert x.shape == (n, 2) and x.dtype == np.float64 and y.shape == (n,)
    assert np.bincount(y).tolist() == [n // 2, n - n // 2]
    upper, lower = x[y == 0], x[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)            # the unit circle
    assert (upper[:, 1] >= -1e-12).all()
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)  # centred at (1, 0.5)
    assert (lower[:, 1] <= 0.5 + 1e-12).all()
    if n >= 4:   # endpoints of each half circle are included: t = 0 and t = pi
        assert {tuple(np.round(p, 12)) for p in upper} >= {(1.0, 0.0), (-1.0, 0.0)}
        assert {tuple(np.round(p, 12)) for p in lower} >= {(0.0, 0.5), (2.0, 0.5)}


def test_moons_without_shuffle_follow_the_closed_form():
    x, y = gn.datasets.make_moons(6, shuffle=False)
    t = np.linspace(0, np.pi, 3)
    expected = np.r_[np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)]]
    np.testing.assert_allclose(x, expected, atol=1e-15)
    assert y.tolist() == [0, 0, 0, 1, 1, 1]


@pytest.mark.parametrize("factor", [0.3, 0.8])
def test_circles_inner_radius_is_factor_times_outer(factor):
    x, y = gn.datasets.make_circles(200, factor=factor, seed=1)
    assert x.shape == (200, 2) and x.dtype == np.float64 and np.bincount(y).tolist() == [100, 100]
    radius = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], factor)
    angles = np.sort(np.mod(np.arctan2(x[y == 0, 1], x[y == 0, 0]), 2 * np.pi))
    np.testing.assert_allclose(np.diff(angles), 2 * np.pi / 100, atol=1e-12)       # evenly spaced


def test_noise_is_gaussian_with_the_given_std():
    x0, _ = gn.datasets.make_circles(4000, factor=0.5, seed=3, shuffle=False)
    x1, _ = gn.datasets.make_circles(4000, factor=0.5, seed=3, shuffle=False, noise=0.1)
    residual = (x1 - x0).ravel()
    assert abs(residual.mean()) < 0.01 and abs(residual.std() - 0.1) < 0.005


@pytest.mark.parametrize("n_classes, n", [(2, 200), (3, 300), (3, 301)])
def test_spirals_shapes_balance_and_rotation(n_classes, n):
    x, y = gn.datasets.make_spirals(n, n_classes=n_classes, seed=0)
    assert x.shape == (n, 2) and x.dtype == np.float64 and y.shape == (n,)
    counts = np.bincount(y)
    assert len(counts) == n_classes and counts.max() - counts.min() <= 1 and counts.sum() == n
    radius = np.hypot(x[:, 0], x[:, 1])
    assert radius.min() >= 0.1 - 1e-12 and radius.max() <= 1 + 1e-12
    xs, ys = gn.datasets.make_spirals(n_classes * 50, n_classes=n_classes, shuffle=False)
    angle = 2 * np.pi / n_classes
    rotate = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])   # row vectors
    for k in range(1, n_classes):
        np.testing.assert_allclose(xs[ys == 0] @ np.linalg.matrix_power(rotate, k), xs[ys == k], atol=1e-12)


@pytest.mark.parametrize("make", [gn.datasets.make_moons, gn.datasets.make_circles, gn.datasets.make_spirals])
def test_generators_are_deterministic_by_seed(make, isolated_random_state):
    a = make(50, noise=0.1, seed=7)
    b = make(50, noise=0.1, seed=7)
    c = make(50, noise=0.1, seed=8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    gn.set_random_seed(3)
    d = make(50, noise=0.1)
    gn.set_random_seed(3)
    e = make(50, noise=0.1)
    np.testing.assert_array_equal(d[0], e[0])


@pytest.mark.parametrize("call, message", [
    (lambda: toy.make_moons(0), "n_samples must be a positive integer"),
    (lambda: toy.make_moons(-5), "n_samples must be a positive integer"),
    (lambda: toy.make_moons(10.5), "n_samples must be a positive integer"),
    (lambda: toy.make_moons(True), "n_samples must be a positive integer"),
    (lambda: toy.make_moons(1), "at least 2"),
    (lambda: toy.make_moons(10, noise=-0.1), "noise must be a finite number >= 0"),
    (lambda: toy.make_circles(10, noise=float("nan")), "noise must be a finite number >= 0"),
    (lambda: toy.make_circles(10, factor=0), "strictly between 0 and 1"),
    (lambda: toy.make_circles(10, factor=1), "strictly between 0 and 1"),
    (lambda: toy.make_circles(10, factor=1.5), "strictly between 0 and 1"),
    (lambda: toy.make_spirals(10, n_classes=1), "n_classes must be an integer >= 2"),
    (lambda: toy.make_spirals(2, n_classes=3), "at least 3"),
    (lambda: toy.make_spirals(10, turns=0), "turns must be a positive number"),
])
def test_toy_argument_checks(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
