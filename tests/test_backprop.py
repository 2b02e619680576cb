"""cnnlib.backprop: the three gradients of a convolution, computed with cnnlib's own
convolutions, equal PyTorch's autograd for every stride, padding, dilation and groups; plus
hand-worked cases and the argument rules (the same errors as conv1d/conv2d)."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnlib.backprop import ConvGradients, conv1d_backward, conv2d_backward
from cnnlib.conv import conv1d, conv2d

BACKWARD = {1: conv1d_backward, 2: conv2d_backward}
OURS = {1: conv1d, 2: conv2d}
TORCH = {1: F.conv1d, 2: F.conv2d}
fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors: see conftest.py


@st.composite
def conv_cases(draw, spatial, max_extra=6):
    """A valid convolution (float64): input, weight, bias and its keyword arguments, with
    padding in every form conv2d accepts and sizes that leave any remainder of the stride."""
    groups = draw(st.integers(1, 3))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(spatial))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(spatial))
    kind = draw(st.sampled_from(["int", "tuple", "same", "valid"]))
    stride = (1,) * spatial if kind == "same" else tuple(
        draw(st.integers(1, 4)) for _ in range(spatial))
    if kind == "int":
        padding = draw(st.integers(0, 3))
        total = [2 * padding] * spatial
    elif kind == "tuple":
        padding = tuple(draw(st.integers(0, 3)) for _ in range(spatial))
        total = [2 * p for p in padding]
    elif kind == "valid":
        padding, total = "valid", [0] * spatial
    else:  # "same": d(k − 1) in total, one more at the end when it is odd
        padding = "same"
        total = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
    sizes = [max(1, d * (k - 1) + 1 - t) + draw(st.integers(0, max_extra))
             for k, d, t in zip(kernel, dilation, total, strict=True)]
    batch = draw(st.sampled_from([None, 1, 3]))  # None: unbatched
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    shape = ([] if batch is None else [batch]) + [c_in, *sizes]
    x = torch.randn(shape, generator=gen, dtype=torch.float64)
    w = torch.randn(c_out, c_in // groups, *kernel, generator=gen, dtype=torch.float64)
    b = torch.randn(c_out, generator=gen, dtype=torch.float64)

    def either(values):  # an int when every dimension agrees, sometimes
        return values[0] if len(set(values)) == 1 and draw(st.booleans()) else values

    kwargs = dict(stride=either(stride), padding=padding, dilation=either(dilation),
                  groups=groups)
    return x, w, b, kwargs


def autograd_gradients(spatial, x, w, b, kwargs, grad_output=None):
    """PyTorch's gradients of sum(conv(x, w, b) · grad_output) (random grad_output if None)."""
    x, w, b = (t.clone().requires_grad_() for t in (x, w, b))
    y = TORCH[spatial](x, w, b, **kwargs)
    if grad_output is None:
        grad_output = torch.randn_like(y)
    y.backward(grad_output)
    return grad_output, (x.grad, w.grad, b.grad)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("spatial", [1, 2])
@fixture_ok
@given(data=st.data())
def test_gradients_equal_autograd(spatial, data, device):
    x, w, b, kwargs = data.draw(conv_cases(spatial))
    grad_output, expected = autograd_gradients(spatial, x, w, b, kwargs)
    got = BACKWARD[spatial](x.to(device), w.to(device), grad_output.to(device), **kwargs)
    assert isinstance(got, ConvGradients)
    for ours, theirs in zip(got, expected, strict=True):
        assert ours.device.type == device.type and ours.dtype == torch.float64
        assert ours.shape == theirs.shape
        torch.testing.assert_close(ours.cpu(), theirs, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("spatial", [1, 2])
@given(data=st.data())
def test_input_gradient_is_the_adjoint(spatial, data):
    """⟨conv(x′), ∂L/∂y⟩ = ⟨x′, ∂L/∂x⟩ for any x′: ∂L/∂x is Cᵀ applied to ∂L/∂y."""
    x, w, _, kwargs = data.draw(conv_cases(spatial))
    grad_output = torch.randn_like(OURS[spatial](x, w, **kwargs))
    other = torch.randn_like(x)
    grads = BACKWARD[spatial](x, w, grad_output, **kwargs)
    lhs = (OURS[spatial](other, w, **kwargs) * grad_output).sum()
    torch.testing.assert_close(lhs, (other * grads.grad_input).sum(), rtol=1e-9, atol=1e-9)


# --------------------------------------------------------------------- hand-worked cases
def test_hand_2d_stride_1():
    """x 3×3, w 2×2, ∂L/∂y = ones: ∂L/∂x adds the four kernel stamps, ∂L/∂w[u, v] sums the
    2×2 block of x at (u, v), ∂L/∂b counts the outputs."""
    x = torch.tensor([[[[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]]])
    w = torch.tensor([[[[1.0, 2], [3, 4]]]])
    grads = conv2d_backward(x, w, torch.ones(1, 1, 2, 2))
    assert grads.grad_input.tolist() == [[[[1, 3, 2], [4, 10, 6], [3, 7, 4]]]]
    assert grads.grad_weight.tolist() == [[[[12, 16], [24, 28]]]]
    assert grads.grad_bias.tolist() == [4]


def test_hand_1d_stride_leaves_a_remainder():
    """L = 5, k = 2, s = 2: outputs read x[0:2] and x[2:4]; x[4] is never read (a = 1).
    The correlation of x with ∂L/∂y has a third tap, 1·3 + 10·5 = 53: cropped."""
    x = torch.tensor([[[1.0, 2, 3, 4, 5]]])
    w = torch.tensor([[[3.0, 5]]])
    g = torch.tensor([[[1.0, 10]]])
    grads = conv1d_backward(x, w, g, stride=2)
    assert grads.grad_input.tolist() == [[[3, 5, 30, 50, 0]]]
    assert grads.grad_weight.tolist() == [[[1 * 1 + 10 * 3, 1 * 2 + 10 * 4]]]
    assert grads.grad_bias.tolist() == [11]
    uncropped = conv1d(x.transpose(0, 1), g.transpose(0, 1), dilation=2)
    assert uncropped.tolist() == [[[31, 42, 53]]]


def test_even_kernel_same_padding_crops_the_extra_end():
    """k = 2, "same": one zero after the input, none before; ∂L/∂x keeps the input size."""
    x = torch.tensor([[1.0, 2, 3]])
    w = torch.tensor([[[1.0, 10]]])
    grads = conv1d_backward(x, w, torch.tensor([[1.0, 1, 1]]), padding="same")
    assert grads.grad_input.tolist() == [[1, 11, 11]]
    assert grads.grad_weight.tolist() == [[[6, 5]]]


# ------------------------------------------------------------------------- argument rules
def _raised(f, *args, **kwargs):
    with pytest.raises((TypeError, ValueError)) as info:
        f(*args, **kwargs)
    return info.type, str(info.value)


X2, W2 = torch.randn(1, 4, 6, 6), torch.randn(2, 2, 3, 3)


@pytest.mark.parametrize("kwargs", [
    dict(stride=0), dict(stride=(1, 2, 3)), dict(stride=1.5), dict(padding=-1),
    dict(padding="full"), dict(padding="same", stride=2), dict(dilation=0), dict(groups=0),
    dict(groups=3), dict(groups=4), dict(padding=0, dilation=3),
])
def test_bad_arguments_raise_what_conv2d_raises(kwargs):
    grad_output = torch.zeros(1, 2, 4, 4)
    expected = _raised(conv2d, X2, W2, **kwargs)
    assert _raised(conv2d_backward, X2, W2, grad_output, **kwargs) == expected


@pytest.mark.parametrize("args", [
    (X2.double(), W2), (X2.int(), W2), (X2[0, 0], W2), (X2, W2[0]), ([1.0], W2),
    (torch.randn(1, 3, 6, 6), W2),
])
def test_bad_tensors_raise_what_conv2d_raises(args):
    expected = _raised(conv2d, *args, groups=2)
    assert _raised(conv2d_backward, *args, torch.zeros(1, 2, 4, 4), groups=2) == expected


def test_conv1d_rules_are_conv1d_s():
    x, w = torch.randn(1, 2, 5), torch.randn(3, 2, 2)
    assert _raised(conv1d_backward, x, w, torch.zeros(1, 3, 4), stride=(1, 1)) == \
        _raised(conv1d, x, w, stride=(1, 1))
    assert _raised(conv1d_backward, x, w[..., None], torch.zeros(1, 3, 4)) == \
        _raised(conv1d, x, w[..., None])


def test_grad_output_must_match_the_convolution_output():
    with pytest.raises(ValueError, match=r"grad_output must have the convolution's output "
                                         r"shape \(N, C_out, H_out, W_out\) = \(1, 2, 2, 2\)"):
        conv2d_backward(X2, W2, torch.zeros(1, 2, 4, 4), stride=2, groups=2)
    with pytest.raises(ValueError, match=r"\(2, 2, 2\), got \(1, 2, 2, 2\)"):
        conv2d_backward(X2[0], W2, torch.zeros(1, 2, 2, 2), stride=2, groups=2)
    with pytest.raises(TypeError, match="grad_output must have the same dtype as input"):
        conv2d_backward(X2, W2, torch.zeros(1, 2, 4, 4, dtype=torch.float64), groups=2)
    with pytest.raises(TypeError, match="grad_output must be a floating-point tensor"):
        conv2d_backward(X2, W2, torch.zeros(1, 2, 4, 4, dtype=torch.int64), groups=2)
    with pytest.raises(TypeError, match=r"grad_output must be a torch\.Tensor"):
        conv2d_backward(X2, W2, [[0.0]], groups=2)
    with pytest.raises(ValueError, match=r"same device.*grad_output on meta"):
        conv2d_backward(X2, W2, torch.zeros(1, 2, 4, 4, device="meta"), groups=2)
    with pytest.raises(ValueError, match=r"\(N, C_out, L_out\) = \(1, 3, 4\)"):
        conv1d_backward(torch.randn(1, 2, 5), torch.randn(3, 2, 2), torch.zeros(1, 3, 5))
