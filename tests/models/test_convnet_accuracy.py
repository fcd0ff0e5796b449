"""Each example ConvNet (examples/convnet_by_hand.py's SimpleConvNet, examples/keras_convnet.py's
convnet) reaches the test accuracy of the same network trained in PyTorch on the same data and epochs,
within 0.5 points (tests/models/convnet_reference.py: same initial weights, batches, dropout masks and
Adam settings).  Small for CI: 6,000 Fashion-MNIST training images, one epoch, 2,000 test images (the
bundled MNIST sample when Fashion-MNIST is not installed); the full measurement is in docs/convnets.md.
Before the accuracies, the torch twins are shown to be the same networks: the same outputs before
training, and, with Adam written as Keras writes it, the same weights after a few steps."""
import pathlib
import sys

import pytest

torch = pytest.importorskip("torch")
sys.path.insert(0, str(pathlib.Path(__file__).parent))
import convnet_reference as reference  # noqa: E402

FASHION = pathlib.Path("/usr/share/datasets/fashion-mnist")
pytestmark = pytest.mark.usefixtures("isolated_random_state")


@pytest.fixture(scope="module")
def data():
    if (FASHION / "train-images-idx3-ubyte.gz").is_file():
        return "fashion_mnist", reference.load_images("fashion_mnist", 6000, 2000)
    return "mnist_mini", reference.load_images("mnist_mini", 6000, 2000)


def test_the_torch_dropout_replays_glassnets_masks():
    assert reference.check_replayed_dropout() == 0.0


@pytest.mark.parametrize("network", reference.NETWORKS)
def test_the_torch_twin_is_the_same_network(network, data):
    (x_train, y_train), (x_test, y_test) = data[1]
    small = (x_train[:384], y_train[:384]), (x_test[:200], y_test[:200])       # 3-4 steps
    result = reference.compare(network, small, epochs=1, optimizer="keras_adam")
    assert result["initial_gap"] < 1e-5                                  # the same function of the image
    assert result["loss"]["glassnet"][0] == pytest.approx(result["loss"]["torch"][0], abs=1e-5)
    # every weight moved by up to ~0.004 (4 Adam steps of 0.001); the two libraries agree 1,000 times closer
    assert result["weight_change"] > 1e-3
    assert result["weight_gap"] < 1e-3 * result["weight_change"]


@pytest.mark.parametrize("network", reference.NETWORKS)
def test_each_convnet_reaches_the_accuracy_of_the_same_network_in_pytorch(network, data):
    name, images = data
    result = reference.compare(network, images, epochs=1)
    ours, theirs = result["test_accuracy"]["glassnet"], result["test_accuracy"]["torch"]
    assert theirs > 0.6 and ours > 0.6                                   # learned: chance is 0.1
    assert abs(result["difference_points"]) <= 0.5, (name, result)
