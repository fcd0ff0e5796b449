"""Study note 004 -- "Neural Network 의 Forward Pass 구현해보기 (1) - 초기 네트워크 세팅".
=======================================================================================

One weight matrix W (2 inputs -> 3 outputs, no bias), the forward pass x W on
x = [1, 2], the same pass through a sigmoid, softmax, and the two loss
functions of the note (mean squared error and cross-entropy), all with
glassnet's public API:

    forward pass  [1.8 1.7 1.1]
    with sigmoid  [0.85814894 0.84553473 0.75026011]

    python examples/note004_forward_pass.py [--quick] [--output DIR]

(--quick changes nothing here: every step already runs in milliseconds.)
"""
import argparse
import os

import numpy as np

import glassnet as gn

# The note's network: W[j, i] is the weight from input j to output i.
W = np.array([[0.2, 0.5, 0.3],
              [0.8, 0.6, 0.4]])
X = np.array([1.0, 2.0])


def one_layer(activation=None):
    """A Dense layer holding exactly the note's W (float64, so the printed digits match)."""
    model = gn.Sequential([gn.layers.Dense(3, activation=activation, use_bias=False,
                                           input_shape=(2,), dtype="float64")])
    model.set_weights([W])
    return model


def save_figure(vectors, folder):
    """The three outputs of the forward pass side by side: xW, sigmoid(xW), softmax(xW)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.2))
    for ax, (title, values) in zip(fig.subplots(1, len(vectors)), vectors.items()):
        ax.bar(["y0", "y1", "y2"], values, color="tab:blue")
        for i, v in enumerate(values):
            ax.text(i, v, f"{v:.3f}", ha="center", va="bottom")
        ax.set_title(title)
        ax.set_ylim(0, max(2.0, 1.15 * max(values)))
    fig.tight_layout()
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "forward_pass.png")
    fig.savefig(path, dpi=80)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="accepted for uniformity; the script is already fast")
    parser.add_argument("--output", default=None, help="folder for forward_pass.png (default: no figure)")
    args = parser.parse_args(argv)

    print("1. 초기 네트워크 세팅 (the network)")
    print("W =\n", W, sep="")

    print("\n2. Forward pass")
    # forward1: one output at a time, y[i] = W[0][i] x[0] + W[1][i] x[1]
    by_hand = np.array([sum(W[j, i] * X[j] for j in range(2)) for i in range(3)])
    print("one output at a time      :", by_hand)
    # forward2: the matrix product, as a Dense layer without bias or activation
    linear = one_layer().predict(X.reshape(1, -1))[0]
    print("Dense(3, use_bias=False)  :", linear)
    # forward3: the same layer with a sigmoid on top
    dense_sigmoid = one_layer("sigmoid").predict(X.reshape(1, -1))[0]
    plain_sigmoid = gn.activations.sigmoid(X @ W)
    print("Dense(3, 'sigmoid')       :", dense_sigmoid)
    print("gn.activations.sigmoid(xW):", plain_sigmoid)

    print("\n3. Softmax: outputs between 0 and 1 that sum to 1")
    probabilities = gn.activations.softmax(linear)
    print("softmax([1.8 1.7 1.1])    :", probabilities, " sum =", round(float(probabilities.sum()), 12))
    big = gn.activations.softmax(np.array([1010.0, 1000.0, 990.0]))   # exp(1010) would overflow
    print("softmax([1010 1000 990])  :", big, "(the max is subtracted first)")

    print("\n4. Loss functions: how far the prediction is from the target")
    t = np.array([0.0, 1.0, 0.0])                    # say the answer is class 1
    # Keras order (y_true, y_pred); the mean over the outputs, as the note's np.mean((y - t) ** 2)
    mse = float(gn.losses.mean_squared_error(t, probabilities))
    # the notes' order (y, t): -sum(t log(y + delta)) / batch size; a 1-D y is one sample
    cee = gn.losses.cross_entropy_error(probabilities, t)
    print(f"target t = {t}, prediction y = softmax(xW)")
    print(f"mean squared error  gn.losses.mean_squared_error(t, y) = {mse:.8f}")
    print(f"cross-entropy error gn.losses.cross_entropy_error(y, t) = {cee:.8f}  (-log(y[1] + 1e-7); "
          f"the tiny delta keeps log(0) away)")
    # The better the guess for class 1, the smaller both losses:
    better = gn.activations.softmax(np.array([0.0, 3.0, 0.0]))
    print(f"a better guess {better}: MSE {float(gn.losses.mean_squared_error(t, better)):.8f}, "
          f"cross-entropy {gn.losses.cross_entropy_error(better, t):.8f}")

    if args.output is not None:
        figure = save_figure({"x W": linear, "sigmoid(x W)": dense_sigmoid, "softmax(x W)": probabilities},
                             args.output)
        print("\nsaved", figure)
    return {"forward": linear, "sigmoid": dense_sigmoid, "softmax": probabilities,
            "mse": mse, "cross_entropy": cee}


if __name__ == "__main__":
    main()
