"""Between a model and its description: get_config()/from_config(), and the model's files.

The file format itself is glassnet.saving (docs/model-format.md), which sits above the models in
the import order: save, save_weights, load_weights and load_model import it when called.
"""
from __future__ import annotations

from .. import backend
from .. import layers as layers_module


def layers_config(model) -> dict:
    """A Sequential model's config: {"name", "input_shape" (features) or None, "layers": [specs]}."""
    shape = model._input_feature_shape
    return {"name": model.name,
            "input_shape": None if shape is None else list(shape),
            "layers": [layers_module.serialize(layer) for layer in model.layers]}


def layers_from_config(cls, config, dtype=None):
    """A model of class `cls` (with add()) rebuilt from layers_config(); dtype overrides every layer's."""
    model = cls(name=config.get("name"))
    if config.get("input_shape") is not None:
        model._input_feature_shape = tuple(config["input_shape"])
    for spec in config["layers"]:
        spec = {"class_name": spec["class_name"], "config": dict(spec["config"])}
        if dtype is not None:
            spec["config"]["dtype"] = backend.standardize_dtype(dtype)
        model.add(layers_module.deserialize(spec))
    return model


class Files:
    """A model's files (mixed into Model): the whole model, or its weights alone."""

    def get_config(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} does not describe itself; use Sequential")

    @classmethod
    def from_config(cls, config, dtype=None):
        raise NotImplementedError(f"{cls.__name__} cannot be rebuilt from a config; use Sequential")

    def save(self, filepath, overwrite=True):
        """Write the whole model to one `.glassnet` file: architecture, weights, compile settings
        and optimizer state (added as the suffix when `filepath` has none). Written atomically.
        A path ending in `.keras` gives a Keras 3 `.keras` file instead (needs h5py)."""
        from .. import saving
        return saving.save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite=True):
        """Write only the weights, to a NumPy `.npz` file ("dense/W", ... in get_weights() order), or in
        Keras 3's layout for a path ending in `.weights.h5` (needs h5py)."""
        from .. import saving
        return saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        """Set the weights from save_weights()' `.npz` (or a `.glassnet`, Keras 3 `.weights.h5` or `.keras`
        file); shapes are checked first."""
        from .. import saving
        saving.load_weights(self, filepath)

    def export(self, filepath, format="onnx", verbose=None, input_signature=None, opset_version=None, **kwargs):
        """Keras 3's Model.export for inference: an ONNX file at `filepath` (needs the `onnx` extra), written
        atomically; returns its path. opset_version: the ONNX opset (default 18; 13 up to what the installed
        onnx knows); input_signature: one (batch, *features) shape per input, batch None (dynamic, the
        default) or fixed; verbose: print where it went (None: yes, as Keras). See docs/onnx.md."""
        from ..saving import onnx_export
        if format != "onnx":
            other = " (a Keras 3 format glassnet does not write)" if format in onnx_export.KERAS_FORMATS else ""
            raise ValueError(f"export format must be 'onnx'{' ' if not other else ''}, got {format!r}{other}")
        if kwargs:
            raise TypeError(f"export got unexpected arguments {sorted(kwargs)}; it takes filepath, format, verbose, "
                            f"input_signature and opset_version")
        return onnx_export.export_onnx(self, filepath, verbose=verbose, input_signature=input_signature,
                                       opset_version=opset_version)


def load_model(filepath, compile=True, custom_objects=None):
    """Keras's keras.models.load_model: the model saved in a `.glassnet` file, or a Keras 3 `.keras`
    file (see glassnet.saving)."""
    from .. import saving
    return saving.load_model(filepath, compile=compile, custom_objects=custom_objects)
