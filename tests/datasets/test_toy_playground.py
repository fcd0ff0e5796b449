"""make_xor, make_gaussians, make_plane and make_2d: shapes, dtypes, classes, seeds, the frame."""
import numpy as np
import pytest

from glassnet.datasets import toy

CLASSIFIERS = [toy.make_xor, toy.make_gaussians]


@pytest.mark.parametrize("make", CLASSIFIERS)
def test_classification_generators(make):
    x, y = make(101, noise=0.0, seed=3)
    assert x.shape == (101, 2) and x.dtype == np.float64 and y.shape == (101,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [50, 51]
    x2, y2 = make(101, noise=0.0, seed=3)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    x3, _ = make(101, noise=0.0, seed=4)
    assert not np.array_equal(x, x3)
    xs, ys = make(101, noise=0.0, seed=3, shuffle=False)
    assert ys.tolist() == [0] * 50 + [1] * 51
    with pytest.raises(ValueError, match=make.__name__):
        make(0)
    with pytest.raises(ValueError, match=make.__name__):
        make(10, noise=-1)


def test_xor_quadrants():
    x, y = toy.make_xor(400, seed=0)
    same_sign = x[:, 0] * x[:, 1] > 0
    assert np.array_equal(same_sign, y == 0)
    assert np.abs(x).min() >= 0.05 and np.abs(x).max() <= 1.0
    # all four quadrants are used
    assert len({(a, b) for a, b in np.sign(x).astype(int).tolist()}) == 4


def test_gaussians_centres():
    x, y = toy.make_gaussians(4000, seed=1)
    np.testing.assert_allclose(x[y == 0].mean(0), [0.4, 0.4], atol=0.02)
    np.testing.assert_allclose(x[y == 1].mean(0), [-0.4, -0.4], atol=0.02)
    np.testing.assert_allclose(x[y == 0].std(0), [0.15, 0.15], atol=0.01)


def test_plane():
    x, y = toy.make_plane(300, seed=2)
    assert x.shape == (300, 2) and y.dtype == np.float64 and y.shape == (300,)
    np.testing.assert_allclose(y, (x[:, 0] + x[:, 1]) / 2, rtol=0, atol=0)
    assert np.abs(x).max() <= 1 and np.abs(y).max() <= 1
    _, noisy = toy.make_plane(300, noise=0.1, seed=2)
    residual = noisy - (x[:, 0] + x[:, 1]) / 2     # noise is drawn after x, so x repeats
    assert 0.07 < residual.std() < 0.13


@pytest.mark.parametrize("name", toy.PLAYGROUND_SETS)
def test_make_2d_frame(name):
    points, y = toy.make_2d(name, 400, noise=0.0, seed=0)
    assert points.shape == (400, 2) and points.dtype == np.float64 and y.shape == (400,)
    assert np.abs(points).max() <= 6.0 and np.abs(points).max() > 2.0
    if name == "plane":
        assert y.dtype == np.float64 and np.abs(y).max() <= 1
    else:
        assert y.dtype == np.int64 and sorted(set(y.tolist())) == [0, 1]
        assert 0.3 < y[:200].mean() < 0.7              # shuffled: unshuffled, the first half is all class 0
    again, _ = toy.make_2d(name, 400, noise=0.0, seed=0)
    assert np.array_equal(points, again)


def test_make_2d_noise_is_in_frame_units():
    clean, y = toy.make_2d("circles", 2000, noise=0.0, seed=1)
    noisy, y2 = toy.make_2d("circles", 2000, noise=0.5, seed=1)
    assert np.array_equal(y, y2)
    assert 0.45 < (noisy - clean).std() < 0.55              # std 0.5 in [-6, 6] coordinates
    _, t = toy.make_2d("plane", 2000, noise=0.6, seed=1)
    p, t0 = toy.make_2d("plane", 2000, noise=0.0, seed=1)
    assert 0.08 < (t - t0).std() < 0.12                     # 0.6 / 6 on the target
    with pytest.raises(ValueError, match="make_2d: name must be one of"):
        toy.make_2d("rings")


@pytest.mark.parametrize("name, n, needle", [("xor", 1, "at least 2"), ("moons", 1, "at least 2"),
                                             ("spirals", 1, "at least 2"), ("plane", 0, "positive integer"),
                                             ("circles", 2.0, "positive integer"), ("gaussians", True, "positive")])
def test_make_2d_names_itself_in_its_refusals(name, n, needle):
    """The learner called make_2d: its message says make_2d, not the generator it calls inside."""
    with pytest.raises(ValueError) as err:
        toy.make_2d(name, n)
    assert str(err.value).startswith("make_2d: n_samples must be") and needle in str(err.value)
    assert repr(n) in str(err.value)


@pytest.mark.parametrize("noise", [10 ** 400, -(10 ** 400), float("nan"), float("inf"), -0.5],
                         ids=["10**400", "-10**400", "nan", "inf", "-0.5"])
def test_make_2d_refuses_noise_that_is_no_standard_deviation(noise):
    """10**400 is an int no float holds: a ValueError naming noise, never an OverflowError."""
    for call in (lambda: toy.make_2d("xor", 20, noise=noise), lambda: toy.make_xor(20, noise=noise),
                 lambda: toy.make_plane(20, noise=noise)):
        with pytest.raises(ValueError, match=r"noise must be a finite number >= 0"):
            call()
