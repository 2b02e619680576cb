"""Exercise 03 (matrix views): its references against independent oracles (PyTorch's conv1d,
the definitions); the grader gives the source notebook full marks, the student notebook zero,
answers that call what a question forbids 0, and a Toeplitz matrix that ignores the padding
partial credit."""

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
SOURCE = ROOT / "exercises" / "sources" / "03_matrix_views.ipynb"
STUDENT = ROOT / "exercises" / "03_matrix_views.ipynb"
POINTS = {"toeplitz": 3.0, "circulant": 2.0, "toeplitz_nonzeros": 1.0,
          "is_shift_equivariant": 2.0, "kernel_from_response": 1.0}
EX = load_exercise("03_matrix_views")

# Each replaces the body of one from-scratch solution with a call to what the question forbids.
CHEATS = {
    "toeplitz": ("    from cnnlib.toeplitz import toeplitz_matrix\n"
                 "    return toeplitz_matrix(h, n, stride=stride, padding=padding)"),
    "circulant": ("    import cnnlib.matrices\n"
                  "    return cnnlib.matrices.circulant_matrix(h, n)"),
    "toeplitz_nonzeros": (
        "    from cnnlib.toeplitz import toeplitz_matrix\n"
        "    return int((toeplitz_matrix(torch.ones(m), n, padding=p) != 0).sum())"),
    "kernel_from_response": ("    from cnnlib.matrices import circular_flip\n"
                             "    return circular_flip(r)"),
}
# Forgetting that padding moves the taps: right without padding, wrong with it.
SLIP = ("col = i * stride + j - padding", "col = i * stride + j")


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
    raise AssertionError("the solution's padded column line is gone")


def _cases(name: str, seed: int = 7):
    q = EX.question(name)
    return EX.public_cases(q) + EX.hidden_cases(q, seed)


def _circulant_by_definition(h: torch.Tensor, n: int) -> torch.Tensor:
    c = torch.zeros(n, n, dtype=h.dtype)
    for i in range(n):
        for j in range(len(h)):
            c[i, (i + j) % n] = h[j]
    return c


# --- the declarations and the references ------------------------------------------------------

def test_the_exercise_has_five_questions_worth_nine_points():
    assert {q.name: q.points for q in EX.questions} == POINTS and EX.points == 9
    assert EX.question("is_shift_equivariant").from_scratch is None
    banned = EX.question("toeplitz").from_scratch
    for api in ("cnnlib.toeplitz.toeplitz_matrix", "cnnlib.matrices.circulant_matrix",
                "scipy.linalg.toeplitz", "torch.nn.functional.conv1d", "torch.Tensor.unfold"):
        assert banned.match(api) is not None, api
    assert banned.match("torch.roll") is None   # rolling rows is a fine way to build them


def test_toeplitz_reference_is_pytorchs_convolution():
    gen = torch.Generator().manual_seed(0)
    for case in _cases("toeplitz"):
        h, n, stride, padding = case.args
        x = torch.randn(n, generator=gen)
        expected = F.conv1d(x[None, None], h[None, None], stride=stride, padding=padding)[0, 0]
        assert case.expected.shape == (len(expected), n)
        torch.testing.assert_close(case.expected @ x, expected)
        # nothing but the kernel's taps, each where the definition puts it
        for i in range(len(expected)):
            for col in range(n):
                j = col - i * stride + padding
                tap = h[j] if 0 <= j < len(h) else torch.tensor(0.0)
                assert case.expected[i, col] == tap


def test_circulant_reference_is_the_definition_and_circular_convolution():
    for case in _cases("circulant"):
        h, n = case.args
        assert torch.equal(case.expected, _circulant_by_definition(h, n))
        x = torch.randn(n)
        wrapped = F.pad(x[None, None], (0, len(h) - 1), mode="circular")
        torch.testing.assert_close(case.expected @ x, F.conv1d(wrapped, h[None, None])[0, 0])


def test_nonzeros_reference_counts_and_matches_the_chapters_formulas():
    for case in _cases("toeplitz_nonzeros"):
        n, m, p = case.args
        assert n >= m > p >= 0
        assert case.expected == (n + 2 * p - m + 1) * m - p * (p + 1)
    q = EX.question("toeplitz_nonzeros")
    for n in (8, 16, 33):
        assert q.reference(n, 5, 0) == (n - 5 + 1) * 5          # valid: o·m
        assert q.reference(n, 5, 2) == n * 5 - 2 * 3            # same: n·m − p(p + 1)
        assert q.reference(n, 5, 4) == n * 5                    # full: every sample, every tap


def test_shift_equivariant_means_circulant():
    answers = set()
    for case in _cases("is_shift_equivariant", seed=3):
        (a,) = case.args
        is_circulant = torch.equal(a, _circulant_by_definition(a[0], len(a)))
        assert case.expected is is_circulant
        answers.add(case.expected)
    assert answers == {True, False}


def test_kernel_from_response_rebuilds_the_operator():
    for case in _cases("kernel_from_response"):
        (r,) = case.args
        n = len(r)
        a = torch.stack([torch.roll(r, k) for k in range(n)], dim=1)   # column k: r moved k down
        assert torch.equal(a[:, 0], r)
        assert torch.equal(_circulant_by_definition(case.expected, n), a)


# --- grading the notebooks --------------------------------------------------------------------

@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ex03")
    subs = tmp / "submissions"
    subs.mkdir()
    shutil.copy(SOURCE, subs / "solution.ipynb")
    shutil.copy(STUDENT, subs / "student.ipynb")
    (subs / "cheat.ipynb").write_text(_variant(_cheat), encoding="utf-8")
    (subs / "slip.ipynb").write_text(_variant(_slip), encoding="utf-8")
    results = grade_folder("03_matrix_views", subs, tmp / "out", jobs=2,
                           limits=Limits(timeout=20, memory_mb=1024), seed=2024, progress=False)
    return {r.student: r for r in results}


def _verdicts(result):
    return {q: (r.status, r.score) for q, r in result.questions.items()}


def test_the_reference_solution_scores_full_marks(graded):
    assert _verdicts(graded["solution"]) == {q: ("ok", p) for q, p in POINTS.items()}


def test_the_student_notebook_scores_zero(graded):
    assert _verdicts(graded["student"]) == {q: ("missing", 0.0) for q in POINTS}


def test_calling_what_a_question_forbids_scores_zero(graded):
    verdicts = _verdicts(graded["cheat"])
    assert verdicts == {q: ("forbidden", 0.0) if q in CHEATS else ("ok", p)
                        for q, p in POINTS.items()}


def test_a_toeplitz_matrix_that_ignores_the_padding_loses_points(graded):
    verdicts = _verdicts(graded["slip"])
    status, score = verdicts.pop("toeplitz")
    assert status == "fail" and 0 < score < POINTS["toeplitz"]
    assert verdicts == {q: ("ok", p) for q, p in POINTS.items() if q != "toeplitz"}
