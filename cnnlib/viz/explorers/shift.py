"""Shift an image and watch a convolution's output shift with it (chapter 1).

Four panels for a shift ``(dy, dx)`` and a convolution ``f`` (an edge filter by default):

    shifted input          T x
    conv of shifted input  f(T x)
    shifted conv output    T f(x)
    difference             f(T x) − T f(x)

With circular padding (and the circular translation) the difference is zero everywhere:
convolution is translation equivariant. With zero padding (and a translation that fills with
zeros) it is zero except along the borders, where the two differ in what they pad.
The red circle marks the strongest response of ``f(x)``, moved by ``(dy, dx)``: it sits on
the same edge in the first three panels.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from ...conv import conv2d
from ...datasets import photo
from ...equivariance import translate
from ...filters import SOBEL_X
from ...pooling import avg_pool2d
from .. import widgets
from ..figure_output import legible_fontsize
from ..images import SIGNED_CMAP, signed_norm, to_numpy_image

__all__ = ["PADDINGS", "PANELS", "default_image", "render_shift", "shift_explorer",
           "shift_panels"]

PANELS = ("shifted input", "conv of shifted input", "shifted conv output", "difference")
PADDINGS = ("circular", "zeros")


def default_image(factor: int = 4) -> torch.Tensor:
    """The gray photo, shrunk ``factor`` times by average pooling: ``(1, 150, 128)`` for 4."""
    return avg_pool2d(photo(gray=True), factor)


def _check_padding(padding: str) -> None:
    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")


def shift_panels(image: torch.Tensor, kernel: torch.Tensor, dy: int, dx: int,
                 padding: str = "circular") -> dict[str, torch.Tensor]:
    """The four panels as ``{name: (H, W) tensor}``, keys in the order of :data:`PANELS`.

    ``image: (1, H, W)`` or ``(H, W)``; ``kernel: (k, k)``, applied with ``padding="same"`` and
    ``padding_mode=padding``; the translation uses the matching mode (``"circular"`` or
    ``"zeros"``).
    """
    _check_padding(padding)
    x = image if image.dim() == 3 else image[None]
    weight = kernel.to(x)[None, None]

    def f(t):
        return conv2d(t, weight, padding="same", padding_mode=padding)

    def g(t):
        return translate(t, (dy, dx), mode=padding)

    shifted, conv_of_shifted, shifted_conv = g(x), f(g(x)), g(f(x))
    tensors = (shifted, conv_of_shifted, shifted_conv, conv_of_shifted - shifted_conv)
    return {name: t[0] for name, t in zip(PANELS, tensors, strict=True)}


def _layout(ax) -> list[list[float]]:
    """Inset rectangles (axes coordinates): one row of four when ``ax`` is wide, else 2 × 2."""
    bbox = ax.get_position()
    fig_w, fig_h = ax.figure.get_size_inches()
    if bbox.width * fig_w > 2.2 * bbox.height * fig_h:
        return [[0.005 + 0.25 * i, 0.0, 0.24, 0.86] for i in range(4)]
    return [[0.02 + 0.5 * (i % 2), 0.47 - 0.49 * (i // 2), 0.46, 0.40] for i in range(4)]


def render_shift(ax, dx: int = 0, dy: int = 0, padding: str = "circular", *,
                 image: torch.Tensor | None = None, kernel: torch.Tensor | None = None) -> None:
    """Draw the four panels of :func:`shift_panels` into ``ax`` (as inset axes)."""
    image = default_image() if image is None else image
    kernel = SOBEL_X if kernel is None else kernel
    panels = shift_panels(image, kernel, dy, dx, padding)
    response = shift_panels(image, kernel, 0, 0, padding)["conv of shifted input"]
    norm = signed_norm(response)  # one scale for the three signed panels
    h, w = response.shape
    peak = divmod(int(response.abs().argmax()), w)
    mark = (peak[0] + dy, peak[1] + dx)
    if padding == "circular":
        mark = (mark[0] % h, mark[1] % w)
    fig = ax.figure
    ax.axis("off")
    ax.set_title(f"shift (dy, dx) = ({dy}, {dx}), {padding} padding",
                 fontsize=legible_fontsize(fig, 10))
    for rect, (name, t) in zip(_layout(ax), panels.items(), strict=True):
        inset = ax.inset_axes(rect)
        arr = to_numpy_image(t)
        if name == "shifted input":
            inset.imshow(arr, cmap="gray", vmin=0.0, vmax=1.0)
        else:
            inset.imshow(arr, cmap=SIGNED_CMAP, norm=norm)
        if name != "difference" and 0 <= mark[0] < h and 0 <= mark[1] < w:
            inset.plot(mark[1], mark[0], "o", ms=9, mfc="none", mec="red", mew=1.5)
        if name == "difference":
            inset.text(0.5, -0.04, f"max |difference| = {float(np.abs(arr).max()):.2g}",
                       transform=inset.transAxes, ha="center", va="top",
                       fontsize=legible_fontsize(fig, 8))
        inset.set_title(name, fontsize=legible_fontsize(fig, 9))
        inset.set_xticks([])
        inset.set_yticks([])


def shift_explorer(image: torch.Tensor | None = None, kernel: torch.Tensor | None = None, *,
                   max_shift: int = 24, step: int = 4, padding: str = "circular",
                   dy: int = 0, force_static: bool | None = None):
    """Sliders for ``dx`` and ``dy`` (−max_shift … max_shift by ``step``) and the padding.

    ``image``: ``(1, H, W)`` (default: :func:`default_image`); ``kernel``: ``(k, k)`` (default
    :data:`cnnlib.filters.SOBEL_X`); ``padding`` and ``dy`` give the start values. Without a
    kernel (the static website) it shows small multiples: one row of four panels for each of
    four values of ``dx`` from 0 to ``max_shift``.
    """
    _check_padding(padding)
    image = default_image() if image is None else image
    kernel = SOBEL_X if kernel is None else kernel
    shifts = list(range(-max_shift, max_shift + 1, step))
    if 0 not in shifts or dy not in shifts:
        raise ValueError(
            f"max_shift must be a multiple of step and dy one of {shifts}, got max_shift="
            f"{max_shift}, step={step}, dy={dy}"
        )
    render = functools.partial(render_shift, image=image, kernel=kernel)
    controls = {"dx": shifts, "dy": shifts, "padding": list(PADDINGS)}
    sweep_values = [v for v in shifts if v >= 0]
    sweep_values = [sweep_values[round(i * (len(sweep_values) - 1) / 3)] for i in range(4)]
    outcome = ("is 0 everywhere: the convolution is equivariant to circular shifts"
               if padding == "circular" else
               "is 0 except along the borders, where the two pad differently")
    describe = (f"For the horizontal shifts dx = {', '.join(map(str, sweep_values))} (dy = "
                f"{dy}, {padding} padding), one row each: the shifted image, the filter's "
                "response to it, the response of the image shifted likewise (red positive, "
                f"blue negative) and their difference, which {outcome}; the red circle "
                "follows the strongest response.")
    return widgets.explorer(render, controls, defaults={"dx": 0, "dy": dy, "padding": padding},
                            sweep="dx", sweep_values=sweep_values, ncols=1,
                            panel_size=(7.8, 2.4), force_static=force_static,
                            describe=describe)
