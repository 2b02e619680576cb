"""Scores to the fourth decimal: partial credit is points × passed checks / all checks, a
timeout or a crash keeps the credit of the checks that passed before it, and the comparison
tolerance (|got − expected| ≤ 1e-5 + 1e-4·|expected| in float32) holds on both sides.

Each submission is exercise 02's solution with ``conv1d_valid`` (3 points, 28 checks: 4 fixed,
4 public random, 20 hidden) rewritten; ``moving_average``, which calls it in the solution, gets
an answer of its own so that only ``conv1d_valid`` changes."""

import pytest
import torch
from exercise_grading import (
    GRADING_SEED,
    expected_outcomes,
    grade_notebooks,
    hidden_seed,
    replace_solutions,
    variant_namespace,
    verdicts_of,
)

from cnnlib.grading.compare import Tolerance, compare
from cnnlib.grading.question import load_exercise

EX = load_exercise("02_conv1d")
POINTS = {q.name: q.points for q in EX.questions}
Q = EX.question("conv1d_valid")

CORRECT = ("    n, m = len(x), len(h)\n"
           "    y = torch.zeros(n - m + 1, dtype=x.dtype)\n"
           "    for i in range(n - m + 1):\n"
           "        y[i] = (h * x[i : i + m]).sum()\n")
MOVING_AVERAGE = "    return torch.stack([x[i : i + m].sum() / m for i in range(len(x) - m + 1)])"


def on(index: int, action: str, question: str = "conv1d_valid") -> str:
    """``action`` when the inputs are those of public check ``index`` (0-based)."""
    first, second = EX.public_cases(EX.question(question))[index].args
    if question == "conv1d_valid":
        test = f"x.tolist() == {first.tolist()!r} and h.tolist() == {second.tolist()!r}"
    else:
        test = f"x.tolist() == {first.tolist()!r} and m == {second!r}"
    return f"    if {test}:\n        {action}\n"


BODIES = {
    # wrong on fixed cases 2 and 4 only: 26 of 28 checks pass
    "two_wrong": {"conv1d_valid": CORRECT + on(1, "return -y") + on(3, "return -y") +
                  "    return y"},
    # right on checks 1-7, then never returns from check 8 (the last public one)
    "loops_on_check_8": {"conv1d_valid": on(7, "while True: pass") + CORRECT + "    return y"},
    # raises SystemExit on check 4 and answers the others: 27 of 28
    "exits_on_check_4": {"conv1d_valid": on(3, "raise SystemExit(3)") + CORRECT +
                         "    return y"},
    # moving_average (1 point, 19 checks) ends the process on its check 5: 4 of 19
    "process_ends_on_check_5": {"moving_average": on(4, "import os; os._exit(3)",
                                                     "moving_average") + MOVING_AVERAGE},
    # every value off by half the tolerance, then by twice it
    "inside_tolerance": {"conv1d_valid": CORRECT +
                         "    return y + 0.5 * (1e-5 + 1e-4 * y.abs())"},
    "outside_tolerance": {"conv1d_valid": CORRECT + "    return y + 2 * (1e-5 + 1e-4 * y.abs())"},
}


def edit(name: str):
    bodies = {"conv1d_valid": CORRECT + "    return y", "moving_average": MOVING_AVERAGE,
              **BODIES[name]}
    return lambda nb: replace_solutions(nb, bodies)


VARIANTS = {name: edit(name) for name in BODIES}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_notebooks("02_conv1d", tmp_path_factory.mktemp("scores"), VARIANTS, timeout=4)


def others_ok(verdicts: dict, changed: str = "conv1d_valid") -> None:
    assert verdicts == {q: ("ok", float(p)) for q, p in POINTS.items() if q != changed}


def _key(value):
    return tuple(value.tolist()) if isinstance(value, torch.Tensor) else value


@pytest.mark.parametrize("name", ["conv1d_valid", "moving_average"])
def test_the_cases_the_submissions_react_to_are_public_and_distinct(name):
    q = EX.question(name)
    for student in VARIANTS:
        cases = EX.public_cases(q) + EX.hidden_cases(q, hidden_seed(GRADING_SEED, student))
        assert len({tuple(_key(a) for a in c.args) for c in cases}) == len(cases) == q.n_checks
    # so that "the inputs of check k" picks out check k alone
    assert (q.n_checks, q.n_public_checks, q.points) == \
        {"conv1d_valid": (28, 8, 3), "moving_average": (19, 7, 1)}[name]


def test_partial_credit_is_points_times_the_share_of_checks_passed(graded):
    expected = expected_outcomes("02_conv1d",
                                 variant_namespace("02_conv1d", VARIANTS["two_wrong"]),
                                 "conv1d_valid", hidden_seed(GRADING_SEED, "two_wrong"))
    assert sum(expected) == 26
    result = graded["two_wrong"]
    assert [c.passed for c in result.questions["conv1d_valid"].checks] == expected
    verdicts = verdicts_of(result)
    assert verdicts.pop("conv1d_valid") == ("fail", 2.7857)  # 3 × 26/28, not 3 × (26/28)²
    others_ok(verdicts)


def test_a_timeout_keeps_the_credit_of_the_checks_before_it(graded):
    result = graded["loops_on_check_8"]
    checks = result.questions["conv1d_valid"].checks
    assert [c.passed for c in checks] == [True] * 7 + [False] * 21
    verdicts = verdicts_of(result)
    assert verdicts.pop("conv1d_valid") == ("timeout", 0.75)  # 3 × 7/28
    assert "7 of 28 checks had passed" in result.questions["conv1d_valid"].feedback
    others_ok(verdicts)


def test_a_crash_keeps_the_credit_of_the_checks_that_passed(graded):
    result = graded["exits_on_check_4"]
    checks = result.questions["conv1d_valid"].checks
    assert [c.passed for c in checks] == [True] * 3 + [False] + [True] * 24
    verdicts = verdicts_of(result)
    assert verdicts.pop("conv1d_valid") == ("crash", 2.8929)  # 3 × 27/28
    others_ok(verdicts)


def test_a_process_that_ends_keeps_the_credit_of_the_checks_before_it(graded):
    result = graded["process_ends_on_check_5"]
    checks = result.questions["moving_average"].checks
    assert [c.passed for c in checks] == [True] * 4 + [False] * 15
    verdicts = verdicts_of(result)
    assert verdicts.pop("moving_average") == ("crash", 0.2105)  # 1 × 4/19
    others_ok(verdicts, "moving_average")


def test_an_answer_within_the_tolerance_gets_full_marks(graded):
    verdicts = verdicts_of(graded["inside_tolerance"])
    assert verdicts.pop("conv1d_valid") == ("ok", 3.0)
    others_ok(verdicts)


def test_an_answer_just_outside_the_tolerance_fails_every_check(graded):
    result = graded["outside_tolerance"]
    assert not any(c.passed for c in result.questions["conv1d_valid"].checks)
    verdicts = verdicts_of(result)
    assert verdicts.pop("conv1d_valid") == ("fail", 0.0)
    others_ok(verdicts)


# --- the tolerance itself ----------------------------------------------------------------------

def test_the_default_tolerance():
    tol = Tolerance()
    assert (tol.rtol32, tol.atol32) == (1e-4, 1e-5)
    assert (tol.rtol64, tol.atol64) == (1e-9, 1e-12)
    assert tol.for_dtype(torch.float32) == (1e-4, 1e-5)
    assert tol.for_dtype(torch.float64) == (1e-9, 1e-12)
    assert Q.tolerance == tol


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("value", [0.0, 1.0, -3.25, 50.0])
def test_the_tolerance_boundary_on_both_sides(dtype, value):
    rtol, atol = Tolerance().for_dtype(dtype)
    allowed = atol + rtol * abs(value)
    expected = torch.tensor([value], dtype=dtype)
    for sign in (1, -1):
        inside = torch.tensor([value + sign * 0.9 * allowed], dtype=dtype)
        outside = torch.tensor([value + sign * 1.1 * allowed], dtype=dtype)
        assert compare(expected, inside).passed
        assert not compare(expected, outside).passed
        if dtype == torch.float32:  # a Python float is compared like a float32 tensor
            assert compare(value, value + sign * 0.9 * allowed).passed
            assert not compare(value, value + sign * 1.1 * allowed).passed


def test_half_a_percent_is_far_outside_the_tolerance():
    expected = torch.tensor([1.0, -2.0, 7.5])
    assert not compare(expected, expected * 1.005).passed
    assert not compare(expected, expected * 1.0005).passed
    assert compare(expected, expected * 1.00005).passed
    assert not compare(2.0, 2.0 * 1.005).passed
