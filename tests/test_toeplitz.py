"""toeplitz_matrix: T @ x equals the convolution, the matrix has the Toeplitz structure
chapter 3 draws, zero padding is folded into it, and oversized matrices are refused."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cnnlib.conv import conv2d
from cnnlib.toeplitz import MAX_TOEPLITZ_ELEMENTS, toeplitz_matrix

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors: see conftest.py


def test_hand_example_1d():
    """h = [1, 2, 3], n = 5: each row is h shifted one column right (cross-correlation)."""
    T = toeplitz_matrix(torch.tensor([1.0, 2, 3]), 5)
    assert T.tolist() == [[1, 2, 3, 0, 0], [0, 1, 2, 3, 0], [0, 0, 1, 2, 3]]


def test_hand_example_1d_padding_stride_dilation():
    """Padding 1 drops the columns of the padded zeros; stride 2 keeps rows 0, 2, 4;
    dilation 2 spreads the taps two columns apart."""
    h = torch.tensor([1.0, 2, 3])
    assert toeplitz_matrix(h, 5, padding=1).tolist() == [
        [2, 3, 0, 0, 0], [1, 2, 3, 0, 0], [0, 1, 2, 3, 0], [0, 0, 1, 2, 3], [0, 0, 0, 1, 2]]
    assert toeplitz_matrix(h, 5, padding=1, stride=2).tolist() == [
        [2, 3, 0, 0, 0], [0, 1, 2, 3, 0], [0, 0, 0, 1, 2]]
    assert toeplitz_matrix(h, 5, dilation=2).tolist() == [[1, 0, 2, 0, 3]]


def test_hand_example_2d_is_doubly_block_toeplitz():
    """A 2×2 kernel on a 3×3 image: a 2×3 grid of 2×3 blocks; block (a, y) is the Toeplitz
    matrix of kernel row y − a (zero elsewhere)."""
    k = torch.tensor([[1.0, 2], [3, 4]])
    T = toeplitz_matrix(k, (3, 3))
    row0 = [[1, 2, 0], [0, 1, 2]]  # Toeplitz matrix of kernel row 0
    row1 = [[3, 4, 0], [0, 3, 4]]
    zero = [[0, 0, 0], [0, 0, 0]]
    expected = torch.cat([torch.cat([torch.tensor(b, dtype=torch.float32) for b in blocks], 1)
                          for blocks in ([row0, row1, zero], [zero, row0, row1])], 0)
    assert torch.equal(T, expected)


@given(m=st.integers(1, 5), extra=st.integers(0, 6))
def test_1d_diagonals_are_constant(m, extra):
    """T[r, c] depends only on c − r: the definition of a Toeplitz matrix."""
    h = torch.randn(m)
    T = toeplitz_matrix(h, m + extra)
    for r in range(T.shape[0]):
        for c in range(T.shape[1]):
            expected = h[c - r] if 0 <= c - r < m else 0.0
            assert T[r, c] == expected


@st.composite
def matrix_cases(draw):
    spatial = draw(st.sampled_from([1, 2]))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(spatial))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(spatial))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(spatial))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(spatial))
    size = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 8))
                 for k, d, p in zip(kernel, dilation, padding, strict=True))
    channels = draw(st.sampled_from([None, (1, 1), (2, 3), (3, 2)]))
    return spatial, kernel, dilation, stride, padding, size, channels


@given(case=matrix_cases())
def test_matrix_times_input_equals_conv(case):
    spatial, kernel, dilation, stride, padding, size, channels = case
    c_out, c_in = channels or (1, 1)
    w = torch.randn(c_out, c_in, *kernel, dtype=torch.float64)
    x = torch.randn(1, c_in, *size, dtype=torch.float64)
    expected = (F.conv1d if spatial == 1 else F.conv2d)(
        x, w, stride=stride, padding=padding, dilation=dilation)
    weight = w if channels else w[0, 0]  # (m,) / (kh, kw) without channel dims
    T = toeplitz_matrix(weight, size if spatial == 2 else size[0], stride=stride,
                        padding=padding, dilation=dilation)
    out_positions = expected[0, 0].numel()
    assert T.shape == (c_out * out_positions, c_in * x[0, 0].numel())
    torch.testing.assert_close(T @ x.flatten(), expected.flatten())


def test_same_padding_and_multichannel_block_structure():
    """Block (o, c) of the multi-channel matrix is the matrix of filter weight[o, c]."""
    w = torch.randn(2, 3, 3, 3)
    T = toeplitz_matrix(w, (4, 5), padding="same")
    assert T.shape == (2 * 20, 3 * 20)
    for o in range(2):
        for c in range(3):
            block = T[o * 20:(o + 1) * 20, c * 20:(c + 1) * 20]
            assert torch.equal(block, toeplitz_matrix(w[o, c], (4, 5), padding="same"))


def test_matrix_is_differentiable_in_the_weight():
    w = torch.randn(2, 1, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: toeplitz_matrix(t, 6, padding=1, stride=2), (w,))


def test_sparsity_grows_with_the_input():
    """Chapter 3's point: for n ≫ m the matrix is almost all zeros (m nonzeros per row)."""
    T = toeplitz_matrix(torch.ones(3), 100)
    assert T.count_nonzero() == 3 * 98
    assert T.count_nonzero() / T.numel() < 0.04


def test_oversized_matrix_is_refused_with_a_suggestion():
    w = torch.randn(64, 64, 3, 3)
    with pytest.raises(ValueError, match="method='im2col'"):
        toeplitz_matrix(w, (64, 64))
    x = torch.randn(1, 64, 64, 64)
    with pytest.raises(ValueError, match=r"2\*\*28.*method='im2col'"):
        conv2d(x, w, method="toeplitz")
    assert 64 * 62 * 62 * 64 * 64 * 64 > MAX_TOEPLITZ_ELEMENTS


@pytest.mark.parametrize(("args", "kwargs", "error", "pattern"), [
    ((torch.randn(3), 0), {}, ValueError, "input_size must"),
    ((torch.randn(3), (4, 4)), {}, ValueError, "input_size must be an int or a tuple of 1"),
    ((torch.randn(3), 5), {"stride": 0}, ValueError, "stride must be"),
    ((torch.randn(3), 5), {"dilation": -1}, ValueError, "dilation must be"),
    ((torch.randn(3), 5), {"padding": -2}, ValueError, "padding must be non-negative"),
    ((torch.randn(3), 5), {"padding": "same", "stride": 2}, ValueError, "stride 1"),
    ((torch.randn(3), 2), {}, ValueError, "larger than the padded input"),
    ((torch.randn(1, 1, 1, 1, 3), 5), {}, ValueError, "weight must be 1-D"),
    ((torch.ones(3, dtype=torch.int64), 5), {}, TypeError, "weight must be a floating-point"),
])
def test_argument_checks(args, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        toeplitz_matrix(*args, **kwargs)
