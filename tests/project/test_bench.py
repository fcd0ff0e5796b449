"""The speed benchmark (bench/): smoke tests of its command, and the correctness of its baselines.

Speed is measured in bench/, never asserted here: the CLI tests only check that
the report has the expected rows and columns, that its numbers parse and agree
with each other (a goal line's ratio with the table's cells); the unit tests
check that the textbook NumPy loop computes glassnet's gradients, that the
matmul-only limit times exactly the products a training step does (for the
convnet: at the im2col shapes glassnet's layers multiply), that every peer
builds the same convnet, and how the goal lines judge their numbers.
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

from bench import configs, goals, limit, textbook  # noqa: E402
from bench.measure import Cell  # noqa: E402

ROWS = {  # row label -> the module its peer needs
    "glassnet": "glassnet", "glassnet, NumPy only": "numba", "PyTorch": "torch", "scikit-learn MLP": "sklearn",
    "Keras 3 (torch backend)": "keras", "textbook NumPy": "numpy", "matmul-only limit": "numpy",
    "matmul-only limit, 1 thread": "threadpoolctl",
}
CONVNET_ROWS = {"glassnet", "glassnet, NumPy only", "PyTorch", "Keras 3 (torch backend)", "matmul-only limit",
                "matmul-only limit, 1 thread"}        # the rows with C5/C6 cells; the others show "-" there
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
    """A row's cells: numbers when the peer's library is installed, else 'skipped' everywhere; '-' in the convnet's
    columns for a peer without a convnet."""
    if not _installed(ROWS[label]):
        assert set(cells) == {"skipped"}, (label, cells)
        return
    for column, cell in zip(columns, cells):
        if column.split()[0] in ("C5", "C6") and label not in CONVNET_ROWS:
            assert cell == "-", (label, column, cell)
        elif column.endswith("images/s"):
            _check_infer_cell(cell, glassnet=label == "glassnet")
        else:
            _check_train_cell(cell, glassnet=label == "glassnet", accuracy=not label.startswith("matmul"))


# --------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------

def _table(lines, top):
    """{row label: [cells]} of the text table whose header is lines[top]."""
    rows = {}
    for line in lines[top + 2:]:
        if not line or line.startswith(" "):
            break
        cells = re.split(r"\s{2,}", line.strip())
        rows[cells[0]] = cells[1:]
    return rows


def _seconds(cell):
    return float(TRAIN_CELL.match(cell).group(1))


def _between(ratio, low, high):
    """ratio, printed to 2 decimals, lies within [low, high] (bounds from numbers printed to 3 decimals)."""
    assert low - 0.005 <= ratio <= high + 0.005, (ratio, low, high)


def _check_issue12_lines(out, rows, columns):
    """The C5/C6 goal, accuracy and memory lines parse, and agree with the table's cells and with each other."""
    c5, c6 = columns.index("C5 s/epoch") - 1, columns.index("C6 images/s") - 1
    g5, t5, f5 = (_seconds(rows[k][c5]) for k in ("glassnet", "PyTorch", "matmul-only limit"))
    floor = r"floor \(the step's products at im2col shapes\)"
    for peer, cell_seconds, what in (("PyTorch", t5, "PyTorch"), ("floor", f5, floor)):
        m = re.search(rf"^  C5 epoch glassnet / {what} = (\d+\.\d\d)(; by repeat [^(]*\(median [\d.]+\))? "
                      rf"\(goal <= ([\d.]+)\): (met|NOT met)$", out, flags=re.M)
        assert m, (peer, out)
        ratio, goal = float(m.group(1)), float(m.group(3))
        _between(ratio, (g5 - 5e-4) / (cell_seconds + 5e-4), (g5 + 5e-4) / max(cell_seconds - 5e-4, 1e-9))
        assert goal == (goals.CONVNET_TIME_GOAL if peer == "PyTorch" else goals.CONVNET_FLOOR_GOAL)
        assert m.group(4) == ("met" if ratio <= goal else "NOT met")
    # C6: glassnet's throughput over the peer's is exactly the ratio printed in the peer's cell
    m = re.search(r"^  C6 throughput glassnet / PyTorch = (\d+\.\d\d) \(goal >= ([\d.]+)\): (met|NOT met)$",
                  out, flags=re.M)
    assert m, out
    assert m.group(1) + "x" == rows["PyTorch"][c6].split()[1]
    assert float(m.group(2)) == goals.CONVNET_THROUGHPUT_GOAL
    assert m.group(3) == ("met" if float(m.group(1)) >= goals.CONVNET_THROUGHPUT_GOAL else "NOT met")
    m = re.search(r"^  C6 throughput glassnet / floor \(the forward products alone\) = (\d+\.\d\d) \(no goal",
                  out, flags=re.M)
    assert m, out
    assert m.group(1) + "x" == rows["matmul-only limit"][c6].split()[1]
    # C5's accuracy line: the difference is glassnet's accuracy minus PyTorch's
    m = re.search(r"^  C5: glassnet (\d+\.\d\d)% \([\d.]+\), PyTorch (\d+\.\d\d)% \([\d.]+\): ([+-]\d+\.\d\d) points",
                  out, flags=re.M)
    assert m, out
    assert float(m.group(3)) == pytest.approx(float(m.group(1)) - float(m.group(2)), abs=0.011)
    assert float(rows["glassnet"][c5].split()[-1].rstrip("%")) == pytest.approx(float(m.group(1)), abs=0.051)
    # C5's memory: three points (all images, a quarter of them at the same batch, all at a 4x batch), each
    # peak = before + added, and the verdict lines' growth is the difference of the tracemalloc peaks
    points = re.findall(r"^  ([\d,]+) images \(\d+\.\d MiB\), batch (\d+): peak RSS (\d+\.\d) MiB = "
                        r"(\d+\.\d) MiB before fit \+ (\d+\.\d) MiB; tracemalloc peak (\d+\.\d\d) MiB$",
                        out, flags=re.M)
    assert len(points) == 3, out
    images = [int(p[0].replace(",", "")) for p in points]
    batches = [int(p[1]) for p in points]
    assert images[0] == images[2] == 1000 and images[1] == 250
    assert batches[0] == batches[1] and batches[2] == 4 * batches[0]
    for p in points:
        assert float(p[2]) == pytest.approx(float(p[3]) + float(p[4]), abs=0.11)
    traced = [float(p[5]) for p in points]
    m = re.search(r"^  C5 training memory and the dataset: 250 -> 1,000 images \(\+\d+\.\d MiB of training data\) "
                  r"adds ([+-]\d+\.\d) MiB to the tracemalloc peak \(goal: .* = (\d+\.\d) MiB\): (met|NOT met)$",
                  out, flags=re.M)
    assert m, out
    assert float(m.group(1)) == pytest.approx(traced[0] - traced[1], abs=0.06)
    assert m.group(3) == ("met" if float(m.group(1)) <= float(m.group(2)) + 0.05 else "NOT met")
    m = re.search(rf"^  C5 training memory and the batch: batch {batches[0]} -> {batches[2]} adds ([+-]\d+\.\d) MiB "
                  r"to the tracemalloc peak: training's memory", out, flags=re.M)
    assert m, out
    assert float(m.group(1)) == pytest.approx(traced[2] - traced[0], abs=0.06)


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
    assert columns == ["peer", "C1 s/epoch", "C2 s/epoch", "C3 s/epoch", "C4 images/s", "C5 s/epoch", "C6 images/s"]
    assert set(lines[top + 1]) == {"-"}
    rows = _table(lines, top)
    assert len(rows) == len(ROWS) + 1, rows                               # and the fused-Adam row
    for label in ROWS:
        assert label in rows, (label, rows)
        if label == "matmul-only limit, 1 thread" and rows[label][0] == "skipped":
            continue                                                       # the BLAS has 1 thread already
        _check_row(label, rows[label], columns[1:])
    fused = next(k for k in rows if k.startswith("PyTorch, f"))            # fused (or foreach) Adam: C3 only
    if _installed("torch"):
        assert rows[fused][0] == rows[fused][1] == rows[fused][3] == rows[fused][4] == rows[fused][5] == "-"
        _check_train_cell(rows[fused][2])
    assert "Accuracy after 1 epoch(s), glassnet against PyTorch" in out
    memory = re.search(r"\+ (\d+\.\d) MiB added by training", out)
    assert memory, out
    assert re.search(r"tracemalloc peak .*: \d+\.\d\d MiB", out)
    assert re.search(r"^C5\s+Keras-style convnet on 28x28x1 images: Conv2D 32 3x3 relu \(26x26x32\), .*"
                     r"Dense 10 softmax, Adam lr 0.001, batch 128$", out, flags=re.M)
    assert re.search(r"^C6\s+inference of the Keras-style convnet .*, batches of 1,000, 250 images$", out, flags=re.M)
    assert "Issue 5's goals in this run" in out and "Issue 12's goals in this run" in out
    if _installed("torch"):
        _check_issue12_lines(out, rows, columns)
    assert "Errors" not in out


def test_markdown_from_the_script_path_lists_missing_peers_as_skipped(tmp_path):
    hidden = tmp_path / "hide"
    (hidden / "sklearn").mkdir(parents=True)
    (hidden / "sklearn" / "__init__.py").write_text("raise ImportError('hidden by the test')\n")
    out = _bench(["--quick", "--markdown", "--configs", "C1,C4,C6", "--peers", "glassnet,sklearn,numpy,limit",
                  "--no-memory"], env={"PYTHONPATH": str(hidden)}, script=True)
    lines = out.splitlines()
    top = lines.index("| peer | C1 s/epoch | C4 images/s | C6 images/s |")
    assert lines[top + 1] == "|---|---|---|---|"
    rows = {}
    for line in lines[top + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    assert list(rows) == ["glassnet", "scikit-learn MLP", "textbook NumPy", "matmul-only limit"]
    assert rows["scikit-learn MLP"] == ["skipped", "skipped", "skipped"]
    assert re.search(r"^- skipped: scikit-learn MLP: not installed .*hidden by the test", out, flags=re.M)
    _check_train_cell(rows["glassnet"][0], glassnet=True)
    _check_infer_cell(rows["glassnet"][1], glassnet=True)
    _check_train_cell(rows["textbook NumPy"][0])
    assert rows["textbook NumPy"][2] == "-"                                # the notes' Dense network only
    _check_train_cell(rows["matmul-only limit"][0], accuracy=False)
    _check_infer_cell(rows["matmul-only limit"][1])
    _check_infer_cell(rows["glassnet"][2], glassnet=True)
    _check_infer_cell(rows["matmul-only limit"][2])
    assert re.search(r"^- C6 throughput glassnet / floor \(the forward products alone\) = \d+\.\d\d", out, flags=re.M)
    assert re.search(r"^- C6 against PyTorch: needs the PyTorch row", out, flags=re.M)
    assert re.search(r"^- \*\*machine\*\*: ", out, flags=re.M)


def test_unknown_names_are_refused_with_the_known_ones():
    result = subprocess.run([sys.executable, "-m", "bench", "--peers", "glassnet,mxnet"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "mxnet" in result.stderr and "torch" in result.stderr and "limit" in result.stderr
    result = subprocess.run([sys.executable, "-m", "bench", "--configs", "C9"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "C1" in result.stderr


def _batch(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 784)), rng.integers(0, 10, n)


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
    layers = limit.dense_layers((784, 50, 10))
    assert layers == configs.CONFIGS["C1"].matmul_layers == [(1, 784, 50), (1, 50, 10)]
    assert limit.step_shapes(layers, 32) == [
        (32, 784, 50), (32, 50, 10),          # forward: x @ W1, h @ W2
        (50, 32, 10), (32, 10, 50),           # layer 2: dW2 = h.T @ dz2, dh = dz2 @ W2.T
        (784, 32, 50),                        # layer 1: dW1 = x.T @ dz1 (no dx for the data)
    ]
    assert limit.step_shapes(layers, 32, training=False) == [(32, 784, 50), (32, 50, 10)]
    assert limit.flops(layers, 1) == 2 * (784 * 50 * 2 + 50 * 10 * 3)


def test_floor_shapes_of_the_convnet_are_its_im2col_products():
    """Issue 12's floor, written out by hand: per batch of B images, conv1 forward (B*26*26, 9)@(9, 32) and its
    dW (9, B*676)@(B*676, 32), no dx (the first layer); conv2 forward (B*11*11, 288)@(288, 64), its dW and dx;
    the Dense layer's forward, dW and dx."""
    B = 128
    layers = configs.CONFIGS["C5"].matmul_layers
    assert layers == configs.CONFIGS["C6"].matmul_layers == [(26 * 26, 9, 32), (11 * 11, 3 * 3 * 32, 64),
                                                              (1, 5 * 5 * 64, 10)]
    assert limit.step_shapes(layers, B) == [
        (B * 676, 9, 32), (B * 121, 288, 64), (B, 1600, 10),      # forward: cols1 @ W1, cols2 @ W2, h @ W3
        (1600, B, 10), (B, 10, 1600),                              # Dense: dW3 = h.T @ dz3, dh = dz3 @ W3.T
        (288, B * 121, 64), (B * 121, 64, 288),                    # conv2: dW2 = cols2.T @ dz2, dcols2 = dz2 @ W2.T
        (9, B * 676, 32),                                          # conv1: dW1 = cols1.T @ dz1 (no dx for the data)
    ]
    assert limit.step_shapes(layers, 1000, training=False) == [(676000, 9, 32), (121000, 288, 64), (1000, 1600, 10)]
    assert limit.flops(layers, 1, training=False) == 2 * (676 * 9 * 32 + 121 * 288 * 64 + 1600 * 10)


def test_floor_shapes_are_what_glassnets_convnet_multiplies(isolated_random_state):
    """The peer's glassnet convnet, run layer by layer on 3 images: each Conv2D's im2col rows and kernel matrix,
    and the Dense layer's input, have the shapes configs.CONFIGS['C5'].matmul_layers says."""
    from bench import peers
    config = configs.CONFIGS["C5"]
    peer = peers.Glassnet()
    peer.check()
    model = peer._model(config, seed=0)
    assert model.count_params() == 34_826
    x = config.inputs(np.random.default_rng(0).random((3, 784), dtype=np.float32))
    assert x.shape == (3, 28, 28, 1)
    seen = []
    for layer in model.layers:
        name = type(layer).__name__
        if name == "Conv2D":
            cols = gn.convolution.im2col(x, layer.kernel_size)
            W = layer.params["W"]
            seen.append((cols.shape[0] // 3, cols.shape[1], W.shape[-1]))
            assert W.reshape(-1, W.shape[-1]).shape == seen[-1][1:]
        elif name == "Dense":
            seen.append((1,) + layer.params["W"].shape)
            assert x.shape == (3, seen[-1][1])
        x = layer.forward(x)
    assert seen == config.matmul_layers
    assert x.shape == (3, 10)


def test_torch_and_keras_peers_build_the_same_convnet(keras, isolated_random_state):
    torch = pytest.importorskip("torch")
    from bench import peers
    config = configs.CONFIGS["C5"]
    glassnet = peers.Glassnet()
    glassnet.check()
    mine = glassnet._model(config, seed=0)
    t = peers.Torch()
    t.check()
    theirs = t._model(config, seed=0)
    k = peers.Keras()
    k.check()
    kmodel = k._model(config, seed=0)
    assert sum(p.numel() for p in theirs.parameters()) == mine.count_params() == kmodel.count_params() == 34_826
    # the same weights (channels last -> channels first) give the same outputs: the networks are the same network
    weights = mine.get_weights()
    convs = [m for m in theirs if isinstance(m, torch.nn.Conv2d)]
    dense = next(m for m in theirs if isinstance(m, torch.nn.Linear))
    with torch.no_grad():
        for conv, (W, b) in zip(convs, (weights[0:2], weights[2:4])):
            conv.weight.copy_(torch.from_numpy(W.transpose(3, 2, 0, 1).copy()))
            conv.bias.copy_(torch.from_numpy(b))
        # Flatten: glassnet reads (h, w, c), torch (c, h, w); permute the Dense rows to match
        W = weights[4].reshape(5, 5, 64, 10).transpose(2, 0, 1, 3).reshape(1600, 10)
        dense.weight.copy_(torch.from_numpy(W.T.copy()))
        dense.bias.copy_(torch.from_numpy(weights[5]))
    rows = np.random.default_rng(1).random((4, 784), dtype=np.float32)
    ours = mine.predict(config.inputs(rows), verbose=0)
    kmodel.set_weights(weights)
    np.testing.assert_allclose(kmodel.predict(config.inputs(rows), verbose=0), ours, rtol=1e-4, atol=1e-6)
    theirs.eval()
    with torch.no_grad():
        logits = theirs(t._inputs(config, rows))
    np.testing.assert_allclose(torch.softmax(logits, dim=1).numpy(), ours, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", [k for k, c in configs.CONFIGS.items() if not c.convnet])
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
    expected = limit.step_shapes(config.matmul_layers, config.batch, training=not config.inference)
    assert recorder.shapes == expected
    step = limit.MatmulStep(config.matmul_layers, config.batch, training=not config.inference)
    assert step.shapes == expected
    step.run()
    for a, b, out in step.calls:
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, a @ b, rtol=1e-5)


def test_floor_step_multiplies_the_convnets_operands_in_float32():
    step = limit.MatmulStep(configs.CONFIGS["C5"].matmul_layers, 2)
    assert step.shapes == limit.step_shapes(configs.CONFIGS["C5"].matmul_layers, 2)
    step.run()
    for a, b, out in step.calls:
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, a @ b, rtol=1e-5)


def test_limit_epoch_counts_the_last_short_batch():
    layers = limit.dense_layers((784, 50, 10))
    epoch = limit.MatmulEpoch(layers, 32, 100)
    assert epoch.full_steps == 3
    assert epoch.last.shapes == limit.step_shapes(layers, 4)
    assert epoch.seconds() > 0
    assert limit.MatmulEpoch(layers, 25, 100).last is None


# --------------------------------------------------------------------------
# Epochs and passes per configuration; issue 12's goal lines
# --------------------------------------------------------------------------

def test_the_convnet_runs_fewer_epochs_and_passes_unless_told():
    from bench import run
    every = list(configs.CONFIGS.values())
    epochs, passes = run.counts(run.parse_args([]), every)
    assert epochs == {"C1": 3, "C2": 3, "C3": 3, "C5": 1} and passes == {"C4": 5, "C6": 3}
    epochs, passes = run.counts(run.parse_args(["--epochs", "2", "--passes", "4"]), every)
    assert set(epochs.values()) == {2} and set(passes.values()) == {4}
    epochs, passes = run.counts(run.parse_args(["--quick"]), every)
    assert set(epochs.values()) == set(passes.values()) == {1}
    assert run._runs_line({"C1": 3, "C2": 3, "C5": 1}, 3) == "3 epoch(s) (C5: 1) x 3 repeat(s)"
    assert run._runs_line({"C1": 3}, 2) == "3 epoch(s) x 2 repeat(s)"


def _cell(seconds_by_repeat, images=None):
    cell = Cell(images)
    for seconds in seconds_by_repeat:
        cell.seconds.extend(seconds)
        cell.per_repeat.append(float(np.median(seconds)))
    return cell


def test_convnet_goal_lines_are_ratios_in_the_same_run():
    c5, c6 = configs.CONFIGS["C5"], configs.CONFIGS["C6"]
    results = {
        "C5": {"glassnet": _cell([[10.0], [12.0]]), "torch": _cell([[20.0], [18.0]]), "limit": _cell([[4.0], [5.0]])},
        "C6": {"glassnet": _cell([[1.0], [1.0]], 10_000), "torch": _cell([[1.5], [1.0]], 10_000),
               "limit": _cell([[0.5], [0.25]], 10_000)},
    }
    lines = goals.convnet_goal_lines([configs.CONFIGS["C1"], c5, c6], results, None)
    assert lines == [
        "C5 epoch glassnet / PyTorch = 0.58; by repeat 0.50, 0.67 (median 0.58) (goal <= 0.6): met",
        "C5 epoch glassnet / floor (the step's products at im2col shapes) = 2.44; by repeat 2.50, 2.40 "
        "(median 2.45) (goal <= 2): NOT met",
        "C6 throughput glassnet / PyTorch = 1.25; by repeat 1.50, 1.00 (median 1.25) (goal >= 1.2): met",
        "C6 throughput glassnet / floor (the forward products alone) = 0.38; by repeat 0.50, 0.25 "
        "(median 0.38) (no goal: for information)",
    ]
    del results["C5"]["limit"], results["C6"]["torch"]
    lines = goals.convnet_goal_lines([c5, c6], results, None)
    assert lines[1] == "C5 against the floor: needs the matmul-only limit row (--peers limit)"
    assert lines[2] == "C6 against PyTorch: needs the PyTorch row (--peers torch)"
    assert goals.goal_lines([c5, c6], results, None) == []           # issue 5's lines are C1-C4's only


def _point(images, batch, traced_mib, rss_mib):
    MiB = goals.MiB
    return {"n_train": images, "batch": batch, "train_bytes": images * (784 * 4 + 8), "tracemalloc_peak":
            traced_mib * MiB, "rss_added_first_fit": rss_mib * MiB}


def test_convnet_memory_must_follow_the_batch_not_the_dataset():
    # the shuffled order and the reordered labels (16 bytes an image) are allowed; a copy of the images is not
    fine = [_point(60_000, 128, 30.9, 40.0), _point(15_000, 128, 30.2, 39.5), _point(60_000, 512, 120.0, 130.0)]
    lines = goals.convnet_memory_verdict(fine)
    assert lines[0].startswith("C5 training memory and the dataset: 15,000 -> 60,000 images (+134.9 MiB of "
                               "training data) adds +0.7 MiB to the tracemalloc peak (+0.5 MiB to what the first "
                               "fit adds to the RSS) (goal: at most 2% of the extra data + 1 MiB = 3.7 MiB): met")
    assert lines[1] == ("C5 training memory and the batch: batch 128 -> 512 adds +89.1 MiB to the tracemalloc peak "
                        "(+90.0 MiB to the RSS): training's memory grows with the batch")
    copying = [_point(60_000, 128, 30.0 + 179.4, 40.0), fine[1], fine[2]]
    assert goals.convnet_memory_verdict(copying)[0].endswith("): NOT met")
    assert "RSS" not in " ".join(goals.convnet_memory_verdict(fine, rss=False))
    assert goals.convnet_memory_verdict([{"error": "timed out"}] * 3) == []
