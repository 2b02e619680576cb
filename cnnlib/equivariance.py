"""Structure, invariance and equivariance: the tools of chapter 1.

Translation. The translation operator ``T_k`` moves a signal ``k`` samples along each axis:
``(T_k x)[i] = x[i − k]``, so content moves towards larger indices when ``k > 0`` (right in a
row, down in a column). What leaves one end either comes back at the other
(``mode="circular"``, the same as :func:`torch.roll`) or is lost, the vacated samples being
filled with zeros (``mode="zeros"``). See :func:`translate`.

Invariance and equivariance of a function ``f`` under a transformation ``g``:

    invariance     f(g(x)) = f(x)           measured by :func:`invariance_error`
    equivariance   f(g(x)) = g'(f(x))       measured by :func:`equivariance_error`

where ``g'`` is the same transformation acting on ``f``'s output (usually ``g`` itself).
:func:`equivariance_gap` returns the whole difference ``f(g(x)) − g'(f(x))``, to see *where*
equivariance breaks; :func:`interior` crops the borders away.

Structure of real signals: :func:`lag_correlation` (locality: how alike are samples ``d``
apart) and :func:`best_patch_match` (self-similarity: a patch recurs elsewhere).

The permutation experiment: :func:`pixel_permutation` draws a fixed reordering of the pixels,
:func:`permute_pixels` applies it to images (or to a dense layer's weights, viewed as images),
and :func:`permute_input_weights` gives the dense layer that sees permuted images exactly as
the original sees the originals.

Deformations: :func:`smooth_displacement` draws smooth random displacement fields ``τ``,
:func:`constant_displacement` the field of a translation, and :func:`deform` applies the warp
``(L_τ x)(p) = x(p − τ(p))`` (bilinear or bicubic interpolation between pixels). Two numbers
describe a field: its size ``max_p |τ(p)|`` (:func:`max_displacement`) and how fast it varies
from pixel to pixel, ``max_p ‖∇τ(p)‖`` (:func:`max_displacement_gradient`, from the Jacobian
of :func:`displacement_jacobian`). A translation has any size and gradient 0. Stability
results for CNN-like representations (Mallat, "Group invariant scattering", 2012) bound the
change of translation-invariant (globally pooled) features by the gradient, not the size.

The chapter's figures are drawn by :mod:`cnnlib.viz.equivariance`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ._validate import (
    _is_int,
    check_callable,
    check_choice,
    check_float_tensor,
    check_ndim,
    check_non_negative_int,
    check_positive_int,
    check_tensor,
)

__all__ = [
    "DEFORM_MODES",
    "TRANSLATE_MODES",
    "PatchMatch",
    "best_patch_match",
    "constant_displacement",
    "deform",
    "displacement_jacobian",
    "equivariance_error",
    "equivariance_gap",
    "interior",
    "invariance_error",
    "lag_correlation",
    "max_displacement",
    "max_displacement_gradient",
    "permute_input_weights",
    "permute_pixels",
    "pixel_permutation",
    "smooth_displacement",
    "translate",
]

TRANSLATE_MODES = ("circular", "zeros")
DEFORM_MODES = ("bilinear", "bicubic")


# ------------------------------------------------------------------------------ translation
def _int_tuple(name: str, value, *, allow_negative: bool) -> tuple[int, ...]:
    """An int or a non-empty sequence of ints, as a tuple."""
    items = (value,) if _is_int(value) else value
    if (isinstance(items, Sequence) and not isinstance(items, str) and len(items) > 0
            and all(_is_int(v) for v in items)):
        items = tuple(items)
        if not allow_negative and any(v < 0 for v in items):
            raise ValueError(f"{name} must be non-negative, got {value!r}")
        return items
    raise TypeError(f"{name} must be an int or a non-empty tuple of ints, got {value!r}")


def _shift_one_dim(x: torch.Tensor, k: int, dim: int, mode: str) -> torch.Tensor:
    n = x.shape[dim]
    source = torch.arange(n, device=x.device) - k  # output i reads input i − k
    if mode == "circular":
        return x.index_select(dim, source % n)
    inside = (source >= 0) & (source < n)
    gathered = x.index_select(dim, source.clamp(0, n - 1))
    shape = [1] * x.dim()
    shape[dim] = n
    return torch.where(inside.view(shape), gathered, torch.zeros_like(gathered))


def translate(input: torch.Tensor, shift, mode: str = "circular") -> torch.Tensor:
    """The translation operator ``T_k``: ``(T_k x)[i] = x[i − k]`` along the last dimensions.

    ``shift``: an int ``k`` (moves the last dimension) or a tuple ``(k_1, …, k_m)`` that moves
    the last ``m`` dimensions, **first spatial dimension first**: ``(dy, dx)`` for an image
    ``(…, H, W)`` moves it ``dy`` rows down and ``dx`` columns right (negative: up, left).

    ``mode="circular"``: indices wrap around, ``(T_k x)[i] = x[(i − k) mod n]`` — the same as
    ``torch.roll(input, shift, dims)``. It is a permutation: ``T_{−k}`` undoes ``T_k``.
    ``mode="zeros"``: samples shifted in from outside are 0 and those shifted out are lost
    (``|k| ≥ n`` gives all zeros); not invertible.

    Shapes: ``(…, n_1, …, n_m) → (…, n_1, …, n_m)``, same dtype and device as ``input``;
    autograd flows through.
    """
    check_tensor("input", input)
    check_choice("mode", mode, TRANSLATE_MODES)
    shifts = _int_tuple("shift", shift, allow_negative=True)
    if len(shifts) > input.dim():
        raise ValueError(
            f"shift has {len(shifts)} entries but input has only {input.dim()} dimensions "
            f"(shape {tuple(input.shape)})"
        )
    out = input
    for offset, k in enumerate(shifts):
        dim = input.dim() - len(shifts) + offset
        if k != 0 and input.shape[dim] > 0:
            out = _shift_one_dim(out, k, dim, mode)
    return out


# ----------------------------------------------------------- invariance and equivariance

def equivariance_gap(f: Callable, x: torch.Tensor, g: Callable,
                     g_out: Callable | None = None) -> torch.Tensor:
    """``f(g(x)) − g'(f(x))``, the whole tensor: zero everywhere iff ``f`` commutes with ``g``.

    ``g_out`` (``g'``) is the transformation acting on ``f``'s output; it defaults to ``g``
    (right when ``f`` keeps the shape, e.g. a convolution with "same" padding).
    """
    for name, fn in (("f", f), ("g", g)):
        check_callable(name, fn)
    if g_out is None:
        g_out = g
    check_callable("g_out", g_out)
    a, b = f(g(x)), g_out(f(x))
    if a.shape != b.shape:
        raise ValueError(
            f"f(g(x)) has shape {tuple(a.shape)} but g_out(f(x)) has shape {tuple(b.shape)}; "
            "pass a g_out that acts on f's output"
        )
    return a - b


def equivariance_error(f: Callable, x: torch.Tensor, g: Callable,
                       g_out: Callable | None = None) -> float:
    """``max |f(g(x)) − g'(f(x))|``: 0 (up to rounding) when ``f`` is equivariant to ``g`` on x."""
    return float(equivariance_gap(f, x, g, g_out).abs().max())


def invariance_error(f: Callable, x: torch.Tensor, g: Callable) -> float:
    """``max |f(g(x)) − f(x)|``: 0 (up to rounding) when ``f`` is invariant to ``g`` on x."""
    return equivariance_error(f, x, g, g_out=lambda y: y)


def interior(input: torch.Tensor, margin) -> torch.Tensor:
    """``input`` without a border of ``margin`` samples on each side of its last dimensions.

    ``margin``: an int (the last two dimensions, e.g. an image's ``H`` and ``W``) or a tuple
    ``(m_1, …, m_k)`` for the last ``k`` dimensions, first first.
    ``(…, H, W) → (…, H − 2m, W − 2m)``; a view, not a copy.
    """
    check_tensor("input", input)
    margins = (margin, margin) if _is_int(margin) else margin
    margins = _int_tuple("margin", margins, allow_negative=False)
    k = len(margins)
    if k > input.dim():
        raise ValueError(f"margin has {k} entries but input has only {input.dim()} dimensions")
    index = [slice(None)] * (input.dim() - k)
    for m, n in zip(margins, input.shape[-k:], strict=True):
        if 2 * m >= n:
            raise ValueError(
                f"margin must leave something: 2·{m} ≥ {n} removes the whole dimension "
                f"of input shape {tuple(input.shape)}"
            )
        index.append(slice(m, n - m))
    return input[tuple(index)]


# ------------------------------------------------------------------------- structure
def lag_correlation(x: torch.Tensor, max_lag: int, dim: int = -1) -> torch.Tensor:
    """Correlation between samples ``d`` apart along ``dim``, for ``d = 0 … max_lag``.

    ``r(d)`` = Pearson correlation of the pairs ``(x[…, i, …], x[…, i + d, …])`` over every
    ``i`` and every position in the other dimensions (all pooled together). ``r(0) = 1``;
    a signal with *local* structure has ``r(d)`` near 1 for small ``d``, decaying with ``d``.

    Returns a float64 tensor of shape ``(max_lag + 1,)`` on ``x``'s device.
    """
    check_float_tensor("x", x)
    check_non_negative_int("max_lag", max_lag, type_error=ValueError)
    n = x.shape[dim]
    if max_lag > n - 2:
        raise ValueError(
            f"max_lag must be at most n − 2 = {n - 2} (at least two pairs per lag) for "
            f"dimension {dim} of size {n}, got {max_lag}"
        )
    x = x.to(torch.float64)
    values = []
    for d in range(max_lag + 1):
        a = x.narrow(dim, 0, n - d).reshape(-1)
        b = x.narrow(dim, d, n - d).reshape(-1)
        a, b = a - a.mean(), b - b.mean()
        values.append((a * b).sum() / (a.norm() * b.norm()))
    return torch.stack(values)


@dataclass(frozen=True)
class PatchMatch:
    """The result of :func:`best_patch_match` for one query patch (positions are top-left
    ``(row, column)`` corners)."""

    query: tuple[int, int]
    match: tuple[int, int]  #: the closest patch that does not overlap the query
    distance: float         #: Euclidean distance from the query to its match
    typical: float          #: median distance from the query to all non-overlapping patches

    @property
    def ratio(self) -> float:
        """``distance / typical``: well below 1 when the patch recurs elsewhere."""
        return self.distance / self.typical


def best_patch_match(image: torch.Tensor, query: tuple[int, int], patch_size: int,
                     stride: int = 1) -> PatchMatch:
    """The patch of ``image`` most like the one at ``query``, among those that do not overlap it.

    ``image: (C, H, W)``; patches are ``patch_size × patch_size`` with their top-left corner on
    a grid of step ``stride``; the query may be anywhere. Distance: Euclidean between the
    patches' pixel values (all channels).
    """
    check_float_tensor("image", image)
    check_ndim("image", image, (3,), "(C, H, W)")
    p = check_positive_int("patch_size", patch_size)
    s = check_positive_int("stride", stride)
    _, h, w = image.shape
    is_pair = (isinstance(query, Sequence) and len(query) == 2
               and all(_is_int(v) for v in query))
    r, c = query if is_pair else (-1, -1)
    if not (0 <= r <= h - p and 0 <= c <= w - p):
        raise ValueError(
            f"query must be the top-left corner (row, column) of a patch inside the image: "
            f"0 ≤ row ≤ {h - p}, 0 ≤ column ≤ {w - p}, got {query!r}"
        )
    patches = F.unfold(image[None], p, stride=s)[0]  # (C·p·p, L)
    q = image[:, r:r + p, c:c + p].reshape(-1, 1)
    distances = (patches - q).norm(dim=0)
    rows = torch.arange(0, h - p + 1, s, device=image.device)
    cols = torch.arange(0, w - p + 1, s, device=image.device)
    rr, cc = torch.meshgrid(rows, cols, indexing="ij")
    rr, cc = rr.reshape(-1), cc.reshape(-1)
    apart = ((rr - r).abs() >= p) | ((cc - c).abs() >= p)
    if not apart.any():
        raise ValueError(f"the image has no patch of size {p} that does not overlap {query!r}")
    candidates = distances.masked_fill(~apart, float("inf"))
    best = int(candidates.argmin())
    typical = float(distances[apart].quantile(0.5))
    return PatchMatch(query=(r, c), match=(int(rr[best]), int(cc[best])),
                      distance=float(distances[best]), typical=typical)


# ---------------------------------------------------------------- pixel permutation
def pixel_permutation(height: int, width: int, generator: torch.Generator | None = None,
                      device: torch.device | str | None = None) -> torch.Tensor:
    """A random reordering of the ``height·width`` pixel positions: an int64 tensor ``(H·W,)``.

    Entry ``j`` says which pixel (in row-major order) lands at position ``j``.
    """
    n = check_positive_int("height", height) * check_positive_int("width", width)
    perm = torch.randperm(n, generator=generator)
    return perm.to(device) if device is not None else perm


def permute_pixels(input: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """Reorder the pixels of ``input: (…, H, W)`` by ``perm``, the same way in every channel.

    ``out.flatten(-2)[…, j] = input.flatten(-2)[…, perm[j]]``; shape unchanged.
    ``permute_pixels(y, torch.argsort(perm))`` undoes it.
    """
    if not isinstance(input, torch.Tensor) or input.dim() < 2:
        raise ValueError("input must be a tensor (…, H, W) with at least 2 dimensions")
    h, w = input.shape[-2:]
    if not isinstance(perm, torch.Tensor) or perm.shape != (h * w,) or perm.is_floating_point():
        raise ValueError(
            f"perm must be an integer tensor of shape ({h * w},) (one entry per pixel of an "
            f"{h}×{w} image), got {perm!r:.60}"
        )
    if not torch.equal(perm.sort().values.cpu(), torch.arange(h * w)):
        raise ValueError(f"perm must be a permutation of 0 … {h * w - 1} (each index once)")
    flat = input.flatten(-2)
    return flat.index_select(-1, perm.to(input.device)).view(input.shape)


def permute_input_weights(linear: nn.Linear, perm: torch.Tensor,
                          image_shape: tuple[int, int, int]) -> nn.Linear:
    """The dense layer that sees permuted images as ``linear`` sees the originals.

    ``linear`` takes flattened images of shape ``image_shape = (C, H, W)``. Its weight, one
    row per output unit, is viewed as ``C_out`` images and its pixels are permuted like the
    input's, so ``new(permute_pixels(x, perm).flatten(1)) == linear(x.flatten(1))``: the same
    products, summed in another order. Returns a new ``nn.Linear`` (``linear`` is unchanged).
    """
    if not isinstance(linear, nn.Linear):
        raise TypeError(f"linear must be a torch.nn.Linear, got {type(linear).__name__}")
    c, h, w = _int_tuple("image_shape", image_shape, allow_negative=False)
    if c * h * w != linear.in_features:
        raise ValueError(
            f"image_shape {image_shape!r} has {c * h * w} values but linear takes "
            f"{linear.in_features} inputs"
        )
    new = nn.Linear(linear.in_features, linear.out_features, bias=linear.bias is not None,
                    device=linear.weight.device, dtype=linear.weight.dtype)
    with torch.no_grad():
        weight = linear.weight.view(linear.out_features, c, h, w)
        new.weight.copy_(permute_pixels(weight, perm).reshape_as(linear.weight))
        if linear.bias is not None:
            new.bias.copy_(linear.bias)
    return new


# ------------------------------------------------------------------------ deformations
def smooth_displacement(size: tuple[int, int], magnitude: float, cells: int = 3,
                        generator: torch.Generator | None = None,
                        dtype: torch.dtype = torch.float32,
                        device: torch.device | str | None = None, *,
                        count: int | None = None) -> torch.Tensor:
    """A random smooth displacement field ``τ``: ``(2, H, W)``, in pixels (``τ[0]`` down, ``τ[1]``
    right).

    Random values on a coarse ``(cells + 1) × (cells + 1)`` grid, interpolated bicubically to
    ``H × W`` and scaled so that the longest displacement vector is ``magnitude`` pixels.
    Fewer cells give a smoother (more global) warp: at a fixed ``magnitude`` the gradient
    ``max ‖∇τ‖`` grows roughly in proportion to ``cells``. ``magnitude = 0`` gives zeros.
    ``count``: ``None`` gives one field ``(2, H, W)``; an int ``N`` gives ``N`` independent
    fields ``(N, 2, H, W)``, each scaled to ``magnitude``.
    """
    h, w = _int_tuple("size", size, allow_negative=False)
    check_positive_int("height", h)
    check_positive_int("width", w)
    if isinstance(magnitude, bool) or not isinstance(magnitude, int | float) or magnitude < 0:
        raise ValueError(f"magnitude must be a non-negative number of pixels, got {magnitude!r}")
    check_positive_int("cells", cells)
    n = 1 if count is None else check_positive_int("count", count)
    coarse = torch.rand(n, 2, cells + 1, cells + 1, generator=generator, dtype=torch.float64)
    field = F.interpolate(coarse * 2 - 1, size=(h, w), mode="bicubic", align_corners=True)
    longest = field.norm(dim=1).flatten(1).max(dim=1).values.view(n, 1, 1, 1)
    field = field * (magnitude / longest) if magnitude > 0 else torch.zeros_like(field)
    field = field[0] if count is None else field
    return field.to(dtype=dtype, device=device)


def constant_displacement(size: tuple[int, int], shift, dtype: torch.dtype = torch.float32,
                          device: torch.device | str | None = None) -> torch.Tensor:
    """The displacement field of a translation: ``τ(p) = (dy, dx)`` at every pixel, ``(2, H, W)``.

    ``shift = (dy, dx)`` in pixels (numbers, not necessarily whole). With whole pixels,
    ``deform(x, constant_displacement(x.shape[-2:], (dy, dx)), padding_mode="zeros")`` is
    ``translate(x, (dy, dx), mode="zeros")``.
    """
    h, w = _int_tuple("size", size, allow_negative=False)
    check_positive_int("height", h)
    check_positive_int("width", w)
    ok = (isinstance(shift, Sequence) and not isinstance(shift, str) and len(shift) == 2
          and all(isinstance(v, int | float) and not isinstance(v, bool) for v in shift))
    if not ok:
        raise TypeError(f"shift must be a pair of numbers (dy, dx), got {shift!r}")
    values = torch.tensor([float(v) for v in shift], dtype=dtype, device=device)
    return values.view(2, 1, 1).expand(2, h, w).clone()


def _check_displacement(displacement: torch.Tensor) -> None:
    check_float_tensor("displacement", displacement)
    if displacement.dim() < 3 or displacement.shape[-3] != 2:
        raise ValueError(f"displacement must have shape (…, 2, H, W), got "
                         f"{tuple(displacement.shape)}")


def displacement_jacobian(displacement: torch.Tensor) -> torch.Tensor:
    """The Jacobian ``∇τ`` of a displacement field at every pixel: ``(…, 2, H, W) → (…, H, W,
    2, 2)``.

    ``J[…, i, j, a, b] = ∂τ_a/∂p_b`` at pixel ``(i, j)``, with ``p_0`` the row (down) and
    ``p_1`` the column (right), like ``τ[0]`` and ``τ[1]``. Derivatives are finite differences
    with a spacing of one pixel: central, ``(τ[i + 1] − τ[i − 1]) / 2``, inside the field and
    one-sided on its border (:func:`torch.gradient`), so a field that is linear in ``p`` gets
    its exact Jacobian everywhere. ``H`` and ``W`` must be at least 2.
    """
    _check_displacement(displacement)
    h, w = displacement.shape[-2:]
    if h < 2 or w < 2:
        raise ValueError(f"displacement must be at least 2×2 in space to differentiate, got "
                         f"{h}×{w}")
    d_rows, d_cols = torch.gradient(displacement, dim=(-2, -1))  # each (…, 2, H, W): ∂τ_a/∂p_b
    jac = torch.stack([d_rows, d_cols], dim=-1)  # (…, 2, H, W, 2): [a, i, j, b]
    return jac.movedim(-4, -2)  # (…, H, W, 2, 2): [i, j, a, b]


def max_displacement(displacement: torch.Tensor) -> torch.Tensor:
    """The size of a displacement field, ``max_p |τ(p)|`` (Euclidean length, in pixels).

    ``displacement: (…, 2, H, W)`` → ``(…)``: one number per field.
    """
    _check_displacement(displacement)
    return displacement.norm(dim=-3).flatten(-2).max(dim=-1).values


def max_displacement_gradient(displacement: torch.Tensor) -> torch.Tensor:
    """How fast a displacement field varies, ``max_p ‖∇τ(p)‖``: ``(…, 2, H, W)`` → ``(…)``.

    ``‖∇τ(p)‖`` is the spectral norm (largest singular value) of the 2×2 Jacobian of
    :func:`displacement_jacobian`: the most that the displacement changes, in pixels, per pixel
    moved. It is 0 for a translation whatever its size; a value of 1 or more means that the
    warp ``p ↦ p − τ(p)`` can fold the image onto itself.
    """
    jac = displacement_jacobian(displacement)
    # largest singular value of [[a, b], [c, d]], in closed form (an SVD per pixel is slow):
    # σ_max² = (‖J‖_F² + sqrt(‖J‖_F⁴ − 4 det(J)²)) / 2
    frob2 = jac.square().sum(dim=(-2, -1))
    det = jac[..., 0, 0] * jac[..., 1, 1] - jac[..., 0, 1] * jac[..., 1, 0]
    root = (frob2.square() - 4 * det.square()).clamp(min=0).sqrt()
    sigma = ((frob2 + root) / 2).sqrt()
    return sigma.flatten(-2).max(dim=-1).values


def deform(input: torch.Tensor, displacement: torch.Tensor,
           padding_mode: str = "border", mode: str = "bilinear") -> torch.Tensor:
    """The warp ``(L_τ x)(p) = x(p − τ(p))``, interpolated between pixels.

    ``input: (N, C, H, W)`` or ``(C, H, W)``; ``displacement: (2, H, W)`` or ``(N, 2, H, W)``,
    in pixels, ``τ[0]`` along rows (down), ``τ[1]`` along columns (right). The content at
    ``p − τ(p)`` moves to ``p``: a constant ``τ = (dy, dx)`` of whole pixels is
    :func:`translate` by ``(dy, dx)``. Where ``p − τ(p)`` falls outside the image,
    ``padding_mode`` decides (as in :func:`torch.nn.functional.grid_sample`): ``"zeros"``,
    ``"border"`` (nearest edge pixel, the default) or ``"reflection"``.

    ``mode``: ``"bilinear"`` (the default) mixes the 2×2 nearest pixels; reading halfway
    between two pixels gives their mean, a slight blur. ``"bicubic"`` (PyTorch's cubic
    convolution on the 4×4 nearest pixels) blurs much less, and may overshoot the input's range
    a little near sharp edges. Both reproduce whole-pixel translations exactly.
    """
    check_float_tensor("input", input)
    check_ndim("input", input, (3, 4), "(N, C, H, W) or (C, H, W)")
    check_float_tensor("displacement", displacement)
    check_choice("mode", mode, DEFORM_MODES)
    unbatched = input.dim() == 3
    x = input[None] if unbatched else input
    n, _, h, w = x.shape
    if h < 2 or w < 2:
        raise ValueError(f"input must be at least 2×2 to interpolate, got {h}×{w}")
    tau = displacement[None] if displacement.dim() == 3 else displacement
    if tau.dim() != 4 or tau.shape[1:] != (2, h, w) or tau.shape[0] not in (1, n):
        raise ValueError(
            f"displacement must have shape (2, {h}, {w}) or ({n}, 2, {h}, {w}) to match input "
            f"{tuple(input.shape)}, got {tuple(displacement.shape)}"
        )
    rows = torch.arange(h, device=x.device, dtype=x.dtype).view(h, 1)
    cols = torch.arange(w, device=x.device, dtype=x.dtype).view(1, w)
    source_y = rows - tau[:, 0].to(x.dtype)  # (N or 1, H, W), in pixels
    source_x = cols - tau[:, 1].to(x.dtype)
    # grid_sample wants (x, y) in [−1, 1]; with align_corners=True −1 and 1 are pixel centres
    grid = torch.stack([2 * source_x / (w - 1) - 1, 2 * source_y / (h - 1) - 1], dim=-1)
    grid = grid.expand(n, h, w, 2)
    out = F.grid_sample(x, grid, mode=mode, padding_mode=padding_mode, align_corners=True)
    return out[0] if unbatched else out
