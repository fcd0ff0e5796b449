"""Train a digit classifier with the callbacks a Keras tutorial reaches for, written as one would.

The learning rate is halved when the validation loss stalls (ReduceLROnPlateau), training stops when
it stops improving and keeps the best weights (EarlyStopping), every epoch goes to a CSV file
(CSVLogger) and to TensorBoard's event files (TensorBoard, with weight histograms).  The CSV file is
read back to report the run.  Only Keras's names are used; the files go to the folder in
GLASSNET_SCRIPT_DIR.
"""
import csv
import os

import glassnet as keras

folder = os.environ.get("GLASSNET_SCRIPT_DIR", ".")
keras.utils.set_random_seed(7)
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist_mini.load_data()
x_train = x_train.reshape(-1, 784).astype("float32") / 255
x_test = x_test.reshape(-1, 784).astype("float32") / 255

model = keras.Sequential([
    keras.Input(shape=(784,)),
    keras.layers.Dense(128, activation="relu"),
    keras.layers.Dropout(0.3),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.004), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])

csv_path = os.path.join(folder, "training.csv")
log_dir = os.path.join(folder, "logs", "fit")
callbacks = [
    keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=1e-4, verbose=1),
    keras.callbacks.EarlyStopping(monitor="val_loss", patience=4, restore_best_weights=True, verbose=1),
    keras.callbacks.CSVLogger(csv_path),
    keras.callbacks.TensorBoard(log_dir=log_dir, histogram_freq=1),
]
history = model.fit(x_train, y_train, epochs=50, batch_size=64, validation_split=0.2, callbacks=callbacks,
                    verbose=2)

with open(csv_path, newline="") as f:
    rows = list(csv.DictReader(f))
rates = sorted({float(row["learning_rate"]) for row in rows}, reverse=True)
best = min(rows, key=lambda row: float(row["val_loss"]))
print(f"epochs run: {len(rows)}")
print(f"learning rates used: {', '.join(f'{rate:g}' for rate in rates)}")
print(f"best epoch: {int(best['epoch']) + 1} (val_loss {float(best['val_loss']):.4f})")
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy: {test_accuracy:.3f}")
