"""What a search leaves: the ranked table, results.csv, scores.png, search.json and the best model.

Trials are ranked by validation accuracy (higher first), then validation loss (lower first), then
trial index.  The best model is saved as a run folder `best/` by `glassnet train` itself, with the best
trial's options and seed: the same numbers as the trial (checked: a difference is reported).
"""
from __future__ import annotations

import argparse
import csv
import io
import math
import os

from .. import runs
from ..backend import limit_blas_threads

COLUMNS = ("rank", "trial", "val_accuracy", "val_loss", "test_accuracy", "test_loss", "layers", "units",
           "activation", "optimizer", "lr", "batch_size", "epochs", "seed", "params", "attempts", "retried",
           "lost_on", "worker", "seconds")
RESULTS_FILE, FIGURE_FILE, SETTINGS_FILE, BEST_FOLDER = "results.csv", "scores.png", "search.json", "best"


def _key(result):
    acc, loss = result["val_accuracy"], result["val_loss"]
    return (-acc if math.isfinite(acc) else math.inf, loss if math.isfinite(loss) else math.inf, result["index"])


def ranked(results):
    """The results sorted best first, each with its `rank` (1 = best)."""
    out = sorted(results, key=_key)
    for rank, result in enumerate(out, 1):
        result["rank"] = rank
    return out


def _cell(result, column):
    value = result.get("index") if column == "trial" else result.get(column, "")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return repr(value)                       # every digit: a rerun can be compared bit for bit
    return "" if value is None else str(value)


def results_csv(results):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for result in results:
        writer.writerow([_cell(result, c) for c in COLUMNS])
    return buf.getvalue()


def table(results, limit=20):
    """The ranked table as text (the first `limit` rows)."""
    head = ("rank", "trial", "val_acc", "val_loss", "test_acc", "layers", "units", "activation", "optimizer",
            "lr", "batch", "epochs", "retried")
    rows = []
    for r in results[:limit]:
        rows.append((str(r["rank"]), str(r["index"]), f"{r['val_accuracy']:.4f}", f"{r['val_loss']:.4f}",
                     f"{r['test_accuracy']:.4f}", str(r["layers"]), str(r["units"]), r["activation"],
                     r["optimizer"], f"{r['lr']:.3g}", str(r["batch_size"]), str(r["epochs"]),
                     f"yes ({r['attempts']} attempts)" if r["retried"] else "no"))
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    if len(results) > limit:
        lines.append(f"... {len(results) - limit} more in {RESULTS_FILE}")
    return "\n".join(lines)


def plot_scores(results, path):
    """scores.png: each trial's validation accuracy (the best marked), and the scores in rank order."""
    from ..plot._figure import finish, new_figure
    fig = new_figure((10, 4))
    left, right = fig.subplots(1, 2)
    order = sorted(results, key=lambda r: r["index"])
    left.plot([r["index"] for r in order], [r["val_accuracy"] for r in order], "o", color="tab:blue",
              label="validation accuracy")
    left.plot([r["index"] for r in order], [r["test_accuracy"] for r in order], ".", color="tab:gray",
              label="test accuracy")
    best = results[0]
    left.plot([best["index"]], [best["val_accuracy"]], "*", color="tab:red", markersize=14,
              label=f"best: trial {best['index']}")
    left.set_xlabel("trial")
    left.set_ylabel("accuracy")
    left.set_title("scores by trial")
    left.legend(loc="lower right", fontsize=8)
    right.plot(range(1, len(results) + 1), [r["val_accuracy"] for r in results], "-o", markersize=3)
    right.set_xlabel("rank")
    right.set_ylabel("validation accuracy")
    right.set_title(f"{len(results)} trials, best first")
    return finish(fig, path)


def save_best(best, options, run_dir, out):
    """Retrain the best trial with `glassnet train` into run_dir/best; returns (folder, metrics)."""
    from ..cli import train                     # lazy: glassnet.cli imports this package
    from .trials import train_options
    opts = train_options(best, options)
    argv = ["--dataset", str(opts["dataset"]), "--hidden", ",".join(map(str, opts["hidden"])),
            "--activation", opts["activation"], "--optimizer", opts["optimizer"],
            "--batch-size", str(opts["batch_size"]), "--epochs", str(opts["epochs"]),
            "--validation-split", repr(opts["validation_split"]), "--seed", str(opts["seed"]),
            "--dtype", opts["dtype"], "--output", os.path.join(run_dir, BEST_FOLDER), "--quiet"]
    if best.get("lr_given") is not None:
        argv += ["--lr", repr(best["lr_given"])]
    parser = argparse.ArgumentParser(prog="glassnet")
    train.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["train", *argv])
    buf = io.StringIO()
    with limit_blas_threads(1):                 # as every trial runs (trials.py)
        train.cmd_train(args, buf, out)
    folder = os.path.join(run_dir, BEST_FOLDER)
    with open(os.path.join(folder, runs.METRICS_FILE), encoding="utf-8") as fh:
        import json
        metrics = json.load(fh)
    return folder, metrics


def write(results, settings, run_dir, out, err, best_model=True):
    """Write results.csv, search.json, scores.png and best/ into run_dir (results ranked)."""
    runs.write_text(os.path.join(run_dir, RESULTS_FILE), results_csv(results))
    runs.write_text(os.path.join(run_dir, SETTINGS_FILE), runs.json_text(settings))
    try:
        plot_scores(results, os.path.join(run_dir, FIGURE_FILE))
    except ImportError as e:                     # matplotlib missing: warn, keep the rest
        print(f"glassnet: warning: {FIGURE_FILE} not written: {e}", file=err)
    if not best_model:
        return None
    best = results[0]
    folder, metrics = save_best(best, settings, run_dir, err)
    same = (metrics["test_accuracy"] == best["test_accuracy"] and metrics["test_loss"] == best["test_loss"])
    if not same:
        print(f"glassnet: warning: retraining trial {best['index']} gave test accuracy "
              f"{metrics['test_accuracy']!r}, the trial {best['test_accuracy']!r}: the runs differ "
              f"(another glassnet version on the workers?)", file=err)
    return folder
