"""Backpropagation through a convolution, written with convolutions (no autograd).

With the weight fixed, a convolution is a matrix product ``y = C x + b`` (chapter 3). For a
loss ``L`` of the output, the chain rule gives the three gradients a layer needs:

    ∂L/∂x = Cᵀ ∂L/∂y                       the transposed convolution of ∂L/∂y
    ∂L/∂w[o, c, u, v] = Σ_{n,i,j} ∂L/∂y[n, o, i, j] · x_p[n, c′, s·i + d·u, s·j + d·v]
    ∂L/∂b[o] = Σ_{n,i,j} ∂L/∂y[n, o, i, j]

where ``x_p`` is the zero-padded input (``x_p[.., a, b] = x[.., a − p, b − p]``), ``c′`` the
input channel ``c`` of the group of filter ``o``, and ``s``, ``p``, ``d`` stride, padding and
dilation (per dimension). Read as operations:

- ``∂L/∂x`` is ``conv_transpose2d(∂L/∂y, weight)`` with the convolution's own weight, stride,
  padding, dilation and groups. Drawn as a direct convolution, it is the correlation of
  ``∂L/∂y`` — with ``s − 1`` zeros inserted between its entries and ``d(k − 1) − p`` zeros
  around them — with the kernel rotated by 180° (input and output channels swapped).
  ``output_padding`` is the remainder ``a = (n + p_before + p_after − d(k − 1) − 1) mod s``
  that the forward floor division threw away, so ``∂L/∂x`` has exactly the input's size.
- ``∂L/∂w`` is a correlation of the padded input with ``∂L/∂y`` used as the kernel: the
  forward stride becomes the dilation of that kernel, the forward dilation its stride, and
  the batch is the summed-over channel axis. It returns ``k + ⌊a/d⌋`` taps per dimension:
  the last ``⌊a/d⌋`` pair ``∂L/∂y`` with input rows the forward pass never read, and are
  cropped.
- ``∂L/∂b`` is the sum of ``∂L/∂y`` over the batch and every position.

Only :func:`cnnlib.conv.conv2d` (correlation), :func:`cnnlib.transposed.conv_transpose2d`
and :func:`cnnlib.padding.pad` compute; ``tests/test_backprop.py`` compares the results with
PyTorch's autograd. A 1D convolution is handled as a 2D one on an image of height 1.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ._validate import check_float_tensor, check_same_device, check_same_dtype
from .arithmetic import conv_output_size
from .conv import _check_conv_args, conv2d
from .padding import pad
from .transposed import conv_transpose2d

__all__ = ["ConvGradients", "conv1d_backward", "conv2d_backward"]


class ConvGradients(NamedTuple):
    """``(grad_input, grad_weight, grad_bias)``: ∂L/∂x, ∂L/∂w and ∂L/∂b of one convolution."""

    grad_input: torch.Tensor    #: the input's shape
    grad_weight: torch.Tensor   #: ``(C_out, C_in/groups, k…)``, the weight's shape
    grad_bias: torch.Tensor     #: ``(C_out,)``


def conv2d_backward(input: torch.Tensor, weight: torch.Tensor, grad_output: torch.Tensor,
                    stride=1, padding=0, dilation=1, groups: int = 1) -> ConvGradients:
    """The gradients of ``y = conv2d(x, w, b, stride, padding, dilation, groups)``.

    Shapes: ``input x: (N, C_in, H, W)`` or unbatched ``(C_in, H, W)``,
    ``weight w: (C_out, C_in/groups, kH, kW)``, ``grad_output ∂L/∂y``: the convolution's
    output shape ``(N, C_out, H_out, W_out)`` (or ``(C_out, H_out, W_out)``) →
    ``ConvGradients(grad_input, grad_weight, grad_bias)`` of shapes ``x.shape``, ``w.shape``
    and ``(C_out,)``, with (per dimension, padding ``(p_b, p_a)`` before/after)

        grad_input  = conv_transpose2d(∂L/∂y, w, stride=s, padding=p_b, dilation=d,
                                       groups=g, output_padding=a)   (+ crop if p_a > p_b)
        a           = (H + p_b + p_a − d(kH − 1) − 1) mod s
        grad_weight[o, c, u, v] = Σ_{n,i,j} ∂L/∂y[n, o, i, j] · x_p[n, c′, s·i + d·u, s·j + d·v]
        grad_bias[o] = Σ_{n,i,j} ∂L/∂y[n, o, i, j]

    (module docstring). ``stride``, ``padding``, ``dilation`` and ``groups`` accept what
    :func:`cnnlib.conv2d` accepts — ints, pairs, ``"valid"`` and ``"same"`` — and bad values
    raise the same errors. The bias does not enter any gradient, so it is not an argument.
    """
    stride, pads, dilation = _check_conv_args(input, weight, None, stride, padding, dilation,
                                              groups, "zeros", "im2col", spatial=2)
    _check_grad_output(input, weight, grad_output, stride, pads, dilation, spatial=2)
    batched = input.dim() == 4
    x, g = (input, grad_output) if batched else (input[None], grad_output[None])
    grads = _backward2d(x, weight, g, stride, pads, dilation, groups)
    return grads if batched else grads._replace(grad_input=grads.grad_input[0])


def conv1d_backward(input: torch.Tensor, weight: torch.Tensor, grad_output: torch.Tensor,
                    stride=1, padding=0, dilation=1, groups: int = 1) -> ConvGradients:
    """The gradients of ``y = conv1d(x, w, b, stride, padding, dilation, groups)``.

    Shapes: ``input: (N, C_in, L)`` or unbatched ``(C_in, L)``, ``weight: (C_out, C_in/groups,
    k)``, ``grad_output: (N, C_out, L_out)`` (or ``(C_out, L_out)``) → ``ConvGradients`` of
    shapes ``input.shape``, ``weight.shape``, ``(C_out,)``. The formulas of
    :func:`conv2d_backward` with one spatial dimension; computed as the 2D case on an image of
    height 1.
    """
    stride, pads, dilation = _check_conv_args(input, weight, None, stride, padding, dilation,
                                              groups, "zeros", "im2col", spatial=1)
    _check_grad_output(input, weight, grad_output, stride, pads, dilation, spatial=1)
    batched = input.dim() == 3
    x, g = (input, grad_output) if batched else (input[None], grad_output[None])
    grads = _backward2d(x[:, :, None], weight[:, :, None], g[:, :, None], (1, *stride),
                        ((0, 0), *pads), (1, *dilation), groups)
    grad_input = grads.grad_input[:, :, 0]
    return ConvGradients(grad_input if batched else grad_input[0], grads.grad_weight[:, :, 0],
                         grads.grad_bias)


def _check_grad_output(input, weight, grad_output, stride, pads, dilation, spatial: int):
    """``grad_output``: a float tensor of the convolution's output shape, dtype and device."""
    check_float_tensor("grad_output", grad_output)
    check_same_dtype("input", input, grad_output=grad_output)
    check_same_device(input=input, grad_output=grad_output)
    sizes = tuple(
        conv_output_size(n + before + after, k, stride=s, dilation=d)
        for n, (before, after), k, s, d in zip(input.shape[-spatial:], pads,
                                               weight.shape[2:], stride, dilation, strict=True)
    )
    expected = (*input.shape[:-spatial - 1], weight.shape[0], *sizes)
    if tuple(grad_output.shape) != expected:
        layout = "(N, C_out, L_out)" if spatial == 1 else "(N, C_out, H_out, W_out)"
        raise ValueError(
            f"grad_output must have the convolution's output shape {layout} = {expected}, "
            f"got {tuple(grad_output.shape)}"
        )


def _backward2d(x, weight, g, stride, pads, dilation, groups) -> ConvGradients:
    """The three gradients on validated batched tensors ``x: (N, C_in, H, W)``,
    ``g: (N, C_out, H_out, W_out)``; ``pads`` holds ``(before, after)`` per dimension."""
    n, _, *sizes = x.shape
    _, c_group, *kernel = weight.shape
    # the remainder of the forward floor division, per dimension
    remainder = tuple((size + before + after - d * (k - 1) - 1) % s for size, (before, after),
                      k, s, d in zip(sizes, pads, kernel, stride, dilation, strict=True))

    # ∂L/∂x = Cᵀ ∂L/∂y: padding p_b is cropped on both sides; "same" padding with an odd
    # total d(k − 1) pads one more at the end (p_a = p_b + 1): that extra row is cropped here
    grad_input = conv_transpose2d(g, weight, stride=stride, padding=tuple(b for b, _ in pads),
                                  output_padding=remainder, groups=groups, dilation=dilation)
    grad_input = grad_input[:, :, :sizes[0], :sizes[1]]

    # ∂L/∂w: correlate x_p (batch → channels, per group) with ∂L/∂y (batch → channels)
    x_p = pad(x, pads)                                        # (N, C_in, H_p, W_p)
    x_t = (x_p.reshape(n, groups, c_group, *x_p.shape[2:])
           .permute(2, 1, 0, 3, 4).reshape(c_group, groups * n, *x_p.shape[2:]))
    grad_weight = conv2d(x_t, g.transpose(0, 1), stride=dilation, dilation=stride,
                         groups=groups)                       # (C_in/g, C_out, k + ⌊a/d⌋, …)
    grad_weight = grad_weight.transpose(0, 1)[:, :, :kernel[0], :kernel[1]].contiguous()

    grad_bias = g.sum(dim=(0, 2, 3))
    return ConvGradients(grad_input, grad_weight, grad_bias)
