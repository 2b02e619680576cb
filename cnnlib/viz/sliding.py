"""Shift, multiply, sum, drawn: the steps of a 1D convolution as rows of cells (chapter 2).

:func:`cnnlib.sliding.conv1d_steps` computes what each step shows; here

- :func:`draw_step` draws one step as four rows of cells: the padded input with the window
  highlighted, the kernel placed under the window, the products, and the output so far (lines
  join the products to the output they sum into).
- :func:`show_steps` draws several steps side by side (small multiples); an animation is
  :func:`draw_step` over the steps (see :mod:`cnnlib.viz.explorers.conv1d`).
- :func:`show_signals` plots signals against time (raw vs filtered).

Every drawing function closes its figure and returns it, so a notebook cell ending with the
call shows it once. Texts carry a ``gid`` (``"x"``, ``"h"``, ``"product"``, ``"y"``,
``"formula"``) so tests can read back what a figure displays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Rectangle

from .._validate import check_positive_int
from ..sliding import Step, conv1d_steps, format_number
from .figure_output import legible_fontsize

__all__ = ["draw_step", "show_signals", "show_steps"]


# colours of the cells
_PAD, _INPUT, _WINDOW = "#e6e6e6", "#ffffff", "#ffd28a"


_KERNEL, _PRODUCT, _OUTPUT, _CURRENT = "#a9cdf0", "#c9e8b5", "#f1f1f1", "#f08a5d"


_ROWS = {"x": 3.0, "h": 2.0, "product": 1.0, "y": -0.4}


_LABELS = {"x": "x", "h": "h", "product": "h·x", "y": "y"}


def _cell(ax, col, row, text, face, gid, fontsize, color="black", edge="#555555", style="-"):
    ax.add_patch(Rectangle((col - 0.45, row - 0.4), 0.9, 0.8, facecolor=face, edgecolor=edge,
                           linestyle=style, linewidth=0.8))
    if text is not None:
        ax.text(col, row, text, ha="center", va="center", fontsize=fontsize, color=color,
                gid=gid)


def _formula(step: Step, max_terms: int = 4) -> str:
    terms = [f"{format_number(a)}·{format_number(b)}"
             for a, b in zip(step.kernel, step.window, strict=True)]
    if len(terms) > max_terms:
        terms = [*terms[:2], "…", terms[-1]]
    return f"y[{step.index}] = " + " + ".join(terms) + f" = {format_number(step.value)}"


def _cell_fontsize(ax, length: int, step: Step, formula: bool) -> float:
    """A font size that fits a cell of the drawing (a third of its side, 6 to 11 pt) and is
    at least what the figure's width needs to stay legible on the website."""
    fig_w, fig_h = ax.figure.get_size_inches()
    box = ax.get_position()
    units_w = max(length, (step.n_outputs - 1) * step.stride + len(step.kernel)) + 1.8
    units_h = _ROWS["x"] - _ROWS["y"] + (2.2 if formula else 1.3)
    unit_pt = 72 * min(box.width * fig_w / units_w, box.height * fig_h / units_h)
    return max(float(np.clip(unit_pt / 3, 6, 11)), legible_fontsize(ax.figure, 7))


def draw_step(step: Step, ax=None, *, fontsize: float | None = None, formula: bool = True):
    """Draw one step of a 1D convolution; returns the ``Figure``.

    Rows, top to bottom: the padded input ``x`` (padding zeros grey, the window under the
    kernel orange), the kernel ``h`` under the window, the products ``h_j·x`` (green) and the
    outputs ``y`` — computed ones filled, the current one red, later ones empty, each placed
    under the centre of its window. With ``formula=True`` the sum is written below.
    """
    if not isinstance(step, Step):
        raise TypeError(f"step must be a Step from conv1d_steps(), got {type(step).__name__}")
    own_figure = ax is None
    length, m = len(step.padded), len(step.kernel)
    if own_figure:
        fig, ax = plt.subplots(figsize=(max(4.0, 0.5 * length + 1.2), 3.0))
    fig = ax.figure
    fs = fontsize or _cell_fontsize(ax, length, step, formula)
    left, right = step.padding
    for c, v in enumerate(step.padded):
        in_window = step.start <= c < step.start + m
        is_pad = c < left or c >= length - right
        face = _WINDOW if in_window else (_PAD if is_pad else _INPUT)
        _cell(ax, c, _ROWS["x"], format_number(v), face, "x", fs,
              color="#888888" if is_pad else "black")
    for j in range(m):
        c = step.start + j
        _cell(ax, c, _ROWS["h"], format_number(step.kernel[j]), _KERNEL, "h", fs)
        _cell(ax, c, _ROWS["product"], format_number(step.products[j]), _PRODUCT, "product", fs)
    centre = (m - 1) / 2
    out_col = step.start + centre
    for k, v in enumerate(step.outputs):
        col = k * step.stride + centre
        if k < step.index:
            _cell(ax, col, _ROWS["y"], format_number(v), _OUTPUT, "y", fs)
        elif k == step.index:
            _cell(ax, col, _ROWS["y"], format_number(v), _CURRENT, "y", fs)
        else:
            _cell(ax, col, _ROWS["y"], None, "none", "y", fs, edge="#aaaaaa", style=":")
    for j in range(m):  # the products flow into the current output
        ax.plot([step.start + j, out_col], [_ROWS["product"] - 0.4, _ROWS["y"] + 0.4],
                color=_CURRENT, linewidth=0.8, alpha=0.8)
    for name, row in _ROWS.items():
        ax.text(-0.8, row, _LABELS[name], ha="right", va="center", fontsize=fs + 1,
                style="italic", gid="label")
    if formula:
        ax.text((length - 1) / 2, _ROWS["y"] - 0.85, _formula(step), ha="center", va="top",
                fontsize=fs + 1, gid="formula")
    ax.set_xlim(-2.2, max(length, (step.n_outputs - 1) * step.stride + m) - 0.4)
    ax.set_ylim(_ROWS["y"] - (1.6 if formula else 0.7), _ROWS["x"] + 0.6)
    ax.set_aspect("equal")
    ax.axis("off")
    if own_figure:
        fig.tight_layout()
        plt.close(fig)
    return fig


def show_steps(x, h, stride: int = 1, padding=0, steps: Sequence[int] | None = None,
               ncols: int = 2, size: float = 0.42):
    """Small multiples: one panel per step of the 1D convolution of ``x`` with ``h``.

    ``steps``: which output indices to draw (default: all). Returns the ``Figure``.
    """
    all_steps = conv1d_steps(x, h, stride=stride, padding=padding)
    o = len(all_steps)
    chosen = list(range(o)) if steps is None else list(steps)
    bad = [i for i in chosen if not (isinstance(i, int) and 0 <= i < o)]
    if not chosen or bad:
        raise ValueError(f"steps must be output indices in 0 … {o - 1}, got {steps!r}")
    ncols = check_positive_int("ncols", ncols)
    ncols = min(ncols, len(chosen))
    nrows = -(-len(chosen) // ncols)
    length = len(all_steps[0].padded)
    width = size * (length + 3)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, 2.8 * nrows), squeeze=False)
    for ax in axes.flat[len(chosen):]:
        ax.axis("off")
    for ax, i in zip(axes.flat, chosen, strict=False):
        draw_step(all_steps[i], ax)
        ax.set_title(f"step {i}", fontsize=legible_fontsize(fig, 10))
    fig.tight_layout()
    plt.close(fig)
    return fig


def show_signals(t, signals: Mapping[str, object], title: str | None = None,
                 ylabel: str | None = None, xlabel: str | None = None, ax=None,
                 figsize: tuple[float, float] = (7.4, 3.0),
                 styles: Mapping[str, dict] | None = None):
    """Plot named 1-D signals against ``t`` (numbers or dates) on one Axes; returns the Figure.

    The legend sits to the right of the plot, so it never hides a curve.

    A signal may be shorter than ``t`` (a valid convolution): give it as ``(t_k, values)``
    to place it on its own time axis. ``styles`` maps a name to extra ``plot`` arguments.
    """
    if not signals:
        raise ValueError("signals must name at least one signal, got an empty mapping")
    own_figure = ax is None
    if own_figure:
        fig, ax = plt.subplots(figsize=figsize)
    fig = ax.figure
    t = np.asarray(t)
    for name, s in signals.items():
        ts, values = s if isinstance(s, tuple) else (t, s)
        values = torch.as_tensor(values).detach().to("cpu", torch.float64).numpy()
        ts = np.asarray(ts)
        if values.ndim != 1 or len(values) != len(ts):
            raise ValueError(
                f"signal {name!r} must be 1-D with one value per time step: {len(ts)} times, "
                f"shape {values.shape}"
            )
        ax.plot(ts, values, label=name, **(styles or {}).get(name, {"linewidth": 1.2}))
    # the legend sits outside, right of the axes: count about 2 inches for it
    width = fig.get_size_inches()[0] + 2.0
    ax.legend(fontsize=legible_fontsize(width, 9), loc="upper left", bbox_to_anchor=(1.01, 1.0),
              frameon=False)
    ax.tick_params(labelsize=legible_fontsize(width, 10))
    if title:
        ax.set_title(title, fontsize=legible_fontsize(width, 11))
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=legible_fontsize(width, 10))
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=legible_fontsize(width, 10))
    ax.grid(alpha=0.3)
    if own_figure:
        if np.issubdtype(t.dtype, np.datetime64):
            fig.autofmt_xdate()
        fig.tight_layout()
        plt.close(fig)
    return fig
