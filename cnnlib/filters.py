"""Handcrafted 2D filters: smoothing, derivative, Laplacian and sharpening kernels.

Every kernel is a float32 tensor of shape ``(kh, kw)``, meant for **cross-correlation** as
``torch.nn.functional.conv2d`` computes it (add the two channel dimensions with
``kernel[None, None]``). Separable kernels are *built* as outer products of their 1-D parts
(``column ⊗ row``), so the code states the separation; :data:`SEPARABLE_PARTS` lists them.

Sign convention of the derivative filters. Image coordinates: ``x`` grows to the right
(columns), ``y`` grows downwards (rows). Each derivative kernel gives a **positive** response
where the intensity increases in its direction: ``SOBEL_X`` on a dark-left / bright-right
edge is positive. ``SOBEL_X`` differentiates across the columns, so it responds to
**vertical** edges (a change from left to right); ``SOBEL_Y`` differentiates down the rows and
responds to **horizontal** edges. Many image-processing texts write these filters for *true*
convolution (``h ∗ x``, kernel flipped), e.g. Sobel-x as ``[[1, 0, −1], [2, 0, −2],
[1, 0, −1]]``; the kernels here are those rotated by 180°, which is what cross-correlation
(``h ⋆ x``) needs to compute the same derivative.

Laplacian convention: ``LAPLACIAN_4`` and ``LAPLACIAN_8`` have a positive centre. They are the
*negative* of the discrete Laplacian ∇² (whose 4-neighbour stencil is
``[[0, 1, 0], [1, −4, 1], [0, 1, 0]]``): a high-pass filter that is positive on a bright dot
and equals ``−6`` on ``f = x² + 2y²`` (∇²f = 6). Sharpening adds a multiple of the image to
this high-pass: ``sharpened = (A − 1)·original + high-pass``, see :func:`sharpen`.

The module-level tensors are shared: ``.clone()`` one before changing it in place.
"""

from __future__ import annotations

import math

import torch

from ._validate import check_positive_int

__all__ = [
    "BOX_3",
    "BOX_5",
    "CENTRAL_DIFFERENCE",
    "FILTERS",
    "GAUSSIAN_3",
    "GAUSSIAN_5",
    "IDENTITY_3",
    "LAPLACIAN_4",
    "LAPLACIAN_8",
    "ROBERTS_X",
    "ROBERTS_Y",
    "SEPARABLE_PARTS",
    "SHARPEN_3",
    "SOBEL_D1",
    "SOBEL_D2",
    "SOBEL_SMOOTHING",
    "SOBEL_X",
    "SOBEL_Y",
    "binomial_kernel",
    "gaussian_kernel",
    "gaussian_kernel_1d",
    "sharpen",
]

_F32 = torch.float32


def _vec(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=_F32)


def _mat(rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=_F32)


def _outer(column: torch.Tensor, row: torch.Tensor) -> torch.Tensor:
    """``column ⊗ row``, multiplied in float64 and rounded once to float32."""
    return torch.outer(column.double(), row.double()).to(_F32)


def binomial_kernel(n: int, *, dtype: torch.dtype = _F32,
                    device: torch.device | str | None = None) -> torch.Tensor:
    """Row ``n − 1`` of Pascal's triangle divided by ``2ⁿ⁻¹``: a 1-D smoothing kernel summing to 1.

    ``binomial_kernel(3) = [1, 2, 1]/4``, ``binomial_kernel(5) = [1, 4, 6, 4, 1]/16``. It is the
    ``(n−1)``-fold convolution of ``[1, 1]/2`` with itself and approximates a Gaussian with
    variance ``σ² = (n − 1)/4``.

    Args:
        n: length (positive int).

    Returns:
        shape ``(n,)``.
    """
    check_positive_int("n", n)
    coefficients = [math.comb(n - 1, i) for i in range(n)]
    return torch.tensor(coefficients, dtype=torch.float64).div(2 ** (n - 1)).to(
        dtype=dtype, device=device
    )


def _check_size_sigma(size, sigma) -> None:
    check_positive_int("size", size)
    if size % 2 == 0:
        raise ValueError(f"size must be a positive odd int (the kernel needs a centre), got {size}")
    if not isinstance(sigma, (int, float)) or isinstance(sigma, bool):
        raise TypeError(f"sigma must be a positive number, got {sigma!r} ({type(sigma).__name__})")
    if not math.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma must be a positive finite number, got {sigma}")


def gaussian_kernel_1d(size: int, sigma: float, *, dtype: torch.dtype = _F32,
                       device: torch.device | str | None = None) -> torch.Tensor:
    """Sampled, normalised 1-D Gaussian: ``g_i ∝ exp(−i²/(2σ²))`` for ``i = −r, …, r``.

    ``r = (size − 1)/2``; the samples are divided by their sum, so ``Σ g_i = 1`` (a smoothing
    filter keeps the mean brightness).

    Args:
        size: kernel length, a positive odd int.
        sigma: standard deviation in pixels, a positive number.

    Returns:
        shape ``(size,)``.
    """
    _check_size_sigma(size, sigma)
    radius = (size - 1) // 2
    i = torch.arange(-radius, radius + 1, dtype=torch.float64)
    g = torch.exp(-(i**2) / (2 * sigma**2))
    return (g / g.sum()).to(dtype=dtype, device=device)


def gaussian_kernel(size: int, sigma: float, *, dtype: torch.dtype = _F32,
                    device: torch.device | str | None = None) -> torch.Tensor:
    """Sampled, normalised 2-D Gaussian ``G(x, y) ∝ exp(−(x² + y²)/(2σ²))``, shape ``(size, size)``.

    Built separably as ``g ⊗ g`` with ``g = gaussian_kernel_1d(size, sigma)``, so it sums to 1
    and has matrix rank 1: one 2-D pass equals a vertical then a horizontal 1-D pass.

    Args:
        size: side length, a positive odd int.
        sigma: standard deviation in pixels, a positive number.
    """
    g = gaussian_kernel_1d(size, sigma, dtype=torch.float64)
    return torch.outer(g, g).to(dtype=dtype, device=device)


# --- the 1-D parts --------------------------------------------------------------------------

#: ``[1, 2, 1]``: Sobel's smoothing across the derivative direction (unnormalised).
SOBEL_SMOOTHING = _vec(1, 2, 1)
#: ``[−1, 0, 1]``: central difference, ``x_{i+1} − x_{i−1}`` under cross-correlation.
CENTRAL_DIFFERENCE = _vec(-1, 0, 1)
_BINOMIAL_3 = binomial_kernel(3)
_BINOMIAL_5 = binomial_kernel(5)
_DELTA_3 = _vec(0, 1, 0)
_MEAN_3 = torch.full((3,), 1 / 3, dtype=_F32)
_MEAN_5 = torch.full((5,), 1 / 5, dtype=_F32)

#: name → ``(column, row)``: each separable kernel equals ``torch.outer(column, row)``.
SEPARABLE_PARTS: dict[str, tuple[torch.Tensor, torch.Tensor]] = {
    "identity": (_DELTA_3, _DELTA_3),
    "box_3": (_MEAN_3, _MEAN_3),
    "box_5": (_MEAN_5, _MEAN_5),
    "gaussian_3": (_BINOMIAL_3, _BINOMIAL_3),
    "gaussian_5": (_BINOMIAL_5, _BINOMIAL_5),
    "sobel_x": (SOBEL_SMOOTHING, CENTRAL_DIFFERENCE),
    "sobel_y": (CENTRAL_DIFFERENCE, SOBEL_SMOOTHING),
}

# --- smoothing (each sums to 1) -------------------------------------------------------------

#: ``[[0, 0, 0], [0, 1, 0], [0, 0, 0]]``: leaves the image unchanged.
IDENTITY_3 = _outer(*SEPARABLE_PARTS["identity"])
#: 3×3 mean, every entry ``1/9``.
BOX_3 = _outer(*SEPARABLE_PARTS["box_3"])
#: 5×5 mean, every entry ``1/25``.
BOX_5 = _outer(*SEPARABLE_PARTS["box_5"])
#: ``[1, 2, 1]/4 ⊗ [1, 2, 1]/4 = [[1, 2, 1], [2, 4, 2], [1, 2, 1]]/16``.
GAUSSIAN_3 = _outer(*SEPARABLE_PARTS["gaussian_3"])
#: ``[1, 4, 6, 4, 1]/16 ⊗ itself``: entries ``/256`` (centre ``36/256``); it equals
#: ``GAUSSIAN_3 ∗ GAUSSIAN_3`` (full convolution).
GAUSSIAN_5 = _outer(*SEPARABLE_PARTS["gaussian_5"])

# --- first derivatives (each sums to 0) ------------------------------------------------------

#: ``[1, 2, 1] ⊗ [−1, 0, 1] = [[−1, 0, 1], [−2, 0, 2], [−1, 0, 1]]``: ∂/∂x (across the
#: columns), positive for intensity increasing to the right; it responds to vertical edges.
SOBEL_X = _outer(*SEPARABLE_PARTS["sobel_x"])
#: ``[−1, 0, 1] ⊗ [1, 2, 1] = [[−1, −2, −1], [0, 0, 0], [1, 2, 1]]``: ∂/∂y (down the
#: rows), positive for intensity increasing downwards; it responds to horizontal edges.
SOBEL_Y = _outer(*SEPARABLE_PARTS["sobel_y"])
#: Diagonal Sobel, positive for intensity increasing towards the bottom right (↘). Not
#: separable (rank 2).
SOBEL_D1 = _mat([[-2, -1, 0], [-1, 0, 1], [0, 1, 2]])
#: Diagonal Sobel, positive for intensity increasing towards the bottom left (↙). Not
#: separable (rank 2).
SOBEL_D2 = _mat([[0, -1, -2], [1, 0, -1], [2, 1, 0]])
#: Roberts cross, 2×2: ``x[i+1, j+1] − x[i, j]``, the derivative along the ↘ diagonal.
ROBERTS_X = _mat([[-1, 0], [0, 1]])
#: Roberts cross, 2×2: ``x[i+1, j] − x[i, j+1]``, the derivative along the ↙ diagonal.
ROBERTS_Y = _mat([[0, -1], [1, 0]])

# --- second derivatives / high-pass (each sums to 0) ----------------------------------------

#: ``[[0, −1, 0], [−1, 4, −1], [0, −1, 0]]``: −∇² with the 4 nearest neighbours.
LAPLACIAN_4 = _mat([[0, -1, 0], [-1, 4, -1], [0, -1, 0]])
#: ``[[−1, −1, −1], [−1, 8, −1], [−1, −1, −1]]``: −∇² with all 8 neighbours.
LAPLACIAN_8 = _mat([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])


def sharpen(a: float = 2.0, neighbours: int = 4, *, dtype: torch.dtype = _F32,
            device: torch.device | str | None = None) -> torch.Tensor:
    """A sharpening filter: ``(A − 1)·identity + LAPLACIAN_4`` (or ``_8``), a high-pass (−∇²).

    ``sharpened image = (A − 1)·original + high-pass filtered image``, the high-pass being
    :data:`LAPLACIAN_4` or :data:`LAPLACIAN_8`:

    - ``A = 1``: the Laplacian alone (edges only);
    - ``A = 2``: ``[[0, −1, 0], [−1, 5, −1], [0, −1, 0]]`` (4 neighbours) or the 8-neighbour
      ``[[−1, −1, −1], [−1, 9, −1], [−1, −1, −1]]``; the kernel sums to 1, so a constant image
      is left unchanged;
    - ``A > 2``: more of the original added back (the kernel sums to ``A − 1``).

    Args:
        a: the factor ``A`` (a finite number).
        neighbours: 4 or 8, which Laplacian to use.

    Returns:
        shape ``(3, 3)``.
    """
    if not isinstance(a, (int, float)) or isinstance(a, bool):
        raise TypeError(f"a must be a number (the factor A), got {a!r} ({type(a).__name__})")
    if not math.isfinite(a):
        raise ValueError(f"a must be a finite number, got {a}")
    if neighbours not in (4, 8) or isinstance(neighbours, bool):
        raise ValueError(f"neighbours must be 4 or 8, got {neighbours!r}")
    laplacian = LAPLACIAN_4 if neighbours == 4 else LAPLACIAN_8
    kernel = (a - 1) * IDENTITY_3.double() + laplacian.double()
    return kernel.to(dtype=dtype, device=device)


#: ``sharpen(2.0)``: ``[[0, −1, 0], [−1, 5, −1], [0, −1, 0]]``.
SHARPEN_3 = sharpen(2.0)

#: name → kernel, for galleries (``for name, k in FILTERS.items(): …``).
FILTERS: dict[str, torch.Tensor] = {
    "identity": IDENTITY_3,
    "box_3": BOX_3,
    "box_5": BOX_5,
    "gaussian_3": GAUSSIAN_3,
    "gaussian_5": GAUSSIAN_5,
    "sobel_x": SOBEL_X,
    "sobel_y": SOBEL_Y,
    "sobel_d1": SOBEL_D1,
    "sobel_d2": SOBEL_D2,
    "roberts_x": ROBERTS_X,
    "roberts_y": ROBERTS_Y,
    "laplacian_4": LAPLACIAN_4,
    "laplacian_8": LAPLACIAN_8,
    "sharpen": SHARPEN_3,
}
