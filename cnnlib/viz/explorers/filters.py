"""Explorer of chapter 4: handcrafted filters on a real photo.

Pick a named kernel from :mod:`cnnlib.filters` (or ``"custom 3×3"`` and type its nine weights)
and see the photo filtered by it: ``conv2d(photo, kernel, padding="same",
padding_mode="replicate")`` with :func:`cnnlib.conv.conv2d` — replicate padding, so that the
photo's border does not light up as a false edge. ``"sobel magnitude"`` is the one entry that is
not a single kernel: ``√(Sobel_x² + Sobel_y²)``, the gradient's length.

Colours: a kernel whose weights sum to 0 (derivatives, Laplacians) answers with both signs and
is shown on a diverging map with symmetric limits ``±L`` (red positive, white 0, blue negative).
A photo is flat almost everywhere, so ``L`` is the 95th percentile of ``|response|``
(:data:`SIGNED_QUANTILE`, :func:`display_limit`, :func:`cnnlib.viz.images.signed_norm`),
not its maximum: the strongest 5 % of the
pixels saturate and the edges stand out instead of fading to white. The gradient magnitude is
drawn in grey on ``[0, L]`` with the same rule. Smoothing and sharpening kernels keep the
brightness and are shown in grey on ``[0, 1]`` (the sharpened values outside are clipped for
display only). The kernel's weights are drawn in the corner of each picture.

- :func:`filter_explorer`: live controls; on the static site, small multiples over
  :data:`STATIC_NAMES` (or any named kernels). Live, the nine weights are number boxes in a
  3×3 grid that shows the selected kernel's weights; editing one switches to ``"custom 3×3"``
  starting from the kernel shown. A kernel that is not 3×3 disables the grid (and says why),
  and ``A`` is enabled for ``"sharpen"`` only: no control silently does nothing.
- :func:`kernel`, :func:`apply_filter`, :func:`render`: the pieces, usable on their own.
- :func:`display_limit`, :func:`scale_signed`: the display scale of a signed response, for
  figures drawn with :func:`cnnlib.viz.show_images`.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from ...conv import conv2d
from ...filters import FILTERS, SOBEL_X, SOBEL_Y, sharpen
from ..figure_output import legible_fontsize
from ..images import SIGNED_CMAP, signed_norm
from ..live import NumberBox
from ..widgets import explorer

__all__ = ["A_VALUES", "CUSTOM", "MAGNITUDE", "NAMES", "SIGNED_QUANTILE", "STATIC_NAMES",
           "WEIGHT_LIMIT", "WEIGHT_NAMES",
           "apply_filter", "display_limit", "filter_explorer", "grid_weights", "kernel",
           "render", "scale_signed", "small_photo"]

#: The derived entry: the length of the Sobel gradient.
MAGNITUDE = "sobel magnitude"
#: The entry whose nine weights are set by the controls ``w00 … w22``.
CUSTOM = "custom 3×3"
_ORDER = ("identity", "box_3", "box_5", "gaussian_3", "gaussian_5", "roberts_x", "roberts_y",
          "sobel_x", "sobel_y", MAGNITUDE, "sobel_d1", "sobel_d2", "laplacian_4", "laplacian_8",
          "sharpen")
#: The named entries, in the order of the gallery (every kernel of ``cnnlib.filters.FILTERS``).
NAMES: tuple[str, ...] = _ORDER + tuple(n for n in FILTERS if n not in _ORDER)
#: The kernels the static preview shows by default: those of the gallery's family that the
#: chapter's own gallery figure does not already show (a second box and Gaussian size, the
#: other Roberts, the diagonal Sobels, the 8-neighbour Laplacian).
STATIC_NAMES: tuple[str, ...] = ("box_5", "gaussian_3", "roberts_y", "sobel_d1", "sobel_d2",
                                 "laplacian_8")
#: The sharpening factor ``A`` the control offers (``sharpen(A) = (A − 1)·identity + Laplacian``).
A_VALUES = (1.0, 1.5, 2.0, 3.0, 5.0)
#: The controls of the nine weights, row by row: ``w{row}{column}``.
WEIGHT_NAMES: tuple[str, ...] = tuple(f"w{i}{j}" for i in range(3) for j in range(3))
#: Each weight box takes values in ``[−WEIGHT_LIMIT, WEIGHT_LIMIT]``; every 3×3 kernel offered
#: lies inside (the largest: ``sharpen(5)``'s centre 8, ``laplacian_8``'s −8).
WEIGHT_LIMIT = 10.0
#: Quantile of ``|response|`` used as the display limit of filter responses.
SIGNED_QUANTILE = 0.95


def display_limit(response: torch.Tensor, quantile: float = SIGNED_QUANTILE) -> float:
    """The colour limit ``L`` for a filter response: the ``quantile`` of ``|response|``.

    A signed response is drawn on ``[−L, L]``, a magnitude on ``[0, L]``. Returns 1.0 when the
    quantile is 0 (a response that is 0 almost everywhere), so the limits stay valid.
    """
    if not isinstance(response, torch.Tensor) or response.numel() == 0:
        raise ValueError("response must be a non-empty tensor")
    if not isinstance(quantile, (int, float)) or isinstance(quantile, bool) or not (
            0 < quantile <= 1):
        raise ValueError(f"quantile must be a number in (0, 1], got {quantile!r}")
    flat = response.detach().abs().flatten().to("cpu", torch.float64)
    return float(torch.quantile(flat, float(quantile))) or 1.0


def scale_signed(response: torch.Tensor, quantile: float = SIGNED_QUANTILE) -> torch.Tensor:
    """``response / L`` clipped to ``[−1, 1]``, ``L = display_limit(response, quantile)``.

    Same shape as ``response``. Drawn with ``show_images(..., symmetric=True)`` (limits ±1),
    a diverging map with white at 0; works for a magnitude too (then in ``[0, 1]``).
    """
    return (response / display_limit(response, quantile)).clamp(-1, 1)


@functools.cache
def _small_photo(step: int) -> torch.Tensor:
    from ...datasets import photo
    from ...pooling import avg_pool2d

    return avg_pool2d(photo(gray=True)[None], step)[0, 0]


def small_photo(step: int = 2) -> torch.Tensor:
    """The grey photo averaged over ``step×step`` blocks: ``(H/step, W/step)``, float32 in [0, 1].

    ``step=2`` gives 300×256 pixels: enough detail, fast to filter. A fresh copy each call.
    """
    return _small_photo(step).clone()


def kernel(name: str, a: float = 2.0, weights=None) -> torch.Tensor:
    """The kernel called ``name`` (float32, ``(kh, kw)``).

    ``"sharpen"`` uses the factor ``a`` (:func:`cnnlib.filters.sharpen`); ``"custom 3×3"`` takes
    its nine ``weights`` row by row. ``"sobel magnitude"`` has no single kernel: ask for
    ``"sobel_x"`` and ``"sobel_y"``.
    """
    if name == "sharpen":
        return sharpen(float(a))
    if name == CUSTOM:
        values = torch.as_tensor(weights if weights is not None else [0.0] * 9,
                                 dtype=torch.float32)
        if values.numel() != 9:
            raise ValueError(f"weights must hold 9 values (a 3×3 kernel, row by row), got "
                             f"{values.numel()}")
        return values.reshape(3, 3)
    if name == MAGNITUDE:
        raise ValueError(f"{MAGNITUDE!r} is computed from two kernels, 'sobel_x' and 'sobel_y'; "
                         "it has no single kernel")
    if name not in FILTERS:
        raise ValueError(f"name must be one of {[*NAMES, CUSTOM]}, got {name!r}")
    return FILTERS[name].clone()


def _filter(image: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    k = k.to(device=image.device, dtype=image.dtype)
    return conv2d(image[None, None], k[None, None], padding="same",
                  padding_mode="replicate")[0, 0]


def apply_filter(image: torch.Tensor, name: str, a: float = 2.0, weights=None) -> torch.Tensor:
    """``image: (H, W)`` filtered by the kernel ``name`` → ``(H, W)`` ("same" size).

    Cross-correlation by :func:`cnnlib.conv.conv2d`, replicate padding. ``"sobel magnitude"``
    returns ``√(Sobel_x² + Sobel_y²)``.
    """
    if not isinstance(image, torch.Tensor) or image.dim() != 2:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"image must be a 2-D tensor (H, W), got {shape}")
    if name == MAGNITUDE:
        return torch.hypot(_filter(image, SOBEL_X), _filter(image, SOBEL_Y))
    return _filter(image, kernel(name, a, weights))


def _is_zero_sum(name: str, k: torch.Tensor | None) -> bool:
    return name != MAGNITUDE and k is not None and abs(float(k.sum())) < 1e-6


def render(ax, kernel: str = "identity", A: float = 2.0, image: torch.Tensor | None = None,
           **weights) -> None:
    """Draw the photo (or ``image``) filtered by ``kernel`` into ``ax``, the weights in a corner.

    ``A``: the sharpening factor (used by ``"sharpen"``); ``w00 … w22``: the weights of
    ``"custom 3×3"`` (missing ones are 0).
    """
    from ..images import show_matrix

    unknown = set(weights) - set(WEIGHT_NAMES)
    if unknown:
        raise ValueError(f"unknown controls {sorted(unknown)}; the weights are "
                         f"{list(WEIGHT_NAMES)}")
    image = small_photo() if image is None else image
    w = [float(weights.get(n, 0.0)) for n in WEIGHT_NAMES]
    k = None if kernel == MAGNITUDE else _kernel(kernel, A, w)
    y = apply_filter(image, kernel, A, w).detach().to("cpu", torch.float32)
    if _is_zero_sum(kernel, k):
        ax.imshow(y.numpy(), cmap=SIGNED_CMAP, norm=signed_norm(y, SIGNED_QUANTILE))
    elif kernel == MAGNITUDE:
        ax.imshow(y.numpy(), cmap="gray", vmin=0, vmax=display_limit(y))
    else:
        ax.imshow(y.numpy(), cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
    title = f"sharpen, A = {A:g}" if kernel == "sharpen" else kernel
    ax.set_title(title, fontsize=legible_fontsize(ax.figure, 10))
    if k is not None:
        inset = ax.inset_axes([0.0, 0.0, 0.36, 0.36])
        short = all(len(f"{float(v):.2g}") <= 3 for v in k.flatten())  # fits a cell
        show_matrix(k, ax=inset, annotate=max(k.shape) <= 3 and short, fmt="{:.2g}")
    else:
        ax.text(0.02, 0.03, "√(Sx² + Sy²)", transform=ax.transAxes,
                fontsize=legible_fontsize(ax.figure, 9), color="white",
                backgroundcolor="black")


_kernel = kernel  # render's argument ``kernel`` shadows the function's name


def grid_weights(name: str, a: float = 2.0) -> dict[str, float] | None:
    """The weights the explorer's 3×3 grid shows for kernel ``name``: ``{"w00": …, …}``.

    Each float32 weight is written with the fewest digits that give it back (1/9 →
    0.11111111), so a custom kernel typed from the grid equals the named one. ``None`` for
    a kernel the grid cannot show (not 3×3, or ``"sobel magnitude"``) and for
    ``"custom 3×3"`` (whose weights are the grid's own).
    """
    if name in (CUSTOM, MAGNITUDE):
        return None
    k = kernel(name, a)
    if tuple(k.shape) != (3, 3):
        return None
    return {n: float(np.format_float_positional(np.float32(v), unique=True, trim="-"))
            for n, v in zip(WEIGHT_NAMES, k.flatten().tolist(), strict=True)}


def _link(changed: str | None, params: dict) -> dict | None:
    """Editing a weight selects the custom kernel (starting from the weights shown); choosing
    a 3×3 kernel (or ``A`` of sharpen) shows its weights in the grid."""
    if changed in WEIGHT_NAMES:
        return {"kernel": CUSTOM} if params["kernel"] != CUSTOM else None
    return grid_weights(params["kernel"], params["A"])


def _grid_active(params: dict) -> bool:
    return params["kernel"] == CUSTOM or grid_weights(params["kernel"], params["A"]) is not None


def _note(params: dict) -> str:
    name = params["kernel"]
    if name == CUSTOM:
        return "custom 3×3: type a weight, then press Enter"
    if name == MAGNITUDE:
        return (f"{MAGNITUDE} combines two kernels (sobel_x, sobel_y): pick {CUSTOM} to edit "
                "weights")
    kh, kw = kernel(name, params["A"]).shape
    if (kh, kw) != (3, 3):
        return f"{kh}×{kw} kernel: pick {CUSTOM} to edit weights"
    return f"the weights of {name}: editing one starts a {CUSTOM} kernel from them"


def filter_explorer(image: torch.Tensor | None = None, *, names=None, ncols: int = 3,
                    force_static: bool | None = None, **defaults):
    """The chapter's explorer: a kernel drop-down, the factor ``A`` and nine weights.

    ``image``: ``(H, W)``, default :func:`small_photo`. Live: the weights are number boxes
    in a 3×3 grid showing the selected kernel (:func:`grid_weights`); editing one selects
    ``"custom 3×3"``, starting from the weights shown; the grid is disabled for a kernel
    that is not 3×3, with a note saying why, and ``A`` for every kernel but ``"sharpen"``.
    On the static site (or with ``force_static=True``): small multiples over ``names``
    (default :data:`STATIC_NAMES`, six kernels the chapter's gallery does not show;
    ``names=NAMES`` for all of them), ``ncols`` per row. ``defaults`` set start values, e.g.
    ``kernel="sobel_x"``, ``A=3.0``, or ``kernel="custom 3×3", w01=1.0`` (weights not given
    are those of the identity).
    """
    names = list(names) if names is not None else list(STATIC_NAMES)
    box = NumberBox(0.0, -WEIGHT_LIMIT, WEIGHT_LIMIT)  # any value, such as 1/9; arrows ±1
    controls = {"kernel": [*NAMES, CUSTOM], "A": list(A_VALUES),
                **{n: box for n in WEIGHT_NAMES}}
    start = {"A": 2.0, **{n: 0.0 for n in WEIGHT_NAMES}, "w11": 1.0, **defaults}
    draw = render if image is None else functools.partial(render, image=image)
    describe = (f"The {'photo' if image is None else 'image'} filtered by each of "
                f"{len(names)} kernels ({', '.join(names)}), one panel each with the "
                "kernel's weights in the corner: kernels whose weights sum to 0 answer with "
                "both signs, red positive and blue negative, the colours saturating at the "
                f"{round(100 * SIGNED_QUANTILE)}th percentile of |response|; the others "
                "are drawn in grey.")
    grid = [list(WEIGHT_NAMES[i:i + 3]) for i in range(0, 9, 3)]
    return explorer(draw, controls, defaults=start, sweep="kernel", sweep_values=names,
                    static="grid", ncols=ncols, panel_size=(7.8 / ncols, 7.8 / ncols + 0.35),
                    force_static=force_static, describe=describe,
                    active={"A": lambda p: p["kernel"] == "sharpen",
                            **{n: _grid_active for n in WEIGHT_NAMES}},
                    link=_link, note=_note, rows=[["kernel", "A"], *grid])
