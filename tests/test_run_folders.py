"""Run folders are never shared: each is reserved with one exclusive os.mkdir (processes racing for one
name, or for the same second's timestamp, get different folders; a folder that exists, even empty, is
never reused), and a run that fails while writing leaves no empty folder and one error line naming the
file."""
import errno
import io
import json
import multiprocessing
import os
import sys

import numpy as np
import pytest

from glassnet import cli, runs
from glassnet.saving import load_model

fork = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                          reason="the racing processes are forked (POSIX)")


def _race(target, n, *args):
    """Run target(index, barrier, results, *args) in n forked processes; their results, sorted."""
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=target, args=(i, barrier, results) + args) for i in range(n)]
    for p in procs:
        p.start()
    found = sorted(results.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    return found


def _reserve(index, barrier, results, output):
    barrier.wait(timeout=60)
    try:
        folder = runs.make_run_dir(output)
    except BaseException as err:             # noqa: BLE001 -- reported to the test
        results.put((repr(err), index))
        return
    with open(os.path.join(folder, "owner.txt"), "w") as fh:      # this run's own file
        fh.write(str(index))
    results.put((folder, index))


@fork
def test_processes_racing_for_one_name_or_one_second_get_their_own_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkdir("X")                                                  # exists and empty: still never reused
    monkeypatch.setattr(runs.time, "strftime", lambda fmt: "20260101-120000")   # all in the same second
    for output, expected in (("X", ["X-1", "X-2", "X-3", "X-4"]),
                             (None, [os.path.join("runs", "20260101-120000") + s for s in ("", "-1", "-2", "-3")])):
        found = _race(_reserve, 4, output)
        assert sorted(folder for folder, _ in found) == expected, found
        for folder, index in found:
            assert os.listdir(folder) == ["owner.txt"]
            assert (tmp_path / folder / "owner.txt").read_text() == str(index)
    assert os.listdir("X") == []


def _train(index, barrier, results, dataset, output):
    out = io.StringIO()
    sys.stdout = sys.stderr = out
    barrier.wait(timeout=60)
    status = cli.main(["train", "--dataset", dataset, "--epochs", "1", "--hidden", "3", "--dtype", "float64",
                       "--seed", str(index), "--quiet", "--output", output])
    results.put((status, index, out.getvalue()))


@fork
def test_two_trains_started_together_with_one_output_each_keep_their_own_run(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib.pyplot")                  # imported once here, not in each process
    rng = np.random.default_rng(0)
    dataset = str(tmp_path / "d.npz")
    np.savez(dataset, x_train=rng.integers(0, 256, (20, 16), dtype=np.uint8), y_train=np.arange(20) % 2,
             x_test=rng.integers(0, 256, (6, 16), dtype=np.uint8), y_test=np.arange(6) % 2)
    output = str(tmp_path / "run")
    found = _race(_train, 2, dataset, output)
    folders = []
    for status, seed, text in found:
        assert status == 0, text
        (folder,) = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("run folder: ")]
        folders.append(folder)
        metrics = json.loads(open(os.path.join(folder, "metrics.json")).read())
        assert metrics["options"]["output"] == folder and metrics["options"]["seed"] == seed
        assert sorted(os.listdir(folder)) == ["curves.png", "history.csv", "history.json", "metrics.json",
                                              "model.glassnet", "summary.txt"]
        load_model(os.path.join(folder, "model.glassnet"))
    assert sorted(folders) == [output, output + "-1"]


# ----------------------------------------------------------------------------- failures while writing

@pytest.fixture
def tiny_dataset(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(1)
    np.savez("d.npz", x_train=rng.integers(0, 256, (20, 16), dtype=np.uint8), y_train=np.arange(20) % 2,
             x_test=rng.integers(0, 256, (6, 16), dtype=np.uint8), y_test=np.arange(6) % 2)
    return ["train", "--dataset", "d.npz", "--epochs", "1", "--hidden", "3", "--dtype", "float64", "--quiet"]


def _error_line(capsys):
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("glassnet: error: "), captured.err
    return lines[0]


def test_disk_full_on_the_first_file_leaves_no_run_folder(tiny_dataset, capsys, monkeypatch, isolated_random_state):
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(os, "fsync", full)
    assert cli.main(tiny_dataset + ["--output", "run"]) == 1
    line = _error_line(capsys)
    first = os.path.join("run", "backup", "options.json")      # the first file a run writes (for --resume)
    assert line == (f"glassnet: error: cannot write {first!r}: No space left on device (ENOSPC); a file already "
                    f"there is left as it was; the run folder run was removed (nothing had been written to it)")
    assert sorted(os.listdir()) == ["d.npz"]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="finds the file of a descriptor in /proc")
def test_a_failure_after_some_files_keeps_them_and_names_the_file(tiny_dataset, capsys, monkeypatch,
                                                                   isolated_random_state):
    real = os.fsync

    def full_for_history_csv(fd):
        if ".history.csv." in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.EFBIG, os.strerror(errno.EFBIG))
        return real(fd)
    monkeypatch.setattr(os, "fsync", full_for_history_csv)
    assert cli.main(tiny_dataset + ["--output", "run"]) == 1
    line = _error_line(capsys)
    assert line.startswith(f"glassnet: error: cannot write {os.path.join('run', 'history.csv')!r}: File too large "
                           f"(EFBIG)") and line.endswith("the run folder run keeps what was written before: "
                                                         "backup, history.json, model.glassnet")
    # no temporary file; backup/ stays (the run has no metrics.json yet): --resume can finish it
    assert sorted(os.listdir("run")) == ["backup", "history.json", "model.glassnet"]


def test_a_run_folder_that_cannot_be_made_is_one_error_line(tiny_dataset, capsys, monkeypatch,
                                                             isolated_random_state):
    def denied(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
    monkeypatch.setattr(os, "mkdir", denied)
    assert cli.main(tiny_dataset + ["--output", "run"]) == 1
    assert _error_line(capsys) == "glassnet: error: cannot create the run folder run: Permission denied (EACCES)"
