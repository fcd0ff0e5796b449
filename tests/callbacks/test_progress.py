"""The progress display (ProgbarLogger): lines off a terminal, the live bar on one."""
import io
import math
import re

import numpy as np
import pytest

import glassnet as gn
from glassnet.callbacks import ProgbarLogger
from callbacks.callback_helpers import N, make_model


# --------------------------------------------------------------------------
# Progress display
# --------------------------------------------------------------------------

NUM = r"\d+\.\d{4}"
LINE = re.compile(rf"^(\d+)/\1 - \d+s - \d+(?:us|ms|s)/step - accuracy: {NUM} - loss: {NUM}"
                  rf" - val_accuracy: {NUM} - val_loss: {NUM}$")


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("verbose", [1, 2, "auto"])
def test_progress_lines_when_output_is_not_a_terminal(data, capsys, verbose):
    x, y = data
    make_model().fit(x, y, epochs=3, batch_size=16, validation_split=0.2, verbose=verbose)
    lines = capsys.readouterr().out.splitlines()
    steps = math.ceil(int(N * 0.8) / 16)
    assert [l for l in lines if l.startswith("Epoch")] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    summaries = [l for l in lines if not l.startswith("Epoch")]
    assert len(summaries) == 3
    for line in summaries:
        match = LINE.match(line)
        assert match, line
        assert int(match.group(1)) == steps
    assert lines == ["Epoch 1/3", summaries[0], "Epoch 2/3", summaries[1], "Epoch 3/3", summaries[2]]
    assert "━" not in "".join(lines) and "\r" not in "".join(lines)


def test_progress_line_values_are_the_history_values(data, capsys):
    x, y = data
    history = make_model().fit(x, y, epochs=2, batch_size=16, validation_split=0.2, verbose=2)
    lines = [l for l in capsys.readouterr().out.splitlines() if not l.startswith("Epoch")]
    for epoch, line in enumerate(lines):
        for key in ("accuracy", "loss", "val_accuracy", "val_loss"):
            shown = float(re.search(rf"(?:^| ){key}: ({NUM})", line).group(1))
            assert shown == pytest.approx(history.history[key][epoch], abs=5.001e-5)


def test_verbose_zero_prints_nothing(data, capsys):
    x, y = data
    make_model().fit(x, y, epochs=2, batch_size=16, validation_split=0.2, verbose=0)
    assert capsys.readouterr().out == ""


def test_live_bar_on_a_terminal(data, capsys):
    x, y = data
    stream = FakeTTY()
    steps = math.ceil(N / 16)
    make_model().fit(x, y, epochs=2, batch_size=16, verbose=1, callbacks=[ProgbarLogger(stream=stream)])
    text = stream.getvalue()
    assert "Epoch 1/2" in text and "Epoch 2/2" in text
    assert "━" in text
    assert f"{steps}/{steps}" in text
    assert re.search(rf"{steps}/{steps} ━+ \d+s \d+(?:us|ms|s)/step - accuracy: {NUM} - loss: {NUM}", text)
    assert capsys.readouterr().out == ""          # the ProgbarLogger passed in replaces fit's own


def test_verbose_two_on_a_terminal_prints_lines_not_a_bar(data):
    x, y = data
    stream = FakeTTY()
    make_model().fit(x, y, epochs=2, batch_size=16, callbacks=[ProgbarLogger(verbose=2, stream=stream)],
                     verbose=0)
    text = stream.getvalue()
    assert "━" not in text
    assert len(re.findall(r"^\d+/\d+ - \d+s - ", text, flags=re.M)) == 2


def test_a_passed_progbar_follows_fits_verbose(data):
    x, y = data
    stream = FakeTTY()
    make_model().fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[ProgbarLogger(stream=stream)])
    assert stream.getvalue() == ""
    make_model().fit(x, y, epochs=1, batch_size=16, verbose=2, callbacks=[ProgbarLogger(stream=stream)])
    assert "━" not in stream.getvalue() and "Epoch 1/1" in stream.getvalue()


def test_progbar_rejects_bad_verbose():
    with pytest.raises(ValueError):
        ProgbarLogger(verbose=3)


def test_progress_line_counts_the_steps_actually_run_when_stopped_mid_epoch(capsys):
    class StopAtBatchOne(gn.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    model = gn.Sequential([gn.layers.Dense(2, activation="softmax", input_shape=(3,))])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.zeros((100, 3))
    y = np.zeros(100, dtype=int)
    model.fit(x, y, batch_size=10, epochs=1, verbose=2, callbacks=[StopAtBatchOne()])
    out = capsys.readouterr().out
    assert re.search(r"^2/10 - ", out, flags=re.M), out
