"""ONNX export: a built glassnet model as an ONNX graph that ONNX Runtime (or any ONNX runtime) serves.

    model.export("model.onnx", format="onnx")            # Keras 3's call; needs the `onnx` extra
    proto = glassnet.saving.onnx_export.to_onnx(model)    # the onnx.ModelProto, nothing written

The modules:
    graph        the graph being built: names, nodes, initializers, opset-dependent ops
    layer_ops    activations and the layers on whole samples (Dense, normalisation, merging, ...)
    spatial_ops  convolution, pooling, padding, upsampling (channels-last around ONNX's channels-first ops)
    spatial_double  the same layers of float64 models, unfolded (ONNX Runtime has no float64 Conv, ...)
    export       the walk over a model (Sequential, graph models, models used as layers) and the file
See docs/onnx.md for the table of layers and their ONNX ops.
"""
from .export import KERAS_FORMATS, export_onnx, import_onnx, to_onnx
from .graph import DEFAULT_OPSET, MIN_OPSET
from .layer_ops import NotExportable

__all__ = ["export_onnx", "to_onnx", "import_onnx", "NotExportable", "DEFAULT_OPSET", "MIN_OPSET", "KERAS_FORMATS"]
