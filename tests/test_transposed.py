"""cnnlib.transposed against PyTorch: random cases, adjointness, gradients, hand-worked cases.

The oracle is torch.nn.functional.conv_transpose1d/2d, always evaluated on the CPU (so that a
GPU run compares with an exact float32 reference, free of TF32 shortcuts).
"""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnnlib.arithmetic import conv_transpose_output_size
from cnnlib.transposed import conv_transpose1d, conv_transpose2d

OURS = {1: conv_transpose1d, 2: conv_transpose2d}
TORCH = {1: F.conv_transpose1d, 2: F.conv_transpose2d}
CONV = {1: F.conv1d, 2: F.conv2d}
fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def tolerances(dtype):
    return {"rtol": 1e-5, "atol": 1e-5} if dtype == torch.float32 else {"rtol": 1e-10,
                                                                        "atol": 1e-10}


def per_dim(draw, dims, values):
    """An int (same in every dimension) or a tuple with one entry per dimension."""
    items = tuple(draw(values) for _ in range(dims))
    return items if draw(st.booleans()) else items[0]


def as_list(value, dims):
    return list(value) if isinstance(value, tuple) else [value] * dims


@st.composite
def transpose_cases(draw, dims):
    """Random valid arguments of conv_transpose{dims}d, small enough to stay fast."""
    groups = draw(st.integers(1, 3))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    batch = draw(st.sampled_from([None, 1, 2]))  # None: unbatched input
    sizes = [draw(st.integers(1, 5)) for _ in range(dims)]
    kernel = [draw(st.integers(1, 3)) for _ in range(dims)]
    stride = per_dim(draw, dims, st.integers(1, 3))
    dilation = per_dim(draw, dims, st.integers(1, 2))
    padding = per_dim(draw, dims, st.integers(0, 2))
    s, d = as_list(stride, dims), as_list(dilation, dims)
    output_padding = tuple(draw(st.integers(0, max(s[i], d[i]) - 1)) for i in range(dims))
    for n, k, si, p, op, di in zip(sizes, kernel, s, as_list(padding, dims), output_padding,
                                   d, strict=True):
        assume((n - 1) * si - 2 * p + di * (k - 1) + op + 1 >= 1)
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    shape = ([] if batch is None else [batch]) + [c_in, *sizes]
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    x = torch.randn(shape, generator=gen, dtype=dtype)
    weight = torch.randn(c_in, c_out // groups, *kernel, generator=gen, dtype=dtype)
    bias = torch.randn(c_out, generator=gen, dtype=dtype) if draw(st.booleans()) else None
    kwargs = dict(stride=stride, padding=padding, output_padding=output_padding,
                  groups=groups, dilation=dilation)
    return x, weight, bias, kwargs


def on(device, *tensors):
    return [None if t is None else t.to(device) for t in tensors]


# ------------------------------------------------------------------ against PyTorch
@pytest.mark.parametrize("dims", [1, 2])
@fixture_ok
@given(data=st.data())
def test_conv_transpose_matches_torch(dims, data, device):
    x, weight, bias, kwargs = data.draw(transpose_cases(dims))
    expected = TORCH[dims](x, weight, bias, **kwargs)
    got = OURS[dims](*on(device, x, weight, bias), **kwargs)
    assert got.device.type == device.type
    assert got.dtype == x.dtype
    torch.testing.assert_close(got.cpu(), expected, **tolerances(x.dtype))


@pytest.mark.parametrize("dims", [1, 2])
@given(data=st.data())
def test_output_size_is_the_formula(dims, data):
    x, weight, _, kwargs = data.draw(transpose_cases(dims))
    got = OURS[dims](x, weight, **kwargs)
    spatial = x.shape[-dims:]
    for i in range(dims):
        s, p, op, d = (as_list(kwargs[key], dims)[i]
                       for key in ("stride", "padding", "output_padding", "dilation"))
        n, k = spatial[i], weight.shape[2 + i]
        expected = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        assert got.shape[-dims + i] == expected == conv_transpose_output_size(n, k, s, p, op, d)


@pytest.mark.parametrize("dims", [1, 2])
@given(data=st.data())
def test_gradients_match_torch(dims, data):
    x, weight, bias, kwargs = data.draw(transpose_cases(dims))
    x64, w64 = x.double(), weight.double()
    b64 = None if bias is None else bias.double()
    ours = [t.clone().requires_grad_() for t in (x64, w64)]
    theirs = [t.clone().requires_grad_() for t in (x64, w64)]
    out_ours = OURS[dims](*ours, b64, **kwargs)
    out_theirs = TORCH[dims](*theirs, b64, **kwargs)
    upstream = torch.randn_like(out_theirs)
    grads_ours = torch.autograd.grad(out_ours, ours, upstream)
    grads_theirs = torch.autograd.grad(out_theirs, theirs, upstream)
    for a, b in zip(grads_ours, grads_theirs, strict=True):
        torch.testing.assert_close(a, b)


# --------------------------------------------------------------------- adjointness
@st.composite
def conv_cases(draw, dims):
    """A convolution's arguments (float64) and a cotangent y of its output's shape."""
    groups = draw(st.integers(1, 3))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    batch = draw(st.integers(1, 2))
    sizes = [draw(st.integers(1, 7)) for _ in range(dims)]
    kernel = [draw(st.integers(1, 3)) for _ in range(dims)]
    stride = [draw(st.integers(1, 3)) for _ in range(dims)]
    dilation = [draw(st.integers(1, 2)) for _ in range(dims)]
    padding = [draw(st.integers(0, 2)) for _ in range(dims)]
    for n, k, p, d in zip(sizes, kernel, padding, dilation, strict=True):
        assume(d * (k - 1) + 1 <= n + 2 * p)
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    x = torch.randn(batch, c_in, *sizes, generator=gen, dtype=torch.float64)
    weight = torch.randn(c_out, c_in // groups, *kernel, generator=gen, dtype=torch.float64)
    params = dict(stride=tuple(stride), padding=tuple(padding), dilation=tuple(dilation),
                  groups=groups)
    y = torch.randn_like(CONV[dims](x, weight, **params))
    # the conv floors (n + 2p − d(k − 1) − 1)/s; output_padding restores the remainder
    output_padding = tuple(
        (n + 2 * p - d * (k - 1) - 1) % s
        for n, k, s, p, d in zip(sizes, kernel, stride, padding, dilation, strict=True)
    )
    return x, weight, y, params, output_padding


@pytest.mark.parametrize("dims", [1, 2])
@given(data=st.data())
def test_conv_transpose_is_the_adjoint_of_conv(dims, data):
    """⟨conv(x), y⟩ = ⟨x, conv_transpose(y)⟩ with the same weight and parameters."""
    x, weight, y, params, output_padding = data.draw(conv_cases(dims))
    back = OURS[dims](y, weight, output_padding=output_padding, **params)
    assert back.shape == x.shape
    lhs = (CONV[dims](x, weight, **params) * y).sum()
    rhs = (x * back).sum()
    torch.testing.assert_close(lhs, rhs, rtol=1e-10, atol=1e-10)


def test_conv_transpose1d_multiplies_by_the_transposed_conv_matrix():
    """Build C column by column (C e_j = conv(e_j)) and check conv_transpose(y) = Cᵀ y."""
    gen = torch.Generator().manual_seed(0)
    n, weight = 7, torch.randn(1, 1, 3, generator=gen, dtype=torch.float64)
    params = dict(stride=2, padding=1)
    basis = torch.eye(n, dtype=torch.float64).reshape(n, 1, n)
    C = F.conv1d(basis, weight, **params).reshape(n, -1).T  # (m, n): column j = conv(e_j)
    assert C.shape == (4, 7)
    y = torch.randn(C.shape[0], generator=gen, dtype=torch.float64)
    got = conv_transpose1d(y.reshape(1, 1, -1), weight, output_padding=0, **params)
    torch.testing.assert_close(got.reshape(-1), C.T @ y)


# ------------------------------------------------------------------------ gradcheck
def test_gradcheck_conv_transpose2d():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(1, 4, 2, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 1, 2, 2, generator=gen, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, generator=gen, dtype=torch.float64, requires_grad=True)

    def f(x, w, b):
        return conv_transpose2d(x, w, b, stride=(2, 1), padding=(1, 0), output_padding=(1, 0),
                                groups=2, dilation=(1, 2))

    assert torch.autograd.gradcheck(f, (x, w, b))


def test_gradcheck_conv_transpose1d_unbatched():
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(2, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    w = torch.randn(2, 2, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda x, w: conv_transpose1d(x, w, stride=3, padding=1, output_padding=2), (x, w))


# -------------------------------------------------------------------- hand-worked cases
X = [[1.0, 2.0], [3.0, 4.0]]
K = [[0.0, 1.0], [2.0, 3.0]]


def test_hand_2x2_stride2_places_one_scaled_kernel_per_input_pixel(device):
    # each x[a][b]·K lands in its own 2×2 block: no overlap when the stride equals the kernel
    expected = [[0, 1, 0, 2],
                [2, 3, 4, 6],
                [0, 3, 0, 4],
                [6, 9, 8, 12]]
    x, k = torch.tensor([[X]], device=device), torch.tensor([[K]], device=device)
    got = conv_transpose2d(x, k, stride=2)
    assert torch.equal(got.cpu(), torch.tensor([[expected]], dtype=torch.float32))


def test_hand_2x2_stride1_overlapping_copies_add_up(device):
    # out[i][j] = Σ_{a,b} x[a][b] K[i−a][j−b]; e.g. out[1][1] = 1·3 + 2·2 + 3·1 + 4·0 = 10
    expected = [[0, 1, 2],
                [2, 10, 10],
                [6, 17, 12]]
    x, k = torch.tensor([[X]], device=device), torch.tensor([[K]], device=device)
    got = conv_transpose2d(x, k, stride=1)
    assert torch.equal(got.cpu(), torch.tensor([[expected]], dtype=torch.float32))
    assert got.sum().item() == sum(map(sum, X)) * sum(map(sum, K))  # 10 · 6 = 60


def test_hand_padding_crops_and_bias_adds(device):
    # the 4×4 stride-2 result above, one row/column cropped on every side, plus bias 0.5
    x, k = torch.tensor([[X]], device=device), torch.tensor([[K]], device=device)
    got = conv_transpose2d(x, k, bias=torch.tensor([0.5], device=device), stride=2, padding=1)
    assert torch.equal(got.cpu(), torch.tensor([[[[3.5, 4.5], [3.5, 0.5]]]]))


def test_hand_1d_output_padding_adds_a_trailing_zero(device):
    x = torch.tensor([[1.0, 2.0, 3.0]], device=device)  # unbatched (C_in=1, L=3)
    w = torch.tensor([[[1.0, -1.0]]], device=device)
    assert torch.equal(conv_transpose1d(x, w, stride=2).cpu(),
                       torch.tensor([[1.0, -1.0, 2.0, -2.0, 3.0, -3.0]]))
    assert torch.equal(conv_transpose1d(x, w, stride=2, output_padding=1).cpu(),
                       torch.tensor([[1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 0.0]]))


def test_hand_groups_keep_channels_apart(device):
    # two groups of one channel: channel 0 ⊛ [1, 1], channel 1 ⊛ [10]
    x = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]], device=device)
    w = torch.tensor([[[1.0, 1.0]], [[10.0, 0.0]]], device=device)
    got = conv_transpose1d(x, w, groups=2)
    assert torch.equal(got.cpu(), torch.tensor([[[1.0, 3.0, 2.0], [30.0, 40.0, 0.0]]]))


def test_hand_dilation_spreads_the_kernel():
    # dilation 2: taps 2 apart, so [1, 1] becomes the pattern 1, 0, 1
    got = conv_transpose1d(torch.tensor([[[1.0, 2.0]]]), torch.tensor([[[1.0, 1.0]]]),
                           dilation=2)
    assert torch.equal(got, torch.tensor([[[1.0, 2.0, 1.0, 2.0]]]))


# ----------------------------------------------------------------------- validation
def args2d(**over):
    base = dict(input=torch.randn(1, 4, 3, 3), weight=torch.randn(4, 2, 2, 2), bias=None,
                stride=1, padding=0, output_padding=0, groups=1, dilation=1)
    base.update(over)
    return base


BAD_2D = [
    ("int input", dict(input=torch.ones(1, 4, 3, 3, dtype=torch.int64)), TypeError,
     "input must be a floating-point tensor"),
    ("non-tensor input", dict(input=[[1.0]]), TypeError, "input must be a torch.Tensor"),
    ("int weight", dict(weight=torch.ones(4, 2, 2, 2, dtype=torch.int32)), TypeError,
     "weight must be a floating-point tensor"),
    ("int bias", dict(bias=torch.ones(2, dtype=torch.int64)), TypeError,
     "bias must be a floating-point tensor"),
    ("input ndim", dict(input=torch.randn(3, 3)), ValueError, r"input must be 3-D or 4-D"),
    ("weight ndim", dict(weight=torch.randn(4, 2, 2)), ValueError, r"weight must be 4-D"),
    ("zero stride", dict(stride=0), ValueError, "stride must be positive ints"),
    ("negative stride entry", dict(stride=(1, -1)), ValueError, "stride must be positive"),
    ("stride of wrong length", dict(stride=(1, 2, 3)), ValueError,
     "stride must be an int or a tuple of 2 ints"),
    ("float stride", dict(stride=1.5), TypeError, "stride must be an int or a tuple"),
    ("zero dilation", dict(dilation=0), ValueError, "dilation must be positive ints"),
    ("negative padding", dict(padding=-1), ValueError, "padding must be non-negative"),
    ("negative output_padding", dict(output_padding=-1), ValueError,
     "output_padding must be non-negative"),
    ("output_padding ≥ stride and dilation", dict(stride=2, dilation=2, output_padding=2),
     ValueError, "output_padding must be smaller than either stride or dilation"),
    ("zero groups", dict(groups=0), ValueError, "groups must be a positive int"),
    ("bool groups", dict(groups=True), TypeError, "groups must be a positive int"),
    ("groups not dividing C_in", dict(groups=3, weight=torch.randn(4, 1, 2, 2)), ValueError,
     "groups must divide the number of input channels"),
    ("channel mismatch", dict(weight=torch.randn(3, 2, 2, 2)), ValueError,
     r"weight must have shape \(C_in, C_out/groups, kH, kW\) with C_in = 4"),
    ("bias shape", dict(bias=torch.randn(4)), ValueError,
     r"bias must have shape \(C_out,\) = \(2,\), got \(4,\)"),
    ("dtype mismatch", dict(weight=torch.randn(4, 2, 2, 2, dtype=torch.float64)), TypeError,
     "weight must have the same dtype as input"),
    ("devices differ", dict(weight=torch.randn(4, 2, 2, 2, device="meta")), ValueError,
     "all tensors must be on the same device"),
    ("padding too large", dict(padding=3), ValueError, "padding 3 is too large"),
    ("empty kernel", dict(weight=torch.randn(4, 2, 0, 2)), ValueError,
     "kernel_size must be a positive int"),
    ("empty input", dict(input=torch.randn(1, 4, 0, 3)), ValueError,
     "input must have a non-empty spatial size"),
]


@pytest.mark.parametrize(("case", "over", "error", "message"), BAD_2D, ids=[c[0] for c in BAD_2D])
def test_conv_transpose2d_rejects(case, over, error, message):
    with pytest.raises(error, match=message):
        conv_transpose2d(**args2d(**over))


def test_conv_transpose1d_checks_in_1d_terms():
    x, w = torch.randn(2, 5), torch.randn(2, 1, 3)
    with pytest.raises(ValueError, match=r"input must be 2-D or 3-D \(N, C_in, L\)"):
        conv_transpose1d(torch.randn(5), w)
    with pytest.raises(ValueError, match=r"weight must be 3-D \(C_in, C_out/groups, k\)"):
        conv_transpose1d(x, torch.randn(2, 1, 3, 3))
    with pytest.raises(ValueError, match="stride must be a positive int, got 0"):
        conv_transpose1d(x, w, stride=0)
    with pytest.raises(ValueError, match="output_padding must be smaller"):
        conv_transpose1d(x, w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="groups must divide"):
        conv_transpose1d(x, w, groups=3)
