"""Exercise 07 — LeNet: the graded questions of ``exercises/07_lenet.ipynb``.

Networks are described to the student as a list of layers, e.g. the 20-50-500 LeNet::

    [("conv", 20, 5, 1, 0), ("relu",), ("maxpool", 2), ("conv", 50, 5, 1, 0), ("relu",),
     ("maxpool", 2), ("flatten",), ("linear", 500), ("relu",), ("linear", 10)]

``("conv", out_channels, kernel_size, stride, padding)`` is a square ``nn.Conv2d`` with a bias,
``("maxpool", k)`` / ``("avgpool", k)`` a ``k × k`` pool of stride ``k``, ``("relu",)`` and
``("tanh",)`` activations, ``("flatten",)`` ``nn.Flatten()`` and ``("linear", out_features)`` an
``nn.Linear`` with a bias. :func:`build` turns such a list into the real PyTorch network (on the
meta device: shapes only), and every expected answer is read off that network by
:mod:`cnnlib.counting`; the LeNet question's answers come from ``cnnlib.models.LeNet5``. The
fixed cases' hand-written answers are tested against those references in
``tests/test_grading_questions.py`` and ``tests/test_grading_ex07_lenet.py``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from cnnlib.counting import count_parameters, layer_summary
from cnnlib.models import LeNet5

from ..cases import random_parameters
from ..forbidden import MODELS, SHAPES
from ..question import Case, Exercise, Question

__all__ = ["EXERCISE", "LENET", "LENET5", "MLP", "build", "constant_params",
           "lenet5_constant_logit"]

LENET = [("conv", 20, 5, 1, 0), ("relu",), ("maxpool", 2), ("conv", 50, 5, 1, 0), ("relu",),
         ("maxpool", 2), ("flatten",), ("linear", 500), ("relu",), ("linear", 10)]
"""The 20-50-500 LeNet, layer by layer as ``cnnlib.models.LeNet`` builds it."""

LENET5 = [("conv", 6, 5, 1, 2), ("tanh",), ("avgpool", 2), ("conv", 16, 5, 1, 0), ("tanh",),
          ("avgpool", 2), ("flatten",), ("linear", 120), ("tanh",), ("linear", 84), ("tanh",),
          ("linear", 10)]
"""LeNet-5 as ``cnnlib.models.LeNet5()`` builds it (padding 2, tanh, average pooling)."""

MLP = [("flatten",), ("linear", 800), ("relu",), ("linear", 800), ("relu",), ("linear", 10)]
"""Chapter 7's MLP baseline 784-800-800-10."""


# --- the layer language -----------------------------------------------------------------------

def _layer(spec, shape: tuple[int, ...]) -> nn.Module:
    kind = spec[0]
    if kind == "conv":
        _, c_out, k, stride, padding = spec
        return nn.Conv2d(shape[1], c_out, k, stride=stride, padding=padding)
    if kind in ("maxpool", "avgpool"):
        return (nn.MaxPool2d if kind == "maxpool" else nn.AvgPool2d)(spec[1])
    if kind == "linear":
        return nn.Linear(shape[-1], spec[1])
    return {"relu": nn.ReLU, "tanh": nn.Tanh, "flatten": nn.Flatten}[kind]()


def build(input_shape, layers) -> nn.Sequential:
    """The network that ``layers`` describes, for inputs of ``input_shape`` (on the meta
    device: parameters have shapes but no memory). Each layer's input size is read from what
    the previous layers output, so nothing here computes a shape by formula."""
    modules = []
    x = torch.zeros(tuple(input_shape), device="meta")
    with torch.device("meta"):
        for spec in layers:
            module = _layer(spec, tuple(x.shape))
            x = module(x)
            modules.append(module)
    return nn.Sequential(*modules)


def constant_params(weight: float, bias: float) -> list[torch.Tensor]:
    """LeNet-5's parameters, in the order of ``LeNet5().parameters()``: every weight equal to
    ``weight`` and every bias to ``bias``."""
    shapes = [(p.shape, p.dim() == 1) for p in LeNet5().parameters()]
    return [torch.full(shape, bias if is_bias else weight) for shape, is_bias in shapes]


def lenet5_constant_logit(weight: float, bias: float) -> float:
    """The logit LeNet-5 gives a blank digit when every weight is ``weight`` and every bias
    ``bias``, derived by hand: the first convolution sees only zeros (its output is its bias,
    padding or not), every later map is constant, so a convolution or linear layer adds up
    ``fan_in`` equal products — 6·5·5 = 150, 16·5·5 = 400, 120 and 84 of them — and average
    pooling changes nothing."""
    a = math.tanh(bias)                      # conv 1 on a blank digit: just the bias
    a = math.tanh(150 * weight * a + bias)   # conv 2
    a = math.tanh(400 * weight * a + bias)   # linear 400 → 120
    a = math.tanh(120 * weight * a + bias)   # linear 120 → 84
    return 84 * weight * a + bias            # linear 84 → 10: the logits


# --- references -------------------------------------------------------------------------------

def ref_feature_shapes(input_shape, layers) -> list[tuple[int, ...]]:
    summary = layer_summary(build(input_shape, layers), tuple(input_shape))
    return [tuple(int(s) for s in row.output_shape) for row in summary]


def ref_network_cost(input_shape, layers) -> tuple[int, int]:
    model = build(input_shape, layers)
    return count_parameters(model), layer_summary(model, tuple(input_shape)).total_macs


def ref_lenet5_logits(x: torch.Tensor, params: list[torch.Tensor]) -> torch.Tensor:
    model = LeNet5()
    with torch.no_grad():
        for p, value in zip(model.parameters(), params, strict=True):
            p.copy_(value)
        return model(x)


# --- random cases -----------------------------------------------------------------------------

def rand_network(rng: np.random.Generator):
    """A random valid network: 1–3 conv blocks (each maybe with an activation and a pool),
    then maybe a dense head; the input is (N, C, H, W) with N ≤ 3."""
    n, c = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    h, w = int(rng.integers(6, 41)), int(rng.integers(6, 41))
    layers: list[tuple] = []
    size = [h, w]
    for _ in range(int(rng.integers(1, 4))):
        k = int(rng.integers(1, 6))
        padding = int(rng.integers(0, k // 2 + 1))
        stride = int(rng.integers(1, 3))
        if min(size) + 2 * padding < k:
            break
        layers.append(("conv", int(rng.integers(1, 33)), k, stride, padding))
        size = [(s + 2 * padding - k) // stride + 1 for s in size]
        if rng.random() < 0.8:
            layers.append((("relu",), ("tanh",))[int(rng.integers(0, 2))])
        pool = int(rng.integers(2, 4))
        if rng.random() < 0.6 and min(size) >= pool:
            layers.append((("maxpool", "avgpool")[int(rng.integers(0, 2))], pool))
            size = [s // pool for s in size]
    if not layers or rng.random() < 0.7:
        layers.append(("flatten",))
        for i in range(int(rng.integers(1, 3))):
            if i:
                layers.append(("relu",))
            layers.append(("linear", int(rng.integers(1, 513))))
    return (n, c, h, w), layers


def rand_lenet5(rng: np.random.Generator):
    n = int(rng.integers(1, 3))
    x = torch.tensor(np.round(rng.random((n, 1, 28, 28)), 2), dtype=torch.float32)
    return x, random_parameters(rng, LeNet5())


# --- the questions ----------------------------------------------------------------------------

BLANK1, BLANK2 = torch.zeros(1, 1, 28, 28), torch.zeros(2, 1, 28, 28)

EXERCISE = Exercise(
    name="07_lenet",
    title="LeNet",
    questions=(
        Question.function(
            "feature_shapes", points=2, reference=ref_feature_shapes,
            args=("input_shape", "layers"),
            fixed=(
                Case(((1, 1, 28, 28), LENET),
                     [(1, 20, 24, 24), (1, 20, 24, 24), (1, 20, 12, 12), (1, 50, 8, 8),
                      (1, 50, 8, 8), (1, 50, 4, 4), (1, 800), (1, 500), (1, 500), (1, 10)],
                     "the 20-50-500 LeNet: 28 → 24 → 12 → 8 → 4, then 50·4·4 = 800 values"),
                Case(((2, 1, 28, 28), LENET5),
                     [(2, 6, 28, 28), (2, 6, 28, 28), (2, 6, 14, 14), (2, 16, 10, 10),
                      (2, 16, 10, 10), (2, 16, 5, 5), (2, 400), (2, 120), (2, 120), (2, 84),
                      (2, 84), (2, 10)],
                     "LeNet-5: padding 2 keeps 28 × 28, then 16·5·5 = 400 values"),
                Case(((1, 3, 32, 32), [("conv", 8, 3, 2, 1), ("maxpool", 3)]),
                     [(1, 8, 16, 16), (1, 8, 5, 5)],
                     "stride 2 with padding 1 halves 32; a 3 × 3 pool drops the 16th row"),
                Case(((4, 2, 7, 9), [("conv", 5, 3, 1, 0), ("flatten",), ("linear", 3)]),
                     [(4, 5, 5, 7), (4, 175), (4, 3)], "a rectangular input"),
            ),
            random_case=rand_network, n_public=6, n_hidden=24, from_scratch=SHAPES,
            hint="a conv layer gives (N, out_channels, ⌊(H + 2p − k)/s⌋ + 1, …); a pool of "
                 "size k gives ⌊H/k⌋; activations keep the shape; flatten gives (N, C·H·W); "
                 "linear gives (N, out_features). Return a list of tuples of ints",
        ),
        Question.function(
            "network_cost", points=2, reference=ref_network_cost,
            args=("input_shape", "layers"),
            fixed=(
                Case(((1, 1, 28, 28), LENET), (431_080, 2_293_000),
                     "the 20-50-500 LeNet: 520 + 25,050 + 400,500 + 5,010 parameters"),
                Case(((1, 1, 28, 28), LENET5), (61_706, 416_520), "LeNet-5"),
                Case(((1, 1, 28, 28), MLP), (1_276_810, 1_275_200),
                     "the MLP: every weight is used once per image"),
                Case(((2, 1, 28, 28), LENET), (431_080, 4_586_000),
                     "two images: twice the MACs, the same parameters"),
            ),
            random_case=rand_network, n_public=6, n_hidden=24, from_scratch=SHAPES,
            hint="conv: out·in·k² weights + out biases and N·out·H_out·W_out·in·k² MACs; "
                 "linear: in·out weights + out biases and N·in·out MACs; the other layers "
                 "have neither. Your feature_shapes gives every layer's input and output size",
        ),
        Question.function(
            "lenet5_logits", points=3, reference=ref_lenet5_logits, args=("x", "params"),
            fixed=(
                Case((BLANK1, constant_params(1 / 128, 1 / 8)),
                     torch.full((1, 10), lenet5_constant_logit(1 / 128, 1 / 8)),
                     "a blank digit, every weight 1/128 and every bias 1/8: each layer adds "
                     "up its fan-in (150, 400, 120, 84 inputs)"),
                Case((BLANK2, constant_params(-1 / 64, 1 / 4)),
                     torch.full((2, 10), lenet5_constant_logit(-1 / 64, 1 / 4)),
                     "two blank digits, weights −1/64, biases 1/4"),
            ),
            random_case=rand_lenet5, n_public=2, n_hidden=4, from_scratch=MODELS,
            hint="conv 1→6 (5×5, padding 2), tanh, 2×2 average pool, conv 6→16 (5×5), tanh, "
                 "2×2 average pool, flatten (400), linear 120, tanh, linear 84, tanh, "
                 "linear 10 — in that order, each layer with its bias",
        ),
    ),
)
