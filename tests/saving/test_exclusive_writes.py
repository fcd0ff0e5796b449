"""Writing files: overwrite=False is exclusive between processes (os.link, or an O_EXCL reservation where
there are no hard links), a save killed with SIGKILL leaves the old file and a temporary file that the
next save removes (only when its process is provably dead), and every I/O error names the file, keeps
the old file and leaves no temporary file (ENOSPC, EFBIG from a real RLIMIT_FSIZE, EACCES, a folder in
the way, a missing folder)."""
import errno
import multiprocessing
import os
import re
import signal
import sys
import time

import numpy as np
import pytest

import glassnet as gn
from glassnet import runs
from glassnet.saving import archive

pytestmark = pytest.mark.usefixtures("isolated_random_state")

fork = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                          reason="the racing processes are forked (POSIX)")

# every writer that takes overwrite=: (file name, save, load the weights back)
WRITERS = {
    "model": ("m.glassnet", lambda m, p, **kw: m.save(p, **kw), lambda m, p: gn.saving.load_model(p)),
    "weights": ("w.weights.npz", lambda m, p, **kw: m.save_weights(p, **kw), lambda m, p: _loaded_weights(m, p)),
    "keras": ("m.keras", lambda m, p, **kw: m.save(p, **kw), lambda m, p: gn.saving.load_model(p)),
    "h5": ("w.weights.h5", lambda m, p, **kw: m.save_weights(p, **kw), lambda m, p: _loaded_weights(m, p)),
}


def _loaded_weights(model, path):
    copy = _model(-1)
    copy.load_weights(path)
    return copy


def _model(mark):
    """A tiny compiled model whose every weight equals `mark` (so a file tells whose model it holds)."""
    model = gn.Sequential([gn.layers.Input((3,)), gn.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    model.set_weights([np.full_like(w, mark) for w in model.get_weights()])
    return model


def _mark(model):
    values = np.unique(np.concatenate([w.ravel() for w in model.get_weights()]))
    assert len(values) == 1
    return float(values[0])


def _temporaries(folder):
    return sorted(name for name in os.listdir(folder) if ".tmp" in name)


# ----------------------------------------------------------------------------- concurrent overwrite=False

def _racer(index, barrier, results, folder, rounds):
    """A forked process: for each round, wait for the others, then save to the same new path."""
    real_fsync = os.fsync
    model = _model(index)
    for number, (kind, slow, links) in enumerate(rounds):
        name, save, _ = WRITERS[kind]
        # slow: every racer passes the early exists() check before any publishes, so the publishing
        # step alone must make the save exclusive
        os.fsync = (lambda fd: (time.sleep(0.15), real_fsync(fd))[1]) if slow else real_fsync
        if not links:                          # a file system without hard links: the O_EXCL fallback
            os.link = lambda *a, **k: (_ for _ in ()).throw(OSError(errno.EPERM, "Operation not permitted"))
        barrier.wait(timeout=60)
        try:
            save(model, os.path.join(folder, f"{number}-{name}"), overwrite=False)
            results.put((number, index, "saved", ""))
        except FileExistsError as err:
            results.put((number, index, "FileExistsError", str(err)))
        except BaseException as err:           # noqa: BLE001 -- reported to the test
            results.put((number, index, type(err).__name__, str(err)))


@fork
def test_overwrite_false_from_racing_processes_lets_exactly_one_win(tmp_path):
    pytest.importorskip("h5py")
    rounds = [("model", True, True), ("model", False, True), ("weights", True, True), ("keras", True, True),
              ("h5", True, True), ("model", True, False)]
    ctx = multiprocessing.get_context("fork")
    n = 4
    barrier, results = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_racer, args=(i + 1, barrier, results, str(tmp_path), rounds)) for i in range(n)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in range(n * len(rounds))]
    for p in procs:
        p.join(timeout=60)
    for number, (kind, _, _) in enumerate(rounds):
        mine = [o for o in outcomes if o[0] == number]
        winners = [index for _, index, what, _ in mine if what == "saved"]
        assert len(winners) == 1, (kind, mine)
        path = tmp_path / f"{number}-{WRITERS[kind][0]}"
        for _, index, what, message in mine:
            if index != winners[0]:
                assert what == "FileExistsError", message
                assert str(path) in message and "overwrite=False" in message
        assert _mark(WRITERS[kind][2](_model(0), path)) == winners[0]          # the winner's model, whole
    assert _temporaries(tmp_path) == []


def test_without_hard_links_overwrite_false_is_still_exclusive(tmp_path, monkeypatch):
    def no_links(*args, **kwargs):
        raise OSError(errno.EXDEV, "Invalid cross-device link")
    monkeypatch.setattr(os, "link", no_links)
    path = _model(3).save(tmp_path / "m.glassnet", overwrite=False)
    assert _mark(gn.saving.load_model(path)) == 3
    monkeypatch.setattr(gn.saving.model_file, "check_overwrite", lambda path, overwrite: None)  # no early check
    with pytest.raises(FileExistsError, match=re.escape(repr(str(path))) + ".*overwrite=False"):
        _model(4).save(path, overwrite=False)
    assert _mark(gn.saving.load_model(path)) == 3 and os.listdir(tmp_path) == ["m.glassnet"]
    _model(5).save(path, overwrite=True)                                 # os.replace, as always
    assert _mark(gn.saving.load_model(path)) == 5


def test_the_link_refuses_a_file_that_appeared_after_the_early_check(tmp_path, monkeypatch):
    """A file made between the early exists() check and the publishing is never replaced."""
    path = tmp_path / "w.weights.npz"
    real = archive.atomic_write

    def someone_else_saves_first(target, write, **options):
        monkeypatch.setattr(archive, "atomic_write", real)
        _model(9).save_weights(target)                                   # the other process wins the race
        return real(target, write, **options)
    monkeypatch.setattr(archive, "atomic_write", someone_else_saves_first)
    with pytest.raises(FileExistsError, match="overwrite=False") as info:
        _model(1).save_weights(path, overwrite=False)
    assert info.value.errno == errno.EEXIST and info.value.path == str(path)
    monkeypatch.setattr(archive, "atomic_write", real)
    assert _mark(_loaded_weights(None, path)) == 9 and os.listdir(tmp_path) == ["w.weights.npz"]


# ----------------------------------------------------------------------------- kill -9 in the middle of a save

def _killed_saver(path, writing):
    """A forked process that saves over `path` and stops, with the temporary file full, just before
    its fsync: the test kills it there with SIGKILL."""
    def stall(fd):
        writing.set()
        time.sleep(60)
    os.fsync = stall
    _model(2).save(path)


@fork
def test_a_save_killed_with_sigkill_leaves_the_old_file_and_the_next_save_removes_its_temporary(tmp_path):
    path = _model(1).save(tmp_path / "m.glassnet")
    ctx = multiprocessing.get_context("fork")
    writing = ctx.Event()
    child = ctx.Process(target=_killed_saver, args=(str(path), writing))
    child.start()
    assert writing.wait(timeout=60)
    os.kill(child.pid, signal.SIGKILL)
    child.join(timeout=60)                                   # reaped: a zombie would still count as alive
    assert child.exitcode == -signal.SIGKILL
    assert _mark(gn.saving.load_model(path)) == 1           # the old file, whole
    (left,) = _temporaries(tmp_path)
    assert left.startswith(f".m.glassnet.{child.pid}-") and (tmp_path / left).stat().st_size > 0

    host = archive.temporary_name("x").split(".")[2].split("-")[1]
    live = os.getppid()                                      # pytest's parent: alive (or another user's)
    kept = [f".m.glassnet.{live}-{host}.0123abcd.tmp",       # a live process's save in progress
            f".m.glassnet.{os.getpid()}-{host}.89abcdef.tmp",   # this process's own (another thread's)
            f".m.glassnet.{child.pid}-{'0' * 6 if host != '0' * 6 else '1' * 6}.0123abcd.tmp",  # another host
            ".m.glassnet.0123abcd.tmp",                      # another shape (an older glassnet's)
            f".m.glassnet.{child.pid}-{host}.0123abcd.tmp.x"]    # another shape
    for name in kept:
        (tmp_path / name).write_bytes(b"partial")
    other = f".ckpt-3.glassnet.{child.pid}-{host}.0123abcd.tmp"   # another target's, in the same folder
    (tmp_path / other).write_bytes(b"partial")
    _model(3).save(path)
    assert _mark(gn.saving.load_model(path)) == 3
    assert sorted(os.listdir(tmp_path)) == sorted(kept + ["m.glassnet"])   # the dead process's files are gone


def test_stale_temporaries_are_removed_for_every_writer(tmp_path):
    pytest.importorskip("h5py")
    dead = _dead_pid()
    host = archive.temporary_name("x").split(".")[2].split("-")[1]
    for kind, (name, save, _) in WRITERS.items():
        stale = tmp_path / f".{name}.{dead}-{host}.00000000.tmp"
        stale.write_bytes(b"left by a killed save")
        save(_model(1), tmp_path / name)
        assert not stale.exists(), kind
    stale = tmp_path / f".history.json.{dead}-{host}.00000000.tmp"
    stale.write_bytes(b"{")
    runs.write_text(tmp_path / "history.json", "{}\n")
    assert not stale.exists() and (tmp_path / "history.json").read_text() == "{}\n"


def test_a_target_name_of_255_bytes_still_saves(tmp_path):
    path = tmp_path / ("w" * (255 - len(".weights.npz")) + ".weights.npz")
    _model(1).save_weights(path, overwrite=False)
    assert _mark(_loaded_weights(None, path)) == 1 and os.listdir(tmp_path) == [path.name]


def _dead_pid():
    """The pid of a process that has exited and been reaped."""
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    p = ctx.Process(target=int)
    p.start()
    p.join()
    with pytest.raises(ProcessLookupError):
        os.kill(p.pid, 0)
    return p.pid


# ----------------------------------------------------------------------------- every I/O error names the file

def _enospc(fd):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("kind", sorted(WRITERS) + ["text"])
def test_disk_full_names_the_file_keeps_the_old_one_and_leaves_no_temporary(tmp_path, monkeypatch, kind):
    if kind in ("keras", "h5"):
        pytest.importorskip("h5py")
    name = "history.json" if kind == "text" else WRITERS[kind][0]
    path = tmp_path / name
    if kind == "text":
        runs.write_text(path, "old\n")
    else:
        WRITERS[kind][1](_model(1), path)
    before = path.read_bytes()
    monkeypatch.setattr(os, "fsync", _enospc)
    with pytest.raises(OSError) as info:
        if kind == "text":
            runs.write_text(path, "new\n")
        else:
            WRITERS[kind][1](_model(2), path)
    message = str(info.value)
    assert message.startswith(f"cannot write {str(path)!r}: No space left on device (ENOSPC)"), message
    assert info.value.errno == errno.ENOSPC and info.value.path == str(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == [name]


def _capped_saver(path, limit, results):
    """A forked process whose files may not grow beyond `limit` bytes (RLIMIT_FSIZE; SIGXFSZ ignored, so
    writing past it fails with EFBIG), saving a model bigger than that."""
    import resource
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    model = gn.Sequential([gn.layers.Input((64,)), gn.layers.Dense(256)])     # 16,640 weights: 66 KB
    try:
        model.save(path)
        results.put(("saved", None, ""))
    except OSError as err:
        results.put((type(err).__name__, err.errno, str(err)))


@fork
def test_a_real_file_size_limit_fails_cleanly(tmp_path):
    pytest.importorskip("resource")
    path = _model(1).save(tmp_path / "m.glassnet")
    before = path.read_bytes()
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    child = ctx.Process(target=_capped_saver, args=(str(path), 16384, results))
    child.start()
    kind, code, message = results.get(timeout=60)
    child.join(timeout=60)
    assert (kind, code) == ("OSError", errno.EFBIG), message
    assert message.startswith(f"cannot write {str(path)!r}: File too large (EFBIG)"), message
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.glassnet"]


def test_permission_folder_and_missing_folder_errors_name_the_file(tmp_path, monkeypatch):
    model = _model(1)
    with pytest.raises(FileNotFoundError, match=re.escape(f"cannot write {str(tmp_path / 'no' / 'm.glassnet')!r}: "
                                                          f"the folder {str(tmp_path / 'no')!r} does not exist")):
        model.save(tmp_path / "no" / "m.glassnet")
    (tmp_path / "d.glassnet").mkdir()
    with pytest.raises(IsADirectoryError, match=re.escape(f"{str(tmp_path / 'd.glassnet')!r}: it is a folder")):
        model.save(tmp_path / "d.glassnet")
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileNotFoundError, match=re.escape(f"{str(tmp_path / 'file')!r} is not a folder")):
        model.save_weights(tmp_path / "file" / "w.npz")
    real_open = os.open

    def denied(path, *args, **kwargs):
        if str(path).endswith(".tmp"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr(os, "open", denied)              # a read-only folder (root ignores chmod)
    with pytest.raises(PermissionError) as info:
        model.save(tmp_path / "m.glassnet")
    assert str(info.value).startswith(f"cannot write {str(tmp_path / 'm.glassnet')!r}: Permission denied "
                                      f"(EACCES) while creating the temporary file")
    assert info.value.errno == errno.EACCES
    assert sorted(os.listdir(tmp_path)) == ["d.glassnet", "file"]


def test_an_interrupted_or_failing_write_callback_leaves_nothing(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"old")
    for error in (KeyboardInterrupt(), ValueError("not serialisable")):
        def write(fh, error=error):
            fh.write(b"new, half")
            raise error
        with pytest.raises(type(error)):
            archive.atomic_write(path, write)
        with pytest.raises(type(error)):
            archive.atomic_write(tmp_path / "y.bin", write, overwrite=False)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["x.bin"]


def test_csv_logger_names_its_file_when_the_disk_is_full(tmp_path, monkeypatch):
    from glassnet.callbacks import csv_logger
    x, y = np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32)
    log = tmp_path / "log.csv"

    class FullDisk:
        def __init__(self, *args, **kwargs):
            pass

        def writerow(self, row):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(csv_logger.csv, "writer", FullDisk)
    model = gn.Sequential([gn.layers.Input((3,)), gn.layers.Dense(2, dtype="float64")])   # float64: no kernels
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(OSError) as info:
        model.fit(x.astype(np.float64), y.astype(np.float64), epochs=1, verbose=0,
                  callbacks=[gn.callbacks.CSVLogger(log)])
    assert str(info.value) == f"cannot write {str(log)!r}: No space left on device"
    assert info.value.errno == errno.ENOSPC


if sys.platform == "win32":                                 # pragma: no cover
    pytestmark = [pytestmark, pytest.mark.skip(reason="POSIX processes and signals")]
