"""Where a network spends parameters, computation and memory, layer by layer (chapter 8).

:func:`layer_costs` reads :func:`cnnlib.counting.layer_summary` and
:func:`cnnlib.receptive_field.receptive_field` into one row per convolution, pooling and
dense layer, named as the VGG paper names them (``conv3_2`` = second convolution of block
3, ``pool3``, ``fc1``). :mod:`cnnlib.viz.networks` draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn

from ._validate import check_choice
from .counting import layer_summary
from .receptive_field import receptive_field

__all__ = ["QUANTITIES", "LayerCost", "layer_costs"]


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
        check_choice("quantity", quantity, QUANTITIES)
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
