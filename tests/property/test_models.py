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


@examples(30)
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


@examples(12)
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


HOSTILE = [0, -1, 1, 2, 2.5, True, None, "2", float("nan"), float("inf"), 10**12, [], (2,), np.int64(2), np.float64(0.5)]
#: fit's arguments, each with values that cannot be right (refused) besides the hostile values above (either way)
#: and, for the weights, negative ones (either way: Keras takes them)
ARGUMENTS = {
    "batch_size": [0, -1, "2", 2.5, float("nan")], "epochs": [-1, "2", 2.5, float("nan")],
    "validation_split": [-0.1, 1.0, 1.5, float("nan"), "0.2"], "initial_epoch": [-1, 2.5, "1"],
    "shuffle": [], "steps_per_epoch": [0, -1, 2.5, "1"], "validation_freq": [0, -1, 2.5],
    "sample_weight": ["nan", "rows+1", "2-d", "string"], "class_weight": ["nan", "string"],
    "validation_data": ["nan", "features+1", "rows+1", "single"],
}


def argument_value(name, value, n, rng):
    """A sample_weight / class_weight / validation_data built as `value` names; other arguments as they are."""
    if name == "sample_weight" and value in ARGUMENTS[name] + ["negative"]:
        w = rng.uniform(0.5, 2, n)
        return {"nan": np.where(np.arange(n) == 0, np.nan, w), "negative": -w, "rows+1": np.append(w, 1.0),
                "2-d": np.stack([w, w], 1), "string": w.astype(str)}[value]
    if name == "class_weight" and value in ARGUMENTS[name] + ["negative"]:
        return {"nan": {0: np.nan, 1: 1.0}, "negative": {0: -1.0, 1: 1.0}, "string": {0: "1", 1: 1.0}}[value]
    if name == "validation_data" and value in ARGUMENTS[name]:
        xv, yv = rng.normal(size=(3, 2)), rng.integers(0, 2, 3)
        return {"nan": (np.full((3, 2), np.nan), yv), "features+1": (rng.normal(size=(3, 3)), yv),
                "rows+1": (xv, np.append(yv, 0)), "single": (xv,)}[value]
    return value


@examples(40)
@given(name=st.sampled_from(sorted(ARGUMENTS)), data=st.data(), n=st.integers(2, 6), seed=st.integers(0, 2**16))
def test_fit_arguments_train_or_are_refused_cleanly(name, data, n, seed):
    """One of fit's arguments set to an odd value (0, -1, 2.5, True, None, "2", NaN, inf, 10**12, [], ...):
    fit trains, or raises a ValueError/TypeError naming the argument; a value that cannot be right (a batch
    size of 0, a negative epoch count, NaN or negative sample weights, ...) is always refused."""
    value = data.draw(st.sampled_from(ARGUMENTS[name] + HOSTILE + ["negative"] * (name in ("sample_weight",
                                                                                              "class_weight"))))
    must_refuse = value in ARGUMENTS[name] if not isinstance(value, float) or value == value else \
        any(isinstance(v, float) and v != v for v in ARGUMENTS[name])
    if name == "epochs" and value == 10**12 or name == "steps_per_epoch" and value == 10**12:
        return                                                 # trains for ever: not a property to wait for
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n, 2)), rng.integers(0, 2, n)
    model = model_of(2, 2, "scce", "float64", seed)
    model.compile("sgd", "sparse_categorical_crossentropy")
    kwargs = {"batch_size": 2, "epochs": 1, "verbose": 0, name: argument_value(name, value, n, rng)}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", gn.doctor.TrainingWarning)
            history = model.fit(x, y, **kwargs)
    except (ValueError, TypeError) as err:
        event(f"{name}: refused")
        assert len(str(err)) > 20, f"a bare message: {err!r}"
        return
    event(f"{name}: trained")
    assert not must_refuse, f"fit({name}={kwargs[name]!r}) was accepted"
    assert all(np.isfinite(v).all() for v in history.history.values()), history.history


@st.composite
def stacks(draw):
    """A small float64 model: Dense layers on vectors, or Conv2D / pooling / Flatten on little images."""
    image = draw(st.booleans())
    if image:
        h, w, c = draw(st.integers(3, 5)), draw(st.integers(3, 5)), draw(st.integers(1, 2))
        shape = (h, w, c)
        layers = [L.Conv2D(2, draw(st.integers(1, 3)), padding=draw(st.sampled_from(["valid", "same"])),
                           activation=draw(st.sampled_from(["tanh", "sigmoid", "linear"])), dtype="float64")]
        if draw(st.booleans()):
            layers.append(draw(st.sampled_from([L.MaxPooling2D, L.AveragePooling2D]))(
                2, padding="same", dtype="float64"))
        layers.append(L.Flatten(dtype="float64"))
    else:
        shape = (draw(st.integers(1, 3)),)
        layers = [L.Dense(draw(st.integers(1, 3)), activation=draw(st.sampled_from(["tanh", "sigmoid", "swish", "elu"])),
                          dtype="float64")]
    if draw(st.booleans()):
        layers.append(L.BatchNormalization(dtype="float64"))
    return shape, layers


@examples(8)
@given(stack=stacks(), head=st.sampled_from(["cce", "scce", "bce", "mse", "scce-logits"]), k=st.integers(2, 3),
       n=st.integers(2, 4), weighted=st.booleans(), seed=st.integers(0, 2**16))
def test_training_gradients_match_central_differences(stack, head, k, n, weighted, seed):
    """compute_gradients (the training step's backward: fused softmax/sigmoid cross-entropy, BatchNormalization
    in training mode, sample weights) against central differences of its own loss, for every weight."""
    shape, layers = stack
    gn.set_random_seed(seed)
    model = gn.Sequential([L.Input(shape)] + layers + [L.Dense(k, activation=HEADS[head], dtype="float64")])
    loss = gn.losses.SparseCategoricalCrossentropy(from_logits=True) if head == "scce-logits" else \
        {"cce": "categorical_crossentropy", "scce": "sparse_categorical_crossentropy", "bce": "binary_crossentropy",
         "mse": "mse"}[head]
    model.compile("sgd", loss)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n,) + shape)
    y = targets("right", head, n, k, rng)
    w = rng.uniform(0.5, 2.0, n) if weighted else None
    weights = model.get_weights()
    _, grads = model.compute_gradients(x, y, sample_weight=w)
    for i, (array, grad) in enumerate(zip(weights, grads)):
        numeric = np.zeros_like(array)
        for j in np.ndindex(array.shape):
            value = []
            for step in (1e-6, -1e-6):
                moved = [a.copy() for a in weights]
                moved[i][j] += step
                model.set_weights(moved)
                value.append(model.compute_gradients(x, y, sample_weight=w)[0])
            numeric[j] = (value[0] - value[1]) / 2e-6
        model.set_weights(weights)
        if not np.any(grad) and not np.any(numeric):
            continue
        scale = max(np.abs(numeric).max(), np.abs(grad).max())
        assert np.abs(grad - numeric).max() <= 1e-6 * scale + 1e-9, (i, grad, numeric)
