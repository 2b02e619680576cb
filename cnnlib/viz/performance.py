"""Figures of chapter 9, "How convolution is computed": times, rates and memory.

The numbers come from :mod:`cnnlib.benchmark` (the timing) and :mod:`cnnlib.performance`
(what the chapter derives from it). Each function closes its figure and returns it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt

from ..performance import format_bytes
from .figure_output import legible_fontsize

__all__ = ["METHOD_COLORS", "draw_memory", "plot_memory", "plot_rates", "plot_times"]


#: One colour per contender, the same in every figure of the chapter.
METHOD_COLORS = {"loop": "tab:red", "toeplitz": "tab:purple", "im2col": "tab:blue",
                 "fft": "tab:green", "torch": "black", "winograd": "tab:orange",
                 "matmul": "tab:gray"}


def _label(name: str, labels: Mapping[str, str] | None) -> str:
    return (labels or {}).get(name, name)


def plot_times(times: Mapping[str, Mapping], xlabel: str, title: str = "",
               crossovers: Mapping[str, float | None] | None = None,
               labels: Mapping[str, str] | None = None, size=(7.8, 4.0)):
    """Seconds per call against ``x`` for every method, on log–log axes (a power law
    ``t ∝ x^a`` is a straight line of slope ``a``). ``crossovers``: ``{text: x}`` drawn as
    dotted vertical lines (``None`` values are skipped); ``labels`` renames methods in the
    legend."""
    fig, ax = plt.subplots(figsize=size)
    for name, series in times.items():
        xs = list(series)
        ax.plot(xs, [1e3 * series[x] for x in xs], "o-", ms=4, label=_label(name, labels),
                color=METHOD_COLORS.get(name))
    for i, (text, x) in enumerate((crossovers or {}).items()):
        if x is None:
            continue
        ax.axvline(x, ls=":", color="0.4")
        ax.annotate(text, (x, 0.97 - 0.07 * i), xycoords=("data", "axes fraction"),
                    xytext=(4, 0), textcoords="offset points",
                    fontsize=legible_fontsize(fig, 8), va="top",
                    color="0.3")
    ax.set_xscale("log")
    ax.set_yscale("log")
    xs = sorted({x for s in times.values() for x in s})
    ax.set_xticks(xs, [str(x) for x in xs], minor=False)
    ax.minorticks_off()
    ax.set_xlabel(xlabel)
    ax.set_ylabel("time per call (ms, log scale)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=legible_fontsize(fig, 8), loc="upper left", bbox_to_anchor=(1.01, 1.0),
              frameon=False)
    if title:
        ax.set_title(title, fontsize=legible_fontsize(fig, 10))
    fig.tight_layout()
    plt.close(fig)
    return fig


def plot_rates(records: Sequence[Mapping], labels: Mapping[str, str] | None = None,
               size=(6.4, 3.0)):
    """Achieved GFLOP/s per contender (from :func:`measure_rates`) as horizontal bars on a
    log axis, with the matrix product's rate as the dashed "practical peak" line and each
    bar's share of it."""
    peak = next((r for r in records if r["name"] == "matmul"), None)
    if peak is None:
        raise ValueError("records must include the 'matmul' record of measure_rates")
    rows = [r for r in records if r["name"] != "matmul"]
    fig, ax = plt.subplots(figsize=size)
    names = [_label(r["name"], labels) for r in rows]
    ax.barh(names, [r["gflops"] for r in rows],
            color=[METHOD_COLORS.get(r["name"], "tab:gray") for r in rows])
    ax.axvline(peak["gflops"], ls="--", color="0.3",
               label=f"matrix product (practical peak): {peak['gflops']:.3g} GFLOP/s")
    for i, r in enumerate(rows):
        share = 100 * r["fraction"]
        ax.annotate(f" {r['gflops']:.3g} ({share:.0f}% of peak)" if share >= 10 else
                    f" {r['gflops']:.3g} ({share:.2g}% of peak)", (r["gflops"], i),
                    va="center", fontsize=legible_fontsize(fig, 8),
                    bbox={"fc": "white", "ec": "none", "pad": 0.5})
    ax.legend(fontsize=legible_fontsize(fig, 8), loc="lower right")
    ax.set_xscale("log")
    ax.set_xlim(min(r["gflops"] for r in records) / 3, peak["gflops"] * 30)
    ax.invert_yaxis()
    ax.set_xlabel("achieved GFLOP/s (log scale)")
    fig.tight_layout()
    plt.close(fig)
    return fig


def draw_memory(ax, costs: Mapping[str, int], title: str = "") -> None:
    """Horizontal bars of ``{name: bytes}`` on a log axis, each labelled with its size."""
    names = list(costs)
    values = [max(costs[n], 1) for n in names]
    colors = {"im2col matrix": METHOD_COLORS["im2col"], "FFT spectra": METHOD_COLORS["fft"],
              "Toeplitz matrix": METHOD_COLORS["toeplitz"]}
    small = legible_fontsize(ax.figure, 8)
    ax.barh(names, values, color=[colors.get(n, "0.6") for n in names])
    for i, v in enumerate(values):
        ax.annotate(" " + format_bytes(v), (v, i), va="center", fontsize=small,
                    bbox={"fc": "white", "ec": "none", "pad": 0.5})
    ax.set_xscale("log")
    ax.set_xlim(min(values) / 2, max(values) * 200)
    ax.invert_yaxis()
    ax.set_xlabel("bytes (log scale)", fontsize=legible_fontsize(ax.figure, 9))
    ax.tick_params(axis="both", labelsize=small)
    if title:
        ax.set_title(title, fontsize=legible_fontsize(ax.figure, 9))


def plot_memory(layers: Mapping[str, Mapping[str, int]], size=(3.9, 2.6), ncols: int = 2):
    """One panel of :func:`draw_memory` bars per layer: ``{title: memory_costs(...)}``,
    ``ncols`` per row, each ``size`` inches."""
    if not layers:
        raise ValueError("layers must be a non-empty dict {title: memory_costs(...)}")
    ncols = min(ncols, len(layers))
    nrows = -(-len(layers) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows),
                             squeeze=False)
    for ax in axes.flat[len(layers):]:
        ax.axis("off")
    for ax, (title, costs) in zip(axes.flat, layers.items(), strict=False):
        draw_memory(ax, costs, title)
    fig.tight_layout()
    plt.close(fig)
    return fig
