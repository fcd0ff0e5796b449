"""Classify pictures of clothing, written as the "basic classification" Keras tutorial would be.

Our own code in the style of TensorFlow's beginner tutorial on Fashion-MNIST: a Flatten layer, one
hidden Dense layer and ten logits, trained with a from-logits sparse cross-entropy; a Softmax layer
stacked on the trained model turns logits into probabilities for `predict`; a grid of test images
with their predicted labels is drawn with matplotlib (Agg backend, so nothing blocks).  Only Keras's
names are used: swap the import for `import keras` and it runs on Keras 3.

The data block is the one part a tutorial's reader may change: it keeps the first
GLASSNET_SCRIPT_SAMPLES training images (all of them when unset), and figures go to the folder in
GLASSNET_SCRIPT_DIR.
"""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import glassnet as keras

keras.utils.set_random_seed(7)

# ---- data -------------------------------------------------------------------------------------------
fashion_mnist = keras.datasets.fashion_mnist
(train_images, train_labels), (test_images, test_labels) = fashion_mnist.load_data()
samples = int(os.environ.get("GLASSNET_SCRIPT_SAMPLES", len(train_images)))
train_images, train_labels = train_images[:samples], train_labels[:samples]
test_images, test_labels = test_images[:samples // 6 or 1], test_labels[:samples // 6 or 1]
folder = os.environ.get("GLASSNET_SCRIPT_DIR", ".")
# -----------------------------------------------------------------------------------------------------

class_names = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
               'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']

print("train images shape:", train_images.shape)
print("train labels:", len(train_labels))
print("pixel range:", train_images.min(), train_images.max())

train_images = train_images / 255.0
test_images = test_images / 255.0

plt.figure(figsize=(10, 10))
for i in range(25):
    plt.subplot(5, 5, i + 1)
    plt.xticks([])
    plt.yticks([])
    plt.grid(False)
    plt.imshow(train_images[i], cmap=plt.cm.binary)
    plt.xlabel(class_names[train_labels[i]])
plt.savefig(os.path.join(folder, "clothing_grid.png"))
plt.show()
plt.close()

model = keras.Sequential([
    keras.layers.Flatten(input_shape=(28, 28)),
    keras.layers.Dense(128, activation='relu'),
    keras.layers.Dense(10)
])

model.compile(optimizer='adam',
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=['accuracy'])

model.fit(train_images, train_labels, epochs=10)

test_loss, test_acc = model.evaluate(test_images, test_labels, verbose=2)
print('\nTest accuracy:', test_acc)

probability_model = keras.Sequential([model, keras.layers.Softmax()])
predictions = probability_model.predict(test_images)
print("predictions shape:", predictions.shape)
print("first prediction sums to:", round(float(np.sum(predictions[0])), 4))
print("first prediction:", np.argmax(predictions[0]), class_names[np.argmax(predictions[0])])
print("first label:", test_labels[0])
predicted_labels = np.argmax(predictions, axis=1)
print("accuracy of the argmax:", np.mean(predicted_labels == test_labels))

logits = model.predict(test_images[:5], verbose=0)
print("largest softmax gap:", float(np.max(np.abs(
    np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True) - predictions[:5]))))


def plot_image(i, predictions_array, true_label, img):
    true_label, img = true_label[i], img[i]
    plt.grid(False)
    plt.xticks([])
    plt.yticks([])
    plt.imshow(img, cmap=plt.cm.binary)
    predicted_label = np.argmax(predictions_array)
    color = 'blue' if predicted_label == true_label else 'red'
    plt.xlabel("{} {:2.0f}% ({})".format(class_names[predicted_label], 100 * np.max(predictions_array),
                                         class_names[true_label]), color=color)


def plot_value_array(i, predictions_array, true_label):
    true_label = true_label[i]
    plt.grid(False)
    plt.xticks(range(10))
    plt.yticks([])
    thisplot = plt.bar(range(10), predictions_array, color="#777777")
    plt.ylim([0, 1])
    predicted_label = np.argmax(predictions_array)
    thisplot[predicted_label].set_color('red')
    thisplot[true_label].set_color('blue')


num_rows, num_cols = 3, 3
num_images = num_rows * num_cols
plt.figure(figsize=(2 * 2 * num_cols, 2 * num_rows))
for i in range(num_images):
    plt.subplot(num_rows, 2 * num_cols, 2 * i + 1)
    plot_image(i, predictions[i], test_labels, test_images)
    plt.subplot(num_rows, 2 * num_cols, 2 * i + 2)
    plot_value_array(i, predictions[i], test_labels)
plt.tight_layout()
plt.savefig(os.path.join(folder, "clothing_predictions.png"))
plt.show()
plt.close()

img = test_images[1]
print("one image:", img.shape)
img = np.expand_dims(img, 0)
print("as a batch:", img.shape)
predictions_single = probability_model.predict(img)
print("single prediction:", np.argmax(predictions_single[0]))
print("single prediction matches the batch:", np.argmax(predictions_single[0]) == np.argmax(predictions[1]))
