"""Pooling: max, average and power-average (Lp) over sliding windows, as torch.nn.functional.

Pooling moves a window over every channel plane separately (no weights, no mixing of
channels) and replaces each window by one number: its maximum, its mean, or its Lp "norm"
``(Σ xᵖ)^(1/p)``. Shapes follow PyTorch: ``(N, C, L)`` / ``(C, L)`` in 1D and ``(N, C, H, W)``
/ ``(C, H, W)`` in 2D; the output has the same ``N`` and ``C``. Along each dimension
(padding ``p`` per side, ``stride`` defaults to ``kernel_size``):

    o = ⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1

and with ``ceil_mode=True`` the division rounds up, except that a window must start inside
the input or the left padding (see :func:`cnnlib.arithmetic.pool_output_size`). Padding may be
at most half the kernel size.

Every function here is computed the same way, one kernel tap ``(i, j)`` at a time: the tap's
value in every window is a strided slice of the padded input,
``x_pad[..., i·d + s·oh, j·d + s·ow]`` for all output positions ``(oh, ow)`` at once, and the
window's result is accumulated over the taps (a running maximum or a running sum). 1D pooling
is 2D pooling of a height-1 image.
"""

from __future__ import annotations

import math

import torch

from ._validate import (
    _is_int,
    check_bool,
    check_float_tensor,
    check_ndim,
    check_non_negative_tuple,
    check_positive_tuple,
)
from .arithmetic import pool_output_size

__all__ = [
    "avg_pool1d",
    "avg_pool2d",
    "global_avg_pool2d",
    "global_max_pool2d",
    "lp_pool1d",
    "lp_pool2d",
    "max_pool1d",
    "max_pool2d",
]


# --------------------------------------------------------------------------- max pooling
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1D max pooling, as :func:`torch.nn.functional.max_pool1d`.

    ``input: (N, C, L)`` or ``(C, L)`` → ``(N, C, L_out)`` or ``(C, L_out)`` with
    ``L_out = ⌊(L + 2p − d(k − 1) − 1)/s⌋ + 1`` (rounded up with ``ceil_mode``),
    ``y[n, c, t] = max_{0 ≤ i < k} x_pad[n, c, s·t + d·i]``, padding counting as −∞.

    With ``return_indices=True`` also returns the ``int64`` position of each maximum in its
    input row (``0 … L − 1``, padding excluded). Ties go to the first maximum of the window;
    a NaN in the window makes the result NaN (the last NaN's index) — PyTorch's rule.
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     dims=1)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2D max pooling, as :func:`torch.nn.functional.max_pool2d`.

    ``input: (N, C, H, W)`` or ``(C, H, W)`` → ``(N, C, H_out, W_out)`` (or unbatched) with
    ``H_out = ⌊(H + 2p₀ − d₀(kH − 1) − 1)/s₀⌋ + 1`` (rounded up with ``ceil_mode``), likewise
    ``W_out``, and ``y[n, c, h, w] = max_{i, j} x_pad[n, c, s₀h + d₀i, s₁w + d₁j]``, padding
    counting as −∞. ``kernel_size``, ``stride``, ``padding``, ``dilation`` are ints or pairs.

    With ``return_indices=True`` also returns, as ``int64``, the flat position ``row·W + col``
    of each maximum in its ``H × W`` input plane. The window is scanned row by row and a tap
    replaces the current best when it is larger or NaN, exactly as PyTorch's kernel does: ties
    go to the first maximum in that order, and a NaN wins (the last NaN of the window). A
    window lying wholly in the padding (only possible with dilation) gives −∞ and the index of
    its first tap at or after the top-left input corner, as PyTorch does; its gradient here is
    zero (PyTorch 2.14's backward writes it through that out-of-range index instead).
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     dims=2)


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, dims):
    check_bool("return_indices", return_indices)
    x, unbatched, kernel, stride, padding, dilation, out_size = _prepare(
        input, kernel_size, stride, padding, dilation, ceil_mode, dims)
    h, w = x.shape[-2:]
    rows0, cols0 = _window_starts(stride, padding, out_size, x.device)
    # PyTorch starts each window's index at its first tap inside the input (rows ≥ 0, cols ≥ 0)
    first_row = rows0 + _ceil_div((-rows0).clamp(min=0), dilation[0]) * dilation[0]
    first_col = cols0 + _ceil_div((-cols0).clamp(min=0), dilation[1]) * dilation[1]
    index = (first_row[:, None] * w + first_col[None, :]).expand(*x.shape[:-2], *out_size)
    best = x.new_full((*x.shape[:-2], *out_size), -math.inf)
    for vals, rows, cols in _taps(x, kernel, stride, padding, dilation, out_size, -math.inf):
        inside = _inside(rows, h)[:, None] & _inside(cols, w)[None, :]
        take = inside & ((vals > best) | vals.isnan())
        best = torch.where(take, vals, best)
        index = torch.where(take, rows[:, None] * w + cols[None, :], index)
    best, index = _finish(best, unbatched, dims), _finish(index, unbatched, dims)
    return (best, index) if return_indices else best


# ----------------------------------------------------------------------- average pooling
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1D average pooling, as :func:`torch.nn.functional.avg_pool1d`.

    ``input: (N, C, L)`` or ``(C, L)`` → ``(N, C, L_out)``, ``L_out`` as in
    :func:`max_pool1d` with ``d = 1``; ``y[n, c, t] = (1/D) Σ_{0 ≤ i < k} x_pad[n, c, s·t + i]``
    with zero padding. The divisor ``D`` is the number of window positions inside the padded
    input when ``count_include_pad`` (the default), else the number inside the input itself;
    positions past the padding (``ceil_mode``'s overhanging last window) never count.
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None,
                     dims=1)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2D average pooling, as :func:`torch.nn.functional.avg_pool2d`.

    ``input: (N, C, H, W)`` or ``(C, H, W)`` → ``(N, C, H_out, W_out)`` (sizes as in
    :func:`max_pool2d` with ``d = 1``);
    ``y[n, c, h, w] = (1/D) Σ_{i, j} x_pad[n, c, s₀h + i, s₁w + j]`` with zero padding.
    ``D`` is ``divisor_override`` when given (a non-zero int), else the window's area inside the
    padded input (``count_include_pad=True``) or inside the input alone (``False``); window
    positions past the padding, which ``ceil_mode`` can create, never count.
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, dims=2)


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, dims):
    check_bool("count_include_pad", count_include_pad)
    if divisor_override is not None:
        if not _is_int(divisor_override):
            raise TypeError(f"divisor_override must be a non-zero int or None, got "
                            f"{divisor_override!r}")
        if divisor_override == 0:
            raise ValueError("divisor_override must be a non-zero int or None, got 0")
    x, unbatched, kernel, stride, padding, dilation, out_size = _prepare(
        input, kernel_size, stride, padding, 1, ceil_mode, dims)
    total = x.new_zeros((*x.shape[:-2], *out_size))
    for vals, _, _ in _taps(x, kernel, stride, padding, dilation, out_size, 0.0):
        total = total + vals
    if divisor_override is not None:
        divisor = divisor_override
    else:
        rows0, cols0 = _window_starts(stride, padding, out_size, x.device)
        area_h = _window_extent(rows0, kernel[0], x.shape[-2], padding[0], count_include_pad)
        area_w = _window_extent(cols0, kernel[1], x.shape[-1], padding[1], count_include_pad)
        divisor = (area_h[:, None] * area_w[None, :]).to(x.dtype)
    return _finish(total / divisor, unbatched, dims)


def _window_extent(starts, k, n, p, count_include_pad):
    """Number of window positions that count towards the divisor, per window start."""
    ends = torch.clamp(starts + k, max=n + p)  # never past the padding
    if count_include_pad:
        return ends - starts
    return torch.clamp(ends, max=n) - torch.clamp(starts, min=0)


# -------------------------------------------------------------------------- Lp pooling
def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """1D power-average pooling, as :func:`torch.nn.functional.lp_pool1d`.

    ``input: (N, C, L)`` or ``(C, L)`` → ``(N, C, L_out)`` with no padding,
    ``y = (Σ_{window} xᵖ)^(1/p)`` for ``p = norm_type > 0``, and max pooling of ``|x|`` for
    ``p = ∞``. See :func:`lp_pool2d` for the exact rules (signs, ``ceil_mode``, gradient).
    """
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, dims=1)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2D power-average pooling, as :func:`torch.nn.functional.lp_pool2d`.

    ``input: (N, C, H, W)`` or ``(C, H, W)`` → ``(N, C, H_out, W_out)`` (no padding, sizes as
    in :func:`avg_pool2d`). For a finite ``p = norm_type > 0``, as PyTorch computes it:

        y = (K · avg_pool2d(xᵖ))^(1/p),    K = kH·kW,

    which is ``(Σ_{window} xᵖ)^(1/p)`` for every full window. The rules that follow:

    - ``xᵖ`` is a signed power, not ``|x|ᵖ``: for ``p = 1`` the result is the plain window
      sum (negative when the sum is), for even ``p`` it is the Euclidean-style norm, for other
      ``p`` a negative ``x`` (non-integer ``p``) or a negative sum (odd ``p``) gives NaN.
    - With ``ceil_mode``, an overhanging last window averages over its ``m < K`` positions
      inside the input and is then multiplied by ``K``: ``(K/m · Σ xᵖ)^(1/p)``.
    - The factor ``sign(a)·relu(|a|)`` that PyTorch applies to ``a = avg_pool2d(xᵖ)`` equals
      ``a`` but has zero gradient where ``a = 0``: a window whose sum is 0 gets gradient 0
      (not the NaN/∞ of ``0^(1/p)``'s derivative). We apply it too.

    ``p = ∞`` (``float('inf')``) is the limit ``p → ∞`` of ``(Σ |x|ᵖ)^(1/p)``, i.e.
    ``max_{window} |x|`` — max pooling of ``|x|`` (PyTorch special-cases ``inf`` the same way).
    ``norm_type`` must be positive: PyTorch also accepts negative powers (and ``−∞`` for a
    minimum of ``|x|``), which are not norms and which this course does not use.
    """
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, dims=2)


def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, dims):
    if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float)):
        raise TypeError(f"norm_type must be a positive number or float('inf'), got "
                        f"{norm_type!r}")
    if not norm_type > 0:  # also rejects NaN
        raise ValueError(f"norm_type must be a positive number or float('inf'), got "
                         f"{norm_type}")
    check_float_tensor("input", input)
    max_pool = max_pool1d if dims == 1 else max_pool2d
    avg_pool = avg_pool1d if dims == 1 else avg_pool2d
    if norm_type == math.inf:
        return max_pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if stride is None:
        stride = kernel_size
    a = avg_pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    window = math.prod(check_positive_tuple("kernel_size", kernel_size, dims))
    return (torch.sign(a) * torch.relu(torch.abs(a))).mul(window).pow(1.0 / norm_type)


# ---------------------------------------------------------------------- global pooling
def global_avg_pool2d(input):
    """Mean of each channel plane: ``(N, C, H, W) → (N, C)`` (or ``(C, H, W) → (C,)``).

    ``y[n, c] = (1/(H·W)) Σ_{h, w} x[n, c, h, w]`` — ``avg_pool2d`` with the window the size of
    the whole plane, flattened.
    """
    check_float_tensor("input", input)
    check_ndim("input", input, (3, 4), "(N, C, H, W) or (C, H, W)")
    return input.mean(dim=(-2, -1))


def global_max_pool2d(input):
    """Maximum of each channel plane: ``(N, C, H, W) → (N, C)`` (or ``(C, H, W) → (C,)``).

    ``y[n, c] = max_{h, w} x[n, c, h, w]``; the gradient goes to one maximal position, as with
    :func:`max_pool2d` over the whole plane.
    """
    check_float_tensor("input", input)
    check_ndim("input", input, (3, 4), "(N, C, H, W) or (C, H, W)")
    return input.flatten(-2).max(dim=-1).values


# ---------------------------------------------------------------------------- helpers

def _prepare(input, kernel_size, stride, padding, dilation, ceil_mode, dims):
    """Validate pooling arguments for ``dims`` spatial dimensions; return them in 2D form.

    Returns ``(x, unbatched, kernel, stride, padding, dilation, out_size)`` with ``x`` 4-D
    ``(N, C, H, W)`` (a 1D signal becomes a height-1 image) and every parameter a pair.
    """
    layout = "(N, C, L) or (C, L)" if dims == 1 else "(N, C, H, W) or (C, H, W)"
    check_float_tensor("input", input)
    check_ndim("input", input, (dims + 1, dims + 2), layout)
    check_bool("ceil_mode", ceil_mode)
    kernel = check_positive_tuple("kernel_size", kernel_size, dims)
    stride = kernel if stride is None else check_positive_tuple("stride", stride, dims)
    padding = check_non_negative_tuple("padding", padding, dims)
    dilation = check_positive_tuple("dilation", dilation, dims)
    if any(n < 1 for n in input.shape[-dims:]):
        raise ValueError(f"input must have a non-empty spatial size, got shape "
                         f"{tuple(input.shape)}")
    spatial = input.shape[-dims:]
    out_size = tuple(
        pool_output_size(n, k, s, p, d, ceil_mode)  # raises: padding > k/2, window too large
        for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation, strict=True)
    )
    unbatched = input.dim() == dims + 1
    x = input.unsqueeze(0) if unbatched else input
    if dims == 1:
        x = x.unsqueeze(-2)
        kernel, stride, padding, dilation = ((1, *kernel), (1, *stride), (0, *padding),
                                             (1, *dilation))
        out_size = (1, *out_size)
    return x, unbatched, kernel, stride, padding, dilation, out_size


def _finish(y, unbatched, dims):
    """Undo ``_prepare``'s reshaping: drop the unit height (1D) and batch (unbatched)."""
    if dims == 1:
        y = y.squeeze(-2)
    return y.squeeze(0) if unbatched else y


def _window_starts(stride, padding, out_size, device):
    """Input row and column where each window starts (negative inside the left padding)."""
    rows = torch.arange(out_size[0], device=device) * stride[0] - padding[0]
    cols = torch.arange(out_size[1], device=device) * stride[1] - padding[1]
    return rows, cols


def _taps(x, kernel, stride, padding, dilation, out_size, fill):
    """Yield, for each kernel tap ``(i, j)`` in row-major order, the tap's value in every window.

    Yields ``(vals, rows, cols)``: ``vals: (N, C, H_out, W_out)`` is the strided slice
    ``x_pad[..., i·d₀ + s₀·oh, j·d₁ + s₁·ow]`` of the input padded with ``fill``, and
    ``rows: (H_out,)``, ``cols: (W_out,)`` are the input coordinates the tap reads (outside
    ``[0, H)`` / ``[0, W)`` where it reads padding).
    """
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow) = (kernel, stride, padding, dilation,
                                                         out_size)
    h, w = x.shape[-2:]
    need_h = (oh - 1) * sh + dh * (kh - 1) + 1  # padded extent the windows reach
    need_w = (ow - 1) * sw + dw * (kw - 1) + 1
    padded = x.new_full((*x.shape[:-2], max(need_h, ph + h), max(need_w, pw + w)), fill)
    padded[..., ph:ph + h, pw:pw + w] = x
    rows0, cols0 = _window_starts(stride, padding, out_size, x.device)
    for i in range(kh):
        for j in range(kw):
            vals = padded[..., i * dh:i * dh + (oh - 1) * sh + 1:sh,
                          j * dw:j * dw + (ow - 1) * sw + 1:sw]
            yield vals, rows0 + i * dh, cols0 + j * dw


def _inside(idx, n):
    return (idx >= 0) & (idx < n)


def _ceil_div(a, b):
    return -(-a // b)
