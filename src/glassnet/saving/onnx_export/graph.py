"""The ONNX graph being built: named tensors, nodes, weights (initializers), and the few ops whose
form changed between opsets (the Reduce* ops take their axes as an input from opset 18 on).

Tensors are referred to by name (a str). `Graph.op` adds one node and returns the name of its output;
`Graph.const` adds an array as an initializer in the model's float type. Nothing here knows a layer:
glassnet's layers are mapped onto these calls in layer_ops.py and spatial_ops.py.
"""
from __future__ import annotations

import numpy as np

#: opsets glassnet can write: 13 (Softmax over one axis, Resize's modes, Pad's inputs) up to the newest
#: the installed onnx knows; the default is widely served (ONNX Runtime 1.14 and later) and exact
MIN_OPSET = 13
DEFAULT_OPSET = 18


class Graph:
    """Nodes and initializers of one ONNX graph whose tensors are all of one float type."""

    def __init__(self, onnx, opset, dtype):
        self.onnx = onnx                     # the onnx module, imported by the caller (an optional extra)
        self.opset = int(opset)
        self.dtype = np.dtype(dtype)
        self.elem = onnx.helper.np_dtype_to_tensor_dtype(self.dtype)
        self.nodes, self.initializers = [], []
        self._used = set()

    def name(self, hint: str) -> str:
        """A tensor or node name not used yet, made from `hint`."""
        base = "".join(c if c.isalnum() or c in "_./-" else "_" for c in str(hint)) or "t"
        name, k = base, 1
        while name in self._used:
            name, k = f"{base}_{k}", k + 1
        self._used.add(name)
        return name

    def reserve(self, name: str) -> str:
        """Claim `name` exactly (a graph input's or output's), or fail: names must be unique."""
        if name in self._used:
            raise ValueError(f"two of the model's inputs or outputs are both named {name!r}")
        self._used.add(name)
        return name

    def const(self, array, hint: str, dtype=None) -> str:
        """An initializer holding `array` in the model's float type (or `dtype`)."""
        array = np.asarray(array, dtype=self.dtype if dtype is None else dtype)
        name = self.name(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def ints(self, values, hint: str) -> str:
        """An int64 initializer (shapes, axes, pads)."""
        return self.const(np.asarray(values, dtype=np.int64).reshape(-1), hint, dtype=np.int64)

    def op(self, op_type: str, inputs, hint: str, **attrs) -> str:
        """Add node `op_type` reading `inputs` (names; "" for an omitted optional input); its one output."""
        out = self.name(hint)
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), [out], name=self.name("node_" + out),
                                                     **attrs))
        return out

    def reduce(self, op_type: str, x: str, axes, hint: str, keepdims=True) -> str:
        """ReduceMean/ReduceMax/ReduceMin/ReduceSum over `axes`: an attribute before opset 18 (13 for
        ReduceSum), an input from then on."""
        axes = [int(a) for a in axes]
        since = 13 if op_type == "ReduceSum" else 18
        if self.opset >= since:
            return self.op(op_type, [x, self.ints(axes, hint + "_axes")], hint, keepdims=int(keepdims))
        return self.op(op_type, [x], hint, axes=axes, keepdims=int(keepdims))

    def transpose(self, x: str, perm, hint: str) -> str:
        return self.op("Transpose", [x], hint, perm=[int(p) for p in perm])

    def model(self, inputs, outputs, name: str, producer: str):
        """The ModelProto: `inputs`/`outputs` are (name, shape) with None for a dynamic axis."""
        helper = self.onnx.helper

        def value(name, shape):
            dims = [("batch" if i == 0 else f"{name}_dim{i}") if d is None else int(d) for i, d in enumerate(shape)]
            return helper.make_tensor_value_info(name, self.elem, dims)

        graph = helper.make_graph(self.nodes, name, [value(n, s) for n, s in inputs],
                                  [value(n, s) for n, s in outputs], initializer=self.initializers)
        model = helper.make_model(graph, producer_name="glassnet", producer_version=producer,
                                  opset_imports=[helper.make_opsetid("", self.opset)])
        # an IR version every ONNX Runtime serving this opset reads (make_model writes the newest)
        model.ir_version = min(model.ir_version, _IR_VERSION.get(self.opset, model.ir_version))
        return model


#: the IR version that came with each opset (onnx's VERSION_TABLE), so older runtimes read the file
_IR_VERSION = {13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10, 22: 10, 23: 11, 24: 11}
