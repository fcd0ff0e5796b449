"""A simple MNIST convnet in the style of keras.io's tutorial, through Sequential and fit.
=======================================================================================

The small convnet of the Keras examples, with `import glassnet as keras` and nothing else changed
(our own code of the usual tutorial steps):

    keras.Input((28, 28, 1))
    Conv2D 32 3x3 relu   -> (26, 26, 32)        3*3*1*32 + 32 = 320 weights
    MaxPooling2D 2       -> (13, 13, 32)
    Conv2D 64 3x3 relu   -> (11, 11, 64)        3*3*32*64 + 64 = 18,496
    MaxPooling2D 2       -> (5, 5, 64)
    Flatten              -> 1600
    Dropout 0.5
    Dense 10 softmax                            1600*10 + 10 = 16,010      total 34,826

Labels one-hot with keras.utils.to_categorical, categorical cross-entropy, Adam, batch 128, the last
10% of the training images held out for validation; then the test loss and accuracy.

Data: the bundled MNIST sample (8,000 training and 2,000 test digits), offline; --dataset mnist or
fashion_mnist read the full sets (found locally or downloaded by glassnet.datasets).

    python examples/keras_convnet.py [--epochs 15] [--dataset mnist_mini] [--quick] [--output DIR]

--quick trains one epoch on the first 1,000 training images and scores 500 test images (a few seconds).
"""
import argparse
import os

import numpy as np

import glassnet as keras   # a Keras script runs unchanged with this import
from glassnet import layers

num_classes = 10
input_shape = (28, 28, 1)


def build_model():
    return keras.Sequential([
        keras.Input(shape=input_shape),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ])


def load_data(dataset="mnist_mini", train_samples=None, test_samples=None):
    """Images scaled to [0, 1] with a channel axis, (n, 28, 28, 1); labels one-hot."""
    (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, dataset).load_data()
    x_train, y_train = x_train[:train_samples], y_train[:train_samples]
    x_test, y_test = x_test[:test_samples], y_test[:test_samples]
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    x_train = np.expand_dims(x_train, -1)              # (n, 28, 28) -> (n, 28, 28, 1): one channel
    x_test = np.expand_dims(x_test, -1)
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)
    return (x_train, y_train), (x_test, y_test)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--epochs", type=int, default=None, help="default 15 (1 with --quick)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--dataset", default="mnist_mini", choices=["mnist_mini", "mnist", "fashion_mnist"],
                        help="mnist_mini is bundled; mnist and fashion_mnist are found or downloaded")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="one epoch on 1,000 training images")
    parser.add_argument("--output", default=None, help="folder for keras_convnet_curves.png and keras_convnet_filters.png (default: no figure)")
    args = parser.parse_args(argv)
    epochs = args.epochs if args.epochs is not None else (1 if args.quick else 15)

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_data(args.dataset, 1000 if args.quick else None,
                                                     500 if args.quick else None)
    print("x_train shape:", x_train.shape)
    print(x_train.shape[0], "train samples")
    print(x_test.shape[0], "test samples")

    model = build_model()
    model.summary()

    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=epochs, validation_split=0.1)

    score = model.evaluate(x_test, y_test, verbose=0)
    print("Test loss:", score[0])
    print("Test accuracy:", score[1])
    if args.output is not None:
        import glassnet.plot

        os.makedirs(args.output, exist_ok=True)
        curves = os.path.join(args.output, "keras_convnet_curves.png")
        glassnet.plot.plot_history(history, curves)         # loss and accuracy per epoch
        filters = os.path.join(args.output, "keras_convnet_filters.png")
        glassnet.plot.plot_filters(model, filters)          # the first Conv2D layer's 32 learned 3x3 filters
        print("saved", curves, "and", filters)
    return {"test_loss": score[0], "test_accuracy": score[1], "history": history.history,
            "params": model.count_params(), "model": model}


if __name__ == "__main__":
    main()
