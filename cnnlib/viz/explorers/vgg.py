"""Compare the VGGs layer by layer: parameters, MACs, memory, receptive field (chapter 8).

Controls: ``network`` (VGG-11, 13, 16, 19, built by :func:`cnnlib.models.vgg` on the meta
device, so nothing is allocated) and ``quantity`` (see
:data:`cnnlib.network_costs.QUANTITIES`). Each panel is :func:`draw_layer_costs` for one
224×224 image; the title gives the network's total.
"""

from __future__ import annotations

import functools

import torch

from ...models import VGG_CONFIGS, vgg
from ...network_costs import QUANTITIES, LayerCost, layer_costs
from .. import widgets
from ..networks import draw_layer_costs

__all__ = ["NETWORKS", "render_vgg_costs", "vgg_costs", "vgg_explorer"]

NETWORKS = tuple(VGG_CONFIGS)


@functools.cache
def vgg_costs(network: str, input_size: int = 224) -> tuple[LayerCost, ...]:
    """:func:`layer_costs` of ``vgg(network)`` for one ``input_size``² RGB image (cached)."""
    with torch.device("meta"):
        model = vgg(network)
    return tuple(layer_costs(model, (1, 3, input_size, input_size)))


def _total(costs, quantity: str) -> str:
    if quantity == "receptive field":
        return f"{max(c.receptive_field or 0 for c in costs)} px"
    total = sum(c.value(quantity) for c in costs)
    if quantity == "activation memory":
        return f"{total / 2**20:.1f} MiB"
    return f"{total / 1e9:.2f} G" if total >= 1e9 else f"{total / 1e6:.1f} M"


def render_vgg_costs(ax, network: str, quantity: str) -> None:
    """One explorer panel: ``quantity`` per layer of ``network``, with the total in the title."""
    if network not in NETWORKS:
        raise ValueError(f"network must be one of {NETWORKS}, got {network!r}")
    costs = vgg_costs(network)
    label = "largest" if quantity == "receptive field" else "total"
    draw_layer_costs(ax, costs, quantity,
                     title=f"{network}: {quantity} ({label} {_total(costs, quantity)})")


def vgg_explorer(*, static: str = "grid", sweep: str = "quantity",
                 defaults: dict | None = None):
    """The explorer; on the static site small multiples of every value of ``sweep``
    (default: the four quantities for VGG-16, in a 2 × 2 grid)."""
    defaults = {"network": "vgg16", **(defaults or {})}
    controls = {"network": list(NETWORKS), "quantity": list(QUANTITIES)}
    if sweep not in controls:
        raise ValueError(f"sweep must be one of {list(controls)}, got {sweep!r}")
    return widgets.explorer(render_vgg_costs, controls, defaults=defaults, sweep=sweep,
                            sweep_values=controls[sweep], static=static, ncols=2,
                            panel_size=(5.6, 3.4))
