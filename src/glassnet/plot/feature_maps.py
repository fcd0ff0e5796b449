"""The feature maps of one image: what each convolution and pooling layer makes of it.

A layer with image outputs (batch, height, width, channels) -- Conv2D, pooling, padding,
upsampling, an activation or normalisation after them -- turns the image into one map per channel
(filter).  plot_feature_maps draws the input and then, one row per such layer, its first maps.
"""
from __future__ import annotations

import numpy as np

from .._checks import positive_int
from ._figure import finish, grid_figure, require_model
from .filters import conv2d_layers


def _as_one_image(model, image):
    """image (h, w), (h, w, c) or (1, h, w, c) as a batch of one, checked against the model's input."""
    want = tuple(model.input_shape[1:])
    x = np.asarray(image)
    if x.ndim == len(want) - 1 and len(want) == 3 and want[-1] == 1:
        x = x[..., None]
    if x.ndim == len(want):
        x = x[None]
    if x.shape[1:] != want or len(x) != 1:
        raise ValueError(f"plot_feature_maps expects one image of shape {want} (or (1, *{want})), got shape "
                         f"{np.asarray(image).shape}")
    return x


def feature_maps(model, image):
    """[(name, maps)]: the image itself ("input") and the output of every layer whose outputs are images,
    each maps of shape (height, width, channels), computed in inference mode; no drawing."""
    require_model(model, "feature_maps")
    if not conv2d_layers(model):
        names = ", ".join(getattr(l, "name", "?") for l in getattr(model, "layers", [])) or "none"
        raise ValueError(f"feature_maps: the model has no Conv2D layer (its layers: {names}); feature maps are "
                         f"the images a convolutional network computes")
    x = _as_one_image(model, image)
    model.predict(x, verbose=0)                        # checks the numbers with the model's own messages
    x = x.astype(model.dtype)
    result = [("input", np.array(x[0], dtype=np.float64))]
    if hasattr(model, "add"):                          # a Sequential: run its layers one by one
        h = x
        for layer in model.layers:
            h = layer.forward(h, training=False)
            if np.ndim(h) == 4:
                result.append((layer.name, np.array(h[0], dtype=np.float64)))
        return result
    from ..models import Model                         # a graph model: one model per image-shaped output
    spatial = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"
               and len(getattr(layer, "output_shape", None) or ()) == 4]
    outputs = Model(model.inputs, [layer.output for layer in spatial]).predict(x, verbose=0)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    result += [(layer.name, np.array(out[0], dtype=np.float64)) for layer, out in zip(spatial, outputs)]
    return result


def plot_feature_maps(model, image, path=None, max_maps=8, cmap="viridis"):
    """One image through a convolutional network: the input, then for each layer with image outputs
    (Conv2D, pooling, ...) its first `max_maps` feature maps, one row per layer, each map with its own
    colour scale (min to max of that map, in the panel's corner).  Returns the Figure; saves it to
    `path` when given.
    """
    max_maps = positive_int(max_maps, "max_maps")
    maps = feature_maps(model, image)
    cols = min(max_maps, max(m.shape[-1] for _, m in maps))
    fig, axes = grid_figure(len(maps), cols, (1.25, 1.25), left=1.5, top=0.6, bottom=0.15, wgap=0.15, hgap=0.35)
    for row, (name, m) in zip(axes, maps):
        channels = m.shape[-1]
        for c, ax in enumerate(row):
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= channels:
                ax.axis("off")
                continue
            image_c = m[:, :, c]
            ax.imshow(image_c, cmap="gray" if name == "input" else cmap, interpolation="nearest")
            ax.set_title(f"{c}  [{image_c.min():.2g}, {image_c.max():.2g}]", fontsize=7, pad=2)
        shown = f"{min(channels, cols)} of {channels}" if channels > cols else f"{channels}"
        row[0].set_ylabel(f"{name}\n{m.shape[0]}x{m.shape[1]}, {shown} map{'s' if channels != 1 else ''}",
                          fontsize=8, rotation=0, ha="right", va="center")
    fig.suptitle("Feature maps of one image, layer by layer (each map: its own colour scale)", fontsize=10)
    return finish(fig, path)
