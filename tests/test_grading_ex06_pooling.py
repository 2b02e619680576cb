"""Exercise 06 (pooling): the reference solution scores full marks, the student notebook zero,
answers that call a pooling function score 0 as forbidden, and a classic slip loses points."""

import math

import pytest
import torch
from exercise_grading import (
    assert_partial_credit_only_on,
    checked_cases,
    grade_notebooks,
    replace_solutions,
    replace_text,
    verdicts_of,
)

from cnnlib.grading import load_exercise

POINTS = {"max_pool": 3.0, "pool_output_shape": 1.0, "receptive_field_size": 2.0,
          "lp_pool": 2.0,
          "q_shift_equivariant": 1.0, "q_maxpool_gradients": 1.0}

# Each replaces the body of one solution with a call to what the question forbids.
CHEATS = {
    "max_pool": ("    return torch.nn.functional.max_pool2d(x[None, None], k, stride, "
                 "padding)[0, 0]"),
    "pool_output_shape": (
        "    import torch.nn.functional as F\n"
        "    return tuple(F.avg_pool2d(torch.zeros(1, 1, h, w), k, stride, padding).shape[-2:])"),
    "receptive_field_size": (
        "    from cnnlib.receptive_field import Layer, receptive_field\n"
        "    return receptive_field([Layer(k, s) for k, s in layers]).final.size"),
    "lp_pool": "    return torch.nn.LPPool1d(p, k)(x[None, None])[0, 0]",
}
# Zero padding instead of −∞: right on non-negative maps, wrong where every value is negative.
SLIP = ('torch.full((h + 2 * padding, w + 2 * padding), float("-inf"), dtype=x.dtype)',
        "torch.zeros((h + 2 * padding, w + 2 * padding), dtype=x.dtype)")


VARIANTS = {"cheat": lambda nb: replace_solutions(nb, CHEATS),
            "slip": lambda nb: replace_text(nb, *SLIP)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_notebooks("06_pooling", tmp_path_factory.mktemp("ex06"), VARIANTS)


def test_the_exercise_has_four_questions_worth_eight_points():
    ex = load_exercise("06_pooling")
    assert {q.name: q.points for q in ex.questions} == POINTS and ex.points == 10
    assert all(q.from_scratch is not None for q in ex.questions if q.kind == "function")


def test_calling_what_a_question_forbids_scores_zero(graded):
    assert verdicts_of(graded["cheat"]) == {q: ("ok", p) if q.startswith("q_") else
                                            ("forbidden", 0.0) for q, p in POINTS.items()}


def test_zero_padding_instead_of_minus_infinity_loses_points(graded):
    assert_partial_credit_only_on(graded["slip"], POINTS, VARIANTS["slip"], "max_pool")


def test_the_hints_formulas_are_the_references():
    ex = load_exercise("06_pooling")
    for case in checked_cases(ex, "receptive_field_size", seed=3):
        r, jump = 1, 1
        for k, s in case.args[0]:
            r, jump = r + (k - 1) * jump, jump * s
        assert r == case.expected
    for case in checked_cases(ex, "pool_output_shape", seed=3):
        h, w, k, s, p = case.args
        s = k if s is None else s
        assert case.expected == ((h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
    for case in checked_cases(ex, "lp_pool", seed=3):
        x, p, k = case.args
        windows = x[: len(x) // k * k].view(-1, k).double()
        by_hand = windows.amax(1) if p == math.inf else windows.pow(p).sum(1).pow(1 / p)
        torch.testing.assert_close(case.expected.double(), by_hand, rtol=1e-5, atol=1e-6)
