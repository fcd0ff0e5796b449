"""Inside a trained model: first-layer weights as images, the misclassified inputs, and
per-layer histograms of weights and activations."""
from __future__ import annotations

import math

import numpy as np

from .._checks import positive_int
from ..metrics import as_labels
from ._figure import (check_image_shape, finish, grid_figure, grid_shape, new_figure, predicted_classes,
                      require_model)


def first_kernel(model_or_layer):
    """(kernel (inputs, units), name) of the first layer with a 2-D 'W' (Dense), or a 2-D array as given.
    (A Conv2D kernel is 4-D: plot_filters draws those.)"""
    if isinstance(model_or_layer, np.ndarray):
        if model_or_layer.ndim != 2:
            raise ValueError(f"plot_weights expects a kernel of shape (inputs, units), got shape "
                             f"{model_or_layer.shape}")
        return model_or_layer, "kernel"
    layers = getattr(model_or_layer, "layers", None)
    if layers is None:
        if hasattr(model_or_layer, "params"):
            layers = [model_or_layer]
        else:
            raise TypeError(f"plot_weights expects a model, a layer or a kernel array, "
                            f"got {type(model_or_layer).__name__}")
    for layer in layers:
        w = getattr(layer, "params", {}).get("W")
        if w is not None and np.ndim(w) == 2:
            return np.asarray(w), getattr(layer, "name", None) or type(layer).__name__
    if any(not getattr(layer, "built", True) for layer in layers):
        raise ValueError("plot_weights: the layer has no weights yet; build the model first "
                         "(give input_shape=(784,) or fit it)")
    raise ValueError("plot_weights: no layer with a kernel 'W' (a Dense layer) found"
                     + ("; a Conv2D layer's filters are drawn by plot_filters"
                        if any(np.ndim(getattr(l, "params", {}).get("W", 0)) == 4 for l in layers) else ""))


def tile_images(images, cols, pad=1):
    """Put equal-sized images (n, h, w) side by side, `cols` per row, `pad` NaN pixels between them.

    Image j sits at rows r*(h+pad) : r*(h+pad)+h and columns c*(w+pad) : c*(w+pad)+w of the
    mosaic, with r, c = divmod(j, cols); unused places stay NaN (drawn as the colormap's 'bad' colour).
    """
    images = np.asarray(images, dtype=np.float64)
    n, h, w = images.shape
    rows = math.ceil(n / cols)
    mosaic = np.full((rows * h + (rows - 1) * pad, cols * w + (cols - 1) * pad), np.nan)
    for j in range(n):
        r, c = divmod(j, cols)
        mosaic[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = images[j]
    return mosaic


def plot_weights(model_or_layer, path=None, shape=(28, 28), max_units=50, cmap="RdBu_r"):
    """The first Dense layer's weights, one tile per hidden unit: column j of the kernel W (inputs,
    units) reshaped to `shape` (28x28 for MNIST) and divided by its largest absolute value, so each
    tile spans -1 (blue) .. 0 (white) .. +1 (red).  Shows the first `max_units` units, ten per row,
    in one mosaic image (``tile_images``): the unit number is the row's label plus the column's.
    Accepts a model, a layer, or a kernel array.  Returns the Figure; saves it to `path` when given.
    """
    import matplotlib
    w, name = first_kernel(model_or_layer)
    shape = check_image_shape(shape)
    max_units = positive_int(max_units, "max_units")
    inputs, units = w.shape
    if inputs != shape[0] * shape[1]:
        raise ValueError(f"plot_weights: the kernel of {name!r} has {inputs} inputs per unit, which cannot be "
                         f"shown as {shape[0]}x{shape[1]} images; pass shape=(height, width) with "
                         f"height * width == {inputs}")
    n = min(units, max_units)
    rows, cols = grid_shape(n, 10)
    tiles = np.asarray(w[:, :n], dtype=np.float64).T.reshape((n,) + shape)
    scale = np.abs(tiles).reshape(n, -1).max(axis=1)
    tiles = tiles / np.where(scale > 0, scale, 1.0)[:, None, None]
    pad = max(1, max(shape) // 14)
    fig = new_figure((0.85 * cols * shape[1] / 28 + 1.6, 0.85 * rows * shape[0] / 28 + 1.0))
    ax = fig.subplots()
    colormap = matplotlib.colormaps[cmap].with_extremes(bad="0.35")          # the gaps between tiles
    image = ax.imshow(tile_images(tiles, cols, pad), cmap=colormap, vmin=-1, vmax=1, interpolation="nearest")
    ax.set_xticks([c * (shape[1] + pad) + (shape[1] - 1) / 2 for c in range(cols)], [f"+{c}" for c in range(cols)])
    ax.set_yticks([r * (shape[0] + pad) + (shape[0] - 1) / 2 for r in range(rows)],
                  [str(r * cols) for r in range(rows)])
    ax.tick_params(length=0, labelsize=8)
    ax.set_ylabel("unit (row + column)")
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02, shrink=0.8, label="weight / max |weight| of the unit")
    shown = f"{n} of {units} units" if n < units else f"{units} units"
    ax.set_title(f"First-layer weights of {name!r}: {shown}", fontsize=11)
    return finish(fig, path)


def plot_misclassified(model, x, y, path=None, max_images=25, image_shape=(28, 28), labels=None):
    """The inputs the model classifies wrongly, as images titled 'true t, pred p' with the predicted
    class's probability below; the first `max_images` of them in data order, five per row.

    `x` is what the model takes ((n, 784) or (n, 28, 28)); each sample is shown reshaped to
    `image_shape`.  `y`: class labels or one-hot rows.  `labels`: optional class names.
    With no mistakes the figure says so.  Returns the Figure; saves it to `path` when given.
    """
    require_model(model, "plot_misclassified")
    image_shape = check_image_shape(image_shape, "image_shape")
    max_images = positive_int(max_images, "max_images")
    x_arr = np.asarray(x)
    y = as_labels(y)
    if len(y) != len(x_arr):
        raise ValueError(f"x and y must have the same number of samples, got {len(x_arr)} and {len(y)}")
    if x_arr.ndim < 2 or x_arr[0].size != image_shape[0] * image_shape[1]:
        raise ValueError(f"plot_misclassified: samples of shape {x_arr.shape[1:]} cannot be shown as "
                         f"{image_shape[0]}x{image_shape[1]} images; pass image_shape=(height, width)")
    outputs = np.asarray(model.predict(x, batch_size=256))
    pred = predicted_classes(outputs)
    wrong = np.flatnonzero(pred != y)
    name = (lambda c: str(labels[c]) if labels is not None and c < len(labels) else str(c))
    if len(wrong) == 0:
        fig = new_figure((5, 2))
        ax = fig.subplots()
        ax.axis("off")
        ax.text(0.5, 0.5, f"no misclassified examples among {len(y):,}", ha="center", va="center")
        return finish(fig, path)
    shown = wrong[:max_images]
    rows, cols = grid_shape(len(shown), 5)
    fig = new_figure((1.9 * cols + 0.2, 2.15 * rows + 0.7), layout=None)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.03, top=1 - 0.7 / (2.15 * rows + 0.7),
                        wspace=0.15, hspace=0.45)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    binary = outputs.ndim == 1 or outputs.shape[1] == 1
    for ax, i in zip(axes, shown):
        ax.imshow(np.asarray(x_arr[i], dtype=np.float64).reshape(image_shape), cmap="gray", interpolation="nearest")
        if binary:
            p1 = float(outputs.reshape(-1)[i])
            prob = p1 if pred[i] == 1 else 1 - p1
        else:
            prob = float(outputs[i, pred[i]])
        ax.set_title(f"true {name(y[i])}, pred {name(pred[i])}", fontsize=9, color="tab:red", pad=3)
        ax.set_xlabel(f"#{i}  p={prob:.2f}", fontsize=8, labelpad=2)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[len(shown):]:
        ax.remove()
    fig.suptitle(f"Misclassified: {len(wrong):,} of {len(y):,} ({len(wrong) / len(y):.1%}); "
                 f"showing {len(shown)}", fontsize=11)
    return finish(fig, path)


def _layer_outputs(model, x):
    """[(layer, output)] for each layer on the batch x (inference mode, nothing kept)."""
    model.predict(x, batch_size=256)                   # checks x (shape, numbers, finite) with the model's messages
    h = np.asarray(x, dtype=model.dtype)
    result = []
    for layer in model.layers:
        h = layer.forward(h, training=False)
        result.append((layer, np.array(h, copy=True)))
    return result


def plot_layer_histograms(model, x, path=None, bins=50):
    """Per-layer histograms: each layer's weights (left: W, b, ... overlaid) and its outputs on the
    batch `x` (right: the activations after the layer's activation function), one row per layer,
    as in the notes' study of activation distributions.  Titles give each output's mean and std.
    Returns the Figure; saves it to `path` when given.
    """
    require_model(model, "plot_layer_histograms")
    bins = positive_int(bins, "bins")
    if not getattr(model, "layers", None):
        raise ValueError("plot_layer_histograms: the model has no layers")
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    outputs = _layer_outputs(model, x)
    rows = len(outputs)
    fig, axes = grid_figure(rows, 2, (4.6, 2.0), left=0.75, top=0.75, bottom=0.4, wgap=0.8, hgap=0.6)
    for (ax_w, ax_a), (layer, out) in zip(axes, outputs):
        name = getattr(layer, "name", None) or type(layer).__name__
        params = {k: np.asarray(v).ravel() for k, v in getattr(layer, "params", {}).items()}
        if params:
            # the largest array (the kernel W) as a histogram; the others (biases...) as ticks along the axis
            largest = max(params, key=lambda k: params[k].size)
            others = [k for k in params if k != largest]
            values = params[largest][np.isfinite(params[largest])]
            ax_w.stairs(*np.histogram(values, bins=bins), fill=True, color="tab:blue", alpha=0.8,
                        label=f"{largest} ({values.size:,} values)")
            rug = ax_w.get_xaxis_transform()               # x in data units, y in axes units
            for key, color in zip(others, ("tab:orange", "tab:red", "tab:purple", "tab:brown")):
                values = params[key][np.isfinite(params[key])]
                ax_w.vlines(values, 0, 0.12, transform=rug, color=color, linewidth=1,
                            label=f"{key} ({values.size:,} values, ticks)")
            ax_w.legend(fontsize="small")
            ax_w.set_ylabel("count")
            ax_w.set_title(f"{name}: weights")
        else:
            ax_w.text(0.5, 0.5, f"{name}: no weights", ha="center", va="center", transform=ax_w.transAxes)
            ax_w.set_xticks([])
            ax_w.set_yticks([])
        values = out.ravel()
        values = values[np.isfinite(values)].astype(np.float64)
        ax_a.stairs(*np.histogram(values, bins=bins), fill=True, color="tab:green", alpha=0.8)
        activation = getattr(layer, "activation", None)
        kind = f" ({activation})" if isinstance(activation, str) else ""
        stats = f"mean {values.mean():.3g}\nstd {values.std():.3g}" if values.size else "no finite values"
        ax_a.text(0.98, 0.95, stats, ha="right", va="top", fontsize="small", transform=ax_a.transAxes,
                  bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "0.8"})
        ax_a.set_ylabel("count")
        ax_a.set_title(f"{name}: outputs{kind} on {len(out):,} samples")
        for ax in (ax_w, ax_a):
            ax.grid(True, alpha=0.3)
    fig.suptitle("Weights and activations per layer")
    return finish(fig, path)
