"""Figures shared by the chapters: image grids, matrices as heat maps, signals.

Every function draws with matplotlib, closes the figure and returns it: a notebook cell that
ends with the call shows it exactly once (and a test can inspect it). Images are torch
tensors ``(H, W)``, ``(1, H, W)`` or ``(3, H, W)``.

**Signed maps** (edge responses, differences: values of both signs, most of them near 0) are
drawn one way everywhere in cnnlib: a diverging colour map (:data:`SIGNED_CMAP`, red
positive, white 0, blue negative) on limits ``±L`` symmetric around 0, where ``L`` is a
robust maximum, the :data:`SIGNED_QUANTILE` quantile of ``|value|`` (:func:`signed_limit`),
so that a few strong pixels do not wash every other edge out to white; the strongest 1 %
saturate. :func:`signed_norm` gives that scale; ``show_images(..., signed=True)`` uses it
and adds a colour bar per signed panel and a line saying what the colours mean.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import Normalize

from .figure_output import legible_fontsize, readable_fontsize

__all__ = ["SIGNED_CMAP", "SIGNED_LEGEND", "SIGNED_QUANTILE", "show_images", "show_matrix",
           "signed_limit", "signed_norm", "to_numpy_image"]

#: The diverging colour map of signed maps: red positive, white 0, blue negative.
SIGNED_CMAP = "RdBu_r"
#: The quantile of ``|value|`` at which a signed map's colours saturate.
SIGNED_QUANTILE = 0.99
#: What the colours of a signed map mean, written under a figure that has one.
SIGNED_LEGEND = ("red: positive, white: 0, blue: negative; each colour bar ends at the 99th "
                 "percentile of |value|")


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


def signed_limit(x, quantile: float = SIGNED_QUANTILE) -> float:
    """The robust maximum ``L`` of a signed map: the ``quantile`` of ``|x|`` (NaNs ignored).

    ``x``: a tensor or array of any shape. Returns 1.0 when that quantile is 0 (a map that
    is 0 almost everywhere), so that ``±L`` stays a valid range.
    """
    if isinstance(quantile, bool) or not isinstance(quantile, (int, float)) or not (
            0 < quantile <= 1):
        raise ValueError(f"quantile must be a number in (0, 1], got {quantile!r}")
    arr = np.abs(torch.as_tensor(x).detach().to("cpu", torch.float64).numpy())
    if arr.size == 0 or np.isnan(arr).all():
        raise ValueError("x must hold at least one number")
    return float(np.nanquantile(arr, quantile)) or 1.0


def signed_norm(x, quantile: float = SIGNED_QUANTILE) -> Normalize:
    """The colour scale of a signed map: ``Normalize(−L, L)``, ``L = signed_limit(x)``.

    Draw with ``imshow(x, cmap=SIGNED_CMAP, norm=signed_norm(x))``: 0 is white, ``±L`` full
    red / blue, values beyond saturate.
    """
    limit = signed_limit(x, quantile)
    return Normalize(vmin=-limit, vmax=limit)


def _per_image(name: str, value, n: int) -> list[bool]:
    flags = [value] * n if isinstance(value, bool) else list(value)
    if len(flags) != n:
        raise ValueError(f"{name} must be a bool or one bool per image: {len(flags)} values "
                         f"for {n} images")
    return [bool(f) for f in flags]


def _signed_colorbar(fig, ax, im, limit: float, fontsize: float) -> None:
    bar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, ticks=[-limit, 0.0, limit])
    bar.ax.set_yticklabels([f"{-limit:.2g}", "0", f"{limit:.2g}"])
    bar.ax.tick_params(labelsize=fontsize)


def show_images(images: Sequence, titles: Sequence[str] | None = None, ncols: int | None = None,
                cmap: str = "gray", size: float = 2.6, symmetric: bool | Sequence[bool] = False,
                colorbar: bool = False, suptitle: str | None = None,
                signed: bool | Sequence[bool] = False, quantile: float = SIGNED_QUANTILE):
    """Show images side by side (small multiples); returns the ``Figure``.

    ``signed=True`` (or one flag per image) draws a signed map the book's way: diverging
    colours centred on 0, limits ``±signed_limit(image, quantile)`` (a robust maximum, see
    the module docstring), a colour bar with ``−L, 0, L``, and one line under the figure
    saying what the colours mean. ``symmetric=True`` is the exact variant for small arrays
    whose every value matters: limits ``±max |value|``, colour bar only with ``colorbar``.
    Text grows with the figure's width so that it stays legible on the website.
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
    sym, sig = _per_image("symmetric", symmetric, n), _per_image("signed", signed, n)
    width = size * ncols
    title_size = max(10.0, readable_fontsize(width))
    small = max(8.0, readable_fontsize(width))
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, size * nrows), squeeze=False)
    any_signed = False
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        arr = to_numpy_image(images[i])
        kwargs = {"cmap": cmap}
        if sig[i] and arr.ndim == 2:
            kwargs = {"cmap": SIGNED_CMAP, "norm": signed_norm(arr, quantile)}
        elif sym[i] and arr.ndim == 2:
            vmax = float(np.abs(arr).max()) or 1.0
            kwargs = {"cmap": SIGNED_CMAP, "vmin": -vmax, "vmax": vmax}
        im = ax.imshow(arr, **kwargs)
        if titles is not None:
            ax.set_title(titles[i], fontsize=title_size)
        if sig[i] and arr.ndim == 2:
            any_signed = True
            _signed_colorbar(fig, ax, im, kwargs["norm"].vmax, small)
        elif colorbar and arr.ndim == 2:
            bar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
            bar.ax.tick_params(labelsize=small)
    if suptitle:
        fig.suptitle(suptitle, fontsize=max(12.0, title_size))
    fig.tight_layout()
    if any_signed:
        legend = SIGNED_LEGEND.replace("99th", _ordinal(quantile))
        legend = textwrap.fill(legend, max(30, int(width * 72 / (0.55 * small))))
        fig.text(0.5, 0.0, legend, ha="center", va="top", fontsize=small)
    plt.close(fig)
    return fig


def _ordinal(quantile: float) -> str:
    p = round(100 * quantile, 1)
    p = int(p) if float(p).is_integer() else p
    suffix = "th"
    if isinstance(p, int) and p % 100 not in (11, 12, 13):
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(p % 10, "th")
    return f"{p}{suffix}"


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
        size = legible_fontsize(fig, 8)
        for (i, j), v in np.ndenumerate(arr):
            if v != 0:  # white on the darkest cells, black elsewhere
                color = "white" if abs(v) > 0.6 * vmax else "black"
                ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=size,
                        color=color)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=legible_fontsize(fig, 10))
    if own_figure:
        plt.close(fig)
    return fig
