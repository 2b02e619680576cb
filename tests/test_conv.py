"""conv1d/conv2d: every method equals torch.nn.functional on random arguments, plus the
algebra (linearity, shift equivariance, gradients), the book's worked examples and one
test per argument rule."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from cnnlib.conv import METHODS, conv1d, conv2d
from cnnlib.padding import PADDING_MODES

CONV = {1: conv1d, 2: conv2d}
TORCH_CONV = {1: F.conv1d, 2: F.conv2d}
TORCH_MODULE = {1: nn.Conv1d, 2: nn.Conv2d}


pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors: see conftest.py


def tolerance(dtype, method):
    """float64 is exact to rounding; float32 FFTs round at every butterfly."""
    if dtype == torch.float64:
        return {"atol": 1e-10, "rtol": 1e-8}
    return {"atol": 5e-4, "rtol": 1e-3} if method == "fft" else {"atol": 5e-5, "rtol": 1e-4}


@st.composite
def conv_cases(draw, spatial, max_size=10, modes=PADDING_MODES, same_stride_only=False):
    """Arguments of a valid convolution: shapes, stride, padding (every form), dilation,
    groups, padding mode, dtype, batched or not — small enough to run hundreds of times."""
    groups = draw(st.integers(1, 4))
    c_group = draw(st.integers(1, max(1, 4 // groups)))
    o_group = draw(st.integers(1, max(1, 4 // groups)))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(spatial))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(spatial))
    mode = draw(st.sampled_from(modes))
    padding_kind = draw(st.sampled_from(["int", "tuple", "same", "valid"]))
    if same_stride_only:
        padding_kind = "same"
    stride = (1,) * spatial if padding_kind == "same" else tuple(
        draw(st.integers(1, 3)) for _ in range(spatial))
    if padding_kind == "int":
        padding = draw(st.integers(0, 2))
        per_dim = [(padding, padding)] * spatial
    elif padding_kind == "tuple":
        padding = tuple(draw(st.integers(0, 2)) for _ in range(spatial))
        per_dim = [(p, p) for p in padding]
    elif padding_kind == "valid":
        padding, per_dim = "valid", [(0, 0)] * spatial
    else:
        padding = "same"
        per_dim = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                   for k, d in zip(kernel, dilation, strict=True)]
    sizes = []
    for (before, after), k, d in zip(per_dim, kernel, dilation, strict=True):
        low = max(1, d * (k - 1) + 1 - before - after)  # the kernel must fit the padded input
        if mode == "reflect":
            low = max(low, max(before, after) + 1)  # reflect: padding < size
        if mode == "circular":
            low = max(low, max(before, after))  # circular: padding <= size
        sizes.append(draw(st.integers(low, max(low, max_size))))
    return {
        "spatial": spatial,
        "batch": draw(st.sampled_from([None, 1, 2])),  # None: an unbatched input
        "c_in": groups * c_group,
        "c_out": groups * o_group,
        "sizes": tuple(sizes),
        "kernel": kernel,
        "kwargs": {"stride": stride if len(set(stride)) > 1 else stride[0],
                   "padding": padding, "dilation": dilation, "groups": groups},
        "padding_mode": mode,
        "dtype": draw(st.sampled_from([torch.float32, torch.float64])),
        "bias": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**31 - 1)),
    }


def make_tensors(case, device="cpu", requires_grad=False):
    gen = torch.Generator().manual_seed(case["seed"])
    shape = (case["c_in"], *case["sizes"])
    if case["batch"] is not None:
        shape = (case["batch"], *shape)
    groups = case["kwargs"]["groups"]
    opts = {"dtype": case["dtype"], "generator": gen}
    x = torch.randn(shape, **opts)
    w = torch.randn(case["c_out"], case["c_in"] // groups, *case["kernel"], **opts)
    b = torch.randn(case["c_out"], **opts) if case["bias"] else None
    tensors = [t.to(device).requires_grad_(requires_grad) if t is not None else None
               for t in (x, w, b)]
    return tensors


def torch_reference(case, x, w, b):
    """F.convNd for zero padding; nn.ConvNd (pad with the mode, then convolve) otherwise."""
    spatial, kwargs = case["spatial"], case["kwargs"]
    if case["padding_mode"] == "zeros":
        return TORCH_CONV[spatial](x, w, b, **kwargs)
    layer = TORCH_MODULE[spatial](case["c_in"], case["c_out"], case["kernel"],
                                  padding_mode=case["padding_mode"], bias=b is not None,
                                  dtype=x.dtype, **kwargs)
    with torch.no_grad():
        layer.weight.copy_(w)
        if b is not None:
            layer.bias.copy_(b)
        return layer(x)


# --- equal to PyTorch ----------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("method", METHODS)
@given(case=conv_cases(spatial=2))
def test_conv2d_matches_torch(method, case):
    x, w, b = make_tensors(case)
    expected = torch_reference(case, x, w, b)
    got = conv2d(x, w, b, padding_mode=case["padding_mode"], method=method, **case["kwargs"])
    assert got.shape == expected.shape
    assert got.dtype == x.dtype
    torch.testing.assert_close(got, expected, **tolerance(x.dtype, method))


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("method", METHODS)
@given(case=conv_cases(spatial=1, max_size=16))
def test_conv1d_matches_torch(method, case):
    x, w, b = make_tensors(case)
    expected = torch_reference(case, x, w, b)
    got = conv1d(x, w, b, padding_mode=case["padding_mode"], method=method, **case["kwargs"])
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, **tolerance(x.dtype, method))


@pytest.mark.parametrize("method", METHODS)
def test_output_on_input_device(method, device):
    x = torch.randn(2, 3, 7, 6, device=device)
    w = torch.randn(4, 3, 3, 2, device=device)
    b = torch.randn(4, device=device)
    got = conv2d(x, w, b, padding=1, stride=(1, 2), method=method)
    assert got.device == x.device
    torch.testing.assert_close(got, F.conv2d(x, w, b, padding=1, stride=(1, 2)),
                               **tolerance(torch.float32, method))


@pytest.mark.parametrize("method", METHODS)
def test_default_output_is_contiguous_like_torch(method):
    x, w = torch.randn(2, 3, 8, 8), torch.randn(4, 3, 3, 3)
    assert conv2d(x, w, padding=1, method=method).is_contiguous()


# --- algebra -------------------------------------------------------------------------------

@pytest.mark.parametrize("method", METHODS)
@given(case=conv_cases(spatial=2, max_size=6), a=st.floats(-2, 2), c=st.floats(-2, 2))
def test_linear_in_input_and_in_weight(method, case, a, c):
    case = {**case, "dtype": torch.float64, "bias": False}
    x1, w1, _ = make_tensors(case)
    x2, w2, _ = make_tensors({**case, "seed": case["seed"] + 1})
    args = {"padding_mode": case["padding_mode"], "method": method, **case["kwargs"]}
    tol = tolerance(torch.float64, method)
    torch.testing.assert_close(conv2d(a * x1 + c * x2, w1, **args),
                               a * conv2d(x1, w1, **args) + c * conv2d(x2, w1, **args), **tol)
    torch.testing.assert_close(conv2d(x1, a * w1 + c * w2, **args),
                               a * conv2d(x1, w1, **args) + c * conv2d(x1, w2, **args), **tol)


@pytest.mark.parametrize("method", METHODS)
@given(case=conv_cases(spatial=2, max_size=8, modes=("circular",), same_stride_only=True),
       shift=st.tuples(st.integers(-9, 9), st.integers(-9, 9)))
def test_circular_padding_makes_conv_shift_equivariant(method, case, shift):
    """Roll the input, the output rolls by the same amount: conv ∘ S = S ∘ conv."""
    x, w, b = make_tensors({**case, "batch": 2})
    args = {"padding_mode": "circular", "method": method, **case["kwargs"]}
    y = conv2d(x, w, b, **args)
    y_of_shifted = conv2d(torch.roll(x, shift, dims=(-2, -1)), w, b, **args)
    torch.testing.assert_close(y_of_shifted, torch.roll(y, shift, dims=(-2, -1)),
                               **tolerance(x.dtype, method))


@pytest.mark.parametrize("method", METHODS)
@given(case=conv_cases(spatial=2, max_size=4))
def test_gradients_match_finite_differences(method, case):
    """gradcheck (fast mode: a random projection of the Jacobian) in float64."""
    case = {**case, "dtype": torch.float64, "batch": case["batch"] and 1}
    x, w, b = make_tensors(case, requires_grad=True)
    inputs = tuple(t for t in (x, w, b) if t is not None)

    def f(*args):
        return conv2d(*args, padding_mode=case["padding_mode"], method=method, **case["kwargs"])

    assert torch.autograd.gradcheck(f, inputs, fast_mode=True)


@pytest.mark.parametrize("method", ["toeplitz", "im2col", "fft"])
@pytest.mark.parametrize("kwargs", [
    {"stride": 1, "padding": 1},
    {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2},
    {"padding": "same", "padding_mode": "reflect"},
])
def test_full_gradcheck_on_fixed_cases(method, kwargs):
    """The full (slow) Jacobian check once per method on small hand-picked cases."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 2, 5, 4, dtype=torch.float64, generator=gen, requires_grad=True)
    w = torch.randn(2, 2 // kwargs.get("groups", 1), 3, 2, dtype=torch.float64, generator=gen,
                    requires_grad=True)
    b = torch.randn(2, dtype=torch.float64, generator=gen, requires_grad=True)
    assert torch.autograd.gradcheck(lambda *t: conv2d(*t, method=method, **kwargs), (x, w, b))


@pytest.mark.parametrize("method", METHODS)
def test_gradient_matches_torch_gradient(method):
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2, 4, 7, 6, dtype=torch.float64, generator=gen)
    w = torch.randn(6, 2, 3, 3, dtype=torch.float64, generator=gen)
    kwargs = {"stride": 2, "padding": 1, "dilation": (1, 2), "groups": 2}
    grads = []
    for f in (F.conv2d, lambda *a, **k: conv2d(*a, method=method, **k)):
        xi, wi = x.clone().requires_grad_(), w.clone().requires_grad_()
        (f(xi, wi, **kwargs) ** 2).sum().backward()
        grads.append((xi.grad, wi.grad))
    torch.testing.assert_close(grads[0], grads[1])


# --- worked examples -----------------------------------------------------------------------

EXAMPLE_IMAGE = [[2, 0, 1, 3], [7, 1, 1, 0], [0, 2, 5, 0], [0, 5, 1, 4]]
EXAMPLE_KERNEL = [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]


@pytest.mark.parametrize("method", METHODS)
def test_worked_example_2d(method):
    """Chapter 4's 4×4 image and horizontal-edge kernel (top row minus bottom row of each window).

    y[0,0] = (2 + 0 + 1) − (0 + 2 + 5) =  3 − 7  = −4
    y[0,1] = (0 + 1 + 3) − (2 + 5 + 0) =  4 − 7  = −3
    y[1,0] = (7 + 1 + 1) − (0 + 5 + 1) =  9 − 6  =  3
    y[1,1] = (1 + 1 + 0) − (5 + 1 + 4) =  2 − 10 = −8
    """
    x = torch.tensor(EXAMPLE_IMAGE, dtype=torch.float64)[None, None]
    h = torch.tensor(EXAMPLE_KERNEL, dtype=torch.float64)[None, None]
    expected = torch.tensor([[-4.0, -3.0], [3.0, -8.0]], dtype=torch.float64)
    torch.testing.assert_close(conv2d(x, h, method=method)[0, 0], expected)


@pytest.mark.parametrize("method", METHODS)
def test_hand_worked_1d(method):
    """x = [1, 2, 3, 4, 5], h = [1, 0, −1]: y[t] = x[t] − x[t + 2].

    valid:            [1−3, 2−4, 3−5]                = [−2, −2, −2]
    padding 1:        [0−2, 1−3, 2−4, 3−5, 4−0]       = [−2, −2, −2, −2, 4]
    padding 1, s=2:   outputs 0, 2, 4 of the above    = [−2, −2, 4]
    """
    x = torch.tensor([[[1.0, 2, 3, 4, 5]]])
    h = torch.tensor([[[1.0, 0, -1]]])
    assert conv1d(x, h, method=method).flatten().tolist() == pytest.approx([-2, -2, -2])
    assert conv1d(x, h, padding=1, method=method).flatten().tolist() == pytest.approx(
        [-2, -2, -2, -2, 4], abs=1e-5)
    assert conv1d(x, h, padding=1, stride=2, method=method).flatten().tolist() == pytest.approx(
        [-2, -2, 4], abs=1e-5)


@pytest.mark.parametrize("method", METHODS)
def test_same_padding_puts_the_odd_sample_on_the_right(method):
    """k = 4 ⇒ d(k−1) = 3 padded samples: 1 on the left, 2 on the right (PyTorch's rule).

    With h = e_0 the output reads x_pad[t], i.e. x shifted right by the left padding.
    """
    x = torch.arange(1.0, 7.0).view(1, 1, 6)
    h = torch.tensor([[[1.0, 0, 0, 0]]])
    assert conv1d(x, h, padding="same", method=method).flatten().tolist() == pytest.approx(
        [0, 1, 2, 3, 4, 5], abs=1e-5)
    h_last = torch.tensor([[[0.0, 0, 0, 1]]])  # reads x_pad[t + 3] = x[t + 2]
    assert conv1d(x, h_last, padding="same", method=method).flatten().tolist() == pytest.approx(
        [3, 4, 5, 6, 0, 0], abs=1e-5)


def test_loop_method_handles_a_lenet_layer():
    """The readable loops still run a LeNet first layer (result checked, time not asserted)."""
    x, w = torch.randn(1, 1, 28, 28), torch.randn(20, 1, 5, 5)
    torch.testing.assert_close(conv2d(x, w, method="loop"), F.conv2d(x, w), atol=1e-4, rtol=1e-4)


def test_methods_do_not_call_torch_convolution(monkeypatch):
    """'From scratch': every method still works when torch's conv and unfold are taken away."""
    def forbidden(*args, **kwargs):
        raise AssertionError("torch's own convolution/unfold was called")

    x, w = torch.randn(2, 4, 8, 7), torch.randn(6, 2, 3, 3)
    expected = F.conv2d(x, w, stride=(1, 2), padding=1, groups=2)
    for name in ("conv1d", "conv2d", "unfold", "pad"):
        monkeypatch.setattr(F, name, forbidden)
    for name in ("conv1d", "conv2d", "convolution", "conv_transpose2d"):
        monkeypatch.setattr(torch, name, forbidden)
    for method in METHODS:
        got = conv2d(x, w, stride=(1, 2), padding=1, groups=2, method=method,
                     padding_mode="zeros")
        torch.testing.assert_close(got, expected, **tolerance(torch.float32, method))
        conv2d(x, w, padding=1, groups=2, method=method, padding_mode="reflect")


# --- argument checks -----------------------------------------------------------------------

def _ok(spatial):
    x = torch.randn(2, 4, *(6,) * spatial)
    w = torch.randn(6, 2, *(3,) * spatial)
    return x, w


BAD_ARGUMENTS = [
    # (keyword changes, exception, words the message must contain)
    ({"stride": 0}, ValueError, ["stride", "positive"]),
    ({"stride": -1}, ValueError, ["stride", "positive"]),
    ({"stride": 1.5}, TypeError, ["stride"]),
    ({"dilation": 0}, ValueError, ["dilation", "positive"]),
    ({"padding": -1}, ValueError, ["padding", "non-negative"]),
    ({"padding": "full"}, ValueError, ["padding", "'same'", "'valid'"]),
    ({"padding": "same", "stride": 2}, ValueError, ["padding='same'", "stride"]),
    ({"groups": 0}, ValueError, ["groups", "positive"]),
    ({"groups": 4}, ValueError, ["groups", "divide", "output"]),
    ({"method": "winograd"}, ValueError, ["method", "'im2col'"]),
    ({"padding_mode": "mirror"}, ValueError, ["padding_mode", "'reflect'"]),
]


@pytest.mark.parametrize("spatial", [1, 2])
@pytest.mark.parametrize(("change", "error", "words"), BAD_ARGUMENTS)
def test_bad_arguments_are_named(spatial, change, error, words):
    x, w = _ok(spatial)
    kwargs = {"groups": 2, **change}
    with pytest.raises(error) as info:
        CONV[spatial](x, w, **kwargs)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("spatial", [1, 2])
def test_groups_must_divide_input_channels(spatial):
    x = torch.randn(2, 5, *(6,) * spatial)
    w = torch.randn(6, 2, *(3,) * spatial)
    with pytest.raises(ValueError, match=r"groups must divide the input channels.*5"):
        CONV[spatial](x, w, groups=2)


@pytest.mark.parametrize("spatial", [1, 2])
def test_input_channels_must_match_weight(spatial):
    x, w = torch.randn(2, 6, *(6,) * spatial), torch.randn(6, 2, *(3,) * spatial)
    with pytest.raises(ValueError, match=r"input channels.*weight.shape\[1\] \* groups"):
        CONV[spatial](x, w, groups=2)  # 6 != 2 * 2


@pytest.mark.parametrize("spatial", [1, 2])
def test_kernel_larger_than_padded_input(spatial):
    x, w = torch.randn(1, 1, *(3,) * spatial), torch.randn(1, 1, *(5,) * spatial)
    with pytest.raises(ValueError, match=r"kernel_size 5.*larger than the padded input"):
        CONV[spatial](x, w)
    with pytest.raises(ValueError, match="dilated span 5"):
        CONV[spatial](x, torch.randn(1, 1, *(3,) * spatial), dilation=2)
    assert CONV[spatial](x, w, padding=1).shape[-1] == 1  # fits once padded


@pytest.mark.parametrize("spatial", [1, 2])
def test_wrong_number_of_dimensions(spatial):
    x, w = _ok(spatial)
    with pytest.raises(ValueError, match=r"input must be .*-D"):
        CONV[spatial](x[0, 0], w, groups=2)
    with pytest.raises(ValueError, match=r"input must be .*-D"):
        CONV[spatial](x[None], w, groups=2)
    with pytest.raises(ValueError, match=r"weight must be .*-D"):
        CONV[spatial](x, w[0], groups=2)


@pytest.mark.parametrize("spatial", [1, 2])
def test_integer_tensors_are_rejected(spatial):
    x, w = _ok(spatial)
    with pytest.raises(TypeError, match="input must be a floating-point tensor"):
        CONV[spatial](x.long(), w, groups=2)
    with pytest.raises(TypeError, match="weight must be a floating-point tensor"):
        CONV[spatial](x, w.int(), groups=2)
    with pytest.raises(TypeError, match=r"input must be a torch\.Tensor"):
        CONV[spatial](x.tolist(), w, groups=2)


@pytest.mark.parametrize("spatial", [1, 2])
def test_dtype_mismatch(spatial):
    x, w = _ok(spatial)
    with pytest.raises(TypeError, match="weight must have the same dtype as input"):
        CONV[spatial](x, w.double(), groups=2)
    with pytest.raises(TypeError, match="bias must have the same dtype as input"):
        CONV[spatial](x, w, torch.zeros(6, dtype=torch.float64), groups=2)


@pytest.mark.parametrize("spatial", [1, 2])
def test_bias_shape(spatial):
    x, w = _ok(spatial)
    with pytest.raises(ValueError, match=r"bias must have shape \(C_out,\) = \(6,\)"):
        CONV[spatial](x, w, torch.zeros(4), groups=2)
    with pytest.raises(ValueError, match="bias"):
        CONV[spatial](x, w, torch.zeros(1, 6), groups=2)


def test_mismatched_devices():
    """A tensor on the 'meta' device stands for a second device on a CPU-only machine."""
    x, w = _ok(2)
    with pytest.raises(ValueError, match=r"same device.*input on cpu.*weight on meta"):
        conv2d(x, w.to("meta"), groups=2)
    with pytest.raises(ValueError, match="bias on meta"):
        conv2d(x, w, torch.zeros(6, device="meta"), groups=2)


@pytest.mark.parametrize("spatial", [1, 2])
@pytest.mark.parametrize(("mode", "padding", "fits"), [("reflect", 3, 2), ("circular", 4, 3)])
def test_padding_too_large_for_mode(spatial, mode, padding, fits):
    """reflect needs padding < size, circular padding <= size (PyTorch's limits)."""
    x, w = torch.randn(1, 1, *(3,) * spatial), torch.randn(1, 1, *(1,) * spatial)
    name = "L" if spatial == 1 else "H"
    with pytest.raises(ValueError, match=rf"padding.*padding_mode='{mode}'.*for {name} = 3"):
        CONV[spatial](x, w, padding=padding, padding_mode=mode)
    assert CONV[spatial](x, w, padding=fits, padding_mode=mode).shape[-1] == 3 + 2 * fits


@pytest.mark.parametrize("method", METHODS)
def test_gradients_flow_for_a_single_pixel_and_channel(method):
    """One pixel, one channel, a 1×1 kernel and a bias: the output starts from a copy of the
    bias, never the bias itself (an in-place sum into it broke autograd in im2col)."""
    x = torch.randn(1, 1, 1, 1, dtype=torch.float64, requires_grad=True)
    w = torch.randn(1, 1, 1, 1, dtype=torch.float64, requires_grad=True)
    b = torch.randn(1, dtype=torch.float64, requires_grad=True)
    conv2d(x, w, b, padding="same", method=method).sum().backward()
    torch.testing.assert_close(b.grad, torch.ones(1, dtype=torch.float64))
    torch.testing.assert_close(x.grad[0, 0, 0, 0], w[0, 0, 0, 0].detach())
