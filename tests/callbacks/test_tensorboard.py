"""TensorBoard: the event files hold what the fit logged, read back by TensorBoard's own reader.

References: the History of the same fit, the batch logs a LambdaCallback saw, the weights at each
epoch's end; the files are read with tensorboard's EventAccumulator (what `tensorboard --logdir`
uses), not with the library that wrote them.
"""
import sys

import numpy as np
import pytest

from glassnet.callbacks import LambdaCallback, TensorBoard
from callbacks.callback_helpers import WeightsAtEpochEnd, make_model

pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def read(folder):
    """{tag: [(step, value)]} of the scalars, and the accumulator, of one run folder."""
    acc = event_accumulator.EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0,
                                                                         "images": 0, "tensors": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}, acc


def f32(values):
    return [float(np.float32(v)) for v in values]


def test_epoch_scalars_in_train_and_validation(data, tmp_path):
    x, y = data
    model = make_model()
    history = model.fit(x, y, epochs=4, batch_size=16, validation_split=0.25, verbose=0,
                        callbacks=[TensorBoard(tmp_path / "logs")])
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == ["train", "validation"]
    train, acc = read(tmp_path / "logs" / "train")
    val, _ = read(tmp_path / "logs" / "validation")
    assert sorted(train) == ["epoch_accuracy", "epoch_learning_rate", "epoch_loss"]
    assert sorted(t for t in val if t.startswith("epoch_")) == ["epoch_accuracy", "epoch_loss"]
    assert all(t.startswith("evaluation_") for t in val if not t.startswith("epoch_"))   # if validation runs
    for name in ("loss", "accuracy"):
        assert train[f"epoch_{name}"] == list(zip(range(4), f32(history.history[name])))
        assert val[f"epoch_{name}"] == list(zip(range(4), f32(history.history[f"val_{name}"])))
    assert train["epoch_learning_rate"] == [(e, float(np.float32(0.001))) for e in range(4)]
    assert acc.Tags()["tensors"] == ["keras/text_summary"]     # write_graph: the model's config as text


def test_batch_scalars_every_n_batches(data, tmp_path):
    x, y = data                                                # 60 samples, batch 16: 4 batches an epoch
    seen = []
    make_model().fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[
        LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(dict(logs))),
        TensorBoard(tmp_path, update_freq=5, write_graph=False)])
    train, _ = read(tmp_path / "train")
    assert sorted(train) == ["batch_accuracy", "batch_loss", "epoch_accuracy", "epoch_learning_rate", "epoch_loss"]
    steps = [5, 10]                                            # counted across epochs, from 1
    assert train["batch_loss"] == list(zip(steps, f32(seen[s - 1]["loss"] for s in steps)))
    assert train["batch_accuracy"] == list(zip(steps, f32(seen[s - 1]["accuracy"] for s in steps)))


def test_update_freq_batch_is_every_batch(data, tmp_path):
    x, y = data
    make_model().fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[TensorBoard(tmp_path, update_freq="batch")])
    train, _ = read(tmp_path / "train")
    assert [step for step, _ in train["batch_loss"]] == list(range(1, 9))


def test_histograms_and_images_of_the_weights(data, tmp_path):
    x, y = data
    weights = WeightsAtEpochEnd()
    make_model().fit(x, y, epochs=4, batch_size=16, verbose=0,
                     callbacks=[weights, TensorBoard(tmp_path, histogram_freq=2, write_images=True)])
    _, acc = read(tmp_path / "train")
    tags = acc.Tags()
    names = ["dense/W", "dense/b", "dense_1/W", "dense_1/b"]
    assert sorted(tags["histograms"]) == sorted(f"{n}/histogram" for n in names)
    assert sorted(tags["images"]) == sorted(f"{n}/image" for n in names)
    for i, name in enumerate(names):
        events = acc.Histograms(f"{name}/histogram")
        assert [e.step for e in events] == [0, 2]              # every second epoch
        for event in events:
            w = weights.weights[event.step][i]
            h = event.histogram_value
            assert h.num == w.size
            assert h.min == pytest.approx(float(w.min())) and h.max == pytest.approx(float(w.max()))
            assert h.sum == pytest.approx(float(w.astype(np.float64).sum()), abs=1e-6)


def test_steps_per_second_and_evaluation(data, tmp_path):
    x, y = data
    board = TensorBoard(tmp_path, write_steps_per_second=True)
    model = make_model()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[board])
    loss, accuracy = model.evaluate(x, y, verbose=0, callbacks=[board])
    train, _ = read(tmp_path / "train")
    assert [s for s, _ in train["epoch_steps_per_second"]] == [0, 1]
    assert all(v > 0 for _, v in train["epoch_steps_per_second"])
    val, _ = read(tmp_path / "validation")
    assert val["evaluation_loss_vs_iterations"] == [(8, float(np.float32(loss)))]   # 2 epochs x 4 steps
    assert val["evaluation_accuracy_vs_iterations"] == [(8, float(np.float32(accuracy)))]


def test_a_missing_writer_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)          # as if it were not installed
    with pytest.raises(ImportError, match=r'pip install "glassnet\[tensorboard\]"'):
        TensorBoard(tmp_path)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"log_dir": ""}, ValueError, "log_dir"),
    ({"log_dir": 3}, TypeError, "log_dir"),
    ({"update_freq": "step"}, ValueError, "update_freq"),
    ({"update_freq": 0}, ValueError, "update_freq"),
    ({"histogram_freq": -1}, ValueError, "histogram_freq"),
    ({"profile_batch": 2}, ValueError, "profile_batch must be 0"),
    ({"embeddings_freq": 1}, ValueError, "embeddings_freq must be 0"),
])
def test_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        TensorBoard(**kwargs)
