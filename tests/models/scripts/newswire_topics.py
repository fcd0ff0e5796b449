"""Newswires sorted into 46 topics, written as the dense-network chapter of a Keras book writes its
multiclass example: multi-hot vectors made by hand, one-hot labels from keras.utils.to_categorical,
a 64-64-46 softmax network with categorical cross-entropy, retrained for the best number of epochs,
compared with a random baseline made with NumPy, read back with argmax; then the same model on the
integer labels with sparse categorical cross-entropy, and a model squeezed through 4 units.
Our own code, in the style of that chapter; only the import and the data differ from Keras.

The data block stands in for the download: wires of 30-150 word ids out of 500, in 46 topics of
very different sizes (a few big topics, many small ones), each topic with words of its own.
"""
import numpy as np

import glassnet as keras
from glassnet import layers
from glassnet.utils import to_categorical

keras.utils.set_random_seed(2)

# ---- the data: made here instead of downloaded (the one swap the tests allow)
num_words = 500
num_topics = 46
rng = np.random.default_rng(8)
topic_share = 1.0 / np.arange(1, num_topics + 1) ** 1.1                  # topic 0 is the biggest
topic_share /= topic_share.sum()
topic_words = [rng.choice(np.arange(4, num_words), size=15, replace=False) for _ in range(num_topics)]


def make_wires(n):
    wires = []
    topics = rng.choice(num_topics, size=n, p=topic_share)
    for topic in topics:
        length = int(rng.integers(30, 151))
        words = rng.integers(4, num_words, size=length)
        own = rng.random(length) < 0.2                                    # a fifth of the words are the topic's
        words[own] = rng.choice(topic_words[topic], size=int(own.sum()))
        wires.append([1] + words.tolist())
    return wires, topics


train_data, train_labels = make_wires(2000)
test_data, test_labels = make_wires(600)
# ---- end of the data block

print("training and test wires:", len(train_data), len(test_data))
print("topics seen in training:", len(np.unique(train_labels)))


def vectorize_sequences(sequences, dimension=num_words):
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        results[i, sequence] = 1.
    return results


x_train = vectorize_sequences(train_data)
x_test = vectorize_sequences(test_data)
y_train = to_categorical(train_labels)
y_test = to_categorical(test_labels)
print("one-hot labels:", y_train.shape, y_train.dtype)
print("first label:", train_labels[0], np.argmax(y_train[0]))

model = keras.Sequential([
    layers.Dense(64, activation="relu"),
    layers.Dense(64, activation="relu"),
    layers.Dense(46, activation="softmax"),
])
model.compile(optimizer="rmsprop",
              loss="categorical_crossentropy",
              metrics=["accuracy"])

x_val = x_train[:500]
partial_x_train = x_train[500:]
y_val = y_train[:500]
partial_y_train = y_train[500:]

history = model.fit(partial_x_train,
                    partial_y_train,
                    epochs=20,
                    batch_size=512,
                    validation_data=(x_val, y_val),
                    verbose=0)
val_loss = history.history["val_loss"]
best_epochs = int(np.argmin(val_loss)) + 1
print("epochs to the lowest validation loss:", best_epochs)
print(f"validation accuracy after 20 epochs: {history.history['val_accuracy'][-1]:.3f}")

# A new model, trained for the number of epochs the validation curve chose.
model = keras.Sequential([
    layers.Dense(64, activation="relu"),
    layers.Dense(64, activation="relu"),
    layers.Dense(46, activation="softmax"),
])
model.compile(optimizer="rmsprop",
              loss="categorical_crossentropy",
              metrics=["accuracy"])
model.fit(x_train, y_train, epochs=best_epochs, batch_size=512, verbose=0)
results = model.evaluate(x_test, y_test, verbose=0)
print(f"test loss and accuracy: {results[0]:.3f} {results[1]:.3f}")

# How good is that? A random classifier: shuffle the test labels and count the hits.
test_labels_copy = np.array(test_labels).copy()
np.random.shuffle(test_labels_copy)
hits_array = np.array(test_labels) == test_labels_copy
print(f"random baseline accuracy: {hits_array.mean():.3f}")

predictions = model.predict(x_test, verbose=0)
print("prediction shape:", predictions[0].shape)
print(f"sum of the first prediction: {np.sum(predictions[0]):.4f}")
predicted_topics = np.argmax(predictions, axis=1)
print("first predicted topics:", predicted_topics[:5].tolist(), "true:", np.array(test_labels[:5]).tolist())
print(f"argmax accuracy: {np.mean(predicted_topics == test_labels):.3f}")

# The same network on the integer labels, with the sparse loss.
y_train = np.array(train_labels)
y_test = np.array(test_labels)
model = keras.Sequential([
    layers.Dense(64, activation="relu"),
    layers.Dense(64, activation="relu"),
    layers.Dense(46, activation="softmax"),
])
model.compile(optimizer="rmsprop",
              loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
model.fit(x_train, y_train, epochs=best_epochs, batch_size=512, verbose=0)
sparse_loss, sparse_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"sparse labels test accuracy: {sparse_accuracy:.3f}")

# A bottleneck: 46 classes squeezed through 4 units lose information.
model = keras.Sequential([
    layers.Dense(64, activation="relu"),
    layers.Dense(4, activation="relu"),
    layers.Dense(46, activation="softmax"),
])
model.compile(optimizer="rmsprop",
              loss="categorical_crossentropy",
              metrics=["accuracy"])
model.fit(partial_x_train, partial_y_train, epochs=20, batch_size=128,
          validation_data=(x_val, y_val), verbose=0)
_, bottleneck_accuracy = model.evaluate(x_test, to_categorical(test_labels), verbose=0)
print(f"4-unit bottleneck test accuracy: {bottleneck_accuracy:.3f}")
