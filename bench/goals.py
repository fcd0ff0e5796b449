"""The goals, as ratios within the same run, and the lines of the report that say whether this run met them.

Issue 5 (C1-C4, the Dense networks): glassnet / PyTorch for time, throughput and accuracy, and the
memory training C1 adds.  Issue 12 (C5-C6, the convnet): glassnet / PyTorch and glassnet / the floor
(the matmul-only limit at the convolutions' im2col shapes), and training memory that grows with the
batch size, not with the dataset."""
from __future__ import annotations

import statistics

MiB = 1024 * 1024

# Issue 5's goals, as glassnet / PyTorch in the same run.
TIME_GOALS = {"C1": 0.25, "C2": 0.3, "C3": 0.65}     # glassnet's epoch <= this x PyTorch's
THROUGHPUT_GOAL = 1.1                                 # C4: glassnet's images/s >= this x PyTorch's
ACCURACY_GOAL = 0.5                                   # points of test accuracy
MEMORY_GOAL = 60 * MiB                                # added on top of the data while training C1

# Issue 12's goals, within the same run.
CONVNET_TIME_GOAL = 0.6          # C5: glassnet's epoch <= this x PyTorch's
CONVNET_FLOOR_GOAL = 2.0         # C5: glassnet's epoch <= this x the floor's (the step's products alone)
CONVNET_THROUGHPUT_GOAL = 1.2    # C6: glassnet's images/s >= this x PyTorch's
# C5 memory: what training adds may grow with the dataset by at most this share of the extra training
# data (the shuffled order and the reordered labels are 16 bytes an image, 0.5% of a 3,136-byte image;
# a copy of the images would be 100%), plus this slack for the allocator's page granularity.
MEMORY_DATASET_SHARE = 0.02
MEMORY_SLACK = 1 * MiB


def accuracy_lines(configs, results, epochs, shown=None):
    """One line per training configuration; `epochs` (an int or a dict by configuration name) different from
    `shown` (the epochs the section's title names) is said on the configuration's line."""
    lines = []
    for c in configs:
        if c.inference:
            continue
        cells = results.get(c.name, {})
        g, t = cells.get("glassnet"), cells.get("torch")
        n = epochs.get(c.name) if isinstance(epochs, dict) else epochs
        name = c.name if shown is None or n == shown else f"{c.name} after {n} epoch(s)"
        if not (g and g.accuracies and t and t.accuracies):
            lines.append(f"{name}: needs both glassnet and PyTorch")
            continue
        diff = 100 * (g.accuracy - t.accuracy)
        each = lambda cell: ", ".join(f"{100 * a:.1f}" for a in cell.accuracies)  # noqa: E731
        verdict = ("met" if abs(diff) <= ACCURACY_GOAL else
                   "NOT met" if diff < 0 else "above PyTorch by more than that: no loss of accuracy")
        lines.append(f"{name}: glassnet {100 * g.accuracy:.2f}% ({each(g)}), PyTorch {100 * t.accuracy:.2f}% "
                     f"({each(t)}): {diff:+.2f} points (goal within {ACCURACY_GOAL}: {verdict})")
    return lines


def _by_repeat(c, g, t):
    """'; by repeat 0.41, 0.19, 0.33 (median 0.33)': glassnet's ratio to peer t within each repeat, where both
    ran minutes apart at most, so that drift between repeats cancels ('' with a single repeat)."""
    paired = [(tr / gr if c.inference else gr / tr) for gr, tr in zip(g.per_repeat, t.per_repeat)]
    return (f"; by repeat {', '.join(f'{r:.2f}' for r in paired)} (median "
            f"{statistics.median(paired):.2f})" if len(paired) > 1 else "")


def goal_lines(configs, results, memory):
    """Issue 5's goals: C1-C4 against PyTorch, and the memory training C1 adds."""
    lines = []
    for c in configs:
        if c.convnet:
            continue
        cells = results.get(c.name, {})
        g, t = cells.get("glassnet"), cells.get("torch")
        if not (g and g.ok and t and t.ok):
            continue
        by_repeat = _by_repeat(c, g, t)
        if c.inference:
            ratio = t.median / g.median
            verdict = "met" if ratio >= THROUGHPUT_GOAL else "NOT met"
            lines.append(f"{c.name} throughput glassnet / PyTorch = {ratio:.2f}{by_repeat} "
                         f"(goal >= {THROUGHPUT_GOAL}): {verdict}")
        elif c.name in TIME_GOALS:
            ratio = g.median / t.median
            verdict = "met" if ratio <= TIME_GOALS[c.name] else "NOT met"
            lines.append(f"{c.name} epoch glassnet / PyTorch = {ratio:.2f}{by_repeat} "
                         f"(goal <= {TIME_GOALS[c.name]}): {verdict}")
    if memory and memory.get("rss_added") is not None:
        verdict = "met" if memory["rss_added"] <= MEMORY_GOAL else "NOT met"
        line = (f"C1 training adds {memory['rss_added'] / MiB:.1f} MiB to the data's process "
                f"(goal <= {MEMORY_GOAL // MiB} MiB): {verdict}")
        first = memory.get("rss_added_first_fit")
        if first is not None and first > MEMORY_GOAL:
            line += (f"; the process's first fit added {first / MiB:.1f} MiB, most of it "
                     + ("numba's JIT runtime, loaded once per process whatever the data's size "
                        "(GLASSNET_KERNELS=numpy: no numba)" if memory.get("kernels") == "numba" else
                        "not training's own") + ": NOT met for a first fit")
        lines.append(line)
    return lines


def _growth(hi, lo, key):
    a, b = hi.get(key), lo.get(key)
    return None if a is None or b is None else a - b


def convnet_memory_verdict(points, rss=True):
    """Lines on C5's memory points (bench/measure.py's convnet_memory_points: all the images, a quarter of them,
    all with a 4x batch): does what training adds follow the dataset (it must not) and the batch?  The verdict
    is tracemalloc's (exact, whatever ran before in the process); the RSS is shown beside it unless `rss` is
    False (--quick measures every point in one process, where the allocator's leftovers blur it)."""
    if not points or len(points) < 3 or any("error" in p for p in points):
        return []
    full, quarter, big = points
    lines = []
    extra = full["train_bytes"] - quarter["train_bytes"]
    allowed = MEMORY_DATASET_SHARE * extra + MEMORY_SLACK
    traced, rss_a = _growth(full, quarter, "tracemalloc_peak"), _growth(full, quarter, "rss_added_first_fit")
    verdict = "met" if traced <= allowed else "NOT met"
    rss_text = f" ({rss_a / MiB:+.1f} MiB to what the first fit adds to the RSS)" if rss and rss_a is not None else ""
    lines.append(f"C5 training memory and the dataset: {quarter['n_train']:,} -> {full['n_train']:,} images "
                 f"(+{extra / MiB:.1f} MiB of training data) adds {traced / MiB:+.1f} MiB to the tracemalloc peak"
                 f"{rss_text} (goal: at most {100 * MEMORY_DATASET_SHARE:g}% of the extra data + "
                 f"{MEMORY_SLACK // MiB} MiB = {allowed / MiB:.1f} MiB): {verdict}")
    traced_b, rss_b = _growth(big, full, "tracemalloc_peak"), _growth(big, full, "rss_added_first_fit")
    rss_text = f" ({rss_b / MiB:+.1f} MiB to the RSS)" if rss and rss_b is not None else ""
    follows = "grows with the batch" if traced_b > 0 else "does NOT grow with the batch (unexpected)"
    lines.append(f"C5 training memory and the batch: batch {full['batch']} -> {big['batch']} adds "
                 f"{traced_b / MiB:+.1f} MiB to the tracemalloc peak{rss_text}: training's memory {follows}")
    return lines


def convnet_goal_lines(configs, results, memory_points, quick=False):
    """Issue 12's goals: C5 against PyTorch and the floor, C6 against PyTorch (and the floor, no goal), C5 memory."""
    lines = []
    for c in configs:
        if not c.convnet:
            continue
        cells = results.get(c.name, {})
        g, t, f = cells.get("glassnet"), cells.get("torch"), cells.get("limit")
        if not (g and g.ok):
            lines.append(f"{c.name}: needs the glassnet row")
            continue
        if not (t and t.ok):
            lines.append(f"{c.name} against PyTorch: needs the PyTorch row (--peers torch)")
        elif c.inference:
            ratio = t.median / g.median
            verdict = "met" if ratio >= CONVNET_THROUGHPUT_GOAL else "NOT met"
            lines.append(f"{c.name} throughput glassnet / PyTorch = {ratio:.2f}{_by_repeat(c, g, t)} "
                         f"(goal >= {CONVNET_THROUGHPUT_GOAL}): {verdict}")
        else:
            ratio = g.median / t.median
            verdict = "met" if ratio <= CONVNET_TIME_GOAL else "NOT met"
            lines.append(f"{c.name} epoch glassnet / PyTorch = {ratio:.2f}{_by_repeat(c, g, t)} "
                         f"(goal <= {CONVNET_TIME_GOAL}): {verdict}")
        if not (f and f.ok):
            lines.append(f"{c.name} against the floor: needs the matmul-only limit row (--peers limit)")
        elif c.inference:
            ratio = f.median / g.median
            lines.append(f"{c.name} throughput glassnet / floor (the forward products alone) = {ratio:.2f}"
                         f"{_by_repeat(c, g, f)} (no goal: for information)")
        else:
            ratio = g.median / f.median
            verdict = "met" if ratio <= CONVNET_FLOOR_GOAL else "NOT met"
            lines.append(f"{c.name} epoch glassnet / floor (the step's products at im2col shapes) = {ratio:.2f}"
                         f"{_by_repeat(c, g, f)} (goal <= {CONVNET_FLOOR_GOAL:g}): {verdict}")
    return lines + convnet_memory_verdict(memory_points, rss=not quick)
