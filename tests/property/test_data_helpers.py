"""Properties of the data helpers: to_categorical against np.eye indexing (or a clean error) for any
labels, normalize against the closed form x / ||x||_p, pad_sequences against a reference written here
for every padding/truncating/maxlen/value/dtype, and the toy datasets' shapes, dtypes, class counts and
curves."""
import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassnet as gn
from property._helpers import assert_clean_error, examples, floats, small_shapes
from reference import no_numerical_warnings

to_categorical, normalize, pad_sequences = gn.utils.to_categorical, gn.utils.normalize, gn.utils.pad_sequences

LABEL_VALUES = st.one_of(st.integers(0, 6), st.integers(-2**63, 2**63 - 1),
                         st.sampled_from([1.0, 3.0, 2.5, -1.0, 1e20, 1e300, 3e16, float("nan"), float("inf"), 2**21]))


@st.composite
def label_arrays(draw):
    """Label arrays of any small shape (empty included) and of int, uint, float16/32/64 or bool dtype."""
    shape = draw(small_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4))
    kind = draw(st.sampled_from(["int64", "int8", "uint8", "uint64", "float16", "float32", "float64", "bool"]))
    values = draw(st.lists(LABEL_VALUES, min_size=math.prod(shape), max_size=math.prod(shape)))
    if kind == "bool":
        return np.array([bool(v) if v == v else True for v in values], dtype=bool).reshape(shape)
    info = np.iinfo(kind) if kind[0] in "iu" else np.finfo(kind)
    if kind[0] in "iu":
        values = [int(min(max(v, info.min), info.max)) if math.isfinite(v) else 0 for v in values]
    with np.errstate(over="ignore"):                       # 1e300 as float16 is inf: a label to refuse too
        return np.array(values, dtype=np.float64).astype(kind).reshape(shape) if kind[0] == "f" \
            else np.array(values, dtype=kind).reshape(shape)


def expected_one_hot(y, num_classes):
    """The reference: np.eye indexing, after Keras's rule (a trailing axis of length 1 is dropped); None when
    the labels are not whole numbers in [0, num_classes) or num_classes is unusable."""
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y[..., 0]
    y64 = y.astype(np.float64)
    if not np.isfinite(y64).all() or (y64 != np.round(y64)).any() or (y64 < 0).any():
        return None
    if num_classes is None:
        if y.size == 0:
            return None
        num_classes = int(y64.max()) + 1
    if num_classes > gn.datasets.utils.MAX_CLASSES or (y.size and y64.max() >= num_classes):
        return None
    if num_classes > 256:                                      # np.eye(79493) would take 24 GiB
        return (np.arange(num_classes) == y.astype(np.int64)[..., None]).astype(np.float32)
    return np.eye(num_classes, dtype=np.float32)[y.astype(np.int64)]


@examples(80)
@given(y=label_arrays(), num_classes=st.one_of(st.none(), st.integers(1, 8), st.just(2**21)))
@example(y=np.array([1.0, 1e300]), num_classes=None)
@example(y=np.array([3e16]), num_classes=None)
@example(y=np.array([1e20]), num_classes=None)
@example(y=np.array([], dtype=np.int64), num_classes=None)
@example(y=np.array([[1], [2]]), num_classes=None)
def test_to_categorical_is_eye_indexing_or_a_clean_error(y, num_classes):
    expected = expected_one_hot(y, num_classes)
    with no_numerical_warnings():
        if expected is None:
            with pytest.raises((ValueError, TypeError)) as err:
                to_categorical(y, num_classes)
            assert_clean_error(err.value)
            if num_classes is None and y.size and np.isfinite(y.astype(np.float64)).all() and y.dtype.kind in "iu":
                assert str(int(y.max())) in str(err.value) or str(int(y.min())) in str(err.value), str(err.value)
            return
        got = to_categorical(y, num_classes)
    assert got.dtype == np.float32 and got.shape == expected.shape and np.array_equal(got, expected)


@examples(30)
@given(num_classes=st.one_of(st.integers(-5, 0), st.floats(0.5, 4.5), st.booleans(), st.just("3"),
                             st.integers(2**40, 2**63)))
def test_to_categorical_refuses_a_bad_num_classes(num_classes):
    with pytest.raises((ValueError, TypeError)) as err:
        to_categorical([0, 1], num_classes)
    assert_clean_error(err.value, "num_classes")


def norm_reference(x, axis, order):
    """(x / s, ||x / s||_p) along axis, written out in float64 with s = max|x| (so nothing over- or
    underflows: x / ||x||_p = (x / s) / ||x / s||_p even where ||x||_p itself is beyond the float range)."""
    x = x.astype(np.float64)
    scale = np.abs(x).max(axis=axis, keepdims=True)
    scale[scale == 0] = 1
    a = np.abs(x / scale)
    n = a.max(axis=axis, keepdims=True) if order == np.inf else (a ** order).sum(axis=axis, keepdims=True) ** (1 / order)
    return x / scale, n


@examples(40)
@given(data=st.data(), dtype=st.sampled_from([np.float32, np.float64, np.int32, np.int8]),
       order=st.sampled_from([1, 2, 3, np.inf]))
@example(data=None, dtype=np.float64, order=2)
def test_normalize_is_the_closed_form(data, dtype, order):
    """normalize(x, axis, order) = x / ||x||_p along axis (float64 out for integers); vectors of norm 0 stay
    0; every other vector gets norm 1, even of 1e200 or subnormal entries."""
    if data is None:
        x, axis = np.array([[1e200, 1e200], [5e-324, 0.0], [0.0, 0.0]]), -1
    else:
        shape = data.draw(small_shapes(min_dims=1, max_dims=3, max_side=4))
        elements = floats(dtype) if np.dtype(dtype).kind == "f" else st.integers(-128, 127)
        x = data.draw(hnp.arrays(dtype, shape, elements=st.one_of(st.just(0), elements)))
        axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    with no_numerical_warnings():
        got = normalize(x, axis=axis, order=order)
    out_dtype = x.dtype if x.dtype.kind == "f" else np.float64
    assert got.dtype == out_dtype and got.shape == x.shape
    scaled, norm = norm_reference(x, axis, order)
    zero = norm == 0
    assert np.array_equal(got[np.broadcast_to(zero, x.shape)], np.zeros(x.shape)[np.broadcast_to(zero, x.shape)])
    tol = 1e-5 if out_dtype == np.float32 else 1e-12
    expected = scaled / np.where(zero, 1, norm)
    assert np.allclose(got, expected, rtol=tol, atol=tol), (got, expected)
    a = np.abs(got.astype(np.float64))                         # entries <= 1: the plain formula is safe
    unit = a.max(axis=axis, keepdims=True) if order == np.inf else (a ** order).sum(axis, keepdims=True) ** (1 / order)
    assert np.allclose(unit[~zero], 1, rtol=0, atol=10 * tol)


def pad_reference(sequences, maxlen, padding, truncating, value, dtype):
    """Keras's rule written out on Python lists."""
    if maxlen is None:
        maxlen = max((len(s) for s in sequences), default=0)
    rows = []
    for s in sequences:
        s = list(s)
        kept = s[len(s) - maxlen:] if truncating == "pre" and len(s) > maxlen else s[:maxlen]
        fill = [value] * (maxlen - len(kept))
        rows.append(kept + fill if padding == "post" else fill + kept)
    return np.array(rows, dtype=dtype).reshape(len(sequences), maxlen)


@examples(80)
@given(sequences=st.lists(st.lists(st.integers(-100, 1000), max_size=7), max_size=5),
       maxlen=st.one_of(st.none(), st.integers(0, 9)), padding=st.sampled_from(["pre", "post"]),
       truncating=st.sampled_from(["pre", "post"]), value=st.sampled_from([0, -1, 7, 0.5, 2.0]),
       dtype=st.sampled_from(["int32", "int64", "float32", "float64"]),
       as_arrays=st.booleans())
def test_pad_sequences_matches_the_reference(sequences, maxlen, padding, truncating, value, dtype, as_arrays):
    given_sequences = [np.array(s, dtype=np.int64) for s in sequences] if as_arrays else sequences
    got = pad_sequences(given_sequences, maxlen=maxlen, dtype=dtype, padding=padding, truncating=truncating,
                        value=value)
    expected = pad_reference(sequences, maxlen, padding, truncating, value, dtype)
    assert got.dtype == np.dtype(dtype) and got.shape == expected.shape and np.array_equal(got, expected)


@examples(40)
@given(item=st.one_of(st.integers(-2**70, 2**70), st.floats(allow_nan=True), st.just(None)),
       value=st.one_of(st.just(0), st.integers(-2**70, 2**70), st.floats()),
       dtype=st.sampled_from(["int8", "uint8", "int32", "float32", "float16"]))
@example(item=300, value=0, dtype="int8")
@example(item=1, value=-1, dtype="uint8")
@example(item=1e300, value=0, dtype="float32")
@example(item=1, value=float("nan"), dtype="int32")
def test_pad_sequences_values_the_dtype_cannot_hold(item, value, dtype):
    """An item or a fill value that the dtype cannot hold (300 as int8, -1 as uint8, 1e300 as float32, NaN or
    None as int32) is a ValueError naming the dtype; anything it can hold comes back unchanged."""
    info = np.iinfo(dtype) if dtype[0] in "iu" else np.finfo(dtype)

    def holds(v):
        if v is None:                                  # NumPy's rule: None is NaN as a float, nothing as an int
            return dtype[0] == "f"
        if dtype[0] in "iu":                           # whole ints in range; floats truncate toward 0
            return isinstance(v, int) and info.min <= v <= info.max or (
                isinstance(v, float) and math.isfinite(v) and info.min - 1 < v < info.max + 1)
        with np.errstate(over="ignore"):               # a finite number must stay finite
            return not math.isfinite(v) or bool(np.isfinite(np.array(float(v)).astype(dtype)))
    with no_numerical_warnings():
        if holds(item) and holds(value):
            got = pad_sequences([[item]], maxlen=2, dtype=dtype, value=value)
            assert np.array_equal(got, np.array([[value, item]], dtype=dtype), equal_nan=True)
            return
        with pytest.raises((ValueError, TypeError)) as err:
            pad_sequences([[item]], maxlen=2, dtype=dtype, value=value)
    assert_clean_error(err.value, dtype)


@examples(30)
@given(n=st.integers(3, 60), n_classes=st.integers(2, 5), noise=st.sampled_from([0.0, 0.1]),
       seed=st.integers(0, 2**32 - 1), shuffle=st.booleans(), factor=st.floats(0.1, 0.9))
def test_toy_datasets(n, n_classes, noise, seed, shuffle, factor):
    """make_moons/make_circles/make_spirals: x (n, 2) float64, y (n,) int64 with the stated class sizes
    (moons and circles: n // 2 in class 0; spirals: as even as possible, the first classes larger); without
    noise the points lie on their curves; the same seed gives the same data."""
    sets = {
        "moons": gn.datasets.make_moons(n, noise=noise, seed=seed, shuffle=shuffle),
        "circles": gn.datasets.make_circles(n, noise=noise, factor=factor, seed=seed, shuffle=shuffle),
        "spirals": gn.datasets.make_spirals(max(n, n_classes), n_classes=n_classes, noise=noise, seed=seed,
                                            shuffle=shuffle),
    }
    for name, (x, y) in sets.items():
        m = len(y)
        assert x.shape == (m, 2) and x.dtype == np.float64 and y.shape == (m,) and y.dtype == np.int64, name
        assert np.isfinite(x).all()
        k = n_classes if name == "spirals" else 2
        counts = np.bincount(y, minlength=k)
        expected = [m // 2, m - m // 2] if name != "spirals" else [m // k + (c < m % k) for c in range(k)]
        assert counts.tolist() == expected, (name, counts, expected)
        if noise == 0:
            a, b = x[:, 0], x[:, 1]
            if name == "moons":
                on_0 = np.isclose(a ** 2 + b ** 2, 1) & (b >= -1e-12)
                on_1 = np.isclose((a - 1) ** 2 + (b - 0.5) ** 2, 1) & (b <= 0.5 + 1e-12)
                assert on_0[y == 0].all() and on_1[y == 1].all()
            elif name == "circles":
                r = np.hypot(a, b)
                assert np.allclose(r[y == 0], 1) and np.allclose(r[y == 1], factor)
            else:
                r = np.hypot(a, b)
                assert ((r > 0.1 - 1e-12) & (r < 1 + 1e-12)).all()
        again = {"moons": gn.datasets.make_moons, "circles": gn.datasets.make_circles,
                 "spirals": gn.datasets.make_spirals}[name]
        kwargs = {"circles": {"factor": factor}, "spirals": {"n_classes": n_classes}}.get(name, {})
        x2, y2 = again(m, noise=noise, seed=seed, shuffle=shuffle, **kwargs)
        assert np.array_equal(x, x2) and np.array_equal(y, y2), f"{name}: the same seed gave other data"


@examples(30)
@given(n=st.one_of(st.integers(-3, 1), st.floats(0, 10), st.booleans(), st.just("10")),
       noise=st.one_of(st.floats(-1, -1e-9), st.just(float("nan")), st.just(float("inf")), st.just("0.1")))
def test_toy_datasets_refuse_bad_arguments(n, noise):
    for make in (gn.datasets.make_moons, gn.datasets.make_circles, gn.datasets.make_spirals):
        for kwargs in ({"n_samples": n}, {"n_samples": 20, "noise": noise}):
            with pytest.raises((ValueError, TypeError)) as err:
                make(**kwargs)
            assert_clean_error(err.value, make.__name__)


@examples(40)
@given(data=st.data(), n=st.integers(2, 8), features=st.integers(1, 3),
       magnitude=st.sampled_from([1.0, 1e-3, 1e6, 1e200, 1e-200]), offset=st.sampled_from([0.0, 0.1, -3.0, 1e3]),
       dtype=st.sampled_from([None, "float64"]))
def test_standardize(data, n, features, magnitude, offset, dtype):
    """standardize(x) per feature: z = (x - mean) / std has mean 0 and std 1, or is 0 for a feature that is
    constant (up to rounding: 0.1 three times too), for values of any magnitude (1e200 as well); the returned
    statistics give x back; they are refused when the dtype cannot hold them."""
    x = data.draw(hnp.arrays(np.float64, (n, features), elements=st.one_of(
        st.just(0.0), st.floats(-10, 10, allow_subnormal=False)))) * magnitude + offset * magnitude
    constant = data.draw(st.booleans())
    if constant:
        x[:, 0] = offset * magnitude
    with no_numerical_warnings():
        z, mean, std = gn.datasets.standardize(x, dtype=dtype)
    z64 = z.astype(np.float64)
    spread = x.max(0) - x.min(0)
    flat, varied = spread == 0, spread > 1e-13 * np.abs(x).max(0)    # in between: rounding decides, either way
    assert np.allclose(z64[:, flat], 0, atol=1e-6), z[:, flat]
    # conditioning: a rounding error of x's size (1e-16 |x|) is z's error times the std
    slack = 1e-9 + 1e-14 / (x[:, varied] / np.abs(x).max(0)[varied]).std(0)
    assert (np.abs(z64[:, varied].mean(0)) <= slack).all() and (np.abs(z64[:, varied].std(0) - 1) <= slack).all()
    assert np.allclose(z64 * std + mean, x, rtol=1e-12, atol=1e-12 * magnitude * (1 + abs(offset)))


@examples(40)
@given(n=st.integers(2, 12), k=st.integers(1, 3), test_size=st.one_of(st.floats(0.05, 0.95), st.integers(1, 11)),
       shuffle=st.booleans(), stratify=st.booleans(), seed=st.integers(0, 2**16))
def test_train_test_split_is_a_partition(n, k, test_size, shuffle, stratify, seed):
    """train_test_split puts every sample in exactly one part, x and y rows staying together; the test part
    has ceil(test_size * n) samples (or test_size of them); stratified, each class's test count is its share
    to within one sample; shuffle=False keeps the order. Or a clean ValueError (too few samples)."""
    x = np.arange(n * 2).reshape(n, 2)
    y = np.arange(n) % k
    try:
        x_tr, x_te, y_tr, y_te = gn.datasets.train_test_split(x, y, test_size=test_size, shuffle=shuffle,
                                                             stratify=stratify, seed=seed)
    except ValueError as err:
        assert_clean_error(err)
        n_test = math.ceil(test_size * n) if isinstance(test_size, float) else test_size
        counts = np.bincount(y)
        assert not 1 <= n_test <= n - 1 or stratify and (counts.min() < 2 or min(n_test, n - n_test) < k), str(err)
        return
    rows = np.concatenate([x_tr[:, 0], x_te[:, 0]]) // 2
    assert sorted(rows.tolist()) == list(range(n)), "not a partition"
    assert np.array_equal(np.concatenate([y_tr, y_te]), y[rows]), "x and y rows parted"
    n_test = math.ceil(test_size * n) if isinstance(test_size, float) else test_size
    assert len(x_te) == n_test
    if stratify:
        share = np.bincount(y, minlength=k) * n_test / n
        assert (np.abs(np.bincount(y_te, minlength=k) - share) < 1 + 1e-9).all()
    if not shuffle:
        assert (np.diff(x_tr[:, 0]) > 0).all() and (np.diff(x_te[:, 0]) > 0).all()
        if not stratify:
            assert x_te[0, 0] // 2 == n - n_test


@examples(30)
@given(x=hnp.arrays(np.uint8, small_shapes(max_side=4)), max_value=st.one_of(st.none(), st.sampled_from(
    [255, 255.0, 1000, 1e300, 1e-300, 10**400, 0, -1, float("nan"), True])), dtype=st.sampled_from(["float32",
                                                                                                    "float64"]))
def test_pixel_normalize(x, max_value, dtype):
    """gn.datasets.normalize(x, max_value) = x / max_value in dtype for pixels in [0, max_value]; a max_value
    that is not a positive number the dtype can hold (1e300 or 1e-300 in float32, 10**400, NaN) is refused."""
    fine = max_value is None or not isinstance(max_value, bool) and _holds(max_value, dtype) and max_value >= 255
    with no_numerical_warnings():
        if not fine:
            with pytest.raises((ValueError, TypeError)) as err:
                gn.datasets.normalize(x, max_value=max_value, dtype=dtype)
            assert "max_value" in str(err.value) or "must lie in" in str(err.value), str(err.value)
            return
        got = gn.datasets.normalize(x, max_value=max_value, dtype=dtype)
    assert got.dtype == np.dtype(dtype)
    assert np.allclose(got, x / float(max_value or 255), rtol=1e-6, atol=0)


def _holds(value, dtype):
    try:
        v = float(value)
    except OverflowError:
        return False
    with np.errstate(all="ignore"):
        as_dtype = np.array(v).astype(dtype)
    return math.isfinite(v) and v > 0 and bool(np.isfinite(as_dtype)) and as_dtype > 0
