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
            hint="start from zeros of shape (kh_g + kh_h − 1, kw_g + kw_h − 1); each g[i, j] "
                 "adds g[i, j]·h into the block whose top-left corner is (i, j)",
        ),
        Question.value(
            "shift_right_kernel", points=1, reference=ref_shift_right_kernel,
            hint="with padding 1, y[a, b] = Σ w[i, j]·x[a + i − 1, b + j − 1]; which single "
                 "(i, j) reads x[a, b − 1]?",
        ),
    ),
)
