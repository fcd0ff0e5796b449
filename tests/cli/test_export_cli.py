"""`glassnet export MODEL --format onnx [--output FILE] [--opset N]` (glassnet.cli.export).

main([...]) is called in-process (it returns the exit status). The written file is checked with onnx's
checker and run with ONNX Runtime against the saved model's predict.
"""
import numpy as np
import pytest

import glassnet as gn
from glassnet import cli

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.usefixtures("isolated_random_state")


@pytest.fixture(autouse=True, scope="module")
def numpy_kernels():
    """predict on the NumPy code: no compiled kernels to build for one comparison."""
    before = gn.backend.kernels()
    gn.backend.set_kernels("numpy")
    yield
    gn.backend.set_kernels("auto" if before == "numba" else "numpy")


@pytest.fixture
def saved(tmp_path):
    """A run folder holding a small convnet's model.glassnet."""
    gn.set_random_seed(3)
    model = gn.Sequential([gn.layers.Input(shape=(6, 6, 1)), gn.layers.Conv2D(3, 3, padding="same", activation="relu"),
                           gn.layers.MaxPooling2D(2), gn.layers.Flatten(), gn.layers.Dense(4, activation="softmax")])
    model.set_weights([np.random.default_rng(k).normal(0, 0.5, w.shape).astype(w.dtype)
                       for k, w in enumerate(model.get_weights())])
    run = tmp_path / "run"
    run.mkdir()
    model.save(run / "model.glassnet")
    return run, model


def test_export_writes_the_onnx_file_next_to_the_model_and_says_where(saved, capsys):
    run, model = saved
    assert cli.main(["export", str(run), "--format", "onnx"]) == 0
    target = run / "model.onnx"
    out = capsys.readouterr().out
    assert out.startswith(f"wrote {target} (ONNX opset 18") and "(batch, 6, 6, 1)" in out
    proto = onnx.load(str(target))
    onnx.checker.check_model(proto, full_check=True)
    x = np.random.default_rng(0).random((5, 6, 6, 1), dtype=np.float32)
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"input": x})[0], model.predict(x, verbose=0), rtol=1e-5, atol=1e-5)


def test_output_and_opset(saved, tmp_path, capsys):
    run, _ = saved
    target = tmp_path / "served.onnx"
    assert cli.main(["export", str(run / "model.glassnet"), "--output", str(target), "--opset", "13"]) == 0
    assert f"wrote {target} (ONNX opset 13" in capsys.readouterr().out
    assert onnx.load(str(target)).opset_import[0].version == 13


def test_a_bad_model_file_is_one_line_naming_it(tmp_path, capsys):
    bad = tmp_path / "broken.glassnet"
    bad.write_text("not a model")
    assert cli.main(["export", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("glassnet: error: ") and str(bad) in err
    assert not list(tmp_path.glob("*.onnx"))


def test_an_unwritable_target_is_one_line_naming_it(saved, tmp_path, capsys):
    run, _ = saved
    target = tmp_path / "missing" / "m.onnx"
    assert cli.main(["export", str(run), "-o", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(target) in err


@pytest.mark.parametrize("args", [["--opset", "x"], ["--opset", "5"], ["--opset", "1000"], ["--format", "keras"], []])
def test_bad_arguments_exit_2_with_usage(saved, args, capsys):
    run, _ = saved
    argv = ["export"] + ([str(run)] + args if args else [])
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "usage: glassnet export" in err and "Traceback" not in err
    assert not (run / "model.onnx").exists()


def test_without_onnx_one_line_says_how_to_install_it(saved, monkeypatch, capsys):
    import sys
    run, _ = saved
    monkeypatch.setitem(sys.modules, "onnx", None)
    assert cli.main(["export", str(run)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install "glassnet[onnx]"' in err
