"""Study notes 000 "신경망" and 001 "딥러닝(2) - Multi Layer Network, Activate Function, Loss Function".
=====================================================================================================

1. The matrix product behind a layer: X (1, 2) . W (2, 3) -> [[ 9 12 15]] (note 001, 1.3 다차원 배열 연산).
2. The notes' 3-layer network (W1..b3 given in the notes) on x = [1.0, 0.5] -> [0.31682708 0.69627909],
   once as a gn.Sequential with set_weights, once step by step with each layer's forward.
3. The notes' TwoLayerNet (784-50-10, sigmoid then softmax, weights drawn with weight_init_std=0.01,
   i.e. gn.initializers.RandomNormal(stddev=0.01)), and its numerical gradient (the notes'
   numerical_gradient) against backpropagation on a few MNIST digits.

    python examples/note000_001_three_layer_network.py [--quick] [--samples 3] [--seed 0] [--output DIR]

--quick takes the numerical gradient of ten rows of W1 instead of all 784 (a few thousand forward
passes instead of about eighty thousand).
"""
import argparse
import os
import time

import numpy as np

import glassnet as gn

F64 = "float64"      # the notes compute in float64: their printed digits match exactly

# The notes' 3-layer network (000 and 001 give the same numbers).
NETWORK = {
    "W1": np.array([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]), "b1": np.array([0.1, 0.2, 0.3]),
    "W2": np.array([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]), "b2": np.array([0.1, 0.2]),
    "W3": np.array([[0.1, 0.3], [0.2, 0.4]]), "b3": np.array([0.1, 0.2]),
}
X = np.array([[1.0, 0.5]])           # one sample, as a batch of one


def matrix_product():
    """A Dense layer without bias or activation is exactly np.dot(X, W)."""
    x = np.array([[1.0, 2.0]])
    w = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    layer = gn.layers.Dense(3, use_bias=False, dtype=F64)
    layer.build((None, 2))
    layer.set_weights([w])
    y = layer.forward(x)
    print(f"X.shape {x.shape} . W.shape {w.shape} -> Y.shape {y.shape}: Y = {y}")
    return y


def three_layer_model(output_activation=None):
    """2 -> 3 (sigmoid) -> 2 (sigmoid) -> 2 (identity, note 001's y = a3), with the notes' weights."""
    model = gn.Sequential([
        gn.layers.Dense(3, activation="sigmoid", input_shape=(2,), dtype=F64),
        gn.layers.Dense(2, activation="sigmoid", dtype=F64),
        gn.layers.Dense(2, activation=output_activation, dtype=F64),
    ])
    model.set_weights([NETWORK[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3")])
    return model


def step_by_step():
    """The same network, one layer's forward at a time, printing what each layer hands on."""
    layers = [gn.layers.Dense(3, activation="sigmoid", dtype=F64),
              gn.layers.Dense(2, activation="sigmoid", dtype=F64),
              gn.layers.Dense(2, dtype=F64)]
    h = X
    for i, layer in enumerate(layers, start=1):
        layer.build((None, h.shape[1]))
        layer.set_weights([NETWORK[f"W{i}"], NETWORK[f"b{i}"]])
        a = h @ layer.params["W"] + layer.params["b"]          # the weighted sum a_i = h W_i + b_i
        h = layer.forward(h)                                   # z_i = activation(a_i)
        print(f"layer {i} ({layer.activation:>7}): a{i} = {a[0]}  ->  z{i} = {h[0]}")
    return h


def two_layer_net(input_size, hidden_size, output_size, weight_init_std=0.01):
    """The notes' TwoLayerNet: W ~ weight_init_std * N(0, 1), b = 0; sigmoid, then softmax."""
    init = gn.initializers.RandomNormal(stddev=weight_init_std)
    model = gn.Sequential([
        gn.layers.Dense(hidden_size, activation="sigmoid", kernel_initializer=init,
                        input_shape=(input_size,), dtype=F64),
        gn.layers.Dense(output_size, activation="softmax", kernel_initializer=init, dtype=F64),
    ])
    # one-hot targets, mean cross-entropy over the batch: the notes' loss(x, t)
    model.compile(optimizer=gn.optimizers.SGD(learning_rate=0.1), loss="categorical_crossentropy")
    return model


def params_of(model):
    """The notes' params dict, W1/b1/W2/b2, as the layers' own arrays (not copies)."""
    hidden, output = model.layers
    return {"W1": hidden.params["W"], "b1": hidden.params["b"],
            "W2": output.params["W"], "b2": output.params["b"]}


def gradients(model, x, t, quick, pairs=None):
    """Backpropagation against the notes' numerical gradient (central differences, h = 1e-4).

    `pairs`, a dict, receives each weight's (numerical, backprop) gradients, flattened, for the figure.
    """

    def predict(inputs):
        for layer in model.layers:
            inputs = layer.forward(inputs)
        return inputs

    def loss(_):               # the perturbed weight is read from the layers themselves
        return gn.losses.cross_entropy_error(predict(x), t)

    start = time.perf_counter()
    _, backprop = model.compute_gradients(x, t)          # aligned with get_weights(): W1, b1, W2, b2
    backprop_seconds = time.perf_counter() - start

    differences = {}
    start = time.perf_counter()
    entries = 0
    for (name, weight), analytic in zip(params_of(model).items(), backprop):
        if quick and name == "W1":
            rows = slice(400, 410)            # ten pixels from the middle of the image (edges are always 0)
            weight, analytic = weight[rows], analytic[rows]
        numeric = gn.numerical_gradient(loss, weight)    # perturbs the layer's weights in place, then restores
        entries += weight.size
        differences[name] = float(np.max(np.abs(numeric - analytic)))
        if pairs is not None:
            pairs[name] = (numeric.ravel(), analytic.ravel())
        print(f"  {name}: {weight.size:>6} entries  max |numerical - backprop| = {differences[name]:.2e}"
              f"  (largest gradient {np.max(np.abs(analytic)):.2e})")
    numeric_seconds = time.perf_counter() - start
    print(f"  numerical gradient: {entries} entries in {numeric_seconds:.2f} s; "
          f"backpropagation: all {model.count_params()} in {backprop_seconds * 1000:.2f} ms")
    print("  (differences near 1e-7 come from the 1e-7 that cross_entropy_error adds inside log(y + 1e-7); "
          "backpropagation differentiates the loss without it)")
    return differences


def save_figure(pairs, folder):
    """Numerical gradient against backpropagation, one panel per weight: every point on the diagonal."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 3.4))
    for ax, (name, (numeric, analytic)) in zip(fig.subplots(1, len(pairs)), pairs.items()):
        ax.scatter(analytic, numeric, s=8)
        lo, hi = float(min(analytic.min(), numeric.min())), float(max(analytic.max(), numeric.max()))
        ax.plot([lo, hi], [lo, hi], color="grey", linewidth=0.8, linestyle="--")
        ax.set_title(f"{name}: {analytic.size} entries")
        ax.set_xlabel("backpropagation")
    fig.axes[0].set_ylabel("numerical gradient")
    fig.tight_layout()
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "gradient_check.png")
    fig.savefig(path, dpi=80)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="numerical gradient of 10 rows of W1 only")
    parser.add_argument("--samples", type=int, default=3, help="MNIST digits for the gradient comparison")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=None, help="folder for gradient_check.png (default: no figure)")
    args = parser.parse_args(argv)

    print("1. 다차원 배열 연산 (matrix product)")
    product = matrix_product()

    print("\n2. 3층 신경망 (the 3-layer network) on x = [1.0, 0.5]")
    model = three_layer_model()
    y = model.predict(X)
    print("gn.Sequential + set_weights:", y[0])
    print("step by step, layer.forward:")
    y_steps = step_by_step()
    # Note 000 puts a ReLU on the output; both outputs are positive, so it changes nothing here.
    y_relu = three_layer_model("relu").predict(X)
    print("with a ReLU output (note 000):", y_relu[0])

    print("\n3. 2층 신경망 TwoLayerNet(784, 50, 10, weight_init_std=0.01)")
    gn.set_random_seed(args.seed)
    net = two_layer_net(input_size=784, hidden_size=50, output_size=10, weight_init_std=0.01)
    for name, weight in params_of(net).items():
        print(f"  {name}{weight.shape}: std {weight.std():.4f}")
    (x_train, y_train), _ = gn.datasets.mnist_mini.load_data()
    x = gn.datasets.normalize(x_train[:args.samples], dtype=F64).reshape(args.samples, -1)
    t = gn.utils.to_categorical(y_train[:args.samples], num_classes=10).astype(F64)
    p = net.predict(x)
    initial_loss = gn.losses.cross_entropy_error(p, t)
    accuracy = float(np.mean(np.argmax(p, axis=1) == np.argmax(t, axis=1)))
    print(f"  untrained: loss {initial_loss:.4f} (about ln 10 = {np.log(10):.4f}: every class ~0.1), "
          f"accuracy {accuracy:.2f} on {args.samples} digits")
    print(f"  numerical gradient vs backpropagation on {args.samples} digits:")
    pairs = {}
    differences = gradients(net, x, t, args.quick, pairs)
    check = gn.gradient_check(net, x, t, max_entries=20 if args.quick else 200)
    print("  gn.gradient_check (relative error, float64 central differences):")
    print("  " + str(check).replace("\n", "\n  "))
    if args.output is not None:
        print("\nsaved", save_figure(pairs, args.output))

    return {"product": product, "y": y[0], "y_steps": y_steps[0], "y_relu": y_relu[0],
            "initial_loss": initial_loss, "gradient_differences": differences,
            "gradient_check": dict(check), "gradient_check_passed": check.passed}


if __name__ == "__main__":
    main()
