"""The notes' Keras MNIST classifier, in glassnet: 784-50 sigmoid-10 softmax, Adam, batch 32.
==========================================================================================

Trains offline on the bundled MNIST sample (8,000 training and 2,000 test digits)
and prints the summary, one progress line per epoch, and the test loss and accuracy.
This is the main-job version of study note 003 ("AIFFEL 아이펠 19일차: MNIST 이미지 분류기"), with a
10% validation split; note003_keras_mnist.py follows the note line for line.

    python examples/keras_mnist.py [--epochs 10] [--seed 0] [--quick] [--output DIR]

--quick trains for one epoch (about a tenth of a second of training).
"""
import argparse
import os

import glassnet as keras   # a Keras script runs unchanged with this import


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--epochs", type=int, default=None, help="default 10 (1 with --quick)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="one epoch instead of ten")
    parser.add_argument("--output", default=None, help="folder for keras_mnist_curves.png: loss and accuracy per epoch (default: no figure)")
    args = parser.parse_args(argv)
    epochs = args.epochs if args.epochs is not None else (1 if args.quick else 10)

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist_mini.load_data()
    x_train = x_train.reshape(-1, 28 * 28) / 255.0
    x_test = x_test.reshape(-1, 28 * 28) / 255.0

    model = keras.models.Sequential()
    model.add(keras.layers.Dense(50, activation="sigmoid", input_shape=(784,)))   # input d=784, hidden H=50
    model.add(keras.layers.Dense(10, activation="softmax"))                       # output K=10
    model.summary()

    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=epochs, validation_split=0.1)

    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=2)
    print(f"test_loss: {test_loss:.4f}")
    print(f"test_accuracy: {test_accuracy:.4f}")
    if args.output is not None:
        import glassnet.plot

        os.makedirs(args.output, exist_ok=True)
        figure = os.path.join(args.output, "keras_mnist_curves.png")
        glassnet.plot.plot_history(history, figure)         # loss and accuracy per epoch, saved as PNG
        print("saved", figure)
    return test_loss, test_accuracy


if __name__ == "__main__":
    main()
