"""A playground session: one model, its data and its batch order, trained a few steps at a time.

    s = Session(Settings.from_dict({"dataset": "xor", "hidden": [4]}))
    s.train(50)                          # 50 steps of model.train_on_batch; the last one traced
    s.state()                            # what the page draws (glassnet.playground.views)
    s.numbers("neuron", layer=1, unit=0) # the numbers of that neuron in the last step (playground.numbers)

The recipe is plain glassnet, the one glassnet.playground.export writes out as a script (and a test
runs both and compares the weights bit for bit):

    gn.set_random_seed(seed)
    points, y = gn.datasets.toy.make_2d(dataset, n_samples, noise=noise, seed=seed)
    ... features, split, Sequential of Dense layers (float64), compile, build ...
    order_rng = np.random.default_rng(seed)
    for step in range(steps):
        k = step % steps_per_pass
        if k == 0: order = order_rng.permutation(n_train)
        model.train_on_batch(x_train[order[k*b:(k+1)*b]], y_train[...])

Training in chunks (train(3), then train(8)) gives exactly the weights of train(11): the batch order
lives in the session, and a traced step is train_on_batch's own step (glassnet.explain.trace).

set_random_seed seeds one process-wide generator, and the first weights are drawn from it: two
sessions built at once by a threaded server would interleave their draws.  SEED_LOCK makes building
a session (seeding + drawing the weights) one indivisible act.
"""
from __future__ import annotations

import math
import threading

import numpy as np

from .. import backend, initializers, optimizers, regularizers
from ..doctor import Doctor
from ..explain.trace import trace as trace_step
from ..layers import Dense
from ..models import Sequential
from . import data as _data
from . import numbers as _numbers
from . import views as _views
from .settings import Settings, _short

SEED_LOCK = threading.Lock()        # held while a session seeds the global generator and draws its weights
MAX_STEPS = 1000                    # steps per train() call
HISTORY_KEEP = 10000                # loss points a session keeps (one per train() call; the oldest go first)


def make_optimizer(name, learning_rate):
    """The optimizer object of the setting `name` (momentum = SGD with momentum 0.9)."""
    if name == "sgd":
        return optimizers.SGD(learning_rate=learning_rate)
    if name == "momentum":
        return optimizers.SGD(learning_rate=learning_rate, momentum=0.9)
    if name == "rmsprop":
        return optimizers.RMSprop(learning_rate=learning_rate)
    if name == "adagrad":
        return optimizers.Adagrad(learning_rate=learning_rate)
    if name == "adam":
        return optimizers.Adam(learning_rate=learning_rate)
    raise ValueError(f"optimizer: one of sgd, momentum, rmsprop, adagrad, adam, got {name!r}")


def make_initializer(name):
    """The kernel initializer of the setting (random_normal: stddev 0.01, the notes' weight_init_std)."""
    if name == "random_normal":
        return initializers.RandomNormal(stddev=0.01)
    return name


def make_regularizer(name, rate):
    """None, L1(rate) or L2(rate)."""
    if name == "none":
        return None
    return regularizers.L1(rate) if name == "l1" else regularizers.L2(rate)


def output_layer(settings):
    """(units, activation) of the output layer: sigmoid for 0/1 targets, softmax for the sparse
    categorical cross-entropy, linear for the plane's regression."""
    if settings.task == "regression":
        return 1, "linear"
    if settings.loss == "sparse_categorical_crossentropy":
        return 2, "softmax"
    return 1, "sigmoid"


def build_model(settings, n_features):
    """The Sequential model of `settings`, compiled and built (its weights drawn from the global generator)."""
    def dense(units, activation):
        return Dense(units, activation=activation, kernel_initializer=make_initializer(settings.initializer),
                     kernel_regularizer=make_regularizer(settings.regularization, settings.regularization_rate),
                     dtype="float64")
    layers = [dense(units, settings.activation) for units in settings.hidden]
    layers.append(dense(*output_layer(settings)))
    model = Sequential(layers)
    model.compile(optimizer=make_optimizer(settings.optimizer, settings.learning_rate), loss=settings.loss)
    model.build((None, n_features))
    return model


class Session:
    """One model being trained in the playground (see the module's docstring for the recipe).

    Attributes: settings, model, data (playground.data.load), step (steps done), steps_per_pass,
    history [(step, train_loss, test_loss)], last_trace, last_batch (indices into the training set),
    doctor, lock (the server holds it around each call).
    """

    def __init__(self, settings):
        if isinstance(settings, dict):
            settings = Settings.from_dict(settings)
        if not isinstance(settings, Settings):
            raise TypeError(f"Session needs a Settings (or a dict of settings), got {type(settings).__name__}")
        self.settings = settings
        self.lock = threading.Lock()
        with SEED_LOCK:
            backend.set_random_seed(settings.seed)
            self.data = _data.load(settings)
            self.model = build_model(settings, self.data["x"].shape[1])
        self.n_train = self.data["n_train"]
        self.x_train, self.y_train = self.data["x_train"], self.data["y_train"]
        self.x_test, self.y_test = self.data["x_test"], self.data["y_test"]
        self.steps_per_pass = math.ceil(self.n_train / settings.batch_size)
        self._order_rng = np.random.default_rng(settings.seed)
        self._order = None
        self.step = 0
        self.history: list[tuple] = []
        self.last_trace = None
        self.last_batch = None
        self._pass_losses = []
        self.doctor = Doctor(verbose=0)
        self.doctor.set_model(self.model)
        self.doctor.set_params({"verbose": 0, "epochs": None, "steps": self.steps_per_pass})
        self.doctor.on_train_begin({})
        self._forward = _views.Forward(self)

    # ------------------------------------------------------------------ training
    def train(self, steps=1):
        """Run `steps` (1 to 1000) training steps; the last one is traced.  Returns the history's new point."""
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= MAX_STEPS:
            raise ValueError(f"steps: an integer from 1 to {MAX_STEPS}, got {_short(steps)}")
        # a diverging network (learning rate 10) overflows: the doctor says so in words, once, instead of
        # NumPy printing a RuntimeWarning at every step into the server's log
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._train(int(steps))

    def _train(self, steps):
        model, doctor, b = self.model, self.doctor, self.settings.batch_size
        x_train, y_train = self.x_train, self.y_train
        for i in range(steps):
            k = self.step % self.steps_per_pass
            if k == 0:
                self._order = self._order_rng.permutation(self.n_train)
                self._pass_losses = []
                doctor.on_epoch_begin(self.step // self.steps_per_pass)
            idx = self._order[k * b:(k + 1) * b]
            if i == steps - 1:
                self.last_trace = trace_step(model, x_train[idx], y_train[idx])
                self.last_batch = idx
                loss = self.last_trace.loss
            else:
                loss = model.train_on_batch(x_train[idx], y_train[idx])
            self.step += 1
            self._pass_losses.append(float(loss) * len(idx))
            doctor.on_train_batch_end(k, {"loss": float(loss)})
            if k == self.steps_per_pass - 1:
                epoch_loss = sum(self._pass_losses) / self.n_train
                doctor.on_epoch_end(self.step // self.steps_per_pass - 1,
                                    {"loss": epoch_loss, "val_loss": self.loss(self.x_test, self.y_test)})
        point = (self.step, self.loss(self.x_train, self.y_train), self.loss(self.x_test, self.y_test))
        self.history.append(point)
        if len(self.history) > HISTORY_KEEP:
            del self.history[:len(self.history) - HISTORY_KEEP]
        return point

    def loss(self, x, y) -> float:
        """The loss on (x, y) as model.evaluate computes it: the data loss averaged over the samples (from
        the logits where the loss fuses with the output's activation) plus the regularization penalty."""
        return self._forward.loss(x, y)

    def weights(self) -> list:
        """Copies of the model's weights, [W, b] per Dense layer (model.get_weights())."""
        return self.model.get_weights()

    # ------------------------------------------------------------------ what the page reads
    def findings(self) -> list[dict]:
        """The doctor's findings so far, [{"cause", "message"}], in the order they were found."""
        return [{"cause": f.cause, "message": f.message} for f in self.doctor.findings]

    def state(self) -> dict:
        """The JSON view the page draws after each call (glassnet.playground.views.state)."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return _views.state(self)

    def points(self) -> dict:
        """{"train": [[x, y, label], ...], "test": [...]}: the points in the frame, and their targets."""
        return _views.points(self)

    def numbers(self, kind, layer, unit=None, source=None, target=None, sample=0, lang="en") -> dict:
        """The numbers of one neuron or edge in the last step (glassnet.playground.numbers.numbers); a
        diverged network's overflowing products are null, without NumPy's RuntimeWarning."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return _numbers.numbers(self, kind, layer, unit=unit, source=source, target=target, sample=sample,
                                    lang=lang)
