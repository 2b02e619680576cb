"""Exercise 06 — pooling: the graded questions of ``exercises/06_pooling.ipynb``.

Every expected answer comes from a reference (PyTorch or cnnlib); the fixed cases' hand-written
answers are tested against those references in ``tests/test_grading_questions.py`` and
``tests/test_grading_ex06_pooling.py``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from cnnlib.receptive_field import Layer, receptive_field

from ..cases import m, rounded_normal, t
from ..forbidden import OUTPUT_SIZE, POOLING, RECEPTIVE_FIELD
from ..mistakes import Mistake
from ..question import Case, Exercise, Question

__all__ = ["EXERCISE"]

# --- references -------------------------------------------------------------------------------

def ref_max_pool(x: torch.Tensor, k: int, stride: int, padding: int) -> torch.Tensor:
    return F.max_pool2d(x[None, None], k, stride, padding)[0, 0]


def ref_pool_output_shape(h: int, w: int, k: int, stride: int | None = None,
                          padding: int = 0) -> tuple[int, int]:
    shape = F.avg_pool2d(torch.zeros(1, 1, h, w), k, stride, padding).shape
    return int(shape[-2]), int(shape[-1])


def ref_receptive_field_size(layers) -> int:
    table = receptive_field([Layer(kernel_size=int(k), stride=int(s)) for k, s in layers])
    return int(table.final.size)


def ref_lp_pool(x: torch.Tensor, p: float, k: int) -> torch.Tensor:
    return F.lp_pool1d(x[None, None], p, k)[0, 0]


# --- known mistakes: what an answer with each slip returns -------------------------------------

def _padded(x: torch.Tensor, padding: int, value: float) -> torch.Tensor:
    return F.pad(x, (padding,) * 4, value=value)


def _pool_unpadded_count(x, k, stride, padding):
    """Windows on the padded map, but as many as the unpadded map has."""
    rows, cols = ((n - k) // stride + 1 for n in x.shape)
    if rows <= 0 or cols <= 0:
        raise ValueError("no output")
    return ref_max_pool(x, k, stride, padding)[:rows, :cols]


def _shape_floor(h, w, k, stride, padding, rounding):
    stride = k if stride is None else stride
    return tuple(rounding(n + 2 * padding - k, stride) + 1 for n in (h, w))


def _receptive(layers, grow, step):
    r, jump = 1, 1
    for k, s in layers:
        r, jump = grow(r, k, jump, s), step(jump, k, s)
    return r


def _lp(windows: torch.Tensor, p: float, *, root: bool = True, mean: bool = False):
    if p == math.inf:
        return windows.max(dim=1).values
    total = (windows ** p).mean(dim=1) if mean else (windows ** p).sum(dim=1)
    return total ** (1 / p) if root else total


def _lp_windows(x: torch.Tensor, k: int) -> torch.Tensor:
    n_out = len(x) // k
    return x[:n_out * k].reshape(n_out, k)


def _lp_partial(x, p, k):
    """The last, shorter window kept."""
    return torch.cat([_lp(x[i:i + k][None], p) for i in range(0, len(x), k)])


MAX_POOL_MISTAKES = (
    Mistake("padding with zeros",
            lambda x, k, s, p: ref_max_pool(_padded(x, p, 0.0), k, s, 0),
            "a zero of the padding wins over negative values: pad with −∞ (float('-inf'))"),
    Mistake("stride ignored", lambda x, k, s, p: ref_max_pool(x, k, 1, p),
            "keep every s-th window in each direction: window (i, j) starts at (i·s, j·s)"),
    Mistake("padding ignored", lambda x, k, s, p: ref_max_pool(x, k, s, 0),
            "pad with p rows and columns of −∞ on every side before taking the windows"),
    Mistake("stride applied to the unpadded size", _pool_unpadded_count,
            "the number of outputs comes from the padded size: ⌊(n + 2p − k)/s⌋ + 1"),
    Mistake("last row and column of windows missing",
            lambda x, k, s, p: ref_max_pool(x, k, s, p)[:-1, :-1],
            "the loops stop one window early: there are ⌊(n + 2p − k)/s⌋ + 1 windows each way"),
    Mistake("mean instead of max",
            lambda x, k, s, p: F.avg_pool2d(_padded(x, p, -math.inf)[None, None], k, s)[0, 0],
            "max pooling keeps each window's largest value, not its mean"),
)

POOL_SHAPE_MISTAKES = (
    Mistake("stride None taken as 1",
            lambda h, w, k, s, p: _shape_floor(h, w, k, 1 if s is None else s, p,
                                               lambda a, b: a // b),
            "stride None means the windows do not overlap: the stride is k"),
    Mistake("padding counted once",
            lambda h, w, k, s, p: _shape_floor(h - p, w - p, k, s, p, lambda a, b: a // b),
            "p rows or columns are added on each side: the padded size is n + 2p"),
    Mistake("rounded up", lambda h, w, k, s, p: _shape_floor(h, w, k, s, p,
                                                             lambda a, b: -(-a // b)),
            "a window that does not fit is dropped: round down, with //"),
    Mistake("+1 forgotten",
            lambda h, w, k, s, p: tuple(v - 1 for v in ref_pool_output_shape(h, w, k, s, p)),
            "the first window is there before any step: ⌊(n + 2p − k)/s⌋ + 1"),
    Mistake("height and width swapped",
            lambda h, w, k, s, p: ref_pool_output_shape(w, h, k, s, p),
            "return (rows, columns): the height's output first, then the width's"),
)

RECEPTIVE_MISTAKES = (
    Mistake("jump updated too early",
            lambda layers: _receptive(layers, lambda r, k, j, s: r + (k - 1) * j * s,
                                      lambda j, k, s: j * s),
            "a layer's own stride spaces the next layers' windows, not its own: grow r with "
            "the jump so far, then multiply the jump by s"),
    Mistake("strides ignored", lambda layers: 1 + sum(k - 1 for k, _ in layers),
            "after a stride-s layer, a step of the next layer is s input pixels: keep a jump "
            "and grow r by (k − 1)·jump"),
    Mistake("started from 0", lambda layers: ref_receptive_field_size(layers) - 1,
            "before any layer the receptive field is one pixel: start from r = 1"),
    Mistake("jump multiplied by the kernel size",
            lambda layers: _receptive(layers, lambda r, k, j, s: r + (k - 1) * j,
                                      lambda j, k, s: j * k),
            "the jump grows with the stride: jump *= s, whatever the kernel size"),
    Mistake("k instead of k − 1",
            lambda layers: _receptive(layers, lambda r, k, j, s: r + k * j,
                                      lambda j, k, s: j * s),
            "a window of k pixels adds k − 1 new ones to the one it is centred on"),
)

LP_MISTAKES = (
    Mistake("root forgotten", lambda x, p, k: _lp(_lp_windows(x, k), p, root=False),
            "L_p pooling takes the p-th root of the sum: (Σ xᵖ)^(1/p)"),
    Mistake("overlapping windows",
            lambda x, p, k: _lp(x.unfold(0, k, 1), p),
            "the windows do not overlap: the stride is k, window i is x[i·k : i·k + k]"),
    Mistake("mean instead of sum", lambda x, p, k: _lp(_lp_windows(x, k), p, mean=True),
            "sum the p-th powers over the window, do not average them"),
    Mistake("p = ∞ not handled",
            lambda x, p, k: (_lp_windows(x, k) ** p).sum(dim=1) ** (1 / p),
            "x ** inf and 1/inf = 0 give no maximum: handle p == math.inf apart, with the "
            "window's max"),
    Mistake("last partial window kept", _lp_partial,
            "the last samples that do not fill a window are dropped"),
)


# --- random cases -----------------------------------------------------------------------------

def rand_max_pool(rng: np.random.Generator):
    k = int(rng.integers(1, 5))
    padding = int(rng.integers(0, k // 2 + 1))
    stride = int(rng.integers(1, 4))
    low = max(1, k - 2 * padding)
    h, w = (int(rng.integers(low, 9)) for _ in range(2))
    return rounded_normal(rng, (h, w)), k, stride, padding


def rand_pool_output_shape(rng: np.random.Generator):
    k = int(rng.integers(1, 7))
    padding = int(rng.integers(0, k // 2 + 1))
    stride = None if rng.random() < 0.3 else int(rng.integers(1, 5))
    low = max(1, k - 2 * padding)
    h, w = (int(rng.integers(low, 41)) for _ in range(2))
    return h, w, k, stride, padding


def rand_receptive_field(rng: np.random.Generator):
    n = int(rng.integers(1, 7))
    return ([(int(rng.integers(1, 8)), int(rng.integers(1, 4))) for _ in range(n)],)


def rand_lp_pool(rng: np.random.Generator):
    n = int(rng.integers(1, 13))
    k = int(rng.integers(1, n + 1))
    p = [1.0, 2.0, 3.0, 4.0, 1.5, math.inf][int(rng.integers(0, 6))]
    return rounded_normal(rng, n).abs(), p, k


# --- conceptual questions: answers computed, not typed ------------------------------------------

def _shift_layers(gen: torch.Generator) -> dict:
    """The options of ``q_shift_equivariant``: layers on (1, 1, H, W) maps, circular borders."""
    w = torch.randn(1, 1, 3, 3, generator=gen, dtype=torch.float64)

    def circular(x, pad):
        return F.pad(x, (pad, pad, pad, pad), mode="circular")

    return {
        "a": lambda x: F.conv2d(circular(x, 1), w),
        "b": lambda x: F.max_pool2d(x, 2),
        "c": lambda x: F.max_pool2d(circular(x, 1), 3, stride=1),
        "d": lambda x: F.avg_pool2d(x, 2),
    }


def ref_q_shift_equivariant() -> str:
    """The options (letters in alphabetical order) for which shifting a random input one pixel
    to the right (circularly) shifts the output by some whole number of columns."""
    gen = torch.Generator().manual_seed(6)
    x = torch.randn(1, 1, 8, 8, generator=gen, dtype=torch.float64)
    shifted = torch.roll(x, 1, dims=-1)
    found = ""
    for letter, layer in _shift_layers(gen).items():
        y, y_shifted = layer(x), layer(shifted)
        if any(torch.allclose(torch.roll(y, s, dims=-1), y_shifted)
               for s in range(y.shape[-1])):
            found += letter
    return found


def ref_q_maxpool_gradients() -> int:
    """Nonzero entries of ∂L/∂x for L = max_pool2d(x, 2).sum(), x a random 1×4×8×8 map."""
    gen = torch.Generator().manual_seed(6)
    x = torch.randn(1, 4, 8, 8, generator=gen, dtype=torch.float64, requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    return int((x.grad != 0).sum())


# --- the questions ----------------------------------------------------------------------------

EXAMPLE_6X6 = m([3, 5, 3, 17, 19, 15], [4, 5, 7, 18, 19, 14], [3, 7, 1, 16, 29, 1],
          [1, 1, 2, 5, 3, 1], [2, 2, 3, 13, 5, 3], [2, 3, 2, 15, 4, 4])

EXERCISE = Exercise(
    name="06_pooling",
    title="Pooling",
    questions=(
        Question.function(
            "max_pool", points=3, reference=ref_max_pool, args=("x", "k", "stride", "padding"),
            fixed=(
                Case((EXAMPLE_6X6, 3, 3, 0), m([7, 29], [3, 15]), "3×3 windows on a 6×6 map"),
                Case((m([1, 2], [3, 4]), 2, 1, 1), m([1, 2, 2], [3, 4, 4], [3, 4, 4]),
                     "stride 1 with padding 1"),
                Case((m([-1, -2], [-3, -4]), 2, 1, 1),
                     m([-1, -1, -2], [-1, -1, -2], [-3, -3, -4]),
                     "negative values: the padding must never win (it counts as −∞, not 0)"),
                Case((torch.arange(25.0).view(5, 5), 3, 2, 0), m([12, 14], [22, 24]),
                     "overlapping windows: 3×3, stride 2"),
                Case((m([1, 5, 2], [0, 3, 4]), 2, 2, 0), m([5]),
                     "the last column does not fill a window and is dropped"),
            ),
            random_case=rand_max_pool, n_public=6, n_hidden=24, from_scratch=POOLING,
            mistakes=MAX_POOL_MISTAKES,
            hint="pad with −∞ (float('-inf')) p rows/columns on every side, then output (i, j) is "
                 "the max of padded[i·s : i·s + k, j·s : j·s + k]; the output has "
                 "⌊(n + 2p − k)/s⌋ + 1 rows (likewise columns)",
        ),
        Question.function(
            "pool_output_shape", points=1, reference=ref_pool_output_shape,
            args=("h", "w", "k", "stride", "padding"),
            fixed=(
                Case((28, 28, 2, None, 0), (14, 14), "LeNet's 2×2 pooling: stride = window"),
                Case((6, 6, 3, None, 0), (2, 2), "3×3 windows on a 6×6 map"),
                Case((7, 5, 2, None, 0), (3, 2), "what does not fill a window is dropped"),
                Case((6, 6, 3, 2, 1), (3, 3), "overlapping windows with padding"),
                Case((224, 224, 3, 2, 1), (112, 112), "ResNet's first pooling"),
            ),
            random_case=rand_pool_output_shape, n_public=10, n_hidden=30,
            from_scratch=POOLING.union(OUTPUT_SIZE),
            mistakes=POOL_SHAPE_MISTAKES,
            hint="stride None means stride = k; each side is ⌊(n + 2p − k)/s⌋ + 1; "
                 "return a tuple of two ints",
        ),
        Question.function(
            "receptive_field_size", points=2, reference=ref_receptive_field_size,
            args=("layers",),
            fixed=(
                Case(([(3, 1), (3, 1), (3, 1)],), 7, "three 3×3 convolutions"),
                Case(([(3, 1), (2, 2), (3, 1), (2, 2), (3, 1), (2, 2)],), 22,
                     "a 2×2 pooling after each of three 3×3 convolutions"),
                Case(([(5, 1), (2, 2), (5, 1), (2, 2)],), 16, "LeNet's conv and pool layers"),
                Case(([(2, 2)],), 2, "one pooling layer"),
                Case(([(1, 1), (1, 3)],), 1, "1×1 layers see one pixel, whatever the stride"),
            ),
            random_case=rand_receptive_field, n_public=6, n_hidden=24,
            from_scratch=RECEPTIVE_FIELD,
            mistakes=RECEPTIVE_MISTAKES,
            hint="start from r = 1 and jump j = 1; for each layer (k, s): r += (k − 1)·j, "
                 "then j *= s",
        ),
        Question.function(
            "lp_pool", points=2, reference=ref_lp_pool, args=("x", "p", "k"),
            fixed=(
                Case((t(1, 2, 3, 4), 1.0, 2), t(3, 7), "p = 1: the window sums"),
                Case((t(3, 4, 0, 0, 5, 12), 2.0, 2), t(5, 0, 13), "p = 2: Euclidean norms"),
                Case((t(1, 2, 3, 4), math.inf, 2), t(2, 4), "p = ∞: the maximum"),
                Case((t(1, 2, 3, 4, 5), 1.0, 2), t(3, 7), "the last sample fills no window"),
            ),
            random_case=rand_lp_pool, n_public=6, n_hidden=24, from_scratch=POOLING,
            mistakes=LP_MISTAKES,
            hint="windows x[i·k : i·k + k] for i = 0 … n // k − 1; (Σ xᵖ)^(1/p) on each, "
                 "and the maximum when p is math.inf",
        ),
        Question.value(
            "q_shift_equivariant", points=1, reference=ref_q_shift_equivariant,
            hint="a stride larger than 1 keeps one position in s: ask whether a one-pixel shift "
                 "of the input can be a whole-pixel shift of the subsampled output",
        ),
        Question.value(
            "q_maxpool_gradients", points=1, reference=ref_q_maxpool_gradients,
            hint="backpropagation through a maximum: on which entries of its window does a "
                 "max depend, for a small change of the input?",
        ),
    ),
)
