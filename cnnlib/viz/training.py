"""Figures of chapters 7 and 8: learning curves, learned filters, feature maps, comparisons.

Every function draws with matplotlib, closes the figure and returns it (a notebook cell
ending with the call shows it once). Tensors may live on any device; they are copied to
the CPU for drawing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..training import History
from .figure_output import legible_fontsize
from .images import SIGNED_CMAP, to_numpy_image

__all__ = ["montage", "plot_bars", "plot_curves", "plot_history", "show_feature_maps",
           "show_filters"]

TRAIN_COLOR, VAL_COLOR = "tab:blue", "tab:red"


def plot_history(histories: Mapping[str, History], metric: str = "error", log: bool = True,
                 size: tuple[float, float] = (4.6, 3.4)):
    """Training (blue) and validation (red) curves of several runs, side by side.

    ``histories``: ``{title: History}``, one panel each, sharing the y axis. ``metric``:
    ``"error"`` (1 − accuracy, in %), ``"accuracy"`` (in %) or ``"loss"`` (cross-entropy),
    against epochs; ``log`` draws the y axis on a log scale (default for error and loss).
    """
    if not isinstance(histories, Mapping) or not histories:
        raise ValueError("histories must be a non-empty dict {title: History}")
    if metric not in ("error", "accuracy", "loss"):
        raise ValueError(f"metric must be 'error', 'accuracy' or 'loss', got {metric!r}")
    n = len(histories)
    fig, axes = plt.subplots(1, n, figsize=(size[0] * n, size[1]), sharey=True, squeeze=False)
    small, big = legible_fontsize(fig, 9), legible_fontsize(fig, 11)
    for ax, (title, h) in zip(axes[0], histories.items(), strict=True):
        if not isinstance(h, History):
            raise TypeError(f"histories[{title!r}] must be a History, got {type(h).__name__}")
        if metric == "loss":
            train, val = h.train_loss, h.val_loss
        elif metric == "error":
            train, val = [100 * e for e in h.train_error], [100 * e for e in h.val_error]
        else:
            train, val = [100 * a for a in h.train_acc], [100 * a for a in h.val_acc]
        ax.plot(h.epoch, train, "o-", color=TRAIN_COLOR, ms=3, label="training")
        if val:
            ax.plot(h.epoch, val, "o-", color=VAL_COLOR, ms=3, label="validation")
        ax.set_title(title, fontsize=big)
        ax.set_xlabel("epoch", fontsize=legible_fontsize(fig, 10))
        ax.grid(True, which="both", alpha=0.3)
        if log and metric != "accuracy":
            ax.set_yscale("log")
        ax.tick_params(which="both", labelsize=legible_fontsize(fig, 10))
    label = {"error": "error (%)", "accuracy": "accuracy (%)", "loss": "cross-entropy"}[metric]
    axes[0, 0].set_ylabel(label, fontsize=legible_fontsize(fig, 10))
    axes[0, 0].legend(fontsize=small)
    fig.tight_layout()
    plt.close(fig)
    return fig


def montage(maps: torch.Tensor, ncols: int | None = None, pad: int = 1,
            normalize: bool = True) -> torch.Tensor:
    """Tile ``maps: (C, H, W)`` into one ``(rows·(H+pad) − pad, cols·(W+pad) − pad)`` image.

    With ``normalize`` each map is scaled to [0, 1] on its own (``(m − min)/(max − min)``,
    a constant map becomes 0), so faint and strong channels are equally visible; the
    padding between tiles is NaN (drawn blank). ``ncols`` defaults to ⌈√C⌉.
    """
    if not isinstance(maps, torch.Tensor) or maps.dim() != 3:
        raise ValueError("maps must be a 3-D tensor (C, H, W), got "
                         f"{tuple(maps.shape) if isinstance(maps, torch.Tensor) else maps!r}")
    m = maps.detach().to("cpu", torch.float32)
    c, h, w = m.shape
    ncols = ncols or int(np.ceil(np.sqrt(c)))
    nrows = -(-c // ncols)
    if normalize:
        flat = m.reshape(c, -1)
        low = flat.min(dim=1).values.view(c, 1, 1)
        span = (flat.max(dim=1).values.view(c, 1, 1) - low)
        m = torch.where(span > 0, (m - low) / span.clamp_min(1e-12), torch.zeros_like(m))
    out = torch.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), float("nan"))
    for i in range(c):
        r, k = divmod(i, ncols)
        out[r * (h + pad):r * (h + pad) + h, k * (w + pad):k * (w + pad) + w] = m[i]
    return out


def show_filters(weight: torch.Tensor, ncols: int = 10, title: str | None = None,
                 size: float = 1.0):
    """The filters of a convolution, one small image per (output channel, input channel).

    ``weight: (C_out, C_in, kh, kw)`` (``conv.weight``). Each filter is drawn with a
    diverging colour map centred on 0 (red positive, blue negative) and its own scale, so
    the pattern it detects is visible whatever its magnitude. Only the first input channel
    is shown when ``C_in > 1``.
    """
    if not isinstance(weight, torch.Tensor) or weight.dim() != 4:
        raise ValueError("weight must be a 4-D tensor (C_out, C_in, kh, kw)")
    w = weight.detach().to("cpu", torch.float32)[:, 0]
    n = w.shape[0]
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.4),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            vmax = float(w[i].abs().max()) or 1.0
            ax.imshow(w[i].numpy(), cmap=SIGNED_CMAP, vmin=-vmax, vmax=vmax)
            ax.set_title(str(i), fontsize=legible_fontsize(fig, 7), pad=2)
    if title:
        fig.suptitle(title, fontsize=legible_fontsize(fig, 11))
    fig.tight_layout()
    plt.close(fig)
    return fig


def show_feature_maps(image: torch.Tensor, maps: Mapping[str, torch.Tensor],
                      size: float = 2.6, ncols: int = 3):
    """An input image and, after it, the feature maps of several layers as montages.

    ``image``: ``(1, H, W)`` or ``(H, W)``; ``maps``: ``{title: (C, h, w)}`` (one sample's
    activations, e.g. from :func:`cnnlib.models.activations`), each tiled by
    :func:`montage` (every map scaled to its own range: bright = strong response). Panels
    of ``size`` inches, ``ncols`` per row, read row by row: the input, then each layer.
    """
    if not isinstance(maps, Mapping) or not maps:
        raise ValueError("maps must be a non-empty dict {title: (C, h, w) tensor}")
    n = len(maps) + 1
    ncols = min(n, ncols)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (size + 0.3) * nrows),
                             squeeze=False)
    axes = axes.flat
    fontsize = legible_fontsize(fig, 10)
    axes[0].imshow(to_numpy_image(image), cmap="gray")
    axes[0].set_title("input", fontsize=fontsize)
    for ax, (title, m) in zip(axes[1:], maps.items(), strict=False):
        ax.imshow(montage(m).numpy(), cmap="magma")
        ax.set_title(f"{title}\n{m.shape[0]} maps of {m.shape[1]}×{m.shape[2]}",
                     fontsize=fontsize)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    plt.close(fig)
    return fig


def plot_curves(x: Sequence[float], curves: Mapping[str, Sequence[float]], xlabel: str,
                ylabel: str, title: str | None = None, size: tuple[float, float] = (5.5, 3.6)):
    """Several named curves ``y(x)`` on one axes (e.g. accuracy against shift, per model)."""
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError("curves must be a non-empty dict {label: values}")
    fig, ax = plt.subplots(figsize=size)
    for label, y in curves.items():
        if len(y) != len(x):
            raise ValueError(f"curves[{label!r}] has {len(y)} values for {len(x)} x values")
        ax.plot(list(x), list(y), "o-", label=label)
    if all(float(v).is_integer() for v in x) and len(x) <= 20:
        ax.set_xticks(list(x))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=legible_fontsize(fig, 9))
    if title:
        ax.set_title(title, fontsize=legible_fontsize(fig, 11))
    fig.tight_layout()
    plt.close(fig)
    return fig


def plot_bars(groups: Mapping[str, Mapping[str, float]], ylabel: str,
              title: str | None = None, fmt: str = "{:.2f}",
              size: tuple[float, float] = (5.5, 3.6), ylim: tuple[float, float] | None = None):
    """Grouped bars: ``groups = {group: {series: value}}``, e.g. ``{"MLP": {"original":
    98.1, "permuted": 98.0}, "LeNet": {…}}``; every bar is labelled with its value."""
    if not isinstance(groups, Mapping) or not groups:
        raise ValueError("groups must be a non-empty dict {group: {series: value}}")
    series = list(next(iter(groups.values())))
    for g, values in groups.items():
        if list(values) != series:
            raise ValueError(f"groups[{g!r}] must have the series {series}, got {list(values)}")
    fig, ax = plt.subplots(figsize=size)
    width = 0.8 / len(series)
    xs = np.arange(len(groups))
    for i, s in enumerate(series):
        values = [groups[g][s] for g in groups]
        bars = ax.bar(xs + (i - (len(series) - 1) / 2) * width, values, width, label=s)
        ax.bar_label(bars, labels=[fmt.format(v) for v in values],
                     fontsize=legible_fontsize(fig, 8), padding=2)
    ax.set_xticks(xs, list(groups))
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.legend(fontsize=legible_fontsize(fig, 9), loc="lower right")
    if title:
        ax.set_title(title, fontsize=legible_fontsize(fig, 11))
    fig.tight_layout()
    plt.close(fig)
    return fig
