"""plot_model (Keras's keras.utils.plot_model, drawn with matplotlib): what the drawing holds (the
boxes, their labels, the arrows and where they run, the frames of nested models) and the files.

References: the models' own structure (their layers, shapes and connections, known by construction);
Keras's label rows ("name (Class)", "Input shape: ...", "Output shape: ...", ...).
"""
import pathlib
import re
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

import glassnet as gn                      # noqa: E402
from glassnet import plot                  # noqa: E402
from glassnet.utils import plot_model      # noqa: E402

L = gn.layers


def _sequential():
    return gn.Sequential([L.Dense(64, activation="relu", input_shape=(784,)), L.Dropout(0.2),
                          L.Dense(10, activation="softmax")])


def _two_by_two():
    a, b = gn.Input((8,), name="a"), gn.Input((4,), name="b")
    left = L.Dense(16, activation="relu", name="left")(a)
    right = L.Dense(16, activation="tanh", name="right")(b)
    join = L.Concatenate(name="join")([left, right])
    return gn.Model([a, b], [L.Dense(3, activation="softmax", name="kind")(join), L.Dense(1, name="size")(join)])


def _drawn(fig):
    """{layer name: box patch}, [(source, target) of each arrow], {model name: frame}, [texts]."""
    ax = fig.axes[0]
    boxes = {p.get_gid()[6:]: p for p in ax.patches if (p.get_gid() or "").startswith("layer:")}
    arrows = [tuple(p.get_gid()[6:].split("->")) for p in ax.patches if (p.get_gid() or "").startswith("arrow:")]
    frames = {p.get_gid()[6:]: p for p in ax.patches if (p.get_gid() or "").startswith("model:")}
    return boxes, arrows, frames, [t.get_text() for t in ax.texts]


def _centre(patch):
    box = patch.get_bbox() if hasattr(patch, "get_bbox") else patch.get_extents()
    return (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2


def test_a_sequential_is_a_chain_of_labelled_boxes(tmp_path):
    fig = plot_model(_sequential(), tmp_path / "m.png", show_shapes=True, show_layer_names=True,
                     show_layer_activations=True, dpi=80)
    boxes, arrows, frames, texts = _drawn(fig)
    assert list(boxes) == ["dense", "dropout", "dense_1"] and not frames
    assert arrows == [("dense", "dropout"), ("dropout", "dense_1")]
    assert texts == ["dense (Dense)", "Activation: relu\nInput shape: (None, 784)\nOutput shape: (None, 64)",
                     "dropout (Dropout)", "Input shape: (None, 64)\nOutput shape: (None, 64)",
                     "dense_1 (Dense)", "Activation: softmax\nInput shape: (None, 64)\nOutput shape: (None, 10)"]
    ys = [_centre(boxes[n])[1] for n in boxes]
    assert ys[0] > ys[1] > ys[2]                                  # top to bottom
    assert len({round(_centre(boxes[n])[0], 9) for n in boxes}) == 1
    # Keras's default labels: the class alone
    _, _, _, plain = _drawn(plot_model(_sequential(), None))
    assert plain == ["Dense", "Dropout", "Dense"]


def test_a_graph_model_with_two_inputs_and_two_outputs(tmp_path):
    model = _two_by_two()
    fig = plot_model(model, tmp_path / "g.png", show_shapes=True, show_layer_names=True, show_dtype=True,
                     show_trainable=True, dpi=80)
    boxes, arrows, _, texts = _drawn(fig)
    assert sorted(boxes) == ["a", "b", "join", "kind", "left", "right", "size"]
    assert sorted(arrows) == sorted([("a", "left"), ("b", "right"), ("left", "join"), ("right", "join"),
                                     ("join", "kind"), ("join", "size")])
    assert "a (InputLayer)" in texts and "Output shape: (None, 8)\nOutput dtype: float32\nTrainable: True" in texts
    assert "Input shape: [(None, 16), (None, 16)]\nOutput shape: (None, 32)\nOutput dtype: float32\nTrainable: True" \
        in texts
    y = {n: _centre(p)[1] for n, p in boxes.items()}
    assert y["a"] == y["b"] > y["left"] == y["right"] > y["join"] > y["kind"] == y["size"]     # ranks
    for source, target in arrows:
        assert y[source] > y[target]                                                      # every arrow runs down
    lr = _drawn(plot_model(model, None, rankdir="LR"))[0]
    x = {n: _centre(p)[0] for n, p in lr.items()}
    assert x["a"] < x["left"] < x["join"] < x["kind"]                                     # left to right
    bt = _drawn(plot_model(model, None, rankdir="BT"))[0]
    assert _centre(bt["a"])[1] < _centre(bt["kind"])[1]


def test_an_input_read_only_deeper_sits_next_to_its_reader():
    """keras.io's structured-data models: some Inputs are normalised first, others go straight into the
    concatenation; those are drawn one rank before it (as Graphviz draws them for Keras), so their
    arrows do not run across the other boxes."""
    flag, age = gn.Input((1,), name="flag"), gn.Input((1,), name="age")
    scaled = L.Normalization(mean=50.0, variance=100.0, name="scaled")(age)
    joined = L.Concatenate(name="joined")([flag, scaled])
    model = gn.Model([flag, age], L.Dense(1, name="out")(joined))
    boxes = _drawn(plot_model(model, None, rankdir="LR"))[0]
    x = {n: _centre(p)[0] for n, p in boxes.items()}
    assert x["age"] < x["scaled"] == x["flag"] < x["joined"] < x["out"]


def test_arrows_start_and_end_on_the_borders_of_their_boxes():
    fig = plot_model(_two_by_two(), None, show_shapes=True, show_layer_names=True)
    ax = fig.axes[0]
    graph = fig._plot_model_graph
    by_name = {b.name: b for b in graph.boxes}
    for patch in ax.patches:
        if not (patch.get_gid() or "").startswith("arrow:"):
            continue
        source, target = (by_name[n] for n in patch.get_gid()[6:].split("->"))
        start, end = patch._posA_posB
        for (px, py), box in ((start, source), (end, target)):
            on_edge = np.isclose(abs(px - box.x), box.width / 2) or np.isclose(abs(py - box.y), box.height / 2)
            inside = abs(px - box.x) <= box.width / 2 + 1e-9 and abs(py - box.y) <= box.height / 2 + 1e-9
            assert on_edge and inside, patch.get_gid()


def test_labels_fit_inside_their_boxes():
    fig = plot_model(_two_by_two(), None, show_shapes=True, show_layer_names=True, show_dtype=True)
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    boxes = [p for p in ax.patches if (p.get_gid() or "").startswith("layer:")]
    for text in ax.texts:
        extent = text.get_window_extent(renderer)
        holder = [b for b in boxes if b.get_window_extent(renderer).contains(*extent.get_points().mean(axis=0))]
        assert len(holder) == 1, text.get_text()
        box = holder[0].get_window_extent(renderer)
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1 and box.y0 <= extent.y0 and extent.y1 <= box.y1, \
            text.get_text()
    # boxes do not overlap one another
    windows = [b.get_window_extent(renderer) for b in boxes]
    for i, a in enumerate(windows):
        for b in windows[i + 1:]:
            assert not a.overlaps(b)


def _nested():
    encoder = gn.Sequential([L.Dense(8, activation="relu", input_shape=(4,)), L.Dense(3)], name="encoder")
    model = gn.Sequential([encoder, L.Activation("softmax", name="probabilities")], name="outer")
    model.build((None, 4))
    return model


def test_a_nested_model_is_one_box_or_an_open_frame():
    boxes, arrows, frames, texts = _drawn(plot_model(_nested(), None, show_layer_names=True, show_shapes=True))
    assert list(boxes) == ["encoder", "probabilities"] and not frames
    assert texts[0] == "encoder (Sequential)" and texts[1] == "Input shape: (None, 4)\nOutput shape: (None, 3)"
    assert arrows == [("encoder", "probabilities")]
    fig = plot_model(_nested(), None, show_layer_names=True, expand_nested=True)
    boxes, arrows, frames, texts = _drawn(fig)
    assert list(boxes) == ["dense", "dense_1", "probabilities"] and list(frames) == ["encoder"]
    assert arrows == [("dense", "dense_1"), ("dense_1", "probabilities")]
    assert "encoder" in texts                                                       # the frame's name
    frame = frames["encoder"].get_bbox()
    for name in ("dense", "dense_1"):
        assert frame.contains(*_centre(boxes[name])) and frame.x0 < boxes[name].get_bbox().x0
    assert not frame.contains(*_centre(boxes["probabilities"]))


def test_a_shared_nested_model_in_a_graph_and_two_levels_of_nesting():
    x1, x2 = gn.Input((4,), name="x1"), gn.Input((4,), name="x2")
    encoder = gn.Sequential([L.Dense(8, activation="relu", input_shape=(4,)), L.Dense(3)], name="encoder")
    siamese = gn.Model([x1, x2], L.Dense(1, activation="sigmoid", name="same")(
        L.Subtract(name="diff")([encoder(x1), encoder(x2)])))
    boxes, arrows, _, _ = _drawn(plot_model(siamese, None, show_layer_names=True))
    assert sorted(arrows) == [("diff", "same"), ("encoder", "diff"), ("x1", "encoder"), ("x2", "encoder")]
    boxes, arrows, frames, _ = _drawn(plot_model(siamese, None, show_layer_names=True, expand_nested=True))
    assert sorted(arrows) == [("dense", "dense_1"), ("dense_1", "diff"), ("diff", "same"), ("x1", "dense"),
                              ("x2", "dense")]
    x = gn.Input((4,), name="x")
    middle = gn.Sequential([L.Dense(4, input_shape=(4,), name="d1"), L.Dense(4, name="d2")], name="middle")
    wrap = gn.Model(x, middle(x), name="wrap")
    y = gn.Input((4,), name="y")
    top = gn.Model(y, L.Dense(2, name="head")(wrap(y)), name="top")
    boxes, arrows, frames, _ = _drawn(plot_model(top, None, show_layer_names=True, expand_nested=True))
    assert sorted(arrows) == [("d1", "d2"), ("d2", "head"), ("x", "d1"), ("y", "x")]
    outer, inner = frames["wrap"].get_bbox(), frames["middle"].get_bbox()
    assert outer.x0 < inner.x0 and inner.x1 < outer.x1 and outer.y0 < inner.y0 and inner.y1 < outer.y1
    assert outer.contains(*_centre(boxes["x"])) and not inner.contains(*_centre(boxes["x"]))


def test_files_png_svg_pdf_and_keras_default_name(tmp_path, monkeypatch):
    model = _two_by_two()
    small = plot_model(model, tmp_path / "m.png", dpi=50)
    plot_model(model, tmp_path / "big.png", dpi=100)
    with Image.open(tmp_path / "m.png") as a, Image.open(tmp_path / "big.png") as b:
        assert a.format == b.format == "PNG"
        assert b.size[0] == pytest.approx(2 * a.size[0], abs=2) and b.size[1] == pytest.approx(2 * a.size[1], abs=2)
        assert np.asarray(a.convert("L")).std() > 5
    width, height = small.get_size_inches()
    assert a.size == pytest.approx((width * 50, height * 50), abs=2)
    plot_model(model, tmp_path / "m.svg", show_layer_names=True)
    svg = (tmp_path / "m.svg").read_text()
    assert sorted(re.findall(r"<!-- (\w+) \(\w+\) -->", svg)) == ["a", "b", "join", "kind", "left", "right", "size"]
    plot_model(model, tmp_path / "m.pdf")
    assert (tmp_path / "m.pdf").read_bytes()[:5] == b"%PDF-"
    monkeypatch.chdir(tmp_path)
    plot_model(_sequential())                                    # Keras's default: model.png here
    assert (tmp_path / "model.png").stat().st_size > 1000
    assert not list(tmp_path.glob("*.tmp*"))
    assert plot.plot_model is plot_model


@pytest.mark.parametrize("call,error,match", [
    (lambda: plot_model(gn.Sequential([L.Dense(2)]), None), ValueError, "not yet been built"),
    (lambda: plot_model("model", None), TypeError, "glassnet model"),
    (lambda: plot_model(_sequential(), None, rankdir="UP"), ValueError, "rankdir"),
    (lambda: plot_model(_sequential(), None, dpi=0), ValueError, "dpi"),
    (lambda: plot_model(_sequential(), None, show_colors=True), ValueError, "show_colors"),
    (lambda: plot_model(_sequential(), None, layer_range=["a", "b"]), ValueError, "layer_range"),
])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_without_matplotlib_the_message_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r'pip install "glassnet\[plot\]"'):
        plot_model(_sequential(), tmp_path / "m.png")
    assert not (tmp_path / "m.png").exists()
    graph = plot.model_graph(_sequential(), show_shapes=True)           # the description needs no matplotlib
    assert [b.lines[0] for b in graph.boxes] == ["Dense", "Dropout", "Dense"] and len(graph.arrows) == 2


def test_a_large_model_stays_readable(tmp_path):
    model = gn.Sequential([L.Dense(8, activation="relu", input_shape=(8,))] +
                          [L.Dense(8, activation="relu") for _ in range(29)])
    fig = plot_model(model, tmp_path / "deep.png", show_shapes=True, dpi=30)
    boxes, arrows, _, _ = _drawn(fig)
    assert len(boxes) == 30 and len(arrows) == 29
    assert pathlib.Path(tmp_path / "deep.png").stat().st_size > 1000


def test_a_layer_of_your_own_is_drawn_by_its_class_name():
    class Doubling(gn.layers.Layer):
        def __init__(self, factor, **kwargs):          # no get_config: plot_model must not need one
            super().__init__(**kwargs)
            self.factor = factor

        def forward(self, x, training=False):
            return x * self.factor

        def backward(self, dy):
            return dy * self.factor

        def get_config(self):
            raise NotImplementedError("not saveable")

    x = gn.Input((3,), name="x")
    model = gn.Model(x, gn.layers.Dense(2, name="out")(Doubling(2.0, name="twice")(x)))
    boxes, arrows, _, texts = _drawn(plot_model(model, None, show_layer_names=True, show_shapes=True))
    assert arrows == [("x", "twice"), ("twice", "out")]
    assert "twice (Doubling)" in texts and "Input shape: (None, 3)\nOutput shape: (None, 3)" in texts
