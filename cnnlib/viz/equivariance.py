"""Figures of chapter 1 (structure, invariance and equivariance).

- :func:`show_signal_rows` — real signals, one row each;
- :func:`show_lag_correlation` — locality: correlation against distance;
- :func:`show_patch_matches` — self-similarity: patches and their best matches;
- :func:`show_sensitivity` — how much representations change under a growing warp;
- :func:`show_change_grid` — the change of each representation against each measure of the
  transformation (e.g. the size and the gradient of a displacement field), for several
  families of transformations.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch

from ..equivariance import PatchMatch
from .figure_output import legible_fontsize
from .images import to_numpy_image

__all__ = ["show_change_grid", "show_lag_correlation", "show_patch_matches", "show_sensitivity",
           "show_signal_rows"]


# ------------------------------------------------------------------------------ figures
def show_signal_rows(signals: Sequence[tuple], title: str | None = None,
                     size=(10, 2.2)):
    """One row per signal: ``signals = [(t, values, label), …]`` with ``values`` ``(T,)`` or
    ``(K, T)`` (``K`` curves stacked with an offset). Returns the closed ``Figure``."""
    fig, axes = plt.subplots(len(signals), 1, figsize=(size[0], size[1] * len(signals)),
                             squeeze=False)
    for ax, (t, values, label) in zip(axes[:, 0], signals, strict=True):
        v = torch.as_tensor(values).detach().cpu().to(torch.float64)
        v = v[None] if v.dim() == 1 else v
        spread = 3 * float(v.std()) if v.shape[0] > 1 else 0.0
        for k, row in enumerate(v):
            ax.plot(t, row.numpy() - k * spread, lw=0.8)
        ax.set_title(label, fontsize=legible_fontsize(fig, 10), loc="left")
        ax.tick_params(labelsize=legible_fontsize(fig, 10))
        if v.shape[0] > 1:
            ax.set_yticks([])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    plt.close(fig)
    return fig


def show_lag_correlation(curves: dict, xlabel: str = "distance d (samples or pixels)",
                         title: str | None = None, size=(6, 3.2)):
    """Correlation ``r(d)`` against ``d``, one line per entry of ``curves = {label: r}``."""
    fig, ax = plt.subplots(figsize=size)
    for label, r in curves.items():
        r = torch.as_tensor(r).detach().cpu()
        ax.plot(range(len(r)), r.numpy(), marker=".", label=label)
    ax.axhline(0, color="gray", lw=0.6)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("correlation r(d)")
    lowest = min(float(torch.as_tensor(r).min()) for r in curves.values())
    ax.set_ylim(min(-0.2, lowest - 0.05), 1.05)
    ax.legend(fontsize=legible_fontsize(fig, 8))
    if title:
        ax.set_title(title, fontsize=legible_fontsize(fig, 10))
    fig.tight_layout()
    plt.close(fig)
    return fig


def show_patch_matches(image: torch.Tensor, matches: Sequence[PatchMatch], patch_size: int,
                       title: str | None = None, size: float = 5.0):
    """The image with each query patch (solid) joined to its best match (dashed)."""
    arr = to_numpy_image(image)
    h, w = arr.shape[:2]
    fig, ax = plt.subplots(figsize=(size, size * h / w))
    ax.imshow(arr, cmap="gray")
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, m in enumerate(matches):
        colour = colours[i % len(colours)]
        for (r, c), style in ((m.query, "-"), (m.match, "--")):
            ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), patch_size, patch_size, fill=False,
                                       edgecolor=colour, lw=2, ls=style))
        half = patch_size / 2 - 0.5
        ax.plot([m.query[1] + half, m.match[1] + half], [m.query[0] + half, m.match[0] + half],
                color=colour, lw=1)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=legible_fontsize(fig, 10))
    fig.tight_layout()
    plt.close(fig)
    return fig


def show_sensitivity(magnitudes: Sequence[float], curves: dict,
                     xlabel: str = "size of the warp (pixels)",
                     ylabel: str = "relative change", title: str | None = None,
                     size=(6, 3.2)):
    """How much each representation changes (``curves = {label: values}``) against the size
    of a transformation (``magnitudes``), one line per representation."""
    fig, ax = plt.subplots(figsize=size)
    for label, values in curves.items():
        values = [float(v) for v in values]
        if len(values) != len(magnitudes):
            raise ValueError(f"curve {label!r} has {len(values)} values for "
                             f"{len(magnitudes)} magnitudes")
        ax.plot(list(magnitudes), values, marker="o", label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=legible_fontsize(fig, 8))
    if title:
        ax.set_title(title, fontsize=legible_fontsize(fig, 10))
    fig.tight_layout()
    plt.close(fig)
    return fig


def _floats(values) -> list[float]:
    return [float(v) for v in torch.as_tensor(values).detach().cpu().reshape(-1)]


def show_change_grid(measures: dict, changes: dict, ylabel: str = "relative change",
                     title: str | None = None, size=(4.2, 2.9)):
    """A grid of scatter-and-line panels: one row per representation, one column per measure.

    ``measures = {measure label: {family: x values}}`` (e.g. ``"max |τ|"`` and ``"max ‖∇τ‖"``
    for the families ``"translations"`` and ``"deformations"``);
    ``changes = {representation label: {family: y values}}``. Every family of every measure
    and representation must have the same number of values as in the first measure. Families
    keep one marker and colour across the grid; each panel's axes start at 0.
    Returns the closed ``Figure``.
    """
    if not measures or not changes:
        raise ValueError("measures and changes must each hold at least one entry")
    first = next(iter(measures.values()))
    counts = {family: len(_floats(xs)) for family, xs in first.items()}
    for kind, table in (("measures", measures), ("changes", changes)):
        for label, by_family in table.items():
            if set(by_family) != set(counts):
                raise ValueError(f"{kind}[{label!r}] must have the families {sorted(counts)}, "
                                 f"got {sorted(by_family)}")
            for family, values in by_family.items():
                if len(_floats(values)) != counts[family]:
                    raise ValueError(f"{kind}[{label!r}][{family!r}] has "
                                     f"{len(_floats(values))} values, expected "
                                     f"{counts[family]}")
    rows, cols = len(changes), len(measures)
    fig, axes = plt.subplots(rows, cols, figsize=(size[0] * cols, size[1] * rows),
                             squeeze=False)
    markers = "osD^v<>"
    for r, (rep, ys_by_family) in enumerate(changes.items()):
        for c, (measure, xs_by_family) in enumerate(measures.items()):
            ax = axes[r, c]
            for k, family in enumerate(counts):
                xs, ys = _floats(xs_by_family[family]), _floats(ys_by_family[family])
                order = sorted(range(len(xs)), key=lambda i, xs=xs: xs[i])
                ax.plot([xs[i] for i in order], [ys[i] for i in order],
                        marker=markers[k % len(markers)], color=f"C{k}", label=family)
            # start both axes at 0, with a small margin so that points on 0 stay whole
            ax.set_ylim(bottom=-0.04 * ax.get_ylim()[1])
            ax.set_xlim(left=-0.04 * ax.get_xlim()[1])
            ax.set_xlabel(measure, fontsize=legible_fontsize(fig, 10))
            ax.set_ylabel(f"{ylabel}\n{rep}" if c == 0 else "",
                          fontsize=legible_fontsize(fig, 10))
            ax.tick_params(labelsize=legible_fontsize(fig, 10))
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=legible_fontsize(fig, 8))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    plt.close(fig)
    return fig
