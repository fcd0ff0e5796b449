"""`glassnet plot RUN_FOLDER`: draw a run folder's figures into it (the figures: glassnet.plot.plot_run)."""
from __future__ import annotations

from .. import plot
from ._common import Formatter, MissingDependencyError, dataset, path


def add_parser(sub):
    command = sub.add_parser(
        "plot", formatter_class=Formatter, help="draw a run folder's figures (PNG) into it",
        description="Draw the figures of a run folder written by 'glassnet train' into it, and print the\n"
                    "files written: curves.png (only if missing), confusion_matrix.png, weights.png\n"
                    "(first-layer weights as images), misclassified.png (on the test split) and\n"
                    "histograms.png (weights and activations per layer). Needs matplotlib.")
    command.add_argument("run", type=path, metavar="RUN_FOLDER", help="a run folder written by glassnet train")
    command.add_argument("--dataset", type=dataset, default=None, metavar="NAME|FILE.npz",
                      help="the dataset whose test split is drawn (default: the one recorded in the run's "
                           "metrics.json)")
    command.set_defaults(handler=cmd_plot, parser=command)


def cmd_plot(args, out, err):
    try:
        written = plot.plot_run(args.run, dataset=args.dataset)
    except plot.MissingMatplotlibError as e:
        raise MissingDependencyError(str(e)) from None
    for figure in written:
        print(figure, file=out)
    return 0
