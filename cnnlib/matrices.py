"""Matrix views of 1D convolution with cyclic boundaries: circulant, shift and DFT matrices.

With cyclic (wrap-around) boundary conditions a 1D convolution of a length-``n`` signal is an
``n × n`` **circulant** matrix: every row is the row above shifted one place to the right,
wrapping around. This module builds those matrices so the book can show, with numbers:

- ``C @ x`` is circular cross-correlation (what ``torch.nn.functional.conv1d`` computes on a
  circularly padded signal);
- the shift operator ``S`` is itself a circulant, and orthogonal: ``S Sᵀ = Sᵀ S = I``;
- circulants commute (``C S = S C``), which is exactly shift-equivariance of convolution;
- every linear shift-equivariant operator is a circulant, fixed by its impulse response;
- the DFT matrix diagonalises every circulant.

Convention (the book's cross-correlation ``h ⋆ x``, as in PyTorch): for a kernel
``h = (h_0, …, h_{m−1})`` with ``m ≤ n``, row ``i`` of ``C`` holds ``h`` starting at column
``i`` and wrapping around::

    C[i, (i + j) mod n] = h_j      (j = 0, …, m − 1; every other entry is 0)
    (C x)_i = Σ_j h_j · x_{(i + j) mod n}

    == F.conv1d(F.pad(x, (0, m − 1), mode="circular"), h)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ._validate import check_float_tensor, check_ndim, check_positive_int

__all__ = [
    "circulant_matrix",
    "circular_flip",
    "dft_matrix",
    "impulse_response",
    "shift_matrix",
]


def _as_kernel(h, dtype, device) -> torch.Tensor:
    """A 1-D floating kernel from a tensor or a list of numbers (keeps autograd on tensors)."""
    if isinstance(h, torch.Tensor):
        check_float_tensor("h", h)
    elif isinstance(h, (list, tuple)) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in h
    ):
        h = torch.tensor(h, dtype=dtype or torch.get_default_dtype())
    else:
        raise TypeError(
            f"h must be a 1-D floating-point tensor or a list of numbers, got {type(h).__name__}"
        )
    check_ndim("h", h, (1,), "(m,) — one kernel of length m")
    if h.numel() == 0:
        raise ValueError("h must have at least one element, got an empty kernel")
    return h.to(dtype=dtype or h.dtype, device=device or h.device)


def circulant_matrix(h, n: int, *, dtype: torch.dtype | None = None,
                     device: torch.device | str | None = None) -> torch.Tensor:
    """The ``n × n`` circulant matrix of circular cross-correlation with the kernel ``h``.

    Args:
        h: kernel, shape ``(m,)`` with ``1 ≤ m ≤ n`` (a float tensor or a list of numbers).
        n: signal length, the size of the square matrix.
        dtype, device: of the result; default to those of ``h``.

    Returns:
        ``C`` of shape ``(n, n)`` with ``C[i, (i + j) mod n] = h_j``: row ``i`` holds ``h``
        starting at column ``i``, wrapping around, zeros elsewhere. Then

        ``(C @ x)_i = Σ_j h_j x_{(i + j) mod n}``
        ``== F.conv1d(F.pad(x, (0, m − 1), mode="circular"), h)``.

        Built by indexing ``h``, so gradients flow back to ``h``.

    >>> circulant_matrix(torch.tensor([1., 2.]), 3)
    tensor([[1., 2., 0.],
            [0., 1., 2.],
            [2., 0., 1.]])
    """
    check_positive_int("n", n)
    h = _as_kernel(h, dtype, device)
    m = h.numel()
    if m > n:
        raise ValueError(
            f"h must not be longer than n (a circulant is n × n), got len(h)={m} > n={n}"
        )
    padded = torch.cat([h, h.new_zeros(n - m)])
    rows = torch.arange(n, device=h.device)
    # C[i, c] = padded[(c − i) mod n]: the kernel shifted right by i places, wrapping around.
    index = (rows[None, :] - rows[:, None]) % n
    return padded[index]


def shift_matrix(n: int, k: int = 1, *, dtype: torch.dtype = torch.float32,
                 device: torch.device | str | None = None) -> torch.Tensor:
    """The cyclic shift (translation) operator ``S`` on length-``n`` signals.

    ``S[i, (i − k) mod n] = 1`` and 0 elsewhere, so ``(S @ x)_i = x_{(i − k) mod n}``, i.e.
    ``S @ x == torch.roll(x, k)``: the signal moves ``k`` places to the right (left if
    ``k < 0``), and what falls off the end comes back at the start.

    ``S`` is a permutation matrix, hence orthogonal: ``S Sᵀ = Sᵀ S = I`` and ``Sᵀ`` shifts by
    ``−k``. It is also a circulant: ``circulant_matrix(e, n)`` with the unit impulse
    ``e`` at position ``(−k) mod n``.

    Args:
        n: signal length (positive int).
        k: shift, any int (taken modulo ``n``).
        dtype, device: of the result (default float32 on the CPU).

    Returns:
        ``(n, n)`` tensor.
    """
    check_positive_int("n", n)
    if not isinstance(k, int) or isinstance(k, bool):
        raise TypeError(f"k must be an int (the shift, any sign), got {k!r}")
    rows = torch.arange(n, device=device)
    s = torch.zeros(n, n, dtype=dtype, device=device)
    s[rows, (rows - k) % n] = 1
    return s


def dft_matrix(n: int, *, dtype: torch.dtype = torch.complex64,
               device: torch.device | str | None = None) -> torch.Tensor:
    """The ``n × n`` discrete Fourier transform matrix ``F`` with ``F @ x == torch.fft.fft(x)``.

    ``F[a, b] = exp(−2πi·ab/n)``; its inverse is ``F⁻¹ = Fᴴ / n`` (``torch.fft.ifft``).

    ``F`` diagonalises every circulant: for ``C = circulant_matrix(h, n)``,
    ``F C F⁻¹ = diag(λ)`` with ``λ_k = Σ_j h_j exp(+2πi·jk/n)``, which is
    ``torch.fft.fft(circular_flip(h_padded))`` — the DFT of the *convolution* kernel (the
    cross-correlation kernel ``h`` flipped circularly); for a real ``h`` this is also
    ``torch.fft.fft(h_padded).conj()``. Convolution in the signal domain is multiplication
    in the frequency domain.

    Args:
        n: size (positive int).
        dtype: a complex dtype (complex64 default, complex128 for precise checks).
        device: of the result.
    """
    check_positive_int("n", n)
    if not isinstance(dtype, torch.dtype) or not dtype.is_complex:
        raise TypeError(f"dtype must be a complex torch dtype such as torch.complex64, got {dtype}")
    idx = torch.arange(n)
    # Reduce a·b modulo n in integers first, so large n keeps full precision in the angle;
    # build in float64 on the CPU, then cast and move.
    angle = (-2 * math.pi / n) * ((idx[:, None] * idx[None, :]) % n).to(torch.float64)
    return torch.polar(torch.ones_like(angle), angle).to(dtype=dtype, device=device)


def circular_flip(h: torch.Tensor) -> torch.Tensor:
    """``g_t = h_{(−t) mod n}``: reverse a length-``n`` vector circularly (index 0 stays put).

    This turns a circular *convolution* kernel into the circular *cross-correlation* kernel
    with the same effect, and back (it is its own inverse). In particular, the impulse
    response ``h = op(e_0)`` of a linear shift-equivariant operator is its convolution
    kernel, and ``circulant_matrix(circular_flip(h), n)`` is the matrix of ``op``.

    Args:
        h: shape ``(n,)``.
    """
    check_float_tensor("h", h)
    check_ndim("h", h, (1,), "(n,)")
    return torch.roll(h.flip(0), 1)


def impulse_response(op: Callable[[torch.Tensor], torch.Tensor], n: int, *,
                     dtype: torch.dtype = torch.float32,
                     device: torch.device | str | None = None) -> torch.Tensor:
    """``op(e_0)``: the operator applied to the unit impulse ``e_0 = (1, 0, …, 0)``.

    For a linear, shift-equivariant ``op`` on length-``n`` signals (cyclic boundaries),
    writing ``x = Σ_m x_m S^m e_0`` and using linearity then equivariance gives

        ``op(x) = Σ_m x_m S^m op(e_0) = Σ_m x_m S^m h``,
        i.e. ``op(x)_i = Σ_m x_m h_{(i−m) mod n}``:

    a circular convolution with ``h = op(e_0)``. As a cross-correlation circulant,
    ``op(x) == circulant_matrix(circular_flip(h), n) @ x``.

    Args:
        op: a function taking a ``(n,)`` tensor to a ``(n,)`` tensor.
        n: signal length.
        dtype, device: of the impulse fed to ``op``.

    Returns:
        ``h`` of shape ``(n,)``.
    """
    if not callable(op):
        raise TypeError(f"op must be a callable taking a (n,) tensor, got {type(op).__name__}")
    check_positive_int("n", n)
    impulse = torch.zeros(n, dtype=dtype, device=device)
    impulse[0] = 1
    out = op(impulse)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (n,):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"op must map a ({n},) tensor to a ({n},) tensor, got {shape}")
    return out
