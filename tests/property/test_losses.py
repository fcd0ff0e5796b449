"""Properties of glassnet.losses (functions and classes) against closed forms written here in float64:
non-negative and finite (predictions of exactly 0 and 1 included), their minimum at perfect predictions,
the batch mean equal to the mean of the per-sample losses, gradients equal to central differences, and a
clean ValueError/TypeError naming what was expected and what arrived for bad shapes and labels."""
import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassnet as gn
from property._helpers import FLOATS, arrays, assert_clean_error, examples, floats
from reference import central_difference, no_numerical_warnings

L = gn.losses
EPS = 1e-7          # Keras's clip of probabilities (gn.backend.epsilon())


@st.composite
def batches(draw, kind, lo=0.0, hi=1.0, dtype=None):
    """(y_true, y_pred, labels) for n samples and k outputs: one-hot / binary targets (kind 'onehot' or
    'binary') or soft targets ('soft'), predictions in [lo, hi] where 0 and 1 themselves come often."""
    dtype = dtype or draw(st.sampled_from(FLOATS))
    n, k = draw(st.integers(1, 6)), draw(st.integers(2, 5))
    labels = draw(hnp.arrays(np.int64, n, elements=st.integers(0, k - 1)))
    edges = st.sampled_from([lo, hi]) if lo == 0.0 and hi == 1.0 else st.nothing()
    y_pred = draw(hnp.arrays(dtype, (n, k), elements=st.one_of(edges, floats(dtype, lo, hi))))
    if kind == "onehot":
        y_true = np.eye(k, dtype=dtype)[labels]
    elif kind == "binary":
        y_true = draw(hnp.arrays(dtype, (n, k), elements=st.sampled_from([0.0, 1.0])))
    else:
        w = draw(hnp.arrays(np.float64, (n, k), elements=st.floats(0.01, 1.0)))
        y_true = (w / w.sum(axis=1, keepdims=True)).astype(dtype)
    return y_true, y_pred, labels


def clip(p):
    """Keras's clip to [eps, 1 - eps], in p's dtype (1 - 1e-7 rounds to 1 - 1.19e-7 in float32), as float64."""
    return np.clip(p, p.dtype.type(EPS), p.dtype.type(1 - EPS)).astype(np.float64)


def cce(t, p):
    return -(t.astype(np.float64) * np.log(clip(p))).sum(-1)


def bce(t, p):
    t, p = t.astype(np.float64), clip(p)
    return -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(-1)


def log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


@examples(30)
@given(onehot=batches("onehot"), binary=batches("binary"))
def test_non_negative_finite_and_equal_to_closed_forms(onehot, binary):
    """For probabilities in [0, 1] (exact 0 and 1 included): every loss is finite, >= 0, and equals the
    formula; the batch mean of the class equals the mean of the per-sample losses."""
    t, p, labels = onehot
    tb, pb, _ = binary
    t64, p64 = t.astype(np.float64), p.astype(np.float64)
    tol = 1e-5 if np.float32 in (p.dtype, pb.dtype) else 1e-12
    with no_numerical_warnings():
        per = {
            "mse": (L.mean_squared_error(t, p), ((p64 - t64) ** 2).mean(-1), L.MeanSquaredError()),
            "cce": (L.categorical_crossentropy(t, p), cce(t, p), L.CategoricalCrossentropy()),
            "scce": (L.sparse_categorical_crossentropy(labels, p), cce(t, p), L.SparseCategoricalCrossentropy()),
            "bce": (L.binary_crossentropy(tb, pb), bce(tb, pb), L.BinaryCrossentropy()),
        }
        for name, (got, expected, loss) in per.items():
            yt, yp = {"scce": (labels, p), "bce": (tb, pb)}.get(name, (t, p))
            assert got.shape == (yp.shape[0],) and got.dtype == yp.dtype, name
            assert np.isfinite(got).all() and (got >= 0).all(), (name, got)
            assert np.allclose(got, expected, rtol=tol, atol=tol), (name, got, expected)
            mean = loss(yt, yp)
            assert isinstance(mean, float) and np.isclose(mean, expected.mean(), rtol=tol, atol=tol), name
            w = np.linspace(0.5, 2.0, len(got))
            assert np.isclose(loss(yt, yp, sample_weight=w), (w * expected).sum() / len(got), rtol=tol, atol=tol)


@examples(25)
@given(data=st.data(), dtype=st.sampled_from(FLOATS))
def test_minimum_at_perfect_predictions(data, dtype):
    """MSE is exactly 0 at y_pred = y_true; cross-entropies are at their floor -log(1 - eps) (the clip)
    for one-hot/binary targets; for soft targets t, CCE(t, p) >= CCE(t, t) = H(t) (Gibbs' inequality)."""
    t, _, labels = data.draw(batches("onehot", dtype=dtype))
    tb, _, _ = data.draw(batches("binary", dtype=dtype))
    soft, p, _ = data.draw(batches("soft", lo=1e-3, hi=1.0, dtype=dtype))
    floor = -np.log1p(-EPS)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert (L.mean_squared_error(t, t) == 0).all() and L.MeanSquaredError()(t, t) == 0
    for got in (L.categorical_crossentropy(t, t), L.sparse_categorical_crossentropy(labels, t),
                L.binary_crossentropy(tb, tb)):
        assert np.allclose(got, floor, rtol=1e-3, atol=tol), got
    p = p / p.sum(axis=1, keepdims=True)
    assert (L.categorical_crossentropy(soft, p) >= L.categorical_crossentropy(soft, soft) - tol).all()


@examples(25)
@given(onehot=batches("onehot", lo=-30.0, hi=30.0), binary=batches("binary", lo=-30.0, hi=30.0))
def test_from_logits_equals_the_probability_path(onehot, binary):
    """from_logits=True on z equals the loss on softmax(z) / sigmoid(z), here written in float64 without
    the clip (logits within +-30 keep the probabilities inside it only roughly, so compare to log_softmax)."""
    t, z, labels = onehot
    tb, zb, _ = binary
    tol = 1e-4 if np.float32 in (z.dtype, zb.dtype) else 1e-10
    z64, zb64 = z.astype(np.float64), zb.astype(np.float64)
    expected = -(t * log_softmax(z64)).sum(-1)
    assert np.allclose(L.categorical_crossentropy(t, z, from_logits=True), expected, rtol=tol, atol=tol)
    assert np.allclose(L.sparse_categorical_crossentropy(labels, z, from_logits=True), expected, rtol=tol, atol=tol)
    expected_b = (np.logaddexp(0, zb64) - tb * zb64).mean(-1)        # -t log s(z) - (1 - t) log(1 - s(z))
    assert np.allclose(L.binary_crossentropy(tb, zb, from_logits=True), expected_b, rtol=tol, atol=tol)
    for loss, yt, zz, per in [(L.CategoricalCrossentropy(from_logits=True), t, z, expected),
                              (L.SparseCategoricalCrossentropy(from_logits=True), labels, z, expected),
                              (L.BinaryCrossentropy(from_logits=True), tb, zb, expected_b)]:
        value, dz, p = loss.logits_forward_backward(yt, zz)
        assert np.isclose(value, per.mean(), rtol=tol, atol=tol), type(loss).__name__
        assert np.isclose(loss(yt, zz), per.mean(), rtol=tol, atol=tol)


WIDE = np.finfo(np.float64).max


@examples(40)
@given(onehot=batches("onehot", lo=-WIDE, hi=WIDE, dtype=np.float64))
@example(onehot=(np.array([[1.0, 0.0]]), np.array([[WIDE, -WIDE]]), np.array([0])))
@example(onehot=(np.array([[0.0, 1.0]]), np.array([[WIDE, -WIDE]]), np.array([1])))
def test_any_finite_logits_give_a_number(onehot):
    """Logits anywhere in the float range: the loss is never NaN (0 * -inf), at worst inf where the true
    value (up to 2 * 1.8e308) overflows; p and dL/dz are finite. Logits within +-1e300: not even a warning."""
    t, z, labels = onehot
    for loss, yt in [(L.CategoricalCrossentropy(from_logits=True), t),
                     (L.SparseCategoricalCrossentropy(from_logits=True), labels),
                     (L.BinaryCrossentropy(from_logits=True), t)]:
        for zz, over in [(z, "ignore"), (z * 1e-8, "raise")]:
            with no_numerical_warnings(), np.errstate(over=over):
                per = loss.per_sample(yt, zz)
                value, dz, p = loss.logits_forward_backward(yt, zz)
            assert not np.isnan(per).any() and (per >= 0).all(), (type(loss).__name__, per)
            assert not np.isnan(value) and value >= 0
            assert np.isfinite(dz).all() and np.isfinite(p).all()


@examples(20)
@given(onehot=batches("onehot", lo=0.01, hi=0.99, dtype=np.float64),
       binary=batches("binary", lo=0.01, hi=0.99, dtype=np.float64),
       logits=batches("onehot", lo=-8.0, hi=8.0, dtype=np.float64),
       binary_logits=batches("binary", lo=-8.0, hi=8.0, dtype=np.float64))
def test_gradients_match_central_differences(onehot, binary, logits, binary_logits):
    """Loss.gradient (dL/dy_pred of the batch mean) and logits_forward_backward's dL/dz, in float64."""
    t, p, labels = onehot
    tb, pb, _ = binary
    tz, z, labels_z = logits
    tbz, zb, _ = binary_logits
    for loss, yt, yp in [(L.MeanSquaredError(), t, p), (L.CategoricalCrossentropy(), t, p),
                         (L.SparseCategoricalCrossentropy(), labels, p), (L.BinaryCrossentropy(), tb, pb),
                         (L.CategoricalCrossentropy(from_logits=True), tz, z),
                         (L.SparseCategoricalCrossentropy(from_logits=True), labels_z, z),
                         (L.BinaryCrossentropy(from_logits=True), tbz, zb)]:
        yp = yp.copy()
        analytic = loss.gradient(yt, yp)
        numeric = central_difference(lambda v: loss(yt, v), yp)
        assert np.allclose(analytic, numeric, rtol=1e-5, atol=1e-8), (type(loss).__name__, analytic, numeric)
        if loss.from_logits:
            assert np.allclose(loss.logits_forward_backward(yt, yp)[1], numeric, rtol=1e-5, atol=1e-8)


@examples(25)
@given(data=st.data())
def test_the_batch_mean_is_symmetric(data):
    """The batch mean does not depend on the order of the samples, and the mean over a concatenation is
    the size-weighted mean of the parts' means."""
    t, p, labels = data.draw(batches("onehot", dtype=np.float64))
    order = data.draw(st.permutations(range(len(labels))))
    cut = data.draw(st.integers(1, len(labels))) if len(labels) > 1 else 1
    for loss, yt in [(L.MeanSquaredError(), t), (L.CategoricalCrossentropy(), t),
                     (L.SparseCategoricalCrossentropy(), labels), (L.BinaryCrossentropy(), t)]:
        whole = loss(yt, p)
        assert np.isclose(loss(yt[order], p[order]), whole, rtol=1e-12, atol=1e-15)
        if cut < len(labels):
            parts = (cut * loss(yt[:cut], p[:cut]) + (len(labels) - cut) * loss(yt[cut:], p[cut:])) / len(labels)
            assert np.isclose(parts, whole, rtol=1e-12, atol=1e-15)


SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)


@examples(40)
@given(a=SHAPES, b=SHAPES, name=st.sampled_from(["mean_squared_error", "categorical_crossentropy",
                                                 "binary_crossentropy"]))
def test_mismatched_shapes_are_refused_naming_both(a, b, name):
    assume(a != b)
    with pytest.raises((ValueError, TypeError)) as err:
        getattr(L, name)(np.zeros(a), np.full(b, 0.5))
    assert_clean_error(err.value, name, a, b)
    with pytest.raises((ValueError, TypeError)) as err:
        L.get(name)(np.zeros(a), np.full(b, 0.5))
    assert_clean_error(err.value, a, b)


BAD_LABELS = st.one_of(
    st.integers(-2**63, -1), st.integers(5, 2**63 - 1),                        # outside [0, 4]
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not (v == int(v) and 0 <= v < 5)
                                                          if np.isfinite(v) else True),
    st.sampled_from([1e20, 1e300, -1e20, 2.5, True, "1", None, 3 + 0j]),
)


@examples(60)
@given(label=BAD_LABELS, n=st.integers(1, 4), from_logits=st.booleans())
def test_bad_labels_are_refused_cleanly(label, n, from_logits):
    """Sparse cross-entropy over 5 classes: a label that is not a whole number in [0, 4] (negative, too
    big, 1e20, fractional, NaN, inf, a bool, a string, None, complex) is a ValueError or TypeError that
    says what was expected; never a wrong number, an IndexError or a warning."""
    labels = np.array([label] * n if isinstance(label, bool) else [0] * (n - 1) + [label])    # [0, True] is [0, 1]
    y_pred = np.full((n, 5), 0.2)
    with no_numerical_warnings(), pytest.raises((ValueError, TypeError)) as err:
        L.sparse_categorical_crossentropy(labels, y_pred, from_logits=from_logits)
    assert_clean_error(err.value, "label")
    if isinstance(label, (int, float)) and not isinstance(label, bool) and np.isfinite(label) and label == int(label):
        assert_clean_error(err.value, "[0, 4]")
        shown = str(err.value)
        assert "-9223372036854775808" not in shown or label == -2**63, shown       # the value itself, not a cast


@examples(40)
@given(labels=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4), pred=hnp.array_shapes(min_dims=0, max_dims=3,
                                                                                          max_side=4))
def test_label_shapes_are_checked(labels, pred):
    """Integer labels must be (n,) or (n, 1) for y_pred (n, k): anything else names both shapes."""
    ok = len(pred) == 2 and labels in ((pred[0],), (pred[0], 1))
    y_pred = np.full(pred, 0.5)
    y = np.zeros(labels, dtype=np.int64)
    if ok:
        assert L.sparse_categorical_crossentropy(y, y_pred).shape == (pred[0],)
        return
    with pytest.raises((ValueError, TypeError)) as err:
        L.SparseCategoricalCrossentropy()(y, y_pred)
    assert_clean_error(err.value, "shape")


@examples(30)
@given(onehot=batches("onehot", dtype=np.float64), one_sample=st.booleans(), delta=st.sampled_from([1e-7, 1e-4]))
def test_the_notes_cross_entropy_error(onehot, one_sample, delta):
    """The notes' cross_entropy_error(y, t) = -sum(t log(y + delta)) / batch, with one-hot t or labels, a 1-D y
    being one sample; sum_squared_error = 0.5 sum((y - t)^2); a scalar y is refused."""
    t, y, labels = onehot
    if one_sample:
        t, y, labels = t[0], y[0], labels[:1]
    batch = 1 if y.ndim == 1 else len(y)
    expected = -np.sum(t * np.log(y + delta)) / batch
    assert np.isclose(L.cross_entropy_error(y, t, delta=delta), expected, rtol=1e-12)
    assert np.isclose(L.cross_entropy_error(y, labels if not one_sample else labels[0], delta=delta), expected,
                      rtol=1e-12)
    assert np.isclose(L.sum_squared_error(y, t), 0.5 * np.sum((y - t) ** 2), rtol=1e-12)
    with pytest.raises(ValueError, match="scalar"):
        L.cross_entropy_error(np.float64(0.5), 1)


LOSS_IDS = st.one_of(
    st.sampled_from(["mse", "MSE", "mae", "cce", "scce", "bce", "categorical_crossentropy", "binary_crossentropy",
                     "sparse_categorical_crossentropy", "mean_squared_error", "", "foo", "ms e"]),
    st.text("abcegmnorstyl_ ", max_size=10), st.integers(), st.none(), st.lists(st.just("mse"), max_size=2),
    st.builds(dict, class_name=st.sampled_from(["MeanSquaredError", "mean_squared_error", "Foo", 3]),
              config=st.one_of(st.none(), st.just({}), st.just([1]), st.just("x"), st.just({"x": 1}),
                               st.just({"from_logits": True}))),
    st.just(L.MeanSquaredError), st.just(L.BinaryCrossentropy(from_logits=True)), st.just(L.mean_squared_error))


@examples(50)
@given(identifier=LOSS_IDS)
@example(identifier={"class_name": "MeanSquaredError", "config": [1]})          # was dict()'s own message
def test_get_takes_a_loss_or_says_which(identifier):
    """losses.get of a name, a class, an instance, a glassnet loss function or a {"class_name", "config"}
    dict gives a Loss; anything else (unknown names, numbers, None, lists, configs that are not dicts of the
    class's arguments) is a ValueError/TypeError with a message, never another exception."""
    try:
        loss = L.get(identifier)
    except (ValueError, TypeError) as err:
        assert len(str(err)) > 20 and any(w in str(err) for w in ("loss", "config", "argument")), str(err)
        return
    assert isinstance(loss, L.Loss)
    value = loss(np.array([1]) if loss.sparse_labels else np.array([[0.0, 1.0]]), np.array([[0.2, 0.8]]))
    assert np.isfinite(value) and value >= 0
