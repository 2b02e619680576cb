"""Exercise 06 (pooling): the reference solution scores full marks, the student notebook zero,
answers that call a pooling function score 0 as forbidden, and a classic slip loses points."""

import json
import math
import shutil
from pathlib import Path

import pytest
import torch

from cnnlib.grading import load_exercise
from cnnlib.grading.cli import grade_folder
from cnnlib.grading.sandbox import Limits

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "exercises" / "sources" / "06_pooling.ipynb"
STUDENT = ROOT / "exercises" / "06_pooling.ipynb"
POINTS = {"max_pool": 3.0, "pool_output_shape": 1.0, "receptive_field_size": 2.0,
          "lp_pool": 2.0}

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


def _replace_solution(nb: dict, name: str, body: str) -> None:
    """Swap the solution block of function ``name`` for ``body``."""
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "code" and text.startswith(f"def {name}("):
            head, rest = text.split("    ### BEGIN SOLUTION\n")
            _, tail = rest.split("    ### END SOLUTION")
            cell["source"] = head + body + "\n" + tail
            return
    raise AssertionError(f"no cell defines {name}")


def _variant(edit) -> str:
    nb = json.loads(SOURCE.read_text(encoding="utf-8"))
    edit(nb)
    return json.dumps(nb)


def _cheat(nb):
    for name, body in CHEATS.items():
        _replace_solution(nb, name, body)


def _slip(nb):
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if SLIP[0] in text:
            cell["source"] = text.replace(SLIP[0], SLIP[1])
            return
    raise AssertionError("the solution's −∞ padding line is gone")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ex06")
    subs = tmp / "submissions"
    subs.mkdir()
    shutil.copy(SOURCE, subs / "solution.ipynb")
    shutil.copy(STUDENT, subs / "student.ipynb")
    (subs / "cheat.ipynb").write_text(_variant(_cheat), encoding="utf-8")
    (subs / "slip.ipynb").write_text(_variant(_slip), encoding="utf-8")
    results = grade_folder("06_pooling", subs, tmp / "out", jobs=2,
                           limits=Limits(timeout=20, memory_mb=1024), seed=2024, progress=False)
    return {r.student: r for r in results}


def _verdicts(result):
    return {q: (r.status, r.score) for q, r in result.questions.items()}


def test_the_exercise_has_four_questions_worth_eight_points():
    ex = load_exercise("06_pooling")
    assert {q.name: q.points for q in ex.questions} == POINTS and ex.points == 8
    assert all(q.from_scratch is not None for q in ex.questions)


def test_the_reference_solution_scores_full_marks(graded):
    assert _verdicts(graded["solution"]) == {q: ("ok", p) for q, p in POINTS.items()}


def test_the_student_notebook_scores_zero(graded):
    assert _verdicts(graded["student"]) == {q: ("missing", 0.0) for q in POINTS}


def test_calling_what_a_question_forbids_scores_zero(graded):
    assert _verdicts(graded["cheat"]) == {q: ("forbidden", 0.0) for q in POINTS}


def test_zero_padding_instead_of_minus_infinity_loses_points(graded):
    verdicts = _verdicts(graded["slip"])
    status, score = verdicts.pop("max_pool")
    assert status == "fail" and 0 < score < POINTS["max_pool"]
    assert verdicts == {q: ("ok", p) for q, p in POINTS.items() if q != "max_pool"}


def test_the_hints_formulas_are_the_references():
    ex = load_exercise("06_pooling")
    rf = ex.question("receptive_field_size")
    shape = ex.question("pool_output_shape")
    lp = ex.question("lp_pool")
    for case in ex.public_cases(rf) + ex.hidden_cases(rf, seed=3):
        r, jump = 1, 1
        for k, s in case.args[0]:
            r, jump = r + (k - 1) * jump, jump * s
        assert r == case.expected
    for case in ex.public_cases(shape) + ex.hidden_cases(shape, seed=3):
        h, w, k, s, p = case.args
        s = k if s is None else s
        assert case.expected == ((h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
    for case in ex.public_cases(lp) + ex.hidden_cases(lp, seed=3):
        x, p, k = case.args
        windows = x[: len(x) // k * k].view(-1, k).double()
        by_hand = windows.amax(1) if p == math.inf else windows.pow(p).sum(1).pow(1 / p)
        torch.testing.assert_close(case.expected.double(), by_hand, rtol=1e-5, atol=1e-6)
