"""House prices from 13 features with K-fold validation, written as the dense-network chapter of a
Keras book writes its regression example: features normalised by hand with the training mean and
standard deviation, a build_model() that returns a compiled 64-64-1 network (rmsprop, mse, mae),
a 4-fold loop that trains quietly and evaluates each fold, the per-epoch validation MAE averaged over
the folds and plotted, and a final model trained on all the training data. keras.backend.clear_session()
starts each fold afresh, as scripts that build many models in a loop do.
Our own code, in the style of that chapter; only the import and the data differ from Keras.

The data block stands in for the download: 404 training and 102 test districts with 13 features of
very different scales (a crime rate, shares, a 0/1 river flag, room counts, distances, a tax rate,
...) and a median price in thousands, capped at 50 as the original is.
The figure goes to the folder in GLASSNET_SCRIPT_DIR.
"""
import os

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import glassnet as keras
from glassnet import layers

folder = os.environ.get("GLASSNET_SCRIPT_DIR", ".")
keras.utils.set_random_seed(4)

# ---- the data: made here instead of downloaded (the one swap the tests allow)
rng = np.random.default_rng(13)
n = 506
crime = rng.lognormal(-1.0, 1.5, n)
big_lots = np.where(rng.random(n) < 0.25, rng.uniform(10, 100, n), 0.0)
industry = rng.uniform(0.5, 28, n)
river = (rng.random(n) < 0.07).astype(float)
nox = 0.38 + 0.015 * industry + rng.normal(0, 0.04, n)
rooms = rng.normal(6.3, 0.7, n)
age = rng.uniform(3, 100, n)
distance = np.clip(12 - 0.09 * age + rng.normal(0, 1.5, n), 1.1, 12)
highways = rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 24], n).astype(float)
tax = 180 + 18 * industry + 8 * highways + rng.normal(0, 30, n)
pupils = rng.uniform(12.6, 22, n)
b_index = np.clip(rng.normal(360, 80, n), 0.3, 397)
lower_status = np.clip(30 - 3.5 * (rooms - 4) + rng.normal(0, 4, n), 1.7, 38)
data = np.stack([crime, big_lots, industry, river, nox, rooms, age, distance, highways, tax, pupils,
                 b_index, lower_status], axis=1)
price = (22 + 6 * (rooms - 6.3) - 0.7 * (lower_status - 12) - 1.2 * np.log(crime) - 1.2 * (pupils - 18)
         - 20 * (nox - 0.55) + 4 * river - 0.5 * (distance - 4) + 0.05 * (lower_status - 12) ** 2
         + rng.normal(0, 2.5, n))
targets = np.clip(price, 5, 50)
train_data, test_data = data[:404].copy(), data[404:].copy()
train_targets, test_targets = targets[:404], targets[404:]
# ---- end of the data block

print("train and test shapes:", train_data.shape, test_data.shape)
print(f"first targets: {train_targets[0]:.1f} {train_targets[1]:.1f} {train_targets[2]:.1f}")

mean = train_data.mean(axis=0)
train_data -= mean
std = train_data.std(axis=0)
train_data /= std
test_data -= mean
test_data /= std
print(f"largest normalised feature mean: {np.abs(train_data.mean(axis=0)).max():.2e}")


def build_model():
    model = keras.Sequential([
        layers.Dense(64, activation="relu"),
        layers.Dense(64, activation="relu"),
        layers.Dense(1),
    ])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    return model


k = 4
num_val_samples = len(train_data) // k
num_epochs = 60
all_scores = []
all_mae_histories = []
for i in range(k):
    print(f"Processing fold #{i}")
    keras.backend.clear_session()
    val_data = train_data[i * num_val_samples: (i + 1) * num_val_samples]
    val_targets = train_targets[i * num_val_samples: (i + 1) * num_val_samples]
    partial_train_data = np.concatenate(
        [train_data[:i * num_val_samples],
         train_data[(i + 1) * num_val_samples:]],
        axis=0)
    partial_train_targets = np.concatenate(
        [train_targets[:i * num_val_samples],
         train_targets[(i + 1) * num_val_samples:]],
        axis=0)
    model = build_model()
    history = model.fit(partial_train_data, partial_train_targets,
                        validation_data=(val_data, val_targets),
                        epochs=num_epochs, batch_size=16, verbose=0)
    mae_history = history.history["val_mae"]
    all_mae_histories.append(mae_history)
    val_mse, val_mae = model.evaluate(val_data, val_targets, verbose=0)
    all_scores.append(val_mae)

print("layer names of the last fold:", ", ".join(layer.name for layer in model.layers))
print("fold scores:", " ".join(f"{score:.2f}" for score in all_scores))
print(f"mean fold MAE: {np.mean(all_scores):.2f}")
print(f"last epoch's val_mae equals evaluate's MAE: {abs(all_mae_histories[-1][-1] - all_scores[-1]) < 1e-4}")

average_mae_history = [
    np.mean([x[i] for x in all_mae_histories]) for i in range(num_epochs)]
plt.plot(range(1, len(average_mae_history) + 1), average_mae_history)
plt.xlabel("Epochs")
plt.ylabel("Validation MAE")
plt.savefig(os.path.join(folder, "validation_mae.png"))
plt.clf()

truncated_mae_history = average_mae_history[10:]
plt.plot(range(11, len(average_mae_history) + 1), truncated_mae_history)
plt.xlabel("Epochs")
plt.ylabel("Validation MAE")
plt.savefig(os.path.join(folder, "validation_mae_truncated.png"))
plt.close()
best_epoch = int(np.argmin(average_mae_history)) + 1
print(f"average validation MAE at epochs 1, 10 and {num_epochs}: {average_mae_history[0]:.2f} "
      f"{average_mae_history[9]:.2f} {average_mae_history[-1]:.2f}")
print("best epoch:", best_epoch)

# The final model, on all the training data.
keras.backend.clear_session()
model = build_model()
model.fit(train_data, train_targets, epochs=best_epoch, batch_size=16, verbose=0)
test_mse_score, test_mae_score = model.evaluate(test_data, test_targets, verbose=0)
print(f"test MAE: {test_mae_score:.2f}")
print(f"MAE of always guessing the training mean: {np.mean(np.abs(test_targets - train_targets.mean())):.2f}")
predictions = model.predict(test_data, verbose=0)
print("predictions shape:", predictions.shape)
print(f"first prediction and target: {predictions[0][0]:.1f} {test_targets[0]:.1f}")
