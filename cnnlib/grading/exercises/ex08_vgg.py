"""Exercise 08 — VGG: the graded questions of ``exercises/08_vgg.ipynb``.

A VGG is described, as in Simonyan & Zisserman's table and in ``cnnlib.models``, by a
configuration list: an int ``c`` is a 3×3 convolution (padding 1, with a bias) to ``c`` channels
followed by a ReLU, ``"M"`` a 2×2 max pool of stride 2. Every expected answer is read off the
real network: ``cnnlib.models.vgg_layers`` / ``VGG`` (which reproduce torchvision's VGGs), counted
by :mod:`cnnlib.counting`, and :func:`cnnlib.receptive_field`. The fixed cases' hand-written
answers are tested against those references in ``tests/test_grading_questions.py`` and
``tests/test_grading_ex08_vgg.py``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib.counting import count_parameters, layer_summary
from cnnlib.models import VGG, VGG_CONFIGS, vgg_layers
from cnnlib.receptive_field import Layer, receptive_field

from ..cases import m, random_parameters, rounded_normal
from ..forbidden import MODELS, SHAPES, STACK
from ..mistakes import Mistake, SlipRaises
from ..question import Case, Exercise, Question

__all__ = ["EXERCISE"]


def image(matrix: torch.Tensor) -> torch.Tensor:
    """A (1, 1, H, W) batch holding one single-channel image."""
    return matrix[None, None]


IDENTITY = m([0, 0, 0], [0, 1, 0], [0, 0, 0])  # a 3×3 kernel that copies its input
BOX = torch.ones(3, 3)


# --- references -------------------------------------------------------------------------------

def ref_stack_versus_single(n: int, k: int, c: int) -> tuple[int, int, int]:
    r = receptive_field([Layer(kernel_size=(k, k))] * n).final.size[0]
    with torch.device("meta"):
        stack = nn.Sequential(*[nn.Conv2d(c, c, k, bias=False) for _ in range(n)])
        single = nn.Conv2d(c, c, r, bias=False)
    return int(r), count_parameters(stack), count_parameters(single)


def ref_vgg_features(x: torch.Tensor, config, params: list[torch.Tensor]) -> torch.Tensor:
    layers = vgg_layers(config, in_channels=x.shape[1])
    with torch.no_grad():
        for p, value in zip(layers.parameters(), params, strict=True):
            p.copy_(value)
        return layers(x)


def ref_vgg_parameters(config, in_channels: int, num_classes: int) -> tuple[int, int]:
    with torch.device("meta"):
        model = VGG(config, num_classes=num_classes, in_channels=in_channels)
    return count_parameters(model.features), count_parameters(model.classifier)


def ref_vgg_layer_costs(config, in_channels: int, size: int) -> list[tuple[int, int]]:
    summary = layer_summary(vgg_layers(config, in_channels), (1, in_channels, size, size))
    return [(row.macs, math.prod(row.output_shape)) for row in summary if row.type == "Conv2d"]


# --- known mistakes: what an answer with each slip returns -------------------------------------

def _features(x, config, params, *, relu=True, padding=1, pool=F.max_pool2d, relu_first=False,
              fixed_channels=False):
    """The VGG features written out, with the choices a slip changes. A slip that builds
    layers whose sizes do not fit (a weight of another shape than the check's, an image too
    small for a window) raises there, as the answer's model does."""
    y, weights = x, iter(params)
    with torch.no_grad():
        for entry in config:
            if entry == "M":
                if min(y.shape[-2:]) < 2:
                    raise SlipRaises
                y = pool(y, 2, 2)
                continue
            w, b = next(weights), next(weights)
            if fixed_channels and w.shape[1] != x.shape[1]:
                raise SlipRaises  # the layer reads in_channels, the check's weight does not
            if min(y.shape[-2:]) + 2 * padding < 3:
                raise SlipRaises
            if relu_first:
                y = F.relu(y)
            y = F.conv2d(y, w, b, padding=padding)
            if relu and not relu_first:
                y = F.relu(y)
    return y


def _vgg_counts(config, in_channels, num_classes, *, bias=True, taps=9, spatial=49,
                update=True, hidden=2):
    """(features, classifier) parameters counted by hand, with the choices a slip changes."""
    features, channels = 0, in_channels
    for entry in config:
        if entry != "M":
            features += channels * entry * taps + (entry if bias else 0)
            channels = entry if update else channels
    sizes = [channels * spatial] + [4096] * hidden + [num_classes]
    classifier = sum(a * b + (b if bias else 0) for a, b in itertools.pairwise(sizes))
    return features, classifier


def _layer_costs(config, in_channels, size, *, halve=lambda n: n // 2, taps=9, update=True,
                 reads_channels=True, channels_out=True):
    costs, channels, side = [], in_channels, size
    for entry in config:
        if entry == "M":
            side = halve(side)
        else:
            macs = side * side * entry * (channels if reads_channels else 1) * taps
            costs.append((macs, (entry if channels_out else 1) * side * side))
            channels = entry if update else channels
    return costs


STACK_MISTAKES = (
    Mistake("receptive field n·k", lambda n, k, c: (n * k, n * c * c * k * k, c * c * (n * k) ** 2),
            "stacked windows overlap: each layer adds k − 1 pixels, r = 1 + n·(k − 1)"),
    Mistake("started from 0",
            lambda n, k, c: (n * (k - 1), n * c * c * k * k, c * c * (n * (k - 1)) ** 2),
            "before any layer a pixel sees itself: start from 1, r = 1 + n·(k − 1)"),
    Mistake("receptive fields multiplied",
            lambda n, k, c: (k ** n, n * c * c * k * k, c * c * k ** (2 * n)),
            "with stride 1 the receptive fields add up, they do not multiply: each layer adds "
            "k − 1 pixels"),
    Mistake("channels counted once", lambda n, k, c: (
        1 + n * (k - 1), n * c * k * k, c * (1 + n * (k - 1)) ** 2),
        "each of the c output channels reads all c input channels: c·c·k·k weights a layer"),
    Mistake("one layer of the stack counted", lambda n, k, c: (
        1 + n * (k - 1), c * c * k * k, c * c * (1 + n * (k - 1)) ** 2),
        "the stack has n layers of c·c·k·k weights each: multiply by n"),
    Mistake("biases counted", lambda n, k, c: (
        1 + n * (k - 1), n * (c * c * k * k + c), c * c * (1 + n * (k - 1)) ** 2 + c),
        "the layers here have no bias: count only the weights, c·c·k·k a layer"),
)

VGG_FEATURES_MISTAKES = (
    Mistake("ReLU forgotten", lambda x, config, params: _features(x, config, params,
                                                                 relu=False),
            "each convolution is followed by nn.ReLU()"),
    Mistake("padding forgotten", lambda x, config, params: _features(x, config, params,
                                                                    padding=0),
            "VGG's 3×3 convolutions keep the size: nn.Conv2d(…, kernel_size=3, padding=1)"),
    Mistake("average pooling instead of max",
            lambda x, config, params: _features(x, config, params, pool=F.avg_pool2d),
            "each 'M' is a 2×2 max pool of stride 2: nn.MaxPool2d(2, 2), not nn.AvgPool2d"),
    Mistake("ReLU before the convolution",
            lambda x, config, params: _features(x, config, params, relu_first=True),
            "the ReLU comes after each convolution: nn.Conv2d(…), then nn.ReLU()"),
    Mistake("channels not updated",
            lambda x, config, params: _features(x, config, params, fixed_channels=True),
            "after a convolution to c channels the next one reads c channels: set "
            "channels = c in the loop"),
)

VGG_PARAMETER_MISTAKES = (
    Mistake("biases forgotten", lambda config, c, n: _vgg_counts(config, c, n, bias=False),
            "every convolution and every linear layer also has one bias per output"),
    Mistake("7 × 7 forgotten", lambda config, c, n: _vgg_counts(config, c, n, spatial=1),
            "the classifier reads the last feature map flattened: c_last·7·7 inputs"),
    Mistake("channels not updated", lambda config, c, n: _vgg_counts(config, c, n,
                                                                     update=False),
            "after a convolution to c channels the next one reads c channels: update "
            "channels in the loop"),
    Mistake("3 instead of 3 × 3", lambda config, c, n: _vgg_counts(config, c, n, taps=3),
            "a 3×3 kernel has nine weights per input channel: c_in·c_out·3·3"),
    Mistake("a hidden dense layer forgotten",
            lambda config, c, n: _vgg_counts(config, c, n, hidden=1),
            "the classifier has three linear layers: c_last·7·7 to the hidden width, hidden "
            "to hidden, hidden to num_classes"),
)

LAYER_COST_MISTAKES = (
    Mistake("pooling ignored", lambda config, c, size: _layer_costs(
        config, c, size, halve=lambda n: n),
        "each 'M' halves the height and the width: side //= 2"),
    Mistake("pool rounded up", lambda config, c, size: _layer_costs(
        config, c, size, halve=lambda n: (n + 1) // 2),
        "a 2×2 pool drops an odd last row and column: side // 2, rounded down"),
    Mistake("channels not updated", lambda config, c, size: _layer_costs(
        config, c, size, update=False),
        "after a convolution to c channels the next one reads c channels: update "
        "channels in the loop"),
    Mistake("3 instead of 3 × 3", lambda config, c, size: _layer_costs(config, c, size, taps=3),
            "a 3×3 kernel makes nine multiply-accumulates per input channel: ·9, not ·3"),
    Mistake("input channels left out of the MACs", lambda config, c, size: _layer_costs(
        config, c, size, reads_channels=False),
        "each output value sums over all c_in input channels: H·W·c_out·c_in·9 MACs"),
    Mistake("output channels left out of the values", lambda config, c, size: _layer_costs(
        config, c, size, channels_out=False),
        "a convolution outputs one H × W map per output channel: c_out·H·W values"),
)


# --- random cases -----------------------------------------------------------------------------

def rand_stack(rng: np.random.Generator):
    return int(rng.integers(1, 7)), int(rng.integers(1, 8)), int(rng.integers(1, 513))


def _vgg_config(rng: np.random.Generator, blocks: int, widths) -> list:
    """``blocks`` VGG blocks: 1–3 convolutions of one width, then (usually) a 2×2 pool."""
    config: list = []
    for _ in range(blocks):
        width = int(widths[int(rng.integers(0, len(widths)))])
        config += [width] * int(rng.integers(1, 4))
        if rng.random() < 0.85:
            config.append("M")
    return config


def rand_vgg_features(rng: np.random.Generator):
    config = _vgg_config(rng, int(rng.integers(1, 3)), range(1, 7))
    pools = config.count("M")
    c = int(rng.integers(1, 4))
    n = int(rng.integers(1, 3))
    h, w = (int(rng.integers(2**pools, 11)) for _ in range(2))
    x = rounded_normal(rng, (n, c, h, w))
    return x, config, random_parameters(rng, vgg_layers(config, in_channels=c))


def rand_vgg_parameters(rng: np.random.Generator):
    config = _vgg_config(rng, int(rng.integers(1, 6)), (8, 16, 32, 64, 128, 256, 512))
    return config, int(rng.integers(1, 5)), int(rng.integers(2, 1001))


def rand_vgg_layer_costs(rng: np.random.Generator):
    config = _vgg_config(rng, int(rng.integers(1, 5)), (4, 8, 16, 32, 64, 128))
    return config, int(rng.integers(1, 5)), int(rng.integers(2 ** config.count("M"), 97))


# --- conceptual questions: answers computed, not typed ------------------------------------------

def ref_q_vgg11_receptive_field() -> int:
    """The receptive field (pixels across) of a unit of VGG-11's last pooling layer, from the
    geometry of ``vgg_layers``' real layers."""
    return int(receptive_field(vgg_layers(VGG_CONFIGS["vgg11"])).final.size[0])


def ref_q_vgg11_gap_params() -> int:
    """Parameters of VGG-11 (3 input channels, 1000 classes) with the global-average-pooling
    head (a 1×1 convolution to the classes, then global average pooling)."""
    with torch.device("meta"):
        return count_parameters(VGG(VGG_CONFIGS["vgg11"], num_classes=1000, head="gap"))


# --- the questions ----------------------------------------------------------------------------

TENT = torch.outer(torch.tensor([1.0, 2, 3, 2, 1]), torch.tensor([1.0, 2, 3, 2, 1]))
IMPULSE = torch.zeros(5, 5)
IMPULSE[2, 2] = 1

EXERCISE = Exercise(
    name="08_vgg",
    title="VGG",
    questions=(
        Question.function(
            "stack_versus_single", points=2, reference=ref_stack_versus_single,
            args=("n", "k", "c"),
            fixed=(
                Case((2, 3, 1), (5, 18, 25), "two 3×3 layers see 5×5 pixels"),
                Case((3, 3, 64), (7, 110_592, 200_704),
                     "VGG's argument: 27·C² weights instead of 49·C²"),
                Case((1, 5, 3), (5, 225, 225), "one layer is its own single layer"),
                Case((5, 3, 2), (11, 180, 484), "five 3×3 layers see 11×11 pixels"),
                Case((4, 1, 8), (1, 256, 64), "1×1 layers see one pixel"),
            ),
            random_case=rand_stack, n_public=6, n_hidden=24, from_scratch=STACK,
            mistakes=STACK_MISTAKES,
            hint="each stride-1 k×k layer adds k − 1 pixels to the receptive field, starting "
                 "from 1; a k×k layer from c to c channels without bias has c·c·k·k weights",
        ),
        Question.function(
            "vgg_features", points=3, reference=ref_vgg_features,
            args=("x", "config", "params"),
            fixed=(
                Case((image(torch.ones(3, 3)), [1], [BOX[None, None], torch.tensor([-5.0])]),
                     image(m([0, 1, 0], [1, 4, 1], [0, 1, 0])),
                     "a box filter with bias −5 on ones: zero padding leaves 4, 6 or 9 "
                     "ones in a window, and the ReLU turns 4 − 5 into 0"),
                Case((image(torch.arange(25.0).view(5, 5) - 12), [1, "M"],
                      [IDENTITY[None, None], torch.zeros(1)]),
                     image(m([0, 0], [4, 6])),
                     "identity filter, ReLU, 2×2 max pool: the 5th row and column are dropped"),
                Case((image(m([1, -2], [-3, 4])), [2],
                      [torch.stack([IDENTITY, -IDENTITY])[:, None], torch.zeros(2)]),
                     torch.stack([m([1, 0], [0, 4]), m([0, 2], [3, 0])])[None],
                     "two filters, x and −x: the ReLU keeps each one's positive part"),
                Case((image(IMPULSE), [1, 1], [BOX[None, None], torch.zeros(1),
                                               BOX[None, None], torch.zeros(1)]),
                     image(TENT), "two stacked 3×3 box filters spread one pixel over 5×5"),
            ),
            random_case=rand_vgg_features, n_public=3, n_hidden=12, from_scratch=MODELS,
            mistakes=VGG_FEATURES_MISTAKES,
            hint="for each int c: nn.Conv2d(channels, c, kernel_size=3, padding=1) then "
                 "nn.ReLU(), and channels = c; for each 'M': nn.MaxPool2d(2, 2)",
        ),
        Question.function(
            "vgg_parameters", points=2, reference=ref_vgg_parameters,
            args=("config", "in_channels", "num_classes"),
            fixed=(
                Case((VGG_CONFIGS["vgg16"], 3, 1000), (14_714_688, 123_642_856),
                     "VGG-16: 138,357,544 parameters, 89% of them dense"),
                Case((VGG_CONFIGS["vgg11"], 3, 1000), (9_220_480, 123_642_856),
                     "VGG-11: the same classifier"),
                Case(([64, "M"], 1, 10), (640, 29_671_434),
                     "one block: 64·7·7 = 3,136 inputs to the first dense layer"),
                Case((VGG_CONFIGS["vgg16"], 1, 10), (14_713_536, 119_586_826),
                     "gray images, ten classes"),
            ),
            random_case=rand_vgg_parameters, n_public=6, n_hidden=24, from_scratch=SHAPES,
            mistakes=VGG_PARAMETER_MISTAKES,
            hint="each conv: c_in·c_out·9 weights + c_out biases; the classifier: "
                 "Linear(c_last·7·7, 4096), Linear(4096, 4096), Linear(4096, num_classes), "
                 "each with its biases",
        ),
        Question.function(
            "vgg_layer_costs", points=2, reference=ref_vgg_layer_costs,
            args=("config", "in_channels", "size"),
            fixed=(
                Case(([64, 64, "M", 128, 128], 3, 224),
                     [(86_704_128, 3_211_264), (1_849_688_064, 3_211_264),
                      (924_844_032, 1_605_632), (1_849_688_064, 1_605_632)],
                     "VGG-16's first two blocks on a 224 × 224 image"),
                Case(([2, "M", 4], 1, 4), [(288, 32), (288, 16)], "4·4·2·1·9 and 2·2·4·2·9"),
                Case(([1, "M", 1], 1, 5), [(225, 25), (36, 4)], "pooling 5 × 5 gives 2 × 2"),
                Case(([8, "M", "M", 16], 3, 32), [(221_184, 8192), (73_728, 1024)],
                     "two pools: 32 → 16 → 8"),
            ),
            random_case=rand_vgg_layer_costs, n_public=6, n_hidden=24, from_scratch=SHAPES,
            mistakes=LAYER_COST_MISTAKES,
            hint="a 3×3 conv with padding 1 keeps H × W: H·W·c_out·c_in·9 MACs and "
                 "c_out·H·W output values; each 'M' halves H and W (rounding down)",
        ),
        Question.value(
            "q_vgg11_receptive_field", points=1, reference=ref_q_vgg11_receptive_field,
            hint="r grows by (k − 1)·j at each layer, j being the product of the strides "
                 "before it: every 3×3 conv adds 2·j, every 2×2 pool adds j and then doubles j",
        ),
        Question.value(
            "q_vgg11_gap_params", points=1, reference=ref_q_vgg11_gap_params,
            hint="the convolutional part keeps its parameters (c_in·c_out·9 + c_out per "
                 "layer); the new head is one 1×1 convolution from the last 512 channels to "
                 "the classes, with a bias per class, and pooling has no parameters",
        ),
    ),
)
