"""cnnlib.separable: kernel rank and best low-rank approximations against the SVD's guarantees,
separable and depthwise separable convolutions against torch.nn.functional.conv2d, and the
measured channel connectivity against the grouping rule."""

import math
from fractions import Fraction

import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from cnnlib.counting import count_macs, count_parameters
from cnnlib.filters import FILTERS, LAPLACIAN_4, SEPARABLE_PARTS, SOBEL_D1, SOBEL_X
from cnnlib.separable import (
    DepthwiseSeparableConv2d,
    channel_connectivity,
    kernel_rank,
    separable_approximation,
    separable_conv2d,
)
from cnnlib.viz.separable import plot_cost_ratios, plot_singular_values

matplotlib.use("Agg")
fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def low_rank(kh, kw, r, seed, dtype=torch.float64):
    """A random (kh, kw) kernel of rank exactly r (generic factors)."""
    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(kh, r, generator=gen, dtype=torch.float64)
    b = torch.randn(r, kw, generator=gen, dtype=torch.float64)
    return (a @ b).to(dtype)


# --- rank -------------------------------------------------------------------------------------

@given(kh=st.integers(1, 6), kw=st.integers(1, 6), data=st.data(),
       seed=st.integers(0, 2**31 - 1), dtype=st.sampled_from([torch.float32, torch.float64]))
def test_rank_of_a_product_of_thin_factors(kh, kw, data, seed, dtype):
    r = data.draw(st.integers(1, min(kh, kw)))
    kernel = low_rank(kh, kw, r, seed, dtype)
    assert kernel_rank(kernel) == r
    assert kernel_rank(kernel) == int(torch.linalg.matrix_rank(kernel))


def test_rank_of_the_course_filters():
    for name, (column, row) in SEPARABLE_PARTS.items():
        assert kernel_rank(FILTERS[name]) == 1, name
        assert torch.equal(FILTERS[name], torch.outer(column.double(), row.double()).float())
    for name in ("sobel_d1", "sobel_d2", "roberts_x", "roberts_y", "laplacian_4",
                 "laplacian_8", "sharpen"):
        assert kernel_rank(FILTERS[name]) == 2, name
    # −∇² = (second difference along y) + (second difference along x): a sum of two
    # separable kernels
    delta, second = torch.tensor([0., 1, 0]), torch.tensor([-1., 2, -1])
    assert torch.equal(LAPLACIAN_4, torch.outer(delta, second) + torch.outer(second, delta))


def test_rank_tolerance_and_zero_kernel():
    assert kernel_rank(torch.zeros(3, 3)) == 0
    kernel = torch.tensor([[1.0, 0.0], [0.0, 1e-3]], dtype=torch.float64)
    assert kernel_rank(kernel) == 2
    assert kernel_rank(kernel, tol=1e-2) == 1
    assert kernel_rank(kernel, tol=0) == 2


@pytest.mark.parametrize("bad, error, match", [
    (torch.ones(3), ValueError, "kernel must be 2-D"),
    (torch.ones(1, 3, 3), ValueError, "kernel must be 2-D"),
    (torch.ones(3, 3, dtype=torch.int64), TypeError, "kernel must be a floating-point"),
    ([[1.0, 2.0]], TypeError, "kernel must be a torch.Tensor"),
])
def test_rank_rejects_non_kernels(bad, error, match):
    with pytest.raises(error, match=match):
        kernel_rank(bad)


def test_rank_rejects_a_negative_tolerance():
    with pytest.raises(ValueError, match="tol must be a non-negative number"):
        kernel_rank(SOBEL_X, tol=-1.0)


# --- best low-rank approximation --------------------------------------------------------------

@given(kh=st.integers(1, 6), kw=st.integers(1, 6), data=st.data(),
       seed=st.integers(0, 2**31 - 1))
def test_approximation_is_optimal_and_its_error_is_the_tail(kh, kw, data, seed):
    kernel = torch.randn(kh, kw, generator=torch.Generator().manual_seed(seed),
                         dtype=torch.float64)
    r = data.draw(st.integers(1, min(kh, kw)))
    approx = separable_approximation(kernel, r)
    sigma = torch.linalg.svdvals(kernel)
    residual = torch.linalg.matrix_norm(kernel - approx.approximation).item()
    assert approx.error == pytest.approx(residual, abs=1e-10)
    assert approx.error == pytest.approx(sigma[r:].square().sum().sqrt().item(), abs=1e-10)
    assert approx.relative_error == pytest.approx(residual / kernel.norm().item(), abs=1e-10)
    assert torch.allclose(approx.columns @ approx.rows, approx.approximation)
    assert approx.columns.shape == (kh, r) and approx.rows.shape == (r, kw)
    assert approx.rank == r
    assert kernel_rank(approx.approximation) <= r
    # Eckart–Young: no other rank-r matrix is closer (try random ones)
    for trial in range(5):
        other = low_rank(kh, kw, r, seed + trial + 1)
        assert torch.linalg.matrix_norm(kernel - other).item() >= approx.error - 1e-10


def test_separable_kernels_are_recovered_exactly():
    for name, (column, row) in SEPARABLE_PARTS.items():
        approx = separable_approximation(FILTERS[name], 1)
        assert approx.error < 1e-6 and approx.relative_error < 1e-6
        assert torch.allclose(torch.outer(approx.columns[:, 0], approx.rows[0]), FILTERS[name],
                              atol=1e-6)
        # the factors are the 1-D parts up to a scale (and sign) shared between them
        cos_c = F.cosine_similarity(approx.columns[:, 0], column, dim=0).abs().item()
        cos_r = F.cosine_similarity(approx.rows[0], row, dim=0).abs().item()
        assert cos_c == pytest.approx(1, abs=1e-6) and cos_r == pytest.approx(1, abs=1e-6)


def test_hand_checked_errors():
    # LAPLACIAN_4 has singular values 2 ± √6 in absolute value: √6 + 2 and √6 − 2
    lap = separable_approximation(LAPLACIAN_4, 1)
    assert lap.singular_values.tolist() == pytest.approx([math.sqrt(6) + 2, math.sqrt(6) - 2,
                                                          0.0], abs=1e-12)
    assert lap.error == pytest.approx(math.sqrt(6) - 2)
    # the diagonal Sobel has two equal singular values: rank 1 keeps exactly half the energy
    diag = separable_approximation(SOBEL_D1, 1)
    assert diag.relative_error == pytest.approx(1 / math.sqrt(2))
    assert separable_approximation(SOBEL_D1, 2).error == pytest.approx(0, abs=1e-12)


def test_approximation_keeps_dtype_and_device(device):
    kernel = SOBEL_D1.to(device)
    approx = separable_approximation(kernel, 2)
    for t in (approx.columns, approx.rows, approx.approximation):
        assert t.dtype == torch.float32 and t.device.type == device.type
    assert torch.allclose(approx.approximation, kernel, atol=1e-6)
    assert separable_approximation(torch.zeros(2, 2), 1).relative_error == 0.0


def test_approximation_rejects_bad_ranks():
    with pytest.raises(ValueError, match=r"rank must be at most min\(kh, kw\) = 2"):
        separable_approximation(torch.ones(2, 5), 3)
    with pytest.raises(ValueError, match="rank must be a positive int"):
        separable_approximation(SOBEL_X, 0)
    with pytest.raises(TypeError, match="rank must be a positive int"):
        separable_approximation(SOBEL_X, 1.0)


# --- separable convolution as two passes ------------------------------------------------------

@st.composite
def separable_cases(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, kh - 2 * ph), 7))
    w = draw(st.integers(max(1, kw - 2 * pw), 7))
    stride = draw(st.sampled_from([1, 2, (1, 2), (3, 1)]))
    padding = draw(st.sampled_from([(ph, pw), ph])) if ph == pw else (ph, pw)
    batch = draw(st.sampled_from([None, 1, 2]))
    channels = draw(st.integers(1, 3))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    shape = ([] if batch is None else [batch]) + [channels, h, w]
    x = torch.randn(shape, generator=gen, dtype=dtype)
    column = torch.randn(kh, generator=gen, dtype=dtype)
    row = torch.randn(kw, generator=gen, dtype=dtype)
    method = draw(st.sampled_from(["loop", "im2col", "toeplitz", "fft"]))
    return x, column, row, stride, padding, method


@fixture_ok
@given(case=separable_cases())
def test_two_passes_equal_one_2d_convolution(case, device):
    x, column, row, stride, padding, method = case
    channels = x.shape[-3]
    kernel = torch.outer(column, row).expand(channels, 1, -1, -1)
    batched = x if x.dim() == 4 else x[None]
    expected = F.conv2d(batched, kernel, stride=stride, padding=padding, groups=channels)
    expected = expected if x.dim() == 4 else expected[0]
    got = separable_conv2d(x.to(device), column.to(device), row.to(device), stride=stride,
                           padding=padding, method=method)
    assert got.device.type == device.type and got.dtype == x.dtype
    tol = 1e-4 if x.dtype == torch.float32 else 1e-10
    assert torch.allclose(got.cpu(), expected, rtol=tol, atol=tol)


def test_two_passes_on_sobel_and_gradients_flow():
    x = torch.randn(1, 2, 9, 8, dtype=torch.float64, requires_grad=True)
    column, row = (t.double() for t in SEPARABLE_PARTS["sobel_x"])
    y = separable_conv2d(x, column, row, padding=1)
    expected = F.conv2d(x, SOBEL_X.double().expand(2, 1, 3, 3), padding=1, groups=2)
    assert torch.allclose(y, expected)
    column = column.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda a, c: separable_conv2d(a, c, row),
                                    (x[:, :, :4, :4].detach().requires_grad_(), column))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(input=torch.ones(3, 3)), ValueError, "input must be 3-D or 4-D"),
    (dict(column=torch.ones(3, 1)), ValueError, r"column must be 1-D \(kh,\)"),
    (dict(row=torch.ones(1, 3)), ValueError, r"row must be 1-D \(kw,\)"),
    (dict(row=torch.ones(3, dtype=torch.int64)), TypeError, "row must be a floating-point"),
    (dict(stride=0), ValueError, "stride must be"),
    (dict(padding=-1), ValueError, "padding must be non-negative"),
])
def test_separable_conv2d_rejects_bad_arguments(kwargs, error, match):
    args = dict(input=torch.ones(1, 5, 5), column=torch.ones(3), row=torch.ones(3))
    args.update(kwargs)
    with pytest.raises(error, match=match):
        separable_conv2d(**args)


# --- depthwise separable layers ---------------------------------------------------------------

@st.composite
def layer_cases(draw):
    c_in, c_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    k = draw(st.integers(1, 3))
    stride, padding, dilation = (draw(st.integers(1, 2)), draw(st.integers(0, 2)),
                                 draw(st.integers(1, 2)))
    size = draw(st.integers(max(1, dilation * (k - 1) + 1 - 2 * padding), 7))
    bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**31 - 1))
    return c_in, c_out, k, stride, padding, dilation, size, bias, seed


@fixture_ok
@given(case=layer_cases())
def test_layer_is_depthwise_then_pointwise_and_a_factored_full_conv(case, device):
    c_in, c_out, k, stride, padding, dilation, size, bias, seed = case
    torch.manual_seed(seed)
    layer = DepthwiseSeparableConv2d(c_in, c_out, k, stride, padding, dilation,
                                     bias=bias).double().to(device)
    x = torch.randn(2, c_in, size, size, dtype=torch.float64, device=device)
    dw, pw = layer.depthwise.weight, layer.pointwise.weight
    b = layer.pointwise.bias
    expected = F.conv2d(F.conv2d(x, dw, None, stride, padding, dilation, groups=c_in), pw, b)
    assert torch.allclose(layer(x), expected)
    full = F.conv2d(x, layer.equivalent_weight(), b, stride, padding, dilation)
    assert torch.allclose(layer(x), full)
    assert layer.equivalent_weight().shape == (c_out, c_in, k, k)
    assert count_parameters(layer) == c_in * k * k + c_in * c_out + (c_out if bias else 0)


@pytest.mark.parametrize("c_in, c_out, k, size", [(3, 8, 3, 9), (32, 64, 3, 16),
                                                  (16, 16, 5, 12), (8, 100, 7, 10)])
def test_parameters_and_macs_follow_the_mobilenet_ratio(c_in, c_out, k, size):
    sep = DepthwiseSeparableConv2d(c_in, c_out, k, padding=k // 2, bias=False)
    full = nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False)
    ratio = Fraction(1, c_out) + Fraction(1, k * k)
    assert Fraction(count_parameters(sep), count_parameters(full)) == ratio
    shape = (1, c_in, size, size)
    assert Fraction(count_macs(sep, shape), count_macs(full, shape)) == ratio
    assert count_macs(sep, shape) == size * size * (c_in * k * k + c_in * c_out)


def test_layer_rejects_bad_arguments():
    with pytest.raises(ValueError, match="in_channels must be a positive int"):
        DepthwiseSeparableConv2d(0, 4, 3)
    with pytest.raises(TypeError, match="out_channels must be a positive int"):
        DepthwiseSeparableConv2d(4, 2.0, 3)
    with pytest.raises(TypeError, match="bias must be True or False"):
        DepthwiseSeparableConv2d(4, 4, 3, bias="yes")


# --- channel connectivity ---------------------------------------------------------------------

def block_diagonal(c_out, c_in, groups):
    o = torch.arange(c_out)[:, None] // (c_out // groups)
    c = torch.arange(c_in)[None, :] // (c_in // groups)
    return o == c


@given(groups=st.integers(1, 4), a=st.integers(1, 3), b=st.integers(1, 3),
       k=st.integers(1, 3), dims=st.sampled_from([1, 2]))
def test_grouped_convolution_is_block_diagonal(groups, a, b, k, dims):
    c_in, c_out = groups * a, groups * b
    conv = (nn.Conv1d if dims == 1 else nn.Conv2d)(c_in, c_out, k, groups=groups)
    seen = channel_connectivity(conv, (1, c_in, *([k + 1] * dims)))
    assert seen.dtype == torch.bool and seen.shape == (c_out, c_in)
    assert torch.equal(seen, block_diagonal(c_out, c_in, groups))


def test_connectivity_composes_and_separable_layers_see_everything():
    stack = nn.Sequential(nn.Conv2d(8, 8, 3, groups=4), nn.ReLU(), nn.Conv2d(8, 8, 1, groups=2))
    seen = channel_connectivity(stack, (1, 8, 6, 6))
    first = block_diagonal(8, 8, 4).double()
    second = block_diagonal(8, 8, 2).double()
    assert torch.equal(seen, (second @ first) > 0)
    assert channel_connectivity(DepthwiseSeparableConv2d(4, 6, 3), (1, 4, 5, 5)).all()
    depthwise = channel_connectivity(nn.Conv2d(5, 5, 3, groups=5), (1, 5, 3, 3))
    assert torch.equal(depthwise, torch.eye(5, dtype=torch.bool))


def test_connectivity_leaves_the_module_alone_and_rejects_bad_arguments():
    conv = nn.Conv2d(2, 2, 3)
    before = conv.weight.detach().clone()
    channel_connectivity(conv, (1, 2, 4, 4))
    assert torch.equal(conv.weight, before) and conv.weight.dtype == torch.float32
    with pytest.raises(TypeError, match=r"module must be a torch\.nn\.Module"):
        channel_connectivity(lambda x: x, (1, 2, 4, 4))
    with pytest.raises(ValueError, match="input_shape must be a tuple of at least 3 positive ints"):
        channel_connectivity(conv, (2, 4, 4)[:2])
    with pytest.raises(ValueError, match="input_shape must be a tuple of at least 3 positive ints"):
        channel_connectivity(conv, (1, 2, 0, 4))


# --- figures ----------------------------------------------------------------------------------

def test_singular_value_bars_show_sigma_over_sigma_one():
    kernels = {"sobel x": SOBEL_X, "laplacian": LAPLACIAN_4, "roberts": FILTERS["roberts_x"]}
    fig = plot_singular_values(kernels)
    ax = fig.axes[0]
    for name, kernel in kernels.items():
        sigma = torch.linalg.svdvals(kernel.double())
        bars = [p for p in ax.patches if str(p.get_gid()).startswith(f"sigma:{name}:")]
        assert len(bars) == min(kernel.shape)
        assert [b.get_height() for b in bars] == pytest.approx((sigma / sigma[0]).tolist())
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["sobel x\nrank 1", "laplacian\nrank 2", "roberts\nrank 2"]
    assert not plt.fignum_exists(fig.number)
    with pytest.raises(ValueError, match="kernels must be a non-empty dict"):
        plot_singular_values({})


def test_cost_ratio_plot_marks_the_measurements():
    c_outs = [8, 32, 128]
    measured = {3: [1 / c + 1 / 9 for c in c_outs], 5: [1 / c + 1 / 25 for c in c_outs]}
    fig = plot_cost_ratios(c_outs, measured)
    ax = fig.axes[0]
    for k, ratios in measured.items():
        (line,) = [ln for ln in ax.lines if ln.get_gid() == f"measured:{k}"]
        assert list(line.get_xdata()) == c_outs
        assert list(line.get_ydata()) == pytest.approx(ratios)
    with pytest.raises(ValueError, match="must have one ratio per C_out"):
        plot_cost_ratios(c_outs, {3: [0.5]})
    with pytest.raises(ValueError, match="c_outs must be non-empty"):
        plot_cost_ratios([], measured)
