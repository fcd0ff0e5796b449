"""glassnet.runs: run folders (timestamped, never reused: suffixes -1, -2, ...), the model of a
run folder, the dataset a run recorded, .npz datasets (every error names what was expected and what
arrived), images to features, and the history files train writes."""
import json
import os
import re

import numpy as np
import pytest

from glassnet import runs
from glassnet.runs import CommandError


def npz(path, **arrays):
    with open(path, "wb") as fh:                 # np.savez would add .npz to a name without it
        np.savez(fh, **arrays)
    return str(path)


def good_arrays(n_train=6, n_test=4, width=4):
    rng = np.random.default_rng(0)
    return {"x_train": rng.integers(0, 256, size=(n_train, width), dtype=np.uint8),
            "y_train": np.arange(n_train) % 3,
            "x_test": rng.integers(0, 256, size=(n_test, width), dtype=np.uint8),
            "y_test": np.arange(n_test) % 3}


# --------------------------------------------------------------------------- run folders

def test_default_run_folders_are_timestamped_and_never_overwritten(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = runs.make_run_dir()
    assert re.fullmatch(r"runs[/\\]\d{8}-\d{6}", first) and os.path.isdir(first)
    monkeypatch.setattr(runs.time, "strftime", lambda fmt: "20250101-120000")
    made = []
    for _ in range(3):
        folder = runs.make_run_dir()
        (tmp_path / folder / "model.glassnet").write_text("x")        # each run fills its folder
        made.append(folder)
    base = os.path.join("runs", "20250101-120000")
    assert made == [base, base + "-1", base + "-2"]


def test_a_named_run_folder_gets_a_suffix_when_the_name_is_taken(tmp_path):
    target = tmp_path / "deep" / "run"
    assert runs.make_run_dir(str(target)) == str(target)            # parents are created
    assert runs.make_run_dir(str(target)) == str(target) + "-1"     # even empty, a folder is never reused
    (target / "history.json").write_text("{}")
    assert runs.make_run_dir(str(target) + "/") == str(target) + "-2"     # normalised before the suffix
    (tmp_path / "deep" / "run-3").write_text("a file")
    assert runs.make_run_dir(str(target)) == str(target) + "-4"     # a file takes the name too
    (tmp_path / "file").write_text("x")
    with pytest.raises(CommandError, match="cannot create the run folder .*: .*file is a file"):
        runs.make_run_dir(str(tmp_path / "file" / "run"))


def test_a_run_folder_stands_for_its_model(tmp_path):
    (tmp_path / runs.MODEL_FILE).write_text("x")
    assert runs.model_path(tmp_path) == str(tmp_path / "model.glassnet")
    assert runs.model_path(tmp_path / "other.glassnet") == str(tmp_path / "other.glassnet")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CommandError, match="is a folder without a model.glassnet"):
        runs.load_model(empty)


def test_the_dataset_a_run_recorded(tmp_path):
    assert runs.recorded_dataset(tmp_path) is None                  # no metrics.json
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"options": {"dataset": "Fashion_MNIST"}}))
    assert runs.recorded_dataset(tmp_path) == "fashion-mnist"
    data = npz(tmp_path / "d.npz", **good_arrays())
    metrics.write_text(json.dumps({"options": {"dataset": data}}))
    assert runs.recorded_dataset(tmp_path) == data
    metrics.write_text(json.dumps({"options": {"dataset": str(tmp_path / "gone.npz")}}))
    with pytest.raises(FileNotFoundError, match="gone.npz"):
        runs.recorded_dataset(tmp_path)
    for text in ("{", '{"options": {}}', '{"options": {"dataset": 3}}'):
        metrics.write_text(text)
        with pytest.raises(ValueError, match="metrics.json"):
            runs.recorded_dataset(tmp_path)


def test_dataset_names_take_dashes_or_underscores():
    assert runs.dataset_name(" MNIST_mini ") == "mnist-mini"
    assert runs.dataset_name("fashion-mnist") == "fashion-mnist"
    assert runs.dataset_name("cifar") is None and runs.DEFAULT_DATASET in runs.DATASETS


# --------------------------------------------------------------------------- .npz datasets

def test_an_npz_dataset_loads_with_integer_labels(tmp_path):
    arrays = good_arrays()
    arrays["y_train"] = arrays["y_train"].astype(np.float32)        # whole floats are labels too
    data = runs.load_dataset(npz(tmp_path / "d.npz", **arrays))
    assert data.name == str(tmp_path / "d.npz") and data.classes == 3
    assert data.y_train.dtype == np.int64 and data.y_train.tolist() == [0, 1, 2, 0, 1, 2]
    np.testing.assert_array_equal(data.x_test, arrays["x_test"])


@pytest.mark.parametrize("change, needle", [
    ({"y_test": None}, "missing y_test; an .npz dataset holds x_train, y_train, x_test, y_test "
                       "(found: x_train, y_train, x_test)"),
    ({"x_train": np.array(["a", "b"])}, "[x_train]: it holds values of dtype <U1; glassnet reads arrays of plain numbers only"),
    ({"x_train": np.zeros(6)}, "x_train must have shape (n, 784), (n, 28, 28) or (n, height, width) "
                               "with n >= 1, got (6,)"),
    ({"y_train": np.zeros((6, 2))}, "y_train must hold integer class labels 0, 1, ... in shape (n,), "
                                    "got dtype float64 and shape (6, 2)"),
    ({"y_train": np.full(6, 0.5)}, "y_train must hold integer class labels"),
    ({"y_test": np.arange(3)}, "x_test has 4 samples but y_test has 3 labels"),
    ({"y_test": np.array([0, -2, 1, 0])}, "y_test holds negative labels (-2)"),
    ({"x_test": np.zeros((4, 5))}, "x_train samples have shape (4,) but x_test samples have shape (5,)"),
])
def test_bad_npz_datasets_name_what_was_expected_and_what_arrived(tmp_path, change, needle):
    arrays = {k: v for k, v in {**good_arrays(), **change}.items() if v is not None}
    path = npz(tmp_path / "d.npz", **arrays)
    with pytest.raises(CommandError) as info:
        runs.load_dataset(path)
    assert str(info.value).startswith(path) and needle in str(info.value)


def test_files_that_are_not_npz_datasets(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"dataset file not found: .*absent.npz \(--dataset takes "
                                                r"mnist-mini, mnist, fashion-mnist"):
        runs.load_dataset(str(tmp_path / "absent.npz"))
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file")
    with pytest.raises(CommandError, match="not a readable .npz archive"):
        runs.load_dataset(str(garbage))
    single = tmp_path / "single.npz"
    with open(single, "wb") as fh:
        np.save(fh, np.zeros(3))
    with pytest.raises(CommandError, match="holds a single array, expected an .npz archive with x_train"):
        runs.load_dataset(str(single))
    objects = {**good_arrays(), "y_train": np.array([0, None, 1, 0, 1, 2], dtype=object)}
    with open(tmp_path / "objects.npz", "wb") as fh:
        np.savez(fh, **objects)
    with pytest.raises(CommandError, match="object arrays are not accepted"):
        runs.load_dataset(str(tmp_path / "objects.npz"))


# --------------------------------------------------------------------------- features and history files

def test_images_become_features_in_the_unit_interval():
    pixels = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    np.testing.assert_allclose(runs.to_features(pixels, np.float64), [[0, 1, 0.2, 0.4]])
    unit = np.array([[0.25, 1.0]])
    assert runs.to_features(unit, np.float32).dtype == np.float32
    np.testing.assert_array_equal(runs.to_features(unit, np.float64), unit)
    assert runs.to_features(np.full((2, 4), 255.0), np.float64, feature_shape=(2, 2)).shape == (2, 2, 2)
    with pytest.raises(CommandError, match=r"x: pixel values must lie in \[0, 1\] or \[0, 255\], "
                                           r"found values from -1 to 3"):
        runs.to_features(np.array([[-1.0, 3.0]]), np.float64)
    with pytest.raises(CommandError, match=r"the model expects 784 values per sample \(28x28\), got samples "
                                           r"of shape \(3,\) \(3 values\)"):
        runs.to_features(np.zeros((2, 3)), np.float64, feature_shape=(28, 28))
    with pytest.raises(CommandError, match="NaN or infinite"):
        runs.to_features(np.array([[np.nan]]), np.float64)


def test_history_files_are_strict_json_and_one_csv_row_per_epoch():
    history = {"val_loss": [0.9, 0.8], "loss": [float("nan"), 0.5], "accuracy": [0.5, 0.75]}
    assert json.loads(runs.json_text(history)) == {"val_loss": [0.9, 0.8], "loss": [None, 0.5],
                                                   "accuracy": [0.5, 0.75]}
    assert runs.history_csv(history).splitlines() == ["epoch,loss,accuracy,val_loss", "1,nan,0.5,0.9",
                                                      "2,0.5,0.75,0.8"]
