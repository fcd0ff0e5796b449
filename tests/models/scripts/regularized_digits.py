"""Fight overfitting with weight penalties and a decaying learning rate, written as a Keras tutorial
would: one-hot labels from keras.utils, L2 penalties on every hidden layer, an InverseTimeDecay
schedule for Adam, a drawing of the model, then the penalties Keras adds to the loss.

Only Keras's names are used; the drawing goes to the folder in GLASSNET_SCRIPT_DIR.
"""
import os

import numpy as np

import glassnet as keras
from glassnet import layers, regularizers
from glassnet.utils import plot_model, to_categorical

folder = os.environ.get("GLASSNET_SCRIPT_DIR", ".")
keras.utils.set_random_seed(3)

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist_mini.load_data()
x_train = x_train.reshape(-1, 784).astype("float32") / 255
x_test = x_test.reshape(-1, 784).astype("float32") / 255
y_train = to_categorical(y_train, num_classes=10)
y_test = to_categorical(y_test, num_classes=10)

BATCH_SIZE = 64
STEPS_PER_EPOCH = int(np.ceil(len(x_train) * 0.8 / BATCH_SIZE))
lr_schedule = keras.optimizers.schedules.InverseTimeDecay(
    0.002, decay_steps=STEPS_PER_EPOCH * 5, decay_rate=1, staircase=False)

model = keras.Sequential([
    keras.Input(shape=(784,)),
    layers.Dense(128, activation="relu", kernel_regularizer=regularizers.l2(0.0005)),
    layers.Dense(64, activation="relu", kernel_regularizer=regularizers.l2(0.0005)),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr_schedule),
              loss="categorical_crossentropy", metrics=["accuracy"])
plot_model(model, to_file=os.path.join(folder, "model.png"), show_shapes=True, show_layer_names=True)

history = model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=10, validation_split=0.2, verbose=0)
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)

print(f"penalties: {len(model.losses)}")
print(f"penalty total: {sum(float(p) for p in model.losses):.4f}")
print(f"learning rate now: {float(model.optimizer.learning_rate):.6f}")
print(f"learning rate expected: {0.002 / (1 + int(model.optimizer.iterations) / (STEPS_PER_EPOCH * 5)):.6f}")
print(f"final training loss: {history.history['loss'][-1]:.4f}")
print(f"test accuracy: {test_accuracy:.3f}")
