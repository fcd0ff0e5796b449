"""The metrics' public surface: every earlier name still there, get/serialize/deserialize, results that
behave as floats, state variables, and errors at the boundary that say what was expected."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import metrics


def test_the_names_glassnet_had_before_still_work():
    for name in ("sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy", "mean_squared_error",
                 "mean_absolute_error", "names", "name_of", "get", "as_labels", "confusion_matrix"):
        assert callable(getattr(metrics, name)), name
    y, p = np.array([0, 2, 1]), np.array([[0.9, 0.1, 0.0], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy(y, p), [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(metrics.confusion_matrix(y, p), [[1, 0, 0], [1, 0, 0], [0, 0, 1]])
    assert metrics.get("acc", gn.losses.get("sparse_categorical_crossentropy")) is metrics.sparse_categorical_accuracy
    assert metrics.get("mae") is metrics.mean_absolute_error


def test_every_metric_class_is_exported_and_registered():
    from glassnet import _registry
    registered = _registry.classes("metric")
    assert set(registered) <= set(metrics.__all__)
    for name, cls in registered.items():
        assert getattr(metrics, name) is cls and issubclass(cls, metrics.Metric)
    assert {"Precision", "Recall", "AUC", "F1Score", "TruePositives", "RootMeanSquaredError",
            "SparseTopKCategoricalAccuracy", "BinaryCrossentropy", "Mean"} <= set(registered)


def test_get_serialize_and_deserialize():
    assert isinstance(metrics.get("precision"), metrics.Precision)
    assert isinstance(metrics.get("AUC"), metrics.AUC) and isinstance(metrics.get("f1score"), metrics.F1Score)
    assert isinstance(metrics.get(metrics.Recall), metrics.Recall)
    auc = metrics.AUC(curve="PR", num_thresholds=31, name="prc")
    assert metrics.get(auc) is auc
    spec = metrics.serialize(auc)
    assert spec == {"class_name": "AUC", "config": auc.get_config()}
    again = metrics.deserialize(spec)
    assert type(again) is metrics.AUC and again.get_config() == auc.get_config()
    assert metrics.get(spec).get_config() == auc.get_config()
    assert metrics.serialize(metrics.mean_squared_error) == "mean_squared_error"
    with pytest.raises(ValueError, match=r"^Unknown metric 'precison'; known metrics: accuracy, acc, .*precision"):
        metrics.get("precison")
    with pytest.raises(ValueError, match="a function of your own"):
        metrics.serialize(lambda y, p: y)
    with pytest.raises(ValueError, match=r"Unknown metric class 'Nope'"):
        metrics.deserialize({"class_name": "Nope", "config": {}})


def test_results_are_floats_with_numpy_and_state_variables_act_as_keras_variables():
    m = metrics.Mean()
    m.update_state([1.0, 2.0, 6.0])
    r = m.result()
    assert isinstance(r, float) and r == 3.0 and f"{r:.2f}" == "3.00" and r.numpy() == np.float64(3.0)
    assert [v.name for v in m.variables] == ["total", "count"]
    m.total.assign(10.0)
    m.count.assign_add(2.0)
    assert float(m.result()) == 2.0
    m.reset_state()
    assert float(m.result()) == 0.0 and m.total.numpy() == 0.0
    with pytest.raises(ValueError, match=r"variable 'total' has shape \(\); assign got shape \(2,\)"):
        m.total.assign([1.0, 2.0])
    assert repr(metrics.Precision()) == "<Precision name=precision>"
    many = metrics.Precision(thresholds=[0.2, 0.8])
    many.update_state([1, 0, 1], [0.9, 0.5, 0.3])
    np.testing.assert_allclose(many.result(), [2 / 3, 1.0])


def test_a_subclass_that_forgets_super_init_is_told():
    class Forgetful(metrics.Metric):
        def __init__(self):
            self.total = self.add_variable(())

    with pytest.raises(RuntimeError, match=r"Forgetful.__init__ must call super\(\).__init__\(\)"):
        Forgetful()


@pytest.mark.parametrize("make, error, message", [
    (lambda: metrics.Precision(thresholds=1.5), ValueError, r"Precision threshold must be a number in \[0, 1\]"),
    (lambda: metrics.Recall(thresholds=[]), ValueError, r"Recall thresholds must hold at least one number"),
    (lambda: metrics.Precision(top_k=0), ValueError, r"Precision top_k must be a positive integer"),
    (lambda: metrics.Precision(class_id=-1), ValueError, r"Precision class_id must be an integer >= 0"),
    (lambda: metrics.AUC(num_thresholds=1), ValueError, r"AUC num_thresholds must be an integer > 1"),
    (lambda: metrics.AUC(num_thresholds=10**9), ValueError, r"<= 1,000,000 \(it keeps four counts per threshold\)"),
    (lambda: metrics.AUC(curve="XY"), ValueError, r"AUC curve must be 'ROC', 'PR' or 'PRGAIN', got 'XY'"),
    (lambda: metrics.AUC(summation_method="simpson"), ValueError, r"summation_method must be one of"),
    (lambda: metrics.AUC(num_labels=3), ValueError, r"num_labels is only for multi_label=True"),
    (lambda: metrics.F1Score(average="mean"), ValueError, r"F1Score average must be one of"),
    (lambda: metrics.F1Score(threshold=1.5), ValueError, r"F1Score threshold must lie in \(0, 1\]"),
    (lambda: metrics.TopKCategoricalAccuracy(k=0), ValueError, r"TopKCategoricalAccuracy k must be a positive"),
    (lambda: metrics.BinaryCrossentropy(label_smoothing=2), ValueError, r"label_smoothing must be a number in"),
    (lambda: metrics.CategoricalCrossentropy(axis=0), ValueError, r"along the last axis \(axis=-1\), got axis=0"),
    (lambda: metrics.Mean(name=""), TypeError, r"a metric's name must be a non-empty str, got ''"),
    (lambda: metrics.Mean(dtype="int8"), ValueError, r"dtype must be one of"),
    (lambda: metrics.MeanMetricWrapper(3), TypeError, r"needs a function fn\(y_true, y_pred\), got int"),
])
def test_bad_arguments_are_refused_when_the_metric_is_made(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("metric, y_true, y_pred, kwargs, error, message", [
    (metrics.Precision(), [1, 0], [0.5, np.nan], {}, ValueError, r"y_pred must be finite"),
    (metrics.AUC(), [1, 0], ["a", "b"], {}, TypeError, r"y_pred must hold numbers"),
    (metrics.Precision(), [0, 2, 1], np.eye(3), {}, ValueError,
     r"same shape, got y_true \(3,\) and y_pred \(3, 3\); for integer labels against class scores pass one-hot"),
    (metrics.Recall(class_id=4), np.eye(3), np.eye(3), {}, ValueError, r"class_id=4 needs y_pred of shape"),
    (metrics.F1Score(), [1, 0], [0.3, 0.6], {}, ValueError, r"F1Score expects y_true and y_pred of the same shape"),
    (metrics.AUC(multi_label=True), [1, 0], [0.3, 0.6], {}, ValueError, r"needs y_pred of shape \(n, labels\)"),
    (metrics.MeanSquaredError(), [[1.0], [2.0]], [[1.0], [2.0]], {"sample_weight": [1.0, 2.0, 3.0]}, ValueError,
     r"sample_weight of shape \(3,\) does not fit"),
    (metrics.TruePositives(), [1, 0], [0.2, 0.9], {"sample_weight": [1.0, 2.0, 3.0]}, ValueError,
     r"sample_weight of shape \(3,\) does not fit predictions of shape \(2,\)"),
    (metrics.SparseCategoricalAccuracy(), [0, 1, 2], [[0.3, 0.7]], {}, ValueError,
     r"same number of samples, got 3 and 1"),
    (metrics.RootMeanSquaredError(), [[1.0, 2.0]], [[1.0, 2.0, 3.0]], {}, ValueError,
     r"RootMeanSquaredError expects y_true and y_pred of the same shape"),
])
def test_bad_inputs_are_refused_by_update_state(metric, y_true, y_pred, kwargs, error, message):
    with pytest.raises(error, match=message):
        metric.update_state(y_true, y_pred, **kwargs)
    assert np.all(np.asarray(metric.result()) == 0)             # nothing was counted


def test_mean_metric_wrapper_and_sum_as_keras(keras):
    y, p = np.array([[0.0], [1.0], [1.0]]), np.array([[0.2], [0.4], [0.9]])
    ours = metrics.MeanMetricWrapper(metrics.binary_accuracy, name="hits", threshold=0.3)
    theirs = keras.metrics.MeanMetricWrapper(keras.metrics.binary_accuracy, name="hits", threshold=0.3)
    for m in (ours, theirs):
        m.update_state(y, p, sample_weight=[1.0, 2.0, 0.5])
    assert float(ours.result()) == pytest.approx(float(theirs.result()), abs=1e-7)
    again = metrics.MeanMetricWrapper.from_config(ours.get_config())
    assert again._fn is metrics.binary_accuracy and again._fn_kwargs == {"threshold": 0.3} and again.name == "hits"
    values, w = np.arange(6.0).reshape(3, 2), np.array([1.0, 0.0, 2.0])
    total, k_total = metrics.Sum(), keras.metrics.Sum()
    for m in (total, k_total):
        m.update_state(values, sample_weight=w)
    assert float(total.result()) == pytest.approx(float(k_total.result())) == 1 + 2 * 9
    with pytest.raises(ValueError, match="does not fit values of shape"):
        total.update_state(values, sample_weight=[1.0, 2.0])
    assert metrics.Metric.__init__.__code__.co_varnames[1:3] == ("dtype", "name")      # Keras's order


def test_each_metric_says_which_way_is_better_as_keras(keras):
    for name, cls in metrics._CLASS_NAMES.items():
        if name in ("Mean", "Sum"):
            assert metrics.direction(cls()) is None
            continue
        theirs = getattr(getattr(keras.metrics, name)(), "_direction", None)
        assert metrics.direction(cls()) == theirs or theirs is None and name.endswith(("Positives", "Negatives")), name
    assert metrics.direction(metrics.TruePositives()) == "up" and metrics.direction(metrics.FalseNegatives()) == "down"
    assert metrics.direction("accuracy") == metrics.direction("top_k_categorical_accuracy") == "up"
    assert metrics.direction("mse") == metrics.direction(metrics.binary_crossentropy) == "down"
    assert metrics.direction(lambda y, p: y) is None and metrics.direction("nope") is None


def test_a_training_loop_of_your_own_tracks_scalars_and_batches_as_in_keras(keras):
    """The pattern of Keras's "training loop from scratch" guides: a Mean of the losses, an accuracy
    updated per batch, read with float(...) at the epoch's end, then reset."""
    rng = np.random.default_rng(3)
    losses, labels, logits = rng.random(5), rng.integers(0, 3, (5, 8)), rng.normal(size=(5, 8, 3))
    ours = (metrics.Mean(name="loss"), metrics.SparseCategoricalAccuracy())
    theirs = (keras.metrics.Mean(name="loss"), keras.metrics.SparseCategoricalAccuracy())
    for loss, y, z in zip(losses, labels, logits):
        for tracker, accuracy in (ours, theirs):
            tracker.update_state(float(loss))
            accuracy.update_state(y, z)
    for a, b in zip(ours, theirs):
        assert float(a.result()) == pytest.approx(float(b.result()), abs=1e-6)
        a.reset_state()
        b.reset_state()
        assert float(a.result()) == float(b.result()) == 0.0
