"""scikit-learn's own estimator checks over the three wrappers (parametrize_with_checks)."""
import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from glassnet.wrappers import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer, mlp_classifier, mlp_regressor  # noqa: E402

ESTIMATORS = [
    SKLearnClassifier(mlp_classifier, model__units=8, fit__epochs=20, optimizer__learning_rate=0.03, random_state=0),
    SKLearnRegressor(mlp_regressor, model__units=8, fit__epochs=20, optimizer__learning_rate=0.03, random_state=0),
    SKLearnTransformer(mlp_regressor, model__units=8, fit__epochs=3, random_state=0),
]

# check name -> why it fails, per estimator class
EXPECTED_FAILURES = {
    "SKLearnClassifier": {},
    "SKLearnRegressor": {},
    "SKLearnTransformer": {},
}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: EXPECTED_FAILURES[type(est).__name__])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
