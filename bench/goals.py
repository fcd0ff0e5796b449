"""Issue 5's goals, as glassnet / PyTorch in the same run: the time, throughput, accuracy and
memory targets, and the lines of the report that say whether this run met them."""
from __future__ import annotations

import statistics

MiB = 1024 * 1024

# Issue 5's goals, as glassnet / PyTorch in the same run.
TIME_GOALS = {"C1": 0.25, "C2": 0.3, "C3": 0.65}     # glassnet's epoch <= this x PyTorch's
THROUGHPUT_GOAL = 1.1                                 # C4: glassnet's images/s >= this x PyTorch's
ACCURACY_GOAL = 0.5                                   # points of test accuracy
MEMORY_GOAL = 60 * MiB                                # added on top of the data while training C1


def accuracy_lines(configs, results, epochs):
    lines = []
    for c in configs:
        if c.inference:
            continue
        cells = results.get(c.name, {})
        g, t = cells.get("glassnet"), cells.get("torch")
        if not (g and g.accuracies and t and t.accuracies):
            lines.append(f"{c.name}: needs both glassnet and PyTorch")
            continue
        diff = 100 * (g.accuracy - t.accuracy)
        each = lambda cell: ", ".join(f"{100 * a:.1f}" for a in cell.accuracies)  # noqa: E731
        verdict = ("met" if abs(diff) <= ACCURACY_GOAL else
                   "NOT met" if diff < 0 else "above PyTorch by more than that: no loss of accuracy")
        lines.append(f"{c.name}: glassnet {100 * g.accuracy:.2f}% ({each(g)}), PyTorch {100 * t.accuracy:.2f}% "
                     f"({each(t)}): {diff:+.2f} points (goal within {ACCURACY_GOAL}: {verdict})")
    return lines


def goal_lines(configs, results, memory):
    lines = []
    for c in configs:
        cells = results.get(c.name, {})
        g, t = cells.get("glassnet"), cells.get("torch")
        if not (g and g.ok and t and t.ok):
            continue
        # the same ratio repeat by repeat: both peers ran in that repeat, so drift between repeats cancels
        paired = [(tr / gr if c.inference else gr / tr) for gr, tr in zip(g.per_repeat, t.per_repeat)]
        by_repeat = (f"; by repeat {', '.join(f'{r:.2f}' for r in paired)} (median "
                     f"{statistics.median(paired):.2f})" if len(paired) > 1 else "")
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
