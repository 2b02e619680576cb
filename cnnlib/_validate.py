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
    "check_bool",
    "check_callable",
    "check_choice",
    "check_float_tensor",
    "check_kernel_fits",
    "check_module",
    "check_ndim",
    "check_non_negative_int",
    "check_non_negative_tuple",
    "check_number",
    "check_positive_int",
    "check_positive_tuple",
    "check_same_device",
    "check_same_dtype",
    "check_shape",
    "check_tensor",
]


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_positive_int(name: str, value, *, type_error: type[Exception] = TypeError) -> int:
    """Return ``value`` if it is an int ≥ 1, else raise naming ``name``.

    ``type_error`` as in :func:`check_non_negative_int`.
    """
    if not _is_int(value):
        raise type_error(f"{name} must be a positive int, got {value!r} ({type(value).__name__})")
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return value


def check_non_negative_int(name: str, value, *, type_error: type[Exception] = TypeError) -> int:
    """Return ``value`` if it is an int ≥ 0, else raise naming ``name``.

    ``type_error`` is the exception for a value that is not an int at all (a few functions,
    such as :func:`cnnlib.env.seed_everything`, have always raised ``ValueError`` there).
    """
    if not _is_int(value):
        raise type_error(
            f"{name} must be a non-negative int, got {value!r} ({type(value).__name__})"
        )
    if value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value}")
    return value


def check_bool(name: str, value) -> bool:
    """Return ``value`` if it is ``True`` or ``False`` (not 0, 1 or ``None``)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def check_choice(name: str, value, choices) -> None:
    """``value`` must be one of ``choices`` (strings such as modes, methods, names)."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")


def check_tensor(name: str, t) -> torch.Tensor:
    """A torch tensor, of any dtype."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    return t


def check_module(name: str, module) -> torch.nn.Module:
    """A ``torch.nn.Module`` (a layer or a model)."""
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(module).__name__}")
    return module


def check_callable(name: str, f) -> None:
    """A callable, such as a function of a tensor."""
    if not callable(f):
        raise TypeError(f"{name} must be a callable (a function of a tensor), got {f!r}")


def check_same_dtype(reference: str, ref: torch.Tensor, **tensors: torch.Tensor | None) -> None:
    """Every given tensor (``None`` ignored) has the dtype of ``ref``, named ``reference``."""
    for name, t in tensors.items():
        if t is not None and t.dtype != ref.dtype:
            raise TypeError(
                f"{name} must have the same dtype as {reference}, got {reference} {ref.dtype} "
                f"and {name} {t.dtype}; convert one of them with .to(other.dtype)"
            )


def check_kernel_fits(n: int, kernel_size: int, dilation: int = 1, before: int = 0,
                      after: int | None = None, *, dim: str | None = None) -> int:
    """The (dilated) kernel must fit in the padded length ``before + n + after``.

    ``after`` defaults to ``before`` (padding per side); ``dim`` names the dimension
    (``"H"``, ``"W"``, ``"L"``) when there are several. Returns the padded length.
    """
    after = before if after is None else after
    span = dilation * (kernel_size - 1) + 1
    padded = n + before + after
    if span > padded:
        along = f" along {dim}" if dim else ""
        raise ValueError(
            f"kernel_size {kernel_size} (dilated span {span}) is larger than the padded "
            f"input{along}: {n} + {before} + {after} = {padded}; add padding or use a "
            f"smaller kernel"
        )
    return padded


def check_number(name: str, value, low: float, high: float | None = None,
                 low_open: bool = False) -> float:
    """A real number in ``[low, high]`` (``(low, …`` with ``low_open``; no upper bound
    without ``high``), returned as a float: learning rates, probabilities, fractions."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got {value!r}")
    too_low = value <= low if low_open else value < low
    if too_low or (high is not None and value > high):
        where = f"({low}, " if low_open else f"[{low}, "
        where += f"{high}]" if high is not None else "∞)"
        raise ValueError(f"{name} must lie in {where}, got {value!r}")
    return float(value)


def check_shape(name: str, value, layout: str, min_dims: int = 1, *,
                type_error: type[Exception] = TypeError) -> tuple[int, ...]:
    """A tensor shape: a tuple (list, ``torch.Size``) of at least ``min_dims`` positive ints.

    ``layout`` spells the expected shape with an example, e.g.
    ``"(N, C, *spatial), e.g. (1, 3, 64, 64)"``. ``type_error`` as in
    :func:`check_non_negative_int`, for a value that is no sequence at all.
    """
    size = "a non-empty tuple of" if min_dims <= 1 else f"a tuple of at least {min_dims}"
    rule = f"{name} must be {size} positive ints {layout}"
    if not isinstance(value, (tuple, list, torch.Size)):
        raise type_error(f"{rule}, got {value!r}")
    shape = tuple(value)
    if len(shape) < min_dims or not all(_is_int(v) and v >= 1 for v in shape):
        raise ValueError(f"{rule}, got {value!r}")
    return shape


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
    check_tensor(name, t)
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
