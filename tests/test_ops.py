"""glassnet.ops against keras.ops (Keras 3 on torch): the same values, shapes and (for the conversions)
dtypes, on random inputs."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import ops

rng = np.random.default_rng(0)
X = rng.normal(size=(4, 5)).astype("float32")
Y = rng.normal(size=(4, 5)).astype("float32")
P = rng.uniform(0.05, 0.95, size=(4, 5)).astype("float32")
T = (rng.uniform(size=(4, 5)) > 0.5).astype("float32")
LABELS = np.array([0, 3, 1, 4])

CASES = {
    "abs": (X,), "negative": (X,), "square": (X,), "sqrt": (np.abs(X),), "exp": (X,), "log": (P,),
    "log1p": (P,), "expm1": (X,), "sign": (X,), "floor": (X,), "ceil": (X,), "tanh": (X,), "sin": (X,),
    "cos": (X,), "isnan": (X,), "isfinite": (X,), "logical_not": (X > 0,),
    "add": (X, Y), "subtract": (X, Y), "multiply": (X, Y), "divide": (X, Y + 3), "power": (P, Y),
    "maximum": (X, Y), "minimum": (X, Y), "equal": (X, X.round()), "not_equal": (X, Y), "greater": (X, Y),
    "greater_equal": (X, Y), "less": (X, Y), "less_equal": (X, Y), "logical_and": (X > 0, Y > 0),
    "logical_or": (X > 0, Y > 0), "matmul": (X, Y.T), "mod": (X, 0.7), "floor_divide": (X, 0.7),
    "relu": (X,), "sigmoid": (X,), "softplus": (X,), "softmax": (X,), "log_softmax": (X,),
    "transpose": (X,), "flip": (X,), "sort": (X,), "argsort": (X,), "cumsum": (X,),
}
REDUCTIONS = ["mean", "sum", "max", "min", "prod", "std", "var", "argmax", "argmin", "logsumexp", "all", "any"]


def _close(ours, theirs):
    theirs = np.asarray(theirs)
    assert np.shape(ours) == theirs.shape
    np.testing.assert_allclose(np.asarray(ours, dtype=np.float64), theirs.astype(np.float64), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_elementwise_and_shape_functions_match_keras(keras, name):
    args = CASES[name]
    _close(getattr(ops, name)(*args), keras.ops.convert_to_numpy(getattr(keras.ops, name)(*args)))


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("axis, keepdims", [(None, False), (-1, False), (0, True)])
def test_reductions_match_keras(keras, name, axis, keepdims):
    x = X > 0 if name in ("all", "any") else X
    ours = getattr(ops, name)(x, axis=axis, keepdims=keepdims)
    theirs = keras.ops.convert_to_numpy(getattr(keras.ops, name)(x, axis=axis, keepdims=keepdims))
    _close(ours, theirs)


def test_one_hot_cast_and_conversions_match_keras(keras):
    for ours, theirs in [(ops.one_hot(LABELS, 5), keras.ops.one_hot(LABELS, 5)),
                         (ops.one_hot(LABELS.astype("float32"), 5), keras.ops.one_hot(LABELS, 5)),
                         (ops.convert_to_tensor([1.5, 2.0]), keras.ops.convert_to_tensor([1.5, 2.0])),
                         (ops.cast(X, "int32"), keras.ops.cast(X, "int32")),
                         (ops.ones((2, 3)), keras.ops.ones((2, 3))), (ops.eye(3), keras.ops.eye(3))]:
        theirs = keras.ops.convert_to_numpy(theirs)
        assert np.asarray(ours).dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(ops.one_hot([0, 7], 3), [[1, 0, 0], [0, 0, 0]])     # out of range: zeros


def test_shapes_joins_and_picks_match_keras(keras):
    k = keras.ops
    pairs = [
        (ops.reshape(X, (5, 4)), k.reshape(X, (5, 4))), (ops.expand_dims(X, 1), k.expand_dims(X, 1)),
        (ops.squeeze(X[:, :1], axis=1), k.squeeze(X[:, :1], axis=1)),
        (ops.concatenate([X, Y], axis=1), k.concatenate([X, Y], axis=1)), (ops.stack([X, Y]), k.stack([X, Y])),
        (ops.take(X, [2, 0], axis=1), k.take(X, np.array([2, 0]), axis=1)),
        (ops.take_along_axis(X, np.argsort(X, axis=1), axis=1), k.take_along_axis(X, np.argsort(X, axis=1), axis=1)),
        (ops.where(X > 0, X, Y), k.where(X > 0, X, Y)), (ops.clip(X, -0.5, 0.5), k.clip(X, -0.5, 0.5)),
        (ops.tile(X, (2, 1)), k.tile(X, (2, 1))), (ops.repeat(X, 2, axis=0), k.repeat(X, 2, axis=0)),
        (ops.norm(X, axis=1), k.norm(X, axis=1)), (ops.round(X, 1), k.round(X, 1)),
        (ops.top_k(X, 2)[0], k.top_k(X, 2)[0]), (ops.top_k(X, 2)[1], k.top_k(X, 2)[1]),
    ]
    for ours, theirs in pairs:
        _close(ours, k.convert_to_numpy(theirs))


@pytest.mark.parametrize("from_logits", [False, True])
def test_the_cross_entropies_match_keras(keras, from_logits):
    k = keras.ops
    z = X if from_logits else P
    _close(ops.binary_crossentropy(T, z, from_logits=from_logits),
           k.convert_to_numpy(k.binary_crossentropy(T, z, from_logits=from_logits)))
    onehot = np.eye(5, dtype="float32")[LABELS]
    probs = z if from_logits else P / P.sum(axis=1, keepdims=True)
    _close(ops.categorical_crossentropy(onehot, probs, from_logits=from_logits),
           k.convert_to_numpy(k.categorical_crossentropy(onehot, probs, from_logits=from_logits)))
    _close(ops.sparse_categorical_crossentropy(LABELS, probs, from_logits=from_logits),
           k.convert_to_numpy(k.sparse_categorical_crossentropy(LABELS, probs, from_logits=from_logits)))


def test_ops_work_on_glassnet_weights_and_refuse_what_is_not_a_number():
    dense = gn.layers.Dense(2)
    dense.build((None, 3))
    assert type(ops.square(dense.kernel)) is np.ndarray                  # a plain array, not a weight view
    with pytest.raises(TypeError, match="dtype must name a NumPy type"):
        ops.cast(X, object())
    with pytest.raises(TypeError, match="integer labels"):
        ops.one_hot(np.array(["a"]), 3)
    with pytest.raises(ValueError, match="no sparse"):
        ops.one_hot(LABELS, 5, sparse=True)
    assert "mean" in ops.__all__ and "_t" not in ops.__all__ and ops.abs.__name__ == "abs"
