"""Explorer of chapter 5: the arithmetic of every convolution variant, one output at a time.

Choose the input size, kernel size, stride, padding, dilation, whether the convolution is
transposed (and its ``output_padding``), then step through the outputs: each picture is
:func:`cnnlib.viz.arithmetic.draw_conv_arithmetic` — the input grid with its padding (and,
for a transposed convolution, the zeros the stride inserts), the kernel's footprint for the
selected output, and the output grid. With ``counts`` on, every output cell shows how many
input pixels it reads: constant inside an ordinary convolution, but alternating for a
transposed one whose kernel size is not a multiple of its stride — the checkerboard.

- :func:`render`: one picture, every argument a control of the explorer;
- :func:`feeding_counts`: the numbers written into the output cells;
- :func:`variants_explorer`: all controls live; on the static site an offline HTML animation
  that steps through a few outputs of each of the :data:`PRESETS` in turn. Live, no control
  silently does nothing: ``step`` offers only the outputs that exist, ``output_padding`` only
  the values PyTorch accepts (none but 0 unless transposed), ``counts`` is disabled when the
  output is too large to write them, and an impossible combination disables both.
"""

from __future__ import annotations

import functools
import textwrap

import torch

from ...arithmetic import conv_arithmetic, conv_transpose_output_size
from ...env import is_static
from ..arithmetic import draw_conv_arithmetic
from ..figure_output import legible_fontsize
from ..widgets import explorer

__all__ = ["CONTROLS", "MAX_COUNTS_SIDE", "PRESETS", "STATIC_POSITIONS", "describe_presets",
           "feeding_counts", "preset_frames", "render", "variants_explorer"]

#: The live controls and their values.
CONTROLS: dict[str, list] = {
    "input_size": list(range(2, 8)),
    "kernel_size": list(range(1, 5)),
    "stride": [1, 2, 3],
    "padding": [0, 1, 2],
    "dilation": [1, 2, 3],
    "transposed": [False, True],
    "output_padding": [0, 1, 2],
    "counts": [True, False],
}

#: The variants the static animation steps through: name → arguments of :func:`render`.
PRESETS: dict[str, dict] = {
    "plain": dict(input_size=5, kernel_size=3),
    "padding 1": dict(input_size=5, kernel_size=3, padding=1),
    "stride 2, padding 1": dict(input_size=5, kernel_size=3, stride=2, padding=1),
    "dilation 2": dict(input_size=7, kernel_size=3, dilation=2),
    "transposed, k=3, s=2": dict(input_size=3, kernel_size=3, stride=2, transposed=True),
    "transposed, k=4, s=2, p=1": dict(input_size=3, kernel_size=4, stride=2, padding=1,
                                      transposed=True),
}

#: Counts are written into the output cells only up to this many cells per side (legibility).
MAX_COUNTS_SIDE = 12

#: Output positions each preset shows in the static animation (those inside its output).
STATIC_POSITIONS = ((0, 0), (1, 1), (1, 2), (2, 2))


def _geometry(input_size, kernel_size, stride, padding, dilation, transposed, output_padding):
    return conv_arithmetic(input_size, kernel_size, stride, padding, dilation,
                           transposed=transposed,
                           output_padding=output_padding if transposed else 0)


def feeding_counts(input_size=5, kernel_size=3, stride=1, padding=0, dilation=1, *,
                   transposed: bool = False, output_padding=0) -> torch.Tensor:
    """How many input pixels each output reads: an int64 tensor ``(H_out, W_out)``.

    Arguments as in :func:`cnnlib.arithmetic.conv_arithmetic`. Padding and inserted
    zeros are not inputs, so border outputs of a padded convolution read fewer pixels, and
    the outputs of a strided transposed convolution read ``⌈k/s⌉`` or ``⌊k/s⌋`` per dimension.
    """
    geo = conv_arithmetic(input_size, kernel_size, stride, padding, dilation,
                          transposed=transposed, output_padding=output_padding)
    oh, ow = geo.output_shape
    return torch.tensor([[len(geo.inputs_feeding((i, j))) for j in range(ow)]
                         for i in range(oh)], dtype=torch.int64)


def _message(ax, text: str, y: float, gid: str) -> None:
    ax.text(0.5, y, text, ha="center", va="top", fontsize=legible_fontsize(ax.figure, 8),
            color="#aa3333",
            transform=ax.transAxes, gid=gid)


def render(ax, input_size: int = 5, kernel_size: int = 3, stride: int = 1, padding: int = 0,
           dilation: int = 1, transposed: bool = False, output_padding: int = 0,
           counts: bool = True, step: int = 0, title: str | None = None) -> None:
    """Draw output number ``step`` (row by row) of the chosen convolution into ``ax``.

    A ``step`` past the last output shows the last one; ``output_padding`` is ignored (and
    said so) unless ``transposed``; a combination PyTorch refuses (a kernel larger than the
    padded input, ``output_padding`` not below the stride or the dilation, a transposed output
    cropped away by the padding) is explained in the panel, titled with the arguments,
    instead of drawn. With ``counts``,
    each output cell shows :func:`feeding_counts` (when the output has at most
    :data:`MAX_COUNTS_SIDE` cells per side). Under the drawing: how many input pixels the
    selected output reads.
    """
    try:
        geo = _geometry(input_size, kernel_size, stride, padding, dilation, transposed,
                        output_padding)
    except ValueError as err:
        ax.text(0.5, 0.5, "Not possible:\n" + textwrap.fill(str(err), 50), ha="center",
                va="center", fontsize=legible_fontsize(ax.figure, 9), transform=ax.transAxes,
                gid="message")
        summary = (f"input {input_size}, kernel {kernel_size}, stride {stride}, padding "
                   f"{padding}, dilation {dilation}")
        if transposed:
            summary = f"transposed: {summary}, output_padding {output_padding}"
        ax.set_title(title or summary, fontsize=legible_fontsize(ax.figure, 9))
        ax.axis("off")
        return
    oh, ow = geo.output_shape
    last = oh * ow - 1
    i, j = divmod(min(step, last), ow)
    op = output_padding if transposed else 0
    values = None
    if counts and max(oh, ow) <= MAX_COUNTS_SIDE:
        values = feeding_counts(input_size, kernel_size, stride, padding, dilation,
                                transposed=transposed, output_padding=op)
    draw_conv_arithmetic(input_size, kernel_size, stride, padding, dilation, (i, j),
                         transposed=transposed, output_padding=op, output_values=values,
                         ax=ax, legend=False, title=title)
    n = len(geo.inputs_feeding((i, j)))
    ax.text(0.5, 0.0, f"output ({i}, {j}) reads {n} input pixel{'s' * (n != 1)}",
            ha="center", va="top", fontsize=legible_fontsize(ax.figure, 9),
            transform=ax.transAxes, gid="feeds")
    notes = []
    if step > last:
        notes.append(f"only {last + 1} outputs: showing the last")
    if output_padding and not transposed:
        notes.append("output_padding ignored: it only applies to a transposed convolution")
    if notes:
        _message(ax, "\n".join(notes), -0.09, "message")


def preset_frames() -> list[tuple[str, int]]:
    """The static animation's frames: ``(preset name, step)`` for every preset in turn."""
    frames = []
    for name, args in PRESETS.items():
        geo = _geometry(args["input_size"], args["kernel_size"], args.get("stride", 1),
                        args.get("padding", 0), args.get("dilation", 1),
                        args.get("transposed", False), args.get("output_padding", 0))
        oh, ow = geo.output_shape
        frames += [(name, i * ow + j) for i, j in STATIC_POSITIONS if i < oh and j < ow]
    return frames


def describe_presets() -> str:
    """The static animation's description: the presets it steps through and what to see."""
    names = list(PRESETS)
    checker = [name for name, args in PRESETS.items() if args.get("transposed")
               and args["kernel_size"] % args.get("stride", 1)]
    text = (f"An animation through {len(names)} convolutions ({'; '.join(names)}), a few "
            "outputs each: the kernel's footprint (dark) on the input grid (padding dashed, "
            "inserted zeros dotted), the output cell it computes, and in every output cell "
            "the number of input pixels it reads")
    if checker:
        text += (f", which alternates where the kernel size is not a multiple of the stride "
                 f"({'; '.join(checker)}): the checkerboard")
    return text + "."


def _render_frame(ax, frame: int) -> None:
    name, step = preset_frames()[frame]
    render(ax, **PRESETS[name], step=step, title=name)


@functools.cache
def _max_steps() -> int:
    """The largest number of outputs any combination of the controls gives."""
    n = max(CONTROLS["input_size"])
    k = max(CONTROLS["kernel_size"])
    s, d, op = max(CONTROLS["stride"]), max(CONTROLS["dilation"]), max(
        CONTROLS["output_padding"])
    # transposed, no padding: the widest output
    side = conv_transpose_output_size(n, k, stride=s, output_padding=op, dilation=d)
    return side * side


def _outputs(params: dict) -> tuple[int, int]:
    """The output's ``(H_out, W_out)`` for the explorer's ``params``; ``(0, 0)`` when
    the combination is impossible."""
    names = ("input_size", "kernel_size", "stride", "padding", "dilation", "transposed",
             "output_padding")
    try:
        return _geometry(*(params[n] for n in names)).output_shape
    except ValueError:
        return 0, 0


def _output_paddings(params: dict) -> list[int]:
    """``output_padding`` values PyTorch accepts: below the stride or the dilation, and only
    for a transposed convolution."""
    if not params["transposed"]:
        return [0]
    bound = max(params["stride"], params["dilation"])
    return [v for v in CONTROLS["output_padding"] if v < bound]


def _counts_shown(params: dict) -> bool:
    return 0 < max(_outputs(params)) <= MAX_COUNTS_SIDE


def _note(params: dict) -> str:
    notes = []
    if not params["transposed"]:
        notes.append("output_padding: only for a transposed convolution")
    elif len(_output_paddings(params)) == 1:
        notes.append("output_padding: must be smaller than the stride or the dilation")
    side = max(_outputs(params))
    if side == 0:
        notes.append("step and counts: nothing to draw for an impossible combination")
    elif side > MAX_COUNTS_SIDE:
        notes.append(f"counts: written up to {MAX_COUNTS_SIDE} output cells per side")
    return "; ".join(notes)


def variants_explorer(*, force_static: bool | None = None, **defaults):
    """The chapter's explorer: every convolution variant, stepping through its outputs.

    Live (Jupyter): the :data:`CONTROLS` and a ``step`` slider, starting from a 5×5 input
    and a 3×3 kernel (``defaults`` set other start values, e.g. ``transposed=True,
    stride=2``); ``step`` offers the current outputs,
    ``output_padding`` the values PyTorch accepts, ``counts`` is disabled where they are not
    written, and a note under the controls says why. Static website (``CNNLIB_STATIC=1``)
    or ``force_static=True``: an offline HTML animation through :func:`preset_frames`.
    """
    if is_static() if force_static is None else force_static:
        frames = list(range(len(preset_frames())))
        return explorer(_render_frame, {"frame": frames}, static="animation",
                        sweep_values=frames, panel_size=(6.2, 4.2), force_static=True,
                        describe=describe_presets())
    controls = {**CONTROLS, "step": list(range(_max_steps()))}

    def steps(params: dict) -> list[int]:
        oh, ow = _outputs(params)
        return list(range(max(1, oh * ow)))

    start = {"input_size": 5, "kernel_size": 3, **defaults}  # render's defaults
    return explorer(render, controls, defaults=start, force_static=False,
                    choices={"output_padding": _output_paddings, "step": steps},
                    active={"counts": _counts_shown}, note=_note)
