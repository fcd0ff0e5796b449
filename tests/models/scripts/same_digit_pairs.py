"""Are two handwritten digits the same number?  A Siamese network, written as a Keras tutorial would.

One small encoder (a Sequential model) reads both images, so both sides share its weights; the two
codes are joined and a sigmoid unit answers.  The model has two inputs, given as a dict.  Only
Keras's names are used.
"""
import numpy as np

import glassnet as keras

keras.utils.set_random_seed(3)
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist_mini.load_data()
x_train = x_train.reshape(-1, 784).astype("float32") / 255
x_test = x_test.reshape(-1, 784).astype("float32") / 255


def make_pairs(x, y, n, rng):
    """n pairs, half of them the same digit."""
    first = rng.integers(0, len(x), n)
    second = np.empty(n, dtype=int)
    by_digit = [np.flatnonzero(y == d) for d in range(10)]
    for k, i in enumerate(first):
        if k % 2 == 0:
            second[k] = rng.choice(by_digit[y[i]])
        else:
            second[k] = rng.choice(np.flatnonzero(y != y[i]))
    return x[first], x[second], (y[first] == y[second]).astype("float32")


rng = np.random.default_rng(0)
left_train, right_train, same_train = make_pairs(x_train, y_train, 8000, rng)
left_test, right_test, same_test = make_pairs(x_test, y_test, 2000, rng)

encoder = keras.Sequential([
    keras.Input(shape=(784,)),
    keras.layers.Dense(128, activation="relu"),
    keras.layers.Dense(32, activation="relu"),
], name="encoder")

left = keras.Input(shape=(784,), name="left")
right = keras.Input(shape=(784,), name="right")
codes = keras.layers.Concatenate()([encoder(left), encoder(right)])
hidden = keras.layers.Dense(32, activation="relu")(codes)
same = keras.layers.Dense(1, activation="sigmoid", name="same")(hidden)
siamese = keras.Model(inputs=[left, right], outputs=same)

siamese.summary()
siamese.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
siamese.fit({"left": left_train, "right": right_train}, same_train, epochs=5, batch_size=64, verbose=0)
loss, accuracy = siamese.evaluate([left_test, right_test], same_test, verbose=0)
print(f"pair accuracy: {accuracy:.3f}")
print(f"encoder layers shared: {len(encoder.layers)} layers, {encoder.count_params()} weights")
