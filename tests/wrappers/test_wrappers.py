"""The scikit-learn estimators against independent references: scikit-learn's own models, the same
network trained directly through glassnet, and scikit-learn's tools (Pipeline, searches, cross
validation in worker processes, permutation importance, clone)."""
import pickle

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import make_classification, make_regression  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import glassnet as gn  # noqa: E402
from glassnet.wrappers import (SKLearnClassifier, SKLearnRegressor, SKLearnTransformer,  # noqa: E402
                               mlp_classifier, mlp_regressor)


@pytest.fixture(scope="module")
def blobs():
    X, y = make_classification(n_samples=120, n_features=4, n_informative=3, n_redundant=0, n_classes=3,
                               n_clusters_per_class=1, class_sep=2.0, random_state=0)
    return X, np.array(["ant", "bee", "cat"])[y]


@pytest.fixture(scope="module")
def linear():
    X, y, coef = make_regression(n_samples=100, n_features=3, noise=0.5, coef=True, random_state=1)
    return X, y / 50.0, coef / 50.0


def linear_model(X, y):
    model = gn.Sequential([gn.layers.Input(shape=(X.shape[1],)), gn.layers.Dense(1)])
    model.compile(optimizer=gn.optimizers.Adam(0.1), loss="mse")
    return model


def logistic_model(X, y):
    model = gn.Sequential([gn.layers.Input(shape=(X.shape[1],)), gn.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=gn.optimizers.Adam(0.1), loss="binary_crossentropy")
    return model


# ----------------------------------------------------------------------
# Against independent references
# ----------------------------------------------------------------------
def test_a_one_layer_regressor_finds_least_squares(linear):
    X, y, _ = linear
    est = SKLearnRegressor(linear_model, fit__epochs=300, fit__batch_size=100, random_state=0).fit(X, y)
    ref = LinearRegression().fit(X, y)
    W, b = est.model_.get_weights()
    np.testing.assert_allclose(W.ravel(), ref.coef_, atol=2e-3)
    np.testing.assert_allclose(b[0], ref.intercept_, atol=2e-3)
    np.testing.assert_allclose(est.predict(X), ref.predict(X), atol=5e-3)
    assert est.predict(X).shape == (100,) and est.predict(X).dtype == np.float64


def test_a_one_unit_sigmoid_classifier_matches_logistic_regression():
    X, y = make_classification(n_samples=200, n_features=3, n_informative=2, n_redundant=0, flip_y=0.2,
                               random_state=2)
    est = SKLearnClassifier(logistic_model, fit__epochs=400, fit__batch_size=200, random_state=0).fit(X, y)
    ref = LogisticRegression(C=1e6).fit(X, y)
    np.testing.assert_allclose(est.predict_proba(X), ref.predict_proba(X), atol=2e-3)
    assert (est.predict(X) == ref.predict(X)).mean() > 0.98
    np.testing.assert_allclose(est.decision_function(X), ref.decision_function(X), atol=2e-2)


def test_the_wrapper_trains_the_same_network_as_glassnet_itself_bit_for_bit(blobs):
    X, labels = blobs
    est = SKLearnClassifier(mlp_classifier, model__units=(8, 6), fit__epochs=4, fit__batch_size=16,
                            random_state=7).fit(X, labels)
    # by hand: the same callable, seed, one-hot targets and fit arguments
    gn.set_random_seed(7)
    classes, idx = np.unique(labels, return_inverse=True)
    onehot = np.eye(3, dtype=np.float32)[idx]
    model = mlp_classifier(X=X, y=onehot, units=(8, 6))
    model.fit(X, onehot, epochs=4, batch_size=16, verbose=0, doctor=False)
    assert list(est.classes_) == list(classes)
    np.testing.assert_array_equal(est.predict_proba(X), model.predict(X).astype(np.float64))
    for a, b in zip(est.model_.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_predict_proba_rows_are_the_softmax_and_sum_to_one(blobs):
    X, labels = blobs
    est = SKLearnClassifier(mlp_classifier, fit__epochs=5, optimizer__learning_rate=0.05, random_state=0).fit(X, labels)
    proba = est.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    # the last layer's softmax computed here from its logits, in float64
    hidden = est.model_.layers[0](X.astype(np.float32))
    W, b = est.model_.layers[1].get_weights()
    z = hidden.astype(np.float64) @ W + b
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(proba, expected, atol=1e-5)
    assert list(est.predict(X)) == list(est.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(np.exp(est.decision_function(X)), proba, rtol=1e-12)
    assert est.score(X, labels) > 0.9


def test_logits_and_sparse_labels_are_followed(blobs):
    X, labels = blobs

    def logits(X, y):
        model = gn.Sequential([gn.layers.Input(shape=(4,)), gn.layers.Dense(y.shape[1])])
        model.compile(optimizer="adam", loss=gn.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model
    est = SKLearnClassifier(logits, fit__epochs=3, random_state=0).fit(X, labels)
    z = est.model_.predict(X).astype(np.float64)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(est.predict_proba(X), p, atol=1e-6)


# ----------------------------------------------------------------------
# scikit-learn's tools
# ----------------------------------------------------------------------
def test_pipeline_with_a_scaler_equals_scaling_by_hand(blobs):
    X, labels = blobs
    X = X * 100 + 5
    est = SKLearnClassifier(mlp_classifier, fit__epochs=10, random_state=3)
    pipe = make_pipeline(StandardScaler(), est).fit(X, labels)
    scaled = StandardScaler().fit_transform(X)
    alone = clone(est).fit(scaled, labels)
    np.testing.assert_array_equal(pipe.predict_proba(X), alone.predict_proba(scaled))
    assert pipe.score(X, labels) > 0.9


def test_grid_search_over_routed_parameters_refits_the_best(blobs):
    X, labels = blobs
    est = SKLearnClassifier(mlp_classifier, fit__epochs=5, random_state=0)
    grid = {"model__units": [3, 12], "optimizer__learning_rate": [1e-7, 0.05]}
    search = GridSearchCV(est, grid, cv=2).fit(X, labels)
    # a learning rate of 1e-7 learns nothing in 5 epochs: the search must have routed it to the optimizer
    assert search.best_params_["optimizer__learning_rate"] == 0.05
    best = search.best_estimator_
    assert best.get_params()["model__units"] == search.best_params_["model__units"]
    assert best.model_.layers[0].units == search.best_params_["model__units"]
    assert float(best.model_.optimizer.learning_rate) == pytest.approx(0.05)
    assert len(best.history_["loss"]) == 5
    fresh = SKLearnClassifier(mlp_classifier, fit__epochs=5, random_state=0, **search.best_params_).fit(X, labels)
    np.testing.assert_array_equal(best.predict_proba(X), fresh.predict_proba(X))
    scores = search.cv_results_["mean_test_score"]
    assert scores[search.best_index_] == scores.max()


def test_randomized_search_over_fit_and_model_parameters(linear):
    X, y, _ = linear
    est = SKLearnRegressor(mlp_regressor, random_state=0, optimizer__learning_rate=0.02)
    space = {"fit__epochs": [1, 30], "model__units": [4, 8], "model__activation": ["relu", "tanh"]}
    search = RandomizedSearchCV(est, space, n_iter=6, cv=2, random_state=0).fit(X, y)     # 6 of 8: both epochs
    best = search.best_estimator_
    assert len(best.history_["loss"]) == search.best_params_["fit__epochs"]
    assert best.model_.layers[0].units == search.best_params_["model__units"]
    assert best.model_.layers[0].activation == search.best_params_["model__activation"]
    epochs = search.cv_results_["param_fit__epochs"]
    scores = search.cv_results_["mean_test_score"]
    assert scores[epochs == 30].max() > scores[epochs == 1].max()


def test_cross_val_score_in_two_worker_processes_equals_one_process(blobs):
    X, labels = blobs
    est = SKLearnClassifier(mlp_classifier, fit__epochs=5, optimizer__learning_rate=0.05, random_state=0)
    serial = cross_val_score(est, X, labels, cv=3)
    parallel = cross_val_score(est, X, labels, cv=3, n_jobs=2)      # joblib's default backend: loky processes
    np.testing.assert_array_equal(serial, parallel)
    assert serial.mean() > 0.8


def test_seeded_fits_in_threads_equal_the_serial_ones(blobs):
    from joblib import parallel_config
    X, labels = blobs
    est = SKLearnClassifier(mlp_classifier, fit__epochs=3, fit__batch_size=8, random_state=0)
    serial = cross_val_score(est, X, labels, cv=4)
    with parallel_config(backend="threading", n_jobs=2):
        threaded = cross_val_score(est, X, labels, cv=4)
    np.testing.assert_array_equal(serial, threaded)


def test_permutation_importance_in_two_processes_finds_the_informative_feature():
    from sklearn.inspection import permutation_importance
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 3))
    y = 3 * X[:, 1] + 0.1 * rng.normal(size=150)
    est = SKLearnRegressor(mlp_regressor, fit__epochs=20, optimizer__learning_rate=0.02, random_state=0).fit(X, y)
    one = permutation_importance(est, X, y, n_repeats=3, random_state=0)
    two = permutation_importance(est, X, y, n_repeats=3, random_state=0, n_jobs=2)
    np.testing.assert_array_equal(one.importances, two.importances)
    assert np.argmax(one.importances_mean) == 1 and one.importances_mean[1] > 10 * np.abs(one.importances_mean[[0, 2]]).max()


def test_clone_keeps_fit_kwargs_and_routed_parameters(blobs):
    X, labels = blobs
    est = SKLearnClassifier(mlp_classifier, fit_kwargs={"epochs": 3, "batch_size": 8}, model_kwargs={"units": 5},
                            fit__shuffle=False, optimizer__learning_rate=0.01, random_state=4).fit(X, labels)
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    assert copy.fit_kwargs == {"epochs": 3, "batch_size": 8} and copy.get_params()["fit__shuffle"] is False
    assert not hasattr(copy, "model_")
    copy.fit(X, labels)
    assert len(copy.history_["loss"]) == 3
    np.testing.assert_array_equal(copy.predict_proba(X), est.predict_proba(X))


def test_a_fitted_estimator_pickles(blobs):
    X, labels = blobs
    est = SKLearnClassifier(mlp_classifier, fit__epochs=2, random_state=0).fit(X, labels)
    back = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))


# ----------------------------------------------------------------------
# partial_fit, warm_start, seeds, a model instance
# ----------------------------------------------------------------------
def test_partial_fit_runs_one_epoch_per_call_and_continues(blobs):
    X, labels = blobs
    est = SKLearnClassifier(mlp_classifier, fit__epochs=50, random_state=0)
    est.partial_fit(X[:60], labels[:60], classes=["ant", "bee", "cat", "dog"])
    first = est.model_
    w1 = [w.copy() for w in first.get_weights()]
    est.partial_fit(X[60:], labels[60:])
    assert est.model_ is first and len(est.history_["loss"]) == 2
    assert list(est.classes_) == ["ant", "bee", "cat", "dog"] and est.predict_proba(X).shape == (len(X), 4)
    assert any(not np.array_equal(a, b) for a, b in zip(w1, est.model_.get_weights()))
    again = SKLearnClassifier(mlp_classifier, fit__epochs=50, random_state=0)
    again.partial_fit(X[:60], labels[:60], classes=["ant", "bee", "cat", "dog"]).partial_fit(X[60:], labels[60:])
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))
    with pytest.raises(ValueError, match=r"labels not among classes_.*'emu'"):
        est.partial_fit(X[:2], np.array(["ant", "emu"]))


def test_warm_start_continues_and_a_cold_fit_starts_afresh(linear):
    X, y, _ = linear
    cold = SKLearnRegressor(mlp_regressor, fit__epochs=2, random_state=0)
    cold.fit(X, y)
    first = cold.predict(X)
    cold.fit(X, y)
    np.testing.assert_array_equal(cold.predict(X), first)             # afresh, from the same seed
    warm = SKLearnRegressor(mlp_regressor, fit__epochs=2, random_state=0, warm_start=True)
    warm.fit(X, y).fit(X, y)
    assert len(warm.history_["loss"]) == 4
    assert not np.array_equal(warm.predict(X), first)


def test_random_state_leaves_the_global_generator_alone(linear):
    X, y, _ = linear
    gn.set_random_seed(5)
    expected = gn.backend.global_rng().random(3)
    gn.set_random_seed(5)
    SKLearnRegressor(mlp_regressor, fit__epochs=1, random_state=0).fit(X, y)
    np.testing.assert_array_equal(gn.backend.global_rng().random(3), expected)


def test_a_compiled_model_instance_is_copied_never_trained(linear):
    X, y, _ = linear
    model = linear_model(X, y)
    model.build((None, 3))
    before = [w.copy() for w in model.get_weights()]
    est = SKLearnRegressor(model, fit__epochs=3).fit(X, y)
    assert est.model_ is not model
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    again = clone(est).fit(X, y)                # the same starting weights, no shuffling randomness: same model
    assert est.score(X, y) > 0 and again.model_ is not est.model_


def test_the_transformer_gives_the_model_outputs_and_fits_without_y(linear):
    X, y, _ = linear
    enc = SKLearnTransformer(mlp_regressor, model__units=2, fit__epochs=3, random_state=0).fit(X)
    out = enc.transform(X)
    assert out.shape == X.shape
    np.testing.assert_array_equal(out, enc.model_.predict(X))
    sup = SKLearnTransformer(mlp_regressor, fit__epochs=3, random_state=0).fit(X, y)
    assert sup.transform(X).shape == (100, 1)
    assert list(enc.get_feature_names_out()) == ["sklearntransformer0", "sklearntransformer1", "sklearntransformer2"]
    pytest.importorskip("pandas")
    frame = enc.set_output(transform="pandas").transform(X)
    assert list(frame.columns) == list(enc.get_feature_names_out())
    np.testing.assert_array_equal(frame.to_numpy(), out)


# ----------------------------------------------------------------------
# Errors at the boundary
# ----------------------------------------------------------------------
def test_errors_name_what_was_expected_and_what_arrived(linear):
    X, y, _ = linear

    def uncompiled(X, y):
        return gn.Sequential([gn.layers.Input(shape=(3,)), gn.layers.Dense(1)])
    with pytest.raises(ValueError, match="must be compiled"):
        SKLearnRegressor(uncompiled).fit(X, y)
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'epochs'.*fit__NAME"):
        SKLearnRegressor(mlp_regressor, epochs=3).fit(X, y)
    with pytest.raises(ValueError, match=r"optimizer__momentum.*Adam takes"):
        SKLearnRegressor(mlp_regressor, optimizer__momentum=0.9).fit(X, y)
    with pytest.raises(ValueError, match=r"model__ parameters go to a callable model.*\['units'\]"):
        SKLearnRegressor(linear_model(X, y), model__units=3).fit(X, y)
    with pytest.raises(TypeError, match="must return a compiled glassnet Model, got dict"):
        SKLearnRegressor(lambda X, y: {}).fit(X, y)
    with pytest.raises(TypeError, match="model must be a compiled glassnet Model or a callable.*got str"):
        SKLearnRegressor("mlp").fit(X, y)
    with pytest.raises(ValueError, match="random_state must be None or a non-negative int, got -1"):
        SKLearnRegressor(mlp_regressor, random_state=-1).fit(X, y)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        SKLearnClassifier(mlp_classifier).fit(X, y)
    with pytest.raises(ValueError, match="output has 2 units, y has 3 classes"):
        SKLearnClassifier(lambda X, y: mlp_classifier(X, y[:, :2])).fit(X, np.arange(100) % 3)
