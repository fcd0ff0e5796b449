"""The Keras-style script of fit's arguments (tests/models/scripts/imbalanced_transactions.py), run whole:
class weights make a model catch the rare class that plain training ignores."""
import runpy
from pathlib import Path

SCRIPT = Path(__file__).parent / "scripts" / "imbalanced_transactions.py"


def test_class_weights_catch_the_rare_class(capsys, isolated_random_state):
    runpy.run_path(str(SCRIPT), run_name="__main__")
    results = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines() if ": " in line)
    assert results["batches seen"] == "160"                       # steps_per_epoch=16, 10 epochs
    assert results["validation losses recorded"] == "5"           # validation_freq=2
    assert float(results["weight for class 1"]) > 10 * float(results["weight for class 0"])
    assert float(results["recall without class weights"]) <= 0.2   # plain training calls nearly everything legitimate
    assert float(results["recall with class weights"]) >= 0.7
    assert float(results["validation accuracy with class weights"]) >= 0.8
