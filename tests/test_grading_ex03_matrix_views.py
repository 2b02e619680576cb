"""Exercise 03 (matrix views): its references against independent oracles (PyTorch's conv1d,
the definitions); the grader gives the source notebook full marks, the student notebook zero,
answers that call what a question forbids 0, and a Toeplitz matrix that ignores the padding
partial credit."""

import pytest
import torch
import torch.nn.functional as F
from exercise_grading import (
    assert_partial_credit_only_on,
    checked_cases,
    grade_notebooks,
    replace_solutions,
    replace_text,
    verdicts_of,
)

from cnnlib.grading import load_exercise

POINTS = {"toeplitz": 3.0, "circulant": 2.0, "toeplitz_nonzeros": 1.0,
          "is_shift_equivariant": 2.0, "kernel_from_response": 1.0,
          "q_circulant_eigenvectors": 1.0, "q_difference_rank": 1.0}
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


def _circulant_by_definition(h: torch.Tensor, n: int) -> torch.Tensor:
    c = torch.zeros(n, n, dtype=h.dtype)
    for i in range(n):
        for j in range(len(h)):
            c[i, (i + j) % n] = h[j]
    return c


# --- the declarations and the references ------------------------------------------------------

def test_the_exercise_has_five_questions_worth_nine_points():
    assert {q.name: q.points for q in EX.questions} == POINTS and EX.points == 11
    assert EX.question("is_shift_equivariant").from_scratch is None
    banned = EX.question("toeplitz").from_scratch
    for api in ("cnnlib.toeplitz.toeplitz_matrix", "cnnlib.matrices.circulant_matrix",
                "scipy.linalg.toeplitz", "torch.nn.functional.conv1d", "torch.Tensor.unfold"):
        assert banned.match(api) is not None, api
    assert banned.match("torch.roll") is None   # rolling rows is a fine way to build them


def test_toeplitz_reference_is_pytorchs_convolution():
    gen = torch.Generator().manual_seed(0)
    for case in checked_cases(EX, "toeplitz"):
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
    for case in checked_cases(EX, "circulant"):
        h, n = case.args
        assert torch.equal(case.expected, _circulant_by_definition(h, n))
        x = torch.randn(n)
        wrapped = F.pad(x[None, None], (0, len(h) - 1), mode="circular")
        torch.testing.assert_close(case.expected @ x, F.conv1d(wrapped, h[None, None])[0, 0])


def test_nonzeros_reference_counts_and_matches_the_chapters_formulas():
    for case in checked_cases(EX, "toeplitz_nonzeros"):
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
    for case in checked_cases(EX, "is_shift_equivariant", seed=3):
        (a,) = case.args
        is_circulant = torch.equal(a, _circulant_by_definition(a[0], len(a)))
        assert case.expected is is_circulant
        answers.add(case.expected)
    assert answers == {True, False}


def test_kernel_from_response_rebuilds_the_operator():
    for case in checked_cases(EX, "kernel_from_response"):
        (r,) = case.args
        n = len(r)
        a = torch.stack([torch.roll(r, k) for k in range(n)], dim=1)   # column k: r moved k down
        assert torch.equal(a[:, 0], r)
        assert torch.equal(_circulant_by_definition(case.expected, n), a)


# --- grading the notebooks --------------------------------------------------------------------

VARIANTS = {"cheat": lambda nb: replace_solutions(nb, CHEATS),
            "slip": lambda nb: replace_text(nb, *SLIP)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_notebooks("03_matrix_views", tmp_path_factory.mktemp("ex03"), VARIANTS)


def test_calling_what_a_question_forbids_scores_zero(graded):
    verdicts = verdicts_of(graded["cheat"])
    assert verdicts == {q: ("forbidden", 0.0) if q in CHEATS else ("ok", p)
                        for q, p in POINTS.items()}


def test_a_toeplitz_matrix_that_ignores_the_padding_loses_points(graded):
    assert_partial_credit_only_on(graded["slip"], POINTS, VARIANTS["slip"], "toeplitz")
