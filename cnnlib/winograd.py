"""Winograd's minimal filtering: fewer multiplications for small kernels.

Two outputs of a 3-tap cross-correlation, ``y0 = d0·g0 + d1·g1 + d2·g2`` and
``y1 = d1·g0 + d2·g1 + d3·g2``, cost 6 multiplications done directly. Winograd's algorithm
F(2, 3) gets them from the 4 inputs ``d0 … d3`` with 4 multiplications:

    m1 = (d0 − d2)·g0                 m2 = (d1 + d2)·(g0 + g1 + g2)/2
    m4 = (d1 − d3)·g2                 m3 = (d2 − d1)·(g0 − g1 + g2)/2
    y0 = m1 + m2 + m3                 y1 = m2 − m3 − m4

In matrix form ``y = Aᵀ[(G g) ⊙ (Bᵀ d)]``, with the constant matrices :data:`F23_BT`
(4 × 4), :data:`F23_G` (4 × 3) and :data:`F23_AT` (2 × 4). ``Bᵀ`` and ``Aᵀ`` hold only 0
and ±1, so transforming the data and the result costs additions only; ``G g`` depends on the
filter alone and is computed once per filter, not once per output. What is left per tile is
the elementwise product ``⊙``: 4 multiplications instead of 6.

Nesting the 1D algorithm gives F(2×2, 3×3) for images: a 4×4 input tile ``d`` yields a 2×2
output tile as ``Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A`` — 16 multiplications instead of 2·2·3·3 = 36.
In a convolution layer the products of each of the 16 tile positions are summed over the
input channels, so the layer becomes 16 independent matrix products (Lavin & Gray, 2016).
"""

from __future__ import annotations

import torch

from ._validate import (
    check_float_tensor,
    check_kernel_fits,
    check_ndim,
    check_non_negative_tuple,
    check_same_device,
    check_same_dtype,
)
from .arithmetic import conv_output_size
from .im2col import patches
from .padding import pad

__all__ = ["F23_AT", "F23_BT", "F23_G", "f23_matrices", "winograd_conv2d", "winograd_f23"]

F23_BT = ((1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1))
"""Input transform ``Bᵀ`` of F(2, 3): 4 × 4, entries 0 and ±1 (additions only)."""
F23_G = ((1, 0, 0), (0.5, 0.5, 0.5), (0.5, -0.5, 0.5), (0, 0, 1))
"""Filter transform ``G`` of F(2, 3): 4 × 3, applied once per filter."""
F23_AT = ((1, 1, 1, 0), (0, 1, -1, -1))
"""Output transform ``Aᵀ`` of F(2, 3): 2 × 4, entries 0 and ±1 (additions only)."""


def f23_matrices(dtype: torch.dtype = torch.float32, device=None
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(Bᵀ, G, Aᵀ)`` of F(2, 3) as tensors of ``dtype`` on ``device``."""
    return tuple(torch.tensor(m, dtype=dtype, device=device) for m in (F23_BT, F23_G, F23_AT))


def winograd_f23(x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """Valid 1D cross-correlation with a 3-tap filter by Winograd F(2, 3).

    Shapes: ``x: (…, L)`` with ``L ≥ 3``, ``h: (3,)`` → ``(…, L − 2)``, equal to
    ``F.conv1d(x.view(-1, 1, L), h.view(1, 1, 3))`` (``y[i] = Σ_j h[j]·x[i + j]``).

    The output is cut into tiles of 2; tile ``t`` reads the 4 inputs ``x[2t : 2t + 4]``
    (neighbouring tiles overlap by 2). An odd output length gets one zero input appended and
    the extra output dropped. Per tile: ``Aᵀ[(G h) ⊙ (Bᵀ d)]``, 4 multiplications.
    """
    check_float_tensor("x", x)
    check_float_tensor("h", h)
    check_same_device(x=x, h=h)
    if x.dim() < 1 or x.shape[-1] < 3:
        raise ValueError(f"x must have at least 3 samples along its last dimension, got shape "
                         f"{tuple(x.shape)}")
    if tuple(h.shape) != (3,):
        raise ValueError(f"h must be a 3-tap filter of shape (3,), got shape {tuple(h.shape)}")
    check_same_dtype("x", x, h=h)
    bt, g, at = f23_matrices(x.dtype, x.device)
    n_out = x.shape[-1] - 2
    tiles = (n_out + 1) // 2
    if 2 * tiles > n_out:  # odd length: one zero sample so that the last tile is complete
        x = torch.cat([x, x.new_zeros(*x.shape[:-1], 1)], dim=-1)
    start = 2 * torch.arange(tiles, device=x.device)
    d = x[..., start[:, None] + torch.arange(4, device=x.device)]  # (…, tiles, 4)
    m = (d @ bt.T) * (g @ h)  # (…, tiles, 4): the only multiplications that depend on x
    y = m @ at.T  # (…, tiles, 2)
    return y.flatten(-2)[..., :n_out]


def winograd_conv2d(input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                    padding=0) -> torch.Tensor:
    """2D convolution with 3×3 filters by Winograd F(2×2, 3×3) (stride 1, no dilation).

    Shapes: ``input: (N, C_in, H, W)``, ``weight: (C_out, C_in, 3, 3)``, ``bias: (C_out,)`` →
    ``(N, C_out, H_out, W_out)`` with ``H_out = H + 2p − 2``, equal to
    ``F.conv2d(input, weight, bias, padding=padding)``. ``padding`` (zeros, per side): an int
    or a pair.

    Steps: transform every filter once, ``U = G g Gᵀ`` (C_out, C_in, 4, 4); cut the padded
    input into 4×4 tiles with stride 2 and transform them, ``V = Bᵀ d B``; for each of the
    16 positions of a tile multiply ``U`` by ``V`` summing over the input channels (16 matrix
    products); transform back, ``Y = Aᵀ M A``, into 2×2 output tiles.
    """
    check_float_tensor("input", input)
    check_float_tensor("weight", weight)
    check_ndim("input", input, (4,), "(N, C_in, H, W)")
    check_ndim("weight", weight, (4,), "(C_out, C_in, 3, 3)")
    if bias is not None:
        check_float_tensor("bias", bias)
    check_same_device(input=input, weight=weight, bias=bias)
    if tuple(weight.shape[2:]) != (3, 3):
        raise ValueError(f"weight must hold 3×3 filters for Winograd F(2×2, 3×3), got shape "
                         f"{tuple(weight.shape)}")
    if weight.shape[1] != input.shape[1]:
        raise ValueError(f"weight.shape[1] must equal the input channels, got weight "
                         f"{tuple(weight.shape)} and input {tuple(input.shape)}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"bias must have shape (C_out,) = ({weight.shape[0]},), got "
                         f"{tuple(bias.shape)}")
    check_same_dtype("input", input, weight=weight, bias=bias)
    ph, pw = check_non_negative_tuple("padding", padding, 2)
    n, _, h, w = input.shape
    check_kernel_fits(h, 3, 1, ph, dim="H")
    check_kernel_fits(w, 3, 1, pw, dim="W")
    ho, wo = conv_output_size(h, 3, padding=ph), conv_output_size(w, 3, padding=pw)
    th, tw = (ho + 1) // 2, (wo + 1) // 2  # tiles along each side
    # Zeros below and right complete the last tiles when an output side is odd.
    xp = pad(input, ((ph, ph + 2 * th - ho), (pw, pw + 2 * tw - wo)))
    bt, g, at = f23_matrices(input.dtype, input.device)
    tiles = patches(xp, 4, stride=2)  # (N, C_in, 4, 4, th, tw), a view: no copy
    v = torch.einsum("ai,ncijts,bj->ncabts", bt, tiles, bt)  # Bᵀ d B per tile
    u = torch.einsum("ai,ocij,bj->ocab", g, weight, g)  # G g Gᵀ per filter, once
    m = torch.einsum("ocab,ncabts->noabts", u, v)  # 16 products summed over channels
    y = torch.einsum("pa,noabts,qb->notpsq", at, m, at)  # Aᵀ M A: (N, C_out, th, 2, tw, 2)
    y = y.reshape(n, weight.shape[0], 2 * th, 2 * tw)[:, :, :ho, :wo]
    return y if bias is None else y + bias.view(-1, 1, 1)
