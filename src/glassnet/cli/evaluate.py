"""`glassnet evaluate` (test loss, accuracy, confusion matrix) and `glassnet info` (a model file's
summary and metadata)."""
from __future__ import annotations

import numpy as np

from .. import runs
from .._version import __version__
from ..metrics import confusion_matrix
from ..runs import DATASETS
from ..saving import read_config
from ._common import CommandError, Formatter, dataset, model_and_test_split, path, positive_int


def add_evaluate_parser(sub):
    evaluate = sub.add_parser(
        "evaluate", formatter_class=Formatter, help="test loss, accuracy and confusion matrix of a model",
        description="Evaluate a saved model on a dataset's test split: loss, accuracy and the confusion\n"
                    "matrix (rows: true class, columns: predicted class).")
    evaluate.add_argument("model", type=path, metavar="MODEL",
                          help="a .glassnet model file (or a run folder holding one)")
    evaluate.add_argument("--dataset", type=dataset, default=None, metavar="NAME|FILE.npz",
                          help=f"{', '.join(DATASETS)}, or an .npz file (default: the dataset recorded in the "
                               f"metrics.json next to the model, else {runs.DEFAULT_DATASET})")
    evaluate.add_argument("--batch-size", type=positive_int, default=256, metavar="N",
                          help="samples per forward pass (default: 256; the results do not depend on it)")
    evaluate.set_defaults(handler=cmd_evaluate, parser=evaluate)


def add_info_parser(sub):
    info = sub.add_parser("info", formatter_class=Formatter, help="summary and metadata of a model file",
                          description="Print a saved model's summary and metadata: the glassnet version that "
                                      "saved it,\nloss, optimizer, metrics, dtype and parameter count.")
    info.add_argument("model", type=path, metavar="MODEL", help="a .glassnet model file (or a run folder holding one)")
    info.set_defaults(handler=cmd_info, parser=info)


def format_confusion_matrix(counts):
    """Rows: true class; columns: predicted class; class labels as headers."""
    k = counts.shape[0]
    width = max(len(str(int(counts.max(initial=0)))), len(str(k - 1))) + 2
    corner = "true\\pred"
    lines = [corner + "".join(f"{j:>{width}}" for j in range(k))]
    for i in range(k):
        lines.append(f"{i:>{len(corner)}}" + "".join(f"{int(c):>{width}}" for c in counts[i]))
    return "\n".join(lines)


def cmd_evaluate(args, out, err):
    path, model, recorded, data, x = model_and_test_split(args, classifier=True)
    y = data.y_test
    probs = model.predict(x, batch_size=args.batch_size)
    outputs = probs.shape[1]
    binary = outputs == 1
    classes = 2 if binary else outputs
    if y.max() >= classes:
        raise CommandError(f"{data.name}: y_test holds label {int(y.max())}, but the model has {classes} classes")
    pred = (probs[:, 0] > 0.5).astype(np.int64) if binary else probs.argmax(axis=1)
    counts = confusion_matrix(y, pred, classes)
    if not model.compiled:                 # a model saved before compile(): score it as the CLI trains it
        model.compile(optimizer="adam", loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    y_eval = y
    if not binary and not model.loss.sparse_labels:
        y_eval = np.eye(classes, dtype=model.dtype)[y]          # one-hot targets for categorical losses
    results = model.evaluate(x, y_eval, batch_size=args.batch_size, verbose=0, return_dict=True)
    loss = float(results["loss"])
    accuracy = float(results["accuracy"]) if "accuracy" in results else float(np.trace(counts) / len(y))

    print(f"model: {path}", file=out)
    source = "" if args.dataset else " (recorded in the run's metrics.json)" if recorded else " (the default)"
    print(f"dataset: {data.name}{source}, test split: {len(y):,} samples", file=out)
    print(f"test_loss: {loss:.4f}", file=out)
    print(f"test_accuracy: {accuracy:.4f}", file=out)
    print("", file=out)
    print("confusion matrix (rows: true class, columns: predicted class)", file=out)
    print(format_confusion_matrix(counts), file=out)
    return 0


def _optimizer_text(optimizer):
    if optimizer is None:
        return "none (not compiled)"
    config = optimizer.get_config() if hasattr(optimizer, "get_config") else {}
    shown = {k: v for k, v in config.items() if k != "name" and v is not None}
    args = ", ".join(f"{k}={v!r}" for k, v in shown.items())
    return f"{type(optimizer).__name__}({args})"


def cmd_info(args, out, err):
    path = runs.model_path(args.model)
    model = runs.load_model(path)
    meta = read_config(path)        # the file's own description, read without building the model
    model.summary()
    print("", file=out)
    loss = getattr(model, "loss", None)
    rows = [
        ("file", path),
        ("saved by", f"glassnet {meta['glassnet_version']}" if meta.get("glassnet_version") else "unknown"),
        ("format version", meta.get("format_version")),
        ("loss", getattr(loss, "name", None) or (str(loss) if loss is not None else "none (not compiled)")),
        ("optimizer", _optimizer_text(getattr(model, "optimizer", None))),
        ("optimizer steps", f"{(meta.get('optimizer_state') or {}).get('iterations', 0):,}"
                            if meta.get("compile") else None),
        ("metrics", ", ".join(model.metrics_names[1:]) if model.metrics_names[1:] else "none"),
        ("dtype", getattr(model, "dtype", None) or "unknown (not built)"),
        ("input shape", str(model.input_shape) if model.built else "unknown (not built)"),
        ("output shape", str(model.output_shape) if model.built else "unknown (not built)"),
        ("parameters", f"{model.count_params():,}" if model.built else "none yet (not built)"),
        ("installed glassnet", __version__),
    ]
    width = max(len(k) for k, v in rows if v is not None) + 1
    for key, value in rows:
        if value is not None:
            print(f"{key + ':':<{width}} {value}", file=out)
    return 0
