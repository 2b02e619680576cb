"""Exercise 04 — 2D convolution: the graded questions of ``exercises/04_conv2d.ipynb``.

Every expected answer comes from a reference (PyTorch or cnnlib); the fixed cases' hand-written
answers are tested against those references in ``tests/test_grading_questions.py`` and
``tests/test_grading_ex04_conv2d.py``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from cnnlib.convolve import convolve2d
from cnnlib.equivariance import translate

from ..cases import m, rounded_normal, t
from ..forbidden import CONV2D, OUTPUT_SIZE
from ..mistakes import Mistake
from ..question import Case, Exercise, Question

__all__ = ["EXAMPLE_IMAGE", "EXAMPLE_KERNEL", "EXERCISE"]

EXAMPLE_IMAGE = m([2, 0, 1, 3], [7, 1, 1, 0], [0, 2, 5, 0], [0, 5, 1, 4])
EXAMPLE_KERNEL = m([1, 1, 1], [0, 0, 0], [-1, -1, -1])
GAUSS3 = m([1, 2, 1], [2, 4, 2], [1, 2, 1]) / 16


# --- references -------------------------------------------------------------------------------

def ref_conv2d_single(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return F.conv2d(x[None, None], w[None, None])[0, 0]


def ref_conv2d_layer(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, stride: int,
                     padding: int) -> torch.Tensor:
    return F.conv2d(x[None], weight, bias, stride=stride, padding=padding)[0]


def ref_conv_output_shape(h: int, w: int, k: int, stride: int, padding: int,
                          dilation: int) -> tuple[int, int]:
    shape = F.conv2d(torch.zeros(1, 1, h, w), torch.zeros(1, 1, k, k), stride=stride,
                     padding=padding, dilation=dilation).shape
    return int(shape[-2]), int(shape[-1])


def ref_example_same() -> torch.Tensor:
    return F.conv2d(EXAMPLE_IMAGE[None, None], EXAMPLE_KERNEL[None, None], padding=1)[0, 0]


def ref_combine_kernels(g: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    return convolve2d(g, h, mode="full")


def ref_shift_right_kernel() -> torch.Tensor:
    """Read off the kernel from the wanted operation's answer to an impulse.

    With padding 1, ``y[a, b] = Σ w[i, j] x[a + i − 1, b + j − 1]``; for the impulse at the
    centre (2, 2) of a 5 × 5 image that is ``y[a, b] = w[3 − a, 3 − b]``, so the kernel is the
    central 3 × 3 of the response rotated by 180°.
    """
    impulse = torch.zeros(5, 5)
    impulse[2, 2] = 1.0
    response = translate(impulse, (0, 1), mode="zeros")
    return response[1:4, 1:4].flip(0, 1).contiguous()


# --- known mistakes: what an answer with each slip returns -------------------------------------

def _layer(x, weight, bias, stride, padding):
    return ref_conv2d_layer(x, weight, bias, stride, padding)


def _layer_unpadded_count(x, weight, bias, stride, padding):
    """Windows on the padded image, but as many as the unpadded image has."""
    rows = (x.shape[1] - weight.shape[2]) // stride + 1
    cols = (x.shape[2] - weight.shape[3]) // stride + 1
    if rows <= 0 or cols <= 0:
        raise ValueError("no output")
    return _layer(x, weight, bias, stride, padding)[:, :rows, :cols]


def _shape(h, w, span, stride, padding):
    return (h + 2 * padding - span) // stride + 1, (w + 2 * padding - span) // stride + 1


def _combine_assigned(g, h):
    """The blocks written with = instead of +=: each overwrites the ones before."""
    out = torch.zeros(g.shape[0] + h.shape[0] - 1, g.shape[1] + h.shape[1] - 1, dtype=g.dtype)
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            out[i:i + h.shape[0], j:j + h.shape[1]] = g[i, j] * h
    return out


def _combine_swapped(g, h):
    """The block of g[i, j] put at (j, i)."""
    out = torch.zeros(g.shape[0] + h.shape[0] - 1, g.shape[1] + h.shape[1] - 1, dtype=g.dtype)
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            out[j:j + h.shape[0], i:i + h.shape[1]] += g[i, j] * h
    return out


SINGLE_MISTAKES = (
    Mistake("kernel flipped", lambda x, w: ref_conv2d_single(x, w.flip(0, 1)),
            "that is a true convolution, not the cross-correlation asked for: multiply the "
            "window by w as it is, without rotating it"),
    Mistake("kernel flipped along one axis", lambda x, w: ref_conv2d_single(x, w.flip(1)),
            "w is used as it is: neither its rows nor its columns are reversed"),
    Mistake("kernel transposed", lambda x, w: ref_conv2d_single(x, w.T),
            "rows and columns are swapped: w[i, j] multiplies x[a + i, b + j], i down and j "
            "across, and the window is kh rows by kw columns"),
    Mistake("last row and column of windows missing",
            lambda x, w: ref_conv2d_single(x, w)[:-1, :-1],
            "the loops stop one window early: there are H − kh + 1 window rows and W − kw + 1 "
            "window columns"),
    Mistake("mean instead of sum", lambda x, w: ref_conv2d_single(x, w) / w.numel(),
            "each output is the sum of the products of w with its window, not their mean"),
)

LAYER_MISTAKES = (
    Mistake("bias forgotten", lambda x, weight, bias, s, p: _layer(x, weight, None, s, p),
            "every output channel o adds its bias[o] to each of its values"),
    Mistake("bias added once per input channel",
            lambda x, weight, bias, s, p: _layer(x, weight, bias * x.shape[0], s, p),
            "the bias is added once per output value, after summing over the input channels, "
            "not inside the loop over them"),
    Mistake("kernel flipped",
            lambda x, weight, bias, s, p: _layer(x, weight.flip(2, 3), bias, s, p),
            "that is a true convolution, not the cross-correlation asked for: use each filter "
            "as it is, without rotating it"),
    Mistake("stride ignored", lambda x, weight, bias, s, p: _layer(x, weight, bias, 1, p),
            "keep every s-th window in each direction: window (a, b) starts at (a·s, b·s)"),
    Mistake("padding ignored", lambda x, weight, bias, s, p: _layer(x, weight, bias, s, 0),
            "pad each channel with p zeros on every side before sliding the filters"),
    Mistake("stride applied to the unpadded size", _layer_unpadded_count,
            "the number of outputs comes from the padded size: ⌊(H + 2p − kh)/s⌋ + 1 rows "
            "(likewise columns)"),
)

SHAPE_MISTAKES = (
    Mistake("dilation counted from 0",
            lambda h, w, k, s, p, d: _shape(h, w, (d + 1) * (k - 1) + 1, s, p),
            "dilation 1 is the plain kernel: d − 1 holes between taps, a span of d(k − 1) + 1"),
    Mistake("dilation times the kernel size",
            lambda h, w, k, s, p, d: _shape(h, w, d * k, s, p),
            "a dilated kernel spans d(k − 1) + 1 pixels: the holes sit between the k taps, "
            "there are k − 1 gaps"),
    Mistake("dilation ignored", lambda h, w, k, s, p, d: _shape(h, w, k, s, p),
            "a dilated kernel spans d(k − 1) + 1 pixels, not k"),
    Mistake("padding counted once",
            lambda h, w, k, s, p, d: _shape(h - p, w - p, d * (k - 1) + 1, s, p),
            "p zeros are added on each side: the padded size is n + 2p"),
    Mistake("true division instead of floor division",
            lambda h, w, k, s, p, d: ((h + 2 * p - d * (k - 1) - 1) / s + 1,
                                      (w + 2 * p - d * (k - 1) - 1) / s + 1),
            "/ gives floats; the number of whole windows is an int: use // (floor division)"),
    Mistake("height and width swapped",
            lambda h, w, k, s, p, d: _shape(w, h, d * (k - 1) + 1, s, p),
            "return (rows, columns): the height's output first, then the width's"),
)

COMBINE_MISTAKES = (
    Mistake("h flipped", lambda g, h: convolve2d(g, h.flip(0, 1), mode="full"),
            "each g[i, j] adds g[i, j]·h as it is, not rotated: composing two "
            "cross-correlations adds shifted copies of h"),
    Mistake("result rotated by 180°",
            lambda g, h: convolve2d(g, h, mode="full").flip(0, 1),
            "the block of g[i, j] has its top-left corner at (i, j), counted from the top-left "
            "of the output, not from its bottom-right"),
    Mistake("one row and column too many",
            lambda g, h: F.pad(convolve2d(g, h, mode="full"), (0, 1, 0, 1)),
            "the output is (kh_g + kh_h − 1) × (kw_g + kw_h − 1): two kernels that overlap by "
            "one pixel"),
    Mistake("blocks overwritten instead of added", _combine_assigned,
            "where blocks overlap their values add up: use += to accumulate g[i, j]·h"),
    Mistake("row and column of g swapped", _combine_swapped,
            "the block of g[i, j] goes to row i and column j: i indexes rows, j columns"),
)


# --- random cases -----------------------------------------------------------------------------

def rand_single(rng: np.random.Generator):
    h, w = int(rng.integers(1, 9)), int(rng.integers(1, 9))
    kh, kw = int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))
    return rounded_normal(rng, (h, w)), rounded_normal(rng, (kh, kw))


def rand_layer(rng: np.random.Generator):
    c_in, c_out = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    stride, padding = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    h = int(rng.integers(max(1, kh - 2 * padding), 8))
    w = int(rng.integers(max(1, kw - 2 * padding), 8))
    return (rounded_normal(rng, (c_in, h, w)), rounded_normal(rng, (c_out, c_in, kh, kw)),
            rounded_normal(rng, c_out), stride, padding)


def rand_output_shape(rng: np.random.Generator):
    k, dilation = int(rng.integers(1, 8)), int(rng.integers(1, 4))
    stride, padding = int(rng.integers(1, 5)), int(rng.integers(0, 4))
    low = max(1, dilation * (k - 1) + 1 - 2 * padding)
    return int(rng.integers(low, 65)), int(rng.integers(low, 65)), k, stride, padding, dilation


def rand_combine(rng: np.random.Generator):
    return (rounded_normal(rng, tuple(int(v) for v in rng.integers(1, 5, size=2))),
            rounded_normal(rng, tuple(int(v) for v in rng.integers(1, 5, size=2))))


# --- conceptual questions: answers computed, not typed ------------------------------------------

EDGE_KERNELS = {
    "a": [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
    "b": [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
    "c": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "d": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
}
"""The options of ``q_vertical_edge``, as the notebook prints them."""


def ref_q_params_growth() -> int:
    """How many learnable parameters ``Conv2d(3, 16, 3, padding=1)`` gains when its input
    grows from 32×32 to 64×64: the layer is run on both, its parameters counted after each."""
    layer = torch.nn.Conv2d(3, 16, kernel_size=3, padding=1)
    counts = []
    for size in (32, 64):
        layer(torch.zeros(1, 3, size, size))
        counts.append(sum(p.numel() for p in layer.parameters()))
    return counts[1] - counts[0]


def ref_q_vertical_edge() -> str:
    """The options (letters in alphabetical order) whose kernel responds to a vertical step
    edge and gives exactly 0 on a horizontal step edge and on a flat image."""
    vertical = torch.zeros(1, 1, 12, 12, dtype=torch.float64)
    vertical[..., 6:] = 1.0  # dark on the left, bright on the right
    horizontal = vertical.transpose(-1, -2)
    flat = torch.ones_like(vertical)
    found = ""
    for letter, rows in EDGE_KERNELS.items():
        w = torch.tensor(rows, dtype=torch.float64).view(1, 1, 3, 3)
        responds = bool(F.conv2d(vertical, w).abs().max() > 0)
        silent = all(bool(F.conv2d(img, w).abs().max() == 0) for img in (horizontal, flat))
        if responds and silent:
            found += letter
    return found


# --- the questions ----------------------------------------------------------------------------

EXERCISE = Exercise(
    name="04_conv2d",
    title="2D convolution",
    questions=(
        Question.function(
            "conv2d_single", points=3, reference=ref_conv2d_single, args=("x", "w"),
            fixed=(
                Case((EXAMPLE_IMAGE, EXAMPLE_KERNEL), m([-4, -3], [3, -8]),
                     "the 4×4 example of chapter 4"),
                Case((m([0, 0, 0], [0, 1, 0], [0, 0, 0]), m([1, 2], [3, 4])), m([4, 3], [2, 1]),
                     "an impulse: cross-correlation reads the kernel rotated by 180°"),
                Case((m([1, 2, 4, 7], [0, 0, 0, 0], [5, 3, 1, 0]), m([1, -1])),
                     m([-1, -2, -3], [0, 0, 0], [2, 2, 1]), "a 1 × 2 kernel: not square"),
                Case((m([1, 2], [3, 4]), m([1, 0], [0, 1])), m([5]),
                     "kernel as large as the image: one output"),
                Case((m([1, -2, 3], [4, 5, -6]), m([2])), m([2, -4, 6], [8, 10, -12]),
                     "a 1 × 1 kernel scales the image"),
            ),
            random_case=rand_single, n_public=6, n_hidden=24, from_scratch=CONV2D,
            mistakes=SINGLE_MISTAKES,
            hint="the output is (H − kh + 1) × (W − kw + 1) and y[a, b] = "
                 "Σ_i Σ_j w[i, j]·x[a + i, b + j]: the sum of w times the window "
                 "x[a:a + kh, b:b + kw]",
        ),
        Question.function(
            "conv2d_layer", points=3, reference=ref_conv2d_layer,
            args=("x", "weight", "bias", "stride", "padding"),
            fixed=(
                Case((torch.stack([m([1, 2], [3, 4]), m([0, 1], [1, 0])]),
                      torch.tensor([[[[1.0]], [[10.0]]]]), t(0.5), 1, 0),
                     torch.stack([m([1.5, 12.5], [13.5, 4.5])]),
                     "a 1 × 1 filter mixes the channels: x₀ + 10·x₁ + 0.5"),
                Case((m([1, 2, 3], [4, 5, 6], [7, 8, 9])[None],
                      torch.stack([torch.ones(1, 2, 2), m([1, 0], [0, -1])[None]]), t(0, 1), 1, 0),
                     torch.stack([m([12, 16], [24, 28]), m([-3, -3], [-3, -3])]),
                     "two filters, two output channels, two biases"),
                Case((torch.ones(1, 2, 2), torch.ones(1, 1, 3, 3), t(0), 1, 1),
                     m([4, 4], [4, 4])[None], "padding 1 with a 3 × 3 kernel keeps the size"),
                Case((torch.arange(25.0).view(1, 5, 5), torch.ones(1, 1, 1, 1), t(0), 2, 0),
                     m([0, 2, 4], [10, 12, 14], [20, 22, 24])[None],
                     "stride 2 keeps every other row and column"),
                Case((torch.ones(1, 3, 3), torch.ones(1, 1, 2, 2), t(0), 2, 1),
                     m([1, 2], [2, 4])[None], "stride and padding together"),
            ),
            random_case=rand_layer, n_public=6, n_hidden=24, from_scratch=CONV2D,
            mistakes=LAYER_MISTAKES,
            hint="pad each channel with p zeros on every side; then y[o, a, b] = bias[o] + "
                 "Σ_c Σ_i Σ_j weight[o, c, i, j]·x_padded[c, a·s + i, b·s + j] with "
                 "⌊(H + 2p − kh)/s⌋ + 1 rows (likewise columns)",
        ),
        Question.function(
            "conv_output_shape", points=1, reference=ref_conv_output_shape,
            args=("h", "w", "k", "stride", "padding", "dilation"),
            fixed=(
                Case((4, 4, 3, 1, 0, 1), (2, 2), "the 4×4 example of chapter 4"),
                Case((5, 5, 3, 2, 1, 1), (3, 3), "half padding, stride 2"),
                Case((224, 224, 7, 2, 3, 1), (112, 112), "ResNet's first layer"),
                Case((28, 20, 5, 1, 2, 1), (28, 20), "'same' padding keeps the size"),
                Case((10, 7, 3, 1, 0, 2), (6, 3), "dilation 2: the kernel spans 5 pixels"),
                Case((7, 8, 3, 3, 0, 1), (2, 2), "what does not fill a window is dropped"),
            ),
            random_case=rand_output_shape, n_public=10, n_hidden=30, from_scratch=OUTPUT_SIZE,
            mistakes=SHAPE_MISTAKES,
            hint="⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1 along each dimension, p per side; return a "
                 "tuple of two ints",
        ),
        Question.value(
            "example_same", points=1, reference=ref_example_same,
            hint="pad the 4 × 4 image with one row or column of zeros on every side (6 × 6), "
                 "then cross-correlate: the output is 4 × 4, float32",
        ),
        Question.function(
            "combine_kernels", points=2, reference=ref_combine_kernels, args=("g", "h"),
            fixed=(
                Case((GAUSS3, GAUSS3),
                     torch.outer(t(1, 4, 6, 4, 1), t(1, 4, 6, 4, 1)) / 256,
                     "two 3 × 3 Gaussians make the 5 × 5 one"),
                Case((m([1, -1]), m([1], [1])), m([1, -1], [1, -1]),
                     "a row difference after a column sum: a 2 × 2 kernel"),
                Case((m([1, 1]), m([1, 1])), m([1, 2, 1]), "two boxes make a triangle"),
                Case((m([1, 2], [3, 4]), m([0, 1], [0, 0])), m([0, 1, 2], [0, 3, 4], [0, 0, 0]),
                     "an off-centre impulse shifts the other kernel"),
                Case((m([2]), m([1, 2], [3, 4])), m([2, 4], [6, 8]), "a 1 × 1 kernel scales"),
            ),
            random_case=rand_combine, n_public=6, n_hidden=20, from_scratch=CONV2D,
            mistakes=COMBINE_MISTAKES,
            hint="start from zeros of shape (kh_g + kh_h − 1, kw_g + kw_h − 1); each g[i, j] "
                 "adds g[i, j]·h into the block whose top-left corner is (i, j)",
        ),
        Question.value(
            "shift_right_kernel", points=1, reference=ref_shift_right_kernel,
            hint="with padding 1, y[a, b] = Σ w[i, j]·x[a + i − 1, b + j − 1]; which single "
                 "(i, j) reads x[a, b − 1]?",
        ),
        Question.value(
            "q_params_growth", points=1, reference=ref_q_params_growth,
            hint="weight sharing: the parameters are the kernels and the biases; ask what "
                 "their shapes depend on",
        ),
        Question.value(
            "q_vertical_edge", points=1, reference=ref_q_vertical_edge,
            hint="a kernel detects a change of intensity along the direction in which its "
                 "weights change; its weights must sum to 0 to stay silent on flat regions",
        ),
    ),
)
