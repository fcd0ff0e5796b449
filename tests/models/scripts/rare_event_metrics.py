"""Judge a classifier of rare events by more than its accuracy, written as a Keras tutorial would.

About one case in ten is positive (a synthetic set of loan applications: twelve numeric features, a
default rate near 10%), so a model that always says "no" is 90% accurate.  The model is compiled
with the metric classes that tell the difference: the four confusion counts, precision, recall, the
areas under the ROC and the precision-recall curves, and a thresholded F1 score; training stops on
the validation PR area.  Only Keras's names are used.
"""
import numpy as np

import glassnet as keras

rng = np.random.default_rng(7)
n, features = 5000, 12
x = rng.normal(size=(n, features)).astype("float32")
risk = x @ rng.normal(scale=0.8, size=features) + 0.8 * x[:, 0] * x[:, 1] - 3.8
y = (rng.random(n) < 1 / (1 + np.exp(-risk))).astype("float32")
split = 4000
x_train, y_train, x_test, y_test = x[:split], y[:split], x[split:], y[split:]
print(f"positives in training: {y_train.mean():.3f}")

keras.utils.set_random_seed(3)
model = keras.Sequential([
    keras.Input(shape=(features,)),
    keras.layers.Dense(32, activation="relu"),
    keras.layers.Dense(16, activation="relu"),
    keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=1e-3),
    loss=keras.losses.BinaryCrossentropy(),
    metrics=[
        keras.metrics.BinaryAccuracy(name="accuracy"),
        keras.metrics.TruePositives(name="tp"),
        keras.metrics.FalsePositives(name="fp"),
        keras.metrics.TrueNegatives(name="tn"),
        keras.metrics.FalseNegatives(name="fn"),
        keras.metrics.Precision(name="precision"),
        keras.metrics.Recall(name="recall"),
        keras.metrics.AUC(name="auc"),
        keras.metrics.AUC(name="prc", curve="PR"),
        keras.metrics.F1Score(threshold=0.5, name="f1"),
    ],
)
stop = keras.callbacks.EarlyStopping(monitor="val_prc", mode="max", patience=4, restore_best_weights=True)
history = model.fit(x_train, y_train, batch_size=64, epochs=30, validation_split=0.2, callbacks=[stop], verbose=0)
print(f"epochs trained: {len(history.history['loss'])}")
print(f"history keys: {', '.join(sorted(k for k in history.history if not k.startswith('val_')))}")

results = model.evaluate(x_test, y_test, batch_size=256, verbose=0, return_dict=True)
for name in ("accuracy", "precision", "recall", "auc", "prc", "f1"):
    print(f"test {name}: {results[name]:.3f}")
print(f"test confusion: tp={results['tp']:.0f} fp={results['fp']:.0f} tn={results['tn']:.0f} fn={results['fn']:.0f}")

predicted = model.predict(x_test, verbose=0)[:, 0] > 0.5
print(f"positives caught by predict: {int(np.sum(predicted & (y_test == 1)))} of {int(y_test.sum())}")
always_no = 1.0 - y_test.mean()
print(f"accuracy of always saying no: {always_no:.3f}")
