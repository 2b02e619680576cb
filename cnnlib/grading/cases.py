"""The building blocks of the exercises' cases, shared by every ``exercises/exNN_*.py``.

Hand-checked cases are written as short literals, ``t(1, 2, 3)`` for a 1-D tensor and
``m([1, 2], [3, 4])`` for a matrix, so that a table of cases reads like the worked examples;
random cases draw :func:`rounded_normal` values (two decimals stay readable when a failed check
prints its inputs) and :func:`random_parameters` for a network's weights. Everything is float32,
the dtype of every question's inputs.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

__all__ = ["m", "matrix", "random_parameters", "rounded_normal", "t", "vector"]


def vector(*values: float) -> torch.Tensor:
    """A float32 1-D tensor: ``vector(1, 2, 3)``."""
    return torch.tensor(values, dtype=torch.float32)


def matrix(*rows) -> torch.Tensor:
    """A float32 matrix from its rows: ``matrix([1, 2], [3, 4])``."""
    return torch.tensor(rows, dtype=torch.float32)


t = vector
"""Short for :func:`vector`, for tables of hand-checked cases."""

m = matrix
"""Short for :func:`matrix`, for tables of hand-checked cases."""


def rounded_normal(rng: np.random.Generator, shape) -> torch.Tensor:
    """A float32 tensor of ``shape`` (an int or a tuple) of standard-normal values rounded to
    two decimals."""
    return torch.tensor(np.round(rng.standard_normal(shape), 2), dtype=torch.float32)


def random_parameters(rng: np.random.Generator, module: nn.Module) -> list[torch.Tensor]:
    """Random float32 values for every parameter of ``module``, in ``module.parameters()``
    order: a weight ``(C_out, …)`` is drawn from N(0, 1/fan_in), with fan_in the number of
    values one output channel reads (LeCun's scale: the activations of a stack neither vanish
    nor blow up), and a bias from N(0, 0.1²)."""
    params = []
    for p in module.parameters():
        scale = 1 / math.sqrt(p[0].numel()) if p.dim() > 1 else 0.1
        params.append(torch.tensor(rng.standard_normal(tuple(p.shape)) * scale,
                                   dtype=torch.float32))
    return params
