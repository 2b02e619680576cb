"""Exercise 09 — how convolution is computed: the graded questions of
``exercises/09_computing.ipynb``.

Every expected answer comes from a reference (PyTorch or cnnlib); the fixed cases' hand-written
answers are tested against those references in ``tests/test_grading_questions.py`` and
``tests/test_grading_ex09_computing.py``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib.counting import count_flops
from cnnlib.im2col import im2col
from cnnlib.winograd import f23_matrices

from ..cases import m, rounded_normal, t
from ..forbidden import CONVOLUTION, COST_COUNTING, WINOGRAD
from ..mistakes import Mistake
from ..question import Case, Exercise, Question

__all__ = ["EXERCISE"]


# --- references -------------------------------------------------------------------------------

def ref_im2col_matrix(x: torch.Tensor, k: int) -> torch.Tensor:
    return F.unfold(x[None], k)[0]


def ref_conv_flops(c_in: int, c_out: int, h: int, w: int, k: int, stride: int,
                   padding: int) -> int:
    layer = nn.Conv2d(c_in, c_out, k, stride, padding, device="meta")
    return int(count_flops(layer, (1, c_in, h, w)))


def ref_im2col_bytes(c: int, h: int, w: int, k: int, stride: int, padding: int,
                     element_size: int) -> int:
    cols = F.unfold(torch.empty(1, c, h, w, device="meta"), k, padding=padding, stride=stride)
    return int(cols.numel()) * element_size


def ref_winograd_products(d: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    bt, gm, _ = f23_matrices(torch.float64)
    return ((gm @ g.double()) * (bt @ d.double())).to(d.dtype)


# --- known mistakes: what an answer with each slip returns -------------------------------------

def _im2col(x, k, *, extra=1, columns_by_row=True, taps="cij"):
    """The im2col matrix built patch by patch, with the choices a slip changes: ``extra`` is
    the + 1 of H − k + 1; ``columns_by_row`` orders the columns along the rows of outputs;
    ``taps`` is the order of the rows within a patch (``"cij"``: channel, row, column)."""
    c, h, w = x.shape
    h_out, w_out = h - k + extra, w - k + extra
    out = torch.empty(c * k * k, max(h_out, 0) * max(w_out, 0), dtype=x.dtype)
    order = {"cij": (0, 1, 2), "cji": (0, 2, 1), "ijc": (1, 2, 0)}[taps]
    for a in range(h_out):
        for b in range(w_out):
            col = a * w_out + b if columns_by_row else b * h_out + a
            out[:, col] = x[:, a:a + k, b:b + k].permute(order).reshape(-1)
    return out


def _side(n, k, s, p, *, pad=2, stride=True, rounding=lambda a, b: a // b):
    return rounding(n + pad * p - k, s if stride else 1) + 1


def _flops(c_in, c_out, h, w, k, s, p, *, per_mac=2, taps=None, **side):
    taps = k * k if taps is None else taps
    return per_mac * c_out * _side(h, k, s, p, **side) * _side(w, k, s, p, **side) * c_in * taps


def _bytes(c, h, w, k, s, p, size, *, taps=None, **side):
    taps = k * k if taps is None else taps
    return c * taps * _side(h, k, s, p, **side) * _side(w, k, s, p, **side) * size


def _winograd(d, g, *, halves=True, m3_filter=-1, m1_m4_reversed=False, m3_reversed=False,
              g_reversed=False):
    d0, d1, d2, d3 = d
    g0, g1, g2 = g.flip(0) if g_reversed else g
    half = 2 if halves else 1
    m1 = (d2 - d0) * g0 if m1_m4_reversed else (d0 - d2) * g0
    m2 = (d1 + d2) * (g0 + g1 + g2) / half
    m3 = (d1 - d2 if m3_reversed else d2 - d1) * (g0 + m3_filter * g1 + g2) / half
    m4 = (d3 - d1) * g2 if m1_m4_reversed else (d1 - d3) * g2
    return torch.stack([m1, m2, m3, m4])


IM2COL_MISTAKES = (
    Mistake("patches as rows", lambda x, k: _im2col(x, k).T,
            "each patch is a column: the matrix has C·k·k rows and H_out·W_out columns"),
    Mistake("columns ordered down the columns",
            lambda x, k: _im2col(x, k, columns_by_row=False),
            "the columns follow the outputs row by row: output (a, b) is column a·W_out + b"),
    Mistake("channels last within a patch", lambda x, k: _im2col(x, k, taps="ijc"),
            "within a column, all of channel 0's taps come first, then channel 1's: row "
            "c·k·k + i·k + j"),
    Mistake("patch read column by column", lambda x, k: _im2col(x, k, taps="cji"),
            "within a channel, the taps go row by row: tap (i, j) is row i·k + j"),
    Mistake("+1 forgotten", lambda x, k: _im2col(x, k, extra=0),
            "a k-wide window fits H − k + 1 times: H_out = H − k + 1 (likewise W_out)"),
)

CONV_FLOPS_MISTAKES = (
    Mistake("MACs instead of FLOPs", lambda *a: _flops(*a, per_mac=1),
            "a multiply-accumulate is two FLOPs, a multiplication and an addition: "
            "multiply by 2"),
    Mistake("stride ignored", lambda *a: _flops(*a, stride=False),
            "a stride-s layer keeps every s-th window: H_out = ⌊(h + 2p − k)/s⌋ + 1"),
    Mistake("padding ignored", lambda *a: _flops(*a, pad=0),
            "padding adds p rows and columns on each side: use h + 2p"),
    Mistake("padding counted once", lambda *a: _flops(*a, pad=1),
            "padding is added on both sides: the padded height is h + 2p, not h + p"),
    Mistake("k instead of k²", lambda *a: _flops(*a, taps=a[4]),
            "a k × k kernel has k·k taps per input channel: multiply by k²"),
    Mistake("output size rounded up", lambda *a: _flops(*a, rounding=lambda n, s: -(-n // s)),
            "a window that does not fit is dropped: round down, ⌊(h + 2p − k)/s⌋, with //"),
)

IM2COL_BYTES_MISTAKES = (
    Mistake("values instead of bytes", lambda c, h, w, k, s, p, e: _bytes(c, h, w, k, s, p, 1),
            "each value takes element_size bytes: multiply the number of values by it"),
    Mistake("k instead of k²", lambda c, h, w, k, s, p, e: _bytes(c, h, w, k, s, p, e, taps=k),
            "each column holds a k × k patch of every channel: C·k·k rows"),
    Mistake("the input's size", lambda c, h, w, k, s, p, e: c * h * w * e,
            "im2col copies each patch into its own column: C·k² rows × H_out·W_out columns, "
            "not the C·h·w values of the input"),
    Mistake("stride ignored",
            lambda c, h, w, k, s, p, e: _bytes(c, h, w, k, s, p, e, stride=False),
            "with stride s only every s-th window is a column: H_out = ⌊(h + 2p − k)/s⌋ + 1"),
    Mistake("padding ignored", lambda c, h, w, k, s, p, e: _bytes(c, h, w, k, s, p, e, pad=0),
            "the windows run over the padded image: use h + 2p"),
)

WINOGRAD_MISTAKES = (
    Mistake("halves forgotten", lambda d, g: _winograd(d, g, halves=False),
            "the filter terms of m2 and m3 are halved: (g0 + g1 + g2)/2 and (g0 − g1 + g2)/2"),
    Mistake("m3 with m2's filter term", lambda d, g: _winograd(d, g, m3_filter=1),
            "m3's filter term alternates signs: (g0 − g1 + g2)/2"),
    Mistake("m1 and m4 differences reversed",
            lambda d, g: _winograd(d, g, m1_m4_reversed=True),
            "m1 takes d0 − d2 and m4 takes d1 − d3, in that order"),
    Mistake("m3's data difference reversed", lambda d, g: _winograd(d, g, m3_reversed=True),
            "m3 takes d2 − d1, not d1 − d2"),
    Mistake("filter reversed", lambda d, g: _winograd(d, g, g_reversed=True),
            "F(2, 3) computes a correlation, as convolution layers do: use g as it is, g0 "
            "first, without flipping it"),
)


# --- random cases -----------------------------------------------------------------------------

def rand_im2col_matrix(rng: np.random.Generator):
    c = int(rng.integers(1, 4))
    h, w = (int(rng.integers(1, 8)) for _ in range(2))
    k = int(rng.integers(1, min(h, w) + 1))
    return rounded_normal(rng, (c, h, w)), k


def _layer(rng: np.random.Generator) -> tuple[int, int, int, int, int]:
    k = int(rng.integers(1, 8))
    padding = int(rng.integers(0, k // 2 + 2))
    stride = int(rng.integers(1, 4))
    low = max(1, k - 2 * padding)
    h, w = (int(rng.integers(low, 65)) for _ in range(2))
    return h, w, k, stride, padding


def rand_conv_flops(rng: np.random.Generator):
    c_in, c_out = (int(rng.integers(1, 129)) for _ in range(2))
    h, w, k, stride, padding = _layer(rng)
    return c_in, c_out, h, w, k, stride, padding


def rand_im2col_bytes(rng: np.random.Generator):
    c = int(rng.integers(1, 129))
    h, w, k, stride, padding = _layer(rng)
    return c, h, w, k, stride, padding, int(rng.choice([2, 4, 8]))


def rand_winograd_products(rng: np.random.Generator):
    return rounded_normal(rng, 4), rounded_normal(rng, 3)


# --- conceptual questions: answers computed, not typed ------------------------------------------

def ref_q_im2col_ratio() -> float:
    """How many times more values the im2col matrix of a 5×5, stride-2, padding-2 layer holds
    than its 3×64×64 input: built with ``cnnlib.im2col`` and counted."""
    x = torch.zeros(1, 3, 64, 64)
    return im2col(x, 5, stride=2, padding=2).numel() / x.numel()


def ref_q_winograd_tile_products() -> int:
    """Multiplications of Winograd F(2×2, 3×3) per 2×2 output tile: the entries of the
    elementwise product (G g Gᵀ) ⊙ (Bᵀ d B), with the transforms of ``f23_matrices``."""
    bt, gm, _ = f23_matrices()
    g, d = torch.ones(3, 3), torch.ones(4, 4)
    return (gm @ g @ gm.T * (bt @ d @ bt.T)).numel()


# --- the questions ----------------------------------------------------------------------------

EXERCISE = Exercise(
    name="09_computing",
    title="How convolution is computed",
    questions=(
        Question.function(
            "im2col_matrix", points=3, reference=ref_im2col_matrix, args=("x", "k"),
            fixed=(
                Case((torch.arange(1.0, 10).view(1, 3, 3), 2),
                     m([1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9]),
                     "one channel, 3×3 image, 2×2 kernel: four patches, one per column"),
                Case((torch.arange(6.0).view(1, 2, 3), 2), m([0, 1], [1, 2], [3, 4], [4, 5]),
                     "a 2×3 image: the columns go along the row of outputs"),
                Case((torch.arange(1.0, 9).view(2, 2, 2), 2),
                     m([1], [2], [3], [4], [5], [6], [7], [8]),
                     "two channels: channel 0's taps first, then channel 1's"),
                Case((torch.arange(1.0, 7).view(1, 2, 3), 1), m([1, 2, 3, 4, 5, 6]),
                     "a 1×1 kernel: the image, flattened row by row"),
            ),
            random_case=rand_im2col_matrix, n_public=6, n_hidden=24, from_scratch=CONVOLUTION,
            mistakes=IM2COL_MISTAKES,
            hint="out has C·k·k rows and H_out·W_out columns (H_out = H − k + 1); "
                 "out[c·k·k + i·k + j, a·W_out + b] = x[c, a + i, b + j]",
        ),
        Question.function(
            "conv_flops", points=1, reference=ref_conv_flops,
            args=("c_in", "c_out", "h", "w", "k", "stride", "padding"),
            fixed=(
                Case((1, 20, 28, 28, 5, 1, 0), 576_000, "LeNet's first layer"),
                Case((64, 64, 56, 56, 3, 1, 1), 231_211_008, "a VGG-16 layer of block 2"),
                Case((3, 96, 227, 227, 11, 4, 0), 210_830_400,
                     "AlexNet's first layer: stride 4"),
                Case((256, 64, 14, 14, 1, 1, 0), 6_422_528, "a 1×1 convolution"),
                Case((3, 64, 224, 224, 7, 2, 3), 236_027_904, "ResNet's first layer"),
            ),
            random_case=rand_conv_flops, n_public=6, n_hidden=24, from_scratch=COST_COUNTING,
            mistakes=CONV_FLOPS_MISTAKES,
            hint="2 · C_out · H_out · W_out · C_in · k², with H_out = ⌊(h + 2p − k)/s⌋ + 1 "
                 "(likewise W_out); return an int",
        ),
        Question.function(
            "im2col_bytes", points=2, reference=ref_im2col_bytes,
            args=("c", "h", "w", "k", "stride", "padding", "element_size"),
            fixed=(
                Case((64, 56, 56, 3, 1, 1, 4), 7_225_344,
                     "64 channels at 56×56: nine copies of the input"),
                Case((1, 28, 28, 5, 1, 0, 4), 57_600, "LeNet's first layer"),
                Case((3, 227, 227, 11, 4, 0, 4), 4_392_300, "AlexNet's first layer: stride 4"),
                Case((16, 10, 9, 3, 2, 1, 4), 14_400, "stride 2 on a non-square image"),
                Case((3, 32, 32, 3, 1, 1, 8), 221_184, "float64: 8 bytes a value"),
            ),
            random_case=rand_im2col_bytes, n_public=6, n_hidden=24, from_scratch=COST_COUNTING,
            mistakes=IM2COL_BYTES_MISTAKES,
            hint="C·k² rows × H_out·W_out columns, times element_size bytes; "
                 "H_out = ⌊(h + 2p − k)/s⌋ + 1 (likewise W_out); return an int",
        ),
        Question.function(
            "winograd_products", points=2, reference=ref_winograd_products, args=("d", "g"),
            fixed=(
                Case((t(1, 2, 3, 4), t(1, 0, -1)), t(-2, 0, 0, 2), "a difference filter"),
                Case((t(1, 1, 1, 1), t(1, 1, 1)), t(0, 3, 0, 0), "all ones"),
                Case((t(0, 1, 0, 0), t(1, 2, 3)), t(0, 3, -1, 3), "an impulse at d1"),
                Case((t(2, 0, 0, 0), t(3, 5, 7)), t(6, 0, 0, 0), "an impulse at d0"),
            ),
            random_case=rand_winograd_products, n_public=6, n_hidden=24,
            from_scratch=WINOGRAD, mistakes=WINOGRAD_MISTAKES,
            hint="m1 = (d0 − d2)·g0, m2 = (d1 + d2)·(g0 + g1 + g2)/2, "
                 "m3 = (d2 − d1)·(g0 − g1 + g2)/2, m4 = (d1 − d3)·g2; "
                 "return torch.stack([m1, m2, m3, m4])",
        ),
        Question.value(
            "q_im2col_ratio", points=1, reference=ref_q_im2col_ratio,
            hint="the matrix has C·k² rows and one column per output pixel: divide "
                 "C·k²·H_out·W_out by C·H·W, with H_out = ⌊(H + 2p − k)/s⌋ + 1",
        ),
        Question.value(
            "q_winograd_tile_products", points=1, reference=ref_q_winograd_tile_products,
            hint="in 2D the filter and the input tile are both transformed to the size of the "
                 "input tile, and multiplied entry by entry: one multiplication per entry",
        ),
    ),
)
