"""The textbook NumPy loop: the study notes' network, written the way the notes write it.

This is the baseline "what plain NumPy costs": params in a dict (W1, b1, W2,
b2, ...), np.dot, sigmoid as 1 / (1 + np.exp(-x)), softmax and cross-entropy
as separate functions, the gradient by backpropagation as in the notes'
TwoLayerNet.gradient, and the notes' SGD / Adam classes.  Every batch
allocates its activations and gradients afresh, as textbook code does.

Two deliberate departures from the notes, so that the row measures plain NumPy
and not an avoidable mistake:
- one permutation per epoch (`rng.permutation`) instead of `np.random.choice`
  per batch, so that every image is seen once per epoch as in the other peers;
- float32 throughout: the weights are created as float32, and Adam's step size
  is a Python float (the notes' `np.sqrt(...)` is a NumPy float64 scalar, which
  under NumPy 2's promotion rules would silently turn every update into float64).
The first layer's dL/dx is not computed (the notes' gradient() does not either).
"""
from __future__ import annotations

import math

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_grad(x):
    return (1.0 - sigmoid(x)) * sigmoid(x)


def relu(x):
    return np.maximum(0, x)


def relu_grad(x):
    return x > 0


def softmax(x):
    x = x - np.max(x, axis=1, keepdims=True)
    y = np.exp(x)
    return y / np.sum(y, axis=1, keepdims=True)


def cross_entropy_error(y, t):
    """Mean cross-entropy of probabilities y (batch, classes) against integer labels t."""
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


ACTIVATIONS = {"sigmoid": (sigmoid, sigmoid_grad), "relu": (relu, relu_grad)}


class TextbookNet:
    """A multi-layer perceptron: Affine -> activation -> ... -> Affine -> softmax.

    sizes: (784, 50, 10) for the notes' network.  The weights are scaled as the
    notes' MultiLayerNet does: sqrt(1/n) for sigmoid (Xavier), sqrt(2/n) for ReLU (He).
    """

    def __init__(self, sizes, activation="sigmoid", seed=0, dtype=np.float32):
        rng = np.random.default_rng(seed)
        self.activation, self.activation_grad = ACTIVATIONS[activation]
        self.n_layers = len(sizes) - 1
        self.params = {}
        for i in range(1, len(sizes)):
            scale = math.sqrt((2.0 if activation == "relu" else 1.0) / sizes[i - 1])
            self.params[f"W{i}"] = (scale * rng.standard_normal((sizes[i - 1], sizes[i]))).astype(dtype)
            self.params[f"b{i}"] = np.zeros(sizes[i], dtype=dtype)

    def predict(self, x):
        z = x
        for i in range(1, self.n_layers):
            a = np.dot(z, self.params[f"W{i}"]) + self.params[f"b{i}"]
            z = self.activation(a)
        a = np.dot(z, self.params[f"W{self.n_layers}"]) + self.params[f"b{self.n_layers}"]
        return softmax(a)

    def loss(self, x, t):
        return cross_entropy_error(self.predict(x), t)

    def accuracy(self, x, t):
        y = np.argmax(self.predict(x), axis=1)
        return np.sum(y == t) / float(x.shape[0])

    def gradient(self, x, t):
        """Backpropagation: {"W1": dL/dW1, "b1": dL/db1, ...} for the mean loss over the batch."""
        L = self.n_layers
        # forward, keeping each layer's input z and pre-activation a
        zs, as_ = [x], []
        for i in range(1, L + 1):
            a = np.dot(zs[-1], self.params[f"W{i}"]) + self.params[f"b{i}"]
            as_.append(a)
            if i < L:
                zs.append(self.activation(a))
        y = softmax(as_[-1])

        # backward: softmax with cross-entropy gives (y - t) / batch_num
        batch_num = x.shape[0]
        dy = y.copy()
        dy[np.arange(batch_num), t] -= 1
        dy = dy / batch_num
        grads = {}
        for i in range(L, 0, -1):
            grads[f"W{i}"] = np.dot(zs[i - 1].T, dy)
            grads[f"b{i}"] = np.sum(dy, axis=0)
            if i > 1:
                dz = np.dot(dy, self.params[f"W{i}"].T)
                dy = self.activation_grad(as_[i - 2]) * dz
        return grads


class SGD:
    """Stochastic gradient descent: W <- W - lr * dW."""

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params.keys():
            params[key] -= self.lr * grads[key]


class Adam:
    """Adam (Kingma and Ba, 2014), as the notes write it: the bias correction folded into lr_t."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-7):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.iter = 0
        self.m = None
        self.v = None

    def update(self, params, grads):
        if self.m is None:
            self.m, self.v = {}, {}
            for key, val in params.items():
                self.m[key] = np.zeros_like(val)
                self.v[key] = np.zeros_like(val)
        self.iter += 1
        lr_t = self.lr * math.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)
        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + self.eps)


def train_epoch(network, optimizer, x_train, t_train, batch_size, rng):
    """One pass over the training set in shuffled mini-batches."""
    train_size = x_train.shape[0]
    perm = rng.permutation(train_size)
    for i in range(0, train_size, batch_size):
        batch_mask = perm[i:i + batch_size]
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        grads = network.gradient(x_batch, t_batch)
        optimizer.update(network.params, grads)


def predict_batches(network, x, batch_size):
    """Softmax outputs for x, `batch_size` rows at a time."""
    return np.concatenate([network.predict(x[i:i + batch_size]) for i in range(0, x.shape[0], batch_size)])
