"""A small convnet for handwritten digits, written as the keras.io "simple MNIST convnet" example would be.

Our own code of the tutorial's steps: images scaled to [0, 1] with a channel axis, one-hot labels, two
blocks of Conv2D + MaxPooling2D, Flatten, Dropout, a softmax layer; categorical cross-entropy, Adam,
batch 128, a validation split; then the test score.  At the end it looks inside, as the "visualizing
what convnets learn" guides do: a model that returns the first layers' outputs (the feature maps) of
one test image.  Only Keras's names are used: swap the import for `import keras` and it runs on Keras 3.

The data block is the one part a tutorial's reader may change: the bundled MNIST sample instead of the
full MNIST download, its first GLASSNET_SCRIPT_SAMPLES training images (all 8,000 when unset) and
GLASSNET_SCRIPT_EPOCHS epochs (15 when unset, as the tutorial).
"""
import os

import numpy as np

import glassnet as keras
from glassnet import layers

keras.utils.set_random_seed(1)

# ---- data -------------------------------------------------------------------------------------------
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist_mini.load_data()      # a tutorial: mnist
samples = int(os.environ.get("GLASSNET_SCRIPT_SAMPLES", len(x_train)))
epochs = int(os.environ.get("GLASSNET_SCRIPT_EPOCHS", 15))
x_train, y_train = x_train[:samples], y_train[:samples]
# -----------------------------------------------------------------------------------------------------

num_classes = 10
input_shape = (28, 28, 1)

# Scale images to the [0, 1] range and give them a channel axis: (28, 28) -> (28, 28, 1)
x_train = x_train.astype("float32") / 255
x_test = x_test.astype("float32") / 255
x_train = np.expand_dims(x_train, -1)
x_test = np.expand_dims(x_test, -1)
print("x_train shape:", x_train.shape)
print("train samples:", x_train.shape[0])
print("test samples:", x_test.shape[0])

# Class vectors to binary class matrices
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

model = keras.Sequential(
    [
        keras.Input(shape=input_shape),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ]
)
model.summary()

batch_size = 128
model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1, verbose=2)

score = model.evaluate(x_test, y_test, verbose=0)
print("Test loss:", score[0])
print("Test accuracy:", score[1])

# What the first layers see: the feature maps of one test image
activation_model = keras.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers[:4]])
feature_maps = activation_model.predict(x_test[:1], verbose=0)
for layer, maps in zip(model.layers[:4], feature_maps):
    print(f"{layer.name} feature maps: {maps.shape}")
first = feature_maps[0][0]
print("filters that fire on the first test image:", int(np.sum(first.max(axis=(0, 1)) > 0)), "of", first.shape[-1])
kernel, bias = model.layers[0].get_weights()
print("first layer kernel:", kernel.shape)
