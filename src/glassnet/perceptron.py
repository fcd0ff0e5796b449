"""Rosenblatt's perceptron: one neuron with a step activation and the perceptron learning rule.

    p = gn.Perceptron().fit(x, y, epochs=20, lr=0.1)     # y holds 0 and 1
    p.predict(x); p.w; p.b; p.converged; p.errors_

For a sample x with target t in {0, 1}:

    y = step(x . w + b)            step(z) = 1 if z > 0 else 0
    w <- w + lr * (t - y) * x
    b <- b + lr * (t - y)

Samples are visited one at a time, in order (or shuffled with shuffle=True), for up to
`epochs` passes; training stops after the first pass without a mistake (`converged` is then
True).  The rule finds a separating line whenever one exists (the perceptron convergence
theorem): AND, OR and NAND are learnt in a few epochs.  XOR is not linearly separable, so
no line separates its classes; the weights cycle forever, `converged` stays False, and
`fit` says so with a `ConvergenceWarning`.  A network with a hidden layer learns XOR
(see the README: a gn.Sequential with a tanh hidden layer).
"""
from __future__ import annotations

import warnings

import numpy as np

from . import _checks
from .activations import step


class ConvergenceWarning(UserWarning):
    """The perceptron rule still made mistakes in its last epoch."""


#: XOR's truth table (and its complement, XNOR) on inputs 00, 01, 10, 11
_XOR_TABLES = {(0, 1, 1, 0): "XOR", (1, 0, 0, 1): "XNOR"}


class Perceptron:
    """Rosenblatt's perceptron for two classes (targets 0 and 1).

    init: "zeros" (default: w = 0, b = 0, the textbook start) or "random" (uniform in
    [-0.5, 0.5), drawn from a generator seeded with `seed`, so the same seed gives the same run).

    After fit: w (n_features,), b (float), converged (bool), errors_ (mistakes per epoch),
    epochs_ (epochs run), message (why it stopped).
    """

    def __init__(self, init="zeros", seed=None):
        if init not in ("zeros", "random"):
            raise ValueError(f"init must be 'zeros' or 'random', got {init!r}")
        _checks.seed(seed)
        self.init = init
        self.seed = seed
        self.w = None
        self.b = 0.0
        self.converged = False
        self.errors_: list[int] = []
        self.epochs_ = 0
        self.message = "not fitted yet"

    # -- the rule ------------------------------------------------------------
    def initialize(self, n_features):
        """Set w and b to their starting values for inputs of `n_features` values."""
        n_features = int(n_features)
        if self.init == "zeros":
            self.w = np.zeros(n_features)
            self.b = 0.0
        else:
            rng = np.random.default_rng(self.seed)
            self.w = rng.uniform(-0.5, 0.5, size=n_features)
            self.b = float(rng.uniform(-0.5, 0.5))
        return self

    def net_input(self, x):
        """z = x . w + b (one value per sample)."""
        self._require_weights()
        return np.asarray(x, dtype=np.float64) @ self.w + self.b

    decision_function = net_input

    def predict(self, x):
        """step(x . w + b): 1 where the net input is > 0, else 0 (int64)."""
        x = self._check_x(x)
        return step(self.net_input(x)).astype(np.int64)

    def update(self, x, t, lr=0.1):
        """Apply the rule to one sample: w += lr * (t - y) * x, b += lr * (t - y). Returns t - y (0: no mistake)."""
        self._require_weights()
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        if x.shape != self.w.shape:
            raise ValueError(f"update expects one sample of {self.w.size} features, got shape {x.shape}")
        y = int(step(x @ self.w + self.b))
        error = int(t) - y
        if error:
            self.w += lr * error * x
            self.b += lr * error
        return error

    # -- training ------------------------------------------------------------
    def fit(self, x, y, epochs=20, lr=0.1, shuffle=False):
        """Learn w and b with the perceptron rule, sample by sample, for up to `epochs` passes.

        Stops after the first epoch without a mistake (converged = True).  When the last epoch
        still had mistakes, converged is False, `message` says why, and a ConvergenceWarning is
        issued once.  Returns self.
        """
        x = self._check_x(x, build=True)
        t = self._check_targets(y, len(x))
        epochs = _checks.positive_int(epochs, "epochs")
        if isinstance(lr, bool) or not isinstance(lr, (int, float, np.integer, np.floating)) \
                or not np.isfinite(lr) or lr <= 0:
            raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
        self.initialize(x.shape[1])
        rng = np.random.default_rng(self.seed) if shuffle else None
        self.errors_ = []
        self.converged = False
        for _ in range(epochs):
            order = rng.permutation(len(x)) if rng is not None else range(len(x))
            mistakes = sum(1 for i in order if self.update(x[i], t[i], lr) != 0)
            self.errors_.append(mistakes)
            if mistakes == 0:
                self.converged = True
                break
        self.epochs_ = len(self.errors_)
        if self.converged:
            self.message = f"converged: epoch {self.epochs_} classified all {len(x)} samples correctly"
        else:
            self.message = _not_converged_message(x, t, epochs, self.errors_[-1])
            warnings.warn(self.message, ConvergenceWarning, stacklevel=2)
        return self

    def score(self, x, y):
        """Accuracy: the fraction of samples predicted right."""
        t = self._check_targets(y, len(self._check_x(x)))
        return float(np.mean(self.predict(x) == t))

    # -- checks --------------------------------------------------------------
    def _require_weights(self):
        if self.w is None:
            raise ValueError("the perceptron has no weights yet: call fit(x, y) (or initialize(n_features)) first")

    def _check_x(self, x, build=False):
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":
            raise TypeError(f"x must hold numbers, got dtype {x.dtype}")
        if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
            raise ValueError(f"x must have shape (samples, features), got {x.shape}")
        x = x.astype(np.float64)
        if not np.isfinite(x).all():
            raise ValueError("x must be finite (no NaN or infinity)")
        if not build:
            self._require_weights()
            if x.shape[1] != self.w.size:
                raise ValueError(f"the perceptron expects {self.w.size} features per sample, got {x.shape[1]}")
        return x

    @staticmethod
    def _check_targets(y, n):
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or len(y) != n:
            raise ValueError(f"y must hold one target per sample, shape ({n},), got {y.shape}")
        if y.dtype.kind not in "biuf" or not np.isin(y, (0, 1)).all():
            raise ValueError(f"the perceptron's targets are 0 and 1, got {sorted(set(np.unique(y).tolist()))}")
        return y.astype(np.int64)

    def __repr__(self):
        if self.w is None:
            return f"Perceptron(init={self.init!r}, seed={self.seed!r})"
        return f"Perceptron(w={np.array2string(self.w, precision=4)}, b={self.b:.4g}, converged={self.converged})"


def _not_converged_message(x, t, epochs, last_errors):
    stopped = (f"the perceptron did not converge in {epochs} epoch{'s' if epochs != 1 else ''} "
               f"({last_errors} mistake{'s' if last_errors != 1 else ''} in the last one)")
    gate = _logic_table(x, t)
    if gate:
        return (f"{gate} is not linearly separable: no line separates the classes "
                f"(inputs 01 and 10 against 00 and 11), so {stopped}. A network with a hidden layer "
                f"learns it, e.g. gn.Sequential([gn.layers.Dense(4, activation='tanh', input_shape=(2,)), "
                f"gn.layers.Dense(1, activation='sigmoid')]).")
    return (f"{stopped}. Either it needs more epochs, or the classes are not linearly separable "
            f"(as with XOR: no line separates them) and the rule will never stop making mistakes; "
            f"a network with a hidden layer can learn such data.")


def _logic_table(x, t):
    """'XOR' / 'XNOR' when (x, t) is that truth table on the inputs 00, 01, 10, 11 (in any order)."""
    if x.shape != (4, 2) or not np.isin(x, (0, 1)).all():
        return None
    table = {(int(a), int(b)): int(v) for (a, b), v in zip(x, t)}
    if len(table) != 4:
        return None
    return _XOR_TABLES.get(tuple(table[k] for k in ((0, 0), (0, 1), (1, 0), (1, 1))))
