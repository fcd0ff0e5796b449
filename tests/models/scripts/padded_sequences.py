"""Classify sequences of different lengths, written as a Keras tutorial would: pad them with
keras.utils.pad_sequences, one-hot the tokens, and lower the learning rate by hand from a callback
(keras.backend.set_value, as Keras 2 tutorials do), then once more before fine-tuning
(optimizer.learning_rate.assign, Keras 3's way).

A sequence of tokens 1-19 is "mostly small" when more of its tokens are below 10 than above.
"""
import numpy as np

import glassnet as keras
from glassnet.utils import pad_sequences, to_categorical

keras.utils.set_random_seed(5)
rng = np.random.default_rng(5)
VOCAB, MAXLEN = 20, 12


def make_sequences(n):
    sequences = [list(rng.integers(1, VOCAB, size=rng.integers(3, 16))) for _ in range(n)]
    labels = np.array([sum(t < 10 for t in s[-MAXLEN:]) > sum(t >= 10 for t in s[-MAXLEN:]) for s in sequences])
    return sequences, labels.astype("int32")


train_sequences, y_train = make_sequences(2000)
test_sequences, y_test = make_sequences(500)
x_train = to_categorical(pad_sequences(train_sequences, maxlen=MAXLEN), num_classes=VOCAB)
x_test = to_categorical(pad_sequences(test_sequences, maxlen=MAXLEN), num_classes=VOCAB)
print(f"padded shape: {pad_sequences(train_sequences, maxlen=MAXLEN).shape}")
print(f"one-hot shape: {x_train.shape}")


class HalveEveryTwoEpochs(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch and epoch % 2 == 0:
            lr = float(keras.backend.get_value(self.model.optimizer.learning_rate))
            keras.backend.set_value(self.model.optimizer.learning_rate, lr * 0.5)

    def on_epoch_end(self, epoch, logs=None):
        logs["lr"] = float(keras.backend.get_value(self.model.optimizer.learning_rate))


model = keras.Sequential([
    keras.Input(shape=(MAXLEN, VOCAB)),
    keras.layers.Flatten(),
    keras.layers.Dense(32, activation="relu"),
    keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.004), loss="binary_crossentropy",
              metrics=["accuracy"])
history = model.fit(x_train, y_train, epochs=6, batch_size=32, validation_split=0.1,
                    callbacks=[HalveEveryTwoEpochs()], verbose=0)
print("learning rates: " + " ".join(f"{lr:g}" for lr in history.history["lr"]))

model.optimizer.learning_rate.assign(1e-4)
model.fit(x_train, y_train, epochs=1, batch_size=32, verbose=0)
print(f"fine-tuning learning rate: {float(model.optimizer.learning_rate):g}")
print(f"test accuracy: {model.evaluate(x_test, y_test, verbose=0)[1]:.3f}")
