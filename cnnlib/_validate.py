"""Argument checks shared by every public cnnlib function.

Each check raises ``TypeError`` (wrong kind of value) or ``ValueError`` (right kind, broken
rule) with a message that names the argument, states the rule and shows what was given,
e.g. ``ValueError("stride must be a positive int, got 0")``. Keeping them in one place keeps
the wording identical across the library, so students learn to read one style of error.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = [
    "as_tuple",
    "check_float_tensor",
    "check_ndim",
    "check_non_negative_tuple",
    "check_positive_int",
    "check_positive_tuple",
    "check_same_device",
]


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_positive_int(name: str, value) -> int:
    """Return ``value`` if it is an int ≥ 1, else raise naming ``name``."""
    if not _is_int(value):
        raise TypeError(f"{name} must be a positive int, got {value!r} ({type(value).__name__})")
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return value


def as_tuple(name: str, value, n: int) -> tuple[int, ...]:
    """Expand an int or a length-``n`` sequence of ints into an ``n``-tuple of ints.

    ``as_tuple("stride", 2, 2) == (2, 2)``; ``as_tuple("stride", (1, 3), 2) == (1, 3)``.
    """
    if _is_int(value):
        return (value,) * n
    if isinstance(value, Sequence) and not isinstance(value, str):
        items = tuple(value)
        if len(items) != n or not all(_is_int(v) for v in items):
            raise ValueError(
                f"{name} must be an int or a tuple of {n} ints, got {value!r}"
            )
        return items
    raise TypeError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")


def check_positive_tuple(name: str, value, n: int) -> tuple[int, ...]:
    """``as_tuple`` and every entry ≥ 1 (stride, dilation, kernel_size)."""
    items = as_tuple(name, value, n)
    if any(v < 1 for v in items):
        what = "a positive int" if n == 1 else f"positive ints (one per dimension, {n})"
        shown = items[0] if _is_int(value) else value
        raise ValueError(f"{name} must be {what}, got {shown!r}")
    return items


def check_non_negative_tuple(name: str, value, n: int) -> tuple[int, ...]:
    """``as_tuple`` and every entry ≥ 0 (padding, output_padding)."""
    items = as_tuple(name, value, n)
    if any(v < 0 for v in items):
        shown = items[0] if _is_int(value) else value
        raise ValueError(f"{name} must be non-negative, got {shown!r}")
    return items


def check_float_tensor(name: str, t) -> torch.Tensor:
    """A floating-point torch tensor (convolutions are not defined on integer tensors here)."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if not t.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor (float32 or float64), got {t.dtype}; "
            f"convert it with {name}.float()"
        )
    return t


def check_ndim(name: str, t: torch.Tensor, allowed: Sequence[int], shape_hint: str) -> None:
    """``t.dim()`` must be one of ``allowed``; ``shape_hint`` spells the expected layout."""
    if t.dim() not in allowed:
        dims = " or ".join(f"{d}-D" for d in allowed)
        raise ValueError(
            f"{name} must be {dims} {shape_hint}, got a {t.dim()}-D tensor of shape "
            f"{tuple(t.shape)}"
        )


def check_same_device(**tensors: torch.Tensor | None) -> None:
    """All given tensors (``None`` ignored) must live on one device."""
    present = {k: v for k, v in tensors.items() if v is not None}
    devices = {str(v.device) for v in present.values()}
    if len(devices) > 1:
        where = ", ".join(f"{k} on {v.device}" for k, v in present.items())
        raise ValueError(f"all tensors must be on the same device, got {where}")
