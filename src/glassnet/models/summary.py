"""model.summary(): Keras's table, then how the numbers add up (parameters, memory, FLOPs per layer).

    model.summary()                      # both tables, to stdout
    model.summary(details=False)         # Keras's table only
"""
from __future__ import annotations

import math
import sys

import numpy as np

from .. import initializers


def print_summary(model, print_fn=None, details=True):
    """What Model.summary() prints: print_fn (default print) gets each table's text."""
    out = print_fn or _print_safely
    if not model.built:                      # a Sequential without an input shape, before its first fit
        out(_unbuilt_table(model))
        if details:
            out(" Shapes, parameters and FLOPs appear once the model is built: by its first fit,\n"
                " by build((None, n)), or by an Input (or input_shape=) in front.")
        return
    out(_summary_table(model))
    if details:
        out(_summary_details(model))


def _readable_size(n_bytes):
    for unit in ("B", "KB", "MB", "GB"):
        if n_bytes < 1024 or unit == "GB":
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024


def _summary_table(model) -> str:
    longest = max(len(f"{layer.name} ({type(layer).__name__})") for layer in model.layers)
    widths = (max(33, longest + 2), 24, 15)          # Keras's widths, wider for long layer names
    head = ("Layer (type)", "Output Shape", "Param #")
    graph = hasattr(model, "connected_to")           # a graph model: Keras's "Connected to" column
    if graph:
        links = [", ".join(model.connected_to(i)) or "-"
                 for i in range(len(model.layers))]
        widths += (max(22, max(len(t) for t in links) + 2),)
        head += ("Connected to",)

    def row(cells, edge, sep):
        parts = []
        for i, (cell, w) in enumerate(zip(cells, widths)):
            text = f" {cell:>{w - 2}} " if i == 2 else f" {cell:<{w - 2}} "
            parts.append(text)
        return edge + sep.join(parts) + edge

    def rule(left, mid, right, fill):
        return left + mid.join(fill * w for w in widths) + right

    lines = [f'Model: "{model.name}"', rule("┏", "┳", "┓", "━"), row(head, "┃", "┃"), rule("┡", "╇", "┩", "━")]
    for i, layer in enumerate(model.layers):
        shape = "(" + ", ".join("None" if d is None else str(d) for d in layer.output_shape) + ")"
        if len(layer.output_shape) == 1:
            shape = shape[:-1] + ",)"
        cells = (f"{layer.name} ({type(layer).__name__})", shape, f"{layer.count_params():,}")
        lines.append(row(cells + ((links[i],) if graph else ()), "│", "│"))
        if i < len(model.layers) - 1:
            lines.append(rule("├", "┼", "┤", "─"))
    lines.append(rule("└", "┴", "┘", "─"))
    itemsize = np.dtype(model.dtype).itemsize
    trainable = sum(w.size for l in model.layers if l.trainable for w in l.params.values())
    total = model.count_params()
    non_trainable = total - trainable
    optimizer = _optimizer_params(model)
    counts = [("Total", total + (optimizer or 0)), ("Trainable", trainable), ("Non-trainable", non_trainable)]
    if optimizer is not None:
        counts.append(("Optimizer", optimizer))
    for label, count in counts:
        lines.append(f" {label} params: {count:,} ({_readable_size(count * itemsize)})")
    return "\n".join(lines)


def _optimizer_params(model):
    """The numbers the optimizer keeps, once it has taken a step (or was loaded with its state), as
    Keras counts them: its slots (Adam's m and v per weight, ...), the step count, and the learning
    rate unless a schedule or a function gives it; None before (Keras prints no line then)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not getattr(optimizer, "slots", None):
        return None
    slots = sum(array.size for slot in optimizer.slots for array in slot.values())
    learning_rate = getattr(optimizer, "_learning_rate", None)
    return slots + 1 + (0 if callable(learning_rate) else 1)


def _unbuilt_table(model) -> str:
    """Keras 3's table for a model not built yet: "?" for every shape, "0 (unbuilt)" for a layer that
    creates weights when it is built (one with a build() of its own), totals of 0."""
    from ..layers.base import Layer
    names = [f"{layer.name} ({type(layer).__name__})" for layer in model.layers]
    width = max([33] + [len(name) + 2 for name in names])
    widths = (width, 24, 15)

    def rule(left, mid, right, fill):
        return left + mid.join(fill * w for w in widths) + right

    def row(cells, edge):
        return edge + edge.join(f" {c:>{w - 2}} " if i == 2 else f" {c:<{w - 2}} "
                                for i, (c, w) in enumerate(zip(cells, widths))) + edge

    head = ("Layer (type)", "Output Shape", "Param #")
    lines = [f'Model: "{model.name}"', rule("┏", "┳", "┓", "━"), row(head, "┃"), rule("┡", "╇", "┩", "━")]
    for i, (layer, name) in enumerate(zip(model.layers, names)):
        unbuilt = not layer.built and type(layer).build is not Layer.build
        lines.append(row((name, "?", "0 (unbuilt)" if unbuilt else "0"), "│"))
        if i < len(model.layers) - 1:
            lines.append(rule("├", "┼", "┤", "─"))
    lines.append(rule("└", "┴", "┘", "─"))
    lines += [f" {label} params: 0 (0.00 B)" for label in ("Total", "Trainable", "Non-trainable")]
    return "\n".join(lines)


def _initializer_name(init) -> str:
    """'glorot_uniform', 'random_normal(stddev=0.01)', 'constant(-10)': the name and its numbers."""

    spec = initializers.serialize(init)
    numbers = {k: v for k, v in spec["config"].items()
               if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "seed"
               and not (k == "mean" and v == 0)}
    if list(numbers) == ["value"]:
        return f"{spec['class_name']}({numbers['value']:g})"
    args = ", ".join(f"{k}={v:g}" for k, v in numbers.items())
    return f"{spec['class_name']}({args})" if args else spec["class_name"]


def _layer_details(layer, itemsize):
    """(parameter arithmetic, activation and initializer, memory, FLOPs arithmetic, FLOPs) for one layer."""
    count = layer.count_params()
    memory = _readable_size(count * itemsize)
    out_shape = tuple(layer.output_shape[1:])
    w = layer.params.get("W")
    kind = getattr(layer, "activation", None)
    if hasattr(layer, "units") and w is not None and w.ndim == 2:          # Dense
        n_in, n_out = w.shape
        bias = "b" in layer.params
        params = f"{n_in:,} x {n_out:,}" + (f" + {n_out:,}" if bias else "") + f" = {count:,}"
        what = f"{kind}, {_initializer_name(layer.kernel_initializer)}"
        if bias and _initializer_name(layer.bias_initializer) != "zeros":
            what += f", bias {_initializer_name(layer.bias_initializer)}"
        rows = int(np.prod(out_shape[:-1])) if len(out_shape) > 1 else 1     # Dense on (batch, ..., in)
        per_row = 2 * n_in * n_out + (n_out if bias else 0)
        flops = rows * per_row
        formula = f"2 x {n_in:,} x {n_out:,}" + (f" + {n_out:,}" if bias else "")
        if rows > 1:
            formula = f"{rows:,} x ({formula})"
        return params, what, memory, f"{formula} = {flops:,}", flops
    if type(layer).__name__ == "BatchNormalization":
        c = out_shape[-1]
        per_feature = len(layer.params) + len(layer.state)
        params = f"{per_feature} x {c:,} = {count:,}"
        if layer.state:
            params += f" ({len(layer.params) * c:,} trainable)"
        inits = [f"{key} {_initializer_name(getattr(layer, key + '_initializer'))}" for key in layer.params]
        elements = int(np.prod(out_shape))
        return params, ", ".join(inits) or "-", memory, f"4 x {elements:,} = {4 * elements:,}", 4 * elements
    if getattr(layer, "layers", None) is not None:                          # a model used as a layer
        flops = sum(_layer_details(inner, itemsize)[4] for inner in layer.calls)
        sizes = [w.size for w in layer.weights]
        params = " + ".join(f"{s:,}" for s in sizes) + (f" = {count:,}" if len(sizes) > 1 else "") if count else "0"
        return params, f"a model of {len(layer.layers)} layers", memory, f"its layers: {flops:,}", flops
    more = _more_details(layer, out_shape, count)
    if more is None:
        more = _convnet_details(layer, out_shape, count)
    if more is not None:
        params, what, formula, flops = more
        return params, what, memory, formula, flops
    if type(layer).__name__ == "Dropout":
        what = f"dropout {layer.rate:g} (training only)"
    elif type(layer).__name__ == "Flatten":
        what = "reshape"
    elif type(layer).__name__ == "Rescaling":
        what = f"x * {layer.scale:g}" + (f" + {layer.offset:g}" if layer.offset else "")
    elif kind is not None:                                                  # Activation
        what = kind
    else:
        what = "-"
    if count:
        sizes = [w.size for w in layer.weights]
        params = " + ".join(f"{s:,}" for s in sizes) + (f" = {count:,}" if len(sizes) > 1 else "")
    else:
        params = "0"
    return params, what, memory, "0", 0


def _sizes(layer, count):
    """'6 + 6 + 1 = 13' (a term per weight), '100', or '0'."""
    sizes = [w.size for w in layer.weights]
    if not count:
        return "0"
    return " + ".join(f"{s:,}" for s in sizes) + (f" = {count:,}" if len(sizes) > 1 else "")


def _more_details(layer, out_shape, count):
    """(parameters, what it does, FLOPs arithmetic, FLOPs) for the layers of issue 11, or None."""
    kind = type(layer).__name__
    elements = int(np.prod(out_shape))
    in_shape = tuple(layer.input_shape[1:])
    if kind == "Normalization":
        if layer.state:
            params = f"{_sizes(layer, count)} (0 trainable)"          # mean, variance, count
            what = f"adapted on {int(layer.state['count']):,} samples" if int(layer.state["count"]) else "not adapted"
        else:
            params, what = "0", "given mean and variance"
        what = ("x * std + mean, " if layer.invert else "(x - mean) / std, ") + what
        return params, what, f"2 x {elements:,} = {2 * elements:,}", 2 * elements
    if kind == "LayerNormalization":
        inits = [f"{key} {_initializer_name(getattr(layer, key + '_initializer'))}" for key in layer.params]
        per = 5 + len(layer.params)             # mean, deviation, square-add (2), 1/std; then gamma, beta
        return _sizes(layer, count), ", ".join(inits) or "-", f"{per} x {elements:,} = {per * elements:,}", \
            per * elements
    if kind == "Embedding":
        params = f"{layer.input_dim:,} x {layer.output_dim:,} = {count:,}"
        return params, f"lookup, {_initializer_name(layer.embeddings_initializer)}", "0 (a lookup)", 0
    if kind == "GlobalAveragePooling1D":
        axis = layer._step_axis
        steps, rest = in_shape[axis - 1], int(np.prod(in_shape)) // in_shape[axis - 1]
        return "0", f"mean over {steps:,} steps", f"{steps:,} x {rest:,} = {steps * rest:,}", steps * rest
    if kind == "PReLU":
        return _sizes(layer, count), f"prelu, alpha {_initializer_name(layer.alpha_initializer)}", "0", 0
    options = {
        "ReLU": lambda: "relu" + "".join(f", {name} {value:g}" for name, value in (
            ("max", layer.max_value), ("slope", layer.negative_slope), ("threshold", layer.threshold))
            if value not in (None, 0.0)),
        "LeakyReLU": lambda: f"leaky_relu, slope {layer.negative_slope:g}",
        "ELU": lambda: f"elu, alpha {layer.alpha:g}",
        "Softmax": lambda: f"softmax over axis {layer.axis}",
        "Reshape": lambda: f"reshape to {tuple(out_shape)}",
        "Identity": lambda: "identity",
        "GaussianNoise": lambda: f"noise stddev {layer.stddev:g} (training only)",
    }
    if kind in options:
        return "0", options[kind](), "0", 0
    return None


def _times(numbers) -> str:
    """'26 x 26': the sizes of an output's pixels (or steps), multiplied out in words."""
    return " x ".join(f"{n:,}" for n in numbers)


def _convnet_details(layer, out_shape, count):
    """(parameters, what it does, FLOPs arithmetic, FLOPs) for the convolutional network's layers, or None.

    A convolution is a Dense layer applied at every output pixel to the patch under its filter, so its
    row reads like Dense's: kh x kw x channels x filters (+ filters) parameters, and per sample
    2 x pixels x (kh*kw*channels) x filters multiply-adds (+ pixels x filters bias adds). Pooling
    compares (max: window - 1 comparisons) or adds and divides (average: window - 1 adds, 1 divide)
    per output number; padding, upsampling and dropout only copy numbers: 0."""
    kind = type(layer).__name__
    c = layer.get_config()
    in_shape = tuple(layer.input_shape[1:])
    if kind in ("Conv2D", "Conv1D"):
        kernel, cin, filters, bias = tuple(c["kernel_size"]), in_shape[-1], c["filters"], c["use_bias"]
        params = f"{_times(kernel)} x {cin:,} x {filters:,}" + (f" + {filters:,}" if bias else "") + f" = {count:,}"
        what = f"{c['activation']}, {_initializer_name(layer.kernel_initializer)}"
        for word, value in (("strides", c["strides"]), ("dilation", c["dilation_rate"])):
            if max(value) > 1:
                what += f", {word} {_times(value)}"
        if c["padding"] != "valid":
            what += f", {c['padding']} padding"
        pixels, patch = out_shape[:-1], math.prod(kernel) * cin        # a patch: kh*kw*channels numbers
        flops = 2 * math.prod(pixels) * patch * filters + (math.prod(pixels) * filters if bias else 0)
        formula = f"2 x {_times(pixels)} x {patch:,} x {filters:,}"
        if bias:
            formula += f" + {_times(pixels)} x {filters:,}"
        return params, what, f"{formula} = {flops:,}", flops
    if kind in ("MaxPooling2D", "AveragePooling2D", "MaxPooling1D", "AveragePooling1D"):
        window, strides = tuple(c["pool_size"]), tuple(c["strides"])
        taps = math.prod(window)
        what = (f"{'max' if kind.startswith('Max') else 'mean'} of {_times(window)}"
                f"{' windows' if len(window) > 1 else '-step windows'}, strides {_times(strides)}")
        if c["padding"] == "same":
            what += " (edge windows counted whole)"
        elements = math.prod(out_shape)
        if kind.startswith("Max"):
            return "0", what + f": {taps - 1} comparison{'s' * (taps > 2)} each", \
                f"({taps} - 1) x {_times(out_shape)} = {(taps - 1) * elements:,}", (taps - 1) * elements
        return "0", what + f": {taps - 1} add{'s' * (taps > 2)}, 1 divide each", \
            f"{taps} x {_times(out_shape)} = {taps * elements:,}", taps * elements
    if kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D", "GlobalMaxPooling1D"):
        axes = [a - 1 for a in layer._axes]                  # the pooled axes of a sample
        pooled = [in_shape[a] for a in axes]
        channels = math.prod(d for i, d in enumerate(in_shape) if i not in axes)
        n = math.prod(pooled)
        if "Max" in kind:
            return "0", f"max over {_times(pooled)} {'steps' if len(pooled) == 1 else 'pixels'}", \
                f"({_times(pooled)} - 1) x {channels:,} = {(n - 1) * channels:,}", (n - 1) * channels
        return "0", f"mean over {_times(pooled)} pixels", f"{_times(pooled)} x {channels:,} = {n * channels:,}", \
            n * channels
    if kind == "ZeroPadding2D":
        (top, bottom), (left, right) = c["padding"]
        return "0", f"zeros: {top} above, {bottom} below, {left} left, {right} right", "0 (a copy)", 0
    if kind == "UpSampling2D":
        if c.get("interpolation", "nearest") == "nearest":
            return "0", f"each pixel repeated {_times(c['size'])} (nearest)", "0 (a copy)", 0
        elements = math.prod(out_shape)          # bilinear: each output mixes 4 pixels (4 products, 3 adds)
        return "0", f"x {_times(c['size'])}, bilinear: 4 products, 3 adds each", \
            f"7 x {_times(out_shape)} = {7 * elements:,}", 7 * elements
    if kind == "SpatialDropout2D":
        return "0", f"drops whole channels, rate {c['rate']:g} (training only)", "0", 0
    return None


def _summary_details(model) -> str:
    """The second summary table: how each layer's parameters, memory and FLOPs add up."""
    itemsize = np.dtype(model.dtype).itemsize
    dtype = np.dtype(model.dtype).name
    head = ("Layer", "Parameters", "Activation, initializer", "Memory", "FLOPs per sample")
    rows = []
    total_flops = 0
    calls = {}
    for layer in model.calls:                    # a layer called several times costs that many times
        calls[id(layer)] = calls.get(id(layer), 0) + 1
    for layer in model.layers:
        params, what, memory, formula, flops = _layer_details(layer, itemsize)
        k = calls.get(id(layer), 1)
        if k > 1 and flops:
            formula, flops = f"{k} calls x {flops:,} = {k * flops:,}", k * flops
        rows.append((layer.name, params, what, memory, formula))
        total_flops += flops
    widths = [max(len(r[i]) for r in rows + [head]) + 2 for i in range(len(head))]

    def row(cells, edge):
        parts = [f" {c:>{w - 2}} " if i == 3 else f" {c:<{w - 2}} " for i, (c, w) in enumerate(zip(cells, widths))]
        return edge + edge.join(parts) + edge

    def rule(left, mid, right, fill):
        return left + mid.join(fill * w for w in widths) + right

    total = model.count_params()
    lines = ["", f"How the numbers add up ({dtype}: {itemsize} bytes a number; FLOPs: a multiply-add counts 2):",
             rule("┏", "┳", "┓", "━"), row(head, "┃"), rule("┡", "╇", "┩", "━")]
    for i, cells in enumerate(rows):
        lines.append(row(cells, "│"))
        if i < len(rows) - 1:
            lines.append(rule("├", "┼", "┤", "─"))
    lines.append(rule("└", "┴", "┘", "─"))
    lines.append(f" Memory: {total:,} parameters x {itemsize} bytes ({dtype}) = {total * itemsize:,} bytes "
                 f"= {_readable_size(total * itemsize)}")
    lines.append(f" FLOPs per sample: {total_flops:,} to predict (activations not counted); "
                 f"a training step costs about 3x that")
    return "\n".join(lines)


def _print_safely(text):
    try:
        print(text)
    except UnicodeEncodeError:          # a console without box-drawing characters
        table = {ord(c): r for c, r in zip("┏┳┓┃┡╇┩│├┼┤└┴┘━─", "+++|+++|+++++++=-")}
        print(text.translate(table))
        sys.stdout.flush()
