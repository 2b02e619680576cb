"""Receptive fields: hand cases, VGG-16/LeNet, and an autograd measurement on random stacks."""

import pytest
import torch
import torchvision
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from cnnlib.receptive_field import (
    EmpiricalReceptiveField,
    Layer,
    ReceptiveField,
    ReceptiveFieldTable,
    empirical_receptive_field,
    fills_receptive_field,
    gridding_holes,
    reachable_offsets,
    receptive_field,
)

# --- hand cases -----------------------------------------------------------------------------


def test_stacked_3x3_convolutions():
    assert receptive_field([Layer(3)]).final.size == 3
    assert receptive_field([Layer(3), Layer(3)]).final.size == 5
    assert receptive_field([Layer(3)] * 3).final.size == 7
    two = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3))
    assert receptive_field(two).final.size == (5, 5)
    three = nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=1) for _ in range(3)])
    assert receptive_field(three).final.size == (7, 7)


def test_dilation_stride_padding_hand_cases():
    assert receptive_field([Layer(3, dilation=2)]).final.size == 5
    # dilations 1, 2, 4: 1 + 2 + 4 + 8 = 15 (exponential growth, linear parameters)
    atrous = receptive_field([Layer(3, dilation=d) for d in (1, 2, 4)])
    assert [row.size for row in atrous] == [3, 7, 15]
    # a stride of 2 doubles what the next layer adds: 3 + (3 − 1)·2 = 7, jump 2
    strided = receptive_field([Layer(3, stride=2), Layer(3)])
    assert (strided.final.size, strided.final.jump) == (7, 2)
    # start: the centre of the first output's field, in input pixel indices
    assert [row.start for row in receptive_field([Layer(3, padding=1)] * 2)] == [0.0, 0.0]
    assert [row.start for row in receptive_field([Layer(3)] * 2)] == [1.0, 2.0]
    assert receptive_field([Layer(2, stride=2)]).final.start == 0.5
    assert receptive_field([Layer(5, padding=4)]).final.start == -2.0


def test_same_and_valid_padding():
    # PyTorch pads 'same' with ⌊d(k − 1)/2⌋ on the left: 1 for k = 4
    conv = nn.Conv1d(1, 1, 4, padding="same")
    row = receptive_field(nn.Sequential(conv)).final
    assert (row.size, row.padding, row.start) == (4, 1, 0.5)
    assert receptive_field([Layer(3, padding="valid")]).final.start == 1.0
    assert receptive_field([Layer(5, padding="same", dilation=2)]).final.start == 0.0


def test_lenet5():
    lenet5 = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(16, 120, 5), nn.Tanh(),
    )
    rows = receptive_field(lenet5)
    # r: 5; 5 + 1·1 = 6 (j 2); 6 + 4·2 = 14; 14 + 1·2 = 16 (j 4); 16 + 4·4 = 32
    assert [r.size for r in rows] == [(5, 5), (6, 6), (14, 14), (16, 16), (32, 32)]
    assert [r.jump for r in rows] == [(1, 1), (2, 2), (2, 2), (4, 4), (4, 4)]
    # C5's single output sees the whole 32×32 input, centred on its middle (15.5)
    assert rows.final.start == (15.5, 15.5)
    assert [r.name for r in rows] == ["0", "2", "3", "5", "6"]


def test_vgg16():
    with torch.device("meta"):  # geometry only: skip initialising 138 M weights
        features = torchvision.models.vgg16(weights=None).features
    rows = receptive_field(features)
    # By hand, 3×3 convs (pad 1) add 2·j, 2×2 pools (stride 2) add 1·j then double j:
    #   block 1: 3, 5,          pool 6   (j 2)
    #   block 2: 10, 14,        pool 16  (j 4)
    #   block 3: 24, 32, 40,    pool 44  (j 8)
    #   block 4: 60, 76, 92,    pool 100 (j 16)
    #   block 5: 132, 164, 196, pool 212 (j 32)
    # so VGG-16's last conv layer sees 196×196 pixels, and 212×212 after the last pool.
    sizes = [r.size[0] for r in rows]
    assert sizes == [3, 5, 6, 10, 14, 16, 24, 32, 40, 44, 60, 76, 92, 100, 132, 164, 196, 212]
    pools = [r for r in rows if r.kernel_size == (2, 2)]
    assert [p.size[0] for p in pools] == [6, 16, 44, 100, 212]
    assert rows[-2].name == "28"  # features[28], the last Conv2d
    assert rows[-2].size == (196, 196) and rows.final.jump == (32, 32)
    assert rows.final.start == (15.5, 15.5)


def test_specs_as_dicts_and_layers_agree_with_modules():
    module = nn.Sequential(nn.Conv2d(1, 2, (3, 5), stride=(1, 2), padding=(1, 0)),
                           nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
                           nn.Conv2d(2, 2, 3, dilation=(2, 1)), nn.Dropout())
    specs = [dict(kernel_size=(3, 5), stride=(1, 2), padding=(1, 0)),
             Layer(2, 2), Layer(3, dilation=(2, 1))]
    from_module = receptive_field(module)
    from_specs = receptive_field(specs)
    assert [r.size for r in from_module] == [r.size for r in from_specs]
    assert [r.start for r in from_module] == [r.start for r in from_specs]
    assert from_module.final.size == (3 + 1 * 1 + 2 * 2 * 2, 5 + 1 * 2 + 2 * 1 * 4)
    assert from_module.final.jump == (2, 4)


def test_table_printing():
    rows = receptive_field([Layer(3, name="conv1"), Layer(2, stride=2, name="pool")])
    assert isinstance(rows, ReceptiveFieldTable) and isinstance(rows[0], ReceptiveField)
    lines = str(rows).splitlines()
    assert lines[0].split() == ["#", "layer", "kernel", "stride", "padding", "dilation",
                                "size", "r", "jump", "j", "start"]
    assert lines[2].split() == ["1", "conv1", "3", "1", "0", "1", "3", "1", "1"]
    assert lines[3].split() == ["2", "pool", "2", "2", "0", "1", "4", "2", "1.5"]
    assert repr(rows) == str(rows)
    two_d = receptive_field(nn.Sequential(nn.Conv2d(1, 1, (3, 5))))
    assert "3×5" in str(two_d) and "(1, 2)" in str(two_d)
    md = rows.to_markdown().splitlines()
    assert md[0].startswith("| # | layer") and md[1].startswith("|---:|:---|")
    assert len(md) == 4


@pytest.mark.parametrize(("layers", "exc", "words"), [
    (nn.Sequential(nn.Conv2d(1, 1, 3), nn.Flatten(), nn.Linear(4, 2)), ValueError,
     r"cannot follow layer '1' \(Flatten\).*model\.features"),
    (nn.Sequential(nn.Conv2d(1, 1, 3), nn.AdaptiveAvgPool2d(1)), ValueError,
     "cannot follow layer"),
    (nn.Sequential(nn.ReLU()), ValueError, "no convolution or pooling layer"),
    ([], ValueError, "at least one layer"),
    ("conv", TypeError, "layers must be a torch.nn.Module or a list"),
    (3, TypeError, "layers must be a torch.nn.Module or a list"),
    ([(3, 1, 0, 1)], TypeError, r"layers\[0\] must be a Layer"),
    ([{"kernel": 3}], ValueError, r"layers\[0\] has unknown keys \['kernel'\]"),
    ([{"stride": 2}], ValueError, r"layers\[0\] needs a kernel_size"),
    ([Layer(3), Layer(0)], ValueError, r"layers\[1\]: kernel_size must be a positive int"),
    ([Layer(3, stride=0)], ValueError, r"layers\[0\]: stride must be a positive int"),
    ([Layer(3, dilation=-1)], ValueError, r"layers\[0\]: dilation must be a positive int"),
    ([Layer(3, padding=-1)], ValueError, r"layers\[0\]: padding must be non-negative"),
    ([Layer(3, padding="full")], ValueError, "padding must be an int, a tuple, 'valid'"),
    ([Layer(3.0)], TypeError, r"layers\[0\]: kernel_size must be an int or a tuple"),
    ([Layer((3, 3)), Layer((3, 3, 3))], ValueError, "same number of spatial dimensions"),
    ([Layer((3, 3), stride=(1, 1, 1))], ValueError, "same number of spatial dimensions"),
])
def test_receptive_field_errors(layers, exc, words):
    with pytest.raises(exc, match=words):
        receptive_field(layers)


# --- measured with autograd -------------------------------------------------------------------

def predicted_range(rows, index):
    """Input pixels seen by output `index`: start + index·j ± (r − 1)/2, per dimension."""
    final = rows.final
    as_t = (lambda v: v if isinstance(v, tuple) else (v,))  # noqa: E731
    centres = [s + i * j for s, i, j in zip(as_t(final.start), as_t(index), as_t(final.jump),
                                            strict=True)]
    half = [(r - 1) / 2 for r in as_t(final.size)]
    return ([int(c - h) for c, h in zip(centres, half, strict=True)],
            [int(c + h) for c, h in zip(centres, half, strict=True)])


@st.composite
def random_stack(draw, dims):
    conv = (nn.Conv1d, nn.Conv2d)[dims - 1]
    pools = [(nn.MaxPool1d, nn.MaxPool2d)[dims - 1], (nn.AvgPool1d, nn.AvgPool2d)[dims - 1]]
    n_layers = draw(st.integers(1, 4 if dims == 1 else 3))
    channels = draw(st.integers(1, 2))
    layers = []
    for _ in range(n_layers):
        k = draw(st.integers(1, 4))
        stride = draw(st.integers(1, 3))
        padding = draw(st.integers(0, k // 2))
        kind = draw(st.sampled_from(["conv", "conv", "max", "avg"]))
        if kind == "conv":
            out = draw(st.integers(1, 2))
            layers.append(conv(channels, out, k, stride, padding,
                               dilation=draw(st.integers(1, 3 if dims == 1 else 2))))
            channels = out
        elif kind == "max":
            layers.append(pools[0](k, stride, padding, dilation=draw(st.integers(1, 2)),
                                   ceil_mode=draw(st.booleans())))
        else:
            layers.append(pools[1](k, stride, padding))
        if draw(st.booleans()):
            layers.append(draw(st.sampled_from([nn.ReLU(), nn.Tanh(), nn.Identity()])))
    return nn.Sequential(*layers)


def check_measurement(net, dims):
    rows = receptive_field(net)
    as_t = (lambda v: v if isinstance(v, tuple) else (v,))  # noqa: E731
    n = max(as_t(rows.final.size)) * 2 + 2 * max(as_t(rows.final.jump)) + 8
    first_conv = next((m for m in net if hasattr(m, "in_channels")), None)
    shape = (1, first_conv.in_channels if first_conv else 1) + (n,) * dims
    measured = empirical_receptive_field(net, shape)
    first, last = predicted_range(rows, measured.output_index)
    # the centre output's field lies inside the input, so nothing is cut by the border
    assert all(f >= 0 for f in first) and all(la <= n - 1 for la in last)
    assert not measured.touches_border
    assert measured.size == rows.final.size
    assert as_t(measured.first) == tuple(first)
    assert as_t(measured.last) == tuple(last)


@given(random_stack(dims=1))
def test_measured_receptive_field_1d(net):
    check_measurement(net, 1)


@given(random_stack(dims=2))
def test_measured_receptive_field_2d(net):
    check_measurement(net, 2)


def vgg16_geometry_1d(last_pool=True):
    """VGG-16's layer geometry on a 1-channel 1-D signal: same receptive field, cheap."""
    layers = []
    for repeats in (2, 2, 3, 3, 3):
        for _ in range(repeats):
            layers += [nn.Conv1d(1, 1, 3, padding=1), nn.ReLU()]
        layers.append(nn.MaxPool1d(2))
    return nn.Sequential(*(layers if last_pool else layers[:-1]))


def test_vgg16_receptive_field_measured():
    net = vgg16_geometry_1d()
    assert sum(isinstance(m, nn.Conv1d) for m in net) == 13
    measured = empirical_receptive_field(net, (1, 1, 512))
    assert measured.size == receptive_field(net).final.size == 212
    last_conv = empirical_receptive_field(vgg16_geometry_1d(last_pool=False), (1, 1, 512))
    assert last_conv.size == 196


def test_dilation_leaves_holes_but_the_span_matches():
    net = nn.Sequential(nn.Conv1d(1, 1, 3, dilation=3))
    measured = empirical_receptive_field(net, (1, 1, 20), output_index=4)
    assert (measured.size, measured.first, measured.last) == (7, 4, 10)
    assert torch.nonzero(measured.gradient).flatten().tolist() == [4, 7, 10]


def test_measurement_details():
    net = nn.Sequential(nn.Conv2d(3, 4, 3, groups=1), nn.BatchNorm2d(4), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, groups=2), nn.Sigmoid())
    before = {k: v.clone() for k, v in net.state_dict().items()}
    measured = empirical_receptive_field(net, (2, 3, 20, 24), channel=5, output_index=(1, 2))
    assert isinstance(measured, EmpiricalReceptiveField)
    assert measured.size == receptive_field(net).final.size == (8, 8)
    assert measured.output_index == (1, 2)
    # output (1, 2): centre = start + index·jump = 3.5 + (2, 4), ± 3.5
    assert (measured.first, measured.last) == ((2, 4), (9, 11))
    assert measured.gradient.shape == (20, 24)
    assert not measured.touches_border
    for key, value in net.state_dict().items():  # the module is left as it was
        assert torch.equal(value, before[key])
    corner = empirical_receptive_field(net, (1, 3, 20, 24), output_index=(0, 0))
    assert corner.touches_border and corner.first == (0, 0)


def test_adaptive_max_pool_and_a_bare_pool_are_measured():
    net = nn.Sequential(nn.Conv1d(1, 1, 3), nn.AdaptiveMaxPool1d(6))
    measured = empirical_receptive_field(net, (1, 1, 26), output_index=2)
    # input 26 → conv 24 → adaptive windows of 4: output 2 sees conv outputs 8..11
    assert (measured.first, measured.last) == (8, 13)
    assert empirical_receptive_field(nn.MaxPool1d(3, 2), (1, 1, 9)).size == 3


@pytest.mark.parametrize(("args", "kwargs", "exc", "words"), [
    (("net", (1, 1, 8)), {}, TypeError, "module must be a torch.nn.Module"),
    ((nn.Conv1d(1, 1, 3), (1, 8)), {}, ValueError, "1 to 3 spatial dimensions"),
    ((nn.Conv1d(1, 1, 3), (1, 1, 0)), {}, ValueError, "input_shape must be a non-empty tuple"),
    ((nn.Conv1d(1, 1, 3), 8), {}, ValueError, "input_shape must be a non-empty tuple"),
    ((nn.Conv1d(1, 1, 3), (1, 1, 8)), {"channel": -1}, ValueError,
     "channel must be a non-negative int"),
    ((nn.Conv1d(1, 1, 3), (1, 1, 8)), {"channel": 1}, ValueError,
     "channel must be below the output's 1 channels"),
    ((nn.Conv1d(1, 1, 3), (1, 1, 8)), {"output_index": 6}, ValueError,
     "output_index must lie inside"),
    ((nn.Conv1d(1, 1, 3), (1, 1, 8)), {"output_index": -1}, ValueError,
     "output_index must be non-negative"),
    ((nn.Conv2d(1, 1, 3), (1, 1, 8, 8)), {"output_index": (1, 2, 3)}, ValueError,
     "output_index must be an int or a tuple of 2 ints"),
    ((nn.Sequential(nn.Conv1d(1, 1, 3), nn.Flatten(), nn.Linear(6, 2)), (1, 1, 8)), {},
     ValueError, "must keep 1 spatial dimension"),
])
def test_empirical_errors(args, kwargs, exc, words):
    with pytest.raises(exc, match=words):
        empirical_receptive_field(*args, **kwargs)


class Constant(nn.Module):
    def forward(self, x):
        return x * 0


def test_empirical_error_when_output_ignores_input():
    with pytest.raises(ValueError, match="does not depend on the input"):
        empirical_receptive_field(Constant(), (1, 1, 8))


# --- gridding: holes in the receptive field of a dilated stack ------------------------------


def test_gridding_hand_cases():
    # 3×3 layers: offsets Σ t_l·d_l, t_l ∈ {0, 1, 2}
    assert reachable_offsets([1, 4]) == [0, 1, 2, 4, 5, 6, 8, 9, 10]
    assert gridding_holes([1, 4]) == [3, 7]  # ±2 from the centre 5
    assert gridding_holes([2, 2, 2]) == [1, 3, 5, 7, 9, 11]
    assert gridding_holes([2, 3]) == [1, 9]  # no common factor, still holes (±4)
    assert gridding_holes([1, 2, 3]) == gridding_holes([1, 2, 4, 8]) == []
    assert gridding_holes([1, 3]) == []  # 3 ≤ R = 3: just fits
    assert gridding_holes([3, 1, 2]) == []  # the order of the layers does not matter
    assert gridding_holes([5], kernel_size=1) == [] and reachable_offsets([5], 1) == [0]
    assert gridding_holes([1, 3], kernel_size=[2, 2]) == [2]  # 3 > R = 2
    assert reachable_offsets([1, 2], kernel_size=[2, 5]) == list(range(10))
    assert [fills_receptive_field(d) for d in ([1, 2, 4, 8], [1, 4], [2, 2, 2], [1, 3])] == \
        [True, False, False, True]
    assert fills_receptive_field([1, 3], kernel_size=[2, 2]) is False
    assert fills_receptive_field([7, 1], kernel_size=[1, 3]) is True  # k = 1 moves nothing


@st.composite
def dilated_stacks(draw):
    layers = draw(st.integers(1, 5))
    dilations = [draw(st.integers(1, 9)) for _ in range(layers)]
    kernel = draw(st.one_of(st.integers(1, 5),
                            st.lists(st.integers(1, 5), min_size=layers, max_size=layers)))
    return dilations, kernel


@given(dilated_stacks())
def test_the_rule_is_exact(stack):
    """d_{i+1} ≤ R_i (sorted by dilation) holds exactly when enumeration finds no hole."""
    dilations, kernel = stack
    holes = gridding_holes(dilations, kernel)
    assert fills_receptive_field(dilations, kernel) == (not holes)
    ks = kernel if isinstance(kernel, list) else [kernel] * len(dilations)
    size = 1 + sum((k - 1) * d for k, d in zip(ks, dilations, strict=True))
    assert sorted(holes + reachable_offsets(dilations, kernel)) == list(range(size))


@pytest.mark.parametrize("dilations", [[2, 2, 2], [1, 4], [2, 3], [1, 2, 3], [1, 3, 3]])
def test_holes_are_what_autograd_measures(dilations):
    net = nn.Sequential(*[nn.Conv1d(1, 1, 3, dilation=d) for d in dilations])
    measured = empirical_receptive_field(net, (1, 1, 40), output_index=0)
    read = (measured.gradient > 0).nonzero().flatten().tolist()
    assert read == reachable_offsets(dilations)


@pytest.mark.parametrize(("args", "exc", "words"), [
    (([],), ValueError, "at least one layer"),
    (("12",), TypeError, "dilations must be a sequence"),
    ((3,), TypeError, "dilations must be a sequence"),
    (([1, 0],), ValueError, r"dilations\[1\] must be a positive int"),
    (([1, 2.0],), TypeError, r"dilations\[1\] must be a positive int"),
    (([1, 2], 0), ValueError, "kernel_size must be a positive int"),
    (([1, 2], [3]), ValueError, "1 kernel sizes for 2 dilations"),
    (([1, 2], [3, 0]), ValueError, r"kernel_size\[1\] must be a positive int"),
])
def test_gridding_errors(args, exc, words):
    for f in (reachable_offsets, gridding_holes, fills_receptive_field):
        with pytest.raises(exc, match=words):
            f(*args)
