"""Receptive fields measured with autograd: the inputs one output unit depends on.

:func:`empirical_receptive_field` gives a positive-weight copy of a network an all-ones
input and differentiates one output unit: every input it depends on gets a non-zero
gradient. On stacks of convolutions and pooling layers the measured span equals the formula
of :func:`cnnlib.receptive_field.receptive_field`, which re-exports everything here.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ._validate import check_module, check_non_negative_int, check_non_negative_tuple, check_shape

__all__ = ["EmpiricalReceptiveField", "empirical_receptive_field"]

Size = int | tuple[int, ...]


@dataclass(frozen=True)
class EmpiricalReceptiveField:
    """What :func:`empirical_receptive_field` measured (numbers in 1-D, tuples in n-D)."""

    size: Size                #: last − first + 1 of the inputs with non-zero gradient
    first: Size               #: first input index with non-zero gradient
    last: Size                #: last input index with non-zero gradient
    output_index: Size        #: the output unit that was differentiated
    touches_border: bool      #: the region reaches the input's edge: size may be cut short
    gradient: torch.Tensor    #: ``|∂y/∂x|`` summed over channels, shape = the spatial input


class _WindowMean(nn.Module):
    """Average over a max-pooling window: same geometry, but every input gets gradient."""

    def __init__(self, pool: nn.Module, dims: int):
        super().__init__()
        self.dims = dims

        def as_t(v):
            return (v,) * dims if isinstance(v, int) else tuple(v)

        self.kernel_size = as_t(pool.kernel_size)
        self.stride = as_t(pool.stride if pool.stride is not None else pool.kernel_size)
        self.padding = as_t(getattr(pool, "padding", 0))
        self.dilation = as_t(getattr(pool, "dilation", 1))

    def forward(self, x):
        conv = (F.conv1d, F.conv2d, F.conv3d)[self.dims - 1]
        channels = x.shape[1]
        weight = x.new_ones(channels, 1, *self.kernel_size) / x.new_ones(self.kernel_size).sum()
        return conv(x, weight, None, self.stride, self.padding, self.dilation, channels)


_MAX_POOL_DIMS = {nn.MaxPool1d: 1, nn.MaxPool2d: 2, nn.MaxPool3d: 3}
_ADAPTIVE_MAX_TO_AVG = {nn.AdaptiveMaxPool1d: nn.AdaptiveAvgPool1d,
                        nn.AdaptiveMaxPool2d: nn.AdaptiveAvgPool2d,
                        nn.AdaptiveMaxPool3d: nn.AdaptiveAvgPool3d}


def _positive_copy(module: nn.Module) -> nn.Module:
    """A float64 eval-mode copy with weights 1/fan-in, biases 0 and max → mean pooling."""
    net = copy.deepcopy(module).double().eval()
    for name, m in list(net.named_modules()):
        dims = next((d for cls, d in _MAX_POOL_DIMS.items() if isinstance(m, cls)), None)
        if dims is not None:
            replacement = _WindowMean(m, dims)
        elif isinstance(m, tuple(_ADAPTIVE_MAX_TO_AVG)):
            cls = next(a for mx, a in _ADAPTIVE_MAX_TO_AVG.items() if isinstance(m, mx))
            replacement = cls(m.output_size)
        else:
            replacement = None
        if replacement is not None:
            if name == "":
                net = replacement
            else:
                parent, _, child = name.rpartition(".")
                setattr(net.get_submodule(parent) if parent else net, child, replacement)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
                m.reset_running_stats()
            weight = getattr(m, "weight", None)
            if isinstance(weight, torch.Tensor) and weight.dim() >= 1:
                fan_in = weight[0].numel() if weight.dim() > 1 else 1
                weight.fill_(1.0 / fan_in)
            bias = getattr(m, "bias", None)
            if isinstance(bias, torch.Tensor):
                bias.zero_()
    return net


def empirical_receptive_field(module: nn.Module, input_shape: Sequence[int], *,
                              output_index: Sequence[int] | int | None = None,
                              channel: int = 0) -> EmpiricalReceptiveField:
    """Measure the receptive field of one output unit with autograd.

    A copy of ``module`` gets all-positive weights (``1/fan-in``, so activations stay near
    1 however deep the stack), zero biases, float64, eval mode, and its max-pooling layers
    become window means with the same kernel, stride, padding and dilation (max pooling
    sends the gradient to one winner per window only, which would hide the others). Then
    ``∂ y[0, channel, output_index] / ∂ x`` is computed for an all-ones input ``x``: every
    input the output depends on gets a non-zero (positive) gradient, every other input 0.
    (``ceil_mode`` of a max-pooling layer is dropped in the copy: it only adds outputs at
    the far end and does not change any receptive field.)

    The measured ``size`` — last − first + 1 of the non-zero positions, per dimension —
    equals the ``size`` of :func:`cnnlib.receptive_field.receptive_field` when the region
    lies inside the input (``touches_border`` is False). Dilation and strides larger than
    the kernel leave holes inside the region: it is the span that matches, not the count.

    Args:
        module: a network taking ``(N, C, *spatial)`` to ``(N, C', *spatial')``, e.g. the
            convolutional part of a CNN. It is not changed.
        input_shape: ``(N, C, L)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
        output_index: the output unit's spatial index; default the centre ``o // 2`` of
            each output dimension.
        channel: which output channel (default 0).

    Returns:
        an :class:`EmpiricalReceptiveField`.
    """
    check_module("module", module)
    shape = _check_input_shape(input_shape)
    dims = len(shape) - 2
    check_non_negative_int("channel", channel, type_error=ValueError)
    x = torch.ones(shape, dtype=torch.float64, requires_grad=True)
    y = _forward(_positive_copy(module), x)
    index = _output_unit(y, channel, output_index)
    gradient = _input_gradient(x, y, channel, index)
    first, last = _extent(gradient > 0)
    touches = any(f == 0 or la == n - 1
                  for f, la, n in zip(first, last, shape[2:], strict=True))

    def out(values):
        return values[0] if dims == 1 else tuple(values)

    return EmpiricalReceptiveField(
        size=out([la - f + 1 for f, la in zip(first, last, strict=True)]),
        first=out(first), last=out(last), output_index=out(list(index)),
        touches_border=touches, gradient=gradient.detach().float(),
    )


# --- the steps -----------------------------------------------------------------------------

def _check_input_shape(input_shape) -> tuple[int, ...]:
    """``(N, C, *spatial)`` with 1 to 3 spatial dimensions, as a tuple of positive ints."""
    shape = check_shape("input_shape", input_shape, "(N, C, *spatial), e.g. (1, 3, 64, 64)",
                        type_error=ValueError)
    if len(shape) not in (3, 4, 5):
        raise ValueError(
            "input_shape must have 1 to 3 spatial dimensions after (N, C), got "
            f"{len(shape)} dimensions: {shape}"
        )
    return shape


def _forward(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``net(x)``, which must keep the number of spatial dimensions of ``x``."""
    y = net(x)
    if not isinstance(y, torch.Tensor) or y.dim() != x.dim():
        got = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(
            f"module must keep {x.dim() - 2} spatial dimension(s): input {tuple(x.shape)} "
            f"gave output {got}; pass the convolutional part only, e.g. model.features"
        )
    return y


def _output_unit(y: torch.Tensor, channel: int, output_index) -> tuple[int, ...]:
    """The spatial index of the differentiated unit: ``output_index`` checked, or the centre."""
    if channel >= y.shape[1]:
        raise ValueError(f"channel must be below the output's {y.shape[1]} channels, "
                         f"got {channel}")
    out_spatial = tuple(y.shape[2:])
    if output_index is None:
        return tuple(o // 2 for o in out_spatial)
    index = check_non_negative_tuple("output_index", output_index, len(out_spatial))
    if any(i >= o for i, o in zip(index, out_spatial, strict=True)):
        raise ValueError(
            f"output_index must lie inside the output's spatial shape {out_spatial}, "
            f"got {output_index!r}"
        )
    return index


def _input_gradient(x, y, channel: int, index) -> torch.Tensor:
    """``|∂ y[0, channel, index] / ∂ x[0]|`` summed over the input channels (spatial shape)."""
    (grad,) = torch.autograd.grad(y[(0, channel, *index)], x)
    gradient = grad[0].abs().sum(dim=0)
    if not (gradient > 0).any():
        raise ValueError(f"output {index} of channel {channel} does not depend on the input")
    return gradient


def _extent(mask: torch.Tensor) -> tuple[list[int], list[int]]:
    """First and last ``True`` position of ``mask`` along each dimension."""
    first, last = [], []
    for a in range(mask.dim()):
        others = tuple(b for b in range(mask.dim()) if b != a)
        hit = mask.any(dim=others) if others else mask
        positions = torch.nonzero(hit).flatten()
        first.append(int(positions[0]))
        last.append(int(positions[-1]))
    return first, last
