"""Measuring shift (in)variance of feature extractors, and anti-aliased pooling (chapter 6).

How much does a representation ``φ`` move when its input moves? For a translation ``T_δ``
(:func:`cnnlib.equivariance.translate`) and images ``x_1 … x_N``, :func:`shift_sensitivity`
returns the mean relative change

    s(δ) = (1/N) Σ_n ‖φ(T_δ x_n) − T'_{δ'} φ(x_n)‖ / ‖φ(x_n)‖

with ``T'_{δ'}`` the identity (a test of *invariance*: ``s = 0`` when ``φ(T_δ x) = φ(x)``) or
a translation of the output (a test of *equivariance*: ``s = 0`` when the output moves by
``δ'`` as the input moves by ``δ``, e.g. ``δ' = δ/2`` after a layer with stride 2).

For a deformation ``L_τ`` (:func:`cnnlib.equivariance.deform`), :func:`deformation_sensitivity`
returns the same mean relative change with ``L_τ`` in place of ``T_δ``: a translation is the
deformation with a constant ``τ``, and the others can be as small as a translation yet vary
from pixel to pixel.

Anti-aliased pooling (R. Zhang, "Making convolutional networks shift-invariant again", ICML
2019). Every strided layer is a stride-1 layer followed by keeping every ``s``-th sample, and
that subsampling is what breaks equivariance to shifts that are not multiples of ``s``: it
folds (aliases) the fine detail of the stride-1 map into the coarse one. Blurring before
subsampling removes most of that detail first:

    blur_pool2d       blur with a binomial filter (per channel), then subsample by s
    max_blur_pool2d   max pooling with stride 1, then blur_pool2d
                      (anti-aliased max pooling: the "MaxBlurPool" of Zhang's paper)

Both keep the size ``⌈H/s⌉ × ⌈W/s⌉`` (the borders are padded with ``padding_mode``), so with
``padding_mode="circular"`` and ``H``, ``W`` multiples of ``s`` they are exactly equivariant
to circular shifts by multiples of ``s`` — like ``max_pool2d(x, s)`` — and, unlike it, change
little under the other shifts.

Shifting by a fraction of a sample. After a stride of 2, a 1-pixel shift of the input is half
a sample of the output. :func:`fractional_shift` moves a sampled signal by any real amount the
way sampling theory does it — multiply its DFT by the phase ramp ``e^{−2πi k t/n}`` — which is
the circular translation for whole samples and the exact shift of the underlying band-limited
signal otherwise. ``shift_sensitivity(…, out_shifts=[0.5])`` uses it: an output with little
aliasing moves by half a sample when the input moves by one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

from ._validate import (
    _is_int,
    check_callable,
    check_choice,
    check_float_tensor,
    check_ndim,
    check_positive_int,
    check_tensor,
)
from .conv import conv2d
from .equivariance import DEFORM_MODES, TRANSLATE_MODES, deform, translate
from .filters import binomial_kernel
from .padding import check_padding_mode, pad, same_padding
from .pooling import max_pool2d

__all__ = [
    "binomial_blur_kernel",
    "blur_pool2d",
    "deformation_sensitivity",
    "fractional_shift",
    "max_blur_pool2d",
    "relative_change",
    "shift_sensitivity",
    "subsample2d",
]


# -------------------------------------------------------------------- anti-aliased pooling
def binomial_blur_kernel(filter_size: int = 3, dtype: torch.dtype = torch.float32,
                         device: torch.device | str | None = None) -> torch.Tensor:
    """The 2-D binomial filter ``b ⊗ b`` with ``b = binomial_kernel(filter_size)``: ``(f, f)``.

    ``filter_size = 3`` gives ``[[1, 2, 1], [2, 4, 2], [1, 2, 1]]/16``. It sums to 1 and, for
    ``f ≥ 2``, its frequency response is 0 at the Nyquist frequency (the pattern
    ``+1, −1, +1, …``), the detail that subsampling by 2 would alias.
    """
    check_positive_int("filter_size", filter_size)
    b = binomial_kernel(filter_size, dtype=torch.float64)
    return torch.outer(b, b).to(dtype=dtype, device=device)


def subsample2d(input: torch.Tensor, stride) -> torch.Tensor:
    """Keep every ``s``-th row and column, starting with the first: ``input[..., ::s₀, ::s₁]``.

    ``input: (…, H, W) → (…, ⌈H/s₀⌉, ⌈W/s₁⌉)``; ``stride`` is an int or a pair. A strided layer
    is its stride-1 version followed by this.
    """
    check_tensor("input", input)
    if input.dim() < 2:
        raise ValueError(f"input must have at least 2 dimensions (…, H, W), got shape "
                         f"{tuple(input.shape)}")
    s = _pair("stride", stride)
    return input[..., ::s[0], ::s[1]]


def blur_pool2d(input: torch.Tensor, stride=2, filter_size: int = 3,
                padding_mode: str = "circular") -> torch.Tensor:
    """Blur each channel with :func:`binomial_blur_kernel`, then :func:`subsample2d`.

    ``input: (N, C, H, W)`` or ``(C, H, W)`` → ``(N, C, ⌈H/s₀⌉, ⌈W/s₁⌉)``:

        y[n, c, i, j] = Σ_{u, v} b[u] b[v] · x_pad[n, c, s₀i + u, s₁j + v]

    with the input padded "same" (``⌊(f − 1)/2⌋`` before, the rest after) by ``padding_mode``
    (``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``). It is a depthwise strided
    convolution (``groups = C``) with a fixed low-pass filter; ``filter_size = 1`` is plain
    subsampling and ``filter_size = 2`` with stride 2 is ``avg_pool2d(x, 2)`` on even sizes.
    """
    check_float_tensor("input", input)
    check_ndim("input", input, (3, 4), "(N, C, H, W) or (C, H, W)")
    s = _pair("stride", stride)
    check_padding_mode(padding_mode)
    kernel = binomial_blur_kernel(filter_size, dtype=input.dtype, device=input.device)
    channels = input.shape[-3]
    weight = kernel.expand(channels, 1, filter_size, filter_size)
    blurred = conv2d(input, weight, padding="same", padding_mode=padding_mode, groups=channels)
    return subsample2d(blurred, s)


def max_blur_pool2d(input: torch.Tensor, kernel_size: int = 2, stride=2, filter_size: int = 3,
                    padding_mode: str = "circular") -> torch.Tensor:
    """Anti-aliased max pooling: max over ``k × k`` windows with stride 1, then :func:`blur_pool2d`.

    ``input: (N, C, H, W)`` or ``(C, H, W)`` → ``(N, C, ⌈H/s₀⌉, ⌈W/s₁⌉)``. The stride-1 max
    keeps the size ``H × W``: the input is padded "same" (``⌊(k − 1)/2⌋`` before, the rest
    after) by ``padding_mode``; ``"zeros"`` pads the max stage as max pooling does (padding
    never wins — the same as ``"replicate"`` for a stride-1 max) and the blur stage with zeros.
    For ``k = 2``, ``max_pool2d(x, 2, stride=s)`` is this stride-1 max followed by
    :func:`subsample2d` (on sizes where the windows fit), without the blur in between.
    """
    check_float_tensor("input", input)
    check_ndim("input", input, (3, 4), "(N, C, H, W) or (C, H, W)")
    k = check_positive_int("kernel_size", kernel_size)
    check_padding_mode(padding_mode)
    before_after = same_padding(k)
    max_mode = "replicate" if padding_mode == "zeros" else padding_mode
    padded = pad(input, (before_after, before_after), max_mode)
    peaks = max_pool2d(padded, k, stride=1)
    return blur_pool2d(peaks, stride, filter_size, padding_mode)


# ------------------------------------------------------------------------------ measures
def fractional_shift(input: torch.Tensor, shift) -> torch.Tensor:
    """Circular translation by a real number of samples, through the DFT (band-limited).

    ``shift``: a number ``t`` (the last dimension) or a tuple ``(t_1, …, t_m)`` for the last
    ``m`` dimensions, first first (``(dy, dx)`` for an image), positive towards larger indices
    as in :func:`cnnlib.equivariance.translate`. Along a dimension of length ``n``:

        y = Re IDFT( X[k] · e^{−2πi f_k t} ),    f_k = k/n for k < n/2, (k − n)/n above.

    For whole ``t`` this is ``translate(input, t, mode="circular")`` (up to rounding); for other
    ``t`` it is the shift of the trigonometric polynomial through the samples. On an even ``n``
    the Nyquist component ``(−1)^i`` is scaled by ``cos(πt)`` (its shift is not a real
    sequence): a half-sample shift removes it. ``input: (…, n_1, …, n_m)``, real; same shape,
    dtype and device; autograd flows through.
    """
    check_float_tensor("input", input)
    if _is_number(shift):
        shifts = (float(shift),)
    elif (isinstance(shift, Sequence) and not isinstance(shift, str) and len(shift) > 0
          and all(_is_number(v) for v in shift)):
        shifts = tuple(float(v) for v in shift)
    else:
        raise TypeError(f"shift must be a number or a non-empty tuple of numbers, got {shift!r}")
    if len(shifts) > input.dim():
        raise ValueError(f"shift has {len(shifts)} entries but input has only {input.dim()} "
                         f"dimensions (shape {tuple(input.shape)})")
    out = input
    for offset, t in enumerate(shifts):
        dim = input.dim() - len(shifts) + offset
        if t == 0 or input.shape[dim] == 0:
            continue
        n = input.shape[dim]
        freq = torch.fft.fftfreq(n, device=input.device, dtype=torch.float64)
        ramp = torch.polar(torch.ones_like(freq), -2 * math.pi * freq * t)
        view = [1] * input.dim()
        view[dim] = n
        spectrum = torch.fft.fft(out, dim=dim) * ramp.view(view).to(_complex(input.dtype))
        out = torch.fft.ifft(spectrum, dim=dim).real.to(input.dtype)
    return out


def relative_change(new: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
    """``‖new_n − old_n‖ / ‖old_n‖`` for each sample ``n`` (norms over all other dimensions).

    ``new``, ``old``: the same shape ``(N, …)``; returns ``(N,)``. Raises if some ``old_n`` is
    all zeros (its relative change is undefined).
    """
    for name, t in (("new", new), ("old", old)):
        check_float_tensor(name, t)
    if new.shape != old.shape or new.dim() < 1:
        raise ValueError(f"new and old must have the same shape (N, …), got {tuple(new.shape)} "
                         f"and {tuple(old.shape)}")
    scale = old.flatten(1).norm(dim=1) if old.dim() > 1 else old.abs()
    if (scale == 0).any():
        bad = int(torch.nonzero(scale == 0)[0])
        raise ValueError(f"old[{bad}] is all zeros: its relative change is undefined")
    diff = (new - old).flatten(1).norm(dim=1) if new.dim() > 1 else (new - old).abs()
    return diff / scale


Shift = int | tuple[int, ...]


def shift_sensitivity(features_fn: Callable[[torch.Tensor], torch.Tensor],
                      images: torch.Tensor, shifts: Sequence[Shift], *,
                      out_shifts: Sequence[Shift | Sequence[Shift] | None] | None = None,
                      mode: str = "zeros") -> torch.Tensor:
    """Mean relative change of ``features_fn``'s output when ``images`` are translated.

    For each shift ``δ`` of ``shifts`` (an int moves the last dimension, a tuple ``(dy, dx)``
    moves rows and columns, as in :func:`cnnlib.equivariance.translate` with ``mode``):

        s(δ) = mean_n ‖φ(T_δ x_n) − T'_{δ'} φ(x_n)‖ / ‖φ(x_n)‖.

    ``out_shifts`` (default: all ``None``) has one entry per shift: ``None`` compares with
    ``φ(x_n)`` itself (invariance); a shift ``δ'`` compares with ``φ(x_n)`` translated by
    ``δ'`` (equivariance; ``φ``'s output must then be spatial, ``(N, C, H', W')``, and is
    translated with the same ``mode``; a fractional ``δ'`` such as ``(0, 0.5)`` needs
    ``mode="circular"`` and uses :func:`fractional_shift`); a list of shifts takes, for each
    image, the one that fits best (the smallest change) — e.g. ``[(0, 0), (0, 1)]`` for a
    1-pixel shift after a stride of 2, which has no whole-sample counterpart.

    Args:
        features_fn: ``φ``, taking ``(N, C, H, W)`` to ``(N, …)``.
        images: ``(N, C, H, W)``; no image may have ``φ(x_n) = 0``.
        shifts: the translations ``δ`` to measure.
        mode: ``"zeros"`` (content shifted out is lost) or ``"circular"``.

    Returns:
        a float tensor ``(len(shifts),)`` on ``images``' device.
    """
    check_choice("mode", mode, TRANSLATE_MODES)
    shifts = _check_measure(features_fn, images, "shifts", shifts, "shift")
    if out_shifts is None:
        out_shifts = [None] * len(shifts)
    out_shifts = list(out_shifts)
    if len(out_shifts) != len(shifts):
        raise ValueError(f"out_shifts must have one entry per shift: {len(out_shifts)} for "
                         f"{len(shifts)} shifts")
    reference = features_fn(images)
    values = []
    for shift, target in zip(shifts, out_shifts, strict=True):
        moved = features_fn(translate(images, shift, mode=mode))
        candidates = [target] if target is None or _is_shift(target) else list(target)
        if not candidates:
            raise ValueError("each entry of out_shifts must be None, a shift or a non-empty "
                             "list of shifts, got an empty list")
        # ‖φ(T x) − T′φ(x)‖ / ‖φ(x)‖, written as the relative change of φ(T x) − T′φ(x) + φ(x)
        # from φ(x): divided by ‖φ(x)‖, not by ‖T′φ(x)‖, which is smaller when a fractional
        # T′ drops what it cannot move (the highest frequency of a real output)
        changes = torch.stack([
            relative_change(moved if c is None else
                            moved - _translate_output(reference, c, mode) + reference,
                            reference)
            for c in candidates
        ])
        values.append(changes.min(dim=0).values.mean())
    return torch.stack(values)


def deformation_sensitivity(features_fn: Callable[[torch.Tensor], torch.Tensor],
                            images: torch.Tensor, displacements: Sequence[torch.Tensor], *,
                            mode: str = "bilinear", padding_mode: str = "zeros") -> torch.Tensor:
    """Mean relative change of ``features_fn``'s output when ``images`` are deformed.

    For each displacement field ``τ`` of ``displacements``:

        s(τ) = mean_n ‖φ(L_τ x_n) − φ(x_n)‖ / ‖φ(x_n)‖,   (L_τ x)(p) = x(p − τ(p)),

    with ``L_τ`` computed by :func:`cnnlib.equivariance.deform` (``mode``: ``"bilinear"`` or
    ``"bicubic"`` interpolation; ``padding_mode``: what is read outside the image, ``"zeros"``
    by default so that content moved out is lost and zeros come in, as in
    :func:`shift_sensitivity`).

    Args:
        features_fn: ``φ``, taking ``(N, C, H, W)`` to ``(N, …)``.
        images: ``(N, C, H, W)``; no image may have ``φ(x_n) = 0``.
        displacements: fields ``(2, H, W)`` (the same warp for every image) or
            ``(N, 2, H, W)`` (one warp per image), in pixels.

    Returns:
        a float tensor ``(len(displacements),)`` on ``images``' device.
    """
    check_choice("mode", mode, DEFORM_MODES)
    displacements = _check_measure(features_fn, images, "displacements", displacements,
                                   "field")
    reference = features_fn(images)
    values = []
    for i, tau in enumerate(displacements):
        check_float_tensor(f"displacements[{i}]", tau)
        moved = deform(images, tau.to(images.device), padding_mode=padding_mode, mode=mode)
        values.append(relative_change(features_fn(moved), reference).mean())
    return torch.stack(values)


# ------------------------------------------------------------------------------- helpers
def _check_measure(features_fn, images, name: str, items, item: str) -> list:
    """The checks both sensitivity measures share; returns ``items`` as a non-empty list."""
    check_callable("features_fn", features_fn)
    check_float_tensor("images", images)
    check_ndim("images", images, (4,), "(N, C, H, W)")
    items = list(items)
    if not items:
        raise ValueError(f"{name} must hold at least one {item}, got an empty sequence")
    return items


def _pair(name: str, value) -> tuple[int, int]:
    if _is_int(value):
        return (check_positive_int(name, value),) * 2
    if (isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2
            and all(_is_int(v) for v in value)):
        return check_positive_int(name, value[0]), check_positive_int(name, value[1])
    raise TypeError(f"{name} must be a positive int or a pair of positive ints, got {value!r}")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_shift(value) -> bool:
    return _is_number(value) or (isinstance(value, tuple) and len(value) > 0
                                 and all(_is_number(v) for v in value))


def _complex(dtype: torch.dtype) -> torch.dtype:
    return torch.complex128 if dtype == torch.float64 else torch.complex64


def _translate_output(features: torch.Tensor, shift, mode: str) -> torch.Tensor:
    if features.dim() < 3:
        raise ValueError(
            f"out_shifts translate features_fn's output, which must be spatial (N, C, H', W'); "
            f"got shape {tuple(features.shape)}"
        )
    steps = shift if isinstance(shift, tuple) else (shift,)
    if all(float(v).is_integer() for v in steps):
        return translate(features, tuple(int(v) for v in steps), mode=mode)
    if mode != "circular":
        raise ValueError(f"a fractional out_shift ({shift!r}) needs mode='circular' (it is a "
                         f"shift through the DFT), got mode={mode!r}")
    return fractional_shift(features, shift)
