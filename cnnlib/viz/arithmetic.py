"""Convolution arithmetic drawn as grids, in the manner of Dumoulin & Visin's figures.

V. Dumoulin and F. Visin, *A guide to convolution arithmetic for deep learning* (2016), draw a
convolution as two grids: the input (blue) with its zero padding (white, dashed), the kernel's
footprint shaded on it, and the output (teal) with the cell that footprint produces. This
module draws the same pictures for any input size, kernel size, stride, padding and dilation,
one output position ``(i, j)`` at a time:

    draw_conv_arithmetic(5, 3, stride=2, padding=1, position=(1, 0))

**The geometry first, the picture second.** :func:`cnnlib.arithmetic.conv_arithmetic`
computes what is drawn — the canvas of cells (input, padding or inserted zero), the output
shape, and for each output position the canvas cells under the kernel — as a
:class:`~cnnlib.arithmetic.ConvArithmetic`. The drawing only paints it, and every painted
cell carries a ``gid`` (``"footprint:row:col"``, ``"output:i:j"``, ...) so a test can read
the picture back. ``tests/test_viz_arithmetic.py``
proves that the input cells under the footprint are exactly the input elements that output
``(i, j)`` depends on, by autograd through ``torch.nn.functional.conv2d`` and
``conv_transpose2d``.

Along each dimension (padding ``p`` per side, as in PyTorch):

- convolution (``transposed=False``): the canvas is the input with ``p`` padding cells on each
  side; output ``i`` reads the canvas cells ``i·s + t·d`` for the taps ``t = 0, …, k − 1``, so
  ``o = ⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1``.
- transposed convolution (``transposed=True``): drawn as Dumoulin & Visin draw it, as the
  *direct* convolution with stride 1 that computes it. The stride becomes ``s − 1`` zeros
  **inserted** between neighbouring input cells (dotted cells), the padding becomes
  ``d(k − 1) − p`` cells on each side (plus ``output_padding`` more at the bottom/right), and
  the kernel moves one cell at a time; its weights are the transposed convolution's weights
  rotated by 180°. When ``p > d(k − 1)`` the padding is negative: the stretched input is
  cropped instead. Then ``o = (n − 1)s − 2p + d(k − 1) + output_padding + 1``.

Reuse (chapter 5, transposed convolutions): pass the **transposed convolution's own**
arguments — the ``stride``, ``padding``, ``output_padding`` and ``dilation`` one would give
``torch.nn.functional.conv_transpose2d`` — with ``transposed=True``; ``input_size`` is the
transposed convolution's input size. Every size argument is an int or an ``(h, w)`` pair.

Public functions: :func:`draw_conv_arithmetic` (one
picture), :func:`draw_conv_arithmetic_cases` (small multiples of several settings) and
:func:`conv_arithmetic_explorer` (a slider over the output positions; an offline HTML
animation on the static website).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.patches import FancyArrowPatch, Patch, Rectangle

from .._validate import check_non_negative_tuple
from ..arithmetic import ConvArithmetic, conv_arithmetic
from .figure_output import legible_fontsize

__all__ = [
    "COLOURS",
    "conv_arithmetic_explorer",
    "draw_conv_arithmetic",
    "draw_conv_arithmetic_cases",
]

#: The palette (close to Dumoulin & Visin's): cell kind → face colour.
COLOURS = {
    "input": "#9ec9f0",
    "padding": "#ffffff",
    "inserted": "#ffffff",
    "footprint": "#1f5fa8",
    "output": "#a8e0d2",
    "output_highlight": "#1b8a6b",
}


# --- drawing ----------------------------------------------------------------------------------

_GAP = 2.5  # canvas units between the input grid and the output grid


def _values(name: str, values, shape) -> torch.Tensor | None:
    if values is None:
        return None
    t = torch.as_tensor(values).detach().to("cpu", torch.float64)
    if tuple(t.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)} to match the drawing, got "
                         f"{tuple(t.shape)}")
    return t


def _fmt(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.2g}"


def _cell(ax, x, y, face, gid, *, dashed=False, dotted=False, alpha=1.0, z=1):
    style = ":" if dotted else ("--" if dashed else "-")
    edge = "#7a7a7a" if (dashed or dotted) else "#40618a"
    # add_artist, not add_patch: the limits are set once at the end, and skipping add_patch's
    # data-limit update per cell makes large grids (and the tests) several times faster.
    ax.add_artist(Rectangle((x, y), 1, 1, facecolor=face, edgecolor=edge, linestyle=style,
                            linewidth=0.9, alpha=alpha, zorder=z, gid=gid))


def _default_title(geo: ConvArithmetic, stride, padding, dilation, output_padding) -> str:
    def pair(name, v, n=2):
        v = check_non_negative_tuple(name, v, n)
        return str(v[0]) if v[0] == v[1] else f"({v[0]}, {v[1]})"

    k = (geo.rows.k, geo.cols.k)
    parts = [f"k={pair('kernel_size', k)}", f"s={pair('stride', stride)}",
             f"p={pair('padding', padding)}"]
    if check_non_negative_tuple("dilation", dilation, 2) != (1, 1):
        parts.append(f"d={pair('dilation', dilation)}")
    if geo.transposed and check_non_negative_tuple("output_padding", output_padding, 2) != (0, 0):
        parts.append(f"output_padding={pair('output_padding', output_padding)}")
    oh, ow = geo.output_shape
    return ("transposed: " if geo.transposed else "") + ", ".join(parts) + f" → {oh}×{ow}"


def _new_axes(geo: ConvArithmetic, legend: bool, cell_size: float):
    (ch, cw), (oh, ow) = geo.canvas_shape, geo.output_shape
    width = (cw + _GAP + ow + 0.6) * cell_size + 0.4
    height = max(ch, oh) * cell_size + (1.3 if legend else 0.8)
    _, ax = plt.subplots(figsize=(max(width, 3.0), max(height, 2.2)))
    return ax


def _draw_canvas(ax, geo: ConvArithmetic, position, x_in, w) -> None:
    """The input with its padding (and inserted zeros), then the kernel's footprint."""
    ch, cw = geo.canvas_shape
    for r in range(ch):
        for c in range(cw):
            kind = geo.cell_kind(r, c)
            if kind == "input":
                a, b = geo.input_index(r, c)
                _cell(ax, c, r, COLOURS["input"], f"input:{a}:{b}")
                if x_in is not None:
                    ax.text(c + 0.5, r + 0.5, _fmt(x_in[a, b]), ha="center", va="center",
                            fontsize=legible_fontsize(ax.figure, 8), zorder=4)
            else:
                _cell(ax, c, r, COLOURS[kind], f"{kind}:{r}:{c}", dashed=kind == "padding",
                      dotted=kind == "inserted")
    for r, c, a, b in geo.footprint(position):
        _cell(ax, c, r, COLOURS["footprint"], f"footprint:{r}:{c}", alpha=0.55, z=2)
        if w is not None:
            ax.text(c + 0.94, r + 0.94, _fmt(w[a, b]), ha="right", va="bottom",
                    fontsize=legible_fontsize(ax.figure, 7), color="white", zorder=5)


def _draw_output(ax, geo: ConvArithmetic, position, y_out) -> tuple[float, float]:
    """The output grid to the right of the canvas; returns its top-left corner."""
    (ch, cw), (oh, ow) = geo.canvas_shape, geo.output_shape
    x0, y0 = cw + _GAP, (ch - oh) / 2
    for a in range(oh):
        for b in range(ow):
            hit = (a, b) == tuple(position)
            face = COLOURS["output_highlight"] if hit else COLOURS["output"]
            gid = f"output-highlight:{a}:{b}" if hit else f"output:{a}:{b}"
            _cell(ax, x0 + b, y0 + a, face, gid)
            if y_out is not None:
                ax.text(x0 + b + 0.5, y0 + a + 0.5, _fmt(y_out[a, b]), ha="center",
                        va="center", fontsize=legible_fontsize(ax.figure, 8), zorder=4,
                        color="white" if hit else "black")
    return x0, y0


def _draw_arrow(ax, geo: ConvArithmetic, position, x0: float, y0: float) -> None:
    """An arrow from the footprint to the output cell it computes."""
    i, j = position
    rows = [r for r, *_ in geo.footprint(position)]
    cols = [c for _, c, *_ in geo.footprint(position)]
    start = (max(cols) + 1, (min(rows) + max(rows) + 1) / 2)
    ax.add_patch(FancyArrowPatch(start, (x0 + j, y0 + i + 0.5), arrowstyle="-|>",
                                 mutation_scale=10, color="#555555", lw=1.0, alpha=0.8,
                                 zorder=3, connectionstyle="arc3,rad=-0.2"))


def _frame(ax, geo: ConvArithmetic, x0: float, y0: float) -> None:
    """Labels over both grids, limits, no axes."""
    (ch, cw), (oh, ow) = geo.canvas_shape, geo.output_shape
    ax.text(cw / 2, -0.3, f"input {geo.rows.n}×{geo.cols.n}", ha="center", va="bottom",
            fontsize=legible_fontsize(ax.figure, 8))
    ax.text(x0 + ow / 2, y0 - 0.3, f"output {oh}×{ow}", ha="center", va="bottom",
            fontsize=legible_fontsize(ax.figure, 8))
    ax.set_xlim(-0.3, x0 + ow + 0.3)
    ax.set_ylim(max(ch, oh + y0) + 0.3, -1.4)
    ax.set_aspect("equal")
    ax.axis("off")


def _legend(ax, transposed: bool, position) -> None:
    i, j = position
    handles = [Patch(facecolor=COLOURS["input"], edgecolor="#40618a", label="input"),
               Patch(facecolor="white", edgecolor="#7a7a7a", linestyle="--",
                     label="padding (0)")]
    if transposed:
        handles.append(Patch(facecolor="white", edgecolor="#7a7a7a", linestyle=":",
                             label="inserted 0"))
    handles += [Patch(facecolor=COLOURS["footprint"], alpha=0.55, label="kernel"),
                Patch(facecolor=COLOURS["output_highlight"], label=f"output ({i}, {j})")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0),
              ncol=len(handles), fontsize=legible_fontsize(ax.figure, 7), frameon=False,
              handlelength=1.2, columnspacing=0.8)


def draw_conv_arithmetic(input_size, kernel_size, stride=1, padding=0, dilation=1,
                         position=(0, 0), *, transposed: bool = False, output_padding=0,
                         input_values=None, kernel_values=None, output_values=None,
                         ax=None, title: str | None = None, legend: bool = True,
                         cell_size: float = 0.32):
    """Draw the input grid, the kernel's footprint for output ``position`` and the output grid.

    Args:
        input_size, kernel_size, stride, padding, dilation: ints or ``(h, w)`` pairs, as in
            ``torch.nn.functional.conv2d`` (padding per side); with ``transposed=True`` those of
            ``conv_transpose2d``, together with ``output_padding``.
        position: the output cell ``(i, j)`` to highlight; the shaded input cells are the ones
            it reads.
        transposed: draw a transposed convolution as its equivalent direct convolution
            (zeros inserted between input cells, see the module docstring).
        input_values: optional ``(H, W)`` values written into the input cells.
        kernel_values: optional ``(kh, kw)`` weights written small into the footprint cells
            (in transposed mode give the transposed convolution's weight: it is drawn
            rotated by 180°, as the direct convolution uses it).
        output_values: optional ``(H_out, W_out)`` values written into the output cells.
        ax: draw into this ``Axes`` (then the caller owns the figure); else a new figure is
            made, closed and returned.
        title: default: the arguments and the output size, e.g. ``"k=3, s=2, p=1 → 3×3"``.
        legend: name the cell kinds under the drawing.
        cell_size: inches per cell when a new figure is made.

    Returns:
        the ``Figure``. Every cell is a ``Rectangle`` with a ``gid``: ``"input:r:c"``,
        ``"padding:row:col"``, ``"inserted:row:col"`` (canvas cells), ``"footprint:row:col"``
        (shaded canvas cells), ``"output:i:j"`` and ``"output-highlight:i:j"``.
    """
    geo = conv_arithmetic(input_size, kernel_size, stride, padding, dilation,
                          transposed=transposed, output_padding=output_padding)
    i, j = geo.check_position(position)
    x_in = _values("input_values", input_values, geo.input_shape)
    w = _values("kernel_values", kernel_values, (geo.rows.k, geo.cols.k))
    if w is not None and transposed:
        w = torch.flip(w, (0, 1))
    y_out = _values("output_values", output_values, geo.output_shape)

    own = ax is None
    if own:
        ax = _new_axes(geo, legend, cell_size)
    _draw_canvas(ax, geo, (i, j), x_in, w)
    x0, y0 = _draw_output(ax, geo, (i, j), y_out)
    _draw_arrow(ax, geo, (i, j), x0, y0)
    _frame(ax, geo, x0, y0)
    if title is None:
        title = _default_title(geo, stride, padding, dilation, output_padding)
    ax.set_title(title, fontsize=legible_fontsize(ax.figure, 9))
    if legend:
        _legend(ax, transposed, (i, j))
    fig = ax.figure
    if own:
        fig.tight_layout()
        plt.close(fig)
    return fig


def draw_conv_arithmetic_cases(cases: Sequence[dict], *, ncols: int | None = None,
                               size: float = 3.4):
    """Small multiples: one :func:`draw_conv_arithmetic` panel per dict of its arguments.

    ``cases``: e.g. ``[dict(input_size=5, kernel_size=3, title="no padding"), ...]``. Each
    panel highlights its own ``position`` (default ``(0, 0)``). Returns the closed ``Figure``.
    """
    cases = list(cases)
    if not cases or not all(isinstance(c, dict) for c in cases):
        raise ValueError("cases must be a non-empty list of dicts of draw_conv_arithmetic "
                         f"arguments, got {cases!r}")
    ncols = min(len(cases), ncols or len(cases))
    nrows = -(-len(cases) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * 0.8 * nrows),
                             squeeze=False)
    for ax in axes.flat[len(cases):]:
        ax.axis("off")
    for ax, case in zip(axes.flat, cases, strict=False):
        draw_conv_arithmetic(**{"legend": False, **case}, ax=ax)
    fig.tight_layout()
    plt.close(fig)
    return fig


def conv_arithmetic_explorer(input_size, kernel_size, stride=1, padding=0, dilation=1, *,
                             transposed: bool = False, output_padding=0, input_values=None,
                             kernel_values=None, output_values=None, title: str | None = None,
                             force_static: bool | None = None):
    """Step the kernel over every output position, row by row.

    Live (Jupyter): a slider ``step`` over the output positions. Static website
    (``CNNLIB_STATIC=1``) or ``force_static=True``: an offline HTML animation, one frame per
    output position. Arguments as in :func:`draw_conv_arithmetic`.
    """
    from .widgets import explorer

    geo = conv_arithmetic(input_size, kernel_size, stride, padding, dilation,
                          transposed=transposed, output_padding=output_padding)
    oh, ow = geo.output_shape

    def render(ax, step):
        draw_conv_arithmetic(input_size, kernel_size, stride, padding, dilation,
                             (step // ow, step % ow), transposed=transposed,
                             output_padding=output_padding, input_values=input_values,
                             kernel_values=kernel_values, output_values=output_values,
                             ax=ax, title=title, legend=False)

    ch, cw = geo.canvas_shape
    width = (cw + _GAP + ow + 0.6) * 0.22 + 0.3
    height = max(ch, oh) * 0.22 + 0.8
    name = title or _default_title(geo, stride, padding, dilation, output_padding)
    cells = "padding dashed, inserted zeros dotted" if transposed else "padding dashed"
    describe = (f"The {'transposed ' * transposed}convolution “{name}” output by output, one "
                f"frame for each of its {oh * ow} outputs, row by row: the kernel's footprint "
                f"(dark) on the {geo.rows.n}×{geo.cols.n} input ({cells}) and, on the right, "
                "the output cell it computes.")
    return explorer(render, {"step": list(range(oh * ow))}, static="animation",
                    sweep_values=list(range(oh * ow)), force_static=force_static,
                    panel_size=(max(width, 3.0), max(height, 2.0)), describe=describe)
