"""The networks of chapters 7 and 8: two LeNets, an MLP baseline, a VGG builder, and the
rewriting of dense layers as convolutions.

Every model keeps its convolutional part in ``model.features`` (an ``nn.Sequential`` from
``(N, C, H, W)`` to feature maps) and its dense part in ``model.classifier``, as torchvision
does, so :func:`cnnlib.receptive_field` reads ``model.features``, :func:`activations` picks
any layer by its name (``"features.0"``), and :func:`cnnlib.layer_summary` counts them all.

- :class:`LeNet` — the 20-50-500 LeNet: conv 20@5×5 → max pool → conv 50@5×5 → max pool →
  fc 500 → fc 10, on 28×28 digits (431,080 parameters).
- :class:`LeNet5` — the classic LeNet-5 of LeCun et al. (1998): 6@5×5 → pool → 16@5×5 →
  pool → fc 120 → fc 84 → fc 10 (61,706 parameters with full connections).
- :class:`MLP` — a multilayer perceptron on the flattened image, the baseline.
- :class:`VGG`, :func:`vgg_layers` and :func:`vgg` — VGG from a configuration list: an int
  ``c`` is a 3×3 convolution (padding 1) to ``c`` channels followed by a ReLU, ``"M"`` a 2×2
  max pool of stride 2. ``VGG_CONFIGS`` holds VGG-11/13/16/19 (configurations A, B, D, E of
  Simonyan & Zisserman, 2015) and ``SMALL_VGG`` a small VGG for 28×28 digits
  (:func:`small_vgg`). The layers,
  their order, their names and their initialisation are those of ``torchvision.models.vgg``,
  so a torchvision ``state_dict`` loads into ours unchanged. ``head="gap"`` replaces the
  dense classifier by the global-average-pooling head of Network in Network (Lin, Chen &
  Yan, 2014): a 1×1 convolution to the classes, then the mean of each map.
- :func:`linear_to_conv` and :func:`fully_convolutional` — a dense layer on ``C×H×W`` feature
  maps is a convolution with ``H×W`` kernels; a network rewritten so runs on larger images and
  returns a map of class scores.

:func:`activations` records what chosen layers output for an input (feature maps).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable, Sequence

import torch
from torch import nn
from torch.func import functional_call

from ._validate import (
    _is_int,
    check_bool,
    check_choice,
    check_module,
    check_non_negative_int,
    check_positive_int,
    check_shape,
    check_tensor,
)

__all__ = [
    "MLP",
    "SMALL_VGG",
    "VGG",
    "VGG_CONFIGS",
    "VGG_HEADS",
    "LeNet",
    "LeNet5",
    "activations",
    "fully_convolutional",
    "linear_to_conv",
    "small_vgg",
    "vgg",
    "vgg_layers",
]


class LeNet(nn.Module):
    """The 20-50-500 LeNet (20 and 50 filters, 500 hidden units), for 28×28 digits.

    ``features``: ``Conv2d(1, 20, 5)`` → ReLU → ``MaxPool2d(2)`` → ``Conv2d(20, 50, 5)`` →
    ReLU → ``MaxPool2d(2)``; spatial size 28 → 24 → 12 → 8 → 4.
    ``classifier``: flatten (50·4·4 = 800 values) → ``Linear(800, 500)`` → ReLU →
    ``Linear(500, num_classes)``.

    Shapes: ``(N, in_channels, 28, 28) → (N, num_classes)`` (logits, no softmax: the loss
    ``F.cross_entropy`` applies it).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1):
        super().__init__()
        check_positive_int("num_classes", num_classes)
        check_positive_int("in_channels", in_channels)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 20, kernel_size=5),  # 28 → 24
            nn.ReLU(),
            nn.MaxPool2d(2),                            # 24 → 12
            nn.Conv2d(20, 50, kernel_size=5),           # 12 → 8
            nn.ReLU(),
            nn.MaxPool2d(2),                            # 8 → 4
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(50 * 4 * 4, 500),
            nn.ReLU(),
            nn.Linear(500, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


_ACTIVATION = {"tanh": nn.Tanh, "relu": nn.ReLU}
_POOL = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}


class LeNet5(nn.Module):
    """LeNet-5 (LeCun, Bottou, Bengio & Haffner, 1998) in today's usual form.

    ``features``: ``Conv2d(in_channels, 6, 5, padding=padding)`` → act → pool 2×2 →
    ``Conv2d(6, 16, 5)`` → act → pool 2×2; ``classifier``: flatten (16·5·5 = 400) →
    ``Linear(400, 120)`` → act → ``Linear(120, 84)`` → act → ``Linear(84, num_classes)``.

    The paper's input is 32×32 (a 28×28 digit framed by 2 blank pixels); ``padding=2`` (the
    default) gives 28×28 inputs the same geometry, ``padding=0`` expects 32×32. The paper
    used tanh-like squashing and average ("subsampling") pools: ``activation="tanh"`` and
    ``pool="avg"`` are the defaults, ``"relu"`` and ``"max"`` the modern choice. Two details
    of the paper are simplified, as in most re-implementations: its C3 layer connected each
    of the 16 maps to a subset of the 6 inputs (we connect all), and its subsampling layers
    had a trainable scale and bias (ours have none). Hence 61,706 parameters.

    Shapes: ``(N, in_channels, 28, 28) → (N, num_classes)`` (32×32 with ``padding=0``).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, padding: int = 2,
                 activation: str = "tanh", pool: str = "avg"):
        super().__init__()
        check_positive_int("num_classes", num_classes)
        check_positive_int("in_channels", in_channels)
        check_non_negative_int("padding", padding, type_error=ValueError)
        check_choice("activation", activation, sorted(_ACTIVATION))
        check_choice("pool", pool, sorted(_POOL))
        act, pool_cls = _ACTIVATION[activation], _POOL[pool]
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=padding),  # 28 (+2+2) → 28
            act(),
            pool_cls(2),                                                # 28 → 14
            nn.Conv2d(6, 16, kernel_size=5),                            # 14 → 10
            act(),
            pool_cls(2),                                                # 10 → 5
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),
            act(),
            nn.Linear(120, 84),
            act(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class MLP(nn.Module):
    """A multilayer perceptron on the flattened image: the baseline that ignores structure.

    ``classifier``: flatten → ``Linear(in_features, hidden[0])`` → ReLU → … →
    ``Linear(hidden[-1], num_classes)``. ``features`` is empty (an identity), so code that
    reads ``model.features`` works for every model of this module.

    Shapes: ``(N, *) → (N, num_classes)`` where the trailing dimensions hold
    ``in_features`` values (``(N, 1, 28, 28)`` for ``in_features=784``).
    """

    def __init__(self, in_features: int = 784, hidden: Sequence[int] = (800, 800),
                 num_classes: int = 10):
        super().__init__()
        check_positive_int("in_features", in_features)
        check_positive_int("num_classes", num_classes)
        if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
            raise TypeError(f"hidden must be a sequence of positive ints (layer widths), got "
                            f"{hidden!r}")
        for i, width in enumerate(hidden):
            check_positive_int(f"hidden[{i}]", width)
        self.features = nn.Sequential()
        layers: list[nn.Module] = [nn.Flatten()]
        widths = [in_features, *hidden]
        for a, b in itertools.pairwise(widths):
            layers += [nn.Linear(a, b), nn.ReLU()]
        layers.append(nn.Linear(widths[-1], num_classes))
        self.classifier = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


# ----------------------------------------------------------------------------------- VGG

#: VGG configurations of Simonyan & Zisserman (2015), table 1: A (11 weight layers),
#: B (13), D (16), E (19). An int is a 3×3 conv to that many channels, "M" a 2×2 max pool.
VGG_CONFIGS: dict[str, list[int | str]] = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
              512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
}

#: A small VGG for 28×28 digits: two blocks of two 3×3 convs (28 → 14 → 7), 16 then 32
#: channels (see :func:`small_vgg`).
SMALL_VGG: list[int | str] = [16, 16, "M", 32, 32, "M"]


def _check_config(config) -> list[int | str]:
    if isinstance(config, (str, bytes)) or not isinstance(config, Iterable):
        raise TypeError(
            "config must be a list of ints (3×3 conv output channels) and 'M' (2×2 max pool), "
            f"e.g. [64, 'M', 128, 'M'], got {config!r}"
        )
    config = list(config)
    if not config:
        raise ValueError("config must hold at least one entry, got an empty list")
    for i, entry in enumerate(config):
        if entry == "M" and isinstance(entry, str):
            continue
        if not _is_int(entry) or entry < 1:
            raise ValueError(
                f"config[{i}] must be a positive int (the channels of a 3×3 conv) or 'M' (a "
                f"2×2 max pool), got {entry!r}"
            )
    if not any(_is_int(entry) for entry in config):
        raise ValueError(f"config must hold at least one convolution (an int), got {config!r}")
    return config


def vgg_layers(config: Sequence[int | str], in_channels: int = 3,
               batch_norm: bool = False) -> nn.Sequential:
    """The convolutional part of a VGG, built from a configuration list.

    Each int ``c`` adds ``Conv2d(C, c, kernel_size=3, padding=1)`` (size kept), then
    ``BatchNorm2d(c)`` when ``batch_norm``, then ``ReLU(inplace=True)``; each ``"M"`` adds
    ``MaxPool2d(kernel_size=2, stride=2)`` (size halved, rounded down).

    Shapes: ``(N, in_channels, H, W) → (N, c_last, H / 2^m, W / 2^m)`` for ``m`` pools.
    Bad entries raise a ``ValueError`` that names the entry, e.g. ``config[2]``.
    """
    config = _check_config(config)
    check_positive_int("in_channels", in_channels)
    check_bool("batch_norm", batch_norm)
    layers: list[nn.Module] = []
    channels = in_channels
    for entry in config:
        if entry == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(channels, entry, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(entry))
        layers.append(nn.ReLU(inplace=True))
        channels = entry
    return nn.Sequential(*layers)


#: The classifier heads :class:`VGG` can end in.
VGG_HEADS = ("dense", "gap")


class VGG(nn.Module):
    """A VGG network: :func:`vgg_layers` → optional adaptive average pool → classifier.

    Args:
        config: the list of :func:`vgg_layers` (ints and ``"M"``), e.g. ``VGG_CONFIGS["vgg16"]``.
        num_classes: outputs of the last linear layer (1000 for ImageNet).
        in_channels: input channels (3 for RGB, 1 for MNIST).
        batch_norm: a ``BatchNorm2d`` after each convolution (torchvision's ``vgg16_bn``).
        pool_size: ``avgpool = AdaptiveAvgPool2d(pool_size)`` between features and
            classifier (7 for ImageNet VGGs, so any input size ≥ 32 works); ``None`` for no
            pooling: the classifier then takes the flattened feature maps of ``input_size``.
        hidden: widths of the hidden dense layers (``(4096, 4096)`` for ImageNet).
        dropout: dropout probability after each hidden layer (no ``Dropout`` module if 0).
        input_size: the input's height = width, used only when ``pool_size`` is ``None``.
        head: ``"dense"`` (the paper's and torchvision's) or ``"gap"`` (global average
            pooling, as in Network in Network).

    With ``head="dense"``, ``classifier`` = ``Linear(c·s·s, hidden[0])``, ReLU, Dropout, …,
    ``Linear(hidden[-1], num_classes)`` on the flattened ``(N, c, s, s)`` maps; with the
    defaults its layers and names are exactly torchvision's (``classifier.0``, ``.3``,
    ``.6``). With ``head="gap"``, ``avgpool`` is the identity and ``classifier`` =
    ``Conv2d(c, num_classes, 1)`` → ``AdaptiveAvgPool2d(1)`` → ``Flatten()``: score
    ``k`` is the mean over all positions of the ``k``-th output map,
    ``(1/(h·w)) Σ_{i,j} (b_k + Σ_c w[k, c] x[c, i, j])``, for any input size; ``pool_size``,
    ``hidden``, ``dropout`` and ``input_size`` are then unused.

    Weights are initialised as torchvision does: convolutions He-normal (fan-out, ReLU
    gain), linear layers ``N(0, 0.01²)``, biases 0, batch norm weight 1.

    Shapes: ``(N, in_channels, H, W) → (N, num_classes)``.
    """

    def __init__(self, config: Sequence[int | str], num_classes: int = 1000,
                 in_channels: int = 3, batch_norm: bool = False, pool_size: int | None = 7,
                 hidden: Sequence[int] = (4096, 4096), dropout: float = 0.5,
                 input_size: int = 224, head: str = "dense"):
        super().__init__()
        self.features = vgg_layers(config, in_channels, batch_norm)
        check_positive_int("num_classes", num_classes)
        check_choice("head", head, VGG_HEADS)
        self.head = head
        channels = [e for e in config if e != "M"][-1]
        if head == "gap":
            self.avgpool = nn.Identity()
            self.classifier = nn.Sequential(nn.Conv2d(channels, num_classes, kernel_size=1),
                                            nn.AdaptiveAvgPool2d(1), nn.Flatten())
            self._init_weights()
            return
        if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
            raise TypeError(f"hidden must be a sequence of positive ints, got {hidden!r}")
        for i, width in enumerate(hidden):
            check_positive_int(f"hidden[{i}]", width)
        if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
        if pool_size is None:
            check_positive_int("input_size", input_size)
            side = input_size // 2 ** sum(1 for e in config if e == "M")
            if side < 1:
                raise ValueError(f"input_size {input_size} is too small for "
                                 f"{sum(1 for e in config if e == 'M')} max pools")
            self.avgpool = nn.Identity()
        else:
            side = check_positive_int("pool_size", pool_size)
            self.avgpool = nn.AdaptiveAvgPool2d((side, side))
        layers: list[nn.Module] = []
        widths = [channels * side * side, *hidden]
        for a, b in itertools.pairwise(widths):
            layers += [nn.Linear(a, b), nn.ReLU(inplace=True)]
            if dropout > 0:
                layers.append(nn.Dropout(p=dropout))
        layers.append(nn.Linear(widths[-1], num_classes))
        self.classifier = nn.Sequential(*layers)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        if self.head == "dense":
            x = torch.flatten(x, 1)
        return self.classifier(x)


def vgg(name: str, **kwargs) -> VGG:
    """``VGG(VGG_CONFIGS[name], **kwargs)``: ``"vgg11"``, ``"vgg13"``, ``"vgg16"``, ``"vgg19"``.

    With no keyword arguments it has the structure (and parameter count) of
    ``torchvision.models.<name>(weights=None)``; ``batch_norm=True`` that of ``<name>_bn``.
    To avoid allocating the 0.5 GB of VGG-16, build it on the meta device:
    ``with torch.device("meta"): model = vgg("vgg16")``.
    """
    check_choice("name", name, sorted(VGG_CONFIGS))
    return VGG(VGG_CONFIGS[name], **kwargs)


def small_vgg(num_classes: int = 10, in_channels: int = 1, batch_norm: bool = True,
              hidden: Sequence[int] = (128,), config: Sequence[int | str] = SMALL_VGG,
              input_size: int = 28) -> VGG:
    """The small VGG of chapter 8 for 28×28 digits.

    ``VGG(config, …, pool_size=None, dropout=0)``: :data:`SMALL_VGG` (conv 16, conv 16,
    pool, conv 32, conv 32, pool; each conv 3×3 with padding 1, followed by batch norm when
    ``batch_norm`` and a ReLU), then flatten (32·7·7 = 1568 values) → ``Linear(1568, 128)``
    → ReLU → ``Linear(128, num_classes)``.

    Shapes: ``(N, in_channels, 28, 28) → (N, num_classes)``.
    """
    return VGG(config, num_classes=num_classes, in_channels=in_channels,
               batch_norm=batch_norm, pool_size=None, hidden=hidden, dropout=0.0,
               input_size=input_size)


# ------------------------------------------------------- dense layers as convolutions

def linear_to_conv(linear: nn.Linear, in_shape: Sequence[int]) -> nn.Conv2d:
    """The convolution that computes what ``linear`` computes on flattened ``(C, H, W)`` maps.

    ``linear`` is ``Linear(C·H·W, F)`` applied to ``x.flatten(1)`` for ``x: (N, C, H, W)``:
    output ``f`` is ``b[f] + Σ_{c,i,j} W[f, c·H·W + i·W + j] x[c, i, j]``. That is the
    cross-correlation of ``x`` with the kernel ``w[f, c, i, j] = W[f, c·H·W + i·W + j]``
    (the weight matrix reshaped to ``(F, C, H, W)``) at the one position where an ``H×W``
    kernel fits on ``H×W`` maps. So the result is ``Conv2d(C, F, kernel_size=(H, W))`` with
    that kernel and the same bias, on ``linear``'s device and dtype (copies, not views):

    - on ``(N, C, H, W)`` it returns ``(N, F, 1, 1)`` and
      ``conv(x).flatten(1) == linear(x.flatten(1))``;
    - on larger maps ``(N, C, H', W')`` it is swept over every position and returns
      ``(N, F, H' − H + 1, W' − W + 1)``: the dense layer applied to every ``H×W`` window.

    ``in_shape = (F_in, 1, 1)`` turns a dense layer that follows another into a 1×1
    convolution. Raises ``ValueError`` when ``C·H·W`` is not ``linear.in_features``.
    """
    if not isinstance(linear, nn.Linear):
        raise TypeError(f"linear must be a torch.nn.Linear, got {type(linear).__name__}")
    shape = check_shape("in_shape", in_shape, "(C, H, W), e.g. (50, 4, 4)", min_dims=3)
    if len(shape) != 3:
        raise ValueError(f"in_shape must be (C, H, W), three positive ints, got {in_shape!r}")
    c, h, w = shape
    if c * h * w != linear.in_features:
        raise ValueError(f"in_shape {tuple(in_shape)} holds {c * h * w} values, but linear "
                         f"takes in_features = {linear.in_features}")
    weight = linear.weight
    conv = nn.Conv2d(c, linear.out_features, kernel_size=(h, w), bias=linear.bias is not None,
                     device=weight.device, dtype=weight.dtype)
    with torch.no_grad():
        conv.weight.copy_(weight.reshape(linear.out_features, c, h, w))
        if linear.bias is not None:
            conv.bias.copy_(linear.bias)
    return conv


def _output_shape(module: nn.Module, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Shape of ``module``'s output for an input of ``shape``, propagated on the meta device."""
    tensors = [*module.named_parameters(), *module.named_buffers()]
    state = {name: torch.empty_like(t, device="meta") for name, t in tensors}
    dtype = next((t.dtype for _, t in tensors if t.is_floating_point()), torch.float32)
    with torch.no_grad():
        out = functional_call(module, state, (torch.empty(shape, dtype=dtype, device="meta"),))
    return tuple(out.shape)


_ELEMENTWISE = (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.Dropout, nn.Identity)


def fully_convolutional(model: nn.Module, input_shape: Sequence[int]) -> nn.Sequential:
    """``model`` with every dense layer rewritten as a convolution (:func:`linear_to_conv`).

    Args:
        model: a network with ``features`` (convolutions, pools: ``(N, C, H, W)`` → feature
            maps), an optional ``avgpool`` and a ``classifier`` of ``Flatten``, ``Linear``,
            ReLU, tanh, sigmoid and ``Dropout`` layers: :class:`LeNet`, :class:`LeNet5`,
            :class:`MLP`, :class:`VGG` with ``head="dense"``.
        input_shape: ``(C, H, W)`` of the images ``model`` classifies, e.g. ``(1, 28, 28)``.

    The first ``Linear`` becomes a convolution whose kernel has the size ``h×w`` of the
    feature maps at ``input_shape``; every later one a 1×1 convolution; ``Flatten`` is
    dropped and the other layers are kept. ``avgpool`` must be the identity or an adaptive
    pool to exactly ``h×w`` (a no-op at ``input_shape``), and it is dropped.

    Returns ``nn.Sequential(model.features, conv, …)``, which shares ``model.features``
    (same parameters) and holds copies of the dense weights. Shapes: ``(N, C, H', W') →
    (N, num_classes, (h' − h) + 1, (w' − w) + 1)`` where ``h'×w'`` are the feature maps of
    the larger input. At ``input_shape`` it returns ``(N, num_classes, 1, 1)``, equal to
    ``model(x)``. Entry ``[:, :, i, j]`` on a larger image is ``model`` on the
    ``H×W`` crop at ``(J·i, J·j)``, ``J`` the product of the strides in ``features``, exactly
    when ``features`` pads nothing (LeNet): with padding the crop's border pixels see
    their real neighbours instead of zeros.
    """
    check_module("model", model)
    shape = check_shape("input_shape", input_shape, "(C, H, W), e.g. (1, 28, 28)", min_dims=3)
    features, classifier = getattr(model, "features", None), getattr(model, "classifier", None)
    if not isinstance(features, nn.Module) or not isinstance(classifier, nn.Sequential):
        raise ValueError("model must have a `features` module and a `classifier` "
                         "nn.Sequential, as cnnlib's LeNet, MLP and VGG have")
    if len(shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W), three positive ints, got {shape!r}")
    maps = _output_shape(features, (1, *shape))[1:]
    avgpool = getattr(model, "avgpool", nn.Identity())
    if not isinstance(avgpool, nn.Identity):
        pooled = (_output_shape(avgpool, (1, *maps))[1:]
                  if isinstance(avgpool, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)) else None)
        if pooled != maps:
            raise ValueError(f"model.avgpool ({avgpool}) changes the {maps} feature maps of "
                             f"input_shape {shape}: it must be a no-op there")
    layers: list[nn.Module] = [features]
    in_shape = maps
    for i, layer in enumerate(classifier):
        if isinstance(layer, nn.Linear):
            layers.append(linear_to_conv(layer, in_shape))
            in_shape = (layer.out_features, 1, 1)
        elif isinstance(layer, nn.Flatten):
            continue
        elif isinstance(layer, _ELEMENTWISE):
            layers.append(copy.deepcopy(layer))
        else:
            raise TypeError(f"classifier[{i}] is a {type(layer).__name__}; only Linear, "
                            "Flatten, ReLU, Tanh, Sigmoid, Dropout and Identity can be "
                            "rewritten as convolutions")
    if in_shape == maps:
        raise ValueError("model.classifier has no Linear layer to rewrite")
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------- activations

def activations(model: nn.Module, x: torch.Tensor,
                layers: Sequence[str]) -> dict[str, torch.Tensor]:
    """What the named layers of ``model`` output for the input ``x`` (feature maps).

    ``layers`` are names from ``model.named_modules()``, e.g. ``["features.0",
    "features.3"]``. One forward pass runs under ``torch.no_grad`` with forward hooks; each
    output is cloned when recorded (a later in-place ReLU cannot change it) and returned on
    ``x``'s device, in float32, keyed by name in the order given. The model's train/eval mode
    is left as it was (call ``model.eval()`` first for a trained model with dropout or batch
    norm).
    """
    check_module("model", model)
    check_tensor("x", x)
    if isinstance(layers, str) or not isinstance(layers, Sequence) or not layers:
        raise TypeError(f"layers must be a non-empty list of layer names, got {layers!r}")
    modules = dict(model.named_modules())
    unknown = [name for name in layers if name not in modules]
    if unknown:
        known = [n for n in modules if n]
        raise ValueError(f"layers {unknown} are not layers of the model; its layers are: "
                         f"{known}")
    recorded: dict[str, torch.Tensor] = {}

    def hook_for(name):
        def hook(module, inputs, output):
            recorded[name] = output.detach().float().clone()
        return hook

    handles = [modules[name].register_forward_hook(hook_for(name)) for name in layers]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return {name: recorded[name].to(x.device) for name in layers}
