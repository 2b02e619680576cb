"""Transposed convolution, written as the adjoint (transpose) of convolution.

A convolution with a fixed weight is a linear map ``y = C x``: every output element is a
weighted sum of input elements, so the convolution is multiplication by a (large, sparse)
matrix ``C``. The *transposed convolution* is multiplication by ``Cᵀ``. Where ``C`` gathers —
each output element reads a window of the input —, ``Cᵀ`` scatters: each input element
*writes* a copy of the kernel, scaled by its value, into the output. That is how this module
computes it (the "scatter" formulation), one kernel tap at a time:

    for every tap (i, j) of the kernel:
        canvas[..., i·d + s·h, j·d + s·w] += Σ_c x[c, h, w] · weight[c, :, i, j]   (all h, w)
    output = canvas cropped by ``padding`` on every side (+ bias)

Why this is ``Cᵀ``: in the convolution with stride ``s``, padding ``p`` and dilation ``d``, tap
``(i, j)`` links the output position ``(h, w)`` to the padded-input position
``(s·h + i·d, s·w + j·d)`` with the weight ``weight[c_out, c_in, i, j]``; that entry of ``C``
sits in row ``(c_out, h, w)`` and column ``(c_in, s·h + i·d − p, s·w + j·d − p)``. Transposing
swaps rows and columns, so in ``Cᵀ`` the same weight carries position ``(h, w)`` of the
transposed convolution's input to position ``(s·h + i·d, s·w + j·d)`` of the padded canvas —
exactly the loop above. The convolution's zero padding becomes a crop: the canvas rows that
belonged to the padding are dropped. Hence ``⟨conv(x), y⟩ = ⟨x, conv_transpose(y)⟩`` for the
same weight, stride, padding, dilation and groups (``tests/test_transposed.py`` checks it).
The convolution's own weight tensor is used unchanged, which is why its first axis (the
convolution's ``C_out``) is the transposed convolution's ``C_in``.

Output size along each dimension (``padding`` p per side, as in PyTorch):

    o = (n − 1)s − 2p + d(k − 1) + output_padding + 1

A strided convolution maps several input sizes to the same ``n`` (the division is floored);
``output_padding`` (smaller than the stride or the dilation) picks which one to return to. It
adds rows/columns at the bottom/right end of the output only.

Semantics, argument order and weight layout are those of ``torch.nn.functional``:
``weight: (C_in, C_out/groups, k…)`` — note the order, the transpose of a convolution's
``(C_out, C_in/groups, k…)``.
"""

from __future__ import annotations

import torch

from ._validate import (
    check_float_tensor,
    check_ndim,
    check_non_negative_tuple,
    check_positive_int,
    check_positive_tuple,
    check_same_device,
    check_same_dtype,
)
from .arithmetic import conv_transpose_output_size

__all__ = ["conv_transpose1d", "conv_transpose2d"]


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """1D transposed convolution, the adjoint of :func:`torch.nn.functional.conv1d`.

    Shapes:
        - ``input``: ``(N, C_in, L)`` or unbatched ``(C_in, L)``
        - ``weight``: ``(C_in, C_out/groups, k)``
        - ``bias``: ``(C_out,)`` or ``None``
        - output: ``(N, C_out, L_out)`` (or ``(C_out, L_out)``), with
          ``L_out = (L − 1)s − 2p + d(k − 1) + output_padding + 1``.

    ``stride``, ``padding``, ``output_padding`` and ``dilation`` are ints or 1-tuples;
    ``output_padding`` must be smaller than the stride or the dilation. Computed as
    :func:`conv_transpose2d` on a height-1 image (see the module docstring for why the scatter
    is the transpose of the convolution matrix). Autograd flows to input, weight and bias.

    >>> import torch
    >>> conv_transpose1d(torch.tensor([[[1., 2., 3.]]]), torch.tensor([[[1., -1.]]]), stride=2)
    tensor([[[ 1., -1.,  2., -2.,  3., -3.]]])
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, dims=1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """2D transposed convolution, the adjoint of :func:`torch.nn.functional.conv2d`.

    Shapes:
        - ``input``: ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``
        - ``weight``: ``(C_in, C_out/groups, kH, kW)``
        - ``bias``: ``(C_out,)`` or ``None``
        - output: ``(N, C_out, H_out, W_out)`` (or ``(C_out, H_out, W_out)``), with
          ``H_out = (H − 1)s₀ − 2p₀ + d₀(kH − 1) + output_padding₀ + 1`` and likewise
          ``W_out`` with the second entries.

    ``stride``, ``padding``, ``output_padding`` and ``dilation`` are ints or 2-tuples
    ``(height, width)``. With ``groups = g`` the channels split into ``g`` independent groups:
    input channels ``[c·C_in/g, (c+1)·C_in/g)`` feed output channels
    ``[c·C_out/g, (c+1)·C_out/g)``. Computed by scattering each kernel tap into a strided slice
    of the full output and cropping the padding (module docstring). Autograd flows to input,
    weight and bias.
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, dims=2)


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                    dims):
    """Validate the arguments for ``dims`` spatial dimensions, then run the 2D scatter."""
    layout = "(N, C_in, L) or (C_in, L)" if dims == 1 else "(N, C_in, H, W) or (C_in, H, W)"
    wlayout = "(C_in, C_out/groups, k)" if dims == 1 else "(C_in, C_out/groups, kH, kW)"
    check_float_tensor("input", input)
    check_float_tensor("weight", weight)
    if bias is not None:
        check_float_tensor("bias", bias)
    check_ndim("input", input, (dims + 1, dims + 2), layout)
    check_ndim("weight", weight, (dims + 2,), wlayout)
    check_same_device(input=input, weight=weight, bias=bias)
    check_same_dtype("input", input, weight=weight, bias=bias)
    groups = check_positive_int("groups", groups)
    stride = check_positive_tuple("stride", stride, dims)
    dilation = check_positive_tuple("dilation", dilation, dims)
    padding = check_non_negative_tuple("padding", padding, dims)
    output_padding = check_non_negative_tuple("output_padding", output_padding, dims)

    unbatched = input.dim() == dims + 1
    x = input.unsqueeze(0) if unbatched else input
    c_in = x.shape[1]
    if c_in % groups != 0:
        raise ValueError(
            f"groups must divide the number of input channels, got groups={groups} for "
            f"C_in={c_in}"
        )
    if weight.shape[0] != c_in:
        raise ValueError(
            f"weight must have shape {wlayout} with C_in = {c_in} (the input's channels), "
            f"got weight of shape {tuple(weight.shape)}"
        )
    c_out = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise ValueError(
            f"bias must have shape (C_out,) = ({c_out},), got {tuple(bias.shape)}"
        )
    if any(n < 1 for n in x.shape[2:]):
        raise ValueError(f"input must have a non-empty spatial size, got shape "
                         f"{tuple(input.shape)}")
    for n, k, s, p, op, d in zip(x.shape[2:], weight.shape[2:], stride, padding,
                                 output_padding, dilation, strict=True):
        conv_transpose_output_size(n, k, s, p, op, d)  # raises on an impossible size

    if dims == 1:  # a 1D signal is a height-1 image
        x, weight = x.unsqueeze(2), weight.unsqueeze(2)
        stride, padding, output_padding, dilation = ((1, *stride), (0, *padding),
                                                     (0, *output_padding), (1, *dilation))
    out = _scatter_transpose2d(x, weight, bias, stride, padding, output_padding, groups,
                               dilation)
    if dims == 1:
        out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def _scatter_transpose2d(x, weight, bias, stride, padding, output_padding, groups, dilation):
    """Core of the transposed convolution on validated 4-D tensors (no checks).

    ``x: (N, C_in, H, W)``, ``weight: (C_in, C_out/g, kH, kW)``. Each tap's contribution
    ``Σ_c x[n, c] · weight[c, :, i, j]`` (per group) is added into the strided slice of the
    full canvas that this tap reaches; then the padding is cropped.
    """
    n, c_in, h, w = x.shape
    _, c_out_g, kh, kw = weight.shape
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, output_padding, dilation
    c_in_g = c_in // groups
    # full (uncropped) canvas: every position any tap reaches, plus output_padding
    full_h = (h - 1) * sh + dh * (kh - 1) + 1 + oph
    full_w = (w - 1) * sw + dw * (kw - 1) + 1 + opw
    xg = x.reshape(n, groups, c_in_g, h, w)
    wg = weight.reshape(groups, c_in_g, c_out_g, kh, kw)
    canvas = x.new_zeros(n, groups, c_out_g, full_h, full_w)
    for i in range(kh):
        for j in range(kw):
            # (N, g, C_in/g, H, W) × (g, C_in/g, C_out/g) -> (N, g, C_out/g, H, W)
            contribution = torch.einsum("ngchw,gco->ngohw", xg, wg[:, :, :, i, j])
            rows = slice(i * dh, i * dh + (h - 1) * sh + 1, sh)
            cols = slice(j * dw, j * dw + (w - 1) * sw + 1, sw)
            canvas[:, :, :, rows, cols] += contribution
    out = canvas.reshape(n, groups * c_out_g, full_h, full_w)
    out = out[:, :, ph:full_h - ph, pw:full_w - pw]  # the convolution's padding, cropped
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out
