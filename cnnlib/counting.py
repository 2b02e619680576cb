"""Counting a network's cost: parameters, multiply-accumulates (MACs), FLOPs, activation memory.

Conventions (stated once, used in every table of the book):

- **MAC** = one multiply-accumulate ``acc += w·x``. Only convolution and linear layers do
  MACs; per layer, for a batch of ``N`` inputs:

  - convolution: ``MACs = N · C_out · H_out · W_out · (C_in/groups) · kh · kw``
    (one product per kernel weight per output value; 1-D and 3-D alike);
  - transposed convolution: ``MACs = N · C_in · H_in · W_in · (C_out/groups) · kh · kw``
    (every input value is scattered through the whole kernel);
  - linear: ``MACs = (rows) · in_features · out_features`` (``rows = N`` for a flat input).

- **FLOPs = 2 · MACs** (a multiply and an add). Bias additions are **not** counted (one add
  per output value, negligible next to the MACs, and left out by the usual tables, e.g.
  VGG-16's ≈ 15.5 G MACs for one 224 × 224 image).
- Everything else is reported separately as ``other_ops`` (0 MACs): max pooling
  ``k − 1`` comparisons per output (``k`` = window size), average pooling ``k`` operations per
  output (``k − 1`` adds and a division), adaptive pooling the same counted as if the input
  were split evenly (exact when it is), batch normalisation 2 per element (a multiply and an
  add once the statistics are folded), activations 1 per element (a comparison for ReLU).
  Layers of other types are counted as 0 and marked ``not counted``.
- **Activation memory** of a layer = ``output.numel() × element size`` in bytes: what the
  layer's output occupies (kept for the backward pass during training); 0 for a layer that
  works in place (``inplace=True``, e.g. torchvision's ReLUs), which overwrites its input.

Counts come from one forward pass with hooks on every leaf module, by default on the
``meta`` device: shapes are propagated, nothing is computed and no memory is allocated, so
VGG-16 is summarised in milliseconds. The module itself is not changed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call

from ._validate import check_bool, check_module, check_shape

__all__ = [
    "DEFAULT_COLUMNS",
    "LayerCount",
    "ModelSummary",
    "count_flops",
    "count_macs",
    "count_parameters",
    "layer_summary",
]


def _check_module(module) -> nn.Module:
    return check_module("module", module)


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of scalar parameters of ``module``: ``Σ p.numel()`` over ``module.parameters()``.

    A parameter shared by several layers is counted once. With ``trainable_only=True``, only
    those with ``requires_grad`` (frozen layers are left out).

    >>> count_parameters(nn.Conv2d(3, 64, 3))  # 64·3·3·3 weights + 64 biases
    1792
    """
    _check_module(module)
    check_bool("trainable_only", trainable_only)
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


@dataclass(frozen=True)
class LayerCount:
    """One row of :func:`layer_summary`: a leaf module's call during the forward pass."""

    name: str                       #: path in the module, e.g. ``"features.0"``
    type: str                       #: class name, e.g. ``"Conv2d"``
    output_shape: tuple[int, ...] | None  #: ``None`` when the output is not one tensor
    params: int                     #: the layer's own parameters (0 on a repeated call)
    macs: int                       #: multiply-accumulates
    other_ops: int                  #: comparisons, adds, divisions that are not MACs
    activation_bytes: int           #: output numel × element size
    note: str = ""                  #: ``"not counted"`` for layer types without a rule

    @property
    def flops(self) -> int:
        """``2 · macs``."""
        return 2 * self.macs


def _si(value: float) -> str:
    """12_345_678 → '12.35 M'; below 1000 the number itself."""
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.2f} {prefix}"
    return f"{value:g}"


def _mib(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:.2f} MiB"


def _format_table(headers: Sequence[str], rows: Sequence[Sequence[str]],
                  right: Sequence[bool]) -> str:
    """Plain-text table with a header rule; ``right[i]`` right-aligns column ``i``."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]

    def line(cells):
        return "  ".join(
            str(c).rjust(w) if r else str(c).ljust(w)
            for c, w, r in zip(cells, widths, right, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def _markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]],
                    right: Sequence[bool]) -> str:
    """GitHub-flavoured markdown table (numbers right-aligned)."""
    def line(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    rule = "|" + "|".join("---:" if r else ":---" for r in right) + "|"
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


#: Every column a summary table can show: header → (right-aligned, cell of a row).
_COLUMNS = {
    "layer": (False, lambda r: r.name),
    "type": (False, lambda r: r.type + (f" ({r.note})" if r.note else "")),
    "output shape": (False, lambda r: "×".join(map(str, r.output_shape))
                     if r.output_shape is not None else "-"),
    "params": (True, lambda r: f"{r.params:,}"),
    "MACs": (True, lambda r: f"{r.macs:,}"),
    "FLOPs": (True, lambda r: f"{r.flops:,}"),
    "other ops": (True, lambda r: f"{r.other_ops:,}"),
    "activation bytes": (True, lambda r: f"{r.activation_bytes:,}"),
}

#: The columns ``print(summary)`` shows: they fit 88 characters even for VGG-16 (FLOPs are
#: 2 × MACs and the footer gives their total, as it gives the total of the other ops).
DEFAULT_COLUMNS = ("layer", "type", "output shape", "params", "MACs", "activation bytes")

#: Shorter headers for the printed table (the markdown table keeps the full names).
_SHORT = {"activation bytes": "act. bytes"}


@dataclass
class ModelSummary:
    """Per-layer counts of one forward pass, with totals; ``print`` it for a table.

    ``print(summary)`` shows the :data:`DEFAULT_COLUMNS` (``act. bytes`` is the activation
    memory in bytes) and a two-line footer of totals (FLOPs and other ops included);
    :meth:`table` chooses the columns. Iterating, indexing and ``len`` go over :attr:`rows`.
    """

    rows: list[LayerCount]
    input_shape: tuple[int, ...]
    total_params: int      #: ``count_parameters(module)`` (shared parameters once)
    trainable_params: int  #: ``count_parameters(module, trainable_only=True)``

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def total_flops(self) -> int:
        """``2 · total_macs``."""
        return 2 * self.total_macs

    @property
    def total_other_ops(self) -> int:
        return sum(r.other_ops for r in self.rows)

    @property
    def total_activation_bytes(self) -> int:
        """Sum over layers of their output sizes (every output kept, as in training)."""
        return sum(r.activation_bytes for r in self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, index):
        return self.rows[index]

    def _total_row(self) -> LayerCount:
        return LayerCount("total", "", (), self.total_params, self.total_macs,
                          self.total_other_ops, self.total_activation_bytes)

    def _cells(self, columns: Sequence[str]) -> list[list[str]]:
        if isinstance(columns, str) or not isinstance(columns, Sequence) or not columns:
            raise TypeError(f"columns must be a non-empty sequence of column names, "
                            f"got {columns!r}")
        unknown = [c for c in columns if c not in _COLUMNS]
        if unknown:
            raise ValueError(f"columns must be names from {list(_COLUMNS)}, got {unknown}")
        cells = [[_COLUMNS[c][1](r) for c in columns] for r in self.rows]
        total = self._total_row()
        cells.append([_COLUMNS[c][1](total) if c not in ("type", "output shape") else ""
                      for c in columns])
        return cells

    def table(self, columns: Sequence[str] = DEFAULT_COLUMNS) -> str:
        """The per-layer table with a total row, in the chosen columns (keys of ``_COLUMNS``:
        ``"layer"``, ``"type"``, ``"output shape"``, ``"params"``, ``"MACs"``, ``"FLOPs"``,
        ``"other ops"``, ``"activation bytes"``), without the footer."""
        cells = self._cells(columns)
        headers = [_SHORT.get(c, c) for c in columns]
        return _format_table(headers, cells, [_COLUMNS[c][0] for c in columns])

    def _footer(self) -> str:
        shape = "×".join(map(str, self.input_shape))
        return (f"input {shape}: {self.total_params:,} parameters "
                f"({self.trainable_params:,} trainable)\n"
                f"{_si(self.total_macs)} MACs = {_si(self.total_flops)} FLOPs, "
                f"{_si(self.total_other_ops)} other ops, "
                f"activations {_mib(self.total_activation_bytes)}")

    def __str__(self) -> str:
        return self.table() + "\n" + self._footer()

    __repr__ = __str__  # a notebook cell ending in a summary shows the table

    def to_markdown(self) -> str:
        """The table with every column, in markdown (for the book's prose)."""
        columns = list(_COLUMNS)
        return (_markdown_table(columns, self._cells(columns),
                                [_COLUMNS[c][0] for c in columns])
                + "\n\n" + self._footer().replace("\n", "; "))


_ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU,
                nn.SiLU, nn.Mish, nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardswish,
                nn.Hardsigmoid, nn.Softplus, nn.Softmax, nn.LogSoftmax)
_FREE = (nn.Identity, nn.Flatten, nn.Unflatten, nn.Dropout, nn.Dropout1d, nn.Dropout2d,
         nn.Dropout3d, nn.AlphaDropout)


_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_CONV_TRANSPOSE = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
_MAX_POOL = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)
_AVG_POOL = (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)
_ADAPTIVE_MAX_POOL = (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)
_ADAPTIVE_AVG_POOL = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)
_BATCH_NORM = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)
_SPATIAL_DIMS = {nn.MaxPool1d: 1, nn.MaxPool2d: 2, nn.MaxPool3d: 3,
                 nn.AvgPool1d: 1, nn.AvgPool2d: 2, nn.AvgPool3d: 3}


def _window(module: nn.Module) -> int:
    """Number of elements in one kernel window; an int kernel_size means k in every dim."""
    k = module.kernel_size
    if isinstance(k, Sequence):
        return math.prod(k)
    dims = next(d for cls, d in _SPATIAL_DIMS.items() if isinstance(module, cls))
    return k**dims


def _ops(module: nn.Module, x: torch.Tensor, out: torch.Tensor) -> tuple[int, int, str]:
    """(MACs, other ops, note) of one call, from the rules in the module docstring."""
    if isinstance(module, _CONV_TRANSPOSE):
        return x.numel() * (module.out_channels // module.groups) * _window(module), 0, ""
    if isinstance(module, _CONV):
        return out.numel() * (module.in_channels // module.groups) * _window(module), 0, ""
    if isinstance(module, nn.Linear):
        return x.numel() * module.out_features, 0, ""
    if isinstance(module, _MAX_POOL):
        return 0, out.numel() * (_window(module) - 1), ""
    if isinstance(module, _AVG_POOL):
        return 0, out.numel() * _window(module), ""
    if isinstance(module, _ADAPTIVE_MAX_POOL):
        return 0, x.numel() - out.numel(), ""
    if isinstance(module, _ADAPTIVE_AVG_POOL):
        return 0, x.numel(), ""
    if isinstance(module, _BATCH_NORM):
        return 0, 2 * out.numel(), ""
    if isinstance(module, _ACTIVATIONS):
        return 0, out.numel(), ""
    if isinstance(module, _FREE):
        return 0, 0, ""
    return 0, 0, "not counted"


def _check_shape(input_shape) -> tuple[int, ...]:
    return check_shape("input_shape", input_shape,
                       "(N, …), the batch dimension included, e.g. (1, 3, 224, 224)")


def layer_summary(module: nn.Module, input_shape: Sequence[int], *,
                  dtype: torch.dtype = torch.float32,
                  device: torch.device | str = "meta") -> ModelSummary:
    """Run one forward pass of ``module`` on an input of ``input_shape`` and count per layer.

    Args:
        module: the network (any ``nn.Module``; leaf modules are the rows, in call order).
        input_shape: the full input shape **including the batch dimension**, e.g.
            ``(1, 3, 224, 224)``; counts are for the whole batch, so ``N = 1`` gives the cost
            per image.
        dtype: floating dtype of the input (and of the activation memory).
        device: ``"meta"`` (default) propagates shapes only. Any other device runs a real
            forward pass on zeros there (use it for modules that look at their input's
            values); the module's parameters must live on it. Either way the module's
            buffers (e.g. BatchNorm running statistics) are left untouched.

    Returns:
        a :class:`ModelSummary` of :class:`LayerCount` rows (name, type, output shape,
        params, MACs, FLOPs, other ops, activation bytes) with totals.
    """
    _check_module(module)
    shape = _check_shape(input_shape)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch dtype such as torch.float32, got {dtype}")
    device = torch.device(device)
    meta = device.type == "meta"

    names = {m: (name or type(module).__name__) for name, m in module.named_modules()}
    own_params = {m: sum(p.numel() for p in m.parameters(recurse=False))
                  for m in names}
    rows: list[LayerCount] = []
    seen: set[int] = set()

    def hook(m, inputs, output):
        x = inputs[0] if inputs and isinstance(inputs[0], torch.Tensor) else None
        if isinstance(output, torch.Tensor):
            out_shape = tuple(output.shape)
            act = output.numel() * output.element_size()
            macs, other, note = _ops(m, x, output) if x is not None else (0, 0, "not counted")
        else:
            out_shape, act, macs, other, note = None, 0, 0, 0, "not counted"
        if getattr(m, "inplace", False) is True:  # writes into its input: no new memory
            act, note = 0, note or "in-place"
        params = own_params[m] if id(m) not in seen else 0
        seen.add(id(m))
        rows.append(LayerCount(names[m], type(m).__name__, out_shape, params, macs, other,
                               act, note))

    leaves = [m for m in names if next(m.children(), None) is None]
    handles = [m.register_forward_hook(hook) for m in leaves]
    try:
        if meta:
            state = {
                name: torch.empty_like(t, device="meta",
                                       dtype=dtype if t.is_floating_point() else t.dtype)
                for name, t in [*module.named_parameters(), *module.named_buffers()]
            }
        else:
            state = {name: b.clone() for name, b in module.named_buffers()}
        x = torch.zeros(shape, dtype=dtype, device=device)
        with torch.no_grad():
            functional_call(module, state, (x,))
    finally:
        for h in handles:
            h.remove()

    return ModelSummary(rows=rows, input_shape=shape,
                        total_params=count_parameters(module),
                        trainable_params=count_parameters(module, trainable_only=True))


def count_macs(module: nn.Module, input_shape: Sequence[int]) -> int:
    """Total multiply-accumulates of one forward pass (see :func:`layer_summary`)."""
    return layer_summary(module, input_shape).total_macs


def count_flops(module: nn.Module, input_shape: Sequence[int]) -> int:
    """Total FLOPs ``= 2 · MACs`` of one forward pass (bias adds and pooling not included)."""
    return layer_summary(module, input_shape).total_flops
