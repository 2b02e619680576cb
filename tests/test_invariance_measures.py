"""cnnlib.invariance_measures: anti-aliased pooling against PyTorch, the DFT shift against sampled
cosines, and the sensitivity measure against hand computations."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cnnlib.equivariance import constant_displacement, deform, smooth_displacement, translate
from cnnlib.invariance_measures import (
    binomial_blur_kernel,
    blur_pool2d,
    deformation_sensitivity,
    fractional_shift,
    max_blur_pool2d,
    relative_change,
    shift_sensitivity,
    subsample2d,
)
from cnnlib.pooling import avg_pool2d, global_avg_pool2d, max_pool2d

MODES = ["zeros", "reflect", "replicate", "circular"]
TORCH_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate",
              "circular": "circular"}


def same_pad(x, size, mode, value=0.0):
    """PyTorch's "same" padding for a size-``size`` window, padded by F.pad with ``mode``."""
    before = (size - 1) // 2
    after = size - 1 - before
    if mode == "zeros":
        return F.pad(x, (before, after, before, after), value=value)
    return F.pad(x, (before, after, before, after), mode=TORCH_MODE[mode])


def torch_blur_pool(x, stride, size, mode):
    b = torch.tensor([math.comb(size - 1, i) for i in range(size)], dtype=x.dtype) / 2 ** (size - 1)
    weight = torch.outer(b, b).expand(x.shape[1], 1, size, size).to(x.device)
    y = F.conv2d(same_pad(x, size, mode), weight, groups=x.shape[1])
    s = (stride, stride) if isinstance(stride, int) else stride
    return y[..., ::s[0], ::s[1]]


def torch_max_blur_pool(x, k, stride, size, mode):
    peaks = F.max_pool2d(same_pad(x, k, mode, value=-math.inf), k, stride=1)
    return torch_blur_pool(peaks, stride, size, mode)


shapes = st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(3, 9), st.integers(3, 9))


# ----------------------------------------------------------------------------- the blur
def test_binomial_blur_kernel_by_hand():
    expected = torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16
    torch.testing.assert_close(binomial_blur_kernel(3), expected)
    assert binomial_blur_kernel(1).tolist() == [[1.0]]
    for f in range(1, 7):
        k = binomial_blur_kernel(f, dtype=torch.float64)
        assert k.shape == (f, f) and abs(float(k.sum()) - 1) < 1e-12
        if f >= 2:  # zero response to the pattern +1, −1, +1, … along either axis
            alternating = torch.tensor([(-1.0) ** i for i in range(f)], dtype=torch.float64)
            assert abs(float(alternating @ k @ torch.ones(f, dtype=torch.float64))) < 1e-12


@given(shapes, st.integers(1, 3), st.integers(1, 5), st.sampled_from(MODES))
def test_blur_pool2d_matches_torch(shape, stride, size, mode):
    x = torch.randn(shape, dtype=torch.float64)
    torch.testing.assert_close(blur_pool2d(x, stride, size, mode),
                               torch_blur_pool(x, stride, size, mode))


@given(shapes, st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.sampled_from(MODES))
def test_max_blur_pool2d_matches_torch(shape, k, stride, size, mode):
    x = torch.randn(shape, dtype=torch.float64)
    torch.testing.assert_close(max_blur_pool2d(x, k, stride, size, mode),
                               torch_max_blur_pool(x, k, stride, size, mode))


def test_rectangular_stride_and_unbatched_input(device):
    x = torch.randn(3, 7, 8, dtype=torch.float64, device=device)
    y = blur_pool2d(x, (1, 2), 3, "reflect")
    assert y.shape == (3, 7, 4) and y.device.type == device.type
    torch.testing.assert_close(y[None].cpu(), torch_blur_pool(x[None].cpu(), (1, 2), 3, "reflect"))
    z = max_blur_pool2d(x, 2, (2, 1), 3, "replicate")
    assert z.shape == (3, 4, 8) and z.device.type == device.type


def test_special_cases_are_subsampling_average_and_max_pooling():
    x = torch.randn(2, 3, 8, 6, dtype=torch.float64)
    assert torch.equal(blur_pool2d(x, 2, 1), x[..., ::2, ::2])
    torch.testing.assert_close(blur_pool2d(x, 2, 2), avg_pool2d(x, 2))
    assert torch.equal(max_blur_pool2d(x, 2, 2, 1), F.max_pool2d(x, 2))
    assert torch.equal(max_pool2d(x, 2), F.max_pool2d(x, 2))


@given(st.integers(1, 3), st.integers(-3, 3), st.integers(-3, 3))
def test_circular_pools_are_equivariant_to_shifts_by_multiples_of_the_stride(s, a, b):
    x = torch.randn(1, 2, 4 * s, 3 * s, dtype=torch.float64)
    for pool in (lambda t: max_blur_pool2d(t, 2, s), lambda t: blur_pool2d(t, s, 4)):
        moved = pool(torch.roll(x, (a * s, b * s), (-2, -1)))
        torch.testing.assert_close(moved, torch.roll(pool(x), (a, b), (-2, -1)))


def test_the_blur_removes_the_pattern_that_subsampling_aliases():
    i = torch.arange(8)
    checkerboard = ((-1.0) ** (i[:, None] + i[None, :]))[None, None]
    assert torch.equal(subsample2d(checkerboard, 2), torch.ones(1, 1, 4, 4))  # aliased to DC
    assert blur_pool2d(checkerboard, 2, 3).abs().max() < 1e-7


def test_zhang_one_dimensional_example():
    # max pooling sees [0, 1, 0, 1] or [1, 1, 1, 1] depending on a 1-sample shift;
    # the anti-aliased version sees [.5, 1, .5, 1] or [.75, .75, .75, .75] — same mean
    x = torch.tensor([[[[0.0, 0, 1, 1, 0, 0, 1, 1]]]])
    plain = [max_pool2d(torch.roll(x, t, -1), (1, 2)).flatten().tolist() for t in (0, 1)]
    assert plain == [[0, 1, 0, 1], [1, 1, 1, 1]]
    smooth = [max_blur_pool2d(torch.roll(x, t, -1), 2, (1, 2)).flatten().tolist()
              for t in (0, 1)]
    assert smooth == [[0.5, 1, 0.5, 1], [0.75, 0.75, 0.75, 0.75]]


def test_gradients_flow():
    x = torch.randn(1, 2, 6, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: blur_pool2d(t, 2, 3, "reflect"), (x,))
    assert torch.autograd.gradcheck(lambda t: max_blur_pool2d(t, 3, 2, 3, "zeros"), (x,))
    assert torch.autograd.gradcheck(lambda t: fractional_shift(t, (0.5, -1.25)), (x,))


def test_subsample2d():
    x = torch.arange(35.0).view(5, 7)
    assert subsample2d(x, 2).tolist() == [[0, 2, 4, 6], [14, 16, 18, 20], [28, 30, 32, 34]]
    assert subsample2d(x, (3, 1)).shape == (2, 7)
    with pytest.raises(ValueError, match="stride must be a positive int"):
        subsample2d(x, 0)
    with pytest.raises(TypeError, match="stride must be a positive int or a pair"):
        subsample2d(x, (1, 2, 3))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        subsample2d(torch.ones(3), 2)
    with pytest.raises(TypeError, match=r"input must be a torch\.Tensor"):
        subsample2d([[1.0]], 2)


def test_pool_argument_errors():
    x = torch.randn(1, 1, 4, 4)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        blur_pool2d(x, padding_mode="mirror")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        max_blur_pool2d(x, padding_mode="same")
    with pytest.raises(ValueError, match="filter_size must be a positive int, got 0"):
        blur_pool2d(x, filter_size=0)
    with pytest.raises(ValueError, match="kernel_size must be a positive int, got 0"):
        max_blur_pool2d(x, kernel_size=0)
    with pytest.raises(ValueError, match="input must be 3-D or 4-D"):
        blur_pool2d(torch.randn(4, 4))
    with pytest.raises(TypeError, match="floating-point"):
        max_blur_pool2d(torch.ones(1, 1, 4, 4, dtype=torch.int64))


# ------------------------------------------------------------------- fractional shifts
@given(st.integers(1, 9), st.integers(1, 9), st.integers(-12, 12), st.integers(-12, 12))
def test_whole_shifts_are_circular_translations(h, w, dy, dx):
    x = torch.randn(2, h, w, dtype=torch.float64)
    torch.testing.assert_close(fractional_shift(x, (float(dy), dx)),
                               translate(x, (dy, dx), mode="circular"))


@given(st.integers(2, 16), st.floats(-5, 5), st.floats(0, 2 * math.pi), st.data())
def test_shifts_a_sampled_cosine_exactly(n, t, phase, data):
    k = data.draw(st.integers(0, (n - 1) // 2))  # below the Nyquist frequency
    i = torch.arange(n, dtype=torch.float64)
    x = torch.cos(2 * math.pi * k * i / n + phase)
    expected = torch.cos(2 * math.pi * k * (i - t) / n + phase)
    torch.testing.assert_close(fractional_shift(x, t), expected)


def test_half_shifts_compose_and_the_nyquist_pattern_is_scaled_by_cos():
    x = torch.randn(3, 7, dtype=torch.float64)  # odd length: no Nyquist component
    twice = fractional_shift(fractional_shift(x, 0.5), 0.5)
    torch.testing.assert_close(twice, torch.roll(x, 1, -1))
    alternating = torch.tensor([(-1.0) ** i for i in range(8)])
    torch.testing.assert_close(fractional_shift(alternating, 0.25),
                               math.cos(math.pi * 0.25) * alternating)
    assert fractional_shift(alternating, 0.5).abs().max() < 1e-6
    y = fractional_shift(x.float(), 0.3)
    assert y.dtype == torch.float32 and y.shape == x.shape


def test_fractional_shift_errors():
    with pytest.raises(TypeError, match="shift must be a number"):
        fractional_shift(torch.ones(4), "half")
    with pytest.raises(TypeError, match="shift must be a number"):
        fractional_shift(torch.ones(4), float("nan"))
    with pytest.raises(ValueError, match="shift has 2 entries"):
        fractional_shift(torch.ones(4), (0.5, 0.5))
    with pytest.raises(TypeError, match="floating-point"):
        fractional_shift(torch.ones(4, dtype=torch.int64), 0.5)


# ----------------------------------------------------------------------- the measures
def test_relative_change_by_hand():
    old = torch.tensor([[3.0, 4.0], [1.0, 0.0]])
    new = torch.tensor([[3.0, 4.0], [1.0, 2.0]])
    assert relative_change(new, old).tolist() == [0.0, 2.0]
    assert relative_change(torch.tensor([2.0, 1.0]), torch.tensor([1.0, 4.0])).tolist() == \
        [1.0, 0.75]
    with pytest.raises(ValueError, match=r"old\[1\] is all zeros"):
        relative_change(old, torch.tensor([[1.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="same shape"):
        relative_change(old, old[0])


def test_sensitivity_of_the_pixels_themselves(device):
    x = torch.rand(3, 1, 6, 5, dtype=torch.float64, device=device)
    got = shift_sensitivity(lambda t: t, x, [0, 1, (2, -1)], mode="circular")
    by_hand = [0.0] + [float(torch.stack([(torch.roll(x[n], s, d) - x[n]).norm() / x[n].norm()
                                           for n in range(3)]).mean())
                       for s, d in [(1, -1), ((2, -1), (-2, -1))]]
    assert got.device.type == device.type
    torch.testing.assert_close(got.cpu(), torch.tensor(by_hand, dtype=torch.float64))


def test_invariance_and_equivariance_are_zero_where_they_hold():
    torch.manual_seed(0)
    x = torch.rand(4, 2, 8, 8, dtype=torch.float64)
    weight = torch.randn(3, 2, 3, 3, dtype=torch.float64)

    def conv(t):
        return F.conv2d(F.pad(t, (1, 1, 1, 1), mode="circular"), weight)

    shifts = [(1, 0), (3, -2), (-5, 7)]
    assert shift_sensitivity(lambda t: global_avg_pool2d(conv(t)), x, shifts,
                             mode="circular").abs().max() < 1e-12
    assert shift_sensitivity(conv, x, shifts, out_shifts=shifts,
                             mode="circular").abs().max() < 1e-12
    assert (shift_sensitivity(conv, x, shifts, mode="circular") > 0.1).all()

    def pooled(t):
        return max_pool2d(conv(t), 2)

    even = shift_sensitivity(pooled, x, [(2, 0), (0, -4)], out_shifts=[(1, 0), (0, -2)],
                             mode="circular")
    assert even.abs().max() < 1e-12


def test_best_of_several_output_shifts_is_the_per_image_minimum():
    torch.manual_seed(1)
    x = torch.rand(5, 1, 8, 8, dtype=torch.float64)

    def pooled(t):
        return max_pool2d(t, 2)

    a = shift_sensitivity(pooled, x, [(0, 1)], out_shifts=[(0, 0)], mode="circular")
    b = shift_sensitivity(pooled, x, [(0, 1)], out_shifts=[(0, 1)], mode="circular")
    best = shift_sensitivity(pooled, x, [(0, 1)], out_shifts=[[(0, 0), (0, 1)]], mode="circular")
    moved, ref = pooled(torch.roll(x, 1, -1)), pooled(x)
    per_image = torch.minimum(relative_change(moved, ref),
                              relative_change(moved, torch.roll(ref, 1, -1)))
    torch.testing.assert_close(best[0], per_image.mean())
    assert best[0] <= min(a[0], b[0])


def test_fractional_out_shift_uses_the_dft_shift():
    torch.manual_seed(2)
    x = torch.rand(3, 2, 8, 8, dtype=torch.float64)

    def pool(t):
        return max_blur_pool2d(t, 2, 2)

    got = shift_sensitivity(pool, x, [(0, 1), (0, 2)], out_shifts=[(0, 0.5), (0, 1.0)],
                            mode="circular")
    y = pool(x)
    expected = ((pool(torch.roll(x, 1, -1)) - fractional_shift(y, (0, 0.5))).flatten(1).norm(dim=1)
                / y.flatten(1).norm(dim=1))  # divided by ‖φ(x)‖, as the docstring says
    torch.testing.assert_close(got[0], expected.mean())
    assert got[1].abs() < 1e-12
    with pytest.raises(ValueError, match="needs mode='circular'"):
        shift_sensitivity(pool, x, [(0, 1)], out_shifts=[(0, 0.5)], mode="zeros")


def test_zero_fill_translation_loses_what_leaves_the_image():
    x = torch.zeros(1, 1, 4, 4, dtype=torch.float64)
    x[0, 0, 1, 3] = 1.0
    x[0, 0, 2, 1] = 1.0
    # one of the two pixels leaves the image: global sum halves, relative change 0.5
    got = shift_sensitivity(lambda t: t.sum(dim=(-2, -1)), x, [(0, 1)], mode="zeros")
    assert got.tolist() == [0.5]


def test_sensitivity_errors():
    x = torch.rand(2, 1, 4, 4)
    with pytest.raises(TypeError, match="features_fn must be a callable"):
        shift_sensitivity("relu", x, [1])
    with pytest.raises(ValueError, match="images must be 4-D"):
        shift_sensitivity(torch.relu, x[0], [1])
    with pytest.raises(ValueError, match="mode must be one of"):
        shift_sensitivity(torch.relu, x, [1], mode="reflect")
    with pytest.raises(ValueError, match="at least one shift"):
        shift_sensitivity(torch.relu, x, [])
    with pytest.raises(ValueError, match="one entry per shift"):
        shift_sensitivity(torch.relu, x, [1, 2], out_shifts=[1])
    with pytest.raises(ValueError, match="non-empty list of shifts"):
        shift_sensitivity(torch.relu, x, [1], out_shifts=[[]])
    with pytest.raises(ValueError, match="must be spatial"):
        shift_sensitivity(lambda t: t.sum(dim=(-2, -1)), x, [1], out_shifts=[1])
    with pytest.raises(ValueError, match="all zeros"):
        shift_sensitivity(lambda t: t * 0, x, [1])


# ------------------------------------------------------------------ deformation sensitivity
def test_whole_pixel_fields_measure_what_shift_sensitivity_measures(device):
    torch.manual_seed(3)
    x = torch.rand(3, 2, 9, 8, dtype=torch.float64, device=device)
    shifts = [(0, 1), (2, -3), (0, 0)]
    fields = [constant_displacement((9, 8), s, dtype=torch.float64, device=device)
              for s in shifts]

    def phi(t):
        return F.relu(t - 0.3).sum(dim=(-2, -1))

    for mode in ("bilinear", "bicubic"):
        got = deformation_sensitivity(phi, x, fields, mode=mode)
        assert got.shape == (3,) and got.device.type == device.type
        torch.testing.assert_close(got, shift_sensitivity(phi, x, shifts, mode="zeros"),
                                   atol=1e-9, rtol=0)


def test_one_field_per_image_against_a_loop_by_hand():
    gen = torch.Generator().manual_seed(4)
    x = torch.rand(4, 1, 10, 10, generator=gen, dtype=torch.float64)
    taus = smooth_displacement((10, 10), 1.5, 3, gen, dtype=torch.float64, count=4)

    def phi(t):
        return global_avg_pool2d(t ** 2)

    got = deformation_sensitivity(phi, x, [taus, taus[2]], mode="bicubic", padding_mode="border")
    per_image = [relative_change(phi(deform(x[n:n + 1], taus[n], "border", "bicubic")),
                                 phi(x[n:n + 1])) for n in range(4)]
    same_field = relative_change(phi(deform(x, taus[2], "border", "bicubic")), phi(x))
    torch.testing.assert_close(got, torch.stack([torch.cat(per_image).mean(),
                                                 same_field.mean()]))
    assert (got > 0).all()


def test_global_average_of_pixels_ignores_a_whole_pixel_translation_inside_the_canvas():
    x = torch.zeros(2, 1, 12, 12, dtype=torch.float64)
    x[:, :, 4:7, 5:8] = 1.0  # columns 5 … 7
    moves = [constant_displacement((12, 12), s, dtype=torch.float64) for s in [(3, -4), (-4, 4)]]
    got = deformation_sensitivity(global_avg_pool2d, x, moves)
    assert got.abs().max() < 1e-12
    # 5 columns right: column 7 leaves the canvas and zero fill loses a third of the content
    off = constant_displacement((12, 12), (0, 5.0), dtype=torch.float64)
    assert deformation_sensitivity(global_avg_pool2d, x, [off]).item() == pytest.approx(1 / 3)


def test_deformation_sensitivity_errors():
    x = torch.rand(2, 1, 4, 4)
    tau = torch.zeros(2, 4, 4)
    with pytest.raises(TypeError, match="features_fn must be a callable"):
        deformation_sensitivity("relu", x, [tau])
    with pytest.raises(ValueError, match="images must be 4-D"):
        deformation_sensitivity(torch.relu, x[0], [tau])
    with pytest.raises(ValueError, match="mode must be one of 'bilinear', 'bicubic'"):
        deformation_sensitivity(torch.relu, x, [tau], mode="nearest")
    with pytest.raises(ValueError, match="at least one field"):
        deformation_sensitivity(torch.relu, x, [])
    with pytest.raises(TypeError, match=r"displacements\[1\] must be a floating-point"):
        deformation_sensitivity(torch.relu, x, [tau, torch.zeros(2, 4, 4, dtype=torch.int64)])
    with pytest.raises(ValueError, match=r"displacement must have shape \(2, 4, 4\)"):
        deformation_sensitivity(torch.relu, x, [torch.zeros(2, 4, 5)])


def test_a_fractional_out_shift_divides_by_the_unshifted_output():
    """Subsampling by 2 of the period-4 signal (1, 2, 0, 2, …): φ(x) = (1, 0, 1, 0), and after
    a 1-sample shift φ(T x) = (2, 2, 2, 2). The half-sample translate of φ(x) keeps its mean
    and drops its fastest pattern: (½, ½, ½, ½). So the error is ‖(1.5, 1.5, 1.5, 1.5)‖ / ‖φ(x)‖
    = 3/√2 — not 3, which dividing by the translate's norm (1) would give."""
    x = torch.tensor([1.0, 2.0, 0.0, 2.0] * 2, dtype=torch.float64).view(1, 1, 1, 8)

    def subsample(t):
        return t[..., ::2]

    got = shift_sensitivity(subsample, x, [(0, 1)], out_shifts=[(0, 0.5)], mode="circular")
    torch.testing.assert_close(fractional_shift(subsample(x), (0, 0.5)),
                               torch.full((1, 1, 1, 4), 0.5, dtype=torch.float64))
    torch.testing.assert_close(got[0], torch.tensor(3 / math.sqrt(2), dtype=torch.float64))
