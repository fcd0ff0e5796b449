"""The benchmark configurations: C1-C4 of issue 5 (Dense networks) and C5-C6 of issue 12 (a convnet).

Every peer builds the same network for a configuration, float32, with sparse categorical
cross-entropy on 10 classes:

- network "mlp" (C1-C4): Dense layers of `sizes` (784 inputs, the hidden widths, 10 softmax
  outputs), `activation` on the hidden layers; the images are rows of 784 numbers.
- network "convnet" (C5, C6): the Keras-style convnet of CONVNET (Conv2D 32 3x3 relu, MaxPooling2D 2,
  Conv2D 64 3x3 relu, MaxPooling2D 2, Flatten, Dropout 0.5, Dense 10 softmax) on 28x28x1 images
  (channels last; PyTorch gets the same numbers as 1x28x28, channels first).

`matmul_layers` describes the matrix product each layer with weights does, the same way for both:
(rows per image, inputs per row, outputs per row).  A Dense layer is one row per image; a
convolution is one row per output pixel, its inputs the pixel's patch (im2col), so Conv2D 32 3x3 on
28x28x1 is (26 * 26, 3 * 3 * 1, 32).  bench/limit.py times these products (the floor).
"""
from __future__ import annotations

from dataclasses import dataclass

N_INPUTS = 784
N_CLASSES = 10
IMAGE_SHAPE = (28, 28, 1)     # height, width, channels (channels last, as Keras and glassnet)
ADAM_EPSILON = 1e-7          # Keras's and glassnet's default; PyTorch and scikit-learn are told it explicitly
ADAM_BETAS = (0.9, 0.999)
INFERENCE_IMAGES = 10_000    # C4 and C6 predict this many test images (fewer when the data has fewer)

# The Keras-style convnet of issue 12, layer by layer (every peer builds exactly this):
CONV_FILTERS = (32, 64)      # two Conv2D layers, 3x3 kernels, stride 1, padding "valid", relu
CONV_KERNEL = 3
POOL_SIZE = 2                # MaxPooling2D(2) after each convolution (stride 2, padding "valid")
DROPOUT = 0.5                # before the output layer (training only)


def convnet_shapes():
    """[(layer, output shape (h, w, c))] of CONVNET on one image, and the flattened width."""
    h, w, c = IMAGE_SHAPE
    shapes = []
    for filters in CONV_FILTERS:
        h, w, c = h - CONV_KERNEL + 1, w - CONV_KERNEL + 1, filters
        shapes.append((f"Conv2D {filters} {CONV_KERNEL}x{CONV_KERNEL} relu", (h, w, c)))
        h, w = h // POOL_SIZE, w // POOL_SIZE
        shapes.append((f"MaxPooling2D {POOL_SIZE}", (h, w, c)))
    return shapes, h * w * c


def convnet_matmul_layers():
    """[(rows per image, inputs per row, outputs per row)] of the convnet's Conv2D and Dense layers."""
    layers, channels, (h, w, _) = [], IMAGE_SHAPE[-1], IMAGE_SHAPE
    for filters in CONV_FILTERS:
        h, w = h - CONV_KERNEL + 1, w - CONV_KERNEL + 1
        layers.append((h * w, CONV_KERNEL * CONV_KERNEL * channels, filters))
        h, w, channels = h // POOL_SIZE, w // POOL_SIZE, filters
    layers.append((1, h * w * channels, N_CLASSES))
    return layers


@dataclass(frozen=True)
class Config:
    name: str
    hidden: tuple            # hidden layer widths ("mlp"); () for the convnet
    activation: str          # "sigmoid" or "relu", on the hidden layers
    optimizer: str | None    # "adam" or "sgd"; None for inference
    learning_rate: float | None
    batch: int
    inference: bool = False
    network: str = "mlp"     # "mlp": Dense layers of `sizes`; "convnet": the Keras-style convnet above
    epochs: int | None = None    # epochs per run when --epochs is not given (None: the bench's default)
    passes: int | None = None    # inference: passes per repeat when --passes is not given

    @property
    def convnet(self) -> bool:
        return self.network == "convnet"

    @property
    def sizes(self) -> tuple:
        """Layer widths from input to output of the Dense network: (784, 50, 10)."""
        if self.convnet:
            raise ValueError(f"{self.name} is the convnet: it has matmul_layers, not Dense layer sizes")
        return (N_INPUTS,) + tuple(self.hidden) + (N_CLASSES,)

    @property
    def matmul_layers(self) -> list:
        """[(rows per image, inputs per row, outputs per row)] of each layer's matrix product (see the module doc)."""
        if self.convnet:
            return convnet_matmul_layers()
        return [(1, n_in, n_out) for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:])]

    @property
    def unit(self) -> str:
        return "images/s" if self.inference else "s/epoch"

    def inputs(self, x):
        """The benchmark's float32 rows (n, 784) as this network reads them: (n, 28, 28, 1) for the convnet
        (a view: no copy), the rows themselves otherwise."""
        return x.reshape((len(x),) + IMAGE_SHAPE) if self.convnet else x

    def network_text(self) -> str:
        if self.convnet:
            shapes, flat = convnet_shapes()
            steps = [f"{layer} ({'x'.join(map(str, shape))})" for layer, shape in shapes]
            return (f"Keras-style convnet on {'x'.join(map(str, IMAGE_SHAPE))} images: " + ", ".join(steps)
                    + f", Flatten ({flat:,}), Dropout {DROPOUT:g}, Dense {N_CLASSES} softmax")
        net = "-".join(f"{w} {self.activation}" for w in self.hidden)
        return f"{N_INPUTS}-{net}-{N_CLASSES} softmax"

    def describe(self) -> str:
        net = self.network_text()
        if self.inference:
            return (f"inference of the {net}" if self.convnet else f"inference of the {net} network") + \
                f", batches of {self.batch:,}"
        opt = {"adam": "Adam", "sgd": "SGD"}[self.optimizer]
        return f"{net}, {opt} lr {self.learning_rate:g}, batch {self.batch}"


CONFIGS = {
    "C1": Config("C1", (50,), "sigmoid", "adam", 1e-3, 32),
    "C2": Config("C2", (50,), "sigmoid", "sgd", 0.1, 100),
    "C3": Config("C3", (512, 256), "relu", "adam", 1e-3, 128),
    "C4": Config("C4", (512, 256), "relu", None, None, 1000, inference=True),
    # an epoch of the convnet costs some 100x an epoch of C1: one epoch per run unless --epochs says otherwise
    "C5": Config("C5", (), "relu", "adam", 1e-3, 128, network="convnet", epochs=1),
    "C6": Config("C6", (), "relu", None, None, 1000, inference=True, network="convnet", passes=3),
}
