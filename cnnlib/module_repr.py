"""A network printed short: PyTorch's ``repr`` without the arguments left at their defaults.

``print(model)`` writes every argument of every layer, defaults included, and some lines get
long: a ``BatchNorm2d`` alone prints ``BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True,
track_running_stats=True)``, 90 characters before any indentation. :func:`compact_repr`
prints the same tree, layer names and all, but drops each ``key=value`` whose value is the
default of that argument in the layer's constructor, so that the line says what was chosen:
``BatchNorm2d(16)``, ``Conv2d(1, 16, kernel_size=(3, 3), padding=(1, 1))``,
``MaxPool2d(kernel_size=2, stride=2)``. A tuple counts as a default when every entry equals
an integer default (``stride=(1, 1)`` for ``stride=1``).
"""

from __future__ import annotations

import ast
import inspect

from torch import nn

from ._validate import check_module

__all__ = ["compact_repr"]


def _split_arguments(text: str) -> list[str]:
    """``"1, 16, kernel_size=(3, 3)"`` → ``["1", "16", "kernel_size=(3, 3)"]`` (commas
    inside brackets or quotes do not split)."""
    parts, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    last = text[start:].strip()
    return [*parts, last] if last else parts


def _is_default(value_text: str, default) -> bool:
    try:
        value = ast.literal_eval(value_text)
    except (ValueError, SyntaxError):
        return False
    if type(value) is bool or type(default) is bool:  # True is not the integer 1 here
        return type(value) is type(default) and value == default
    if isinstance(value, tuple) and isinstance(default, int) and value:
        return all(type(v) is int and v == default for v in value)
    return value == default


def _defaults(module: nn.Module) -> dict[str, object]:
    try:
        parameters = inspect.signature(type(module).__init__).parameters
    except (TypeError, ValueError):
        return {}
    return {name: p.default for name, p in parameters.items()
            if p.default is not inspect.Parameter.empty}


def _compact_arguments(module: nn.Module) -> str:
    defaults = _defaults(module)
    kept = []
    for part in _split_arguments(module.extra_repr()):
        key, sep, value = part.partition("=")
        if sep and key.isidentifier() and key in defaults and _is_default(value, defaults[key]):
            continue
        kept.append(part)
    return ", ".join(kept)


def compact_repr(module: nn.Module) -> str:
    """``repr(module)`` with every ``key=value`` argument at its default left out.

    The layout is PyTorch's: one line per child, ``(name): Layer(arguments)``, children
    indented by two spaces. Positional values (``BatchNorm2d(16)``'s 16) and arguments that
    differ from the constructor's default are kept.

    >>> print(compact_repr(nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8))))
    Sequential(
      (0): Conv2d(1, 8, kernel_size=(3, 3), padding=(1, 1))
      (1): BatchNorm2d(8)
    )
    """
    check_module("module", module)
    arguments = _compact_arguments(module)
    lines = [arguments] if arguments else []
    lines += [f"({name}): {compact_repr(child)}".replace("\n", "\n  ")
              for name, child in module.named_children()]
    if len(lines) == 1 and arguments:  # a leaf layer: one line, as PyTorch writes it
        return f"{type(module).__name__}({arguments})"
    inner = "".join(f"\n  {line}" for line in lines)
    return f"{type(module).__name__}({inner}\n)" if lines else f"{type(module).__name__}()"
