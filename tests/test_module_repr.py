"""cnnlib.module_repr.compact_repr: PyTorch's repr without the arguments at their defaults.

Oracle: the compact arguments of a layer, given back to its constructor, build a layer whose
full ``repr`` is the original's (nothing that was chosen is lost), and the tree keeps
PyTorch's layout line for line."""

import pytest
import torch
import torchvision
from torch import nn

from cnnlib.models import small_vgg
from cnnlib.module_repr import compact_repr


@pytest.mark.parametrize(("layer", "expected"), [
    (nn.BatchNorm2d(16), "BatchNorm2d(16)"),
    (nn.Conv2d(1, 16, 3, padding=1), "Conv2d(1, 16, kernel_size=(3, 3), padding=(1, 1))"),
    (nn.Conv2d(2, 4, 3, stride=2, bias=False),
     "Conv2d(2, 4, kernel_size=(3, 3), stride=(2, 2), bias=False)"),
    (nn.MaxPool2d(2), "MaxPool2d(kernel_size=2, stride=2)"),
    (nn.Linear(800, 500), "Linear(in_features=800, out_features=500)"),
    (nn.ReLU(), "ReLU()"),
    (nn.ReLU(inplace=True), "ReLU(inplace=True)"),
    (nn.Dropout(0.3), "Dropout(p=0.3)"),
    (nn.Conv2d(3, 3, 3, padding_mode="reflect"),
     "Conv2d(3, 3, kernel_size=(3, 3), padding_mode=reflect)"),
])
def test_hand_cases(layer, expected):
    assert compact_repr(layer) == expected


@pytest.mark.parametrize("layer", [
    nn.Conv2d(1, 16, 3, padding=1), nn.Conv2d(3, 6, (3, 5), stride=(2, 1), groups=3),
    nn.Conv2d(4, 4, 3, dilation=2, bias=False), nn.BatchNorm2d(16),
    nn.BatchNorm2d(8, eps=1e-3, momentum=0.2, affine=False), nn.MaxPool2d(3, 2, 1),
    nn.MaxPool2d(2, ceil_mode=True), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1),
    nn.Linear(3, 2, bias=False), nn.Dropout(0.5), nn.ReLU(inplace=True), nn.Flatten(),
    nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1, output_padding=1),
])
def test_rebuilding_from_the_compact_arguments_gives_the_same_layer(layer):
    text = compact_repr(layer)
    rebuilt = eval(f"nn.{text}", {"nn": nn})  # our own test strings
    assert repr(rebuilt) == repr(layer)
    assert len(text) <= len(repr(layer))


class Flags(nn.Module):
    def __init__(self, flag=True, size=1):
        super().__init__()
        self.flag, self.size = flag, size

    def extra_repr(self):
        return f"flag={self.flag}, size={self.size}"


def test_booleans_are_not_integers_and_tuples_of_the_default_are_defaults():
    assert compact_repr(Flags()) == "Flags()"
    assert compact_repr(Flags(flag=1)) == "Flags(flag=1)"        # 1 is not the default True
    assert compact_repr(Flags(size=True)) == "Flags(size=True)"  # True is not the default 1
    assert compact_repr(Flags(size=(1, 1))) == "Flags()"
    assert compact_repr(Flags(size=(1, 2))) == "Flags(size=(1, 2))"


def test_trees_keep_pytorch_layout_and_fit_the_page():
    for model in (small_vgg(), torchvision.models.resnet18(weights=None)):
        full, short = repr(model).splitlines(), compact_repr(model).splitlines()
        assert len(short) == len(full)
        for a, b in zip(full, short, strict=True):  # same names, same indentation
            assert a.split(":")[0] == b.split(":")[0]
        assert max(map(len, short)) < max(map(len, full))
    assert max(map(len, compact_repr(small_vgg()).splitlines())) <= 88  # printed in ch. 8
    assert compact_repr(nn.Sequential()) == "Sequential()"
    with torch.device("meta"):
        head = nn.Sequential(nn.Conv2d(512, 10, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    assert compact_repr(head) == ("Sequential(\n  (0): Conv2d(512, 10, kernel_size=(1, 1))\n"
                                  "  (1): AdaptiveAvgPool2d(output_size=1)\n"
                                  "  (2): Flatten()\n)")


def test_errors():
    with pytest.raises(TypeError, match=r"module must be a torch\.nn\.Module"):
        compact_repr("net")
