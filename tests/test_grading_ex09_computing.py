"""Exercise 09 (how convolution is computed): the reference solution scores full marks, the
student notebook zero, answers that call what a question forbids score 0 as forbidden, and a
classic slip loses points."""

import json
import shutil
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from cnnlib.grading import load_exercise
from cnnlib.grading.cli import grade_folder
from cnnlib.grading.sandbox import Limits

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "exercises" / "sources" / "09_computing.ipynb"
STUDENT = ROOT / "exercises" / "09_computing.ipynb"
POINTS = {"im2col_matrix": 3.0, "conv_flops": 1.0, "im2col_bytes": 2.0,
          "winograd_products": 2.0}

# Each replaces the body of one solution with a call to what the question forbids.
CHEATS = {
    "im2col_matrix": "    return torch.nn.functional.unfold(x[None], k)[0]",
    "conv_flops": (
        "    from cnnlib.counting import count_flops\n"
        "    layer = torch.nn.Conv2d(c_in, c_out, k, stride, padding)\n"
        "    return count_flops(layer, (1, c_in, h, w))"),
    "im2col_bytes": (
        "    cols = torch.nn.functional.unfold(torch.empty(1, c, h, w), k, padding=padding,\n"
        "                                      stride=stride)\n"
        "    return cols.numel() * element_size"),
    "winograd_products": (
        "    from cnnlib.winograd import f23_matrices\n"
        "    bt, gm, _ = f23_matrices(d.dtype)\n"
        "    return (gm @ g) * (bt @ d)"),
}
# Forgetting the stride: right for stride-1 layers only.
SLIP = ("    h_out = (h + 2 * padding - k) // stride + 1\n"
        "    w_out = (w + 2 * padding - k) // stride + 1\n"
        "    return 2 * c_out",
        "    h_out = h + 2 * padding - k + 1\n"
        "    w_out = w + 2 * padding - k + 1\n"
        "    return 2 * c_out")


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
        if text.startswith("def conv_flops(") and SLIP[0] in text:
            cell["source"] = text.replace(SLIP[0], SLIP[1])
            return
    raise AssertionError("the solution of conv_flops no longer has the stride lines")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ex09")
    subs = tmp / "submissions"
    subs.mkdir()
    shutil.copy(SOURCE, subs / "solution.ipynb")
    shutil.copy(STUDENT, subs / "student.ipynb")
    (subs / "cheat.ipynb").write_text(_variant(_cheat), encoding="utf-8")
    (subs / "slip.ipynb").write_text(_variant(_slip), encoding="utf-8")
    results = grade_folder("09_computing", subs, tmp / "out", jobs=2,
                           limits=Limits(timeout=20, memory_mb=1024), seed=2024, progress=False)
    return {r.student: r for r in results}


def _verdicts(result):
    return {q: (r.status, r.score) for q, r in result.questions.items()}


def test_the_exercise_has_four_questions_worth_eight_points():
    ex = load_exercise("09_computing")
    assert {q.name: q.points for q in ex.questions} == POINTS and ex.points == 8
    assert all(q.from_scratch is not None for q in ex.questions)


def test_the_reference_solution_scores_full_marks(graded):
    assert _verdicts(graded["solution"]) == {q: ("ok", p) for q, p in POINTS.items()}


def test_the_student_notebook_scores_zero(graded):
    assert _verdicts(graded["student"]) == {q: ("missing", 0.0) for q in POINTS}


def test_calling_what_a_question_forbids_scores_zero(graded):
    assert _verdicts(graded["cheat"]) == {q: ("forbidden", 0.0) for q in POINTS}


def test_forgetting_the_stride_loses_points(graded):
    verdicts = _verdicts(graded["slip"])
    status, score = verdicts.pop("conv_flops")
    assert status == "fail" and 0 < score < POINTS["conv_flops"]
    assert verdicts == {q: ("ok", p) for q, p in POINTS.items() if q != "conv_flops"}


def _cases(ex, name):
    q = ex.question(name)
    return ex.public_cases(q) + ex.hidden_cases(q, seed=3)


def test_the_references_are_what_the_notebook_says():
    ex = load_exercise("09_computing")
    for case in _cases(ex, "im2col_matrix"):
        x, k = case.args
        c, h, w = x.shape
        assert case.expected.shape == (c * k * k, (h - k + 1) * (w - k + 1))
        weight = torch.randn(2, c, k, k, generator=torch.Generator().manual_seed(0))
        torch.testing.assert_close((weight.view(2, -1) @ case.expected).view(
            2, h - k + 1, w - k + 1), F.conv2d(x[None], weight)[0], rtol=1e-4, atol=1e-5)
    for case in _cases(ex, "conv_flops"):
        c_in, c_out, h, w, k, s, p = case.args
        h_out, w_out = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        assert case.expected == 2 * c_out * h_out * w_out * c_in * k * k
    for case in _cases(ex, "im2col_bytes"):
        c, h, w, k, s, p, size = case.args
        h_out, w_out = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        assert case.expected == c * k * k * h_out * w_out * size
    for case in _cases(ex, "winograd_products"):
        d, g = case.args
        m1, m2, m3, m4 = case.expected.double()
        direct = F.conv1d(d.double().view(1, 1, 4), g.double().view(1, 1, 3)).view(2)
        torch.testing.assert_close(torch.stack([m1 + m2 + m3, m2 - m3 - m4]), direct,
                                   rtol=1e-5, atol=1e-5)
