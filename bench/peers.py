"""The peers: each trains (or, for C4 and C6, runs inference with) the configuration's network and times itself.

A peer's `train(config, data, epochs, seed)` returns the seconds of each epoch
and the test accuracy after the last; `infer(config, data, passes, seed)`
returns the seconds of each pass over the C4/C6 images (accuracy None: the
network is freshly initialised, only its speed matters).  Model building,
compiling and the accuracy evaluation are outside the timed region.

The data are float32 rows (n, 784); `config.inputs(x)` views them as the
network reads them ((n, 28, 28, 1) for the convnet of C5/C6, no copy), and
PyTorch views them as (n, 1, 28, 28), channels first (the same memory: one
channel).  A peer without the configuration's network says so in
`supports(config)` and its cell is "-".

`check()` returns the peer's version, or raises Skip(reason) when its library
is not installed; such a peer becomes a "skipped" line in the table.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

from . import configs as C
from .floors import MatmulLimit, MatmulLimitOneThread, TextbookNumpy
from .peer_base import Peer, Skip, _c4_images, _import, _import_glassnet, _time_predict  # noqa: F401


# --------------------------------------------------------------------------
# glassnet, through its public API only
# --------------------------------------------------------------------------

class Glassnet(Peer):
    key, label = "glassnet", "glassnet"
    how = ("Sequential of Dense layers, compile(metrics=['accuracy']) as the notes do, "
           "fit(verbose=0) with fit's defaults (shuffle, training doctor on); an epoch is timed by "
           "a LambdaCallback at epoch begin/end (no per-batch hooks); predict(batch_size=1000); "
           "C5/C6: Sequential(Input((28, 28, 1)), Conv2D, MaxPooling2D, Conv2D, MaxPooling2D, Flatten, "
           "Dropout, Dense), the same compile, fit and predict, on the rows viewed as 28x28x1 images")

    def __init__(self, fit_options=None):
        self.fit_options = dict(fit_options or {})

    def check(self):
        self.gn = _import_glassnet()
        return self.gn.__version__

    def _model(self, config, seed):
        gn = self.gn
        gn.set_random_seed(seed)
        if config.convnet:
            L = gn.layers
            layers = [L.Input(C.IMAGE_SHAPE)]
            for filters in C.CONV_FILTERS:
                layers += [L.Conv2D(filters, C.CONV_KERNEL, activation="relu"), L.MaxPooling2D(C.POOL_SIZE)]
            layers += [L.Flatten(), L.Dropout(C.DROPOUT), L.Dense(C.N_CLASSES, activation="softmax")]
        else:
            layers = [gn.layers.Dense(config.hidden[0], activation=config.activation, input_shape=(C.N_INPUTS,))]
            layers += [gn.layers.Dense(w, activation=config.activation) for w in config.hidden[1:]]
            layers.append(gn.layers.Dense(C.N_CLASSES, activation="softmax"))
        model = gn.Sequential(layers)
        if config.optimizer == "sgd":
            opt = gn.optimizers.SGD(learning_rate=config.learning_rate)
        else:
            opt = gn.optimizers.Adam(learning_rate=config.learning_rate or 1e-3, beta_1=C.ADAM_BETAS[0],
                                     beta_2=C.ADAM_BETAS[1], epsilon=C.ADAM_EPSILON)
        model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def train(self, config, data, epochs, seed):
        model = self._model(config, seed)
        began, times = [0.0], []
        clock = self.gn.callbacks.LambdaCallback(
            on_epoch_begin=lambda epoch, logs: began.__setitem__(0, time.perf_counter()),
            on_epoch_end=lambda epoch, logs: times.append(time.perf_counter() - began[0]))
        model.fit(config.inputs(data.x_train), data.y_train, batch_size=config.batch, epochs=epochs, verbose=0,
                  callbacks=[clock], **self.fit_options)
        _, accuracy = model.evaluate(config.inputs(data.x_test), data.y_test, batch_size=1000, verbose=0)
        return times, float(accuracy)

    def infer(self, config, data, passes, seed):
        return _time_predict(self._model(config, seed), _c4_images(config, data), config.batch, passes), None


class GlassnetNumpy(Glassnet):
    key, label = "glassnet-numpy", "glassnet, NumPy only"
    how = ("as glassnet, with gn.backend.set_kernels('numpy'): the NumPy code only, no compiled kernels "
           "(what glassnet runs where numba is not installed)")

    def check(self):
        version = super().check()
        if self.gn.backend.kernels() == "numpy":
            raise Skip("the glassnet row already runs the NumPy code (numba is not installed, "
                       "or GLASSNET_KERNELS=numpy)")
        return version

    def _numpy_only(self, method, *args):
        backend = self.gn.backend
        before = backend._KERNELS_WANTED
        backend.set_kernels("numpy")
        try:
            return method(*args)
        finally:
            backend.set_kernels(before)

    def train(self, config, data, epochs, seed):
        return self._numpy_only(super().train, config, data, epochs, seed)

    def infer(self, config, data, passes, seed):
        return self._numpy_only(super().infer, config, data, passes, seed)


class GlassnetNoDoctor(Glassnet):
    key, label = "glassnet-nodoctor", "glassnet, doctor=False"
    how = "as glassnet, with fit(doctor=False): no training doctor watching the batches"

    def __init__(self):
        super().__init__({"doctor": False})

    def supports(self, config):
        return not config.inference


# --------------------------------------------------------------------------
# PyTorch: a plain training loop
# --------------------------------------------------------------------------

class Torch(Peer):
    key, label = "torch", "PyTorch"
    how = ("nn.Sequential(Linear, act, ..., Linear), CrossEntropyLoss, torch.optim.Adam(eps=1e-7) or SGD, "
           "a randperm per epoch and index batching (no DataLoader), as many threads as NumPy's BLAS; "
           "C4: inference_mode, softmax, copied into one NumPy array; "
           "C5/C6: nn.Sequential(Conv2d, ReLU, MaxPool2d, Conv2d, ReLU, MaxPool2d, Flatten, Dropout, Linear) "
           "on the rows viewed as 1x28x28 images (channels first, PyTorch's own layout), the same loop")
    adam_options = {}

    def __init__(self, threads=None):
        self.threads = threads

    def check(self):
        self.torch = _import("torch", "torch")
        if self.threads:
            self.torch.set_num_threads(self.threads)
        return self.torch.__version__

    def _model(self, config, seed):
        torch, nn = self.torch, self.torch.nn
        torch.manual_seed(seed)
        if config.convnet:
            mods, channels = [], C.IMAGE_SHAPE[-1]
            for filters in C.CONV_FILTERS:
                mods += [nn.Conv2d(channels, filters, C.CONV_KERNEL), nn.ReLU(), nn.MaxPool2d(C.POOL_SIZE)]
                channels = filters
            mods += [nn.Flatten(), nn.Dropout(C.DROPOUT), nn.Linear(C.convnet_shapes()[1], C.N_CLASSES)]
            return nn.Sequential(*mods)
        act = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}[config.activation]
        mods, sizes = [], config.sizes
        for i in range(len(sizes) - 1):
            mods.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                mods.append(act())
        return nn.Sequential(*mods)

    def _optimizer(self, config, params):
        torch = self.torch
        if config.optimizer == "sgd":
            return torch.optim.SGD(params, lr=config.learning_rate)
        return torch.optim.Adam(params, lr=config.learning_rate, betas=C.ADAM_BETAS, eps=C.ADAM_EPSILON,
                                **self.adam_options)

    def _inputs(self, config, x):
        """The rows as the torch model reads them: (n, 1, 28, 28) for the convnet (a view), else as they are."""
        X = self.torch.from_numpy(x)
        if config.convnet:
            h, w, c = C.IMAGE_SHAPE
            X = X.view(len(x), c, h, w)
        return X

    def train(self, config, data, epochs, seed):
        torch = self.torch
        model = self._model(config, seed)
        loss_fn = torch.nn.CrossEntropyLoss()
        opt = self._optimizer(config, model.parameters())
        X, Y = self._inputs(config, data.x_train), torch.from_numpy(data.y_train)
        n, batch = len(X), config.batch
        times = []
        model.train()
        for _ in range(epochs):
            start = time.perf_counter()
            order = torch.randperm(n)
            for i in range(0, n, batch):
                idx = order[i:i + batch]
                xb, yb = X[idx], Y[idx]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(xb), yb)
                loss.backward()
                opt.step()
            times.append(time.perf_counter() - start)
        model.eval()
        with torch.inference_mode():
            if config.convnet:            # in batches: the first Conv2d's output for 10,000 images is 865 MB
                X = self._inputs(config, data.x_test)
                pred = np.concatenate([model(X[i:i + 1000]).argmax(dim=1).numpy() for i in range(0, len(X), 1000)])
            else:
                pred = model(torch.from_numpy(data.x_test)).argmax(dim=1).numpy()
        return times, float(np.mean(pred == data.y_test))

    def infer(self, config, data, passes, seed):
        torch = self.torch
        model = self._model(config, seed).eval()
        x = data.x_test[:min(C.INFERENCE_IMAGES, len(data.x_test))]
        X, n, batch = self._inputs(config, x), len(x), config.batch
        times = []
        for _ in range(passes):
            start = time.perf_counter()
            out = np.empty((n, C.N_CLASSES), dtype=np.float32)
            with torch.inference_mode():
                for i in range(0, n, batch):
                    out[i:i + batch] = torch.softmax(model(X[i:i + batch]), dim=1).numpy()
            times.append(time.perf_counter() - start)
        return times, None


class TorchFused(Torch):
    key, label = "torch-fused", "PyTorch, fused Adam"
    how = ("the PyTorch loop with torch.optim.Adam(fused=True) (foreach=True where fused is not "
           "available on CPU); run on C3 only, to keep the default run short")

    def check(self):
        version = super().check()
        torch = self.torch
        p = torch.nn.Parameter(torch.zeros(4))
        p.grad = torch.ones(4)
        try:
            torch.optim.Adam([p], fused=True).step()
            self.adam_options, self.label = {"fused": True}, "PyTorch, fused Adam"
        except (RuntimeError, TypeError, ValueError):
            self.adam_options, self.label = {"foreach": True}, "PyTorch, foreach Adam"
        return version

    def supports(self, config):
        return config.name == "C3"


# --------------------------------------------------------------------------
# scikit-learn's MLPClassifier
# --------------------------------------------------------------------------

class Sklearn(Peer):
    key, label = "sklearn", "scikit-learn MLP"
    how = ("MLPClassifier with the same layers, activation ('logistic' for sigmoid), solver, batch, "
           "learning rate (constant), Adam epsilon 1e-7 / SGD momentum 0, alpha=0 (no L2), shuffle=True, "
           "tol=0, n_iter_no_change=10**9; one epoch = one partial_fit(x, y) call (it shuffles, keeps "
           "Adam's state across calls and re-validates x each call); float32 stays float32; "
           "C4: predict_proba per batch of 1,000 after one partial_fit on 1,000 images; "
           "no C5/C6: scikit-learn has no convolutional network")

    def check(self):
        sklearn = _import("sklearn", "scikit-learn")
        from sklearn.neural_network import MLPClassifier
        self.MLPClassifier = MLPClassifier
        return sklearn.__version__

    def supports(self, config):
        return not config.convnet          # scikit-learn has no convolutional layers

    def _model(self, config, seed, epochs=1):
        return self.MLPClassifier(
            hidden_layer_sizes=tuple(config.hidden),
            activation={"sigmoid": "logistic", "relu": "relu"}[config.activation],
            solver=config.optimizer or "adam", alpha=0.0, batch_size=config.batch,
            learning_rate="constant", learning_rate_init=config.learning_rate or 1e-3,
            momentum=0.0, nesterovs_momentum=False, beta_1=C.ADAM_BETAS[0], beta_2=C.ADAM_BETAS[1],
            epsilon=C.ADAM_EPSILON, max_iter=epochs, shuffle=True, tol=0.0, n_iter_no_change=10 ** 9,
            early_stopping=False, random_state=seed)

    def train(self, config, data, epochs, seed):
        model = self._model(config, seed, epochs)
        classes = np.arange(C.N_CLASSES)
        times = []
        for _ in range(epochs):
            start = time.perf_counter()
            model.partial_fit(data.x_train, data.y_train, classes=classes)
            times.append(time.perf_counter() - start)
        return times, float(model.score(data.x_test, data.y_test))

    def infer(self, config, data, passes, seed):
        model = self._model(config, seed)
        model.partial_fit(data.x_train[:1000], data.y_train[:1000], classes=np.arange(C.N_CLASSES))
        x = _c4_images(config, data)
        times = []
        for _ in range(passes):
            start = time.perf_counter()
            np.concatenate([model.predict_proba(x[i:i + config.batch]) for i in range(0, len(x), config.batch)])
            times.append(time.perf_counter() - start)
        return times, None


# --------------------------------------------------------------------------
# Keras 3 on the torch backend
# --------------------------------------------------------------------------

class Keras(Peer):
    key, label = "keras", "Keras 3 (torch backend)"
    how = ("KERAS_BACKEND=torch set before keras is imported; keras.Sequential(Input, Dense, ...), "
           "compile(metrics=['accuracy']), fit(verbose=0, shuffle=True) timed per epoch by a Callback, "
           "predict(batch_size=1000, verbose=0); C5/C6: keras.Sequential(Input((28, 28, 1)), Conv2D, "
           "MaxPooling2D, Conv2D, MaxPooling2D, Flatten, Dropout, Dense), channels last as glassnet")

    def check(self):
        if "keras" not in sys.modules:
            os.environ["KERAS_BACKEND"] = "torch"
        try:
            import keras
        except ImportError as err:
            raise Skip(f"not installed (pip install keras; {type(err).__name__}: {err})") from None
        except Exception as err:         # e.g. its backend cannot start
            raise Skip(f"keras failed to import: {type(err).__name__}: {err}") from None
        backend = keras.backend.backend()
        if backend != "torch":
            raise Skip(f"keras was already imported with the {backend} backend in this process")
        self.keras = keras
        return f"{keras.__version__} (backend {backend})"

    def _model(self, config, seed):
        keras = self.keras
        keras.utils.set_random_seed(seed)
        if config.convnet:
            L = keras.layers
            layers = [keras.Input(C.IMAGE_SHAPE)]
            for filters in C.CONV_FILTERS:
                layers += [L.Conv2D(filters, C.CONV_KERNEL, activation="relu"), L.MaxPooling2D(C.POOL_SIZE)]
            layers += [L.Flatten(), L.Dropout(C.DROPOUT), L.Dense(C.N_CLASSES, activation="softmax")]
        else:
            layers = [keras.Input((C.N_INPUTS,))]
            layers += [keras.layers.Dense(w, activation=config.activation) for w in config.hidden]
            layers.append(keras.layers.Dense(C.N_CLASSES, activation="softmax"))
        model = keras.Sequential(layers)
        if config.optimizer == "sgd":
            opt = keras.optimizers.SGD(learning_rate=config.learning_rate)
        else:
            opt = keras.optimizers.Adam(learning_rate=config.learning_rate or 1e-3, beta_1=C.ADAM_BETAS[0],
                                        beta_2=C.ADAM_BETAS[1], epsilon=C.ADAM_EPSILON)
        model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def train(self, config, data, epochs, seed):
        keras = self.keras
        model = self._model(config, seed)
        times = []

        class Clock(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                times.append(time.perf_counter() - self.start)

        model.fit(config.inputs(data.x_train), data.y_train, batch_size=config.batch, epochs=epochs, verbose=0,
                  shuffle=True, callbacks=[Clock()])
        _, accuracy = model.evaluate(config.inputs(data.x_test), data.y_test, batch_size=1000, verbose=0)
        return times, float(accuracy)

    def infer(self, config, data, passes, seed):
        return _time_predict(self._model(config, seed), _c4_images(config, data), config.batch, passes), None


ALL = [Glassnet, GlassnetNumpy, Torch, TorchFused, Sklearn, Keras, TextbookNumpy, MatmulLimit,
       MatmulLimitOneThread, GlassnetNoDoctor]
DEFAULT = ["glassnet", "glassnet-numpy", "torch", "torch-fused", "sklearn", "keras", "numpy", "limit", "limit-1t"]
