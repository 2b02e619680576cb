"""Exercise 02 — 1D convolution: the graded questions of ``exercises/02_conv1d.ipynb``.

Every expected answer comes from a reference (PyTorch, numpy or cnnlib); the fixed cases'
hand-written answers are tested against those references in ``tests/test_grading_questions.py``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from cnnlib.arithmetic import conv_output_size

from ..cases import rounded_normal, t
from ..forbidden import CONVOLUTION, OUTPUT_SIZE
from ..mistakes import Mistake
from ..question import Case, Exercise, Question

__all__ = ["EXERCISE"]


# --- references -------------------------------------------------------------------------------

def ref_conv1d_valid(x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    return F.conv1d(x.view(1, 1, -1), h.view(1, 1, -1))[0, 0]


def ref_output_length(n: int, m: int, p: int, s: int) -> int:
    return conv_output_size(n, m, stride=s, padding=p)


def ref_conv1d_general(x: torch.Tensor, h: torch.Tensor, stride: int, padding: int):
    return F.conv1d(x.view(1, 1, -1), h.view(1, 1, -1), stride=stride, padding=padding)[0, 0]


def ref_true_convolution(x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(np.convolve(x.numpy(), h.numpy(), mode="full")).to(x.dtype)


def ref_moving_average(x: torch.Tensor, m: int) -> torch.Tensor:
    return F.avg_pool1d(x.view(1, 1, -1), kernel_size=m, stride=1)[0, 0]


def ref_conv1d_params() -> int:
    layer = torch.nn.Conv1d(in_channels=3, out_channels=8, kernel_size=5)
    return sum(p.numel() for p in layer.parameters())


# --- known mistakes: what an answer with each slip returns -------------------------------------

def _zeros(p: int, like: torch.Tensor) -> torch.Tensor:
    return torch.zeros(p, dtype=like.dtype)


def _general(x, h, stride, padding):
    return ref_conv1d_general(x, h, stride, padding)


def _unpadded_count(x, h, stride, padding):
    """Windows on the padded signal, but as many as the unpadded signal has."""
    count = (len(x) - len(h)) // stride + 1
    if count <= 0:
        raise ValueError("no output")
    return ref_conv1d_general(x, h, stride, padding)[:count]


VALID_MISTAKES = (
    Mistake("kernel flipped", lambda x, h: ref_conv1d_valid(x, h.flip(0)),
            "that is a true convolution, not the cross-correlation asked for: read h in its "
            "own order, y[i] = Σ_j h[j]·x[i + j], without reversing it"),
    Mistake("last window missing", lambda x, h: ref_conv1d_valid(x, h)[:-1],
            "the loop stops one window early: there are n − m + 1 windows, so the loop runs "
            "over range(n − m + 1)"),
    Mistake("last tap dropped", lambda x, h: ref_conv1d_valid(x[:-1], h[:-1]),
            "each window has m samples, one per tap of h: a slice's end is excluded, so the "
            "window is x[i : i + m]"),
    Mistake("padded to the full length",
            lambda x, h: _general(x, h, 1, len(h) - 1),
            "valid means no padding: only the windows that lie entirely inside x"),
    Mistake("mean instead of sum", lambda x, h: ref_conv1d_valid(x, h) / len(h),
            "each output is the sum of the products h[j]·x[i + j], not their mean"),
)

LENGTH_MISTAKES = (
    Mistake("padding counted once", lambda n, m, p, s: (n + p - m) // s + 1,
            "p zeros are added on each side, so the padded length is n + 2p"),
    Mistake("true division instead of floor division",
            lambda n, m, p, s: (n + 2 * p - m) / s + 1,
            "/ gives a float; the number of whole windows is an int: use // (floor division)"),
    Mistake("integer division misplaced", lambda n, m, p, s: n + 2 * p - m // s + 1,
            "// binds tighter than + and −: divide the whole n + 2p − m by s, in parentheses"),
    Mistake("+1 forgotten", lambda n, m, p, s: (n + 2 * p - m) // s,
            "the first window is there before any step: count it, ⌊(n + 2p − m)/s⌋ + 1"),
    Mistake("padding added after dividing by the stride",
            lambda n, m, p, s: (n - m) // s + 2 * p + 1,
            "the stride steps over the padded signal: add 2p before dividing by s"),
)

GENERAL_MISTAKES = (
    Mistake("kernel flipped", lambda x, h, s, p: _general(x, h.flip(0), s, p),
            "that is a true convolution, not the cross-correlation asked for: read h in its "
            "own order, without reversing it"),
    Mistake("padding on one side only",
            lambda x, h, s, p: _general(torch.cat([_zeros(p, x), x]), h, s, 0),
            "pad p zeros on each side of x, at the start and at the end"),
    Mistake("stride applied to the unpadded size", _unpadded_count,
            "the number of outputs comes from the padded length: ⌊(n + 2p − m)/s⌋ + 1"),
    Mistake("stride ignored", lambda x, h, s, p: _general(x, h, 1, p),
            "keep every s-th window only: window i starts at i·s in the padded signal"),
    Mistake("padding ignored", lambda x, h, s, p: _general(x, h, s, 0),
            "pad x with p zeros on each side before sliding the kernel"),
)


def _full_corr(x, h, padding):
    return ref_conv1d_general(x, h, 1, padding)


TRUE_MISTAKES = (
    Mistake("kernel not flipped", lambda x, h: _full_corr(x, h, len(h) - 1),
            "that is a full cross-correlation: a true convolution flips h first, "
            "(x ∗ h)[k] = Σ_j x[j]·h[k − j]"),
    Mistake("no padding", lambda x, h: ref_conv1d_valid(x, h.flip(0)),
            "the full convolution has n + m − 1 outputs: pad x with m − 1 zeros on each side "
            "first"),
    Mistake("one zero too many on each side", lambda x, h: _full_corr(x, h.flip(0), len(h)),
            "pad m − 1 zeros on each side, not m: the first output is x[0]·h[0]"),
    Mistake("one zero too few on each side",
            lambda x, h: _full_corr(x, h.flip(0), len(h) - 2),
            "pad m − 1 zeros on each side: the full convolution has n + m − 1 outputs"),
    Mistake("x flipped instead of h", lambda x, h: _full_corr(x.flip(0), h, len(h) - 1),
            "it is the kernel h that is flipped before sliding it along x, not the signal"),
)


# --- random cases -----------------------------------------------------------------------------

def rand_valid(rng: np.random.Generator):
    n = int(rng.integers(1, 17))
    m = int(rng.integers(1, n + 1))
    return rounded_normal(rng, n), rounded_normal(rng, m)


def rand_output_length(rng: np.random.Generator):
    m = int(rng.integers(1, 9))
    p = int(rng.integers(0, 4))
    s = int(rng.integers(1, 5))
    n = int(rng.integers(max(1, m - 2 * p), 41))
    return n, m, p, s


def rand_general(rng: np.random.Generator):
    p = int(rng.integers(0, 4))
    s = int(rng.integers(1, 4))
    n = int(rng.integers(1, 17))
    m = int(rng.integers(1, n + 2 * p + 1))
    return rounded_normal(rng, n), rounded_normal(rng, m), s, p


def rand_true(rng: np.random.Generator):
    return (rounded_normal(rng, int(rng.integers(1, 13))),
            rounded_normal(rng, int(rng.integers(1, 13))))


def rand_moving(rng: np.random.Generator):
    n = int(rng.integers(1, 21))
    return rounded_normal(rng, n), int(rng.integers(1, n + 1))


# --- conceptual questions: answers computed, not typed ------------------------------------------

def ref_q_commutative() -> str:
    """Which full operation keeps its result when x and h swap: 'a' true convolution only,
    'b' cross-correlation only, 'c' both, 'd' neither (tested on random float64 signals)."""
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(7, generator=gen, dtype=torch.float64)
    h = torch.randn(4, generator=gen, dtype=torch.float64)

    def full_corr(a, b):
        return ref_conv1d_general(a, b, 1, len(b) - 1)

    conv = torch.allclose(ref_true_convolution(x, h), ref_true_convolution(h, x))
    corr = torch.allclose(full_corr(x, h), full_corr(h, x))
    return {(True, False): "a", (False, True): "b", (True, True): "c"}.get((conv, corr), "d")


def ref_q_two_averages_length() -> int:
    """Length of the one kernel equal to two moving averages over 3 samples in a row."""
    box = torch.full((3,), 1.0 / 3, dtype=torch.float64)
    return len(ref_true_convolution(box, box))


# --- the questions ----------------------------------------------------------------------------

EXERCISE = Exercise(
    name="02_conv1d",
    title="1D convolution",
    questions=(
        Question.function(
            "conv1d_valid", points=3, reference=ref_conv1d_valid, args=("x", "h"),
            fixed=(
                Case((t(1, 2, 3, 4, 5), t(1, 0, -1)), t(-2, -2, -2), "a difference filter"),
                Case((t(0, 0, 1, 0, 0), t(1, 2, 3)), t(3, 2, 1),
                     "an impulse: cross-correlation reads the kernel backwards"),
                Case((t(1, 2, 3), t(4, 5, 6)), t(32), "kernel as long as the signal"),
                Case((t(1, -2, 3), t(2)), t(2, -4, 6), "a kernel of length 1"),
            ),
            random_case=rand_valid, n_public=4, n_hidden=20, from_scratch=CONVOLUTION,
            mistakes=VALID_MISTAKES,
            hint="the output has n − m + 1 entries and y[i] = Σ_j h[j]·x[i + j]; "
                 "shift h along x without flipping it",
        ),
        Question.function(
            "output_length", points=1, reference=ref_output_length,
            args=("n", "m", "p", "s"),
            fixed=(
                Case((7, 3, 1, 2), 4, "padding and stride"),
                Case((5, 3, 0, 1), 3, "valid"),
                Case((10, 4, 0, 3), 3, "the last window does not fit"),
                Case((6, 3, 1, 1), 6, "'same' padding"),
                Case((4, 5, 1, 1), 2, "kernel longer than the signal, padding makes it fit"),
            ),
            random_case=rand_output_length, n_public=10, n_hidden=30, from_scratch=OUTPUT_SIZE,
            mistakes=LENGTH_MISTAKES,
            hint="⌊(n + 2p − m)/s⌋ + 1 with p counted per side; // is integer division",
        ),
        Question.function(
            "conv1d_general", points=3, reference=ref_conv1d_general,
            args=("x", "h", "stride", "padding"),
            fixed=(
                Case((t(1, 2, 3, 4, 5), t(1, 1), 2, 0), t(3, 7), "stride 2"),
                Case((t(1, 2, 3), t(1, 1, 1), 1, 1), t(3, 6, 5), "one zero on each side"),
                Case((t(1, 2, 3, 4), t(2, -1), 3, 1), t(-1, 2), "stride and padding"),
                Case((t(1, 2, 3, 4), t(0.5, 0.5), 1, 0), t(1.5, 2.5, 3.5),
                     "stride 1 and no padding is conv1d_valid"),
            ),
            random_case=rand_general, n_public=6, n_hidden=24, from_scratch=CONVOLUTION,
            mistakes=GENERAL_MISTAKES,
            hint="pad p zeros on each side first, then keep every s-th window: "
                 "y[i] = Σ_j h[j]·x_padded[i·s + j]",
        ),
        Question.function(
            "true_convolution", points=2, reference=ref_true_convolution, args=("x", "h"),
            fixed=(
                Case((t(1, 2, 3), t(0, 1, 0.5)), t(0, 1, 2.5, 4, 1.5), "the full length n + m − 1"),
                Case((t(0, 1, 0, 0), t(1, 2, 3)), t(0, 1, 2, 3, 0, 0),
                     "an impulse: true convolution copies the kernel as it is"),
                Case((t(1, 1), t(1, 1)), t(1, 2, 1), "a box with itself"),
            ),
            random_case=rand_true, n_public=4, n_hidden=16, from_scratch=CONVOLUTION,
            mistakes=TRUE_MISTAKES,
            hint="flip h, pad x with m − 1 zeros on each side, then cross-correlate; "
                 "(x ∗ h)[k] = Σ_j x[j]·h[k − j]",
        ),
        Question.function(
            "moving_average", points=1, reference=ref_moving_average, args=("x", "m"),
            fixed=(
                Case((t(1, 2, 3, 4, 5), 2), t(1.5, 2.5, 3.5, 4.5), "window of 2"),
                Case((t(1, 2, 3, 4, 5), 5), t(3), "window as long as the signal"),
                Case((t(4, -1, 2), 1), t(4, -1, 2), "a window of 1 changes nothing"),
            ),
            random_case=rand_moving, n_public=4, n_hidden=12,
            hint="a moving average is a convolution with the kernel [1/m, …, 1/m]; "
                 "reuse conv1d_valid",
        ),
        Question.value(
            "conv1d_params", points=1, reference=ref_conv1d_params,
            hint="each of the 8 filters has one weight per input channel and kernel tap, "
                 "plus one bias",
        ),
        Question.value(
            "q_commutative", points=1, reference=ref_q_commutative,
            hint="swap x and h in the sums that define each operation: a true convolution "
                 "reads one of them backwards, a cross-correlation does not",
        ),
        Question.value(
            "q_two_averages_length", points=1, reference=ref_q_two_averages_length,
            hint="convolution is associative: two kernels applied one after the other are one "
                 "kernel, their full convolution, whose length follows from theirs",
        ),
    ),
)
