"""BackupAndRestore: an interrupted fit, resumed by the next fit call, ends bit for bit where an
uninterrupted one ends (weights, moving statistics, optimizer state, Dropout masks, shuffles, and
glassnet's global generator after it); the folder is written atomically and read as untrusted.

References: the same seeded fit run without interruption; Keras 3's epoch count for the same
interruption.
"""
import json

import numpy as np
import pytest

import glassnet as gn
from glassnet.callbacks import BackupAndRestore, Callback

N, FEATURES, EPOCHS = 96, 5, 6


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(N, FEATURES)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(np.int64) + (x[:, 3] > 1)
    return x, y


def make_model(seed=5):
    """Dropout (a generator of its own), BatchNormalization (moving statistics) and Adam (moments)."""
    gn.set_random_seed(seed)
    model = gn.Sequential([gn.layers.Dense(16, activation="relu", input_shape=(FEATURES,)),
                           gn.layers.BatchNormalization(),
                           gn.layers.Dropout(0.3),
                           gn.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=gn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class Interrupt(Callback):
    """Raises in `hook` at epoch `epoch` (at batch `batch` for the batch hook)."""

    def __init__(self, hook, epoch, batch=None):
        super().__init__()
        self.hook, self.at, self.batch, self.epoch = hook, epoch, batch, None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        if self.hook == "on_epoch_begin" and epoch == self.at:
            raise KeyboardInterrupt(f"interrupted at the start of epoch {epoch}")

    def on_train_batch_end(self, batch, logs=None):
        if self.hook == "on_train_batch_end" and self.epoch == self.at and batch == self.batch:
            raise RuntimeError(f"interrupted in epoch {self.epoch}, batch {batch}")

    def on_epoch_end(self, epoch, logs=None):
        if self.hook == "on_epoch_end" and epoch == self.at:
            raise RuntimeError(f"interrupted at the end of epoch {epoch}")


FIT = dict(epochs=EPOCHS, batch_size=16, validation_split=0.25, verbose=0)


def reference(data):
    """(weights, optimizer state, History, next draw of the global generator) of an uninterrupted run."""
    model = make_model()
    history = model.fit(*data, **FIT)
    return model.get_weights(), model.optimizer.get_state(), history.history, gn.backend.global_rng().random()


def assert_same_run(model, expected):
    weights, opt_state, _, draw = expected
    for mine, theirs in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(mine, theirs)                    # bit for bit
    state = model.optimizer.get_state()
    assert state["iterations"] == opt_state["iterations"]
    for mine, theirs in zip(state["slots"], opt_state["slots"]):
        for name in theirs:
            np.testing.assert_array_equal(mine[name], theirs[name])
    assert gn.backend.global_rng().random() == draw                   # the global generator too


@pytest.mark.parametrize("hook, epoch, batch, resumes_at", [
    ("on_epoch_begin", 3, None, 3),
    ("on_train_batch_end", 2, 2, 2),        # mid-epoch: epoch 2 runs again from the end of epoch 1
    ("on_epoch_end", 4, None, 5),           # after the backup of epoch 4 (the interrupter comes later)
    ("on_epoch_begin", 0, None, 0),         # from the backup made when fit started
    ("on_train_batch_end", 0, 3, 0),
])
def test_a_resumed_fit_equals_an_uninterrupted_one(data, tmp_path, hook, epoch, batch, resumes_at):
    expected = reference(data)
    backup_dir = tmp_path / "backup"
    model = make_model()
    with pytest.raises((KeyboardInterrupt, RuntimeError), match="interrupted"):
        model.fit(*data, **FIT, callbacks=[BackupAndRestore(backup_dir), Interrupt(hook, epoch, batch)])
    if resumes_at:
        assert sorted(p.name for p in backup_dir.iterdir()) == ["backup-0.glassnet", "training_state.json"] \
            or sorted(p.name for p in backup_dir.iterdir()) == ["backup-1.glassnet", "training_state.json"]
    history = model.fit(*data, **FIT, callbacks=[BackupAndRestore(backup_dir)])
    assert history.epoch == list(range(resumes_at, EPOCHS))
    assert history.history["loss"] == expected[2]["loss"][resumes_at:]      # the same numbers, epoch by epoch
    assert history.history["val_loss"] == expected[2]["val_loss"][resumes_at:]
    assert_same_run(model, expected)
    assert not backup_dir.exists()                                       # delete_checkpoint=True


def test_a_fresh_model_in_a_new_session_resumes_too(data, tmp_path):
    """As after a crash: a new model (another seed even), the global generator elsewhere; the backup
    brings back the weights and every generator."""
    expected = reference(data)
    with pytest.raises(KeyboardInterrupt):
        make_model().fit(*data, **FIT, callbacks=[BackupAndRestore(tmp_path), Interrupt("on_epoch_begin", 2)])
    model = make_model(seed=123)
    gn.backend.global_rng().random(17)
    history = model.fit(*data, **FIT, callbacks=[BackupAndRestore(tmp_path)])
    assert history.epoch == [2, 3, 4, 5]
    assert_same_run(model, expected)


def test_without_the_backup_the_resumed_run_would_differ(data, tmp_path):
    """The test above can fail: restoring the weights alone (no generators) gives another run."""
    expected = reference(data)
    with pytest.raises(KeyboardInterrupt):
        make_model().fit(*data, **FIT, callbacks=[BackupAndRestore(tmp_path, delete_checkpoint=False),
                                                  Interrupt("on_epoch_begin", 3)])
    model = make_model(seed=123)
    restored = gn.load_model(next(tmp_path.glob("backup-*.glassnet")))     # weights and optimizer state
    model.set_weights(restored.get_weights())
    model.optimizer = restored.optimizer
    model.fit(*data, **FIT, initial_epoch=3)
    assert not all(np.array_equal(a, b) for a, b in zip(model.get_weights(), expected[0]))


def test_the_epoch_count_keras_gives(keras, data, tmp_path):
    """As Keras's own example: interrupted at the start of epoch 3 of 5, the second fit runs 2 epochs."""
    x, y = data

    class KerasInterrupt(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 3:
                raise RuntimeError("interrupted")

    kmodel = keras.Sequential([keras.Input((FEATURES,)), keras.layers.Dense(3, activation="softmax")])
    kmodel.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    kbackup = keras.callbacks.BackupAndRestore(str(tmp_path / "keras"))
    with pytest.raises(RuntimeError):
        kmodel.fit(x, y, epochs=5, batch_size=48, verbose=0, callbacks=[kbackup, KerasInterrupt()])
    theirs = kmodel.fit(x, y, epochs=5, batch_size=48, verbose=0, callbacks=[kbackup])
    model = make_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=5, verbose=0, callbacks=[BackupAndRestore(tmp_path / "ours"),
                                                        Interrupt("on_epoch_begin", 3)])
    ours = model.fit(x, y, epochs=5, verbose=0, callbacks=[BackupAndRestore(tmp_path / "ours")])
    assert len(ours.history["loss"]) == len(theirs.history["loss"]) == 2
    assert not (tmp_path / "ours").exists() and not (tmp_path / "keras").exists()


def test_every_n_batches(data, tmp_path, monkeypatch):
    from glassnet.saving import backup
    saved = []
    write = backup.write_backup
    monkeypatch.setattr(backup, "write_backup", lambda model, d, state, **kw: (saved.append(dict(state)),
                                                                                write(model, d, state, **kw))[1])
    model = make_model()
    with pytest.raises(RuntimeError):                       # 5 batches per epoch (72 samples, batch 16)
        model.fit(*data, **FIT, callbacks=[BackupAndRestore(tmp_path, save_freq=4),
                                           Interrupt("on_train_batch_end", 2, 1)])
    assert [(s["epoch"], s["batch"]) for s in saved] == [(0, None), (0, 4), (1, 3), (2, 2)]   # start, every 4th batch
    history = model.fit(*data, **FIT, callbacks=[BackupAndRestore(tmp_path, save_freq=4)])
    assert history.epoch == [2, 3, 4, 5]                    # the interrupted epoch runs again
    assert np.isfinite(history.history["loss"]).all()


def test_a_failed_write_leaves_the_last_good_backup(data, tmp_path, monkeypatch):
    """The state file is the commit point: a crash while writing it keeps the one before, whole."""
    from glassnet.saving import archive
    expected = reference(data)
    real = archive.atomic_write
    writes = []

    def crash_on_the_third_state(path, write, **options):
        if path.name == "training_state.json":
            writes.append(path)
            if len(writes) == 3:
                def half(fileobj):
                    fileobj.write(b'{"format": "glassnet-bac')
                    raise OSError("disk full")
                return real(path, half, **options)
        return real(path, write, **options)

    monkeypatch.setattr(archive, "atomic_write", crash_on_the_third_state)
    model = make_model()
    with pytest.raises(OSError, match="disk full"):
        model.fit(*data, **FIT, callbacks=[BackupAndRestore(tmp_path)])
    monkeypatch.setattr(archive, "atomic_write", real)
    assert json.loads((tmp_path / "training_state.json").read_text())["epoch"] == 1   # the start, epochs 0, 1
    assert not list(tmp_path.glob(".*.tmp"))                           # no temporary file left behind
    history = model.fit(*data, **FIT, callbacks=[BackupAndRestore(tmp_path)])
    assert history.epoch == [1, 2, 3, 4, 5]
    assert_same_run(model, expected)


def test_double_checkpoint_falls_back_to_the_state_before(data, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        make_model().fit(*data, **FIT, callbacks=[BackupAndRestore(tmp_path, double_checkpoint=True),
                                                  Interrupt("on_epoch_begin", 3)])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 4 and "training_state.json.bkp" in names     # two states, two model files
    current = json.loads((tmp_path / "training_state.json").read_text())
    (tmp_path / current["model_file"]).write_bytes(b"PK\x03\x04 damaged")
    model = make_model()
    history = model.fit(*data, **FIT, callbacks=[BackupAndRestore(tmp_path, double_checkpoint=True)])
    assert history.epoch == [2, 3, 4, 5]                               # from the state of epoch 1's end
    with pytest.raises(ValueError, match="backup-"):                   # without the fallback: the error
        bad = tmp_path / "again"
        with pytest.raises(KeyboardInterrupt):
            make_model().fit(*data, **FIT, callbacks=[BackupAndRestore(bad), Interrupt("on_epoch_begin", 2)])
        state = json.loads((bad / "training_state.json").read_text())
        (bad / state["model_file"]).write_bytes(b"PK\x03\x04 damaged")
        make_model().fit(*data, **FIT, callbacks=[BackupAndRestore(bad)])


def _interrupted(data, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        make_model().fit(*data, **FIT, callbacks=[BackupAndRestore(tmp_path), Interrupt("on_epoch_begin", 2)])
    return json.loads((tmp_path / "training_state.json").read_text())


@pytest.mark.parametrize("change, match", [
    (lambda s: s.update(model_file="../../etc/passwd"), "names the model file"),
    (lambda s: s.update(model_file="/tmp/x.glassnet"), "names the model file"),
    (lambda s: s.update(epoch=-1), "epoch must be an integer >= 0"),
    (lambda s: s.update(epoch="2"), "epoch must be an integer"),
    (lambda s: s.pop("epoch"), "no epoch"),
    (lambda s: s.update(format="pickle"), "not a glassnet training state"),
    (lambda s: s.update(version=99), "version 99"),
    (lambda s: s.update(shuffle_rng={"bit_generator": "MT19937", "state": {}}), "shuffle_rng is not the state"),
    (lambda s: s["global_rng"].update(state={"state": "x", "inc": 1}), "global_rng is not a valid generator state"),
])
def test_a_tampered_state_is_refused_by_name_and_changes_nothing(data, tmp_path, change, match):
    state = _interrupted(data, tmp_path)
    change(state)
    (tmp_path / "training_state.json").write_text(json.dumps(state))
    model = make_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match=match) as err:
        model.fit(*data, **FIT, callbacks=[BackupAndRestore(tmp_path)])
    assert "training_state.json" in str(err.value)
    for mine, saved in zip(model.get_weights(), before):
        np.testing.assert_array_equal(mine, saved)


@pytest.mark.parametrize("content, match", [
    (b"\x80\x81 not text", "not JSON"),
    (b"[1, 2]", "not a glassnet training state"),
    (b"[" * 100_000, "not JSON"),
    (b" " * (2 << 20), "more than"),
], ids=["not text", "a list", "nested too deep", "2 MiB"])
def test_a_state_that_is_no_json_or_too_big(data, tmp_path, content, match):
    _interrupted(data, tmp_path)
    (tmp_path / "training_state.json").write_bytes(content)
    with pytest.raises(ValueError, match=match):
        make_model().fit(*data, **FIT, callbacks=[BackupAndRestore(tmp_path)])


def test_a_backup_of_another_model_is_refused_before_anything_changes(data, tmp_path):
    _interrupted(data, tmp_path)
    gn.set_random_seed(0)
    other = gn.Sequential([gn.layers.Dense(8, activation="relu", input_shape=(FEATURES,)),
                           gn.layers.Dense(3, activation="softmax")])
    other.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = other.get_weights()
    with pytest.raises(ValueError, match="backup-.*weight"):
        other.fit(*data, **FIT, callbacks=[BackupAndRestore(tmp_path)])
    assert all(np.array_equal(a, b) for a, b in zip(other.get_weights(), before))
    model = make_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="made with the optimizer Adam, this model trains with SGD"):
        model.fit(*data, **FIT, callbacks=[BackupAndRestore(tmp_path)])


def test_only_its_own_files_are_deleted(data, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    make_model().fit(*data, **FIT, callbacks=[BackupAndRestore(tmp_path)])
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    make_model().fit(*data, **FIT, callbacks=[BackupAndRestore(tmp_path / "kept", delete_checkpoint=False)])
    assert json.loads((tmp_path / "kept" / "training_state.json").read_text())["epoch"] == EPOCHS


def test_a_reduced_learning_rate_is_restored(data, tmp_path):
    model = make_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(*data, **FIT, callbacks=[gn.callbacks.LearningRateScheduler(lambda epoch, lr: 0.01 / (epoch + 1)),
                                           BackupAndRestore(tmp_path), Interrupt("on_epoch_begin", 3)])
    model = make_model()
    seen = []
    model.fit(*data, **FIT, callbacks=[BackupAndRestore(tmp_path), gn.callbacks.LambdaCallback(
        on_train_begin=lambda logs: seen.append(model.optimizer.learning_rate))])
    assert seen == [pytest.approx(0.01 / 3)]                          # the rate of epoch 2, the last one run


@pytest.mark.parametrize("kwargs, error, match", [
    ({"backup_dir": ""}, ValueError, "backup_dir"),
    ({"backup_dir": 3}, TypeError, "backup_dir"),
    ({"backup_dir": "b", "save_freq": "batch"}, ValueError, "save_freq"),
    ({"backup_dir": "b", "save_freq": 0}, ValueError, "save_freq"),
    ({"backup_dir": "b", "save_freq": True}, ValueError, "save_freq"),
])
def test_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        BackupAndRestore(**kwargs)
