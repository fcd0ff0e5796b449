"""The training doctor against runs whose health is known: false alarms on healthy runs, hits on broken ones.

    python -m bench.doctor_cases                      # every case, full size: the table in docs/doctor.md
    python -m bench.doctor_cases --quick              # small data, fewer epochs (tests/test_doctor_cases.py)
    python -m bench.doctor_cases --only mnist_512_rmsprop,nan_inputs --json out.json

Each case is a Keras-style run (written as a Keras tutorial writes it) with a known health:
a healthy run should raise no finding; a broken run should raise the finding(s) named in
`expected`, and nothing outside `expected + accepted`.  The doctor is passed explicitly
(`doctor=Doctor()`) and read from `doctor.findings`, so the same script measures older doctors
as well.  Fashion-MNIST cases run only where its files are installed (Debian's
dataset-fashion-mnist puts them in /usr/share/datasets/fashion-mnist).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from typing import Callable, NamedTuple

import numpy as np

import glassnet as keras


class Case(NamedTuple):
    name: str
    health: str                   # "healthy" or "broken"
    what: str                     # the run, in a few words
    expected: tuple               # the findings a broken run must raise (empty for a healthy run)
    accepted: tuple               # other findings that are also true of the run (not counted as false alarms)
    build: Callable               # build(quick) -> (model, x, y, fit keyword arguments)


# ----------------------------------------------------------------------------- data
def _mnist(quick, n=None):
    (x, y), _ = keras.datasets.mnist_mini.load_data()
    n = n or (2000 if quick else len(x))
    return x[:n].reshape(-1, 784).astype("float32") / 255, y[:n]


def _fashion(quick):
    (x, y), _ = keras.datasets.fashion_mnist.load_data()
    n = 2000 if quick else 20000
    return x[:n].reshape(-1, 784).astype("float32") / 255, y[:n]


def fashion_available():
    try:
        keras.datasets.fashion_mnist.load_data()
    except Exception:                 # DatasetNotFoundError, or an unreadable file
        return False
    return True


def _moons(quick):
    x, y = keras.datasets.make_moons(400 if quick else 1000, noise=0.2, seed=0)
    return x.astype("float32"), y


def _regression(quick, features=8):
    """y = a smooth function of 8 features, in units of about 10, plus noise of variance 1."""
    rng = np.random.default_rng(0)
    n = 400 if quick else 2000
    x = rng.normal(size=(n, features)).astype("float32")
    y = 10 * np.tanh(x[:, 0]) + 3 * x[:, 1] * x[:, 2] + 2 * x[:, 3] + rng.normal(size=n)
    return x, y.astype("float32")[:, None]


def _seq(layers):
    keras.utils.set_random_seed(0)
    return keras.Sequential(layers)


def _epochs(quick, full, short):
    return short if quick else full


# ----------------------------------------------------------------------------- healthy runs
def _mnist_512_rmsprop(quick):
    x, y = _mnist(quick)
    model = _seq([keras.Input((784,)), keras.layers.Dense(512, activation="relu"),
                  keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x, y, dict(epochs=_epochs(quick, 5, 3), batch_size=128)


def _mnist_128_dropout_logits(quick):
    x, y = _mnist(quick)
    model = _seq([keras.Input((784,)), keras.layers.Dense(128, activation="relu"), keras.layers.Dropout(0.2),
                  keras.layers.Dense(10)])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model, x, y, dict(epochs=_epochs(quick, 5, 3), validation_split=0.1)


def _fashion_512_adam(quick):
    x, y = _fashion(quick)
    model = _seq([keras.Input((784,)), keras.layers.Dense(512, activation="relu"),
                  keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x, y, dict(epochs=_epochs(quick, 5, 3), batch_size=32, validation_split=0.1)


def _fashion_256_128_sgd_he(quick):
    x, y = _fashion(quick)
    model = _seq([keras.Input((784,)), keras.layers.Dense(256, activation="relu", kernel_initializer="he_normal"),
                  keras.layers.Dense(128, activation="relu", kernel_initializer="he_normal"),
                  keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model, x, y, dict(epochs=_epochs(quick, 5, 3), batch_size=64, validation_split=0.1)


def _mnist_notes_sigmoid(quick):
    x, y = _mnist(quick)
    model = _seq([keras.Input((784,)), keras.layers.Dense(50, activation="sigmoid"),
                  keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x, y, dict(epochs=_epochs(quick, 5, 3), validation_split=0.1)


def _mnist_tanh_sgd(quick):
    x, y = _mnist(quick)
    model = _seq([keras.Input((784,)), keras.layers.Dense(100, activation="tanh"),
                  keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x, y, dict(epochs=_epochs(quick, 5, 3))


def _mnist_deep_relu_adamw(quick):
    x, y = _mnist(quick)
    model = _seq([keras.Input((784,))] + [keras.layers.Dense(256, activation="relu") for _ in range(3)]
                 + [keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adamw", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x, y, dict(epochs=_epochs(quick, 4, 3), batch_size=64)


def _mnist_bn_elu_adagrad(quick):
    x, y = _mnist(quick)
    model = _seq([keras.Input((784,)), keras.layers.Dense(128), keras.layers.BatchNormalization(),
                  keras.layers.Activation("elu"), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adagrad(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model, x, y, dict(epochs=_epochs(quick, 5, 3), batch_size=64)


def _mnist_sgd_schedule(quick):
    x, y = _mnist(quick)
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=500, decay_rate=0.5)
    model = _seq([keras.Input((784,)), keras.layers.Dense(128, activation="relu"),
                  keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(schedule), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model, x, y, dict(epochs=_epochs(quick, 5, 3), batch_size=32)


def _moons_relu_adam(quick):
    x, y = _moons(quick)
    model = _seq([keras.Input((2,)), keras.layers.Dense(16, activation="relu"),
                  keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    return model, x, y, dict(epochs=_epochs(quick, 60, 30), batch_size=32, validation_split=0.2)


def _moons_tanh_sgd(quick):
    x, y = _moons(quick)
    model = _seq([keras.Input((2,)), keras.layers.Dense(8, activation="tanh"),
                  keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model, x, y, dict(epochs=_epochs(quick, 100, 40), batch_size=16)


def _circles_leaky_rmsprop(quick):
    x, y = keras.datasets.make_circles(400 if quick else 1000, noise=0.1, factor=0.5, seed=0)
    model = _seq([keras.Input((2,)), keras.layers.Dense(32, activation="leaky_relu"),
                  keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    return model, x.astype("float32"), y, dict(epochs=_epochs(quick, 80, 30), batch_size=32)


def _regression_adam(quick):
    x, y = _regression(quick)
    model = _seq([keras.Input((8,)), keras.layers.Dense(64, activation="relu"),
                  keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model, x, y, dict(epochs=_epochs(quick, 100, 40), batch_size=32, validation_split=0.2)


def _regression_sgd_long(quick):
    x, y = _regression(quick)
    model = _seq([keras.Input((8,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.005), loss="mse", metrics=["mae"])
    return model, x, y, dict(epochs=_epochs(quick, 200, 60), batch_size=32)


# ----------------------------------------------------------------------------- broken runs
def _lr_far_too_high(quick):
    x, y = _mnist(quick)
    model = _seq([keras.Input((784,)), keras.layers.Dense(128, activation="relu"),
                  keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(20.0), loss="sparse_categorical_crossentropy")
    return model, x, y, dict(epochs=3, batch_size=32)


def _adam_lr_too_high(quick):
    x, y = _mnist(quick)
    model = _seq([keras.Input((784,)), keras.layers.Dense(512, activation="relu"),
                  keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x, y, dict(epochs=_epochs(quick, 6, 5), batch_size=64)


def _adam_lr_spikes(quick):
    x, y = _mnist(quick)
    model = _seq([keras.Input((784,)), keras.layers.Dense(128, activation="relu"),
                  keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy")
    return model, x[:2000], y[:2000], dict(epochs=10, batch_size=32)


def _fashion_unscaled(quick):
    x, y = _fashion(quick)
    model = _seq([keras.Input((784,)), keras.layers.Dense(512, activation="relu"),
                  keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x * 255, y, dict(epochs=3, batch_size=32, validation_split=0.1)


def _fashion_adam_001(quick):
    x, y = _fashion(quick)
    model = _seq([keras.Input((784,)), keras.layers.Dense(512, activation="relu"),
                  keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model, x, y, dict(epochs=3, batch_size=32, validation_split=0.1)


def _regression_lr_too_high(quick):
    x, y = _regression(quick)
    model = _seq([keras.Input((8,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.2), loss="mse")
    return model, x, y, dict(epochs=_epochs(quick, 10, 6), batch_size=32)


def _zero_init_relu(quick):
    x, y = _mnist(quick)
    model = _seq([keras.Input((784,)), keras.layers.Dense(128, activation="relu", kernel_initializer="zeros"),
                  keras.layers.Dense(10, activation="softmax", kernel_initializer="zeros")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x, y, dict(epochs=3, batch_size=32)


def _deep_sigmoid(quick):
    x, y = _mnist(quick)
    small = keras.initializers.RandomNormal(stddev=0.01)
    model = _seq([keras.Input((784,))]
                 + [keras.layers.Dense(64, activation="sigmoid", kernel_initializer=small) for _ in range(6)]
                 + [keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x, y, dict(epochs=3, batch_size=32)


def _dead_relu_bias(quick):
    x, y = _mnist(quick)
    model = _seq([keras.Input((784,)),
                  keras.layers.Dense(512, activation="relu", bias_initializer=keras.initializers.Constant(-5.0)),
                  keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x, y, dict(epochs=3, batch_size=32)


def _overfit_tiny(quick):
    x, y = _mnist(quick, n=200)
    model = _seq([keras.Input((784,)), keras.layers.Dense(512, activation="relu"),
                  keras.layers.Dense(512, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x, y, dict(epochs=40, batch_size=32, validation_split=0.5)


def _nan_inputs(quick):
    x, y = _mnist(quick)
    x = x.copy()
    x[::20, 100] = np.nan                  # a missing value in every 20th image
    model = _seq([keras.Input((784,)), keras.layers.Dense(128, activation="relu"),
                  keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model, x, y, dict(epochs=2, batch_size=32)


def _huge_inputs(quick):
    x, y = _regression(quick)
    model = _seq([keras.Input((8,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model, x * 1e18, y, dict(epochs=2, batch_size=32)


def _unscaled_sigmoid(quick):
    x, y = _mnist(quick)
    model = _seq([keras.Input((784,)), keras.layers.Dense(64, activation="sigmoid"),
                  keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x * 255, y, dict(epochs=3, batch_size=32)


def _deep_linear_big_init(quick):
    x, y = _regression(quick)
    model = _seq([keras.Input((8,))]
                 + [keras.layers.Dense(64, kernel_initializer=keras.initializers.RandomNormal(stddev=1.0))
                    for _ in range(5)] + [keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model, x, y, dict(epochs=3, batch_size=32)


CASES = [
    Case("mnist_512_rmsprop", "healthy", "MNIST-mini 784-512-10 relu, RMSprop, batch 128", (), (), _mnist_512_rmsprop),
    Case("mnist_128_dropout_logits", "healthy", "784-128 relu, Dropout 0.2, logits, Adam", (), (),
         _mnist_128_dropout_logits),
    Case("fashion_512_adam", "healthy", "Fashion-MNIST 784-512-10 relu, Adam, batch 32", (), (), _fashion_512_adam),
    Case("fashion_256_128_sgd_he", "healthy", "Fashion 784-256-128-10 relu, He init, SGD momentum", (), (),
         _fashion_256_128_sgd_he),
    Case("mnist_notes_sigmoid", "healthy", "the notes' 784-50-10 sigmoid, Adam", (), (), _mnist_notes_sigmoid),
    Case("mnist_tanh_sgd", "healthy", "784-100-10 tanh, SGD 0.1", (), (), _mnist_tanh_sgd),
    Case("mnist_deep_relu_adamw", "healthy", "784-256-256-256-10 relu, AdamW", (), (), _mnist_deep_relu_adamw),
    Case("mnist_bn_elu_adagrad", "healthy", "784-128 BatchNorm elu, Adagrad", (), (), _mnist_bn_elu_adagrad),
    Case("mnist_sgd_schedule", "healthy", "784-128 relu, SGD with ExponentialDecay", (), (), _mnist_sgd_schedule),
    Case("moons_relu_adam", "healthy", "moons 2-16-16-1 relu, Adam 0.01, 60 epochs", (), (), _moons_relu_adam),
    Case("moons_tanh_sgd", "healthy", "moons 2-8-1 tanh, SGD momentum, 100 epochs", (), (), _moons_tanh_sgd),
    Case("circles_leaky_rmsprop", "healthy", "circles 2-32-1 leaky_relu, RMSprop, 80 epochs", (), (),
         _circles_leaky_rmsprop),
    Case("regression_adam", "healthy", "regression 8-64-64-1 relu, MSE, Adam, 100 epochs", (), (), _regression_adam),
    Case("regression_sgd_long", "healthy", "regression 8-32-1 relu, MSE, SGD, 200 epochs", (), (),
         _regression_sgd_long),
    Case("lr_far_too_high", "broken", "784-128 relu, SGD lr=20", ("exploding_loss",), ("nan_loss", "dead_relu"),
         _lr_far_too_high),
    Case("adam_lr_too_high", "broken", "784-512 relu, Adam lr=0.1", ("dead_relu",),
         ("rising_loss", "exploding_loss", "exploding_gradients"), _adam_lr_too_high),
    Case("adam_lr_spikes", "broken", "784-128 relu, Adam lr=0.02 (20x the default)", ("rising_loss",),
         ("dead_relu",), _adam_lr_spikes),
    Case("fashion_unscaled", "broken", "Fashion 784-512 relu, raw 0-255 pixels, Adam", ("exploding_gradients",),
         ("exploding_loss",), _fashion_unscaled),
    Case("fashion_adam_001", "broken", "Fashion 784-512 relu, Adam lr=0.01 (70% of units die)", ("dead_relu",),
         (), _fashion_adam_001),
    Case("regression_lr_too_high", "broken", "regression 8-32-1, SGD lr=0.2", ("nan_loss",),
         ("exploding_loss", "exploding_gradients", "rising_loss"), _regression_lr_too_high),
    Case("zero_init_relu", "broken", "784-128-10 relu, every kernel zeros", ("dead_relu",), (), _zero_init_relu),
    Case("deep_sigmoid", "broken", "784-(64 sigmoid x6)-10, stddev 0.01, SGD", ("vanishing_gradients",), (),
         _deep_sigmoid),
    Case("dead_relu_bias", "broken", "784-512 relu, biases start at -5", ("dead_relu",), (), _dead_relu_bias),
    Case("overfit_tiny", "broken", "200 images, 784-512-512-10 relu, 40 epochs", ("overfitting",), (), _overfit_tiny),
    Case("nan_inputs", "broken", "MNIST with a NaN pixel in every 20th image", ("refused",), (), _nan_inputs),
    Case("huge_inputs", "broken", "regression inputs x 1e18", ("nan_loss",), ("exploding_loss",), _huge_inputs),
    Case("unscaled_sigmoid", "broken", "raw 0-255 pixels into sigmoid units", ("saturated",),
         ("exploding_gradients",), _unscaled_sigmoid),
    Case("deep_linear_big_init", "broken", "6 linear layers of 64, stddev 1.0", ("exploding_gradients",),
         ("exploding_loss",), _deep_linear_big_init),
]
BY_NAME = {case.name: case for case in CASES}


def run_case(case, quick=False, doctor=None):
    """Fit one case with a Doctor; return (causes found, in order, the History, the Doctor)."""
    doctor = doctor if doctor is not None else keras.doctor.Doctor()
    model, x, y, kwargs = case.build(quick)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            history = model.fit(x, y, verbose=0, doctor=doctor, **kwargs)
        except ValueError as err:          # fit refuses the data before training: no doctor needed
            if "refused" not in case.expected:
                raise
            return [f"refused ({err})"], keras.callbacks.History(), doctor
    history.dead_share = dead_share(model, np.asarray(x, dtype=model.dtype))
    return [f.cause for f in doctor.findings], history, doctor


def dead_share(model, x):
    """The largest share, over the hidden ReLU layers, of units that output 0 for every sample of x."""
    worst = 0.0
    with np.errstate(all="ignore"):
        for layer in model.layers[:-1]:
            x = layer.forward(x, training=False)
            if getattr(layer, "activation", None) == "relu" and getattr(layer, "_z", None) is not None:
                z = layer._z.reshape(-1, layer._z.shape[-1])
                worst = max(worst, float(np.mean(np.all(z <= 0, axis=0))))
    return worst


def verdict(case, causes):
    """'ok' (healthy, silent), 'false alarm', 'hit' (every expected finding, nothing untrue) or 'miss'."""
    causes = {"refused" if c.startswith("refused") else c for c in causes}
    untrue = causes - set(case.expected) - set(case.accepted)
    if case.health == "healthy":
        return "ok" if not causes else "false alarm"
    if not set(case.expected) <= causes:
        return "miss"
    return "hit" if not untrue else "hit + false alarm"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.doctor_cases", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data and fewer epochs")
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--json", default="", help="write the results (and loss curves) to this file")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or [c.name for c in CASES]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        parser.error(f"unknown cases {unknown}; the cases are: {', '.join(BY_NAME)}")
    has_fashion = fashion_available()
    results = []
    print(f"{'run':28} {'health':8} {'found':40} {'verdict':12} {'last loss':>10} {'dead':>5} {'s':>6}")
    for name in names:
        case = BY_NAME[name]
        if "fashion" in name and not has_fashion:
            print(f"{name:28} skipped: Fashion-MNIST is not installed")
            continue
        start = time.perf_counter()
        causes, history, _ = run_case(case, args.quick)
        seconds = time.perf_counter() - start
        result = {"name": name, "health": case.health, "expected": list(case.expected), "found": causes,
                  "verdict": verdict(case, causes), "loss": [float(v) for v in history.history.get("loss", [])],
                  "val_loss": [float(v) for v in history.history.get("val_loss", [])],
                  "metrics": {k: float(v[-1]) for k, v in history.history.items() if v},
                  "dead": round(getattr(history, "dead_share", 0.0), 3), "seconds": round(seconds, 1)}
        results.append(result)
        last = result["loss"][-1] if result["loss"] else float("nan")
        print(f"{name:28} {case.health:8} {', '.join(causes) or '-':40} {result['verdict']:12} {last:10.4g} "
              f"{result['dead']:5.2f} {seconds:6.1f}", flush=True)
    healthy = [r for r in results if r["health"] == "healthy"]
    broken = [r for r in results if r["health"] == "broken"]
    print(f"healthy runs with a false alarm: {sum(r['verdict'] != 'ok' for r in healthy)} of {len(healthy)}; "
          f"broken runs hit: {sum(r['verdict'].startswith('hit') for r in broken)} of {len(broken)}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
