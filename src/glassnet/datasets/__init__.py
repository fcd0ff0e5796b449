"""Datasets: the bundled MNIST sample (`mnist_mini`) and the IDX reader."""
from . import mnist_mini
from .idx import read_idx

__all__ = ["mnist_mini", "read_idx"]
