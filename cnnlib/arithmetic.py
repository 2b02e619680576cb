"""Convolution arithmetic: output sizes of convolution, transposed convolution and pooling.

One notation across the course: padding ``p`` is counted **per side** (as in PyTorch), ``k`` is
the kernel size, ``s`` the stride and ``d`` the dilation. Then

    o = ⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1                      (convolution, pooling)
    o = (n − 1)s − 2p + d(k − 1) + output_padding + 1          (transposed convolution)

With d = 1 the first is the lecture's ⌊(n + 2p − k)/s⌋ + 1. Texts that count padding in total
(P = 2p) write ⌊(n + P − k)/s⌋ + 1.
"""

from __future__ import annotations

from ._validate import check_positive_int

__all__ = ["conv_output_size", "conv_transpose_output_size", "pool_output_size"]


def _non_negative_int(name: str, value) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be a non-negative int, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be non-negative, got {value}")
    return value


def conv_output_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0,
                     dilation: int = 1) -> int:
    """Length of a convolution's output along one dimension.

    ``o = ⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1`` with padding ``p`` per side.
    Raises ``ValueError`` when the (dilated) kernel is larger than the padded input.

    >>> conv_output_size(7, 3, stride=2, padding=1)
    4
    """
    check_positive_int("n", n)
    check_positive_int("kernel_size", kernel_size)
    check_positive_int("stride", stride)
    check_positive_int("dilation", dilation)
    _non_negative_int("padding", padding)
    span = dilation * (kernel_size - 1) + 1
    if span > n + 2 * padding:
        raise ValueError(
            f"kernel_size {kernel_size} (dilated span {span}) is larger than the padded input "
            f"{n} + 2·{padding} = {n + 2 * padding}"
        )
    return (n + 2 * padding - span) // stride + 1


def pool_output_size(n: int, kernel_size: int, stride: int | None = None, padding: int = 0,
                     dilation: int = 1, ceil_mode: bool = False) -> int:
    """Length of a pooling output along one dimension (PyTorch's rule).

    ``stride`` defaults to ``kernel_size``. Floor mode is :func:`conv_output_size`; with
    ``ceil_mode=True`` the division rounds up, except that the last window must start inside
    the input or the left padding: ``o = ⌈(n + 2p − d(k − 1) − 1)/s⌉ + 1``, then ``o − 1`` if
    ``(o − 1)s ≥ n + p``. Padding may be at most half the kernel size.
    """
    stride = kernel_size if stride is None else stride
    check_positive_int("kernel_size", kernel_size)
    _non_negative_int("padding", padding)
    if 2 * padding > kernel_size:
        raise ValueError(
            f"padding must be at most half of kernel_size, got padding={padding} "
            f"for kernel_size={kernel_size}"
        )
    if not ceil_mode:
        return conv_output_size(n, kernel_size, stride, padding, dilation)
    conv_output_size(n, kernel_size, stride, padding, dilation)  # validates the arguments
    span = dilation * (kernel_size - 1) + 1
    out = -(-(n + 2 * padding - span) // stride) + 1
    if (out - 1) * stride >= n + padding:
        out -= 1
    return out


def conv_transpose_output_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0,
                               output_padding: int = 0, dilation: int = 1) -> int:
    """Length of a transposed convolution's output along one dimension.

    ``o = (n − 1)s − 2p + d(k − 1) + output_padding + 1``. ``output_padding`` must be smaller
    than the stride or the dilation: it only picks among the input sizes that a convolution
    with this stride maps to the same ``n``.
    """
    check_positive_int("n", n)
    check_positive_int("kernel_size", kernel_size)
    check_positive_int("stride", stride)
    check_positive_int("dilation", dilation)
    _non_negative_int("padding", padding)
    _non_negative_int("output_padding", output_padding)
    if output_padding >= stride and output_padding >= dilation:
        raise ValueError(
            "output_padding must be smaller than either stride or dilation, got "
            f"output_padding={output_padding}, stride={stride}, dilation={dilation}"
        )
    out = (n - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    if out < 1:
        raise ValueError(
            f"padding {padding} is too large: the transposed convolution's output would have "
            f"size {out}"
        )
    return out
