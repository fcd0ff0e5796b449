"""The measurement of `python -m bench`: one Cell of samples per peer and configuration, the
peers alternating repeat by repeat (run_all), watched for other processes busy on the cores
(Quiet), and glassnet's peak memory measured in a fresh process (measure_memory)."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import traceback

from bench import configs as C
from bench import machine

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WARMUP_TRAIN, WARMUP_TEST = 512, 256
WARMUP_CONVNET = 256          # C5/C6: the warm-up trains on 2 batches of 128 (an MLP's 512 images cost 4x)


def log(*args):
    print(*args, file=sys.stderr, flush=True)


class Cell:
    """The samples of one peer on one configuration: seconds (per epoch, or per C4 pass), accuracies."""

    def __init__(self, images=None):
        self.seconds, self.accuracies, self.error = [], [], None
        self.per_repeat = []             # the median of each repeat's samples, in repeat order
        self.images = images             # C4: images per pass

    @property
    def ok(self):
        return bool(self.seconds) and self.error is None

    @property
    def median(self):
        return statistics.median(self.seconds)

    @property
    def accuracy(self):
        return statistics.median(self.accuracies) if self.accuracies else None

    def as_dict(self):
        return {"seconds": self.seconds, "accuracies": self.accuracies, "error": self.error, "images": self.images}


class Quiet:
    """How much other processes use the cores: before each repeat, and during every timed run.

    With wait > 0 (--wait-idle), it waits, up to `wait` seconds in all, for them to fall below
    IDLE_CORES before each repeat, and a run during which they kept more than IDLE_CORES busy is
    done again (at most RETRIES times per run) once they are quiet.
    """

    IDLE_CORES = 0.3
    RETRIES = 3

    def __init__(self, wait=0.0):
        self.wait, self.waited, self.busy, self.during, self.redone = wait, 0.0, [], [], 0

    def check(self, label):
        busy = machine.other_cpu_use()
        if busy is None:
            return
        if busy > self.IDLE_CORES and self.waited < self.wait:
            log(f"[{label}] other processes keep {busy:.1f} cores busy: waiting for them "
                f"({self.wait - self.waited:.0f} s of waiting left)")
            while busy is not None and busy > self.IDLE_CORES and self.waited < self.wait:
                time.sleep(2.0)
                self.waited += 2.0 + 0.25
                busy = machine.other_cpu_use()
        self.busy.append(busy)

    def run(self, label, fn):
        """fn() under watch; again (after waiting) when other processes were busy during it."""
        for attempt in range(self.RETRIES + 1):
            with machine.OthersDuring() as others:
                result = fn()
            busy = others.cores
            if busy is None or busy <= self.IDLE_CORES or not self.wait or attempt == self.RETRIES \
                    or self.waited >= self.wait:
                if busy is not None:
                    self.during.append(busy)
                return result
            self.redone += 1
            log(f"[{label}] other processes kept {busy:.1f} cores busy during the run: doing it again")
            self.check(label)

    def line(self):
        if not self.busy:
            return None
        text = (f"other processes kept {statistics.median(self.busy):.1f} cores busy before the median repeat "
                f"({max(self.busy):.1f} at most)")
        if self.during:
            text += (f", {statistics.median(self.during):.2f} during the median timed run "
                     f"({max(self.during):.2f} at most)")
        if self.wait:
            text += (f"; waited {self.waited:.0f} s for them and redid {self.redone} run(s) "
                     f"(--wait-idle {self.wait:g})")
        return text


def _per_config(value, config):
    """value[config.name] when value is a dict (per-configuration settings), else value itself."""
    return value[config.name] if isinstance(value, dict) else value


def run_all(active, configs, data, epochs, repeats, passes, warmup=True, quiet=None):
    """{config name: {peer key: Cell}}, the peers alternating within each repeat.

    data, epochs and passes are each either one value for every configuration or a dict by
    configuration name (C5/C6 run fewer epochs and passes, and --quick gives them fewer images)."""
    results = {}
    for config in configs:
        runners = [p for p in active if p.supports(config)]
        data_c = _per_config(data, config)
        images = min(C.INFERENCE_IMAGES, len(data_c.x_test)) if config.inference else None
        cells = results[config.name] = {p.key: Cell(images) for p in runners}

        def once(peer, d, n, seed):
            if config.inference:
                return peer.infer(config, d, n, seed)
            return peer.train(config, d, n, seed)

        if warmup:
            small = data_c.head(WARMUP_CONVNET if config.convnet else WARMUP_TRAIN, WARMUP_TEST)
            # warmup="glassnet" (--quick): only glassnet's rows, whose first fit would otherwise time
            # loading numba's runtime and kernels (about 0.6 s, once per process)
            for peer in [p for p in runners if warmup is True or p.key.startswith("glassnet")]:
                try:
                    once(peer, small, 1, 0)
                except Exception as err:          # report it in the table, keep the other peers going
                    cells[peer.key].error = f"{type(err).__name__}: {err}"
                    log(f"[{config.name}] {peer.label} failed its warm-up:\n{traceback.format_exc()}")
        for r in range(repeats):
            if quiet is not None:
                quiet.check(f"{config.name} {r + 1}/{repeats}")
            shift = r % len(runners) if runners else 0
            for peer in runners[shift:] + runners[:shift]:
                cell = cells[peer.key]
                if cell.error:
                    continue
                try:
                    count = _per_config(passes if config.inference else epochs, config)
                    if quiet is not None:
                        seconds, accuracy = quiet.run(f"{config.name} {r + 1}/{repeats} {peer.label}",
                                                      lambda: once(peer, data_c, count, r))
                    else:
                        seconds, accuracy = once(peer, data_c, count, r)
                except Exception as err:
                    cell.error = f"{type(err).__name__}: {err}"
                    log(f"[{config.name}] {peer.label} failed:\n{traceback.format_exc()}")
                    continue
                cell.seconds.extend(seconds)
                cell.per_repeat.append(statistics.median(seconds))
                if accuracy is not None:
                    cell.accuracies.append(accuracy)
                if config.inference:
                    shown = f"{images / statistics.median(seconds):,.0f} images/s"
                else:
                    shown = f"{statistics.median(seconds):.3f} s/epoch" + (
                        f", test accuracy {accuracy:.4f}" if accuracy is not None else "")
                log(f"[{config.name} {r + 1}/{repeats}] {peer.label:<26} {shown}")
    return results


def measure_memory(quick, *options):
    """bench/memory.py in a fresh process: {...} or {"error": ...}."""
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [sys.executable, "-m", "bench.memory"] + (["--quick"] if quick else []) + [str(o) for o in options]
    try:
        out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return {"error": "timed out"}
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


CONVNET_MEMORY_STEPS = 10          # batches per fit: the layers' buffers are all in place after the first
QUICK_MEMORY_BATCHES = (16, 64)    # --quick: small batches, 2 steps per fit (a few seconds)


def convnet_memory_points(n_train, quick):
    """[(images, batch, steps)]: C5 at the whole training set and at a quarter of it (same batch), and at the
    whole set with a batch 4x larger: training's memory should follow the batch and ignore the dataset."""
    batch = C.CONFIGS["C5"].batch
    small, large = QUICK_MEMORY_BATCHES if quick else (batch, 4 * batch)
    steps = 2 if quick else CONVNET_MEMORY_STEPS
    quarter = min(n_train, max(n_train // 4, small))
    # fewer steps where the images run out first (--images): the peak is reached in the first batch anyway
    return [(images, batch, max(1, min(steps, images // batch)))
            for images, batch in ((n_train, small), (quarter, small), (n_train, large))]


def measure_convnet_memory(quick, n_train):
    """[{...} or {"error": ...}]: bench/memory.py on C5 at each of convnet_memory_points, each in a fresh process
    (--quick: all in one, to keep the smoke test short)."""
    specs = [f"{images}:{batch}:{steps}" for images, batch, steps in convnet_memory_points(n_train, quick)]
    if quick:
        result = measure_memory(quick, "--config", "C5", "--points", ",".join(specs))
        return [result] * len(specs) if isinstance(result, dict) else result     # a dict: the error
    results = []
    for spec in specs:
        result = measure_memory(quick, "--config", "C5", "--points", spec)
        results.append(result if isinstance(result, dict) else result[0])
    return results
