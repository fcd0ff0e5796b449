"""The metric classes against Keras 3's own (on torch): the same random data, updated in three batches
of different sizes, with and without sample weights; the results agree to 1e-6 (Keras accumulates in
float32, glassnet in float64).  Their configs are Keras's, key for key, so files carry them both ways,
and every name Keras's `metrics.get` knows gives the same class here.
"""
import numpy as np
import pytest

import glassnet as gn

pytestmark = [pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]

N, K = 300, 4
SIZES = (70, 130, 100)


def _data():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, K, N)
    d = {"labels": labels, "onehot": np.eye(K, dtype="float32")[labels],
         "probs": rng.dirichlet(np.ones(K), N).astype("float32"), "logits": rng.normal(size=(N, K)).astype("float32"),
         "guess": rng.integers(0, K, N), "y01": rng.integers(0, 2, (N, 1)).astype("float32"),
         "p01": rng.random((N, 1)).astype("float32"), "z01": rng.normal(size=(N, 1)).astype("float32"),
         "ymulti": rng.integers(0, 2, (N, 3)).astype("float32"), "pmulti": rng.random((N, 3)).astype("float32"),
         "zmulti": rng.normal(size=(N, 3)).astype("float32"),
         "target": rng.normal(size=(N, 2)).astype("float32"), "guessed": rng.normal(size=(N, 2)).astype("float32"),
         "weights": rng.random(N).astype("float32")}
    return d


DATA = _data()

# (class name, keyword arguments, y_true, y_pred)
CASES = [
    ("Accuracy", {}, "labels", "guess"),
    ("BinaryAccuracy", {"threshold": 0.3}, "y01", "p01"),
    ("BinaryAccuracy", {}, "ymulti", "pmulti"),
    ("CategoricalAccuracy", {}, "onehot", "probs"),
    ("SparseCategoricalAccuracy", {}, "labels", "probs"),
    ("TopKCategoricalAccuracy", {"k": 2}, "onehot", "probs"),
    ("SparseTopKCategoricalAccuracy", {"k": 3}, "labels", "probs"),
    ("MeanSquaredError", {}, "target", "guessed"),
    ("MeanAbsoluteError", {}, "target", "guessed"),
    ("RootMeanSquaredError", {}, "target", "guessed"),
    ("MeanAbsolutePercentageError", {}, "target", "guessed"),
    ("BinaryCrossentropy", {}, "y01", "p01"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "ymulti", "zmulti"),
    ("CategoricalCrossentropy", {}, "onehot", "probs"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, "onehot", "logits"),
    ("SparseCategoricalCrossentropy", {}, "labels", "probs"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "labels", "logits"),
    ("TruePositives", {}, "y01", "p01"),
    ("FalsePositives", {"thresholds": [0.2, 0.5, 0.9]}, "ymulti", "pmulti"),
    ("TrueNegatives", {"thresholds": 0.7}, "y01", "p01"),
    ("FalseNegatives", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, "ymulti", "pmulti"),   # evenly: buckets
    ("Precision", {}, "y01", "p01"),
    ("Precision", {"thresholds": [0.3, 0.7]}, "ymulti", "pmulti"),
    ("Precision", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, "ymulti", "pmulti"),
    ("Precision", {"top_k": 2}, "onehot", "probs"),
    ("Precision", {"class_id": 1}, "onehot", "probs"),
    ("Precision", {"top_k": 1, "class_id": 2}, "onehot", "probs"),
    ("Recall", {}, "y01", "p01"),
    ("Recall", {"thresholds": [0.3, 0.7]}, "ymulti", "pmulti"),
    ("Recall", {"top_k": 2}, "onehot", "probs"),
    ("Recall", {"class_id": 3}, "onehot", "probs"),
    ("AUC", {}, "y01", "p01"),
    ("AUC", {"curve": "PR"}, "y01", "p01"),
    ("AUC", {"num_thresholds": 13}, "y01", "p01"),
    ("AUC", {"curve": "PR", "summation_method": "minoring"}, "y01", "p01"),
    ("AUC", {"summation_method": "majoring"}, "y01", "p01"),
    ("AUC", {"thresholds": [0.1, 0.5, 0.9]}, "y01", "p01"),
    ("AUC", {"thresholds": [0.25, 0.5, 0.75]}, "y01", "p01"),
    ("AUC", {"from_logits": True}, "y01", "z01"),
    ("AUC", {"curve": "PRGAIN"}, "y01", "p01"),
    ("AUC", {}, "ymulti", "pmulti"),
    ("AUC", {"label_weights": [1.0, 2.0, 0.5]}, "ymulti", "pmulti"),
    ("AUC", {"multi_label": True}, "ymulti", "pmulti"),
    ("AUC", {"multi_label": True, "curve": "PR", "label_weights": [1.0, 2.0, 0.5]}, "ymulti", "pmulti"),
    ("F1Score", {}, "onehot", "probs"),
    ("F1Score", {"average": "micro"}, "onehot", "probs"),
    ("F1Score", {"average": "macro", "threshold": 0.4}, "ymulti", "pmulti"),
    ("F1Score", {"average": "weighted"}, "onehot", "probs"),
    ("FBetaScore", {"average": "macro", "beta": 2.0}, "onehot", "probs"),
]


def _update_in_batches(metric, y_true, y_pred, weights):
    start = 0
    for size in SIZES:
        part = slice(start, start + size)
        metric.update_state(y_true[part], y_pred[part], sample_weight=None if weights is None else weights[part])
        start += size
    return np.asarray(metric.result(), dtype=np.float64)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name, kwargs, y_true, y_pred", CASES, ids=[f"{c[0]}{c[1] or ''}" for c in CASES])
def test_results_match_keras_over_batches(keras, name, kwargs, y_true, y_pred, weighted):
    weights = DATA["weights"] if weighted else None
    ours = _update_in_batches(getattr(gn.metrics, name)(**kwargs), DATA[y_true], DATA[y_pred], weights)
    theirs = _update_in_batches(getattr(keras.metrics, name)(**kwargs), DATA[y_true], DATA[y_pred], weights)
    assert ours.shape == theirs.shape
    # Keras sums in float32: its counts (up to a few hundred) carry errors of a few float32 ulps of the largest
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6 * max(1.0, np.abs(theirs).max()))
    assert np.any(np.abs(ours) > 1e-3), "a case whose result is 0 would test little"


@pytest.mark.parametrize("name, kwargs, y_true, y_pred", CASES, ids=[f"{c[0]}{c[1] or ''}" for c in CASES])
def test_configs_are_keras_configs(keras, name, kwargs, y_true, y_pred):
    ours = getattr(gn.metrics, name)(name="m", **kwargs).get_config()
    theirs = getattr(keras.metrics, name)(name="m", **kwargs).get_config()
    if theirs.get("label_weights") is not None:
        theirs["label_weights"] = np.asarray(theirs["label_weights"]).tolist()
    assert ours == theirs
    rebuilt = getattr(keras.metrics, name).from_config(ours)     # Keras takes glassnet's config as it is
    assert rebuilt.name == "m"


def test_reset_state_and_call_work_as_in_keras(keras):
    ours, theirs = gn.metrics.AUC(), keras.metrics.AUC()
    for m in (ours, theirs):
        m.update_state(DATA["y01"][:100], DATA["p01"][:100])
        m.reset_state()
    a = ours(DATA["y01"][100:200], DATA["p01"][100:200])          # __call__: update_state, then result
    b = theirs(DATA["y01"][100:200], DATA["p01"][100:200])
    assert float(a) == pytest.approx(float(b), abs=1e-6)
    assert a.numpy() == pytest.approx(b.numpy(), abs=1e-6)        # Keras's .numpy() on the result
    assert [v.name for v in ours.variables] == [v.path.split("/")[-1] for v in theirs.variables]


def test_ignore_class_leaves_those_samples_out_of_the_mean(keras):
    """Keras leaves them out only when sample weights are given (without, it averages in zeros);
    glassnet leaves them out always.  With weights both agree; without, a hand computation decides."""
    labels, probs, w = DATA["labels"], DATA["probs"], DATA["weights"]
    ours = _update_in_batches(gn.metrics.SparseCategoricalCrossentropy(ignore_class=2), labels, probs, w)
    theirs = _update_in_batches(keras.metrics.SparseCategoricalCrossentropy(ignore_class=2), labels, probs, w)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    kept = labels != 2
    p = probs / probs.sum(axis=1, keepdims=True)
    by_hand = -np.log(np.clip(p[np.arange(N), labels], 1e-7, 1 - 1e-7))[kept].mean()
    plain = _update_in_batches(gn.metrics.SparseCategoricalCrossentropy(ignore_class=2), labels, probs, None)
    assert plain == pytest.approx(by_hand, rel=1e-6)


KERAS_NAMES = ["accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
               "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "mean_squared_error", "mse",
               "mean_absolute_error", "mae", "mean_absolute_percentage_error", "mape", "root_mean_squared_error",
               "binary_crossentropy", "bce", "categorical_crossentropy", "sparse_categorical_crossentropy",
               "true_positives", "false_positives", "true_negatives", "false_negatives", "precision", "recall",
               "auc", "f1_score", "f_beta_score", "mean", "sum", "Precision", "AUC", "F1Score", "TopKCategoricalAccuracy",
               "RootMeanSquaredError", "BinaryCrossentropy", "TruePositives"]


@pytest.mark.parametrize("name", KERAS_NAMES)
def test_every_keras_name_gives_the_same_metric(keras, name):
    """A class for a class's name; for names that are also functions, glassnet gives the function (compile
    averages it per sample, which is what the class computes without weights); "accuracy" is resolved
    by compile from the loss, as Keras resolves it from the targets."""
    theirs = keras.metrics.get(name)
    ours = gn.metrics.get(name)
    if isinstance(ours, gn.metrics.Metric):
        assert type(ours).__name__ == type(theirs).__name__
        assert ours.get_config().keys() == theirs.get_config().keys()
    else:
        assert name in ("accuracy",) or type(theirs).__name__.lower() == \
            gn.metrics.get(type(theirs).__name__).name.replace("_", "")
        rng = np.random.default_rng(1)
        labels = rng.integers(0, 7, N)                 # 7 classes: top_k's default k = 5 needs more than 5
        y, p = np.eye(7)[labels], rng.dirichlet(np.ones(7), N)
        if "sparse" in name:
            y = labels
        elif name in ("binary_accuracy", "binary_crossentropy", "bce"):
            y, p = DATA["y01"], DATA["p01"]
        elif name in ("mse", "mae", "mape") or "error" in name:
            y, p = DATA["target"], DATA["guessed"]
        if name != "accuracy":
            theirs.update_state(y, p)
            assert np.mean(ours(y, p)) == pytest.approx(float(theirs.result()), rel=1e-6)
