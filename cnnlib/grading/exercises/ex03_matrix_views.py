"""Exercise 03 — matrix views of convolution: the graded questions of
``exercises/03_matrix_views.ipynb``.

Every expected answer comes from a reference (cnnlib's Toeplitz, circulant and shift matrices,
counted on real matrices); the fixed cases' hand-written answers are tested against those
references in ``tests/test_grading_questions.py`` and ``tests/test_grading_ex03_matrix_views.py``.
"""

from __future__ import annotations

import numpy as np
import torch

from cnnlib.matrices import circulant_matrix, circular_flip, shift_matrix
from cnnlib.toeplitz import toeplitz_matrix

from ..cases import m, rounded_normal, t
from ..forbidden import MATRICES
from ..question import Case, Exercise, Question

__all__ = ["EXERCISE"]


# --- references -------------------------------------------------------------------------------

def ref_toeplitz(h: torch.Tensor, n: int, stride: int, padding: int) -> torch.Tensor:
    return toeplitz_matrix(h, n, stride=stride, padding=padding)


def ref_circulant(h: torch.Tensor, n: int) -> torch.Tensor:
    return circulant_matrix(h, n)


def ref_toeplitz_nonzeros(n: int, m: int, p: int) -> int:
    """Counted on a real matrix: a kernel of ones has no zero taps."""
    return int((toeplitz_matrix(torch.ones(m), n, padding=p) != 0).sum())


def ref_is_shift_equivariant(a: torch.Tensor) -> bool:
    s = shift_matrix(a.shape[0], dtype=a.dtype)
    return bool(torch.equal(a @ s, s @ a))


def ref_kernel_from_response(r: torch.Tensor) -> torch.Tensor:
    return circular_flip(r)


# --- random cases -----------------------------------------------------------------------------

def rand_toeplitz(rng: np.random.Generator):
    m_ = int(rng.integers(1, 6))
    p = int(rng.integers(0, m_))
    s = int(rng.integers(1, 4))
    n = int(rng.integers(max(1, m_ - 2 * p), 11))
    return rounded_normal(rng, m_), n, s, p


def rand_circulant(rng: np.random.Generator):
    m_ = int(rng.integers(1, 7))
    return rounded_normal(rng, m_), int(rng.integers(m_, 10))


def rand_nonzeros(rng: np.random.Generator):
    m_ = int(rng.integers(1, 10))
    return int(rng.integers(m_, 201)), m_, int(rng.integers(0, m_))


def rand_equivariant(rng: np.random.Generator):
    n = int(rng.integers(1, 8))
    kind = int(rng.integers(0, 4))
    if kind <= 1:    # a circulant, perhaps with one entry changed
        a = circulant_matrix(rounded_normal(rng, int(rng.integers(1, n + 1))), n)
        if kind == 1:
            i, j = (int(v) for v in rng.integers(0, n, size=2))
            a[i, j] += float(rng.choice([-1, 1]) * rng.uniform(0.5, 2.0))
    elif kind == 2:  # a dense matrix
        a = rounded_normal(rng, (n, n))
    else:            # a position-dependent gain, diag(r)
        a = torch.diag(rounded_normal(rng, n))
    return (a,)


def rand_impulse(rng: np.random.Generator):
    return (rounded_normal(rng, int(rng.integers(1, 11))),)


# --- the questions ----------------------------------------------------------------------------

EXERCISE = Exercise(
    name="03_matrix_views",
    title="Matrix views of convolution",
    questions=(
        Question.function(
            "toeplitz", points=3, reference=ref_toeplitz, args=("h", "n", "stride", "padding"),
            fixed=(
                Case((t(1, 2, 3), 5, 1, 0), m([1, 2, 3, 0, 0], [0, 1, 2, 3, 0], [0, 0, 1, 2, 3]),
                     "valid: one row per output, each the row above moved one place right"),
                Case((t(1, 2, 3), 4, 1, 1),
                     m([2, 3, 0, 0], [1, 2, 3, 0], [0, 1, 2, 3], [0, 0, 1, 2]),
                     "padding 1: the taps that would meet the padding are dropped"),
                Case((t(1, 2, 3), 7, 2, 0),
                     m([1, 2, 3, 0, 0, 0, 0], [0, 0, 1, 2, 3, 0, 0], [0, 0, 0, 0, 1, 2, 3]),
                     "stride 2 keeps every other row"),
                Case((t(5), 3, 1, 0), m([5, 0, 0], [0, 5, 0], [0, 0, 5]),
                     "a kernel of length 1: a multiple of the identity"),
                Case((t(1, -1), 2, 1, 1), m([-1, 0], [1, -1], [0, 1]),
                     "full padding (p = m − 1): more rows than columns"),
            ),
            random_case=rand_toeplitz, n_public=6, n_hidden=24, from_scratch=MATRICES,
            hint="o = ⌊(n + 2p − m)/s⌋ + 1 rows and n columns; T[i, i·s + j − p] = h[j] for every "
                 "tap j whose column i·s + j − p lies in 0 … n − 1 (the others meet the padding)",
        ),
        Question.function(
            "circulant", points=2, reference=ref_circulant, args=("h", "n"),
            fixed=(
                Case((t(1, 2), 3), m([1, 2, 0], [0, 1, 2], [2, 0, 1]),
                     "the last row wraps around"),
                Case((t(1, 2, 3), 3), m([1, 2, 3], [3, 1, 2], [2, 3, 1]),
                     "kernel as long as the signal: every row is a rotation of h"),
                Case((t(0, 1), 4), m([0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 0, 0]),
                     "the circulant of an impulse is a shift (here Sᵀ)"),
                Case((t(4), 2), m([4, 0], [0, 4]), "a kernel of length 1"),
            ),
            random_case=rand_circulant, n_public=6, n_hidden=20, from_scratch=MATRICES,
            hint="C[i, (i + j) % n] = h[j]: row i holds h starting at column i, wrapping around",
        ),
        Question.function(
            "toeplitz_nonzeros", points=1, reference=ref_toeplitz_nonzeros, args=("n", "m", "p"),
            fixed=(
                Case((8, 3, 0), 18, "valid: o·m = 6·3"),
                Case((8, 5, 2), 34, "'same' padding: n·m − p(p + 1)"),
                Case((4, 2, 1), 8, "full padding: every sample meets every tap"),
                Case((3, 3, 0), 3, "one row"),
                Case((1024, 5, 0), 5100, "the chapter's longest signal"),
            ),
            random_case=rand_nonzeros, n_public=8, n_hidden=24, from_scratch=MATRICES,
            hint="there are o = n + 2p − m + 1 rows of m taps; the first p rows lose p, p − 1, "
                 "…, 1 taps to the padding, and so do the last p rows",
        ),
        Question.function(
            "is_shift_equivariant", points=2, reference=ref_is_shift_equivariant, args=("A",),
            fixed=(
                Case((torch.eye(3),), True, "the identity"),
                Case((m([1, 2, 3], [3, 1, 2], [2, 3, 1]),), True, "a circulant"),
                Case((torch.diag(t(1, 2, 3)),), False, "a ramp treats positions differently"),
                Case((m([1, 2, 0], [0, 1, 2], [0, 0, 1]),), False,
                     "Toeplitz but not circulant: the zero boundary breaks it"),
                Case((torch.ones(4, 4),), True, "the sum of all samples, everywhere"),
                Case((m([5]),), True, "a 1 × 1 matrix"),
            ),
            random_case=rand_equivariant, n_public=8, n_hidden=24,
            hint="build the n × n cyclic shift S (S[i, (i − 1) % n] = 1) and compare A @ S with "
                 "S @ A (torch.equal or torch.allclose); return a Python bool",
        ),
        Question.function(
            "kernel_from_response", points=1, reference=ref_kernel_from_response,
            args=("r",),
            fixed=(
                Case((t(1, 2, 3, 4),), t(1, 4, 3, 2), "index 0 stays, the rest is reversed"),
                Case((t(0, 1, 0, 0),), t(0, 0, 0, 1),
                     "the shift S answers e₀ with e₁: its kernel reads the sample before"),
                Case((t(1, 2),), t(1, 2), "n = 2: reversing the rest changes nothing"),
                Case((t(5),), t(5), "n = 1"),
            ),
            random_case=rand_impulse, n_public=6, n_hidden=20, from_scratch=MATRICES,
            hint="column k of A is r shifted down by k, so A[i, k] = r[(i − k) % n]; row 0 holds "
                 "the kernel: h[j] = A[0, j] = r[(−j) % n]",
        ),
    ),
)
