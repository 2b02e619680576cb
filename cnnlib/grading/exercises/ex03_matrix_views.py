"""Exercise 03 — matrix views of convolution: the graded questions of
``exercises/03_matrix_views.ipynb``.

Every expected answer comes from a reference (cnnlib's Toeplitz, circulant and shift matrices,
counted on real matrices; PyTorch's FFT for the eigenvalues of a circulant and its inverse);
the fixed cases' hand-written answers are tested against those references in
``tests/test_grading_questions.py`` and ``tests/test_grading_ex03_matrix_views.py``.
"""

from __future__ import annotations

import numpy as np
import torch

from cnnlib.matrices import circulant_matrix, circular_flip, shift_matrix
from cnnlib.toeplitz import toeplitz_matrix

from ..cases import m, rounded_normal, t
from ..compare import Tolerance
from ..forbidden import EIGEN, LINEAR_SOLVE, MATRICES
from ..mistakes import Mistake
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


def _as_pairs(z: torch.Tensor) -> torch.Tensor:
    """A complex (n,) tensor as the real (n, 2) tensor of its [real, imaginary] parts."""
    return torch.stack([z.real, z.imag], dim=1)


def ref_circulant_eigenvalues(c: torch.Tensor) -> torch.Tensor:
    """λ_k, the eigenvalue of the Fourier mode v_k[j] = e^{2πi jk/n} for the circulant whose
    first column is c: λ = F c (the DFT), as an (n, 2) tensor of [real, imaginary] parts."""
    return _as_pairs(torch.fft.fft(c))


def _padded(h: torch.Tensor, n: int) -> torch.Tensor:
    return torch.cat([h, h.new_zeros(n - len(h))])


def _deconvolve(y: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    return torch.fft.ifft(torch.fft.fft(y) / lam).real


def ref_circular_deconvolve(y: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """x with circulant_matrix(h, n) @ x == y: divide the DFT of y by the eigenvalues of
    C(h), the DFT of its first column circular_flip(h padded to n)."""
    return _deconvolve(y, torch.fft.fft(circular_flip(_padded(h, len(y)))))


# --- known mistakes: what an answer with each slip returns -------------------------------------

def _toeplitz_loop(h, n, stride, padding, sign=-1):
    """T[i, i·s + j + sign·p] = h[j] wherever that column exists."""
    m = len(h)
    rows = (n + 2 * padding - m) // stride + 1
    out = torch.zeros(rows, n, dtype=h.dtype)
    for i in range(rows):
        for j in range(m):
            col = i * stride + j + sign * padding
            if 0 <= col < n:
                out[i, col] = h[j]
    return out


def _toeplitz_unpadded_count(h, n, stride, padding):
    rows = (n - len(h)) // stride + 1
    if rows <= 0:
        raise ValueError("no rows")
    return toeplitz_matrix(h, n, stride=stride, padding=padding)[:rows]


def _circulant(h, n, column):
    out = torch.zeros(n, n, dtype=h.dtype)
    for i in range(n):
        for j in range(len(h)):
            c = column(i, j)
            if 0 <= c < n:
                out[i, c] = h[j]
    return out


TOEPLITZ_MISTAKES = (
    Mistake("padding ignored", lambda h, n, s, p: toeplitz_matrix(h, n, stride=s),
            "with padding p there are ⌊(n + 2p − m)/s⌋ + 1 rows, and the taps that meet the "
            "padding are dropped"),
    Mistake("stride ignored", lambda h, n, s, p: toeplitz_matrix(h, n, padding=p),
            "keep every s-th row only: row i starts at column i·s − p"),
    Mistake("kernel flipped", lambda h, n, s, p: toeplitz_matrix(h.flip(0), n, stride=s,
                                                                 padding=p),
            "each row holds h in its own order, T[i, i·s + j − p] = h[j], not reversed"),
    Mistake("stride applied to the unpadded size", _toeplitz_unpadded_count,
            "the number of rows comes from the padded length: ⌊(n + 2p − m)/s⌋ + 1"),
    Mistake("matrix built for the padded signal",
            lambda h, n, s, p: toeplitz_matrix(h, n + 2 * p, stride=s),
            "T multiplies x itself: n columns, one per sample, and the taps that meet the "
            "padding are dropped"),
    Mistake("padding offset with the wrong sign",
            lambda h, n, s, p: _toeplitz_loop(h, n, s, p, sign=1),
            "the padding moves the window left: tap j of row i meets column i·s + j − p"),
)

CIRCULANT_MISTAKES = (
    Mistake("kernel flipped", lambda h, n: _circulant(h, n, lambda i, j: (i - j) % n),
            "row i holds h in its own order from column i on: C[i, (i + j) mod n] = h[j]"),
    Mistake("no wrap-around", lambda h, n: _circulant(h, n, lambda i, j: i + j),
            "a circulant wraps around: the taps that pass the last column come back at the "
            "start, (i + j) mod n"),
    Mistake("transposed", lambda h, n: ref_circulant(h, n).T.contiguous(),
            "h runs along the rows, not down the columns: C[i, (i + j) mod n] = h[j]"),
    Mistake("rows shifted the wrong way", lambda h, n: _circulant(h, n, lambda i, j: (j - i) % n),
            "each row is the row above moved one place right: column (i + j) mod n"),
    Mistake("size taken from h instead of n", lambda h, n: ref_circulant(h, len(h)),
            "C is n × n: pad h with zeros up to the signal's length n"),
)

NONZEROS_MISTAKES = (
    Mistake("padding losses ignored", lambda n, m, p: (n + 2 * p - m + 1) * m,
            "the first and the last p rows lose taps to the padding: p(p + 1) in all"),
    Mistake("losses counted at one end only",
            lambda n, m, p: (n + 2 * p - m + 1) * m - p * (p + 1) // 2,
            "taps meet the padding at both ends: p(p + 1)/2 lost at each"),
    Mistake("padding ignored", lambda n, m, p: (n - m + 1) * m,
            "padding adds rows: there are n + 2p − m + 1 of them, and the first and last p "
            "lose some taps"),
    Mistake("p² instead of p(p + 1)", lambda n, m, p: (n + 2 * p - m + 1) * m - p * p,
            "at each end the rows lose p, p − 1, …, 1 taps: p(p + 1)/2 per end"),
    Mistake("+1 forgotten in the rows", lambda n, m, p: (n + 2 * p - m) * m - p * (p + 1),
            "there are n + 2p − m + 1 rows, not n + 2p − m"),
)

RESPONSE_MISTAKES = (
    Mistake("whole response reversed", lambda r: r.flip(0),
            "index 0 stays where it is: h[j] = r[(−j) mod n], only the rest is reversed"),
    Mistake("response returned as it is", lambda r: r.clone(),
            "r is a column of A, the kernel is its row 0: h[j] = A[0, j] = r[(−j) mod n]"),
    Mistake("index off by one", lambda r: torch.stack([r[(1 - j) % len(r)]
                                                        for j in range(len(r))]),
            "h[0] = r[0]: the kernel is h[j] = r[(−j) mod n]"),
    Mistake("index 0 moved to the end", lambda r: torch.cat([r[1:].flip(0), r[:1]]),
            "r[0] stays at index 0; the rest is reversed after it"),
)


EIGENVALUE_MISTAKES = (
    Mistake("conjugated eigenvalues",
            lambda c: _as_pairs(torch.fft.fft(circular_flip(c))),
            "c is the first column of C and λ = F c with F[k, j] = e^{−2πi jk/n}: reading c as "
            "row 0, or using the + sign in the exponent, conjugates every eigenvalue"),
    Mistake("inverse DFT instead of the DFT", lambda c: _as_pairs(torch.fft.ifft(c)),
            "λ = F c is the forward DFT, torch.fft.fft(c): no 1/n and the − sign in the "
            "exponent"),
    Mistake("divided by n", lambda c: _as_pairs(torch.fft.fft(c) / len(c)),
            "the eigenvalues are the DFT itself, λ_k = Σ_j c_j e^{−2πi jk/n}, not divided by n"),
    Mistake("column reversed with flip", lambda c: _as_pairs(torch.fft.fft(c.flip(0))),
            "take the DFT of c as it is: c is already the first column of C"),
    Mistake("real and imaginary parts swapped",
            lambda c: _as_pairs(torch.fft.fft(c)).flip(1),
            "column 0 holds the real parts, column 1 the imaginary parts"),
    Mistake("magnitude and phase instead of real and imaginary parts",
            lambda c: torch.stack([torch.fft.fft(c).abs(), torch.fft.fft(c).angle()], dim=1),
            "return the eigenvalues' real and imaginary parts (λ.real, λ.imag), not |λ| and "
            "its angle"),
)

DECONVOLVE_MISTAKES = (
    Mistake("eigenvalues of the kernel read as the first column",
            lambda y, h: _deconvolve(y, torch.fft.fft(_padded(h, len(y)))),
            "y = C(h) x with row 0 of C holding h, so the eigenvalues are the DFT of C's first "
            "column, h padded and flipped circularly (for a real h: the conjugate of the DFT of "
            "h padded); transform y with fft, divide, and come back with ifft"),
    Mistake("divided the wrong way",
            lambda y, h: torch.fft.ifft(torch.fft.fft(circular_flip(_padded(h, len(y))))
                                        / torch.fft.fft(y)).real,
            "C multiplies each DFT coefficient of x by λ_k, so x̂_k = ŷ_k / λ_k: the DFT of y on "
            "top"),
    Mistake("multiplied instead of divided",
            lambda y, h: torch.fft.ifft(torch.fft.fft(y)
                                        * torch.fft.fft(circular_flip(_padded(h, len(y))))).real,
            "multiplying by λ applies C once more; undoing it divides by λ"),
    Mistake("magnitude instead of real part",
            lambda y, h: torch.fft.ifft(torch.fft.fft(y) / torch.fft.fft(
                circular_flip(_padded(h, len(y))))).abs(),
            "the inverse DFT of a real signal's spectrum is real up to rounding: keep .real, "
            "not the magnitude (which drops every sign)"),
    Mistake("divided by n", lambda y, h: ref_circular_deconvolve(y, h) / len(y),
            "torch.fft.ifft already divides by n: do not divide again"),
    Mistake("kernel reversed with flip instead of circular flip",
            lambda y, h: _deconvolve(y, torch.fft.fft(_padded(h, len(y)).flip(0))),
            "the first column of C keeps h_0 at index 0: it is h̃_j = h_{(−j) mod n}, a "
            "circular flip, not a plain reversal"),
)


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


def rand_first_column(rng: np.random.Generator):
    return (rounded_normal(rng, int(rng.integers(1, 13))),)


MIN_EIGENVALUE = 0.5
"""Every random deconvolution's kernel has |λ_k| ≥ this for all k: C(h) is well invertible."""


def rand_deconvolve(rng: np.random.Generator):
    """(y, h) with y = C(h) x for random x and a kernel h whose eigenvalues all have
    |λ_k| ≥ MIN_EIGENVALUE (drawn again until they do)."""
    n = int(rng.integers(1, 13))
    m_ = int(rng.integers(1, n + 1))
    while True:
        h = rounded_normal(rng, m_)
        lam = torch.fft.fft(_padded(h.double(), n))
        if bool((lam.abs() >= MIN_EIGENVALUE).all()):
            break
    x = rounded_normal(rng, n).double()
    y = circulant_matrix(h.double(), n) @ x
    return y.float(), h


# --- conceptual questions: answers computed, not typed ------------------------------------------

def ref_q_circulant_eigenvectors() -> str:
    """Which option holds the eigenvectors of every circulant, tested on random kernels:
    'a', 'b' or 'd' when exactly that fixed set works for all of them, else 'c'."""
    n = 8
    j = torch.arange(n, dtype=torch.float64)
    fourier = torch.exp(2j * torch.pi * torch.outer(j, j) / n)
    holds = {"a": True, "b": True, "d": True}
    for seed in range(3):
        h = torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        c = circulant_matrix(h, n).to(torch.complex128)
        for letter, v in (("a", torch.eye(n, dtype=c.dtype)), ("b", fourier), ("d", c.T)):
            cv = c @ v  # column k of v is an eigenvector iff c @ v_k = λ_k v_k
            lam = (v.conj() * cv).sum(0) / (v.conj() * v).sum(0)
            holds[letter] &= bool(torch.allclose(cv, v * lam))
    fixed = [k for k, ok in holds.items() if ok]
    return fixed[0] if len(fixed) == 1 else "c"


def ref_q_difference_rank() -> int:
    """Rank of the 8×8 circulant of the difference kernel [1, −1]."""
    c = circulant_matrix(torch.tensor([1.0, -1.0], dtype=torch.float64), 8)
    return int(torch.linalg.matrix_rank(c))


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
            mistakes=TOEPLITZ_MISTAKES,
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
            mistakes=CIRCULANT_MISTAKES,
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
            mistakes=NONZEROS_MISTAKES,
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
            mistakes=RESPONSE_MISTAKES,
            hint="column k of A is r shifted down by k, so A[i, k] = r[(i − k) % n]; row 0 holds "
                 "the kernel: h[j] = A[0, j] = r[(−j) % n]",
        ),
        Question.value(
            "q_circulant_eigenvectors", points=1, reference=ref_q_circulant_eigenvectors,
            hint="a circulant commutes with the cyclic shift, so it keeps each eigenvector of "
                 "the shift; which vectors does a cyclic shift only multiply by a number?",
        ),
        Question.value(
            "q_difference_rank", points=1, reference=ref_q_difference_rank,
            hint="the eigenvalues of a circulant are the DFT of its kernel; the rank counts the "
                 "nonzero ones (what does the difference do to a constant signal?)",
        ),
        Question.function(
            "circulant_eigenvalues", points=2, reference=ref_circulant_eigenvalues,
            args=("c",),
            fixed=(
                Case((t(1, 0, 0, 0),), m([1, 0], [1, 0], [1, 0], [1, 0]),
                     "the identity: every eigenvalue is 1"),
                Case((t(0, 1, 0, 0),), m([1, 0], [0, -1], [-1, 0], [0, 1]),
                     "the shift S: λ_k = e^{−2πi k/n}, the roots of unity"),
                Case((t(1, 1, 1, 1),), m([4, 0], [0, 0], [0, 0], [0, 0]),
                     "all ones: only the constant mode survives"),
                Case((t(2, 1, 0, 1),), m([4, 0], [2, 0], [0, 0], [2, 0]),
                     "a symmetric column: real eigenvalues 2 + 2 cos(2πk/n)"),
                Case((t(3),), m([3, 0]), "n = 1"),
            ),
            random_case=rand_first_column, n_public=6, n_hidden=20, from_scratch=EIGEN,
            tolerance=Tolerance(atol32=1e-4), mistakes=EIGENVALUE_MISTAKES,
            hint="λ = F c: the DFT of the first column, torch.fft.fft(c); return "
                 "torch.stack([lam.real, lam.imag], dim=1)",
        ),
        Question.function(
            "circular_deconvolve", points=2, reference=ref_circular_deconvolve,
            args=("y", "h"),
            fixed=(
                Case((t(2, -4, 6), t(1)), t(2, -4, 6), "an impulse kernel: nothing to undo"),
                Case((t(2, -4, 6), t(2)), t(1, -2, 3), "a gain of 2 is undone by halving"),
                Case((t(1, 2, 3, 4), t(0, 1)), t(4, 1, 2, 3),
                     "h = e₁ reads the next sample; undoing it moves every sample back"),
                Case((t(3, 5, 4), t(1, 1)), t(1, 2, 3), "each output sums two neighbours"),
                Case((t(2, 0, 0, -1), t(2, -1)), t(1, 0, 0, 0), "an impulse comes back"),
            ),
            random_case=rand_deconvolve, n_public=6, n_hidden=20, from_scratch=LINEAR_SOLVE,
            tolerance=Tolerance(atol32=1e-4), mistakes=DECONVOLVE_MISTAKES,
            hint="λ = torch.fft.fft of C(h)'s first column (h padded to n, then h̃_j = "
                 "h_{(−j) mod n}); x = torch.fft.ifft(torch.fft.fft(y) / λ).real",
        ),
    ),
)
