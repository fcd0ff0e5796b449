"""House prices from features on very different scales, written as a Keras regression tutorial would
write it: a Normalization layer adapted to the training features, first a linear model, then a small
deep one. Only Keras's names are used.
"""
import numpy as np

import glassnet as keras
from glassnet import layers

keras.utils.set_random_seed(3)

# Made-up houses: floor area (m2), rooms, age (years), distance to the centre (km), lot size (m2).
rng = np.random.default_rng(1)
n = 600
area = rng.uniform(40, 250, n)
rooms = np.round(area / 30 + rng.normal(0, 0.7, n)).clip(1, 9)
age = rng.uniform(0, 80, n)
distance = rng.gamma(2.0, 4.0, n)
lot = area * rng.uniform(1.5, 6, n)
features = np.stack([area, rooms, age, distance, lot], axis=1).astype("float32")
price = (2.0 * area + 15 * rooms - 0.8 * age + 300 * np.exp(-distance / 6) + 0.02 * lot
         + rng.normal(0, 15, n)).astype("float32") / 20                 # in units of 20,000

train_features, test_features = features[:480], features[480:]
train_labels, test_labels = price[:480], price[480:]

normalizer = layers.Normalization(axis=-1)
normalizer.adapt(train_features)
print("feature means:", np.round(normalizer.mean.numpy(), 1))
first = train_features[:1]
print("first example normalised:", np.round(normalizer(first).numpy(), 2))

linear_model = keras.Sequential([
    normalizer,
    layers.Dense(units=1),
])
linear_model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.1), loss="mean_absolute_error")
history = linear_model.fit(train_features, train_labels, epochs=100, verbose=0, validation_split=0.2)
linear_mae = linear_model.evaluate(test_features, test_labels, verbose=0)
print(f"linear test MAE: {linear_mae:.2f}")
print("linear kernel shape:", linear_model.layers[1].kernel.shape)

dnn_model = keras.Sequential([
    normalizer,
    layers.Dense(64, activation="relu"),
    layers.Dense(64, activation="relu"),
    layers.Dense(1),
])
dnn_model.compile(optimizer=keras.optimizers.Adam(0.001), loss="mean_absolute_error")
dnn_model.summary()
history = dnn_model.fit(train_features, train_labels, validation_split=0.2, verbose=0, epochs=100)
dnn_mae = dnn_model.evaluate(test_features, test_labels, verbose=0)
print(f"dnn test MAE: {dnn_mae:.2f}")
