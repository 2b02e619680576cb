"""True convolution, next to the cross-correlation that deep learning calls "convolution".

    cross-correlation   y[t] = Σ_j h[j] · x[t + j]          (conv1d/conv2d, every framework)
    true convolution    y[t] = Σ_j h[j] · x[t − j]          (signal processing, numpy.convolve)

The two differ only by flipping the kernel: ``convolve(x, h) == correlate(x, flip(h))``.
True convolution is commutative and associative (``(x * g) * h = x * (g * h)``: two filters
in a row are one filter), which cross-correlation is not; for a *learned* kernel the flip
does not matter, since the network simply learns the flipped weights.

``mode`` chooses how much of the output to keep, as ``numpy.convolve`` does, for an input of
length ``n`` and a kernel of length ``m ≤ n``:

    "full"   every overlap at all                 n + m − 1 samples
    "same"   the centre of "full"                 n samples (start at (m − 1) // 2)
    "valid"  only where the kernel fits inside    n − m + 1 samples

If the kernel is the longer of the two (larger in every dimension), the two are swapped first
— convolution is commutative — exactly as ``numpy.convolve`` does.
"""

from __future__ import annotations

import torch

from ._validate import (
    check_choice,
    check_float_tensor,
    check_ndim,
    check_same_device,
    check_same_dtype,
)
from .conv import conv2d

__all__ = ["MODES", "convolve1d", "convolve2d"]

MODES = ("full", "same", "valid")


def convolve1d(x: torch.Tensor, h: torch.Tensor, mode: str = "full") -> torch.Tensor:
    """True (flipped-kernel) convolution of two 1-D tensors, equal to ``numpy.convolve``.

    ``x: (n,)``, ``h: (m,)`` → ``(n + m − 1,)`` for ``"full"``, ``(max(n, m),)`` for ``"same"``,
    ``(|n − m| + 1,)`` for ``"valid"``; ``y[t] = Σ_j h[j] · x[t − j]`` (full indexing).
    """
    _check(x, h, mode, 1)
    return _convolve(x.unsqueeze(0), h.unsqueeze(0), mode).squeeze(0)


def convolve2d(x: torch.Tensor, h: torch.Tensor, mode: str = "full") -> torch.Tensor:
    """True (flipped-kernel) 2-D convolution, ``y[a, b] = Σ_i Σ_j h[i, j] · x[a − i, b − j]``.

    ``x: (H, W)``, ``h: (kh, kw)`` → ``(H + kh − 1, W + kw − 1)`` for ``"full"``, ``(H, W)`` for
    ``"same"`` (the centre of "full", as ``scipy.signal.convolve2d``), ``(H − kh + 1, W − kw + 1)``
    for ``"valid"``. When ``h`` is larger than ``x`` in both dimensions they are swapped first;
    ``"valid"`` needs one of them to fit inside the other.
    """
    _check(x, h, mode, 2)
    return _convolve(x, h, mode)


def _check(x, h, mode: str, spatial: int) -> None:
    check_float_tensor("x", x)
    check_float_tensor("h", h)
    layout = "(n,)" if spatial == 1 else "(H, W)"
    check_ndim("x", x, (spatial,), layout)
    check_ndim("h", h, (spatial,), "(m,)" if spatial == 1 else "(kh, kw)")
    check_same_dtype("x", x, h=h)
    check_same_device(x=x, h=h)
    check_choice("mode", mode, MODES)
    if x.numel() == 0 or h.numel() == 0:
        raise ValueError(
            f"x and h must not be empty, got shapes {tuple(x.shape)} and {tuple(h.shape)}"
        )


def _convolve(x: torch.Tensor, h: torch.Tensor, mode: str) -> torch.Tensor:
    """2-D true convolution: cross-correlation with the kernel flipped in both dimensions."""
    if all(k >= n for k, n in zip(h.shape, x.shape, strict=True)) and h.shape != x.shape:
        x, h = h, x  # convolution is commutative: let the larger one be the input
    (rows, cols), (kh, kw) = x.shape, h.shape
    if mode == "valid" and (kh > rows or kw > cols):
        raise ValueError(
            f"mode='valid' needs one input to fit inside the other in every dimension, got "
            f"shapes {tuple(x.shape)} and {tuple(h.shape)}"
        )
    flipped = h.flip(0, 1)
    full = conv2d(x[None, None], flipped[None, None], padding=(kh - 1, kw - 1))[0, 0]
    if mode == "full":
        return full
    if mode == "same":
        top, left = (kh - 1) // 2, (kw - 1) // 2
        return full[top:top + rows, left:left + cols]
    return full[kh - 1:rows, kw - 1:cols]
