"""glassnet.explain records the model's own step through the public Recorder hook, and nothing else."""
import ast
import pathlib

import numpy as np
import pytest

import glassnet as gn

pytestmark = pytest.mark.usefixtures("isolated_random_state")

EXPLAIN = pathlib.Path(gn.explain.__file__).parent


def test_explain_reaches_no_private_model_or_layer_attribute():
    """No `model._x`, `layer._x`, `opt._x` in glassnet/explain: only public names and what the hook hands over."""
    private = []
    for path in sorted(EXPLAIN.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                owner = node.value.id if isinstance(node.value, ast.Name) else type(node.value).__name__
                if owner not in ("self", "tr"):             # a Trace's own helpers
                    private.append(f"{path.name}:{node.lineno} {owner}.{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("models."):
                private.append(f"{path.name}:{node.lineno} from ..{node.module}")
    assert private == []


def _twins():
    def make():
        gn.set_random_seed(4)
        model = gn.Sequential([gn.layers.Dense(3, activation="relu", input_shape=(2,), dtype="float64"),
                               gn.layers.BatchNormalization(dtype="float64"),
                               gn.layers.Dropout(0.5, seed=1, dtype="float64"),
                               gn.layers.Dense(2, activation="softmax", dtype="float64")])
        model.compile(gn.optimizers.Adam(0.1), "sparse_categorical_crossentropy")
        return model
    return make(), make()


def test_a_trace_without_the_update_shows_the_numbers_of_the_step_with_it():
    x = np.array([[0.5, -1.0], [1.0, 2.0], [-0.3, 0.2], [0.1, 0.1]])
    y = np.array([0, 1, 1, 0])
    kept, dropped = _twins()
    shown = dropped.trace(x, y, update=False)
    made = kept.trace(x, y)
    assert not shown.applied and made.applied
    shown.applied = True                        # only the heading of the update section differs
    assert shown.to_text(precision=None) == made.to_text(precision=None)
    for layer, rec in zip(kept.layers, shown.layers):
        for key, after in rec.weights_after.items():
            assert np.array_equal(after, layer.params[key])
    assert dropped.optimizer.iterations == 0
