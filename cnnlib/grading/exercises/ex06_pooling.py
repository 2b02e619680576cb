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

from cnnlib.invariance_measures import blur_pool2d
from cnnlib.receptive_field import Layer, receptive_field

from ..cases import m, rounded_normal, t
from ..compare import Outcome
from ..forbidden import ANTI_ALIASING, EQUIVARIANCE, OUTPUT_SIZE, POOLING, RECEPTIVE_FIELD
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


def _half_shift(y: torch.Tensor, shift: float, dim: int = -1) -> torch.Tensor:
    """``y`` moved circularly by ``shift`` samples (any real number) along ``dim``: the phase
    ramp ``e^{−2πi f t}`` on its DFT, the chapter's fractional shift (§5)."""
    freq = torch.fft.fftfreq(y.shape[dim], dtype=torch.float64)
    ramp = torch.polar(torch.ones_like(freq), -2 * math.pi * freq * shift)
    view = [1] * y.dim()
    view[dim] = -1
    spectrum = torch.fft.fft(y, dim=dim) * ramp.view(view)
    return torch.fft.ifft(spectrum, dim=dim).real.to(y.dtype)


def _equivariance_error(x, stride, shift, *, sub=lambda x, s: x[::s, ::s], dim=-1,
                        out_shift=None, norm_of=None, relative=True):
    """‖D(S_t x) − S_{t/s} D(x)‖ / ‖D(x)‖, with each piece replaceable to build a slip."""
    d_x = sub(x, stride)
    moved = sub(torch.roll(x, shift, dims=dim), stride)
    target = (_half_shift(d_x, shift / stride, dim) if out_shift is None
              else out_shift(d_x, shift, stride))
    error = (moved - target).norm()
    if not relative:
        return error
    return error / (d_x if norm_of is None else norm_of(x, d_x)).norm()


def ref_strided_equivariance_error(x: torch.Tensor, stride: int, shift: int) -> torch.Tensor:
    """The relative equivariance error of subsampling by ``stride`` for a circular shift of
    ``shift`` columns: a 0-dim tensor of ``x``'s dtype."""
    return _equivariance_error(x, stride, shift)


BLUR_FACTOR = 2.2
"""``blur_downsample`` must bring plain subsampling's equivariance error down by this factor."""


def ref_blur_downsample(x: torch.Tensor, stride: int) -> torch.Tensor:
    """The chapter's anti-aliased downsampler: binomial 3×3 blur (circular), then subsample."""
    return blur_pool2d(x, stride, filter_size=3, padding_mode="circular")


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


EQUIVARIANCE_ERROR_MISTAKES = (
    Mistake("output shifted by t instead of t/s",
            lambda x, s, t: _equivariance_error(
                x, s, t, out_shift=lambda y, t, s: torch.roll(y, t, dims=-1)),
            "the output has one sample for s input pixels: a shift of t input pixels is t/s "
            "output samples"),
    Mistake("absolute error", lambda x, s, t: _equivariance_error(x, s, t, relative=False),
            "the error is relative: divide the norm of the difference by ‖D(x)‖"),
    Mistake("divided by the input's norm",
            lambda x, s, t: _equivariance_error(x, s, t, norm_of=lambda x, d_x: x),
            "divide by the norm of the subsampled output ‖D(x)‖, not of the input x"),
    Mistake("shifted along the rows", lambda x, s, t: _equivariance_error(x, s, t, dim=-2),
            "shift the columns (the width, the last dimension): dims=-1"),
    Mistake("t/s rounded to whole samples",
            lambda x, s, t: _equivariance_error(
                x, s, t, out_shift=lambda y, t, s: torch.roll(y, t // s, dims=-1)),
            "when s does not divide t the output moves by a fraction of a sample: shift it "
            "through its DFT, with the phase ramp e^(−2πi·f·t/s)"),
    Mistake("output shifted the wrong way",
            lambda x, s, t: _equivariance_error(
                x, s, t, out_shift=lambda y, t, s: _half_shift(y, -t / s)),
            "torch.roll(x, t) moves content towards larger indices; the output must move the "
            "same way: the phase ramp is e^(−2πi·f·t/s), with a minus sign"),
    Mistake("subsampled along the width only",
            lambda x, s, t: _equivariance_error(x, s, t, sub=lambda x, s: x[:, ::s]),
            "D keeps every s-th row and every s-th column: x[::s, ::s]"),
)


def _blurred_then_kept(x, s, taps, mode="circular"):
    """Blur each channel by the separable filter ``taps ⊗ taps`` (padded by ``mode``), then
    keep every ``s``-th row and column."""
    b = torch.tensor(taps, dtype=torch.float64)
    b = (b / b.sum()).to(x.dtype)
    f = len(taps)
    before = (f - 1) // 2
    padded = F.pad(x, (before, f - 1 - before) * 2, mode=mode)
    weight = torch.outer(b, b).expand(x.shape[1], 1, f, f)
    return F.conv2d(padded, weight, groups=x.shape[1])[..., ::s, ::s]


BLUR_MISTAKES = (
    Mistake("no blur", lambda x, s: x[..., ::s, ::s],
            "keeping every s-th value alone is what aliases: blur first, then subsample"),
    Mistake("blurred after subsampling",
            lambda x, s: _blurred_then_kept(x[..., ::s, ::s], 1, (1, 2, 1)),
            "the blur must come before the subsampling: once values are dropped, the fine "
            "detail has already been folded into the coarse grid"),
    Mistake("zero padding", lambda x, s: _blurred_then_kept(x, s, (1, 2, 1), "constant"),
            "the inputs are periodic (circular shifts): pad circularly, "
            "F.pad(x, (1, 1, 1, 1), mode='circular'), so that borders are not darkened"),
    Mistake("blur that does not sum to 1",
            lambda x, s: _blurred_then_kept(x, s, (1, 2, 1)) * 16,
            "divide the binomial filter by the sum of its entries: a constant image must keep "
            "its value"),
    Mistake("box of width 2", lambda x, s: _blurred_then_kept(x, s, (1, 1)),
            "a 2×2 box (average pooling) removes too little of the high frequencies: use the "
            "binomial filter [1, 2, 1]/4 in each direction"),
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


def rand_strided_equivariance_error(rng: np.random.Generator):
    stride = int(rng.integers(2, 5))  # stride 1 is a fixed case
    w = stride * int(rng.integers(2, 6))
    h = int(rng.integers(1, 5))
    while True:
        x = rounded_normal(rng, (h, w))
        if x[::stride, ::stride].abs().sum() > 0:
            return x, stride, int(rng.integers(0, w))


def probe_batch(image: torch.Tensor, stride: int, constant: torch.Tensor) -> torch.Tensor:
    """What ``blur_downsample`` is called on: ``image`` (C, H, W), its circular shifts by
    1 … s − 1 columns, then by 1 … s − 1 rows, and an image of one ``constant`` per channel:
    ``(2s, C, H, W)``."""
    shifted = [torch.roll(image, step, dims=dim) for dim in (-1, -2)
               for step in range(1, stride)]
    flat = constant.view(-1, 1, 1).expand_as(image)
    return torch.stack([image, *shifted, flat])


def rand_blur_downsample(rng: np.random.Generator):
    stride, channels = 2, 3  # three channels of white noise, 48 to 64 pixels a side
    h, w = (2 * int(rng.integers(24, 33)) for _ in range(2))
    constant = rounded_normal(rng, channels) + 2
    return probe_batch(rounded_normal(rng, (channels, h, w)), stride, constant), stride


def _mean_equivariance_error(y: torch.Tensor, stride: int) -> float:
    """The mean over the probe's shifts of ‖y_shifted − S_{t/s} y_image‖ / ‖y_image‖."""
    y = y.double()
    base, errors = y[0], []
    shifts = [(dim, step) for dim in (-1, -2) for step in range(1, stride)]
    for i, (dim, step) in enumerate(shifts):
        target = _half_shift(base, step / stride, dim)
        errors.append(float((y[1 + i] - target).norm() / base.norm()))
    return sum(errors) / len(errors)


def judge_blur_downsample(args, expected, got, reveal) -> Outcome:
    """(a) the shape of plain subsampling, (b) the constant image kept, (c) the mean
    equivariance error at most 1/BLUR_FACTOR of plain subsampling's."""
    x, stride = args
    plain = x[..., ::stride, ::stride]
    if not isinstance(got, torch.Tensor) or not got.is_floating_point():
        return Outcome(False, "blur_downsample must return a float torch.Tensor")
    if tuple(got.shape) != tuple(plain.shape):
        shapes = f": expected {tuple(plain.shape)}, got {tuple(got.shape)}" if reveal else ""
        return Outcome(False, "(a) shape: the output must have the shape of plain subsampling, "
                              f"x[..., ::stride, ::stride]{shapes}")
    if not torch.isfinite(got).all():
        return Outcome(False, "the output holds inf or NaN")
    flat = x[-1, :, :1, :1].double()
    if not torch.allclose(got[-1].double(), flat.expand_as(got[-1]), rtol=1e-4, atol=1e-5):
        return Outcome(False, "(b) constants: a constant image (the probe's last one) must come "
                              "out as the same constant, everywhere, borders included")
    if got[0].abs().sum() == 0:
        return Outcome(False, "(c) equivariance: the output of the image is all zeros")
    mine, theirs = _mean_equivariance_error(got, stride), _mean_equivariance_error(plain, stride)
    if mine <= theirs / BLUR_FACTOR + 1e-6:
        return Outcome(True)
    numbers = f" (yours {mine:.3f}, plain subsampling {theirs:.3f})" if reveal else ""
    return Outcome(False, "(c) equivariance: averaged over the shifts, the equivariance error "
                          f"is not at most 1/{BLUR_FACTOR} of plain subsampling's{numbers}")


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

ZHANG = m([0, 0, 1, 1, 0, 0, 1, 1])
"""The chapter's period-4 signal (§5), as a one-row image."""

CHECKERBOARD = (1 + (-1) ** (torch.arange(4)[:, None] + torch.arange(4))).float()[None]
"""2 where the row and column have the same parity, else 0: (1, 4, 4)."""

STRIPES = (1 + (-1) ** torch.arange(4)).float()[:, None].expand(2, 4, 6).clone()
"""Rows of 2s and 0s in turn, in two channels: (2, 4, 6)."""


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
        Question.function(
            "strided_equivariance_error", points=2, reference=ref_strided_equivariance_error,
            args=("x", "stride", "shift"),
            fixed=(
                Case((ZHANG, 2, 1), torch.tensor(math.sqrt(0.5)),
                     "the period-4 signal of the chapter, shifted by one sample"),
                Case((ZHANG, 2, 2), torch.tensor(0.0),
                     "a shift by the stride moves the output by exactly one sample"),
                Case((m([3, 0, 0, 0, 0, 0]), 3, 1), torch.tensor(math.sqrt(5.625) / 3),
                     "a third of an output sample: the Nyquist term is scaled by cos(π/3)"),
                Case((m([1, 2, 3], [4, 5, 6]), 1, 2), torch.tensor(0.0),
                     "stride 1 keeps everything: exactly equivariant"),
                Case((torch.full((2, 4), 2.0), 2, 1), torch.tensor(0.0),
                     "a constant image: nothing to alias"),
            ),
            random_case=rand_strided_equivariance_error, n_public=6, n_hidden=24,
            from_scratch=POOLING.union(EQUIVARIANCE), mistakes=EQUIVARIANCE_ERROR_MISTAKES,
            hint="d = x[::s, ::s]; moved = torch.roll(x, t, dims=-1)[::s, ::s]; shift d by t/s "
                 "samples through its DFT along the last dimension (multiply by "
                 "e^(−2πi·f·t/s) with f = torch.fft.fftfreq(n), take the real part of the "
                 "inverse); return ‖moved − shifted d‖ / ‖d‖ as a 0-dim tensor",
        ),
        Question.function(
            "blur_downsample", points=3, reference=ref_blur_downsample, args=("x", "stride"),
            fixed=(
                Case((probe_batch(CHECKERBOARD, 2, t(3)), 2),
                     torch.cat([torch.ones(3, 1, 2, 2), torch.full((1, 1, 2, 2), 3.0)]),
                     "a checkerboard: plain subsampling keeps all 2s or all 0s, "
                     "the blur gives 1 at every phase"),
                Case((probe_batch(STRIPES, 2, t(-1, 5)), 2),
                     torch.cat([torch.ones(3, 2, 2, 3),
                                t(-1, 5).view(1, 2, 1, 1).expand(1, 2, 2, 3)]),
                     "stripes two pixels apart, in two channels"),
            ),
            random_case=rand_blur_downsample, n_public=3, n_hidden=8,
            from_scratch=ANTI_ALIASING, mistakes=BLUR_MISTAKES, judge=judge_blur_downsample,
            hint="blur each channel with [[1, 2, 1], [2, 4, 2], [1, 2, 1]]/16 (pad 1 on every "
                 "side with mode='circular', conv2d with groups = channels), then keep "
                 "[..., ::stride, ::stride]",
        ),
    ),
)
