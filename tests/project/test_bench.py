"""The speed benchmark (bench/): smoke tests of its command, and the correctness of its baselines.

Speed is measured in bench/, never asserted here: the CLI tests only check that
the report has the expected rows and columns and that its numbers parse; the
unit tests check that the textbook NumPy loop computes glassnet's gradients and
that the matmul-only limit times exactly the products a training step does.
"""
import importlib.util
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import glassnet as gn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from bench import configs, limit, textbook  # noqa: E402

ROWS = {  # row label -> the module its peer needs
    "glassnet": "glassnet", "glassnet, NumPy only": "numba", "PyTorch": "torch", "scikit-learn MLP": "sklearn",
    "Keras 3 (torch backend)": "keras", "textbook NumPy": "numpy", "matmul-only limit": "numpy",
    "matmul-only limit, 1 thread": "threadpoolctl",
}
TRAIN_CELL = re.compile(r"^(\d+\.\d{3})s (\d+\.\d\d)x \[(\d+\.\d{3})-(\d+\.\d{3})\]( (\d+\.\d)%)?$")
INFER_CELL = re.compile(r"^(\d+\.\d)k/s (\d+\.\d\d)x \[(\d+\.\d)k-(\d+\.\d)k\]$")


def _installed(module):
    if module == "numba" and os.environ.get("GLASSNET_KERNELS", "").strip().lower() == "numpy":
        return False                  # the glassnet row already runs NumPy only: that row is skipped
    return importlib.util.find_spec(module) is not None


def _bench(args, env=None, script=False):
    cmd = [sys.executable] + ([os.path.join("bench", "run.py")] if script else ["-m", "bench"]) + args
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, **(env or {})))
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _check_train_cell(cell, glassnet=False, accuracy=True):
    m = TRAIN_CELL.match(cell)
    assert m, cell
    median, ratio, lo, hi = (float(m.group(i)) for i in range(1, 5))
    assert lo <= median <= hi
    assert ratio >= 0                 # printed to 2 decimals: a tiny peer (the limit, quick mode) can show 0.00x
    if glassnet:
        assert m.group(2) == "1.00"
    if accuracy:
        assert m.group(6) is not None, cell
        assert 0 <= float(m.group(6)) <= 100
    else:
        assert m.group(6) is None, cell


def _check_infer_cell(cell, glassnet=False):
    m = INFER_CELL.match(cell)
    assert m, cell
    median, ratio, lo, hi = (float(m.group(i)) for i in range(1, 5))
    assert lo <= median <= hi and ratio >= 0
    if glassnet:
        assert m.group(2) == "1.00"


def _check_row(label, cells, columns):
    """A row's cells: numbers when the peer's library is installed, else 'skipped' everywhere."""
    if not _installed(ROWS[label]):
        assert set(cells) == {"skipped"}, (label, cells)
        return
    for column, cell in zip(columns, cells):
        if column.endswith("images/s"):
            _check_infer_cell(cell, glassnet=label == "glassnet")
        else:
            _check_train_cell(cell, glassnet=label == "glassnet", accuracy=not label.startswith("matmul"))


# --------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------

def test_quick_run_prints_the_table():
    out = _bench(["--quick"])
    assert re.search(r"^machine\s+.+, \d+ cores \(\d+ usable\)", out, flags=re.M)
    assert re.search(r"^load\s+1/5/15-min load average (\d+\.\d\d ){3}at the start", out, flags=re.M)
    assert re.search(r"^BLAS\s+NumPy: \S+", out, flags=re.M)
    assert re.search(r"^glassnet\s+\d+\.\d+\.\d+ from ", out, flags=re.M)
    assert re.search(r"^data\s+.+: 1,000 train / 500 test images", out, flags=re.M)
    lines = out.splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("peer "))
    columns = re.split(r"\s{2,}", lines[top].strip())
    assert columns == ["peer", "C1 s/epoch", "C2 s/epoch", "C3 s/epoch", "C4 images/s"]
    assert set(lines[top + 1]) == {"-"}
    body = []
    for line in lines[top + 2:]:
        if not line or line.startswith(" "):
            break
        body.append(line)
    rows = {}
    for line in body:
        cells = re.split(r"\s{2,}", line.strip())
        rows[cells[0]] = cells[1:]
    assert len(rows) == len(ROWS) + 1, body                               # and the fused-Adam row
    for label in ROWS:
        assert label in rows, (label, body)
        if label == "matmul-only limit, 1 thread" and rows[label][0] == "skipped":
            continue                                                       # the BLAS has 1 thread already
        _check_row(label, rows[label], columns[1:])
    fused = next(k for k in rows if k.startswith("PyTorch, f"))            # fused (or foreach) Adam: C3 only
    if _installed("torch"):
        assert rows[fused][0] == rows[fused][1] == rows[fused][3] == "-"
        _check_train_cell(rows[fused][2])
    assert "Accuracy after 1 epoch(s), glassnet against PyTorch" in out
    memory = re.search(r"\+ (\d+\.\d) MiB added by training", out)
    assert memory, out
    assert re.search(r"tracemalloc peak .*: \d+\.\d\d MiB", out)
    assert "Errors" not in out


def test_markdown_from_the_script_path_lists_missing_peers_as_skipped(tmp_path):
    hidden = tmp_path / "hide"
    (hidden / "sklearn").mkdir(parents=True)
    (hidden / "sklearn" / "__init__.py").write_text("raise ImportError('hidden by the test')\n")
    out = _bench(["--quick", "--markdown", "--configs", "C1,C4", "--peers", "glassnet,sklearn,numpy,limit",
                  "--no-memory"], env={"PYTHONPATH": str(hidden)}, script=True)
    lines = out.splitlines()
    top = lines.index("| peer | C1 s/epoch | C4 images/s |")
    assert lines[top + 1] == "|---|---|---|"
    rows = {}
    for line in lines[top + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    assert list(rows) == ["glassnet", "scikit-learn MLP", "textbook NumPy", "matmul-only limit"]
    assert rows["scikit-learn MLP"] == ["skipped", "skipped"]
    assert re.search(r"^- skipped: scikit-learn MLP: not installed .*hidden by the test", out, flags=re.M)
    _check_train_cell(rows["glassnet"][0], glassnet=True)
    _check_infer_cell(rows["glassnet"][1], glassnet=True)
    _check_train_cell(rows["textbook NumPy"][0])
    _check_train_cell(rows["matmul-only limit"][0], accuracy=False)
    _check_infer_cell(rows["matmul-only limit"][1])
    assert re.search(r"^- \*\*machine\*\*: ", out, flags=re.M)


def test_unknown_names_are_refused_with_the_known_ones():
    result = subprocess.run([sys.executable, "-m", "bench", "--peers", "glassnet,mxnet"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "mxnet" in result.stderr and "torch" in result.stderr and "limit" in result.stderr
    result = subprocess.run([sys.executable, "-m", "bench", "--configs", "C9"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "C1" in result.stderr


# --------------------------------------------------------------------------
# The textbook loop computes what glassnet computes
# --------------------------------------------------------------------------

def _glassnet_model(config, dtype):
    layers = [gn.layers.Dense(config.hidden[0], activation=config.activation, input_shape=(784,), dtype=dtype)]
    layers += [gn.layers.Dense(w, activation=config.activation, dtype=dtype) for w in config.hidden[1:]]
    layers.append(gn.layers.Dense(10, activation="softmax", dtype=dtype))
    model = gn.Sequential(layers)
    model.compile(optimizer=gn.optimizers.SGD(learning_rate=config.learning_rate or 0.1),
                  loss="sparse_categorical_crossentropy")
    return model


def _batch(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 784)), rng.integers(0, 10, n)


@pytest.mark.parametrize("name", ["C1", "C3"])
def test_textbook_gradients_equal_glassnets_in_float64(name, isolated_random_state):
    config = configs.CONFIGS[name]
    gn.set_random_seed(3)
    model = _glassnet_model(config, "float64")
    x, t = _batch(config.batch)
    net = textbook.TextbookNet(config.sizes, config.activation, seed=1, dtype=np.float64)
    for i, w in enumerate(model.get_weights()):       # [W1, b1, W2, b2, ...]: Keras order, as the notes
        net.params[f"{'Wb'[i % 2]}{i // 2 + 1}"][...] = w
    loss, grads = model.compute_gradients(x, t)
    mine = net.gradient(x, t)
    keys = [f"{'Wb'[i % 2]}{i // 2 + 1}" for i in range(len(grads))]
    for key, g in zip(keys, grads):
        assert mine[key].dtype == np.float64
        np.testing.assert_allclose(mine[key], g, rtol=1e-9, atol=1e-12, err_msg=key)
    assert net.loss(x, t) == pytest.approx(loss, rel=1e-5)     # the notes' loss adds 1e-7 inside the log


def test_textbook_sgd_step_equals_glassnets_train_on_batch(isolated_random_state):
    config = configs.CONFIGS["C2"]
    gn.set_random_seed(4)
    model = _glassnet_model(config, "float64")
    x, t = _batch(config.batch, seed=1)
    net = textbook.TextbookNet(config.sizes, config.activation, dtype=np.float64)
    for i, w in enumerate(model.get_weights()):
        net.params[f"{'Wb'[i % 2]}{i // 2 + 1}"][...] = w
    model.train_on_batch(x, t)
    textbook.SGD(lr=config.learning_rate).update(net.params, net.gradient(x, t))
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(net.params[f"{'Wb'[i % 2]}{i // 2 + 1}"], w, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["C1", "C3"])
def test_textbook_adam_epoch_stays_float32_and_learns(name):
    config = configs.CONFIGS[name]
    rng = np.random.default_rng(0)
    x = rng.random((300, 784), dtype=np.float32)
    t = (x[:, :10].argmax(axis=1)).astype(np.int64)            # a learnable rule
    net = textbook.TextbookNet(config.sizes, config.activation, seed=0)
    opt = textbook.Adam(lr=1e-3)
    before = net.loss(x, t)
    for _ in range(3):
        textbook.train_epoch(net, opt, x, t, config.batch, rng)
    assert all(p.dtype == np.float32 for p in net.params.values())
    assert all(g.dtype == np.float32 for g in net.gradient(x[:5], t[:5]).values())
    assert net.loss(x, t) < before
    assert textbook.predict_batches(net, x, 128).shape == (300, 10)


# --------------------------------------------------------------------------
# The matmul-only limit times exactly a step's products
# --------------------------------------------------------------------------

class _RecordingNumpy:
    """Stands in for numpy inside bench.textbook: records the (m, k, n) of every np.dot."""

    def __init__(self):
        self.shapes = []

    def dot(self, a, b):
        self.shapes.append((a.shape[0], a.shape[1], b.shape[1]))
        return np.dot(a, b)

    def __getattr__(self, name):
        return getattr(np, name)


def test_limit_shapes_of_the_notes_network():
    assert limit.step_shapes((784, 50, 10), 32) == [
        (32, 784, 50), (32, 50, 10),          # forward: x @ W1, h @ W2
        (50, 32, 10), (32, 10, 50),           # layer 2: dW2 = h.T @ dz2, dh = dz2 @ W2.T
        (784, 32, 50),                        # layer 1: dW1 = x.T @ dz1 (no dx for the data)
    ]
    assert limit.step_shapes((784, 50, 10), 32, training=False) == [(32, 784, 50), (32, 50, 10)]
    assert limit.flops((784, 50, 10), 1) == 2 * (784 * 50 * 2 + 50 * 10 * 3)


@pytest.mark.parametrize("name", list(configs.CONFIGS))
def test_limit_shapes_are_the_textbook_steps_products(name, monkeypatch):
    config = configs.CONFIGS[name]
    recorder = _RecordingNumpy()
    monkeypatch.setattr(textbook, "np", recorder)
    net = textbook.TextbookNet(config.sizes, config.activation)
    x, t = _batch(config.batch)
    x = x.astype(np.float32)
    if config.inference:
        net.predict(x)
    else:
        net.gradient(x, t)
    expected = limit.step_shapes(config.sizes, config.batch, training=not config.inference)
    assert recorder.shapes == expected
    step = limit.MatmulStep(config.sizes, config.batch, training=not config.inference)
    assert step.shapes == expected
    step.run()
    for a, b, out in step.calls:
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, a @ b, rtol=1e-5)


def test_limit_epoch_counts_the_last_short_batch():
    epoch = limit.MatmulEpoch((784, 50, 10), 32, 100)
    assert epoch.full_steps == 3
    assert epoch.last.shapes == limit.step_shapes((784, 50, 10), 4)
    assert epoch.seconds() > 0
    assert limit.MatmulEpoch((784, 50, 10), 25, 100).last is None
