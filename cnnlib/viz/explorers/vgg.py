"""Compare the VGGs layer by layer: parameters, MACs, memory, receptive field (chapter 8).

Controls: ``network`` (VGG-11, 13, 16, 19, built by :func:`cnnlib.models.vgg` on the meta
device, so nothing is allocated) and ``quantity`` (see
:data:`cnnlib.network_costs.QUANTITIES`). Each panel is :func:`draw_layer_costs` for one
224×224 image; the title gives the network's total. One quantity has one scale for all four
networks (the largest layer of any of them), so that switching networks compares them; the
static site shows the four networks side by side for one quantity (MACs by default).
"""

from __future__ import annotations

import functools

import torch

from ...models import VGG_CONFIGS, vgg
from ...network_costs import QUANTITIES, LayerCost, layer_costs
from .. import widgets
from ..networks import _UNITS, draw_layer_costs

__all__ = ["NETWORKS", "describe_vgg", "render_vgg_costs", "vgg_costs", "vgg_explorer"]

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


@functools.cache
def _scale_top(quantity: str) -> float:
    """The top of the y axis for ``quantity``: 5 % above the largest layer of any VGG."""
    scale = _UNITS[quantity][0]
    return 1.05 * max(c.value(quantity) / scale for network in NETWORKS
                      for c in vgg_costs(network) if quantity != "receptive field"
                      or c.receptive_field is not None)


def render_vgg_costs(ax, network: str, quantity: str) -> None:
    """One explorer panel: ``quantity`` per layer of ``network``, with the total in the title,
    on the scale shared by the four networks."""
    if network not in NETWORKS:
        raise ValueError(f"network must be one of {NETWORKS}, got {network!r}")
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {QUANTITIES}, got {quantity!r}")
    costs = vgg_costs(network)
    label = "largest" if quantity == "receptive field" else "total"
    draw_layer_costs(ax, costs, quantity, ymax=_scale_top(quantity),
                     title=f"{network}: {quantity} ({label} {_total(costs, quantity)})")


def describe_vgg(sweep: str, values, defaults: dict) -> str:
    """The static preview's description: what the panels compare, with the totals."""
    if sweep == "network":
        quantity = defaults["quantity"]
        totals = ", ".join(f"{n} {_total(vgg_costs(n), quantity)}" for n in values)
        what = "largest" if quantity == "receptive field" else "total"
        return (f"{quantity} per layer of {', '.join(values)} for one 224×224 image, one "
                f"panel per network on one shared scale (blue convolutions, orange pooling, "
                f"green dense layers); {what}: {totals}.")
    network = defaults["network"]
    return (f"One panel per quantity ({', '.join(values)}) for the layers of {network} on "
            f"one 224×224 image: where the network spends its parameters, its computation "
            f"and its memory, and how far each layer sees.")


def vgg_explorer(*, static: str = "grid", sweep: str = "network",
                 defaults: dict | None = None, force_static: bool | None = None):
    """The explorer; on the static site small multiples of every value of ``sweep``
    (default: the four networks side by side for MACs, in a 2 × 2 grid on one scale;
    ``sweep="quantity"``: the four quantities of one network)."""
    defaults = {"network": "vgg16", "quantity": "MACs", **(defaults or {})}
    controls = {"network": list(NETWORKS), "quantity": list(QUANTITIES)}
    if sweep not in controls:
        raise ValueError(f"sweep must be one of {list(controls)}, got {sweep!r}")
    return widgets.explorer(render_vgg_costs, controls, defaults=defaults, sweep=sweep,
                            sweep_values=controls[sweep], static=static, ncols=2,
                            panel_size=(3.9, 3.1), force_static=force_static,
                            describe=describe_vgg(sweep, controls[sweep], defaults))
