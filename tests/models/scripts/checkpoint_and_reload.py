"""Save the best model while training, then load it back, written as a Keras tutorial would.

A digit classifier trains with a checkpoint that keeps the best epoch as a Keras `.keras` file and
an early stop; the best model is loaded back and evaluated, and its weights alone go to a
`.weights.h5` file that a freshly built model reads.  The files are Keras 3's own: Keras can open
them too.  Only Keras's names are used; the files go to the folder in GLASSNET_SCRIPT_DIR.
"""
import os

import glassnet as keras

folder = os.environ.get("GLASSNET_SCRIPT_DIR", ".")
keras.utils.set_random_seed(11)
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist_mini.load_data()
x_train = x_train.reshape(-1, 784).astype("float32") / 255
x_test = x_test.reshape(-1, 784).astype("float32") / 255


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


model = build_model()
callbacks = [
    keras.callbacks.ModelCheckpoint(os.path.join(folder, "best.keras"), monitor="val_accuracy", save_best_only=True),
    keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=2, restore_best_weights=True),
]
history = model.fit(x_train, y_train, epochs=8, batch_size=128, validation_split=0.2, callbacks=callbacks,
                    verbose=0)
print(f"best validation accuracy: {max(history.history['val_accuracy']):.3f}")

best = keras.models.load_model(os.path.join(folder, "best.keras"))
loss, accuracy = best.evaluate(x_test, y_test, verbose=0)
print(f"reloaded test accuracy: {accuracy:.3f}")

best.save_weights(os.path.join(folder, "best.weights.h5"))
fresh = build_model()
fresh.load_weights(os.path.join(folder, "best.weights.h5"))
print(f"fresh model test accuracy: {fresh.evaluate(x_test, y_test, verbose=0)[1]:.3f}")
