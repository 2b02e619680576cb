"""Explorer of chapter 6: pool a real feature map with max, average, L2 or L∞ pooling.

The feature map is the vertical-edge response of the photo (Sobel-x, the derivative along x,
on the gray photo shrunk 4 times: 150 × 128, positive on dark-to-bright edges from left to
right, negative on bright-to-dark ones), optionally after a ReLU, as a CNN layer would pass
it on. Pick the pooling type, the window and the stride; the picture is the pooled map at its
own resolution, titled with its size.

- :func:`pool_map`: one pooling of a map, by name (:data:`POOLINGS`), through cnnlib.pooling;
- :func:`render_pooling`: the picture for one choice of the controls;
- :func:`pooling_explorer`: the live controls; on the static site small multiples, one per
  pooling type at the chosen window and stride.
"""

from __future__ import annotations

import functools
import math

import torch

from ...conv import conv2d
from ...datasets import photo
from ...filters import SOBEL_X
from ...pooling import avg_pool2d, lp_pool2d, max_pool2d
from .. import widgets
from ..figure_output import legible_fontsize
from ..images import SIGNED_CMAP, signed_limit, signed_norm, to_numpy_image

__all__ = ["POOLINGS", "SIZES", "default_feature_map", "pool_map", "pooling_explorer",
           "render_pooling"]

#: The pooling types the explorer offers.
POOLINGS = ("max", "avg", "L2", "L∞")

#: Window sizes and strides the sliders offer.
SIZES = (1, 2, 3, 4, 6, 8)


def default_feature_map() -> torch.Tensor:
    """Sobel-x response of the gray photo shrunk 4× by average pooling: ``(1, 150, 128)``."""
    small = avg_pool2d(photo(gray=True), 4)
    return conv2d(small, SOBEL_X[None, None], padding="same", padding_mode="replicate")


def pool_map(feature_map: torch.Tensor, pooling: str, window: int, stride: int | None = None
             ) -> torch.Tensor:
    """Pool ``feature_map: (C, H, W)`` or ``(N, C, H, W)`` with ``window × window`` windows.

    ``pooling``: ``"max"`` (:func:`~cnnlib.pooling.max_pool2d`), ``"avg"``
    (:func:`~cnnlib.pooling.avg_pool2d`), ``"L2"`` (``lp_pool2d`` with ``p = 2``: the
    Euclidean norm of each window) or ``"L∞"`` (``p = ∞``: the largest ``|x|`` of each
    window). ``stride`` defaults to ``window``. Output ``⌊(H − k)/s⌋ + 1`` rows, likewise
    columns.
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    stride = window if stride is None else stride
    if pooling == "max":
        return max_pool2d(feature_map, window, stride)
    if pooling == "avg":
        return avg_pool2d(feature_map, window, stride)
    return lp_pool2d(feature_map, 2 if pooling == "L2" else math.inf, window, stride)


def render_pooling(ax, pooling: str = "max", window: int = 4, stride: int = 4,
                   relu: bool = False, *, feature_map: torch.Tensor | None = None) -> None:
    """Draw ``pool_map(feature_map, pooling, window, stride)`` into ``ax``.

    ``relu=True`` pools ``max(feature_map, 0)`` instead (and the title says so: max pooling
    of the ReLU equals the ReLU of max pooling, so the picture alone may not change). Maps
    with negative values are drawn
    as signed maps (:func:`cnnlib.viz.images.signed_norm`: red positive, blue negative),
    others in gray; each panel has its own scale, saturating at the 99th percentile of
    ``|y|`` (the title gives the largest ``|y|``).
    """
    fmap = default_feature_map() if feature_map is None else feature_map
    if relu:
        fmap = torch.relu(fmap)
    pooled = pool_map(fmap, pooling, window, stride)
    arr = to_numpy_image(pooled[0] if pooled.dim() == 3 else pooled)
    vmax = float(abs(arr).max()) or 1.0
    if arr.min() < 0:
        ax.imshow(arr, cmap=SIGNED_CMAP, norm=signed_norm(arr))
    else:
        ax.imshow(arr, cmap="gray", vmin=0.0, vmax=signed_limit(arr))
    h, w = arr.shape
    what = f"{pooling} of ReLU" if relu else pooling  # max commutes with ReLU: say which
    ax.set_title(f"{what}, {window}×{window}, stride {stride}\n→ {h}×{w}, "
                 f"max |y| = {vmax:.2f}", fontsize=legible_fontsize(ax.figure, 9))
    ax.set_xticks([])
    ax.set_yticks([])


def pooling_explorer(feature_map: torch.Tensor | None = None, *, window: int = 4,
                     stride: int = 4, relu: bool = False, force_static: bool | None = None):
    """Controls: pooling type, window, stride (both from :data:`SIZES`) and a ReLU switch.

    ``feature_map: (1, H, W)`` (default :func:`default_feature_map`); ``window``, ``stride``
    and ``relu`` give the start values. On the static website: one panel per pooling type at
    those values.
    """
    for name, value in (("window", window), ("stride", stride)):
        if value not in SIZES:
            raise ValueError(f"{name} must be one of {SIZES}, got {value!r}")
    fmap = default_feature_map() if feature_map is None else feature_map
    render = functools.partial(render_pooling, feature_map=fmap)
    controls = {"pooling": list(POOLINGS), "window": list(SIZES), "stride": list(SIZES),
                "relu": [False, True]}
    base = "the photo's Sobel-x response" if feature_map is None else "the feature map"
    source = f"the ReLU of {base}" if relu else base
    describe = (f"{source[0].upper()}{source[1:]} pooled over {window}×{window} windows "
                f"with stride {stride} by max, average, L2 and L∞ pooling, one panel each "
                "(red positive, blue negative, grey when no value is negative): max keeps "
                "each window's largest value, L∞ its largest magnitude and L2 the root of "
                "its sum of squares (both lose the sign), while averaging lets values of "
                "opposite sign cancel.")
    return widgets.explorer(render, controls,
                            defaults={"window": window, "stride": stride, "relu": relu},
                            sweep="pooling", sweep_values=list(POOLINGS), ncols=2,
                            panel_size=(3.9, 3.5), force_static=force_static,
                            describe=describe)
