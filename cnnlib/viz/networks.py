"""Where a network spends parameters, computation and memory, drawn layer by layer (chapter 8).

:func:`draw_layer_costs` draws one quantity of :func:`cnnlib.network_costs.layer_costs` as
bars and :func:`plot_layer_costs` several, one above the other. :func:`show_score_map` draws the
class scores a fully convolutional network (:func:`cnnlib.models.fully_convolutional`)
returns along a strip of images.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from .._validate import check_positive_int
from ..network_costs import QUANTITIES, LayerCost
from .figure_output import legible_fontsize
from .images import to_numpy_image

__all__ = ["draw_layer_costs", "plot_layer_costs", "show_score_map"]


_UNITS = {"parameters": (1e6, "parameters (millions)"), "MACs": (1e9, "MACs (billions)"),
          "activation memory": (2**20, "activation memory (MiB)"),
          "receptive field": (1, "receptive field (pixels per side)")}
_COLORS = {"conv": "tab:blue", "pool": "tab:orange", "fc": "tab:green"}


def draw_layer_costs(ax, costs: Sequence[LayerCost], quantity: str, title: str | None = None,
                     ymax: float | None = None):
    """Bars of one ``quantity`` (see :data:`QUANTITIES`) per layer, coloured by kind
    (convolution blue, pooling orange, dense green); dense layers have no receptive field
    and are left out of that plot. ``ymax`` (in the plotted unit) fixes the top of the
    axis, so that panels of several networks share one scale."""
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {QUANTITIES}, got {quantity!r}")
    rows = [c for c in costs if quantity != "receptive field" or c.receptive_field is not None]
    scale, label = _UNITS[quantity]
    values = [c.value(quantity) / scale for c in rows]
    colors = [_COLORS[next(k for k in _COLORS if c.label.startswith(k))] for c in rows]
    fig = ax.figure
    ax.bar(range(len(rows)), values, color=colors)
    ax.set_xticks(range(len(rows)), [c.label for c in rows], rotation=90,
                  fontsize=legible_fontsize(fig, 7))
    ax.tick_params(axis="y", labelsize=legible_fontsize(fig, 8))
    ax.set_ylabel(label, fontsize=legible_fontsize(fig, 9))
    ax.grid(True, axis="y", alpha=0.3)
    if ymax is not None:
        ax.set_ylim(0, ymax)
    ax.set_title(title or quantity, fontsize=legible_fontsize(fig, 10))


def plot_layer_costs(costs: Sequence[LayerCost],
                     quantities: Sequence[str] = ("MACs", "activation memory",
                                                  "receptive field"),
                     suptitle: str | None = None, size: tuple[float, float] = (7.8, 2.4)):
    """:func:`draw_layer_costs` for several quantities, one above the other (``size``: of
    one panel, in inches), the layer names under the last; returns the figure."""
    if not costs:
        raise ValueError("costs must hold at least one LayerCost")
    fig, axes = plt.subplots(len(quantities), 1, figsize=(size[0], size[1] * len(quantities)),
                             squeeze=False, sharex=True)
    for ax, quantity in zip(axes[:, 0], quantities, strict=True):
        draw_layer_costs(ax, costs, quantity)
        ax.set_xlim(-0.6, len(costs) - 0.4)
    if suptitle:
        fig.suptitle(suptitle, fontsize=legible_fontsize(fig, 11))
    fig.tight_layout()
    plt.close(fig)
    return fig


def show_score_map(image, scores: torch.Tensor, stride: int, window: int,
                   size: tuple[float, float] = (7.5, 4.6)):
    """A strip of images above the class probabilities a fully convolutional network gives
    for each window of it; returns the figure.

    ``image``: ``(H, W)`` or ``(1, H, W)``, ``W`` wider than one window. ``scores``:
    ``(K, n)`` (or ``(K, 1, n)``, one row of a score map), the scores of ``K`` classes for
    the ``n`` windows of width ``window`` starting at columns ``0, stride, …,
    stride·(n − 1)``, so ``stride·(n − 1) + window`` must be ``W``. The lower panel shows
    the softmax over classes of each window's scores, placed under the window's centre,
    with each window's most probable class written above it.
    """
    picture = to_numpy_image(image)
    check_positive_int("stride", stride)
    check_positive_int("window", window)
    if not isinstance(scores, torch.Tensor):
        raise TypeError(f"scores must be a torch tensor (K, n), got {type(scores).__name__}")
    s = scores.detach().to("cpu", torch.float32)
    if s.dim() == 3 and s.shape[1] == 1:
        s = s[:, 0]
    if s.dim() != 2:
        raise ValueError(f"scores must be (K, n) or (K, 1, n), got shape {tuple(scores.shape)}")
    (k, n), width = s.shape, picture.shape[1]
    if stride * (n - 1) + window != width:
        raise ValueError(f"{n} windows of width {window}, stride {stride} span "
                         f"{stride * (n - 1) + window} columns, but the image has {width}")
    probs = torch.softmax(s, dim=0).numpy()
    centres = stride * np.arange(n) + (window - 1) / 2
    fig, (top, bottom) = plt.subplots(2, 1, figsize=size, sharex=True,
                                      gridspec_kw={"height_ratios": [1, 1.25]})
    top.imshow(picture, cmap="gray", aspect="auto", extent=(-0.5, width - 0.5,
                                                            picture.shape[0] - 0.5, -0.5))
    top.set_yticks([])
    top.set_title("input strip", fontsize=10)
    im = bottom.imshow(probs, aspect="auto", cmap="viridis", vmin=0, vmax=1,
                       extent=(centres[0] - stride / 2, centres[-1] + stride / 2,
                               k - 0.5, -0.5))
    for c, j in zip(centres, probs.argmax(axis=0), strict=True):
        bottom.text(c, -0.7, str(j), ha="center", va="bottom", fontsize=8)
    bottom.set_xlim(-0.5, width - 0.5)
    bottom.set_ylim(k - 0.5, -1.6)
    bottom.set_yticks(range(k))
    bottom.set_ylabel("class", fontsize=9)
    bottom.set_xlabel("column of the strip (each window's centre)", fontsize=9)
    bottom.set_title("probability of each class, per window (most probable above)",
                     fontsize=10)
    fig.colorbar(im, ax=[top, bottom], shrink=0.5, label="probability")
    plt.close(fig)
    return fig
