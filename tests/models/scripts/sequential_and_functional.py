"""The Sequential model and the functional API, written as the keras.io guides of those names would
write them (our own code, not the guides'): a Sequential model grown with add() and trimmed with
pop(), its weights before and after it is built, a digit classifier built from keras.Input with
its summary and drawing, a feature extractor whose outputs are every layer's output, an encoder
reused inside an autoencoder, an ensemble averaged by a merge function, a frozen trunk, and a
ticket-triage model with three inputs and two outputs trained on dicts.

The guides' ticket model reads titles and bodies of any length (Input(shape=(None,))) with an
LSTM; glassnet has no recurrent layers and needs every size of a sample, so titles and bodies have
fixed lengths here and their words are averaged (Embedding, then GlobalAveragePooling1D), as the
text tutorials do.  The
data blocks are made up where a guide downloads.  Only Keras's names are used; the files go to the
folder in GLASSNET_SCRIPT_DIR.
"""
import os

import numpy as np

import glassnet as keras
from glassnet import layers

folder = os.environ.get("GLASSNET_SCRIPT_DIR", ".")
keras.utils.set_random_seed(42)

# ---- the Sequential model ---------------------------------------------------------------------------
model = keras.Sequential([
    layers.Dense(2, activation="relu", name="layer1"),
    layers.Dense(3, activation="relu", name="layer2"),
    layers.Dense(4, name="layer3"),
])
x = np.ones((3, 3), dtype="float32")
y = model(x)
print("output of the first call:", tuple(y.shape))
print("layers:", [layer.name for layer in model.layers])

model = keras.Sequential(name="my_sequential")
model.add(layers.Dense(2, activation="relu"))
model.add(layers.Dense(3, activation="relu"))
model.add(layers.Dense(4))
print("layers after add:", len(model.layers))
model.pop()
print("layers after pop:", len(model.layers))

layer = layers.Dense(3)
print("weights of an unbuilt layer:", len(layer.weights))
layer(np.ones((1, 4), dtype="float32"))
print("weights after a call:", [tuple(w.shape) for w in layer.weights])

model = keras.Sequential([
    layers.Dense(2, activation="relu"),
    layers.Dense(3, activation="relu"),
    layers.Dense(4),
])
print("weights of an unbuilt model:", model.weights)
model.summary()                      # no weights yet: Keras 3 lists the layers as unbuilt
model.build((None, 4))
print("weights after build:", len(model.weights))

model = keras.Sequential()
model.add(keras.Input(shape=(4,)))
model.add(layers.Dense(2, activation="relu"))
print("layers with an Input first:", len(model.layers))
model.summary()

# a feature extractor: every layer's output at once
initial_model = keras.Sequential([
    keras.Input(shape=(16,)),
    layers.Dense(32, activation="relu"),
    layers.Dense(32, activation="relu", name="my_intermediate_layer"),
    layers.Dense(8, activation="relu"),
])
feature_extractor = keras.Model(inputs=initial_model.inputs,
                                outputs=[layer.output for layer in initial_model.layers])
features = feature_extractor(np.ones((1, 16), dtype="float32"))
print("feature shapes:", [tuple(f.shape) for f in features])
one_layer = keras.Model(inputs=initial_model.inputs,
                        outputs=initial_model.get_layer(name="my_intermediate_layer").output)
print("one feature:", tuple(one_layer(np.ones((1, 16), dtype="float32")).shape))

# ---- the functional API -----------------------------------------------------------------------------
inputs = keras.Input(shape=(784,))
print("input:", inputs.shape, inputs.dtype)
dense = layers.Dense(64, activation="relu")
x = dense(inputs)
x = layers.Dense(64, activation="relu")(x)
outputs = layers.Dense(10)(x)
model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
model.summary()
keras.utils.plot_model(model, os.path.join(folder, "my_first_model.png"))
keras.utils.plot_model(model, os.path.join(folder, "my_first_model_with_shape_info.png"), show_shapes=True)

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist_mini.load_data()   # a guide: mnist
x_train = x_train.reshape(len(x_train), 784).astype("float32") / 255
x_test = x_test.reshape(len(x_test), 784).astype("float32") / 255
model.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer=keras.optimizers.RMSprop(),
    metrics=["accuracy"],
)
history = model.fit(x_train, y_train, batch_size=64, epochs=3, validation_split=0.2, verbose=0)
test_scores = model.evaluate(x_test, y_test, verbose=0)
print("Test loss:", round(float(test_scores[0]), 4))
print("Test accuracy:", round(float(test_scores[1]), 4))

model.save(os.path.join(folder, "my_model.keras"))
del model
model = keras.models.load_model(os.path.join(folder, "my_model.keras"))
print("reloaded test accuracy:", round(float(model.evaluate(x_test, y_test, verbose=0)[1]), 4))

# every layer's output of the trained model, as the guide's feature extraction does
extractor = keras.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])
activations = extractor.predict(x_test[:5], verbose=0)
print("activations:", [a.shape for a in activations])
logits = model.predict(x_test[:5], verbose=0)
print("last activation is the prediction:", bool(np.allclose(activations[-1], logits, atol=1e-5)))

# one graph of layers, two models: an encoder inside an autoencoder
encoder_input = keras.Input(shape=(784,), name="img")
x = layers.Dense(128, activation="relu")(encoder_input)
encoder_output = layers.Dense(16, activation="relu")(x)
encoder = keras.Model(encoder_input, encoder_output, name="encoder")
x = layers.Dense(128, activation="relu")(encoder_output)
decoder_output = layers.Dense(784, activation="sigmoid")(x)
autoencoder = keras.Model(encoder_input, decoder_output, name="autoencoder")
autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
autoencoder.fit(x_train, x_train, batch_size=128, epochs=2, verbose=0)
print("codes:", encoder.predict(x_test[:3], verbose=0).shape)
print("autoencoder test loss:", round(float(autoencoder.evaluate(x_test, x_test, verbose=0)), 4))

# models are callable: an ensemble of three averaged
def get_model():
    inputs = keras.Input(shape=(128,))
    outputs = layers.Dense(1)(inputs)
    return keras.Model(inputs, outputs)


model1, model2, model3 = get_model(), get_model(), get_model()
inputs = keras.Input(shape=(128,))
y1, y2, y3 = model1(inputs), model2(inputs), model3(inputs)
outputs = layers.average([y1, y2, y3])
ensemble_model = keras.Model(inputs=inputs, outputs=outputs)
probe = np.random.default_rng(0).normal(size=(4, 128)).astype("float32")
mean_of_three = (model1.predict(probe, verbose=0) + model2.predict(probe, verbose=0)
                 + model3.predict(probe, verbose=0)) / 3
print("ensemble is the mean:", bool(np.allclose(ensemble_model.predict(probe, verbose=0), mean_of_three, atol=1e-5)))

# transfer learning: freeze all layers but the last
frozen = keras.Sequential([
    keras.Input(shape=(784,)),
    layers.Dense(32, activation="relu"),
    layers.Dense(32, activation="relu"),
    layers.Dense(10),
])
for layer in frozen.layers[:-1]:
    layer.trainable = False
before = [w.copy() for w in frozen.get_weights()]
frozen.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
frozen.fit(x_train[:512], y_train[:512], epochs=1, verbose=0)
after = frozen.get_weights()
print("changed weights:", [not np.array_equal(b, a) for b, a in zip(before, after)])
print("trainable weights:", len(frozen.trainable_weights), "non-trainable:", len(frozen.non_trainable_weights))

# ---- several inputs and outputs: triage of support tickets ------------------------------------------
num_tags = 12
num_words = 2000
num_departments = 4

title_input = keras.Input(shape=(10,), name="title")     # the guide: shape=(None,), any length
body_input = keras.Input(shape=(60,), name="body")
tags_input = keras.Input(shape=(num_tags,), name="tags")
title_features = layers.Embedding(num_words, 32)(title_input)
body_features = layers.Embedding(num_words, 32)(body_input)
title_features = layers.GlobalAveragePooling1D()(title_features)
body_features = layers.GlobalAveragePooling1D()(body_features)
x = layers.concatenate([title_features, body_features, tags_input])
priority_pred = layers.Dense(1, name="priority")(x)
department_pred = layers.Dense(num_departments, name="department")(x)
model = keras.Model(inputs=[title_input, body_input, tags_input], outputs=[priority_pred, department_pred])
model.summary()
keras.utils.plot_model(model, os.path.join(folder, "multi_input_and_output_model.png"), show_shapes=True)

# ---- data (made up: the department follows the tags, the priority a few urgent words) ---------------
rng = np.random.default_rng(7)
n = 1280
title_data = rng.integers(1, num_words, size=(n, 10))
body_data = rng.integers(1, num_words, size=(n, 60))
urgent_words = np.arange(1, 21)
title_data[: n // 2, :3] = rng.choice(urgent_words, size=(n // 2, 3))
tags_data = rng.integers(0, 2, size=(n, num_tags)).astype("float32")
department = tags_data[:, :num_departments].argmax(axis=1)
priority_targets = np.zeros((n, 1), dtype="float32")
priority_targets[: n // 2] = 1.0
dept_targets = keras.utils.to_categorical(department, num_departments)
shuffle = rng.permutation(n)
title_data, body_data, tags_data = title_data[shuffle], body_data[shuffle], tags_data[shuffle]
priority_targets, dept_targets = priority_targets[shuffle], dept_targets[shuffle]
# ------------------------------------------------------------------------------------------------------

model.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss={
        "priority": keras.losses.BinaryCrossentropy(from_logits=True),
        "department": keras.losses.CategoricalCrossentropy(from_logits=True),
    },
    loss_weights=[1.0, 0.2],
)
history = model.fit(
    {"title": title_data, "body": body_data, "tags": tags_data},
    {"priority": priority_targets, "department": dept_targets},
    epochs=8,
    batch_size=32,
    verbose=0,
)
print("history keys:", sorted(history.history))
print("first loss:", round(history.history["loss"][0], 4), "last loss:", round(history.history["loss"][-1], 4))
priority_logits, department_logits = model.predict(
    {"title": title_data, "body": body_data, "tags": tags_data}, verbose=0)
print("priority accuracy:", round(float(np.mean((priority_logits > 0) == (priority_targets > 0.5))), 3))
print("department accuracy:", round(float(np.mean(department_logits.argmax(axis=1) == department)), 3))
