"""Receptive fields of stacks of convolution and pooling layers: by formula, and measured.

For each layer ``l`` with kernel size ``k``, stride ``s``, padding ``p`` (per side) and dilation
``d`` — all per spatial dimension — three numbers describe how its outputs sit on the input:

- ``r`` (size): how many input pixels one output sees (the receptive field, from the first
  to the last input it depends on);
- ``j`` (jump): the distance, in input pixels, between two neighbouring outputs;
- ``start``: the input coordinate of the *centre* of the first output's receptive field.

Starting from the input itself (``r₀ = 1, j₀ = 1, start₀ = 0``) they follow

    r_l     = r_{l−1} + (k_l − 1)·d_l·j_{l−1}
    j_l     = j_{l−1}·s_l
    start_l = start_{l−1} + ((k_l − 1)·d_l/2 − p_l)·j_{l−1}

Coordinates are pixel indices (the first input pixel is 0), so ``start`` is negative when
padding pushes the first window off the image and ends in ``.5`` for even kernels. Output
``t`` of layer ``l`` looks at the inputs ``start_l + t·j_l ± (r_l − 1)/2``.

Example: two 3×3 convolutions see 5×5 pixels, three see 7×7 (the VGG argument: the same
receptive field as one 7×7 layer with 27 instead of 49 weights per channel pair).

:func:`empirical_receptive_field` measures the same thing with autograd: the inputs whose
gradient is non-zero for one output unit.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

from ._validate import (
    check_module,
    check_non_negative_int,
    check_non_negative_tuple,
    check_positive_tuple,
)
from .counting import _ACTIVATIONS, _format_table, _markdown_table

__all__ = [
    "EmpiricalReceptiveField",
    "Layer",
    "ReceptiveField",
    "ReceptiveFieldTable",
    "empirical_receptive_field",
    "receptive_field",
]

Size = int | tuple[int, ...]


@dataclass(frozen=True)
class Layer:
    """Geometry of one convolution or pooling layer (ints, or one int per spatial dimension).

    ``padding`` is per side, as in PyTorch, and may be ``"valid"`` (0) or ``"same"`` (left
    padding ``⌊d(k − 1)/2⌋``, as PyTorch pads it).
    """

    kernel_size: Size
    stride: Size = 1
    padding: Size | str = 0
    dilation: Size = 1
    name: str = ""


@dataclass(frozen=True)
class ReceptiveField:
    """One row of :func:`receptive_field`: a layer and where its outputs sit on the input.

    For a 1-D stack every field is a number; for an n-D stack a tuple with one entry per
    spatial dimension (height, width, …).
    """

    index: int          #: position among the geometry layers, from 1
    name: str           #: module path (``"features.28"``) or the :class:`Layer`'s name
    kernel_size: Size
    stride: Size
    padding: Size
    dilation: Size
    size: Size          #: r: input pixels seen by one output
    jump: Size          #: j: input pixels between neighbouring outputs
    start: float | tuple[float, ...]  #: centre of the first output's field (input coords)


def _show(value) -> str:
    if isinstance(value, tuple):
        return "×".join(_show(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class ReceptiveFieldTable(list):
    """A list of :class:`ReceptiveField` rows that prints as a table; ``.final`` is the last."""

    _headers = ("#", "layer", "kernel", "stride", "padding", "dilation", "size r", "jump j",
                "start")
    _right = (True, False, True, True, True, True, True, True, True)

    @property
    def final(self) -> ReceptiveField:
        """The last layer's row: the receptive field of the whole stack."""
        return self[-1]

    def _cells(self):
        def start(value):  # a position, not a size: (y, x) rather than y×x
            return "(" + ", ".join(map(_show, value)) + ")" if isinstance(value, tuple) \
                else _show(value)

        return [[_show(getattr(row, f.name)) if f.name != "start" else start(row.start)
                 for f in fields(ReceptiveField)] for row in self]

    def __str__(self) -> str:
        return _format_table(self._headers, self._cells(), self._right)

    __repr__ = __str__

    def to_markdown(self) -> str:
        """The same table in markdown."""
        return _markdown_table(self._headers, self._cells(), self._right)


# --- reading layers ------------------------------------------------------------------------

_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_POOL_DIMS = {nn.MaxPool1d: 1, nn.MaxPool2d: 2, nn.MaxPool3d: 3, nn.AvgPool1d: 1,
              nn.AvgPool2d: 2, nn.AvgPool3d: 3, nn.LPPool1d: 1, nn.LPPool2d: 2}
_PASS_THROUGH = (*_ACTIVATIONS, nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d,
                 nn.Dropout3d, nn.AlphaDropout, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d,
                 nn.LocalResponseNorm)


def _pool_dims(module: nn.Module) -> int | None:
    return next((d for cls, d in _POOL_DIMS.items() if isinstance(module, cls)), None)


def _layer_from_module(name: str, module: nn.Module) -> Layer | None:
    """A :class:`Layer` for a convolution or pooling module, None for a pass-through layer."""
    if isinstance(module, _CONV):
        return Layer(module.kernel_size, module.stride, module.padding, module.dilation, name)
    dims = _pool_dims(module)
    if dims is not None:
        stride = module.stride if module.stride is not None else module.kernel_size
        # int geometry of a 2-D/3-D pooling layer means "the same in every dimension"
        expand = (lambda v: (v,) * dims if isinstance(v, int) and dims > 1 else v)  # noqa: E731
        return Layer(expand(module.kernel_size), expand(stride),
                     expand(getattr(module, "padding", 0)),
                     expand(getattr(module, "dilation", 1)), name)
    if isinstance(module, _PASS_THROUGH):
        return None
    raise ValueError(
        f"receptive_field cannot follow layer {name!r} ({type(module).__name__}): only "
        "convolution, pooling and element-wise layers (activations, batch norm, dropout) "
        "have a receptive field; pass the convolutional part only, e.g. model.features"
    )


def _layers_from_spec(layers) -> list[tuple[str, Layer]]:
    """(where, Layer) pairs; ``where`` names the layer in error messages."""
    if isinstance(layers, nn.Module):
        found = []
        for name, module in layers.named_modules():
            if next(module.children(), None) is not None:
                continue  # containers: their leaves are visited in registration order
            layer = _layer_from_module(name or type(module).__name__, module)
            if layer is not None:
                found.append((f"layer {layer.name!r}", layer))
        if not found:
            raise ValueError(
                "layers has no convolution or pooling layer, so every output sees one pixel"
            )
        return found
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence):
        raise TypeError(
            "layers must be a torch.nn.Module or a list of Layer(...) or dicts with keys "
            f"kernel_size, stride, padding, dilation; got {type(layers).__name__}"
        )
    if not layers:
        raise ValueError("layers must contain at least one layer, got an empty list")
    result = []
    for i, spec in enumerate(layers):
        if isinstance(spec, Layer):
            result.append((f"layers[{i}]", spec))
        elif isinstance(spec, Mapping):
            unknown = set(spec) - {f.name for f in fields(Layer)}
            if unknown:
                raise ValueError(
                    f"layers[{i}] has unknown keys {sorted(unknown)}; use kernel_size, stride, "
                    "padding, dilation, name"
                )
            if "kernel_size" not in spec:
                raise ValueError(f"layers[{i}] needs a kernel_size")
            result.append((f"layers[{i}]", Layer(**spec)))
        else:
            raise TypeError(
                f"layers[{i}] must be a Layer(...) or a dict, got {type(spec).__name__}"
            )
    return result


def _stack_dims(layers: list[tuple[str, Layer]]) -> int:
    lengths = {len(v) for _, layer in layers for v in
               (layer.kernel_size, layer.stride, layer.padding, layer.dilation)
               if isinstance(v, (tuple, list))}
    if len(lengths) > 1:
        raise ValueError(
            "all layers must have the same number of spatial dimensions, got tuples of "
            f"lengths {sorted(lengths)}"
        )
    return lengths.pop() if lengths else 1


def _geometry(layer: Layer, dims: int, where: str):
    """(k, s, p_left, d) as dims-tuples, validated; errors name the layer."""
    try:
        k = check_positive_tuple("kernel_size", layer.kernel_size, dims)
        s = check_positive_tuple("stride", layer.stride, dims)
        d = check_positive_tuple("dilation", layer.dilation, dims)
        if layer.padding == "valid":
            p = (0,) * dims
        elif layer.padding == "same":
            p = tuple(di * (ki - 1) // 2 for ki, di in zip(k, d, strict=True))
        elif isinstance(layer.padding, str):
            raise ValueError(f"padding must be an int, a tuple, 'valid' or 'same', got "
                             f"{layer.padding!r}")
        else:
            p = check_non_negative_tuple("padding", layer.padding, dims)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{where}: {error}") from None
    return k, s, p, d


def receptive_field(layers) -> ReceptiveFieldTable:
    """Receptive field size, jump and start after every layer of a stack.

    Args:
        layers: either a ``torch.nn.Module`` (e.g. an ``nn.Sequential``; its leaf modules
            are read in registration order, which is the forward order of a Sequential:
            ``Conv1d/2d/3d``, ``MaxPool``, ``AvgPool``, ``LPPool`` count; activations, batch
            norm and dropout pass through and get no row; anything else, such as ``Linear``
            or ``Flatten``, is an error), or a list of :class:`Layer` or of dicts with keys
            ``kernel_size``, ``stride`` (default 1), ``padding`` (0), ``dilation`` (1).

    Returns:
        a :class:`ReceptiveFieldTable` (a list, one :class:`ReceptiveField` per layer, that
        prints as a table), with ``size`` ``r``, ``jump`` ``j`` and ``start`` from

        ``r_l = r_{l−1} + (k_l − 1)·d_l·j_{l−1}``, ``j_l = j_{l−1}·s_l``,
        ``start_l = start_{l−1} + ((k_l − 1)·d_l/2 − p_l)·j_{l−1}``,

        per spatial dimension, from ``r₀ = j₀ = 1``, ``start₀ = 0``. Numbers for a 1-D
        stack, tuples (one entry per dimension) for 2-D and 3-D stacks.

    >>> receptive_field([Layer(3), Layer(3), Layer(3)]).final.size
    7
    """
    specs = _layers_from_spec(layers)
    dims = _stack_dims(specs)
    r, j, start = [1] * dims, [1] * dims, [0.0] * dims
    table = ReceptiveFieldTable()

    def out(values):
        return values[0] if dims == 1 else tuple(values)

    for index, (where, layer) in enumerate(specs, start=1):
        k, s, p, d = _geometry(layer, dims, where)
        for a in range(dims):
            span = (k[a] - 1) * d[a]
            r[a] += span * j[a]
            start[a] += (span / 2 - p[a]) * j[a]
            j[a] *= s[a]
        table.append(ReceptiveField(index, layer.name, out(k), out(s), out(p), out(d),
                                    out(r), out(j), out(start)))
    return table


# --- measuring it --------------------------------------------------------------------------

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


_ADAPTIVE_MAX_TO_AVG = {nn.AdaptiveMaxPool1d: nn.AdaptiveAvgPool1d,
                        nn.AdaptiveMaxPool2d: nn.AdaptiveAvgPool2d,
                        nn.AdaptiveMaxPool3d: nn.AdaptiveAvgPool3d}


def _positive_copy(module: nn.Module) -> nn.Module:
    """A float64 eval-mode copy with weights 1/fan-in, biases 0 and max → mean pooling."""
    net = copy.deepcopy(module).double().eval()
    for name, m in list(net.named_modules()):
        dims = _pool_dims(m)
        if isinstance(m, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)):
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
    equals :func:`receptive_field`'s ``size`` when the region lies inside the input
    (``touches_border`` is False). Dilation and strides larger than the kernel leave holes
    inside the region: it is the span that matches, not the count.

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
    if not isinstance(input_shape, (tuple, list, torch.Size)) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in input_shape
    ):
        raise ValueError(
            "input_shape must be a tuple of positive ints (N, C, *spatial), e.g. "
            f"(1, 3, 64, 64), got {input_shape!r}"
        )
    shape = tuple(input_shape)
    if len(shape) not in (3, 4, 5):
        raise ValueError(
            "input_shape must have 1 to 3 spatial dimensions after (N, C), got "
            f"{len(shape)} dimensions: {shape}"
        )
    dims = len(shape) - 2
    check_non_negative_int("channel", channel, type_error=ValueError)

    net = _positive_copy(module)
    x = torch.ones(shape, dtype=torch.float64, requires_grad=True)
    y = net(x)
    if not isinstance(y, torch.Tensor) or y.dim() != len(shape):
        got = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(
            f"module must keep {dims} spatial dimension(s): input {shape} gave output {got}; "
            "pass the convolutional part only, e.g. model.features"
        )
    if channel >= y.shape[1]:
        raise ValueError(f"channel must be below the output's {y.shape[1]} channels, "
                         f"got {channel}")
    out_spatial = tuple(y.shape[2:])
    if output_index is None:
        index = tuple(o // 2 for o in out_spatial)
    else:
        index = check_non_negative_tuple("output_index", output_index, dims)
        if any(i >= o for i, o in zip(index, out_spatial, strict=True)):
            raise ValueError(
                f"output_index must lie inside the output's spatial shape {out_spatial}, "
                f"got {output_index!r}"
            )
    (grad,) = torch.autograd.grad(y[(0, channel, *index)], x)
    gradient = grad[0].abs().sum(dim=0)
    mask = gradient > 0
    if not mask.any():
        raise ValueError(f"output {index} of channel {channel} does not depend on the input")
    first, last = [], []
    for a in range(dims):
        others = tuple(b for b in range(dims) if b != a)
        hit = mask.any(dim=others) if others else mask
        positions = torch.nonzero(hit).flatten()
        first.append(int(positions[0]))
        last.append(int(positions[-1]))
    touches = any(f == 0 or la == n - 1
                  for f, la, n in zip(first, last, shape[2:], strict=True))

    def out(values):
        return values[0] if dims == 1 else tuple(values)

    return EmpiricalReceptiveField(
        size=out([la - f + 1 for f, la in zip(first, last, strict=True)]),
        first=out(first), last=out(last), output_index=out(list(index)),
        touches_border=touches, gradient=gradient.detach().float(),
    )
