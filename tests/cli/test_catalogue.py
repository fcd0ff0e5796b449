"""Every `glassnet` subcommand against a catalogue of bad arguments and bad files (issue 13, part 5).

The contract (docs/cli.md, "Errors and exit codes"):
- a bad argument exits 2: stderr starts with the usage line and ends with one line
  `glassnet <command>: error: ...` (argparse's shape); a `train --config` file is a file of arguments,
  so its problems take this shape too, and that line names the file;
- a bad file exits 1 with exactly one line on stderr, `glassnet: error: ...`, naming the file;
- never a traceback, in either stream.

The subcommands are read from the parser, so a new one fails `test_every_subcommand_has_a_catalogue`
until it has entries here.  The cases run in-process through `cli.main(argv)` (each its own test id);
`test_real_process` runs a few through `python -m glassnet` to show the exit codes for real.
"""
import argparse
import os
import signal
import subprocess
import sys

import pytest

import glassnet as gn
from glassnet import cli
from glassnet.cli import _common

from cli.catalogue_files import HUGE, build_files


# ----------------------------------------------------------------------------------------- the catalogue
# (command, case id, argv with {placeholders} for the files of catalogue_files.py, kind, needles in the error line)
# kind: "usage" -> exit 2 with usage; "config" -> the same, and the line names the --config file;
#       "file" -> exit 1 and one line naming the file (needles: the placeholder(s) whose path must appear)

def _numeric_usage_cases():
    """Bad values for every option that takes a number, listed from the parser: wrong type, empty,
    negative, zero where a positive value is needed, nan, inf, 1e400."""
    cases = []
    for command, sub in _subparsers().items():
        for action in sub._actions:
            kind = _numeric_kind(action)
            if not action.option_strings or kind is None:
                continue
            option = action.option_strings[-1] if action.option_strings[-1].startswith("--") else \
                action.option_strings[0]
            bad = ["abc", "", "-1", "nan", "inf", "1e400"]
            if kind in ("int", "positive"):
                bad += ["1.5"]
            if kind.startswith("positive"):
                bad += ["0"]
            for value in bad:
                cases.append((command, f"{option}={value or 'empty'}", [command, option, value], "usage", [option]))
    return cases


def _subparsers():
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


# the argument types that read a number, and what they accept: "positive" (> 0), "int" (>= 0), "float"
_NUMERIC_TYPES = {"positive_int": "positive", "positive_float": "positive float", "seed": "int", "fraction": "float",
                  "precision": "positive", "hidden": "positive", "pixel": "int", "kernel_size": "positive", "port": "int"}


def _numeric_kind(action):
    name = getattr(action.type, "__name__", None) or ""
    if "up to" in name:                               # _common.up_to(limit) and the bounded types
        return "int" if name.startswith("integer") else "positive"
    return _NUMERIC_TYPES.get(name)


CATALOGUE = [
    # ------------------------------------------------------------------ bad arguments, any command
    (None, "no-command", [], "usage", ["required: COMMAND"]),
    (None, "unknown-command", ["frobnicate"], "usage", ["invalid choice: 'frobnicate'"]),
    ("info", "unknown-option-first", ["--frobnicate", "info", "x"], "usage", ["unrecognized arguments: --frobnicate"]),
    # ------------------------------------------------------------------ train
    ("train", "unknown-option", ["train", "--frobnicate"], "usage", ["unrecognized arguments: --frobnicate"]),
    ("train", "missing-value", ["train", "--epochs"], "usage", ["expected one argument"]),
    ("train", "hidden-huge", ["train", "--hidden", HUGE], "usage", ["--hidden", "up to 1,000,000"]),
    ("train", "hidden-huge-second", ["train", "--hidden", "4," + HUGE], "usage", ["up to 1,000,000"]),
    ("train", "hidden-too-many-layers", ["train", "--hidden", ",".join(["4"] * 101)], "usage",
     ["at most 100 hidden layers", "got 101"]),
    ("gradcheck", "hidden-too-many-layers", ["gradcheck", "--hidden", ",".join(["1"] * 100_000)], "usage",
     ["at most 100 hidden layers", "got 100,000"]),
    ("train", "hidden-empty-part", ["train", "--hidden", "4,,4"], "usage", ["--hidden"]),
    ("train", "hidden-1e400", ["train", "--hidden", "1e400"], "usage", ["--hidden"]),
    ("train", "epochs-huge", ["train", "--epochs", HUGE], "usage", ["--epochs", "up to"]),
    ("train", "batch-size-huge", ["train", "--batch-size", HUGE], "usage", ["--batch-size", "up to"]),
    ("train", "seed-huge", ["train", "--seed", "1" + "0" * 40], "usage", ["--seed", "up to"]),
    ("train", "validation-split-1", ["train", "--validation-split", "1"], "usage", ["--validation-split"]),
    ("train", "activation-empty", ["train", "--activation", ""], "usage", ["--activation"]),
    ("train", "optimizer-empty", ["train", "--optimizer", ""], "usage", ["--optimizer"]),
    ("train", "dataset-empty", ["train", "--dataset", ""], "usage", ["--dataset"]),
    ("train", "dtype-empty", ["train", "--dtype", ""], "usage", ["--dtype"]),
    ("train", "model-unknown", ["train", "--model", "resnet"], "usage", ["--model"]),
    ("train", "hidden-with-convnet", ["train", "--model", "convnet", "--hidden", "8"], "usage", ["--hidden"]),
    # ------------------------------------------------------------------ train: bad files
    ("train", "dataset-missing", ["train", "--dataset", "{missing_npz}"], "file", ["{missing_npz}"]),
    ("train", "dataset-folder", ["train", "--dataset", "{folder_npz}"], "file", ["{folder_npz}"]),
    ("train", "dataset-fifo", ["train", "--dataset", "{fifo_npz}"], "file", ["{fifo_npz}"]),
    ("train", "dataset-empty-file", ["train", "--dataset", "{empty_npz}"], "file", ["{empty_npz}"]),
    ("train", "dataset-random-bytes", ["train", "--dataset", "{random_npz}"], "file", ["{random_npz}"]),
    ("train", "dataset-huge-header", ["train", "--dataset", "{huge_npz}"], "file", ["{huge_npz}"]),
    ("train", "dataset-a-model-file", ["train", "--dataset", "{model_as_npz}"], "file", ["{model_as_npz}"]),
    ("train", "dataset-no-labels", ["train", "--dataset", "{unlabelled_npz}"], "file", ["{unlabelled_npz}"]),
    ("train", "dataset-nan-images", ["train", "--dataset", "{nan_npz}"], "file", ["{nan_npz}", "NaN"]),
    ("train", "dataset-huge-labels", ["train", "--dataset", "{huge_labels_npz}"], "file",
     ["{huge_labels_npz}", "label"]),
    ("train", "dataset-uint64-labels", ["train", "--dataset", "{uint64_labels_npz}"], "file",
     ["{uint64_labels_npz}", "label"]),
    ("train", "output-empty", ["train", "--output", ""], "usage", ["--output", "non-empty"]),
    ("train", "config-empty-path", ["train", "--config", ""], "usage", ["--config", "file path"]),
    # ------------------------------------------------------------------ train --config: a file of arguments
    ("train", "config-missing", ["train", "--config", "{missing_toml}"], "config", ["{missing_toml}"]),
    ("train", "config-folder", ["train", "--config", "{folder}"], "config", ["{folder}"]),
    ("train", "config-dev-zero", ["train", "--config", "/dev/zero"], "config", ["/dev/zero"]),
    ("train", "config-fifo", ["train", "--config", "{fifo}"], "config", ["{fifo}"]),
    ("train", "config-random-bytes", ["train", "--config", "{random}"], "config", ["{random}"]),
    ("train", "config-too-big", ["train", "--config", "{big_toml}"], "config", ["{big_toml}", "bytes"]),
    ("train", "config-deep", ["train", "--config", "{deep_toml}"], "config", ["{deep_toml}"]),
    ("train", "config-epochs-string", ["train", "--config", "{toml_epochs_string}"], "config",
     ["{toml_epochs_string}", "epochs"]),
    ("train", "config-epochs-float", ["train", "--config", "{toml_epochs_float}"], "config",
     ["{toml_epochs_float}", "epochs"]),
    ("train", "config-epochs-huge", ["train", "--config", "{toml_epochs_huge}"], "config",
     ["{toml_epochs_huge}", "epochs", "up to"]),
    ("train", "config-lr-nan", ["train", "--config", "{toml_lr_nan}"], "config", ["{toml_lr_nan}", "lr"]),
    ("train", "config-lr-inf", ["train", "--config", "{toml_lr_inf}"], "config", ["{toml_lr_inf}", "lr"]),
    ("train", "config-hidden-huge", ["train", "--config", "{toml_hidden_huge}"], "config",
     ["{toml_hidden_huge}", "up to 1,000,000"]),
    ("train", "config-hidden-floats", ["train", "--config", "{toml_hidden_floats}"], "config",
     ["{toml_hidden_floats}", "hidden"]),
    ("train", "config-hidden-table", ["train", "--config", "{toml_hidden_table}"], "config",
     ["{toml_hidden_table}", "hidden"]),
    ("train", "config-quiet-string", ["train", "--config", "{toml_quiet_string}"], "config",
     ["{toml_quiet_string}", "quiet"]),
    ("train", "config-dataset-number", ["train", "--config", "{toml_dataset_number}"], "config",
     ["{toml_dataset_number}", "dataset"]),
    ("train", "config-date", ["train", "--config", "{toml_seed_date}"], "config", ["{toml_seed_date}", "seed"]),
    ("train", "config-unknown-key", ["train", "--config", "{toml_unknown}"], "config",
     ["{toml_unknown}", "unknown key"]),
    # ------------------------------------------------------------------ evaluate
    ("evaluate", "missing-model-argument", ["evaluate"], "usage", ["required: MODEL"]),
    ("evaluate", "model-empty-path", ["evaluate", ""], "usage", ["MODEL", "file path"]),
    ("evaluate", "batch-size-huge", ["evaluate", "{model}", "--batch-size", HUGE], "usage", ["--batch-size"]),
    ("evaluate", "dataset-unknown", ["evaluate", "{model}", "--dataset", "cifar"], "usage", ["--dataset"]),
    ("evaluate", "model-missing", ["evaluate", "{missing}"], "file", ["{missing}"]),
    ("evaluate", "model-folder", ["evaluate", "{folder}"], "file", ["{folder}"]),
    ("evaluate", "model-dev-zero", ["evaluate", "/dev/zero"], "file", ["/dev/zero"]),
    ("evaluate", "model-fifo", ["evaluate", "{fifo}"], "file", ["{fifo}"]),
    ("evaluate", "model-empty", ["evaluate", "{empty}"], "file", ["{empty}"]),
    ("evaluate", "model-random-bytes", ["evaluate", "{random}"], "file", ["{random}"]),
    ("evaluate", "model-truncated", ["evaluate", "{truncated}"], "file", ["{truncated}"]),
    ("evaluate", "model-zip-bomb-member", ["evaluate", "{bomb_model}"], "file", ["{bomb_model}"]),
    ("evaluate", "model-nested-bomb", ["evaluate", "{nested_bomb_model}"], "file", ["{nested_bomb_model}"]),
    ("evaluate", "model-deep-config", ["evaluate", "{deep_config_model}"], "file", ["{deep_config_model}"]),
    ("evaluate", "model-deep-manifest", ["evaluate", "{deep_manifest_model}"], "file", ["{deep_manifest_model}"]),
    ("evaluate", "model-huge-units", ["evaluate", "{huge_units_model}"], "file", ["{huge_units_model}"]),
    ("evaluate", "model-not-a-classifier", ["evaluate", "{conv_model}", "--dataset", "{data}"], "file",
     ["{conv_model}", "(None, 6, 6, 2)"]),
    ("evaluate", "model-never-built", ["evaluate", "{unbuilt_model}", "--dataset", "{data}"], "file",
     ["{unbuilt_model}", "input shape"]),
    ("evaluate", "model-is-an-npz", ["evaluate", "{data}"], "file", ["{data}"]),
    ("evaluate", "dataset-missing", ["evaluate", "{model}", "--dataset", "{missing_npz}"], "file", ["{missing_npz}"]),
    ("evaluate", "dataset-huge-header", ["evaluate", "{model}", "--dataset", "{huge_npz}"], "file", ["{huge_npz}"]),
    ("evaluate", "dataset-huge-header-v3", ["evaluate", "{model}", "--dataset", "{huge_v3_npz}"], "file",
     ["{huge_v3_npz}"]),
    ("evaluate", "dataset-random-bytes", ["evaluate", "{model}", "--dataset", "{random_npz}"], "file",
     ["{random_npz}"]),
    ("evaluate", "dataset-wrong-width", ["evaluate", "{model}", "--dataset", "{wide_npz}"], "file", ["{wide_npz}"]),
    ("evaluate", "recorded-metrics-not-json", ["evaluate", "{bad_metrics_run}"], "file",
     ["{bad_metrics_run}/metrics.json"]),
    ("evaluate", "recorded-metrics-deep", ["evaluate", "{deep_metrics_run}"], "file",
     ["{deep_metrics_run}/metrics.json"]),
    ("evaluate", "recorded-metrics-fifo", ["evaluate", "{fifo_metrics_run}"], "file",
     ["{fifo_metrics_run}/metrics.json"]),
    ("evaluate", "recorded-dataset-gone", ["evaluate", "{gone_dataset_run}"], "file",
     ["{gone_dataset_run}/metrics.json", "{missing_npz}"]),
    # ------------------------------------------------------------------ predict
    ("predict", "missing-files-argument", ["predict", "{model}"], "usage", ["required: FILE"]),
    ("predict", "missing-both-arguments", ["predict"], "usage", ["required: MODEL, FILE"]),
    ("predict", "file-empty-path", ["predict", "{model}", ""], "usage", ["FILE", "file path"]),
    ("predict", "model-empty-path", ["predict", "", "{npy}"], "usage", ["MODEL", "file path"]),
    ("predict", "unknown-option", ["predict", "{model}", "{npy}", "--top", "3"], "usage", ["unrecognized"]),
    ("predict", "model-missing", ["predict", "{missing}", "{npy}"], "file", ["{missing}"]),
    ("predict", "model-fifo", ["predict", "{fifo}", "{npy}"], "file", ["{fifo}"]),
    ("predict", "model-dev-zero", ["predict", "/dev/zero", "{npy}"], "file", ["/dev/zero"]),
    ("predict", "model-truncated", ["predict", "{truncated}", "{npy}"], "file", ["{truncated}"]),
    ("predict", "model-random-bytes", ["predict", "{random}", "{npy}"], "file", ["{random}"]),
    ("predict", "model-not-a-classifier", ["predict", "{conv_model}", "{npy}"], "file", ["{conv_model}", "classes"]),
    ("predict", "model-never-built", ["predict", "{unbuilt_model}", "{npy}"], "file", ["{unbuilt_model}"]),
    ("predict", "npy-missing", ["predict", "{model}", "{missing_npy}"], "file", ["{missing_npy}"]),
    ("predict", "npy-folder", ["predict", "{model}", "{folder_npy}"], "file", ["{folder_npy}"]),
    ("predict", "npy-fifo", ["predict", "{model}", "{fifo_npy}"], "file", ["{fifo_npy}"]),
    ("predict", "npy-empty", ["predict", "{model}", "{empty_npy}"], "file", ["{empty_npy}"]),
    ("predict", "npy-random-bytes", ["predict", "{model}", "{random_npy}"], "file", ["{random_npy}"]),
    ("predict", "npy-huge-header", ["predict", "{model}", "{huge_npy}"], "file", ["{huge_npy}"]),
    ("predict", "npy-huge-header-v3", ["predict", "{model}", "{huge_v3_npy}"], "file", ["{huge_v3_npy}"]),
    ("predict", "npy-huge-dtype", ["predict", "{model}", "{huge_dtype_npy}"], "file", ["{huge_dtype_npy}"]),
    ("predict", "npy-negative-shape", ["predict", "{model}", "{negative_npy}"], "file", ["{negative_npy}"]),
    ("predict", "npy-no-samples", ["predict", "{model}", "{empty_batch_npy}"], "file", ["{empty_batch_npy}"]),
    ("predict", "npy-object-array", ["predict", "{model}", "{object_npy}"], "file", ["{object_npy}"]),
    ("predict", "npy-wrong-width", ["predict", "{model}", "{wide_npy}"], "file", ["{wide_npy}"]),
    ("predict", "npy-strings", ["predict", "{model}", "{string_npy}"], "file", ["{string_npy}"]),
    ("predict", "npy-is-an-npz", ["predict", "{model}", "{data_as_npy}"], "file", ["{data_as_npy}"]),
    ("predict", "image-missing", ["predict", "{model}", "{missing_png}"], "file", ["{missing_png}"]),
    ("predict", "image-folder", ["predict", "{model}", "{folder}"], "file", ["{folder}"]),
    ("predict", "image-dev-zero", ["predict", "{model}", "/dev/zero"], "file", ["/dev/zero"]),
    ("predict", "image-fifo", ["predict", "{model}", "{fifo}"], "file", ["{fifo}"]),
    ("predict", "image-empty", ["predict", "{model}", "{empty_png}"], "file", ["{empty_png}"]),
    ("predict", "image-random-bytes", ["predict", "{model}", "{random_png}"], "file", ["{random_png}"]),
    ("predict", "image-truncated", ["predict", "{model}", "{truncated_png}"], "file", ["{truncated_png}"]),
    ("predict", "image-symlink-loop", ["predict", "{model}", "{loop}"], "file", ["{loop}"]),
    ("predict", "npy-path-too-long", ["predict", "{model}", "{long}.npy"], "file", ["{long}.npy"]),
    ("predict", "image-decompression-bomb", ["predict", "{model}", "{bomb_png}"], "file",
     ["{bomb_png}", "decompression-bomb"]),
    ("predict", "image-zip-bomb", ["predict", "{model}", "{bomb_model}"], "file", ["{bomb_model}"]),
    ("predict", "good-file-then-bad", ["predict", "{model}", "{npy}", "{random_png}"], "file", ["{random_png}"]),
    # ------------------------------------------------------------------ info
    ("info", "missing-model-argument", ["info"], "usage", ["required: MODEL"]),
    ("info", "model-empty-path", ["info", ""], "usage", ["MODEL", "file path"]),
    ("info", "two-models", ["info", "{model}", "{model}"], "usage", ["unrecognized arguments"]),
    ("info", "model-missing", ["info", "{missing}"], "file", ["{missing}"]),
    ("info", "model-folder", ["info", "{folder}"], "file", ["{folder}"]),
    ("info", "model-dev-zero", ["info", "/dev/zero"], "file", ["/dev/zero"]),
    ("info", "model-fifo", ["info", "{fifo}"], "file", ["{fifo}"]),
    ("info", "model-empty", ["info", "{empty}"], "file", ["{empty}"]),
    ("info", "model-random-bytes", ["info", "{random}"], "file", ["{random}"]),
    ("info", "model-truncated", ["info", "{truncated}"], "file", ["{truncated}"]),
    ("info", "model-zip-bomb-member", ["info", "{bomb_model}"], "file", ["{bomb_model}"]),
    ("info", "model-nested-bomb", ["info", "{nested_bomb_model}"], "file", ["{nested_bomb_model}"]),
    ("info", "model-deep-config", ["info", "{deep_config_model}"], "file", ["{deep_config_model}"]),
    ("info", "model-deep-manifest", ["info", "{deep_manifest_model}"], "file", ["{deep_manifest_model}"]),
    ("info", "model-huge-units", ["info", "{huge_units_model}"], "file", ["{huge_units_model}"]),
    ("info", "model-is-an-npz", ["info", "{data}"], "file", ["{data}"]),
    ("info", "model-is-a-png", ["info", "{bomb_png}"], "file", ["{bomb_png}"]),
    ("info", "model-symlink-loop", ["info", "{loop}"], "file", ["{loop}"]),
    ("info", "model-path-too-long", ["info", "{long}"], "file", ["{long}"]),
    ("info", "model-under-a-file", ["info", "{model}/model.glassnet"], "file", ["{model}/model.glassnet"]),
    # ------------------------------------------------------------------ plot
    ("plot", "missing-run-argument", ["plot"], "usage", ["required: RUN_FOLDER"]),
    ("plot", "run-empty-path", ["plot", ""], "usage", ["RUN_FOLDER", "file path"]),
    ("plot", "dataset-unknown", ["plot", "{run}", "--dataset", "cifar"], "usage", ["--dataset"]),
    ("plot", "run-missing", ["plot", "{missing}"], "file", ["{missing}"]),
    ("plot", "run-a-file", ["plot", "{model}"], "file", ["{model}"]),
    ("plot", "run-dev-zero", ["plot", "/dev/zero"], "file", ["/dev/zero"]),
    ("plot", "run-fifo", ["plot", "{fifo}"], "file", ["{fifo}"]),
    ("plot", "run-without-model", ["plot", "{folder}"], "file", ["{folder}"]),
    ("plot", "history-lists", ["plot", "{run_history_lists}"], "file", ["{run_history_lists}/history.json"]),
    ("plot", "history-dicts", ["plot", "{run_history_dicts}"], "file", ["{run_history_dicts}/history.json"]),
    ("plot", "history-strings", ["plot", "{run_history_strings}"], "file",
     ["{run_history_strings}/history.json"]),
    ("plot", "history-not-a-dict", ["plot", "{run_history_list}"], "file", ["{run_history_list}/history.json"]),
    ("plot", "history-deep", ["plot", "{run_history_deep}"], "file", ["{run_history_deep}/history.json"]),
    ("plot", "history-random-bytes", ["plot", "{run_history_random}"], "file",
     ["{run_history_random}/history.json"]),
    ("plot", "history-fifo-model-truncated", ["plot", "{run_fifo_history}"], "file", ["{run_fifo_history}"]),
    ("plot", "model-truncated", ["plot", "{run_truncated_model}"], "file", ["{run_truncated_model}"]),
    ("plot", "dataset-huge-header", ["plot", "{run}", "--dataset", "{huge_npz}"], "file", ["{huge_npz}"]),
    # ------------------------------------------------------------------ explain
    ("explain", "unknown-option", ["explain", "--frobnicate"], "usage", ["unrecognized"]),
    ("explain", "samples-huge", ["explain", "--samples", "10000000000"], "usage", ["--samples", "up to 10,000"]),
    ("explain", "convnet-samples-beyond-digits", ["explain", "--model", "convnet", "--samples", "2001"], "usage",
     ["--samples", "2,000"]),
    ("explain", "filters-huge", ["explain", "--model", "convnet", "--filters", HUGE], "usage",
     ["--filters", "up to"]),
    ("explain", "kernel-size-huge", ["explain", "--model", "convnet", "--kernel-size", HUGE], "usage",
     ["--kernel-size", "up to 7"]),
    ("explain", "kernel-size-8", ["explain", "--model", "convnet", "--kernel-size", "8"], "usage",
     ["--kernel-size", "up to 7"]),
    ("explain", "pixel-huge", ["explain", "--model", "convnet", "--pixel", HUGE + ",0,0"], "usage", ["--pixel"]),
    ("explain", "pixel-filter-beyond", ["explain", "--model", "convnet", "--pixel", "0,0,2"], "usage",
     ["--pixel", "filters 0-1"]),
    ("explain", "pixel-negative", ["explain", "--model", "convnet", "--pixel", "0,-1,0"], "usage", ["--pixel"]),
    ("explain", "pixel-two-numbers", ["explain", "--model", "convnet", "--pixel", "1,1"], "usage", ["--pixel"]),
    ("explain", "precision-huge", ["explain", "--precision", HUGE], "usage", ["--precision", "up to"]),
    ("explain", "hidden-huge", ["explain", "--hidden", HUGE], "usage", ["--hidden", "up to"]),
    ("explain", "network-too-big", ["explain", "--hidden", "1000000"], "usage", ["5,000,002 parameters",
                                                                                  "limit of 1,000,000"]),
    ("explain", "max-items-huge", ["explain", "--max-items", "1" + "0" * 40], "usage", ["--max-items", "up to"]),
    ("explain", "seed-huge", ["explain", "--seed", "1" + "0" * 40], "usage", ["--seed", "up to"]),
    ("explain", "example-unknown", ["explain", "--example", "nope"], "usage", ["--example"]),
    ("explain", "lang-unknown", ["explain", "--lang", "fr"], "usage", ["--lang"]),
    ("explain", "example-with-hidden", ["explain", "--example", "backprop-2-1-2", "--hidden", "3"], "usage",
     ["--hidden"]),
    ("explain", "filters-with-dense", ["explain", "--filters", "3"], "usage", ["--filters"]),
    ("explain", "lr-huge", ["explain", "--lr", "1e400"], "usage", ["--lr"]),
    ("explain", "a-file-argument", ["explain", "{model}"], "usage", ["unrecognized arguments"]),
    # ------------------------------------------------------------------ gradcheck
    ("gradcheck", "features-huge", ["gradcheck", "--features", HUGE], "usage", ["--features", "up to 10,000"]),
    ("gradcheck", "classes-huge", ["gradcheck", "--classes", HUGE], "usage", ["--classes", "up to 10,000"]),
    ("gradcheck", "samples-huge", ["gradcheck", "--samples", "10000000000"], "usage", ["--samples", "up to 10,000"]),
    ("gradcheck", "classes-1-softmax", ["gradcheck", "--classes", "1"], "usage", ["--classes", "at least 2"]),
    ("gradcheck", "hidden-huge", ["gradcheck", "--hidden", HUGE], "usage", ["--hidden", "up to"]),
    ("gradcheck", "network-too-big", ["gradcheck", "--features", "10000", "--hidden", "200"], "usage",
     ["10000-200-3", "limit of 1,000,000", "MAX_PARAMS"]),
    ("gradcheck", "every-entry-of-a-big-network", ["gradcheck", "--features", "1000", "--hidden", "900"], "usage",
     ["903,603 parameters", "--max-entries"]),
    ("gradcheck", "max-entries-huge", ["gradcheck", "--max-entries", "1" + "0" * 40], "usage",
     ["--max-entries", "up to"]),
    ("gradcheck", "step-1e400", ["gradcheck", "--step", "1e400"], "usage", ["--step"]),
    ("gradcheck", "tolerance-underflow", ["gradcheck", "--tolerance", "1e-400"], "usage", ["--tolerance"]),
    ("gradcheck", "loss-unknown", ["gradcheck", "--loss", "hinge2"], "usage", ["--loss"]),
    ("gradcheck", "dataset-without-model", ["gradcheck", "--dataset", "mnist-mini"], "usage", ["--dataset"]),
    ("gradcheck", "features-with-model", ["gradcheck", "{model}", "--features", "3"], "usage", ["--features"]),
    ("gradcheck", "model-empty-path", ["gradcheck", ""], "usage", ["MODEL", "file path"]),
    ("gradcheck", "model-missing", ["gradcheck", "{missing}"], "file", ["{missing}"]),
    ("gradcheck", "model-fifo", ["gradcheck", "{fifo}"], "file", ["{fifo}"]),
    ("gradcheck", "model-dev-zero", ["gradcheck", "/dev/zero"], "file", ["/dev/zero"]),
    ("gradcheck", "model-truncated", ["gradcheck", "{truncated}"], "file", ["{truncated}"]),
    ("gradcheck", "model-deep-config", ["gradcheck", "{deep_config_model}"], "file", ["{deep_config_model}"]),
    ("gradcheck", "model-never-built", ["gradcheck", "{unbuilt_model}", "--dataset", "{data}"], "file",
     ["{unbuilt_model}", "input shape"]),
    ("gradcheck", "dataset-huge-header", ["gradcheck", "{model}", "--dataset", "{huge_npz}"], "file",
     ["{huge_npz}"]),
    ("gradcheck", "dataset-random-bytes", ["gradcheck", "{model}", "--dataset", "{random_npz}"], "file",
     ["{random_npz}"]),
    ("export", "missing-model-argument", ["export"], "usage", ["required: MODEL"]),
    ("export", "unknown-option", ["export", "{model}", "--frobnicate"], "usage", ["unrecognized arguments"]),
    ("export", "format-unknown", ["export", "{model}", "--format", "tflite"], "usage", ["--format", "tflite"]),
    ("export", "opset-not-a-number", ["export", "{model}", "--opset", "abc"], "usage", ["--opset", "abc"]),
    ("export", "opset-too-old", ["export", "{model}", "--opset", "1"], "usage", ["--opset", "at least"]),
    ("export", "opset-huge", ["export", "{model}", "--opset", "1000000000000"], "usage", ["--opset", "knows opsets"]),
    ("export", "model-missing", ["export", "{missing}"], "file", ["{missing}"]),
    ("export", "model-folder", ["export", "{folder}"], "file", ["{folder}"]),
    ("export", "model-dev-zero", ["export", "/dev/zero", "--output", "{folder}/zero.onnx"], "file", ["/dev/zero"]),
    ("export", "model-fifo", ["export", "{fifo}", "--output", "{folder}/fifo.onnx"], "file", ["{fifo}"]),
    ("export", "model-random-bytes", ["export", "{random}"], "file", ["{random}"]),
    ("export", "model-truncated", ["export", "{truncated}"], "file", ["{truncated}"]),
    ("export", "model-zip-bomb-member", ["export", "{bomb_model}"], "file", ["{bomb_model}"]),
    ("export", "model-deep-config", ["export", "{deep_config_model}"], "file", ["{deep_config_model}"]),
    ("export", "model-huge-units", ["export", "{huge_units_model}"], "file", ["{huge_units_model}"]),
    ("export", "output-in-a-missing-folder", ["export", "{model}", "--output", "{missing}/m.onnx"], "file",
     ["{missing}/m.onnx"]),
    ("export", "output-is-a-folder", ["export", "{model}", "--output", "{folder}"], "file", ["{folder}"]),
    ("search", "unknown-option", ["search", "--frobnicate"], "usage", ["unrecognized arguments"]),
    ("search", "units-not-numbers", ["search", "--units", "a,b"], "usage", ["--units"]),
    ("search", "scheduler-not-an-address", ["search", "--scheduler", "nowhere"], "usage", ["--scheduler"]),
    ("search", "config-missing", ["search", "--config", "{missing_toml}"], "file", ["{missing_toml}"]),
    ("search", "config-folder", ["search", "--config", "{folder}"], "config", ["{folder}"]),
    ("search", "config-dev-zero", ["search", "--config", "/dev/zero"], "config", ["/dev/zero"]),
    ("search", "config-fifo", ["search", "--config", "{fifo}"], "config", ["{fifo}"]),
    ("search", "config-random-bytes", ["search", "--config", "{random}"], "file", ["{random}"]),
    ("search", "config-too-big", ["search", "--config", "{big_toml}"], "config", ["{big_toml}", "bytes"]),
    ("search", "config-deep", ["search", "--config", "{deep_toml}"], "config", ["{deep_toml}"]),
    ("search", "dataset-missing", ["search", "--serial", "--dataset", "{missing}.npz"], "file", ["{missing}.npz"]),
    ("search", "dataset-random-bytes", ["search", "--serial", "--dataset", "{random_npz}"], "file",
     ["{random_npz}"]),
    ("search", "dataset-huge-header", ["search", "--serial", "--dataset", "{huge_npz}"], "file", ["{huge_npz}"]),
    ("playground", "port-65536", ["playground", "--port", "65536"], "usage", ["--port", "0 to 65535", "'65536'"]),
    ("playground", "host-a-name", ["playground", "--host", "example.com"], "usage", ["--host", "'example.com'"]),
    ("playground", "host-empty", ["playground", "--host", ""], "usage", ["--host", "IP address", "''"]),
] + _numeric_usage_cases()

#: cases that fail in code another part of the project owns: {(command, id): reason}; strict, so a fix shows.
#: None today (the bounded .npy reader and runs.check_arrays' label bound fixed the three listed first).
XFAIL = {}


def _params():
    for command, case_id, argv, kind, needles in CATALOGUE:
        marks = [pytest.mark.xfail(strict=True, reason=XFAIL[(command, case_id)])] \
            if (command, case_id) in XFAIL else []
        yield pytest.param(command, argv, kind, needles, id=f"{command or 'glassnet'}-{case_id}", marks=marks)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Every file the catalogue names, built once: {placeholder: path}."""
    return build_files(tmp_path_factory.mktemp("catalogue"))


# ----------------------------------------------------------------------------------------- running a case

class _Hung(BaseException):
    """Raised by the alarm when a case blocks (a FIFO opened for reading); not an Exception, so no
    `except` in glassnet can take it for a clean error."""


def _run(argv, capsys, seconds=20):
    def alarm(signum, frame):
        raise _Hung(f"glassnet {' '.join(argv)} did not finish in {seconds} s")
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        status = cli.main(argv)
    except SystemExit as exc:          # main() returns its status; an escaping SystemExit is a bug too
        pytest.fail(f"main() raised SystemExit({exc.code}) instead of returning it")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    out, err = capsys.readouterr()
    return status, out, err


def check_usage_error(status, out, err, command, needles):
    assert "Traceback" not in out + err, err
    assert status == 2, (status, out, err)
    lines = err.rstrip("\n").splitlines()
    prefix = f"{cli.PROG} {command}" if command else cli.PROG
    assert lines[0].startswith(f"usage: {prefix}"), err
    assert lines[-1].startswith(f"{prefix}: error: "), err
    assert [line for line in lines if ": error: " in line] == [lines[-1]], err
    for needle in needles:
        assert needle in lines[-1], err


def check_file_error(status, out, err, needles):
    assert "Traceback" not in out + err, err
    assert status == 1, (status, out, err)
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    assert lines[0].startswith(f"{cli.PROG}: error: "), err
    for needle in needles:
        assert needle in lines[0], err


@pytest.mark.parametrize("command, argv, kind, needles", list(_params()))
def test_catalogue(command, argv, kind, needles, files, capsys, monkeypatch):
    monkeypatch.chdir(files["cwd"])                   # a train that got past its checks writes here, not in the repo

    def no_training(*args, **kwargs):                 # a case must fail before training starts
        raise _Hung("the case reached Sequential.fit")
    monkeypatch.setattr(gn.Sequential, "fit", no_training)
    argv = [a.format(**files) for a in argv]
    needles = [n.format(**files) for n in needles]
    status, out, err = _run(argv, capsys)
    if kind == "file":
        check_file_error(status, out, err, needles)
    else:
        check_usage_error(status, out, err, command, needles)
    runs_dir = os.path.join(files["cwd"], "runs")
    assert not os.path.isdir(runs_dir) or os.listdir(runs_dir) == []     # no run folder left by a failed train


def test_every_subcommand_has_a_catalogue():
    """A subcommand added to the parser fails here until the catalogue covers it: usage errors always,
    and file errors for every command that reads a file named on its command line."""
    commands = _subparsers()
    kinds = {}
    for command, _, _, kind, _ in CATALOGUE:
        kinds.setdefault(command, set()).add(kind)
    assert set(commands) <= set(kinds), sorted(set(commands) - set(kinds))
    for command, sub in commands.items():
        reads_files = any(not a.option_strings and a.dest != "help" for a in sub._actions) \
            or any(a.type is _common.dataset for a in sub._actions)
        if reads_files and command != "explain":
            assert "file" in kinds[command], f"{command} reads files but has no bad-file case"
        assert "usage" in kinds[command], command


def test_every_integer_option_is_bounded():
    """Every option whose value is a whole number has a stated upper limit in its type (its `limit`; a
    larger value is a usage error naming it, as the catalogue's huge cases show), so no argument can size
    an array or a loop beyond it."""
    unbounded = [f"{command} {action.option_strings[-1]}" for command, sub in _subparsers().items()
                 for action in sub._actions
                 if action.option_strings and _numeric_kind(action) in ("positive", "int")
                 and not isinstance(getattr(action.type, "limit", None), int)]
    assert unbounded == []
    raw = [f"{command} {action.option_strings or action.dest}" for command, sub in _subparsers().items()
           for action in sub._actions if action.type in (int, float)]
    assert raw == [], "a bare int or float type accepts nan, inf, negative and huge values: use a _common type"
    assert _common.positive_int(str(_common.MAX_INT)) == _common.MAX_INT
    with pytest.raises(argparse.ArgumentTypeError, match=f"up to {_common.MAX_INT:,}"):
        _common.positive_int(str(_common.MAX_INT + 1))


def test_info_describes_a_model_saved_before_it_was_built(files, capsys):
    """Not a failure: info shows what an unbuilt model file holds (it used to raise AttributeError)."""
    assert cli.main(["info", files["unbuilt_model"]]) == 0
    out = capsys.readouterr().out
    assert "dtype:              unknown (not built)" in out and "input shape:        unknown (not built)" in out
    assert "parameters:         none yet (not built)" in out


# ----------------------------------------------------------------------------------------- for real

def _python_m(args, cwd, timeout=60):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [os.path.join(os.path.dirname(__file__), "..", "..", "src"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "glassnet", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize("argv, kind, needle", [
    (["train", "--hidden", HUGE], "usage", "up to 1,000,000"),
    (["info", "{fifo}"], "file", "{fifo}"),
    (["predict", "{model}", "{bomb_png}"], "file", "{bomb_png}"),
], ids=["train-hidden-huge", "info-fifo", "predict-png-bomb"])
def test_real_process(argv, kind, needle, files, tmp_path):
    argv = [a.format(**files) for a in argv]
    done = _python_m(argv, tmp_path)
    needle = needle.format(**files)
    if kind == "usage":
        check_usage_error(done.returncode, done.stdout, done.stderr, argv[0], [needle])
    else:
        check_file_error(done.returncode, done.stdout, done.stderr, [needle])
