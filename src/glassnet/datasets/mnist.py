"""MNIST handwritten digits, as `keras.datasets.mnist`.

    (x_train, y_train), (x_test, y_test) = gn.datasets.mnist.load_data()
    # x_train: (60000, 28, 28) uint8, y_train: (60000,) uint8 in 0..9
    # x_test:  (10000, 28, 28) uint8, y_test:  (10000,) uint8

Yann LeCun, Corinna Cortes and Christopher J.C. Burges, "The MNIST database
of handwritten digits", http://yann.lecun.com/exdb/mnist/.

The files are looked for in `path=`, $GLASSNET_DATA, the user cache, Keras's
cache and the system dataset directories, and downloaded from MIRRORS (each
file verified against SHA256) when found nowhere; see glassnet.datasets._loader
and docs/datasets.md.  For real digits that need no files at all, use
`gn.datasets.mnist_mini` (the test split, bundled).
"""
from __future__ import annotations

from . import _loader

SPEC = {"name": "mnist", "title": "MNIST", "module": "gn.datasets.mnist", "subdirs": ("mnist",),
        "keras_subdir": "", "npz_names": ("mnist.npz",)}

#: Tried in order; each file is fetched from <mirror>/<file name>.
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",           # PyTorch's mirror (torchvision)
    "https://storage.googleapis.com/cvdf-datasets/mnist/",       # the mirror TensorFlow and Keras use
]

#: SHA-256 of the official .gz files (9,912,422 / 28,881 / 1,648,877 / 4,542 bytes), as listed in
#: tensorflow/datasets, tensorflow_datasets/url_checksums/mnist.txt.  The two t10k digests were also
#: recomputed from the copies bundled in glassnet/datasets/data (whose MD5s match torchvision's list).
SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

#: Searched after the user caches.
SYSTEM_DIRS = ["/usr/share/datasets/mnist"]


load_data = _loader.loader(__name__)
