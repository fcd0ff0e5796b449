"""Where a training step of the convnet C5 spends its time, layer by layer: `python -m bench.profile_conv`.

    python -m bench.profile_conv                      # 2 threads, batch 128, 3 rounds
    python -m bench.profile_conv --threads 1 --rounds 5
    python -m bench.profile_conv --kernels numpy      # glassnet's NumPy-only path

C5: Input (28, 28, 1) -> Conv2D 32 3x3 relu -> MaxPooling2D 2 -> Conv2D 64 3x3 relu -> MaxPooling2D 2
-> Flatten -> Dropout 0.5 -> Dense 10 softmax, Adam, batch 128, float32, random images (the time of a
step does not depend on the numbers).  In each round, timed in the same process one after another:

1. glassnet's step as fit runs it (kept buffers, the first layer without dx), and each layer's forward
   and backward within it (the methods are wrapped with a clock; the rest is the loss and Adam);
2. the floor: the same step's matrix products alone at im2col shapes, on preallocated float32
   arrays (forward cols @ W, backward cols.T @ dz and dz @ W.T for each conv; the Dense's three;
   the first layer's dz @ W.T is timed and shown but not counted, as no step needs it);
3. PyTorch's step on the same network (torch.set_num_threads(threads)).

The machine is shared: read the ratios of one round, and the spread between rounds.
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import time

if __package__ in (None, ""):        # python bench/profile_conv.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))

import numpy as np  # noqa: E402

import glassnet as gn  # noqa: E402
from glassnet.models.batches import running  # noqa: E402
from glassnet.models.step import step  # noqa: E402

STEPS_PER_EPOCH = 469              # 60,000 images at batch 128


def glassnet_model():
    L = gn.layers
    model = gn.Sequential([L.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2),
                           L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(), L.Dropout(0.5),
                           L.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def torch_step(torch, batch):
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(batch, 1, 28, 28)
    y = torch.randint(0, 10, (batch,))

    def run():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
    return run


def floor_products(batch):
    """[(name, run)]: the step's matrix products at im2col shapes, on preallocated float32 arrays."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    items = []
    for name, rows, k, f in (("conv1", batch * 26 * 26, 9, 32), ("conv2", batch * 11 * 11, 288, 64),
                             ("dense", batch, 1600, 10)):
        cols, W, dz = rng.random((rows, k), f32), rng.random((k, f), f32), rng.random((rows, f), f32)
        z, dW, dcols = np.empty((rows, f), f32), np.empty((k, f), f32), np.empty((rows, k), f32)
        items.append((f"{name} forward  ({rows}x{k}) @ ({k}x{f})", lambda c=cols, W=W, z=z: np.matmul(c, W, out=z)))
        items.append((f"{name} dW       ({k}x{rows}) @ ({rows}x{f})",
                      lambda c=cols, d=dz, o=dW: np.matmul(c.T, d, out=o)))
        items.append((f"{name} dcols    ({rows}x{f}) @ ({f}x{k})",
                      lambda d=dz, W=W, o=dcols: np.matmul(d, W.T, out=o)))
    return items


def best_of(fn, repeats):
    """The least time of `repeats` calls (the machine is shared: the least is the least disturbed)."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), float(np.median(times))


def wrap_layers(model, clock):
    """Replace each layer's forward/backward methods (on the instance) with clocked ones."""
    for i, layer in enumerate(model.layers):
        for method in ("forward", "forward_logits", "backward", "backward_logits"):
            fn = getattr(layer, method, None)
            if fn is None:
                continue
            part = "forward" if method.startswith("forward") else "backward"

            def timed(*args, _fn=fn, _key=(i, type(layer).__name__, part), **kwargs):
                t = time.perf_counter()
                out = _fn(*args, **kwargs)
                clock[_key] += time.perf_counter() - t
                return out
            setattr(layer, method, timed)


def glassnet_round(model, x, y, steps, clock):
    """(least, median) seconds of a step over `steps` steps, and each layer's mean seconds per step."""
    clock.clear()
    times = []
    with running(model, len(x)):
        for _ in range(steps):
            t = time.perf_counter()
            step(model, x, y, want_outputs=False)
            times.append(time.perf_counter() - t)
    return (min(times), float(np.median(times))), {k: v / steps for k, v in clock.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="BLAS and torch threads (default 2)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=15, help="steps timed per round (default 15)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kernels", choices=["auto", "numpy"], default="auto")
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)

    import threadpoolctl
    threadpoolctl.threadpool_limits(args.threads)
    gn.backend.set_kernels(args.kernels)
    torch = None
    if not args.no_torch:
        import torch
        torch.set_num_threads(args.threads)
    gn.backend.SMALL_MATMUL_FLOPS = 0          # fit's one-BLAS-thread rule: let --threads decide here

    gn.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((args.batch, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, args.batch)
    model = glassnet_model()
    x, y = model._check_xy(x, y)
    clock = collections.defaultdict(float)
    wrap_layers(model, clock)
    glassnet_round(model, x, y, 2, clock)                       # warm up (numba compiles, buffers)
    products = floor_products(args.batch)
    run_torch = torch_step(torch, args.batch) if torch is not None else None
    if run_torch:
        for _ in range(2):
            run_torch()
    print(f"C5 step, batch {args.batch}, {args.threads} thread(s), kernels {gn.backend.kernels()}; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    for r in range(args.rounds):
        (least, total), parts = glassnet_round(model, x, y, args.steps, clock)
        floor = {name: best_of(fn, args.steps)[0] for name, fn in products}
        floor_total = sum(f for name, f in floor.items() if not name.startswith("conv1 dcols"))
        t_least, t_torch = best_of(run_torch, args.steps) if run_torch else (float("nan"),) * 2
        print(f"\nround {r + 1} (load {os.getloadavg()[0]:.2f}), ms per step, least / median of {args.steps}:")
        print(f"   glassnet {least * 1e3:6.1f} / {total * 1e3:6.1f}   ({total * STEPS_PER_EPOCH:5.1f} s/epoch)")
        print(f"   PyTorch  {t_least * 1e3:6.1f} / {t_torch * 1e3:6.1f}   ({t_torch * STEPS_PER_EPOCH:5.1f} s/epoch)")
        print(f"   floor    {floor_total * 1e3:6.1f}            ({floor_total * STEPS_PER_EPOCH:5.1f} s/epoch; "
              f"products of a step, least of {args.steps} each, without the first layer's dx)")
        print(f"   glassnet / PyTorch {least / t_least:.2f} (least) {total / t_torch:.2f} (median);  "
              f"glassnet / floor {least / floor_total:.2f} (least) {total / floor_total:.2f} (median)")
        for (i, name, part), t in sorted(parts.items()):
            print(f"   {i} {name:<20} {part:<9} {t * 1e3:7.2f} ms")
        print(f"   loss, Adam, step overhead    {(total - sum(parts.values())) * 1e3:7.2f} ms  (median step - layers)")
        for name, t in floor.items():
            print(f"   floor {name:<44} {t * 1e3:7.2f} ms")

if __name__ == "__main__":
    main()
