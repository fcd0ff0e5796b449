"""glassnet.cli._common: the argument types (thin wrappers of glassnet._checks) accept what they
should and reject the rest with 'expected ..., got ...' (argparse then exits with status 2)."""
import argparse

import pytest

from glassnet.cli import _common as types


@pytest.mark.parametrize("convert, text, value", [
    (types.positive_int, " 7 ", 7), (types.seed, "0", 0), (types.positive_float, "1e-3", 0.001),
    (types.fraction, "0", 0.0), (types.fraction, "0.25", 0.25), (types.hidden, "128, 64", (128, 64)),
    (types.precision, "FULL", "full"), (types.precision, "3", 3), (types.dtype, "Float64", "float64"),
    (types.dataset, "MNIST_mini", "mnist-mini"), (types.dataset, "mine.npz", "mine.npz"),
    (types.optimizer, "Adam", "adam"), (types.activation, "silu", "swish"), (types.flag, True, True),
])
def test_good_values(convert, text, value):
    assert convert(text) == value


@pytest.mark.parametrize("convert, text, needle", [
    (types.positive_int, "0", "expected a positive integer, got '0'"),
    (types.positive_int, "1.5", "expected a positive integer, got '1.5'"),
    (types.seed, "-1", "expected an integer >= 0, got '-1'"),
    (types.positive_float, "x", "expected a number > 0, got 'x'"),
    (types.positive_float, "nan", "expected a finite number > 0, got 'nan'"),
    (types.positive_float, "-2", "expected a finite number > 0, got '-2'"),
    (types.fraction, "1", "expected a number in [0, 1), got '1'"),
    (types.fraction, "half", "expected a number in [0, 1), got 'half'"),
    (types.hidden, "64,,32", "expected comma-separated layer widths (positive integers) such as 50 or 128,64, "
                             "got '64,,32'"),
    (types.hidden, "0", "got '0'"),
    (types.precision, "0", "expected a number of significant digits (1, 2, ...) or 'full', got '0'"),
    (types.dtype, "float16", "expected float32 or float64, got 'float16'"),
    (types.dataset, "cifar", "unknown dataset 'cifar'; choose mnist-mini, mnist, fashion-mnist"),
    (types.optimizer, "lbfgs", "unknown optimizer 'lbfgs'"),
    (types.flag, 1, "expected true or false, got 1"),
])
def test_bad_values_say_what_was_expected(convert, text, needle):
    with pytest.raises(argparse.ArgumentTypeError) as info:
        convert(text)
    assert needle in str(info.value)
