"""cnnlib.models: shapes, parameter counts by hand, VGG against torchvision, dense layers as
convolutions, activations."""

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.models.vgg import VGG as TorchvisionVGG
from torchvision.models.vgg import make_layers

from cnnlib.counting import count_parameters
from cnnlib.models import (
    MLP,
    SMALL_VGG,
    VGG,
    VGG_CONFIGS,
    LeNet,
    LeNet5,
    activations,
    fully_convolutional,
    linear_to_conv,
    small_vgg,
    vgg,
    vgg_layers,
)

# ------------------------------------------------------------------------- hand counts
# LeNet 20-50-500: conv1 20·1·5·5 + 20     =     520
#                   conv2 50·20·5·5 + 50    =  25,050
#                   fc1   (50·4·4)·500 + 500 = 400,500
#                   fc2   500·10 + 10       =   5,010   → 431,080
LENET_PARAMS = 520 + 25_050 + 400_500 + 5_010
# LeNet-5:          conv1 6·1·5·5 + 6       =     156
#                   conv2 16·6·5·5 + 16     =   2,416
#                   fc1   (16·5·5)·120 + 120 =  48,120
#                   fc2   120·84 + 84       =  10,164
#                   fc3   84·10 + 10        =     850   → 61,706
LENET5_PARAMS = 156 + 2_416 + 48_120 + 10_164 + 850
# MLP 784-800-800-10: 784·800 + 800 + 800·800 + 800 + 800·10 + 10 = 1,276,810
MLP_PARAMS = 784 * 800 + 800 + 800 * 800 + 800 + 800 * 10 + 10


def test_hand_counts_are_the_known_numbers():
    assert LENET_PARAMS == 431_080
    assert LENET5_PARAMS == 61_706
    assert MLP_PARAMS == 1_276_810


def test_lenet_parameters_per_layer():
    model = LeNet()
    assert count_parameters(model) == LENET_PARAMS
    per_layer = [count_parameters(m) for m in (model.features[0], model.features[3],
                                               model.classifier[1], model.classifier[3])]
    assert per_layer == [520, 25_050, 400_500, 5_010]


def test_lenet5_and_mlp_parameters():
    assert count_parameters(LeNet5()) == LENET5_PARAMS
    assert count_parameters(LeNet5(activation="relu", pool="max")) == LENET5_PARAMS
    assert count_parameters(LeNet5(padding=0)) == LENET5_PARAMS
    assert count_parameters(MLP()) == MLP_PARAMS
    assert count_parameters(MLP(hidden=(100,))) == 784 * 100 + 100 + 100 * 10 + 10
    assert count_parameters(MLP(hidden=())) == 784 * 10 + 10


@pytest.mark.parametrize("batch", [1, 5])
def test_output_shapes_28x28(device, batch):
    x = torch.rand(batch, 1, 28, 28, device=device)
    for model in (LeNet(), LeNet5(), LeNet5(activation="relu", pool="max"), MLP(),
                  VGG(SMALL_VGG, num_classes=10, in_channels=1, pool_size=None,
                      hidden=(32,), dropout=0.0, input_size=28)):
        out = model.to(device)(x)
        assert out.shape == (batch, 10) and out.device == x.device


def test_lenet_intermediate_sizes():
    x = torch.zeros(2, 1, 28, 28)
    sizes = []
    for layer in LeNet().features:
        x = layer(x)
        sizes.append(tuple(x.shape[1:]))
    assert sizes == [(20, 24, 24), (20, 24, 24), (20, 12, 12), (50, 8, 8), (50, 8, 8),
                     (50, 4, 4)]


def test_lenet5_takes_32x32_without_padding_and_other_class_counts():
    assert LeNet5(padding=0)(torch.zeros(3, 1, 32, 32)).shape == (3, 10)
    assert LeNet(num_classes=7, in_channels=3)(torch.zeros(2, 3, 28, 28)).shape == (2, 7)
    with pytest.raises(RuntimeError):
        LeNet5(padding=0)(torch.zeros(1, 1, 28, 28))  # 28×28 needs padding=2


def test_lenet_forward_equals_the_functional_code():
    """The usual functional forward: relu(conv1) → pool → relu(conv2) → pool → view → fc1 → fc2."""
    torch.manual_seed(0)
    model = LeNet().double()
    x = torch.randn(4, 1, 28, 28, dtype=torch.float64)
    c1, c2, f1, f2 = model.features[0], model.features[3], model.classifier[1], \
        model.classifier[3]
    h = F.max_pool2d(F.relu(F.conv2d(x, c1.weight, c1.bias)), 2, 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, c2.weight, c2.bias)), 2, 2)
    h = F.relu(F.linear(h.view(-1, 4 * 4 * 50), f1.weight, f1.bias))
    expected = F.linear(h, f2.weight, f2.bias)
    torch.testing.assert_close(model(x), expected)


def test_constructor_errors():
    with pytest.raises(ValueError, match="activation"):
        LeNet5(activation="sigmoid")
    with pytest.raises(ValueError, match="pool"):
        LeNet5(pool="lp")
    with pytest.raises(ValueError, match="padding"):
        LeNet5(padding=-1)
    with pytest.raises(ValueError, match="num_classes"):
        LeNet(num_classes=0)
    with pytest.raises(ValueError, match=r"hidden\[1\]"):
        MLP(hidden=(10, 0))
    with pytest.raises(TypeError, match="hidden"):
        MLP(hidden=100)


# ----------------------------------------------------------------------------------- VGG

def _torchvision(name: str, batch_norm: bool = False) -> nn.Module:
    with torch.device("meta"):
        return getattr(torchvision.models, name + ("_bn" if batch_norm else ""))(weights=None)


def _ours(name: str, batch_norm: bool = False) -> nn.Module:
    with torch.device("meta"):
        return vgg(name, batch_norm=batch_norm)


def test_vgg16_has_138_357_544_parameters():
    assert count_parameters(_ours("vgg16")) == 138_357_544
    assert count_parameters(_torchvision("vgg16")) == 138_357_544


@pytest.mark.parametrize("name", sorted(VGG_CONFIGS))
@pytest.mark.parametrize("batch_norm", [False, True])
def test_vgg_matches_torchvision_layer_by_layer(name, batch_norm):
    ours, theirs = _ours(name, batch_norm), _torchvision(name, batch_norm)
    assert count_parameters(ours) == count_parameters(theirs)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    assert [v.shape for v in ours_sd.values()] == [v.shape for v in theirs_sd.values()]
    ours_layers = [(n, type(m).__name__) for n, m in ours.named_modules()][1:]
    theirs_layers = [(n, type(m).__name__) for n, m in theirs.named_modules()][1:]
    assert ours_layers == theirs_layers
    assert str(ours) == str(theirs)  # same hyper-parameters in every layer


def test_vgg_counts_by_hand_for_vgg11():
    # convs: 3→64, 64→128, 128→256, 256→256, 256→512, 512→512 ×3 (3×3 weights + bias)
    convs = [(3, 64), (64, 128), (128, 256), (256, 256), (256, 512), (512, 512),
             (512, 512), (512, 512)]
    conv_params = sum(9 * a * b + b for a, b in convs)
    dense = 512 * 7 * 7 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000
    assert count_parameters(_ours("vgg11")) == conv_params + dense == 132_863_336


@pytest.mark.parametrize("size", [224, 64, 32])
def test_vgg16_output_shape_any_input_size(size):
    with torch.device("meta"):
        out = vgg("vgg16")(torch.empty(2, 3, size, size))
        features = vgg("vgg16").features(torch.empty(2, 3, size, size))
    assert out.shape == (2, 1000)
    assert features.shape == (2, 512, size // 32, size // 32)


def test_vgg_computes_what_torchvision_computes():
    """Same weights (loaded from torchvision's state_dict) ⇒ the same outputs."""
    torch.manual_seed(0)
    with torch.device("meta"):
        theirs = TorchvisionVGG(make_layers([8, "M", 16, "M"]), num_classes=5)
        # torchvision's classifier is fixed at 512·7·7 → 4096 → 4096; a narrower one with
        # the same layout keeps the test small and still checks features → avgpool →
        # flatten → classifier.
        theirs.classifier = nn.Sequential(
            nn.Linear(16 * 7 * 7, 32), nn.ReLU(True), nn.Dropout(), nn.Linear(32, 32),
            nn.ReLU(True), nn.Dropout(), nn.Linear(32, 5))
    theirs = theirs.to_empty(device="cpu").eval()
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn_like(p) * 0.1)
    ours = VGG([8, "M", 16, "M"], num_classes=5, hidden=(32, 32)).eval()
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=0)


def test_vgg_init_is_torchvisions():
    torch.manual_seed(0)
    model = VGG([64, "M", 64, "M"], num_classes=10, hidden=(4096,))
    conv, linear = model.features[0], model.classifier[0]
    assert torch.count_nonzero(conv.bias) == 0 and torch.count_nonzero(linear.bias) == 0
    he_std = (2 / (64 * 9)) ** 0.5  # fan-out = C_out·k·k for a conv
    assert abs(conv.weight.std().item() - he_std) < 0.1 * he_std
    assert abs(linear.weight.std().item() - 0.01) < 0.001


def test_small_vgg_without_pooling_flattens_the_maps():
    model = small_vgg(batch_norm=False)
    assert isinstance(model.avgpool, nn.Identity)
    assert model.classifier[0].in_features == 32 * 7 * 7
    assert not any(isinstance(m, nn.Dropout) for m in model.modules())
    # convs 1→16, 16→16, 16→32, 32→32 (3×3 + bias), then 1568 → 128 → 10
    assert count_parameters(model) == (
        9 * 1 * 16 + 16 + 9 * 16 * 16 + 16 + 9 * 16 * 32 + 32 + 9 * 32 * 32 + 32
        + 32 * 49 * 128 + 128 + 128 * 10 + 10) == 218_490
    with_bn = small_vgg()
    assert count_parameters(with_bn) == 218_490 + 2 * (16 + 16 + 32 + 32)  # BN: γ and β
    assert [type(m).__name__ for m in with_bn.features][:3] == ["Conv2d", "BatchNorm2d",
                                                                 "ReLU"]
    assert with_bn(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_vgg_layers_builds_convs_pools_and_batch_norm():
    layers = vgg_layers([4, "M", 8], in_channels=2, batch_norm=True)
    kinds = [type(m).__name__ for m in layers]
    assert kinds == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Conv2d", "BatchNorm2d",
                     "ReLU"]
    conv = layers[0]
    assert (conv.in_channels, conv.out_channels, conv.kernel_size, conv.padding) == \
        (2, 4, (3, 3), (1, 1))
    assert layers(torch.zeros(1, 2, 10, 10)).shape == (1, 8, 5, 5)


@pytest.mark.parametrize("config, bad", [
    ([64, "X", 128], "config[1]"),
    ([64, "M", 0], "config[2]"),
    ([-3], "config[0]"),
    ([64, 3.5], "config[1]"),
    ([True, "M"], "config[0]"),
    ([64, "m"], "config[1]"),
    ([64, None], "config[1]"),
])
def test_vgg_builder_names_the_bad_entry(config, bad):
    with pytest.raises(ValueError, match=bad.replace("[", r"\[").replace("]", r"\]")):
        vgg_layers(config)
    with pytest.raises(ValueError, match=r"config\["):
        VGG(config)


def test_vgg_builder_other_errors():
    with pytest.raises(ValueError, match="empty"):
        vgg_layers([])
    with pytest.raises(ValueError, match="at least one convolution"):
        vgg_layers(["M", "M"])
    with pytest.raises(TypeError, match="config"):
        vgg_layers("64M")
    with pytest.raises(ValueError, match="name"):
        vgg("vgg15")
    with pytest.raises(ValueError, match="dropout"):
        VGG([8, "M"], dropout=1.0)
    with pytest.raises(ValueError, match="too small"):
        VGG([8, "M", 8, "M"], pool_size=None, input_size=3)


# ------------------------------------------------------- dense layers as convolutions

@pytest.mark.parametrize("shape, bias", [((50, 4, 4), True), ((3, 2, 5), False),
                                         ((7, 1, 1), True)])
def test_linear_to_conv_computes_the_linear_layer(shape, bias):
    torch.manual_seed(0)
    c, h, w = shape
    linear = nn.Linear(c * h * w, 6, bias=bias).double()
    conv = linear_to_conv(linear, shape)
    assert (conv.in_channels, conv.out_channels, conv.kernel_size) == (c, 6, (h, w))
    assert conv.weight.dtype == torch.float64 and (conv.bias is None) == (not bias)
    x = torch.randn(4, c, h, w, dtype=torch.float64)
    out = conv(x)
    assert out.shape == (4, 6, 1, 1)
    torch.testing.assert_close(out.flatten(1), F.linear(x.flatten(1), linear.weight,
                                                        linear.bias))


def test_linear_to_conv_slides_the_dense_layer_over_larger_maps():
    torch.manual_seed(0)
    linear = nn.Linear(3 * 2 * 4, 5).double()
    conv = linear_to_conv(linear, (3, 2, 4))
    x = torch.randn(2, 3, 5, 9, dtype=torch.float64)
    out = conv(x)
    assert out.shape == (2, 5, 4, 6)
    for i in range(4):
        for j in range(6):
            window = x[:, :, i:i + 2, j:j + 4].flatten(1)
            torch.testing.assert_close(out[:, :, i, j], linear(window))


def test_linear_to_conv_copies_the_weights_and_keeps_the_device(device):
    linear = nn.Linear(8, 3).to(device)
    conv = linear_to_conv(linear, (2, 2, 2))
    assert conv.weight.device == linear.weight.device
    with torch.no_grad():
        conv.weight.zero_()
    assert torch.count_nonzero(linear.weight) > 0  # a copy, not a view


def test_linear_to_conv_errors():
    with pytest.raises(TypeError, match="linear"):
        linear_to_conv(nn.Conv2d(1, 1, 1), (1, 1, 1))
    with pytest.raises(ValueError, match="in_features = 800"):
        linear_to_conv(nn.Linear(800, 10), (50, 4, 5))
    with pytest.raises(ValueError, match="in_shape"):
        linear_to_conv(nn.Linear(800, 10), (800,))
    with pytest.raises(ValueError, match="in_shape"):
        linear_to_conv(nn.Linear(800, 10), (50, 4, 4, 1))


@pytest.mark.parametrize("build, shape", [
    (LeNet, (1, 28, 28)),
    (LeNet5, (1, 28, 28)),
    (lambda: MLP(hidden=(20,)), (1, 28, 28)),
    (lambda: VGG([4, "M", 8, "M"], num_classes=5, hidden=(16, 16), pool_size=7), (3, 28, 28)),
    (lambda: small_vgg(hidden=(16,)), (1, 28, 28)),
])
def test_fully_convolutional_equals_the_model_at_its_input_size(build, shape):
    torch.manual_seed(0)
    model = build().double().eval()
    fcn = fully_convolutional(model, shape).eval()
    x = torch.randn(3, *shape, dtype=torch.float64)
    with torch.no_grad():
        out = fcn(x)
        assert out.shape == (3, model(x).shape[1], 1, 1)
        torch.testing.assert_close(out.flatten(1), model(x))
    assert count_parameters(fcn) == count_parameters(model)
    assert fcn[0] is model.features  # shared, not copied
    assert not any(isinstance(m, nn.Linear) for m in fcn.modules())


def test_fully_convolutional_lenet_map_entries_are_the_crops():
    """No padding in LeNet: entry (i, j) of the map is LeNet on the crop at (4i, 4j)."""
    torch.manual_seed(0)
    model = LeNet().double().eval()
    fcn = fully_convolutional(model, (1, 28, 28))
    image = torch.randn(2, 1, 40, 52, dtype=torch.float64)
    with torch.no_grad():
        scores = fcn(image)
        assert scores.shape == (2, 10, 4, 7)  # (40 − 28)/4 + 1, (52 − 28)/4 + 1
        for i in range(4):
            for j in range(7):
                crop = image[:, :, 4 * i:4 * i + 28, 4 * j:4 * j + 28]
                torch.testing.assert_close(scores[:, :, i, j], model(crop))


def test_fully_convolutional_vgg16_on_the_meta_device():
    with torch.device("meta"):
        model = vgg("vgg16")
        fcn = fully_convolutional(model, (3, 224, 224))
        scores = fcn(torch.empty(1, 3, 384, 384))
    convs = [m for m in fcn[1:] if isinstance(m, nn.Conv2d)]
    assert [c.kernel_size for c in convs] == [(7, 7), (1, 1), (1, 1)]
    assert [c.out_channels for c in convs] == [4096, 4096, 1000]
    assert scores.shape == (1, 1000, 6, 6)  # 384/32 = 12 → 12 − 7 + 1 = 6
    assert count_parameters(fcn) == 138_357_544


def test_fully_convolutional_errors():
    with pytest.raises(ValueError, match="avgpool"):
        fully_convolutional(VGG([4, "M"], hidden=(8,)), (3, 32, 32))  # 16×16 pooled to 7×7
    with pytest.raises(TypeError, match=r"classifier\[0\] is a Conv2d"):
        fully_convolutional(VGG([4, "M"], head="gap"), (3, 32, 32))
    with pytest.raises(ValueError, match="features"):
        fully_convolutional(nn.Linear(3, 3), (1, 1, 3))
    with pytest.raises(ValueError, match="input_shape"):
        fully_convolutional(LeNet(), (1, 1, 28, 28))
    model = LeNet()
    model.classifier.insert(2, nn.BatchNorm1d(500))
    with pytest.raises(TypeError, match="BatchNorm1d"):
        fully_convolutional(model, (1, 28, 28))


# ------------------------------------------------------------------ global-average head

def test_vgg16_gap_head_parameters():
    with torch.device("meta"):
        model = vgg("vgg16", head="gap")
    assert count_parameters(model.features) == 14_714_688
    assert count_parameters(model.classifier) == 512 * 1000 + 1000
    assert count_parameters(model) == 15_227_688


def test_gap_head_is_conv1x1_then_mean_and_equals_mean_then_linear():
    torch.manual_seed(0)
    model = VGG([4, "M", 8, "M"], num_classes=5, head="gap").double().eval()
    conv = model.classifier[0]
    for size in (8, 20, 33):  # any input size
        x = torch.randn(2, 3, size, size, dtype=torch.float64)
        maps = model.features(x)
        expected = F.conv2d(maps, conv.weight, conv.bias).mean(dim=(2, 3))
        torch.testing.assert_close(model(x), expected)
        torch.testing.assert_close(
            model(x), F.linear(maps.mean(dim=(2, 3)), conv.weight.flatten(1), conv.bias))
    assert isinstance(model.avgpool, nn.Identity)


def test_vgg_head_errors():
    with pytest.raises(ValueError, match="head"):
        VGG([4, "M"], head="mlp")


# --------------------------------------------------------------------------- activations

def test_activations_record_each_layer(device):
    torch.manual_seed(0)
    model = LeNet().to(device).eval()
    x = torch.randn(3, 1, 28, 28, device=device)
    maps = activations(model, x, ["features.0", "features.2", "classifier.3"])
    assert list(maps) == ["features.0", "features.2", "classifier.3"]
    conv = model.features[0]
    torch.testing.assert_close(maps["features.0"], conv(x))
    torch.testing.assert_close(maps["features.2"], F.max_pool2d(F.relu(conv(x)), 2))
    torch.testing.assert_close(maps["classifier.3"], model(x))
    assert all(m.device == x.device for m in maps.values())


def test_activations_survive_an_inplace_relu():
    """VGG's ReLUs overwrite the conv output in place; the recorded copy keeps its signs."""
    torch.manual_seed(0)
    model = VGG([4, "M"], num_classes=3, hidden=(8,)).eval()
    x = torch.randn(1, 3, 32, 32)
    conv_out = activations(model, x, ["features.0"])["features.0"]
    torch.testing.assert_close(conv_out, F.conv2d(x, model.features[0].weight,
                                                  model.features[0].bias, padding=1))
    assert (conv_out < 0).any()


def test_activations_errors():
    with pytest.raises(ValueError, match=r"features\.9"):
        activations(LeNet(), torch.zeros(1, 1, 28, 28), ["features.9"])
    with pytest.raises(TypeError, match="layers"):
        activations(LeNet(), torch.zeros(1, 1, 28, 28), "features.0")
