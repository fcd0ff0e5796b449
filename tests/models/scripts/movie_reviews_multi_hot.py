"""Movie reviews as multi-hot vectors, written as the dense-network chapter of a Keras book writes its
first binary classifier: word-id sequences turned into 0/1 vectors by hand with NumPy, a 16-16-1
network given no input shape (it is built by the first fit), validation data held out by hand, the
history's losses plotted, then a fresh model retrained for 4 epochs and asked for predictions.
Our own code, in the style of those chapters; only the import and the data differ from Keras.

The data block stands in for the download: reviews of 20-120 word ids out of 1,000 (ids under 4 are the
reserved padding/start/unknown ids), where a few hundred ids lean positive or negative.
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
keras.utils.set_random_seed(11)

# ---- the data: made here instead of downloaded (the one swap the tests allow)
num_words = 1000
rng = np.random.default_rng(5)
positive_ids = rng.choice(np.arange(4, num_words), size=100, replace=False)
rest = np.setdiff1d(np.arange(4, num_words), positive_ids)
negative_ids = rng.choice(rest, size=100, replace=False)


def make_reviews(n):
    sequences, labels = [], []
    for _ in range(n):
        label = int(rng.integers(0, 2))
        length = int(rng.integers(20, 121))
        words = rng.integers(4, num_words, size=length)
        leaning = positive_ids if label == 1 else negative_ids
        opposite = negative_ids if label == 1 else positive_ids
        k = int(rng.integers(4, 11))
        spots = rng.choice(length, size=k + 1, replace=False)
        words[spots[:k]] = rng.choice(leaning, size=k)
        words[spots[k]] = rng.choice(opposite)                   # every review has a dissenting word
        sequences.append([1] + words.tolist())                    # 1 marks the start of a review
        labels.append(label)
    return sequences, np.array(labels)


train_data, train_labels = make_reviews(4000)
test_data, test_labels = make_reviews(1000)
# ---- end of the data block

print("first review starts:", train_data[0][:8])
print("largest word id:", max(max(sequence) for sequence in train_data))


def vectorize_sequences(sequences, dimension=num_words):
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        for j in sequence:
            results[i, j] = 1.
    return results


x_train = vectorize_sequences(train_data)
x_test = vectorize_sequences(test_data)
y_train = np.asarray(train_labels).astype("float32")
y_test = np.asarray(test_labels).astype("float32")
print("x_train shape:", x_train.shape)

model = keras.Sequential([
    layers.Dense(16, activation="relu"),
    layers.Dense(16, activation="relu"),
    layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="rmsprop",
              loss="binary_crossentropy",
              metrics=["accuracy"])

x_val = x_train[:1000]
partial_x_train = x_train[1000:]
y_val = y_train[:1000]
partial_y_train = y_train[1000:]

history = model.fit(partial_x_train,
                    partial_y_train,
                    epochs=20,
                    batch_size=512,
                    validation_data=(x_val, y_val),
                    verbose=0)
history_dict = history.history
print("history keys:", sorted(history_dict.keys()))

loss_values = history_dict["loss"]
val_loss_values = history_dict["val_loss"]
epochs = range(1, len(loss_values) + 1)
plt.plot(epochs, loss_values, "bo", label="Training loss")
plt.plot(epochs, val_loss_values, "b", label="Validation loss")
plt.title("Training and validation loss")
plt.xlabel("Epochs")
plt.ylabel("Loss")
plt.legend()
plt.savefig(os.path.join(folder, "review_losses.png"))
plt.clf()

acc = history_dict["accuracy"]
val_acc = history_dict["val_accuracy"]
plt.plot(epochs, acc, "bo", label="Training acc")
plt.plot(epochs, val_acc, "b", label="Validation acc")
plt.title("Training and validation accuracy")
plt.xlabel("Epochs")
plt.ylabel("Accuracy")
plt.legend()
plt.savefig(os.path.join(folder, "review_accuracy.png"))
plt.close()

best_epoch = int(np.argmin(val_loss_values)) + 1
print("lowest validation loss at epoch:", best_epoch)
print(f"training loss first and last: {loss_values[0]:.3f} {loss_values[-1]:.3f}")

# Retrain from scratch for 4 epochs, on all the training data, and evaluate on the test set.
model = keras.Sequential([
    layers.Dense(16, activation="relu"),
    layers.Dense(16, activation="relu"),
    layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="rmsprop",
              loss="binary_crossentropy",
              metrics=["accuracy"])
model.fit(x_train, y_train, epochs=4, batch_size=512)
results = model.evaluate(x_test, y_test)
print(f"test loss and accuracy: {results[0]:.3f} {results[1]:.3f}")

predictions = model.predict(x_test, verbose=0)
print("predictions shape:", predictions.shape)
print("first predictions:", " ".join(f"{p:.3f}" for p in predictions[:3, 0]))
print(f"accuracy of thresholded predictions: {np.mean((predictions[:, 0] > 0.5) == y_test):.3f}")
