"""Handcrafted filters: hand-checked values, separability, sums, signs, associativity."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cnnlib import filters
from cnnlib.filters import (
    BOX_3,
    BOX_5,
    FILTERS,
    GAUSSIAN_3,
    GAUSSIAN_5,
    IDENTITY_3,
    LAPLACIAN_4,
    LAPLACIAN_8,
    ROBERTS_X,
    ROBERTS_Y,
    SEPARABLE_PARTS,
    SHARPEN_3,
    SOBEL_D1,
    SOBEL_D2,
    SOBEL_X,
    SOBEL_Y,
    binomial_kernel,
    gaussian_kernel,
    gaussian_kernel_1d,
    sharpen,
)


def xcorr(image, kernel, padding=0):
    """PyTorch's cross-correlation of a (H, W) image with a (kh, kw) kernel."""
    return F.conv2d(image[None, None], kernel[None, None], padding=padding)[0, 0]


def t(rows):
    return torch.tensor(rows, dtype=torch.float32)


HAND_VALUES = {
    "identity": t([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "box_3": torch.full((3, 3), 1 / 9),
    "box_5": torch.full((5, 5), 1 / 25),
    "gaussian_3": t([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
    # the integer entries sum to 16·16 = 256 (not 246): the factor is 1/256
    "gaussian_5": t([[1, 4, 6, 4, 1], [4, 16, 24, 16, 4], [6, 24, 36, 24, 6],
                     [4, 16, 24, 16, 4], [1, 4, 6, 4, 1]]) / 256,
    "sobel_x": t([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel_y": t([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "sobel_d1": t([[-2, -1, 0], [-1, 0, 1], [0, 1, 2]]),
    "sobel_d2": t([[0, -1, -2], [1, 0, -1], [2, 1, 0]]),
    "roberts_x": t([[-1, 0], [0, 1]]),
    "roberts_y": t([[0, -1], [1, 0]]),
    "laplacian_4": t([[0, -1, 0], [-1, 4, -1], [0, -1, 0]]),
    "laplacian_8": t([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
    "sharpen": t([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
}
SMOOTHING = ["identity", "box_3", "box_5", "gaussian_3", "gaussian_5"]
ZERO_SUM = ["sobel_x", "sobel_y", "sobel_d1", "sobel_d2", "roberts_x", "roberts_y",
            "laplacian_4", "laplacian_8"]


def test_gallery_is_complete_and_float32():
    assert set(FILTERS) == set(HAND_VALUES)
    for kernel in FILTERS.values():
        assert kernel.dtype == torch.float32 and kernel.dim() == 2


@pytest.mark.parametrize("name", sorted(HAND_VALUES))
def test_hand_checked_values(name):
    torch.testing.assert_close(FILTERS[name], HAND_VALUES[name], rtol=0, atol=1e-7)


def test_module_constants_are_the_gallery_entries():
    pairs = [(IDENTITY_3, "identity"), (BOX_3, "box_3"), (BOX_5, "box_5"),
             (GAUSSIAN_3, "gaussian_3"), (GAUSSIAN_5, "gaussian_5"), (SOBEL_X, "sobel_x"),
             (SOBEL_Y, "sobel_y"), (SOBEL_D1, "sobel_d1"), (SOBEL_D2, "sobel_d2"),
             (ROBERTS_X, "roberts_x"), (ROBERTS_Y, "roberts_y"),
             (LAPLACIAN_4, "laplacian_4"), (LAPLACIAN_8, "laplacian_8"),
             (SHARPEN_3, "sharpen")]
    for constant, name in pairs:
        assert constant is FILTERS[name]


@pytest.mark.parametrize("name", sorted(SEPARABLE_PARTS))
def test_separable_kernels_are_outer_products_of_rank_one(name):
    column, row = SEPARABLE_PARTS[name]
    assert column.dim() == row.dim() == 1
    torch.testing.assert_close(FILTERS[name], torch.outer(column, row))
    assert torch.linalg.matrix_rank(FILTERS[name]).item() == 1


@pytest.mark.parametrize("name", ["sobel_d1", "sobel_d2", "laplacian_4", "sharpen"])
def test_non_separable_kernels_have_rank_above_one(name):
    assert torch.linalg.matrix_rank(FILTERS[name]).item() > 1


def test_sobel_parts():
    assert torch.equal(filters.SOBEL_SMOOTHING, t([1, 2, 1]))
    assert torch.equal(filters.CENTRAL_DIFFERENCE, t([-1, 0, 1]))


def test_separable_pass_equals_2d_pass():
    image = torch.randn(9, 11, dtype=torch.float64)
    column, row = (v.double() for v in SEPARABLE_PARTS["sobel_x"])
    two_passes = xcorr(xcorr(image, column[:, None]), row[None, :])
    torch.testing.assert_close(two_passes, xcorr(image, SOBEL_X.double()))


@pytest.mark.parametrize("name", SMOOTHING)
def test_smoothing_kernels_sum_to_one(name):
    assert FILTERS[name].double().sum().item() == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("name", ZERO_SUM)
def test_derivative_kernels_sum_to_zero(name):
    assert FILTERS[name].sum().item() == 0
    response = xcorr(torch.full((6, 6), 3.7), FILTERS[name])
    torch.testing.assert_close(response, torch.zeros_like(response), rtol=0, atol=1e-5)


def test_gaussian_3_conv_gaussian_3_is_gaussian_5():
    # full convolution: flip the kernel and pad by k − 1 = 2 on each side
    full = F.conv2d(GAUSSIAN_3[None, None], GAUSSIAN_3.flip(0, 1)[None, None], padding=2)[0, 0]
    torch.testing.assert_close(full, GAUSSIAN_5)
    # associativity: blurring twice with g3 equals one blur with g5 (away from the borders)
    image = torch.rand(12, 12, dtype=torch.float64)
    twice = xcorr(xcorr(image, GAUSSIAN_3.double()), GAUSSIAN_3.double())
    torch.testing.assert_close(twice, xcorr(image, GAUSSIAN_5.double()))


def step_image(direction):
    """Dark (0) on one side, bright (1) on the other; `direction` points towards bright."""
    i, j = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
    coordinate = {"x": j, "y": i, "d1": i + j, "d2": i - j}[direction]
    return (coordinate >= coordinate.float().median()).float()


@pytest.mark.parametrize(("kernel", "direction"), [
    (SOBEL_X, "x"), (SOBEL_Y, "y"), (SOBEL_D1, "d1"), (SOBEL_D2, "d2"),
    (ROBERTS_X, "d1"), (ROBERTS_Y, "d2"),
])
def test_derivatives_are_positive_where_intensity_increases(kernel, direction):
    image = step_image(direction)
    response = xcorr(image, kernel)
    assert response.max() > 0
    assert response.min() >= 0  # no negative response anywhere on a rising edge
    flipped = xcorr(1 - image, kernel)  # bright → dark in the same direction
    assert flipped.min() < 0 and flipped.max() <= 0


def test_sobel_x_on_left_dark_right_bright_step():
    image = torch.zeros(5, 6)
    image[:, 3:] = 1.0
    response = xcorr(image, SOBEL_X)
    # columns of the output sit at input columns 1..4; the edge is between columns 2 and 3
    expected_row = t([0, 4, 4, 0])
    assert torch.equal(response, expected_row.expand(3, 4))
    assert torch.equal(xcorr(image, SOBEL_Y), torch.zeros(3, 4))


def test_sobel_x_marks_vertical_edges_and_sobel_y_horizontal_ones():
    vertical_edge = torch.zeros(6, 6)
    vertical_edge[:, 3:] = 1.0  # a vertical line separates dark (left) from bright (right)
    horizontal_edge = vertical_edge.T.contiguous()  # dark above, bright below
    assert xcorr(vertical_edge, SOBEL_X).abs().max() == 4
    assert xcorr(vertical_edge, SOBEL_Y).abs().max() == 0
    assert xcorr(horizontal_edge, SOBEL_Y).abs().max() == 4
    assert xcorr(horizontal_edge, SOBEL_X).abs().max() == 0


def test_textbook_kernels_are_ours_under_true_convolution():
    # Texts that write Sobel-x for h ∗ x (true convolution) print our kernel rotated by 180°.
    textbook_sobel_x = t([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    textbook_sobel_y = t([[1, 2, 1], [0, 0, 0], [-1, -2, -1]])
    assert torch.equal(textbook_sobel_x.flip(0, 1), SOBEL_X)
    assert torch.equal(textbook_sobel_y.flip(0, 1), SOBEL_Y)
    assert torch.equal(t([[2, 1, 0], [1, 0, -1], [0, -1, -2]]).flip(0, 1), SOBEL_D1)
    assert torch.equal(t([[0, 1, 2], [-1, 0, 1], [-2, -1, 0]]).flip(0, 1), SOBEL_D2)


def test_laplacian_is_minus_the_second_derivative():
    # f = x² + 2y² has ∇²f = 2 + 4 = 6 everywhere; the 4-neighbour stencil is exact on it
    i, j = torch.meshgrid(torch.arange(7.0), torch.arange(7.0), indexing="ij")
    f = j**2 + 2 * i**2
    assert torch.equal(xcorr(f, LAPLACIAN_4), torch.full((5, 5), -6.0))
    # a bright dot gives a positive centre response
    dot = torch.zeros(5, 5)
    dot[2, 2] = 1.0
    assert xcorr(dot, LAPLACIAN_8)[1, 1].item() == 8.0


# --- sharpen -------------------------------------------------------------------------------

def test_sharpen_hand_values():
    assert torch.equal(sharpen(2.0), t([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]))
    assert torch.equal(sharpen(2.0, neighbours=8), t([[-1, -1, -1], [-1, 9, -1],
                                                      [-1, -1, -1]]))
    assert torch.equal(sharpen(1.0), LAPLACIAN_4)
    assert torch.equal(sharpen(1, neighbours=8), LAPLACIAN_8)
    assert torch.equal(sharpen(3.5), t([[0, -1, 0], [-1, 6.5, -1], [0, -1, 0]]))
    assert torch.equal(SHARPEN_3, sharpen())


@given(st.floats(-5, 5, allow_nan=False), st.sampled_from([4, 8]), st.floats(-10, 10))
def test_sharpen_on_a_constant_image(a, neighbours, value):
    kernel = sharpen(a, neighbours, dtype=torch.float64)
    constant = torch.full((5, 5), value, dtype=torch.float64)
    out = xcorr(constant, kernel)
    torch.testing.assert_close(out, torch.full((3, 3), (a - 1) * value, dtype=torch.float64))


def test_sharpen_a2_leaves_a_constant_image_unchanged():
    constant = torch.full((6, 6), 0.3)
    torch.testing.assert_close(xcorr(constant, SHARPEN_3), torch.full((4, 4), 0.3))


def test_sharpen_is_original_plus_high_pass():
    image = torch.rand(8, 8, dtype=torch.float64)
    a = 2.5
    expected = (a - 1) * image[1:-1, 1:-1] + xcorr(image, LAPLACIAN_8.double())
    torch.testing.assert_close(xcorr(image, sharpen(a, 8, dtype=torch.float64)), expected)


@pytest.mark.parametrize(("kwargs", "exc", "words"), [
    ({"a": "2"}, TypeError, "a must be a number"),
    ({"a": True}, TypeError, "a must be a number"),
    ({"a": math.inf}, ValueError, "a must be a finite number"),
    ({"neighbours": 6}, ValueError, "neighbours must be 4 or 8"),
    ({"neighbours": True}, ValueError, "neighbours must be 4 or 8"),
])
def test_sharpen_errors(kwargs, exc, words):
    with pytest.raises(exc, match=words):
        sharpen(**kwargs)


# --- binomial and Gaussian kernels ---------------------------------------------------------

def test_binomial_kernel():
    assert torch.equal(binomial_kernel(1), t([1]))
    assert torch.equal(binomial_kernel(3), t([1, 2, 1]) / 4)
    assert torch.equal(binomial_kernel(5), t([1, 4, 6, 4, 1]) / 16)
    # (n−1)-fold convolution of [1, 1]/2 with itself
    k = torch.tensor([1.0])
    for _ in range(6):
        k = F.conv1d(k.view(1, 1, -1), torch.tensor([[[0.5, 0.5]]]), padding=1).view(-1)
    torch.testing.assert_close(binomial_kernel(7), k)
    assert binomial_kernel(4, dtype=torch.float64).dtype == torch.float64
    with pytest.raises(ValueError, match="n must be a positive int"):
        binomial_kernel(0)


def test_binomial_variance():
    for n in (3, 5, 9):
        k = binomial_kernel(n, dtype=torch.float64)
        i = torch.arange(n, dtype=torch.float64) - (n - 1) / 2
        assert (k * i**2).sum().item() == pytest.approx((n - 1) / 4)


def test_gaussian_hand_case():
    g = gaussian_kernel_1d(3, 1.0, dtype=torch.float64)
    e = math.exp(-0.5)
    torch.testing.assert_close(g, torch.tensor([e, 1, e], dtype=torch.float64) / (1 + 2 * e))


@given(st.integers(0, 6), st.floats(0.1, 5.0))
def test_gaussian_kernels(radius, sigma):
    size = 2 * radius + 1
    g1 = gaussian_kernel_1d(size, sigma)
    g2 = gaussian_kernel(size, sigma)
    assert g1.shape == (size,) and g2.shape == (size, size)
    assert g1.dtype == g2.dtype == torch.float32
    assert g1.sum().item() == pytest.approx(1.0, abs=1e-5)
    assert g2.sum().item() == pytest.approx(1.0, abs=1e-5)
    torch.testing.assert_close(g2, torch.outer(g1, g1))
    torch.testing.assert_close(g1, g1.flip(0))  # symmetric
    assert g1.argmax().item() == radius  # peak in the centre
    if size > 1:
        assert torch.linalg.matrix_rank(g2).item() == 1  # float32 tolerance
        # ratio of neighbours follows exp(−(2i+1)/(2σ²))
        d = gaussian_kernel_1d(size, sigma, dtype=torch.float64)
        ratio = (d[radius + 1] / d[radius]).item()
        assert ratio == pytest.approx(math.exp(-1 / (2 * sigma**2)), rel=1e-9)


def test_gaussian_dtype_device(device):
    g = gaussian_kernel(5, 1.2, dtype=torch.float64, device=device)
    assert g.dtype == torch.float64 and g.device.type == torch.device(device).type


@pytest.mark.parametrize("fn", [gaussian_kernel, gaussian_kernel_1d])
@pytest.mark.parametrize(("size", "sigma", "exc", "words"), [
    (4, 1.0, ValueError, "size must be a positive odd int"),
    (0, 1.0, ValueError, "size must be a positive int"),
    (3.0, 1.0, TypeError, "size must be a positive int"),
    (3, 0.0, ValueError, "sigma must be a positive finite number"),
    (3, -1, ValueError, "sigma must be a positive finite number"),
    (3, math.nan, ValueError, "sigma must be a positive finite number"),
    (3, math.inf, ValueError, "sigma must be a positive finite number"),
    (3, "1", TypeError, "sigma must be a positive number"),
    (3, None, TypeError, "sigma must be a positive number"),
    (3, True, TypeError, "sigma must be a positive number"),
])
def test_gaussian_errors(fn, size, sigma, exc, words):
    with pytest.raises(exc, match=words):
        fn(size, sigma)
