"""Keras's keras.utils, for NumPy: the helpers Keras scripts import from there.

    from glassnet.utils import to_categorical, pad_sequences, plot_model
    y_onehot = to_categorical(y_train, num_classes=10)      # one-hot rows (float32)
    x = normalize(x, axis=-1, order=2)                      # each row divided by its L2 norm
    padded = pad_sequences(token_lists, maxlen=200)         # one int32 array, zeros in front
    set_random_seed(0)                                      # every generator glassnet uses
    clear_session()                                         # Keras's: names restart (glassnet's always do)
    plot_model(model, "model.png", show_shapes=True)        # boxes and arrows, with matplotlib
    class Batches(PyDataset): ...                           # batches by index, for fit/evaluate/predict

The modules: arrays.py (normalize, pad_sequences); to_categorical is glassnet.datasets' (the data
helpers), PyDataset glassnet.datasets', set_random_seed and clear_session glassnet.backend's, plot_model
glassnet.plot's (loaded on first use, so importing glassnet.utils never imports matplotlib).
"""
from __future__ import annotations

from ..backend import clear_session, set_random_seed
from ..datasets.py_dataset import PyDataset
from ..datasets.utils import to_categorical
from .arrays import normalize, pad_sequences

__all__ = ["to_categorical", "normalize", "pad_sequences", "set_random_seed", "clear_session", "plot_model",
           "PyDataset"]


def __getattr__(name):
    """`plot_model` comes from glassnet.plot, imported when first asked for."""
    if name == "plot_model":
        from ..plot.model_plot import plot_model
        return plot_model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
