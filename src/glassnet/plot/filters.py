"""Convolutional networks, seen: the learned filters of a Conv2D layer, and how they change while the
network trains (FilterSnapshots, a callback that keeps a copy of the kernel each epoch or every N
batches, and plot_filter_evolution).  The feature maps of one image are in feature_maps.py.

A Conv2D kernel W has shape (kh, kw, channels, filters): filter f on channel c is the small image
W[:, :, c, f].  Each is drawn divided by its filter's largest |weight| (over all its channels), so
every filter spans blue (-1) through white (0) to red (+1), as plot_weights draws Dense units.
"""
from __future__ import annotations

import numpy as np

from .._checks import positive_int
from ..callbacks import Callback
from ..layers import Conv2D
from ._figure import finish, new_figure
from .weights import tile_images


def conv2d_layers(model):
    """Every Conv2D layer of a model, in order (inside models used as layers too)."""
    found = []
    for layer in getattr(model, "layers", []):
        if isinstance(layer, Conv2D):
            found.append(layer)
        elif hasattr(layer, "layers"):
            found += conv2d_layers(layer)
    return found


def _layer_names(model):
    return ", ".join(getattr(l, "name", type(l).__name__) for l in getattr(model, "layers", [])) or "none"


def find_conv2d(model_or_layer, layer=None, what="plot_filters"):
    """The Conv2D layer to draw: `layer` (its name, its position among the model's Conv2D layers, or
    the layer itself), else the model's first Conv2D; a Conv2D layer passed directly is itself."""
    if isinstance(model_or_layer, Conv2D) and layer is None:
        found = model_or_layer
    elif not hasattr(model_or_layer, "layers"):
        raise TypeError(f"{what} expects a model with a Conv2D layer or a Conv2D layer, "
                        f"got {type(model_or_layer).__name__}")
    else:
        convs = conv2d_layers(model_or_layer)
        if not convs:
            raise ValueError(f"{what}: the model has no Conv2D layer (its layers: {_layer_names(model_or_layer)})")
        if layer is None:
            found = convs[0]
        elif isinstance(layer, str):
            named = [c for c in convs if c.name == layer]
            if not named:
                raise ValueError(f"{what}: no Conv2D layer named {layer!r}; the model's Conv2D layers are "
                                 f"{', '.join(c.name for c in convs)}")
            found = named[0]
        elif isinstance(layer, (int, np.integer)) and not isinstance(layer, bool):
            if not -len(convs) <= layer < len(convs):
                raise ValueError(f"{what}: layer={layer} but the model has {len(convs)} Conv2D layer(s)")
            found = convs[layer]
        elif isinstance(layer, Conv2D) and layer in convs:
            found = layer
        else:
            raise ValueError(f"{what}: layer must be the name or position of one of the model's Conv2D layers "
                             f"({', '.join(c.name for c in convs)}), got {layer!r}")
    if not found.built:
        raise ValueError(f"{what}: {found.name!r} has no weights yet; build the model first (give it an Input "
                         f"or input_shape, or fit it)")
    return found


def filter_tiles(model_or_layer, layer=None, what="filter_tiles"):
    """(tiles, name): a Conv2D kernel (kh, kw, channels, filters) as tiles[f, c] = W[:, :, c, f], shape
    (filters, channels, kh, kw), without drawing.  Takes a model, a Conv2D layer or a 4-D kernel array."""
    if isinstance(model_or_layer, np.ndarray):
        if model_or_layer.ndim != 4:
            raise ValueError(f"{what} expects a Conv2D kernel of shape (kh, kw, channels, filters), got shape "
                             f"{model_or_layer.shape}")
        kernel, name = model_or_layer, "kernel"
    else:
        found = find_conv2d(model_or_layer, layer, what)
        kernel, name = found.params["W"], found.name
    return np.asarray(kernel, dtype=np.float64).transpose(3, 2, 0, 1).copy(), name


def _scaled(tiles):
    """Each filter (first axis) divided by its largest |weight|; all-zero filters stay 0."""
    scale = np.abs(tiles).reshape(len(tiles), -1).max(axis=1)
    return tiles / np.where(scale > 0, scale, 1.0).reshape((-1,) + (1,) * (tiles.ndim - 1))


def _mosaic_axes(fig, mosaic, cmap, title, label):
    import matplotlib
    ax = fig.subplots()
    colormap = matplotlib.colormaps[cmap].with_extremes(bad="0.35")
    image = ax.imshow(mosaic, cmap=colormap, vmin=-1, vmax=1, interpolation="nearest")
    ax.set_title(title, fontsize=11)
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02, shrink=0.8, label=label)
    ax.tick_params(length=0, labelsize=8)
    return ax


def plot_filters(model_or_layer, path=None, layer=None, max_filters=64, max_channels=16, cmap="RdBu_r"):
    """The learned filters of a Conv2D layer (the model's first, or `layer`: a name or a position among
    its Conv2D layers) as a grid of small images, each filter divided by its largest |weight|.

    One channel (a first layer on grey images): the filters side by side, eight per row.
    Several channels: one row per filter, one column per input channel (W[:, :, c, f]).
    Shows the first `max_filters` filters and `max_channels` channels.  Returns the Figure; saves
    it to `path` when given.
    """
    tiles, name = filter_tiles(model_or_layer, layer, "plot_filters")
    max_filters = positive_int(max_filters, "max_filters")
    max_channels = positive_int(max_channels, "max_channels")
    filters, channels, kh, kw = tiles.shape
    scaled = _scaled(tiles)[:max_filters, :max_channels]
    n, c = scaled.shape[:2]
    pad = 1
    if channels == 1:
        cols = min(8, n)
        mosaic = tile_images(scaled[:, 0], cols, pad)
        rows = -(-n // cols)
    else:
        cols, rows = c, n
        mosaic = tile_images(scaled.reshape(n * c, kh, kw), cols, pad)
    cell = max(0.35, min(1.0, 6.0 / max(cols, 1)))
    fig = new_figure((max(4.5, cell * cols * max(kw, 3) / 3 + 1.8), max(3.0, cell * rows * max(kh, 3) / 3 + 1.0)))
    shown = f"{n} of {filters} filters" if n < filters else f"{filters} filter{'s' if filters != 1 else ''}"
    title = f"Filters of {name!r}: {shown} {kh}x{kw}, {channels} channel{'s' if channels != 1 else ''}"
    ax = _mosaic_axes(fig, mosaic, cmap, title, "weight / max |weight| of the filter")
    centres = lambda count, size: [i * (size + pad) + (size - 1) / 2 for i in range(count)]   # noqa: E731
    if channels == 1:
        ax.set_xticks(centres(cols, kw), [f"+{i}" for i in range(cols)])
        ax.set_yticks(centres(rows, kh), [str(r * cols) for r in range(rows)])
        ax.set_ylabel("filter (row + column)")
    else:
        ax.set_xticks(centres(cols, kw), [str(i) for i in range(cols)])
        ax.set_yticks(centres(rows, kh), [str(i) for i in range(rows)])
        ax.set_xlabel("input channel")
        ax.set_ylabel("filter")
    return finish(fig, path)


class FilterSnapshots(Callback):
    """A callback that keeps a copy of a Conv2D layer's kernel as the model trains:

        snapshots = plot.FilterSnapshots()                     # the first Conv2D layer, every epoch
        model.fit(x, y, epochs=5, callbacks=[snapshots])
        plot.plot_filter_evolution(snapshots, "filters_over_time.png")

    `kernels` is the list of copies (kh, kw, channels, filters) and `labels` their names: "start"
    (before the first batch), then "epoch 1", "epoch 2", ... or, with `every_batches=N`, "batch N",
    "batch 2N", ... counted over the whole fit.  `layer`: a name or position among the model's
    Conv2D layers (default: the first).  A new fit starts a new list.
    """

    def __init__(self, layer=None, every_batches=None):
        super().__init__()
        self.layer = layer
        self.every_batches = None if every_batches is None else positive_int(every_batches, "every_batches")
        self.kernels: list[np.ndarray] = []
        self.labels: list[str] = []
        self.layer_name = None
        self._conv = None
        self._batches = 0

    def _take(self, label):
        self.kernels.append(np.array(self._conv.params["W"], dtype=np.float64, copy=True))
        self.labels.append(label)

    def on_train_begin(self, logs=None):
        self._conv = find_conv2d(self.model, self.layer, "FilterSnapshots")
        self.layer_name = self._conv.name
        self.kernels, self.labels, self._batches = [], [], 0
        self._take("start")

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1
        if self.every_batches is not None and self._batches % self.every_batches == 0:
            self._take(f"batch {self._batches}")

    def on_epoch_end(self, epoch, logs=None):
        if self.every_batches is None:
            self._take(f"epoch {epoch + 1}")


def plot_filter_evolution(snapshots, path=None, labels=None, channel=0, max_filters=16, max_rows=12,
                          cmap="RdBu_r"):
    """The filters of a Conv2D layer over training: one row per snapshot (time runs down), one column
    per filter (its input channel `channel`).  Each filter is divided by its largest |weight| over all
    the snapshots, so a column shows how that filter grew and changed shape.

    `snapshots`: a FilterSnapshots callback after fit, or a list of kernels (kh, kw, channels, filters)
    with `labels` for the rows.  More than `max_rows` snapshots: evenly spaced ones, first and last
    included.  Returns the Figure; saves it to `path` when given.
    """
    if isinstance(snapshots, FilterSnapshots):
        kernels, labels = snapshots.kernels, labels or snapshots.labels
        name = snapshots.layer_name
    else:
        kernels, name = list(snapshots), "kernel"
    if not kernels:
        raise ValueError("plot_filter_evolution: no snapshots (fit the model with the FilterSnapshots callback "
                         "first, or pass a list of kernels)")
    kernels = [np.asarray(k, dtype=np.float64) for k in kernels]
    if any(k.ndim != 4 or k.shape != kernels[0].shape for k in kernels):
        raise ValueError(f"plot_filter_evolution expects kernels of one shape (kh, kw, channels, filters), got "
                         f"shapes {sorted({k.shape for k in kernels})}")
    labels = list(labels) if labels is not None else [f"snapshot {i}" for i in range(len(kernels))]
    if len(labels) != len(kernels):
        raise ValueError(f"plot_filter_evolution: {len(kernels)} snapshots but {len(labels)} labels")
    kh, kw, channels, filters = kernels[0].shape
    if not 0 <= channel < channels:
        raise ValueError(f"plot_filter_evolution: channel must be in 0-{channels - 1}, got {channel}")
    max_filters, max_rows = positive_int(max_filters, "max_filters"), positive_int(max_rows, "max_rows")
    rows = evolution_rows(len(kernels), max_rows)
    n = min(filters, max_filters)
    stack = evolution_tiles(kernels, channel)[rows][:, :n]                     # (time, filter, kh, kw)
    mosaic = tile_images(stack.reshape(-1, kh, kw), n, 1)
    fig = new_figure((max(4.5, 0.55 * n * max(kw, 3) / 3 + 2.4), max(3.0, 0.55 * len(rows) * max(kh, 3) / 3 + 1.1)))
    ax = _mosaic_axes(fig, mosaic, cmap, f"Filters of {name!r} during training (channel {channel})",
                      "weight / max |weight| of the filter over time")
    ax.set_xticks([i * (kw + 1) + (kw - 1) / 2 for i in range(n)], [str(i) for i in range(n)])
    ax.set_yticks([i * (kh + 1) + (kh - 1) / 2 for i in range(len(rows))], [labels[r] for r in rows])
    ax.set_xlabel("filter")
    return finish(fig, path)


def evolution_rows(count, max_rows):
    """Which snapshots to show: all, or `max_rows` evenly spaced ones (the first and the last among them)."""
    if count <= max_rows:
        return list(range(count))
    return sorted({int(round(i * (count - 1) / (max_rows - 1))) for i in range(max_rows)})


def evolution_tiles(kernels, channel=0):
    """The snapshots as tiles (time, filter, kh, kw) of `channel`, each filter divided by its largest
    |weight| over all the snapshots (no drawing)."""
    stack = np.stack([np.asarray(k, dtype=np.float64)[:, :, channel, :].transpose(2, 0, 1) for k in kernels])
    scale = np.abs(stack).max(axis=(0, 2, 3))
    return stack / np.where(scale > 0, scale, 1.0)[None, :, None, None]
