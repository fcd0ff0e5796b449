"""A metric of your own sees y_true in the shape you gave it, as in Keras: the training guide's
CategoricalTruePositives compares a column of labels (n, 1) with a column of argmaxes (n, 1); given
labels as a flat (n,) array instead, the comparison would broadcast to (n, n)."""
import numpy as np
import pytest

import glassnet as gn


def _shapes_seen(module, labels):
    seen = []

    class Shapes(module.metrics.Metric):
        def __init__(self, name="shapes", **kwargs):
            super().__init__(name=name, **kwargs)
            self.total = self.add_variable(shape=(), name="total", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            seen.append(tuple(y_true.shape))
            self.total.assign_add(float(np.asarray(y_true).sum()))

        def result(self):
            return self.total

    model = module.Sequential([module.Input((3,)), module.layers.Dense(4, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=[Shapes()])
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    model.fit(x, labels, batch_size=8, epochs=1, verbose=0)
    model.evaluate(x, labels, batch_size=8, verbose=0)
    return sorted(set(seen))


@pytest.mark.parametrize("shape", [(8,), (8, 1)])
def test_a_metric_of_your_own_gets_labels_in_the_shape_given(keras, shape):
    labels = np.arange(8).reshape(shape) % 4
    assert _shapes_seen(gn, labels) == _shapes_seen(keras, labels) == [shape]
