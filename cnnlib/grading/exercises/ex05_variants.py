"""Exercise 05 — convolution variants: the graded questions of ``exercises/05_variants.ipynb``.

Every expected answer comes from a reference (PyTorch or cnnlib, on real tensors and real
modules); the fixed cases' hand-written answers are tested against those references in
``tests/test_grading_questions.py`` and ``tests/test_grading_ex05_variants.py``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from cnnlib.arithmetic import conv_output_size, conv_transpose_output_size
from cnnlib.counting import count_parameters
from cnnlib.receptive_field import receptive_field
from cnnlib.separable import DepthwiseSeparableConv2d

from ..cases import m, rounded_normal, t
from ..compare import Tolerance
from ..forbidden import CONVOLUTION, LAYER_COUNTING, OUTPUT_SIZE, RECEPTIVE_FIELD
from ..mistakes import Mistake
from ..question import Case, Exercise, Question

__all__ = ["EXERCISE"]

def _long(*values: int) -> torch.Tensor:
    """An int64 1-D tensor, for the hand-checked counts."""
    return torch.tensor(values, dtype=torch.long)


def _f(values) -> torch.Tensor:
    """A float32 tensor of any shape from nested lists, for the hand-checked cases."""
    return torch.tensor(values, dtype=torch.float32)


# --- references -------------------------------------------------------------------------------

def ref_transposed_conv1d(x: torch.Tensor, h: torch.Tensor, stride: int, padding: int):
    return F.conv_transpose1d(x.view(1, 1, -1), h.view(1, 1, -1), stride=stride,
                              padding=padding)[0, 0]


def ref_transposed_output_length(n: int, m: int, s: int, p: int, output_padding: int) -> int:
    return conv_transpose_output_size(n, m, stride=s, padding=p, output_padding=output_padding)


def ref_output_padding_needed(i: int, m: int, s: int, p: int) -> int:
    """The output_padding with which the transposed convolution returns to size i: found by
    trying every allowed value on real tensors, not by the formula."""
    n = conv_output_size(i, m, stride=s, padding=p)
    y, w = torch.zeros(1, 1, n), torch.zeros(1, 1, m)
    found = []
    for a in range(s):
        try:
            size = F.conv_transpose1d(y, w, stride=s, padding=p, output_padding=a).shape[-1]
        except RuntimeError:  # padding crops everything away: not this one
            continue
        if size == i:
            found.append(a)
    (a,) = found
    return a


def ref_separable_params(c_in: int, c_out: int, k: int) -> int:
    return count_parameters(DepthwiseSeparableConv2d(c_in, c_out, k, bias=True))


def ref_dilated_receptive_field(k: int, dilations: tuple) -> int:
    return receptive_field([dict(kernel_size=k, dilation=d) for d in dilations]).final.size


def ref_transposed_overlaps(n: int, k: int, s: int) -> torch.Tensor:
    """How many kernel copies write to each output of a transposed convolution (no padding):
    the transposed convolution of n ones with a kernel of k ones, rounded to ints."""
    ones = torch.ones(1, 1, n, dtype=torch.float64)
    counts = F.conv_transpose1d(ones, torch.ones(1, 1, k, dtype=torch.float64), stride=s)
    return counts[0, 0].round().to(torch.long)


def ref_grouped_conv2d(x: torch.Tensor, w: torch.Tensor, groups: int) -> torch.Tensor:
    return F.conv2d(x[None], w, groups=groups)[0]


def ref_best_separable(k: torch.Tensor) -> torch.Tensor:
    """σ₁ u₁ v₁ᵀ from the SVD of k, computed in float64 and returned in k's dtype."""
    u, sigma, vt = torch.linalg.svd(k.to(torch.float64), full_matrices=False)
    return (sigma[0] * torch.outer(u[:, 0], vt[0])).to(k.dtype)


# --- known mistakes: what an answer with each slip returns -------------------------------------

def _scatter(x, h, stride, assign=False):
    """The uncropped transposed convolution, each copy added (or written, with ``assign``)."""
    n, m = len(x), len(h)
    full = torch.zeros((n - 1) * stride + m, dtype=x.dtype)
    for i in range(n):
        if assign:
            full[i * stride:i * stride + m] = x[i] * h
        else:
            full[i * stride:i * stride + m] += x[i] * h
    return full


def _crop(full, padding):
    if len(full) - 2 * padding < 1:
        raise ValueError("cropped away")
    return full[padding:len(full) - padding]


def _receptive(k, dilations, step):
    r, jump = 1, 1
    for d in dilations:
        r += (k - 1) * jump
        jump *= step(d)
    return r


TRANSPOSED_MISTAKES = (
    Mistake("kernel flipped",
            lambda x, h, s, p: _crop(_scatter(x, h.flip(0), s), p),
            "each x[i] writes x[i]·h as it is, without reversing h"),
    Mistake("padding not cropped", lambda x, h, s, p: _scatter(x, h, s),
            "a transposed convolution's padding removes values: drop `padding` values at each "
            "end of the scattered output"),
    Mistake("padding cropped at the start only", lambda x, h, s, p: _scatter(x, h, s)[p:],
            "drop `padding` values at each end, the start and the end"),
    Mistake("padding added instead of removed",
            lambda x, h, s, p: F.pad(_scatter(x, h, s), (p, p)),
            "in a transposed convolution padding crops: drop `padding` values at each end "
            "instead of adding zeros"),
    Mistake("overlaps overwritten instead of added",
            lambda x, h, s, p: _crop(_scatter(x, h, s, assign=True), p),
            "where copies of the kernel overlap their values add up: accumulate with +="),
    Mistake("stride ignored", lambda x, h, s, p: _crop(_scatter(x, h, 1), p),
            "copy i starts at i·stride: the stride spreads the copies apart"),
)

TRANSPOSED_LENGTH_MISTAKES = (
    Mistake("the convolution's formula", lambda n, m, s, p, a: (n + 2 * p - m) // s + 1,
            "that is the convolution's output size; the transposed convolution goes the other "
            "way: (n − 1)·s + m − 2p + output_padding"),
    Mistake("n steps instead of n − 1", lambda n, m, s, p, a: n * s + m - 2 * p + a,
            "the first copy of the kernel starts at 0: n inputs make n − 1 steps of s"),
    Mistake("padding counted once", lambda n, m, s, p, a: (n - 1) * s + m - p + a,
            "padding crops p values at each end: subtract 2p"),
    Mistake("output_padding forgotten", lambda n, m, s, p, a: (n - 1) * s + m - 2 * p,
            "output_padding adds that many values at the end: add it"),
    Mistake("padding added instead of subtracted",
            lambda n, m, s, p, a: (n - 1) * s + m + 2 * p + a,
            "in a transposed convolution padding crops the output: subtract 2p"),
)

OUTPUT_PADDING_MISTAKES = (
    Mistake("padding counted once", lambda i, m, s, p: (i + p - m) % s,
            "the convolution saw i + 2p values: p zeros on each side"),
    Mistake("padding forgotten", lambda i, m, s, p: (i - m) % s,
            "the convolution divided i + 2p − m by s: keep the padding in"),
    Mistake("remainder of i alone", lambda i, m, s, p: i % s,
            "the floor threw away the remainder of i + 2p − m, not of i"),
    Mistake("quotient instead of remainder", lambda i, m, s, p: (i + 2 * p - m) // s,
            "output_padding is what the floor threw away: the remainder, with %"),
    Mistake("complement of the remainder", lambda i, m, s, p: (s - (i + 2 * p - m) % s) % s,
            "output_padding puts back exactly the remainder (i + 2p − m) mod s, not what "
            "would complete a stride"),
)

SEPARABLE_MISTAKES = (
    Mistake("bias forgotten", lambda c_in, c_out, k: c_in * k * k + c_in * c_out,
            "the pointwise convolution has one bias per output channel"),
    Mistake("depthwise bias counted",
            lambda c_in, c_out, k: c_in * k * k + c_in + c_in * c_out + c_out,
            "the depthwise convolution has no bias here (bias=False): only the pointwise one "
            "has biases"),
    Mistake("depthwise counted as a full convolution",
            lambda c_in, c_out, k: c_in * c_in * k * k + c_in * c_out + c_out,
            "a depthwise filter reads one channel: c_in filters of k×k, not c_in·c_in"),
    Mistake("kernel counted as k instead of k×k",
            lambda c_in, c_out, k: c_in * k + c_in * c_out + c_out,
            "a depthwise filter is k×k: k² weights per input channel"),
    Mistake("one bias per input channel",
            lambda c_in, c_out, k: c_in * k * k + c_in * c_out + c_in,
            "the pointwise convolution's biases belong to its outputs: one per output channel"),
)

DILATED_MISTAKES = (
    Mistake("dilation counted from 0",
            lambda k, ds: 1 + sum((d + 1) * (k - 1) for d in ds),
            "dilation 1 is the plain kernel: each layer adds d·(k − 1), not (d + 1)·(k − 1)"),
    Mistake("started from 0", lambda k, ds: sum(d * (k - 1) for d in ds),
            "before any layer the receptive field is one pixel: start from 1"),
    Mistake("dilation treated as a stride", lambda k, ds: _receptive(k, ds, lambda d: d),
            "dilation spreads one layer's taps, it does not space the next layers' pixels: "
            "each layer adds d·(k − 1)"),
    Mistake("layer spans added up", lambda k, ds: sum(d * (k - 1) + 1 for d in ds),
            "consecutive layers overlap: each adds d·(k − 1) to the span, starting from 1"),
    Mistake("dilation ignored", lambda k, ds: 1 + len(ds) * (k - 1),
            "a dilated layer adds d·(k − 1) pixels, not k − 1"),
)


def _overlaps(n, k, s, *, copies=None, span=None, extra=0):
    """Counts of kernel copies per output, written out: ``copies`` copies of length ``span``
    starting every ``s`` places, in a tensor ``extra`` places longer than needed."""
    copies = n if copies is None else copies
    span = k if span is None else span
    counts = torch.zeros((n - 1) * s + k + extra, dtype=torch.long)
    for i in range(copies):
        counts[i * s:i * s + span] += 1
    return counts


OVERLAP_MISTAKES = (
    Mistake("length n·s + k", lambda n, k, s: _overlaps(n, k, s, extra=s),
            "the last copy starts at (n − 1)·s: the output has (n − 1)·s + k positions"),
    Mistake("stride ignored", lambda n, k, s: _overlaps(n, k, 1),
            "copy i starts at i·s: the stride spreads the copies apart"),
    Mistake("copies written instead of counted",
            lambda n, k, s: (_overlaps(n, k, s) > 0).long(),
            "each copy adds one to every position it covers: count with +=, do not set to 1"),
    Mistake("counts returned as floats", lambda n, k, s: _overlaps(n, k, s).float(),
            "the counts are whole numbers: build them with torch.zeros(..., dtype=torch.long)"),
    Mistake("each copy one position short", lambda n, k, s: _overlaps(n, k, s, span=k - 1),
            "a copy of the kernel covers k positions, i·s to i·s + k − 1 included: a slice's "
            "end is excluded, so it is [i·s : i·s + k]"),
    Mistake("one copy missing", lambda n, k, s: _overlaps(n, k, s, copies=n - 1),
            "each of the n inputs writes one copy of the kernel: loop over range(n)"),
)


def _grouped_reading(x, w, groups, channels):
    """Filter o applied to the input channels ``channels(o)`` (a grouped convolution with the
    wrong channels)."""
    return torch.cat([F.conv2d(x[None, channels(o)], w[o:o + 1])[0] for o in range(len(w))])


def _group_block(x, w, groups, group):
    cg = w.shape[1]
    return _grouped_reading(x, w, groups, lambda o: list(range(group(o) * cg, group(o) * cg + cg)))


GROUPED_MISTAKES = (
    Mistake("every filter reads the first group",
            lambda x, w, g: _group_block(x, w, g, lambda o: 0),
            "filter o belongs to group o // (C_out / groups) and reads that group's C_in / groups "
            "channels, not always the first ones"),
    Mistake("group index o % groups",
            lambda x, w, g: _group_block(x, w, g, lambda o: o % g),
            "the output channels are split into consecutive blocks: filter o is in group "
            "o // (C_out / groups), not o % groups"),
    Mistake("channels of a group interleaved",
            lambda x, w, g: _grouped_reading(
                x, w, g, lambda o: list(range(o // (len(w) // g), x.shape[0], g))),
            "group g reads the consecutive channels g·(C_in / groups) to (g + 1)·(C_in / groups)"
            " − 1, not every groups-th channel"),
    Mistake("kernel flipped", lambda x, w, g: ref_grouped_conv2d(x, w.flip(-1, -2), g),
            "that is a true convolution, not the cross-correlation asked for: read w in its own "
            "order, without reversing it"),
    Mistake("kernel rows and columns swapped",
            lambda x, w, g: ref_grouped_conv2d(x, w.transpose(-1, -2), g),
            "w[o, c, a, b] multiplies x[c, i + a, j + b]: its third index moves down the rows, "
            "its fourth along the columns"),
    Mistake("last window missing",
            lambda x, w, g: ref_grouped_conv2d(x, w, g)[:, :-1, :-1],
            "there are H − k + 1 windows down and W − k + 1 across: loop over range(H − k + 1)"),
)


def _svd(k, full=False):
    return torch.linalg.svd(k.to(torch.float64), full_matrices=full)


def _rank_one(sigma, u, v, like):
    return (sigma * torch.outer(u, v)).to(like.dtype)


SEPARABLE_APPROX_MISTAKES = (
    Mistake("σ₁ forgotten", lambda k: _rank_one(1.0, _svd(k)[0][:, 0], _svd(k)[2][0], k),
            "u₁ and v₁ have length 1: multiply their outer product by the largest singular "
            "value σ₁"),
    Mistake("σ₁ squared", lambda k: _rank_one(_svd(k)[1][0] ** 2, _svd(k)[0][:, 0],
                                               _svd(k)[2][0], k),
            "the singular values are the square roots of the eigenvalues of kᵀk: scale by σ₁, "
            "not σ₁²"),
    Mistake("column and row swapped",
            lambda k: _rank_one(_svd(k)[1][0], _svd(k)[2][0], _svd(k)[0][:, 0], k),
            "the approximation has the kernel's shape (k_h, k_w): u₁ (length k_h) runs down "
            "the rows and v₁ (length k_w) along the columns, outer(u₁, v₁)"),
    Mistake("√σ₁ in one factor only",
            lambda k: _rank_one(_svd(k)[1][0].sqrt(), _svd(k)[0][:, 0], _svd(k)[2][0], k),
            "splitting σ₁ as √σ₁ into each 1-D filter is fine, but then both factors get one: "
            "the product must carry σ₁"),
    Mistake("smallest singular value kept",
            lambda k: _rank_one(_svd(k)[1][-1], _svd(k)[0][:, -1], _svd(k)[2][-1], k),
            "the SVD sorts the singular values largest first: keep index 0"),
    Mistake("first column times first row",
            lambda k: torch.outer(k[:, 0], k[0]) / k[0, 0],
            "the first column and row give back the kernel only when it is exactly separable; "
            "the best approximation in general is σ₁ u₁ v₁ᵀ from the SVD"),
)


# --- random cases -----------------------------------------------------------------------------

def rand_transposed(rng: np.random.Generator):
    while True:
        n, m = int(rng.integers(1, 11)), int(rng.integers(1, 6))
        s, p = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        if (n - 1) * s + m - 2 * p >= 1:
            return rounded_normal(rng, n), rounded_normal(rng, m), s, p


def rand_transposed_length(rng: np.random.Generator):
    while True:
        n, m = int(rng.integers(1, 31)), int(rng.integers(1, 9))
        s, p = int(rng.integers(1, 5)), int(rng.integers(0, 4))
        a = int(rng.integers(0, s))
        if (n - 1) * s - 2 * p + m + a >= 1:
            return n, m, s, p, a


def rand_output_padding(rng: np.random.Generator):
    m, s, p = int(rng.integers(1, 8)), int(rng.integers(1, 6)), int(rng.integers(0, 4))
    i = int(rng.integers(max(1, m - 2 * p), 41))
    return i, m, s, p


def rand_separable(rng: np.random.Generator):
    return int(rng.integers(1, 129)), int(rng.integers(1, 129)), int(rng.integers(1, 8))


def rand_dilations(rng: np.random.Generator):
    k = int(rng.integers(1, 8))
    return k, tuple(int(d) for d in rng.integers(1, 9, size=int(rng.integers(1, 7))))


def rand_overlaps(rng: np.random.Generator):
    return int(rng.integers(1, 9)), int(rng.integers(1, 7)), int(rng.integers(1, 5))


def rand_grouped(rng: np.random.Generator):
    groups = int(rng.choice([1, 2, 2, 3, 3]))
    cin_g, cout_g = int(rng.integers(1, 4)), int(rng.integers(1, 3))
    k = int(rng.integers(1, 4))
    h, w = int(rng.integers(k, k + 3)), int(rng.integers(k, k + 3))
    return (rounded_normal(rng, (groups * cin_g, h, w)),
            rounded_normal(rng, (groups * cout_g, cin_g, k, k)), groups)


def rand_separable_kernel(rng: np.random.Generator):
    """A kernel whose two largest singular values differ by 10 % or more: its best rank-1
    approximation is unique and well conditioned."""
    while True:
        k = rounded_normal(rng, (int(rng.integers(1, 6)), int(rng.integers(1, 6))))
        sigma = torch.linalg.svdvals(k.double())
        if sigma[0] > 0.5 and (len(sigma) == 1 or sigma[1] <= 0.9 * sigma[0]):
            return (k,)


# --- conceptual questions: answers computed, not typed ------------------------------------------

def ref_q_grouped_params() -> int:
    """Learnable parameters of ``Conv2d(64, 128, 3, groups=4, bias=False)``."""
    return count_parameters(torch.nn.Conv2d(64, 128, kernel_size=3, groups=4, bias=False))


def ref_q_one_by_one() -> str:
    """The one true statement about a 1×1 convolution among the notebook's options, each
    tested on a random ``Conv2d(4, 4, 1)`` and a random 1×4×5×5 input."""
    gen = torch.Generator().manual_seed(5)
    layer = torch.nn.Conv2d(4, 4, kernel_size=1).double()
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))
    x = torch.randn(1, 4, 5, 5, generator=gen, dtype=torch.float64)
    y = layer(x)
    dense = torch.nn.functional.linear(x.permute(0, 2, 3, 1), layer.weight[:, :, 0, 0],
                                       layer.bias).permute(0, 3, 1, 2)
    bumped = x.clone()
    bumped[..., 2, 2] += 1.0
    changed = (layer(bumped) - y).abs().sum(dim=1)[0] > 0
    truths = {
        "a": torch.allclose(y, x),                                  # the identity
        "b": torch.allclose(y, dense),                              # a dense layer per pixel
        "c": int(changed.sum()) > 1,                                # mixes neighbouring pixels
        "d": tuple(y.shape[-2:]) != tuple(x.shape[-2:]),            # shrinks the image
    }
    (answer,) = [k for k, v in truths.items() if v]
    return answer


#: The (k, s) pairs of ``q_even_overlap``, by letter.
EVEN_OVERLAP_OPTIONS = {"a": (3, 2), "b": (4, 2), "c": (6, 3), "d": (5, 3), "e": (2, 4)}


def ref_q_even_overlap() -> str:
    """The options whose transposed convolution (n = 12 inputs) gives every output away from
    the ends (positions k − 1 to (n − 1)·s) the same number of kernel copies."""
    n, even = 12, ""
    for letter, (k, s) in EVEN_OVERLAP_OPTIONS.items():
        inside = ref_transposed_overlaps(n, k, s)[k - 1:(n - 1) * s + 1]
        if bool((inside == inside[0]).all()):
            even += letter
    return even


# --- the questions ----------------------------------------------------------------------------

EXERCISE = Exercise(
    name="05_variants",
    title="Convolution variants",
    questions=(
        Question.function(
            "transposed_conv1d", points=3, reference=ref_transposed_conv1d,
            args=("x", "h", "stride", "padding"),
            fixed=(
                Case((t(1, 2, 3), t(1, -1), 2, 0), t(1, -1, 2, -2, 3, -3),
                     "stride 2 = kernel size: the copies just touch"),
                Case((t(1, -1, 2), t(1, 2, 3), 2, 0), t(1, 2, 2, -2, -1, 4, 6),
                     "the chapter's example: overlapping copies add up"),
                Case((t(1, 1, 1), t(1, 1, 1), 1, 0), t(1, 2, 3, 2, 1), "stride 1"),
                Case((t(1, 1, 1), t(1, 1, 1), 2, 1), t(1, 2, 1, 2, 1),
                     "padding 1 crops one value at each end"),
                Case((t(1, 1, 1, 1), t(1, 1, 1), 2, 0), t(1, 1, 2, 1, 2, 1, 2, 1, 1),
                     "uneven overlap (k = 3, s = 2): the checkerboard"),
                Case((t(2.5,), t(1, -2), 3, 0), t(2.5, -5), "a single input"),
            ),
            random_case=rand_transposed, n_public=6, n_hidden=24, from_scratch=CONVOLUTION,
            mistakes=TRANSPOSED_MISTAKES,
            hint="each x[i] writes x[i]·h into the output starting at i·stride (add where copies "
                 "overlap); the uncropped length is (n − 1)·stride + m; then drop `padding` "
                 "values at each end",
        ),
        Question.function(
            "transposed_output_length", points=1, reference=ref_transposed_output_length,
            args=("n", "m", "s", "p", "output_padding"),
            fixed=(
                Case((3, 3, 2, 1, 0), 5, "back from 3 to 5"),
                Case((3, 3, 2, 1, 1), 6, "output_padding picks 6 instead"),
                Case((1, 4, 1, 0, 0), 4, "one input: one copy of the kernel"),
                Case((4, 4, 2, 1, 0), 8, "bilinear ×2 upsampling"),
                Case((5, 2, 3, 0, 2), 16, "stride larger than the kernel"),
            ),
            random_case=rand_transposed_length, n_public=10, n_hidden=30,
            from_scratch=OUTPUT_SIZE,
            mistakes=TRANSPOSED_LENGTH_MISTAKES,
            hint="(n − 1)·s + m − 2p + output_padding: the first copy of the kernel takes m "
                 "places, each further input moves it s places on",
        ),
        Question.function(
            "output_padding_needed", points=1, reference=ref_output_padding_needed,
            args=("i", "m", "s", "p"),
            fixed=(
                Case((5, 3, 2, 1), 0, "5 → 3 → 5 needs nothing"),
                Case((6, 3, 2, 1), 1, "6 → 3 → 6 needs one more"),
                Case((7, 3, 3, 0), 1, "7 → 2: the floor dropped 1"),
                Case((10, 4, 4, 2), 2, "10 → 3: the floor dropped 2"),
                Case((9, 3, 1, 0), 0, "stride 1 never needs it"),
            ),
            random_case=rand_output_padding, n_public=10, n_hidden=30,
            from_scratch=OUTPUT_SIZE,
            mistakes=OUTPUT_PADDING_MISTAKES,
            hint="the convolution computes ⌊(i + 2p − m)/s⌋: output_padding is the remainder "
                 "that the floor threw away, (i + 2p − m) mod s",
        ),
        Question.function(
            "separable_params", points=1, reference=ref_separable_params,
            args=("c_in", "c_out", "k"),
            fixed=(
                Case((32, 64, 3), 2400, "32·9 + 32·64 + 64"),
                Case((3, 16, 5), 139, "3·25 + 3·16 + 16"),
                Case((1, 1, 1), 3, "one weight, one weight, one bias"),
                Case((64, 128, 3), 8896, "64·9 + 64·128 + 128"),
            ),
            random_case=rand_separable, n_public=6, n_hidden=20,
            from_scratch=LAYER_COUNTING.union(CONVOLUTION),
            mistakes=SEPARABLE_MISTAKES,
            hint="depthwise: one k×k filter per input channel, no bias; pointwise: a 1×1 "
                 "convolution from c_in to c_out channels, with one bias per output channel",
        ),
        Question.function(
            "dilated_receptive_field", points=1, reference=ref_dilated_receptive_field,
            args=("k", "dilations"),
            fixed=(
                Case((3, (1, 1, 1, 1)), 9, "four plain 3×3 layers"),
                Case((3, (1, 2, 4, 8)), 31, "exponentially growing dilations"),
                Case((3, (2, 2, 2)), 13, "the span, holes included"),
                Case((1, (5, 7)), 1, "1×1 kernels see one pixel, whatever the dilation"),
                Case((5, (3,)), 13, "one layer: d(k − 1) + 1"),
            ),
            random_case=rand_dilations, n_public=6, n_hidden=20,
            from_scratch=RECEPTIVE_FIELD,
            mistakes=DILATED_MISTAKES,
            hint="each stride-1 layer adds d·(k − 1) pixels to the receptive field, "
                 "starting from 1",
        ),
        Question.value(
            "q_grouped_params", points=1, reference=ref_q_grouped_params,
            hint="with groups = g, the channels are split into g groups and each filter sees "
                 "only the C_in / g input channels of its group",
        ),
        Question.value(
            "q_one_by_one", points=1, reference=ref_q_one_by_one,
            hint="a 1×1 kernel sees one pixel: write the output at (i, j) as a sum over the "
                 "input channels at that same pixel",
        ),
        Question.function(
            "transposed_overlaps", points=2, reference=ref_transposed_overlaps,
            args=("n", "k", "s"),
            fixed=(
                Case((4, 3, 2), _long(1, 1, 2, 1, 2, 1, 2, 1, 1),
                     "k = 3, s = 2: 1 and 2 alternate, the checkerboard"),
                Case((4, 4, 2), _long(1, 1, 2, 2, 2, 2, 2, 2, 1, 1),
                     "k = 4, s = 2: even away from the ends"),
                Case((3, 2, 3), _long(1, 1, 0, 1, 1, 0, 1, 1),
                     "stride larger than the kernel: gaps"),
                Case((3, 3, 1), _long(1, 2, 3, 2, 1), "stride 1"),
                Case((1, 5, 4), _long(1, 1, 1, 1, 1), "one input: one copy"),
            ),
            random_case=rand_overlaps, n_public=6, n_hidden=24,
            from_scratch=CONVOLUTION.union(OUTPUT_SIZE),
            mistakes=OVERLAP_MISTAKES,
            hint="copy i of the kernel covers the positions i·s to i·s + k − 1; the output has "
                 "(n − 1)·s + k positions, each counting the copies that cover it",
        ),
        Question.value(
            "q_even_overlap", points=1, reference=ref_q_even_overlap,
            hint="count, for one output position away from the ends, the taps t of the kernel "
                 "with t ≡ position (mod s): does that number depend on the position?",
        ),
        Question.function(
            "grouped_conv2d", points=3, reference=ref_grouped_conv2d,
            args=("x", "w", "groups"),
            fixed=(
                Case((_f([[[1, 2]], [[3, 4]]]), _f([[[[10]]], [[[100]]]]), 2),
                     _f([[[10, 20]], [[300, 400]]]),
                     "groups = C_in: each filter reads its own channel"),
                Case((_f([[[1, 2]], [[3, 4]]]), _f([[[[1]], [[1]]]]), 1), _f([[[4, 6]]]),
                     "groups = 1: an ordinary convolution, every filter reads every channel"),
                Case((_f([[[1]], [[2]], [[3]], [[4]]]), _f([[[[1]], [[10]]], [[[1]], [[10]]]]),
                      2), _f([[[21]], [[43]]]),
                     "two channels per group: filter 0 reads channels 0, 1; filter 1 reads 2, 3"),
                Case((_f([[[5]], [[7]]]), _f([[[[1]]], [[[2]]], [[[3]]], [[[4]]]]), 2),
                     _f([[[5]], [[10]], [[21]], [[28]]]),
                     "two filters per group: filters 0, 1 read channel 0; filters 2, 3 read "
                     "channel 1"),
                Case((_f([[[1, 2, 3], [4, 5, 6]]]), _f([[[[1, 0], [0, -1]]]]), 1),
                     _f([[[-4, -4]]]), "a 2×2 kernel, not flipped"),
            ),
            random_case=rand_grouped, n_public=6, n_hidden=20, from_scratch=CONVOLUTION,
            mistakes=GROUPED_MISTAKES,
            hint="filter o is in group g = o // (C_out / groups) and reads the input channels "
                 "g·(C_in / groups) to (g + 1)·(C_in / groups) − 1: y[o, i, j] = "
                 "Σ_c Σ_a Σ_b w[o, c, a, b]·x[g·C_in/groups + c, i + a, j + b]",
        ),
        Question.function(
            "best_separable", points=2, reference=ref_best_separable, args=("k",),
            fixed=(
                Case((m([1, 2], [2, 4]),), m([1, 2], [2, 4]),
                     "a separable kernel is its own best approximation"),
                Case((m([3, 0], [0, 1]),), m([3, 0], [0, 0]), "keep the larger singular value"),
                Case((m([2, 1], [1, 2]),), m([1.5, 1.5], [1.5, 1.5]),
                     "σ₁ = 3 with u₁ = v₁ = (1, 1)/√2"),
                Case((m([1, 0, -1], [2, 0, -2], [1, 0, -1]),), m([1, 0, -1], [2, 0, -2],
                                                                   [1, 0, -1]),
                     "the Sobel kernel: (1, 2, 1)ᵀ (1, 0, −1)"),
                Case((m([3, 4, 0]),), m([3, 4, 0]), "a single row is separable"),
            ),
            random_case=rand_separable_kernel, n_public=6, n_hidden=20, from_scratch=CONVOLUTION,
            tolerance=Tolerance(rtol32=1e-3, atol32=1e-4),
            mistakes=SEPARABLE_APPROX_MISTAKES,
            hint="take the SVD k = U diag(σ) Vᵀ (torch.linalg.svd returns U, σ, Vᵀ): the best "
                 "rank-1 approximation is σ₁ u₁ v₁ᵀ, with u₁ = U[:, 0] and v₁ = Vᵀ[0]",
        ),
    ),
)
