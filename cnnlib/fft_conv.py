"""Convolution by the convolution theorem: a product of Fourier transforms.

The DFT diagonalises every circular convolution: ``DFT(x ⊛ h) = DFT(x) · DFT(h)``, pointwise.
For the cross-correlation that deep learning calls convolution the filter's spectrum is
conjugated instead (correlating with ``h`` is convolving with ``h`` flipped, and flipping a
real signal conjugates its DFT):

    y = IDFT( DFT(x) · conj(DFT(h)) )        (circular cross-correlation)

A *linear* (non-circular) correlation is recovered by transforming on a grid at least as
large as the padded input: output ``a`` reads ``x[a … a + d(k − 1)]``, which never wraps
around for the ``H_out`` valid positions, and the wrapped-around rest is cropped. Stride is
applied afterwards by keeping every ``s``-th output; dilation inserts ``d − 1`` zeros between
the filter taps before transforming.

Cost: three FFTs of ``H·W·log(H·W)`` plus a pointwise product, whatever the kernel size — so
for large kernels it beats the direct method, whose cost grows as ``kh·kw``.
"""

from __future__ import annotations

import torch

from ._validate import check_float_tensor, check_ndim, check_positive_int, check_positive_tuple
from .padding import pad

__all__ = ["dilate_kernel", "fast_fft_size"]


def fast_fft_size(n: int) -> int:
    """The smallest ``m ≥ n`` whose only prime factors are 2, 3 and 5 (FFTs are fast there).

    >>> fast_fft_size(97), fast_fft_size(128)
    (100, 128)
    """
    check_positive_int("n", n, type_error=ValueError)
    m = n
    while True:
        rest = m
        for p in (2, 3, 5):
            while rest % p == 0:
                rest //= p
        if rest == 1:
            return m
        m += 1


def dilate_kernel(weight: torch.Tensor, dilation) -> torch.Tensor:
    """Insert ``d − 1`` zeros between neighbouring taps along each of the last two dimensions.

    ``weight: (…, kh, kw)`` → ``(…, d_h(kh − 1) + 1, d_w(kw − 1) + 1)`` (``dilation``: an int
    or a pair); a dilated convolution with ``weight`` equals an ordinary one with
    ``dilate_kernel(weight, d)``.
    """
    check_float_tensor("weight", weight)
    check_ndim("weight", weight, (2, 3, 4), "(…, kh, kw)")
    dh, dw = check_positive_tuple("dilation", dilation, 2)
    kh, kw = weight.shape[-2:]
    out = weight.new_zeros(*weight.shape[:-2], dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    out[..., ::dh, ::dw] = weight
    return out


def _conv2d_fft(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1),
                groups: int = 1) -> torch.Tensor:
    """Convolution through ``rfft2`` (arguments already checked by conv2d).

    ``x: (N, C_in, H, W)``, ``weight: (C_out, C_in/groups, kh, kw)``, ``bias: (C_out,)`` →
    ``(N, C_out, H_out, W_out)``. Steps: pad, dilate the kernel, transform both on a grid of
    at least the padded size, multiply by the conjugate spectrum and sum over input channels
    (per group), transform back, crop the valid part, keep every ``s``-th sample, add the bias.
    """
    xp = pad(x, padding)
    kernel = dilate_kernel(weight, dilation)
    n, _, hp, wp = xp.shape
    c_out, c_group, kh, kw = kernel.shape
    grid = (fast_fft_size(hp), fast_fft_size(wp))
    x_hat = torch.fft.rfft2(xp, s=grid).reshape(n, groups, c_group, grid[0], -1)
    k_hat = torch.fft.rfft2(kernel, s=grid).reshape(groups, c_out // groups, c_group,
                                                    grid[0], -1)
    # for every frequency: sum over the input channels of a group, one term per filter
    y_hat = torch.einsum("ngcuv,gocuv->ngouv", x_hat, k_hat.conj())
    y = torch.fft.irfft2(y_hat, s=grid).reshape(n, c_out, *grid)
    y = y[:, :, : hp - kh + 1 : stride[0], : wp - kw + 1 : stride[1]]
    return (y if bias is None else y + bias.view(-1, 1, 1)).contiguous()
