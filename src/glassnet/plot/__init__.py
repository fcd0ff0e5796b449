"""Figures with matplotlib, imported only when a figure is drawn.

    from glassnet import plot
    plot.plot_history(history, "curves.png")            # loss and accuracy, train and validation
    history.plot("curves.png")                          # the same, from the History fit returned
    plot.plot_activations(path="activations.png")       # every activation and its derivative
    plot.plot_decision_boundary(model, x, y)            # decision regions of a model on 2-D data
    plot.plot_confusion_matrix(y_true, y_pred)          # annotated counts; plot.confusion_matrix(...) the numbers
    plot.plot_weights(model)                            # first-layer weights as 28x28 images
    plot.plot_misclassified(model, x, y)                # the images the model gets wrong
    plot.plot_layer_histograms(model, x)                # weights and activations, layer by layer
    plot.plot_optimizer_paths()                         # SGD, Momentum, AdaGrad, RMSprop, Adam on f(x, y)
    plot.plot_run("runs/20250101-120000")               # all of a run folder's figures (`glassnet plot`)
    plot.plot_model(model, "model.png", show_shapes=True)   # the layers as boxes and arrows (gn.utils.plot_model)
    plot.plot_filters(convnet)                          # a Conv2D layer's learned filters as small images
    plot.plot_feature_maps(convnet, image)              # one image through each convolution and pooling layer
    plot.plot_filter_evolution(snapshots)               # the filters over training (the FilterSnapshots callback)

Every ``plot_*`` function returns the matplotlib ``Figure`` (a notebook shows it) and, given
``path=``, also saves it there (PNG unless the name ends in .svg, .pdf, ...), atomically: the
image is written to a temporary name and renamed, so no reader ever sees half a file.

Figures are drawn on matplotlib's Agg canvas through ``matplotlib.figure.Figure``, never
through pyplot: no display is needed, pyplot's global state is left alone, and figures can be
drawn from several threads at once.  matplotlib is optional (``pip install "glassnet[plot]"``):
the rest of glassnet never imports it, and the functions here that need no drawing
(``confusion_matrix``, ``optimizer_paths``, ``decision_grid``, ``model_graph``) work without it.

The modules: _figure (the Figure wrapper, saving, shared checks), history (training curves),
functions (activations), regions (decision boundaries), confusion (confusion matrix; the counts
are glassnet.metrics.confusion_matrix), weights (weights, misclassified images, histograms),
paths (optimizer paths), run_folder (plot_run), model_plot (plot_model, Keras's; also
glassnet.utils.plot_model), filters (a Conv2D layer's filters, FilterSnapshots and their evolution)
and feature_maps (one image through a convolutional network).
"""
from __future__ import annotations

from ..metrics import confusion_matrix
from ._figure import (DPI, INSTALL_HINT, MissingMatplotlibError, predicted_classes, require_matplotlib,
                      save_figure)
from .confusion import plot_confusion_matrix
from .feature_maps import feature_maps, plot_feature_maps
from .filters import FilterSnapshots, filter_tiles, plot_filter_evolution, plot_filters
from .functions import plot_activations
from .history import plot_history
from .model_plot import model_graph, plot_model
from .paths import FUNCTIONS, TestFunction, default_optimizers, optimizer_paths, plot_optimizer_paths
from .regions import DecisionGrid, decision_grid, plot_decision_boundary
from .run_folder import RUN_FIGURES, plot_run
from .weights import plot_layer_histograms, plot_misclassified, plot_weights, tile_images

__all__ = [
    "plot_history", "plot_activations", "plot_decision_boundary", "decision_grid", "plot_confusion_matrix",
    "confusion_matrix", "plot_weights", "plot_misclassified", "plot_layer_histograms",
    "plot_optimizer_paths", "optimizer_paths", "default_optimizers", "TestFunction", "FUNCTIONS",
    "plot_run", "plot_model", "model_graph", "save_figure", "predicted_classes", "tile_images",
    "MissingMatplotlibError", "plot_filters", "filter_tiles", "plot_feature_maps", "feature_maps",
    "FilterSnapshots", "plot_filter_evolution",
]


def __getattr__(name):
    if name == "GlassnetFigure":            # the Figure subclass, created when matplotlib is first needed
        return require_matplotlib()[0]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
