"""The hooks: the Callback base class and CallbackList (the dispatch), with the callbacks fit adds
itself (History, the progress display ProgbarLogger) and LambdaCallback (hooks from plain functions).

A callback overrides any of Keras's hooks below; fit, evaluate and predict call per-batch hooks
only for callbacks that define them, so the others cost nothing per batch.

    on_train_begin(logs)  on_epoch_begin(epoch, logs)  on_train_batch_begin(batch, logs)  on_batch_begin
    on_train_end(logs)    on_epoch_end(epoch, logs)    on_train_batch_end(batch, logs)    on_batch_end
    on_test_begin(logs)   on_test_batch_begin(batch, logs)   on_test_batch_end(batch, logs)   on_test_end(logs)
    on_predict_begin(logs)  on_predict_batch_begin(batch, logs)  on_predict_batch_end(batch, logs)  on_predict_end

As in Keras, on_train_batch_begin/end call on_batch_begin/end (Keras 2's names), so a callback that
defines on_batch_end is called after every training batch; fit's validation runs the test hooks.
`logs` hold running means over the epoch so far ("loss", "accuracy", ...) and, at epoch end, the
validation scores ("val_loss", ...); on_predict_batch_end gets {"outputs": the batch's outputs}.
"""
from __future__ import annotations

import sys
import time


class Callback:
    """Base class: every hook does nothing."""

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = dict(params)

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): self.on_batch_begin(batch, logs=logs)   # as Keras
    def on_train_batch_end(self, batch, logs=None): self.on_batch_end(batch, logs=logs)
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass


def overrides(callback: Callback, hook: str) -> bool:
    """Does `callback` define `hook` itself (rather than inherit the empty one)?"""
    return getattr(type(callback), hook) is not getattr(Callback, hook)


class History(Callback):
    """Records the epoch logs: history.history["loss"][i] is the mean training loss of epoch i."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self

    def plot(self, path=None, **kwargs):
        """Loss and accuracy curves, train and validation: glassnet.plot.plot_history(self, path, **kwargs).

        Returns the matplotlib Figure (a notebook shows it); saves it to `path` when given.
        Needs matplotlib (pip install "glassnet[plot]").
        """
        from .. import plot
        return plot.plot_history(self, path, **kwargs)


class LambdaCallback(Callback):
    """A callback from plain functions: LambdaCallback(on_epoch_end=lambda epoch, logs: ...).

    Hooks left out (or given as None) do nothing.  Keras 2's on_batch_begin / on_batch_end
    are accepted as the names of the per-batch training hooks.
    """

    _HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
              "on_train_batch_begin", "on_train_batch_end")
    _ALIASES = {"on_batch_begin": "on_train_batch_begin", "on_batch_end": "on_train_batch_end"}

    def __init__(self, **hooks):
        super().__init__()
        unknown = set(hooks) - set(self._HOOKS) - set(self._ALIASES)
        if unknown:
            raise ValueError(f"LambdaCallback got unknown hooks {sorted(unknown)}; "
                             f"known: {', '.join(self._HOOKS + tuple(self._ALIASES))}")
        for name, fn in hooks.items():
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"LambdaCallback {name} must be a function, got {type(fn).__name__}")
            name = self._ALIASES.get(name, name)
            if name in self.__dict__:
                raise ValueError(f"LambdaCallback got {name} twice (under its Keras 2 alias too)")
            setattr(self, name, fn)

    def overrides(self, hook):
        return hook in self.__dict__


# --------------------------------------------------------------------------
# Progress display
# --------------------------------------------------------------------------

def format_logs(logs: dict) -> str:
    """' - accuracy: 0.8821 - loss: 0.4234 - val_accuracy: ...' as Keras prints them."""
    train = sorted(k for k in logs if not k.startswith("val_"))
    val = sorted(k for k in logs if k.startswith("val_"))
    return "".join(f" - {k}: {_fmt(logs[k])}" for k in train + val)


def _fmt(value):
    value = float(value)
    return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.4e}"


def _fmt_time(seconds):
    return f"{seconds:.0f}s"


def _per_step(seconds, steps):
    per = seconds / max(steps, 1)
    if per >= 1:
        return f"{per:.0f}s/step"
    if per >= 1e-3:
        return f"{per * 1e3:.0f}ms/step"
    return f"{per * 1e6:.0f}us/step"


class ProgbarLogger(Callback):
    """Keras's progress display.

    verbose=1 on a terminal: 'Epoch 1/5' and a live bar (tqdm) with running metrics,
        '938/938 ━━━━━━━━━━━━━━━━━━━━ 2s 2ms/step - accuracy: 0.8821 - loss: 0.4234'.
    verbose=2, or output that is not a terminal: 'Epoch 1/5' and one summary line per epoch,
        '938/938 - 2s - 2ms/step - accuracy: 0.8821 - loss: 0.4234 - val_accuracy: ...'.
    verbose=0: nothing.

    ProgbarLogger() follows fit's `verbose`; ProgbarLogger(verbose=..., stream=...) fixes its own
    level and output.  Passed in fit's callbacks, it replaces the display fit would add itself.
    """

    def __init__(self, verbose=None, stream=None):
        super().__init__()
        if verbose is not None and (isinstance(verbose, bool) or verbose not in (0, 1, 2)):
            raise ValueError(f"ProgbarLogger verbose must be None, 0, 1 or 2, got {verbose!r}")
        self._fixed_verbose = verbose
        self.verbose = 1 if verbose is None else verbose
        self.stream = stream
        self.epochs = 1
        self.steps = 0
        self._bar = None
        self._start = self._last = 0.0

    def set_params(self, params):
        super().set_params(params)
        if self._fixed_verbose is None:
            verbose = self.params.get("verbose", 1)
            self.verbose = 1 if verbose == "auto" else int(verbose)

    def _stream(self):
        return self.stream if self.stream is not None else sys.stdout

    def _live(self):
        stream = self._stream()
        isatty = getattr(stream, "isatty", None)
        try:
            return self.verbose == 1 and isatty is not None and bool(isatty())
        except (ValueError, OSError):          # a closed stream
            return False

    def on_train_begin(self, logs=None):
        self.epochs = self.params.get("epochs", 1)
        self.steps = self.params.get("steps", 0)
        self._bar = None

    def on_epoch_begin(self, epoch, logs=None):
        if not self.verbose:
            return
        print(f"Epoch {epoch + 1}/{self.epochs}", file=self._stream(), flush=True)
        self._start = time.perf_counter()
        self._last = 0.0
        if self._live():
            from tqdm import tqdm
            # the text after the bar goes in tqdm's `desc`, which (unlike its postfix) is printed as is
            self._bar = tqdm(total=self.steps, file=self._stream(), ascii=" ━", leave=True,
                             bar_format="{n_fmt}/{total_fmt} {bar:20} {desc}",
                             dynamic_ncols=False, mininterval=0.1)

    # per-batch work only when a live bar is shown
    def on_train_batch_end(self, batch, logs=None):
        if self._bar is None:
            return
        now = time.perf_counter()
        if now - self._last > 0.1:
            self._last = now
            self._bar.set_description_str(self._tail(now - self._start, batch + 1, logs), refresh=False)
        self._bar.update(batch + 1 - self._bar.n)

    def _tail(self, elapsed, steps, logs):
        return f"{_fmt_time(elapsed)} {_per_step(elapsed, steps)}{format_logs(logs or {})}"

    def on_epoch_end(self, epoch, logs=None):
        if not self.verbose:
            return
        elapsed = time.perf_counter() - self._start
        done = getattr(self.model, "_steps_done", None) or self.steps     # fewer if training stopped mid-epoch
        if self._bar is not None:
            self._bar.set_description_str(self._tail(elapsed, done, logs), refresh=False)
            self._bar.update(done - self._bar.n)
            self._bar.refresh()
            self._bar.close()
            self._bar = None
        else:
            print(f"{done}/{self.steps or done} - {_fmt_time(elapsed)} - "      # steps None: a generator
                  f"{_per_step(elapsed, done)}{format_logs(logs or {})}", file=self._stream(), flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:              # training stopped inside an epoch
            self._bar.close()
            self._bar = None


#: the per-batch hooks, each with the Keras 2 name that the training hooks also call
BATCH_HOOKS = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end",
               "on_test_batch_begin": None, "on_test_batch_end": None,
               "on_predict_batch_begin": None, "on_predict_batch_end": None}


class CallbackList:
    """Dispatches hooks to many callbacks; batch hooks only to those that define them
    (`batch[hook]`: the callbacks to call for each per-batch hook).

    Only the first ProgbarLogger is kept: one the user passed replaces the one fit adds.
    """

    def __init__(self, callbacks, model, params):
        self.callbacks = []
        have_progbar = False
        for cb in callbacks:
            if isinstance(cb, ProgbarLogger):
                if have_progbar:
                    continue
                have_progbar = True
            self.callbacks.append(cb)
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)
        self.batch = {hook: [cb for cb in self.callbacks if _defines(cb, hook) or (alias and _defines(cb, alias))]
                      for hook, alias in BATCH_HOOKS.items()}
        self.batch_begin, self.batch_end = self.batch["on_train_batch_begin"], self.batch["on_train_batch_end"]

    def call(self, hook, *args):
        for cb in self.callbacks:
            getattr(cb, hook)(*args)


def _defines(cb, hook):
    if isinstance(cb, LambdaCallback):
        return cb.overrides(hook)
    if isinstance(cb, ProgbarLogger):
        return hook == "on_train_batch_end" and cb._live()
    return overrides(cb, hook)
