"""Convolution arithmetic: output sizes of convolution, transposed convolution and pooling.

One notation across the course: padding ``p`` is counted **per side** (as in PyTorch), ``k`` is
the kernel size, ``s`` the stride and ``d`` the dilation. Then

    o = ⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1                      (convolution, pooling)
    o = (n − 1)s − 2p + d(k − 1) + output_padding + 1          (transposed convolution)

With d = 1 the first is the familiar ⌊(n + 2p − k)/s⌋ + 1. Texts that count padding in total
(P = 2p) write ⌊(n + P − k)/s⌋ + 1.

:func:`conv_arithmetic` gives the geometry behind a conv-arithmetic picture (which padded
input cells each output reads, for a convolution or a transposed convolution);
:mod:`cnnlib.viz.arithmetic` draws it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ._validate import (
    check_bool,
    check_kernel_fits,
    check_non_negative_int,
    check_non_negative_tuple,
    check_positive_int,
    check_positive_tuple,
)

__all__ = [
    "ConvArithmetic",
    "conv_arithmetic",
    "conv_output_size",
    "conv_transpose_output_size",
    "pool_output_size",
]


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
    check_non_negative_int("padding", padding)
    padded = check_kernel_fits(n, kernel_size, dilation, padding)
    return (padded - dilation * (kernel_size - 1) - 1) // stride + 1


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
    check_non_negative_int("padding", padding)
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
    check_non_negative_int("padding", padding)
    check_non_negative_int("output_padding", output_padding)
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


# ------------------------------------------------- the geometry of a conv-arithmetic picture
@dataclass(frozen=True)
class _Axis:
    """The arithmetic along one dimension: canvas cells and the taps of each output."""

    n: int            # input length
    k: int            # kernel size
    s: int            # stride of the drawn (direct) convolution
    d: int            # dilation
    offset: int       # canvas cell c shows the (stretched) input position u = c − offset
    step: int         # input element r sits at stretched position u = r·step
    canvas: int       # number of canvas cells
    out: int          # output length

    def kind(self, c: int) -> str:
        u = c - self.offset
        if u < 0 or u > (self.n - 1) * self.step:
            return "padding"
        return "input" if u % self.step == 0 else "inserted"

    def input_index(self, c: int) -> int | None:
        return (c - self.offset) // self.step if self.kind(c) == "input" else None

    def taps(self, i: int) -> list[int]:
        """Canvas cells under the kernel for output ``i``, one per tap ``t = 0, …, k − 1``."""
        return [i * self.s + t * self.d for t in range(self.k)]


def _conv_axis(n, k, s, p, d) -> _Axis:
    out = conv_output_size(n, k, stride=s, padding=p, dilation=d)
    return _Axis(n=n, k=k, s=s, d=d, offset=p, step=1, canvas=n + 2 * p, out=out)


def _transposed_axis(n, k, s, p, d, op) -> _Axis:
    out = conv_transpose_output_size(n, k, stride=s, padding=p, output_padding=op, dilation=d)
    pad = d * (k - 1) - p                       # may be negative: then the input is cropped
    canvas = (n - 1) * s + 1 + 2 * pad + op     # stretched input + padding (+ output_padding)
    return _Axis(n=n, k=k, s=1, d=d, offset=pad, step=s, canvas=canvas, out=out)


@dataclass(frozen=True)
class ConvArithmetic:
    """What a conv-arithmetic picture shows, for both dimensions (rows, columns).

    ``canvas_shape``: the drawn input grid, padding (and inserted zeros) included.
    ``output_shape``: ``(H_out, W_out)``.
    """

    rows: _Axis
    cols: _Axis
    transposed: bool
    padding: tuple[int, int]

    @property
    def canvas_shape(self) -> tuple[int, int]:
        return self.rows.canvas, self.cols.canvas

    @property
    def output_shape(self) -> tuple[int, int]:
        return self.rows.out, self.cols.out

    @property
    def input_shape(self) -> tuple[int, int]:
        return self.rows.n, self.cols.n

    def cell_kind(self, row: int, col: int) -> str:
        """``"input"``, ``"padding"`` or ``"inserted"`` (a zero inserted by the stride)."""
        a, b = self.rows.kind(row), self.cols.kind(col)
        if a == "padding" or b == "padding":
            return "padding"
        return "input" if a == b == "input" else "inserted"

    def input_index(self, row: int, col: int) -> tuple[int, int] | None:
        """The input element ``(r, c)`` a canvas cell shows, or ``None`` for a zero cell."""
        if self.cell_kind(row, col) != "input":
            return None
        return self.rows.input_index(row), self.cols.input_index(col)

    def check_position(self, position) -> tuple[int, int]:
        """``position`` as an ``(i, j)`` pair inside the output, else a ``ValueError``."""
        if (not isinstance(position, Sequence) or len(position) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in position)):
            raise TypeError(f"position must be a pair of ints (i, j), got {position!r}")
        i, j = position
        h, w = self.output_shape
        if not (0 <= i < h and 0 <= j < w):
            raise ValueError(f"position must lie inside the {h}×{w} output (0 ≤ i < {h}, "
                             f"0 ≤ j < {w}), got {tuple(position)}")
        return i, j

    def footprint(self, position) -> list[tuple[int, int, int, int]]:
        """Canvas cells under the kernel for output ``position = (i, j)``.

        A list of ``(row, col, tap_row, tap_col)``: the kernel tap ``(tap_row, tap_col)`` lies
        on canvas cell ``(row, col)``.
        """
        i, j = self.check_position(position)
        return [(r, c, a, b) for a, r in enumerate(self.rows.taps(i))
                for b, c in enumerate(self.cols.taps(j))]

    def inputs_feeding(self, position) -> set[tuple[int, int]]:
        """The input elements ``(r, c)`` that output ``position`` depends on."""
        cells = (self.input_index(r, c) for r, c, _, _ in self.footprint(position))
        return {cell for cell in cells if cell is not None}

    def canvas_values(self, x: torch.Tensor) -> torch.Tensor:
        """The drawn canvas filled in: ``x`` at the input cells, zeros elsewhere.

        ``x: (..., H, W)`` → ``(..., canvas_rows, canvas_cols)``. A convolution with stride
        ``s``, dilation ``d`` and **no** padding on this canvas equals the drawn convolution;
        in transposed mode, a stride-1 convolution of the canvas with :meth:`direct_kernel`
        equals ``conv_transpose2d`` (the tests prove both against PyTorch).
        """
        if tuple(x.shape[-2:]) != self.input_shape:
            raise ValueError(f"x must end in the input shape {self.input_shape}, got "
                             f"{tuple(x.shape)}")
        rows = [r for r in range(self.rows.canvas) if self.rows.kind(r) == "input"]
        cols = [c for c in range(self.cols.canvas) if self.cols.kind(c) == "input"]
        canvas = x.new_zeros((*x.shape[:-2], *self.canvas_shape))
        if not rows or not cols:  # a transposed convolution may crop every input away
            return canvas
        r_in = [self.rows.input_index(r) for r in rows]
        c_in = [self.cols.input_index(c) for c in cols]
        canvas[..., rows[0]:rows[-1] + 1:self.rows.step, cols[0]:cols[-1] + 1:self.cols.step] = (
            x[..., r_in[0]:r_in[-1] + 1, c_in[0]:c_in[-1] + 1])
        return canvas

    def direct_kernel(self, weight: torch.Tensor) -> torch.Tensor:
        """The kernel the drawn (direct) convolution moves over the canvas: ``weight`` itself,
        or in transposed mode ``weight`` rotated by 180° (``(..., kh, kw)`` → same shape)."""
        return torch.flip(weight, (-2, -1)) if self.transposed else weight


def conv_arithmetic(input_size, kernel_size, stride=1, padding=0, dilation=1, *,
                    transposed: bool = False, output_padding=0) -> ConvArithmetic:
    """The geometry of a convolution (or, with ``transposed=True``, a transposed one).

    Arguments as in ``torch.nn.functional.conv2d`` / ``conv_transpose2d``: ints or ``(h, w)``
    pairs; ``padding`` per side. ``output_padding`` only with ``transposed=True``.
    Raises ``ValueError`` when the kernel does not fit (see :func:`cnnlib.conv_output_size`).
    """
    check_bool("transposed", transposed)
    n = check_positive_tuple("input_size", input_size, 2)
    k = check_positive_tuple("kernel_size", kernel_size, 2)
    s = check_positive_tuple("stride", stride, 2)
    d = check_positive_tuple("dilation", dilation, 2)
    p = check_non_negative_tuple("padding", padding, 2)
    op = check_non_negative_tuple("output_padding", output_padding, 2)
    if transposed:
        axes = [_transposed_axis(*args) for args in zip(n, k, s, p, d, op, strict=True)]
    else:
        if any(op):
            raise ValueError("output_padding only applies to a transposed convolution "
                             f"(transposed=True), got output_padding={output_padding!r}")
        axes = [_conv_axis(*args) for args in zip(n, k, s, p, d, strict=True)]
    return ConvArithmetic(rows=axes[0], cols=axes[1], transposed=transposed, padding=p)
