"""Figures shared by the chapters: image grids, matrices as heat maps, signals.

Every function draws with matplotlib, closes the figure and returns it: a notebook cell that
ends with the call shows it exactly once (and a test can inspect it). Images are torch
tensors ``(H, W)``, ``(1, H, W)`` or ``(3, H, W)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

__all__ = ["show_images", "show_matrix", "to_numpy_image"]


def to_numpy_image(img) -> np.ndarray:
    """A tensor ``(H, W)``, ``(1, H, W)`` or ``(3, H, W)`` as a numpy array matplotlib shows."""
    t = torch.as_tensor(img).detach().to("cpu", torch.float32)
    if t.dim() == 3 and t.shape[0] in (1, 3):
        t = t.permute(1, 2, 0)
        if t.shape[2] == 1:
            t = t[..., 0]
    if t.dim() not in (2, 3):
        shape = tuple(torch.as_tensor(img).shape)
        raise ValueError(f"img must be (H, W), (1, H, W) or (3, H, W), got shape {shape}")
    return t.numpy()


def show_images(images: Sequence, titles: Sequence[str] | None = None, ncols: int | None = None,
                cmap: str = "gray", size: float = 2.6, symmetric: bool | Sequence[bool] = False,
                colorbar: bool = False, suptitle: str | None = None):
    """Show images side by side (small multiples); returns the ``Figure``.

    ``symmetric=True`` centres the colour map on 0 (for filter responses with both signs),
    drawn with a diverging map; it can be given per image.
    """
    images = list(images)
    if not images:
        raise ValueError("images must hold at least one image, got an empty sequence")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"titles must have one entry per image: {len(titles)} titles for "
                         f"{len(images)} images")
    n = len(images)
    ncols = min(n, ncols or n)
    nrows = -(-n // ncols)
    sym = [symmetric] * n if isinstance(symmetric, bool) else list(symmetric)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        arr = to_numpy_image(images[i])
        kwargs = {"cmap": cmap}
        if sym[i] and arr.ndim == 2:
            vmax = float(np.abs(arr).max()) or 1.0
            kwargs = {"cmap": "RdBu_r", "vmin": -vmax, "vmax": vmax}
        im = ax.imshow(arr, **kwargs)
        if titles is not None:
            ax.set_title(titles[i], fontsize=10)
        if colorbar and arr.ndim == 2:
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    plt.close(fig)
    return fig


def show_matrix(m, title: str | None = None, annotate: bool | None = None, ax=None,
                cmap: str = "RdBu_r", fmt: str = "{:.2g}"):
    """A matrix as a heat map centred on 0 (zeros white), optionally with its values written in.

    ``annotate`` defaults to True for matrices of at most 12×12 entries.
    """
    arr = torch.as_tensor(m).detach().to("cpu", torch.float64).numpy()
    if arr.ndim != 2:
        raise ValueError(f"m must be a 2-D matrix, got shape {arr.shape}")
    own_figure = ax is None
    if own_figure:
        h, w = arr.shape
        scale = 0.45 if max(h, w) <= 12 else 4.5 / max(h, w)
        fig, ax = plt.subplots(figsize=(max(2.5, w * scale + 1), max(2.0, h * scale + 0.6)))
    else:
        fig = ax.figure
    vmax = float(np.abs(arr).max()) or 1.0
    ax.imshow(arr, cmap=cmap, vmin=-vmax, vmax=vmax)
    if annotate is None:
        annotate = max(arr.shape) <= 12
    if annotate:
        for (i, j), v in np.ndenumerate(arr):
            if v != 0:  # white on the darkest cells, black elsewhere
                color = "white" if abs(v) > 0.6 * vmax else "black"
                ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=8, color=color)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    if own_figure:
        plt.close(fig)
    return fig
