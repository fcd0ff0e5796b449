"""Reference tests for glassnet.losses.

Per-sample functions against hand-worked numbers and PyTorch (float64);
every Loss class's gradient and fused logits backward against float64
central differences; stability, names, the study notes' functions, and
label checks.
"""

import numpy as np
import pytest

import glassnet as gn
from glassnet import losses as L
from glassnet.activations import sigmoid, softmax
from reference import central_difference, no_numerical_warnings, relative_error

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the NumPy references still run
    torch = F = None

requires_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
RTOL = 1e-6


def _gradient_of_copy(f, x, h=1e-6):
    return central_difference(f, np.array(x, dtype=np.float64), h)


def one_hot(labels, k):
    return np.eye(k)[labels]


def make_batch(n=4, k=5, seed=0):
    """Logits z, labels, one-hot targets, probabilities away from the clip bounds, binary targets."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 2, size=(n, k))
    labels = rng.integers(0, k, size=n)
    probs = rng.uniform(0.05, 0.95, size=(n, k))
    binary = rng.integers(0, 2, size=(n, k)).astype(np.float64)
    return z, labels, one_hot(labels, k), probs, binary


# --------------------------------------------------------------------------
# Per-sample functions: hand-worked numbers
# --------------------------------------------------------------------------

def test_mean_squared_error_hand_worked():
    np.testing.assert_allclose(L.mean_squared_error([[0.0, 1.0]], [[0.5, 0.5]]), [0.25])
    np.testing.assert_allclose(L.mean_squared_error([[0, 0], [1, 1]], [[1, 1], [1, 3]]), [1.0, 2.0])


def test_mean_absolute_error_hand_worked():
    np.testing.assert_allclose(L.mean_absolute_error([[1.0, 2.0, 3.0]], [[2.0, 2.0, 1.0]]), [1.0])


def test_categorical_crossentropy_hand_worked():
    t, p = [[0.0, 1.0, 0.0]], [[0.1, 0.6, 0.3]]
    np.testing.assert_allclose(L.categorical_crossentropy(t, p), [-np.log(0.6)], rtol=1e-14)
    np.testing.assert_allclose(L.sparse_categorical_crossentropy([1], p), [-np.log(0.6)], rtol=1e-14)
    # from logits: z = log p gives the same loss, since p sums to 1
    np.testing.assert_allclose(L.categorical_crossentropy(t, np.log(p), from_logits=True), [-np.log(0.6)],
                               rtol=1e-14)


def test_binary_crossentropy_hand_worked():
    expected = (-np.log(0.8) - np.log(0.6)) / 2
    np.testing.assert_allclose(L.binary_crossentropy([[1.0, 0.0]], [[0.8, 0.4]]), [expected], rtol=1e-14)
    np.testing.assert_allclose(L.binary_crossentropy([[1.0]], [[0.0]], from_logits=True), [np.log(2)], rtol=1e-15)


def test_loss_classes_average_over_the_batch():
    assert L.MeanSquaredError()([[0.0, 1.0], [0.0, 0.0]], [[0.5, 0.5], [1.0, 1.0]]) == pytest.approx(0.625)
    assert isinstance(L.MeanSquaredError()([[0.0]], [[1.0]]), float)


# --------------------------------------------------------------------------
# Per-sample functions and Loss classes against PyTorch, float64
# --------------------------------------------------------------------------

@requires_torch
def test_mse_and_mae_match_torch():
    _, _, _, p, t = make_batch()
    tp, tt = torch.tensor(p), torch.tensor(t)
    np.testing.assert_allclose(L.mean_squared_error(t, p), F.mse_loss(tp, tt, reduction="none").mean(-1), rtol=1e-14)
    np.testing.assert_allclose(L.mean_absolute_error(t, p), F.l1_loss(tp, tt, reduction="none").mean(-1), rtol=1e-14)
    assert L.MeanSquaredError()(t, p) == pytest.approx(F.mse_loss(tp, tt).item(), rel=1e-14)


@requires_torch
def test_categorical_crossentropy_matches_torch():
    z, labels, t, _, _ = make_batch()
    tz, tl = torch.tensor(z), torch.tensor(labels)
    expected = F.cross_entropy(tz, tl, reduction="none").numpy()
    np.testing.assert_allclose(L.categorical_crossentropy(t, z, from_logits=True), expected, rtol=1e-13)
    np.testing.assert_allclose(L.sparse_categorical_crossentropy(labels, z, from_logits=True), expected, rtol=1e-13)
    # from probabilities: torch's nll_loss on log-probabilities
    p = softmax(z)
    nll = F.nll_loss(torch.log(torch.tensor(p)), tl, reduction="none").numpy()
    np.testing.assert_allclose(L.categorical_crossentropy(t, p), nll, rtol=1e-12)
    np.testing.assert_allclose(L.sparse_categorical_crossentropy(labels, p), nll, rtol=1e-12)
    assert L.CategoricalCrossentropy(from_logits=True)(t, z) == pytest.approx(F.cross_entropy(tz, tl).item(),
                                                                              rel=1e-13)


@requires_torch
def test_binary_crossentropy_matches_torch():
    z, _, _, p, t = make_batch()
    expected = F.binary_cross_entropy(torch.tensor(p), torch.tensor(t), reduction="none").mean(-1).numpy()
    np.testing.assert_allclose(L.binary_crossentropy(t, p), expected, rtol=1e-13)
    expected = F.binary_cross_entropy_with_logits(torch.tensor(z), torch.tensor(t), reduction="none").mean(-1)
    np.testing.assert_allclose(L.binary_crossentropy(t, z, from_logits=True), expected.numpy(), rtol=1e-13)


@requires_torch
@pytest.mark.parametrize("name, torch_loss", [
    ("mean_squared_error", lambda p, t: F.mse_loss(p, t)),
    ("categorical_crossentropy", lambda p, t: -(t * torch.log(p)).sum(-1).mean()),
    ("binary_crossentropy", lambda p, t: F.binary_cross_entropy(p, t)),
])
def test_loss_class_gradient_matches_torch_autograd(name, torch_loss):
    _, labels, onehot, p, binary = make_batch()
    t = onehot if name == "categorical_crossentropy" else binary
    tp = torch.tensor(p, requires_grad=True)
    torch_loss(tp, torch.tensor(t)).backward()
    np.testing.assert_allclose(L.get(name).gradient(t, p), tp.grad.numpy(), rtol=1e-12)


# --------------------------------------------------------------------------
# Gradients against central differences
# --------------------------------------------------------------------------

def _targets_for(loss, labels, onehot, binary):
    if loss.sparse_labels:
        return labels
    if isinstance(loss, L.BinaryCrossentropy):
        return binary
    return onehot


ALL_LOSSES = [L.MeanSquaredError(), L.MeanAbsoluteError(), L.CategoricalCrossentropy(),
              L.SparseCategoricalCrossentropy(), L.BinaryCrossentropy(),
              L.CategoricalCrossentropy(from_logits=True), L.SparseCategoricalCrossentropy(from_logits=True),
              L.BinaryCrossentropy(from_logits=True)]


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=repr)
def test_gradient_matches_central_differences(loss):
    z, labels, onehot, p, binary = make_batch()
    y_true = _targets_for(loss, labels, onehot, binary)
    y_pred = z if loss.from_logits else p
    if isinstance(loss, L.MeanAbsoluteError):
        assert np.min(np.abs(y_pred - y_true)) > 1e-3      # away from the kink of |.|
    numeric = _gradient_of_copy(lambda v: loss(y_true, v), y_pred)
    analytic = loss.gradient(y_true, y_pred)
    assert analytic.shape == y_pred.shape
    assert relative_error(analytic, numeric) < RTOL


FUSED = [(L.CategoricalCrossentropy(), softmax), (L.SparseCategoricalCrossentropy(), softmax),
         (L.BinaryCrossentropy(), sigmoid)]


@pytest.mark.parametrize("loss, activation", FUSED, ids=lambda v: getattr(v, "__name__", repr(v)))
def test_logits_forward_backward_matches_central_differences(loss, activation):
    z, labels, onehot, _, binary = make_batch()
    y_true = _targets_for(loss, labels, onehot, binary)
    value, dz, p = loss.logits_forward_backward(y_true, z)
    np.testing.assert_allclose(p, activation(z), rtol=1e-14)
    assert value == pytest.approx(loss(y_true, activation(z)), rel=1e-12)
    numeric = _gradient_of_copy(lambda v: loss.logits_forward_backward(y_true, v)[0], z)
    assert relative_error(dz, numeric) < RTOL


def test_fused_softmax_gradient_is_exactly_p_minus_t_over_n():
    z, labels, onehot, _, binary = make_batch(n=6, k=4)
    n = z.shape[0]
    expected = (softmax(z) - onehot) / n
    np.testing.assert_array_equal(L.CategoricalCrossentropy().logits_forward_backward(onehot, z)[1], expected)
    np.testing.assert_array_equal(L.SparseCategoricalCrossentropy().logits_forward_backward(labels, z)[1], expected)
    np.testing.assert_array_equal(L.CategoricalCrossentropy(from_logits=True).gradient(onehot, z), expected)
    np.testing.assert_array_equal(L.BinaryCrossentropy().logits_forward_backward(binary, z)[1],
                                  (sigmoid(z) - binary) / z.size)


def test_fused_losses_match_per_sample_functions():
    z, labels, onehot, _, binary = make_batch()
    assert L.CategoricalCrossentropy().logits_forward_backward(onehot, z)[0] == pytest.approx(
        np.mean(L.categorical_crossentropy(onehot, z, from_logits=True)), rel=1e-13)
    assert L.SparseCategoricalCrossentropy().logits_forward_backward(labels[:, None], z)[0] == pytest.approx(
        np.mean(L.sparse_categorical_crossentropy(labels, z, from_logits=True)), rel=1e-13)
    assert L.BinaryCrossentropy().logits_forward_backward(binary, z)[0] == pytest.approx(
        np.mean(L.binary_crossentropy(binary, z, from_logits=True)), rel=1e-13)


# --------------------------------------------------------------------------
# Stability
# --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_losses_from_extreme_logits_are_finite_and_exact(dtype):
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]], dtype=dtype)
    labels = np.array([0, 0])
    with no_numerical_warnings():
        cce, dz_cce, _ = L.CategoricalCrossentropy().logits_forward_backward(one_hot(labels, 3), z)
        scce, dz_scce, _ = L.SparseCategoricalCrossentropy().logits_forward_backward(labels, z)
        per_sample = L.sparse_categorical_crossentropy(labels, z, from_logits=True)
        bce, dz_bce, _ = L.BinaryCrossentropy().logits_forward_backward(np.array([[1.0, 1, 0], [0, 1, 1]]), z)
    np.testing.assert_allclose(per_sample, [0.0, 2000.0], rtol=1e-6, atol=1e-6)
    assert cce == pytest.approx(1000.0) and scce == pytest.approx(1000.0)
    # BCE per unit: softplus(z) - z t: 0, 1000, log 2 | 0, 1000, 0  -> mean
    assert bce == pytest.approx((2000 + np.log(2)) / 6, rel=1e-6)
    for dz in (dz_cce, dz_scce, dz_bce):
        assert np.all(np.isfinite(dz))
    np.testing.assert_allclose(dz_scce, [[0, 0, 0], [-0.5, 0, 0.5]], atol=1e-7)


def test_probabilities_at_zero_and_one_are_clipped():
    with no_numerical_warnings():
        cce = L.categorical_crossentropy([[1.0, 0.0]], [[0.0, 1.0]])
        bce = L.binary_crossentropy([[1.0, 0.0]], [[0.0, 1.0]])
        grads = [L.CategoricalCrossentropy().gradient(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])),
                 L.BinaryCrossentropy().gradient(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))]
    np.testing.assert_allclose(cce, [-np.log(1e-7)], rtol=1e-6)
    np.testing.assert_allclose(bce, [-np.log(1e-7)], rtol=1e-6)
    assert all(np.all(np.isfinite(g)) for g in grads)


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------

@pytest.mark.parametrize("identifier, cls", [
    ("mse", L.MeanSquaredError), ("mae", L.MeanAbsoluteError), ("bce", L.BinaryCrossentropy),
    ("mean_squared_error", L.MeanSquaredError), ("MeanSquaredError", L.MeanSquaredError),
    ("CategoricalCrossentropy", L.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", L.SparseCategoricalCrossentropy),
    ("SparseCategoricalCrossentropy", L.SparseCategoricalCrossentropy),
    ("binary_crossentropy", L.BinaryCrossentropy),
    (L.mean_absolute_error, L.MeanAbsoluteError), (L.BinaryCrossentropy, L.BinaryCrossentropy),
])
def test_get_resolves_names_functions_and_classes(identifier, cls):
    assert type(L.get(identifier)) is cls


def test_get_passes_loss_objects_through():
    loss = L.CategoricalCrossentropy(from_logits=True)
    assert L.get(loss) is loss
    assert L.from_config("categorical_crossentropy", loss.get_config()).from_logits is True


def test_unknown_loss_raises_value_error_listing_names():
    with pytest.raises(ValueError) as err:
        L.get("hinge_loss")
    message = str(err.value)
    assert "hinge_loss" in message
    for known in ("mean_squared_error", "mean_absolute_error", "categorical_crossentropy",
                  "sparse_categorical_crossentropy", "binary_crossentropy", "mse"):
        assert known in message
    with pytest.raises(TypeError):
        L.get(42)


# --------------------------------------------------------------------------
# The study notes' functions
# --------------------------------------------------------------------------

NOTES_T = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0], dtype=float)
NOTES_Y_GOOD = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
NOTES_Y_BAD = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])


def test_sum_squared_error_reproduces_the_notes():
    assert L.sum_squared_error(NOTES_Y_GOOD, NOTES_T) == pytest.approx(0.0975, rel=1e-12)
    assert L.sum_squared_error(NOTES_Y_BAD, NOTES_T) == pytest.approx(0.5975, rel=1e-12)


def test_cross_entropy_error_reproduces_the_notes_with_1d_input():
    assert L.cross_entropy_error(NOTES_Y_GOOD, NOTES_T) == pytest.approx(-np.log(0.6 + 1e-7), rel=1e-14)
    assert L.cross_entropy_error(NOTES_Y_BAD, NOTES_T) == pytest.approx(2.302584092994546, rel=1e-12)
    assert L.cross_entropy_error(NOTES_Y_GOOD, 2) == pytest.approx(-np.log(0.6 + 1e-7), rel=1e-14)


def test_cross_entropy_error_batch_one_hot_and_labels():
    _, labels, onehot, p, _ = make_batch(n=5, k=3)
    y = p / p.sum(axis=1, keepdims=True)
    expected = -np.sum(onehot * np.log(y + 1e-7)) / 5
    assert L.cross_entropy_error(y, onehot) == pytest.approx(expected, rel=1e-14)
    assert L.cross_entropy_error(y, labels) == pytest.approx(expected, rel=1e-14)
    assert isinstance(L.cross_entropy_error(y, labels), float)


def test_cross_entropy_error_rejects_bad_targets():
    y = np.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        L.cross_entropy_error(y, [0, 3])
    with pytest.raises(ValueError):
        L.cross_entropy_error(y, np.zeros((3, 2)))


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------

def test_labels_out_of_range_raise_value_error_naming_the_range():
    z = np.zeros((3, 4))
    for bad in ([0, 1, 4], [0, -1, 2]):
        with pytest.raises(ValueError, match=r"\[0, 3\]"):
            L.sparse_categorical_crossentropy(bad, z, from_logits=True)
        with pytest.raises(ValueError, match=r"\[0, 3\]"):
            L.SparseCategoricalCrossentropy().logits_forward_backward(np.array(bad), z)
        with pytest.raises(ValueError, match=r"\[0, 3\]"):
            L.SparseCategoricalCrossentropy().gradient(np.array(bad), np.full((3, 4), 0.25))


def test_fractional_labels_and_wrong_label_count_raise():
    z = np.zeros((3, 4))
    with pytest.raises(ValueError):
        L.sparse_categorical_crossentropy([0.5, 1, 2], z)
    with pytest.raises(ValueError):
        L.SparseCategoricalCrossentropy().logits_forward_backward(np.array([0, 1]), z)


def test_mismatched_shapes_raise_value_error_with_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 2\)"):
        L.mean_squared_error(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError):
        L.binary_crossentropy(np.zeros((2, 3)), np.zeros((3, 2)))


def test_module_is_exposed_on_the_package():
    assert gn.losses is L
