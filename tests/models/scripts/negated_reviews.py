"""Sentiment that depends on word order, written as a keras.io text-classification example would be.

Made-up reviews of word ids (0 pads them to a fixed length).  Each holds one sentiment word ("great",
"awful", ...) and, somewhere, the word "not"; when "not" comes right before the sentiment word it flips
the sentiment ("not great" is negative), elsewhere it means nothing.  Every review therefore holds the
same kinds of words whatever its label: a model that averages word vectors (a bag of words) cannot tell
"not great ... fine" from "not ... great" and stays near chance, while a 1-D convolution reads
neighbouring words together and finds the pairs.  The convnet is the keras.io text classifier's shape
(our own code): Embedding, Dropout, Conv1D relu, GlobalMaxPooling1D, Dense relu, Dropout, a sigmoid
unit; built with the functional API.  Only Keras's names are used.
"""
import numpy as np

import glassnet as keras
from glassnet import layers

keras.utils.set_random_seed(3)

max_features = 400                          # vocabulary size
sequence_length = 40
NOT = 2                                     # the id of "not"
positive_words = np.arange(10, 30)          # "great", "lovely", ...
negative_words = np.arange(30, 50)          # "awful", "boring", ...
filler_words = np.arange(50, max_features)


def make_reviews(n, rng):
    """n reviews of 12-40 words: filler, one sentiment word, one "not" (right before it half the time)."""
    reviews, labels = [], []
    for _ in range(n):
        length = int(rng.integers(12, sequence_length + 1))
        words = rng.choice(filler_words, size=length)
        positive = rng.random() < 0.5
        place = int(rng.integers(1, length))
        words[place] = rng.choice(positive_words if positive else negative_words)
        negated = rng.random() < 0.5
        if negated:
            words[place - 1] = NOT
        else:                               # "not" somewhere it does not touch the sentiment word
            elsewhere = [i for i in range(length) if i not in (place - 1, place)]
            words[rng.choice(elsewhere)] = NOT
        reviews.append(words.tolist())
        labels.append(int(positive != negated))
    return reviews, np.array(labels)


rng = np.random.default_rng(0)
train_reviews, y_train = make_reviews(3000, rng)
test_reviews, y_test = make_reviews(1000, rng)
x_train = keras.utils.pad_sequences(train_reviews, maxlen=sequence_length, padding="post")
x_test = keras.utils.pad_sequences(test_reviews, maxlen=sequence_length, padding="post")
print("x_train shape:", x_train.shape)
print("reviews holding 'not':", float(np.mean([(x == NOT).any() for x in x_train])))

# A bag of words first: the average of the word vectors, whatever their order
bag = keras.Sequential([
    keras.Input(shape=(sequence_length,), dtype="int64"),
    layers.Embedding(max_features, 16),
    layers.GlobalAveragePooling1D(),
    layers.Dense(16, activation="relu"),
    layers.Dense(1, activation="sigmoid"),
])
bag.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
bag.fit(x_train, y_train, batch_size=32, epochs=8, validation_split=0.2, verbose=0)
print("bag of words test accuracy:", round(bag.evaluate(x_test, y_test, verbose=0)[1], 3))

# The convnet: word vectors, then filters over 3 neighbouring words, the strongest match anywhere
embedding_dim = 32
inputs = keras.Input(shape=(sequence_length,), dtype="int64")
x = layers.Embedding(max_features, embedding_dim)(inputs)
x = layers.Dropout(0.2)(x)
x = layers.Conv1D(64, 3, padding="valid", activation="relu")(x)
x = layers.GlobalMaxPooling1D()(x)
x = layers.Dense(64, activation="relu")(x)
x = layers.Dropout(0.5)(x)
predictions = layers.Dense(1, activation="sigmoid", name="predictions")(x)
model = keras.Model(inputs, predictions)
model.summary()

model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=32, epochs=8, validation_split=0.2, verbose=2)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"convnet test accuracy: {accuracy:.3f}")

# Two reviews that differ only in where "not" stands
great = int(positive_words[0])
filler = [int(w) for w in filler_words[:10]]
near = filler[:4] + [NOT, great] + filler[4:]
far = [NOT] + filler[:4] + [great] + filler[4:]
pair = keras.utils.pad_sequences([near, far], maxlen=sequence_length, padding="post")
p_near, p_far = model.predict(pair, verbose=0)[:, 0]
print(f"'not great': {p_near:.3f}")
print(f"'not ... great': {p_far:.3f}")
