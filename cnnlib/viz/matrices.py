"""Figures for the matrix views of convolution: products, side-by-side matrices, sparsity.

The heat maps are :func:`cnnlib.viz.images.show_matrix` (centred on 0, zeros white). This module
lays several of them out so that **one matrix entry has the same size in every panel** — a
``6 × 8`` Toeplitz matrix next to an ``8 × 8`` circulant looks exactly 2 rows shorter — and
adds what the chapter needs around them:

- :func:`show_product`: ``y = A x`` drawn as three heat maps, vectors as columns;
- :func:`show_matrices`: matrices side by side, optionally with block grid lines;
- :func:`outline_entries`: frame selected entries of a drawn matrix (e.g. those that wrap
  around in a circulant);
- :func:`plot_density`: the fraction of non-zero entries against the signal length, measured
  and predicted.

Every function that makes a figure closes it and returns it, so a notebook cell ending with
the call shows it once.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Rectangle

from .figure_output import legible_fontsize
from .images import show_matrix

__all__ = ["outline_entries", "plot_density", "show_matrices", "show_product"]

_MAX_CELL = 0.42  # inches per matrix entry, for small matrices
_MARGIN = 0.25  # inches around the panels
_TITLE_ROOM = 0.5  # inches above the panels for their titles


def _as_matrix(name: str, m) -> np.ndarray:
    """A real 2-D array from a tensor or array; a 1-D vector becomes a column."""
    t = torch.as_tensor(m).detach().to("cpu")
    if t.is_complex():
        raise TypeError(f"{name} must be real; show its .abs() or .real, got dtype {t.dtype}")
    if t.dim() == 1:
        t = t[:, None]
    if t.dim() != 2:
        raise ValueError(f"{name} must be a matrix (2-D) or a vector (1-D), got shape "
                         f"{tuple(t.shape)}")
    return t.to(torch.float64).numpy()


def _panels(shapes: Sequence[tuple[int, int]], gap: float, cell: float | None,
            max_width: float, max_height: float):
    """A figure with one Axes per ``(rows, cols)`` shape, all entries the same size.

    Panels sit in a row, ``gap`` entries apart, vertically centred. Returns the figure, the
    axes and the x positions (figure fraction) of the middles of the gaps.
    """
    total_w = sum(c for _, c in shapes) + gap * (len(shapes) - 1)
    total_h = max(r for r, _ in shapes)
    if cell is None:
        cell = min(_MAX_CELL, max_width / total_w, max_height / total_h)
    fig_w = total_w * cell + 2 * _MARGIN
    fig_h = total_h * cell + _MARGIN + _TITLE_ROOM
    fig = plt.figure(figsize=(fig_w, fig_h))
    axes, gaps, x = [], [], _MARGIN
    for k, (r, c) in enumerate(shapes):
        bottom = _MARGIN + (total_h - r) * cell / 2
        axes.append(fig.add_axes((x / fig_w, bottom / fig_h, c * cell / fig_w, r * cell / fig_h)))
        x += c * cell
        if k < len(shapes) - 1:
            gaps.append((x + gap * cell / 2) / fig_w)
            x += gap * cell
    return fig, axes, gaps, cell


def _annotate(annotate: bool | None, cell: float, shape: tuple[int, int]) -> bool:
    """Write values in only where they fit: big enough entries, small enough matrices."""
    if annotate is not None:
        return annotate
    return cell >= 0.3 and max(shape) <= 12


def show_matrices(matrices: Sequence, titles: Sequence[str] | None = None, *,
                  annotate: bool | None = None, blocks: Sequence | None = None,
                  fmt: str = "{:.2g}", gap: float = 1.5, cell: float | None = None,
                  max_width: float = 7.3, max_height: float = 4.5,
                  suptitle: str | None = None):
    """Heat maps of matrices side by side, one entry the same size in all of them.

    Args:
        matrices: 2-D tensors or arrays (1-D ones are drawn as columns); real values.
        titles: one per matrix.
        annotate: write the non-zero values in; by default only where they fit.
        blocks: per matrix, ``None`` or a block shape ``(rows, cols)``: grid lines are drawn
          between the blocks (for block matrices such as the doubly block Toeplitz matrix).
        gap: space between panels, in matrix entries.
        cell: size of one entry in inches (default: as large as ``max_width`` ×
          ``max_height`` inches allow, at most 0.42; the default width keeps the figure
          within the website's column, so its text is not scaled down).

    Returns:
        the (closed) ``Figure``; its axes are the panels, in order.
    """
    arrays = [_as_matrix(f"matrices[{i}]", m) for i, m in enumerate(matrices)]
    if not arrays:
        raise ValueError("matrices must hold at least one matrix, got an empty sequence")
    if titles is not None and len(titles) != len(arrays):
        raise ValueError(f"titles must have one entry per matrix: {len(titles)} titles for "
                         f"{len(arrays)} matrices")
    if blocks is not None and len(blocks) != len(arrays):
        raise ValueError(f"blocks must have one entry per matrix (None for no blocks): "
                         f"{len(blocks)} entries for {len(arrays)} matrices")
    fig, axes, _, cell = _panels([a.shape for a in arrays], gap, cell, max_width, max_height)
    for k, (ax, arr) in enumerate(zip(axes, arrays, strict=True)):
        show_matrix(arr, title=titles[k] if titles else None, ax=ax, fmt=fmt,
                    annotate=_annotate(annotate, cell, arr.shape))
        if blocks is not None and blocks[k] is not None:
            _block_lines(ax, arr.shape, blocks[k])
    if suptitle:
        fig.suptitle(suptitle, y=1.0, va="bottom")
    plt.close(fig)
    return fig


def _block_lines(ax, shape: tuple[int, int], block) -> None:
    rows, cols = shape
    br, bc = block
    if not (isinstance(br, int) and isinstance(bc, int) and br > 0 and bc > 0
            and rows % br == 0 and cols % bc == 0):
        raise ValueError(f"block shape must be two positive ints dividing the matrix shape "
                         f"{shape}, got {tuple(block)}")
    for r in range(br, rows, br):
        ax.axhline(r - 0.5, color="0.35", lw=0.8)
    for c in range(bc, cols, bc):
        ax.axvline(c - 0.5, color="0.35", lw=0.8)


def show_product(a, x, y, names: Sequence[str] = ("y", "A", "x"), *,
                 annotate: bool | None = None, fmt: str = "{:.2g}", cell: float | None = None,
                 max_width: float = 7.3, max_height: float = 4.5,
                 suptitle: str | None = None):
    """The product ``y = A x`` drawn as heat maps: ``y``, then ``=``, ``A``, ``·``, ``x``.

    Args:
        a: matrix ``(o, n)``; x: vector ``(n,)`` or matrix ``(n, k)``; y: ``(o,)`` or
          ``(o, k)`` — the product itself (pass ``a @ x`` or the convolution it equals).
        names: titles of the three panels, in drawing order ``(y, A, x)``.

    Returns:
        the (closed) ``Figure``; its axes are ``y``, ``A``, ``x``.
    """
    mats = [_as_matrix("y", y), _as_matrix("A", a), _as_matrix("x", x)]
    (yr, yc), (ar, ac), (xr, xc) = (m.shape for m in mats)
    if ac != xr or ar != yr or xc != yc:
        raise ValueError(f"shapes do not make a product y = A x: y {(yr, yc)}, A {(ar, ac)}, "
                         f"x {(xr, xc)}")
    if len(names) != 3:
        raise ValueError(f"names must be three titles (y, A, x), got {len(names)}")
    fig, axes, gaps, cell = _panels([m.shape for m in mats], 1.5, cell, max_width, max_height)
    for ax, arr, name in zip(axes, mats, names, strict=True):
        show_matrix(arr, title=name, ax=ax, fmt=fmt,
                    annotate=_annotate(annotate, cell, arr.shape))
    middle = axes[1].get_position().y0 + axes[1].get_position().height / 2
    for xpos, symbol in zip(gaps, ("=", "·"), strict=True):
        fig.text(xpos, middle, symbol, ha="center", va="center",
                 fontsize=legible_fontsize(fig, 16))
    if suptitle:
        fig.suptitle(suptitle, y=1.0, va="bottom")
    plt.close(fig)
    return fig


def outline_entries(ax, mask, color: str = "black", linewidth: float = 1.2) -> int:
    """Frame the entries of the matrix drawn in ``ax`` where ``mask`` is True.

    ``mask`` is a boolean ``(rows, cols)`` tensor or array matching the matrix drawn by
    ``imshow`` (entry ``(i, j)`` centred at ``x = j, y = i``). Returns the number of frames.
    """
    m = np.asarray(torch.as_tensor(mask).detach().cpu())
    if m.ndim != 2 or m.dtype != np.bool_:
        raise ValueError(f"mask must be a 2-D boolean matrix, got shape {m.shape} and dtype "
                         f"{m.dtype}")
    for i, j in zip(*np.nonzero(m), strict=True):
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor=color,
                               linewidth=linewidth))
    return int(m.sum())


def plot_density(ns: Sequence[int], measured: Sequence[float],
                 predicted: Sequence[float] | None = None, *, ax=None,
                 label: str = "measured", predicted_label: str = "formula",
                 title: str | None = None, logy: bool = True):
    """The fraction of non-zero entries of a matrix against the signal length ``n``.

    ``measured`` is drawn as markers, ``predicted`` (the formula) as a line through the same
    ``ns``. Call it twice with the same ``ax`` to compare two paddings. Returns the figure.
    """
    ns = [int(n) for n in ns]
    if len(ns) == 0 or len(measured) != len(ns):
        raise ValueError(f"ns and measured must be non-empty and of equal length, got "
                         f"{len(ns)} and {len(measured)}")
    if predicted is not None and len(predicted) != len(ns):
        raise ValueError(f"predicted must have one value per n: {len(predicted)} values for "
                         f"{len(ns)} lengths")
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(5.2, 3.4))
    else:
        fig = ax.figure
    (marks,) = ax.plot(ns, measured, "o", label=label)
    if predicted is not None:
        ax.plot(ns, predicted, "-", color=marks.get_color(), alpha=0.6, label=predicted_label)
    ax.set_xlabel("signal length n")
    ax.set_ylabel("fraction of non-zero entries")
    if logy:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=legible_fontsize(fig, 8))
    if title:
        ax.set_title(title, fontsize=legible_fontsize(fig, 10))
    if own:
        fig.tight_layout()
        plt.close(fig)
    return fig
