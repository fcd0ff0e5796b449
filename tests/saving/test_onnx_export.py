"""ONNX export (glassnet.saving.onnx_export, Model.export(path, format="onnx")).

The reference is ONNX Runtime: every exported graph passes onnx.checker.check_model(full_check=True),
and ONNX Runtime's outputs equal glassnet's predict on random inputs within 1e-5 (relative + absolute,
float32), at batch 7 and batch 1 (the batch axis is dynamic). Layers are given non-trivial numbers
(random biases, moving statistics, adapted means, learnt PReLU slopes) so that a dropped or misread
weight shows.
"""
import os

import numpy as np
import pytest

import glassnet as gn
from glassnet import saving
from glassnet.saving import onnx_export

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.usefixtures("isolated_random_state")

L = gn.layers
TOL = 1e-5


def _session(proto):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])


@pytest.fixture(autouse=True, scope="module")
def numpy_kernels():
    """predict on the NumPy code: no compiled kernels to build for one comparison (they agree with it
    within float32 roundings: tests/test_kernels*.py)."""
    before = gn.backend.kernels()
    gn.backend.set_kernels("numpy")
    yield
    gn.backend.set_kernels("auto" if before == "numba" else "numpy")


def _randomize(model, seed=1):
    """Every weight replaced by random numbers (biases too: zeros would hide a dropped bias); variances
    positive."""
    rng = np.random.default_rng(seed)
    weights = []
    for name, w in zip(saving.weight_names(model), model.get_weights()):
        if w.dtype.kind != "f":
            weights.append(w)
        elif "variance" in name:
            weights.append(rng.uniform(0.2, 3.0, w.shape).astype(w.dtype))
        else:
            weights.append(rng.normal(0, 0.5, w.shape).astype(w.dtype))
    model.set_weights(weights)
    return model


def check(model, xs, opset=None, tol=TOL):
    """Export, check, run in ONNX Runtime at the given batch and at batch 1; compare with predict."""
    proto = onnx_export.to_onnx(model, opset_version=opset)
    onnx.checker.check_model(proto, full_check=True)
    session = _session(proto)
    xs = xs if isinstance(xs, list) else [xs]
    names = [i.name for i in session.get_inputs()]
    for batch in (len(xs[0]), 1):
        part = [x[:batch] for x in xs]
        got = session.run(None, dict(zip(names, part)))
        want = model.predict(part if len(part) > 1 else part[0], verbose=0)
        want = want if isinstance(want, list) else [want]
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol)
    return proto


def _x(shape, seed=0, scale=1.5):
    return np.random.default_rng(seed).normal(0, scale, shape).astype(np.float32)


def _ops(proto):
    return [n.op_type for n in proto.graph.node]


# -- activations -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", sorted(gn.activations.ACTIVATIONS))
def test_every_activation_of_dense(activation):
    model = _randomize(gn.Sequential([L.Dense(6, activation="tanh", input_shape=(5,)),
                                      L.Dense(4, activation=activation)]))
    check(model, _x((7, 5)))


def test_leaky_relu_alpha_is_written_explicitly_and_swish_is_mul_sigmoid():
    model = _randomize(gn.Sequential([L.Dense(6, activation="leaky_relu", input_shape=(5,)), L.LeakyReLU(0.3),
                                      L.Dense(4, activation="swish")]))
    proto = check(model, _x((7, 5)))
    alphas = sorted(a.f for n in proto.graph.node if n.op_type == "LeakyRelu" for a in n.attribute if a.name == "alpha")
    assert alphas == pytest.approx([0.2, 0.3])                   # glassnet's slopes, not ONNX's default 0.01
    assert "Swish" not in _ops(proto) and {"Mul", "Sigmoid"} <= set(_ops(proto))
    newest = min(onnx.defs.onnx_opset_version(), 26)
    check(model, _x((7, 5)), opset=newest)                       # and it runs at the newest opsets too


def test_activation_layers_with_their_arguments():
    inputs = gn.Input(shape=(3, 5))
    h = L.Dense(5)(inputs)
    branches = [L.Softmax()(h), L.Softmax(axis=1)(h), L.Softmax(axis=[1, 2])(h),
                L.ReLU()(h), L.ReLU(max_value=0.6, negative_slope=0.1, threshold=0.2)(h),
                L.LeakyReLU(negative_slope=0.05)(h), L.ELU(alpha=0.5)(h),
                L.PReLU(alpha_initializer="random_normal")(h), L.PReLU(shared_axes=[1])(h),
                L.Activation("step")(h), L.Activation("softmax")(h)]
    model = _randomize(gn.Model(inputs, L.Concatenate()(branches)))
    check(model, _x((7, 3, 5)))


# -- layers that act only in training, normalisation, preprocessing -----------------------------------
def test_training_only_layers_are_identities_and_batch_normalization_uses_moving_statistics():
    model = gn.Sequential([L.Dense(8, activation="relu", input_shape=(6,)), L.Dropout(0.5), L.GaussianNoise(0.3),
                           L.BatchNormalization(), L.Identity(), L.Dense(3)])
    _randomize(model)
    bn = model.layers[3]
    rng = np.random.default_rng(5)
    bn.state["moving_mean"][...] = rng.normal(0, 1, 8)
    bn.state["moving_variance"][...] = rng.uniform(0.2, 3, 8)
    check(model, _x((7, 6)))


def test_normalization_adapted_rescaling_and_layer_normalization():
    data = _x((50, 4), seed=3) * 3 + 7
    norm, inverse = L.Normalization(), L.Normalization(mean=[1, 2, 3, 4], variance=[4, 1, 0.25, 9], invert=True)
    norm.adapt(data)
    model = gn.Sequential([L.Input(shape=(4,)), L.Rescaling(0.5, offset=-1), norm, inverse,
                           L.LayerNormalization(), L.Dense(3), L.Reshape((3, 1)), L.LayerNormalization(axis=[1, 2])])
    _randomize(model)
    check(model, data[:7])
    check(model, data[:7], opset=13)                 # ReduceMean's axes as an attribute


def test_embedding_reshape_flatten():
    model = _randomize(gn.Sequential([L.Input(shape=(5,)), L.Embedding(11, 4), L.Flatten(), L.Dense(6),
                                      L.Reshape((2, 3)), L.Dense(2)]))
    ids = np.random.default_rng(2).integers(0, 11, (7, 5)).astype(np.float32)
    check(model, ids)


# -- graph models, nested models, float64 --------------------------------------------------------------
def test_graph_model_with_two_inputs_two_outputs_and_every_merge():
    a, b = gn.Input(shape=(4,), name="left"), gn.Input(shape=(4,), name="right")
    ha, hb = L.Dense(4, activation="tanh")(a), L.Dense(4, activation="sigmoid")(b)
    shared = L.Dense(4)                                            # called twice: one weight set
    merged = [L.Add()([ha, hb, shared(a)]), L.Subtract()([ha, hb]), L.Multiply()([ha, hb, shared(b)]),
              L.Average()([ha, hb]), L.Maximum()([ha, hb, a]), L.Minimum()([ha, hb])]
    joined = L.Concatenate()(merged)
    out1 = L.Dense(3, activation="softmax", name="probs")(joined)
    out2 = L.Dense(1, name="value")(L.Concatenate(axis=-1)([joined, out1]))
    model = _randomize(gn.Model([a, b], [out1, out2]))
    proto = check(model, [_x((7, 4), 1), _x((7, 4), 2)])
    assert [i.name for i in proto.graph.input] == ["left", "right"]
    assert [o.name for o in proto.graph.output] == ["probs", "value"]
    fixed = onnx_export.to_onnx(model, input_signature={"right": (2, 4), "left": (2, 4)})
    assert [i.type.tensor_type.shape.dim[0].dim_value for i in fixed.graph.input] == [2, 2]
    dynamic = onnx_export.to_onnx(model, input_signature=model.inputs)      # Keras-style: the symbolic inputs
    assert [i.type.tensor_type.shape.dim[0].dim_param for i in dynamic.graph.input] == ["batch", "batch"]
    with pytest.raises(ValueError, match="keyed by the model's input names"):
        onnx_export.to_onnx(model, input_signature={"left": (2, 4)})


def test_nested_models_are_opened_in_place():
    inner = gn.Sequential([L.Dense(6, activation="relu", input_shape=(5,)), L.BatchNormalization()])
    i = gn.Input(shape=(6,))
    middle = gn.Model(i, L.Dense(4, activation="elu")(L.Dense(6)(i)))
    x = gn.Input(shape=(5,))
    graph = gn.Model(x, L.Add()([middle(inner(x)), middle(inner(x))]))
    outer = _randomize(gn.Sequential([graph, L.Dense(2, activation="softmax")]))
    check(outer, _x((7, 5)))


def test_float64_model_exports_doubles():
    model = _randomize(gn.Sequential([L.Dense(8, activation="swish", input_shape=(3,), dtype="float64"),
                                      L.Dense(2, activation="softmax", dtype="float64")]))
    x = np.random.default_rng(0).normal(size=(7, 3))
    proto = check(model, x, tol=1e-12)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE


@pytest.fixture
def float64():
    before = gn.backend.floatx()
    gn.backend.set_floatx("float64")
    yield
    gn.backend.set_floatx(before)


def test_float64_convnet_uses_ops_onnx_runtime_has_in_float64(float64):
    """ONNX Runtime has no float64 Conv, AveragePool or Resize: those layers are unfolded (Gather, MatMul)."""
    x = gn.Input(shape=(5, 7, 2))
    outs = [L.UpSampling2D((2, 3))(x), L.UpSampling2D((3, 2), interpolation="bilinear")(x),
            L.AveragePooling2D(3, strides=2, padding="same")(L.Conv2D(3, 3, strides=2, padding="same",
                                                                      activation="tanh")(x)),
            L.Conv2D(3, (2, 3), dilation_rate=(2, 1), padding="same", use_bias=False)(x),
            L.AveragePooling1D(3, padding="same")(
                L.Conv1D(2, 3, padding="causal", dilation_rate=2)(L.Reshape((35, 2))(x))),
            L.MaxPooling2D(2, padding="same")(L.ZeroPadding2D(1)(x))]
    model = _randomize(gn.Model(x, L.Concatenate()([L.Flatten()(o) for o in outs])))
    proto = check(model, np.random.default_rng(0).normal(size=(7, 5, 7, 2)), tol=1e-12)
    assert not {"Conv", "AveragePool", "Resize"} & set(_ops(proto))


# -- convolution and pooling ------------------------------------------------------------------------------
CONV2D = [dict(kernel_size=3), dict(kernel_size=3, padding="same"), dict(kernel_size=(3, 2), strides=2, padding="same"),
          dict(kernel_size=2, strides=(2, 3)), dict(kernel_size=3, dilation_rate=2, padding="same"),
          dict(kernel_size=(2, 3), dilation_rate=(2, 1), activation="relu"),
          dict(kernel_size=4, strides=3, padding="same")]
POOL2D = [dict(pool_size=2), dict(pool_size=3, strides=2, padding="same"), dict(pool_size=(2, 1), strides=1),
          dict(pool_size=2, padding="same"), dict(pool_size=3, strides=(1, 2), padding="same")]


@pytest.mark.parametrize("i", range(len(CONV2D)))
def test_conv2d_and_pooling_2d_configurations(i):
    conv, pool = CONV2D[i], POOL2D[i % len(POOL2D)]
    model = _randomize(gn.Sequential([L.Input(shape=(9, 7, 3)), L.Conv2D(4, **conv),
                                      L.MaxPooling2D(**pool), L.Conv2D(3, 1, activation="swish"),
                                      L.AveragePooling2D(**pool), L.GlobalAveragePooling2D()]))
    check(model, _x((7, 9, 7, 3)))


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
def test_conv1d_and_pooling_1d(padding):
    model = _randomize(gn.Sequential([L.Input(shape=(11, 3)), L.Conv1D(4, 3, padding=padding, dilation_rate=2),
                                      L.Conv1D(4, 2, strides=2, padding="same" if padding == "causal" else padding),
                                      L.MaxPooling1D(2, padding="same"),
                                      L.AveragePooling1D(3, strides=1, padding="same"),
                                      L.GlobalMaxPooling1D(keepdims=True), L.Flatten()]))
    check(model, _x((7, 11, 3)))


def test_padding_upsampling_global_pooling_and_spatial_dropout():
    x = gn.Input(shape=(5, 6, 2))
    h = L.ZeroPadding2D(((1, 2), (0, 3)))(x)
    near = L.UpSampling2D((2, 3))(h)
    bil = L.UpSampling2D(2, interpolation="bilinear")(L.SpatialDropout2D(0.4)(x))
    outs = [L.GlobalMaxPooling2D()(near), L.GlobalAveragePooling2D()(bil),
            L.Flatten()(L.UpSampling2D((3, 2), interpolation="bilinear")(x))]
    model = gn.Model(x, L.Concatenate()(outs))
    check(model, _x((7, 5, 6, 2)))


def test_a_trained_mnist_convnet():
    (x, y), _ = gn.datasets.mnist_mini.load_data()
    x, y = x[:128, :, :, None], y[:128]
    gn.set_random_seed(0)
    model = gn.Sequential([L.Input(shape=(28, 28, 1)), L.Rescaling(1 / 255), L.Conv2D(8, 3, activation="relu"),
                           L.MaxPooling2D(2), L.Conv2D(16, 3, padding="same", activation="relu"),
                           L.BatchNormalization(),
                           L.MaxPooling2D(2), L.Flatten(), L.Dropout(0.3), L.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    proto = check(model, x[:16].astype(np.float32))
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


# -- the file, the arguments, and what is refused ------------------------------------------------------
def test_export_writes_the_file_atomically_and_keras_call_works(tmp_path, capsys):
    model = _randomize(gn.Sequential([L.Dense(3, activation="relu", input_shape=(2,)), L.Dense(1)]))
    path = model.export(tmp_path / "model.onnx", format="onnx")
    assert f"'{path}'" in capsys.readouterr().out and os.listdir(tmp_path) == ["model.onnx"]
    loaded = onnx.load(str(path))
    onnx.checker.check_model(loaded, full_check=True)
    assert loaded.opset_import[0].version == onnx_export.DEFAULT_OPSET
    x = _x((5, 2))
    np.testing.assert_allclose(_session(loaded).run(None, {"input": x})[0], model.predict(x, verbose=0),
                               rtol=TOL, atol=TOL)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="opset_version"):
        model.export(path, opset_version=12, verbose=False)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.onnx"]
    with pytest.raises(FileNotFoundError, match="nowhere"):
        model.export(tmp_path / "nowhere" / "m.onnx", verbose=False)
    model.export(tmp_path / "fixed.onnx", verbose=False, input_signature=[(3, 2)], opset_version=13)
    fixed = onnx.load(str(tmp_path / "fixed.onnx"))
    assert fixed.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 3
    assert fixed.opset_import[0].version == 13


def test_bad_arguments_are_refused_clearly():
    model = gn.Sequential([L.Dense(3, input_shape=(2,))])
    with pytest.raises(ValueError, match="'tf_saved_model'.*does not write"):
        model.export("m", format="tf_saved_model")
    with pytest.raises(ValueError, match=r"shape \(batch, 2\)"):
        onnx_export.to_onnx(model, input_signature=[(None, 3)])
    with pytest.raises(ValueError, match="not built"):
        onnx_export.to_onnx(gn.Sequential([L.Dense(3)]))
    with pytest.raises(TypeError, match="unexpected arguments"):
        model.export("m.onnx", opset=17)


class Doubler(gn.layers.Layer):
    def forward(self, x, training=False):
        return 2 * x

    def backward(self, dy):
        return 2 * dy


class MyDense(gn.layers.Dense):
    pass


@pytest.mark.parametrize("layer", [Doubler(name="doubler"), MyDense(3, name="doubler")])
def test_layers_without_an_onnx_form_are_refused_by_name(layer, tmp_path):
    model = gn.Sequential([L.Dense(3, input_shape=(2,)), layer])
    model.predict(np.zeros((1, 2), np.float32), verbose=0)
    with pytest.raises(ValueError, match=f"cannot export {type(layer).__name__} 'doubler' to ONNX"):
        model.export(tmp_path / "m.onnx")
    assert not os.listdir(tmp_path)


def test_a_failed_write_leaves_the_old_file_and_names_the_path(tmp_path, monkeypatch):
    model = _randomize(gn.Sequential([L.Dense(3, input_shape=(2,))]))
    path = tmp_path / "model.onnx"
    path.write_bytes(b"the previous file")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left on device") as info:
        model.export(path, verbose=False)
    assert str(info.value).startswith(f"cannot write {str(path)!r}") and info.value.errno == 28
    assert path.read_bytes() == b"the previous file" and os.listdir(tmp_path) == ["model.onnx"]


def test_without_onnx_the_error_says_how_to_install_it(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "onnx", None)              # import onnx now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'glassnet\[onnx\]'"):
        gn.Sequential([L.Dense(3, input_shape=(2,))]).export("m.onnx")
