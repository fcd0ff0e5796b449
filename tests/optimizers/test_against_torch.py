"""Every optimizer against torch.optim: 20 steps in float64."""
import zlib

import numpy as np
import pytest

from glassnet import optimizers as O


# ---------------------------------------------------------------------------
# Against torch.optim (20 steps, float64)
# ---------------------------------------------------------------------------

# Where Keras and torch place epsilon differently we set it to 0 on both sides,
# so the formulas coincide exactly:
#   Adagrad  Keras g / sqrt(a + eps)          torch g / (sqrt(a) + eps)
#   RMSprop  Keras g / sqrt(s + eps)          torch g / (sqrt(s) + eps)
#   Adam     Keras eps added to sqrt(v)       torch eps added to sqrt(v) / sqrt(1 - b2^t)
# With random normal gradients no denominator comes near 0.
# torch's RMSprop `alpha` is Keras's `rho`; torch keeps the SGD/RMSprop momentum
# buffer without the learning rate, which is equivalent for a constant rate.
TORCH_CASES = [
    ("sgd", dict(learning_rate=0.1), dict(lr=0.1)),
    ("sgd-momentum", dict(learning_rate=0.1, momentum=0.9), dict(lr=0.1, momentum=0.9)),
    ("sgd-nesterov", dict(learning_rate=0.1, momentum=0.9, nesterov=True),
     dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("adagrad", dict(learning_rate=0.1, initial_accumulator_value=0.1, epsilon=0.0),
     dict(lr=0.1, initial_accumulator_value=0.1, eps=0.0)),
    ("rmsprop", dict(learning_rate=0.01, rho=0.9, epsilon=0.0), dict(lr=0.01, alpha=0.9, eps=0.0)),
    ("rmsprop-momentum", dict(learning_rate=0.01, rho=0.8, momentum=0.5, epsilon=0.0),
     dict(lr=0.01, alpha=0.8, momentum=0.5, eps=0.0)),
    ("rmsprop-centered", dict(learning_rate=0.01, rho=0.9, centered=True, epsilon=0.0),
     dict(lr=0.01, alpha=0.9, centered=True, eps=0.0)),
    ("adam", dict(learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=0.0),
     dict(lr=0.01, betas=(0.9, 0.999), eps=0.0)),
    ("adam-amsgrad", dict(learning_rate=0.01, beta_1=0.8, beta_2=0.9, epsilon=0.0, amsgrad=True),
     dict(lr=0.01, betas=(0.8, 0.9), eps=0.0, amsgrad=True)),
    ("adamw", dict(learning_rate=0.01, weight_decay=0.1, beta_1=0.9, beta_2=0.999, epsilon=0.0),
     dict(lr=0.01, weight_decay=0.1, betas=(0.9, 0.999), eps=0.0)),
]
TORCH_CLASSES = {"sgd": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop", "adam": "Adam", "adamw": "AdamW"}


@pytest.mark.parametrize("case,gn_kwargs,torch_kwargs", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_matches_torch_optim_for_20_steps(case, gn_kwargs, torch_kwargs):
    torch = pytest.importorskip("torch")
    kind = case.split("-")[0]
    rng = np.random.default_rng(zlib.crc32(case.encode()))   # hash() is salted per process
    w0 = [rng.normal(size=(3, 4)), rng.normal(size=5)]
    # the gradient of 0.5 * sum(c * w^2) plus noise: depends on the weights, so errors would compound
    scales = [rng.uniform(0.5, 2.0, size=w.shape) for w in w0]
    noise = [[rng.normal(size=w.shape) for w in w0] for _ in range(20)]

    ws = [w.copy() for w in w0]
    opt = getattr(O, TORCH_CLASSES[kind])(**gn_kwargs)
    params = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in w0]
    topt = getattr(torch.optim, TORCH_CLASSES[kind])(params, **torch_kwargs)
    for step in range(20):
        grads = [c * w + n for c, w, n in zip(scales, ws, noise[step])]
        opt.apply(grads, ws)
        for p, c, n in zip(params, scales, noise[step]):
            p.grad = torch.from_numpy(c * p.detach().numpy() + n)
        topt.step()
    for w, p in zip(ws, params):
        assert w.dtype == np.float64
        np.testing.assert_allclose(w, p.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert opt.iterations == 20
    # the parameters actually moved (so the comparison is not vacuous)
    assert not np.allclose(ws[0], w0[0], atol=1e-3)
