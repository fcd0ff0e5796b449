"""Keras-style scripts (tests/models/scripts), written as the Keras tutorials write them, with
only the import changed: each runs whole and learns what it should."""
import runpy
from pathlib import Path

SCRIPTS = Path(__file__).parent / "scripts"


def _run(name, capsys):
    runpy.run_path(str(SCRIPTS / name), run_name="__main__")
    out = capsys.readouterr().out
    return out, dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def test_a_siamese_network_with_a_shared_encoder_model(capsys, isolated_random_state):
    out, results = _run("same_digit_pairs.py", capsys)
    assert float(results["pair accuracy"]) >= 0.8           # half the pairs match: chance is 0.5
    assert "encoder[0][0], encoder[1][0]" in out             # the summary shows both calls
    assert "2 calls x 209,056 = 418,112" in out              # 784*128*2 + 128 + 128*32*2 + 32, twice
