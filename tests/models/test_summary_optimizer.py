"""summary()'s "Optimizer params" line and total, compared with Keras 3's own summary of the same model."""
import contextlib
import io

import numpy as np
import pytest

import glassnet as gn

OPTIMIZERS = {
    "adam": lambda k: k.optimizers.Adam(),
    "adam with a schedule": lambda k: k.optimizers.Adam(k.optimizers.schedules.InverseTimeDecay(0.001, 10, 1)),
    "adam amsgrad": lambda k: k.optimizers.Adam(amsgrad=True),
    "sgd": lambda k: k.optimizers.SGD(),
    "sgd with momentum": lambda k: k.optimizers.SGD(momentum=0.9),
    "rmsprop": lambda k: k.optimizers.RMSprop(),
    "rmsprop centered with momentum": lambda k: k.optimizers.RMSprop(centered=True, momentum=0.5),
    "adagrad": lambda k: k.optimizers.Adagrad(),
}


def _count_lines(k, make_optimizer, fit):
    """The " ... params: ..." lines of Keras's table for a Dense + BatchNormalization model."""
    model = k.Sequential([k.Input((3,)), k.layers.Dense(2), k.layers.BatchNormalization()])
    model.compile(make_optimizer(k), "mse")
    if fit:
        model.fit(np.ones((8, 3), "float32"), np.ones((8, 2), "float32"), verbose=0)
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        model.summary(**({"details": False} if k is gn else {}))
    return [line for line in text.getvalue().splitlines() if " params: " in line]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_params_as_keras_counts_them(name, keras):
    ours = _count_lines(gn, OPTIMIZERS[name], fit=True)
    assert ours == _count_lines(keras, OPTIMIZERS[name], fit=True)
    assert ours[-1].startswith(" Optimizer params: ")


def test_no_optimizer_line_before_the_first_step():
    lines = _count_lines(gn, OPTIMIZERS["adam"], fit=False)
    assert lines == [" Total params: 16 (64.00 B)", " Trainable params: 12 (48.00 B)",
                     " Non-trainable params: 4 (16.00 B)"]        # Dense 3x2+2, BatchNormalization 2+2 (+2 moving)


def test_a_loaded_model_counts_its_restored_optimizer_state(tmp_path):
    model = gn.Sequential([gn.Input((3,)), gn.layers.Dense(2)])
    model.compile("adam", "mse")
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    model.save(tmp_path / "m.glassnet")
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        gn.models.load_model(tmp_path / "m.glassnet").summary(details=False)
    assert text.getvalue().splitlines()[-4:] == [" Total params: 26 (104.00 B)", " Trainable params: 8 (32.00 B)",
                                                 " Non-trainable params: 0 (0.00 B)", " Optimizer params: 18 (72.00 B)"]
