"""Fashion-MNIST (Zalando's article images), as `keras.datasets.fashion_mnist`.

    (x_train, y_train), (x_test, y_test) = gn.datasets.fashion_mnist.load_data()
    # x_train: (60000, 28, 28) uint8, y_train: (60000,) uint8 in 0..9 (6,000 per class)
    # x_test:  (10000, 28, 28) uint8, y_test:  (10000,) uint8 (1,000 per class)
    CLASS_NAMES[y_train[0]]       # 'Ankle boot'

Han Xiao, Kashif Rasul and Roland Vollgraf, "Fashion-MNIST: a Novel Image
Dataset for Benchmarking Machine Learning Algorithms", arXiv:1708.07747 (2017);
https://github.com/zalandoresearch/fashion-mnist (MIT licence).

On Debian and Ubuntu, `apt install dataset-fashion-mnist` puts the files in
/usr/share/datasets/fashion-mnist, where load_data() finds them.  The search
order and the download are those of `gn.datasets.mnist`; see docs/datasets.md.
"""
from __future__ import annotations

from . import _loader

SPEC = {"name": "fashion-mnist", "title": "Fashion-MNIST", "module": "gn.datasets.fashion_mnist",
        "subdirs": ("fashion-mnist", "fashion_mnist"), "keras_subdir": "fashion-mnist",
        "npz_names": ("fashion-mnist.npz", "fashion_mnist.npz")}

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

#: Tried in order; each file is fetched from <mirror>/<file name>.  The official host speaks plain HTTP
#: only; the SHA-256 check below guards every download, whatever the transport.
MIRRORS = [
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",                          # the official host
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",  # the project's repo
]

#: SHA-256 of the official .gz files (26,421,880 / 29,515 / 4,422,102 / 5,148 bytes), as listed in
#: tensorflow/datasets, tensorflow_datasets/url_checksums/fashion_mnist.txt.  Debian's package repacks the
#: gzip files (no file name in the header), so its .gz digests differ; their decompressed contents match
#: the raw-file MD5s public loaders list.  Local files are never checked against these digests.
SHA256 = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}

#: Searched after the user caches; Debian's dataset-fashion-mnist installs here.
SYSTEM_DIRS = ["/usr/share/datasets/fashion-mnist"]


load_data = _loader.loader(__name__)
