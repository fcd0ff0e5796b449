"""Predict a car's fuel efficiency, written as the Keras "basic regression" tutorial would be.

Our own code in the style of TensorFlow's beginner regression tutorial: a pandas DataFrame of cars,
a train/test split with DataFrame.sample, the label popped off the features, a Normalization layer
adapted to the training features, then a one-feature linear model, a linear model on all features
and a deep model, each trained on mean absolute error with validation_split; the training history
goes into a DataFrame, the test errors into a dict; the deep model is saved as a `.keras` file and
loaded back.  Only Keras's names are used: swap the import for `import keras` and it runs on
Keras 3.

The data block stands in for the tutorial's download: it makes up a car table of the same columns
and kinds (a few horsepower values missing, origin as a code).  Files go to GLASSNET_SCRIPT_DIR.
"""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import glassnet as keras
from glassnet import layers

keras.utils.set_random_seed(0)
np.set_printoptions(precision=3, suppress=True)

# ---- data: a made-up car table in place of the download -------------------------------------------
folder = os.environ.get("GLASSNET_SCRIPT_DIR", ".")
rng = np.random.default_rng(2024)
n_cars = 398
cylinders = rng.choice([4, 6, 8], size=n_cars, p=[0.5, 0.25, 0.25])
displacement = cylinders * rng.normal(40.0, 6.0, n_cars)
horsepower = 0.35 * displacement + rng.normal(25.0, 8.0, n_cars)
weight = 1500 + 8.5 * displacement + rng.normal(0.0, 250.0, n_cars)
acceleration = 22 - horsepower / 20 + rng.normal(0.0, 1.5, n_cars)
model_year = rng.integers(70, 83, n_cars)
origin = np.where(cylinders == 4, rng.choice([1, 2, 3], size=n_cars), 1)
mpg = (48 - 0.0062 * weight - 0.04 * horsepower + 0.75 * (model_year - 70) + 1.5 * (origin > 1)
       + rng.normal(0.0, 2.0, n_cars)).clip(9, 47)
horsepower[rng.choice(n_cars, 6, replace=False)] = np.nan
raw_dataset = pd.DataFrame({'MPG': mpg.round(1), 'Cylinders': cylinders, 'Displacement': displacement.round(0),
                            'Horsepower': horsepower.round(0), 'Weight': weight.round(0),
                            'Acceleration': acceleration.round(1), 'Model Year': model_year, 'Origin': origin})
# -----------------------------------------------------------------------------------------------------

dataset = raw_dataset.copy()
print(dataset.tail())
print("missing values:", int(dataset.isna().sum().sum()))
dataset = dataset.dropna()
dataset['Origin'] = dataset['Origin'].map({1: 'USA', 2: 'Europe', 3: 'Japan'})
dataset = pd.get_dummies(dataset, columns=['Origin'], prefix='', prefix_sep='', dtype=float)
print(dataset.tail())

train_dataset = dataset.sample(frac=0.8, random_state=0)
test_dataset = dataset.drop(train_dataset.index)
print("train rows:", len(train_dataset))
print("test rows:", len(test_dataset))
print(train_dataset.describe().transpose())

train_features = train_dataset.copy()
test_features = test_dataset.copy()
train_labels = train_features.pop('MPG')
test_labels = test_features.pop('MPG')
print(train_dataset.describe().transpose()[['mean', 'std']])

normalizer = layers.Normalization(axis=-1)
normalizer.adapt(np.array(train_features))
print("normalizer mean:", normalizer.mean.numpy())
first = np.array(train_features[:1])
with np.printoptions(precision=2, suppress=True):
    print('First example:', first)
    print('Normalized:', normalizer(first).numpy())

# ---- one feature: horsepower ------------------------------------------------------------------------
horsepower = np.array(train_features['Horsepower'])
horsepower_normalizer = layers.Normalization(input_shape=[1, ], axis=None)
horsepower_normalizer.adapt(horsepower)

horsepower_model = keras.Sequential([
    horsepower_normalizer,
    layers.Dense(units=1)
])
horsepower_model.summary()
print("untrained predictions:", horsepower_model.predict(horsepower[:10]).shape)

horsepower_model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.1), loss='mean_absolute_error')
history = horsepower_model.fit(train_features['Horsepower'], train_labels, epochs=100, verbose=0,
                               validation_split=0.2)
hist = pd.DataFrame(history.history)
hist['epoch'] = history.epoch
print(hist.tail())


def plot_loss(history):
    plt.plot(history.history['loss'], label='loss')
    plt.plot(history.history['val_loss'], label='val_loss')
    plt.ylim([0, 10])
    plt.xlabel('Epoch')
    plt.ylabel('Error [MPG]')
    plt.legend()
    plt.grid(True)


plot_loss(history)
plt.savefig(os.path.join(folder, "horsepower_loss.png"))
plt.close()

test_results = {}
test_results['horsepower_model'] = horsepower_model.evaluate(test_features['Horsepower'], test_labels, verbose=0)

x = np.linspace(0.0, 250, 251)
y = horsepower_model.predict(x)
print("line through", x.shape, "->", y.shape)

# ---- all features, linear ---------------------------------------------------------------------------
linear_model = keras.Sequential([
    normalizer,
    layers.Dense(units=1)
])
print("linear predictions:", linear_model.predict(train_features[:10]).shape)
print("linear kernel shape:", tuple(linear_model.layers[1].kernel.shape))
linear_model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.1), loss='mean_absolute_error')
history = linear_model.fit(train_features, train_labels, epochs=100, verbose=0, validation_split=0.2)
plot_loss(history)
plt.close()
test_results['linear_model'] = linear_model.evaluate(test_features, test_labels, verbose=0)


# ---- a deep network ---------------------------------------------------------------------------------
def build_and_compile_model(norm):
    model = keras.Sequential([
        norm,
        layers.Dense(64, activation='relu'),
        layers.Dense(64, activation='relu'),
        layers.Dense(1)
    ])
    model.compile(loss='mean_absolute_error', optimizer=keras.optimizers.Adam(0.001))
    return model


dnn_horsepower_model = build_and_compile_model(horsepower_normalizer)
dnn_horsepower_model.summary()
history = dnn_horsepower_model.fit(train_features['Horsepower'], train_labels, validation_split=0.2,
                                   verbose=0, epochs=100)
test_results['dnn_horsepower_model'] = dnn_horsepower_model.evaluate(test_features['Horsepower'], test_labels,
                                                                     verbose=0)

dnn_model = build_and_compile_model(normalizer)
dnn_model.summary()
history = dnn_model.fit(train_features, train_labels, validation_split=0.2, verbose=0, epochs=100)
plot_loss(history)
plt.close()
test_results['dnn_model'] = dnn_model.evaluate(test_features, test_labels, verbose=0)

print(pd.DataFrame(test_results, index=['Mean absolute error [MPG]']).T)

test_predictions = dnn_model.predict(test_features).flatten()
a = plt.axes(aspect='equal')
plt.scatter(test_labels, test_predictions)
plt.xlabel('True Values [MPG]')
plt.ylabel('Predictions [MPG]')
lims = [0, 50]
plt.xlim(lims)
plt.ylim(lims)
plt.plot(lims, lims)
plt.savefig(os.path.join(folder, "mpg_predictions.png"))
plt.close()
error = test_predictions - test_labels
plt.hist(error, bins=25)
plt.xlabel('Prediction Error [MPG]')
plt.close()
print("predictions:", test_predictions.shape)
print("mean absolute error of predict:", round(float(np.mean(np.abs(error))), 3))

dnn_model.save(os.path.join(folder, 'dnn_model.keras'))
reloaded = keras.models.load_model(os.path.join(folder, 'dnn_model.keras'))
test_results['reloaded'] = reloaded.evaluate(test_features, test_labels, verbose=0)
print(pd.DataFrame(test_results, index=['Mean absolute error [MPG]']).T)
for name, value in test_results.items():
    print(f"{name}: {value:.3f}")
