"""Moving images on the device: random shifts for data augmentation, rotations and rescaling.

Data augmentation trains a network on transformed copies of its images, so that it learns
the invariance the architecture does not build in. :func:`random_shift` moves every image
of a batch by its own random whole-pixel offset ``(dy, dx)``, each drawn uniformly from
``{−m, …, m}²``, with ``fill`` shifted in (the background: 0 for MNIST in [0, 1], or
``standardize(0)`` on standardised digits). It works on the batch where it lives (CPU or
GPU), in one gather, and is what :func:`cnnlib.training.fit` applies to each training batch
when given ``augment=lambda xb: random_shift(xb, m, fill=...)``. :func:`shift_images` is the
same with the offsets given, :func:`draw_shifts` draws them.

:func:`rotate` and :func:`rescale` turn and zoom images about their centre with
``torch.nn.functional.affine_grid`` and ``grid_sample`` (bilinear between pixels, ``fill``
where the source point lies outside the image). Angles are in degrees, counter-clockwise as
the image is displayed (row 0 at the top): ``rotate(x, 90)`` is ``torch.rot90(x, 1, (-2,
-1))`` on a square image. Coordinates are in pixels, so a rotation of a non-square image is
still rigid.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._validate import check_choice, check_float_tensor, check_ndim, check_non_negative_int

__all__ = [
    "INTERPOLATIONS",
    "draw_shifts",
    "random_shift",
    "rescale",
    "rotate",
    "shift_images",
]

INTERPOLATIONS = ("bilinear", "nearest")


def _check_images(x) -> torch.Tensor:
    check_float_tensor("x", x)
    check_ndim("x", x, (4,), "(N, C, H, W)")
    return x


def _check_fill(fill) -> float:
    if isinstance(fill, bool) or not isinstance(fill, (int, float)) or not math.isfinite(fill):
        raise TypeError(f"fill must be a finite number, got {fill!r}")
    return float(fill)


# ----------------------------------------------------------------------------------- shifts

def draw_shifts(n: int, max_shift: int, generator: torch.Generator | None = None,
                device: torch.device | str | None = None) -> torch.Tensor:
    """``n`` random offsets ``(dy, dx)``, each entry uniform on ``{−max_shift, …, max_shift}``.

    Returns int64 ``(n, 2)`` on ``device`` (default: the generator's device, else the CPU).
    Drawn with ``generator`` on its own device and then moved, or, when ``generator`` is
    ``None``, with torch's default generator of ``device`` (seeded by ``torch.manual_seed``),
    directly there: on a GPU no copy from the host is needed. A seeded generator gives the
    same offsets every time.
    """
    check_non_negative_int("n", n)
    check_non_negative_int("max_shift", max_shift)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got "
                        f"{type(generator).__name__}")
    source = generator.device if generator is not None else torch.device(device or "cpu")
    shifts = torch.randint(-max_shift, max_shift + 1, (n, 2), generator=generator,
                           device=source)
    return shifts.to(device) if device is not None else shifts


def shift_images(x: torch.Tensor, shifts: torch.Tensor, fill: float = 0.0) -> torch.Tensor:
    """Each image moved by its own whole-pixel offset, with ``fill`` shifted in.

    ``x: (N, C, H, W)`` floats; ``shifts: (N, 2)`` ints, row ``n`` = ``(dy, dx)`` for image
    ``n``. ``out[n, c, i, j] = x[n, c, i − dy, j − dx]`` where that pixel exists, ``fill``
    elsewhere: the translation ``T_(dy, dx)`` with fill of :func:`cnnlib.equivariance.translate`
    (content moves ``dy`` rows down and ``dx`` columns right), a different one per image.
    Returns a new ``(N, C, H, W)`` tensor on ``x``'s device; autograd flows through.
    """
    _check_images(x)
    fill = _check_fill(fill)
    if not isinstance(shifts, torch.Tensor) or shifts.is_floating_point() or shifts.is_complex():
        raise TypeError(f"shifts must be an integer torch.Tensor of shape (N, 2), got "
                        f"{type(shifts).__name__}")
    n, _, h, w = x.shape
    if tuple(shifts.shape) != (n, 2):
        raise ValueError(f"shifts must have shape ({n}, 2), one (dy, dx) per image of x, got "
                         f"{tuple(shifts.shape)}")
    shifts = shifts.to(device=x.device, dtype=torch.int64)
    rows = torch.arange(h, device=x.device) - shifts[:, :1]   # (N, H): source row of row i
    cols = torch.arange(w, device=x.device) - shifts[:, 1:]   # (N, W)
    inside = (((rows >= 0) & (rows < h))[:, :, None]
              & ((cols >= 0) & (cols < w))[:, None, :])       # (N, H, W)
    batch = torch.arange(n, device=x.device)[:, None, None]
    gathered = x[batch, :, rows.clamp(0, h - 1)[:, :, None], cols.clamp(0, w - 1)[:, None, :]]
    gathered = gathered.permute(0, 3, 1, 2)                   # (N, H, W, C) → (N, C, H, W)
    return torch.where(inside[:, None], gathered, gathered.new_full((), fill)).contiguous()


def random_shift(x: torch.Tensor, max_shift: int, fill: float = 0.0,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Every image of the batch moved by its own random offset: data augmentation by shifts.

    ``x: (N, C, H, W)``. Image ``n`` is moved by ``(dy, dx)``, each uniform on
    ``{−max_shift, …, max_shift}`` (so ``(2·max_shift + 1)²`` equally likely offsets, the
    zero offset among them), with ``fill`` shifted in: ``shift_images(x, draw_shifts(N,
    max_shift, generator), fill)``. Offsets are drawn anew at every call; with a seeded
    ``generator`` (or after ``torch.manual_seed`` when ``generator`` is ``None``) the result
    is reproducible. ``max_shift = 0`` returns a copy of ``x``.
    """
    _check_images(x)
    shifts = draw_shifts(x.shape[0], max_shift, generator=generator, device=x.device)
    return shift_images(x, shifts, fill)


# ---------------------------------------------------------------------- rotation and scale

def _cos_sin(degrees: float) -> tuple[float, float]:
    """cos and sin of an angle in degrees, exact (0, ±1) at multiples of 90°."""
    if float(degrees).is_integer() and int(degrees) % 90 == 0:
        return {0: (1.0, 0.0), 90: (0.0, 1.0), 180: (-1.0, 0.0),
                270: (0.0, -1.0)}[int(degrees) % 360]
    rad = math.radians(degrees)
    return math.cos(rad), math.sin(rad)


def _warp(x: torch.Tensor, angle: float, scale: float, fill: float, mode: str) -> torch.Tensor:
    """Rotate by ``angle`` degrees and scale by ``scale`` about the centre (see the module).

    For each output pixel at offset ``(u, v)`` from the centre (pixels, ``u`` right, ``v``
    down), grid_sample reads the input at the inverse rotation of ``(u, v) / scale``;
    ``affine_grid`` works in coordinates normalised to [−1, 1] (``u = u_n · W/2``,
    ``v = v_n · H/2`` with ``align_corners=False``), hence the factors ``H/W`` and ``W/H``.
    """
    n, _, h, w = x.shape
    c, s = _cos_sin(angle)
    # Counter-clockwise on screen (v points down) moves (u, v) to (c·u + s·v, −s·u + c·v);
    # output (u, v) therefore reads the input at (c·u − s·v, s·u + c·v) / scale.
    theta = torch.tensor([[c / scale, -s * h / w / scale, 0.0],
                          [s * w / h / scale, c / scale, 0.0]], dtype=x.dtype, device=x.device)
    grid = F.affine_grid(theta.expand(n, 2, 3), [n, x.shape[1], h, w], align_corners=False)
    out = F.grid_sample(x - fill, grid, mode=mode, padding_mode="zeros", align_corners=False)
    return out + fill


def _check_warp(x, name: str, value, fill, mode) -> tuple[float, float]:
    _check_images(x)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite number, got {value!r}")
    check_choice("mode", mode, INTERPOLATIONS)
    return float(value), _check_fill(fill)


def rotate(x: torch.Tensor, angle: float, fill: float = 0.0,
           mode: str = "bilinear") -> torch.Tensor:
    """Images turned by ``angle`` degrees counter-clockwise (as displayed) about their centre.

    ``x: (N, C, H, W)`` floats → the same shape: output pixel ``p`` takes the input value at
    ``R(−angle)·(p − centre) + centre``, interpolated (``mode``: ``"bilinear"`` or
    ``"nearest"``); where that point lies outside the image the value is ``fill``. The
    corners of the rotated image that leave the frame are lost. On a square image
    ``rotate(x, 90)`` equals ``torch.rot90(x, 1, dims=(-2, -1))`` and ``rotate(x, 0)`` is
    ``x``, up to float rounding.
    """
    angle, fill = _check_warp(x, "angle", angle, fill, mode)
    return _warp(x, angle, 1.0, fill, mode)


def rescale(x: torch.Tensor, factor: float, fill: float = 0.0,
            mode: str = "bilinear") -> torch.Tensor:
    """Images enlarged (``factor > 1``) or shrunk (``factor < 1``) about their centre.

    ``x: (N, C, H, W)`` floats → the same shape: output pixel ``p`` takes the input value at
    ``(p − centre)/factor + centre``, interpolated (``mode``); ``fill`` where that point lies
    outside the image. Enlarging loses the border of the image, shrinking surrounds it with
    ``fill``. ``factor`` must be positive; ``rescale(x, 1)`` is ``x`` up to float rounding.
    """
    factor, fill = _check_warp(x, "factor", factor, fill, mode)
    if factor <= 0:
        raise ValueError(f"factor must be positive, got {factor!r}")
    return _warp(x, 0.0, factor, fill, mode)

