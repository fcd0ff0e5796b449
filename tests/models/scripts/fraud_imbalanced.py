"""Classification on imbalanced data, written as TensorFlow's intermediate Keras tutorial of that
name would write it (our own code, not the tutorial's): a pandas table of card transactions where
about one in sixty is fraudulent, a train/validation/test split, standardised and clipped features,
the full set of metric classes, an output bias set to the log of the class odds, weights saved once
and loaded into every model, then three ways to train: as is, with class weights, and on an
oversampled training set fed batch by batch.

The data block is the one part a tutorial downloads; here it is made up.  Only Keras's names are
used; the weights go to the folder in GLASSNET_SCRIPT_DIR.
"""
import os

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

import glassnet as keras

folder = os.environ.get("GLASSNET_SCRIPT_DIR", ".")
keras.utils.set_random_seed(2024)

# ---- data (a tutorial reads a CSV file here) ------------------------------------------------------
rng = np.random.default_rng(2024)
n = 12000
fraud = rng.random(n) < 0.017
columns = {"Time": np.sort(rng.uniform(0, 172800, n))}
for i in range(1, 9):
    shift = np.where(fraud, rng.normal(2.2 if i <= 4 else -1.2, 1.0, n), 0.0)
    columns[f"V{i}"] = rng.normal(0, 1, n) + shift
columns["Amount"] = np.round(rng.lognormal(3.0 + 0.8 * fraud, 1.2), 2)
columns["Class"] = fraud.astype("int64")
raw_df = pd.DataFrame(columns)
# ---------------------------------------------------------------------------------------------------

print(raw_df[["Time", "V1", "V2", "Amount", "Class"]].describe().loc[["mean", "std"]].round(2))
neg, pos = np.bincount(raw_df["Class"])
total = neg + pos
print(f"Examples:\n    Total: {total}\n    Positive: {pos} ({100 * pos / total:.2f}% of total)")

cleaned_df = raw_df.copy()
cleaned_df.pop("Time")
eps = 0.001
cleaned_df["Log Amount"] = np.log(cleaned_df.pop("Amount") + eps)

train_df, test_df = train_test_split(cleaned_df, test_size=0.2, random_state=1)
train_df, val_df = train_test_split(train_df, test_size=0.2, random_state=2)

train_labels = np.array(train_df.pop("Class")).reshape(-1, 1)
bool_train_labels = train_labels[:, 0] != 0
val_labels = np.array(val_df.pop("Class")).reshape(-1, 1)
test_labels = np.array(test_df.pop("Class")).reshape(-1, 1)
train_features = np.array(train_df)
val_features = np.array(val_df)
test_features = np.array(test_df)

# standardise by hand with the training set's mean and spread, then clip the outliers
mean = train_features.mean(axis=0)
std = train_features.std(axis=0)
train_features = np.clip((train_features - mean) / std, -5, 5)
val_features = np.clip((val_features - mean) / std, -5, 5)
test_features = np.clip((test_features - mean) / std, -5, 5)
print("Training labels shape:", train_labels.shape)
print("Training features shape:", train_features.shape)

METRICS = [
    keras.metrics.BinaryCrossentropy(name="cross entropy"),
    keras.metrics.MeanSquaredError(name="Brier score"),
    keras.metrics.TruePositives(name="tp"),
    keras.metrics.FalsePositives(name="fp"),
    keras.metrics.TrueNegatives(name="tn"),
    keras.metrics.FalseNegatives(name="fn"),
    keras.metrics.BinaryAccuracy(name="accuracy"),
    keras.metrics.Precision(name="precision"),
    keras.metrics.Recall(name="recall"),
    keras.metrics.AUC(name="auc"),
    keras.metrics.AUC(name="prc", curve="PR"),
]


def make_model(metrics=METRICS, output_bias=None):
    if output_bias is not None:
        output_bias = keras.initializers.Constant(output_bias)
    model = keras.Sequential([
        keras.layers.Dense(16, activation="relu", input_shape=(train_features.shape[-1],)),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(1, activation="sigmoid", bias_initializer=output_bias),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss=keras.losses.BinaryCrossentropy(), metrics=metrics)
    return model


EPOCHS = 60
BATCH_SIZE = 512
early_stopping = keras.callbacks.EarlyStopping(monitor="val_prc", verbose=1, patience=10, mode="max",
                                               restore_best_weights=True)

model = make_model()
model.summary()
print("first predictions:", model.predict(train_features[:10]).ravel().round(3))
results = model.evaluate(train_features, train_labels, batch_size=BATCH_SIZE, verbose=0)
print(f"Loss with no bias: {results[0]:0.4f}")

initial_bias = np.log([pos / neg])
print("initial bias:", initial_bias)
model = make_model(output_bias=initial_bias)
print("first predictions with the bias:", model.predict(train_features[:10]).ravel().round(3))
results = model.evaluate(train_features, train_labels, batch_size=BATCH_SIZE, verbose=0)
print(f"Loss with the bias: {results[0]:0.4f}")
print(f"expected loss: {-(pos / total) * np.log(pos / total) - (neg / total) * np.log(neg / total):0.4f}")

initial_weights = os.path.join(folder, "initial.weights.h5")
model.save_weights(initial_weights)

# a careful bias against a zero bias, over a few epochs
model = make_model()
model.load_weights(initial_weights)
model.layers[-1].bias.assign([0.0])
zero_bias_history = model.fit(train_features, train_labels, batch_size=BATCH_SIZE, epochs=5,
                              validation_data=(val_features, val_labels), verbose=0)
model = make_model()
model.load_weights(initial_weights)
careful_bias_history = model.fit(train_features, train_labels, batch_size=BATCH_SIZE, epochs=5,
                                 validation_data=(val_features, val_labels), verbose=0)
print(f"first epoch loss with a zero bias: {zero_bias_history.history['loss'][0]:0.4f}")
print(f"first epoch loss with the careful bias: {careful_bias_history.history['loss'][0]:0.4f}")

# the baseline
model = make_model()
model.load_weights(initial_weights)
baseline_history = model.fit(train_features, train_labels, batch_size=BATCH_SIZE, epochs=EPOCHS,
                             callbacks=[early_stopping], validation_data=(val_features, val_labels),
                             verbose=0)
train_predictions_baseline = model.predict(train_features, batch_size=BATCH_SIZE)
test_predictions_baseline = model.predict(test_features, batch_size=BATCH_SIZE)
baseline_results = model.evaluate(test_features, test_labels, batch_size=BATCH_SIZE, verbose=0,
                                  return_dict=True)
for name, value in baseline_results.items():
    print(f"baseline {name}: {value:.4f}")


def confusion(labels, predictions, p=0.5):
    predicted = predictions.ravel() > p
    actual = labels.ravel() == 1
    return {"tn": int(np.sum(~actual & ~predicted)), "fp": int(np.sum(~actual & predicted)),
            "fn": int(np.sum(actual & ~predicted)), "tp": int(np.sum(actual & predicted))}


print("baseline confusion from predict:", confusion(test_labels, test_predictions_baseline))

# class weights: each class carries half of the total weight
weight_for_0 = (1 / neg) * (total / 2.0)
weight_for_1 = (1 / pos) * (total / 2.0)
class_weight = {0: weight_for_0, 1: weight_for_1}
print(f"Weight for class 0: {weight_for_0:.2f}")
print(f"Weight for class 1: {weight_for_1:.2f}")

weighted_model = make_model()
weighted_model.load_weights(initial_weights)
weighted_history = weighted_model.fit(train_features, train_labels, batch_size=BATCH_SIZE, epochs=EPOCHS,
                                      callbacks=[early_stopping], validation_data=(val_features, val_labels),
                                      class_weight=class_weight, verbose=0)
test_predictions_weighted = weighted_model.predict(test_features, batch_size=BATCH_SIZE)
weighted_results = weighted_model.evaluate(test_features, test_labels, batch_size=BATCH_SIZE, verbose=0,
                                           return_dict=True)
for name, value in weighted_results.items():
    print(f"weighted {name}: {value:.4f}")
print("weighted confusion from predict:", confusion(test_labels, test_predictions_weighted))

# oversampling: draw positives with replacement until they are as many as the negatives
pos_features = train_features[bool_train_labels]
neg_features = train_features[~bool_train_labels]
pos_labels = train_labels[bool_train_labels]
neg_labels = train_labels[~bool_train_labels]
ids = np.arange(len(pos_features))
choices = np.random.choice(ids, len(neg_features))
res_pos_features = pos_features[choices]
res_pos_labels = pos_labels[choices]
resampled_features = np.concatenate([res_pos_features, neg_features], axis=0)
resampled_labels = np.concatenate([res_pos_labels, neg_labels], axis=0)
order = np.arange(len(resampled_labels))
np.random.shuffle(order)
resampled_features = resampled_features[order]
resampled_labels = resampled_labels[order]
print("Resampled features shape:", resampled_features.shape)
print(f"Resampled positive share: {resampled_labels.mean():.3f}")


def resampled_batches(batch_size):
    """Endless batches of the balanced set, as a tf.data pipeline would serve them."""
    while True:
        picks = np.random.permutation(len(resampled_labels))
        for start in range(0, len(picks) - batch_size + 1, batch_size):
            rows = picks[start:start + batch_size]
            yield resampled_features[rows], resampled_labels[rows]


resampled_steps_per_epoch = int(np.ceil(2.0 * neg / BATCH_SIZE))
print("resampled steps per epoch:", resampled_steps_per_epoch)
resampled_model = make_model()
resampled_model.load_weights(initial_weights)
output_layer = resampled_model.layers[-1]
output_layer.bias.assign([0])       # the resampled set is balanced: start from even odds
resampled_history = resampled_model.fit(resampled_batches(BATCH_SIZE), epochs=EPOCHS,
                                        steps_per_epoch=resampled_steps_per_epoch // 4,
                                        callbacks=[early_stopping], validation_data=(val_features, val_labels),
                                        verbose=0)
test_predictions_resampled = resampled_model.predict(test_features, batch_size=BATCH_SIZE)
resampled_results = resampled_model.evaluate(test_features, test_labels, batch_size=BATCH_SIZE, verbose=0,
                                             return_dict=True)
for name, value in resampled_results.items():
    print(f"resampled {name}: {value:.4f}")
print("resampled confusion from predict:", confusion(test_labels, test_predictions_resampled))

# and once more by hand, one balanced batch at a time
hand_model = make_model()
hand_model.load_weights(initial_weights)
hand_model.layers[-1].bias.assign([0.0])
batches = resampled_batches(BATCH_SIZE)
for step in range(150):
    x_batch, y_batch = next(batches)
    logs = hand_model.train_on_batch(x_batch, y_batch, return_dict=True)
print(f"hand loop last batch loss: {logs['loss']:.4f}")
hand_results = hand_model.evaluate(test_features, test_labels, batch_size=BATCH_SIZE, verbose=0,
                                   return_dict=True)
print(f"hand loop test recall: {hand_results['recall']:.4f}")
print(f"hand loop test auc: {hand_results['auc']:.4f}")
print("epochs run:", len(baseline_history.history["loss"]), len(weighted_history.history["loss"]),
      len(resampled_history.history["loss"]))
