"""The command line under hostile input (issue 13): no traceback, but exit 2 with usage naming the limit,
or exit 1 with one `glassnet: error: ...` line naming the file."""
import struct
import zlib

import numpy as np
import pytest

import glassnet as gn
from glassnet import cli, runs
from glassnet.cli import predict as predict_cli


def assert_one_line_error(err, status, *needles):
    assert status == 1, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("glassnet: error: "), err
    for needle in needles:
        assert needle in lines[0], err


def assert_usage_error(err, status, *needles):
    assert status == 2, err
    assert "Traceback" not in err
    assert err.startswith("usage: "), err
    for needle in needles:
        assert needle in err, err


@pytest.mark.parametrize("argv, needle", [
    (["train", "--hidden", "1000000000000"], "up to 1,000,000"),
    (["train", "--hidden", "64,1000001"], "up to 1,000,000"),
    (["explain", "--samples", "10000000000"], "up to 10,000"),
    (["gradcheck", "--features", "1000000000000"], "up to 10,000"),
    (["gradcheck", "--classes", "10001"], "up to 10,000"),
    (["gradcheck", "--samples", "10000000000"], "up to 10,000"),
])
def test_sizes_beyond_the_limit_are_usage_errors(argv, needle, capsys):
    status = cli.main(argv)
    assert_usage_error(capsys.readouterr().err, status, needle, argv[1])


def png_declaring(width, height):
    """A valid PNG header declaring width x height 1-bit pixels, with almost no data: cheap to write and
    to open (Pillow reads the header only), costly only if decoded."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100))
            + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    model = gn.Sequential([gn.layers.Input((784,)), gn.layers.Dense(10, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy")
    path = tmp_path_factory.mktemp("model") / "model.glassnet"
    model.save(path)
    return path


def test_predict_refuses_a_decompression_bomb_png(model_file, tmp_path, capsys):
    pytest.importorskip("PIL")
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_declaring(30000, 30000))            # 900 million pixels in a few bytes
    status = cli.main(["predict", str(model_file), str(bomb)])
    assert_one_line_error(capsys.readouterr().err, status, str(bomb), "decompression-bomb")


def test_predict_refuses_an_image_beyond_its_own_pixel_limit(model_file, tmp_path, capsys, monkeypatch):
    Image = pytest.importorskip("PIL.Image")
    monkeypatch.setattr(predict_cli, "MAX_IMAGE_PIXELS", 40 * 40)
    big = tmp_path / "big.png"
    Image.new("L", (41, 40)).save(big)
    status = cli.main(["predict", str(model_file), str(big)])
    assert_one_line_error(capsys.readouterr().err, status, str(big), "41 x 40 = 1,640 pixels",
                          "limit of 1,600", "MAX_IMAGE_PIXELS")
    ok = tmp_path / "ok.png"
    Image.new("L", (40, 40)).save(ok)
    assert cli.main(["predict", str(model_file), str(ok)]) == 0


@pytest.mark.parametrize("text, needle", [
    ('{"loss": [[1, 2], [3, 4]]}', "'loss'[0] is [1, 2], not a number"),
    ('{"loss": [{"a": 1}]}', "'loss'[0] is {'a': 1}, not a number"),
    ('{"loss": [0.5, "x"]}', "'loss'[1] is 'x', not a number"),
    ('{"loss": 3}', "'loss' is not a list"),
    ('[1, 2]', "it holds a list"),
    ('{"loss": [', "not valid JSON"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
])
def test_plot_refuses_a_bad_history_naming_the_file(text, needle, model_file, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    (tmp_path / runs.MODEL_FILE).write_bytes(model_file.read_bytes())
    history = tmp_path / runs.HISTORY_FILE
    history.write_text(text)
    status = cli.main(["plot", str(tmp_path)])
    assert_one_line_error(capsys.readouterr().err, status, str(history), needle)


def test_read_history_accepts_numbers_and_nulls(tmp_path):
    path = tmp_path / "history.json"
    path.write_text('{"loss": [1.0, 0.5, null], "accuracy": [0, 1, NaN]}')
    history = runs.read_history(path)
    assert history["loss"] == [1.0, 0.5, None] and np.isnan(history["accuracy"][2])


def test_read_history_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "MAX_HISTORY_BYTES", 10)
    path = tmp_path / "history.json"
    path.write_text('{"loss": [1.0, 0.5]}')
    with pytest.raises(ValueError, match=r"history.json holds 20 bytes.*MAX_HISTORY_BYTES"):
        runs.read_history(path)
