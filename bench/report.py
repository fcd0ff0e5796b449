"""The report of `python -m bench`: the table (one row per peer, one column per configuration)
as text or Markdown, its legend, the peak-memory lines, and the whole report around them."""
from __future__ import annotations

from bench.goals import MiB


def _ratio(cell, base):
    if base is None or not base.ok or not cell.ok:
        return "n/a"
    return f"{cell.median / base.median:.2f}x"


def format_cell(config, cell, base):
    """'0.412s 2.02x [0.400-0.431] 85.5%' (C4: '182.3k/s 1.10x [175.0k-190.2k]'); '-' when not run."""
    if cell is None:
        return "-"
    if cell.error:
        return "error"
    if not cell.ok:
        return "-"
    if config.inference:
        n = cell.images
        return (f"{n / cell.median / 1e3:.1f}k/s {_ratio(cell, base)} "
                f"[{n / max(cell.seconds) / 1e3:.1f}k-{n / min(cell.seconds) / 1e3:.1f}k]")
    text = f"{cell.median:.3f}s {_ratio(cell, base)} [{min(cell.seconds):.3f}-{max(cell.seconds):.3f}]"
    if cell.accuracy is not None:
        text += f" {100 * cell.accuracy:.1f}%"
    return text


def table_rows(peer_list, skipped, configs, results):
    """Header and rows of the main table: one row per peer, one column per configuration."""
    header = ["peer"] + [f"{c.name} {c.unit}" for c in configs]
    rows = []
    for peer in peer_list:
        if peer.key in skipped:
            rows.append([peer.label] + ["skipped"] * len(configs))
            continue
        row = [peer.label]
        for c in configs:
            cells = results.get(c.name, {})
            row.append(format_cell(c, cells.get(peer.key), cells.get("glassnet")))
        rows.append(row)
    return header, rows


def text_table(header, rows):
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    line = "  ".join(f"{h:<{w}}" for h, w in zip(header, widths))
    out = [line, "-" * len(line)]
    for r in rows:
        out.append("  ".join(f"{v:<{w}}" for v, w in zip(r, widths)).rstrip())
    return "\n".join(out)


def markdown_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    return "\n".join(out)


def memory_lines(memory):
    if memory is None:
        return []
    if "error" in memory:
        return [f"not measured: {memory['error']}"]
    lines = [f"glassnet training {memory['config']} for one epoch on {memory['n_train']:,} images, in a fresh "
             f"process holding the data ({memory['train_bytes'] / MiB:.1f} MiB of training arrays, "
             f"{memory['data_bytes'] / MiB:.1f} MiB with the test set):"]
    if memory.get("rss_added_first_fit") is not None:
        lines.append(f"the process's first fit (kernels: {memory.get('kernels', '?')}"
                     + ("; it also loads numba's JIT runtime and the compiled kernels"
                        if memory.get("kernels") == "numba" else "") +
                     f"): peak RSS {memory['rss_peak_first_fit'] / MiB:.1f} MiB = "
                     f"{memory['rss_before_first_fit'] / MiB:.1f} MiB before fit + "
                     f"{memory['rss_added_first_fit'] / MiB:.1f} MiB")
    if memory.get("rss_added") is not None:
        lines.append(f"a second fit, of a fresh model: peak RSS {memory['rss_peak'] / MiB:.1f} MiB = "
                     f"{memory['rss_before_fit'] / MiB:.1f} MiB before fit + {memory['rss_added'] / MiB:.1f} MiB "
                     f"added by training ({memory['rss_method']})")
    lines.append(f"tracemalloc peak of the Python and NumPy allocations made during fit: "
                 f"{memory['tracemalloc_peak'] / MiB:.2f} MiB")
    return lines


def convnet_memory_lines(points, quick=False):
    """C5's memory points (bench/measure.py: convnet_memory_points), one line each."""
    if not points:
        return []
    errors = [p["error"] for p in points if "error" in p]
    if errors:
        return [f"C5 not measured: {errors[0]}"]
    first = points[0]
    steps = f"{first['steps']} batches" if first.get("steps") else "one epoch"
    where = ("all in one process (--quick: the RSS after the first line also depends on what the allocator kept)"
             if quick else "each line in a fresh process")
    lines = [f"glassnet training C5 on the first N training images ({steps} per fit: the layers' buffers are all "
             f"in place after the first batch), {where} holding the data ({first['data_bytes'] / MiB:.1f} MiB); "
             f"RSS: the process's first fit (kernels: {first.get('kernels', '?')}), tracemalloc: a second, "
             f"fresh model:"]
    for p in points:
        rss = (f"peak RSS {p['rss_peak_first_fit'] / MiB:.1f} MiB = {p['rss_before_first_fit'] / MiB:.1f} MiB "
               f"before fit + {p['rss_added_first_fit'] / MiB:.1f} MiB" if p.get("rss_added_first_fit") is not None
               else "RSS not measured")
        lines.append(f"{p['n_train']:,} images ({p['train_bytes'] / MiB:.1f} MiB), batch {p['batch']}: {rss}; "
                     f"tracemalloc peak {p['tracemalloc_peak'] / MiB:.2f} MiB")
    return lines


def _grouped(configs, count):
    """[(names, n)]: the configurations grouped by their count (an int for all, or a dict by name), in order."""
    groups = {}
    for c in configs:
        groups.setdefault(count[c.name] if isinstance(count, dict) else count, []).append(c.name)
    return [(names, n) for n, names in groups.items()]


def legend(configs, epochs, repeats, passes):
    """epochs and passes: an int for every configuration, or a dict by configuration name."""
    train = [c for c in configs if not c.inference]
    infer = [c for c in configs if c.inference]
    parts = []
    for names, n in _grouped(train, epochs):
        parts.append(f"{', '.join(names)}: median seconds per epoch over {n} epoch(s) x {repeats} repeat(s), "
                     f"the peer's time / glassnet's (above 1x: glassnet is faster), [min-max of the epochs], "
                     f"test accuracy after {n} epoch(s) (median of the repeats)")
    for names, n in _grouped(infer, passes):
        parts.append(f"{', '.join(names)}: median images per second over {n} pass(es) x {repeats} repeat(s), "
                     f"glassnet's throughput / the peer's (above 1x: glassnet is faster), [min-max]")
    if any(c.convnet for c in configs):
        parts.append(f"{', '.join(c.name for c in configs if c.convnet)}: the convnet; '-' where a peer has no such "
                     f"network (scikit-learn has no convolutional layers; the textbook loop is the notes' Dense "
                     f"network); the matmul-only limit row is the floor: the step's products at the "
                     f"convolutions' im2col shapes")
    return parts


def report(info, header, rows, skipped_lines, sections, markdown):
    """The whole report as text, or as Markdown."""
    out = []
    if markdown:
        out.append("Measured " + info["when"] + ":")
        out.append("")
        out += [f"- **{k}**: {v}" for k, v in info["lines"]]
        out += ["", markdown_table(header, rows), ""]
        out += [f"- {line}" for line in info["legend"]]
        out += [f"- skipped: {line}" for line in skipped_lines]
        for title, lines in sections:
            if lines:
                out += ["", f"**{title}**", ""] + [f"- {line}" for line in lines]
    else:
        out.append(f"glassnet bench ({info['when']})")
        out += [f"{k:<9} {v}" for k, v in info["lines"]]
        out += ["", text_table(header, rows)]
        out += [f"  {line}" for line in info["legend"]]
        out += [f"  skipped: {line}" for line in skipped_lines]
        for title, lines in sections:
            if lines:
                out += ["", title] + [f"  {line}" for line in lines]
    return "\n".join(out)
