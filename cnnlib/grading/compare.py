"""Comparing a student's answer with the reference's, and saying kindly what differs.

:func:`compare` returns an :class:`Outcome`: ``passed`` and, when it failed, one short sentence
a student can act on ("expected shape (5,), got (6,)"). With ``reveal=False`` (hidden checks)
the sentence never contains a value, only the kind of difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .codec import Unsupported

__all__ = ["Outcome", "Tolerance", "compare", "describe_type", "format_value"]


@dataclass(frozen=True)
class Outcome:
    passed: bool
    message: str = ""


@dataclass(frozen=True)
class Tolerance:
    """``|got − expected| ≤ atol + rtol·|expected|``, per floating dtype (``torch.isclose``)."""

    rtol32: float = 1e-4
    atol32: float = 1e-5
    rtol64: float = 1e-9
    atol64: float = 1e-12

    def for_dtype(self, dtype: torch.dtype) -> tuple[float, float]:
        if dtype == torch.float64:
            return self.rtol64, self.atol64
        if dtype in (torch.float16, torch.bfloat16):
            return 1e-2, 1e-3
        return self.rtol32, self.atol32


def describe_type(value) -> str:
    """'a torch.Tensor', 'an int', 'None', … for messages."""
    if value is None:
        return "None"
    if isinstance(value, Unsupported):
        return repr(value).strip("<>")
    if isinstance(value, torch.Tensor):
        return "a torch.Tensor"
    if isinstance(value, np.ndarray):
        return "a numpy array"
    name = type(value).__name__
    article = "an" if name[:1].lower() in "aeiou" else "a"
    return f"{article} {name}"


def _fmt_number(v) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        text = f"{v:.4g}"
        return text + "." if text.lstrip("-").isdigit() else text
    return str(v)


def _fmt_nested(values, max_items: int) -> str:
    if not isinstance(values, list):
        return _fmt_number(values)
    half = max_items // 2
    shown = values if len(values) <= max_items else [*values[:half], "…", *values[-half:]]
    return "[" + ", ".join(v if v == "…" else _fmt_nested(v, max_items) for v in shown) + "]"


def format_value(value, max_items: int = 12) -> str:
    """A short, readable rendering: ``tensor([1., 2.5, …])`` style, at most ``max_items``."""
    if isinstance(value, torch.Tensor):
        data = value.detach().cpu()
        extra = "" if data.dtype == torch.float32 else f", dtype={data.dtype}"
        if data.dim() >= 2 and data.numel() > 4 * max_items:  # an image or a weight
            if data.is_floating_point():
                extra = (f", min={_fmt_number(data.min().item())}, "
                         f"max={_fmt_number(data.max().item())}{extra}")
            return f"tensor(shape={tuple(data.shape)}{extra})"
        body = _fmt_nested(data.tolist(), max_items)
        return f"tensor({body}{extra})"
    if isinstance(value, np.ndarray):
        return f"array({_fmt_nested(value.tolist(), max_items)}, dtype={value.dtype})"
    if isinstance(value, tuple):
        return "(" + ", ".join(format_value(v, max_items) for v in value) + \
            ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v, max_items) for v in value[:max_items]) + \
            (", …" if len(value) > max_items else "") + "]"
    if isinstance(value, float | int | bool | np.generic):
        return _fmt_number(value.item() if isinstance(value, np.generic) else value)
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "…"


def _compare_tensor(expected: torch.Tensor, got, tol: Tolerance, reveal: bool) -> Outcome:
    if isinstance(got, np.ndarray):
        return Outcome(False, "expected a torch.Tensor, got a numpy array "
                              "(convert it with torch.from_numpy)")
    if not isinstance(got, torch.Tensor):
        hint = " — did you forget to return?" if got is None else ""
        return Outcome(False, f"expected a torch.Tensor, got {describe_type(got)}{hint}")
    if tuple(got.shape) != tuple(expected.shape):
        return Outcome(False, f"expected shape {tuple(expected.shape)}, "
                              f"got {tuple(got.shape)}")
    if got.dtype != expected.dtype:
        return Outcome(False, f"expected dtype {expected.dtype}, got {got.dtype} "
                              "(build the output with the input's dtype)")
    if not expected.is_floating_point():
        if torch.equal(got, expected):
            return Outcome(True)
        wrong = int((got != expected).sum())
        return Outcome(False, f"{wrong} of {expected.numel()} entries differ")
    rtol, atol = tol.for_dtype(expected.dtype)
    close = torch.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    if bool(close.all()):
        return Outcome(True)
    wrong = int((~close).sum())
    err = (got - expected).abs()
    err = torch.where(torch.isnan(err), torch.full_like(err, math.inf), err)
    where = tuple(int(i) for i in np.unravel_index(int(err.argmax()), tuple(expected.shape)))
    if reveal:
        e, g = expected[where].item(), got[where].item()
        detail = f"; largest difference at index {where}: expected {e:.6g}, got {g:.6g}"
    else:
        detail = ""
    return Outcome(False, f"{wrong} of {expected.numel()} values differ{detail}")


def compare(expected, got, tol: Tolerance | None = None, reveal: bool = True) -> Outcome:
    """Does ``got`` match ``expected`` (the reference's answer)?

    Tensors must match in type, shape and dtype, then in value up to ``tol``; ints must be
    ints (a ``numpy`` integer counts) and equal; floats are compared like float32 tensors;
    tuples and lists element by element.
    """
    tol = tol or Tolerance()
    if isinstance(got, Unsupported):
        return Outcome(False, f"returned {describe_type(got)}, which cannot be graded")
    if isinstance(expected, torch.Tensor):
        return _compare_tensor(expected, got, tol, reveal)
    if isinstance(expected, np.ndarray):
        return _compare_array(expected, got, tol, reveal)
    if isinstance(expected, np.generic):
        expected = expected.item()
    for kind, check in _SCALARS:
        if isinstance(expected, kind):
            return check(expected, got, tol, reveal)
    if isinstance(expected, tuple | list):
        return _compare_sequence(expected, got, tol, reveal)
    ok = bool(expected == got)
    return Outcome(ok, "" if ok else (f"expected {format_value(expected)}, got "
                                      f"{format_value(got)}" if reveal else "wrong value"))


def _compare_array(expected: np.ndarray, got, tol: Tolerance, reveal: bool) -> Outcome:
    if not isinstance(got, np.ndarray):
        return Outcome(False, f"expected a numpy array, got {describe_type(got)}")
    if got.dtype != expected.dtype:
        return Outcome(False, f"expected dtype {expected.dtype}, got {got.dtype}")
    outcome = _compare_tensor(torch.from_numpy(np.ascontiguousarray(expected)),
                              torch.from_numpy(np.ascontiguousarray(got)), tol, reveal)
    return Outcome(outcome.passed, outcome.message.replace("torch.", ""))


def _compare_bool(expected: bool, got, tol: Tolerance, reveal: bool) -> Outcome:
    if not isinstance(got, bool | np.bool_):
        return Outcome(False, f"expected a bool, got {describe_type(got)}")
    return Outcome(bool(got) == expected,
                   "" if bool(got) == expected else
                   (f"expected {expected}, got {bool(got)}" if reveal else "wrong answer"))


def _compare_int(expected: int, got, tol: Tolerance, reveal: bool) -> Outcome:
    if isinstance(got, bool) or not isinstance(got, int | np.integer):
        hint = " (use // for integer division)" if isinstance(got, float) else ""
        return Outcome(False, f"expected an int, got {describe_type(got)}{hint}")
    ok = int(got) == expected
    return Outcome(ok, "" if ok else (f"expected {expected}, got {int(got)}" if reveal
                                      else "wrong value"))


def _compare_float(expected: float, got, tol: Tolerance, reveal: bool) -> Outcome:
    if isinstance(got, bool) or not isinstance(got, int | float | np.integer | np.floating):
        return Outcome(False, f"expected a number, got {describe_type(got)}")
    ok = math.isclose(float(got), expected, rel_tol=tol.rtol32, abs_tol=tol.atol32)
    return Outcome(ok, "" if ok else (f"expected {expected:.6g}, got {float(got):.6g}"
                                      if reveal else "wrong value"))


def _compare_sequence(expected, got, tol: Tolerance, reveal: bool) -> Outcome:
    if not isinstance(got, tuple | list):
        return Outcome(False, f"expected {describe_type(expected)}, got {describe_type(got)}")
    if len(got) != len(expected):
        return Outcome(False, f"expected {len(expected)} items, got {len(got)}")
    for i, (e, g) in enumerate(zip(expected, got, strict=True)):
        inner = compare(e, g, tol, reveal)
        if not inner.passed:
            return Outcome(False, f"item {i}: {inner.message}")
    return Outcome(True)


# bool before int: a bool is an int in Python
_SCALARS = ((bool, _compare_bool), (int, _compare_int), (float, _compare_float))
