"""Heart-disease risk from a table of patients, written as keras.io's structured-data examples write
it: one keras.Input(shape=(1,), name=...) per column, numeric columns scaled by a Normalization
layer adapted to that column, everything joined with the lowercase functional helper
layers.concatenate, then Dense, Dropout and a sigmoid; fit takes a dict of column arrays (one
number per patient, 1-D, as a table's columns are), plot_model draws the graph left to right, and
a single new patient is scored from a dict of one-element arrays.
Our own code, in the style of those examples; only the import and the data differ from Keras.

The data block stands in for the CSV download: 1,000 made-up patients with a binary sex and
exercise-angina flag, a 0-3 count of blocked vessels, and five measurements on their own scales
(age, resting blood pressure, cholesterol, maximum heart rate, ST depression); about a third have
the disease. The drawing goes to the folder in GLASSNET_SCRIPT_DIR.
"""
import os

import numpy as np

import glassnet as keras
from glassnet import layers

folder = os.environ.get("GLASSNET_SCRIPT_DIR", ".")
keras.utils.set_random_seed(1337)

# ---- the data: made here instead of downloaded (the one swap the tests allow)
rng = np.random.default_rng(21)
n = 1000
columns = {
    "sex": (rng.random(n) < 0.68).astype("float32"),
    "exang": (rng.random(n) < 0.33).astype("float32"),
    "ca": rng.choice([0, 1, 2, 3], n, p=[0.58, 0.22, 0.13, 0.07]).astype("float32"),
    "age": rng.normal(54, 9, n).round().astype("float32"),
    "trestbps": rng.normal(131, 17, n).round().astype("float32"),
    "chol": rng.normal(246, 50, n).round().astype("float32"),
    "thalach": rng.normal(150, 22, n).round().astype("float32"),
    "oldpeak": rng.gamma(1.0, 1.0, n).round(1).astype("float32"),
}
risk = (0.9 * columns["sex"] + 1.3 * columns["exang"] + 0.9 * columns["ca"] + 0.04 * (columns["age"] - 54)
        + 0.01 * (columns["trestbps"] - 131) + 0.004 * (columns["chol"] - 246)
        - 0.035 * (columns["thalach"] - 150) + 0.7 * columns["oldpeak"] - 2.7)
target = (rng.random(n) < 1 / (1 + np.exp(-2 * risk))).astype("float32")
# ---- end of the data block

print("patients and columns:", n, len(columns))
print(f"share with the disease: {target.mean():.2f}")

validation = rng.permutation(n)[: n // 5]
is_validation = np.zeros(n, dtype=bool)
is_validation[validation] = True
train_features = {name: values[~is_validation] for name, values in columns.items()}
val_features = {name: values[is_validation] for name, values in columns.items()}
train_targets, val_targets = target[~is_validation], target[is_validation]
print("training and validation patients:", len(train_targets), len(val_targets))


def encode_numerical_feature(feature, name, data):
    normalizer = layers.Normalization()
    normalizer.adapt(np.expand_dims(data[name], -1))      # learn the column's mean and variance
    return normalizer(feature)


# Flags and counts go in as they are; measurements are normalised first.
sex = keras.Input(shape=(1,), name="sex")
exang = keras.Input(shape=(1,), name="exang")
ca = keras.Input(shape=(1,), name="ca")
age = keras.Input(shape=(1,), name="age")
trestbps = keras.Input(shape=(1,), name="trestbps")
chol = keras.Input(shape=(1,), name="chol")
thalach = keras.Input(shape=(1,), name="thalach")
oldpeak = keras.Input(shape=(1,), name="oldpeak")
all_inputs = [sex, exang, ca, age, trestbps, chol, thalach, oldpeak]

age_encoded = encode_numerical_feature(age, "age", train_features)
trestbps_encoded = encode_numerical_feature(trestbps, "trestbps", train_features)
chol_encoded = encode_numerical_feature(chol, "chol", train_features)
thalach_encoded = encode_numerical_feature(thalach, "thalach", train_features)
oldpeak_encoded = encode_numerical_feature(oldpeak, "oldpeak", train_features)

all_features = layers.concatenate([
    sex, exang, ca,
    age_encoded, trestbps_encoded, chol_encoded, thalach_encoded, oldpeak_encoded,
])
x = layers.Dense(32, activation="relu")(all_features)
x = layers.Dropout(0.5)(x)
output = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(all_inputs, output)
model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
print("concatenated features shape:", tuple(all_features.shape))
print("parameters:", model.count_params())

keras.utils.plot_model(model, to_file=os.path.join(folder, "structured_model.png"),
                       show_shapes=True, rankdir="LR")

history = model.fit(train_features, train_targets, epochs=30, batch_size=32,
                    validation_data=(val_features, val_targets), verbose=0)
print(f"validation accuracy: {history.history['val_accuracy'][-1]:.3f}")
print(f"accuracy of always saying no: {1 - val_targets.mean():.3f}")

# Score one new patient.
sample = {
    "sex": 1,
    "exang": 1,
    "ca": 2,
    "age": 63,
    "trestbps": 145,
    "chol": 233,
    "thalach": 120,
    "oldpeak": 2.3,
}
input_dict = {name: np.array([value]) for name, value in sample.items()}
predictions = model.predict(input_dict, verbose=0)
print(f"This particular patient had a {100 * predictions[0][0]:.1f} percent probability "
      "of having a heart disease, as evaluated by our model.")

healthy = dict(sample, sex=0, exang=0, ca=0, age=40, thalach=175, oldpeak=0.0)
low = model.predict({name: np.array([value]) for name, value in healthy.items()}, verbose=0)
print(f"a younger patient without angina: {100 * low[0][0]:.1f} percent")
