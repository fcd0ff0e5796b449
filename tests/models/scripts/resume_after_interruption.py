"""Survive an interrupted training run with BackupAndRestore, written as a Keras tutorial would.

A callback plays the part of a crash (a preempted machine, a Ctrl-C) in the middle of training; the
same fit call, made again, resumes at the epoch where the first one stopped.  A second model trained
from the same seed without interruption ends with the very same weights.  Only Keras's names are
used; the backup goes to the folder in GLASSNET_SCRIPT_DIR.
"""
import os

import numpy as np

import glassnet as keras

folder = os.environ.get("GLASSNET_SCRIPT_DIR", ".")
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist_mini.load_data()
x_train = x_train.reshape(-1, 784).astype("float32") / 255
x_test = x_test.reshape(-1, 784).astype("float32") / 255


def build_model():
    keras.utils.set_random_seed(42)
    model = keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dropout(0.25),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class Crash(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 4:
            raise RuntimeError("the machine went away")


backup = keras.callbacks.BackupAndRestore(backup_dir=os.path.join(folder, "backup"))
model = build_model()
try:
    model.fit(x_train, y_train, epochs=8, batch_size=64, callbacks=[backup, Crash()], verbose=0)
except RuntimeError as error:
    print(f"training interrupted: {error}")

history = model.fit(x_train, y_train, epochs=8, batch_size=64, callbacks=[backup], verbose=0)
print(f"resumed at epoch: {history.epoch[0] + 1}")
print(f"epochs run after resuming: {len(history.epoch)}")

reference = build_model()
reference.fit(x_train, y_train, epochs=8, batch_size=64, verbose=0)
same = all(np.array_equal(a, b) for a, b in zip(model.get_weights(), reference.get_weights()))
print(f"same weights as an uninterrupted run: {same}")
print(f"test accuracy: {model.evaluate(x_test, y_test, verbose=0)[1]:.3f}")
print(f"backup folder left behind: {os.path.exists(os.path.join(folder, 'backup'))}")
