"""Separable convolutions: separable kernels (rank by SVD) and depthwise separable layers.

The word *separable* names two different factorisations.

**Spatially separable kernels.** A ``kh × kw`` kernel is separable when it is an outer product
``K = c ⊗ r`` (``K[i, j] = c[i]·r[j]``) of a column ``c`` and a row ``r``, e.g. Sobel
``[1, 2, 1] ⊗ [−1, 0, 1]`` or a Gaussian ``g ⊗ g``. Then the 2-D convolution is a vertical
1-D pass with ``c`` followed by a horizontal one with ``r`` (:func:`separable_conv2d`):
``kh + kw`` instead of ``kh·kw`` multiplies per output. The singular value decomposition
``K = Σ_i σ_i u_i v_iᵀ`` tells which kernels separate: exactly those of matrix **rank 1**
(one non-zero ``σ_i``, :func:`kernel_rank`). A rank-``r`` kernel is a sum of ``r`` separable
ones, and keeping the ``r`` largest singular values gives the **best** rank-``r`` approximation
in the Frobenius norm, with error ``√(Σ_{i>r} σ_i²)`` (Eckart–Young;
:func:`separable_approximation`).

**Depthwise separable layers** (Xception, MobileNet). A convolution layer mixes space and
channels at once: ``C_out·C_in·k²`` weights. :class:`DepthwiseSeparableConv2d` factors it into
a *depthwise* ``k × k`` convolution that filters every input channel on its own
(``groups = C_in``: ``C_in·k²`` weights) and a *pointwise* ``1 × 1`` convolution that mixes the
channels (``C_in·C_out`` weights). The ratio of weights — and of multiply-accumulates, since
both layers produce every output position once — is

    (C_in·k² + C_in·C_out) / (C_out·C_in·k²) = 1/C_out + 1/k².

:func:`channel_connectivity` measures which input channels each output channel of a layer
sees (block-diagonal for a grouped convolution).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ._validate import (
    check_bool,
    check_float_tensor,
    check_module,
    check_ndim,
    check_non_negative_tuple,
    check_positive_int,
    check_positive_tuple,
    check_shape,
)
from .conv import conv2d

__all__ = [
    "DepthwiseSeparableConv2d",
    "SeparableApproximation",
    "channel_connectivity",
    "kernel_rank",
    "separable_approximation",
    "separable_conv2d",
    "singular_values",
]


def _check_kernel(kernel) -> torch.Tensor:
    check_float_tensor("kernel", kernel)
    check_ndim("kernel", kernel, (2,), "(kh, kw)")
    return kernel


def singular_values(kernel: torch.Tensor) -> torch.Tensor:
    """``σ_1 ≥ σ_2 ≥ …`` of a 2-D kernel, computed in float64 on the CPU."""
    _check_kernel(kernel)
    return torch.linalg.svdvals(kernel.detach().to("cpu", torch.float64))


def _tolerance(kernel: torch.Tensor, sigma: torch.Tensor, tol) -> float:
    if tol is None:  # the rule of numpy's and torch's matrix_rank, in the kernel's own dtype
        return float(sigma[0]) * max(kernel.shape) * torch.finfo(kernel.dtype).eps
    if not isinstance(tol, (int, float)) or isinstance(tol, bool) or not tol >= 0:
        raise ValueError(f"tol must be a non-negative number or None, got {tol!r}")
    return float(tol)


def kernel_rank(kernel: torch.Tensor, tol: float | None = None) -> int:
    """Matrix rank of a 2-D kernel: how many of its singular values exceed ``tol``.

    Rank 1 means separable (``kernel = column ⊗ row``); rank ``r`` means a sum of ``r``
    separable kernels and no fewer. ``tol`` defaults to ``σ_1 · max(kh, kw) · eps`` with the
    machine epsilon of the kernel's dtype, so the rounding of a float32 kernel built as an
    outer product does not count as a second component. An all-zero kernel has rank 0.

    Shapes: ``kernel: (kh, kw)``.

    >>> from cnnlib.filters import SOBEL_X, LAPLACIAN_4
    >>> kernel_rank(SOBEL_X), kernel_rank(LAPLACIAN_4)
    (1, 2)
    """
    sigma = singular_values(kernel)
    return int((sigma > _tolerance(kernel, sigma, tol)).sum())


@dataclass(frozen=True)
class SeparableApproximation:
    """The best rank-``r`` approximation of a kernel, as ``r`` separable pieces.

    ``approximation = columns @ rows = Σ_i columns[:, i] ⊗ rows[i]``; each piece
    ``columns[:, i] ⊗ rows[i]`` is a separable kernel (the singular value is split evenly,
    ``√σ_i`` into each factor).
    """

    columns: torch.Tensor          #: ``(kh, r)``: the vertical 1-D filters
    rows: torch.Tensor             #: ``(r, kw)``: the horizontal 1-D filters
    approximation: torch.Tensor    #: ``(kh, kw)``: their sum of outer products
    singular_values: torch.Tensor  #: all ``min(kh, kw)`` singular values of the kernel
    error: float                   #: ``‖kernel − approximation‖_F = √(Σ_{i>r} σ_i²)``
    relative_error: float          #: ``error / ‖kernel‖_F`` (0 for an all-zero kernel)

    @property
    def rank(self) -> int:
        return self.rows.shape[0]


def separable_approximation(kernel: torch.Tensor, rank: int = 1) -> SeparableApproximation:
    """Best rank-``rank`` approximation of ``kernel`` in the Frobenius norm (Eckart–Young).

    From the SVD ``kernel = U diag(σ) Vᵀ``: ``columns = U[:, :r]·√σ_{:r}``,
    ``rows = √σ_{:r}·Vᵀ[:r]``. With ``rank = 1`` and a separable kernel, the approximation is the
    kernel itself and ``columns[:, 0] ⊗ rows[0]`` recovers its two 1-D parts (up to a sign
    and a scale shared between them). When ``σ_r = σ_{r+1}`` the best approximation is not
    unique; the SVD picks one of them.

    Shapes: ``kernel: (kh, kw)`` → ``columns (kh, r)``, ``rows (r, kw)``, ``approximation
    (kh, kw)``, in the kernel's dtype and on its device. ``rank`` at most ``min(kh, kw)``.
    Computed in float64 (autograd does not flow through it).
    """
    _check_kernel(kernel)
    check_positive_int("rank", rank)
    kh, kw = kernel.shape
    if rank > min(kh, kw):
        raise ValueError(f"rank must be at most min(kh, kw) = {min(kh, kw)} for a {kh}×{kw} "
                         f"kernel, got {rank}")
    k64 = kernel.detach().to("cpu", torch.float64)
    u, sigma, vt = torch.linalg.svd(k64, full_matrices=False)
    root = sigma[:rank].sqrt()
    columns = u[:, :rank] * root
    rows = root[:, None] * vt[:rank]
    approximation = columns @ rows
    error = float(sigma[rank:].square().sum().sqrt())
    norm = float(sigma.square().sum().sqrt())

    def back(t):
        return t.to(device=kernel.device, dtype=kernel.dtype)

    return SeparableApproximation(back(columns), back(rows), back(approximation), sigma,
                                  error, error / norm if norm > 0 else 0.0)


def separable_conv2d(input: torch.Tensor, column: torch.Tensor, row: torch.Tensor, stride=1,
                     padding=0, method: str = "im2col") -> torch.Tensor:
    """Convolve every channel with the separable kernel ``column ⊗ row``, as two 1-D passes.

    First a vertical pass with the ``(kh, 1)`` kernel ``column``, then a horizontal pass with
    the ``(1, kw)`` kernel ``row``, each with :func:`cnnlib.conv.conv2d` (``groups = C``, every
    channel on its own). Equal to ``conv2d(input, (column ⊗ row) per channel, groups=C)``,
    at ``kh + kw`` instead of ``kh·kw`` multiplies per output value.

    Shapes: ``input: (N, C, H, W)`` or ``(C, H, W)``; ``column: (kh,)``, ``row: (kw,)`` →
    ``(N, C, H_out, W_out)`` with ``H_out = ⌊(H + 2p_h − kh)/s_h⌋ + 1`` (likewise ``W_out``).
    ``stride`` and ``padding`` (zeros, per side) are ints or ``(h, w)`` pairs: the vertical
    pass uses the first entries, the horizontal pass the second.
    """
    check_float_tensor("input", input)
    check_ndim("input", input, (3, 4), "(N, C, H, W) or (C, H, W)")
    for name, t in (("column", column), ("row", row)):
        check_float_tensor(name, t)
        check_ndim(name, t, (1,), f"({'kh' if name == 'column' else 'kw'},)")
    sh, sw = check_positive_tuple("stride", stride, 2)
    ph, pw = check_non_negative_tuple("padding", padding, 2)
    channels = input.shape[-3]
    vertical = column.view(1, 1, -1, 1).expand(channels, 1, -1, 1)
    horizontal = row.view(1, 1, 1, -1).expand(channels, 1, 1, -1)
    y = conv2d(input, vertical, stride=(sh, 1), padding=(ph, 0), groups=channels,
               method=method)
    return conv2d(y, horizontal, stride=(1, sw), padding=(0, pw), groups=channels,
                  method=method)


class DepthwiseSeparableConv2d(nn.Module):
    """A depthwise ``k × k`` convolution followed by a pointwise ``1 × 1`` convolution.

    ``depthwise = nn.Conv2d(C_in, C_in, k, stride, padding, dilation, groups=C_in,
    bias=False)`` filters each channel on its own; ``pointwise = nn.Conv2d(C_in, C_out, 1,
    bias=bias)`` mixes the channels. Parameters: ``C_in·k² + C_in·C_out (+ C_out)`` against
    ``C_out·C_in·k² (+ C_out)`` for a full ``nn.Conv2d``. The depthwise layer has no bias: a
    constant per channel passes through the pointwise layer as a constant per output channel,
    which the pointwise bias already is.

    Shapes: ``(N, C_in, H, W) → (N, C_out, H_out, W_out)``, ``H_out`` as for ``nn.Conv2d``
    with the same ``kernel_size``, ``stride``, ``padding`` and ``dilation``.

    >>> from cnnlib.counting import count_parameters
    >>> count_parameters(DepthwiseSeparableConv2d(32, 64, 3, bias=False))  # 32·9 + 32·64
    2336
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, bias: bool = True):
        super().__init__()
        check_positive_int("in_channels", in_channels)
        check_positive_int("out_channels", out_channels)
        check_bool("bias", bias)
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, stride=stride,
                                   padding=padding, dilation=dilation, groups=in_channels,
                                   bias=False)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))

    def equivalent_weight(self) -> torch.Tensor:
        """The full convolution weight ``(C_out, C_in, kh, kw)`` this layer equals.

        ``W[o, c] = pointwise[o, c] · depthwise[c]``: every output channel uses the input
        channels' own spatial filters, only scaled. ``conv2d(x, W, pointwise.bias, stride,
        padding, dilation)`` gives the layer's output — a full convolution whose
        ``C_out × C_in`` grid of filters has this very restricted structure.
        """
        p = self.pointwise.weight[:, :, 0, 0]          # (C_out, C_in)
        d = self.depthwise.weight[:, 0]                # (C_in, kh, kw)
        return p[:, :, None, None] * d[None]


def channel_connectivity(module: nn.Module, input_shape: Sequence[int]) -> torch.Tensor:
    """Which input channels each output channel of ``module`` depends on, measured.

    A float64 copy of ``module`` with every parameter set to 1 runs on an all-ones input of
    ``input_shape``; entry ``[o, c]`` is ``True`` when the sum of output channel ``o`` has a
    non-zero gradient with respect to input channel ``c``. (Positive weights and inputs rule
    out accidental cancellation, and activations such as ReLU pass the positive values.)

    Args:
        module: a layer or stack taking ``(N, C_in, *spatial)`` to ``(N, C_out, *spatial')``.
        input_shape: ``(N, C_in, *spatial)``, large enough for the module's kernels.

    Returns:
        a bool tensor ``(C_out, C_in)``; for ``nn.Conv2d(..., groups=g)`` it is block-diagonal
        with ``g`` blocks of ``(C_out/g) × (C_in/g)``.
    """
    check_module("module", module)
    check_shape("input_shape", input_shape, "(N, C_in, *spatial), e.g. (1, 8, 5, 5)", 3,
                type_error=ValueError)
    net = copy.deepcopy(module).to("cpu", torch.float64).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(1.0)
    x = torch.ones(tuple(input_shape), dtype=torch.float64, requires_grad=True)
    y = net(x)
    rows = []
    for o in range(y.shape[1]):
        (grad,) = torch.autograd.grad(y[:, o].sum(), x, retain_graph=True)
        rows.append(grad.abs().sum(dim=[d for d in range(grad.dim()) if d != 1]) > 0)
    return torch.stack(rows)
