"""A run folder of `glassnet train`: every figure of the `glassnet plot` command."""
from __future__ import annotations

import math
import os

import numpy as np

from .. import runs
from .._checks import positive_int
from ._figure import require_matplotlib, model_classes, predicted_classes
from .confusion import plot_confusion_matrix
from .feature_maps import plot_feature_maps
from .filters import conv2d_layers, plot_filters
from .history import plot_history
from .weights import first_kernel, plot_layer_histograms, plot_misclassified, plot_weights

#: the files `plot_run` (and `glassnet plot RUN_FOLDER`) draws into a run folder
RUN_FIGURES = ("curves.png", "confusion_matrix.png", "weights.png", "misclassified.png", "histograms.png",
               "filters.png", "feature_maps.png")


def plot_run(run_dir, dataset=None, samples=1000):
    """Draw a `glassnet train` run folder's figures into it and return the paths written.

    Reads model.glassnet, history.json and metrics.json (the dataset used; `dataset=` overrides
    it, as ``glassnet evaluate --dataset`` does) and writes curves.png (only if missing),
    confusion_matrix.png and misclassified.png (on the test split), weights.png (when the inputs
    are square images and the first Dense layer reads them), histograms.png (on the first `samples`
    test images) and, for a model with Conv2D layers, filters.png (the first one's filters) and
    feature_maps.png (the first test image through each convolution and pooling layer).
    Raises FileNotFoundError / ValueError for a missing or foreign folder.
    """
    run_dir = os.fspath(run_dir)
    if not os.path.exists(run_dir):
        raise FileNotFoundError(f"no such run folder: {run_dir}")
    if not os.path.isdir(run_dir):
        raise ValueError(f"{run_dir} is not a folder; give a run folder written by glassnet train")
    model_path = os.path.join(run_dir, runs.MODEL_FILE)
    if not os.path.isfile(model_path):
        raise ValueError(f"{run_dir} is not a run folder (it has no {runs.MODEL_FILE}); "
                         f"give a folder written by glassnet train")
    require_matplotlib()                                          # fail before reading anything when it is missing
    samples = positive_int(samples, "samples")
    curves = os.path.join(run_dir, "curves.png")
    history_path = os.path.join(run_dir, runs.HISTORY_FILE)
    history = None
    if not os.path.exists(curves) and os.path.isfile(history_path):
        history = runs.read_history(history_path)

    # read and check everything before the first figure is written
    model = runs.load_model(model_path)
    if dataset is None:
        dataset = runs.recorded_dataset(run_dir) or runs.DEFAULT_DATASET
    data, x = runs.load_test_split(model, dataset)
    feature_shape = runs.model_features(model)
    y = data.y_test
    outputs = model.predict(x, batch_size=256)
    classes = model_classes(model, outputs)
    if y.max(initial=0) >= classes:
        raise ValueError(f"{data.name}: y_test holds label {int(y.max())}, but the model has {classes} classes")
    pred = predicted_classes(outputs)

    written = []
    if history is not None:
        plot_history(history, curves)
        written.append(curves)
    target = os.path.join(run_dir, "confusion_matrix.png")
    plot_confusion_matrix(y, pred, labels=[str(i) for i in range(classes)], path=target,
                          title=f"{data.name} test split: {len(y):,} samples, accuracy {np.mean(pred == y):.4f}")
    written.append(target)
    image = _image_side(data.x_test, feature_shape)
    if image is not None:
        try:
            reads_pixels = first_kernel(model)[0].shape[0] == image[0] * image[1]
        except ValueError:
            reads_pixels = False
        if reads_pixels and int(np.prod(feature_shape)) == image[0] * image[1]:
            target = os.path.join(run_dir, "weights.png")
            plot_weights(model, target, shape=image)
            written.append(target)
        target = os.path.join(run_dir, "misclassified.png")
        plot_misclassified(model, x, y, target, image_shape=image)
        written.append(target)
    target = os.path.join(run_dir, "histograms.png")
    plot_layer_histograms(model, x[:samples], target)
    written.append(target)
    if conv2d_layers(model):
        for name, draw in (("filters.png", lambda p: plot_filters(model, p)),
                           ("feature_maps.png", lambda p: plot_feature_maps(model, x[0], p))):
            target = os.path.join(run_dir, name)
            draw(target)
            written.append(target)
    return written


def _image_side(x_test, feature_shape):
    """(height, width) of the test images, or None when the samples are not images."""
    if x_test.ndim == 3:
        return tuple(x_test.shape[1:])
    width = int(np.prod(feature_shape))
    side = math.isqrt(width)
    return (side, side) if side * side == width and side > 1 else None
