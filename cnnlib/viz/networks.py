"""Where a network spends parameters, computation and memory, drawn layer by layer (chapter 8).

:func:`draw_layer_costs` draws one quantity of :func:`cnnlib.network_costs.layer_costs` as
bars and :func:`plot_layer_costs` several side by side.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt

from ..network_costs import QUANTITIES, LayerCost

__all__ = ["draw_layer_costs", "plot_layer_costs"]


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
