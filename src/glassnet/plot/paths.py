"""Optimizer paths on a 2-D function (Deep Learning from Scratch, chapter 6)."""
from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Callable, NamedTuple

import numpy as np

from .. import optimizers as _optimizers
from .._checks import positive_int
from ._figure import finish, grid_figure, grid_shape


class TestFunction(NamedTuple):
    """A 2-D function to descend: f(w) and its analytic gradient for w of shape (2,), a start,
    the minimum, the axes' limits, and the default number of steps and learning rates."""
    name: str
    f: Callable
    gradient: Callable
    start: tuple
    minimum: tuple
    xlim: tuple
    ylim: tuple
    steps: int
    learning_rates: dict


TestFunction.__test__ = False          # not a pytest test class, despite its name


def _textbook(w):
    return w[0] ** 2 / 20.0 + w[1] ** 2


def _textbook_gradient(w):
    return np.array([w[0] / 10.0, 2.0 * w[1]])


def _rosenbrock(w):
    return (1.0 - w[0]) ** 2 + 100.0 * (w[1] - w[0] ** 2) ** 2


def _rosenbrock_gradient(w):
    return np.array([-2.0 * (1.0 - w[0]) - 400.0 * w[0] * (w[1] - w[0] ** 2), 200.0 * (w[1] - w[0] ** 2)])


#: the functions optimizer_paths knows by name
FUNCTIONS = {
    # Deep Learning from Scratch, 6.1: f(x, y) = x^2 / 20 + y^2 from (-7, 2), 30 steps, the book's rates
    "textbook": TestFunction("f(x, y) = x²/20 + y²", _textbook, _textbook_gradient, (-7.0, 2.0), (0.0, 0.0),
                             (-10.0, 10.0), (-5.0, 5.0), 30,
                             {"SGD": 0.95, "Momentum": 0.1, "AdaGrad": 1.5, "RMSprop": 0.3, "Adam": 0.3}),
    "rosenbrock": TestFunction("Rosenbrock (1 - x)² + 100 (y - x²)²", _rosenbrock, _rosenbrock_gradient,
                               (-1.5, 2.0), (1.0, 1.0), (-2.0, 2.0), (-1.0, 3.0), 2000,
                               {"SGD": 0.001, "Momentum": 0.0003, "AdaGrad": 0.5, "RMSprop": 0.005,
                                "Adam": 0.1}),
}


def _test_function(function):
    if isinstance(function, TestFunction):
        return function
    if isinstance(function, str) and function.lower() in FUNCTIONS:
        return FUNCTIONS[function.lower()]
    raise ValueError(f"unknown function {function!r}; choose from {', '.join(FUNCTIONS)} or pass a TestFunction")


def default_optimizers(function="textbook"):
    """{name: optimizer}: SGD, Momentum (SGD momentum=0.9), AdaGrad, RMSprop and Adam, glassnet's own
    classes with the learning rates of `function` (the book's for "textbook").  AdaGrad starts its
    accumulator at 0, as the book's does (Keras starts at 0.1)."""
    lr = _test_function(function).learning_rates
    return {
        "SGD": _optimizers.SGD(lr["SGD"]),
        "Momentum": _optimizers.SGD(lr["Momentum"], momentum=0.9),
        "AdaGrad": _optimizers.Adagrad(lr["AdaGrad"], initial_accumulator_value=0.0),
        "RMSprop": _optimizers.RMSprop(lr["RMSprop"]),
        "Adam": _optimizers.Adam(lr["Adam"]),
    }


def optimizer_paths(function="textbook", steps=None, start=None, optimizers=None):
    """{name: path}: where each optimizer takes a 2-element float64 point, step by step.

    path[0] is the start and path[t] the point after t updates, shape (steps + 1, 2).  Each step
    computes the analytic gradient at the point and calls the optimizer's ``apply`` on it, as
    training does on a weight array.  `function`: "textbook" (x²/20 + y², from (-7, 2), 30 steps,
    as in Deep Learning from Scratch ch. 6), "rosenbrock", or a TestFunction.  `optimizers`:
    {name: Optimizer} (copied, so the ones given keep their state), default
    ``default_optimizers(function)``.  Needs no matplotlib.
    """
    spec = _test_function(function)
    steps = spec.steps if steps is None else positive_int(steps, "steps")
    start = np.array(spec.start if start is None else start, dtype=np.float64)
    if start.shape != (2,) or not np.isfinite(start).all():
        raise ValueError(f"start must be two finite numbers (x, y), got {start!r}")
    if optimizers is None:
        optimizers = default_optimizers(spec)
    elif not isinstance(optimizers, Mapping) or not optimizers:
        raise TypeError("optimizers must be a non-empty dict {name: glassnet optimizer}")
    paths = {}
    for name, optimizer in optimizers.items():
        if not hasattr(optimizer, "apply"):
            raise TypeError(f"optimizers[{name!r}] must be a glassnet optimizer, got {type(optimizer).__name__}")
        optimizer = copy.deepcopy(optimizer)
        w = start.copy()
        path = np.empty((steps + 1, 2))
        path[0] = w
        with np.errstate(over="ignore", invalid="ignore"):        # a diverging path ends in inf/NaN
            for t in range(1, steps + 1):
                optimizer.apply([np.asarray(spec.gradient(w), dtype=np.float64)], [w])
                path[t] = w
        paths[str(name)] = path
    return paths


def plot_optimizer_paths(path=None, function="textbook", steps=None, start=None, optimizers=None):
    """The paths of SGD, Momentum, AdaGrad, RMSprop and Adam on a 2-D function over its contour
    lines, one panel each (the minimum marked +), and a last panel with f along every path
    (log scale).  The paths are ``optimizer_paths(function, steps, start, optimizers)``; see there.
    Returns the Figure; saves it to `path` when given.
    """
    spec = _test_function(function)
    paths = optimizer_paths(spec, steps, start, optimizers)
    xs = np.linspace(*spec.xlim, 300)
    ys = np.linspace(*spec.ylim, 300)
    gx, gy = np.meshgrid(xs, ys)
    z = spec.f(np.array([gx, gy]))
    levels = np.unique(np.quantile(z, np.linspace(0, 1, 22)[1:-1]))
    rows, cols = grid_shape(len(paths) + 1, 3)
    fig, axes = grid_figure(rows, cols, (3.9, 3.0), top=0.75, bottom=0.55, wgap=0.75, hgap=0.8)
    axes = axes.ravel()
    for ax, (name, p) in zip(axes, paths.items()):
        ax.contour(gx, gy, z, levels=levels, colors="0.7", linewidths=0.7)
        ax.plot(p[:, 0], p[:, 1], "o-", color="tab:red", markersize=3, linewidth=1, label=name)
        ax.plot(*spec.minimum, "+", color="k", markersize=10, markeredgewidth=2)
        ax.set_xlim(*spec.xlim)
        ax.set_ylim(*spec.ylim)
        final = p[-1]
        ax.set_title(f"{name}: ({final[0]:.3f}, {final[1]:.3f}) after {len(p) - 1} steps", fontsize=10)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    ax = axes[len(paths)]
    for name, p in paths.items():
        values = np.array([spec.f(w) for w in p])
        ax.plot(range(len(p)), np.where(values > 0, values, np.nan), label=name)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("f")
    ax.set_title("f along each path")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    for ax in axes[len(paths) + 1:]:
        ax.remove()
    fig.suptitle(f"Optimizers on {spec.name}, from ({spec.start[0] if start is None else start[0]:g}, "
                 f"{spec.start[1] if start is None else start[1]:g})")
    return finish(fig, path)
