"""The two example ConvNets trained in glassnet and the same networks trained in PyTorch, side by side.

For each network of examples/ (the textbook SimpleConvNet of examples/convnet_by_hand.py, trained by
its own hand-written loop, and the keras.io-style convnet of examples/keras_convnet.py, trained by
Sequential.fit) this module builds the glassnet network from the example's own functions, builds
its twin in torch.nn, and trains both on the same data with everything that can be the same made the
same:

- the same initial weights: glassnet's, copied into torch (kernels (kh, kw, cin, cout) -> (cout,
  cin, kh, kw), Dense kernels (in, out) -> (out, in));
- the same flatten order: torch works channels-first, so the twin moves the channels last again
  (permute(0, 2, 3, 1)) before flattening, as Keras and glassnet flatten; the Dense weights then
  copy over without reordering;
- the same batches in the same order: one permutation per epoch drawn here, given to glassnet's
  fit with shuffle=False (and to the by-hand loop) and to the torch loop;
- the same dropout masks: the twin's dropout draws its masks from a copy of the glassnet Dropout
  layer's own generator, the same way (uniform float32 numbers < keep, scaled by 1 / keep), so both
  libraries drop the same units at every step (`check_replayed_dropout` verifies this);
- the same optimizer settings: Adam, learning rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7
  (Keras's; torch.optim.Adam adds epsilon after the bias correction of sqrt(v), Keras before: the
  only formula difference, negligible at 1e-7), the same batch sizes (100 for SimpleConvNet, as the
  book; 128 for the convnet, as keras.io) and mean cross-entropy losses, float32 on both sides.

The test accuracies then differ only by floating-point rounding amplified over training.
`tests/models/test_convnet_accuracy.py` runs a small version in CI; run this file for the full
measurement:

    PYTHONPATH=src python tests/models/convnet_reference.py --dataset fashion_mnist --epochs 5
    PYTHONPATH=src python tests/models/convnet_reference.py --dataset mnist_mini --epochs 5 --json out.json
"""
from __future__ import annotations

import argparse
import copy
import json
import pathlib
import runpy
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
NETWORKS = ("simple_convnet", "keras_convnet")
BATCH_SIZES = {"simple_convnet": 100, "keras_convnet": 128}
ADAM = dict(lr=0.001, betas=(0.9, 0.999), eps=1e-7)           # Keras's defaults, in torch's names
SGD_RATE = 0.01                                                 # the twins' check: SGD has one formula in both


OPTIMIZERS = ("adam", "keras_adam", "sgd")


def glassnet_optimizer(name):
    """glassnet's side: Adam (Keras's formula) for "adam" and "keras_adam", SGD for "sgd"."""
    import glassnet as gn
    return gn.optimizers.SGD(SGD_RATE) if name == "sgd" else gn.optimizers.Adam(learning_rate=ADAM["lr"])


def torch_optimizer(torch, name, parameters):
    """torch's side: torch.optim.Adam ("adam": what a PyTorch user runs), Adam written with Keras's
    formula ("keras_adam": epsilon added to sqrt(v) before the bias correction, as glassnet and Keras
    do), or torch.optim.SGD ("sgd")."""
    if name == "adam":
        return torch.optim.Adam(parameters, **ADAM)
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=SGD_RATE)
    return keras_adam(torch, parameters, **ADAM)


def keras_adam(torch, parameters, lr, betas, eps):
    """Keras's Adam in torch: m, v as usual; w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)."""
    class KerasAdam(torch.optim.Optimizer):
        @torch.no_grad()
        def step(self):
            for group in self.param_groups:
                (b1, b2), eps, lr = group["betas"], group["eps"], group["lr"]
                for p in group["params"]:
                    state = self.state[p]
                    if not state:
                        state.update(t=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                    state["t"] += 1
                    t, m, v = state["t"], state["m"], state["v"]
                    m.mul_(b1).add_(p.grad, alpha=1 - b1)
                    v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                    p.addcdiv_(m, v.sqrt().add_(eps), value=-lr * (1 - b2 ** t) ** 0.5 / (1 - b1 ** t))

    return KerasAdam(parameters, dict(lr=lr, betas=betas, eps=eps))


def example(name):
    """The functions of examples/<name>.py (loaded without running its main)."""
    return runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="example")


def load_images(dataset, train_samples=None, test_samples=None):
    """(x_train, y_train), (x_test, y_test): float32 images (n, 28, 28, 1) in [0, 1], int64 labels
    (the by-hand example's loader, which both networks use here)."""
    return example("convnet_by_hand")["load_images"](dataset, train_samples, test_samples)


# ---------------------------------------------------------------------------- torch twins
def replayed_dropout(torch, rate, rng):
    """A torch dropout that draws its masks from `rng` exactly as glassnet's Dropout does."""
    class ReplayedDropout(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.keep, self.rng = 1.0 - rate, rng

        def forward(self, x):
            if not self.training:
                return x
            keep = self.rng.random(tuple(x.shape), dtype=np.float32) < self.keep
            return x * torch.from_numpy(keep * np.float32(1.0 / self.keep))

    return ReplayedDropout()


def torch_twin(torch, network, dropout_rng=None):
    """The network in torch.nn, channels-first inside, taking channels-last images as glassnet does."""
    nn, F = torch.nn, torch.nn.functional

    class Twin(nn.Module):
        def __init__(self):
            super().__init__()
            if network == "simple_convnet":
                self.convs = nn.ModuleList([nn.Conv2d(1, 30, 5)])
                self.dense = nn.ModuleList([nn.Linear(4320, 100), nn.Linear(100, 10)])
                self.dropout = None
            else:
                self.convs = nn.ModuleList([nn.Conv2d(1, 32, 3), nn.Conv2d(32, 64, 3)])
                self.dense = nn.ModuleList([nn.Linear(1600, 10)])
                self.dropout = replayed_dropout(torch, 0.5, dropout_rng)

        def forward(self, x):
            x = x.permute(0, 3, 1, 2)                       # (n, h, w, c) -> (n, c, h, w)
            for conv in self.convs:
                x = F.max_pool2d(F.relu(conv(x)), 2)
            x = x.permute(0, 2, 3, 1).flatten(1)            # flatten channels-last, as Keras does
            if self.dropout is not None:
                x = self.dropout(x)
            for i, dense in enumerate(self.dense):
                x = dense(x)
                if i < len(self.dense) - 1:
                    x = F.relu(x)
            return x                                        # logits: cross_entropy applies the softmax

    return Twin()


def copy_weights(torch, weights, twin):
    """glassnet's weight arrays (get_weights order: conv W, b, ..., dense W, b, ...) into the twin."""
    modules = list(twin.convs) + list(twin.dense)
    assert len(weights) == 2 * len(modules), (len(weights), len(modules))
    with torch.no_grad():
        for module, W, b in zip(modules, weights[0::2], weights[1::2]):
            # (kh, kw, cin, cout) -> (cout, cin, kh, kw); (in, out) -> (out, in)
            W = W.transpose(3, 2, 0, 1) if W.ndim == 4 else W.T
            module.weight.copy_(torch.from_numpy(np.ascontiguousarray(W, dtype=np.float32)))
            module.bias.copy_(torch.from_numpy(np.asarray(b, dtype=np.float32)))


def torch_weights(twin):
    """The twin's weights in glassnet's layouts (to compare with get_weights)."""
    out = []
    for module in list(twin.convs) + list(twin.dense):
        W = module.weight.detach().numpy()
        out += [W.transpose(2, 3, 1, 0) if W.ndim == 4 else W.T, module.bias.detach().numpy()]
    return out


def torch_logits(torch, twin, x, batch_size=1000):
    twin.eval()
    with torch.no_grad():
        parts = [twin(torch.from_numpy(np.ascontiguousarray(x[i:i + batch_size]))).numpy()
                 for i in range(0, len(x), batch_size)]
    twin.train()
    return np.concatenate(parts)


def torch_train_epoch(torch, twin, optimizer, x, y, order, batch_size):
    losses = []
    for first in range(0, len(order), batch_size):
        batch = order[first:first + batch_size]
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(x[batch])), torch.from_numpy(y[batch]))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return float(np.mean(losses))


# ---------------------------------------------------------------------------- glassnet sides
class GlassnetSimpleConvNet:
    """examples/convnet_by_hand.py: its layers, its train_step, its accuracy."""

    def __init__(self, x_sample, seed, optimizer="adam"):
        self.ex = example("convnet_by_hand")
        self.layers = self.ex["build_layers"](0.01, seed)
        self.ex["forward"](self.layers, x_sample)               # builds the weights
        self.optimizer = glassnet_optimizer(optimizer)
        self.dropout_rng = None

    def get_weights(self):
        return [w.copy() for w, _ in self.ex["parameters"](self.layers)]

    def logits(self, x, batch_size=1000):
        return np.concatenate([self.ex["forward"](self.layers, x[i:i + batch_size])
                               for i in range(0, len(x), batch_size)])

    def train_epoch(self, x, y, order, batch_size):
        losses = [self.ex["train_step"](self.layers, self.optimizer, x[order[i:i + batch_size]],
                                        y[order[i:i + batch_size]]) for i in range(0, len(order), batch_size)]
        return float(np.mean(losses))


class GlassnetKerasConvNet:
    """examples/keras_convnet.py: its build_model, compiled as its main does, trained by fit."""

    def __init__(self, x_sample, seed, optimizer="adam"):
        import glassnet as gn
        self.gn = gn
        self.model = example("keras_convnet")["build_model"]()
        self.model.compile(loss="categorical_crossentropy", optimizer=glassnet_optimizer(optimizer),
                           metrics=["accuracy"])
        dropout = next(layer for layer in self.model.layers if isinstance(layer, gn.layers.Dropout))
        self.dropout_rng = copy.deepcopy(dropout.rng)          # the masks fit will draw, replayed in torch

    def get_weights(self):
        return [w.copy() for w in self.model.get_weights()]

    def logits(self, x, batch_size=1000):
        probabilities = self.model.predict(x, batch_size=batch_size, verbose=0)
        return np.log(np.maximum(probabilities, 1e-30))        # softmax outputs: log gives logits up to a shift

    def train_epoch(self, x, y, order, batch_size):
        onehot = self.gn.utils.to_categorical(y[order], 10)
        history = self.model.fit(x[order], onehot, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
        return float(history.history["loss"][-1])


GLASSNET = {"simple_convnet": GlassnetSimpleConvNet, "keras_convnet": GlassnetKerasConvNet}


def accuracy(logits, y):
    return float(np.mean(np.argmax(logits, axis=1) == y))


def compare(network, data, epochs, seed=0, every_epoch=False, log=None, optimizer="adam"):
    """Train `network` in glassnet and its torch twin on `data` ((x_train, y_train), (x_test, y_test))
    for `epochs` epochs with Adam (or plain SGD: optimizer="sgd"); return a dict of test accuracies,
    losses, the largest logit difference before training, the largest weight difference after, seconds."""
    import torch

    import glassnet as gn

    (x_train, y_train), (x_test, y_test) = data
    gn.set_random_seed(seed)
    torch.manual_seed(seed)
    ours = GLASSNET[network](x_train[:1], seed, optimizer)
    twin = torch_twin(torch, network, copy.deepcopy(ours.dropout_rng))
    initial_weights = ours.get_weights()
    copy_weights(torch, initial_weights, twin)
    probe = x_test[:200]
    z_ours, z_twin = ours.logits(probe), torch_logits(torch, twin, probe)
    # the same function before training (logits of softmax outputs are defined up to a shift per row)
    centred = [z - z.mean(axis=1, keepdims=True) for z in (z_ours, z_twin)]
    initial_gap = float(np.max(np.abs(centred[0] - centred[1])))
    torch_opt = torch_optimizer(torch, optimizer, twin.parameters())
    rng = np.random.default_rng(seed + 1)
    batch_size = BATCH_SIZES[network]
    result = {"network": network, "optimizer": optimizer, "epochs": epochs,
              "train_samples": len(x_train), "test_samples": len(x_test),
              "batch_size": batch_size, "initial_gap": initial_gap, "seconds": {"glassnet": 0.0, "torch": 0.0},
              "loss": {"glassnet": [], "torch": []}, "test_accuracy_per_epoch": {"glassnet": [], "torch": []}}
    for epoch in range(epochs):
        order = rng.permutation(len(x_train))
        start = time.perf_counter()
        result["loss"]["glassnet"].append(ours.train_epoch(x_train, y_train, order, batch_size))
        middle = time.perf_counter()
        result["loss"]["torch"].append(torch_train_epoch(torch, twin, torch_opt, x_train, y_train, order, batch_size))
        result["seconds"]["glassnet"] += middle - start
        result["seconds"]["torch"] += time.perf_counter() - middle
        if every_epoch or epoch == epochs - 1:
            for side, logits in (("glassnet", ours.logits(x_test)), ("torch", torch_logits(torch, twin, x_test))):
                result["test_accuracy_per_epoch"][side].append(accuracy(logits, y_test))
        if log:
            accs = result["test_accuracy_per_epoch"]
            shown = f"  test accuracy {accs['glassnet'][-1]:.4f} vs {accs['torch'][-1]:.4f}" if accs["torch"] and \
                (every_epoch or epoch == epochs - 1) else ""
            log(f"{network} epoch {epoch + 1}/{epochs}: loss {result['loss']['glassnet'][-1]:.4f} (glassnet) "
                f"{result['loss']['torch'][-1]:.4f} (torch){shown}")
    final = {side: result["test_accuracy_per_epoch"][side][-1] for side in ("glassnet", "torch")}
    result["test_accuracy"] = final
    result["difference_points"] = 100.0 * (final["glassnet"] - final["torch"])
    final_weights = ours.get_weights()
    result["weight_gap"] = float(max(np.max(np.abs(a - b)) for a, b in zip(final_weights, torch_weights(twin))))
    result["weight_change"] = float(max(np.max(np.abs(a - b)) for a, b in zip(final_weights, initial_weights)))
    return result


def check_replayed_dropout(shape=(64, 1600), rate=0.5, seed=3):
    """Largest difference between glassnet Dropout's outputs and the replayed torch dropout's, over two
    draws from the same generator state (0.0 when the masks are the same)."""
    import torch

    import glassnet as gn
    layer = gn.layers.Dropout(rate, seed=seed)
    replay = replayed_dropout(torch, rate, copy.deepcopy(layer.rng))
    x = np.random.default_rng(0).random(shape, dtype=np.float32) + 0.5
    gap = 0.0
    for _ in range(2):
        ours = layer.forward(x, training=True)
        theirs = replay(torch.from_numpy(x)).numpy()
        gap = max(gap, float(np.max(np.abs(ours - theirs))))
    return gap


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion_mnist", choices=["mnist_mini", "mnist", "fashion_mnist"])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--train-samples", type=int, default=None)
    parser.add_argument("--test-samples", type=int, default=None)
    parser.add_argument("--networks", default=",".join(NETWORKS))
    parser.add_argument("--optimizer", default="adam", choices=OPTIMIZERS,
                        help="torch's side: torch.optim.Adam (adam), Adam with Keras's formula (keras_adam), SGD")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args(argv)
    import platform

    import torch

    import glassnet as gn
    data = load_images(args.dataset, args.train_samples, args.test_samples)
    dropout_gap = check_replayed_dropout()
    print(f"{args.dataset}: {len(data[0][0]):,} training, {len(data[1][0]):,} test images; {args.epochs} epochs; "
          f"torch optimizer {args.optimizer}; dropout masks replayed: largest gap {dropout_gap}", flush=True)
    report = {"dataset": args.dataset, "epochs": args.epochs, "optimizer": args.optimizer, "seed": args.seed,
              "dropout_gap": dropout_gap, "glassnet": gn.__version__, "torch": torch.__version__,
              "numpy": np.__version__, "python": platform.python_version(), "torch_threads": torch.get_num_threads(),
              "runs": []}
    started = time.perf_counter()
    for network in args.networks.split(","):
        r = compare(network, data, args.epochs, args.seed, every_epoch=True, log=lambda s: print(s, flush=True),
                    optimizer=args.optimizer)
        report["runs"].append(r)
        print(f"{network}: test accuracy glassnet {r['test_accuracy']['glassnet']:.4f}, torch "
              f"{r['test_accuracy']['torch']:.4f}, difference {r['difference_points']:+.2f} points; "
              f"initial gap {r['initial_gap']:.1e}, final weight gap {r['weight_gap']:.1e}; "
              f"seconds glassnet {r['seconds']['glassnet']:.0f}, torch {r['seconds']['torch']:.0f}", flush=True)
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(f"total {report['seconds']:.0f} s")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
