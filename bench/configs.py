"""The four benchmark configurations of issue 5 (C1-C4): network, optimizer, batch.

Every peer builds the same network for a configuration: Dense layers of
`sizes` (784 inputs, the hidden widths, 10 softmax outputs), `activation` on
the hidden layers, sparse categorical cross-entropy, float32.
"""
from __future__ import annotations

from dataclasses import dataclass

N_INPUTS = 784
N_CLASSES = 10
ADAM_EPSILON = 1e-7          # Keras's and glassnet's default; PyTorch and scikit-learn are told it explicitly
ADAM_BETAS = (0.9, 0.999)
INFERENCE_IMAGES = 10_000    # C4 predicts this many test images (fewer when the data has fewer)


@dataclass(frozen=True)
class Config:
    name: str
    hidden: tuple            # hidden layer widths
    activation: str          # "sigmoid" or "relu", on the hidden layers
    optimizer: str | None    # "adam" or "sgd"; None for inference
    learning_rate: float | None
    batch: int
    inference: bool = False

    @property
    def sizes(self) -> tuple:
        """Layer widths from input to output: (784, 50, 10)."""
        return (N_INPUTS,) + tuple(self.hidden) + (N_CLASSES,)

    @property
    def unit(self) -> str:
        return "images/s" if self.inference else "s/epoch"

    def describe(self) -> str:
        net = "-".join(f"{w} {self.activation}" for w in self.hidden)
        net = f"{N_INPUTS}-{net}-{N_CLASSES} softmax"
        if self.inference:
            return f"inference of the {net} network, batches of {self.batch:,}"
        opt = {"adam": "Adam", "sgd": "SGD"}[self.optimizer]
        return f"{net}, {opt} lr {self.learning_rate:g}, batch {self.batch}"


CONFIGS = {
    "C1": Config("C1", (50,), "sigmoid", "adam", 1e-3, 32),
    "C2": Config("C2", (50,), "sigmoid", "sgd", 0.1, 100),
    "C3": Config("C3", (512, 256), "relu", "adam", 1e-3, 128),
    "C4": Config("C4", (512, 256), "relu", None, None, 1000, inference=True),
}
