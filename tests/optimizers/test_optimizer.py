"""The Optimizer base: apply_gradients, get, validation, config, dtype, in-place updates, state."""
import json

import numpy as np
import pytest

from glassnet import optimizers as O
from optimizers.optimizer_helpers import f64, _grad_sequence


# ---------------------------------------------------------------------------
# API: apply_gradients, get, validation, config, dtype, in-place, state
# ---------------------------------------------------------------------------

def test_apply_gradients_zip_form_equals_apply():
    a1, b1 = f64(1.0, 2.0), f64(-1.0)
    a2, b2 = a1.copy(), b1.copy()
    ga, gb = f64(0.5, -0.5), f64(2.0)
    o1, o2 = O.Adam(0.1), O.Adam(0.1)
    for _ in range(3):
        o1.apply_gradients(zip([ga, gb], [a1, b1]))
        o2.apply([ga, gb], [a2, b2])
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(b1, b2)
    assert o1.iterations == 3
    w = f64(1.0)
    O.SGD(0.5).apply_gradients([(f64(1.0), w)])
    np.testing.assert_allclose(w, [0.5])


def test_get_returns_fresh_instances_with_keras_defaults():
    a, b = O.get("adam"), O.get("Adam")
    assert isinstance(a, O.Adam) and a is not b
    assert a.iterations == 0
    assert (a.learning_rate, a.beta_1, a.beta_2, a.epsilon, a.amsgrad) == (0.001, 0.9, 0.999, 1e-7, False)
    assert a.clipnorm is None and a.clipvalue is None and a.global_clipnorm is None
    s = O.get("sgd")
    assert (type(s), s.learning_rate, s.momentum, s.nesterov) == (O.SGD, 0.01, 0.0, False)
    ag = O.get("adagrad")
    assert (ag.learning_rate, ag.initial_accumulator_value, ag.epsilon) == (0.001, 0.1, 1e-7)
    r = O.get("rmsprop")
    assert (r.learning_rate, r.rho, r.momentum, r.epsilon, r.centered) == (0.001, 0.9, 0.0, 1e-7, False)
    aw = O.get("adamw")
    assert (type(aw), aw.learning_rate, aw.weight_decay, aw.beta_1, aw.beta_2, aw.epsilon) == \
        (O.AdamW, 0.001, 0.004, 0.9, 0.999, 1e-7)
    inst = O.SGD(0.3)
    assert O.get(inst) is inst
    assert isinstance(O.get(O.RMSprop), O.RMSprop)
    # a used optimizer's state does not leak into the next get()
    w = f64(1.0)
    a.apply([f64(1.0)], [w])
    assert O.get("adam").iterations == 0


def test_unknown_name_lists_known_ones():
    with pytest.raises(ValueError) as err:
        O.get("nadamax")
    message = str(err.value)
    assert "nadamax" in message
    for known in ("sgd", "adagrad", "rmsprop", "adam", "adamw"):
        assert known in message
    with pytest.raises(TypeError):
        O.get(3)


@pytest.mark.parametrize("make", [
    lambda: O.SGD(learning_rate=0.0),
    lambda: O.SGD(learning_rate=-0.01),
    lambda: O.Adam(learning_rate=float("nan")),
    lambda: O.Adam(learning_rate=float("inf")),
    lambda: O.SGD(momentum=-0.1),
    lambda: O.SGD(momentum=1.0),
    lambda: O.SGD(momentum=float("nan")),
    lambda: O.RMSprop(momentum=1.5),
    lambda: O.RMSprop(rho=1.0),
    lambda: O.Adam(beta_1=1.0),
    lambda: O.Adam(beta_1=-0.1),
    lambda: O.Adam(beta_2=1.0),
    lambda: O.AdamW(beta_1=1.0),
    lambda: O.AdamW(weight_decay=-0.1),
    lambda: O.Adam(epsilon=-1e-7),
    lambda: O.Adagrad(initial_accumulator_value=-0.1),
    lambda: O.Adagrad(epsilon=float("nan")),
])
def test_invalid_hyper_parameters_raise(make):
    with pytest.raises(ValueError):
        make()


def test_numpy_scalars_are_accepted_as_hyper_parameters():
    opt = O.SGD(np.float32(0.5), momentum=np.int64(0))
    assert opt.learning_rate == 0.5 and opt.momentum == 0.0
    assert O.Adam(np.float64(0.01), beta_1=np.float32(0.5)).beta_1 == 0.5


@pytest.mark.parametrize("opt", [
    O.SGD(0.05, momentum=0.9, nesterov=True, clipvalue=0.5),
    O.Adagrad(0.02, initial_accumulator_value=0.3, epsilon=1e-6),
    O.RMSprop(0.003, rho=0.8, momentum=0.1, epsilon=1e-5, centered=True, clipnorm=2.0),
    O.Adam(0.004, beta_1=0.85, beta_2=0.95, epsilon=1e-6, amsgrad=True, global_clipnorm=3.0),
    O.AdamW(0.002, weight_decay=0.01, amsgrad=True),
    O.SGD(O.ExponentialDecay(0.1, 100, 0.9, staircase=True)),
    O.Adam(O.CosineDecay(0.01, 1000, alpha=0.1)),
    O.RMSprop(O.StepDecay(0.01, 10, 0.3)),
    O.AdamW(O.PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001])),
], ids=lambda o: type(o).__name__)
def test_get_config_from_config_round_trip(opt):
    config = opt.get_config()
    config = json.loads(json.dumps(config))          # JSON-serialisable
    clone = type(opt).from_config(config)
    assert type(clone) is type(opt)
    assert clone.get_config() == opt.get_config()
    again = O.deserialize(json.loads(json.dumps(O.serialize(opt))))
    assert again.get_config() == opt.get_config()
    # the clones step exactly like the original
    ws = [f64(0.5, -1.5, 2.0) for _ in range(3)]
    g = f64(0.3, -0.6, 0.9)
    for o, w in zip((opt, clone, again), ws):
        fresh = type(o).from_config(o.get_config())    # do not mutate the parametrized object
        for _ in range(3):
            fresh.apply([g], [w])
    np.testing.assert_array_equal(ws[0], ws[1])
    np.testing.assert_array_equal(ws[0], ws[2])


def test_from_config_rebuilds_the_schedule():
    opt = O.SGD(O.ExponentialDecay(0.1, 10, 0.5))
    clone = O.SGD.from_config(json.loads(json.dumps(opt.get_config())))
    assert isinstance(clone._learning_rate, O.ExponentialDecay)
    clone.iterations = 10
    assert clone.learning_rate == pytest.approx(0.05, rel=1e-15)


@pytest.mark.parametrize("opt", [
    O.SGD(0.1), O.SGD(0.1, momentum=0.9, nesterov=True), O.Adagrad(0.1), O.RMSprop(0.01, momentum=0.5, centered=True),
    O.Adam(0.01, amsgrad=True), O.AdamW(0.01), O.SGD(0.1, clipvalue=0.1), O.Adam(0.01, clipnorm=0.1),
    O.RMSprop(0.01, global_clipnorm=0.1),
], ids=lambda o: repr(o)[:40])
def test_float32_variables_stay_float32(opt):
    rng = np.random.default_rng(0)
    w = rng.normal(size=(4, 3)).astype(np.float32)
    b = np.zeros(3, np.float32)
    ref = [w, b]
    for _ in range(3):
        grads = [rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=3).astype(np.float32)]
        opt.apply(grads, [w, b])
    assert w.dtype == np.float32 and b.dtype == np.float32
    assert w is ref[0] and b is ref[1]
    for slot in opt.slots:
        for value in slot.values():
            assert value.dtype == np.float32
    assert np.all(np.isfinite(w)) and np.any(b != 0)


@pytest.mark.parametrize("name", ["sgd", "adagrad", "rmsprop", "adam", "adamw"])
def test_updates_are_in_place_even_through_views(name):
    flat = np.arange(1.0, 7.0)
    W, b = flat[:4].reshape(2, 2), flat[4:]       # views into one buffer, as inside a model
    before = flat.copy()
    opt = O.get(name)
    opt.learning_rate = 0.1
    opt.apply([np.ones((2, 2)), np.ones(2)], [W, b])
    assert np.shares_memory(W, flat) and np.shares_memory(b, flat)
    assert np.all(flat < before)                   # every element of the shared buffer moved down


def test_state_kept_for_a_new_list_holding_the_same_arrays():
    grads = _grad_sequence(4, 3, seed=7)
    w_ref = f64(1.0, 2.0, 3.0)
    ref_opt = O.Adam(0.1)
    for g in grads:
        ref_opt.apply([g], [w_ref])

    w = f64(1.0, 2.0, 3.0)
    opt = O.Adam(0.1)
    for g in grads:
        opt.apply([g], list([w]))                   # a new list object every call
    np.testing.assert_array_equal(w, w_ref)
    assert opt.iterations == 4

    # a fresh optimizer (no state) would give something else: the check above can fail
    w_fresh = f64(1.0, 2.0, 3.0)
    for g in grads:
        O.Adam(0.1).apply([g], [w_fresh])
    assert not np.allclose(w_fresh, w_ref, rtol=1e-6)


def test_state_kept_when_variables_are_replaced_by_same_shaped_arrays():
    grads = _grad_sequence(4, 3, seed=8)
    w_ref = f64(1.0, 2.0, 3.0)
    ref_opt = O.SGD(0.1, momentum=0.9)
    for g in grads:
        ref_opt.apply([g], [w_ref])
    w = f64(1.0, 2.0, 3.0)
    opt = O.SGD(0.1, momentum=0.9)
    for g in grads:
        w = w.copy()                                 # e.g. a model that repacked its weights
        opt.apply([g], [w])
    np.testing.assert_array_equal(w, w_ref)
    with pytest.raises(ValueError):
        opt.apply([np.ones(4)], [np.zeros(4)])       # other shapes: refuse, do not mix state


def test_apply_without_variables_reuses_the_built_ones():
    w = f64(1.0)
    opt = O.SGD(0.5)
    with pytest.raises(ValueError):
        opt.apply([f64(1.0)])
    opt.apply([f64(1.0)], [w])
    opt.apply([f64(1.0)])
    np.testing.assert_allclose(w, [0.0])


def test_mismatched_gradients_raise():
    opt = O.Adam()
    with pytest.raises(ValueError):
        opt.apply([f64(1.0), f64(1.0)], [f64(0.0)])
    with pytest.raises(ValueError):
        opt.apply([f64(1.0, 2.0)], [f64(0.0)])
