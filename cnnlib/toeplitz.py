"""The filter as a matrix: convolution is multiplication by a (doubly block) Toeplitz matrix.

A convolution is linear in its input, so it *is* a matrix. For a 1D filter ``h = (h_0 … h_{m−1})``
and an input of length ``n`` (stride 1, no padding) that matrix has ``o = n − m + 1`` rows,
and row ``r`` holds the filter starting at column ``r``:

    ⎡h_0 h_1 h_2  0   0 ⎤
    ⎢ 0  h_0 h_1 h_2  0 ⎥        y = T x,   T[r, r + k] = h_k
    ⎣ 0   0  h_0 h_1 h_2⎦

Each diagonal is constant — a **Toeplitz** matrix — and, when ``n ≫ m``, almost all zeros.
Stride ``s`` keeps every ``s``-th row, dilation ``d`` spreads the taps ``d`` columns apart
(``T[r, r·s + k·d − p] = h_k``), and zero padding ``p`` needs no padded input at all: the
columns that would meet a padded zero are simply dropped.

For an image flattened row by row (``x[a, b]`` at position ``a·W + b``), the matrix of a
``(kh, kw)`` kernel is **doubly block Toeplitz**: an ``H_out × H`` grid of ``W_out × W`` blocks,
where block ``(a, y)`` is the 1D Toeplitz matrix of kernel row ``i = y − a`` (zero when that row
does not exist), so the blocks are themselves constant along the block diagonals.

With channels, the matrix of weight ``(C_out, C_in, k…)`` is a ``C_out × C_in`` grid of such
blocks, block ``(o, c)`` built from the filter ``weight[o, c]``: the input is flattened
channel by channel, and the output comes out the same way.
"""

from __future__ import annotations

import torch

from ._validate import as_tuple, check_float_tensor, check_kernel_fits, check_positive_tuple
from .arithmetic import conv_output_size
from .padding import resolve_padding

__all__ = ["MAX_TOEPLITZ_ELEMENTS", "toeplitz_matrix"]

MAX_TOEPLITZ_ELEMENTS = 2**28
"""Largest matrix (in elements) built before refusing: 2**28 float32 values are 1 GiB."""


def toeplitz_matrix(weight: torch.Tensor, input_size, stride=1, padding=0,
                    dilation=1) -> torch.Tensor:
    """The matrix ``T`` with ``T @ x.flatten() == conv(x, weight).flatten()``.

    Cross-correlation, as ``torch.nn.functional.conv1d/conv2d``; zero padding is folded into
    the matrix, so ``T`` acts on the *unpadded* input. Accepted weights and the result:

    ==========================  ==============  =======================================
    ``weight``                  ``input_size``  result
    ==========================  ==============  =======================================
    ``(m,)``                    ``n``           ``(o, n)``
    ``(kh, kw)``                ``(H, W)``      ``(H_out·W_out, H·W)``
    ``(C_out, C_in, m)``        ``n``           ``(C_out·o, C_in·n)``
    ``(C_out, C_in, kh, kw)``   ``(H, W)``      ``(C_out·H_out·W_out, C_in·H·W)``
    ==========================  ==============  =======================================

    with ``o = ⌊(n + 2p − d(m − 1) − 1)/s⌋ + 1`` (likewise ``H_out``, ``W_out``). Images are
    flattened row-major (``x[c, a, b]`` at ``c·H·W + a·W + b``). ``stride``, ``padding`` and
    ``dilation`` are ints or one entry per dimension; ``padding`` may be ``"valid"`` or
    ``"same"``. Raises ``ValueError`` when the matrix would exceed
    :data:`MAX_TOEPLITZ_ELEMENTS` entries. The matrix is differentiable in ``weight``.
    """
    check_float_tensor("weight", weight)
    if weight.dim() not in (1, 2, 3, 4):
        raise ValueError(
            "weight must be 1-D (m,), 2-D (kh, kw), 3-D (C_out, C_in, m) or "
            f"4-D (C_out, C_in, kh, kw), got a {weight.dim()}-D tensor of shape "
            f"{tuple(weight.shape)}"
        )
    spatial = 1 if weight.dim() in (1, 3) else 2
    size = as_tuple("input_size", input_size, spatial)
    if any(s < 1 for s in size):
        raise ValueError(f"input_size must hold positive ints, got {input_size!r}")
    stride = check_positive_tuple("stride", stride, spatial)
    dilation = check_positive_tuple("dilation", dilation, spatial)
    kernel = tuple(weight.shape[-spatial:])
    pads = resolve_padding(padding, kernel, dilation, stride)
    w4 = weight if weight.dim() > 2 else weight.reshape(1, 1, *kernel)
    if spatial == 1:  # a signal is an image of height 1
        w4, size = w4.unsqueeze(-2), (1, *size)
        stride, dilation, pads = (1, *stride), (1, *dilation), ((0, 0), *pads)
    return _toeplitz_2d(w4, size, stride, pads, dilation)


def _output_shape(size, kernel, stride, pads, dilation) -> tuple[int, int]:
    """``(H_out, W_out)`` by :func:`cnnlib.conv_output_size` on each padded side."""
    shape = []
    for dim, n, k, s, (before, after), d in zip("HW", size, kernel, stride, pads, dilation,
                                                strict=True):
        padded = check_kernel_fits(n, k, d, before, after, dim=dim)
        shape.append(conv_output_size(padded, k, stride=s, dilation=d))
    return shape[0], shape[1]


def _toeplitz_2d(weight: torch.Tensor, size, stride, pads, dilation) -> torch.Tensor:
    """``(C_out, C_in, kh, kw)`` and ``(H, W)`` → ``(C_out·H_out·W_out, C_in·H·W)``."""
    c_out, c_in, kh, kw = weight.shape
    (h, w), (sh, sw), (dh, dw) = size, stride, dilation
    (top, _), (left, _) = pads
    ho, wo = _output_shape((h, w), (kh, kw), stride, pads, dilation)
    elements = c_out * ho * wo * c_in * h * w
    if elements > MAX_TOEPLITZ_ELEMENTS:
        raise ValueError(
            f"the Toeplitz matrix would have {c_out * ho * wo} × {c_in * h * w} = {elements:,} "
            f"entries (more than 2**28); use method='im2col' for inputs this large"
        )
    dev = weight.device
    # Broadcast grids over (output row a, output column b, kernel row i, kernel column j):
    a = torch.arange(ho, device=dev).view(-1, 1, 1, 1)
    b = torch.arange(wo, device=dev).view(1, -1, 1, 1)
    i = torch.arange(kh, device=dev).view(1, 1, -1, 1)
    j = torch.arange(kw, device=dev).view(1, 1, 1, -1)
    y = a * sh + i * dh - top  # the input pixel (y, x) that tap (i, j) of output (a, b) reads
    x = b * sw + j * dw - left
    inside = (y >= 0) & (y < h) & (x >= 0) & (x < w)  # taps on padded zeros contribute nothing
    row = (a * wo + b).expand(ho, wo, kh, kw)[inside]
    col = (y * w + x)[inside]
    taps = weight.permute(2, 3, 0, 1).expand(ho, wo, kh, kw, c_out, c_in)[inside]
    # Fill entries (row, col) with the (C_out, C_in) block of weights of that tap. Different
    # taps of one output read different pixels, so no entry is written twice.
    matrix = weight.new_zeros(ho * wo, h * w, c_out, c_in).index_put((row, col), taps)
    return matrix.permute(2, 0, 3, 1).reshape(c_out * ho * wo, c_in * h * w)


def _dense_weight(weight: torch.Tensor, groups: int) -> torch.Tensor:
    """A grouped weight ``(C_out, C_in/G, kh, kw)`` as the equivalent dense ``(C_out, C_in, …)``.

    A grouped convolution is an ordinary one whose filters are zero outside their group's
    input channels: the dense weight is block-diagonal over the groups.
    """
    if groups == 1:
        return weight
    c_out, c_group = weight.shape[:2]
    blocks = weight.reshape(groups, c_out // groups, c_group, *weight.shape[2:])
    eye = torch.eye(groups, dtype=weight.dtype, device=weight.device)
    dense = torch.einsum("gh,goc...->gohc...", eye, blocks)  # zero unless g == h
    return dense.reshape(c_out, groups * c_group, *weight.shape[2:])


def _conv2d_toeplitz(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                     stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1),
                     groups: int = 1) -> torch.Tensor:
    """Convolution as one matrix–vector product per sample (arguments checked by conv2d).

    ``x: (N, C_in, H, W)``, ``weight: (C_out, C_in/groups, kh, kw)``, ``bias: (C_out,)`` →
    ``(N, C_out, H_out, W_out)``: ``y = T x + b`` with ``T = toeplitz_matrix(dense weight)``,
    all samples at once as ``X_flat @ Tᵀ``.
    """
    n, c_in, h, w = x.shape
    matrix = _toeplitz_2d(_dense_weight(weight, groups), (h, w), stride, padding, dilation)
    out = x.reshape(n, c_in * h * w) @ matrix.T  # (N, C_out·H_out·W_out)
    c_out = weight.shape[0]
    out = out.view(n, c_out, -1)
    if bias is not None:
        out = out + bias.view(-1, 1)  # the same bias at every output position of a filter
    ho, wo = _output_shape((h, w), weight.shape[2:], stride, padding, dilation)
    return out.view(n, c_out, ho, wo)
