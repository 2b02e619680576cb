"""Separable convolutions, drawn (chapter 5): how far a kernel is from rank 1, and what
a depthwise separable layer saves.

- :func:`plot_singular_values` — each kernel's singular values relative to the largest
  (rank from :func:`cnnlib.separable.kernel_rank`);
- :func:`plot_cost_ratios` — measured MAC and parameter ratios against ``C_out``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch

from ..separable import kernel_rank, singular_values
from .figure_output import legible_fontsize

__all__ = ["plot_cost_ratios", "plot_singular_values"]


def plot_singular_values(kernels: dict, *, ax=None, title: str | None = None):
    """Bar chart of each kernel's singular values ``σ_1, σ_2, …`` divided by ``σ_1``.

    ``kernels``: name → 2-D kernel. A separable kernel has one bar; the rank (from
    :func:`kernel_rank`) is written under each name. Returns the (closed, when made here)
    ``Figure``.
    """
    if not isinstance(kernels, dict) or not kernels:
        raise ValueError("kernels must be a non-empty dict {name: 2-D kernel}")
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(max(4.0, 1.1 * len(kernels) + 1), 3.0))
    fig = ax.figure
    width = 0.8 / max(min(k.shape) for k in kernels.values())
    colours = plt.get_cmap("viridis")
    labels = []
    for x, (name, kernel) in enumerate(kernels.items()):
        sigma = singular_values(kernel)
        scaled = (sigma / sigma[0]).tolist() if sigma[0] > 0 else sigma.tolist()
        for i, value in enumerate(scaled):
            ax.bar(x - 0.4 + (i + 0.5) * width, value, width * 0.9,
                   color=colours(i / max(len(scaled) - 1, 1)), gid=f"sigma:{name}:{i}")
        labels.append(f"{name}\nrank {kernel_rank(kernel)}")
    ax.set_xticks(range(len(kernels)), labels, fontsize=legible_fontsize(fig, 8))
    ax.set_ylabel("σᵢ / σ₁")
    ax.set_ylim(0, 1.1)
    ax.set_title(title or "singular values of each kernel (left to right: σ₁, σ₂, …)",
                 fontsize=legible_fontsize(fig, 10))
    if own:
        fig.tight_layout()
        plt.close(fig)
    return fig


def plot_cost_ratios(c_outs: Sequence[int], measured: dict, *, ax=None,
                     title: str | None = None):
    """Measured cost ratios of depthwise separable / full convolution against ``1/C_out + 1/k²``.

    ``measured``: kernel size ``k`` → one ratio per entry of ``c_outs`` (e.g. from counting
    real modules). Lines: the formula; markers: the measurements. Log-scaled ``C_out`` axis.
    Returns the (closed, when made here) ``Figure``.
    """
    c_outs = list(c_outs)
    if not c_outs or not isinstance(measured, dict) or not measured:
        raise ValueError("c_outs must be non-empty and measured a dict {k: [ratio per C_out]}")
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(5.0, 3.2))
    fig = ax.figure
    fine = torch.logspace(torch.log10(torch.tensor(min(c_outs))).item(),
                          torch.log10(torch.tensor(max(c_outs))).item(), 100).tolist()
    for k, ratios in measured.items():
        if len(ratios) != len(c_outs):
            raise ValueError(f"measured[{k}] must have one ratio per C_out ({len(c_outs)}), "
                             f"got {len(ratios)}")
        (line,) = ax.plot(fine, [1 / c + 1 / k**2 for c in fine], lw=1.2,
                          label=f"1/C_out + 1/{k}²")
        ax.plot(c_outs, ratios, "o", color=line.get_color(), ms=5,
                label=f"k = {k}, counted", gid=f"measured:{k}")
        ax.axhline(1 / k**2, color=line.get_color(), lw=0.6, ls=":")
    ax.set_xscale("log")
    ax.set_xticks(c_outs, [str(c) for c in c_outs])
    ax.set_xlabel("output channels C_out")
    ax.set_ylabel("separable / full")
    ax.set_ylim(0, None)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=legible_fontsize(fig, 7), ncols=2)
    ax.set_title(title or "parameters (= MACs) of depthwise separable vs full convolution",
                 fontsize=legible_fontsize(fig, 10))
    if own:
        fig.tight_layout()
        plt.close(fig)
    return fig
