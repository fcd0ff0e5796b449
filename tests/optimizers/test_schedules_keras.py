"""The learning-rate schedules against Keras 3's, step by step, and optimizers training with them.

References: Keras 3 (on torch) evaluating the same schedule at the same steps, in float64 (Keras's
schedules compute in floatx; set to float64 here, so both sides compute the same formula exactly);
closed forms worked by hand; Keras training the same network with the same schedule.
"""
import json
import math
import zipfile

import numpy as np
import pytest

import glassnet as gn
from glassnet import optimizers as O
from glassnet.optimizers import schedules as S

STEPS = np.arange(0, 1000)

CASES = [
    ("ExponentialDecay", (0.1, 7, 0.6), {}),
    ("ExponentialDecay", (0.1, 7, 0.6), {"staircase": True}),
    ("InverseTimeDecay", (0.1, 10, 0.5), {}),
    ("InverseTimeDecay", (0.05, 7, 2.0), {"staircase": True}),
    ("PolynomialDecay", (0.1, 50), {}),
    ("PolynomialDecay", (0.1, 50, 0.01, 2.0), {}),
    ("PolynomialDecay", (0.1, 30, 0.001, 0.5, True), {}),
    ("PolynomialDecay", (0.1, 30), {"cycle": True, "power": 3.0}),
    ("PolynomialDecay", (0.001, 40), {"end_learning_rate": 0.1}),          # rising
    ("PiecewiseConstantDecay", ([10, 40, 100], [0.1, 0.05, 0.01, 0.001]), {}),
    ("CosineDecay", (0.1, 60), {"alpha": 0.1}),
    ("CosineDecay", (0.01, 60), {"warmup_target": 0.1, "warmup_steps": 20}),
    ("CosineDecay", (0.01, 60), {"warmup_target": 0.1, "warmup_steps": 20, "alpha": 0.2}),
    ("CosineDecay", (0.01, 60), {"warmup_steps": 20}),                      # no target: no warm-up
    ("CosineDecayRestarts", (0.1, 10), {}),
    ("CosineDecayRestarts", (0.1, 10), {"t_mul": 1.0, "m_mul": 0.5, "alpha": 0.1}),
    ("CosineDecayRestarts", (0.1, 7), {"t_mul": 3.0, "m_mul": 0.8, "alpha": 0.05}),
    ("CosineDecayRestarts", (0.1, 10), {"t_mul": 1.5, "m_mul": 0.9}),
]


@pytest.fixture
def keras64(keras):
    """Keras with floatx float64 (its schedules then compute in float64), restored afterwards."""
    before = keras.config.floatx()
    keras.config.set_floatx("float64")
    yield keras
    keras.config.set_floatx(before)


@pytest.mark.parametrize("name,args,kwargs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_schedule_equals_keras_at_every_step(keras64, name, args, kwargs):
    theirs = getattr(keras64.optimizers.schedules, name)(*args, **kwargs)
    ours = getattr(S, name)(*args, **kwargs)
    expected = np.array([float(theirs(int(s))) for s in STEPS])
    np.testing.assert_allclose(ours(STEPS), expected, rtol=1e-6, atol=0)          # an array of steps at once
    np.testing.assert_allclose([ours(int(s)) for s in STEPS[::37]], expected[::37], rtol=1e-6, atol=0)
    assert isinstance(ours(3), float)
    assert ours.get_config() == theirs.get_config()                                # names, arguments, defaults
    assert type(ours).from_config(theirs.get_config()).get_config() == ours.get_config()


def test_keras_schedules_exist_under_the_same_names(keras):
    theirs = {n for n in dir(keras.optimizers.schedules) if n[0].isupper()}
    ours = {n for n in dir(S) if n[0].isupper()}
    assert theirs <= ours
    assert O.InverseTimeDecay is S.InverseTimeDecay and O.CosineDecayRestarts is S.CosineDecayRestarts


def test_inverse_time_decay_closed_form():
    s = S.InverseTimeDecay(0.3, decay_steps=100, decay_rate=2.0)
    assert s(0) == 0.3
    assert s(50) == pytest.approx(0.3 / 2, rel=1e-15)         # 1 + 2 * 0.5
    assert s(150) == pytest.approx(0.3 / 4, rel=1e-15)
    st = S.InverseTimeDecay(0.3, 100, 2.0, staircase=True)
    assert [st(k) for k in (0, 99, 100, 199, 250)] == pytest.approx([0.3, 0.3, 0.1, 0.1, 0.06], rel=1e-15)


def test_polynomial_decay_closed_form_and_cycle():
    s = S.PolynomialDecay(1.0, decay_steps=10, end_learning_rate=0.0, power=2.0)
    assert [s(k) for k in (0, 5, 10, 20)] == pytest.approx([1.0, 0.25, 0.0, 0.0], abs=1e-15)
    c = S.PolynomialDecay(1.0, 10, end_learning_rate=0.0, power=1.0, cycle=True)
    # after step 10 the decay runs over 20 steps, after 20 over 30, ...: restarts with a slower slope
    assert [c(k) for k in (0, 5, 10, 11, 15, 20, 21, 30)] == \
        pytest.approx([1.0, 0.5, 0.0, 1 - 11 / 20, 0.25, 0.0, 1 - 21 / 30, 0.0], abs=1e-15)


def test_cosine_decay_restarts_periods_closed_form():
    s = S.CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=2.0, m_mul=0.5, alpha=0.0)
    # periods: steps 0-9 (10 steps), 10-29 (20 steps, peak 0.5), 30-69 (40 steps, peak 0.25), ...
    assert s.restart(0) == (0, 0.0) and s.restart(10) == (1, 0.0) and s.restart(30) == (2, 0.0)
    assert s.restart(20) == (1, 0.5) and s.restart(69) == (2, pytest.approx(39 / 40))
    assert [s(k) for k in (0, 5, 10, 20, 30, 50)] == pytest.approx([1.0, 0.5, 0.5, 0.25, 0.25, 0.125], rel=1e-14)
    assert s(9) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.9)), rel=1e-14)
    # at each restart exactly, the new period (log's rounding is corrected), over many periods
    t3 = S.CosineDecayRestarts(1.0, 1, t_mul=3.0, m_mul=0.5)
    starts = [(3 ** i - 1) // 2 for i in range(12)]              # 0, 1, 4, 13, 40, ...
    assert [t3.restart(k)[0] for k in starts] == list(range(12))
    assert [t3(k) for k in starts] == pytest.approx([0.5 ** i for i in range(12)], rel=1e-12)
    alpha = S.CosineDecayRestarts(1.0, 10, m_mul=0.5, alpha=0.2)
    assert alpha(10) == pytest.approx(0.8 * 0.5 + 0.2, rel=1e-15)    # alpha is not scaled by m_mul (Keras)


def test_cosine_decay_warmup_closed_form():
    s = S.CosineDecay(0.0001, decay_steps=100, warmup_target=0.01, warmup_steps=10)
    assert s(5) == pytest.approx(0.0001 + 0.5 * (0.01 - 0.0001), rel=1e-15)
    assert s(10) == pytest.approx(0.01, rel=1e-15)
    assert s(60) == pytest.approx(0.005, rel=1e-14)
    assert s(110) == s(500) == pytest.approx(0.0, abs=1e-18)


@pytest.mark.parametrize("bad", [
    lambda: S.InverseTimeDecay(0.1, 0, 0.5),
    lambda: S.InverseTimeDecay(0.1, 10, -1.0),
    lambda: S.PolynomialDecay(0.1, 10, end_learning_rate=-0.1),
    lambda: S.PolynomialDecay(0.1, 10, power=0),
    lambda: S.PolynomialDecay(float("inf"), 10),
    lambda: S.CosineDecayRestarts(0.1, 0),
    lambda: S.CosineDecayRestarts(0.1, 10, t_mul=0.0),
    lambda: S.CosineDecayRestarts(0.1, 10, t_mul=0.5),             # periods would shrink to nothing
    lambda: S.CosineDecayRestarts(0.1, 10, m_mul=-1.0),
    lambda: S.CosineDecayRestarts(0.1, 10, alpha=2.0),
    lambda: S.CosineDecay(0.1, 10, warmup_target=-1.0),
    lambda: S.CosineDecay(0.1, 10, warmup_steps=-5),
    lambda: S.ExponentialDecay(0.1, 10, 0.5)(-1),
    lambda: S.ExponentialDecay(0.1, 10, 0.5)("3"),
    lambda: S.PiecewiseConstantDecay([1, 2], [0.1, 0.01, float("nan")]),
])
def test_new_schedules_reject_invalid_arguments(bad):
    with pytest.raises(ValueError):
        bad()


def test_serialize_and_deserialize_round_trip():
    for name, args, kwargs in CASES:
        schedule = getattr(S, name)(*args, **kwargs)
        again = S.deserialize(json.loads(json.dumps(S.serialize(schedule))))
        assert type(again) is type(schedule)
        np.testing.assert_array_equal(again(STEPS[:200]), schedule(STEPS[:200]))


# ---------------------------------------------------------------------------
# Training with a schedule
# ---------------------------------------------------------------------------

def _twins(keras, optimizer_pair, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(64, 5)).astype(np.float32)
    y = (x[:, :1] * 0.7 - x[:, 1:2] + 0.1 * rng.normal(size=(64, 1))).astype(np.float32)
    theirs = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)])
    ours = gn.Sequential([gn.layers.Dense(8, activation="tanh", input_shape=(5,)), gn.layers.Dense(1)])
    ours.set_weights(theirs.get_weights())
    theirs.compile(optimizer=optimizer_pair[0], loss="mse")
    ours.compile(optimizer=optimizer_pair[1], loss="mse")
    return theirs, ours, x, y


@pytest.mark.parametrize("make", [
    lambda lib: lib.optimizers.SGD(lib.optimizers.schedules.InverseTimeDecay(0.2, 4, 1.0), momentum=0.5),
    lambda lib: lib.optimizers.SGD(lib.optimizers.schedules.PolynomialDecay(0.2, 6, 0.01, cycle=True)),
    lambda lib: lib.optimizers.Adam(lib.optimizers.schedules.CosineDecayRestarts(0.05, 3, t_mul=2.0, m_mul=0.7)),
    lambda lib: lib.optimizers.SGD(lib.optimizers.schedules.PiecewiseConstantDecay([3, 7], [0.2, 0.05, 0.01])),
], ids=["inverse-time", "polynomial-cycle", "cosine-restarts", "piecewise"])
def test_training_with_a_schedule_follows_keras(keras, make):
    theirs, ours, x, y = _twins(keras, (make(keras), make(gn)))
    h_theirs = theirs.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0)
    h_ours = ours.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0)
    for a, b in zip(theirs.get_weights(), ours.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h_ours.history["loss"], h_theirs.history["loss"], rtol=1e-4)
    assert h_ours.history["loss"][-1] < h_ours.history["loss"][0]
    assert ours.optimizer.iterations == 16
    assert float(ours.optimizer.learning_rate) == pytest.approx(
        float(ours.optimizer._learning_rate(16)), rel=1e-15)


def test_schedule_survives_glassnet_and_keras_files(keras, tmp_path):
    schedule = S.InverseTimeDecay(0.05, decay_steps=3, decay_rate=0.5)
    theirs, ours, x, y = _twins(keras, ("sgd", O.Adam(schedule)))
    ours.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    loaded = {}
    for name in ("m.glassnet", "m.keras"):
        ours.save(tmp_path / name)
        model = loaded[name] = gn.load_model(tmp_path / name)
        assert type(model.optimizer._learning_rate) is S.InverseTimeDecay
        assert model.optimizer._learning_rate.get_config() == schedule.get_config()
        assert model.optimizer.iterations == 8
        assert float(model.optimizer.learning_rate) == pytest.approx(0.05 / (1 + 0.5 * 8 / 3), rel=1e-12)
        model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        lr = json.loads(zf.read("config.json"))["compile_config"]["optimizer"]["config"]["learning_rate"]
    assert lr["class_name"] == "InverseTimeDecay" and lr["config"]["name"] == "InverseTimeDecay"
    k = keras.saving.load_model(tmp_path / "m.keras")                   # Keras reads the schedule and the state
    assert type(k.optimizer._learning_rate).__name__ == "InverseTimeDecay"
    assert int(k.optimizer.iterations) == 8
    ours.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)      # training on from each file
    k.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)         # equals training on in memory
    for a, b in zip(k.get_weights(), ours.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)
    for model in loaded.values():
        for a, b in zip(model.get_weights(), ours.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_keras_written_schedule_loads(keras, tmp_path):
    theirs, ours, x, y = _twins(keras, (keras.optimizers.Adam(
        keras.optimizers.schedules.PolynomialDecay(0.02, 5, 0.001, power=2.0, cycle=True)), "sgd"))
    theirs.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    theirs.save(tmp_path / "k.keras")
    loaded = gn.load_model(tmp_path / "k.keras")
    assert loaded.compiled and type(loaded.optimizer._learning_rate) is S.PolynomialDecay
    assert loaded.optimizer._learning_rate.cycle and loaded.optimizer.iterations == 8
    np.testing.assert_allclose(loaded.optimizer.get_state()["slots"][0]["m"][:5],
                               np.asarray(theirs.optimizer.variables[1].numpy()).reshape(-1)[:5], rtol=1e-6)
    theirs.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    loaded.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(theirs.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)


def test_step_decay_is_written_to_keras_files_as_the_staircase_it_equals(keras, tmp_path):
    model = gn.Sequential([gn.layers.Dense(2, input_shape=(3,))])
    model.compile(optimizer=O.SGD(S.StepDecay(0.1, 4, 0.5)), loss="mse")
    model.save(tmp_path / "s.keras")
    k = keras.saving.load_model(tmp_path / "s.keras")
    ours = gn.load_model(tmp_path / "s.keras").optimizer._learning_rate
    assert type(ours) is S.ExponentialDecay and ours.staircase
    np.testing.assert_allclose([float(k.optimizer._learning_rate(s)) for s in range(20)],
                               S.StepDecay(0.1, 4, 0.5)(np.arange(20)), rtol=1e-6)
