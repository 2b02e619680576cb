"""Parameter, MAC/FLOP and activation counts: hand cases, torch's FlopCounterMode, VGG-16."""

from fractions import Fraction

import pytest
import torch
import torchvision
from hypothesis import given
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnlib.arithmetic import conv_output_size
from cnnlib.counting import (
    DEFAULT_COLUMNS,
    LayerCount,
    ModelSummary,
    count_flops,
    count_macs,
    count_parameters,
    layer_summary,
)


def torch_flops(module, shape):
    """Independent oracle: PyTorch's own FLOP counter on a real forward pass."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(torch.zeros(shape))
    return counter.get_total_flops()


# --- count_parameters ----------------------------------------------------------------------

def test_count_parameters_hand_cases():
    assert count_parameters(nn.Conv2d(3, 64, 3)) == 64 * 3 * 3 * 3 + 64
    assert count_parameters(nn.Conv2d(3, 64, 3, bias=False)) == 1728
    assert count_parameters(nn.Conv2d(8, 8, 3, groups=8)) == 8 * 1 * 9 + 8
    assert count_parameters(nn.Linear(784, 100)) == 78_500
    assert count_parameters(nn.BatchNorm2d(16)) == 32  # running stats are buffers
    assert count_parameters(nn.ReLU()) == 0


def test_count_parameters_matches_numel_sum_and_trainable_only():
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 2))
    assert count_parameters(net) == sum(p.numel() for p in net.parameters()) == 40 + 8 + 10
    for p in net[0].parameters():
        p.requires_grad_(False)
    assert count_parameters(net, trainable_only=True) == 8 + 10
    assert count_parameters(net) == 58


def test_shared_parameters_counted_once():
    shared = nn.Linear(5, 5)
    net = nn.Sequential(shared, nn.ReLU(), shared)
    assert count_parameters(net) == 30
    summary = layer_summary(net, (1, 5))
    assert [r.params for r in summary] == [30, 0, 0]  # the second call adds no parameters
    assert [r.macs for r in summary] == [25, 0, 25]
    assert summary.total_params == 30


@pytest.mark.parametrize(("args", "exc", "words"), [
    (("net",), TypeError, "module must be a torch.nn.Module"),
    ((nn.Linear(2, 2), "yes"), TypeError, "trainable_only must be True or False"),
    ((nn.Linear(2, 2), 1), TypeError, "trainable_only must be True or False"),
])
def test_count_parameters_errors(args, exc, words):
    with pytest.raises(exc, match=words):
        count_parameters(*args)


# --- per-layer counts, by hand -------------------------------------------------------------

def only_row(module, shape, **kwargs):
    summary = layer_summary(module, shape, **kwargs)
    assert len(summary) == 1
    return summary[0]


def test_conv2d_hand_count():
    row = only_row(nn.Conv2d(3, 8, 3, padding=1), (2, 3, 10, 10))
    assert row.output_shape == (2, 8, 10, 10)
    assert row.params == 8 * 3 * 9 + 8
    assert row.macs == 2 * 8 * 10 * 10 * 3 * 9 == 43_200  # N·C_out·H·W·C_in·kh·kw
    assert row.flops == 86_400
    assert row.activation_bytes == 2 * 8 * 10 * 10 * 4
    assert row.type == "Conv2d" and row.other_ops == 0 and row.note == ""


def test_grouped_strided_conv_and_conv1d_hand_counts():
    row = only_row(nn.Conv2d(4, 6, (3, 5), stride=2, groups=2), (1, 4, 11, 13))
    # H_out = ⌊(11 − 3)/2⌋ + 1 = 5, W_out = ⌊(13 − 5)/2⌋ + 1 = 5; C_in/groups = 2
    assert row.output_shape == (1, 6, 5, 5)
    assert row.macs == 6 * 5 * 5 * 2 * 3 * 5 == 4500
    row = only_row(nn.Conv1d(2, 3, 4), (1, 2, 10))
    assert row.macs == 3 * 7 * 2 * 4 == 168


def test_transposed_conv_costs_the_same_as_the_conv_it_transposes():
    row = only_row(nn.ConvTranspose2d(3, 5, 3, stride=2), (1, 3, 4, 4))
    assert row.output_shape == (1, 5, 9, 9)
    assert row.macs == 3 * 4 * 4 * 5 * 9 == 2160  # N·C_in·H_in·W_in·C_out·kh·kw
    forward = only_row(nn.Conv2d(5, 3, 3, stride=2), (1, 5, 9, 9))
    assert forward.output_shape == (1, 3, 4, 4) and forward.macs == row.macs


def test_linear_hand_counts():
    assert only_row(nn.Linear(20, 7), (4, 20)).macs == 4 * 20 * 7
    assert only_row(nn.Linear(20, 7), (4, 5, 20)).macs == 4 * 5 * 20 * 7


def test_pooling_normalisation_activation_counts():
    row = only_row(nn.MaxPool2d(2), (1, 3, 8, 8))
    assert (row.macs, row.other_ops, row.output_shape) == (0, 48 * 3, (1, 3, 4, 4))
    row = only_row(nn.AvgPool2d(3, stride=1), (1, 1, 5, 5))
    assert (row.macs, row.other_ops) == (0, 9 * 9)
    row = only_row(nn.MaxPool1d(3), (2, 2, 9))
    assert row.other_ops == 2 * 2 * 3 * 2
    row = only_row(nn.AdaptiveAvgPool2d(1), (2, 4, 6, 6))
    assert row.other_ops == 2 * 4 * 36  # 35 adds and 1 division per output
    row = only_row(nn.AdaptiveMaxPool2d((2, 3)), (1, 1, 4, 6))
    assert row.other_ops == 24 - 6  # windows of 4 → 3 comparisons each
    row = only_row(nn.BatchNorm2d(3), (2, 3, 4, 4))
    assert (row.macs, row.other_ops, row.params) == (0, 2 * 96, 6)
    row = only_row(nn.ReLU(), (2, 3, 4, 4))
    assert (row.macs, row.other_ops, row.activation_bytes) == (0, 96, 96 * 4)
    row = only_row(nn.ReLU(inplace=True), (2, 3, 4, 4))
    assert (row.activation_bytes, row.note) == (0, "in-place")
    row = only_row(nn.Dropout(), (2, 3))
    assert (row.macs, row.other_ops, row.note) == (0, 0, "")


def test_activation_bytes_follow_dtype():
    row = only_row(nn.Conv2d(1, 2, 3), (1, 1, 5, 5), dtype=torch.float64)
    assert row.activation_bytes == 2 * 3 * 3 * 8
    row = only_row(nn.Conv2d(1, 2, 3), (1, 1, 5, 5), dtype=torch.float16)
    assert row.activation_bytes == 2 * 3 * 3 * 2


class Square(nn.Module):
    def forward(self, x):
        return x * x


class Pair(nn.Module):
    def forward(self, x):
        return x, x


def test_unknown_layers_are_marked_not_counted():
    summary = layer_summary(nn.Sequential(Square(), nn.Linear(3, 2)), (1, 3))
    assert summary[0].note == "not counted" and summary[0].macs == 0
    assert summary[1].macs == 6
    assert "Square (not counted)" in str(summary)
    row = only_row(Pair(), (1, 3))
    assert row.output_shape is None and row.note == "not counted"


# --- against PyTorch's FLOP counter, random layers -----------------------------------------

@st.composite
def conv_case(draw):
    dims = draw(st.sampled_from([1, 2]))
    transposed = draw(st.booleans())
    groups = draw(st.integers(1, 3))
    c_in, c_out = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    k = draw(st.integers(1, 4))
    stride, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    padding = draw(st.integers(0, k // 2))
    n = draw(st.integers(1, 3))
    size = draw(st.integers(dilation * (k - 1) + 1, 12))
    shape = (n, c_in) + (size,) * dims
    if transposed:
        cls = nn.ConvTranspose1d if dims == 1 else nn.ConvTranspose2d
        output_padding = draw(st.integers(0, max(stride, dilation) - 1))
        if (size - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1 < 1:
            padding = 0
        module = cls(c_in, c_out, k, stride, padding, output_padding, groups,
                     dilation=dilation, bias=draw(st.booleans()))
    else:
        cls = nn.Conv1d if dims == 1 else nn.Conv2d
        module = cls(c_in, c_out, k, stride, padding, dilation, groups,
                     bias=draw(st.booleans()))
    return module, shape


@given(conv_case())
def test_conv_flops_match_torch_flop_counter(case):
    module, shape = case
    summary = layer_summary(module, shape)
    assert summary.total_flops == torch_flops(module, shape)
    assert summary.total_params == sum(p.numel() for p in module.parameters())
    out = module(torch.zeros(shape))
    assert summary[0].output_shape == tuple(out.shape)
    assert summary[0].activation_bytes == out.numel() * 4


@given(st.integers(1, 4), st.integers(1, 30), st.integers(1, 30), st.booleans())
def test_linear_flops_match_torch_flop_counter(n, fan_in, fan_out, bias):
    module = nn.Linear(fan_in, fan_out, bias=bias)
    assert count_flops(module, (n, fan_in)) == torch_flops(module, (n, fan_in))
    assert count_macs(module, (n, fan_in)) == n * fan_in * fan_out


# --- whole networks ------------------------------------------------------------------------

def lenet5():
    """Classic LeNet-5 (32×32 input, tanh, average pooling)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(),
        nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10),
    )


def lenet_20_50_500():
    """The Caffe LeNet (20-50-500) on 28×28 MNIST."""
    return nn.Sequential(
        nn.Conv2d(1, 20, 5), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10),
    )


def test_lenet5_counts():
    net = lenet5()
    summary = layer_summary(net, (1, 1, 32, 32))
    # params: 6·25+6 = 156, 16·6·25+16 = 2416, 120·16·25+120 = 48120, 120·84+84 = 10164,
    #         84·10+10 = 850
    assert summary.total_params == 156 + 2416 + 48_120 + 10_164 + 850 == 61_706
    assert sum(r.params for r in summary) == 61_706
    # MACs: 6·28²·25 = 117600, 16·10²·6·25 = 240000, 120·1·16·25 = 48000, 120·84, 84·10
    assert summary.total_macs == 117_600 + 240_000 + 48_000 + 10_080 + 840 == 416_520
    assert summary.total_flops == torch_flops(net, (1, 1, 32, 32))
    assert summary[-1].output_shape == (1, 10)


def test_lenet_20_50_500_counts():
    net = lenet_20_50_500()
    summary = layer_summary(net, (1, 1, 28, 28))
    assert summary.total_params == 520 + 25_050 + 400_500 + 5010 == 431_080
    # 20·24²·25 + 50·8²·20·25 + 800·500 + 500·10
    assert summary.total_macs == 288_000 + 1_600_000 + 400_000 + 5000
    shapes = [r.output_shape for r in summary]
    assert shapes[:4] == [(1, 20, 24, 24), (1, 20, 12, 12), (1, 50, 8, 8), (1, 50, 4, 4)]


def vgg16_conv_macs(size=224):
    """Independent formula: Σ C_out·H·W·C_in·9 over VGG-16's 13 conv layers ('same' 3×3)."""
    blocks = [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)]
    total, c_in = 0, 3
    for repeats, c_out in blocks:
        for _ in range(repeats):
            total += c_out * size * size * c_in * 9
            c_in = c_out
        size //= 2  # 2×2 max pooling after each block
    return total


def test_vgg16_counts():
    with torch.device("meta"):  # the same module, without initialising 138 M weights
        net = torchvision.models.vgg16(weights=None)
    summary = layer_summary(net, (1, 3, 224, 224))
    assert summary.total_params == count_parameters(net) == 138_357_544
    conv_macs = sum(r.macs for r in summary if r.type == "Conv2d")
    assert conv_macs == vgg16_conv_macs() == 15_346_630_656  # ≈ 15.3 G
    linear_macs = 512 * 7 * 7 * 4096 + 4096 * 4096 + 4096 * 1000
    assert summary.total_macs == conv_macs + linear_macs  # ≈ 15.47 G in all
    assert sum(r.params for r in summary) == 138_357_544
    assert summary[0].activation_bytes == 64 * 224 * 224 * 4
    assert "138,357,544" in str(summary)


def test_depthwise_separable_ratio():
    c_in, c_out, k, size = 8, 16, 3, 12
    full = nn.Conv2d(c_in, c_out, k, padding=1, bias=False)
    separable = nn.Sequential(
        nn.Conv2d(c_in, c_in, k, padding=1, groups=c_in, bias=False),  # depthwise
        nn.Conv2d(c_in, c_out, 1, bias=False),                          # pointwise
    )
    shape = (1, c_in, size, size)
    ratio = Fraction(count_macs(separable, shape), count_macs(full, shape))
    assert ratio == Fraction(1, c_out) + Fraction(1, k * k)
    assert Fraction(count_parameters(separable), count_parameters(full)) == ratio
    assert count_flops(separable, shape) == torch_flops(separable, shape)


def test_meta_and_real_forward_agree_and_leave_buffers_alone():
    net = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    net.train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    meta = layer_summary(net, (2, 2, 8, 8))
    real = layer_summary(net, (2, 2, 8, 8), device="cpu")
    assert meta.rows == real.rows
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key]), key
        assert value.device.type == "cpu"
    assert [r.name for r in meta] == ["0", "1", "2", "3", "4", "5"]
    assert [r.type for r in meta] == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Flatten",
                                      "Linear"]


def test_summary_of_a_single_layer_names_it_by_type():
    assert only_row(nn.Conv2d(1, 1, 1), (1, 1, 2, 2)).name == "Conv2d"


def test_summary_table_and_markdown():
    summary = layer_summary(lenet_20_50_500(), (1, 1, 28, 28))
    assert isinstance(summary, ModelSummary) and isinstance(summary[0], LayerCount)
    text = str(summary)
    lines = text.splitlines()
    assert lines[0].split() == ["layer", "type", "output", "shape", "params", "MACs", "act.",
                                "bytes"]
    assert len(lines) == 2 + len(summary) + 1 + 2  # header, rule, rows, total, 2-line footer
    assert "431,080" in text and "1×20×24×24" in text and "46,080" in text
    assert lines[-2] == "input 1×1×28×28: 431,080 parameters (431,080 trainable)"
    other = summary.total_other_ops
    assert lines[-1] == (f"2.29 M MACs = 4.59 M FLOPs, {other / 1e3:.2f} k other ops, "
                         f"activations {summary.total_activation_bytes / 2**20:.2f} MiB")
    total = lines[-3].split()
    assert total == ["total", "431,080", "2,293,000", f"{summary.total_activation_bytes:,}"]
    assert repr(summary) == text
    md = summary.to_markdown()
    assert md.splitlines()[0].count("|") == 9  # all eight columns
    assert md.splitlines()[1].startswith("|:---|")
    assert md.count("\n| ") == len(summary) + 1  # rows + total
    assert summary.total_other_ops == sum(r.other_ops for r in summary)
    assert summary.total_activation_bytes == sum(r.activation_bytes for r in summary)
    assert list(iter(summary)) == summary.rows


def test_summary_table_columns():
    summary = layer_summary(lenet_20_50_500(), (1, 1, 28, 28))
    assert summary.table() == str(summary).rsplit("\n", 2)[0]
    flops = summary.table(["layer", "FLOPs", "other ops"]).splitlines()
    assert flops[0].split() == ["layer", "FLOPs", "other", "ops"]
    assert flops[2].split() == [summary[0].name, f"{2 * summary[0].macs:,}", "0"]
    assert flops[-1].split() == ["total", f"{summary.total_flops:,}",
                                 f"{summary.total_other_ops:,}"]
    assert DEFAULT_COLUMNS[-1] == "activation bytes"
    with pytest.raises(ValueError, match="columns must be names from"):
        summary.table(["layer", "weights"])
    with pytest.raises(TypeError, match="columns must be a non-empty sequence"):
        summary.table("layer")
    with pytest.raises(TypeError, match="columns must be a non-empty sequence"):
        summary.table([])


def test_printed_summaries_fit_the_page():
    """The book's code column shows 88 characters: every printed line of the book's
    summaries (VGG-16's is the widest) fits."""
    with torch.device("meta"):
        nets = {"vgg16": torchvision.models.vgg16(weights=None),
                "vgg19_bn": torchvision.models.vgg19_bn(weights=None)}
    for name, net in nets.items():
        lines = str(layer_summary(net, (1, 3, 224, 224))).splitlines()
        assert max(map(len, lines)) <= 88, name
        assert "act. bytes" in lines[0]


@pytest.mark.parametrize(("args", "kwargs", "exc", "words"), [
    (("net", (1, 3)), {}, TypeError, "module must be a torch.nn.Module"),
    ((nn.Linear(3, 2), 3), {}, TypeError, "input_shape must be a non-empty tuple"),
    ((nn.Linear(3, 2), ()), {}, ValueError, "input_shape must be a non-empty tuple"),
    ((nn.Linear(3, 2), (1, 0)), {}, ValueError, "input_shape must be a non-empty tuple"),
    ((nn.Linear(3, 2), (1, 3.0)), {}, ValueError, "input_shape must be a non-empty tuple"),
    ((nn.Linear(3, 2), (1, 3)), {"dtype": torch.int64}, TypeError, "dtype must be a floating"),
])
def test_layer_summary_errors(args, kwargs, exc, words):
    with pytest.raises(exc, match=words):
        layer_summary(*args, **kwargs)


def test_wrong_input_shape_surfaces_torch_error_and_removes_hooks():
    net = nn.Linear(3, 2)
    with pytest.raises(RuntimeError):
        layer_summary(net, (1, 4))
    assert not net._forward_hooks


def test_conv_output_size_agrees_with_summary_shapes():
    row = only_row(nn.Conv2d(1, 1, 5, stride=3, padding=2, dilation=2), (1, 1, 17, 17))
    side = conv_output_size(17, 5, stride=3, padding=2, dilation=2)
    assert row.output_shape == (1, 1, side, side)
