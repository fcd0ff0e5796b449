"""Study note 001 -- "딥러닝(2) - Multi Layer Network, Activate Function, Loss Function".
======================================================================================

1. Every activation function (활성화 함수) of the note -- step, linear, sigmoid, tanh, relu,
   leaky_relu, elu, swish, softmax -- on a few points, with its derivative, checked against
   gn.numerical_gradient.
2. Why non-linearity matters: three linear Dense layers collapse into one matrix (y = a(a(a(x))) is
   just a^3 x), a sigmoid stack does not, and only the non-linear network separates XOR.
3. Mean squared error against cross-entropy on the same predictions.
4. Why accuracy (정답률) is not the loss: accuracy is a step function of the weights, so its numerical
   gradient is 0, while the loss changes continuously and has a gradient to follow.

    python examples/note001_activations_and_losses.py [--quick] [--seed 0] [--output DIR]

--quick trains the XOR networks for fewer epochs.
"""
import argparse
import os

import numpy as np

import glassnet as gn

F64 = "float64"
POINTS = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
ELEMENTWISE = ["step", "linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "swish"]


def row(values, fmt="{:8.4f}"):
    return " ".join(fmt.format(float(v)) for v in values)


def activations():
    """Each activation and its derivative; the derivative is compared with central differences."""
    print("x            " + row(POINTS))
    worst = {}
    for name in ELEMENTWISE:
        f = gn.activations.get(name)
        df = gn.activations.get_derivative(name)
        x = POINTS.copy()
        numeric = gn.numerical_gradient(lambda v: np.sum(f(v)), x)   # d/dx_i sum f(x) = f'(x_i)
        smooth = POINTS != 0            # step and relu have a kink at 0: no derivative there
        worst[name] = float(np.max(np.abs(numeric - df(POINTS))[smooth]))
        print(f"{name:<11}  {row(f(POINTS))}")
        derivative_name = name + "'"
        print(f"{derivative_name:<11}  {row(df(POINTS))}   max |f' - numerical| = {worst[name]:.1e}")
    scores = np.array([0.3, 2.9, 4.0])
    probabilities = gn.activations.softmax(scores)
    jacobian = gn.activations.softmax_derivative(scores)
    print(f"softmax({scores}) = {probabilities}, sum {probabilities.sum():.6f}")
    print(f"softmax Jacobian rows sum to {row(jacobian.sum(axis=1), '{:.1e}')} (the outputs always sum to 1)")
    return worst, probabilities


def linear_collapse(rng):
    """Dense-linear x3 equals one Dense with W = W1 W2 W3 and b = (b1 W2 + b2) W3 + b3."""
    a = 2.0
    print(f"one number: y = a(a(a(x))) with a = {a} is y = a^3 x = {a ** 3} x")
    def stack(activation):
        gn.set_random_seed(int(rng.integers(1000)))
        model = gn.Sequential([gn.layers.Dense(4, activation=activation, input_shape=(3,), dtype=F64,
                                               bias_initializer="random_normal"),
                               gn.layers.Dense(5, activation=activation, dtype=F64, bias_initializer="random_normal"),
                               gn.layers.Dense(2, dtype=F64, bias_initializer="random_normal")])
        return model
    x = rng.normal(size=(100, 3))
    linear = stack("linear")
    W1, b1, W2, b2, W3, b3 = linear.get_weights()
    one = gn.Sequential([gn.layers.Dense(2, input_shape=(3,), dtype=F64)])
    one.set_weights([W1 @ W2 @ W3, (b1 @ W2 + b2) @ W3 + b3])
    linear_gap = float(np.max(np.abs(linear.predict(x) - one.predict(x))))
    print(f"three linear Dense layers vs one Dense(W1 W2 W3): max difference {linear_gap:.1e}")
    print("  W1 W2 W3 =\n  " + str(np.round(W1 @ W2 @ W3, 4)).replace("\n", "\n  "))

    # Is there any single affine map x A + c that gives a network's outputs?  Least squares says:
    def best_affine_residual(model):
        y = model.predict(x)
        design = np.hstack([x, np.ones((len(x), 1))])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        return float(np.max(np.abs(design @ coef - y)))
    sigmoid = stack("sigmoid")
    residuals = best_affine_residual(linear), best_affine_residual(sigmoid)
    print(f"best single affine map: max error {residuals[0]:.1e} for the linear stack, "
          f"{residuals[1]:.1e} for the sigmoid stack")
    return linear_gap, residuals


def xor(epochs, seed):
    """XOR needs a non-linear hidden layer (note 001: 다중 퍼셉트론은 XOR 같은 비선형 분리가 가능)."""
    x, y = gn.datasets.logic_gate("xor")
    results = {}
    for activation in ("linear", "tanh"):
        gn.set_random_seed(seed)
        model = gn.Sequential([gn.layers.Dense(4, activation=activation, input_shape=(2,), dtype=F64),
                               gn.layers.Dense(1, activation="sigmoid", dtype=F64)])
        model.compile(optimizer=gn.optimizers.Adam(learning_rate=0.1), loss="binary_crossentropy",
                      metrics=["accuracy"])
        history = model.fit(x, y, epochs=epochs, batch_size=4, verbose=0)
        p = model.predict(x)[:, 0]
        loss = history.history["loss"][-1]
        results[activation] = {"loss": loss, "accuracy": float(np.mean((p > 0.5) == y))}
        print(f"hidden {activation:>6}: outputs {row(p, '{:.3f}')} for 00 01 10 11, binary cross-entropy "
              f"{loss:.4f}")
    print("the linear network is stuck at ln 2 = 0.6931 (output 0.5 everywhere: a straight line cannot "
          "separate XOR); the tanh network solves it")
    return results


def losses():
    """The textbook comparison: the answer is class 2; one prediction is right, one is wrong."""
    t = np.zeros(10)
    t[2] = 1.0
    right = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    wrong = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])
    table = {}
    print(f"{'prediction':<26} {'0.5*sum sq':>10} {'mean sq':>8} {'cross-ent':>9}")
    for label, y in (("p[2] = 0.6 (right)", right), ("p[7] = 0.6 (wrong)", wrong)):
        values = (gn.losses.sum_squared_error(y, t), float(gn.losses.mean_squared_error(t, y)),
                  gn.losses.cross_entropy_error(y, t))
        table[label] = values
        print(f"{label:<26} {values[0]:10.4f} {values[1]:8.4f} {values[2]:9.4f}")
    print("as the probability of the right class falls, MSE levels off but cross-entropy keeps growing:")
    for p in (0.9, 0.5, 0.1, 0.01, 0.001):
        y = np.full(10, (1 - p) / 9)
        y[2] = p
        print(f"  p[2] = {p:<6} mean sq {float(gn.losses.mean_squared_error(t, y)):.4f}   "
              f"cross-entropy {gn.losses.cross_entropy_error(y, t):.4f}")
    return table


def accuracy_is_not_the_loss():
    """A softmax classifier on the notes' 10 points: nudge a weight, watch loss and accuracy."""
    x, labels = gn.datasets.backprop_demo()
    t = gn.utils.to_categorical(labels, 2).astype(F64)
    model = gn.Sequential([gn.layers.Dense(2, activation="softmax", input_shape=(2,), dtype=F64)])
    model.set_weights([np.array([[-0.1, 0.1], [0.0, 0.0]]), np.array([1.2, 0.0])])   # class 0 when x1 < 6
    layer = model.layers[0]
    b = layer.params["b"]           # perturbed in place by numerical_gradient, then restored

    def loss(_=None):
        return gn.losses.cross_entropy_error(layer.forward(x), t)

    def accuracy(_=None):
        return float(np.mean(np.argmax(layer.forward(x), axis=1) == labels))

    print(f"{'bias b[0]':>9} {'loss':>8} {'accuracy':>8}")
    start = b[0]
    for offset in np.linspace(0.0, -0.3, 7):
        b[0] = start + offset
        print(f"{b[0]:9.2f} {loss():8.4f} {accuracy():8.2f}")
    b[0] = start
    d_loss = gn.numerical_gradient(loss, b)
    d_accuracy = gn.numerical_gradient(accuracy, b)
    print(f"at b = {b}: numerical gradient of the loss {d_loss}, of the accuracy {d_accuracy}")
    print("accuracy moves in steps of 1/10 and is flat in between, so gradient descent cannot follow it")
    return d_loss, d_accuracy


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer XOR training epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=None, help="folder for activations.png: each function and its derivative (default: no figure)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    print("1. 활성화 함수 (activation functions) and their derivatives")
    worst, softmax = activations()
    print("\n2. 왜 비선형 함수인가 (why non-linear)")
    linear_gap, residuals = linear_collapse(rng)
    xor_accuracy = xor(200 if args.quick else 500, args.seed)
    print("\n3. 손실 함수 (loss functions): MSE vs cross-entropy")
    loss_table = losses()
    print("\n4. 정답률은 손실 함수가 될 수 없다 (accuracy is not the loss)")
    d_loss, d_accuracy = accuracy_is_not_the_loss()
    if args.output is not None:
        import glassnet.plot

        os.makedirs(args.output, exist_ok=True)
        figure = os.path.join(args.output, "activations.png")
        glassnet.plot.plot_activations(["step", "linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "swish",
                                        "softmax"], figure)     # solid: the function; dashed: its derivative
        print("\nsaved", figure)

    return {"derivative_errors": worst, "softmax": softmax, "linear_gap": linear_gap,
            "affine_residuals": residuals, "xor_accuracy": xor_accuracy, "losses": loss_table,
            "loss_gradient": d_loss, "accuracy_gradient": d_accuracy}


if __name__ == "__main__":
    main()
