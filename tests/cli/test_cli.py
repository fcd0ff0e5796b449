"""The `glassnet` command: train, evaluate, predict, info, --config, .npz datasets and every failure path.

Most tests call glassnet.cli.main([...]) in-process (it returns the exit status); two run the real
command in a subprocess (`python -m glassnet --help`, and the console script `glassnet --version`).
One run of --epochs 2 is shared by the evaluate / predict / info tests.
"""
import contextlib
import csv
import io
import json
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import glassnet as gn
from glassnet import cli, runs
from glassnet.saving import load_model
from reference import saved_random_state

RUN_FILES = {"model.glassnet", "history.json", "history.csv", "curves.png", "summary.txt", "metrics.json"}
HISTORY_KEYS = {"loss", "accuracy", "val_loss", "val_accuracy"}


def value(out, key):
    """The number printed on a line 'key: number'."""
    match = re.search(rf"^{key}: (\S+)$", out, flags=re.M)
    assert match, f"no '{key}:' line in:\n{out}"
    return float(match.group(1))


def run_folder(out):
    match = re.search(r"^run folder: (.+)$", out, flags=re.M)
    assert match, out
    return pathlib.Path(match.group(1))


def mini_test_features():
    (_, _), (x_test, y_test) = gn.datasets.mnist_mini.load_data()
    return x_test, y_test, x_test.reshape(len(x_test), -1) / 255.0


def assert_one_line_error(err, status, code, *needles):
    """Exit 1: exactly one line 'glassnet: error: ...' on stderr, no traceback."""
    assert status == code, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("glassnet: error: "), err
    for needle in needles:
        assert needle in lines[0], err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One `glassnet train --epochs 2` run: (run folder, its stdout)."""
    folder = tmp_path_factory.mktemp("cli") / "run"
    out, err = io.StringIO(), io.StringIO()
    with saved_random_state(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(["train", "--epochs", "2", "--output", str(folder)])
    assert status == 0, err.getvalue()
    assert err.getvalue() == ""
    return folder, out.getvalue()


# --------------------------------------------------------------------------- the command itself

def test_python_m_glassnet_help_lists_the_commands():
    result = subprocess.run([sys.executable, "-m", "glassnet", "--help"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: glassnet")
    for command in ("train", "evaluate", "predict", "info"):
        assert re.search(rf"^\s+{command}\s", result.stdout, flags=re.M), result.stdout


def test_console_script_prints_the_version():
    exe = shutil.which("glassnet")
    if exe is None:
        pytest.skip("the glassnet console script is not on PATH")
    result = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"glassnet {gn.__version__}"


def test_main_returns_the_status_of_help_and_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"glassnet {gn.__version__}"
    assert cli.main(["train", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--dataset", "--hidden", "--activation", "--optimizer", "--lr", "--batch-size", "--epochs",
                   "--validation-split", "--seed", "--dtype", "--output", "--quiet", "--config"):
        assert option in out
    assert cli.main([]) == 2
    assert "required: COMMAND" in capsys.readouterr().err


# --------------------------------------------------------------------------- train

def test_train_with_defaults_trains_the_notes_network(tmp_path, monkeypatch, capsys, isolated_random_state):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "Total params: 39,760" in out                   # the summary, then Keras's progress
    assert "Epoch 1/10" in out and "Epoch 10/10" in out
    accuracy = value(out, "test_accuracy")
    assert accuracy >= 0.90
    folder = run_folder(out)
    assert re.fullmatch(r"runs/\d{8}-\d{6}", folder.as_posix())
    assert out.rstrip().splitlines()[-1] == f"run folder: {folder}"
    assert {p.name for p in folder.iterdir()} == RUN_FILES
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["options"] == {"dataset": "mnist-mini", "model": "mlp", "hidden": [50], "activation": "sigmoid",
                                  "optimizer": "adam", "lr": 0.001, "batch-size": 32, "epochs": 10,
                                  "validation-split": 0.1, "seed": 0, "dtype": "float32",
                                  "output": str(folder), "quiet": False}
    assert metrics["samples"] == {"train": 7200, "validation": 800, "test": 2000}
    assert f"{metrics['test_accuracy']:.4f}" == f"{accuracy:.4f}"
    assert len(json.loads((folder / "history.json").read_text())["loss"]) == 10


def test_train_writes_every_file_of_the_run_folder(trained):
    folder, out = trained
    assert {p.name for p in folder.iterdir()} == RUN_FILES
    assert "Epoch 2/2" in out and "Epoch 3/" not in out

    history = json.loads((folder / "history.json").read_text())
    assert set(history) == HISTORY_KEYS
    assert all(len(v) == 2 for v in history.values())
    assert history["loss"][1] < history["loss"][0]
    assert all(0 < a <= 1 for a in history["accuracy"] + history["val_accuracy"])

    with open(folder / "history.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    assert [r[0] for r in rows[1:]] == ["1", "2"]
    for i, row in enumerate(rows[1:]):
        for key, cell in zip(rows[0][1:], row[1:]):
            assert float(cell) == history[key][i]

    from PIL import Image
    png = folder / "curves.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(png) as image:
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.shape[0] >= 300 and pixels.shape[1] >= 600
    assert pixels.std() > 10 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20    # lines, text, not blank

    summary = (folder / "summary.txt").read_text(encoding="utf-8")
    assert "Trainable params: 39,760" in summary and "dense_1 (Dense)" in summary
    assert "Optimizer params: 79,522" in summary         # trained with Adam: m and v per weight, step, rate

    metrics = json.loads((folder / "metrics.json").read_text())
    printed = value(out, "test_accuracy")
    assert f"{metrics['test_accuracy']:.4f}" == f"{printed:.4f}"
    assert f"{metrics['test_loss']:.4f}" == f"{value(out, 'test_loss'):.4f}"
    assert 0.80 < printed <= 1.0 and 0 < metrics["test_loss"] < 1.0
    assert metrics["options"]["epochs"] == 2 and metrics["epochs_run"] == 2
    assert metrics["params"] == 39_760 and metrics["glassnet_version"] == gn.__version__

    model = load_model(folder / "model.glassnet")          # the saved model is the trained one
    _, y_test, x = mini_test_features()
    loss, accuracy = model.evaluate(x, y_test, verbose=0)
    assert accuracy == pytest.approx(metrics["test_accuracy"], abs=1e-12)
    assert loss == pytest.approx(metrics["test_loss"], rel=1e-5)


def test_train_quiet_never_overwrites_a_run_folder(trained, capsys, isolated_random_state):
    folder, _ = trained
    before = (folder / "metrics.json").read_bytes()
    assert cli.main(["train", "--epochs", "1", "--quiet", "--output", str(folder)]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["test_loss", "test_accuracy", "run folder"]
    assert run_folder(out) == pathlib.Path(f"{folder}-1")
    assert (folder / "metrics.json").read_bytes() == before
    assert json.loads((pathlib.Path(f"{folder}-1") / "metrics.json").read_text())["options"]["epochs"] == 1


def test_train_without_matplotlib_warns_once_and_skips_the_png(tmp_path, monkeypatch, capsys,
                                                                isolated_random_state):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)        # import fails as if not installed
    assert cli.main(["train", "--epochs", "1", "--quiet", "--output", "run"]) == 0
    out, err = capsys.readouterr()
    assert err.count("warning") == 1 and 'pip install "glassnet[plot]"' in err
    assert {p.name for p in (tmp_path / "run").iterdir()} == RUN_FILES - {"curves.png"}
    from glassnet import plot
    with pytest.raises(ImportError, match=r'pip install "glassnet\[plot\]"'):
        plot.plot_history({"loss": [1.0]}, tmp_path / "x.png")


def test_config_file_with_a_command_line_override(tmp_path, monkeypatch, capsys, isolated_random_state):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run.toml").write_text(
        'epochs = 1\nbatch-size = 64\nhidden = [20, 16]\nactivation = "relu"\n'
        'validation_split = 0.2\nseed = 3\nlr = 0.002\noutput = "from-config"\ndtype = "float64"\n')
    assert cli.main(["train", "--config", "run.toml", "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out and run_folder(out) == pathlib.Path("from-config")
    metrics = json.loads((tmp_path / "from-config" / "metrics.json").read_text())
    options = metrics["options"]
    assert options["epochs"] == 2                               # the flag wins over the file
    assert (options["batch-size"], options["hidden"], options["activation"]) == (64, [20, 16], "relu")
    assert (options["validation-split"], options["seed"], options["lr"]) == (0.2, 3, 0.002)
    assert metrics["samples"] == {"train": 6400, "validation": 1600, "test": 2000}
    assert metrics["config_file"] == "run.toml"
    summary = (tmp_path / "from-config" / "summary.txt").read_text(encoding="utf-8")
    assert "(None, 20)" in summary and "(None, 16)" in summary
    assert metrics["params"] == 784 * 20 + 20 + 20 * 16 + 16 + 16 * 10 + 10
    model = load_model(tmp_path / "from-config" / "model.glassnet")
    assert model.optimizer.learning_rate == pytest.approx(0.002)
    assert model.dtype == "float64" and options["dtype"] == "float64"


def test_plot_history_draws_without_validation_and_with_a_diverged_epoch(tmp_path):
    from PIL import Image
    from glassnet import plot
    history = {"loss": [float("nan"), 0.9, 0.5], "accuracy": [0.1, 0.6, 0.8]}
    assert plot.plot_history(history, tmp_path / "curves.png").axes[0].get_title() == "Loss"    # returns the Figure
    with Image.open(tmp_path / "curves.png") as image:
        assert image.format == "PNG" and np.asarray(image.convert("L")).std() > 10
    assert cli.history_csv(history).splitlines() == ["epoch,loss,accuracy", "1,nan,0.1", "2,0.9,0.6", "3,0.5,0.8"]
    assert json.loads(runs.json_text(history))["loss"] == [None, 0.9, 0.5]           # strict JSON: NaN -> null


def test_dataset_from_an_npz_file(tmp_path, monkeypatch, capsys, isolated_random_state):
    monkeypatch.chdir(tmp_path)
    (x_train, y_train), (x_test, y_test) = gn.datasets.mnist_mini.load_data()
    train, test = np.flatnonzero(y_train < 3)[:900], np.flatnonzero(y_test < 3)[:150]
    np.savez(tmp_path / "digits012.npz",
             x_train=x_train[train].reshape(-1, 784).astype(np.float32) / 255,    # (N, 784) floats in [0, 1]
             y_train=y_train[train], x_test=x_test[test], y_test=y_test[test])    # (N, 28, 28) uint8
    assert cli.main(["train", "--dataset", "digits012.npz", "--epochs", "2", "--output", "run"]) == 0
    out = capsys.readouterr().out
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["classes"] == 3 and metrics["samples"] == {"train": 810, "validation": 90, "test": 150}
    assert "(None, 3)" in (tmp_path / "run" / "summary.txt").read_text(encoding="utf-8")
    assert value(out, "test_accuracy") > 0.9                   # three classes are easy

    assert cli.main(["evaluate", "run/model.glassnet", "--dataset", "digits012.npz"]) == 0
    out = capsys.readouterr().out
    counts = confusion(out)
    assert counts.shape == (3, 3) and counts.sum() == 150
    assert value(out, "test_accuracy") == pytest.approx(metrics["test_accuracy"], abs=5e-5)


# --------------------------------------------------------------------------- evaluate, predict, info

def confusion(out):
    """The printed confusion matrix as an array; checks the header row holds the class labels."""
    lines = out.splitlines()
    start = lines.index("confusion matrix (rows: true class, columns: predicted class)") + 1
    header = lines[start].split()
    assert header[0] == "true\\pred"
    k = len(header) - 1
    assert header[1:] == [str(j) for j in range(k)]
    rows = [line.split() for line in lines[start + 1:start + 1 + k]]
    assert [r[0] for r in rows] == [str(i) for i in range(k)]
    return np.array([[int(c) for c in r[1:]] for r in rows])


def test_evaluate_matches_the_model_and_its_confusion_matrix(trained, capsys):
    folder, _ = trained
    assert cli.main(["evaluate", str(folder / "model.glassnet")]) == 0
    out = capsys.readouterr().out
    model = load_model(folder / "model.glassnet")
    _, y_test, x = mini_test_features()
    loss, accuracy = model.evaluate(x, y_test, verbose=0)
    assert f"{value(out, 'test_loss'):.4f}" == f"{loss:.4f}"
    assert f"{value(out, 'test_accuracy'):.4f}" == f"{accuracy:.4f}"
    counts = confusion(out)
    assert counts.shape == (10, 10) and counts.sum() == 2000
    assert np.trace(counts) / counts.sum() == pytest.approx(accuracy, abs=1e-12)
    assert (counts.sum(axis=1) == np.bincount(y_test, minlength=10)).all()    # rows: true classes
    predicted = model.predict(x).argmax(axis=1)
    assert (counts.sum(axis=0) == np.bincount(predicted, minlength=10)).all()   # columns: predictions
    assert cli.main(["evaluate", str(folder)]) == 0                          # a run folder stands for its model
    assert confusion(capsys.readouterr().out).tolist() == counts.tolist()


def test_predict_images_and_arrays_like_model_predict(trained, tmp_path, capsys):
    from PIL import Image
    folder, _ = trained
    x_test, y_test, _ = mini_test_features()
    digit = x_test[0]                                                    # a real test digit, white on black
    Image.fromarray(digit).save(tmp_path / "digit.png")
    Image.fromarray(255 - digit).save(tmp_path / "paper.png")              # dark ink on white paper
    Image.fromarray(255 - digit).convert("RGB").save(tmp_path / "paper.jpg", quality=95)
    np.save(tmp_path / "one.npy", digit)
    np.save(tmp_path / "batch.npy", x_test[:3].reshape(3, 784))
    files = ["digit.png", "paper.png", "paper.jpg", "one.npy", "batch.npy"]
    assert cli.main(["predict", str(folder / "model.glassnet")] + [str(tmp_path / f) for f in files]) == 0
    lines = [line.split("\t") for line in capsys.readouterr().out.strip().splitlines()]
    assert [line[0] for line in lines] == ["digit.png", "paper.png", "paper.jpg", "one.npy",
                                           "batch.npy[0]", "batch.npy[1]", "batch.npy[2]"]

    model = load_model(folder / "model.glassnet")
    p = model.predict(x_test[:3].reshape(3, 784) / 255.0)
    expected = [(str(int(row.argmax())), f"{row.max():.4f}") for row in p]
    assert [tuple(line[1:]) for line in lines[:2]] == [expected[0]] * 2    # inverted back exactly
    assert tuple(lines[3][1:]) == expected[0]
    assert [tuple(line[1:]) for line in lines[4:]] == expected
    assert lines[2][1] == expected[0][0]                                  # JPEG: same class, lossy pixels
    assert int(expected[0][0]) == y_test[0]


def test_info_prints_the_summary_and_the_metadata(trained, capsys):
    folder, _ = trained
    assert cli.main(["info", str(folder / "model.glassnet")]) == 0
    out = capsys.readouterr().out
    assert "Trainable params: 39,760" in out and "dense (Dense)" in out
    assert "Total params: 119,282" in out                # Keras counts the saved Adam state in the total
    fields = dict(re.findall(r"^([a-z ]+): +(.+)$", out, flags=re.M))
    assert fields["saved by"] == f"glassnet {gn.__version__}"
    assert fields["loss"] == "sparse_categorical_crossentropy"
    assert fields["optimizer"].startswith("Adam(") and "learning_rate=0.001" in fields["optimizer"]
    assert fields["metrics"] == "accuracy"
    assert fields["optimizer steps"] == "450"                          # 2 epochs of 225 batches of 32
    assert fields["dtype"] == "float32"
    assert fields["parameters"] == "39,760"
    assert fields["input shape"] == "(None, 784)"


# --------------------------------------------------------------------------- failures

@pytest.mark.parametrize("argv, needle", [
    (["train", "--bogus"], "unrecognized arguments: --bogus"),
    (["train", "--hidden", "0"], "argument --hidden"),
    (["train", "--hidden", "128,x"], "argument --hidden"),
    (["train", "--lr", "-1"], "argument --lr"),
    (["train", "--epochs", "abc"], "argument --epochs"),
    (["train", "--validation-split", "1"], "argument --validation-split"),
    (["train", "--activation", "nope"], "Unknown activation 'nope'"),
    (["train", "--dataset", "cifar"], "unknown dataset 'cifar'"),
    (["train", "--config", "missing.toml"], "config file not found: missing.toml"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["predict", "model.glassnet"], "required: FILE"),
])
def test_bad_arguments_exit_2_with_one_error_line(argv, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[0].startswith("usage: glassnet")
    assert [i for i, line in enumerate(lines) if ": error: " in line] == [len(lines) - 1]
    assert needle in lines[-1], err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("text, needle", [
    ('epochs = 1\nlearning_rat = 0.1\ncolour = "red"\n', "unknown keys 'learning_rat', 'colour'"),
    ("epochs = 0\n", "epochs: expected a positive integer"),
    ('hidden = "0"\n', "hidden: expected comma-separated"),
    ("quiet = 1\n", "quiet: expected true or false"),
    ("epochs = \n", "not valid TOML"),
])
def test_bad_config_files_exit_2(text, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run.toml").write_text(text)
    assert cli.main(["train", "--config", "run.toml"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("glassnet train: error: config file run.toml")
    assert needle in err.strip().splitlines()[-1], err
    assert not (tmp_path / "runs").exists()


def test_missing_dataset_exits_1(tmp_path, monkeypatch, capsys, isolated_random_state):
    import glassnet.datasets.mnist as mnist
    from glassnet.datasets._loader import DatasetNotFoundError

    def offline(path=None):
        raise DatasetNotFoundError("MNIST not found: searched ~/.cache/glassnet/mnist; offline")
    monkeypatch.setattr(mnist, "load_data", offline)
    monkeypatch.chdir(tmp_path)
    status = cli.main(["train", "--dataset", "mnist"])
    assert_one_line_error(capsys.readouterr().err, status, 1, "MNIST not found")
    status = cli.main(["train", "--dataset", "nothere.npz"])
    assert_one_line_error(capsys.readouterr().err, status, 1, "dataset file not found: nothere.npz")
    assert not (tmp_path / "runs").exists()


def test_bad_npz_datasets_exit_1(tmp_path, monkeypatch, capsys, isolated_random_state):
    monkeypatch.chdir(tmp_path)
    np.savez("keys.npz", x_train=np.zeros((4, 784)), y_train=np.zeros(4))
    np.savez("lengths.npz", x_train=np.zeros((4, 784)), y_train=np.zeros(3, int),
             x_test=np.zeros((2, 784)), y_test=np.zeros(2, int))
    np.savez("objects.npz", x_train=np.array([None] * 4), y_train=np.zeros(4, int),
             x_test=np.zeros((2, 784)), y_test=np.zeros(2, int))
    for name, needle in (("keys.npz", "missing x_test, y_test"), ("lengths.npz", "4 samples but y_train has 3"),
                         ("objects.npz", "objects.npz")):
        status = cli.main(["train", "--dataset", name])
        assert_one_line_error(capsys.readouterr().err, status, 1, needle)
    assert not (tmp_path / "runs").exists()


def test_bad_model_files_exit_1(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "garbage.glassnet").write_bytes(b"\x00\x01 this is not a model \xff" * 20)
    for command in (["info"], ["evaluate"], ["predict"]):
        extra = ["x.npy"] if command == ["predict"] else []
        status = cli.main(command + ["garbage.glassnet"] + extra)
        assert_one_line_error(capsys.readouterr().err, status, 1, "garbage.glassnet")
        status = cli.main(command + ["absent.glassnet"] + extra)
        assert_one_line_error(capsys.readouterr().err, status, 1, "absent.glassnet")


def test_bad_prediction_inputs_exit_1(trained, tmp_path, monkeypatch, capsys):
    folder, _ = trained
    model = str(folder / "model.glassnet")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "text.png").write_text("this is text, not a PNG")
    np.save(tmp_path / "wide.npy", np.zeros((2, 783)))
    np.save(tmp_path / "words.npy", np.array(["a", "b"]))
    cases = [("text.png", "text.png"), ("wide.npy", "784"), ("words.npy", "words.npy"),
             ("missing.png", "missing.png")]
    for name, needle in cases:
        status = cli.main(["predict", model, name])
        out, err = capsys.readouterr()
        assert out == ""
        assert_one_line_error(err, status, 1, needle)
    monkeypatch.setitem(sys.modules, "PIL", None)                       # Pillow not installed
    status = cli.main(["predict", model, "text.png"])
    assert_one_line_error(capsys.readouterr().err, status, 1, 'pip install "glassnet[images]"')


def test_unexpected_errors_keep_their_traceback(tmp_path, monkeypatch):
    import glassnet.datasets.mnist_mini as mnist_mini

    def broken():
        raise RuntimeError("a bug, not a user error")
    monkeypatch.setattr(mnist_mini, "load_data", broken)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main(["train"])
