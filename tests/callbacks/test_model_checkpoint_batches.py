"""ModelCheckpoint(save_freq=N): a checkpoint every N training batches, counted across epochs.

References: the files Keras 3 writes for the same number of batches, and the weights a callback saw
after the same batches.
"""
import numpy as np
import pytest

import glassnet as gn
from glassnet.callbacks import LambdaCallback, ModelCheckpoint
from callbacks.callback_helpers import FEATURES, make_model

PATTERN = "w-{epoch:02d}-{batch:03d}"


def _stems(folder):
    return sorted(p.name.split(".")[0] for p in folder.iterdir())


@pytest.mark.parametrize("save_freq", [1, 3, 5, 7])
def test_the_same_batches_as_keras(keras, data, tmp_path, save_freq):
    x, y = data                                          # 60 samples, batch 16: 4 batches an epoch
    make_model().fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[
        ModelCheckpoint(str(tmp_path / "ours" / (PATTERN + ".weights.npz")), save_weights_only=True,
                        save_freq=save_freq)])
    kmodel = keras.Sequential([keras.Input((FEATURES,)), keras.layers.Dense(3, activation="softmax")])
    kmodel.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    (tmp_path / "theirs").mkdir()
    kmodel.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[
        keras.callbacks.ModelCheckpoint(str(tmp_path / "theirs" / (PATTERN + ".weights.h5")),
                                        save_weights_only=True, save_freq=save_freq)])
    assert _stems(tmp_path / "ours") == _stems(tmp_path / "theirs")
    assert len(_stems(tmp_path / "ours")) == 12 // save_freq


def test_each_file_holds_the_weights_after_its_batch(data, tmp_path):
    x, y = data
    after = {}
    model = make_model()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[
        LambdaCallback(on_epoch_begin=lambda epoch, logs: after.update(epoch=epoch),
                       on_train_batch_end=lambda batch, logs: after.update(
                           {(after["epoch"] + 1, batch + 1): model.get_weights()})),
        ModelCheckpoint(str(tmp_path / "m-{epoch}-{batch}-{loss:.3f}.glassnet"), save_freq=3)])
    files = sorted(tmp_path.iterdir())
    assert len(files) == 2                                # after batches 3 and 6 of 8
    for path in files:
        _, epoch, batch, _ = path.stem.split("-", 3)
        saved = gn.load_model(path).get_weights()
        for mine, theirs in zip(saved, after[(int(epoch), int(batch))]):
            np.testing.assert_array_equal(mine, theirs)


def test_save_best_only_judges_the_batch_logs(data, tmp_path):
    x, y = data
    checkpoint = ModelCheckpoint(str(tmp_path / "best.glassnet"), monitor="loss", save_best_only=True, save_freq=2)
    make_model().fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[checkpoint])
    assert (tmp_path / "best.glassnet").exists() and np.isfinite(checkpoint.best)
    with pytest.raises(ValueError, match=r"batch's logs \(a batch has no 'val_\*' values\)"):
        make_model().fit(x, y, epochs=1, batch_size=16, validation_split=0.25, verbose=0,
                         callbacks=[ModelCheckpoint(str(tmp_path / "v.glassnet"), save_best_only=True, save_freq=1)])


def test_the_epoch_default_saves_once_per_epoch(data, tmp_path):
    x, y = data
    make_model().fit(x, y, epochs=3, batch_size=16, verbose=0,
                     callbacks=[ModelCheckpoint(str(tmp_path / "e{epoch}.glassnet"))])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e1.glassnet", "e2.glassnet", "e3.glassnet"]
