"""Training and evaluation with the built-in methods, written as the keras.io guide of that name
would write it (our own code, not the guide's): compile / fit with validation data / evaluate /
predict on digits; a loss of your own as a plain function of keras.ops and as a Loss subclass; a
metric of your own; validation_split; class and sample weights; a model with two inputs and two
outputs compiled with lists and with dicts of losses, metrics and loss weights; early stopping; a
callback that records every batch's loss; checkpoints named by epoch; a learning-rate schedule.

The guide's two-output model reads an image with convolutions; here the image is flattened and read
by Dense layers.  Only Keras's names are used; the checkpoints go to the folder in
GLASSNET_SCRIPT_DIR.
"""
import os

import numpy as np

import glassnet as keras
from glassnet import layers, ops

folder = os.environ.get("GLASSNET_SCRIPT_DIR", ".")
keras.utils.set_random_seed(99)

inputs = keras.Input(shape=(784,), name="digits")
x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
x = layers.Dense(64, activation="relu", name="dense_2")(x)
outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
model = keras.Model(inputs=inputs, outputs=outputs)

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist_mini.load_data()   # a guide: mnist
x_train = x_train.reshape(len(x_train), 784).astype("float32") / 255
x_test = x_test.reshape(len(x_test), 784).astype("float32") / 255
y_train = y_train.astype("float32")
y_test = y_test.astype("float32")

# reserve 1,000 samples for validation
x_val = x_train[-1000:]
y_val = y_train[-1000:]
x_train = x_train[:-1000]
y_train = y_train[:-1000]

model.compile(
    optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
    loss=keras.losses.SparseCategoricalCrossentropy(),
    metrics=[keras.metrics.SparseCategoricalAccuracy()],
)
print("Fit model on training data")
history = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_data=(x_val, y_val), verbose=0)
print("history keys:", sorted(history.history))
print("Evaluate on test data")
results = model.evaluate(x_test, y_test, batch_size=128, verbose=0)
print("test loss, test acc:", [round(float(r), 4) for r in results])
print("Generate predictions for 3 samples")
predictions = model.predict(x_test[:3], verbose=0)
print("predictions shape:", predictions.shape)


def get_uncompiled_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def get_compiled_model():
    model = get_uncompiled_model()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["sparse_categorical_accuracy"])
    return model


# ---- a loss of your own: a function of keras.ops ----------------------------------------------------
def custom_mean_squared_error(y_true, y_pred):
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


model = get_uncompiled_model()
model.compile(optimizer=keras.optimizers.Adam(), loss=custom_mean_squared_error, metrics=["accuracy"])
y_train_one_hot = ops.one_hot(y_train, num_classes=10)
history = model.fit(x_train, y_train_one_hot, batch_size=64, epochs=2, verbose=0)
print(f"custom function loss: {history.history['loss'][0]:.4f} -> {history.history['loss'][-1]:.4f}")
_, accuracy = model.evaluate(x_test, ops.one_hot(y_test, num_classes=10), verbose=0)
print(f"custom function test accuracy: {accuracy:.3f}")


# ---- a loss of your own: a Loss subclass with a parameter -------------------------------------------
class CustomMSE(keras.losses.Loss):
    def __init__(self, regularization_factor=0.1, name="custom_mse"):
        super().__init__(name=name)
        self.regularization_factor = regularization_factor

    def call(self, y_true, y_pred):
        mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
        reg = ops.mean(ops.square(0.5 - y_pred), axis=-1)
        return mse + reg * self.regularization_factor


model = get_uncompiled_model()
model.compile(optimizer=keras.optimizers.Adam(), loss=CustomMSE())
history = model.fit(x_train, y_train_one_hot, batch_size=64, epochs=1, verbose=0)
print(f"CustomMSE loss: {history.history['loss'][0]:.4f}")
loss = CustomMSE()
print(f"CustomMSE on one sample: {float(loss(np.array([[0.0, 1.0]]), np.array([[0.5, 0.5]]))):.4f}")


# ---- a metric of your own -----------------------------------------------------------------------------
class CategoricalTruePositives(keras.metrics.Metric):
    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
        values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
        values = ops.cast(values, "float32")
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, "float32")
            values = ops.multiply(values, sample_weight)
        self.true_positives.assign_add(ops.sum(values))

    def result(self):
        return self.true_positives.value

    def reset_state(self):
        self.true_positives.assign(0.0)


model = get_uncompiled_model()
model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
              loss=keras.losses.SparseCategoricalCrossentropy(), metrics=[CategoricalTruePositives()])
model.fit(x_train, y_train.reshape(-1, 1), batch_size=64, epochs=2, verbose=0)
_, true_positives = model.evaluate(x_test, y_test.reshape(-1, 1), verbose=0)
correct = int(np.sum(model.predict(x_test, verbose=0).argmax(axis=1) == y_test))
print(f"categorical true positives: {int(true_positives)} (by hand: {correct})")

# ---- validation_split, class weights, sample weights --------------------------------------------------
model = get_compiled_model()
history = model.fit(x_train, y_train, batch_size=64, validation_split=0.2, epochs=1, verbose=0)
print("validation_split keys:", sorted(history.history))

class_weight = {0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0,
                5: 2.0,            # class "5" counts twice
                6: 1.0, 7: 1.0, 8: 1.0, 9: 1.0}
model = get_compiled_model()
model.fit(x_train, y_train, class_weight=class_weight, batch_size=64, epochs=1, verbose=0)
sample_weight = np.ones(shape=(len(y_train),))
sample_weight[y_train == 5] = 2.0
model = get_compiled_model()
model.fit(x_train, y_train, sample_weight=sample_weight, batch_size=64, epochs=1, verbose=0)
print(f"sample-weighted test accuracy: {model.evaluate(x_test, y_test, verbose=0)[1]:.3f}")

# ---- two inputs, two outputs --------------------------------------------------------------------------
image_input = keras.Input(shape=(32 * 32 * 3,), name="img_input")
timeseries_input = keras.Input(shape=(20, 10), name="ts_input")
x1 = layers.Dense(32, activation="relu")(image_input)
x2 = layers.Flatten()(timeseries_input)
x2 = layers.Dense(32, activation="relu")(x2)
x = layers.concatenate([x1, x2])
score_output = layers.Dense(1, name="score_output")(x)
class_output = layers.Dense(5, name="class_output")(x)
model = keras.Model(inputs=[image_input, timeseries_input], outputs=[score_output, class_output])

# ---- data (made up: the score and the class follow the time series) -----------------------------------
rng = np.random.default_rng(5)
img_data = rng.random(size=(400, 32 * 32 * 3)).astype("float32")
ts_data = rng.random(size=(400, 20, 10)).astype("float32")
score_targets = ts_data[:, :, 0].mean(axis=1, keepdims=True) * 4
class_targets = keras.utils.to_categorical(ts_data[:, 0, :5].argmax(axis=1), 5)
# --------------------------------------------------------------------------------------------------------

model.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy(from_logits=True)],
    metrics=[[keras.metrics.MeanAbsolutePercentageError(), keras.metrics.MeanAbsoluteError()],
             [keras.metrics.CategoricalAccuracy()]],
)
history = model.fit([img_data, ts_data], [score_targets, class_targets], batch_size=32, epochs=1, verbose=0)
print("two-output keys:", sorted(history.history))

model.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss={"score_output": keras.losses.MeanSquaredError(),
          "class_output": keras.losses.CategoricalCrossentropy(from_logits=True)},
    metrics={"score_output": [keras.metrics.MeanAbsolutePercentageError(), keras.metrics.MeanAbsoluteError()],
             "class_output": [keras.metrics.CategoricalAccuracy()]},
    loss_weights={"score_output": 2.0, "class_output": 1.0},
)
history = model.fit({"img_input": img_data, "ts_input": ts_data},
                    {"score_output": score_targets, "class_output": class_targets},
                    batch_size=32, epochs=8, verbose=0)
logs = history.history
print(f"weighted total: {logs['loss'][-1]:.4f} = 2 x {logs['score_output_loss'][-1]:.4f} "
      f"+ {logs['class_output_loss'][-1]:.4f}")
print(f"class accuracy: {logs['class_output_categorical_accuracy'][-1]:.3f}")

# ---- callbacks: early stopping, every batch's loss, checkpoints, a schedule ---------------------------
model = get_compiled_model()
callbacks = [
    keras.callbacks.EarlyStopping(
        monitor="val_loss",       # stop when `val_loss` is no longer improving
        min_delta=1e-2,           # "no longer improving": by less than 1e-2
        patience=2,               # ... for at least 2 epochs
        verbose=1,
    )
]
history = model.fit(x_train, y_train, epochs=20, batch_size=64, callbacks=callbacks, validation_split=0.2,
                    verbose=0)
print("epochs before the stop:", len(history.history["loss"]))


class LossHistory(keras.callbacks.Callback):
    def on_train_begin(self, logs):
        self.per_batch_losses = []

    def on_batch_end(self, batch, logs):
        self.per_batch_losses.append(logs.get("loss"))


loss_history = LossHistory()
model = get_compiled_model()
model.fit(x_train[:1280], y_train[:1280], epochs=2, batch_size=64, callbacks=[loss_history], verbose=0)
print("batch losses recorded:", len(loss_history.per_batch_losses))

model = get_compiled_model()
callbacks = [
    keras.callbacks.ModelCheckpoint(
        # the `{epoch}` in the name is filled in with the epoch number
        filepath=os.path.join(folder, "mymodel_{epoch}.keras"),
        save_best_only=True,     # only save a model if `val_loss` has improved
        monitor="val_loss",
        verbose=1,
    )
]
model.fit(x_train, y_train, epochs=3, batch_size=64, callbacks=callbacks, validation_split=0.2, verbose=0)
checkpoints = [os.path.join(folder, name) for name in os.listdir(folder) if name.startswith("mymodel_")]
print("checkpoints:", sorted(os.path.basename(c) for c in checkpoints))
latest_checkpoint = max(checkpoints, key=os.path.getctime)
restored = keras.models.load_model(latest_checkpoint)
print(f"restored model's test accuracy: {restored.evaluate(x_test, y_test, verbose=0)[1]:.3f}")

initial_learning_rate = 0.1
lr_schedule = keras.optimizers.schedules.ExponentialDecay(initial_learning_rate, decay_steps=100000,
                                                          decay_rate=0.96, staircase=True)
optimizer = keras.optimizers.RMSprop(learning_rate=lr_schedule)
print(f"rate at step 250000: {float(lr_schedule(250000)):.4f}")
