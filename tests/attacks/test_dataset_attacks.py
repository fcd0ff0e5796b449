"""Attack catalogue, dataset and array files (issue 13): .npz datasets read by datasets.mnist.load_data(path=)
(datasets._loader.load_npz) and by `glassnet train --dataset FILE.npz` (runs.load_dataset), .npy inputs of
`glassnet predict` (cli.predict.read_array), IDX files (.gz and raw) and files that are not regular files.
Each is refused with a clean error naming the file, within twice what the file legitimately describes plus
32 MiB, and without hanging (a 10 s alarm)."""
from __future__ import annotations

import gzip
import os

import numpy as np
import pytest

from attacks.attack_helpers import CLEAN, MiB, bomb_entry, deflated, npy, npy_of, raw_zip, refused, stored, zip64
from glassnet import backend, runs
from glassnet.cli import predict
from glassnet.datasets import idx
from glassnet.datasets._loader import load_npz

KEYS = ("x_train", "y_train", "x_test", "y_test")
BOMB = 64 * MiB
#: the command line's readers raise runs.CommandError: one "glassnet: error: ..." line, exit status 1
COMMAND = CLEAN + (runs.CommandError,)


def good_arrays(n=6):
    rng = np.random.default_rng(0)
    return {"x_train": rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), "y_train": np.arange(n, dtype=np.uint8) % 10,
            "x_test": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8), "y_test": np.arange(3, dtype=np.uint8)}


def npz_of(arrays=None, replace=None, extra=(), compress=False, drop=()):
    """An .npz (written by hand) of the good arrays, some replaced by raw .npy bytes."""
    members = {k: npy_of(v) for k, v in (arrays or good_arrays()).items() if k not in drop}
    members.update(replace or {})
    make = deflated if compress else stored
    return raw_zip([make(k + ".npy", d) for k, d in members.items()] + list(extra))


def _m(entry, method):
    entry.method = method
    return entry


_X = {"descr": "|u1", "fortran_order": False, "shape": (6, 28, 28)}

# (id, file bytes or make(folder) -> path, legit bytes)
NPZ_CASES = [
    ("empty file", b"", 0),
    ("text", b"x_train,y_train\n1,2\n", 0),
    ("single npy", npy_of(np.zeros((6, 784), np.uint8)), 0),
    ("gzip file", gzip.compress(b"\0" * 100), 0),
    ("cut in half", npz_of()[:3000], 0),
    ("missing y_test", npz_of(drop=("y_test",)), 0),
    ("no arrays at all", raw_zip([]), 0),
    ("duplicate x_train", npz_of(extra=[stored("x_train.npy", npy_of(np.zeros((6, 28, 28), np.uint8)))]), 0),
    ("member named ../x_train.npy only", raw_zip([stored("../x_train.npy", npy_of(np.zeros(3)))]), 0),
    ("x_train shape 1e12 x 784", npz_of(replace={"x_train": npy({**_X, "shape": (10**12, 784)}, bytes(16))}), 0),
    ("x_train shape 1e12 deflated", npz_of(replace={"x_train": npy({**_X, "shape": (10**12, 784)}, bytes(16))},
                                           compress=True), 0),
    ("y_train shape 2e9 (honest size record)", raw_zip(
        [stored(k + ".npy", npy_of(v)) for k, v in good_arrays().items() if k != "y_train"]
        + [stored("y_train.npy", npy({"descr": "<i8", "fortran_order": False, "shape": (2 * 10**9,)}),
                  usize=2**32 - 1)]), 0),
    ("x_train bomb 64 MiB, zip record says 100 bytes", raw_zip(
        [stored(k + ".npy", npy_of(v)) for k, v in good_arrays().items() if k != "x_train"]
        + [bomb_entry("x_train.npy", BOMB, prefix=npy({**_X, "shape": (BOMB // 784 - 1, 28, 28)}), usize=100)]),
     0),
    # an honest bomb: 64 MiB of zero images, declared as such, then refused for its 6 labels; it may cost
    # what it describes, and no more
    ("x_train honest bomb 64 MiB, 6 labels", raw_zip(
        [stored(k + ".npy", npy_of(v)) for k, v in good_arrays().items() if k != "x_train"]
        + [bomb_entry("x_train.npy", 128 + (BOMB // 784 - 1) * 784,
                      prefix=npy({**_X, "shape": (BOMB // 784 - 1, 28, 28)}))]), BOMB),
    ("x_train bomb 64 MiB, header says 6 images", raw_zip(
        [stored(k + ".npy", npy_of(v)) for k, v in good_arrays().items() if k != "x_train"]
        + [bomb_entry("x_train.npy", BOMB, prefix=npy(_X))]), 0),
    ("unread extra member bomb 64 MiB, bad labels", raw_zip(
        [stored(k + ".npy", npy_of(v)) for k, v in good_arrays().items() if k != "y_test"]
        + [stored("y_test.npy", npy_of(np.array([1, 2, -1], np.int8))), bomb_entry("junk.npy", BOMB)]), 0),
    ("zip64 extra: x_train is 1 TiB", raw_zip([zip64(stored(k + ".npy", npy_of(v)), 2**40) if k == "x_train"
                                              else stored(k + ".npy", npy_of(v)) for k, v in good_arrays().items()]),
     0),
    ("zip64 extra cut off", raw_zip([zip64(stored(k + ".npy", npy_of(v)), truncated=True) if k == "y_test"
                                     else stored(k + ".npy", npy_of(v)) for k, v in good_arrays().items()]), 0),
    ("object array (pickle)", npz_of(replace={"y_train": npy({"descr": "|O", "fortran_order": False,
                                                              "shape": (6,)}, b"\x80\x04\x95N.")}), 0),
    ("structured dtype", npz_of(replace={"x_train": npy({**_X, "descr": [("r", "u1"), ("g", "u1")]},
                                                        bytes(6 * 784 * 2))}), 0),
    ("string dtype", npz_of(replace={"y_train": npy_of(np.array(list("abcdef")))}), 0),
    ("float images out of range", npz_of(replace={"x_train": npy_of(np.full((6, 28, 28), 300.5))}), 0),
    ("negative labels", npz_of(replace={"y_train": npy_of(np.array([-1, 0, 1, 2, 3, 4], np.int64))}), 0),
    ("labels 1e300", npz_of(replace={"y_train": npy_of(np.array([1e300] * 6))}), 0),
    ("fewer labels than images", npz_of(replace={"y_train": npy_of(np.arange(5, dtype=np.uint8))}), 0),
    ("labels 2-d", npz_of(replace={"y_train": npy_of(np.zeros((6, 1), np.uint8))}), 0),
    ("images 1-d", npz_of(replace={"x_train": npy_of(np.zeros(6, np.uint8))}), 0),
    ("header 100 KB", npz_of(replace={"x_train": npy(repr(_X)[:-1] + ", 'pad': '" + "x" * 100_000 + "'}",
                                                     bytes(6 * 784), version=(2, 0))}), 0),
    ("header is code", npz_of(replace={"x_train": npy("__import__('os').getcwd()", bytes(6 * 784))}), 0),
    ("npy version 3.0", npz_of(replace={"x_train": npy(_X, bytes(6 * 784), version=(3, 0))}), 0),
    ("values truncated", npz_of(replace={"x_train": npy(_X, bytes(6 * 784 - 1))}), 0),
    ("values with trailing bytes", npz_of(replace={"x_train": npy(_X, bytes(6 * 784 + 100))}), 0),
    ("negative dimension", npz_of(replace={"x_train": npy({**_X, "shape": (-6, 28, 28)}, bytes(6 * 784))}), 0),
    ("encrypted member", raw_zip([stored(k + ".npy", npy_of(v), flags=1) for k, v in good_arrays().items()]), 0),
    ("unknown compression 99", raw_zip([_m(stored(k + ".npy", npy_of(v)), 99) for k, v in good_arrays().items()]),
     0),
    ("crc mismatch", raw_zip([stored(k + ".npy", npy_of(v), crc=7) for k, v in good_arrays().items()]), 0),
    ("deflate on stored bytes", raw_zip([_m(stored(k + ".npy", npy_of(v)), 8) if k == "x_train"
                                         else stored(k + ".npy", npy_of(v)) for k, v in good_arrays().items()]), 0),
    ("300 members (limit patched to 256)", lambda: npz_of(extra=[stored(f"a{i}.npy", b"") for i in range(300)]), 0),
    ("nested zip as x_train", npz_of(replace={"x_train": raw_zip([bomb_entry("x.npy", BOMB)])}), 0),
]




@pytest.fixture(autouse=True)
def _small_member_limit(monkeypatch):
    """The member limit (4096 by default) patched to 256, so that the case of too many members is small."""
    from glassnet import _npy
    assert _npy.MAX_MEMBERS == 4096
    monkeypatch.setattr(_npy, "MAX_MEMBERS", 256)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("dataset_attacks")


def _write(folder, name, data, suffix):
    path = folder / (name.replace(" ", "_").replace("/", "_").replace(".", "_") + suffix)
    if not path.exists():
        path.write_bytes(data() if callable(data) else data)
    return path


READERS = {"load_data(path=)": lambda p: load_npz(p), "glassnet train --dataset": lambda p: runs.load_dataset(str(p))}


@pytest.mark.parametrize("reader", list(READERS))
@pytest.mark.parametrize("name, data, legit", [pytest.param(*case, id=case[0]) for case in NPZ_CASES])
def test_hostile_npz_dataset_is_refused(folder, name, data, legit, reader):
    path = _write(folder, name, data, ".npz")
    refused(lambda: READERS[reader](path), path, legit, errors=COMMAND)


def test_the_good_npz_dataset_loads_exactly(folder):
    """The catalogue's writer makes files the readers accept, value for value (so refusals are the attacks')."""
    path = _write(folder, "good", npz_of(), ".npz")
    (x, y), (xt, yt) = load_npz(path)
    good = good_arrays()
    assert np.array_equal(x, good["x_train"]) and np.array_equal(yt, good["y_test"])
    data = runs.load_dataset(str(path))
    assert np.array_equal(data.x_test, good["x_test"]) and data.y_train.dtype == np.int64


def test_fortran_and_big_endian_arrays_read_as_their_values(folder):
    images = good_arrays()["x_train"].astype(">u2")
    path = _write(folder, "odd_orders", npz_of(replace={
        "x_train": npy_of(np.asfortranarray(images)), "y_train": npy_of(np.arange(6).astype(">i4"))}), ".npz")
    data = runs.load_dataset(str(path))
    assert np.array_equal(data.x_train, images) and data.x_train.dtype.isnative
    assert np.array_equal(data.y_train, np.arange(6))


def test_idx_size_limit_names_itself(folder, monkeypatch):
    """A .gz IDX stream that really holds more values than MAX_ARRAY_SIZE stops one byte past the limit."""
    monkeypatch.setattr(backend, "MAX_ARRAY_SIZE", 1000)
    path = _write(folder, "idx_over_limit", _gz_bomb(_idx(0x08, [3000]), MiB), "-idx1-ubyte.gz")
    refused(lambda: idx.read_idx(path), path, needle="glassnet.backend.MAX_ARRAY_SIZE = 1,000")


def test_array_size_limit_names_itself(folder, monkeypatch):
    monkeypatch.setattr(backend, "MAX_ARRAY_SIZE", 1000)
    path = _write(folder, "good", npz_of(), ".npz")
    refused(lambda: load_npz(path), path, needle="glassnet.backend.MAX_ARRAY_SIZE = 1,000")


# ------------------------------------------------------------------ .npy inputs of glassnet predict

NPY_CASES = [
    ("npy empty", b""),
    ("npy shape 1e12 x 784", npy({"descr": "<f4", "fortran_order": False, "shape": (10**12, 784)}, bytes(64))),
    ("npy object", npy({"descr": "|O", "fortran_order": False, "shape": (2,)}, b"\x80\x04N.")),
    ("npy structured", npy({"descr": [("a", "<f4")], "fortran_order": False, "shape": (784,)}, bytes(3136))),
    ("npy header 200 KB", npy(repr({"descr": "<f4", "fortran_order": False, "shape": (784,)})[:-1]
                              + ", 'x': '" + "y" * 200_000 + "'}", bytes(3136), version=(2, 0))),
    ("npy truncated", npy({"descr": "<f4", "fortran_order": False, "shape": (784,)}, bytes(3000))),
    ("npy trailing", npy({"descr": "<f4", "fortran_order": False, "shape": (784,)}, bytes(4000))),
    ("npz given to predict", npz_of()),
    ("npy of strings", npy_of(np.array(["a"] * 784))),
    ("npy wrong width", npy_of(np.zeros((2, 783), np.float32))),
]


@pytest.mark.parametrize("data", [pytest.param(d, id=name) for name, d in NPY_CASES])
def test_hostile_npy_input_of_predict_is_refused(folder, data, request):
    path = _write(folder, request.node.callspec.id, data, ".npy")
    refused(lambda: predict.read_array(str(path), (784,)), path, errors=COMMAND)


# ------------------------------------------------------------------ IDX files


def _idx(type_code, dims, body=b"", gz=False):
    data = bytes([0, 0, type_code, len(dims)]) + b"".join(int(d).to_bytes(4, "big") for d in dims) + body
    return gzip.compress(data, 1) if gz else data


def _gz_bomb(header, size):
    import zlib
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts, zero = [c.compress(header)], bytes(MiB)
    for _ in range(size // MiB):
        parts.append(c.compress(zero))
    return b"".join(parts) + c.flush()


IDX_CASES = [
    ("idx empty", b""),
    ("idx bad magic", b"\x01\x02\x08\x01" + bytes(8)),
    ("idx unknown type", _idx(0x07, [3], b"abc")),
    ("idx zero dims", _idx(0x08, [])),
    ("idx 255 dims", bytes([0, 0, 8, 255]) + bytes(40)),
    ("idx lying header huge", _idx(0x08, [2**32 - 1, 2**32 - 1, 2**32 - 1], bytes(100))),
    ("idx truncated body", _idx(0x08, [10, 28, 28], bytes(100))),
    ("idx trailing bytes", _idx(0x08, [1, 28, 28], bytes(784 + 10))),
    ("idx gz lying header huge", _idx(0x08, [2**32 - 1, 2**32 - 1], bytes(100), gz=True)),
    ("idx gz header says 3e9 values", _gz_bomb(_idx(0x08, [3 * 10**9]), MiB)),
    ("idx raw header says 1e12 values", _idx(0x0D, [10**6, 10**6], bytes(64))),
    ("idx gz bomb 64 MiB, header says 10 images", _gz_bomb(_idx(0x08, [10, 28, 28]), BOMB)),
    ("idx gz truncated", _idx(0x08, [10, 28, 28], bytes(7840), gz=True)[:-30]),
    ("idx gz garbage after magic", b"\x1f\x8b" + bytes(100)),
]


@pytest.mark.parametrize("data", [pytest.param(d, id=name) for name, d in IDX_CASES])
def test_hostile_idx_file_is_refused(folder, data, request):
    name = request.node.callspec.id
    path = _write(folder, name, data, "-idx3-ubyte" + (".gz" if " gz " in f" {name} " else ""))
    refused(lambda: idx.read_idx(path), path)


# ------------------------------------------------------------------ not regular files


def _special(folder, kind):
    path = folder / f"special_{kind}.npz"
    if path.exists() or path.is_symlink():
        return path
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero symlink":
        os.symlink("/dev/zero", path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "dangling symlink":
        os.symlink(folder / "nowhere", path)
    elif kind == "symlink loop":
        os.symlink(path, path)
    return path


SPECIAL_READERS = {
    "load_data(path=)": load_npz,
    "train --dataset": lambda p: runs.load_dataset(str(p)),
    "predict .npy": lambda p: predict.read_array(str(p), (784,)),
    "read_idx": idx.read_idx,
}


@pytest.mark.parametrize("reader", list(SPECIAL_READERS))
@pytest.mark.parametrize("kind", ["fifo", "dev-zero symlink", "directory", "dangling symlink", "symlink loop"])
def test_files_that_are_not_regular_are_refused_without_hanging(folder, kind, reader):
    path = _special(folder, kind)
    refused(lambda: SPECIAL_READERS[reader](path), path, errors=COMMAND)


@pytest.mark.parametrize("compress", [False, True])
def test_an_honest_large_dataset_loads_within_twice_its_arrays(folder, compress):
    """31 MiB of images, stored or deflated, load to their values within twice their bytes plus 32 MiB."""
    from attacks.attack_helpers import SLACK, run
    arrays = {"x_train": np.zeros((40_000, 28, 28), np.uint8), "y_train": np.arange(40_000, dtype=np.uint8) % 10,
              "x_test": np.full((1000, 28, 28), 7, np.uint8), "y_test": np.arange(1000, dtype=np.uint8) % 10}
    path = folder / f"honest_{compress}.npz"
    (np.savez_compressed if compress else np.savez)(path, **arrays)
    out = {}
    error, peak = run(lambda: out.setdefault("data", load_npz(path)))
    assert error is None, error
    size = sum(a.nbytes for a in arrays.values())
    assert peak < 2 * size + SLACK, (peak / MiB, size / MiB)
    (x, y), (xt, yt) = out["data"]
    assert np.array_equal(y, arrays["y_train"]) and np.array_equal(xt, arrays["x_test"])


# ------------------------------------------------------------------ a run folder's metrics.json

METRICS = [
    ("metrics deep", lambda p: p.write_bytes(b"[" * 200_000 + b"]" * 200_000)),
    ("metrics not utf-8", lambda p: p.write_bytes(b'{"options": {"dataset": "\xff"}}')),
    ("metrics dataset a list", lambda p: p.write_bytes(b'{"options": {"dataset": ["mnist"]}}')),
    ("metrics 65 MiB", lambda p: p.write_bytes(b" " * (65 * MiB))),
    ("metrics a fifo", lambda p: os.mkfifo(p)),
    ("metrics names a missing file", lambda p: p.write_bytes(b'{"options": {"dataset": "gone.npz"}}')),
]


@pytest.mark.parametrize("write", [pytest.param(w, id=name) for name, w in METRICS])
def test_hostile_metrics_json_of_a_run_folder_is_refused(folder, write, request):
    """`glassnet evaluate RUN` reads the dataset its run folder names in metrics.json."""
    run_folder = folder / request.node.callspec.id.replace(" ", "_")
    run_folder.mkdir(exist_ok=True)
    path = run_folder / "metrics.json"
    if not (path.exists() or path.is_symlink()):
        write(path)
    refused(lambda: runs.recorded_dataset(run_folder), path)
