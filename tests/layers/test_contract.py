"""The layer contract (glassnet/layers/base.py), checked for every layer: a layer joins with one line in LAYERS.

For each case, in float64, with random weights (trainable ones normal, non-trainable ones in [0.5, 1.5]):
  test_output_shape    build() promises output_shape (= compute_output_shape); forward on batches of
                       two sizes gives it (batch axis added), leaves x alone; backward gives dx like x
                       and grads like params
  test_backward        backward(g) against float64 central differences of sum(forward(x) * g)
                       (+ regularization_loss() if the layer has one), for x and for every params array
  test_config          get_config() is JSON and unchanged by building/running; from_config (also from
                       the JSON text) and gn.layers.serialize / deserialize rebuild a layer with the same
                       config that, given the same weights, computes the same output
  test_save_and_load   inside a float64 Sequential: save + load_model and save_weights + load_weights
                       give identical predictions and weights
A stochastic layer (one holding a np.random.Generator, as Dropout does) has its generators rewound
before each forward, so every evaluation draws the same mask. A layer of integer ids (Embedding) is
given ids instead of normal numbers (case(..., ids=n): ids in [0, n)); ids are not differentiable,
so its dL/dx must be zero instead of matching central differences. A known contract violation is marked on
its case, per check: case(..., xfail={"backward": "why"}) makes only that check a strict xfail
(checks: "shape", "backward", "config", "save"). The last test breaks layers on purpose (monkeypatch)
to prove each check can fail.
"""
import json
from dataclasses import dataclass, field

import numpy as np
import pytest

import glassnet as gn
from reference import central_difference, relative_error

pytestmark = pytest.mark.usefixtures("isolated_random_state")     # layers draw initial weights from glassnet's rng
L = gn.layers
RTOL = 1e-6
BATCH = 4
ACTIVATIONS = ["linear", "step", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "swish", "softmax"]


@dataclass
class Case:
    cls: type
    args: tuple
    kwargs: dict
    features: tuple          # the input's shape without the batch axis
    training: bool
    id: str
    xfail: dict = field(default_factory=dict)
    ids: int = None          # the layer reads integer ids in [0, ids)

    def make(self):
        return self.cls(*self.args, **self.kwargs)

    def sample(self, rng, batch):
        """A batch of inputs: normal numbers, or integer ids."""
        shape = (batch,) + self.features
        return rng.normal(size=shape) if self.ids is None else rng.integers(0, self.ids, size=shape)


def case(cls, *args, training=False, id=None, xfail=None, ids=None, **kwargs):
    """cls(*args, dtype="float64", **kwargs), run as forward(x, training=training); x's shape comes
    from input_shape= (or shape=, input_dim=)."""
    kwargs.setdefault("dtype", "float64")
    features = kwargs.get("input_shape", kwargs.get("shape"))
    features = (kwargs["input_dim"],) if features is None else features
    features = (features,) if isinstance(features, int) else tuple(features)
    if id is None:
        shown = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items() if k != "dtype"]
        id = f"{cls.__name__}({','.join(shown)})".replace(" ", "").replace("'", "") + ("-training" * training)
    return Case(cls, args, kwargs, features, training, id, dict(xfail or {}), ids)


LAYERS = [
    *[case(L.Dense, units=3, activation=a, input_shape=(4,)) for a in ACTIVATIONS],
    case(L.Dense, units=4, activation="tanh", input_shape=(3,)),
    case(L.Dense, units=3, activation="softmax", input_shape=(2, 5)),      # N-D input: acts on the last axis
    case(L.Dense, units=2, activation="relu", input_shape=(2, 2, 3)),
    case(L.Dense, units=3, use_bias=False, input_dim=4),
    case(L.Dense, units=2, name="frozen", trainable=False, input_shape=(3,)),
    case(L.Dense, units=2, kernel_initializer=gn.initializers.RandomNormal(stddev=0.5, seed=1),
         bias_initializer="ones", input_shape=(3,), id="Dense(units=2,kernel_initializer=RandomNormal(seed=1))"),
    case(L.Dense, units=3, activation="sigmoid", kernel_regularizer="l2",
         bias_regularizer=gn.regularizers.L1L2(l1=0.01, l2=0.02), input_shape=(4,),
         id="Dense(units=3,activation=sigmoid,kernel_regularizer=l2,bias_regularizer=L1L2)"),
    *[case(L.Activation, a, input_shape=(5,)) for a in ACTIVATIONS],
    case(L.Activation, "softmax", input_shape=(2, 3)),
    case(L.Activation, "elu", input_shape=(2, 3)),
    case(L.Flatten, input_shape=(2, 3)),
    case(L.Flatten, input_shape=(2, 3, 2)),
    case(L.InputLayer, shape=(3,)),
    case(L.Dropout, 0.5, seed=3, input_shape=(6,), training=True),
    case(L.Dropout, 0.25, seed=4, input_shape=(2, 3), training=True),
    case(L.Dropout, 0.5, seed=5, input_shape=(6,)),                         # inference: the identity
    case(L.BatchNormalization, input_shape=(4,), training=True),
    case(L.BatchNormalization, input_shape=(4,)),
    case(L.BatchNormalization, momentum=0.9, epsilon=1e-2, input_shape=(2, 3), training=True),
    case(L.BatchNormalization, center=False, scale=False, input_shape=(3,), training=True),
    case(L.Rescaling, 0.25, input_shape=(4,)),
    case(L.Rescaling, 0.5, offset=-1.0, input_shape=(2, 3)),
    case(L.Normalization, input_shape=(4,)),
    case(L.Normalization, axis=None, input_shape=(3,)),
    case(L.Normalization, axis=[1, 2], input_shape=(2, 3)),
    case(L.Normalization, invert=True, input_shape=(2, 3)),
    case(L.Normalization, mean=[1.0, -2.0, 0.5], variance=[4.0, 0.25, 1.0], input_shape=(3,)),
    case(L.Normalization, mean=2.0, variance=9.0, input_shape=(2, 2)),
    case(L.Softmax, input_shape=(5,)),
    case(L.Softmax, axis=1, input_shape=(3, 4)),
    case(L.Softmax, axis=[1, 2], input_shape=(2, 3)),
    case(L.ReLU, input_shape=(6,)),
    case(L.ReLU, max_value=0.8, negative_slope=0.1, threshold=0.3, input_shape=(2, 4)),
    case(L.ReLU, max_value=6.0, input_shape=(5,)),
    case(L.LeakyReLU, input_shape=(6,)),
    case(L.LeakyReLU, negative_slope=0.05, input_shape=(2, 3)),
    case(L.ELU, input_shape=(6,)),
    case(L.ELU, alpha=0.5, input_shape=(2, 3)),
    case(L.PReLU, input_shape=(5,)),
    case(L.PReLU, alpha_initializer="ones", shared_axes=[1], input_shape=(3, 4)),
    case(L.PReLU, shared_axes=[1, 2], input_shape=(2, 3, 2)),
    case(L.Reshape, (3, 2), input_shape=(6,)),
    case(L.Reshape, (-1,), input_shape=(2, 3)),
    case(L.Reshape, (2, -1, 2), input_shape=(2, 2, 3)),
    case(L.Identity, input_shape=(3,)),
    case(L.LayerNormalization, input_shape=(5,)),
    case(L.LayerNormalization, axis=[1, 2], epsilon=1e-2, input_shape=(2, 3)),
    case(L.LayerNormalization, axis=1, center=False, input_shape=(3, 2)),
    case(L.LayerNormalization, scale=False, center=False, input_shape=(4,)),
    case(L.GaussianNoise, 0.5, seed=2, input_shape=(4,), training=True),
    case(L.GaussianNoise, 0.3, seed=3, input_shape=(2, 3), training=True),
    case(L.GaussianNoise, 0.5, input_shape=(4,)),                            # inference: the identity
    case(L.Embedding, 7, 3, input_shape=(5,), ids=7),
    case(L.Embedding, 4, 2, input_shape=(2, 3), ids=4),
    case(L.GlobalAveragePooling1D, input_shape=(4, 3)),
    case(L.GlobalAveragePooling1D, data_format="channels_first", keepdims=True, input_shape=(3, 4)),
    # -- convolutional networks (issue 12) --
    case(L.Conv2D, 2, 3, input_shape=(6, 6, 1)),
    case(L.Conv2D, 3, (2, 3), strides=2, padding="same", activation="relu", input_shape=(5, 7, 2)),
    case(L.Conv2D, 2, 3, dilation_rate=2, activation="tanh", input_shape=(7, 6, 2)),
    case(L.Conv2D, 2, 1, use_bias=False, kernel_regularizer="l2", input_shape=(3, 3, 3)),
    case(L.Conv2D, 4, 3, padding="same", activation="softmax", input_shape=(4, 4, 2)),
    case(L.Conv1D, 3, 3, input_shape=(8, 2)),
    case(L.Conv1D, 2, 2, padding="causal", dilation_rate=2, activation="sigmoid", input_shape=(7, 3)),
    case(L.Conv1D, 2, 4, strides=3, padding="same", input_shape=(10, 1)),
    case(L.MaxPooling2D, input_shape=(6, 6, 2)),
    case(L.MaxPooling2D, input_shape=(5, 7, 2)),                              # odd sizes: the last row/col is dropped
    case(L.MaxPooling2D, (3, 2), strides=(2, 1), padding="same", input_shape=(5, 4, 3)),
    case(L.AveragePooling2D, input_shape=(6, 5, 2)),
    case(L.AveragePooling2D, 3, strides=2, padding="same", input_shape=(5, 6, 2)),
    case(L.MaxPooling1D, input_shape=(7, 3)),
    case(L.MaxPooling1D, 3, strides=2, padding="same", input_shape=(8, 2)),
    case(L.AveragePooling1D, input_shape=(6, 2)),
    case(L.AveragePooling1D, 4, strides=3, padding="same", input_shape=(7, 2)),
    case(L.GlobalAveragePooling2D, input_shape=(3, 4, 2)),
    case(L.GlobalAveragePooling2D, data_format="channels_first", keepdims=True, input_shape=(2, 3, 4)),
    case(L.GlobalMaxPooling2D, input_shape=(3, 4, 2)),
    case(L.GlobalMaxPooling2D, keepdims=True, input_shape=(4, 3, 3)),
    case(L.GlobalMaxPooling2D, data_format="channels_first", input_shape=(2, 3, 4)),
    case(L.GlobalMaxPooling1D, input_shape=(5, 3)),
    case(L.GlobalMaxPooling1D, data_format="channels_first", keepdims=True, input_shape=(3, 5)),
    case(L.ZeroPadding2D, input_shape=(3, 4, 2)),
    case(L.ZeroPadding2D, ((0, 2), (1, 0)), input_shape=(2, 3, 1)),
    case(L.UpSampling2D, input_shape=(3, 2, 2)),
    case(L.UpSampling2D, (3, 2), input_shape=(2, 3, 1)),
    case(L.UpSampling2D, 2, interpolation="bilinear", input_shape=(3, 4, 2)),
    case(L.SpatialDropout2D, 0.5, seed=3, input_shape=(3, 3, 4), training=True),
    case(L.SpatialDropout2D, 0.3, seed=4, input_shape=(2, 2, 5)),                 # inference: the identity
]


def cases(check):
    """LAYERS as pytest params for one check; a case's known violation of that check is a strict xfail."""
    return [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail[check])]
                         if check in c.xfail else []) for c in LAYERS]


def randomize(layer, rng):
    """Random weights of the right shapes, set through the public set_weights."""
    layer.set_weights([rng.normal(size=w.shape) for w in layer.params.values()]
                      + [rng.uniform(0.5, 1.5, size=w.shape) for w in layer.state.values()])


def built(c, seed=0):
    """A fresh layer of case c, built for (None, *features), with random weights; and a batch x."""
    rng = np.random.default_rng(seed)
    layer = c.make()
    layer.build((None,) + c.features)
    randomize(layer, rng)
    return layer, c.sample(rng, BATCH), rng


def repeatable_forward(layer, training):
    """layer.forward(x, training) with the layer's random generators rewound first: the same draws each call."""
    generators = [v for v in vars(layer).values() if isinstance(v, np.random.Generator)]
    states = [g.bit_generator.state for g in generators]

    def forward(x):
        for g, s in zip(generators, states):
            g.bit_generator.state = s
        return layer.forward(x, training=training)
    return forward


@pytest.mark.parametrize("c", cases("shape"))
def test_output_shape(c):
    layer, _, rng = built(c)
    assert layer.built and tuple(layer.input_shape) == (None,) + c.features
    assert layer.output_shape[0] is None
    assert tuple(layer.compute_output_shape(layer.input_shape)) == tuple(layer.output_shape)
    for batch in (BATCH, 3):
        x = c.sample(rng, batch)
        x0 = x.copy()
        y = layer.forward(x, training=c.training)
        assert y.shape == (batch,) + tuple(layer.output_shape[1:]), "forward's shape is not output_shape"
        assert y.dtype == np.float64
        assert np.array_equal(x, x0), "forward changed its input"
        dx = layer.backward(rng.normal(size=y.shape))
        assert dx.shape == x.shape and dx.dtype == np.float64
        assert set(layer.grads) == set(layer.params)
        assert all(layer.grads[k].shape == p.shape for k, p in layer.params.items())


@pytest.mark.parametrize("c", cases("backward"))
def test_backward(c):
    layer, x, rng = built(c)
    forward = repeatable_forward(layer, c.training)
    g = rng.normal(size=forward(x).shape)
    penalty = getattr(layer, "regularization_loss", lambda: 0.0)

    def loss(_):
        return float(np.sum(forward(x) * g)) + penalty()

    forward(x)
    dx = layer.backward(g)
    grads = {k: np.array(v) for k, v in layer.grads.items()}
    if c.ids is None:
        err = relative_error(dx, central_difference(loss, x))
        assert err < RTOL, f"dL/dx: relative error {err:.2e}"
    else:
        assert dx.shape == x.shape and not dx.any(), "ids are not differentiable: dL/dx must be 0"
    for key, param in layer.params.items():          # perturbed in place: the arrays the layer computes with
        err = relative_error(grads[key], central_difference(loss, param))
        assert err < RTOL, f"dL/d{key}: relative error {err:.2e}"


@pytest.mark.parametrize("c", cases("config"))
def test_config(c):
    layer, x, _ = built(c)
    config = layer.get_config()
    assert config == c.make().get_config(), "building the layer changed its config"
    text = json.dumps(config)
    clones = [type(layer).from_config(config), type(layer).from_config(json.loads(text))]
    if hasattr(gn.layers, "serialize"):
        clones.append(gn.layers.deserialize(json.loads(json.dumps(gn.layers.serialize(layer)))))
    expected = layer.forward(x, training=c.training)
    assert layer.get_config() == config, "running the layer changed its config"
    for clone in clones:
        assert type(clone) is type(layer) and clone.get_config() == config
        clone.build((None,) + c.features)          # and it computes the same function
        clone.set_weights(layer.get_weights())
        assert np.array_equal(clone.forward(x, training=c.training), expected), "the rebuilt layer computes otherwise"


def model_of(c):
    """A float64 Sequential holding case c's layer (plus a linear Activation if the layer only declares
    the input, as InputLayer does), with random weights."""
    model = gn.Sequential([c.make()])
    if not model.layers:
        model.add(L.Activation("linear", dtype="float64"))
    rng = np.random.default_rng(1)
    for layer in model.layers:
        randomize(layer, rng)
    return model


def same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(u.dtype == v.dtype and np.array_equal(u, v) for u, v in zip(wa, wb))


@pytest.mark.parametrize("c", cases("save"))
def test_save_and_load(c, tmp_path):
    model = model_of(c)
    x = c.sample(np.random.default_rng(2), 5)
    expected = model.predict(x)
    assert expected.dtype == np.float64
    model.save(tmp_path / "m.glassnet")
    loaded = gn.load_model(tmp_path / "m.glassnet")
    assert [type(a) for a in loaded.layers] == [type(a) for a in model.layers]
    assert [a.get_config() for a in loaded.layers] == [a.get_config() for a in model.layers]
    assert same_weights(loaded, model), "load_model changed the weights"
    assert np.array_equal(loaded.predict(x), expected), "the loaded model predicts otherwise"

    model.save_weights(tmp_path / "w.npz")
    other = model_of(c)           # the same architecture, other weights (unless it has none)
    other.load_weights(tmp_path / "w.npz")
    assert same_weights(other, model), "load_weights did not restore the weights"
    assert np.array_equal(other.predict(x), expected), "after load_weights the model predicts otherwise"


# -- the contract tests can fail: break a layer on purpose and the check must notice -------------------------
DENSE = case(L.Dense, units=3, activation="tanh", input_shape=(4,))
DROPOUT = case(L.Dropout, 0.5, seed=3, input_shape=(6,), training=True)


def _scaled_dx(monkeypatch):
    backward = L.Dense.backward
    monkeypatch.setattr(L.Dense, "backward", lambda self, dy: 1.001 * backward(self, dy))


def _scaled_grad_b(monkeypatch):
    backward = L.Dense.backward

    def broken(self, dy):
        dx = backward(self, dy)
        self.grads["b"] *= 1.001
        return dx
    monkeypatch.setattr(L.Dense, "backward", broken)


def _dropout_ignores_mask(monkeypatch):
    monkeypatch.setattr(L.Dropout, "backward", lambda self, dy: dy)


def _wrong_output_shape(monkeypatch):
    monkeypatch.setattr(L.Dense, "compute_output_shape", lambda self, s: tuple(s[:-1]) + (self.units + 1,))


def _numpy_in_config(monkeypatch):
    get_config = L.Dense.get_config
    monkeypatch.setattr(L.Dense, "get_config", lambda self: {**get_config(self), "units": np.int64(self.units)})


def _config_loses_activation(monkeypatch):
    get_config = L.Dense.get_config
    monkeypatch.setattr(L.Dense, "get_config", lambda self: {k: v for k, v in get_config(self).items()
                                                             if k != "activation"})


@pytest.mark.parametrize("c, breakage, check", [
    (DENSE, _scaled_dx, test_backward), (DENSE, _scaled_grad_b, test_backward),
    (DROPOUT, _dropout_ignores_mask, test_backward), (DENSE, _wrong_output_shape, test_output_shape),
    (DENSE, _numpy_in_config, test_config), (DENSE, _config_loses_activation, test_config),
    (DENSE, _config_loses_activation, test_save_and_load),
], ids=lambda v: v.id.split("(")[0] if isinstance(v, Case) else v.__name__.strip("_"))
def test_a_broken_layer_fails_the_contract(c, breakage, check, monkeypatch, tmp_path):
    args = (c, tmp_path) if check is test_save_and_load else (c,)
    check(*args)                        # the unbroken layer passes ...
    breakage(monkeypatch)
    with pytest.raises((AssertionError, TypeError)):
        check(*args)                    # ... the broken one does not
