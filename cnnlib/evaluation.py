"""Scoring a trained classifier: accuracy and loss on a labelled set, under shifts too.

:func:`evaluate` runs a model over images and labels in large batches under
``torch.inference_mode`` (the device is the model's; ``precision`` as in
:func:`cnnlib.training.fit`, resolved by :func:`resolve_precision`) and returns a
:class:`Score`. :func:`shift_accuracy` asks how the score holds when every digit is moved
by a few pixels. :func:`standardize` is the input scaling both they and :func:`fit` expect.
Everything here is re-exported by :mod:`cnnlib.training`, where chapters import it from.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ._validate import check_choice, check_module, check_positive_int
from .datasets import MNIST_MEAN, MNIST_STD
from .equivariance import translate

__all__ = [
    "DIRECTIONS",
    "PRECISIONS",
    "Score",
    "evaluate",
    "resolve_precision",
    "shift_accuracy",
    "standardize",
]


#: Right, left, down, up, as ``(dy, dx)`` steps of one pixel.
DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0))

PRECISIONS = ("auto", "fp32", "bf16")


def standardize(x: torch.Tensor, mean: float = MNIST_MEAN, std: float = MNIST_STD) -> torch.Tensor:
    """``(x − mean) / std``: pixels centred on 0 with unit spread (MNIST's statistics by
    default, ``cnnlib.datasets.MNIST_MEAN`` and ``MNIST_STD``). Returns a new tensor."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"x must be a floating-point torch.Tensor, got {type(x).__name__}")
    if not isinstance(std, (int, float)) or std <= 0:
        raise ValueError(f"std must be a positive number, got {std!r}")
    return (x - mean) / std


# ----------------------------------------------------------------------------- precision

def _cpu_has_native_bf16() -> bool:
    """True when oneDNN computes bfloat16 natively on this CPU (AVX512-BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """``"fp32"`` or ``"bf16"``: what ``precision`` means on ``device``.

    ``"auto"`` is ``"bf16"`` on a CPU that computes bfloat16 natively, else ``"fp32"``
    (including every GPU: see the module docstring). The environment variable
    ``CNNLIB_PRECISION`` (``fp32`` or ``bf16``), when set, is what ``"auto"`` means: e.g.
    ``CNNLIB_PRECISION=fp32 make book`` times the book as a CPU without bfloat16 runs it.
    """
    check_choice("precision", precision, PRECISIONS)
    device = torch.device(device)
    if precision == "auto":
        forced = os.environ.get("CNNLIB_PRECISION", "").strip()
        if forced:
            check_choice("CNNLIB_PRECISION", forced, tuple(p for p in PRECISIONS if p != "auto"))
            return forced
        return "bf16" if device.type == "cpu" and _cpu_has_native_bf16() else "fp32"
    return precision


def _autocast(precision: str, device: torch.device):
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()


# ---------------------------------------------------------------------------- evaluation

@dataclass(frozen=True)
class Score:
    """What :func:`evaluate` measured on a labelled set."""

    loss: float      #: mean cross-entropy
    accuracy: float  #: fraction of correct predictions, in [0, 1]
    correct: int     #: number of correct predictions
    total: int       #: number of samples

    @property
    def error(self) -> float:
        """``1 − accuracy``."""
        return 1.0 - self.accuracy

    def __str__(self) -> str:
        return (f"accuracy {100 * self.accuracy:.2f} % ({self.correct:,}/{self.total:,}), "
                f"loss {self.loss:.4f}")


def _check_data(name: str, data) -> tuple[torch.Tensor, torch.Tensor]:
    if not (isinstance(data, (tuple, list)) and len(data) == 2
            and all(isinstance(t, torch.Tensor) for t in data)):
        raise TypeError(f"{name} must be a pair (images, labels) of tensors, got "
                        f"{type(data).__name__}")
    x, y = data
    if not x.is_floating_point():
        raise TypeError(f"{name}: images must be a floating-point tensor, got {x.dtype}")
    if y.dim() != 1 or y.dtype != torch.int64:
        raise ValueError(f"{name}: labels must be a 1-D int64 tensor (class indices), got "
                         f"{y.dtype} of shape {tuple(y.shape)}")
    if x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ValueError(f"{name}: images and labels must hold the same, non-zero number of "
                         f"samples, got {x.shape[0]} images and {y.shape[0]} labels")
    return x, y


def _model_device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _memory_format(x: torch.Tensor, channels_last: bool) -> torch.Tensor:
    if channels_last and x.dim() == 4:
        return x.contiguous(memory_format=torch.channels_last)
    return x


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 500,
             precision: str = "fp32") -> Score:
    """Mean cross-entropy and accuracy of ``model`` on images ``x`` with labels ``y``.

    ``x: (N, C, H, W)`` (or any shape the model takes), ``y: (N,)`` int64; both are moved to
    the model's device batch by batch. Runs in ``eval`` mode under
    ``torch.inference_mode`` in batches of ``batch_size`` and restores the model's mode.
    ``precision="fp32"`` (default) computes exactly; ``"bf16"``/``"auto"`` as in :func:`fit`.
    """
    check_module("model", model)
    x, y = _check_data("(x, y)", (x, y))
    check_positive_int("batch_size", batch_size)
    device = _model_device(model)
    precision = resolve_precision(precision, device)
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    try:
        with torch.inference_mode():
            for start in range(0, x.shape[0], batch_size):
                xb = x[start:start + batch_size].to(device, non_blocking=True)
                yb = y[start:start + batch_size].to(device, non_blocking=True)
                with _autocast(precision, device):
                    logits = model(xb)
                logits = logits.float()
                loss_sum += F.cross_entropy(logits, yb, reduction="sum").double()
                correct += (logits.argmax(dim=1) == yb).sum()
    finally:
        model.train(was_training)
    n = x.shape[0]
    hits = int(correct.item())
    return Score(loss=float(loss_sum.item()) / n, accuracy=hits / n, correct=hits, total=n)


def shift_accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                   shifts: Sequence[int], directions: Sequence[tuple[int, int]] = DIRECTIONS,
                   prepare=standardize, batch_size: int = 500,
                   precision: str = "fp32") -> list[float]:
    """Accuracy on images moved by ``s`` pixels, for each ``s`` in ``shifts``.

    ``images: (N, C, H, W)`` as stored (MNIST: in [0, 1], background 0) are translated by
    ``(s·dy, s·dx)`` for each direction ``(dy, dx)`` (default: right, left, down, up) with
    zeros shifted in (:func:`cnnlib.equivariance.translate`, ``mode="zeros"``: what leaves
    the frame is lost), then passed through ``prepare`` (default :func:`standardize`) and
    scored by :func:`evaluate`. Returns one accuracy per shift, the mean over directions
    (shift 0 is the plain accuracy).
    """
    if isinstance(shifts, (str, bytes)) or not isinstance(shifts, Sequence) or not shifts:
        raise TypeError(f"shifts must be a non-empty list of ints, got {shifts!r}")
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shifts):
        raise ValueError(f"shifts must be non-negative ints (pixels), got {list(shifts)}")
    if not directions:
        raise ValueError("directions must hold at least one (dy, dx) step")
    result = []
    for s in shifts:
        moves = [(0, 0)] if s == 0 else [(s * dy, s * dx) for dy, dx in directions]
        scores = [evaluate(model, prepare(translate(images, move, mode="zeros")), labels,
                           batch_size=batch_size, precision=precision).accuracy
                  for move in moves]
        result.append(sum(scores) / len(scores))
    return result
