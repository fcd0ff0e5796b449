"""The metric classes against scikit-learn's metrics on random data, with and without sample weights,
updated in several batches.

AUC keeps counts at num_thresholds thresholds, so it is the exact area of a coarser score: each
prediction replaced by its bucket (the number of inner thresholds below it).  The tests check
that identity against scikit-learn exactly, and bound the distance to the exact area of the raw
scores: for ROC by the pairs of a positive and a negative that share a bucket (at most half of
each such pair can be misjudged); for PR, scikit-learn's average precision of the buckets lies
between the "minoring" and "majoring" sums, which the "interpolation" sum lies between too.
"""
import numpy as np
import pytest

import glassnet as gn

sk = pytest.importorskip("sklearn.metrics")

N = 1000
SIZES = (128, 372, 500)


def _batched(metric, y_true, y_pred, weights=None):
    start = 0
    for size in SIZES:
        part = slice(start, start + size)
        metric.update_state(y_true[part], y_pred[part], sample_weight=None if weights is None else weights[part])
        start += size
    return np.asarray(metric.result(), dtype=np.float64)


@pytest.fixture(params=[False, True], ids=["unweighted", "weighted"])
def weights(request):
    return np.random.default_rng(9).uniform(0.1, 2.0, N) if request.param else None


@pytest.fixture
def binary():
    """Labels and sigmoid scores that carry some signal (AUC about 0.88)."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, N)
    p = (1 / (1 + np.exp(-(1.5 * (y - 0.5) + rng.normal(size=N))))).astype(np.float32)
    return y, p


@pytest.fixture
def classes():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 5, N)
    logits = rng.normal(size=(N, 5)) + 1.2 * np.eye(5)[labels]
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return labels, np.eye(5, dtype=np.float32)[labels], probs.astype(np.float32)


def test_accuracies_are_accuracy_score(classes, binary, weights):
    labels, onehot, probs = classes
    expected = sk.accuracy_score(labels, probs.argmax(axis=1), sample_weight=weights)
    assert _batched(gn.metrics.SparseCategoricalAccuracy(), labels, probs, weights) == pytest.approx(expected, abs=1e-12)
    assert _batched(gn.metrics.CategoricalAccuracy(), onehot, probs, weights) == pytest.approx(expected, abs=1e-12)
    assert _batched(gn.metrics.Accuracy(), labels, probs.argmax(axis=1), weights) == pytest.approx(expected, abs=1e-12)
    y, p = binary
    assert _batched(gn.metrics.BinaryAccuracy(threshold=0.7), y, p, weights) == \
        pytest.approx(sk.accuracy_score(y, p > 0.7, sample_weight=weights), abs=1e-12)
    assert 0.5 < expected < 0.9                           # the data carry signal, and room for error


def test_top_k_accuracies_are_top_k_accuracy_score(classes, weights):
    labels, onehot, probs = classes
    for k in (1, 2, 3):
        expected = sk.top_k_accuracy_score(labels, probs, k=k, sample_weight=weights)
        assert _batched(gn.metrics.SparseTopKCategoricalAccuracy(k=k), labels, probs, weights) == \
            pytest.approx(expected, abs=1e-12)
        assert _batched(gn.metrics.TopKCategoricalAccuracy(k=k), onehot, probs, weights) == \
            pytest.approx(expected, abs=1e-12)


def test_confusion_counts_are_the_confusion_matrix(binary, weights):
    y, p = binary
    for t in (0.3, 0.5, 0.8):
        tn, fp, fn, tp = sk.confusion_matrix(y, p > t, sample_weight=weights).ravel()
        ours = [_batched(getattr(gn.metrics, name)(thresholds=t), y, p, weights)
                for name in ("TrueNegatives", "FalsePositives", "FalseNegatives", "TruePositives")]
        np.testing.assert_allclose(ours, [tn, fp, fn, tp], rtol=1e-12)
    several = _batched(gn.metrics.TruePositives(thresholds=[0.3, 0.5, 0.8]), y, p, weights)
    np.testing.assert_allclose(several, [sk.confusion_matrix(y, p > t, sample_weight=weights)[1, 1]
                                         for t in (0.3, 0.5, 0.8)], rtol=1e-12)


def test_precision_and_recall_are_sklearns(binary, classes, weights):
    y, p = binary
    thresholds = [0.0, 0.25, 0.5, 0.75, 1.0]                  # evenly spaced: the one-pass bucket count
    for name, fn in (("Precision", sk.precision_score), ("Recall", sk.recall_score)):
        cls = getattr(gn.metrics, name)
        assert _batched(cls(), y, p, weights) == pytest.approx(fn(y, p > 0.5, sample_weight=weights), abs=1e-12)
        expected = [fn(y, p > t, sample_weight=weights, zero_division=0) for t in thresholds]
        np.testing.assert_allclose(_batched(cls(thresholds=thresholds), y, p, weights), expected, atol=1e-12)
        labels, onehot, probs = classes
        for c in (0, 3):                                        # class_id: one column, one-vs-rest
            assert _batched(cls(class_id=c), onehot, probs, weights) == \
                pytest.approx(fn(labels == c, probs[:, c] > 0.5, sample_weight=weights), abs=1e-12)
        # top_k=1: the argmax is the one positive of each row: micro precision = micro recall = accuracy
        assert _batched(cls(top_k=1), onehot, probs, weights) == \
            pytest.approx(sk.accuracy_score(labels, probs.argmax(axis=1), sample_weight=weights), abs=1e-12)


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_f1_score_is_sklearns(classes, weights, average):
    labels, onehot, probs = classes
    expected = sk.f1_score(labels, probs.argmax(axis=1), average=average, sample_weight=weights)
    np.testing.assert_allclose(_batched(gn.metrics.F1Score(average=average), onehot, probs, weights), expected,
                               atol=1e-6)                        # Keras's epsilon in the divisions
    multi = (np.random.default_rng(2).random((N, 3)) < 0.4).astype(np.float32)
    scores = np.clip(multi * 0.3 + np.random.default_rng(3).random((N, 3)) * 0.7, 0, 1)
    expected = sk.f1_score(multi, scores > 0.45, average=average, sample_weight=weights)
    np.testing.assert_allclose(_batched(gn.metrics.F1Score(average=average, threshold=0.45), multi, scores, weights),
                               expected, atol=1e-6)


def _buckets(p, num_thresholds):
    """The coarser score AUC measures: the bucket of each prediction, in the metric's float32."""
    return np.maximum(np.ceil(p.astype(np.float32) * np.float32(num_thresholds - 1)) - 1, 0)


@pytest.mark.parametrize("num_thresholds", [13, 200, 5000])
def test_roc_auc_is_roc_auc_score_of_the_buckets_and_close_to_the_exact_one(binary, weights, num_thresholds):
    y, p = binary
    ours = _batched(gn.metrics.AUC(num_thresholds=num_thresholds), y, p, weights)
    b = _buckets(p, num_thresholds)
    assert ours == pytest.approx(sk.roc_auc_score(y, b, sample_weight=weights), abs=1e-9)
    w = np.ones(N) if weights is None else weights
    pos = np.bincount(b[y == 1].astype(int), weights=w[y == 1], minlength=num_thresholds)
    neg = np.bincount(b[y == 0].astype(int), weights=w[y == 0], minlength=num_thresholds)
    bound = 0.5 * np.sum(pos * neg) / (pos.sum() * neg.sum())     # pairs sharing a bucket, half each at most
    exact = sk.roc_auc_score(y, p, sample_weight=weights)
    assert abs(ours - exact) <= bound + 1e-12
    assert bound < (0.05 if num_thresholds == 13 else 0.005 if num_thresholds == 200 else 1e-3)


@pytest.mark.parametrize("num_thresholds", [200, 5000])
def test_pr_auc_brackets_average_precision(binary, weights, num_thresholds):
    y, p = binary
    sums = {m: _batched(gn.metrics.AUC(num_thresholds=num_thresholds, curve="PR", summation_method=m), y, p, weights)
            for m in ("minoring", "interpolation", "majoring")}
    ap = sk.average_precision_score(y, _buckets(p, num_thresholds), sample_weight=weights)
    assert sums["minoring"] <= ap <= sums["majoring"] + 1e-12
    assert sums["minoring"] <= sums["interpolation"] <= sums["majoring"]
    width = sums["majoring"] - sums["minoring"]
    assert abs(sums["interpolation"] - sk.average_precision_score(y, p, sample_weight=weights)) <= width + 1e-3
    assert width < 0.01


def test_multi_label_auc_is_the_mean_of_per_label_roc_auc(weights):
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, (N, 3))
    p = np.clip(0.3 * y + 0.7 * rng.random((N, 3)), 0, 1).astype(np.float32)
    ours = _batched(gn.metrics.AUC(multi_label=True, num_thresholds=200), y, p, weights)
    b = _buckets(p, 200)
    expected = np.mean([sk.roc_auc_score(y[:, j], b[:, j], sample_weight=weights) for j in range(3)])
    assert ours == pytest.approx(expected, abs=1e-9)


def test_errors_are_sklearns(weights):
    rng = np.random.default_rng(5)
    t, p = rng.normal(size=(N, 3)), rng.normal(size=(N, 3))
    mse = sk.mean_squared_error(t, p, sample_weight=weights)
    assert _batched(gn.metrics.MeanSquaredError(), t, p, weights) == pytest.approx(mse, rel=1e-12)
    assert _batched(gn.metrics.RootMeanSquaredError(), t, p, weights) == pytest.approx(np.sqrt(mse), rel=1e-12)
    assert _batched(gn.metrics.MeanAbsoluteError(), t, p, weights) == \
        pytest.approx(sk.mean_absolute_error(t, p, sample_weight=weights), rel=1e-12)
    assert _batched(gn.metrics.MeanAbsolutePercentageError(), t, p, weights) == \
        pytest.approx(100 * sk.mean_absolute_percentage_error(t, p, sample_weight=weights), rel=1e-9)


def test_crossentropies_are_log_loss(binary, classes, weights):
    y, p = binary
    assert _batched(gn.metrics.BinaryCrossentropy(), y, p, weights) == \
        pytest.approx(sk.log_loss(y, p.astype(np.float64), sample_weight=weights), rel=1e-6)
    labels, onehot, probs = classes
    expected = sk.log_loss(labels, probs.astype(np.float64), sample_weight=weights)
    assert _batched(gn.metrics.SparseCategoricalCrossentropy(), labels, probs, weights) == pytest.approx(expected, rel=1e-6)
    assert _batched(gn.metrics.CategoricalCrossentropy(), onehot, probs, weights) == pytest.approx(expected, rel=1e-6)
    logits = np.log(probs.astype(np.float64)) + 3.0                 # the same distribution, shifted logits
    assert _batched(gn.metrics.SparseCategoricalCrossentropy(from_logits=True), labels, logits, weights) == \
        pytest.approx(expected, rel=1e-6)


def test_mean_is_the_weighted_average(weights):
    values = np.random.default_rng(6).normal(size=N)
    m = gn.metrics.Mean()
    for part in np.split(np.arange(N), [100, 600]):
        m.update_state(values[part], sample_weight=None if weights is None else weights[part])
    assert float(m.result()) == pytest.approx(np.average(values, weights=weights), rel=1e-12)
