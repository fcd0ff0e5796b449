"""Scripts in the style of the dense-network chapters of a Keras book and of keras.io's structured-data
examples (tests/models/scripts), run whole with only the import changed, and checked on what they
print and learn.

Run against Keras 3 itself (KERAS_BACKEND=torch, the imports swapped back, the same data), they printed:
movie_reviews_multi_hot.py test accuracy 0.848 (glassnet 0.843); newswire_topics.py test accuracy 0.770,
sparse labels 0.743, 4-unit bottleneck 0.527 (glassnet 0.768, 0.747, 0.517); house_prices_k_fold.py mean
fold MAE 2.66 and test MAE 3.10 (glassnet 2.70 and 3.11), layer names dense, dense_1, dense_2;
heart_disease_structured.py 336 parameters, validation accuracy 0.830 (glassnet 0.825).
"""
import runpy
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).parent / "scripts"
pytestmark = pytest.mark.usefixtures("isolated_random_state")


def _run(name, capsys, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("GLASSNET_SCRIPT_DIR", str(tmp_path))
    runpy.run_path(str(SCRIPTS / name), run_name="__main__")
    out = capsys.readouterr().out
    return out, dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def _numbers(text):
    return [float(v) for v in text.split()]


def test_movie_reviews_as_multi_hot_vectors(capsys, tmp_path, monkeypatch):
    out, results = _run("movie_reviews_multi_hot.py", capsys, tmp_path, monkeypatch)
    assert results["x_train shape"] == "(4000, 1000)"
    lines = out.splitlines()                                   # the retraining fit and evaluate print progress
    assert [line for line in lines if line.startswith("Epoch ")] == [f"Epoch {i}/4" for i in range(1, 5)]
    assert sum(line.startswith("8/8 - ") for line in lines) == 4            # 4 epochs of 8 batches
    assert sum(line.startswith("32/32 - ") for line in lines) == 1          # evaluate: 32 batches
    assert results["history keys"] == "['accuracy', 'loss', 'val_accuracy', 'val_loss']"
    first, last = _numbers(results["training loss first and last"])
    assert first > 0.6 and last < 0.25                         # the 20-epoch model fits its training data
    loss, accuracy = _numbers(results["test loss and accuracy"])
    assert accuracy >= 0.78                                    # half the reviews are positive: chance is 0.5
    assert float(results["accuracy of thresholded predictions"]) == pytest.approx(accuracy, abs=1e-3)
    assert results["predictions shape"] == "(1000, 1)"
    assert all(0 < p < 1 for p in _numbers(results["first predictions"]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["review_accuracy.png", "review_losses.png"]


def test_newswire_topics_with_one_hot_and_integer_labels(capsys, tmp_path, monkeypatch):
    _, results = _run("newswire_topics.py", capsys, tmp_path, monkeypatch)
    assert results["one-hot labels"].startswith("(2000, 46)")
    label, argmax = results["first label"].split()
    assert label == argmax                                      # to_categorical put the 1 at the label
    accuracy = _numbers(results["test loss and accuracy"])[1]
    baseline = float(results["random baseline accuracy"])
    assert accuracy >= 0.7 and baseline < 0.2
    assert float(results["argmax accuracy"]) == pytest.approx(accuracy, abs=1e-3)
    assert results["prediction shape"] == "(46,)" and results["sum of the first prediction"] == "1.0000"
    assert float(results["sparse labels test accuracy"]) >= 0.68
    bottleneck = float(results["4-unit bottleneck test accuracy"])
    assert baseline < bottleneck < accuracy                     # 4 units lose information, but learn


def test_house_prices_with_k_fold_validation(capsys, tmp_path, monkeypatch):
    out, results = _run("house_prices_k_fold.py", capsys, tmp_path, monkeypatch)
    assert [line for line in out.splitlines() if line.startswith("Processing fold")] == \
        [f"Processing fold #{i}" for i in range(4)]
    assert results["layer names of the last fold"] == "dense, dense_1, dense_2"
    assert float(results["largest normalised feature mean"]) < 1e-10
    scores = _numbers(results["fold scores"])
    assert len(scores) == 4 and max(scores) < 3.5               # the noise alone gives an MAE of 2.0
    assert results["last epoch's val_mae equals evaluate's MAE"] == "True"
    first, tenth, last = _numbers(results["average validation MAE at epochs 1, 10 and 60"])
    assert first > tenth > last
    guess = float(results["MAE of always guessing the training mean"])
    assert float(results["test MAE"]) < min(4.0, 0.75 * guess)
    assert results["predictions shape"] == "(102, 1)"
    prediction, target = _numbers(results["first prediction and target"])
    assert abs(prediction - target) < 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["validation_mae.png", "validation_mae_truncated.png"]


def test_structured_data_with_one_input_per_column(capsys, tmp_path, monkeypatch):
    Image = pytest.importorskip("PIL.Image")
    out, results = _run("heart_disease_structured.py", capsys, tmp_path, monkeypatch)
    assert results["concatenated features shape"] == "(None, 8)"
    assert results["parameters"] == "336"       # Keras 3's count: 8x32+32 + 32+1, and 3 numbers per Normalization
    accuracy = float(results["validation accuracy"])
    assert accuracy >= 0.78 and accuracy > float(results["accuracy of always saying no"]) + 0.15
    sick = float(out.split("had a ", 1)[1].split(" percent")[0])
    healthy = float(results["a younger patient without angina"].split()[0])
    assert sick > 80 and healthy < 20
    with Image.open(tmp_path / "structured_model.png") as image:
        assert image.format == "PNG" and image.size[0] > image.size[1]     # rankdir="LR": left to right
