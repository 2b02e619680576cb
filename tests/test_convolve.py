"""True convolution: equal to numpy.convolve, commutative, associative, and the flipped-kernel
relation to cross-correlation (an antisymmetric kernel negates the response)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cnnlib.conv import conv2d
from cnnlib.convolve import convolve1d, convolve2d

MODES = ["full", "same", "valid"]


pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors: see conftest.py


signals = st.lists(st.integers(-5, 5), min_size=1, max_size=12)


@pytest.mark.parametrize("mode", MODES)
@given(x=signals, h=signals)
def test_convolve1d_equals_numpy(mode, x, h):
    """Integers in, so float64 results are exact."""
    got = convolve1d(torch.tensor(x, dtype=torch.float64), torch.tensor(h, dtype=torch.float64),
                     mode)
    assert got.tolist() == np.convolve(x, h, mode).tolist()


def test_convolve1d_hand_example():
    """[1, 2, 3] * [0, 1, 0.5]: y[t] = Σ_j h[j] x[t − j] = [0, 1, 2.5, 4, 1.5]."""
    x, h = torch.tensor([1.0, 2, 3]), torch.tensor([0.0, 1, 0.5])
    assert convolve1d(x, h).tolist() == [0, 1, 2.5, 4, 1.5]
    assert convolve1d(x, h, "same").tolist() == [1, 2.5, 4]
    assert convolve1d(x, h, "valid").tolist() == [2.5]


@pytest.mark.parametrize("mode", MODES)
@given(x=st.tuples(st.integers(3, 8), st.integers(3, 8)), u=st.integers(1, 3),
       v=st.integers(1, 3), seed=st.integers(0, 1000))
def test_convolve2d_of_separable_kernel_is_two_numpy_convolutions(mode, x, u, v, seed):
    """For h = u vᵀ the 2-D convolution is a 1-D one along columns, then along rows."""
    rng = np.random.default_rng(seed)
    image = rng.integers(-4, 5, size=x).astype(float)
    cu, rv = rng.integers(-3, 4, size=u).astype(float), rng.integers(-3, 4, size=v).astype(float)
    expected = np.apply_along_axis(lambda c: np.convolve(c, cu, mode), 0, image)
    expected = np.apply_along_axis(lambda r: np.convolve(r, rv, mode), 1, expected)
    got = convolve2d(torch.from_numpy(image), torch.from_numpy(np.outer(cu, rv)), mode)
    assert got.numpy().tolist() == expected.tolist()


@given(x=st.tuples(st.integers(1, 6), st.integers(1, 6)),
       h=st.tuples(st.integers(1, 6), st.integers(1, 6)))
def test_convolution_is_commutative(x, h):
    a, b = torch.randn(x, dtype=torch.float64), torch.randn(h, dtype=torch.float64)
    torch.testing.assert_close(convolve2d(a, b), convolve2d(b, a))


def test_convolution_is_associative_cross_correlation_is_not():
    """Two filters in a row are one filter: (x * g) * h = x * (g * h), for true convolution."""
    gen = torch.Generator().manual_seed(0)
    x, g, h = (torch.randn(s, dtype=torch.float64, generator=gen)
               for s in ((12, 12), (3, 3), (2, 4)))
    torch.testing.assert_close(convolve2d(convolve2d(x, g), h), convolve2d(x, convolve2d(g, h)))

    def xcorr_full(a, b):  # full cross-correlation, for contrast
        return F.conv2d(a[None, None], b[None, None],
                        padding=(b.shape[0] - 1, b.shape[1] - 1))[0, 0]

    left = xcorr_full(xcorr_full(x, g), h)
    right = xcorr_full(x, xcorr_full(g, h))
    assert left.shape == right.shape and not torch.allclose(left, right)


def test_true_convolution_is_cross_correlation_with_flipped_kernel():
    gen = torch.Generator().manual_seed(1)
    x, h = torch.randn(9, 8, generator=gen), torch.randn(3, 2, generator=gen)
    torch.testing.assert_close(convolve2d(x, h, "valid"),
                               conv2d(x[None, None], h.flip(0, 1)[None, None])[0, 0])


@pytest.mark.parametrize("method", ["loop", "im2col", "fft", "toeplitz"])
def test_antisymmetric_kernel_negates_the_response(method):
    """A horizontal-edge kernel (top row minus bottom row) is antisymmetric under the 180° flip
    (flip(h) = −h), so true convolution gives the negated cross-correlation: edges swap polarity.

    Cross-correlation of this 4×4 image is [[−4, −3], [3, −8]] (see test_conv), so the true
    convolution is [[4, 3], [−3, 8]].
    """
    x = torch.tensor([[2.0, 0, 1, 3], [7, 1, 1, 0], [0, 2, 5, 0], [0, 5, 1, 4]])
    h = torch.tensor([[1.0, 1, 1], [0, 0, 0], [-1, -1, -1]])
    assert torch.equal(h.flip(0, 1), -h)
    xcorr = conv2d(x[None, None], h[None, None], method=method)[0, 0]
    assert convolve2d(x, h, "valid").tolist() == [[4, 3], [-3, 8]]
    torch.testing.assert_close(convolve2d(x, h, "valid"), -xcorr)


def test_symmetric_kernel_gives_the_same_response():
    x = torch.randn(7, 7)
    box = torch.ones(3, 3) / 9
    torch.testing.assert_close(convolve2d(x, box, "same"),
                               conv2d(x[None, None], box[None, None], padding=1)[0, 0])


@pytest.mark.parametrize(("call", "error", "pattern"), [
    (lambda: convolve1d(torch.randn(3), torch.randn(2), "circular"), ValueError,
     "mode must be one of"),
    (lambda: convolve1d(torch.randn(3, 1), torch.randn(2)), ValueError, "x must be 1-D"),
    (lambda: convolve2d(torch.randn(3, 3), torch.randn(2)), ValueError, "h must be 2-D"),
    (lambda: convolve1d(torch.arange(3), torch.randn(2)), TypeError, "x must be a floating"),
    (lambda: convolve1d(torch.randn(3), torch.randn(2).double()), TypeError, "same dtype"),
    (lambda: convolve1d(torch.randn(3), torch.randn(2, device="meta")), ValueError,
     "same device"),
    (lambda: convolve1d(torch.randn(0), torch.randn(2)), ValueError, "must not be empty"),
    (lambda: convolve2d(torch.randn(5, 2), torch.randn(2, 5), "valid"), ValueError,
     "fit inside the other"),
])
def test_argument_checks(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()
