"""save_weights / load_weights, and ModelCheckpoint."""
import os

import numpy as np
import pytest

import glassnet as gn
from glassnet import saving
from glassnet.saving import ModelFileError, load_model
from saving.saving_helpers import _data, _mlp, _same_optimizer_state, _same_weights, _trained

pytestmark = pytest.mark.usefixtures("isolated_random_state")


# ----------------------------------------------------------------------
# save_weights / load_weights
# ----------------------------------------------------------------------
def test_weights_round_trip_by_name_by_position_and_from_a_model_file(tmp_path):
    model, model_path, (x, _) = _trained(tmp_path)
    path = model.save_weights(tmp_path / "run")
    assert path == tmp_path / "run.weights.npz"
    with np.load(path, allow_pickle=False) as npz:
        assert npz.files == saving.weight_names(model)

    def fresh():
        gn.set_random_seed(99)
        return _mlp()

    for source in (path, model_path):
        other = fresh()
        assert not _same_weights(other, model)
        other.load_weights(source)
        assert _same_weights(other, model) and np.array_equal(other.predict(x), model.predict(x))

    shuffled = tmp_path / "shuffled.npz"                     # names match: order does not matter
    named = dict(zip(saving.weight_names(model), model.get_weights()))
    np.savez(shuffled, **dict(reversed(list(named.items()))))
    other = fresh()
    other.load_weights(shuffled)
    assert _same_weights(other, model)

    positional = tmp_path / "keras_style.npz"               # np.savez(path, *get_weights()): by position
    np.savez(positional, *[w.astype(np.float64) for w in model.get_weights()])
    other = fresh()
    other.load_weights(positional)
    assert _same_weights(other, model)                       # cast to the model's float32


def test_load_weights_checks_everything_before_changing_anything(tmp_path):
    gn.set_random_seed(16)
    model = _mlp()
    before = model.get_weights()
    wrong = tmp_path / "wrong.npz"
    ws = model.get_weights()
    ws[-2] = np.zeros((8, 4), np.float32)                   # the last kernel for 4 classes
    np.savez(wrong, *ws)
    with pytest.raises(ModelFileError, match=r"wrong\.npz.*\(8, 4\).*dense_1/W.*\(8, 3\)"):
        model.load_weights(wrong)
    short = tmp_path / "short.npz"
    np.savez(short, *ws[:3])
    with pytest.raises(ModelFileError, match="3 arrays.*8 weights"):
        model.load_weights(short)
    text = tmp_path / "t.npz"
    text.write_text("not weights")
    with pytest.raises(ModelFileError, match="text file"):
        model.load_weights(text)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))

    with pytest.raises(ValueError, match=r"\.npz"):
        model.save_weights(tmp_path / "w.glassnet")
    with pytest.raises(ValueError, match="no weights yet"):
        gn.Sequential([gn.layers.Dense(2)]).load_weights(wrong)


# ----------------------------------------------------------------------
# ModelCheckpoint
# ----------------------------------------------------------------------
def test_checkpoint_every_epoch_with_formatted_names(tmp_path, capsys):
    gn.set_random_seed(17)
    model = _mlp()
    x, y = _data()
    template = str(tmp_path / "ckpt" / "m-{epoch:02d}-{val_loss:.4f}.glassnet")
    cb = gn.callbacks.ModelCheckpoint(template, verbose=1)
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, callbacks=[cb], verbose=0)
    expected = [f"m-{e + 1:02d}-{v:.4f}.glassnet" for e, v in enumerate(history.history["val_loss"])]
    assert sorted(os.listdir(tmp_path / "ckpt")) == expected
    assert "Epoch 3: saving model to" in capsys.readouterr().out
    last = load_model(tmp_path / "ckpt" / expected[-1])
    assert _same_weights(last, model) and _same_optimizer_state(last, model)


def test_checkpoint_best_only_and_weights_only(tmp_path, capsys):
    gn.set_random_seed(18)
    model = _mlp(optimizer=gn.optimizers.SGD(0.5, momentum=0.9))
    x, y = _data()
    best_path = tmp_path / "best.glassnet"
    best = gn.callbacks.ModelCheckpoint(best_path, monitor="val_accuracy", save_best_only=True, verbose=1)
    weights = gn.callbacks.ModelCheckpoint(str(tmp_path / "w{epoch}.weights.npz"), save_weights_only=True)
    history = model.fit(x, y, epochs=6, batch_size=8, validation_split=0.25, callbacks=[best, weights],
                        verbose=0)
    assert best.mode == "max" and best.best == max(history.history["val_accuracy"])
    assert sorted(p.name for p in tmp_path.glob("w*.weights.npz")) == [f"w{e}.weights.npz" for e in range(1, 7)]
    out = capsys.readouterr().out
    assert "val_accuracy improved from -inf to" in out
    saved = load_model(best_path)
    x_val, y_val = x[36:], y[36:]
    assert saved.evaluate(x_val, y_val, verbose=0)[1] == best.best

    by_loss = gn.callbacks.ModelCheckpoint(tmp_path / "low.glassnet", save_best_only=True,
                                           initial_value_threshold=-1.0)
    model.fit(x, y, epochs=1, validation_split=0.25, callbacks=[by_loss], verbose=0)
    assert by_loss.mode == "min" and not (tmp_path / "low.glassnet").exists()    # never below the threshold


def test_checkpoint_argument_errors(tmp_path):
    with pytest.raises(ValueError, match=r"\.glassnet.*\.keras"):
        gn.callbacks.ModelCheckpoint(tmp_path / "m.h5")
    with pytest.raises(ValueError, match=r"\.npz"):
        gn.callbacks.ModelCheckpoint(tmp_path / "m.glassnet", save_weights_only=True)
    with pytest.raises(ValueError, match="mode"):
        gn.callbacks.ModelCheckpoint(tmp_path / "m.glassnet", mode="best")
    for save_freq in ("batch", 0, 2.5):              # "epoch" or a number of batches
        with pytest.raises(ValueError, match="save_freq"):
            gn.callbacks.ModelCheckpoint(tmp_path / "m.glassnet", save_freq=save_freq)
    gn.set_random_seed(19)
    model = _mlp()
    x, y = _data()
    no_val = gn.callbacks.ModelCheckpoint(tmp_path / "m.glassnet", save_best_only=True)
    with pytest.raises(ValueError, match="val_loss.*validation"):
        model.fit(x, y, epochs=1, callbacks=[no_val], verbose=0)
    bad_key = gn.callbacks.ModelCheckpoint(str(tmp_path / "m-{val_acc}.glassnet"))
    with pytest.raises(ValueError, match=r"\{val_acc\}.*epoch, loss, accuracy"):
        model.fit(x, y, epochs=1, callbacks=[bad_key], verbose=0)
