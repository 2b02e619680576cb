"""Template matching, drawn (chapter 4): the image with a labelled box on each match."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.patches import Rectangle

from .._validate import check_ndim
from .figure_output import legible_fontsize

__all__ = ["show_matches"]


_BOX_COLOURS = ("#e41a1c", "#ffb000", "#4daf4a", "#984ea3", "#00bcd4")


def show_matches(image: torch.Tensor, template_shape: tuple[int, int],
                 matches: dict[str, tuple[int, int]], *, title: str | None = None,
                 size: float = 4.0):
    """The image in grey with one labelled box per match; returns the closed ``Figure``.

    ``matches``: label → ``(row, col)`` top-left corner of a ``template_shape`` window (as
    :func:`best_match` returns it). Each box is a ``Rectangle`` whose ``gid`` is its label.
    """
    check_ndim("image", image, (2,), "(H, W)")
    h, w = template_shape
    H, W = image.shape
    fig, ax = plt.subplots(figsize=(size, size * H / W))
    ax.imshow(image.detach().cpu().numpy(), cmap="gray", vmin=0, vmax=1)
    for colour, (label, (r, c)) in zip(_BOX_COLOURS * len(matches), matches.items(),
                                       strict=False):
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), w, h, fill=False, edgecolor=colour, lw=2,
                               gid=label))
        ax.text(c + w / 2, r - 2, label, color=colour, ha="center", va="bottom",
                fontsize=legible_fontsize(fig, 9), fontweight="bold",
                bbox=dict(facecolor="black", alpha=0.5, pad=1, lw=0))
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=legible_fontsize(fig, 10))
    fig.tight_layout()
    plt.close(fig)
    return fig
