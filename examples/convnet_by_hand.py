"""The textbook SimpleConvNet, built from layer objects and trained with a loop written out by hand.
=================================================================================================

The network of the textbook's chapter on convolutional networks (밑바닥부터 시작하는 딥러닝, 7장 합성곱
신경망: SimpleConvNet), with glassnet's layers in place of the book's classes:

    input (28, 28, 1)
    Conv2D 30 filters 5x5, stride 1, no padding  -> (24, 24, 30)     30 * (5*5*1) + 30 = 780 weights
    ReLU
    MaxPooling2D 2x2                              -> (12, 12, 30)
    Flatten                                       -> 4320
    Dense 100, ReLU                               -> 100              4320 * 100 + 100 = 432,100
    Dense 10                                      -> 10 class scores    100 * 10 + 10 = 1,010
    softmax + cross-entropy (the book's SoftmaxWithLoss)

No model object: the layers sit in a Python list.  Every mini-batch goes forward through the list
(layer.forward), the loss gives dL/dscores = (softmax - one-hot) / batch, the gradient goes backward
through the list in reverse (layer.backward fills layer.grads), and the optimizer updates every
layer.params array in place from its layer.grads array.  The book's settings: weights drawn with
weight_init_std = 0.01, biases 0, Adam (learning rate 0.001), mini-batches of 100.  It prints the loss
and the train and test accuracy after each epoch, the final test accuracy, and saves the 30 learned
filters as convnet_filters.png (with matplotlib).

Data: the bundled MNIST sample (8,000 training and 2,000 test digits), offline; --dataset mnist or
fashion_mnist read the full sets (found locally or downloaded by glassnet.datasets).

    python examples/convnet_by_hand.py [--epochs 5] [--dataset mnist_mini] [--quick] [--output DIR]

--quick trains one epoch on the first 1,000 training images and scores 500 test images (a few seconds).
"""
import argparse
import os
import tempfile
import time

import numpy as np

import glassnet as gn

# where the figures go unless --output says: the system's temporary folder, not the current one
FIGURES = os.path.join(tempfile.gettempdir(), "glassnet-figures")


def build_layers(weight_init_std=0.01, seed=0):
    """SimpleConvNet's layers, in order.  Each builds its weights on its first forward call."""
    init = gn.initializers.RandomNormal(stddev=weight_init_std, seed=seed)   # the book's 0.01 * randn
    return [
        gn.layers.Conv2D(30, 5, strides=1, padding="valid", kernel_initializer=init),
        gn.layers.ReLU(),
        gn.layers.MaxPooling2D(2),
        gn.layers.Flatten(),
        gn.layers.Dense(100, kernel_initializer=init),
        gn.layers.ReLU(),
        gn.layers.Dense(10, kernel_initializer=init),          # class scores: the softmax is in the loss
    ]


def forward(layers, x, training=False):
    """The class scores of a batch: x through every layer, first to last."""
    for layer in layers:
        x = layer.forward(x, training=training)
    return x


def softmax_with_loss(scores, t):
    """The book's SoftmaxWithLoss: (mean cross-entropy, dL/dscores) for integer labels t."""
    p = gn.activations.softmax(scores)
    loss = gn.losses.cross_entropy_error(p, t)
    dscores = p.copy()
    dscores[np.arange(len(t)), t] -= 1.0                       # softmax - one-hot
    dscores /= len(t)                                          # the loss is a mean over the batch
    return loss, dscores


def backward(layers, dscores):
    """dL/dscores back through every layer, last to first; each layer fills its grads."""
    d = dscores
    for layer in reversed(layers):
        d = layer.backward(d)


def parameters(layers):
    """Every weight array and its gradient array, in the same order: [(layer.params[k], layer.grads[k])]."""
    return [(layer.params[k], layer.grads[k]) for layer in layers for k in layer.params]


def train_step(layers, optimizer, x, t):
    """One mini-batch: forward, loss, backward, update.  Returns the batch's loss (before the update)."""
    scores = forward(layers, x, training=True)
    loss, dscores = softmax_with_loss(scores, t)
    backward(layers, dscores)
    pairs = parameters(layers)
    optimizer.apply([g for _, g in pairs], [w for w, _ in pairs])   # in place: w -= Adam's step from g
    return float(loss)


def accuracy(layers, x, t, batch_size=500):
    """Fraction of x whose highest score is its label (in batches, to keep the unfolded images small)."""
    right = 0
    for start in range(0, len(x), batch_size):
        scores = forward(layers, x[start:start + batch_size])
        right += int(np.sum(np.argmax(scores, axis=1) == t[start:start + batch_size]))
    return right / len(x)


def load_images(dataset, train_samples=None, test_samples=None):
    """(x_train, t_train), (x_test, t_test): images as (n, 28, 28, 1) float32 in [0, 1], labels as integers."""
    (x_train, t_train), (x_test, t_test) = getattr(gn.datasets, dataset).load_data()
    x_train, t_train = x_train[:train_samples], t_train[:train_samples]
    x_test, t_test = x_test[:test_samples], t_test[:test_samples]
    x_train = gn.datasets.normalize(x_train).reshape(-1, 28, 28, 1)        # uint8 -> float32 in [0, 1]
    x_test = gn.datasets.normalize(x_test).reshape(-1, 28, 28, 1)
    return (x_train, t_train.astype(np.int64)), (x_test, t_test.astype(np.int64))


def save_filters(conv, folder):
    """The first layer's 30 learned 5x5 filters, one small grey image each."""
    from matplotlib.figure import Figure

    W = conv.params["W"]                                      # (5, 5, 1, 30)
    fig = Figure(figsize=(10, 2.4))
    axes = fig.subplots(3, 10)
    for i, ax in enumerate(axes.flat):
        ax.imshow(W[:, :, 0, i], cmap="gray_r", interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("the 30 learned 5x5 filters of the first layer")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "convnet_filters.png")
    fig.savefig(path, dpi=80)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--epochs", type=int, default=None,
                        help="passes over the training data (default 5; 1 with --quick)")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--learning-rate", type=float, default=0.001)
    parser.add_argument("--weight-init-std", type=float, default=0.01)
    parser.add_argument("--dataset", default="mnist_mini", choices=["mnist_mini", "mnist", "fashion_mnist"],
                        help="mnist_mini is bundled; mnist and fashion_mnist are found or downloaded")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="one epoch on 1,000 training images")
    parser.add_argument("--output", default=FIGURES,
                        help=f"folder for convnet_filters.png (default: {FIGURES}, never the current folder)")
    args = parser.parse_args(argv)
    epochs = args.epochs if args.epochs is not None else (1 if args.quick else 5)

    gn.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    (x_train, t_train), (x_test, t_test) = load_images(args.dataset, 1000 if args.quick else None,
                                                       500 if args.quick else None)
    print(f"{args.dataset}: {len(x_train):,} training and {len(x_test):,} test images of shape {x_train.shape[1:]}")

    layers = build_layers(args.weight_init_std, args.seed)
    forward(layers, x_train[:1])                               # builds every layer's weights
    for layer in layers:
        shapes = ", ".join(f"{k} {v.shape}" for k, v in layer.params.items())
        print(f"  {type(layer).__name__:<13} {shapes}")
    print(f"parameters: {sum(w.size for w, _ in parameters(layers)):,}")
    optimizer = gn.optimizers.Adam(learning_rate=args.learning_rate)

    history = {"loss": [], "train_acc": [], "test_acc": []}
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x_train))                  # a new order every epoch
        losses = []
        for first in range(0, len(x_train), args.batch_size):
            batch = order[first:first + args.batch_size]
            losses.append(train_step(layers, optimizer, x_train[batch], t_train[batch]))
        history["loss"].append(float(np.mean(losses)))
        history["train_acc"].append(accuracy(layers, x_train, t_train))
        history["test_acc"].append(accuracy(layers, x_test, t_test))
        print(f"epoch {epoch}/{epochs}  loss {history['loss'][-1]:.4f}  train acc {history['train_acc'][-1]:.4f}"
              f"  test acc {history['test_acc'][-1]:.4f}  ({time.perf_counter() - start:.0f} s)")
    test_acc = history["test_acc"][-1] if epochs else accuracy(layers, x_test, t_test)
    print(f"test accuracy: {test_acc:.4f}")
    try:
        figure = save_filters(layers[0], args.output)
        print("saved", figure)
    except ImportError:                                        # matplotlib is optional
        figure = None
        print("matplotlib is not installed: no figure")
    return {**history, "test_accuracy": test_acc, "layers": layers, "figure": figure}


if __name__ == "__main__":
    main()
