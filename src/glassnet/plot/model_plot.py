"""plot_model: a drawing of a model's layers and how they connect (Keras's keras.utils.plot_model),
made with matplotlib instead of Graphviz.

    gn.utils.plot_model(model, to_file="model.png", show_shapes=True, show_layer_names=True)

Each layer is a box (its class name, or "name (Class)" with show_layer_names=True; then, on request,
its activation, input and output shapes, output dtype and whether it is trainable, as Keras writes
them), each connection an arrow.  A Sequential is a chain of its layers; a graph model shows its
Input layers, branches and merges; a model used as a layer is one box, or with expand_nested=True
a dashed frame around its own layers.  Layers are placed in ranks by their longest path from an
input (top to bottom with rankdir="TB", left to right with "LR"), an Input one rank before its
first reader, ordered in a rank by the mean position of what feeds them.

`model_graph(model, ...)` is the same description without drawing: the boxes, arrows and frames.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..models import Model
from ._figure import finish, new_figure

FONT_SIZE = 10            # points
CHAR_WIDTH = 0.085        # inches per character at FONT_SIZE (DejaVu Sans, generous)
LINE_HEIGHT = 0.2         # inches per line of text
PAD = 0.12                # inches of box around the text
RANK_GAP = 0.55           # inches between ranks
NODE_GAP = 0.45           # inches between boxes of one rank
FRAME_PAD = 0.18          # inches of frame around a nested model's boxes
RANKDIRS = ("TB", "LR", "BT", "RL")
_COLORS = {"input": "#d9f2d9", "model": "#fff2cc", "layer": "#dde8f6"}


@dataclass
class Box:
    """One layer (or a model drawn as one): its label lines and, once laid out, its place in inches."""
    key: int
    name: str
    kind: str                                # "input", "layer" or "model"
    lines: list
    frame: int | None = None                 # the index in Graph.frames of the innermost frame around it
    rank: int = 0
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0


@dataclass
class Frame:
    """A nested model drawn open (expand_nested=True): its name, boxes and enclosing frame."""
    name: str
    parent: int | None
    keys: list = field(default_factory=list)


@dataclass
class Graph:
    boxes: list
    arrows: list                             # [(key of the box it leaves, key of the box it enters)]
    frames: list


# ======================================================================
# The graph of a model
# ======================================================================

def _shape_text(shape):
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_text(s) for s in shape) + "]"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _lines(layer, show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable):
    """The label of one box, as Keras's plot_model writes it."""
    cls = type(layer).__name__
    lines = [f"{layer.name} ({cls})" if show_layer_names else cls]
    activation = getattr(layer, "activation", None)
    if show_layer_activations and isinstance(activation, str) and not isinstance(layer, Model):
        lines.append(f"Activation: {activation}")
    if show_shapes:
        if cls != "InputLayer":
            lines.append(f"Input shape: {_shape_text(getattr(layer, 'input_shape', None))}")
        lines.append(f"Output shape: {_shape_text(getattr(layer, 'output_shape', None))}")
    if show_dtype:
        lines.append(f"Output dtype: {getattr(layer, 'dtype', '?')}")
    if show_trainable:
        lines.append(f"Trainable: {bool(getattr(layer, 'trainable', True))}")
    return lines


def _is_graph(model):
    return hasattr(model, "connected_to")          # a Functional: layers called on symbolic tensors


def _links(model):
    """[(source layer, target layer)] between the layers of `model`, each pair once."""
    if not _is_graph(model):
        return list(zip(model.layers, model.layers[1:]))
    by_name = {layer.name: layer for layer in model.layers}
    links, seen = [], set()
    for i, layer in enumerate(model.layers):
        for ref in model.connected_to(i):             # "dense[0][0]": layer name, its call, its output
            source = by_name[ref.rsplit("[", 2)[0]]
            if (id(source), id(layer)) not in seen:
                seen.add((id(source), id(layer)))
                links.append((source, layer))
    return links


def _ends(model):
    """(the layers data enters through, the layers whose outputs leave) of a model."""
    if not _is_graph(model):
        return [model.layers[0]], [model.layers[-1]]
    by_name = {layer.name: layer for layer in model.layers}
    return [by_name[t.name] for t in model.inputs], [by_name[t.name] for t in model.outputs]


def model_graph(model, show_shapes=False, show_dtype=False, show_layer_names=False, expand_nested=False,
                show_layer_activations=False, show_trainable=False) -> Graph:
    """The boxes, arrows and frames plot_model draws for `model` (nothing laid out yet)."""
    if not isinstance(model, Model):
        raise TypeError(f"plot_model expects a glassnet model (Sequential or Model), got {type(model).__name__}")
    if not model.built or not model.layers:
        raise ValueError("This model has not yet been built. Build the model first by calling build() or by "
                         "calling the model on a batch of data (or give its first layer input_shape=...).")
    label = dict(show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                 show_layer_activations=show_layer_activations, show_trainable=show_trainable)
    graph = Graph([], [], [])

    def add(inner, frame):
        """Add the layers of `inner`; return {id(layer): (entry keys, exit keys)}."""
        ends = {}
        for layer in inner.layers:
            if expand_nested and isinstance(layer, Model):
                graph.frames.append(Frame(layer.name, frame))
                sub = add(layer, len(graph.frames) - 1)
                first, last = _ends(layer)
                ends[id(layer)] = ([k for f in first for k in sub[id(f)][0]],
                                   [k for f in last for k in sub[id(f)][1]])
                continue
            kind = "model" if isinstance(layer, Model) else \
                "input" if type(layer).__name__ == "InputLayer" else "layer"
            graph.boxes.append(Box(id(layer), layer.name, kind, _lines(layer, **label), frame))
            f = frame
            while f is not None:
                graph.frames[f].keys.append(id(layer))
                f = graph.frames[f].parent
            ends[id(layer)] = ([id(layer)], [id(layer)])
        for source, target in _links(inner):
            for a in ends[id(source)][1]:
                for b in ends[id(target)][0]:
                    if (a, b) not in graph.arrows:
                        graph.arrows.append((a, b))
        return ends

    add(model, None)
    return graph


# ======================================================================
# Layout
# ======================================================================

def layout(graph, rankdir="TB"):
    """Give every box its rank, size and centre (inches); returns (width, height) of the drawing."""
    boxes = {b.key: b for b in graph.boxes}
    parents = {b.key: [] for b in graph.boxes}
    for a, b in graph.arrows:
        parents[b].append(a)
    order = _topological(graph, parents)
    for key in order:
        boxes[key].rank = max((boxes[p].rank + 1 for p in parents[key]), default=0)
    children = {key: [] for key in boxes}
    for a, b in graph.arrows:
        children[a].append(b)
    for key in order:                         # an input read only deeper in the graph sits next to its reader
        if not parents[key] and children[key]:
            boxes[key].rank = min(boxes[c].rank for c in children[key]) - 1
    for box in graph.boxes:
        box.width = max(len(line) for line in box.lines) * CHAR_WIDTH + 2 * PAD
        box.height = len(box.lines) * LINE_HEIGHT + 2 * PAD
    ranks = {}
    for key in order:
        ranks.setdefault(boxes[key].rank, []).append(boxes[key])
    across = rankdir in ("TB", "BT")           # boxes of a rank sit side by side (else one above another)
    position = {}
    for r in sorted(ranks):                   # order a rank by the mean position of what feeds it
        row = ranks[r]
        mean = {b.key: (sum(position[p] for p in parents[b.key]) / len(parents[b.key]) if parents[b.key]
                        else i) for i, b in enumerate(row)}
        row.sort(key=lambda b: mean[b.key])
        for i, b in enumerate(row):
            position[b.key] = i
    def frames_of(box):
        inside, f = [], box.frame
        while f is not None:
            inside.append(f)
            f = graph.frames[f].parent
        return tuple(inside)

    along, before = 0.0, None
    for r in sorted(ranks):
        row = ranks[r]
        frames = {frames_of(b) for b in row}
        if before is not None and frames != before:          # room for a frame's edge and its name
            along += 2 * FRAME_PAD + LINE_HEIGHT
        before = frames
        depth = max(b.height if across else b.width for b in row)
        sizes = [b.width if across else b.height for b in row]
        offset = -(sum(sizes) + NODE_GAP * (len(row) - 1)) / 2
        for b, size in zip(row, sizes):
            cross = offset + size / 2
            offset += size + NODE_GAP
            main = along + depth / 2
            b.x, b.y = {"TB": (cross, -main), "BT": (cross, main), "LR": (main, -cross), "RL": (-main, -cross)}[rankdir]
        along += depth + RANK_GAP
    return _extent(graph)


def _topological(graph, parents):
    keys = [b.key for b in graph.boxes]
    children = {k: [] for k in keys}
    for a, b in graph.arrows:
        children[a].append(b)
    waiting = {k: len(parents[k]) for k in keys}
    ready = [k for k in keys if not waiting[k]]
    order = []
    while ready:
        k = ready.pop(0)
        order.append(k)
        for c in children[k]:
            waiting[c] -= 1
            if not waiting[c]:
                ready.append(c)
    return order


def frame_bounds(graph, index):
    """(left, bottom, right, top) of frame `index`, around its boxes and the frames inside it."""
    boxes = {b.key: b for b in graph.boxes}
    left = min(boxes[k].x - boxes[k].width / 2 for k in graph.frames[index].keys)
    right = max(boxes[k].x + boxes[k].width / 2 for k in graph.frames[index].keys)
    bottom = min(boxes[k].y - boxes[k].height / 2 for k in graph.frames[index].keys)
    top = max(boxes[k].y + boxes[k].height / 2 for k in graph.frames[index].keys)
    depth = 1 + max((_nesting(graph, j, index) for j in range(len(graph.frames))), default=0)
    pad = FRAME_PAD * depth
    return left - pad, bottom - pad, right + pad, top + pad + LINE_HEIGHT


def _nesting(graph, j, index):
    """How many frames deep frame j sits inside frame `index` (0 when it is not inside)."""
    n, f = 0, graph.frames[j].parent
    while f is not None:
        n += 1
        if f == index:
            return n
        f = graph.frames[f].parent
    return 0


def _extent(graph):
    rects = [(b.x - b.width / 2, b.y - b.height / 2, b.x + b.width / 2, b.y + b.height / 2) for b in graph.boxes]
    rects += [frame_bounds(graph, i) for i in range(len(graph.frames)) if graph.frames[i].keys]
    left, bottom = min(r[0] for r in rects), min(r[1] for r in rects)
    right, top = max(r[2] for r in rects), max(r[3] for r in rects)
    return left, bottom, right, top


def _border(box, toward):
    """The point where the line from the box's centre to `toward` leaves the box."""
    dx, dy = toward[0] - box.x, toward[1] - box.y
    if dx == 0 and dy == 0:
        return box.x, box.y
    scale = min(box.width / 2 / abs(dx) if dx else float("inf"), box.height / 2 / abs(dy) if dy else float("inf"))
    return box.x + dx * scale, box.y + dy * scale


# ======================================================================
# Drawing
# ======================================================================

def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False, show_layer_names=False,
               rankdir="TB", expand_nested=False, dpi=200, show_layer_activations=False, show_trainable=False,
               splines="ortho", **kwargs):
    """Draw `model` as boxes and arrows (Keras's plot_model) and save it to `to_file`: PNG, or SVG,
    PDF, ... by the file's ending (to_file=None: only return it).  Returns the matplotlib Figure.

    show_shapes: input and output shapes in each box; show_layer_names: "name (Class)" instead of
    the class name; show_dtype, show_layer_activations, show_trainable: those rows too; rankdir:
    "TB" (top to bottom), "LR", "BT" or "RL"; expand_nested: open models used as layers; dpi: of
    the saved image.  `splines` is accepted for Keras's sake (arrows are straight here).
    """
    if "layer_range" in kwargs:
        raise ValueError("Argument `layer_range` is no longer supported (Keras 3 dropped it too).")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {list(RANKDIRS)}, got {rankdir!r}")
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not 10 <= dpi <= 1200:
        raise ValueError(f"dpi must be a number from 10 to 1200, got {dpi!r}")
    if not isinstance(splines, str):
        raise TypeError(f"splines must be a str, got {type(splines).__name__}")
    graph = model_graph(model, show_shapes, show_dtype, show_layer_names, expand_nested,
                        show_layer_activations, show_trainable)
    left, bottom, right, top = layout(graph, rankdir)
    margin = 0.15
    fig = new_figure((right - left + 2 * margin, top - bottom + 2 * margin), layout=None)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(left - margin, right + margin)
    ax.set_ylim(bottom - margin, top + margin)
    ax.set_axis_off()
    _draw(ax, graph)
    fig._plot_model_graph = graph               # what was drawn, for tests and curious readers
    if to_file is not None:
        from ._figure import save_figure
        save_figure(fig, to_file, dpi=dpi)
    return finish(fig, None)


def _draw(ax, graph):
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

    boxes = {b.key: b for b in graph.boxes}
    for i, frame in enumerate(graph.frames):
        if not frame.keys:
            continue
        x0, y0, x1, y1 = frame_bounds(graph, i)
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, linestyle="--", linewidth=1,
                               edgecolor="0.45", zorder=0, gid=f"model:{frame.name}"))
        ax.text(x0 + FRAME_PAD / 2, y1 - LINE_HEIGHT / 2 - 0.04, frame.name, ha="left", va="center",
                fontsize=FONT_SIZE, color="0.3", style="italic", zorder=3)
    for a, b in graph.arrows:
        source, target = boxes[a], boxes[b]
        start = _border(source, (target.x, target.y))
        end = _border(target, (source.x, source.y))
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, linewidth=1.1,
                                     color="0.2", shrinkA=0, shrinkB=1, zorder=1,
                                     gid=f"arrow:{source.name}->{target.name}"))
    for box in graph.boxes:
        ax.add_patch(FancyBboxPatch((box.x - box.width / 2, box.y - box.height / 2), box.width, box.height,
                                    boxstyle="round,pad=0,rounding_size=0.06", facecolor=_COLORS[box.kind],
                                    edgecolor="0.2", linewidth=1, zorder=2, gid=f"layer:{box.name}"))
        first = box.y + box.height / 2 - PAD - LINE_HEIGHT / 2
        ax.text(box.x, first, box.lines[0], ha="center", va="center", fontsize=FONT_SIZE, fontweight="bold",
                zorder=3)
        if len(box.lines) > 1:
            ax.text(box.x, first - LINE_HEIGHT * (len(box.lines) - 1) / 2 - LINE_HEIGHT / 2,
                    "\n".join(box.lines[1:]), ha="center", va="center", fontsize=FONT_SIZE, linespacing=1.45,
                    zorder=3)
