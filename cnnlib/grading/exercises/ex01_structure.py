"""Exercise 01 — structure, invariance and equivariance: the graded questions of
``exercises/01_structure.ipynb``.

Every expected answer comes from a reference (cnnlib's translation operator, real PyTorch
modules counted parameter by parameter); the fixed cases' hand-written answers are tested
against those references in ``tests/test_grading_questions.py`` and
``tests/test_grading_ex01_structure.py``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from cnnlib.counting import count_parameters
from cnnlib.equivariance import equivariance_gap, permute_input_weights, translate
from cnnlib.matrices import circulant_matrix

from ..cases import m, rounded_normal, t
from ..forbidden import DENSE_COUNTING, EQUIVARIANCE, TRANSLATION
from ..mistakes import Mistake, SlipRaises
from ..question import Case, Exercise, Question

__all__ = ["EXERCISE"]

# --- references -------------------------------------------------------------------------------

def ref_translate(x: torch.Tensor, k: int) -> torch.Tensor:
    return translate(x, k)


def ref_translate_image(img: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    return translate(img, (dy, dx), mode="zeros")


def ref_dense_params(c: int, h: int, w: int, units: int) -> int:
    # The meta device records shapes without allocating the weights.
    return count_parameters(nn.Linear(c * h * w, units, device="meta"))


def ref_dense_as_conv_params() -> int:
    conv = nn.Conv2d(3, 16, kernel_size=3, padding=1)
    x = torch.zeros(1, 3, 32, 32)
    n_out = conv(x).numel()
    return count_parameters(nn.Linear(x.numel(), n_out, device="meta"))


def ref_scramble_weights(weight: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    units, n = weight.shape
    layer = nn.Linear(n, units, bias=False)
    with torch.no_grad():
        layer.weight.copy_(weight)
    # A row of pixels (height 1) permuted like the inputs.
    return permute_input_weights(layer, perm, (1, 1, n)).weight.detach().clone()


def ref_equivariance_error(a: torch.Tensor, x: torch.Tensor, k: int) -> float:
    def f(v):
        return a @ v

    gap = equivariance_gap(f, x, lambda v: translate(v, k))
    return float(gap.norm() / f(x).norm())


# --- known mistakes: what an answer with each slip returns -------------------------------------

def _sliced(x: torch.Tensor, k: int) -> torch.Tensor:
    """The slices of a circular shift, with k not reduced modulo n."""
    n = len(x)
    out = torch.cat([x[n - k:], x[:n - k]])
    if out.shape != x.shape:
        raise ValueError("not a shift")
    return out


def _zeros_shift(x: torch.Tensor, k: int) -> torch.Tensor:
    return translate(x[None], (0, k), mode="zeros")[0]


def _unguarded_image(img, dy, dx):
    """The slices of an image shift, without handling shifts as large as the image."""
    h, w = img.shape
    out = torch.zeros_like(img)
    try:
        out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
            img[max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    except RuntimeError as err:  # the two rectangles differ in size
        raise SlipRaises from err
    return out


def _gap_ratio(a, x, k, back=1, order=2, power=1, scale=None):
    gap = a @ translate(x, k) - translate(a @ x, back * k)
    below = (a @ x) if scale is None else scale(x)
    return float((gap.norm(p=order) / below.norm(p=order)) ** power)


TRANSLATE_MISTAKES = (
    Mistake("shifted the wrong way", lambda x, k: ref_translate(x, -k),
            "a positive k moves the content right, toward larger indices: "
            "(T_k x)[i] = x[(i − k) mod n]"),
    Mistake("k not reduced modulo n", _sliced,
            "a shift by k and by k mod n are the same: reduce k with % n first (negative or "
            "larger than n)"),
    Mistake("zeros come in instead of wrapping", _zeros_shift,
            "the translation is circular: what falls off one end comes back at the other"),
    Mistake("sign of k lost", lambda x, k: ref_translate(x, abs(k)),
            "a negative k moves left: keep its sign, k % n does the rest"),
)

IMAGE_MISTAKES = (
    Mistake("rows and columns swapped", lambda img, dy, dx: ref_translate_image(img, dx, dy),
            "dy moves the rows (down), dx the columns (right)"),
    Mistake("wraps around instead of zeros",
            lambda img, dy, dx: torch.roll(img, (dy, dx), dims=(0, 1)),
            "what leaves the image is lost and zeros come in: no wrap-around here"),
    Mistake("shifted the wrong way", lambda img, dy, dx: ref_translate_image(img, -dy, -dx),
            "a positive dy moves the content down, a positive dx to the right: "
            "out[a, b] = img[a − dy, b − dx]"),
    Mistake("large shifts not handled", _unguarded_image,
            "a shift as large as the image or larger leaves only zeros: handle it before "
            "slicing"),
    Mistake("dx ignored", lambda img, dy, dx: ref_translate_image(img, dy, 0),
            "move the columns by dx too"),
)

DENSE_MISTAKES = (
    Mistake("bias forgotten", lambda c, h, w, units: c * h * w * units,
            "every unit has one bias besides its weights"),
    Mistake("one bias per input", lambda c, h, w, units: c * h * w * units + c * h * w,
            "biases belong to the units: one per unit, not one per input"),
    Mistake("channels forgotten", lambda c, h, w, units: h * w * units + units,
            "the flattened image has c·h·w inputs: every channel of every pixel"),
    Mistake("one weight per input only", lambda c, h, w, units: c * h * w + units,
            "every unit has its own weight for each input: c·h·w weights per unit"),
)

SCRAMBLE_MISTAKES = (
    Mistake("inverse permutation", lambda weight, perm: weight[:, torch.argsort(perm)],
            "x'[j] = x[perm[j]]: column j of the new weights is column perm[j] of the old, "
            "new[:, j] = weight[:, perm[j]]"),
    Mistake("rows permuted instead of columns", lambda weight, perm: weight[perm],
            "the permutation acts on the inputs, which index the columns: permute columns"),
    Mistake("weights not moved", lambda weight, perm: weight.clone(),
            "after scrambling the pixels, each weight must move with its pixel"),
)

ERROR_MISTAKES = (
    Mistake("not normalised",
            lambda a, x, k: float((a @ translate(x, k) - translate(a @ x, k)).norm()),
            "divide the gap by ‖A x‖, the size of the output, to make it relative"),
    Mistake("normalised by the input", lambda a, x, k: _gap_ratio(a, x, k, scale=lambda v: v),
            "divide by ‖f(x)‖ = ‖A x‖, the output's norm, not the input's"),
    Mistake("shifted back the wrong way", lambda a, x, k: _gap_ratio(a, x, k, back=-1),
            "shift by the same k on both sides: f(T_k x) − T_k f(x)"),
    Mistake("squared norms", lambda a, x, k: _gap_ratio(a, x, k, power=2),
            "take the norms themselves, ‖·‖, not their squares"),
    Mistake("sum of absolute values instead of the norm",
            lambda a, x, k: _gap_ratio(a, x, k, order=1),
            "use the Euclidean norm, the square root of the sum of squares (.norm())"),
)


# --- random cases -----------------------------------------------------------------------------

def rand_translate(rng: np.random.Generator):
    n = int(rng.integers(1, 13))
    return rounded_normal(rng, n), int(rng.integers(-2 * n, 2 * n + 1))


def rand_translate_image(rng: np.random.Generator):
    h, w = int(rng.integers(1, 7)), int(rng.integers(1, 7))
    return (rounded_normal(rng, (h, w)), int(rng.integers(-h - 1, h + 2)),
            int(rng.integers(-w - 1, w + 2)))


def rand_dense_params(rng: np.random.Generator):
    return (int(rng.integers(1, 5)), int(rng.integers(1, 65)), int(rng.integers(1, 65)),
            int(rng.integers(1, 2001)))


def rand_scramble(rng: np.random.Generator):
    units, n = int(rng.integers(1, 5)), int(rng.integers(1, 10))
    return rounded_normal(rng, (units, n)), torch.from_numpy(rng.permutation(n)).to(torch.int64)


def _random_operator(rng: np.random.Generator, n: int, kind: int) -> torch.Tensor:
    if kind == 0:    # a convolution (circulant): equivariant
        return circulant_matrix(rounded_normal(rng, int(rng.integers(1, n + 1))), n)
    if kind == 1:    # a dense layer
        return rounded_normal(rng, (n, n))
    return torch.diag(rounded_normal(rng, n).abs() + 0.5)  # a position-dependent gain


def rand_equivariance(rng: np.random.Generator):
    n = int(rng.integers(2, 11))
    kind = int(rng.integers(0, 3))
    while True:  # ‖f(x)‖ divides: keep it away from 0 (a kernel may round to all zeros,
        a = _random_operator(rng, n, kind)  # so the operator is drawn again too)
        x = rounded_normal(rng, n)
        if float((a @ x).norm()) >= 0.1:
            return a, x, int(rng.integers(-n, n + 1))


# --- conceptual questions: answers computed, not typed ------------------------------------------

def _invariance_options(gen: torch.Generator) -> dict:
    """The options of ``q_invariant``: functions of a (8, 8) image."""
    w = torch.randn(1, 1, 3, 3, generator=gen, dtype=torch.float64)

    def circular_conv(img):
        padded = torch.nn.functional.pad(img.view(1, 1, 8, 8), (1, 1, 1, 1), mode="circular")
        return torch.nn.functional.conv2d(padded, w)[0, 0]

    return {"a": lambda img: img.sum(), "b": lambda img: img[0, 0],
            "c": lambda img: img.max(), "d": circular_conv}


def ref_q_invariant() -> str:
    """The options (letters in alphabetical order) unchanged by a circular shift of a random
    image by (1, 2)."""
    gen = torch.Generator().manual_seed(1)
    img = torch.randn(8, 8, generator=gen, dtype=torch.float64)
    moved = torch.roll(img, (1, 2), dims=(0, 1))
    return "".join(k for k, f in _invariance_options(gen).items()
                   if torch.allclose(f(moved), f(img)))


def ref_q_equivariant_dof() -> int:
    """Dimension of {A ∈ R^{8×8} : A S = S A}, S the cyclic shift: the null space of the
    linear map A ↦ A S − S A, written as a 64 × 64 matrix."""
    n = 8
    s = torch.roll(torch.eye(n, dtype=torch.float64), 1, dims=0)
    eye = torch.eye(n, dtype=torch.float64)
    commutator = torch.kron(s.T.contiguous(), eye) - torch.kron(eye, s)  # on A by columns
    return n * n - int(torch.linalg.matrix_rank(commutator))


# --- the questions ----------------------------------------------------------------------------

IMG3 = m([1, 2, 3], [4, 5, 6], [7, 8, 9])

EXERCISE = Exercise(
    name="01_structure",
    title="Structure, invariance and equivariance",
    questions=(
        Question.function(
            "translate", points=2, reference=ref_translate, args=("x", "k"),
            fixed=(
                Case((t(1, 2, 3, 4, 5, 6), 2), t(5, 6, 1, 2, 3, 4),
                     "the content moves 2 places right; what falls off comes back at the start"),
                Case((t(1, 2, 3, 4, 5, 6), -2), t(3, 4, 5, 6, 1, 2), "a negative k moves left"),
                Case((t(1, 2, 3), 0), t(1, 2, 3), "k = 0 changes nothing"),
                Case((t(1, 2, 3, 4), 6), t(3, 4, 1, 2),
                     "a shift longer than the signal: 6 places = 2 places"),
                Case((t(1, 2, 3, 4), -5), t(2, 3, 4, 1), "−5 places = −1 place"),
                Case((t(7.5), 3), t(7.5), "a signal of length 1"),
            ),
            random_case=rand_translate, n_public=6, n_hidden=24, from_scratch=TRANSLATION,
            mistakes=TRANSLATE_MISTAKES,
            hint="(T_k x)[i] = x[(i − k) mod n]; Python's % is always ≥ 0 for a positive n, "
                 "and torch.cat of two slices does the rest",
        ),
        Question.function(
            "translate_image", points=2, reference=ref_translate_image, args=("img", "dy", "dx"),
            fixed=(
                Case((IMG3, 1, 0), m([0, 0, 0], [1, 2, 3], [4, 5, 6]), "one row down"),
                Case((IMG3, 0, -1), m([2, 3, 0], [5, 6, 0], [8, 9, 0]), "one column left"),
                Case((IMG3, -1, 2), m([0, 0, 4], [0, 0, 7], [0, 0, 0]),
                     "up 1 and right 2: only one column survives"),
                Case((m([1, 2], [3, 4]), 0, 0), m([1, 2], [3, 4]), "no shift"),
                Case((m([1, 2], [3, 4]), 5, 0), m([0, 0], [0, 0]),
                     "shifted further than the image is tall: all zeros"),
            ),
            random_case=rand_translate_image, n_public=6, n_hidden=24, from_scratch=TRANSLATION,
            mistakes=IMAGE_MISTAKES,
            hint="out[a, b] = img[a − dy, b − dx] where that index is inside the image, else 0; "
                 "start from torch.zeros_like(img) and copy one rectangle (mind dy or dx = 0 "
                 "and shifts larger than the image)",
        ),
        Question.function(
            "dense_params", points=1, reference=ref_dense_params,
            args=("c", "h", "w", "units"),
            fixed=(
                Case((3, 224, 224, 1000), 150_529_000, "the chapter's 224×224 RGB image"),
                Case((1, 28, 28, 100), 78_500, "an MNIST digit into 100 units"),
                Case((3, 32, 32, 10), 30_730, "a CIFAR image straight into 10 classes"),
                Case((1, 1, 1, 1), 2, "one input, one unit: a weight and a bias"),
            ),
            random_case=rand_dense_params, n_public=6, n_hidden=20, from_scratch=DENSE_COUNTING,
            mistakes=DENSE_MISTAKES,
            hint="the image is flattened into c·h·w inputs; every unit has one weight per input "
                 "and one bias",
        ),
        Question.value(
            "dense_as_conv_params", points=1, reference=ref_dense_as_conv_params,
            hint="the convolution's output has 16·32·32 values; a dense layer from the 3·32·32 "
                 "inputs to that many outputs has a weight per (input, output) pair and a bias "
                 "per output",
        ),
        Question.function(
            "scramble_weights", points=1, reference=ref_scramble_weights,
            args=("weight", "perm"),
            fixed=(
                Case((m([1, 2, 3]), torch.tensor([2, 0, 1])), m([3, 1, 2]),
                     "x' = (x2, x0, x1): the weight of x2 must come first"),
                Case((m([10, 20, 30]), torch.tensor([1, 2, 0])), m([20, 30, 10]),
                     "the other 3-cycle (so perm and its inverse differ)"),
                Case((m([1, 2], [3, 4]), torch.tensor([1, 0])), m([2, 1], [4, 3]),
                     "two units, two pixels swapped"),
                Case((m([5, -1, 2]), torch.tensor([0, 1, 2])), m([5, -1, 2]),
                     "the identity permutation changes nothing"),
            ),
            random_case=rand_scramble, n_public=6, n_hidden=20, from_scratch=EQUIVARIANCE,
            mistakes=SCRAMBLE_MISTAKES,
            hint="x'[j] = x[perm[j]], so the weight that multiplied x[perm[j]] must now sit in "
                 "column j: new[:, j] = weight[:, perm[j]]",
        ),
        Question.function(
            "equivariance_error", points=2, reference=ref_equivariance_error,
            args=("A", "x", "k"),
            fixed=(
                Case((torch.eye(3), t(1, 2, 3), 1), 0.0, "the identity commutes with every shift"),
                Case((m([0, 1], [1, 0]), t(3, 4), 1), 0.0, "swapping two samples is a shift"),
                Case((torch.diag(t(1, 2)), t(1, 0), 1), 1.0,
                     "a position-dependent gain is not equivariant"),
                Case((torch.diag(t(3, 1)), t(0, 1), 1), 2.0,
                     "‖A T x − T A x‖ = ‖(2, 0)‖ = 2, ‖A x‖ = 1"),
                Case((torch.diag(t(0, 1, 2)), t(3, 0, 2), 1), 1.25,
                     "‖A T x − T A x‖ = ‖(−4, 3, 0)‖ = 5, ‖A x‖ = ‖(0, 0, 4)‖ = 4"),
            ),
            random_case=rand_equivariance, n_public=6, n_hidden=20, from_scratch=EQUIVARIANCE,
            mistakes=ERROR_MISTAKES,
            hint="f(v) = A @ v and g = your translate(·, k): return "
                 "float(‖f(g(x)) − g(f(x))‖ / ‖f(x)‖), with torch.linalg.norm or .norm()",
        ),
        Question.value(
            "q_invariant", points=1, reference=ref_q_invariant,
            hint="invariant means the output does not change at all; a convolution's output "
                 "moves with its input, which is equivariance, not invariance",
        ),
        Question.value(
            "q_equivariant_dof", points=1, reference=ref_q_equivariant_dof,
            hint="a matrix that commutes with the cyclic shift is a circulant: how many numbers "
                 "fix a circulant?",
        ),
    ),
)
