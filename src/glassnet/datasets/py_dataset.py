"""Keras's PyDataset (keras.utils.PyDataset): a data set you serve batch by batch, for fit,
evaluate and predict.

    class Batches(gn.utils.PyDataset):
        def __init__(self, x, y, batch_size, **kwargs):
            super().__init__(**kwargs)
            self.x, self.y, self.batch_size = x, y, batch_size

        def __len__(self):                         # batches in one epoch
            return math.ceil(len(self.x) / self.batch_size)

        def __getitem__(self, index):              # batch `index`: (x, y) or (x, y, sample_weight)
            rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
            return self.x[rows], self.y[rows]

    model.fit(Batches(x, y, 64), epochs=5)

An epoch reads batches 0, 1, ..., len - 1 in order, then calls on_epoch_end() (shuffle there).
workers, use_multiprocessing and max_queue_size are Keras's arguments for reading batches in
parallel; glassnet accepts them and reads each batch when the step needs it, in the same thread.
"""
from __future__ import annotations


class PyDataset:
    """Base class of a data set served by index (see the module doc)."""

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __getitem__(self, index):
        """Batch `index`: x, (x, y) or (x, y, sample_weight)."""
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index) returning a batch")

    def __len__(self):
        """The number of batches in an epoch."""
        raise NotImplementedError(f"{type(self).__name__} must define __len__() (batches per epoch)")

    @property
    def num_batches(self):
        return len(self)

    def on_epoch_end(self):
        """Called after every epoch: a place to shuffle."""
