"""``benchmarks/grading.py`` measures any exercise: it grades solutions and student versions
and prints the time per notebook against the target (a training question has its own)."""

import importlib.util
import re
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "grading.py"


def _bench_module():
    spec = importlib.util.spec_from_file_location("grading_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_exercise_is_graded_and_timed(capsys, tmp_path):
    bench = _bench_module()
    assert bench.main(["--exercise", "03_matrix_views", "--n", "2", "--timeout", "10",
                       "--keep", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "graded 2 notebooks of 03_matrix_views" in out
    assert "submissions: correct 1, missing 1" in out
    assert re.search(r"SUMMARY 03_matrix_views: \d+\.\d\d s per notebook \(target <= 2 s\) "
                     r"(PASS|FAIL)", out)
    from cnnlib.grading import load_exercise

    assert f"mean score {load_exercise('03_matrix_views').points / 2:.2f}" in out


@pytest.mark.parametrize(("exercise", "training"), [("07_lenet", True), ("05_variants", False)])
def test_only_the_training_exercise_has_its_own_target(exercise, training):
    assert _bench_module().has_training(exercise) is training
