"""One network, two questions about a handwritten digit, written as a Keras tutorial would write it.

A shared trunk reads the image; one head names the digit (ten classes), the other says whether it
is a large digit (5 to 9).  Each head has its own loss and metric, and the digit's loss counts
twice as much.  Only Keras's names are used.
"""
import glassnet as keras

keras.utils.set_random_seed(7)
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist_mini.load_data()
x_train = x_train.reshape(-1, 784).astype("float32") / 255
x_test = x_test.reshape(-1, 784).astype("float32") / 255
large_train, large_test = (y_train >= 5).astype("float32"), (y_test >= 5).astype("float32")

image = keras.Input(shape=(784,), name="image")
trunk = keras.layers.Dense(128, activation="relu", name="trunk")(image)
trunk = keras.layers.Dropout(0.2)(trunk)
digit = keras.layers.Dense(10, activation="softmax", name="digit")(trunk)
large = keras.layers.Dense(1, activation="sigmoid", name="large")(trunk)
model = keras.Model(inputs=image, outputs=[digit, large], name="digit_and_size")

model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=1e-3),
    loss={"digit": "sparse_categorical_crossentropy", "large": "binary_crossentropy"},
    loss_weights={"digit": 2.0, "large": 1.0},
    metrics={"digit": ["accuracy"], "large": ["accuracy"]},
)
history = model.fit(x_train, {"digit": y_train, "large": large_train}, epochs=4, batch_size=64,
                    validation_split=0.1, verbose=0)
print("history keys:", ", ".join(sorted(history.history)))

results = model.evaluate(x_test, {"digit": y_test, "large": large_test}, return_dict=True, verbose=0)
print(f"digit accuracy: {results['digit_accuracy']:.3f}")
print(f"large accuracy: {results['large_accuracy']:.3f}")

digit_probabilities, large_probability = model.predict(x_test[:3])
for p, q, label in zip(digit_probabilities, large_probability, y_test[:3]):
    print(f"digit {label}: predicted {p.argmax()} (large: {q[0]:.2f})")
