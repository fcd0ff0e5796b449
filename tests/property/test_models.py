"""Properties of Sequential.fit and predict over random small models and data: fit either trains (finite
loss, weights change) or raises a clean ValueError/TypeError with a message, never another exception;
targets that cannot be right (NaN, out-of-range or fractional labels, the wrong number of rows, strings)
are always refused; predict does not depend on batch_size (exactly in float64, to rounding in float32),
and the prediction of a concatenation is the concatenation of the predictions."""
import warnings

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import glassnet as gn
from property._helpers import examples

pytestmark = pytest.mark.usefixtures("isolated_random_state")
L = gn.layers
HEADS = {"cce": "softmax", "scce": "softmax", "bce": "sigmoid", "mse": "linear", "scce-logits": "linear"}
#: kinds of targets: "right" ones must train, "bad" ones must be refused, "either" may go both ways
RIGHT, BAD, EITHER = "right", "bad", "either"
TARGETS = {"right": RIGHT, "column": RIGHT, "nan": BAD, "inf": BAD, "rows+1": BAD, "rows-1": BAD, "string": BAD,
           "out-of-range": BAD, "fraction": BAD, "3-d": BAD, "bool": EITHER, "swapped": EITHER, "object": EITHER}
#: kinds of broken inputs (all refused; "1-d" is a column of one feature, fine where the model takes one)
X_KINDS = ["nan", "inf", "features+1", "3-d", "string", "1-d"]


def model_of(features, k, head, dtype, seed, hidden=3, extra=None):
    gn.set_random_seed(seed)
    layers = [L.Input((features,)), L.Dense(hidden, activation="tanh", dtype=dtype)]
    layers += [{"bn": lambda: L.BatchNormalization(dtype=dtype), "dropout": lambda: L.Dropout(0.3, dtype=dtype)}[e]()
               for e in (extra or [])]
    return gn.Sequential(layers + [L.Dense(k, activation=HEADS[head], dtype=dtype)])


def targets(kind, head, n, k, rng):
    """y for n samples and k outputs: right for the loss, or broken in the way `kind` names."""
    sparse = head.startswith("scce")
    labels = rng.integers(0, k, n)
    if head == "cce":
        y = np.eye(k)[labels]
    elif sparse:
        y = labels
    elif head == "bce":
        y = rng.integers(0, 2, (n, k)).astype(np.float64)
    else:
        y = rng.normal(size=(n, k))
    if kind == "column":
        y = y[:, None] if y.ndim == 1 else y
    elif kind in ("nan", "inf"):
        y = y.astype(np.float64)
        y.flat[rng.integers(0, y.size)] = np.nan if kind == "nan" else np.inf
    elif kind == "rows+1":
        y = np.concatenate([y, y[:1]])
    elif kind == "rows-1":
        y = y[:-1]
    elif kind == "string":
        y = y.astype(str)
    elif kind == "out-of-range":
        y = labels.copy() if sparse or head == "cce" else y
        y[rng.integers(0, n)] = rng.choice([-1, k, 2**40])
        if head == "bce":
            y = np.where(y == y.flat[0], 3.0, y)
        elif head == "mse":
            return None
    elif kind == "fraction":
        if head == "mse":
            return None
        y = y.astype(np.float64) + (0.5 if sparse else 0.0)
        if not sparse:
            y.flat[0] = 0.5 if head == "cce" else 1.5          # a one-hot row summing to 1.5; a target above 1
    elif kind == "3-d":
        y = np.repeat(y.reshape(n, 1, -1), 2, axis=1)
    elif kind == "bool":
        y = y.astype(bool)
    elif kind == "swapped":                                     # one-hot for sparse, labels for one-hot
        y = np.eye(k)[labels] if sparse else labels
    elif kind == "object":
        y = y.astype(object)
    return y


@examples(40)
@given(n=st.integers(1, 7), features=st.integers(1, 3), k=st.integers(1, 3), head=st.sampled_from(sorted(HEADS)),
       dtype=st.sampled_from(["float32", "float64"]), x_dtype=st.sampled_from(["float32", "float64", "int64", "uint8",
                                                                              "bool"]),
       kind=st.sampled_from(sorted(TARGETS)), x_kind=st.sampled_from(["right"] * 6 + X_KINDS), optimizer=st.sampled_from(["sgd", "adam", "rmsprop"]),
       batch=st.integers(1, 10), epochs=st.integers(1, 2), shuffle=st.booleans(), seed=st.integers(0, 2**16))
def test_fit_trains_or_refuses_cleanly(n, features, k, head, dtype, x_dtype, kind, x_kind, optimizer, batch, epochs,
                                       shuffle, seed):
    if head in ("cce", "scce", "scce-logits") and k == 1:
        k = 2                                                  # softmax over one class is constant: nothing to learn
    rng = np.random.default_rng(seed)
    y = targets(kind, head, n, k, rng)
    if y is None:
        return
    x = (rng.normal(size=(n, features)) * 3).astype(x_dtype)
    if x_kind in ("nan", "inf"):
        x = x.astype(np.float64)
        x.flat[rng.integers(0, x.size)] = np.nan if x_kind == "nan" else -np.inf
    elif x_kind == "features+1":
        x = np.concatenate([x, x[:, :1]], axis=1)
    elif x_kind == "3-d":
        x = np.repeat(x[:, None], 2, axis=1)
    elif x_kind == "string":
        x = x.astype(str)
    elif x_kind == "1-d":
        x = x[:, 0]
    model = model_of(features, k, head, dtype, seed)
    loss = gn.losses.SparseCategoricalCrossentropy(from_logits=True) if head == "scce-logits" else \
        {"cce": "categorical_crossentropy", "scce": "sparse_categorical_crossentropy", "bce": "binary_crossentropy",
         "mse": "mse"}[head]
    model.compile(optimizer=optimizer, loss=loss)
    before = [w.copy() for w in model.get_weights()]
    batch_size = min(batch, n + 3)
    expected = TARGETS[kind] if kind != "fraction" or head.startswith("scce") else EITHER   # soft targets: Keras's too
    if x_kind != "right":
        expected = EITHER if x_kind == "1-d" and features == 1 and expected != BAD else BAD
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", gn.doctor.TrainingWarning)
            history = model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=shuffle, verbose=0)
    except (ValueError, TypeError) as err:
        event(f"y {kind}, x {x_kind}: refused")
        assert expected != RIGHT, f"right targets refused: {type(err).__name__}: {err}"
        assert len(str(err)) > 20, f"a bare message: {err!r}"
        return
    event(f"y {kind}, x {x_kind}: trained")
    assert expected != BAD, f"{kind} targets {y!r} and {x_kind} inputs {x!r} were accepted"
    losses = history.history["loss"]
    assert len(losses) == epochs and np.isfinite(losses).all(), losses
    after = model.get_weights()
    assert all(w.dtype == np.dtype(dtype) for w in after)
    assert any(not np.array_equal(a, b) for a, b in zip(before, after)), "fit changed no weight"


@examples(25)
@given(n=st.integers(1, 9), m=st.integers(1, 5), features=st.integers(1, 3), k=st.integers(1, 3),
       head=st.sampled_from(["cce", "bce", "mse"]), dtype=st.sampled_from(["float32", "float64"]),
       extra=st.lists(st.sampled_from(["bn", "dropout"]), max_size=2), seed=st.integers(0, 2**16))
def test_predict_does_not_depend_on_batches(n, m, features, k, head, dtype, extra, seed):
    """predict(x, batch_size=b) is the same for every b in 1..n+3 (and for the default), to rounding;
    predict(concatenate([a, b])) = concatenate([predict(a), predict(b)]). Not bit for bit in float64:
    NumPy's matrix product rounds an (n, d) @ (d, 1) product differently from its rows one at a time
    (OpenBLAS's matrix-vector kernel; 1 of 10 random cases with d = 2 or 3), so a Dense layer of one unit does too."""
    model = model_of(features, k, head, dtype, seed, extra=extra)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(size=w.shape) if w.ndim > 1 else rng.uniform(0.5, 1.5, size=w.shape)
                       for w in model.get_weights()])
    x = rng.normal(size=(n, features)) * 2
    a, b = x, rng.normal(size=(m, features))
    whole = model.predict(x, verbose=0)
    assert whole.shape == (n, k) and whole.dtype == np.dtype(dtype)

    def same(u, v):     # float64: to rounding (NumPy's own (n, d) @ (d, 1) differs from row by row in the last bit)
        return np.allclose(u, v, rtol=1e-14, atol=1e-15) if dtype == "float64" else np.allclose(u, v, rtol=1e-5, atol=1e-6)
    for batch_size in range(1, n + 4):
        assert same(model.predict(x, batch_size=batch_size, verbose=0), whole), f"batch_size={batch_size}"
    joined = model.predict(np.concatenate([a, b]), verbose=0)
    assert same(joined, np.concatenate([model.predict(a, verbose=0), model.predict(b, verbose=0)]))
