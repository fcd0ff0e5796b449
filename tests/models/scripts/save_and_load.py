"""Save and restore models, written as the Keras "save and load" tutorial would be.

Our own code in the style of TensorFlow's beginner tutorial on saving: a small digit classifier
trained on the first 1,000 images with a ModelCheckpoint that saves weights only (`.weights.h5`) at
each epoch, a fresh untrained model that scores at chance until it loads those weights; then a
checkpoint every 5 epochs (save_freq counted in batches) with the epoch in the file name; manual
save_weights; the whole model saved as a `.keras` file, loaded back, summarised and evaluated to the
same accuracy.  Only Keras's names are used: swap the import for `import keras` and it runs on
Keras 3.

The data block is the one part a reader may change: glassnet ships 10,000 MNIST digits
(datasets.mnist_mini), Keras downloads MNIST; GLASSNET_SCRIPT_SAMPLES keeps fewer of them for a
quick run.  Files go under GLASSNET_SCRIPT_DIR.
"""
import math
import os

import numpy as np

import glassnet as keras

keras.utils.set_random_seed(5)

# ---- data ---------------------------------------------------------------------------------------------
mnist = keras.datasets.mnist_mini if hasattr(keras.datasets, "mnist_mini") else keras.datasets.mnist
(train_images, train_labels), (test_images, test_labels) = mnist.load_data()
samples = int(os.environ.get("GLASSNET_SCRIPT_SAMPLES", len(train_images)))     # fewer for a quick run
train_images, train_labels = train_images[:samples], train_labels[:samples]
test_images, test_labels = test_images[:samples], test_labels[:samples]
os.chdir(os.environ.get("GLASSNET_SCRIPT_DIR", "."))
# -------------------------------------------------------------------------------------------------------

train_labels = train_labels[:1000]
test_labels = test_labels[:1000]

train_images = train_images[:1000].reshape(-1, 28 * 28) / 255.0
test_images = test_images[:1000].reshape(-1, 28 * 28) / 255.0


def create_model():
    model = keras.models.Sequential([
        keras.layers.Dense(512, activation='relu', input_shape=(784,)),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(10)
    ])

    model.compile(optimizer='adam',
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[keras.metrics.SparseCategoricalAccuracy()])

    return model


model = create_model()
model.summary()

checkpoint_path = "training_1/cp.weights.h5"
checkpoint_dir = os.path.dirname(checkpoint_path)

cp_callback = keras.callbacks.ModelCheckpoint(filepath=checkpoint_path,
                                              save_weights_only=True,
                                              verbose=1)

model.fit(train_images,
          train_labels,
          epochs=10,
          validation_data=(test_images, test_labels),
          callbacks=[cp_callback])

print("checkpoint files:", sorted(os.listdir(checkpoint_dir)))

model = create_model()
loss, acc = model.evaluate(test_images, test_labels, verbose=2)
print("Untrained model, accuracy: {:5.2f}%".format(100 * acc))

model.load_weights(checkpoint_path)
loss, acc = model.evaluate(test_images, test_labels, verbose=2)
print("Restored model, accuracy: {:5.2f}%".format(100 * acc))

# ---- a checkpoint every 5 epochs, named by epoch -----------------------------------------------------
checkpoint_path = "training_2/cp-{epoch:04d}.weights.h5"
checkpoint_dir = os.path.dirname(checkpoint_path)

batch_size = 32
n_batches = len(train_images) / batch_size
n_batches = math.ceil(n_batches)

cp_callback = keras.callbacks.ModelCheckpoint(
    filepath=checkpoint_path,
    verbose=1,
    save_weights_only=True,
    save_freq=5 * n_batches)

model = create_model()
os.makedirs(checkpoint_dir, exist_ok=True)        # save_weights writes into an existing folder
model.save_weights(checkpoint_path.format(epoch=0))
model.fit(train_images,
          train_labels,
          epochs=50,
          batch_size=batch_size,
          callbacks=[cp_callback],
          validation_data=(test_images, test_labels),
          verbose=0)

checkpoints = sorted(os.listdir(checkpoint_dir))
print("epoch checkpoints:", ", ".join(checkpoints))
latest = os.path.join(checkpoint_dir, checkpoints[-1])
print("latest:", latest)

model = create_model()
model.load_weights(latest)
loss, acc = model.evaluate(test_images, test_labels, verbose=2)
print("Restored model, accuracy: {:5.2f}%".format(100 * acc))

# ---- manual weights ------------------------------------------------------------------------------------
os.makedirs('checkpoints', exist_ok=True)
model.save_weights('./checkpoints/my_checkpoint.weights.h5')
model = create_model()
model.load_weights('./checkpoints/my_checkpoint.weights.h5')
loss, acc = model.evaluate(test_images, test_labels, verbose=2)
print("Restored model, accuracy: {:5.2f}%".format(100 * acc))

# ---- the whole model -----------------------------------------------------------------------------------
model = create_model()
model.fit(train_images, train_labels, epochs=5)
loss, acc = model.evaluate(test_images, test_labels, verbose=2)
print("Trained model, accuracy: {:5.2f}%".format(100 * acc))
os.makedirs('saved_model', exist_ok=True)
model.save('saved_model/my_model.keras')
model.save('my_model.keras')

new_model = keras.models.load_model('my_model.keras')
new_model.summary()
loss, new_acc = new_model.evaluate(test_images, test_labels, verbose=2)
print('Restored model, accuracy: {:5.2f}%'.format(100 * new_acc))
print("restored predictions:", new_model.predict(test_images).shape)
print("same predictions:", bool(np.allclose(model.predict(test_images), new_model.predict(test_images), atol=1e-6)))
print("same accuracy:", acc == new_acc)
print("optimizer steps kept:", int(new_model.optimizer.iterations) == int(model.optimizer.iterations))

# ---- the older HDF5 name -------------------------------------------------------------------------------
model.save('my_model.h5')
h5_model = keras.models.load_model('my_model.h5')
h5_model.summary()
loss, h5_acc = h5_model.evaluate(test_images, test_labels, verbose=2)
print('Restored .h5 model, accuracy: {:5.2f}%'.format(100 * h5_acc))
print("same .h5 accuracy:", acc == h5_acc)
