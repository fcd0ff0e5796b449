"""glassnet.metrics.confusion_matrix (the counts `glassnet evaluate` prints and glassnet.plot draws):
a hand-worked example and scikit-learn's confusion_matrix as an independent reference."""
import numpy as np
import pytest

from glassnet import metrics


def test_a_hand_worked_three_class_example():
    # sample:  0  1  2  3  4  5  6  7  8  9
    y_true = [2, 0, 2, 2, 0, 1, 1, 2, 0, 2]
    y_pred = [2, 0, 1, 2, 2, 1, 0, 0, 0, 2]
    # true 0 (samples 1, 4, 8): predicted 0, 2, 0        -> [2, 0, 1]
    # true 1 (samples 5, 6):    predicted 1, 0           -> [1, 1, 0]
    # true 2 (samples 0, 2, 3, 7, 9): 2, 1, 2, 0, 2      -> [1, 1, 3]
    expected = [[2, 0, 1],
                [1, 1, 0],
                [1, 1, 3]]
    counts = metrics.confusion_matrix(y_true, y_pred)
    assert counts.dtype == np.int64 and counts.tolist() == expected
    assert counts.sum() == 10 and np.trace(counts) == 6                  # 6 of 10 right: accuracy 0.6
    # one-hot rows and probabilities become labels by argmax; (n, 1) columns are labels
    probabilities = np.eye(3)[y_pred] * 0.8 + 0.1
    assert metrics.confusion_matrix(np.eye(3)[y_true], probabilities).tolist() == expected
    assert metrics.confusion_matrix(np.array(y_true)[:, None], np.array(y_pred, dtype=float)).tolist() == expected
    # more classes than labels seen: rows and columns of zeros
    assert metrics.confusion_matrix([0, 1], [1, 1], num_classes=3).tolist() == [[0, 1, 0], [0, 1, 0], [0, 0, 0]]


@pytest.mark.parametrize("args, error, needle", [
    (([0, 1, 2], [0, 1, 2], 2), ValueError, "y_true holds label 2, outside the 2 classes 0..1"),
    (([0, 1, 1], [0, 3, 1], 3), ValueError, "y_pred holds label 3, outside the 3 classes 0..2"),
    (([0, 1], [0, 1], 0), ValueError, "num_classes must be a positive integer, got 0"),
    (([0, 1], [0], None), ValueError, "same number of samples, got 2 and 1"),
    (([0, -1], [0, 0], None), ValueError, "negative labels"),
    (([0, 0.5], [0, 0], None), ValueError, "whole numbers"),
    (([0, np.nan], [0, 0], None), ValueError, "finite"),
    ((["a", "b"], [0, 0], None), TypeError, "integer class labels"),
    ((np.zeros((2, 2, 2)), [0, 0], None), ValueError, "shape"),
])
def test_bad_labels_say_what_was_expected_and_what_arrived(args, error, needle):
    with pytest.raises(error, match=needle.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        metrics.confusion_matrix(*args)


@pytest.mark.parametrize("classes, n, seed", [(2, 50, 0), (3, 200, 1), (10, 1000, 2), (7, 5, 3)])
def test_agrees_with_scikit_learn(classes, n, seed):
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, classes, size=n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, classes, size=n))
    expected = sklearn_metrics.confusion_matrix(y_true, y_pred, labels=list(range(classes)))
    np.testing.assert_array_equal(metrics.confusion_matrix(y_true, y_pred, classes), expected)


def test_the_command_line_and_the_figures_use_this_one():
    from glassnet import cli
    assert cli.confusion_matrix is metrics.confusion_matrix
    plot = pytest.importorskip("glassnet.plot")
    assert plot.confusion_matrix is metrics.confusion_matrix
