"""Resumed training equals uninterrupted training, bit for bit (issue 13, part 3).

The reference is always the same seeded run done in one go: fit(epochs=4).  Against it, every weight
(Dense kernels, BatchNormalization's moving statistics), the optimizer's slots and step count, and the
random generators (shuffling, Dropout, GaussianNoise) must be equal with np.array_equal, in float32 and
float64, with shuffle=True, a learning-rate schedule and every optimizer glassnet has:

    (a) fit(epochs=2), model.save, load_model, fit(epochs=4, initial_epoch=2)
    (b) fit(epochs=2), fit(epochs=2) in memory (Keras's semantics: the second call runs two more epochs)

and, with steps_per_epoch splitting a pass over the data, the same with the split inside a pass.
Each test can fail: before the shuffling generator lived in the model these differed by up to 0.28
(the last test shows how far apart two shuffles put the weights).
"""
import hashlib
import json
import zipfile

import numpy as np
import pytest

import glassnet as gn
from glassnet.saving import ModelFileError

N, FEATURES = 20, 4
FIT = dict(batch_size=6, verbose=0, shuffle=True)


def decay(rate):
    return gn.optimizers.schedules.ExponentialDecay(rate, decay_steps=3, decay_rate=0.8)


#: every optimizer glassnet has (test_every_optimizer_is_here checks against gn.optimizers.names()),
#: each with a schedule: the learning rate follows the restored step count
OPTIMIZERS = {
    "sgd": lambda: gn.optimizers.SGD(decay(0.1)),
    "sgd_momentum": lambda: gn.optimizers.SGD(decay(0.1), momentum=0.9),
    "sgd_nesterov": lambda: gn.optimizers.SGD(decay(0.1), momentum=0.9, nesterov=True),
    "adagrad": lambda: gn.optimizers.Adagrad(decay(0.1)),
    "rmsprop": lambda: gn.optimizers.RMSprop(decay(0.01)),
    "rmsprop_momentum_centered": lambda: gn.optimizers.RMSprop(decay(0.01), momentum=0.5, centered=True),
    "adam": lambda: gn.optimizers.Adam(decay(0.02)),
    "adam_amsgrad": lambda: gn.optimizers.Adam(decay(0.02), amsgrad=True),
    "adamw": lambda: gn.optimizers.AdamW(decay(0.02), weight_decay=0.01),
    "sgd_piecewise_clipnorm": lambda: gn.optimizers.SGD(
        gn.optimizers.schedules.PiecewiseConstantDecay([4, 8], [0.1, 0.05, 0.02]), momentum=0.9, clipnorm=0.5),
}


def data(dtype):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, FEATURES)).astype(dtype)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 0.5)
    return x, y


def make(optimizer, dtype, seed=1):
    """Dense, BatchNormalization (moving statistics), Dropout and GaussianNoise (generators of their own)."""
    gn.set_random_seed(seed)
    model = gn.Sequential([gn.layers.Dense(6, activation="relu", input_shape=(FEATURES,), dtype=dtype),
                           gn.layers.BatchNormalization(dtype=dtype),
                           gn.layers.Dropout(0.25, dtype=dtype),
                           gn.layers.GaussianNoise(0.1, dtype=dtype),
                           gn.layers.Dense(3, activation="softmax", dtype=dtype)])
    model.compile(optimizer=OPTIMIZERS[optimizer](), loss="sparse_categorical_crossentropy")
    return model


def assert_same_state(model, reference):
    """Weights, optimizer state and every generator: equal, bit for bit."""
    mine, theirs = model.get_weights(), reference.get_weights()
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    sa, sb = model.optimizer.get_state(), reference.optimizer.get_state()
    assert sa["iterations"] == sb["iterations"]
    assert len(sa["slots"]) == len(sb["slots"])
    for da, db in zip(sa["slots"], sb["slots"]):
        assert da.keys() == db.keys()
        for key in da:
            np.testing.assert_array_equal(da[key], db[key])
    assert float(model.optimizer.learning_rate) == float(reference.optimizer.learning_rate)
    assert model._shuffle_rng.bit_generator.state == reference._shuffle_rng.bit_generator.state
    assert model._shuffle_pass == reference._shuffle_pass
    for a, b in zip(model.layers, reference.layers):
        if hasattr(b, "rng"):
            assert a.rng.bit_generator.state == b.rng.bit_generator.state


DTYPES = ["float32", "float64"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_fit_save_load_fit_equals_one_fit(tmp_path, optimizer, dtype):
    x, y = data(dtype)
    reference = make(optimizer, dtype)
    history = reference.fit(x, y, epochs=4, **FIT)

    first = make(optimizer, dtype)
    first.fit(x, y, epochs=2, **FIT)
    path = first.save(tmp_path / "half.glassnet")
    gn.set_random_seed(99)                           # another session: the global generator elsewhere
    resumed = gn.load_model(path)
    rest = resumed.fit(x, y, epochs=4, initial_epoch=2, **FIT)

    assert rest.epoch == [2, 3]
    assert rest.history["loss"] == history.history["loss"][2:]
    assert_same_state(resumed, reference)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_two_fits_in_memory_equal_one_fit(optimizer, dtype):
    x, y = data(dtype)
    reference = make(optimizer, dtype)
    history = reference.fit(x, y, epochs=4, **FIT)
    model = make(optimizer, dtype)
    model.fit(x, y, epochs=2, **FIT)
    gn.backend.global_rng().random(5)                # fits in between draw nothing from the global generator
    second = model.fit(x, y, epochs=2, **FIT)        # Keras: two more epochs, numbered 0 and 1 again
    assert second.epoch == [0, 1]
    assert second.history["loss"] == history.history["loss"][2:]
    assert_same_state(model, reference)


def test_every_optimizer_is_here():
    assert {type(make_opt()).__name__.lower() for make_opt in OPTIMIZERS.values()} == set(gn.optimizers.names())


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_pass_split_by_steps_per_epoch_resumes_inside_the_pass(tmp_path, dtype):
    """20 samples in batches of 6: a pass is 4 batches, and steps_per_epoch=2 ends every even epoch
    (0, 2, 4) in the middle of a pass.  fit(1) + save + load + fit(initial_epoch=1) and fit(1) +
    fit(4) equal fit(5): the second fit goes on with the first pass's permutation, at its third batch."""
    x, y = data(dtype)
    steps = dict(FIT, steps_per_epoch=2)
    reference = make("adam", dtype)
    reference.fit(x, y, epochs=5, **steps)

    first = make("adam", dtype)
    first.fit(x, y, epochs=1, **steps)
    path = first.save(tmp_path / "mid-pass.glassnet")
    kept = json.loads(zipfile.ZipFile(path).read("config.json"))["shuffle"]["pass"]
    assert (kept["position"], kept["samples"], kept["batch_size"]) == (2, N, 6)
    resumed = gn.load_model(path)
    resumed.fit(x, y, epochs=5, initial_epoch=1, **steps)
    assert_same_state(resumed, reference)

    in_memory = make("adam", dtype)
    in_memory.fit(x, y, epochs=1, **steps)
    in_memory.fit(x, y, epochs=4, **steps)
    assert_same_state(in_memory, reference)


def test_a_fit_of_another_shape_starts_a_new_pass():
    """The unfinished pass is kept for a fit with steps_per_epoch over as many samples in batches of the
    same size; any other fit starts a new pass, as Keras's every fit does: its permutation is the
    generator's next one."""
    x, y = data("float32")
    model = make("sgd", "float32")
    model.fit(x, y, epochs=1, **dict(FIT, steps_per_epoch=2))
    state = model._shuffle_rng.bit_generator.state
    model.fit(x[:18], y[:18], epochs=1, **dict(FIT, steps_per_epoch=2))
    expected = np.random.default_rng()
    expected.bit_generator.state = state
    expected.permutation(18)                         # one new permutation drawn, nothing else
    assert model._shuffle_rng.bit_generator.state == expected.bit_generator.state
    assert model._shuffle_pass["samples"] == 18


def test_the_shuffling_generator_is_a_child_of_the_global_one():
    """set_random_seed makes runs repeat: the first fit draws the model's generator from the global
    one (as backend.make_rng does), and each pass draws one permutation from it."""
    x, y = data("float32")
    model = make("sgd", "float32", seed=7)
    global_state = gn.backend.global_rng().bit_generator.state
    model.fit(x, y, epochs=3, **FIT)
    parent = np.random.default_rng()
    parent.bit_generator.state = global_state
    child = np.random.default_rng(parent.integers(0, 2**63 - 1))
    for _ in range(3):
        child.permutation(N)
    assert model._shuffle_rng.bit_generator.state == child.bit_generator.state
    assert gn.backend.global_rng().bit_generator.state == parent.bit_generator.state


def test_a_model_saved_before_any_fit_gets_its_generator_on_its_first_fit(tmp_path):
    x, y = data("float32")
    model = make("adam", "float32")
    path = model.save(tmp_path / "fresh.glassnet")
    assert json.loads(zipfile.ZipFile(path).read("config.json"))["shuffle"] is None
    gn.set_random_seed(3)
    model.fit(x, y, epochs=2, **FIT)
    loaded = gn.load_model(path)
    gn.set_random_seed(3)
    loaded.fit(x, y, epochs=2, **FIT)
    assert_same_state(loaded, model)


def test_the_identity_can_fail_a_fresh_shuffle_moves_the_weights(tmp_path):
    """What the tests above guard against: the same resumed run with another shuffling generator."""
    x, y = data("float32")
    reference = make("sgd_momentum", "float32")
    reference.fit(x, y, epochs=4, **FIT)
    first = make("sgd_momentum", "float32")
    first.fit(x, y, epochs=2, **FIT)
    resumed = gn.load_model(first.save(tmp_path / "half.glassnet"))
    resumed._shuffle_rng = np.random.default_rng(12345)
    resumed.fit(x, y, epochs=4, initial_epoch=2, **FIT)
    gap = max(np.abs(a - b).max() for a, b in zip(resumed.get_weights(), reference.get_weights()))
    assert gap > 1e-3


def test_learning_rate_scheduler_callback_resumes_with_initial_epoch(tmp_path):
    """A schedule by epoch (the callback) sees the same epoch numbers when fit resumes at initial_epoch."""
    x, y = data("float64")

    def schedule(epoch, lr):
        return 0.1 * 0.5 ** epoch

    fit = dict(FIT, callbacks=[gn.callbacks.LearningRateScheduler(schedule)])
    reference = make("sgd_momentum", "float64")
    reference.optimizer = gn.optimizers.SGD(0.1, momentum=0.9)
    reference.compile(optimizer=reference.optimizer, loss="sparse_categorical_crossentropy")
    reference.fit(x, y, epochs=4, **fit)
    first = make("sgd_momentum", "float64")
    first.compile(optimizer=gn.optimizers.SGD(0.1, momentum=0.9), loss="sparse_categorical_crossentropy")
    first.fit(x, y, epochs=2, **fit)
    resumed = gn.load_model(first.save(tmp_path / "half.glassnet"))
    resumed.fit(x, y, epochs=4, initial_epoch=2, **fit)
    assert_same_state(resumed, reference)
    assert float(resumed.optimizer.learning_rate) == 0.1 * 0.5 ** 3


# ----------------------------------------------------------------------
# The state in the file is read as untrusted
# ----------------------------------------------------------------------

def _rewrite_config(path, change):
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    config = json.loads(members["config.json"])
    change(config)
    members["config.json"] = json.dumps(config).encode()
    manifest = json.loads(members["manifest.json"])
    for name, data_ in members.items():
        if name != "manifest.json":
            manifest["members"][name] = {"sha256": hashlib.sha256(data_).hexdigest(), "size": len(data_)}
    members["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data_ in members.items():
            zf.writestr(name, data_)


@pytest.mark.parametrize("change, match", [
    (lambda c: c.update(shuffle=[1, 2]), "shuffle must be null"),
    (lambda c: c["shuffle"].update(rng={"bit_generator": "MT19937", "state": {}}),
     "shuffle.rng is not the state of a PCG64"),
    (lambda c: c["shuffle"]["rng"].update(state={"state": "x", "inc": 1}),
     "shuffle.rng is not a valid generator state"),
    (lambda c: c["shuffle"].update(extra=1), "shuffle must be null"),
    (lambda c: c["shuffle"]["pass"].update(position=-1), r"shuffle.pass.position must be an integer >= 1"),
    (lambda c: c["shuffle"]["pass"].update(position=True), r"shuffle.pass.position must be an integer"),
    (lambda c: c["shuffle"]["pass"].update(batch_size=10**30), r"shuffle.pass.batch_size must be an integer"),
    (lambda c: c["shuffle"]["pass"].update(position=4), "lies beyond a pass over 20 samples"),
    (lambda c: c["shuffle"]["pass"].pop("samples"), "shuffle.pass must be null or hold"),
    (lambda c: c["shuffle"]["pass"].update(rng="PCG64"), "shuffle.pass.rng is not the state"),
])
def test_a_bad_shuffling_state_is_a_model_file_error_naming_the_file(tmp_path, change, match):
    x, y = data("float32")
    model = make("adam", "float32")
    model.fit(x, y, epochs=1, **dict(FIT, steps_per_epoch=2))
    path = model.save(tmp_path / "model.glassnet")
    _rewrite_config(path, change)
    with pytest.raises(ModelFileError, match=match) as err:
        gn.load_model(path)
    assert str(path) in str(err.value)


# ----------------------------------------------------------------------
# BackupAndRestore: a killed run continues to the same final state
# ----------------------------------------------------------------------

class Kill(gn.callbacks.Callback):
    """Raises in epoch `epoch`: at its start, or after its batch `batch`."""

    def __init__(self, epoch, batch=None):
        super().__init__()
        self.at, self.batch, self.epoch = epoch, batch, None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        if epoch == self.at and self.batch is None:
            raise KeyboardInterrupt(f"killed at the start of epoch {epoch}")

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == self.at and batch == self.batch:
            raise RuntimeError(f"killed in epoch {self.epoch} after batch {batch}")


@pytest.mark.parametrize("epoch, batch", [(0, None), (1, None), (2, 0), (3, None), (4, 1)])
@pytest.mark.parametrize("steps_per_epoch", [None, 2])
def test_backup_and_restore_continues_a_killed_run_exactly(tmp_path, epoch, batch, steps_per_epoch):
    """Killed at epoch k (several k; with steps_per_epoch=2 every other backup is inside a pass), the
    next fit with the same folder, on a fresh model in a moved-on session, ends where one fit ends."""
    x, y = data("float32")
    fit = dict(FIT, steps_per_epoch=steps_per_epoch, epochs=5)
    reference = make("rmsprop_momentum_centered", "float32")
    reference.fit(x, y, **fit)
    model = make("rmsprop_momentum_centered", "float32")
    with pytest.raises((KeyboardInterrupt, RuntimeError), match="killed"):
        model.fit(x, y, **fit, callbacks=[gn.callbacks.BackupAndRestore(tmp_path / "backup"), Kill(epoch, batch)])
    state = json.loads((tmp_path / "backup" / "training_state.json").read_text())
    assert state["epoch"] == epoch
    fresh = make("rmsprop_momentum_centered", "float32", seed=123)
    gn.backend.global_rng().random(7)
    history = fresh.fit(x, y, **fit, callbacks=[gn.callbacks.BackupAndRestore(tmp_path / "backup")])
    assert history.epoch == list(range(epoch, 5))
    assert_same_state(fresh, reference)
    assert not (tmp_path / "backup").exists()


@pytest.mark.parametrize("change, match", [
    (lambda s: s.update(shuffle_pass={"rng": None, "position": 0, "samples": N, "batch_size": 6}),
     "shuffle.pass.position must be an integer >= 1"),
    (lambda s: s.update(shuffle_pass={"rng": None, "position": 1, "samples": N}), "shuffle.pass must be null or hold"),
    (lambda s: s.update(shuffle_rng=None, shuffle_pass={"rng": None, "position": 1, "samples": N, "batch_size": 6}),
     "shuffle_pass without a shuffle_rng"),
])
def test_a_tampered_pass_in_a_backup_is_refused_naming_the_state_file(tmp_path, change, match):
    x, y = data("float32")
    fit = dict(FIT, steps_per_epoch=2, epochs=3)
    with pytest.raises(KeyboardInterrupt):
        make("adam", "float32").fit(x, y, **fit, callbacks=[gn.callbacks.BackupAndRestore(tmp_path), Kill(2)])
    state = json.loads((tmp_path / "training_state.json").read_text())
    change(state)
    (tmp_path / "training_state.json").write_text(json.dumps(state))
    with pytest.raises(ValueError, match=match) as err:
        make("adam", "float32").fit(x, y, **fit, callbacks=[gn.callbacks.BackupAndRestore(tmp_path)])
    assert "training_state.json" in str(err.value)
