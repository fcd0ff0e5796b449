"""Study note 002 -- "인공신경망 기초 (1)" (Neural Net Basic): back-propagation by hand.
=====================================================================================

Everything is done with glassnet's Dense layers, one forward and one backward call at a time
(no fit), so each number of the note can be followed:

1. The first worked example: random.seed(1), a 2-1-2 sigmoid network, the input [1, 0] ->
   outputs 0.6629970129852887 0.7253160725279748, then the deltas for the target [0, 1].
2. Online training (one sample at a time) of a 2-2-2 sigmoid network on the note's 10 points
   (gn.datasets.backprop_demo()), SGD with learning rate 0.02 for 5001 epochs, printing the note's
   ">epoch=%d, lrate=%.3f, error=%.3f" every 100 epochs (6.697, 4.299, ..., 0.027), then the final
   weights and the table of 실제값 (actual) / 예측값 (predicted).

The note's neurons are lists [w_1, ..., w_n, bias] drawn with Python's random.random(); a glassnet
Dense layer keeps W with shape (inputs, neurons), so W[j, i] = neuron i's weight j and b[i] = its bias.
The note's delta is -dL/dz for L = 1/2 sum (target - output)^2, and its update
w += lrate * delta * input is gradient descent: w -= lrate * dL/dw.

    python examples/note002_backprop_by_hand.py [--quick] [--epochs 5001] [--lrate 0.02] [--output DIR]

--quick trains for 301 epochs (the first four printed lines of the note).
"""
import argparse
import os
import random

import numpy as np

import glassnet as gn

F64 = "float64"


def note_layer(n_inputs, n_neurons):
    """A sigmoid Dense layer whose weights are drawn as the note draws them: per neuron, n_inputs + 1
    calls of random.random() (the weights, then the bias)."""
    neurons = np.array([[random.random() for _ in range(n_inputs + 1)] for _ in range(n_neurons)])
    layer = gn.layers.Dense(n_neurons, activation="sigmoid", dtype=F64)
    layer.build((None, n_inputs))
    layer.set_weights([neurons[:, :-1].T, neurons[:, -1]])
    return layer


def as_neurons(layer):
    """The layer's weights in the note's layout: one list [w_1, ..., w_n, bias] per neuron."""
    W, b = layer.params["W"], layer.params["b"]
    return [[float(w) for w in W[:, i]] + [float(b[i])] for i in range(W.shape[1])]


def forward(layers, x):
    for layer in layers:
        x = layer.forward(x)
    return x


def backward(layers, output, target):
    """Back-propagate L = 1/2 sum (target - output)^2: dL/d(output) = output - target.

    Each layer's backward fills layer.grads; the note's delta of a neuron is -dL/dz, which for a
    batch of one sample is -grads["b"]."""
    d = output - target
    for layer in reversed(layers):
        d = layer.backward(d)
    return [-layer.grads["b"].copy() for layer in layers]


def update(layers, lrate):
    """Plain gradient descent on every weight and bias: w -= lrate * dL/dw."""
    for layer in layers:
        for key in layer.params:
            layer.params[key] -= lrate * layer.grads[key]


def worked_example():
    print("1. 첫 번째 예제: seed(1), 2 inputs -> 1 hidden neuron -> 2 outputs")
    random.seed(1)
    layers = [note_layer(2, 1), note_layer(1, 2)]
    for layer in layers:
        print("  ", as_neurons(layer))
    before = [layer.get_weights() for layer in layers]
    row, expected = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    hidden, output_layer = layers
    h = hidden.forward(row)                       # the hidden neuron's output
    output = output_layer.forward(h)
    hidden_output = float(h[0, 0])
    print("  forward([1, 0]) =", [float(v) for v in output[0]])
    unchanged = all(np.array_equal(a, b) for layer, ws in zip(layers, before)
                    for a, b in zip(layer.get_weights(), ws))
    print("  weights unchanged by the forward pass:", unchanged)
    deltas = backward(layers, output, expected)
    print("  target [0, 1]:")
    print(f"  hidden neuron: output {hidden_output!r}, delta {float(deltas[0][0])!r}")
    for i in range(2):
        print(f"  output neuron {i}: output {float(output[0, i])!r}, delta {float(deltas[1][i])!r}")
    return {"hidden_output": hidden_output, "outputs": [float(v) for v in output[0]],
            "hidden_deltas": [float(v) for v in deltas[0]], "output_deltas": [float(v) for v in deltas[1]],
            "forward_changes_weights": not unchanged}


def train(epochs, lrate):
    x, labels = gn.datasets.backprop_demo()
    n_outputs = len(set(labels.tolist()))
    targets = np.eye(n_outputs)[labels]           # label 0 -> [1, 0], label 1 -> [0, 1]
    print(f"\n2. 학습: {len(x)} points, 2 inputs -> 2 hidden -> {n_outputs} outputs, "
          f"online SGD, lrate {lrate}, {epochs} epochs")
    random.seed(1)
    layers = [note_layer(2, 2), note_layer(2, n_outputs)]
    printed = []
    for epoch in range(epochs):
        sum_error = 0.0
        for i in range(len(x)):                   # one sample at a time, in the note's order
            xi, ti = x[i:i + 1], targets[i:i + 1]
            output = forward(layers, xi)
            sum_error += float(np.sum((ti - output) ** 2))     # measured before this sample's update
            backward(layers, output, ti)
            update(layers, lrate)
        if epoch % 100 == 0:
            print(">epoch=%d, lrate=%.3f, error=%.3f" % (epoch, lrate, sum_error))
            printed.append(sum_error)

    print("\n업데이트 된 가중치 (final weights, per neuron [w_1, w_2, bias]):")
    final = [as_neurons(layer) for layer in layers]
    for neurons in final:
        print("  ", neurons)

    print("\n예측 (predictions):")
    predictions = np.argmax(forward(layers, x), axis=1)
    for actual, predicted in zip(labels, predictions):
        print("실제값=%d, 예측값=%d" % (actual, predicted))
    return {"errors": printed, "final_weights": final, "labels": labels.tolist(),
            "predictions": predictions.tolist()}


def save_figure(errors, folder):
    """The note's printed error, every 100 epochs: it falls as backpropagation trains the network."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    ax.plot([100 * i for i in range(len(errors))], errors, marker="o", markersize=3)
    ax.set_xlabel("epoch")
    ax.set_ylabel("sum of squared errors over the 10 points")
    ax.set_title("online SGD with backpropagation by hand")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "backprop_error.png")
    fig.savefig(path, dpi=80)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="train for 301 epochs instead of 5001")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (default: 5001, the note's)")
    parser.add_argument("--lrate", type=float, default=0.02, help="learning rate (default: 0.02, the note's)")
    parser.add_argument("--output", default=None, help="folder for backprop_error.png (default: no figure)")
    args = parser.parse_args(argv)
    epochs = args.epochs if args.epochs is not None else (301 if args.quick else 5001)

    result = worked_example()
    result.update(train(epochs, args.lrate))
    if args.output is not None:
        print("\nsaved", save_figure(result["errors"], args.output))
    return result


if __name__ == "__main__":
    main()
