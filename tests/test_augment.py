"""cnnlib.augment: random shifts against translate, their distribution; rotations and rescaling
against torch.rot90 and against what bilinear interpolation does exactly (linear ramps)."""

import math

import pytest
import torch

from cnnlib.augment import draw_shifts, random_shift, rescale, rotate, shift_images
from cnnlib.equivariance import translate

# ---------------------------------------------------------------------------------- shifts


def test_shift_images_moves_each_image_like_translate(device):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(5, 2, 6, 7, generator=g).to(device)
    shifts = torch.tensor([[0, 0], [1, -2], [-3, 3], [6, 0], [2, 9]], device=device)
    out = shift_images(x, shifts)
    assert out.shape == x.shape and out.device == x.device and out.dtype == x.dtype
    for n in range(5):
        expected = translate(x[n], tuple(shifts[n].tolist()), mode="zeros")
        torch.testing.assert_close(out[n], expected, rtol=0, atol=0)
    assert (out[3] == 0).all() and (out[4] == 0).all()  # moved out of the frame entirely


def test_shift_images_fills_with_the_given_value():
    x = torch.ones(1, 1, 4, 5)
    out = shift_images(x, torch.tensor([[1, -2]]), fill=-0.5)
    expected = torch.full((4, 5), -0.5)
    expected[1:, :3] = 1.0  # one row down, two columns left
    torch.testing.assert_close(out[0, 0], expected, rtol=0, atol=0)


def test_shift_images_passes_gradients():
    x = torch.rand(2, 1, 4, 4, requires_grad=True)
    shift_images(x, torch.tensor([[1, 1], [0, -1]])).sum().backward()
    # each input pixel that stays in the frame gets gradient 1, the rest 0
    assert x.grad[0, 0, :3, :3].eq(1).all() and x.grad[0, 0, 3].eq(0).all()
    assert x.grad[1, 0, :, 1:].eq(1).all() and x.grad[1, 0, :, 0].eq(0).all()


def _dot_positions(max_shift: int, n: int, seed: int):
    """Shift n copies of a one-pixel image and read each offset back from the pixel's place."""
    size = 2 * max_shift + 1
    x = torch.zeros(n, 1, size, size)
    x[:, :, max_shift, max_shift] = 1.0
    out = random_shift(x, max_shift, generator=torch.Generator().manual_seed(seed))
    flat = out.flatten(1)
    assert (flat.sum(1) == 1).all() and ((flat == 0) | (flat == 1)).all()  # the dot survives
    where = flat.argmax(1)
    return torch.stack([where // size - max_shift, where % size - max_shift], 1)


def test_random_shift_draws_every_offset_equally_often():
    max_shift, n = 2, 5000
    offsets = _dot_positions(max_shift, n, seed=0)
    assert offsets.abs().max() == max_shift
    counts = torch.zeros(5, 5)
    for dy, dx in offsets.tolist():
        counts[dy + max_shift, dx + max_shift] += 1
    assert (counts > 0).all()  # all 25 offsets, (0, 0) included
    expected = n / 25
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 52.6  # 24 degrees of freedom: P(χ² > 52.6) ≈ 0.0006 for a fair draw
    # dy and dx are drawn independently: each marginal is uniform on {−2, …, 2}
    for axis in (0, 1):
        marginal = torch.bincount(offsets[:, axis] + max_shift, minlength=5).float()
        assert (marginal - n / 5).abs().max() < 4 * math.sqrt(n / 5)
    # and each image draws its own: the offsets of the batch are not all alike
    assert len({tuple(o) for o in offsets.tolist()[:20]}) > 5


def test_random_shift_is_reproducible_with_a_generator_and_with_the_global_seed():
    x = torch.rand(16, 1, 8, 8)
    a = random_shift(x, 3, generator=torch.Generator().manual_seed(7))
    b = random_shift(x, 3, generator=torch.Generator().manual_seed(7))
    c = random_shift(x, 3, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    expected = shift_images(x, draw_shifts(16, 3, torch.Generator().manual_seed(7)))
    assert torch.equal(a, expected)
    torch.manual_seed(3)
    d = random_shift(x, 3)
    torch.manual_seed(3)
    assert torch.equal(d, random_shift(x, 3))


def test_random_shift_keeps_shape_device_and_zero_shift_copies(device):
    x = torch.rand(4, 3, 5, 6, device=device)
    out = random_shift(x, 2, fill=0.25)
    assert out.shape == x.shape and out.device == x.device and out.dtype == x.dtype
    same = random_shift(x, 0)
    assert torch.equal(same, x) and same.data_ptr() != x.data_ptr()


def test_draw_shifts_range_shape_and_device():
    s = draw_shifts(1000, 4, torch.Generator().manual_seed(0))
    assert s.shape == (1000, 2) and s.dtype == torch.int64 and s.device.type == "cpu"
    assert s.min() == -4 and s.max() == 4
    assert draw_shifts(0, 4).shape == (0, 2)
    assert (draw_shifts(10, 0) == 0).all()


def test_draw_shifts_without_a_generator_draws_on_the_device_from_the_global_seed(device):
    torch.manual_seed(5)
    a = draw_shifts(50, 3, device=device)
    torch.manual_seed(5)
    b = draw_shifts(50, 3, device=device)
    assert a.device.type == device.type and torch.equal(a, b)
    assert a.min() >= -3 and a.max() <= 3


@pytest.mark.parametrize("call, error, match", [
    (lambda x: random_shift(x, -1), ValueError, "max_shift must be a non-negative int"),
    (lambda x: random_shift(x, 1.5), TypeError, "max_shift"),
    (lambda x: random_shift(x, True), TypeError, "max_shift"),
    (lambda x: random_shift(x.long(), 1), TypeError, "x"),
    (lambda x: random_shift(x[0], 1), ValueError, "x"),
    (lambda x: random_shift([[1.0]], 1), TypeError, "x"),
    (lambda x: random_shift(x, 1, fill="black"), TypeError, "fill"),
    (lambda x: random_shift(x, 1, fill=float("nan")), TypeError, "fill"),
    (lambda x: random_shift(x, 1, generator=0), TypeError, "generator"),
    (lambda x: shift_images(x, torch.zeros(3, 2, dtype=torch.int64)), ValueError, r"\(2, 2\)"),
    (lambda x: shift_images(x, torch.zeros(2, 2)), TypeError, "shifts"),
    (lambda x: shift_images(x, [[0, 0], [0, 0]]), TypeError, "shifts"),
    (lambda x: draw_shifts(-1, 2), ValueError, "n must be"),
])
def test_shift_argument_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(torch.rand(2, 1, 4, 4))


# ------------------------------------------------------------------------ rotation, scale

@pytest.mark.parametrize("size", [5, 8])
@pytest.mark.parametrize("angle, k", [(90, 1), (180, 2), (270, 3), (-90, -1), (450, 1)])
def test_rotate_by_quarter_turns_is_rot90(device, size, angle, k):
    x = torch.rand(2, 3, size, size, device=device)
    expected = torch.rot90(x, k, dims=(-2, -1))
    torch.testing.assert_close(rotate(x, angle), expected, rtol=0, atol=1e-6)
    assert torch.equal(rotate(x, angle, mode="nearest"), expected)


def test_rotate_counter_clockwise_as_displayed():
    x = torch.zeros(1, 1, 3, 3)
    x[0, 0, 1, 2] = 1.0  # right of the centre
    out = rotate(x, 90)
    assert out[0, 0, 0, 1] == pytest.approx(1.0)  # now above it (row 0 is the top)


def test_rotate_zero_and_rescale_one_are_the_identity(device):
    x = torch.rand(3, 1, 7, 10, device=device)
    torch.testing.assert_close(rotate(x, 0), x, rtol=0, atol=1e-5)
    torch.testing.assert_close(rotate(x, 360), x, rtol=0, atol=1e-5)
    torch.testing.assert_close(rescale(x, 1), x, rtol=0, atol=1e-5)


def test_rotate_is_rigid_on_a_non_square_image():
    # 6×10: the centre is a pixel corner, so a quarter turn maps pixel centres to pixel
    # centres; a square in the middle must turn like torch.rot90 turns it.
    x = torch.zeros(1, 1, 6, 10)
    x[..., :, 2:8] = torch.rand(6, 6)
    expected = torch.zeros_like(x)
    expected[..., :, 2:8] = torch.rot90(x[..., :, 2:8], 1, dims=(-2, -1))
    torch.testing.assert_close(rotate(x, 90), expected, rtol=0, atol=1e-6)


def _ramp(h, w, a, b):
    """x[i, j] = a·(j − c_x) + b·(i − c_y): linear, so bilinear interpolation is exact."""
    rows = torch.arange(h, dtype=torch.float64).view(h, 1) - (h - 1) / 2
    cols = torch.arange(w, dtype=torch.float64).view(1, w) - (w - 1) / 2
    return (a * cols + b * rows)[None, None]


@pytest.mark.parametrize("angle", [30.0, -45.0, 100.0])
def test_rotate_a_linear_ramp_exactly(angle):
    h, w = 21, 15
    a, b = 1.0, 0.5
    x = _ramp(h, w, a, b)  # a·u + b·v, with (u, v) the offset from the centre
    out = rotate(x, angle)
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    # output (u, v) reads the input at (c·u − s·v, s·u + c·v)
    expected = _ramp(h, w, a * c + b * s, b * c - a * s)
    inside = (slice(None), slice(None), slice(5, 16), slice(3, 12))  # source inside the frame
    torch.testing.assert_close(out[inside], expected[inside], rtol=0, atol=1e-9)


@pytest.mark.parametrize("factor", [2.0, 0.5, 1.3])
def test_rescale_a_linear_ramp_exactly(factor):
    x = _ramp(12, 9, 1.0, -2.0)
    out = rescale(x, factor)
    expected = x / factor  # output p reads the input at p / factor (offsets from the centre)
    inside = (slice(None), slice(None), slice(3, 9), slice(2, 7))
    torch.testing.assert_close(out[inside], expected[inside], rtol=0, atol=1e-9)


def test_rotate_and_rescale_fill_what_comes_from_outside():
    x = torch.ones(1, 1, 9, 9)
    turned = rotate(x, 45, fill=-1.0)
    assert turned[0, 0, 4, 4] == pytest.approx(1.0) and turned[0, 0, 0, 0] == -1.0
    shrunk = rescale(x, 0.5, fill=3.0)
    assert shrunk[0, 0, 4, 4] == pytest.approx(1.0)
    assert (shrunk[0, 0, 0] == 3.0).all() and (shrunk[0, 0, :, -1] == 3.0).all()
    grown = rescale(torch.rand(1, 1, 9, 9), 2.0, fill=5.0)
    assert (grown < 5.0).all()  # enlarging reads only inside: nothing comes from outside


@pytest.mark.parametrize("call, error, match", [
    (lambda x: rotate(x, "45"), TypeError, "angle"),
    (lambda x: rotate(x, float("inf")), TypeError, "angle"),
    (lambda x: rotate(x, 30, mode="bicubic"), ValueError, "mode"),
    (lambda x: rotate(x, 30, fill=None), TypeError, "fill"),
    (lambda x: rotate(x.long(), 30), TypeError, "x"),
    (lambda x: rotate(x[0], 30), ValueError, "x"),
    (lambda x: rescale(x, 0), ValueError, "factor must be positive"),
    (lambda x: rescale(x, -2.0), ValueError, "factor"),
    (lambda x: rescale(x, None), TypeError, "factor"),
])
def test_rotate_rescale_argument_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(torch.rand(1, 1, 5, 5))
