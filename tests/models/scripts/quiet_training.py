"""Two healthy trainings under verbose=0, written as a Keras tutorial would write them.

A 784-512-10 ReLU network learns the digits, and a small network learns two half moons over many
epochs with a validation split.  Under verbose=0, fit prints nothing: the script's own lines are
all the output.  Only Keras's names are used.
"""
import glassnet as keras

keras.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist_mini.load_data()
x_train = x_train.reshape((len(x_train), 28 * 28)).astype("float32") / 255
x_test = x_test.reshape((len(x_test), 28 * 28)).astype("float32") / 255

model = keras.Sequential([
    keras.Input(shape=(28 * 28,)),
    keras.layers.Dense(512, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=3, batch_size=128, verbose=0)
test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
print(f"digits test accuracy: {test_acc:.3f}")

x, y = keras.datasets.make_moons(n_samples=1000, noise=0.2, seed=0)
moons = keras.Sequential([
    keras.Input(shape=(2,)),
    keras.layers.Dense(16, activation="relu"),
    keras.layers.Dense(16, activation="relu"),
    keras.layers.Dense(1, activation="sigmoid"),
])
moons.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy", metrics=["accuracy"])
history = moons.fit(x, y, epochs=60, batch_size=32, validation_split=0.2, verbose=0)
print(f"moons validation accuracy: {history.history['val_accuracy'][-1]:.3f}")
