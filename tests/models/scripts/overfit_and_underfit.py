"""Overfitting and underfitting, written as the Keras "overfit and underfit" tutorial would be.

Our own code in the style of TensorFlow's tutorial on a particle-physics classification set: models
of four sizes trained with Adam on an InverseTimeDecay schedule, a from-logits binary cross-entropy
as loss and as a metric, early stopping on the validation cross-entropy and (when the event-file
writer is installed) TensorBoard logs; then the largest model again with an L2 weight penalty, with
Dropout, and with both.  Each model prints its summary; each fit runs steps_per_epoch batches an
epoch.  Only Keras's names are used: swap the import for `import keras` and it runs on Keras 3.

The data block stands in for the tutorial's download: 28 features, a binary label that only a
nonlinear model predicts well, label noise, and sizes (GLASSNET_SCRIPT_TRAIN training rows,
GLASSNET_SCRIPT_EPOCHS at most, GLASSNET_SCRIPT_UNITS for the large models' 512) that a reader may
change.  Logs go under GLASSNET_SCRIPT_DIR.
"""
import importlib.util
import os
import pathlib
import shutil

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import glassnet as keras
from glassnet import layers, regularizers

keras.utils.set_random_seed(1)

# ---- data: a made-up collision table in place of the download --------------------------------------
FEATURES = 28
N_VALIDATION = 1000
N_TRAIN = int(os.environ.get("GLASSNET_SCRIPT_TRAIN", 10000))
MAX_EPOCHS = int(os.environ.get("GLASSNET_SCRIPT_EPOCHS", 10000))
UNITS = int(os.environ.get("GLASSNET_SCRIPT_UNITS", 512))            # the width of the large models
rng = np.random.default_rng(28)
n = N_TRAIN + N_VALIDATION
momenta = rng.gamma(2.0, 0.5, size=(n, 14))
angles = rng.uniform(-1.7, 1.7, size=(n, 14))
features = np.concatenate([momenta, angles], axis=1).astype("float32")
signal = 2.0 * np.tanh(momenta[:, 0] * momenta[:, 1] - 1.0) + np.sin(2 * angles[:, 0]) * momenta[:, 2] \
    - 0.8 * (angles[:, 1] * angles[:, 2]) + 0.5 * (momenta[:, 3] - 1.0)
labels = (rng.random(n) < 1 / (1 + np.exp(-2.0 * signal))).astype("float32")
labels = labels.reshape(-1, 1)        # shaped as the outputs: Keras 3's cross-entropy metric insists
validate_features, validate_labels = features[:N_VALIDATION], labels[:N_VALIDATION]
train_features, train_labels = features[N_VALIDATION:], labels[N_VALIDATION:]
logdir = pathlib.Path(os.environ.get("GLASSNET_SCRIPT_DIR", ".")) / "tensorboard_logs"
shutil.rmtree(logdir, ignore_errors=True)
# glassnet writes TensorBoard's event files with tensorboardX, Keras 3 with TensorFlow's tf.summary
event_writer = "tensorflow" if keras.__name__ == "keras" else "tensorboardX"
write_logs = importlib.util.find_spec(event_writer) is not None
# -----------------------------------------------------------------------------------------------------

BATCH_SIZE = 500
STEPS_PER_EPOCH = N_TRAIN // BATCH_SIZE
print("training rows:", len(train_features), "validation rows:", len(validate_features))
print("positive fraction:", round(float(train_labels.mean()), 3))

lr_schedule = keras.optimizers.schedules.InverseTimeDecay(
    0.001,
    decay_steps=STEPS_PER_EPOCH * 1000,
    decay_rate=1,
    staircase=False)


def get_optimizer():
    return keras.optimizers.Adam(lr_schedule)


step = np.linspace(0, 100000)
lr = lr_schedule(step)
plt.figure(figsize=(8, 6))
plt.plot(step / STEPS_PER_EPOCH, lr)
plt.ylim([0, max(plt.ylim())])
plt.xlabel('Epoch')
plt.ylabel('Learning Rate')
plt.close()
print("learning rate after 1000 epochs:", round(float(lr_schedule(STEPS_PER_EPOCH * 1000)), 6))


class EpochDots(keras.callbacks.Callback):
    """A line every `report_every` epochs, a dot for the others (as the tutorial's docs helper does)."""

    def __init__(self, report_every=100, dot_every=1):
        super().__init__()
        self.report_every = report_every
        self.dot_every = dot_every

    def on_epoch_end(self, epoch, logs):
        if epoch % self.report_every == 0:
            print()
            print('Epoch: {:d}, '.format(epoch), end='')
            for name, value in sorted(logs.items()):
                print('{}:{:0.4f}'.format(name, value), end=', ')
            print()
        if epoch % self.dot_every == 0:
            print('.', end='', flush=True)


def get_callbacks(name):
    callbacks = [
        EpochDots(),
        keras.callbacks.EarlyStopping(monitor='val_binary_crossentropy', patience=200),
    ]
    if write_logs:
        callbacks.append(keras.callbacks.TensorBoard(logdir / name))
    return callbacks


def compile_and_fit(model, name, optimizer=None, max_epochs=MAX_EPOCHS):
    if optimizer is None:
        optimizer = get_optimizer()
    model.compile(optimizer=optimizer,
                  loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[
                      keras.metrics.BinaryCrossentropy(
                          from_logits=True, name='binary_crossentropy'),
                      'accuracy'])

    model.summary()

    history = model.fit(
        train_features, train_labels,
        batch_size=BATCH_SIZE,
        steps_per_epoch=STEPS_PER_EPOCH,
        epochs=max_epochs,
        validation_data=(validate_features, validate_labels),
        callbacks=get_callbacks(name),
        verbose=0)
    print()
    return history


def report(name, history):
    train = history.history['binary_crossentropy'][-1]
    val = history.history['val_binary_crossentropy'][-1]
    print(f"{name}: epochs {len(history.epoch)} train {train:.4f} validation {val:.4f} "
          f"accuracy {history.history['val_accuracy'][-1]:.4f}")


size_histories = {}

tiny_model = keras.Sequential([
    layers.Dense(16, activation='elu', input_shape=(FEATURES,)),
    layers.Dense(1)
])
size_histories['Tiny'] = compile_and_fit(tiny_model, 'sizes/Tiny')

small_model = keras.Sequential([
    layers.Dense(16, activation='elu', input_shape=(FEATURES,)),
    layers.Dense(16, activation='elu'),
    layers.Dense(1)
])
size_histories['Small'] = compile_and_fit(small_model, 'sizes/Small')

medium_model = keras.Sequential([
    layers.Dense(64, activation='elu', input_shape=(FEATURES,)),
    layers.Dense(64, activation='elu'),
    layers.Dense(64, activation='elu'),
    layers.Dense(1)
])
size_histories['Medium'] = compile_and_fit(medium_model, "sizes/Medium")

large_model = keras.Sequential([
    layers.Dense(UNITS, activation='elu', input_shape=(FEATURES,)),
    layers.Dense(UNITS, activation='elu'),
    layers.Dense(UNITS, activation='elu'),
    layers.Dense(UNITS, activation='elu'),
    layers.Dense(1)
])
size_histories['large'] = compile_and_fit(large_model, "sizes/large")


def plot_histories(histories, metric='binary_crossentropy'):
    for name, history in histories.items():
        line, = plt.plot(history.epoch, history.history[metric], '--', label=name.title() + ' Train')
        plt.plot(history.epoch, history.history['val_' + metric], color=line.get_color(), label=name.title() + ' Val')
    plt.xscale('log')
    plt.xlabel("Epochs [Log Scale]")
    plt.ylabel(metric.replace('_', ' ').title())
    plt.legend()


plot_histories(size_histories)
plt.ylim([0.3, 0.8])
plt.close()
for name, history in size_histories.items():
    report(name, history)

if write_logs:
    shutil.rmtree(logdir / 'regularizers/Tiny', ignore_errors=True)
    shutil.copytree(logdir / 'sizes/Tiny', logdir / 'regularizers/Tiny')

regularizer_histories = {}
regularizer_histories['Tiny'] = size_histories['Tiny']

l2_model = keras.Sequential([
    layers.Dense(UNITS, activation='elu', kernel_regularizer=regularizers.l2(0.001), input_shape=(FEATURES,)),
    layers.Dense(UNITS, activation='elu', kernel_regularizer=regularizers.l2(0.001)),
    layers.Dense(UNITS, activation='elu', kernel_regularizer=regularizers.l2(0.001)),
    layers.Dense(UNITS, activation='elu', kernel_regularizer=regularizers.l2(0.001)),
    layers.Dense(1)
])
regularizer_histories['l2'] = compile_and_fit(l2_model, "regularizers/l2")

result = l2_model(validate_features[:10])
regularization_loss = sum(float(loss) for loss in l2_model.losses)
print("regularization losses:", len(l2_model.losses))
print("regularization loss:", round(regularization_loss, 4))

dropout_model = keras.Sequential([
    layers.Dense(UNITS, activation='elu', input_shape=(FEATURES,)),
    layers.Dropout(0.5),
    layers.Dense(UNITS, activation='elu'),
    layers.Dropout(0.5),
    layers.Dense(UNITS, activation='elu'),
    layers.Dropout(0.5),
    layers.Dense(UNITS, activation='elu'),
    layers.Dropout(0.5),
    layers.Dense(1)
])
regularizer_histories['dropout'] = compile_and_fit(dropout_model, "regularizers/dropout")

combined_model = keras.Sequential([
    layers.Dense(UNITS, kernel_regularizer=regularizers.l2(0.0001), activation='elu', input_shape=(FEATURES,)),
    layers.Dropout(0.5),
    layers.Dense(UNITS, kernel_regularizer=regularizers.l2(0.0001), activation='elu'),
    layers.Dropout(0.5),
    layers.Dense(UNITS, kernel_regularizer=regularizers.l2(0.0001), activation='elu'),
    layers.Dropout(0.5),
    layers.Dense(UNITS, kernel_regularizer=regularizers.l2(0.0001), activation='elu'),
    layers.Dropout(0.5),
    layers.Dense(1)
])
regularizer_histories['combined'] = compile_and_fit(combined_model, "regularizers/combined")

plot_histories(regularizer_histories)
plt.ylim([0.3, 0.8])
plt.close()
for name, history in regularizer_histories.items():
    report(name, history)
if write_logs:
    print("log folders:", ", ".join(sorted(str(p.relative_to(logdir)) for p in logdir.glob("*/*"))))
