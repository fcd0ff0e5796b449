"""The wrappers' public surface: loaded lazily, a clear message without scikit-learn, routed
parameters as ordinary parameters (get_params, set_params, compile__)."""
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn")

import glassnet as gn  # noqa: E402
from glassnet.wrappers import SKLearnRegressor, mlp_regressor  # noqa: E402


def test_import_glassnet_does_not_load_scikit_learn():
    code = ("import sys, glassnet as gn; print(sorted(m for m in sys.modules "
            "if m.split('.')[0] == 'sklearn' or m.startswith('glassnet.wrappers')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stderr + result.stdout
    import glassnet.wrappers
    assert gn.wrappers is glassnet.wrappers and "wrappers" not in gn.__all__   # import * needs no sklearn


def test_without_scikit_learn_the_error_names_the_extra(monkeypatch):
    for name in [m for m in sys.modules if m == "glassnet.wrappers" or m.startswith("glassnet.wrappers.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)          # import fails as if not installed
    with pytest.raises(ImportError, match=r'pip install "glassnet\[sklearn\]"'):
        import glassnet.wrappers  # noqa: F401


def test_routed_parameters_are_parameters():
    est = SKLearnRegressor(mlp_regressor, model__units=4, fit__epochs=2)
    assert est.get_params()["model__units"] == 4
    est.set_params(model__units=6, optimizer__learning_rate=0.5, warm_start=True)
    assert est.get_params()["model__units"] == 6 and est.get_params()["optimizer__learning_rate"] == 0.5
    assert est.warm_start is True
    with pytest.raises(ValueError, match="Invalid parameter 'units'"):
        est.set_params(units=3)
    assert "model__units=6" in repr(est)


def test_compile_and_optimizer_routes_reach_the_compiled_model():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.normal(size=40)
    est = SKLearnRegressor(mlp_regressor, fit__epochs=1, compile__loss="mean_absolute_error",
                           compile__optimizer="sgd", optimizer__momentum=0.5, optimizer__learning_rate=0.02,
                           random_state=0).fit(X, y)
    opt = est.model_.optimizer
    assert type(est.model_.loss).__name__ == "MeanAbsoluteError"
    assert type(opt).__name__ == "SGD" and opt.momentum == 0.5 and float(opt.learning_rate) == pytest.approx(0.02)
    kept = SKLearnRegressor(mlp_regressor, model__metrics=["mae"], compile__loss="mae", fit__epochs=1).fit(X, y)
    assert sorted(kept.history_) == ["loss", "mae"] and type(kept.model_.loss).__name__ == "MeanAbsoluteError"
    with pytest.raises(ValueError, match="routes to model.compile.*got 'epochs'"):
        SKLearnRegressor(mlp_regressor, compile__epochs=3).fit(X, y)
    assert isinstance(est.model_, gn.Sequential)


def test_the_ready_made_networks_take_layers_and_units():
    from glassnet.wrappers import mlp_classifier
    X, y = np.zeros((5, 3)), np.eye(4)[[0, 1, 2, 3, 0]]
    widths = lambda model: [layer.units for layer in model.layers if hasattr(layer, "units")]  # noqa: E731
    assert widths(mlp_classifier(X, y, units=7, layers=3)) == [7, 7, 7, 4]
    assert widths(mlp_classifier(X, y, units=(9, 5))) == [9, 5, 4]
    assert widths(mlp_regressor(X, y[:, 0], units=6, layers=0)) == [1]
    assert [type(l).__name__ for l in mlp_classifier(X, y, units=(4,), dropout=0.2).layers] == \
        ["Dense", "Dropout", "Dense"]
    with pytest.raises(ValueError, match=r"units \(9, 5\) gives 2 hidden layers, but layers=3"):
        mlp_classifier(X, y, units=(9, 5), layers=3)
    with pytest.raises(TypeError, match="units must be an int or a tuple"):
        mlp_classifier(X, y, units="8")


def test_a_keras_3_wrapper_script_runs_with_glassnet_as_keras():
    """Keras 3's documented use: a functional model built from X and y, the loss and the layers in
    model_kwargs, epochs in fit_kwargs; `import glassnet as keras` runs it as written."""
    import glassnet as keras
    from sklearn.datasets import make_classification

    def dynamic_model(X, y, loss, layers=[10]):
        inp = keras.Input(shape=(X.shape[1],))
        hidden = inp
        for size in layers:
            hidden = keras.layers.Dense(size, activation="relu")(hidden)
        out = keras.layers.Dense(y.shape[1], activation="softmax")(hidden)
        model = keras.Model(inp, out)
        model.compile(loss=loss, optimizer="rmsprop")
        return model

    X, y = make_classification(n_samples=60, n_features=5, n_informative=3, n_classes=3, random_state=0)
    est = keras.wrappers.SKLearnClassifier(model=dynamic_model, model_kwargs={"loss": "categorical_crossentropy",
                                           "layers": [12, 6]}, fit_kwargs={"epochs": 4}, random_state=0)
    est.fit(X, y)
    assert [layer.units for layer in est.model_.layers if hasattr(layer, "units")] == [12, 6, 3]
    assert len(est.history_["loss"]) == 4 and est.predict(X).shape == (60,) and set(est.predict(X)) <= {0, 1, 2}
    assert est.history_["loss"][-1] < est.history_["loss"][0]
