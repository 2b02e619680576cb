"""im2col: the patch matrix equals torch.nn.functional.unfold column for column, and the
patches are a view of the input (nothing copied until the reshape)."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cnnlib.im2col import im2col, patches

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors: see conftest.py


pairs = st.tuples(st.integers(1, 3), st.integers(1, 3))


@st.composite
def unfold_cases(draw):
    kernel = draw(st.tuples(st.integers(1, 4), st.integers(1, 4)))
    dilation, stride = draw(pairs), draw(pairs)
    padding = draw(st.tuples(st.integers(0, 2), st.integers(0, 2)))
    size = [draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 10))
            for k, d, p in zip(kernel, dilation, padding, strict=True)]
    batched = draw(st.booleans())
    shape = (draw(st.integers(1, 2)),) * batched + (draw(st.integers(1, 4)), *size)
    as_int = draw(st.booleans()) and len(set(kernel)) == 1  # ints as well as pairs
    return {"shape": shape, "kernel_size": kernel[0] if as_int else kernel,
            "stride": stride, "padding": padding, "dilation": dilation,
            "dtype": draw(st.sampled_from([torch.float32, torch.float64]))}


@given(case=unfold_cases())
def test_im2col_equals_unfold(case):
    x = torch.randn(case["shape"], dtype=case["dtype"])
    args = {k: case[k] for k in ("kernel_size", "stride", "padding", "dilation")}
    got, expected = im2col(x, **args), F.unfold(x, **args)
    assert got.shape == expected.shape
    assert torch.equal(got, expected)  # a copy of the same numbers: exactly equal


def test_im2col_hand_example():
    """A 3×3 image, 2×2 kernel: 4 patches, each a column (rows: taps (0,0), (0,1), (1,0), (1,1))."""
    x = torch.arange(1.0, 10.0).view(1, 1, 3, 3)  # [[1,2,3],[4,5,6],[7,8,9]]
    expected = torch.tensor([[1.0, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9]])
    assert torch.equal(im2col(x, 2)[0], expected)


def test_im2col_shape_formula():
    """(N, C·kh·kw, L) with L = H_out·W_out, H_out = ⌊(H + 2p − d(k−1) − 1)/s⌋ + 1."""
    x = torch.randn(2, 3, 11, 9)
    cols = im2col(x, (3, 2), stride=(2, 3), padding=(1, 0), dilation=(2, 1))
    h_out = (11 + 2 - 2 * 2 - 1) // 2 + 1
    w_out = (9 + 0 - 1 * 1 - 1) // 3 + 1
    assert cols.shape == (2, 3 * 3 * 2, h_out * w_out) == (2, 18, 15)


def test_patches_is_a_view_of_the_input():
    x = torch.randn(1, 2, 5, 5)
    view = patches(x, (3, 3))
    assert view.shape == (1, 2, 3, 3, 3, 3)
    assert view.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    x[0, 1, 2, 2] = 100.0  # the centre pixel is in every 3×3 window of a 5×5 image
    assert (view[0, 1] == 100.0).sum() == 9


@given(kernel=pairs, stride=pairs, dilation=pairs, h=st.integers(7, 10), w=st.integers(7, 10))
def test_patches_index_formula(kernel, stride, dilation, h, w):
    """patches(x)[n, c, i, j, a, b] == x[n, c, a·s_h + i·d_h, b·s_w + j·d_w]."""
    x = torch.randn(1, 2, h, w)
    view = patches(x, kernel, stride, dilation)
    _, _, kh, kw, ho, wo = view.shape
    assert (ho, wo) == ((h - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1,
                        (w - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1)
    i = torch.arange(kh).view(kh, 1, 1, 1)
    j = torch.arange(kw).view(1, kw, 1, 1)
    a = torch.arange(ho).view(1, 1, ho, 1)
    b = torch.arange(wo).view(1, 1, 1, wo)
    expected = x[0][:, a * stride[0] + i * dilation[0], b * stride[1] + j * dilation[1]]
    assert torch.equal(view[0], expected)


def test_patches_of_a_sliced_tensor_respect_its_offset():
    base = torch.randn(3, 2, 6, 6)
    x = base[1:]  # storage offset ≠ 0
    assert torch.equal(patches(x, 2).reshape(2, 2 * 4, -1),
                       F.unfold(x, 2).view(2, 2, 4, -1).reshape(2, 8, -1))


def test_im2col_gradient_flows():
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: im2col(t, 3, padding=1, stride=2), (x,))


def test_unbatched_input():
    x = torch.randn(3, 6, 5)
    assert torch.equal(im2col(x, (2, 3), padding=1), F.unfold(x, (2, 3), padding=1))


@pytest.mark.parametrize(("kwargs", "error", "pattern"), [
    ({"kernel_size": 0}, ValueError, "kernel_size must be"),
    ({"kernel_size": 2, "stride": 0}, ValueError, "stride must be"),
    ({"kernel_size": 2, "dilation": (1, 0)}, ValueError, "dilation must be"),
    ({"kernel_size": 2, "padding": -1}, ValueError, "padding must be non-negative"),
    ({"kernel_size": 2, "padding": "full"}, ValueError, "padding must be"),
    ({"kernel_size": 9}, ValueError, "kernel_size 9 .*larger than the padded input"),
])
def test_im2col_argument_checks(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        im2col(torch.randn(1, 1, 4, 4), **kwargs)


def test_im2col_rejects_wrong_inputs():
    with pytest.raises(ValueError, match="input must be 3-D or 4-D"):
        im2col(torch.randn(4, 4), 2)
    with pytest.raises(TypeError, match="input must be a floating-point tensor"):
        im2col(torch.ones(1, 1, 4, 4, dtype=torch.int64), 2)
    with pytest.raises(ValueError, match="x must be 4-D"):
        patches(torch.randn(1, 4, 4), 2)
    with pytest.raises(ValueError, match=r"kernel_size 5 .*larger than the padded input along H"):
        patches(torch.randn(1, 1, 4, 4), 5)
