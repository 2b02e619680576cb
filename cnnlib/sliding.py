"""Shift, multiply, sum: the steps of a 1D convolution, computed one at a time.

A 1D convolution layer (a cross-correlation, as ``torch.nn.functional.conv1d`` computes it)
places the kernel ``h = (h_0, …, h_{m−1})`` on the zero-padded input ``x̃`` at position
``i·s``, multiplies it with the ``m`` samples beneath and sums the products into ``y[i]``::

    y[i] = Σ_{j=0}^{m−1} h_j · x̃[i·s + j]          i = 0, …, o − 1
    o = ⌊(n + p_left + p_right − m)/s⌋ + 1

This is ``y = h ⋆ x`` in the book's notation: 0-based indices, kernel first. Texts that count
from 1 write the same sum (stride 1, no padding) as ``y[i] = Σ_{j=1}^{m} h_j x_{i+j−1}``.

- :func:`conv1d_steps` computes what each step shows (a list of :class:`Step`); the outputs come
  from :func:`cnnlib.conv.conv1d`, the products from the window under the kernel.
- :func:`format_number` is the short text a cell shows for a value.

:mod:`cnnlib.viz.sliding` draws the steps (one, several side by side, or animated).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ._validate import check_kernel_fits, check_non_negative_tuple, check_positive_int
from .conv import conv1d
from .padding import pad

__all__ = [
    "PADDING_NAMES",
    "Step",
    "conv1d_steps",
    "format_number",
    "resolve_padding_1d",
]

PADDING_NAMES = ("valid", "same", "full")


@dataclass(frozen=True)
class Step:
    """What step ``index`` of a 1D convolution shows (numpy arrays, float64).

    ``padded``: the input with its zeros, length ``L = n + p_left + p_right``; ``padding``:
    ``(p_left, p_right)``; ``kernel``: ``(m,)``; ``start = index·stride``: where the kernel
    sits in ``padded``; ``window = padded[start:start + m]``; ``products = kernel · window``;
    ``outputs``: all ``o`` outputs of the convolution; ``value = outputs[index]``.
    """

    padded: np.ndarray
    padding: tuple[int, int]
    kernel: np.ndarray
    stride: int
    index: int
    outputs: np.ndarray

    @property
    def start(self) -> int:
        return self.index * self.stride

    @property
    def window(self) -> np.ndarray:
        return self.padded[self.start:self.start + len(self.kernel)]

    @property
    def products(self) -> np.ndarray:
        return self.kernel * self.window

    @property
    def value(self) -> float:
        return float(self.outputs[self.index])

    @property
    def n_outputs(self) -> int:
        return len(self.outputs)

    def input_indices(self) -> list[int]:
        """Indices in the *unpadded* input that feed this output (padding zeros left out)."""
        n = len(self.padded) - sum(self.padding)
        first = self.start - self.padding[0]
        return [k for k in range(first, first + len(self.kernel)) if 0 <= k < n]


def resolve_padding_1d(padding, kernel_size: int, stride: int = 1) -> tuple[int, int]:
    """``(p_left, p_right)`` for ``padding`` = an int ``p`` (both sides), a pair, or a name.

    ``"valid"``: no padding, ``o = n − m + 1``. ``"full"``: ``m − 1`` per side, every overlap
    of kernel and input, ``o = n + m − 1``. ``"same"``: ``m − 1`` in total, split as PyTorch
    does (``(m − 1)//2`` on the left, the rest on the right), ``o = n``; needs stride 1.
    """
    check_positive_int("kernel_size", kernel_size)
    check_positive_int("stride", stride)
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0
        if padding == "full":
            return kernel_size - 1, kernel_size - 1
        if padding == "same":
            if stride != 1:
                raise ValueError(
                    f"padding='same' requires stride 1 (as in PyTorch: the output could not "
                    f"keep the input length otherwise), got stride={stride}"
                )
            total = kernel_size - 1
            return total // 2, total - total // 2
        raise ValueError(
            f"padding must be an int, a pair of ints or one of {PADDING_NAMES}, got {padding!r}"
        )
    if isinstance(padding, Sequence) and len(padding) == 2:
        left, right = check_non_negative_tuple("padding", tuple(padding), 2)
        return left, right
    (p,) = check_non_negative_tuple("padding", padding, 1)
    return p, p


def _as_signal(name: str, values) -> torch.Tensor:
    if isinstance(values, torch.Tensor):
        t = values.detach().to("cpu", torch.float64)
    else:
        t = torch.from_numpy(np.asarray(values, dtype=np.float64))
    if t.dim() != 1 or t.numel() == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D signal (a list or a tensor of shape (n,)), got "
            f"shape {tuple(t.shape)}"
        )
    return t


def conv1d_steps(x, h, stride: int = 1, padding=0) -> list[Step]:
    """Every step of the 1D cross-correlation of ``x: (n,)`` with ``h: (m,)``.

    ``padding``: see :func:`resolve_padding_1d` (zeros). Returns ``o`` steps,
    ``o = ⌊(n + p_left + p_right − m)/s⌋ + 1``; their ``outputs`` are
    ``cnnlib.conv.conv1d(method="loop")`` of the padded input (float64, on the CPU).
    """
    x, h = _as_signal("x", x), _as_signal("h", h)
    check_positive_int("stride", stride)
    m = h.numel()
    left, right = resolve_padding_1d(padding, m, stride)
    check_kernel_fits(x.numel(), m, 1, left, right)
    padded = pad(x, ((left, right),))
    outputs = conv1d(padded[None, None], h[None, None], stride=stride, method="loop")[0, 0]
    padded_np, h_np, out_np = padded.numpy(), h.numpy(), outputs.numpy()
    return [Step(padded_np, (left, right), h_np, stride, i, out_np) for i in range(len(out_np))]


def format_number(v: float) -> str:
    """Short text for a cell: integers as such, else 2 decimals (none for |v| ≥ 10)."""
    v = float(v)
    if math.isclose(v, round(v), abs_tol=1e-9):
        return str(round(v)) if round(v) != 0 else "0"
    if abs(v) >= 10:
        return f"{v:.0f}"
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("0", "-0") else text
