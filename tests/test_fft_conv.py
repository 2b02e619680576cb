"""The FFT method: its helpers (fast sizes, kernel dilation) and the cases where it is
meant to shine — large kernels — against PyTorch."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cnnlib.conv import conv1d, conv2d
from cnnlib.fft_conv import dilate_kernel, fast_fft_size

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors: see conftest.py


def is_5_smooth(m):
    for p in (2, 3, 5):
        while m % p == 0:
            m //= p
    return m == 1


def test_fast_fft_size_examples():
    assert [fast_fft_size(n) for n in (1, 7, 11, 13, 97, 128, 251)] == [
        1, 8, 12, 15, 100, 128, 256]


@given(n=st.integers(1, 5000))
def test_fast_fft_size_is_the_next_5_smooth_number(n):
    m = fast_fft_size(n)
    assert m >= n and is_5_smooth(m)
    assert not any(is_5_smooth(k) for k in range(n, m))


@pytest.mark.parametrize("bad", [0, -3, 2.0, True])
def test_fast_fft_size_rejects(bad):
    with pytest.raises(ValueError, match="n must be a positive int"):
        fast_fft_size(bad)


def test_dilate_kernel_hand_example():
    k = torch.tensor([[1.0, 2], [3, 4]])
    assert dilate_kernel(k, (2, 3)).tolist() == [[1, 0, 0, 2], [0, 0, 0, 0], [3, 0, 0, 4]]


@given(kh=st.integers(1, 4), kw=st.integers(1, 4), dh=st.integers(1, 3), dw=st.integers(1, 3))
def test_dilated_conv_equals_conv_with_dilated_kernel(kh, kw, dh, dw):
    x, w = torch.randn(1, 2, 12, 12, dtype=torch.float64), torch.randn(3, 2, kh, kw,
                                                                       dtype=torch.float64)
    torch.testing.assert_close(F.conv2d(x, w, dilation=(dh, dw)),
                               F.conv2d(x, dilate_kernel(w, (dh, dw))))


def test_dilate_kernel_argument_checks():
    with pytest.raises(ValueError, match="dilation must be"):
        dilate_kernel(torch.randn(3, 3), 0)
    with pytest.raises(ValueError, match="weight must be"):
        dilate_kernel(torch.randn(3), 2)


@pytest.mark.parametrize("k", [15, 31])
def test_large_kernels_match_torch(k):
    """The regime where the FFT wins: a kernel almost as large as the image."""
    gen = torch.Generator().manual_seed(k)
    x = torch.randn(2, 3, 40, 37, dtype=torch.float64, generator=gen)
    w = torch.randn(4, 3, k, k, dtype=torch.float64, generator=gen)
    for kwargs in ({}, {"padding": "same"}, {"stride": 3, "padding": 2}):
        torch.testing.assert_close(conv2d(x, w, method="fft", **kwargs), F.conv2d(x, w, **kwargs))


def test_float32_error_is_small_relative_to_the_signal():
    """Rounding in float32 FFTs is spread over the whole output; it stays ~1e-6 relative."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 8, 64, 64, generator=gen)
    w = torch.randn(8, 8, 9, 9, generator=gen)
    expected = F.conv2d(x.double(), w.double())
    err = (conv2d(x, w, method="fft").double() - expected).abs().max()
    assert err / expected.abs().max() < 1e-5


def test_long_signal_1d():
    x = torch.randn(2, 1, 1000, dtype=torch.float64)
    h = torch.randn(1, 1, 101, dtype=torch.float64)
    torch.testing.assert_close(conv1d(x, h, method="fft", padding=50), F.conv1d(x, h, padding=50))


def test_depthwise_groups():
    x = torch.randn(2, 6, 20, 20, dtype=torch.float64)
    w = torch.randn(12, 1, 7, 7, dtype=torch.float64)
    torch.testing.assert_close(conv2d(x, w, groups=6, method="fft", dilation=2),
                               F.conv2d(x, w, groups=6, dilation=2))
