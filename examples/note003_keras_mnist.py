"""Study note 003 -- "AIFFEL 아이펠 19일차: MNIST 이미지 분류기", the Keras-style classifier.
==========================================================================================

The note's TensorFlow/Keras script, line for line, with glassnet standing in for Keras
(`import glassnet as keras`): a 2-layer perceptron, input d=784 -> hidden H=50 (sigmoid) ->
output K=10 (softmax), Adam, sparse categorical cross-entropy, 10 epochs; summary(), fit(),
evaluate(verbose=2) and the test loss and accuracy.

The note loads keras.datasets.mnist (60,000 + 10,000 digits, downloaded); by default this script uses
the bundled sample keras.datasets.mnist_mini (8,000 + 2,000 digits) so it runs offline in about a
second.  --dataset mnist loads the full set as the note does (found on disk or downloaded once).

    python examples/note003_keras_mnist.py [--quick] [--epochs 10] [--dataset mnist_mini] [--output DIR]

--quick trains for one epoch.  --output DIR also saves the training curves (DIR/keras_curves.png).
"""
import argparse
import os

import glassnet as keras   # in the note: from tensorflow import keras


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one epoch instead of ten")
    parser.add_argument("--epochs", type=int, default=None, help="default 10, as in the note")
    parser.add_argument("--dataset", default="mnist_mini", choices=["mnist_mini", "mnist", "fashion_mnist"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=None, help="folder for keras_curves.png (default: no figure)")
    args = parser.parse_args(argv)
    epochs = args.epochs if args.epochs is not None else (1 if args.quick else 10)
    keras.utils.set_random_seed(args.seed)

    # MNIST 데이터를 로드
    mnist = getattr(keras.datasets, args.dataset)
    (x_train, y_train), (x_test, y_test) = mnist.load_data()

    # 모델에 맞게 데이터 가공: scale to [0, 1], flatten 28x28 -> 784
    x_train_norm, x_test_norm = x_train / 255.0, x_test / 255.0
    x_train_reshaped = x_train_norm.reshape(-1, x_train_norm.shape[1] * x_train_norm.shape[2])
    x_test_reshaped = x_test_norm.reshape(-1, x_test_norm.shape[1] * x_test_norm.shape[2])

    # 딥러닝 모델 구성 - 2 Layer Perceptron
    model = keras.models.Sequential()
    model.add(keras.layers.Dense(50, activation="sigmoid", input_shape=(784,)))   # 입력층 d=784, 은닉층 H=50
    model.add(keras.layers.Dense(10, activation="softmax"))                       # 출력층 K=10
    model.summary()

    # 모델 구성과 학습
    model.compile(optimizer="adam",
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x_train_reshaped, y_train, epochs=epochs)

    # 모델 테스트 결과
    test_loss, test_accuracy = model.evaluate(x_test_reshaped, y_test, verbose=2)
    print("test_loss: {} ".format(test_loss))
    print("test_accuracy: {}".format(test_accuracy))

    figure = None
    if args.output is not None:
        import glassnet.plot

        os.makedirs(args.output, exist_ok=True)
        figure = os.path.join(args.output, "keras_curves.png")
        glassnet.plot.plot_history(history, figure)         # loss and accuracy per epoch, saved as PNG
        print("saved", figure)
    return {"test_loss": test_loss, "test_accuracy": test_accuracy, "history": history.history,
            "params": model.count_params(), "figure": figure}


if __name__ == "__main__":
    main()
