"""Traces of graph models: shared layers (a record per call), several inputs, several outputs.
Each traced step leaves the weights bit for bit as train_on_batch does, and what the trace shows
adds up to the step's own numbers."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.layers import Add, Concatenate, Dense
from reference import saved_random_state


def _twins(build, loss, **compile_args):
    """Two copies of the same model with the same weights, compiled alike (SGD with momentum)."""
    with saved_random_state():
        gn.set_random_seed(4)
        a = build()
    b = gn.models.Functional.from_config(a.get_config())
    b.set_weights(a.get_weights())
    for m in (a, b):
        m.compile(optimizer=gn.optimizers.SGD(0.1, momentum=0.9), loss=loss, **compile_args)
    return a, b


def _same_weights(a, b):
    return all(np.array_equal(p, q) for p, q in zip(a.get_weights(), b.get_weights()))


def _shared_model():
    i = gn.Input(shape=(3,), dtype="float64")
    shared = Dense(3, activation="tanh", name="shared", dtype="float64")
    h = Add(dtype="float64")([shared(i), shared(shared(i))])
    return gn.Model(i, Dense(2, activation="softmax", name="out", dtype="float64")(h))


def test_a_shared_layer_is_traced_once_per_call_and_its_gradient_is_their_sum():
    traced, plain = _twins(_shared_model, "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 3)), rng.integers(0, 2, 5)
    _, grads = traced.compute_gradients(x, y)
    trace = traced.trace(x, y)
    plain.train_on_batch(x, y)
    assert _same_weights(traced, plain)
    calls = [layer.name for layer in trace.layers]
    assert sorted(c for c in calls if c.startswith("shared")) == ["shared", "shared (call 2)", "shared (call 3)"]
    assert len(calls) == 6 and calls[-1] == "out"
    per_call = [layer.dW for layer in trace.layers if layer.name.startswith("shared")]
    np.testing.assert_allclose(sum(per_call), grads[0], rtol=1e-12, atol=1e-15)
    assert all(np.abs(dw).max() > 0 for dw in per_call)
    assert "shared (call 2)" in str(trace)


def test_a_model_with_two_inputs_traces_both_inputs():
    def build():
        a, b = gn.Input(shape=(2,), name="a", dtype="float64"), gn.Input(shape=(3,), name="b", dtype="float64")
        h = Dense(4, activation="relu", dtype="float64")(Concatenate(dtype="float64")([a, b]))
        return gn.Model([a, b], Dense(1, activation="sigmoid", dtype="float64")(h))
    traced, plain = _twins(build, "binary_crossentropy")
    rng = np.random.default_rng(1)
    xa, xb, y = rng.normal(size=(4, 2)), rng.normal(size=(4, 3)), rng.integers(0, 2, (4, 1)).astype(float)
    loss_before = plain.test_on_batch([xa, xb], y)
    trace = traced.trace({"a": xa, "b": xb}, y)
    plain.train_on_batch([xa, xb], y)
    assert _same_weights(traced, plain)
    assert trace.loss == loss_before and trace.architecture == "2+3-4-1"
    np.testing.assert_array_equal(trace.x[1], xb)
    text = str(trace)
    assert "x[a]" in text and "x[b]" in text
    assert trace.layers[-1].fused                       # sigmoid + binary cross-entropy from the logits


def test_a_model_with_two_outputs_traces_each_loss_and_both_heads():
    def build():
        i = gn.Input(shape=(4,), dtype="float64")
        h = Dense(3, activation="relu", name="h", dtype="float64")(i)
        kind = Dense(3, activation="softmax", name="kind", dtype="float64")(h)
        return gn.Model(i, {"kind": kind, "hidden": h})
    traced, plain = _twins(build, {"kind": "sparse_categorical_crossentropy", "hidden": "mse"},
                           loss_weights={"hidden": 0.5})
    rng = np.random.default_rng(2)
    x, labels, target = rng.normal(size=(6, 4)), rng.integers(0, 3, 6), rng.uniform(size=(6, 3))
    y = {"kind": labels, "hidden": target}
    logs = plain.test_on_batch(x, y, return_dict=True)
    trace = traced.trace(x, y)
    plain.train_on_batch(x, y)
    assert _same_weights(traced, plain)
    assert trace.output_losses == {"kind": (pytest.approx(logs["kind_loss"], rel=1e-12), 1.0),
                                   "hidden": (pytest.approx(logs["hidden_loss"], rel=1e-12), 0.5)}
    assert trace.loss == pytest.approx(logs["loss"], rel=1e-12)
    hidden, kind = trace["h"], trace["kind"]
    assert kind.fused and not hidden.fused and hidden.role == kind.role == "output"
    # h is an output and feeds 'kind': its dL/da is its own loss's gradient plus what 'kind' sends back
    own = 0.5 * 2 * (hidden.output - target) / target.size
    np.testing.assert_allclose(hidden.grad_output, own + kind.grad_input, rtol=1e-12)
    np.testing.assert_array_equal(trace.outputs[0], hidden.output)      # a dict's outputs by sorted key
    np.testing.assert_array_equal(trace.outputs[1], kind.output)
    text = str(trace)
    assert "L[hidden]" in text and "t[kind]" in text


def test_a_traced_step_without_update_leaves_a_graph_model_as_it_was():
    traced, _ = _twins(_shared_model, "sparse_categorical_crossentropy")
    before = traced.get_weights()
    rng = np.random.default_rng(3)
    traced.trace(rng.normal(size=(3, 3)), rng.integers(0, 2, 3), update=False)
    assert all(np.array_equal(a, b) for a, b in zip(before, traced.get_weights()))
