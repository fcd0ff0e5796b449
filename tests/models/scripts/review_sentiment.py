"""Sentiment of short made-up reviews, written as a Keras text-classification tutorial would write it.

Each review is a sequence of word ids (0 pads it to a fixed length). A few words carry the
sentiment ("great", "awful", ...); most are filler. The classic small text model learns a vector per
word (Embedding), averages a review's vectors (GlobalAveragePooling1D) and reads the sentiment off the
average (Dense). Only Keras's names are used.
"""
import numpy as np

import glassnet as keras
from glassnet import layers

keras.utils.set_random_seed(7)

vocab_size = 500
sequence_length = 30
positive_words = np.arange(10, 30)          # the ids of "great", "lovely", ...
negative_words = np.arange(30, 50)          # the ids of "awful", "boring", ...
filler_words = np.arange(50, vocab_size)


def make_reviews(n, rng):
    """n reviews of 8-30 words: filler, plus 1-3 words of one sentiment (and maybe one of the other)."""
    x = np.zeros((n, sequence_length), dtype="int64")
    y = rng.integers(0, 2, size=n)
    for i in range(n):
        length = rng.integers(8, sequence_length + 1)
        words = rng.choice(filler_words, size=length)
        own = positive_words if y[i] == 1 else negative_words
        other = negative_words if y[i] == 1 else positive_words
        k = rng.integers(1, 4)
        places = rng.choice(length, size=k + 1, replace=False)
        words[places[:k]] = rng.choice(own, size=k)
        if rng.random() < 0.3 and k > 1:                     # a "but": one word of the other side
            words[places[k]] = rng.choice(other)
        x[i, :length] = words                                # padded with 0 at the end
    return x, y


rng = np.random.default_rng(0)
x_train, y_train = make_reviews(2000, rng)
x_test, y_test = make_reviews(500, rng)
print("x_train shape:", x_train.shape)

model = keras.Sequential([
    keras.Input(shape=(sequence_length,), dtype="int64"),
    layers.Embedding(vocab_size, 16),
    layers.Dropout(0.2),
    layers.GlobalAveragePooling1D(),
    layers.Dense(16, activation="relu"),
    layers.Dense(1, activation="sigmoid"),
])
model.summary()
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, epochs=10, batch_size=32, validation_split=0.2, verbose=0)
print("final validation accuracy:", round(history.history["val_accuracy"][-1], 3))

loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy: {accuracy:.3f}")

# Which words did the model learn to find positive? Score a "review" that repeats one word.
embeddings = model.layers[0].get_weights()[0]
print("embedding matrix:", embeddings.shape)
one_word_reviews = np.repeat(np.arange(1, 60)[:, None], sequence_length, axis=1)
scores = model.predict(one_word_reviews, verbose=0)[:, 0]
most_positive = np.argsort(scores)[::-1][:5] + 1
most_negative = np.argsort(scores)[:5] + 1
print("most positive words:", sorted(most_positive.tolist()))
print("most negative words:", sorted(most_negative.tolist()))
