"""A two-branch classifier on two half moons, written as a Keras tutorial would write it.

One branch sees the points through tanh units, the other through relu units; the two views are
joined, mixed by one more layer, and a softmax picks the moon.  Only Keras's names are used.
"""
import glassnet as keras

keras.utils.set_random_seed(42)
x, y = keras.datasets.make_moons(n_samples=600, noise=0.15, seed=0)
x_train, y_train, x_test, y_test = x[:500], y[:500], x[500:], y[500:]

inputs = keras.Input(shape=(2,), name="point")
smooth = keras.layers.Dense(16, activation="tanh", name="smooth")(inputs)
sharp = keras.layers.Dense(16, activation="relu", name="sharp")(inputs)
joined = keras.layers.Concatenate(name="both_views")([smooth, sharp])
mixed = keras.layers.Dense(16, activation="relu", name="mix")(joined)
outputs = keras.layers.Dense(2, activation="softmax", name="moon")(mixed)
model = keras.Model(inputs=inputs, outputs=outputs, name="two_branch_moons")

model.summary()
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=30, batch_size=32, validation_split=0.1, verbose=0)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy {accuracy:.3f}")
