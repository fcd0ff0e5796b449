"""Catching rare positives with class weights, written as a Keras tutorial would write it.

A table of "transactions" where 1 in 25 is fraudulent.  A classifier trained as usual learns that
calling everything legitimate is 96% accurate; weighting the rare class by how rare it is makes
each fraud count as much as all the legitimate ones together, and the model catches most of them.
Only Keras's names are used; the fit of the weighted model also shows steps_per_epoch, a
validation set checked every other epoch, and a callback that counts the batches it sees.
"""
import numpy as np

import glassnet as keras

keras.utils.set_random_seed(1337)
rng = np.random.default_rng(1337)

# 5,000 transactions with 6 features; the frauds sit off to one side, overlapping the rest
n, fraud_rate = 5000, 0.04
targets = (rng.uniform(size=n) < fraud_rate).astype("int64")
features = rng.normal(size=(n, 6)).astype("float32")
features[targets == 1, :3] += 1.6

split = int(0.8 * n)
train_features, val_features = features[:split], features[split:]
train_targets, val_targets = targets[:split], targets[split:]
counts = np.bincount(train_targets)
print(f"positive samples in training data: {counts[1]} of {len(train_targets)} "
      f"({100 * counts[1] / len(train_targets):.2f}%)")

mean, std = train_features.mean(axis=0), train_features.std(axis=0)
train_features = (train_features - mean) / std
val_features = (val_features - mean) / std


def make_model():
    model = keras.Sequential([
        keras.Input(shape=(train_features.shape[-1],)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def recall_and_precision(model):
    predicted = (model.predict(val_features, batch_size=1024)[:, 0] > 0.5).astype("int64")
    caught = int(np.sum((predicted == 1) & (val_targets == 1)))
    flagged = int(np.sum(predicted == 1))
    return caught / max(int(np.sum(val_targets == 1)), 1), caught / max(flagged, 1)


class BatchCounter(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.batches = 0

    def on_batch_end(self, batch, logs=None):
        self.batches += 1


# As is: every sample counts the same
plain = make_model()
plain.fit(train_features, train_targets, batch_size=256, epochs=10, verbose=0)
plain_recall, _ = recall_and_precision(plain)

# Weighted: each class carries half of the total weight
weight_for_0 = len(train_targets) / (2.0 * counts[0])
weight_for_1 = len(train_targets) / (2.0 * counts[1])
class_weight = {0: weight_for_0, 1: weight_for_1}
print(f"weight for class 0: {weight_for_0:.2f}")
print(f"weight for class 1: {weight_for_1:.2f}")

counter = BatchCounter()
weighted = make_model()
history = weighted.fit(train_features, train_targets, batch_size=256, epochs=10, steps_per_epoch=16,
                       class_weight=class_weight, validation_data=(val_features, val_targets),
                       validation_freq=2, callbacks=[counter], verbose=0)
weighted_recall, weighted_precision = recall_and_precision(weighted)
val_loss, val_accuracy = weighted.evaluate(val_features, val_targets, verbose=0)

print(f"batches seen: {counter.batches}")
print(f"validation losses recorded: {len(history.history['val_loss'])}")
print(f"recall without class weights: {plain_recall:.3f}")
print(f"recall with class weights: {weighted_recall:.3f}")
print(f"precision with class weights: {weighted_precision:.3f}")
print(f"validation accuracy with class weights: {val_accuracy:.3f}")
