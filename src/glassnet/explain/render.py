"""Formatting a trace: its content as items (document), then text for a terminal or Markdown."""
from __future__ import annotations

import textwrap
import unicodedata

import numpy as np

from . import render_conv
from .words import _DA_RULES, _DZ_RULES, _WORDS, _words


def _role_label(layer, w):
    if layer.role == "output":
        return w["output_layer"]
    if layer.role.startswith("hidden"):
        return w["hidden_layer"].format(i=layer.role.split()[1])
    return w["other_layer"]


def _heading(layer, w):
    parts = [f"{layer.kind}"]
    if layer.units is not None:
        parts.append(w["units" if layer.units != 1 else "unit"].format(units=layer.units))
    if layer.conv or layer.pool:
        parts += render_conv.heading_parts(layer, w)
    if layer.activation is not None:
        parts.append(w["activation_function"].format(name=layer.activation))
    return f"{_role_label(layer, w)}: {layer.name} ({', '.join(parts)})"


def document(trace, lang, deltas):
    """The trace as a list of items (title, section, layer, text, row), for both renderers."""
    w = _words(lang)
    n = 0 if trace.x is None else len(trace.x[0] if trace.input_names else trace.x)
    word = w["sample"] if n == 1 else w["samples"]
    title = w["title"].format(name=trace.model_name, arch=trace.architecture, n=n, samples=word, dtype=trace.dtype)
    doc = [("title", title)]
    lr = "?" if trace.learning_rate is None else _number(trace.learning_rate, None)
    doc.append(("text", w["setup"].format(loss=trace.loss_name, optimizer=trace.optimizer_name, lr=lr)))

    # forward
    doc.append(("section", w["forward"]))
    doc.append(("text", w["x_note"]))
    doc.append(("layer", w["input_layer"]))
    if trace.input_names:
        for name, x in zip(trace.input_names, trace.x):
            doc.append(("row", f"x[{name}]  {w['input']}", x))
    else:
        doc.append(("row", f"x  {w['input']}", trace.x))
    if trace.output_names:
        for name, t in zip(trace.output_names, trace.y):
            if t is not None:
                doc.append(("row", f"t[{name}]  {w['target']}", t))
    else:
        doc.append(("row", f"t  {w['target']}", trace.y))
    for layer in trace.layers:
        doc.append(("layer", _heading(layer, w)))
        if layer.kind == "Dense":
            doc.append(("row", f"W  {w['weights']}", layer.W))
            if layer.b is not None:
                doc.append(("row", f"b  {w['bias']}", layer.b))
            doc.append(("row", f"z = xW + b  {w['weighted_sum']}" if layer.b is not None
                        else f"z = xW  {w['weighted_sum']}", layer.z))
            doc.append(("row", f"a = {layer.activation}(z)  {w['activation']}", layer.output))
        elif layer.conv:
            doc += render_conv.conv_forward(layer, w)
        elif layer.pool:
            doc += render_conv.pool_forward(layer, w)
        else:
            if layer.z is not None:
                doc.append(("row", "z", layer.z))
            doc.append(("row", f"a  {w['output']}", layer.output))
    doc.append(("layer", f"{w['loss_function']}: {trace.loss_name}"))
    for name, (value, weight) in trace.output_losses.items():
        doc.append(("row", f"L[{name}]  {w['loss']} (x {_number(weight, None)})", np.float64(value)))
    doc.append(("row", f"L  {w['loss']}", np.float64(trace.loss if not trace.regularization else trace.data_loss)))
    if trace.regularization:
        doc.append(("row", f"+ {w['regularization']}", np.float64(trace.regularization)))
        doc.append(("row", f"L  {w['loss']}", np.float64(trace.loss)))

    # backward
    doc.append(("section", w["backward"]))
    doc.append(("text", w["delta_note"]))
    last = trace.layers[-1] if trace.layers else None
    if trace.output_names:                    # several outputs: dL/da of each comes from its own loss
        last = None
    for layer in reversed(trace.layers):
        doc.append(("layer", _heading(layer, w)))
        if not layer.backward_ran:
            doc.append(("text", w["not_trained"]))
            continue
        if layer.fused:
            act = layer.activation or "softmax"
            doc.append(("text", w["fused"].format(act=act)))
            rule = "dL/dz = (a - t) / n" if act == "softmax" else "dL/dz = (a - t) / (n*k)"
            doc.append(("row", f"{rule}  {w['grad_z']}", layer.grad_z))
        else:
            if layer is last:
                rule = _DA_RULES.get(trace.loss_name, "dL/da")
                doc.append(("row", f"{rule}  {w['grad_a_loss']}", layer.grad_output))
            elif trace.output_names and layer.role == "output":
                doc.append(("row", f"dL/da  {w['grad_a_loss']}", layer.grad_output))
            else:
                doc.append(("row", f"dL/da {w['grad_a_next']}", layer.grad_output))
            if layer.grad_z is not None:
                rule = _DZ_RULES.get(layer.activation, f"dL/dz = dL/da * {layer.activation}'(z)")
                doc.append(("row", f"{rule}  {w['grad_z']}", layer.grad_z))
        if deltas and layer.grad_z is not None:
            doc.append(("row", f"delta = -dL/dz  {w['delta']}", layer.delta))
        if "W" in layer.grads and layer.conv:
            doc += render_conv.conv_weight_gradient(layer, w)
        elif "W" in layer.grads:
            doc.append(("row", f"dL/dW = x^T dL/dz  {w['grad_W']}", layer.dW))
        if "b" in layer.grads:
            doc.append(("row", f"dL/db = sum(dL/dz)  {w['grad_b']}", layer.db))
        for key in layer.grads:
            if key not in ("W", "b"):
                doc.append(("row", f"dL/d{key}  {w['gradient']}", layer.grads[key]))
        if layer.grad_input is not None:
            rule = "dL/dx = dL/dz W^T" if layer.kind == "Dense" else "dL/dx"
            label = render_conv.grad_input_label(layer, w) if layer.conv or layer.pool else f"{rule}  {w['grad_x']}"
            doc.append(("row", label, layer.grad_input))

    # update
    doc.append(("section", w["update"] if trace.applied else w["update_skipped"]))
    doc.append(("text", _optimizer_line(trace, w)))
    for layer in trace.layers:
        if not layer.weights:
            continue
        doc.append(("layer", _heading(layer, w)))
        if not layer.trainable:
            doc.append(("text", w["frozen"]))
            continue
        for key in layer.weights:
            if key not in layer.weights_after:
                continue
            layout = (render_conv.KERNEL,) if layer.conv and key == "W" else ()
            doc.append(("row", f"{key}  {w['after']}", layer.weights_after[key], *layout))
            doc.append(("row", f"{key}  {w['change']}", layer.weights_after[key] - layer.weights[key], *layout))
    return _one_array_per_row(doc)


def _one_array_per_row(doc):
    """A row holding a list (a merge layer's inputs or its dL/dx, one per input) becomes a row per array."""
    out = []
    for item in doc:
        if item[0] == "row" and isinstance(item[2], list):
            out.extend(("row", f"{item[1]} [{k}]", part, *item[3:]) for k, part in enumerate(item[2]))
        else:
            out.append(item)
    return out


def _optimizer_line(trace, w):
    lr = "?" if trace.learning_rate is None else _number(trace.learning_rate, None)
    head = f"{trace.optimizer_name}, {w['learning_rate']} {lr}"
    rule = w["rule_sgd"] if trace.plain_sgd else w["rule_other"].format(name=trace.optimizer_name)
    return f"{head}; {rule}"


def _number(v, precision) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(int(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    v = float(v)
    if v == 0:
        return "0"
    if precision is None:
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    text = f"{v:.{precision}g}"
    return text


def _summary(a, precision, lang="en"):
    f = np.asarray(a, dtype=np.float64)
    p = precision or 6
    return _WORDS.get(lang, _WORDS["en"])["summary"].format(
        min=_number(f.min(), p), max=_number(f.max(), p), mean=_number(f.mean(), p))


def _shape(a) -> str:
    if a is None:
        return ""
    a = np.asarray(a)
    if a.ndim == 0:
        return ""
    return "(" + ", ".join(str(d) for d in a.shape) + ("," if a.ndim == 1 else "") + ")"


def _layout(a, layout):
    """Where a small array's two image axes start: given, or 1 for a 4-D batch of images; None: no slices."""
    if layout is not None:
        return layout if a.ndim >= layout + 2 and a.ndim >= 3 else None
    return 1 if a.ndim == 4 else None


def _slices(a, start):
    """[(index text, 2-D slice)]: a cut into the (rows, columns) images at axes start, start + 1."""
    outer, inner = a.shape[:start], a.shape[start + 2:]
    out = []
    for i in np.ndindex(*outer):
        for j in np.ndindex(*inner):
            label = "[" + ", ".join([str(v) for v in i] + [":", ":"] + [str(v) for v in j]) + "]"
            out.append((label, a[i + (slice(None), slice(None)) + j]))
    return out


def _slice_lines(a, start, precision, width=96) -> list[str]:
    """Each image slice as a labelled matrix, side by side while they fit in `width` columns."""
    parts = _slices(a, start)
    cells = [[[_number(v, precision) for v in row] for row in m] for _, m in parts]
    cw = max(len(c) for m in cells for row in m for c in row)
    blocks = []
    for (label, _), m in zip(parts, cells):
        rows = ["  ".join(c.rjust(cw) for c in row) for row in m]
        lines = [("[[" if i == 0 else " [") + r + ("]]" if i == len(rows) - 1 else "]") for i, r in enumerate(rows)]
        blocks.append([label] + lines)
    bw = max(len(line) for b in blocks for line in b)
    per_line = max(1, (width + 3) // (bw + 3))
    out = []
    for k in range(0, len(blocks), per_line):
        group = blocks[k:k + per_line]
        for r in range(len(group[0])):
            out.append("   ".join(b[r].ljust(bw) for b in group).rstrip())
    return out


def _array_lines(a, precision, max_items, lang="en", layout=None, width=96) -> list[str]:
    """Small arrays in full (a matrix one row per line, columns aligned; images and kernels one labelled
    (rows, columns) slice each); large ones as a summary."""
    if a is None:
        return ["-"]
    a = np.asarray(a)
    if a.ndim == 0:
        return [_number(a.item(), precision)]
    if a.size > max_items:
        return [_summary(a, precision, lang)]
    if a.size == 0:
        return ["[]"]
    start = _layout(a, layout)
    if start is not None:
        return _slice_lines(a, start, precision, width)
    m = a.reshape(1, -1) if a.ndim == 1 else a.reshape(-1, a.shape[-1])
    cells = [[_number(v, precision) for v in row] for row in m]
    width = max(len(c) for row in cells for c in row)
    rows = ["  ".join(c.rjust(width) for c in row) for row in cells]
    if a.ndim == 1:                              # long vectors: wrapped at about 90 characters
        per_line = max(1, min(10, 90 // (width + 2)))
        parts = ["  ".join(c.rjust(width) for c in cells[0][i:i + per_line])
                 for i in range(0, len(cells[0]), per_line)]
        return [("[" if i == 0 else " ") + part + ("]" if i == len(parts) - 1 else "") for i, part in enumerate(parts)]
    lines = []
    for i, row in enumerate(rows):
        open_ = "[[" if i == 0 else " ["
        close = "]]" if i == len(rows) - 1 else "]"
        lines.append(open_ + row + close)
    return lines


def _array_inline(a, precision, max_items, lang="en", layout=None) -> str:
    if a is None:
        return "-"
    a = np.asarray(a)
    if a.ndim == 0:
        return _number(a.item(), precision)
    if a.size > max_items:
        return _summary(a, precision, lang)

    def nest(b):
        if b.ndim == 1:
            return "[" + ", ".join(_number(v, precision) for v in b) + "]"
        return "[" + ", ".join(nest(r) for r in b) + "]"
    start = _layout(a, layout) if a.size else None
    if start is not None:
        return ";  ".join(f"{label} = {nest(m)}" for label, m in _slices(a, start))
    return nest(a)


def _term(v, precision):
    text = _number(v, precision)
    return f"({text})" if text.startswith("-") else text


def sum_lines(item, precision, max_items, lang, width=96) -> list[str]:
    """A sum written out: 'lhs = words', '= a1*b1 + a2*b2 + ... + bias', '= result' (a max: one line)."""
    spec = item[1]
    if "values" in spec:                                       # a pooling window
        values = ", ".join(_number(v, precision) for v in spec["values"])
        return [f"{spec['lhs']} = {spec['op']}({values}) = {_number(spec['result'], precision)}"]
    left, right = spec["pairs"]
    terms = [f"{_term(a, precision)}*{_term(b, precision)}" for a, b in zip(left, right)]
    if len(terms) > max_items:                                 # the first ones and the last two
        skipped = len(terms) - max(1, max_items // 4) - 2
        terms = terms[:max(1, max_items // 4)] + [_WORDS[lang]["more_terms"].format(k=skipped)] + terms[-2:]
    if spec.get("bias") is not None:
        terms.append(_term(spec["bias"], precision) + (f" ({spec['bias_label']})" if spec.get("bias_label") else ""))
    lines = [f"{spec['lhs']} = {spec['words']}"]
    current = "  ="
    for k, t in enumerate(terms):
        piece = (" " if k == 0 else " + ") + t
        if len(current) + len(piece) > width and k > 0:
            lines.append(current)
            current = "    +" + piece[2:]
        else:
            current += piece
    lines.append(current)
    lines.append(f"  = {_number(spec['result'], precision)}")
    then = spec.get("then")
    if then is not None:
        name, act, z, a = then
        lines.append(f"{name} = {act}({_number(z, precision)}) = {_number(a, precision)}")
    return lines


def _width(text) -> int:
    """Columns a string takes in a terminal (Korean characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text, width):
    return text + " " * max(0, width - _width(text))


TEXT_WIDTH = 120           # images and kernels side by side up to this column


def render_text(items, precision, max_items, lang) -> str:
    rows = [it for it in items if it[0] == "row"]
    qwidth = min(max([_width(r[1]) for r in rows] + [10]), 48)
    swidth = max([len(_shape(r[2])) for r in rows] + [5])
    out = []
    for item in items:
        kind = item[0]
        if kind == "title":
            out += [item[1], "=" * _width(item[1])]
        elif kind == "section":
            out += ["", item[1], "-" * _width(item[1])]
        elif kind == "layer":
            out.append(item[1])
        elif kind == "text":
            out += textwrap.wrap(item[1], width=100 if lang == "en" else 70, initial_indent="  ", subsequent_indent="  ",
                                 break_on_hyphens=False) or [""]
        elif kind == "sum":
            out += ["      " + line for line in sum_lines(item, precision, max_items, lang)]
        elif kind == "row":
            label, value = item[1], item[2]
            head = "    " + _pad(label, qwidth) + "  " + _shape(value).ljust(swidth) + "  "
            layout = item[3] if len(item) > 3 else None
            lines = _array_lines(value, precision, max_items, lang, layout, max(40, TEXT_WIDTH - _width(head)))
            if _width(label) > qwidth:          # a long label gets a line of its own
                out.append("    " + label)
                head = "    " + " " * qwidth + "  " + _shape(value).ljust(swidth) + "  "
            out.append(head + lines[0])
            indent = " " * _width(head)
            out += [indent + line for line in lines[1:]]
    return "\n".join(line.rstrip() for line in out)


def render_markdown(items, precision, max_items, lang) -> str:
    w = _WORDS[lang]
    out = []
    in_table = False
    for item in items:
        kind = item[0]
        if kind != "row" and in_table:
            out.append("")
            in_table = False
        if kind == "title":
            out += [f"### {item[1]}", ""]
        elif kind == "section":
            out += [f"#### {item[1]}", ""]
        elif kind == "layer":
            out += [f"**{item[1]}**", ""]
        elif kind == "text":
            out += [item[1].replace("*", "\\*"), ""]
        elif kind == "sum":
            out += ["```text"] + sum_lines(item, precision, max_items, lang) + ["```", ""]
        elif kind == "row":
            if not in_table:
                out += [f"| {w['quantity']} | {w['shape']} | {w['values']} |", "| --- | --- | --- |"]
                in_table = True
            label = item[1].replace("|", "\\|").replace("*", "\\*")
            value = _array_inline(item[2], precision, max_items, lang, *item[3:]).replace("|", "\\|")
            out.append(f"| {label} | {_shape(item[2])} | `{value}` |")
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"
