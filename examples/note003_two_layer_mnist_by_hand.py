"""Study note 003 -- "AIFFEL 아이펠 19일차: 딥러닝 들여다보기", the full training cycle (전체 학습 사이클) by hand.
================================================================================================================

The note's 2-layer MNIST network (784 -> 50 sigmoid -> 10 softmax) with the parameters W1, b1, W2, b2
kept as plain arrays and trained without any model object: glassnet's functions do the forward pass
(gn.activations.sigmoid, gn.activations.softmax), the loss (gn.losses.cross_entropy_error) and the
derivative (gn.activations.sigmoid_derivative); the backward pass is written out.
Hyperparameters are the note's: weights drawn with weight_init_std = 0.01
(gn.initializers.RandomNormal(stddev=0.01)), mini-batches of 100 drawn at random, SGD with learning
rate 0.1.  Once per epoch (every train_size / batch_size iterations) it prints the batch loss and the
train and test accuracy, and at the end it saves the note's two figures:

    mnist_accuracy.png   train and test accuracy per epoch (y from 0 to 1)
    mnist_loss.png       the mini-batch loss at every iteration

Data: the bundled MNIST sample (8,000 training and 2,000 test digits), offline.

    python examples/note003_two_layer_mnist_by_hand.py [--quick] [--iters 10000] [--output DIR]

The note sets iters_num = 50000 ("반복 횟수를 적절히 설정한다"); on 8,000 digits that is 625 epochs,
so the default here is 10,000 iterations (125 epochs, a few seconds).  --quick runs 800 (10 epochs).
"""
import argparse
import os
import tempfile
import time

import numpy as np

import glassnet as gn

# where the figures go unless --output says: the system's temporary folder, not the current one
FIGURES = os.path.join(tempfile.gettempdir(), "glassnet-figures")


def init_params(input_size, hidden_size, output_size, weight_init_std=0.01):
    """W ~ weight_init_std * N(0, 1), b = 0, as the note's init_params."""
    init = gn.initializers.RandomNormal(stddev=weight_init_std)
    W1 = init((input_size, hidden_size))
    b1 = gn.initializers.Zeros()((hidden_size,))
    W2 = init((hidden_size, output_size))
    b2 = gn.initializers.Zeros()((output_size,))
    for name, param in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)):
        print(f"{name} {param.shape}")
    return W1, b1, W2, b2


def predict(W1, b1, W2, b2, x):
    """Forward pass: probabilities of the 10 classes for each row of x."""
    z1 = gn.activations.sigmoid(x @ W1 + b1)
    return gn.activations.softmax(z1 @ W2 + b2)


def accuracy(W1, b1, W2, b2, x, y):
    return float(np.mean(np.argmax(predict(W1, b1, W2, b2, x), axis=1) == y))


def train_step(x, y, W1, b1, W2, b2, learning_rate):
    """One step of gradient descent on a mini-batch; returns the batch loss (before the step)."""
    n = x.shape[0]
    # forward
    a1 = x @ W1 + b1
    z1 = gn.activations.sigmoid(a1)
    a2 = z1 @ W2 + b2
    p = gn.activations.softmax(a2)
    loss = gn.losses.cross_entropy_error(p, y)          # integer labels are accepted
    # backward: softmax + cross-entropy gives dL/da2 = (p - t) / n
    t = gn.utils.to_categorical(y, num_classes=p.shape[1]).astype(p.dtype)
    da2 = (p - t) / n
    dW2 = z1.T @ da2
    db2 = da2.sum(axis=0)
    dz1 = da2 @ W2.T
    da1 = dz1 * gn.activations.sigmoid_derivative(a1)
    dW1 = x.T @ da1
    db1 = da1.sum(axis=0)
    # update, in place
    for param, grad in ((W1, dW1), (b1, db1), (W2, dW2), (b2, db2)):
        param -= learning_rate * grad
    return loss


def save_figures(train_acc_list, test_acc_list, train_loss_list, folder):
    """The note's two plots, drawn with matplotlib's Figure API (no window, no pyplot state)."""
    from matplotlib.figure import Figure

    os.makedirs(folder, exist_ok=True)
    paths = []

    fig = Figure(figsize=(12, 6))
    ax = fig.subplots()
    epochs = np.arange(len(train_acc_list))
    ax.plot(epochs, train_acc_list, marker="o", label="train acc")
    ax.plot(epochs, test_acc_list, marker="s", linestyle="--", label="test acc")
    ax.set_xlabel("epochs")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.0)
    ax.legend(loc="lower right")
    paths.append(os.path.join(folder, "mnist_accuracy.png"))
    fig.savefig(paths[-1], dpi=80)

    fig = Figure(figsize=(12, 6))
    ax = fig.subplots()
    ax.plot(np.arange(len(train_loss_list)), train_loss_list, label="train loss")
    ax.set_xlabel("iterations")
    ax.set_ylabel("Loss")
    ax.set_ylim(0, 3.0)
    ax.legend(loc="best")
    paths.append(os.path.join(folder, "mnist_loss.png"))
    fig.savefig(paths[-1], dpi=80)
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="800 iterations (10 epochs) instead of 10,000")
    parser.add_argument("--iters", type=int, default=None, help="iterations (default 10000; the note: 50000)")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--hidden", type=int, default=50)
    parser.add_argument("--weight-init-std", type=float, default=0.01)
    parser.add_argument("--dataset", default="mnist_mini", choices=["mnist_mini", "mnist", "fashion_mnist"],
                        help="mnist_mini is bundled; mnist and fashion_mnist are found or downloaded")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=FIGURES,
                        help=f"folder for the two PNG figures (default: {FIGURES}, never the current folder)")
    args = parser.parse_args(argv)
    iters_num = args.iters if args.iters is not None else (800 if args.quick else 10_000)

    gn.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    (x_train, y_train), (x_test, y_test) = getattr(gn.datasets, args.dataset).load_data()
    x_train = gn.datasets.normalize(x_train).reshape(len(x_train), -1)     # uint8 -> float32 in [0, 1]
    x_test = gn.datasets.normalize(x_test).reshape(len(x_test), -1)

    train_size = x_train.shape[0]
    batch_size = args.batch_size
    iter_per_epoch = max(train_size // batch_size, 1)          # iterations per epoch
    train_loss_list, train_acc_list, test_acc_list = [], [], []

    W1, b1, W2, b2 = init_params(x_train.shape[1], args.hidden, 10, args.weight_init_std)
    start = time.perf_counter()
    for i in range(iters_num):
        batch_mask = rng.choice(train_size, batch_size)        # a random mini-batch (with replacement)
        loss = train_step(x_train[batch_mask], y_train[batch_mask], W1, b1, W2, b2, args.learning_rate)
        train_loss_list.append(loss)
        if i % iter_per_epoch == 0:                             # once per epoch
            train_acc = accuracy(W1, b1, W2, b2, x_train, y_train)
            test_acc = accuracy(W1, b1, W2, b2, x_test, y_test)
            train_acc_list.append(train_acc)
            test_acc_list.append(test_acc)
            print(f"Loss: {loss:.4f}   train acc, test acc | {train_acc:.4f}, {test_acc:.4f}")
    seconds = time.perf_counter() - start
    final_train = accuracy(W1, b1, W2, b2, x_train, y_train)
    final_test = accuracy(W1, b1, W2, b2, x_test, y_test)
    print(f"after {iters_num} iterations ({iters_num / iter_per_epoch:g} epochs, {seconds:.1f} s): "
          f"train acc {final_train:.4f}, test acc {final_test:.4f}")

    figures = save_figures(train_acc_list, test_acc_list, train_loss_list, args.output)
    for path in figures:
        print("saved", path)
    return {"train_acc": train_acc_list, "test_acc": test_acc_list, "loss": train_loss_list,
            "final_train_acc": final_train, "final_test_acc": final_test, "figures": figures}


if __name__ == "__main__":
    main()
