"""im2col: the data as a matrix of patches, so that a convolution becomes one matrix product.

Every output pixel of a convolution is a dot product between one flattened filter and one
flattened input patch (all input channels × kh × kw). Lay the patches out as the columns of a
matrix, the *patch matrix* (``im2col``: image to columns), and all dot products of all filters
with all patches are a single matrix product — the dense GEMM that BLAS and GPU libraries run
at close to peak speed:

    cols = im2col(x)                        (N, C_in·kh·kw, L)      L = H_out·W_out
    y    = weight.view(C_out, −1) @ cols    (N, C_out, L)  →  view as (N, C_out, H_out, W_out)

The price is memory: each input pixel is copied into up to kh·kw columns.

**No copy is needed to *see* the patches.** A tensor is a block of memory plus strides, so the
6-D tensor of all patches ``(N, C, kh, kw, H_out, W_out)`` is a *view* of the padded input with
cleverly chosen strides (``Tensor.as_strided``): moving one step along ``kh`` moves ``d`` rows,
one step along ``H_out`` moves ``s`` rows. :func:`im2col` then copies that view into the
``(N, C·kh·kw, L)`` layout of ``torch.nn.functional.unfold``.

``_conv2d_im2col`` (used by ``conv2d(method="im2col")``) goes one step further for stride 1:
in the *channels-last* layout, the block of patch-matrix columns that belongs to kernel tap
``(i, j)`` is the flattened image itself, shifted by ``i·d·W_p + j·d`` rows. The product
``patches @ filters`` is then a sum of ``kh·kw`` matrix products over shifted views, with no
patch matrix ever written to memory. That is what makes it competitive with PyTorch's own
convolution on a CPU.
"""

from __future__ import annotations

import torch

from ._validate import check_float_tensor, check_kernel_fits, check_ndim, check_positive_tuple
from .arithmetic import conv_output_size
from .padding import pad, resolve_padding

__all__ = ["im2col", "patches"]


def _output_size(n: int, k: int, s: int, d: int) -> int:
    """:func:`cnnlib.conv_output_size` of an already padded length ``n``."""
    return conv_output_size(n, k, stride=s, dilation=d)


def patches(x: torch.Tensor, kernel_size, stride=1, dilation=1) -> torch.Tensor:
    """All kernel-sized windows of ``x`` as a strided view (no copy).

    ``x: (N, C, H, W)`` (already padded) → ``(N, C, kh, kw, H_out, W_out)`` with
    ``H_out = ⌊(H − d_h(kh − 1) − 1)/s_h⌋ + 1`` (the same for ``W``), and

        patches(x)[n, c, i, j, a, b] == x[n, c, a·s_h + i·d_h, b·s_w + j·d_w].

    The result shares memory with ``x``: nothing is copied until it is reshaped.
    ``kernel_size``, ``stride`` and ``dilation`` are ints or pairs.
    """
    check_float_tensor("x", x)
    check_ndim("x", x, (4,), "(N, C, H, W)")
    kh, kw = check_positive_tuple("kernel_size", kernel_size, 2)
    sh, sw = check_positive_tuple("stride", stride, 2)
    dh, dw = check_positive_tuple("dilation", dilation, 2)
    n, c, h, w = x.shape
    check_kernel_fits(h, kh, dh, dim="H")
    check_kernel_fits(w, kw, dw, dim="W")
    ho, wo = _output_size(h, kh, sh, dh), _output_size(w, kw, sw, dw)
    s_n, s_c, s_h, s_w = x.stride()
    return x.as_strided(
        size=(n, c, kh, kw, ho, wo),
        stride=(s_n, s_c, dh * s_h, dw * s_w, sh * s_h, sw * s_w),
        storage_offset=x.storage_offset(),
    )


def im2col(input: torch.Tensor, kernel_size, stride=1, padding=0, dilation=1) -> torch.Tensor:
    """The patch matrix of ``input``, column for column equal to ``torch.nn.functional.unfold``.

    Shapes: ``input: (N, C, H, W)`` or unbatched ``(C, H, W)`` →
    ``(N, C·kh·kw, L)`` or ``(C·kh·kw, L)``, where ``L = H_out·W_out`` and

        H_out = ⌊(H + 2p_h − d_h(kh − 1) − 1)/s_h⌋ + 1      (likewise W_out).

    Row ``c·kh·kw + i·kw + j`` of the result holds input channel ``c`` seen through kernel tap
    ``(i, j)``; column ``a·W_out + b`` is the patch of output pixel ``(a, b)``. ``kernel_size``,
    ``stride``, ``padding`` (zeros, per side) and ``dilation`` are ints or pairs; ``padding``
    may also be ``"valid"`` or ``"same"`` as in ``conv2d``.
    """
    check_float_tensor("input", input)
    check_ndim("input", input, (3, 4), "(N, C, H, W) or unbatched (C, H, W)")
    kernel_size = check_positive_tuple("kernel_size", kernel_size, 2)
    stride = check_positive_tuple("stride", stride, 2)
    dilation = check_positive_tuple("dilation", dilation, 2)
    pads = resolve_padding(padding, kernel_size, dilation, stride)
    batched = input.dim() == 4
    x = input if batched else input.unsqueeze(0)
    for name, n, (before, after), k, d in zip(("H", "W"), x.shape[2:], pads, kernel_size,
                                             dilation, strict=True):
        check_kernel_fits(n, k, d, before, after, dim=name)
    cols = _im2col(pad(x, pads), kernel_size, stride, dilation)
    return cols if batched else cols.squeeze(0)


def _im2col(xp: torch.Tensor, kernel_size, stride, dilation) -> torch.Tensor:
    """``(N, C, H_p, W_p)`` padded → ``(N, C·kh·kw, H_out·W_out)``; the reshape is the copy."""
    view = patches(xp, kernel_size, stride, dilation)
    n, c, kh, kw, ho, wo = view.shape
    return view.reshape(n, c * kh * kw, ho * wo)


def _conv2d_im2col(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                   stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1),
                   groups: int = 1) -> torch.Tensor:
    """Convolution as patch matrix × flattened filters (arguments already checked by conv2d).

    ``x: (N, C_in, H, W)``, ``weight: (C_out, C_in/groups, kh, kw)``, ``bias: (C_out,)`` or
    ``None``, ``padding`` as ``((top, bottom), (left, right))`` zeros →
    ``(N, C_out, H_out, W_out)``.

    Groups split the patch matrix rows and the filters into ``groups`` blocks; ``torch.matmul``
    multiplies block ``g`` of one with block ``g`` of the other as a batch dimension, so no
    Python loop over groups is needed.
    """
    if tuple(stride) == (1, 1):
        return _conv2d_shifted_views(x, weight, bias, padding, dilation, groups)
    xp = pad(x, padding)
    n = xp.shape[0]
    c_out, c_group, kh, kw = weight.shape
    cols = _im2col(xp, (kh, kw), stride, dilation)  # (N, C_in·kh·kw, L)
    cols = cols.view(n, groups, c_group * kh * kw, -1)  # rows of group g are contiguous
    filters = weight.reshape(groups, c_out // groups, c_group * kh * kw)
    out = filters @ cols  # (N, G, C_out/G, L): one product per (sample, group)
    if bias is not None:
        out = out + bias.view(groups, -1, 1)
    ho = _output_size(xp.shape[2], kh, stride[0], dilation[0])
    wo = _output_size(xp.shape[3], kw, stride[1], dilation[1])
    return out.reshape(n, c_out, ho, wo)


def _padded_channels_last(x: torch.Tensor, padding) -> torch.Tensor:
    """``(N, C, H, W)`` → zero-padded ``(N, H_p, W_p, C)`` (channels last), in one copy."""
    (top, bottom), (left, right) = padding
    n, c, h, w = x.shape
    out = x.new_zeros(n, h + top + bottom, w + left + right, c)
    out[:, top:top + h, left:left + w] = x.permute(0, 2, 3, 1)
    return out


def _conv2d_shifted_views(x: torch.Tensor, weight: torch.Tensor, bias, padding, dilation,
                          groups: int) -> torch.Tensor:
    """Stride 1: the patch matrix as ``kh·kw`` shifted views of the channels-last image.

    Flatten the padded image channels-last, one row per pixel: ``rows: (N·H_p·W_p, C_in)``.
    The patch-matrix columns for tap ``(i, j)`` are ``rows[r + off]`` for every output row
    ``r``, with ``off = i·d_h·W_p + j·d_w`` — a contiguous slice, no copy. So

        out[r] = bias + Σ_(i,j) rows[r + off(i, j)] @ weight[:, :, i, j]ᵀ

    is the im2col product split into one block per tap. It is evaluated for every pixel of the
    padded grid; rows whose window runs past the right or bottom edge (or into the next
    image) are computed too and cropped at the end — a few percent of waste for a large image.
    """
    xcl = _padded_channels_last(x, padding)
    n, hp, wp, _ = xcl.shape
    c_out, c_group, kh, kw = weight.shape
    dh, dw = dilation
    ho, wo = _output_size(hp, kh, 1, dh), _output_size(wp, kw, 1, dw)
    total = n * hp * wp
    rows = xcl.view(total, groups, c_group).transpose(0, 1)  # (G, N·H_p·W_p, C_in/G), a view
    # taps[i, j]: (G, C_in/G, C_out/G), the filters' weights for kernel tap (i, j)
    taps = weight.reshape(groups, c_out // groups, c_group, kh, kw).permute(3, 4, 0, 2, 1)
    shape = (groups, total, c_out // groups)
    # start every output row from the bias: a copy always (for a single pixel and output
    # channel the expanded bias is already contiguous, and would be the bias itself)
    out = (bias.view(groups, 1, -1).expand(shape).clone(memory_format=torch.contiguous_format)
           if bias is not None else xcl.new_zeros(shape))
    m = total - ((kh - 1) * dh * wp + (kw - 1) * dw)  # rows whose taps all stay in the batch
    acc = out[:, :m]
    for i in range(kh):
        for j in range(kw):
            off = i * dh * wp + j * dw
            acc.baddbmm_(rows[:, off:off + m], taps[i, j])  # acc += rows_shifted @ tap
    out = out.view(groups, n, hp, wp, c_out // groups)[:, :, :ho, :wo]
    # (G, N, H_out, W_out, C_out/G) → (N, C_out, H_out, W_out), one contiguous copy
    return out.permute(1, 0, 4, 2, 3).reshape(n, c_out, ho, wo).contiguous()
