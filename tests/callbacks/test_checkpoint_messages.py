"""ModelCheckpoint(verbose=1) says what Keras 3 says: "saving model to" before, "finished saving model to" after."""
import contextlib
import io
import re

import numpy as np
import pytest


def _messages(k, folder, **options):
    """The checkpoint's lines from a 4-epoch fit, epochs' progress off; paths relative to `folder`."""
    x = np.linspace(-1, 1, 32, dtype="float32").reshape(16, 2)
    y = (x.sum(axis=1, keepdims=True) > 0).astype("float32")
    model = k.Sequential([k.Input((2,)), k.layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy")
    path = str(folder / "ckpt-{epoch:02d}.weights.h5")
    checkpoint = k.callbacks.ModelCheckpoint(path, save_weights_only=True, verbose=1, **options)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model.fit(x, y, epochs=4, batch_size=8, validation_data=(x, y), callbacks=[checkpoint], verbose=0)
    return [line.replace(str(folder), "<dir>") for line in out.getvalue().splitlines() if line]


@pytest.mark.parametrize("options", [{}, {"save_freq": 4}], ids=["every epoch", "every 4 batches"])
def test_checkpoint_messages_match_keras(options, tmp_path, keras, isolated_random_state):
    pytest.importorskip("h5py")
    import glassnet as gn
    (tmp_path / "ours").mkdir()
    (tmp_path / "theirs").mkdir()
    ours = _messages(gn, tmp_path / "ours", **options)
    assert ours == _messages(keras, tmp_path / "theirs", **options)
    epochs = range(1, 5) if not options else (2, 4)           # 2 batches an epoch: every other epoch
    assert ours == [line for e in epochs for line in (f"Epoch {e}: saving model to <dir>/ckpt-{e:02d}.weights.h5",
                                                      f"Epoch {e}: finished saving model to <dir>/ckpt-{e:02d}.weights.h5")]


def test_best_only_says_finished_only_when_it_saved(tmp_path, isolated_random_state):
    pytest.importorskip("h5py")
    import glassnet as gn
    lines = _messages(gn, tmp_path, save_best_only=True, monitor="val_loss")
    for i, line in enumerate(lines):
        if "improved from" in line:
            assert re.fullmatch(r"Epoch (\d+): finished saving model to <dir>/ckpt-\d\d.weights.h5", lines[i + 1])
        else:
            assert "did not improve" in line or "finished saving" in line
    assert sum("finished saving" in line for line in lines) == sum("improved from" in line for line in lines) >= 1
