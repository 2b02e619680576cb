"""Exercise 03 (matrix views): its references against independent oracles (PyTorch's conv1d,
the definitions, the eigenvectors of the circulant); the grader gives the source notebook full
marks, the student notebook zero, answers that call what a question forbids 0, and a Toeplitz
matrix that ignores the padding, or eigenvalues taken from the wrong transform, partial
credit."""

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
from cnnlib.grading.mistakes import mistake_text

POINTS = {"toeplitz": 3.0, "circulant": 2.0, "toeplitz_nonzeros": 1.0,
          "is_shift_equivariant": 2.0, "kernel_from_response": 1.0,
          "q_circulant_eigenvectors": 1.0, "q_difference_rank": 1.0,
          "circulant_eigenvalues": 2.0, "circular_deconvolve": 2.0}
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
    # an eigen-decomposition of the circulant built by hand
    "circulant_eigenvalues": (
        "    A = torch.stack([torch.roll(c, k) for k in range(len(c))], dim=1)\n"
        "    lam = torch.linalg.eigvals(A)\n"
        "    return torch.stack([lam.real, lam.imag], dim=1)"),
    # the circulant built by hand, then solved
    "circular_deconvolve": (
        "    h_pad = torch.zeros(len(y), dtype=h.dtype)\n"
        "    h_pad[: len(h)] = h\n"
        "    C = torch.stack([torch.roll(h_pad, i) for i in range(len(y))])\n"
        "    return torch.linalg.solve(C, y)"),
}
# Forgetting that padding moves the taps: right without padding, wrong with it.
SLIP = ("col = i * stride + j - padding", "col = i * stride + j")
# The inverse DFT for the eigenvalues, and the kernel's own DFT (the eigenvalues of the true
# convolution with h) for the deconvolution: right for n = 1 and one-tap kernels only.
DFT_SLIPS = {"circulant_eigenvalues": ("lam = torch.fft.fft(c)", "lam = torch.fft.ifft(c)"),
             "circular_deconvolve": ("lam = torch.fft.fft(first_column)",
                                     "lam = torch.fft.fft(h_pad)")}
DFT_SLIP_MISTAKES = {"circulant_eigenvalues": "inverse DFT instead of the DFT",
                     "circular_deconvolve": "eigenvalues of the kernel read as the first column"}


def _circulant_by_definition(h: torch.Tensor, n: int) -> torch.Tensor:
    c = torch.zeros(n, n, dtype=h.dtype)
    for i in range(n):
        for j in range(len(h)):
            c[i, (i + j) % n] = h[j]
    return c


# --- the declarations and the references ------------------------------------------------------

def test_the_exercise_has_nine_questions_worth_fifteen_points():
    assert {q.name: q.points for q in EX.questions} == POINTS and EX.points == 15
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


def _fourier_modes(n: int) -> torch.Tensor:
    """Column k is v_k, v_k[j] = e^{2πi jk/n} (complex128)."""
    j = torch.arange(n, dtype=torch.float64)
    return torch.exp(2j * torch.pi * torch.outer(j, j) / n)


def test_eigenvalues_reference_gives_the_eigenvalue_of_each_fourier_mode():
    """A v_k = λ_k v_k for the circulant A with first column c, by the definition
    A[i, k] = c[(i − k) mod n], and the λ_k are all of A's eigenvalues (PyTorch's eigvals)."""
    ns = set()
    for case in checked_cases(EX, "circulant_eigenvalues"):
        (c,) = case.args
        n = len(c)
        ns.add(n)
        a = torch.tensor([[float(c[(i - k) % n]) for k in range(n)] for i in range(n)],
                         dtype=torch.float64)
        assert torch.equal(a[:, 0], c.double())
        assert case.expected.shape == (n, 2) and case.expected.dtype == torch.float32
        lam = torch.complex(case.expected[:, 0].double(), case.expected[:, 1].double())
        v = _fourier_modes(n)
        torch.testing.assert_close(a.to(torch.complex128) @ v, v * lam, atol=1e-5, rtol=1e-5)
        eig = torch.linalg.eigvals(a)
        # the same multiset: each eigenvalue of A is one of the λ_k, and the other way round
        assert torch.cdist(torch.view_as_real(eig), torch.view_as_real(lam)).min(1).values.max() \
            < 1e-4
        assert torch.cdist(torch.view_as_real(lam), torch.view_as_real(eig)).min(1).values.max() \
            < 1e-4
    assert 1 in ns and max(ns) >= 8


def test_deconvolve_reference_undoes_the_circular_convolution():
    """C(h) x̂ = y for the reference's x̂, with C(h) from the definition and from PyTorch's
    conv1d on the circularly padded signal; x̂ is what a linear solve gives; every random
    kernel's eigenvalues are at least MIN_EIGENVALUE in size."""
    from cnnlib.grading.exercises.ex03_matrix_views import MIN_EIGENVALUE

    cases = checked_cases(EX, "circular_deconvolve")
    for case in cases:
        y, h = case.args
        n, m = len(y), len(h)
        x = case.expected
        assert x.shape == y.shape and x.dtype == torch.float32 and 1 <= m <= n
        c = _circulant_by_definition(h.double(), n)
        torch.testing.assert_close(c @ x.double(), y.double(), atol=1e-4, rtol=1e-4)
        wrapped = F.pad(x.double()[None, None], (0, m - 1), mode="circular")
        torch.testing.assert_close(F.conv1d(wrapped, h.double()[None, None])[0, 0],
                                   y.double(), atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(x.double(), torch.linalg.solve(c, y.double()),
                                   atol=1e-4, rtol=1e-4)
    for case in cases[len(EX.question("circular_deconvolve").fixed):]:
        y, h = case.args
        eig = torch.linalg.eigvals(_circulant_by_definition(h.double(), len(y)))
        assert eig.abs().min() >= MIN_EIGENVALUE - 1e-9


def test_the_new_lists_forbid_eigen_decompositions_and_solvers_not_the_fft():
    eigen = EX.question("circulant_eigenvalues").from_scratch
    solve = EX.question("circular_deconvolve").from_scratch
    for api in ("torch.linalg.eig", "torch.linalg.eigvals", "torch.linalg.eigvalsh",
                "numpy.linalg.eigvals"):
        assert eigen.match(api) is not None and solve.match(api) is not None, api
    for api in ("torch.linalg.solve", "torch.linalg.inv", "torch.linalg.lstsq",
                "torch.linalg.pinv", "torch.inverse", "numpy.linalg.solve",
                "cnnlib.matrices.circulant_matrix", "cnnlib.matrices.circular_flip"):
        assert solve.match(api) is not None, api
    assert eigen.aten_match("aten::linalg_eig") and solve.aten_match("aten::_linalg_solve_ex")
    assert solve.aten_match("aten::linalg_inv_ex")
    for api in ("torch.fft.fft", "torch.fft.ifft", "torch.roll", "torch.stack"):
        assert eigen.match(api) is None and solve.match(api) is None, api


# --- grading the notebooks --------------------------------------------------------------------

def _dft_slips(nb: dict) -> None:
    for name, (old, new) in DFT_SLIPS.items():
        replace_text(nb, old, new, function=name)


VARIANTS = {"cheat": lambda nb: replace_solutions(nb, CHEATS),
            "slip": lambda nb: replace_text(nb, *SLIP),
            "dft_slip": _dft_slips}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_notebooks("03_matrix_views", tmp_path_factory.mktemp("ex03"), VARIANTS)


def test_calling_what_a_question_forbids_scores_zero(graded):
    verdicts = verdicts_of(graded["cheat"])
    assert verdicts == {q: ("forbidden", 0.0) if q in CHEATS else ("ok", p)
                        for q, p in POINTS.items()}


def test_a_toeplitz_matrix_that_ignores_the_padding_loses_points(graded):
    assert_partial_credit_only_on(graded["slip"], POINTS, VARIANTS["slip"], "toeplitz")


def test_eigenvalues_from_the_wrong_transform_lose_points_with_their_hints(graded):
    result = graded["dft_slip"]
    assert_partial_credit_only_on(result, POINTS, VARIANTS["dft_slip"], *DFT_SLIPS)
    for name, label in DFT_SLIP_MISTAKES.items():
        mistake = next(m for m in EX.question(name).mistakes if m.label == label)
        feedback = " ".join(result.questions[name].feedback.split())
        assert " ".join(mistake_text(mistake).split()) in feedback, feedback
