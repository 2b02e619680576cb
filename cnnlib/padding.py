"""Padding: what a convolution sees beyond the edges of its input.

Four rules fill the border, the same four as ``torch.nn.Conv2d(padding_mode=...)``. For the
row ``x = [a b c d]`` padded by 2 on each side:

    zeros      0 0 | a b c d | 0 0
    reflect    c b | a b c d | c b      (mirror, the edge sample is not repeated)
    replicate  a a | a b c d | d d      (repeat the edge sample)
    circular   c d | a b c d | a b      (wrap around: the signal is periodic)

Every mode is one idea: output position ``i`` reads input position ``source(i)``. The modes
differ only in how ``source`` maps an index that falls outside ``0 … n−1`` back inside (or,
for zeros, to nothing). :func:`pad` builds those index vectors and gathers with them, so the
gradient flows back to the input like any other indexing.

:func:`resolve_padding` turns the ``padding`` argument of a convolution (an int, a tuple,
``"valid"`` or ``"same"``) into explicit ``(before, after)`` pairs, with PyTorch's rule for
``"same"``: the total ``d(k − 1)`` is split as ``before = total // 2`` and
``after = total − before``, so an odd total puts the extra sample on the right/bottom. For an
even kernel (``d = 1``) no symmetric padding keeps the size: ``p = k/2`` on both sides gives
``n + 1`` outputs, ``same_padding(k)`` pads ``(k/2 − 1, k/2)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ._validate import check_choice, check_non_negative_tuple, check_positive_int, check_tensor

__all__ = ["PADDING_MODES", "pad", "resolve_padding", "same_padding"]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")

Pairs = tuple[tuple[int, int], ...]


def check_padding_mode(padding_mode) -> str:
    """Return ``padding_mode`` if it is one of :data:`PADDING_MODES`, else raise."""
    check_choice("padding_mode", padding_mode, PADDING_MODES)
    return padding_mode


def same_padding(kernel_size: int, dilation: int = 1) -> tuple[int, int]:
    """The ``(before, after)`` zero padding that keeps the length with stride 1.

    A (dilated) kernel spans ``d(k − 1) + 1`` samples, so the output keeps the input length
    ``n`` when ``d(k − 1)`` samples are added in total. PyTorch puts ``total // 2`` before
    and the rest after: ``same_padding(4) == (1, 2)``, ``same_padding(3) == (1, 1)``.
    """
    check_positive_int("kernel_size", kernel_size)
    check_positive_int("dilation", dilation)
    total = dilation * (kernel_size - 1)
    return total // 2, total - total // 2


def resolve_padding(padding, kernel_size: Sequence[int], dilation: Sequence[int],
                    stride: Sequence[int]) -> Pairs:
    """Explicit ``((before, after), …)`` pairs, one per spatial dimension.

    ``padding`` is what a convolution accepts: an int (the same on every side), a tuple of
    ints (one per dimension, both sides), ``"valid"`` (no padding) or ``"same"`` (output as
    long as the input; needs stride 1, as in PyTorch). ``kernel_size``, ``dilation`` and
    ``stride`` are tuples with one entry per spatial dimension, already validated.
    """
    n = len(kernel_size)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"padding='same' requires stride 1 (the output could not keep the input "
                    f"size otherwise), got stride={stride if n > 1 else stride[0]}"
                )
            return tuple(same_padding(k, d) for k, d in zip(kernel_size, dilation, strict=True))
        raise ValueError(
            f"padding must be an int, a tuple of {n} ints, 'valid' or 'same', got {padding!r}"
        )
    per_dim = check_non_negative_tuple("padding", padding, n)
    return tuple((p, p) for p in per_dim)


def _source_index(n: int, before: int, after: int, mode: str) -> torch.Tensor:
    """For each position of the padded axis, the input position it copies.

    Positions ``−before … n + after − 1`` of the padded axis, in input coordinates, mapped
    back inside ``0 … n − 1`` by the rule of ``mode``.
    """
    i = torch.arange(-before, n + after)
    if mode == "replicate":
        return i.clamp(0, n - 1)
    if mode == "circular":
        return i.remainder(n)
    # reflect: mirror about the first and the last sample (period 2(n − 1))
    period = 2 * (n - 1)
    j = i.remainder(period)
    return torch.where(j < n, j, period - j)


def _check_mode_fits(mode: str, n: int, before: int, after: int, dim: int) -> None:
    """PyTorch's limits: reflect needs padding < n, circular needs padding ≤ n."""
    if mode == "reflect" and max(before, after) >= n:
        raise ValueError(
            f"padding must be smaller than the input size for padding_mode='reflect', "
            f"got padding ({before}, {after}) for size {n} in dimension {dim}"
        )
    if mode == "circular" and max(before, after) > n:
        raise ValueError(
            f"padding must be at most the input size for padding_mode='circular' (it would "
            f"wrap around more than once), got padding ({before}, {after}) for size {n} in "
            f"dimension {dim}"
        )


def pad(input: torch.Tensor, padding: Sequence[tuple[int, int]] | Sequence[int],
        mode: str = "zeros") -> torch.Tensor:
    """Pad the last ``len(padding)`` dimensions of ``input``.

    ``padding`` has one ``(before, after)`` pair per padded dimension, **first spatial
    dimension first**: ``((top, bottom), (left, right))`` for an image ``(…, H, W)``,
    ``((left, right),)`` for a signal ``(…, L)``. A flat tuple of ints ``(p_1, p_2, …)`` means
    ``p_i`` on both sides of dimension ``i``. (``torch.nn.functional.pad`` lists the pairs in the
    opposite order, last dimension first.)

    Shapes: ``(…, n_1, …, n_k) → (…, n_1 + b_1 + a_1, …, n_k + b_k + a_k)``.
    ``mode`` is one of ``"zeros"``, ``"reflect"``, ``"replicate"``, ``"circular"``.
    """
    check_padding_mode(mode)
    check_tensor("input", input)
    pairs = [p if isinstance(p, tuple | list) else (p, p) for p in padding]
    for p in pairs:
        check_non_negative_tuple("padding", tuple(p), 2)
    k = len(pairs)
    if k > input.dim():
        raise ValueError(
            f"padding has {k} pairs but input has only {input.dim()} dimensions "
            f"(shape {tuple(input.shape)})"
        )
    if all(b == 0 and a == 0 for b, a in pairs):
        return input
    axes = range(input.dim() - k, input.dim())
    for axis, (before, after) in zip(axes, pairs, strict=True):
        _check_mode_fits(mode, input.shape[axis], before, after, axis)
    if mode == "zeros":
        # one allocation: a zero tensor of the padded shape with the input copied in its middle
        shape, middle = list(input.shape), [slice(None)] * input.dim()
        for axis, (before, after) in zip(axes, pairs, strict=True):
            shape[axis] += before + after
            middle[axis] = slice(before, before + input.shape[axis])
        out = input.new_zeros(shape)
        out[tuple(middle)] = input
        return out
    out = input
    for axis, (before, after) in zip(axes, pairs, strict=True):
        if before == after == 0:
            continue
        src = _source_index(input.shape[axis], before, after, mode).to(input.device)
        out = out.index_select(axis, src)
    return out
