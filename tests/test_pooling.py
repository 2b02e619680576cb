"""cnnlib.pooling against PyTorch: random cases, indices and ties, gradients, worked examples.

The oracle is torch.nn.functional, always evaluated on the CPU.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnnlib.arithmetic import pool_output_size
from cnnlib.pooling import (
    avg_pool1d,
    avg_pool2d,
    global_avg_pool2d,
    global_max_pool2d,
    lp_pool1d,
    lp_pool2d,
    max_pool1d,
    max_pool2d,
)

MAX = {1: (max_pool1d, F.max_pool1d), 2: (max_pool2d, F.max_pool2d)}
AVG = {1: (avg_pool1d, F.avg_pool1d), 2: (avg_pool2d, F.avg_pool2d)}
LP = {1: (lp_pool1d, F.lp_pool1d), 2: (lp_pool2d, F.lp_pool2d)}
fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
nan, inf = math.nan, math.inf


def tolerances(dtype):
    return {"rtol": 1e-5, "atol": 1e-6} if dtype == torch.float32 else {"rtol": 1e-12,
                                                                        "atol": 1e-12}


def one_or_tuple(draw, items):
    """Pass the per-dimension values as an int (when all equal, half the time) or a tuple."""
    if len(set(items)) == 1 and draw(st.booleans()):
        return items[0]
    return tuple(items)


@st.composite
def pool_cases(draw, dims, *, padding=True, dilation=True, values="any"):
    """Random valid pooling arguments and an input (small shapes).

    ``values``: "any" (Gaussian, or small integers so that windows hold ties), "positive".
    """
    kernel = [draw(st.integers(1, 3)) for _ in range(dims)]
    stride = None if draw(st.booleans()) else [draw(st.integers(1, 3)) for _ in range(dims)]
    pad = [draw(st.integers(0, k // 2)) if padding else 0 for k in kernel]
    dil = [draw(st.integers(1, 2)) if dilation else 1 for _ in range(dims)]
    ceil_mode = draw(st.booleans())
    # every window span d(k − 1) + 1 must fit in the padded input n + 2p
    sizes = [draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 7))
             for k, p, d in zip(kernel, pad, dil, strict=True)]
    batch = draw(st.sampled_from([None, 1, 2]))
    channels = draw(st.integers(1, 3))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    shape = ([] if batch is None else [batch]) + [channels, *sizes]
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    if values == "positive":
        x = torch.rand(shape, generator=gen, dtype=dtype) + 0.1
    elif draw(st.booleans()):
        x = torch.randint(-2, 3, shape, generator=gen).to(dtype)  # many ties
    else:
        x = torch.randn(shape, generator=gen, dtype=dtype)
    kwargs = dict(kernel_size=one_or_tuple(draw, kernel),
                  stride=None if stride is None else one_or_tuple(draw, stride),
                  ceil_mode=ceil_mode)
    if padding:
        kwargs["padding"] = one_or_tuple(draw, pad)
    if dilation:
        kwargs["dilation"] = one_or_tuple(draw, dil)
    return x, kwargs


# ------------------------------------------------------------------------ max pooling
@pytest.mark.parametrize("dims", [1, 2])
@fixture_ok
@given(data=st.data())
def test_max_pool_matches_torch_values_and_indices(dims, data, device):
    ours, theirs = MAX[dims]
    x, kwargs = data.draw(pool_cases(dims))
    expected, expected_idx = theirs(x, **kwargs, return_indices=True)
    got, got_idx = ours(x.to(device), **kwargs, return_indices=True)
    assert got.device.type == device.type and got_idx.dtype == torch.int64
    assert torch.equal(got.cpu(), expected)  # a maximum is selected, never computed
    assert torch.equal(got_idx.cpu(), expected_idx)  # same tie-breaking
    assert torch.equal(ours(x.to(device), **kwargs).cpu(), expected)


@pytest.mark.parametrize("dims", [1, 2])
@given(data=st.data())
def test_max_pool_gradient_matches_torch(dims, data):
    ours, theirs = MAX[dims]
    x, kwargs = data.draw(pool_cases(dims))
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_a, out_b = ours(a, **kwargs), theirs(b, **kwargs)
    # a window wholly in the padding (−∞) has an out-of-range index, and PyTorch's backward
    # then writes its gradient into the next plane (test below); compare the rest
    assume(bool(torch.isfinite(out_b).all()))
    upstream = torch.randn_like(out_b)
    (ga,), (gb,) = torch.autograd.grad(out_a, a, upstream), torch.autograd.grad(out_b, b,
                                                                                 upstream)
    torch.testing.assert_close(ga, gb, **tolerances(x.dtype))  # ties: same winner


@pytest.mark.parametrize("dims", [1, 2])
@given(data=st.data())
def test_pool_output_size_is_the_arithmetic(dims, data):
    x, kwargs = data.draw(pool_cases(dims))
    got = MAX[dims][0](x, **kwargs)

    def entry(key, i, default):
        value = kwargs.get(key)
        value = default if value is None else value
        return value[i] if isinstance(value, tuple) else value

    for i in range(dims):
        k = entry("kernel_size", i, None)
        expected = pool_output_size(x.shape[-dims + i], k, entry("stride", i, k),
                                    entry("padding", i, 0), entry("dilation", i, 1),
                                    kwargs["ceil_mode"])
        assert got.shape[-dims + i] == expected


def test_max_pool_ties_go_to_the_first_maximum_in_row_major_order():
    x = torch.tensor([[[[1.0, 7.0, 7.0],
                        [7.0, 2.0, 7.0]]]])
    values, idx = max_pool2d(x, (2, 3), return_indices=True)
    assert values.item() == 7.0 and idx.item() == 1  # not 2, 3 or 5
    assert torch.equal(idx, F.max_pool2d(x, (2, 3), return_indices=True)[1])


def test_max_pool_nan_wins_and_its_index_is_the_last_nan():
    x = torch.tensor([[[1.0, 3.0, 3.0, 2.0, nan, 1.0, nan, 2.0, -inf, -inf]]])
    values, idx = max_pool1d(x, 3, stride=1, return_indices=True)
    expected_values = torch.tensor([[[3.0, 3.0, nan, nan, nan, nan, nan, 2.0]]])
    torch.testing.assert_close(values, expected_values, equal_nan=True)
    assert idx.tolist() == [[[1, 1, 4, 4, 6, 6, 6, 7]]]
    torch_values, torch_idx = F.max_pool1d(x, 3, stride=1, return_indices=True)
    torch.testing.assert_close(values, torch_values, equal_nan=True)
    assert torch.equal(idx, torch_idx)


def test_max_pool_indices_are_flat_positions_in_the_unpadded_plane():
    x = torch.arange(12.0).reshape(1, 3, 4)  # unbatched (C=1, H=3, W=4)
    values, idx = max_pool2d(x, 2, stride=2, padding=1, return_indices=True)
    # windows (with padding −∞) end at rows 0, 2 and columns 0, 2, 3: maxima 0, 2, 3, 8, 10, 11
    assert values.tolist() == [[[0.0, 2.0, 3.0], [8.0, 10.0, 11.0]]]
    assert idx.tolist() == [[[0, 2, 3], [8, 10, 11]]]  # = row·4 + col, here equal to x


def test_max_pool_window_wholly_in_padding_is_minus_inf_like_torch():
    # dilation 2, padding 1, kernel 2 on a length-1 signal: the taps read positions −1 and 1
    x = torch.tensor([[[5.0]]])
    values, idx = max_pool1d(x, 2, stride=1, padding=1, dilation=2, return_indices=True)
    assert values.item() == -inf and idx.item() == 1  # PyTorch's own (out-of-range) index
    assert torch.equal(idx, F.max_pool1d(x, 2, 1, 1, 2, return_indices=True)[1])
    # in 2D the index is row·W + col of the first tap at or after (0, 0): rows −1, 1 → 1
    x = torch.tensor([[[[5.0, 6.0]]]])
    values, idx = max_pool2d(x, 2, stride=1, padding=1, dilation=2, return_indices=True)
    assert values.tolist() == [[[[-inf, -inf]]]] and idx.tolist() == [[[[3, 2]]]]
    assert torch.equal(idx, F.max_pool2d(x, 2, 1, 1, 2, return_indices=True)[1])


def test_max_pool_window_in_padding_gets_no_gradient():
    # PyTorch's backward scatters to the bogus index 1 of channel 0, i.e. into channel 1's
    # only element (tensor([[0.], [10.]]) in torch 2.14); the correct gradient is zero
    x = torch.tensor([[1.5], [-0.3]], requires_grad=True)
    max_pool1d(x, 2, stride=1, padding=1, dilation=2).backward(torch.tensor([[10.0], [20.0]]))
    assert x.grad.tolist() == [[0.0], [0.0]]


def test_gradcheck_max_pool2d():
    x = torch.randn(1, 2, 5, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    x.requires_grad_()  # distinct values: no ties, so the max is differentiable
    assert torch.autograd.gradcheck(
        lambda x: max_pool2d(x, 2, stride=1, padding=1, dilation=(1, 2)), (x,))


# ----------------------------------------------------------------------- avg pooling
@pytest.mark.parametrize("dims", [1, 2])
@fixture_ok
@given(data=st.data())
def test_avg_pool_matches_torch(dims, data, device):
    ours, theirs = AVG[dims]
    x, kwargs = data.draw(pool_cases(dims, dilation=False))
    kwargs["count_include_pad"] = data.draw(st.booleans())
    if dims == 2 and data.draw(st.booleans()):
        kwargs["divisor_override"] = data.draw(st.sampled_from([-3, 1, 2, 5]))
    got = ours(x.to(device), **kwargs)
    assert got.device.type == device.type and got.dtype == x.dtype
    torch.testing.assert_close(got.cpu(), theirs(x, **kwargs), **tolerances(x.dtype))


def test_gradcheck_avg_pool2d_ceil_mode_and_padding():
    x = torch.randn(2, 1, 5, 4, dtype=torch.float64, requires_grad=True)
    for count_include_pad in (True, False):
        assert torch.autograd.gradcheck(
            lambda x, c=count_include_pad: avg_pool2d(x, 3, stride=2, padding=1,
                                                      ceil_mode=True, count_include_pad=c),
            (x,))


def test_gradcheck_avg_pool1d_unbatched():
    x = torch.randn(2, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: avg_pool1d(x, 2, stride=3, padding=1), (x,))


def test_avg_pool_divisors_by_hand():
    x = torch.ones(1, 1, 3)  # windows of 2, stride 2, padding 1: [pad, 1], [1, 1]
    assert avg_pool1d(x, 2, padding=1).tolist() == [[[0.5, 1.0]]]  # the pad counts
    assert avg_pool1d(x, 2, padding=1, count_include_pad=False).tolist() == [[[1.0, 1.0]]]
    # ceil_mode adds a window [1, past-the-end]: positions past the input never count
    assert avg_pool1d(torch.ones(1, 1, 3), 2, ceil_mode=True).tolist() == [[[1.0, 1.0]]]
    assert avg_pool2d(torch.ones(1, 2, 2), 2, divisor_override=4).tolist() == [[[1.0]]]
    assert avg_pool2d(torch.ones(1, 2, 2), 2, divisor_override=-8).tolist() == [[[-0.5]]]


# ------------------------------------------------------------------------ Lp pooling
@pytest.mark.parametrize("dims", [1, 2])
@fixture_ok
@given(data=st.data())
def test_lp_pool_matches_torch(dims, data, device):
    ours, theirs = LP[dims]
    sign = data.draw(st.sampled_from(["any", "positive"]))
    x, kwargs = data.draw(pool_cases(dims, padding=False, dilation=False, values=sign))
    p = data.draw(st.sampled_from([1, 2, 3, 4, 1.5, 0.5, 2.0, inf]))
    if dims == 1:  # F.lp_pool1d multiplies by kernel_size, so it takes ints only
        kwargs = {k: v[0] if isinstance(v, tuple) else v for k, v in kwargs.items()}
    expected = theirs(x, p, **kwargs)
    got = ours(x.to(device), p, **kwargs)
    assert got.device.type == device.type
    # signed powers: NaN where torch gives NaN (negative x with fractional p, odd p < 0 sums)
    torch.testing.assert_close(got.cpu(), expected, equal_nan=True, **tolerances(x.dtype))


@pytest.mark.parametrize("dims", [1, 2])
@given(data=st.data())
def test_lp_pool_inf_is_the_limit_of_large_p(dims, data):
    """For x > 0: max ≤ (Σ xᵖ)^(1/p) ≤ K^(1/p)·max, so p → ∞ gives max pooling of |x|."""
    ours, _ = LP[dims]
    x, kwargs = data.draw(pool_cases(dims, padding=False, dilation=False, values="positive"))
    x = x.double() + 0.4  # in [0.5, 1.5]: x^512 stays a normal float64
    limit = ours(x, inf, **kwargs)
    k = kwargs["kernel_size"]
    window = math.prod(k) if isinstance(k, tuple) else k**dims
    assert torch.equal(limit, MAX[dims][0](x.abs(), **kwargs))
    previous_gap = None
    for p in (4, 32, 512):
        lp = ours(x, p, **kwargs)
        # ceil_mode's partial windows are rescaled by K/m (torch's rule), still ≤ K^(1/p)·max
        assert torch.all(lp >= limit * (1 - 1e-12))
        assert torch.all(lp <= limit * window ** (1 / p) * (1 + 1e-12))
        gap = (lp - limit).max()
        assert previous_gap is None or gap <= previous_gap
        previous_gap = gap


def test_lp_pool_by_hand():
    x = torch.tensor([[[3.0, 4.0, -1.0, -2.0, -5.0, 2.0]]])
    torch.testing.assert_close(lp_pool1d(x, 2, 2),
                               torch.tensor([[[5.0, math.sqrt(5.0), math.sqrt(29.0)]]]))
    assert torch.equal(lp_pool1d(x, 1, 2), torch.tensor([[[7.0, -3.0, -3.0]]]))  # signed sums
    assert torch.equal(lp_pool1d(x, inf, 2), torch.tensor([[[4.0, 2.0, 5.0]]]))  # max |x|
    # odd p, negative sum: (−9)^(1/3) is NaN in PyTorch's real arithmetic, and here
    assert torch.isnan(lp_pool1d(x, 3, 2)[0, 0, 1])


def test_lp_pool_ceil_mode_rescales_the_partial_window_like_torch():
    # windows [0, 1], [2, 3], [4]: the last one averages over 1 position, then × K = 2
    x = torch.arange(5.0).reshape(1, 1, 5)
    assert lp_pool1d(x, 1, 2, ceil_mode=True).tolist() == [[[1.0, 5.0, 8.0]]]
    assert torch.equal(lp_pool1d(x, 1, 2, ceil_mode=True), F.lp_pool1d(x, 1, 2, ceil_mode=True))


def test_lp_pool_zero_window_has_zero_gradient_like_torch():
    x = torch.tensor([[[0.0, 0.0, 1.0, 2.0]]], dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(lp_pool1d(x, 2, 2).sum(), x)
    expected = torch.tensor([[[0.0, 0.0, 1 / math.sqrt(5), 2 / math.sqrt(5)]]],
                            dtype=torch.float64)
    torch.testing.assert_close(grad, expected)
    y = x.detach().clone().requires_grad_()
    (torch_grad,) = torch.autograd.grad(F.lp_pool1d(y, 2, 2).sum(), y)
    torch.testing.assert_close(grad, torch_grad)


def test_gradcheck_lp_pool():
    gen = torch.Generator().manual_seed(4)
    x2 = (torch.rand(1, 2, 5, 5, generator=gen, dtype=torch.float64) + 0.5).requires_grad_()
    x1 = (torch.rand(2, 7, generator=gen, dtype=torch.float64) + 0.5).requires_grad_()
    for p in (1, 2, 3, 1.5):
        assert torch.autograd.gradcheck(
            lambda x, p=p: lp_pool2d(x, p, (2, 3), stride=(2, 1), ceil_mode=True), (x2,))
        assert torch.autograd.gradcheck(lambda x, p=p: lp_pool1d(x, p, 3, stride=2), (x1,))


# -------------------------------------------------------------------- global pooling
@pytest.mark.parametrize("batched", [True, False])
def test_global_pools_match_adaptive_pooling(batched, device):
    x = torch.randn(2, 3, 4, 5) if batched else torch.randn(3, 4, 5)
    avg, mx = global_avg_pool2d(x.to(device)), global_max_pool2d(x.to(device))
    assert avg.shape == mx.shape == x.shape[:-2]
    torch.testing.assert_close(avg.cpu(), F.adaptive_avg_pool2d(x, 1).reshape(x.shape[:-2]))
    assert torch.equal(mx.cpu(), F.adaptive_max_pool2d(x, 1).reshape(x.shape[:-2]))


# ------------------------------------------------------------------ worked examples
# A 6×6 input (reference/lecture_examples.ipynb lists where it comes from): its feature map
# under the 3×3 "X" filter (1 0 1 / 0 1 0 / 1 0 1, padding 1) and its 2×2 max pooling.
X_FILTER_INPUT = [[3, 3, 2, 1, 0, 0],
                  [3, 3, 2, 1, 0, 0],
                  [3, 3, 2, 1, 0, 0],
                  [3, 3, 3, 2, 0, 0],
                  [3, 3, 2, 1, 0, 0],
                  [3, 2, 1, 1, 0, 0]]
X_FILTER_FEATURE_MAP = [[6, 8, 6, 3, 1, 0],
                        [9, 13, 10, 5, 2, 0],
                        [9, 14, 11, 6, 3, 0],
                        [9, 13, 11, 6, 2, 0],
                        [8, 13, 10, 5, 3, 0],
                        [6, 7, 5, 3, 1, 0]]


def test_x_filter_feature_map_and_its_2x2_max_pooling(device):
    # recomputed: the printed feature map is right (checked here through torch's conv2d)
    x = torch.tensor([[X_FILTER_INPUT]], dtype=torch.float64)
    cross = torch.tensor([[[[1.0, 0, 1], [0, 1, 0], [1, 0, 1]]]], dtype=torch.float64)
    assert F.conv2d(x, cross, padding=1)[0, 0].tolist() == X_FILTER_FEATURE_MAP
    # 2×2 windows, stride 2: e.g. max(6, 8, 9, 13) = 13, max(3, 0, 2, 0) = 3
    fmap = torch.tensor([X_FILTER_FEATURE_MAP], dtype=torch.float64, device=device)
    assert max_pool2d(fmap, 2).tolist() == [[[13, 10, 2],
                                             [14, 11, 3],
                                             [13, 10, 3]]]


# Max and average pooling with 3×3 windows on another 6×6 input (also listed there).
POOL_6X6_INPUT = [[3, 5, 3, 17, 19, 15],
                  [4, 5, 7, 18, 19, 14],
                  [3, 7, 1, 16, 29, 1],
                  [1, 1, 2, 5, 3, 1],
                  [2, 2, 3, 13, 5, 3],
                  [2, 3, 2, 15, 4, 4]]


def test_max_and_average_pooling_3x3_on_6x6(device):
    x = torch.tensor([POOL_6X6_INPUT], dtype=torch.float64, device=device)
    assert max_pool2d(x, 3).tolist() == [[[7, 29], [3, 15]]]  # as printed in the source
    # window sums 38, 148, 18 and 53. The source prints 4.3, 16.4, 1.88, 5.88: two slips —
    # 38/9 = 4.22 (not 4.3) and 18/9 = 2 (not 1.88; that is 17/9); 16.44 and 5.89 are right
    # up to rounding.
    expected = torch.tensor([[[38 / 9, 148 / 9], [18 / 9, 53 / 9]]], dtype=torch.float64)
    torch.testing.assert_close(avg_pool2d(x, 3).cpu(), expected)


# ----------------------------------------------------------------------- validation
X1, X2 = torch.randn(1, 2, 6), torch.randn(1, 2, 6, 6)
POOLS = {
    "max_pool1d": (max_pool1d, X1, {}), "max_pool2d": (max_pool2d, X2, {}),
    "avg_pool1d": (avg_pool1d, X1, {}), "avg_pool2d": (avg_pool2d, X2, {}),
    "lp_pool1d": (lp_pool1d, X1, {"norm_type": 2}), "lp_pool2d": (lp_pool2d, X2, {"norm_type": 2}),
}


def call(name, x=None, **kwargs):
    fn, default_x, extra = POOLS[name]
    return fn(default_x if x is None else x, **{**extra, **kwargs})


@pytest.mark.parametrize("name", POOLS)
def test_rejects_integer_tensor(name):
    x = POOLS[name][1].to(torch.int64)
    with pytest.raises(TypeError, match="input must be a floating-point tensor"):
        call(name, x, kernel_size=2)


@pytest.mark.parametrize("name", POOLS)
def test_rejects_non_tensor(name):
    with pytest.raises(TypeError, match=r"input must be a torch\.Tensor"):
        call(name, [[1.0, 2.0]], kernel_size=2)


@pytest.mark.parametrize("name", POOLS)
def test_rejects_wrong_ndim(name):
    dims = int(name[-2])
    with pytest.raises(ValueError, match=rf"input must be {dims + 1}-D or {dims + 2}-D"):
        call(name, torch.randn(*[3] * dims), kernel_size=2)


@pytest.mark.parametrize("name", POOLS)
def test_rejects_non_positive_kernel_size(name):
    with pytest.raises(ValueError, match=r"kernel_size must be (a )?positive int"):
        call(name, kernel_size=0)


@pytest.mark.parametrize("name", POOLS)
def test_rejects_non_positive_stride(name):
    with pytest.raises(ValueError, match="stride must be"):
        call(name, kernel_size=2, stride=0)


@pytest.mark.parametrize("name", POOLS)
def test_rejects_kernel_larger_than_the_padded_input(name):
    with pytest.raises(ValueError, match="larger than the padded input"):
        call(name, kernel_size=7)


@pytest.mark.parametrize("name", POOLS)
def test_rejects_non_bool_ceil_mode(name):
    with pytest.raises(TypeError, match="ceil_mode must be True or False"):
        call(name, kernel_size=2, ceil_mode="yes")


@pytest.mark.parametrize("name", ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d"])
def test_rejects_negative_padding(name):
    with pytest.raises(ValueError, match="padding must be non-negative"):
        call(name, kernel_size=2, padding=-1)


@pytest.mark.parametrize("name", ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d"])
def test_rejects_padding_over_half_the_kernel(name):
    with pytest.raises(ValueError, match="padding must be at most half of kernel_size, got "
                                         "padding=2 for kernel_size=3"):
        call(name, kernel_size=3, padding=2)


@pytest.mark.parametrize("name", ["max_pool1d", "max_pool2d"])
def test_rejects_non_positive_dilation(name):
    with pytest.raises(ValueError, match="dilation must be"):
        call(name, kernel_size=2, dilation=0)


@pytest.mark.parametrize("name", ["max_pool1d", "max_pool2d"])
def test_rejects_non_bool_return_indices(name):
    with pytest.raises(TypeError, match="return_indices must be True or False"):
        call(name, kernel_size=2, return_indices=1)


@pytest.mark.parametrize("name", ["avg_pool1d", "avg_pool2d"])
def test_rejects_non_bool_count_include_pad(name):
    with pytest.raises(TypeError, match="count_include_pad must be True or False"):
        call(name, kernel_size=2, count_include_pad=None)


def test_rejects_bad_divisor_override():
    with pytest.raises(ValueError, match="divisor_override must be a non-zero int or None, "
                                         "got 0"):
        avg_pool2d(X2, 2, divisor_override=0)
    with pytest.raises(TypeError, match="divisor_override must be a non-zero int"):
        avg_pool2d(X2, 2, divisor_override=2.5)


def test_rejects_kernel_tuple_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"kernel_size must be an int or a tuple of 2 ints"):
        max_pool2d(X2, (2, 2, 2))
    with pytest.raises(ValueError, match=r"stride must be positive ints"):
        avg_pool2d(X2, 2, stride=(1, 0))


def test_rejects_empty_input():
    with pytest.raises(ValueError, match="input must have a non-empty spatial size"):
        max_pool1d(torch.randn(1, 2, 0), 1)


@pytest.mark.parametrize("name", ["lp_pool1d", "lp_pool2d"])
@pytest.mark.parametrize("p", [0, -1, -2.5, -inf, nan])
def test_rejects_non_positive_norm_type(name, p):
    with pytest.raises(ValueError, match="norm_type must be a positive number"):
        call(name, kernel_size=2, norm_type=p)


@pytest.mark.parametrize("name", ["lp_pool1d", "lp_pool2d"])
@pytest.mark.parametrize("p", ["2", True, None])
def test_rejects_non_numeric_norm_type(name, p):
    with pytest.raises(TypeError, match="norm_type must be a positive number"):
        call(name, kernel_size=2, norm_type=p)


@pytest.mark.parametrize("fn", [global_avg_pool2d, global_max_pool2d])
def test_global_pools_reject_bad_input(fn):
    with pytest.raises(ValueError, match="input must be 3-D or 4-D"):
        fn(torch.randn(4, 4))
    with pytest.raises(TypeError, match="input must be a floating-point tensor"):
        fn(torch.ones(1, 2, 3, 3, dtype=torch.int32))
