"""The items a trace shows for convolution and pooling layers (render.py draws them).

Forward, a convolution shows its kernel one (kh, kw) slice per channel and filter, the shapes of
its three steps (cols = im2col(x), z = cols W + b folded back, a = f(z)) and its chosen pixel
written out: the patch of x under the filter, the filter, their products, and the sum
z = w1*x1 + w2*x2 + ... + b, then a = f(z).  A pooling layer shows its output and one output
pixel's window, a = max(...).  Backward, a convolution writes one entry of dL/dW out as its sum.
Arrays whose last two axes are not the image's carry a layout: the index of their first spatial
axis (0 for a kernel (kh, kw, channels, filters) or a patch (kh, kw, channels), 1 for images).
"""
from __future__ import annotations

from .pixels import window_text

KERNEL, IMAGE = 0, 1                   # where the two spatial axes start


def _size(values):
    return "x".join(str(int(v)) for v in values)


def _index(values):
    return "[" + ", ".join(str(int(v)) for v in values) + "]"


def heading_parts(layer, w):
    """The words after the layer's class in its heading: filters and kernel, or the pooling window."""
    if layer.conv:
        c = layer.conv
        words = w["filters"] if c["filters"] != 1 else w["filter_one"]
        parts = [words.format(n=c["filters"], size=_size(c["kernel"]))]
        if any(s != 1 for s in c["strides"]):
            parts.append(w["strides"].format(size=_size(c["strides"])))
        if c["padding"] != "valid":
            parts.append(w["padding"].format(padding=c["padding"]))
        return parts
    p = layer.pool
    parts = [w["window"].format(size=_size(p["kernel"]))]
    if tuple(p["strides"]) != tuple(p["kernel"]):
        parts.append(w["strides"].format(size=_size(p["strides"])))
    if p["padding"] != "valid":
        parts.append(w["padding"].format(padding=p["padding"]))
    return parts


def _where(spot, w):
    return ", ".join(f"{name} {int(v)}" for name, v in zip(w["axes"][len(spot)], spot))


def conv_forward(layer, w):
    """Rows of a convolution's forward pass, then its pixel written out."""
    act = layer.activation or "linear"
    items = [("row", f"W  {w['kernel']}", layer.W, KERNEL)]
    if layer.b is not None:
        items.append(("row", f"b  {w['bias']}", layer.b))
    if layer.cols is not None:
        items.append(("row", f"cols = im2col(x)  {w['cols']}", layer.cols))
    items.append(("row", f"z = cols W{' + b' if layer.b is not None else ''}  {w['conv_z']}", layer.z, IMAGE))
    items.append(("row", f"a = {act}(z)  {w['activation']}", layer.output, IMAGE))
    px = layer.pixel
    if px is None:
        return items
    f = px.filter
    items.append(("text", w["pixel_head"].format(target=px.target, n=px.sample, where=_where(px.pixel, w), f=f)))
    window = window_text(px.positions, w["spans"][len(px.pixel)]) + (w["padding_zeros"] if px.padded else "")
    items.append(("row", w["patch"].format(window=window), px.patch, KERNEL))
    items.append(("row", f"w = W[..., {f}]  {w['filter_f'].format(f=f)}", px.kernel, KERNEL))
    items.append(("row", f"w * x  {w['products']}", px.products, KERNEL))
    words = (w["sum_products"] if px.has_bias else w["sum_products_nobias"]).format(k=px.terms.size, f=f)
    items.append(("sum", {"lhs": px.target, "words": words, "pairs": (px.kernel.reshape(-1), px.patch.reshape(-1)),
                          "bias": px.bias if px.has_bias else None, "result": px.z,
                          "then": ("a" + _index(px.index), act, px.z, px.a)}))
    return items


def pool_forward(layer, w):
    """The pooling layer's output, then one output pixel and its window."""
    kind = layer.pool["kind"]
    items = [("row", f"a  {w['pool_' + kind]}", layer.output, IMAGE)]
    pick = layer.pool_pixel
    if pick is None:
        return items
    spot = pick.index[1:-1]
    items.append(("text", w["pool_head"].format(target=pick.target, n=pick.index[0], where=_where(spot, w),
                                                c=pick.index[-1])))
    window = window_text(pick.positions, w["spans"][len(spot)])
    items.append(("row", f"x  {w['pool_window'].format(window=window)}", pick.window))
    items.append(("sum", {"lhs": pick.target, "op": w["op_" + kind], "values": pick.values, "result": pick.value}))
    return items


def conv_weight_gradient(layer, w):
    """dL/dW of a convolution, then one of its entries written out as a sum."""
    items = [("row", f"dL/dW = cols^T dL/dz  {w['grad_W']}", layer.dW, KERNEL)]
    ws = layer.weight_sum
    if ws is not None:
        f = ws.index[-1]
        items.append(("text", w["dW_head"].format(target=ws.target)))
        words = w["dW_sum"].format(k=ws.terms.size, tap=tuple(int(v) for v in ws.index[:-1]), f=f)
        items.append(("sum", {"lhs": ws.target, "words": words, "pairs": (ws.x, ws.dz),
                              "bias": ws.regularization if layer.regularizer is not None else None,
                              "bias_label": w["plus_reg"], "result": ws.value}))
    return items


def grad_input_label(layer, w):
    """The label of dL/dx for a convolution or pooling layer."""
    if layer.conv:
        return f"dL/dx = col2im(dL/dz W^T)  {w['grad_x']}"
    return w["pool_back_" + layer.pool["kind"]]
