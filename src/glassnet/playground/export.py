"""The playground's "Export": its network and training written out as a plain glassnet script.

    code = export_script(session.settings, session.step)      # Python source, a str
    open("playground.py", "w").write(code)                     # then: python playground.py

What a learner builds on the page should not stay on the page. The exported script is the kind a
Keras tutorial shows (import numpy as np; import glassnet as gn; the data; a Sequential; compile;
a training loop), commented part by part, and it needs nothing of the playground. It writes out the
very recipe `Session` follows (playground/session.py), value for value:

1. `gn.set_random_seed(seed)`: the initializers draw the first weights from glassnet's global generator;
2. `gn.datasets.toy.make_2d(dataset, n_samples, noise=noise, seed=seed)`: the points, in [-6, 6]^2;
3. the split: the first n_train points train, the rest test;
4. the input features, each the Python expression of `data.FEATURES` over the points p;
5. the `Sequential`: hidden Dense layers, then the output layer, all float64, with the initializer and
   regularizer of the settings; `compile` with the optimizer as an object (its learning rate);
6. the batch loop: a permutation per pass from a generator of its own, `train_on_batch` per batch,
   for exactly `steps` steps;
7. the train and test losses printed, and `model.save("playground.glassnet")` (or `sys.argv[1]`).

So the script, run anywhere, ends with the page's weights bit for bit (tests/playground/test_export.py
runs it and compares). Only one thing differs: the page records the last step of each click with
`model.trace`, which is the same step with every number kept, so the weights do not change.
"""
from __future__ import annotations

from .. import _checks
from . import data as _data
from . import session as _session
from .settings import Settings

__all__ = ["export_script", "OPTIMIZERS", "INITIALIZERS"]

#: The optimizer settings, as the glassnet code that makes each (the learning rate is added).
OPTIMIZERS = {
    "sgd": ("gn.optimizers.SGD", "", "plain gradient descent: w -= learning_rate * dL/dw"),
    "momentum": ("gn.optimizers.SGD", ", momentum=0.9",
                 "gradient descent with momentum: v = 0.9 v - learning_rate * dL/dw; w += v"),
    "rmsprop": ("gn.optimizers.RMSprop", "",
                "RMSprop: each weight's step divided by a running root mean square of its gradients"),
    "adagrad": ("gn.optimizers.Adagrad", "",
                "Adagrad: each weight's step divided by the root of its summed squared gradients"),
    "adam": ("gn.optimizers.Adam", "", "Adam: momentum and RMSprop together, with bias correction"),
}

#: The initializer settings, as the glassnet value each layer's kernel_initializer gets, and what it draws.
INITIALIZERS = {
    "glorot_uniform": ('"glorot_uniform"', "uniform in [-l, l], l = sqrt(6 / (fan_in + fan_out))"),
    "glorot_normal": ('"glorot_normal"', "truncated normal, stddev sqrt(2 / (fan_in + fan_out))"),
    "he_normal": ('"he_normal"', "truncated normal, stddev sqrt(2 / fan_in)"),
    "he_uniform": ('"he_uniform"', "uniform in [-l, l], l = sqrt(6 / fan_in)"),
    "random_normal": ("gn.initializers.RandomNormal(stddev=0.01)",
                      "normal, stddev 0.01 (the notes' weight_init_std * randn)"),
    "zeros": ('"zeros"', "all zero (every unit of a layer then learns the same thing)"),
}

_REGULARIZERS = {"l1": ("L1", "rate * sum(|W|)"), "l2": ("L2", "rate * sum(W ** 2)")}

#: What each data set is, in the frame [-6, 6]^2 (glassnet.datasets.toy.make_2d).
_DATASETS = {
    "circles": "class 0 on a circle of radius 5, class 1 on a circle of radius 2.5 inside it",
    "moons": "two interleaving half circles, one per class",
    "xor": "the four quadrants: class 0 where x and y have the same sign, class 1 where they differ",
    "spirals": "two interleaved spiral arms, one per class",
    "gaussians": "two round blobs, class 0 around (2, 2) and class 1 around (-2, -2)",
    "plane": "a regression: the target is (x + y) / 12, a tilted plane from -1 to 1",
}


def export_script(settings, steps) -> str:
    """The Python source of a glassnet script that rebuilds these settings' data and network and trains
    it for `steps` steps exactly as the playground's `Session` does (weights equal bit for bit).

    settings: a `Settings`, or its dict form (validated with `Settings.from_dict`).
    steps: the number of training steps (batches) done, an integer >= 0 (0: the untrained network).
    """
    settings = _as_settings(settings)
    steps = _check_steps(steps)
    parts = [_header(settings, steps), _imports(), _constants(settings, steps), _data_part(settings),
             _model_part(settings), _training_part(), _report_part(settings)]
    return "\n\n".join(parts) + "\n"


# --------------------------------------------------------------------------- checks

def _as_settings(settings):
    if isinstance(settings, Settings):
        return settings
    if isinstance(settings, dict):
        return Settings.from_dict(settings)
    raise TypeError(f"export_script: settings must be a Settings or a dict of settings, "
                    f"got {type(settings).__name__}")


def _check_steps(steps):
    return _checks.non_negative_int(steps, "export_script: steps (the steps trained)")


# --------------------------------------------------------------------------- the recipe's numbers
# The split and the output layer come from the modules the Session itself uses, so the two cannot drift.

def n_train(settings) -> int:
    """The number of training points (playground.data.n_train: round(n * fraction), from 1 to n - 1)."""
    return _data.n_train(settings.n_samples, settings.train_fraction)


_OUTPUT_MEANING = {"linear": "the predicted value", "softmax": "P(class 0) and P(class 1)",
                   "sigmoid": "P(class 1)"}


def output_layer(settings):
    """(units, activation, what the output means) of the output layer (playground.session.output_layer)."""
    units, activation = _session.output_layer(settings)
    return units, activation, _OUTPUT_MEANING[activation]


# --------------------------------------------------------------------------- the script's parts

def _header(s, steps):
    query = s.to_query()
    return "\n".join([
        '"""A network from the glassnet playground, written out as a plain glassnet script.',
        "",
        "The playground's settings (add them to the playground's address to open this setup there):",
        f"    #{query}" if not query.startswith("#") else f"    {query}",
        "",
        "Run it with:  python playground.py [model.glassnet]",
        "",
        *_what_it_does(s, steps),
        '"""',
    ])


def _what_it_does(s, steps):
    if steps == 0:
        return ["It makes the same data and the same network, not trained yet (the playground had run no",
                "step), prints the losses and saves the model. With the same seed, its weights equal the",
                "playground's bit for bit."]
    return [f"It makes the same data and the same network, trains it for the same {_plural(steps, 'step')} "
            "(one step:",
            f"one batch of at most {s.batch_size} of the {n_train(s)} training points, one optimizer update), "
            "prints the",
            "losses and saves the model. With the same seed, its weights equal the playground's bit for bit."]


def _imports():
    return "import sys\n\nimport numpy as np\n\nimport glassnet as gn"


def _constants(s, steps):
    return "\n".join([
        "# The settings that the code below uses more than once.",
        f"seed = {s.seed!r}" + _pad(f"seed = {s.seed!r}") + "# one seed: the data, the first weights, the batch order",
        f"steps = {steps!r}" + _pad(f"steps = {steps!r}") + "# training steps, one batch each",
        f"batch_size = {s.batch_size!r}" + _pad(f"batch_size = {s.batch_size!r}") + "# points per step",
    ])


def _data_part(s):
    n, ntr = s.n_samples, n_train(s)
    noise = f"Gaussian noise of standard deviation {s.noise!r} / 6 added to the target" if s.task == "regression" \
        else f"Gaussian noise of standard deviation {s.noise!r} added to each coordinate"
    label = "the target at each point (float64)" if s.task == "regression" \
        else "the class of each point, 0 or 1 (int64)"
    lines = [
        "# 1. Seed glassnet's global random generator: the initializers draw the first weights from it.",
        "gn.set_random_seed(seed)",
        "",
        f"# 2. The data: {n} points of the {_q(s.dataset)} set in the square [-6, 6] x [-6, 6], shuffled:",
        f"#    {_DATASETS[s.dataset]};",
        f"#    {noise}.",
        f"#    points has shape ({n}, 2); y is {label}.",
        f"points, y = gn.datasets.toy.make_2d({_q(s.dataset)}, {n}, noise={s.noise!r}, seed=seed)",
        "",
        "# 3. The input features: one column per function of the point p = (x, y).",
        "p = points",
        "features = np.stack([",
    ]
    width = max(len(_data.FEATURES[name].expression) for name in s.features) + 8
    for name in s.features:
        label_shown, expression = _data.FEATURES[name].label, _data.FEATURES[name].expression
        lines.append(f"    {expression},".ljust(width) + f"# {label_shown}")
    lines += [
        "], axis=1)",
        "",
        f"# 4. The split: the first {ntr} points train (round({n} * {s.train_fraction!r})), "
        f"the other {n - ntr} test.",
        f"n_train = {ntr}",
        "x_train, y_train = features[:n_train], y[:n_train]",
        "x_test, y_test = features[n_train:], y[n_train:]",
    ]
    return "\n".join(lines)


def _model_part(s):
    k = len(s.features)
    units, activation, meaning = output_layer(s)
    init_code, init_words = INITIALIZERS[s.initializer]
    if s.regularization == "none":
        reg_code, reg_words = "None", "none (no regularization)"
    else:
        cls, formula = _REGULARIZERS[s.regularization]
        rate = s.regularization_rate
        reg_code = f"gn.regularizers.{cls}({rate!r})"
        reg_words = f"{s.regularization.upper()} regularization adds {formula.replace('rate', repr(rate))} " \
            "of each layer's kernel W to the loss"
    shape = " -> ".join([f"{k} input{'s' if k != 1 else ''}"] + [f"{u} {s.activation}" for u in s.hidden]
                        + [f"{units} {activation}"])
    layer = ("    gn.layers.Dense({units}, activation={act}, kernel_initializer=initializer,\n"
             "                    kernel_regularizer=regularizer, dtype=\"float64\"),  # {what}")
    lines = [
        f"# 5. The network: {shape}.",
        "#    float64 everywhere, so that every number is exact (the playground shows them).",
        f"# The first weights: {init_words}.",
        f"initializer = {init_code}",
        f"# The penalty: {reg_words}.",
        f"regularizer = {reg_code}",
        "model = gn.Sequential([",
        f"    gn.Input(shape=({k},)),".ljust(28) + f"# the {_plural(k, 'input feature')}",
    ]
    for i, u in enumerate(s.hidden):
        lines.append(layer.format(units=u, act=_q(s.activation), what=f"hidden layer {i + 1}"))
    lines.append(layer.format(units=units, act=_q(activation), what=f"the output: {meaning}"))
    opt_class, opt_extra, opt_words = OPTIMIZERS[s.optimizer]
    lines += [
        "])",
        "",
        f"# The optimizer: {opt_words}.",
        f"model.compile(optimizer={opt_class}(learning_rate={s.learning_rate!r}{opt_extra}),",
        f"              loss={_q(s.loss)})",
        "model.summary()",
    ]
    return "\n".join(lines)


def _training_part():
    return "\n".join([
        "# 6. Training, one batch per step. Each pass over the training points starts with a new random",
        "#    order, drawn from a generator of its own (seeded with the same seed); the last batch of a",
        "#    pass holds what is left over.",
        "order_rng = np.random.default_rng(seed)",
        "steps_per_pass = -(-n_train // batch_size)            # ceil(n_train / batch_size)",
        "for step in range(steps):",
        "    k = step % steps_per_pass                           # the batch's place in its pass",
        "    if k == 0:",
        "        order = order_rng.permutation(n_train)          # a new pass: a new order",
        "    batch = order[k * batch_size:(k + 1) * batch_size]",
        "    model.train_on_batch(x_train[batch], y_train[batch])   # forward, loss, backward, update",
    ])


def _report_part(s):
    penalty = "" if s.regularization == "none" else f", plus the {s.regularization.upper()} penalty"
    return "\n".join([
        f"# 7. The loss ({s.loss}{penalty}) over all training points and over all test points.",
        "train_loss = model.evaluate(x_train, y_train, batch_size=len(x_train), verbose=0)",
        "test_loss = model.evaluate(x_test, y_test, batch_size=len(x_test), verbose=0)",
        "print(f\"after {steps} steps: train loss {train_loss:.6g}, test loss {test_loss:.6g}\")",
        "",
        "# 8. Save the whole model (layers, weights, optimizer state) in one file;",
        "#    gn.load_model(path) reads it back.",
        'path = sys.argv[1] if len(sys.argv) > 1 else "playground.glassnet"',
        "model.save(path)",
        'print(f"saved {path}")',
    ])


def _q(name):
    """A name as a double-quoted Python string (the names of the settings are plain words)."""
    return f'"{name}"'


def _pad(code, column=36):
    return " " * max(1, column - len(code))


def _plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"
