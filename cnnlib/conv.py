"""``conv1d`` and ``conv2d``: one convolution, four ways to compute it.

Same arguments, shapes and results as ``torch.nn.functional.conv1d/conv2d`` (cross-correlation,
weight ``(C_out, C_in/groups, k…)``), plus ``padding_mode`` as in ``torch.nn.Conv2d`` and a
``method`` that picks the algorithm:

=============  ===================================================  ============================
``method``     how                                                  module
=============  ===================================================  ============================
``"loop"``     the definition: loops over outputs and kernel taps   :mod:`cnnlib.loop_conv`
``"toeplitz"`` the filter as a (doubly block) Toeplitz matrix       :mod:`cnnlib.toeplitz`
``"im2col"``   the data as a patch matrix, one GEMM (default)       :mod:`cnnlib.im2col`
``"fft"``      the convolution theorem (pointwise product)          :mod:`cnnlib.fft_conv`
=============  ===================================================  ============================

A 1D convolution is computed as a 2D one on an image of height 1, so every method is written
once. This module checks the arguments, applies ``padding_mode`` and hands the rest to the chosen
method.
"""

from __future__ import annotations

import torch

from ._validate import (
    check_choice,
    check_float_tensor,
    check_kernel_fits,
    check_ndim,
    check_positive_int,
    check_positive_tuple,
    check_same_device,
    check_same_dtype,
)
from .fft_conv import _conv2d_fft
from .im2col import _conv2d_im2col
from .loop_conv import _conv2d_loop
from .padding import check_padding_mode, pad, resolve_padding
from .toeplitz import _conv2d_toeplitz

__all__ = ["METHODS", "conv1d", "conv2d"]

_KERNELS = {
    "loop": _conv2d_loop,
    "toeplitz": _conv2d_toeplitz,
    "im2col": _conv2d_im2col,
    "fft": _conv2d_fft,
}
METHODS = tuple(_KERNELS)

_LAYOUT = {
    1: ("(N, C_in, L) or unbatched (C_in, L)", "(C_out, C_in/groups, k)"),
    2: ("(N, C_in, H, W) or unbatched (C_in, H, W)", "(C_out, C_in/groups, kH, kW)"),
}


def conv1d(input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
           stride=1, padding=0, dilation=1, groups: int = 1, padding_mode: str = "zeros",
           method: str = "im2col") -> torch.Tensor:
    """1D convolution (cross-correlation), equal to ``torch.nn.functional.conv1d``.

    Shapes: ``input: (N, C_in, L)`` or unbatched ``(C_in, L)``,
    ``weight: (C_out, C_in/groups, k)``, ``bias: (C_out,)`` →
    ``(N, C_out, L_out)`` (or ``(C_out, L_out)``) with

        L_out = ⌊(L + 2p − d(k − 1) − 1)/s⌋ + 1
        y[n, o, t] = b[o] + Σ_c Σ_j w[o, c, j] · x[n, c, t·s + j·d − p]

    ``padding``: an int (per side), a 1-tuple, ``"valid"`` (0) or ``"same"`` (output as long as
    the input; stride 1 only; an odd total ``d(k − 1)`` puts the extra sample on the right).
    ``padding_mode``: ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"`` (as
    ``torch.nn.Conv1d``). ``method``: ``"loop"``, ``"toeplitz"``, ``"im2col"`` or ``"fft"``.
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, padding_mode, method,
                 spatial=1)


def conv2d(input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
           stride=1, padding=0, dilation=1, groups: int = 1, padding_mode: str = "zeros",
           method: str = "im2col") -> torch.Tensor:
    """2D convolution (cross-correlation), equal to ``torch.nn.functional.conv2d``.

    Shapes: ``input: (N, C_in, H, W)`` or unbatched ``(C_in, H, W)``,
    ``weight: (C_out, C_in/groups, kH, kW)``, ``bias: (C_out,)`` →
    ``(N, C_out, H_out, W_out)`` (or ``(C_out, H_out, W_out)``) with

        H_out = ⌊(H + 2p_h − d_h(kH − 1) − 1)/s_h⌋ + 1      (likewise W_out)
        y[n, o, a, b] = b[o] + Σ_c Σ_i Σ_j w[o, c, i, j] · x[n, c, a·s_h + i·d_h − p_h,
                                                                   b·s_w + j·d_w − p_w]

    where ``c`` runs over the input channels of the group of filter ``o``. ``stride``,
    ``dilation`` and ``padding`` are ints or pairs; ``padding`` may also be ``"valid"`` or
    ``"same"`` (stride 1 only; an odd total ``d(k − 1)`` puts the extra row/column at the
    bottom/right, as PyTorch does). ``padding_mode``: ``"zeros"``, ``"reflect"``,
    ``"replicate"`` or ``"circular"`` (as ``torch.nn.Conv2d``: pad with that rule, then
    convolve without padding). ``method``: ``"loop"``, ``"toeplitz"``, ``"im2col"`` (default,
    fastest on a CPU) or ``"fft"`` (fastest for large kernels).
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, padding_mode, method,
                 spatial=2)


def _conv(input, weight, bias, stride, padding, dilation, groups, padding_mode, method,
          spatial: int) -> torch.Tensor:
    stride, pads, dilation = _check_conv_args(input, weight, bias, stride, padding, dilation,
                                              groups, padding_mode, method, spatial)
    batched = input.dim() == spatial + 2
    x = input if batched else input.unsqueeze(0)
    if spatial == 1:  # a signal is an image of height 1
        x, weight = x.unsqueeze(-2), weight.unsqueeze(-2)
        stride, dilation, pads = (1, *stride), (1, *dilation), ((0, 0), *pads)
    if padding_mode != "zeros":  # pad with the rule first, then convolve without padding
        x, pads = pad(x, pads, padding_mode), ((0, 0), (0, 0))
    out = _KERNELS[method](x, weight, bias, stride, pads, dilation, groups)
    if spatial == 1:
        out = out.squeeze(-2)
    return out if batched else out.squeeze(0)


def _check_conv_args(input, weight, bias, stride, padding, dilation, groups, padding_mode,
                     method, spatial: int):
    """Check every argument; return ``stride``, padding pairs and ``dilation`` as tuples."""
    input_layout, weight_layout = _LAYOUT[spatial]
    check_float_tensor("input", input)
    check_float_tensor("weight", weight)
    if bias is not None:
        check_float_tensor("bias", bias)
    check_ndim("input", input, (spatial + 1, spatial + 2), input_layout)
    check_ndim("weight", weight, (spatial + 2,), weight_layout)
    check_same_dtype("input", input, weight=weight, bias=bias)
    check_same_device(input=input, weight=weight, bias=bias)
    check_choice("method", method, METHODS)
    check_padding_mode(padding_mode)
    stride = check_positive_tuple("stride", stride, spatial)
    dilation = check_positive_tuple("dilation", dilation, spatial)
    groups = check_positive_int("groups", groups)
    kernel = tuple(weight.shape[2:])
    pads = resolve_padding(padding, kernel, dilation, stride)

    c_in, c_out, c_group = input.shape[-spatial - 1], weight.shape[0], weight.shape[1]
    if c_out % groups:
        raise ValueError(
            f"groups must divide the output channels: weight.shape[0] = {c_out} is not "
            f"divisible by groups={groups}"
        )
    if c_in % groups:
        raise ValueError(
            f"groups must divide the input channels: input has {c_in} channels, not "
            f"divisible by groups={groups}"
        )
    if c_in != c_group * groups:
        raise ValueError(
            f"input channels must equal weight.shape[1] * groups = {c_group} * {groups} = "
            f"{c_group * groups}, got input with {c_in} channels (shape {tuple(input.shape)})"
        )
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise ValueError(
            f"bias must have shape (C_out,) = ({c_out},), one value per filter, got "
            f"{tuple(bias.shape)}"
        )
    names = ("L",) if spatial == 1 else ("H", "W")
    sizes = input.shape[-spatial:]
    for name, n, (before, after), k, d in zip(names, sizes, pads, kernel, dilation,
                                             strict=True):
        check_kernel_fits(n, k, d, before, after, dim=name)
        limit = {"reflect": n - 1, "circular": n}.get(padding_mode)
        if limit is not None and max(before, after) > limit:
            rule = "smaller than" if padding_mode == "reflect" else "at most"
            raise ValueError(
                f"padding must be {rule} the input size for padding_mode={padding_mode!r}, got "
                f"padding ({before}, {after}) for {name} = {n}"
            )
    return stride, pads, dilation
