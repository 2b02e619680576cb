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
import torch.nn.functional as F
from torch import nn

from cnnlib.counting import count_parameters, layer_summary
from cnnlib.models import LeNet5

from .. import training_data as training
from ..cases import m, random_parameters, rounded_normal
from ..forbidden import AUTOGRAD, CONVOLUTION, MODELS, SHAPES, TRAINING
from ..mistakes import Mistake
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


# --- known mistakes: what an answer with each slip returns -------------------------------------
# The shape and cost slips follow the layer formulas by hand, as a student's answer does (a
# slip can give sizes no real layer would: the formulas carry on regardless).

def _conv_side(n, k, s, p):
    return (n + 2 * p - k) // s + 1


def _shapes(input_shape, layers, *, conv=_conv_side, pool=lambda n, k: n // k,
            activations=True, flatten=lambda shape: (shape[0], math.prod(shape[1:]))):
    shape, shapes = tuple(input_shape), []
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            _, c_out, k, s, p = layer
            shape = (shape[0], c_out, conv(shape[2], k, s, p), conv(shape[3], k, s, p))
        elif kind in ("maxpool", "avgpool"):
            shape = (*shape[:2], pool(shape[2], layer[1]), pool(shape[3], layer[1]))
        elif kind == "flatten":
            shape = flatten(shape)
        elif kind == "linear":
            shape = (shape[0], layer[1])
        elif not activations:
            continue
        shapes.append(shape)
    return shapes


def _cost(input_shape, layers, *, conv_params, conv_macs, linear_params=None, batch=True):
    """(parameters, MACs) from the layer-by-layer shapes, each conv counted by ``conv_params(
    c_in, c_out, k)`` and ``conv_macs(before, after, k)``."""
    shapes = [tuple(input_shape), *_shapes(input_shape, layers)]
    linear_params = linear_params or (lambda f_in, f_out: f_in * f_out + f_out)
    params = macs = 0
    for i, layer in enumerate(layers):
        before, after = shapes[i], shapes[i + 1]
        if layer[0] == "conv":
            params += conv_params(before[1], layer[1], layer[2])
            macs += conv_macs(before, after, layer[2])
        elif layer[0] == "linear":
            params += linear_params(before[1], layer[1])
            macs += (before[0] if batch else 1) * before[1] * layer[1]
    return params, macs


def _conv_params(c_in, c_out, k):
    return c_out * c_in * k * k + c_out


def _conv_macs(before, after, k):
    return math.prod(after) * before[1] * k * k


def _lenet5(x, params, *, act=torch.tanh, pool=F.avg_pool2d, dense_act=torch.tanh,
            pool_first=False, last=lambda y: y):
    """LeNet-5's forward pass written out, with the choices a slip changes."""
    w1, b1, w2, b2, w3, b3, w4, b4, w5, b5 = params
    with torch.no_grad():
        y = x
        for w, b, padding in ((w1, b1, 2), (w2, b2, 0)):
            y = F.conv2d(y, w, b, padding=padding)
            y = act(pool(y, 2)) if pool_first else pool(act(y), 2)
        y = y.flatten(1)
        y = dense_act(F.linear(y, w3, b3))
        y = dense_act(F.linear(y, w4, b4))
        return last(F.linear(y, w5, b5))


FEATURE_SHAPE_MISTAKES = (
    Mistake("padding ignored", lambda shape, layers: _shapes(
        shape, layers, conv=lambda n, k, s, p: (n - k) // s + 1),
        "a conv layer's padding adds p rows and p columns on each side: ⌊(H + 2p − k)/s⌋ + 1"),
    Mistake("padding counted once", lambda shape, layers: _shapes(
        shape, layers, conv=lambda n, k, s, p: (n + p - k) // s + 1),
        "padding p is added on both sides of the image: the padded size is H + 2p"),
    Mistake("stride ignored", lambda shape, layers: _shapes(
        shape, layers, conv=lambda n, k, s, p: n + 2 * p - k + 1),
        "a stride-s conv keeps every s-th window: divide by s, ⌊(H + 2p − k)/s⌋ + 1"),
    Mistake("+1 forgotten", lambda shape, layers: _shapes(
        shape, layers, conv=lambda n, k, s, p: (n + 2 * p - k) // s),
        "the first window is there before any step: ⌊(H + 2p − k)/s⌋ + 1"),
    Mistake("pool rounded up", lambda shape, layers: _shapes(
        shape, layers, pool=lambda n, k: -(-n // k)),
        "a pool drops the rows and columns that do not fill a window: ⌊H/k⌋, with //"),
    Mistake("activations left out", lambda shape, layers: _shapes(
        shape, layers, activations=False),
        "every layer has an output shape, activations too (the same as their input): one "
        "tuple per layer of the list"),
    Mistake("batch flattened too", lambda shape, layers: _shapes(
        shape, layers, flatten=lambda shape: (math.prod(shape),)),
        "flatten keeps the batch axis: (N, C·H·W), and a linear layer then gives "
        "(N, out_features)"),
)

NETWORK_COST_MISTAKES = (
    Mistake("biases forgotten", lambda shape, layers: _cost(
        shape, layers, conv_params=lambda c_in, c_out, k: c_out * c_in * k * k,
        conv_macs=_conv_macs, linear_params=lambda f_in, f_out: f_in * f_out),
        "each conv and linear layer also has one bias per output channel or feature"),
    Mistake("MACs of one image", lambda shape, layers: _cost(
        shape, layers, conv_params=_conv_params,
        conv_macs=lambda before, after, k: math.prod(after[1:]) * before[1] * k * k,
        batch=False),
        "the MACs are for the whole batch: multiply by N (the parameters are shared)"),
    Mistake("MACs counted on the input size", lambda shape, layers: _cost(
        shape, layers, conv_params=_conv_params,
        conv_macs=lambda before, after, k: before[0] * after[1] * math.prod(before[1:]) * k * k),
        "a conv layer computes one dot product per output value: use its output's "
        "H_out × W_out, not the input's H × W"),
    Mistake("k instead of k²", lambda shape, layers: _cost(
        shape, layers, conv_params=lambda c_in, c_out, k: c_out * c_in * k + c_out,
        conv_macs=lambda before, after, k: math.prod(after) * before[1] * k),
        "a k × k kernel has k·k weights per input channel: count k², in the parameters and "
        "in the MACs"),
    Mistake("input channels left out", lambda shape, layers: _cost(
        shape, layers, conv_params=lambda c_in, c_out, k: c_out * k * k + c_out,
        conv_macs=lambda before, after, k: math.prod(after) * k * k),
        "each output channel of a conv reads every input channel: out·in·k² weights and "
        "in·k² MACs per output value"),
    Mistake("conv weights used once per image", lambda shape, layers: _cost(
        shape, layers, conv_params=_conv_params,
        conv_macs=lambda before, after, k: before[0] * after[1] * before[1] * k * k),
        "a conv's weights are used at every output position: its MACs are "
        "N·out·H_out·W_out·in·k², not N times its weights"),
)

LENET5_MISTAKES = (
    Mistake("max pooling instead of average",
            lambda x, params: _lenet5(x, params, pool=F.max_pool2d),
            "LeNet-5 subsamples with 2×2 average pooling: nn.AvgPool2d(2), not nn.MaxPool2d"),
    Mistake("ReLU instead of tanh",
            lambda x, params: _lenet5(x, params, act=torch.relu, dense_act=torch.relu),
            "LeNet-5's activations are tanh (nn.Tanh()), after each convolution and each "
            "hidden linear layer"),
    Mistake("tanh after the last layer",
            lambda x, params: _lenet5(x, params, last=torch.tanh),
            "the last linear layer gives the logits: no activation after it"),
    Mistake("classifier activations forgotten",
            lambda x, params: _lenet5(x, params, dense_act=lambda y: y),
            "put a tanh after each of the first two linear layers: without it the three "
            "collapse into one linear map"),
    Mistake("pooling before the activation",
            lambda x, params: _lenet5(x, params, pool_first=True),
            "each block is convolution, tanh, then average pooling, in that order"),
)


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


# --- backpropagation through a convolution (chapter 5) ----------------------------------------
# Shapes: x (C_in, H, W), w (C_out, C_in, k, k), grad_y (C_out, H_out, W_out), stride s, no
# padding. Every output y[o, i, j] reads the window x[:, s·i : s·i + k, s·j : s·j + k], so
#   ∂L/∂x[c, s·i + u, s·j + v] += Σ_o ∂L/∂y[o, i, j] · w[o, c, u, v]   (scatter: Cᵀ ∂L/∂y)
#   ∂L/∂w[o, c, u, v] = Σ_{i,j} ∂L/∂y[o, i, j] · x[c, s·i + u, s·j + v]

def ref_conv2d_backward(x: torch.Tensor, w: torch.Tensor, grad_y: torch.Tensor,
                        stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(∂L/∂x, ∂L/∂w) by PyTorch's autograd through ``F.conv2d``."""
    x, w = x.detach().clone().requires_grad_(), w.detach().clone().requires_grad_()
    with torch.enable_grad():
        y = F.conv2d(x[None], w, stride=stride)[0]
        grad_x, grad_w = torch.autograd.grad(y, (x, w), grad_y)
    return grad_x.detach(), grad_w.detach()


def _reach(w, g, s) -> tuple[int, int]:
    """How far the copies of the kernel reach in ∂L/∂x: (H_out − 1)·s + k (likewise W)."""
    k = w.shape[-1]
    return (g.shape[1] - 1) * s + k, (g.shape[2] - 1) * s + k


def _kernel_not_rotated(x, w, g, s):
    """Each output scatters the kernel turned by a half turn (a correlation's kernel,
    upright)."""
    return ref_conv2d_backward(x, w.flip(-2, -1), g, s)[0], ref_conv2d_backward(x, w, g, s)[1]


def _valid(x, w, g, s):
    """∂L/∂x as the *valid* correlation of the spread ∂L/∂y with the rotated kernel: the full
    one without its k − 1 border rows and columns."""
    grad_x, grad_w = ref_conv2d_backward(x, w, g, s)
    k, (rows, cols) = w.shape[-1], _reach(w, g, s)
    if rows - 2 * (k - 1) < 1 or cols - 2 * (k - 1) < 1:
        raise ValueError("nothing left")
    return grad_x[:, k - 1:rows - k + 1, k - 1:cols - k + 1], grad_w


def _stride_forgotten(x, w, g, s):
    """Windows one pixel apart: the stride-1 gradients of the input's top-left corner that
    H_out × W_out outputs read, in ∂L/∂x of the input's shape."""
    k = w.shape[-1]
    rows, cols = g.shape[1] + k - 1, g.shape[2] + k - 1
    grad_x, grad_w = ref_conv2d_backward(x[:, :rows, :cols].contiguous(), w, g, 1)
    return F.pad(grad_x, (0, x.shape[2] - cols, 0, x.shape[1] - rows)), grad_w


def _rows_dropped(x, w, g, s):
    grad_x, grad_w = ref_conv2d_backward(x, w, g, s)
    rows, cols = _reach(w, g, s)
    return grad_x[:, :rows, :cols], grad_w


def _weight_slip(change):
    def slip(x, w, g, s):
        grad_x, grad_w = ref_conv2d_backward(x, w, g, s)
        return grad_x, change(grad_w)
    return slip


CONV_BACKWARD_MISTAKES = (
    Mistake("kernel not rotated in ∂L/∂x",
            _kernel_not_rotated,
            "as a correlation, ∂L/∂x correlates the zero-padded ∂L/∂y with the kernel turned "
            "by a half turn; equivalently, each ∂L/∂y[o, i, j] adds ∂L/∂y[o, i, j]·w[o, c], "
            "upright, onto the window that output read"),
    Mistake("valid instead of full correlation in ∂L/∂x", _valid,
            "∂L/∂x has the input's size: pad ∂L/∂y with k − 1 zeros on each side before "
            "correlating (a full correlation), or scatter a copy of the kernel per output"),
    Mistake("∂L/∂w rotated",
            _weight_slip(lambda grad_w: grad_w.flip(-2, -1)),
            "∂L/∂w[o, c, u, v] pairs ∂L/∂y[o, i, j] with x[c, s·i + u, s·j + v]: a correlation "
            "of x with ∂L/∂y, tap (u, v) at offset (u, v), not rotated"),
    Mistake("∂L/∂w with its channel axes swapped",
            _weight_slip(lambda grad_w: grad_w.transpose(0, 1)),
            "∂L/∂w has the weight's layout (C_out, C_in, k, k): output channel first"),
    Mistake("stride forgotten", _stride_forgotten,
            "output (i, j) read the window that starts at (s·i, s·j): with a stride, the "
            "windows (and the copies of the kernel in ∂L/∂x) are s pixels apart"),
    Mistake("input rows the stride skipped dropped",
            _rows_dropped,
            "∂L/∂x has the input's shape (C_in, H, W): the last rows and columns that no "
            "window read get a zero gradient, they are not left out"),
)


def rand_conv_backward(rng: np.random.Generator):
    c_in, c_out = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    k, s = int(rng.integers(1, 5)), int(rng.integers(1, 4))
    h, w = int(rng.integers(k, k + 8)), int(rng.integers(k, k + 8))
    h_out, w_out = (h - k) // s + 1, (w - k) // s + 1
    return (rounded_normal(rng, (c_in, h, w)), rounded_normal(rng, (c_out, c_in, k, k)),
            rounded_normal(rng, (c_out, h_out, w_out)), s)


# --- conceptual questions: answers computed, not typed ------------------------------------------

def ref_q_params_at_56() -> int:
    """How many more parameters the 20-50-500 LeNet has for 56×56 inputs than for 28×28."""
    return (count_parameters(build((1, 1, 56, 56), LENET))
            - count_parameters(build((1, 1, 28, 28), LENET)))


def ref_q_conv1_weight_uses() -> int:
    """How many multiplications each weight of LeNet-5's first convolution takes part in for
    one 28×28 digit: the layer's MACs divided by its weights."""
    conv1 = LeNet5().features[0]
    row = layer_summary(nn.Sequential(conv1), (1, 1, 28, 28))[0]
    return row.macs // conv1.weight.numel()


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
            mistakes=FEATURE_SHAPE_MISTAKES,
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
            mistakes=NETWORK_COST_MISTAKES,
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
            mistakes=LENET5_MISTAKES,
            hint="conv 1→6 (5×5, padding 2), tanh, 2×2 average pool, conv 6→16 (5×5), tanh, "
                 "2×2 average pool, flatten (400), linear 120, tanh, linear 84, tanh, "
                 "linear 10 — in that order, each layer with its bias",
        ),
        Question.function(
            "conv2d_backward", points=3, reference=ref_conv2d_backward,
            args=("x", "w", "grad_y", "stride"),
            fixed=(
                Case((m([1, 2, 3], [4, 5, 6], [7, 8, 9])[None], m([1, 0], [0, -1])[None, None],
                      m([1, 0], [0, 0])[None], 1),
                     (m([1, 0, 0], [0, -1, 0], [0, 0, 0])[None], m([1, 2], [4, 5])[None, None]),
                     "one output's gradient: ∂L/∂x is the kernel, upright, on the window it "
                     "read; ∂L/∂w is that window"),
                Case((m([1, 2, 3], [4, 5, 6], [7, 8, 9])[None], m([1, 0], [0, -1])[None, None],
                      m([1, 1], [1, 1])[None], 1),
                     (m([1, 1, 0], [1, 0, -1], [0, -1, -1])[None],
                      m([12, 16], [24, 28])[None, None]),
                     "every output's gradient 1: the copies of the kernel add up; ∂L/∂w sums "
                     "the four windows"),
                Case((torch.arange(25.0).view(1, 5, 5), m([1, -1], [0, 2])[None, None],
                      m([1, 2], [3, 4])[None], 2),
                     (m([1, -1, 2, -2, 0], [0, 2, 0, 4, 0], [3, -3, 4, -4, 0],
                        [0, 6, 0, 8, 0], [0, 0, 0, 0, 0])[None],
                      m([82, 92], [132, 142])[None, None]),
                     "stride 2: copies 2 pixels apart; the last row and column, read by no "
                     "window, get 0"),
                Case((torch.tensor([[[1.0, 2.0]], [[3.0, 4.0]]]),
                      m([1, 2], [3, 4]).view(2, 2, 1, 1),
                      torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]]]), 1),
                     (torch.tensor([[[1.0, 3.0]], [[2.0, 4.0]]]),
                      m([1, 3], [2, 4]).view(2, 2, 1, 1)),
                     "1×1 kernels, 2 channels: ∂L/∂x = Wᵀ ∂L/∂y at each pixel"),
            ),
            random_case=rand_conv_backward, n_public=6, n_hidden=24,
            from_scratch=CONVOLUTION.union(AUTOGRAD),
            mistakes=CONV_BACKWARD_MISTAKES,
            hint="each output y[o, i, j] read x[:, s·i : s·i + k, s·j : s·j + k]: add "
                 "∂L/∂y[o, i, j]·w[o] onto that window of ∂L/∂x (zeros of the input's shape "
                 "to start), and ∂L/∂y[o, i, j] times that window onto ∂L/∂w[o]",
        ),
        Question.value(
            "q_params_at_56", points=1, reference=ref_q_params_at_56,
            hint="the convolutions' weights do not depend on the image size, but flatten "
                 "hands the first linear layer C·H·W values: follow the feature map's size "
                 "down to the flatten, for both inputs",
        ),
        Question.value(
            "q_conv1_weight_uses", points=1, reference=ref_q_conv1_weight_uses,
            hint="a convolution uses each of its weights once at every output position: count "
                 "the positions of conv 1's output (mind its padding)",
        ),
        Question.function(  # the training question: see cnnlib.grading.training_data
            "train_lenet5", points=3, reference=training.ref_train_lenet5,
            args=("images", "labels"), random_case=training.training_case, n_public=1,
            from_scratch=TRAINING, judge=training.judge_training,
            check_judge=training.check_training, timeout=training.TIMEOUT,
            hint="build LeNet5(), then for a few epochs: shuffle, and for each batch of "
                 "images.float() / 255 with its labels: optimizer.zero_grad(), "
                 "loss = F.cross_entropy(model(x), y), loss.backward(), optimizer.step(); "
                 "return model.state_dict()",
        ),
    ),
)
