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

Gridding. ``r`` counts the pixels from the first to the last input an output depends on, but
a stack of dilated layers may skip some in between. With stride 1, tap ``t_l ∈ {0, …, k_l − 1}``
of layer ``l`` moves ``t_l·d_l`` pixels, so one output reads exactly the offsets
``Σ_l t_l·d_l`` (0-based, from the first pixel of its field; :func:`reachable_offsets`
enumerates them, :func:`gridding_holes` lists the rest). Sort the layers with ``k ≥ 2`` by
dilation and let ``R_i = 1 + Σ_{l ≤ i} (k_l − 1)·d_l`` be the receptive field of the first
``i``. The field has no holes **exactly when every dilation is at most the receptive field
of the layers before it**, ``d_{i+1} ≤ R_i`` (so ``d_1 = 1``) — :func:`fills_receptive_field`:

- enough: if the first ``i`` layers read all of ``0 … R_i − 1``, the next layer lays
  ``k_{i+1}`` copies of that run ``d_{i+1} ≤ R_i`` apart, which leaves no gap;
- needed: if ``d_{i+1} > R_i`` first fails, the offset ``R_i`` is a hole — the first ``i``
  layers reach at most ``R_i − 1``, and any other tap adds at least ``d_{i+1} > R_i``.

For 3×3 layers (``k − 1 = 2``): dilations ``1, 2, 4, 8`` pass (2 ≤ 3, 4 ≤ 7, 8 ≤ 15),
``1, 4`` fail (4 > 3) and miss the offsets 3 and 7 of 0 … 10 (±2 from the centre).

:func:`empirical_receptive_field` measures the same thing with autograd: the inputs whose
gradient is non-zero for one output unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

from torch import nn

from ._validate import check_non_negative_tuple, check_positive_int, check_positive_tuple
from .counting import _ACTIVATIONS, _format_table, _markdown_table
from .receptive_field_measured import (  # re-exported: measured beside the formula
    EmpiricalReceptiveField,
    empirical_receptive_field,
)

__all__ = [
    "EmpiricalReceptiveField",
    "Layer",
    "ReceptiveField",
    "ReceptiveFieldTable",
    "empirical_receptive_field",
    "fills_receptive_field",
    "gridding_holes",
    "reachable_offsets",
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


# --- gridding: which pixels of the receptive field a dilated stack reads ----------------------

def _dilated_stack(dilations, kernel_size) -> list[tuple[int, int]]:
    """Validated ``(k, d)`` pairs, one per layer; ``kernel_size``: an int or one per layer."""
    if isinstance(dilations, (str, bytes)) or not isinstance(dilations, Sequence):
        raise TypeError(f"dilations must be a sequence of positive ints (one per layer), got "
                        f"{type(dilations).__name__}")
    if not dilations:
        raise ValueError("dilations must hold at least one layer's dilation, got an empty "
                         "sequence")
    ds = [check_positive_int(f"dilations[{i}]", d) for i, d in enumerate(dilations)]
    if isinstance(kernel_size, Sequence) and not isinstance(kernel_size, (str, bytes)):
        if len(kernel_size) != len(ds):
            raise ValueError(f"kernel_size must be an int or one int per layer: "
                             f"{len(kernel_size)} kernel sizes for {len(ds)} dilations")
        ks = [check_positive_int(f"kernel_size[{i}]", k) for i, k in enumerate(kernel_size)]
    else:
        ks = [check_positive_int("kernel_size", kernel_size)] * len(ds)
    return list(zip(ks, ds, strict=True))


def reachable_offsets(dilations, kernel_size=3) -> list[int]:
    """The input offsets one output of a stride-1 stack reads, in increasing order.

    Layer ``l`` has kernel size ``k_l`` and dilation ``d_l``; the offsets are all sums
    ``Σ_l t_l·d_l`` with ``t_l ∈ {0, …, k_l − 1}``, counted from the first pixel of the
    receptive field (so they lie in ``0 … R − 1``, ``R = 1 + Σ_l (k_l − 1)·d_l``). For odd
    kernels, subtract ``(R − 1)/2`` for offsets from the centre. One dimension; a square
    kernel reads the grid of (row offset, column offset) pairs.

    >>> reachable_offsets([1, 4])
    [0, 1, 2, 4, 5, 6, 8, 9, 10]
    """
    reached = {0}
    for k, d in _dilated_stack(dilations, kernel_size):
        reached = {r + t * d for r in reached for t in range(k)}
    return sorted(reached)


def gridding_holes(dilations, kernel_size=3) -> list[int]:
    """The offsets in ``0 … R − 1`` that :func:`reachable_offsets` misses (empty: no holes).

    >>> gridding_holes([2, 2, 2])  # only even offsets: every odd one is a hole
    [1, 3, 5, 7, 9, 11]
    """
    stack = _dilated_stack(dilations, kernel_size)
    size = 1 + sum((k - 1) * d for k, d in stack)
    return sorted(set(range(size)) - set(reachable_offsets(dilations, kernel_size)))


def fills_receptive_field(dilations, kernel_size=3) -> bool:
    """Whether a stride-1 stack reads every pixel of its receptive field, by the rule (no
    enumeration): sorted by dilation, each layer with ``k ≥ 2`` has ``d ≤ R`` of the layers
    before it, ``R = 1 + Σ (k − 1)·d`` (module docstring: the rule is exact).

    >>> fills_receptive_field([1, 2, 4, 8]), fills_receptive_field([1, 4])
    (True, False)
    """
    size = 1
    for k, d in sorted(_dilated_stack(dilations, kernel_size), key=lambda layer: layer[1]):
        if k == 1:
            continue  # one tap: it moves nothing
        if d > size:
            return False
        size += (k - 1) * d
    return True
