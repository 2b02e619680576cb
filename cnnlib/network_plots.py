"""Where a network spends parameters, computation and memory, layer by layer (chapter 8).

:func:`layer_costs` reads :func:`cnnlib.counting.layer_summary` and
:func:`cnnlib.receptive_field.receptive_field` into one row per convolution, pooling and
dense layer, named as the VGG paper names them (``conv3_2`` = second convolution of block
3, ``pool3``, ``fc1``); :func:`draw_layer_costs` draws one quantity as bars and
:func:`plot_layer_costs` several side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
from torch import nn

from .counting import layer_summary
from .receptive_field import receptive_field

__all__ = ["QUANTITIES", "LayerCost", "draw_layer_costs", "layer_costs", "plot_layer_costs"]

#: What :func:`draw_layer_costs` can draw.
QUANTITIES = ("parameters", "MACs", "activation memory", "receptive field")

_POOLS = (nn.MaxPool2d, nn.AvgPool2d)


@dataclass(frozen=True)
class LayerCost:
    """One convolution, pooling or dense layer of a network, for one input."""

    label: str                   #: ``conv1_1``, ``pool1``, ``fc1``, …
    name: str                    #: module path, e.g. ``features.0``
    params: int                  #: the layer's parameters
    macs: int                    #: multiply-accumulates (0 for pooling)
    activation_bytes: int        #: bytes of the layer's output
    receptive_field: int | None  #: side of the square receptive field (None: dense layer)

    def value(self, quantity: str) -> float:
        """The number :func:`draw_layer_costs` draws for ``quantity``."""
        if quantity not in QUANTITIES:
            raise ValueError(f"quantity must be one of {QUANTITIES}, got {quantity!r}")
        return {"parameters": self.params, "MACs": self.macs,
                "activation memory": self.activation_bytes,
                "receptive field": self.receptive_field or 0}[quantity]


def layer_costs(model: nn.Module, input_shape: Sequence[int]) -> list[LayerCost]:
    """Per-layer costs of ``model`` (with a ``features`` part) for an input of
    ``input_shape`` (batch included, e.g. ``(1, 3, 224, 224)``), counted on the meta device.

    Rows: every ``Conv2d``, pooling and ``Linear`` layer in call order. Blocks are counted
    by the pools of ``features``: convolutions after the ``b``-th pool belong to block
    ``b + 1``.
    """
    features = getattr(model, "features", None)
    if not isinstance(features, nn.Module):
        raise ValueError("model must have a `features` part (its convolutional layers)")
    summary = layer_summary(model, input_shape)
    fields = {f"features.{row.name}": row.size for row in receptive_field(features)}
    modules = dict(model.named_modules())
    rows: list[LayerCost] = []
    block, conv_in_block, fc = 1, 0, 0
    for row in summary:
        module = modules[row.name]
        if isinstance(module, nn.Conv2d):
            conv_in_block += 1
            label = f"conv{block}_{conv_in_block}"
        elif isinstance(module, _POOLS) and row.name in fields:
            label = f"pool{block}"
            block, conv_in_block = block + 1, 0
        elif isinstance(module, nn.Linear):
            fc += 1
            label = f"fc{fc}"
        else:
            continue
        rf = fields.get(row.name)
        rows.append(LayerCost(label, row.name, row.params, row.macs, row.activation_bytes,
                              rf[0] if isinstance(rf, tuple) else rf))
    return rows


_UNITS = {"parameters": (1e6, "parameters (millions)"), "MACs": (1e9, "MACs (billions)"),
          "activation memory": (2**20, "activation memory (MiB)"),
          "receptive field": (1, "receptive field (pixels per side)")}
_COLORS = {"conv": "tab:blue", "pool": "tab:orange", "fc": "tab:green"}


def draw_layer_costs(ax, costs: Sequence[LayerCost], quantity: str, title: str | None = None):
    """Bars of one ``quantity`` (see :data:`QUANTITIES`) per layer, coloured by kind
    (convolution blue, pooling orange, dense green); dense layers have no receptive field
    and are left out of that plot."""
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {QUANTITIES}, got {quantity!r}")
    rows = [c for c in costs if quantity != "receptive field" or c.receptive_field is not None]
    scale, label = _UNITS[quantity]
    values = [c.value(quantity) / scale for c in rows]
    colors = [_COLORS[next(k for k in _COLORS if c.label.startswith(k))] for c in rows]
    ax.bar(range(len(rows)), values, color=colors)
    ax.set_xticks(range(len(rows)), [c.label for c in rows], rotation=90, fontsize=7)
    ax.set_ylabel(label, fontsize=9)
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_title(title or quantity, fontsize=10)


def plot_layer_costs(costs: Sequence[LayerCost],
                     quantities: Sequence[str] = ("MACs", "activation memory",
                                                  "receptive field"),
                     suptitle: str | None = None, size: tuple[float, float] = (4.6, 3.4)):
    """:func:`draw_layer_costs` for several quantities side by side; returns the figure."""
    if not costs:
        raise ValueError("costs must hold at least one LayerCost")
    fig, axes = plt.subplots(1, len(quantities), figsize=(size[0] * len(quantities), size[1]),
                             squeeze=False)
    for ax, quantity in zip(axes[0], quantities, strict=True):
        draw_layer_costs(ax, costs, quantity)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    fig.tight_layout()
    plt.close(fig)
    return fig
