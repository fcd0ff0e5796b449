"""The doctor on runs of known health (bench/doctor_cases.py; the table in docs/doctor.md).

Healthy runs must raise nothing; broken runs must raise what is wrong with them and nothing untrue.
The cheap cases run at full size (the healthy moons and regression runs are the ones where the old
rising_loss and overfitting rules fired on noise); the costly ones on their small data.
"""
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from bench import doctor_cases  # noqa: E402

# (case, quick)
HEALTHY = [("moons_relu_adam", False), ("moons_tanh_sgd", False), ("regression_sgd_long", False),
           ("mnist_tanh_sgd", False), ("mnist_sgd_schedule", True)]
BROKEN = [("lr_far_too_high", True), ("adam_lr_spikes", False), ("zero_init_relu", True), ("deep_sigmoid", True),
          ("nan_inputs", True), ("huge_inputs", True), ("unscaled_sigmoid", True), ("deep_linear_big_init", True),
          ("regression_lr_too_high", True)]

pytestmark = pytest.mark.usefixtures("isolated_random_state")


@pytest.mark.parametrize("name, quick", HEALTHY)
def test_a_healthy_run_raises_nothing(name, quick):
    case = doctor_cases.BY_NAME[name]
    causes, history, _ = doctor_cases.run_case(case, quick)
    assert causes == [] and history.findings == []
    assert doctor_cases.verdict(case, causes) == "ok"


@pytest.mark.parametrize("name, quick", BROKEN)
def test_a_broken_run_is_found_and_nothing_untrue_is_said(name, quick):
    case = doctor_cases.BY_NAME[name]
    causes, _, _ = doctor_cases.run_case(case, quick)
    assert doctor_cases.verdict(case, causes) == "hit", causes


def test_the_verdicts():
    healthy, broken = doctor_cases.BY_NAME["moons_relu_adam"], doctor_cases.BY_NAME["zero_init_relu"]
    assert doctor_cases.verdict(healthy, []) == "ok"
    assert doctor_cases.verdict(healthy, ["rising_loss"]) == "false alarm"
    assert doctor_cases.verdict(broken, ["dead_relu"]) == "hit"
    assert doctor_cases.verdict(broken, ["dead_relu", "overfitting"]) == "hit + false alarm"
    assert doctor_cases.verdict(broken, ["vanishing_gradients"]) == "miss"


def test_a_keras_style_script_under_verbose_0_prints_only_its_own_lines(capfd):
    """tests/models/scripts/quiet_training.py: a 784-512 ReLU network and a 60-epoch moons run, both
    verbose=0 (the issue's runs, where the old doctor printed)."""
    import runpy
    import warnings

    script = pathlib.Path(__file__).resolve().parent / "models" / "scripts" / "quiet_training.py"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runpy.run_path(str(script), run_name="__main__")
    out, err = capfd.readouterr()
    assert [str(w.message) for w in caught if "glassnet" in str(w.message)] == []
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["digits test accuracy", "moons validation accuracy"]
    assert err == ""
    assert float(lines[0].split(": ")[1]) >= 0.9 and float(lines[1].split(": ")[1]) >= 0.9
