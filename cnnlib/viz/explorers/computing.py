"""Explorer of chapter 9: what each way of computing a convolution layer costs in memory.

Pick a layer — kernel size, image size, channels (as many out as in, "same" padding, one
image) — and see the bytes of its input, weights and output next to the three intermediate
representations the chapter's methods build: the im2col patch matrix, the dense Toeplitz
matrix and the FFT spectra (from :func:`cnnlib.performance.memory_costs`). The title gives
the layer's FLOPs (:func:`cnnlib.performance.layer_flops`). Nothing is timed or allocated, so
every state draws at once, even for layers far too large to build.

- :func:`layer_case`: the layer of one choice of the controls;
- :func:`render_costs`: the picture for one choice;
- :func:`cost_explorer`: the live controls; on the static site one panel per kernel size.
"""

from __future__ import annotations

from ...benchmark import ConvCase
from ...performance import format_count, layer_flops, memory_costs
from .. import widgets
from ..performance import draw_memory

__all__ = ["CHANNELS", "IMAGE_SIZES", "KERNEL_SIZES", "cost_explorer", "layer_case",
           "render_costs"]

#: The values the sliders offer.
KERNEL_SIZES = (1, 3, 5, 7, 11)
IMAGE_SIZES = (8, 28, 56, 112, 224)
CHANNELS = (1, 3, 16, 64, 256)


def layer_case(kernel_size: int, size: int, channels: int) -> ConvCase:
    """One image, ``channels → channels``, ``size × size``, ``k × k`` with padding ``k // 2``
    (the output keeps the input's size for odd ``k``)."""
    return ConvCase(f"{channels}→{channels}, {size}×{size}, {kernel_size}×{kernel_size}", 1,
                    channels, channels, size, kernel_size, padding=kernel_size // 2)


def render_costs(ax, kernel_size: int = 3, size: int = 56, channels: int = 64) -> None:
    """Bars of :func:`~cnnlib.performance.memory_costs` for :func:`layer_case`, titled with the
    layer and its FLOPs."""
    case = layer_case(kernel_size, size, channels)
    title = (f"{channels}→{channels} ch, {size}×{size}, {kernel_size}×{kernel_size}: "
             f"{format_count(layer_flops(case))}FLOPs")
    draw_memory(ax, memory_costs(case), title)


def cost_explorer(kernel_size: int = 3, size: int = 56, channels: int = 64,
                  force_static: bool | None = None):
    """Sliders for kernel size, image size and channels, starting at the given values (each
    one of :data:`KERNEL_SIZES`, :data:`IMAGE_SIZES`, :data:`CHANNELS`); the static site
    shows kernel sizes 1, 3, 7 and 11 at the given image size and channels."""
    for name, value, options in (("kernel_size", kernel_size, KERNEL_SIZES),
                                 ("size", size, IMAGE_SIZES), ("channels", channels, CHANNELS)):
        if value not in options:
            raise ValueError(f"{name} must be one of {options}, got {value!r}")
    shown = (1, 3, 7, 11)
    describe = (f"Bytes (log scale) of what each method builds for a {channels}→{channels} "
                f"channel layer on one {size}×{size} image, one panel per kernel size "
                f"({', '.join(map(str, shown))}): the input, weights and output beside the "
                "im2col patch matrix, which grows with k², the dense Toeplitz matrix, which "
                "does not depend on k, and the FFT spectra.")
    return widgets.explorer(
        render_costs,
        {"kernel_size": KERNEL_SIZES, "size": IMAGE_SIZES, "channels": CHANNELS},
        defaults={"kernel_size": kernel_size, "size": size, "channels": channels},
        sweep="kernel_size", sweep_values=shown, ncols=2, panel_size=(3.9, 2.7),
        force_static=force_static, describe=describe)
