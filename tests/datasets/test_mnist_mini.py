"""glassnet.datasets.mnist_mini: the bundled test split, divided into 8000 + 2000."""
import numpy as np

import glassnet as gn
from dataset_helpers import DATA_DIR, MNIST_T10K_HISTOGRAM, parse_labels


def test_mnist_mini_still_splits_the_bundled_test_set():
    (x_train, y_train), (x_test, y_test) = gn.datasets.mnist_mini.load_data()
    assert x_train.shape == (8000, 28, 28) and x_test.shape == (2000, 28, 28)
    assert x_train.dtype == x_test.dtype == y_train.dtype == y_test.dtype == np.uint8
    labels = np.array(parse_labels(DATA_DIR / "t10k-labels-idx1-ubyte.gz"))
    np.testing.assert_array_equal(y_test, labels[4::5])
    assert (np.bincount(y_train, minlength=10) + np.bincount(y_test, minlength=10)).tolist() == \
        MNIST_T10K_HISTOGRAM
