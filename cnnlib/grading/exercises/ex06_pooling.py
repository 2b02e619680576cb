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
            hint="windows x[i·k : i·k + k] for i = 0 … n // k − 1; (Σ xᵖ)^(1/p) on each, "
                 "and the maximum when p is math.inf",
        ),
    ),
)
