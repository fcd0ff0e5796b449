"""Metric objects in model files: .glassnet files keep them by class name and config; .keras files
write them as Keras 3 writes them (compared with the compile_config Keras itself produces) and read
the ones Keras writes."""
import json
import warnings
import zipfile

import numpy as np
import pytest

import glassnet as gn
from glassnet.saving import ModelFileError
from saving.saving_helpers import _members, _rewrite

pytestmark = [pytest.mark.usefixtures("isolated_random_state"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]


def _data(n=96):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 5)).astype(np.float32)
    return x, ((x[:, 0] - x[:, 1] + 0.5 * rng.normal(size=n)) > 0).astype(np.float32).reshape(-1, 1)


def _metrics(m):
    return ["accuracy", m.Precision(name="precision"), m.AUC(name="prc", curve="PR", num_thresholds=50),
            m.BinaryAccuracy(threshold=0.7, name="sure"), "mse"]


def _model():
    gn.set_random_seed(3)
    model = gn.Sequential([gn.layers.Dense(4, activation="tanh", input_shape=(5,)),
                           gn.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=gn.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=_metrics(gn.metrics))
    return model


def test_glassnet_files_keep_metric_objects_by_class_and_config(tmp_path):
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    path = model.save(tmp_path / "m.glassnet")
    with zipfile.ZipFile(path) as zf:
        saved = json.loads(zf.read("config.json"))["compile"]["metrics"]
    assert saved[0] == "accuracy" and saved[4] == "mse"
    assert saved[2] == {"class_name": "AUC", "config": gn.metrics.AUC(name="prc", curve="PR",
                                                                      num_thresholds=50).get_config()}
    loaded = gn.load_model(path)
    assert loaded.metrics_names == model.metrics_names == ["loss", "accuracy", "precision", "prc", "sure", "mse"]
    assert isinstance(loaded._metric_specs[2], gn.metrics.AUC) and loaded._metric_specs[2].curve == "PR"
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


def test_a_metric_class_of_your_own_needs_custom_objects(tmp_path):
    class Hits(gn.metrics.Mean):
        def __init__(self, name="hits", dtype=None, cut=0.5):
            super().__init__(name=name, dtype=dtype)
            self.cut = cut

        def update_state(self, y_true, y_pred, sample_weight=None):
            super().update_state((np.asarray(y_pred) > self.cut) == (np.asarray(y_true) > 0.5), sample_weight)

        def get_config(self):
            return {**super().get_config(), "cut": self.cut}

    x, y = _data()
    model = _model()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=[Hits(cut=0.6)])
    path = model.save(tmp_path / "m.glassnet")
    with pytest.raises(ModelFileError, match=r"metric class 'Hits'.*custom_objects"):
        gn.load_model(path)
    loaded = gn.load_model(path, custom_objects={"Hits": Hits})
    assert loaded._metric_specs[0].cut == 0.6
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


@pytest.mark.parametrize("entry, message", [
    ({"class_name": "Nope", "config": {}}, r"metric class 'Nope', which glassnet does not have"),
    ({"class_name": "AUC", "config": [1, 2]}, r"config that is not a JSON object"),
    ({"class_name": "AUC", "config": {"curve": "sideways"}}, r"AUC curve must be 'ROC', 'PR' or 'PRGAIN'"),
    ({"class_name": "Precision", "config": {"colour": "red"}}, r"compile settings glassnet cannot use.*colour"),
    (7, r"compile settings glassnet cannot use"),
])
def test_a_malformed_metric_entry_is_a_model_file_error(tmp_path, entry, message):
    path = _model().save(tmp_path / "m.glassnet")
    config = json.loads(_members(path)["config.json"])
    config["compile"]["metrics"][1] = entry
    _rewrite(path, replace={"config.json": json.dumps(config).encode()}, rehash=True)
    with pytest.raises(ModelFileError, match=message):
        gn.load_model(path)


def test_keras_files_carry_metric_objects_as_keras_writes_them(keras, tmp_path):
    pytest.importorskip("h5py")
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    path = model.save(tmp_path / "m.keras")
    twin = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="tanh"),
                             keras.layers.Dense(1, activation="sigmoid")])
    twin.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=_metrics(keras.metrics))
    with zipfile.ZipFile(path) as zf:
        ours = json.loads(zf.read("config.json"))["compile_config"]["metrics"]
    assert ours == json.loads(json.dumps(twin.get_compile_config()["metrics"]))     # entry for entry
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = keras.saving.load_model(path)
    theirs = loaded.evaluate(x, y, verbose=0, return_dict=True)
    mine = model.evaluate(x, y, verbose=0, return_dict=True)
    assert theirs.keys() == mine.keys()
    for key in mine:
        assert mine[key] == pytest.approx(theirs[key], rel=1e-5, abs=1e-6), key


def test_keras_written_metric_objects_load_compiled(keras, tmp_path):
    pytest.importorskip("h5py")
    x, y = _data()
    keras.utils.set_random_seed(4)
    kmodel = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="relu"),
                               keras.layers.Dense(1, activation="sigmoid")])
    kmodel.compile(optimizer="adam", loss="binary_crossentropy",
                   metrics=["accuracy", keras.metrics.Recall(name="recall", thresholds=0.4),
                            keras.metrics.AUC(name="auc"), keras.metrics.TruePositives(name="tp"),
                            keras.metrics.F1Score(average="macro", threshold=0.5)])
    kmodel.fit(x, y, epochs=1, verbose=0)
    kmodel.save(tmp_path / "k.keras")
    model = gn.load_model(tmp_path / "k.keras")
    assert model.compiled and model.metrics_names == ["loss", "accuracy", "recall", "auc", "tp", "f1_score"]
    assert model._metric_specs[1].thresholds == [0.4]
    ours = model.evaluate(x, y, verbose=0, return_dict=True)
    theirs = kmodel.evaluate(x, y, verbose=0, return_dict=True)
    for key in ours:
        assert ours[key] == pytest.approx(float(np.ravel(theirs[key])[0]), rel=1e-5, abs=1e-6), key


def test_a_metric_class_of_your_own_leaves_the_keras_compile_config_out(tmp_path):
    pytest.importorskip("h5py")

    class Mine(gn.metrics.Mean):
        def update_state(self, y_true, y_pred, sample_weight=None):
            super().update_state(np.asarray(y_pred), sample_weight)

    model = _model()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=[Mine(name="mine")])
    from glassnet.saving import keras_compile
    with pytest.warns(keras_compile.KerasCompileWarning, match=r"'mine' is a Mine, a class of your own"):
        path = model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(path) as zf:
        assert "compile_config" not in json.loads(zf.read("config.json"))


def test_weighted_metrics_go_into_both_kinds_of_file(keras, tmp_path):
    pytest.importorskip("h5py")
    model = _model()
    model.compile(optimizer=gn.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"],
                  weighted_metrics=["accuracy", gn.metrics.AUC(name="auc")])
    x, y = _data()
    for name in ("m.glassnet", "m.keras"):
        loaded = gn.load_model(model.save(tmp_path / name))
        assert loaded.metrics_names == ["loss", "accuracy", "weighted_accuracy", "auc"]
        assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0), abs=1e-7)
    twin = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="tanh"),
                             keras.layers.Dense(1, activation="sigmoid")])
    twin.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"],
                 weighted_metrics=["accuracy", keras.metrics.AUC(name="auc")])
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        ours = json.loads(zf.read("config.json"))["compile_config"]["weighted_metrics"]
    assert ours == json.loads(json.dumps(twin.get_compile_config()["weighted_metrics"]))
