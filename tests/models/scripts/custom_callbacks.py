"""Writing your own callbacks, written as the keras.io guide of that name would write it (our own
code, not the guide's): a callback that reports which log keys every hook receives during fit,
evaluate and predict; one that prints the running loss per batch and the epoch's scores; an early
stop at the lowest loss that keeps the best weights itself (get_weights / set_weights and
model.stop_training); learning-rate schedules written by hand (Keras 3's assignment to
optimizer.learning_rate, and Keras 2's keras.backend.get_value / set_value where they exist);
the built-in LearningRateScheduler and a LambdaCallback.

As in the guide, a one-unit linear model reads a digit image and guesses the digit as a number
(mean squared error).  Only Keras's names are used.
"""
import numpy as np

import glassnet as keras

keras.utils.set_random_seed(1234)
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist_mini.load_data()   # a guide: mnist
x_train = x_train.reshape(-1, 784).astype("float32") / 255.0
x_test = x_test.reshape(-1, 784).astype("float32") / 255.0
y_train = y_train.astype("float32")
y_test = y_test.astype("float32")
x_train, y_train = x_train[:1000], y_train[:1000]       # a small part, as the guide takes
x_test, y_test = x_test[:1000], y_test[:1000]


def get_model():
    model = keras.Sequential()
    model.add(keras.layers.Dense(1))
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.1), loss="mean_squared_error",
                  metrics=["mean_absolute_error"])
    return model


class CustomCallback(keras.callbacks.Callback):
    """Says which hook runs and which log keys it gets; batches only for the first two."""

    def on_train_begin(self, logs=None):
        print(f"Starting training; got log keys: {sorted(logs or {})}")

    def on_train_end(self, logs=None):
        print(f"Stop training; got log keys: {sorted(logs or {})}")

    def on_epoch_begin(self, epoch, logs=None):
        print(f"Start epoch {epoch} of training; got log keys: {sorted(logs or {})}")

    def on_epoch_end(self, epoch, logs=None):
        print(f"End epoch {epoch} of training; got log keys: {sorted(logs or {})}")

    def on_test_begin(self, logs=None):
        print(f"Start testing; got log keys: {sorted(logs or {})}")

    def on_test_end(self, logs=None):
        print(f"Stop testing; got log keys: {sorted(logs or {})}")

    def on_predict_begin(self, logs=None):
        print(f"Start predicting; got log keys: {sorted(logs or {})}")

    def on_predict_end(self, logs=None):
        print(f"Stop predicting; got log keys: {sorted(logs or {})}")

    def on_train_batch_begin(self, batch, logs=None):
        if batch < 2:
            print(f"...Training: start of batch {batch}; got log keys: {sorted(logs or {})}")

    def on_train_batch_end(self, batch, logs=None):
        if batch < 2:
            print(f"...Training: end of batch {batch}; got log keys: {sorted(logs or {})}")

    def on_test_batch_begin(self, batch, logs=None):
        if batch < 2:
            print(f"...Evaluating: start of batch {batch}; got log keys: {sorted(logs or {})}")

    def on_test_batch_end(self, batch, logs=None):
        if batch < 2:
            print(f"...Evaluating: end of batch {batch}; got log keys: {sorted(logs or {})}")

    def on_predict_batch_begin(self, batch, logs=None):
        if batch < 2:
            print(f"...Predicting: start of batch {batch}; got log keys: {sorted(logs or {})}")

    def on_predict_batch_end(self, batch, logs=None):
        if batch < 2:
            print(f"...Predicting: end of batch {batch}; got log keys: {sorted(logs or {})}")


model = get_model()
model.fit(x_train, y_train, batch_size=128, epochs=1, verbose=0, validation_split=0.5,
          callbacks=[CustomCallback()])
res = model.evaluate(x_test, y_test, batch_size=128, verbose=0, callbacks=[CustomCallback()])
res = model.predict(x_test, batch_size=128, callbacks=[CustomCallback()])
print("predictions:", res.shape)


class LossAndErrorPrintingCallback(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch % 4 == 0:
            print(f"Up to batch {batch}, the average loss is {logs['loss']:7.2f}.")

    def on_test_batch_end(self, batch, logs=None):
        if batch % 4 == 0:
            print(f"Up to batch {batch}, the average loss is {logs['loss']:7.2f}.")

    def on_epoch_end(self, epoch, logs=None):
        print(f"The average loss for epoch {epoch} is {logs['loss']:7.2f} "
              f"and mean absolute error is {logs['mean_absolute_error']:7.2f}.")


model = get_model()
model.fit(x_train, y_train, batch_size=128, epochs=2, verbose=0, callbacks=[LossAndErrorPrintingCallback()])
res = model.evaluate(x_test, y_test, batch_size=128, verbose=0, callbacks=[LossAndErrorPrintingCallback()])


class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
    """Stop when the loss is at its minimum, i.e. it stops decreasing; keep the best weights.

    patience: epochs to wait after the minimum; after that many epochs without improvement, stop.
    """

    def __init__(self, patience=0):
        super().__init__()
        self.patience = patience
        self.best_weights = None

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = np.inf

    def on_epoch_end(self, epoch, logs=None):
        current = logs.get("loss")
        if np.less(current, self.best):
            self.best = current
            self.wait = 0
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True
                print("Restoring model weights from the end of the best epoch.")
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


model = get_model()
stopper = EarlyStoppingAtMinLoss(patience=1)
history = model.fit(x_train, y_train, batch_size=64, steps_per_epoch=5, epochs=30, verbose=0,
                    callbacks=[LossAndErrorPrintingCallback(), stopper])
print(f"epochs run: {len(history.history['loss'])}")
print(f"best loss: {stopper.best:.4f}")
print(f"kept the best weights: {all(np.array_equal(a, b) for a, b in zip(model.get_weights(), stopper.best_weights))}")


class CustomLearningRateScheduler(keras.callbacks.Callback):
    """Learning rate scheduler which sets the learning rate according to schedule.

    schedule: a function that takes an epoch index (integer, indexed from 0) and the current
    learning rate as inputs and returns a new learning rate as output (float).
    """

    def __init__(self, schedule):
        super().__init__()
        self.schedule = schedule

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self.model.optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        lr = self.model.optimizer.learning_rate
        scheduled_lr = self.schedule(epoch, lr)
        self.model.optimizer.learning_rate = scheduled_lr
        print(f"Epoch {epoch}: Learning rate is {float(np.array(scheduled_lr)):.4f}.")


LR_SCHEDULE = [
    # (epoch to start, learning rate) tuples
    (3, 0.05),
    (6, 0.01),
    (9, 0.005),
    (12, 0.001),
]


def lr_schedule(epoch, lr):
    """Helper function to retrieve the scheduled learning rate based on epoch."""
    if epoch < LR_SCHEDULE[0][0] or epoch > LR_SCHEDULE[-1][0]:
        return lr
    for i in range(len(LR_SCHEDULE)):
        if epoch == LR_SCHEDULE[i][0]:
            return LR_SCHEDULE[i][1]
    return lr


model = get_model()
history = model.fit(x_train, y_train, batch_size=64, steps_per_epoch=5, epochs=14, verbose=0,
                    callbacks=[CustomLearningRateScheduler(lr_schedule)])
print(f"final learning rate: {float(model.optimizer.learning_rate):.4f}")
print(f"loss after the schedule: {history.history['loss'][-1]:.4f}")


# tf.keras (Keras 2) scripts read and set the rate through keras.backend; Keras 3 dropped the two
class HalvingScheduler(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        lr = float(keras.backend.get_value(self.model.optimizer.learning_rate))
        keras.backend.set_value(self.model.optimizer.learning_rate, lr / 2)
        logs["lr"] = lr


if hasattr(keras.backend, "set_value"):
    model = get_model()
    history = model.fit(x_train, y_train, batch_size=64, epochs=3, verbose=0, callbacks=[HalvingScheduler()])
    print("rates used (Keras 2 style):", [round(float(lr), 4) for lr in history.history["lr"]])


# the built-in scheduler, and a LambdaCallback that collects the epoch losses
def scheduler(epoch, lr):
    if epoch < 2:
        return lr
    return float(lr * np.exp(-0.5))


losses_seen = []
collect = keras.callbacks.LambdaCallback(
    on_epoch_end=lambda epoch, logs: losses_seen.append(round(logs["loss"], 4)),
    on_train_end=lambda logs: print(f"LambdaCallback saw {len(losses_seen)} epochs"),
)
model = get_model()
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse", metrics=["mae"])
print(f"start learning rate: {float(np.array(model.optimizer.learning_rate)):.4f}")
history = model.fit(x_train, y_train, epochs=5, verbose=0,
                    callbacks=[keras.callbacks.LearningRateScheduler(scheduler, verbose=1), collect])
print(f"learning rate after 5 epochs: {round(float(np.array(model.optimizer.learning_rate)), 5)}")
print("learning rates in the history:", [round(float(lr), 5) for lr in history.history["learning_rate"]])
print(f"losses seen: {losses_seen == [round(v, 4) for v in history.history['loss']]}")
test_loss, test_mae = model.evaluate(x_test, y_test, verbose=0)
print(f"test mean absolute error: {test_mae:.3f}")
