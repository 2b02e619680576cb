"""Translation, invariance/equivariance measures, structure, pixel permutation, deformations.

Oracles: torch.roll and shift matrices for the translation, numpy slicing for zero fill,
np.corrcoef for lag correlation, brute-force search for patch matching, torch's own conv and
dense layers for the equivariance and permutation claims, translate for integer warps.
"""

import itertools
import math

import matplotlib
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from cnnlib.equivariance import (
    PatchMatch,
    best_patch_match,
    constant_displacement,
    deform,
    displacement_jacobian,
    equivariance_error,
    equivariance_gap,
    interior,
    invariance_error,
    lag_correlation,
    max_displacement,
    max_displacement_gradient,
    permute_input_weights,
    permute_pixels,
    pixel_permutation,
    smooth_displacement,
    translate,
)
from cnnlib.matrices import shift_matrix
from cnnlib.viz.equivariance import (
    show_change_grid,
    show_lag_correlation,
    show_patch_matches,
    show_sensitivity,
    show_signal_rows,
)

matplotlib.use("Agg")

shapes = st.lists(st.integers(1, 6), min_size=1, max_size=4)


def _zero_fill_1d(x: np.ndarray, k: int) -> np.ndarray:
    """Oracle: shift a 1-D array by k, zeros in, samples out lost."""
    n = len(x)
    out = np.zeros_like(x)
    if abs(k) < n:
        if k >= 0:
            out[k:] = x[: n - k]
        else:
            out[: n + k] = x[-k:]
    return out


# ---------------------------------------------------------------------------- translate
def test_translate_hand_cases():
    x = torch.tensor([1, 2, 3, 4, 5, 6])
    assert translate(x, 2).tolist() == [5, 6, 1, 2, 3, 4]
    assert translate(x, -2).tolist() == [3, 4, 5, 6, 1, 2]
    assert translate(x, 2, mode="zeros").tolist() == [0, 0, 1, 2, 3, 4]
    assert translate(x, -2, mode="zeros").tolist() == [3, 4, 5, 6, 0, 0]
    assert translate(x, 6, mode="zeros").tolist() == [0] * 6
    assert translate(x, 8).tolist() == translate(x, 2).tolist()
    img = torch.arange(9.0).view(3, 3)
    # (dy, dx) = (1, 0): one row down, the last row wraps to the top
    assert translate(img, (1, 0)).tolist() == [[6, 7, 8], [0, 1, 2], [3, 4, 5]]
    assert translate(img, (0, 1), mode="zeros").tolist() == [[0, 0, 1], [0, 3, 4], [0, 6, 7]]


@given(shape=shapes, data=st.data())
def test_translate_circular_equals_torch_roll(shape, data):
    x = torch.randn(shape, dtype=torch.float64)
    m = data.draw(st.integers(1, len(shape)))
    shift = tuple(data.draw(st.integers(-10, 10)) for _ in range(m))
    dims = tuple(range(len(shape) - m, len(shape)))
    assert torch.equal(translate(x, shift), torch.roll(x, shift, dims))


@given(n=st.integers(1, 8), k=st.integers(-10, 10), batch=st.integers(1, 3))
def test_translate_zeros_equals_slicing_oracle(n, k, batch):
    x = torch.randn(batch, n, dtype=torch.float64)
    expected = np.stack([_zero_fill_1d(row, k) for row in x.numpy()])
    np.testing.assert_array_equal(translate(x, k, mode="zeros").numpy(), expected)


@given(h=st.integers(1, 6), w=st.integers(1, 6), dy=st.integers(-7, 7), dx=st.integers(-7, 7))
def test_translate_zeros_2d_is_rows_then_columns(h, w, dy, dx):
    x = torch.randn(2, h, w, dtype=torch.float64)
    by_rows = np.stack([_zero_fill_1d(col, dy) for col in x.numpy().transpose(0, 2, 1)
                        .reshape(-1, h)]).reshape(2, w, h).transpose(0, 2, 1)
    expected = np.stack([_zero_fill_1d(row, dx) for row in by_rows.reshape(-1, w)])
    got = translate(x, (dy, dx), mode="zeros").numpy().reshape(-1, w)
    np.testing.assert_array_equal(got, expected)


@given(n=st.integers(1, 9), k=st.integers(-12, 12))
def test_translate_is_the_shift_matrix(n, k):
    x = torch.randn(n, dtype=torch.float64)
    s = shift_matrix(n, k, dtype=torch.float64)
    torch.testing.assert_close(translate(x, k), s @ x, rtol=0, atol=0)


@given(n=st.integers(1, 8), a=st.integers(-9, 9), b=st.integers(-9, 9))
def test_translations_compose_and_invert(n, a, b):
    x = torch.randn(3, n)
    assert torch.equal(translate(translate(x, a), b), translate(x, a + b))
    assert torch.equal(translate(translate(x, a), -a), x)
    # zero fill and back keeps exactly the samples that stayed inside
    back = translate(translate(x, a, mode="zeros"), -a, mode="zeros")
    kept = torch.zeros(n, dtype=torch.bool)
    kept[max(-a, 0):max(n - max(a, 0), 0)] = True
    assert torch.equal(back, torch.where(kept, x, torch.zeros_like(x)))


def test_zero_fill_loses_what_leaves():
    x = torch.arange(1.0, 7.0)
    back = translate(translate(x, 2, mode="zeros"), -2, mode="zeros")
    assert back.tolist() == [1, 2, 3, 4, 0, 0]


@pytest.mark.parametrize("mode", ["circular", "zeros"])
def test_translate_gradient_and_device(device, mode):
    x = torch.randn(2, 5, 7, device=device, requires_grad=True)
    w = torch.randn(2, 5, 7, device=device)
    (w * translate(x, (2, -3), mode=mode)).sum().backward()
    # the adjoint of a translation is the translation back (zero fill: masked)
    expected = translate(w, (-2, 3), mode=mode)
    assert x.grad.device == x.device
    torch.testing.assert_close(x.grad, expected)
    assert translate(x, (1, 1), mode=mode).device == x.device


def test_translate_errors():
    x = torch.zeros(3, 4)
    with pytest.raises(ValueError, match="mode must be one of"):
        translate(x, 1, mode="wrap")
    with pytest.raises(TypeError, match="shift must be an int or a non-empty tuple"):
        translate(x, 1.5)
    with pytest.raises(TypeError, match="shift must be"):
        translate(x, ())
    with pytest.raises(ValueError, match="shift has 3 entries but input has only 2"):
        translate(x, (1, 1, 1))
    with pytest.raises(TypeError, match=r"input must be a torch\.Tensor"):
        translate([1, 2, 3], 1)


# ------------------------------------------------------------ invariance / equivariance
def _circular_conv(weight):
    return lambda t: F.conv2d(F.pad(t, (1, 1, 1, 1), mode="circular"), weight)


@given(h=st.integers(3, 8), w=st.integers(3, 8), dy=st.integers(-9, 9), dx=st.integers(-9, 9))
def test_circular_convolution_is_equivariant(h, w, dy, dx):
    x = torch.randn(1, 2, h, w, dtype=torch.float64)
    weight = torch.randn(3, 2, 3, 3, dtype=torch.float64)
    err = equivariance_error(_circular_conv(weight), x, lambda t: translate(t, (dy, dx)))
    assert err < 1e-12


def test_dense_matrix_is_not_equivariant_but_mean_is_invariant():
    torch.manual_seed(0)
    x = torch.randn(16)
    dense = torch.randn(16, 16)
    shift = lambda t: translate(t, 3)  # noqa: E731
    assert equivariance_error(lambda t: dense @ t, x, shift) > 1.0
    assert invariance_error(torch.mean, x, shift) < 1e-6
    assert invariance_error(lambda t: t[0], x, shift) == float((x[-3] - x[0]).abs())


def test_equivariance_gap_is_the_difference_and_g_out_applies_to_output():
    x = torch.arange(6.0)
    f = lambda t: 2 * t  # noqa: E731
    gap = equivariance_gap(f, x, lambda t: translate(t, 1), g_out=lambda t: t)
    assert torch.equal(gap, 2 * translate(x, 1) - 2 * x)
    # f changes the length: g_out must act on the output's shape
    pooled = lambda t: t.view(3, 2).sum(1)  # noqa: E731
    g = lambda t: translate(t, 2)  # noqa: E731
    assert equivariance_error(pooled, x, g, g_out=lambda t: translate(t, 1)) == 0.0
    with pytest.raises(ValueError, match="pass a g_out"):
        equivariance_gap(pooled, x, lambda t: t, g_out=lambda t: torch.cat([t, t]))
    with pytest.raises(TypeError, match="f must be a callable"):
        equivariance_error(None, x, g)
    with pytest.raises(TypeError, match="g must be a callable"):
        invariance_error(f, x, 3)


def test_zero_padding_breaks_equivariance_only_near_the_border():
    torch.manual_seed(1)
    x = torch.rand(1, 1, 20, 24)
    weight = torch.randn(1, 1, 3, 3)
    gap = equivariance_gap(lambda t: F.conv2d(t, weight, padding=1), x,
                           lambda t: translate(t, (2, -3), mode="zeros"))
    assert interior(gap, 4).abs().max() < 1e-6
    assert gap.abs().max() > 1e-2


def test_interior_crops_the_last_dimensions():
    x = torch.arange(2 * 6 * 7).view(2, 6, 7)
    assert torch.equal(interior(x, 1), x[:, 1:5, 1:6])
    assert torch.equal(interior(x, (2, 0)), x[:, 2:4, :])
    assert torch.equal(interior(x, (1,)), x[:, :, 1:6])
    with pytest.raises(ValueError, match="margin must leave something"):
        interior(x, 3)
    with pytest.raises(ValueError, match="margin must be non-negative"):
        interior(x, -1)
    with pytest.raises(ValueError, match="margin has 4 entries"):
        interior(x, (1, 1, 1, 1))


# ------------------------------------------------------------------------ structure
@given(n=st.integers(4, 30), rows=st.integers(1, 3), data=st.data())
def test_lag_correlation_equals_numpy_corrcoef(n, rows, data):
    x = torch.randn(rows, n, dtype=torch.float64)
    max_lag = data.draw(st.integers(0, n - 2))
    r = lag_correlation(x, max_lag)
    a = x.numpy()
    for d in range(max_lag + 1):
        pairs = np.corrcoef(a[:, : n - d].ravel(), a[:, d:].ravel())[0, 1]
        np.testing.assert_allclose(r[d].item(), pairs, rtol=1e-9, atol=1e-12)


def test_lag_correlation_hand_cases_and_dim():
    alternating = torch.tensor([1.0, -1.0] * 5)
    torch.testing.assert_close(lag_correlation(alternating, 2),
                               torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64))
    img = torch.randn(5, 9)
    torch.testing.assert_close(lag_correlation(img, 3, dim=0), lag_correlation(img.T, 3, dim=-1))
    with pytest.raises(ValueError, match="max_lag must be at most n − 2 = 8"):
        lag_correlation(torch.randn(10), 9)
    with pytest.raises(ValueError, match="max_lag must be a non-negative int"):
        lag_correlation(torch.randn(10), -1)
    with pytest.raises(TypeError, match="floating-point"):
        lag_correlation(torch.arange(10), 2)


def _brute_force_match(image, query, p, stride):
    _, h, w = image.shape
    r, c = query
    q = image[:, r:r + p, c:c + p]
    found = []
    for i in range(0, h - p + 1, stride):
        for j in range(0, w - p + 1, stride):
            if abs(i - r) >= p or abs(j - c) >= p:
                found.append((float((image[:, i:i + p, j:j + p] - q).norm()), (i, j)))
    return min(found), float(np.median([d for d, _ in found]))


@given(h=st.integers(10, 14), w=st.integers(10, 14), p=st.integers(1, 3),
       stride=st.integers(1, 2), data=st.data())
def test_best_patch_match_equals_brute_force(h, w, p, stride, data):
    image = torch.rand(2, h, w, dtype=torch.float64)
    query = (data.draw(st.integers(0, h - p)), data.draw(st.integers(0, w - p)))
    m = best_patch_match(image, query, p, stride)
    (distance, position), typical = _brute_force_match(image, query, p, stride)
    assert m.match == position and m.query == query
    assert m.distance == pytest.approx(distance) and m.typical == pytest.approx(typical)
    assert m.ratio == pytest.approx(distance / typical)


def test_best_patch_match_finds_a_repeated_pattern():
    image = torch.zeros(1, 12, 12)
    star = torch.tensor([[0, 1, 0], [1, 1, 1], [0, 1, 0.0]])
    image[0, 1:4, 2:5] = star
    image[0, 7:10, 6:9] = star
    image[0, 2:5, 8:11] = star * 0.5
    m = best_patch_match(image, (1, 2), 3)
    assert m.match == (7, 6) and m.distance == 0.0 and m.ratio == 0.0
    assert isinstance(m, PatchMatch)


def test_best_patch_match_errors():
    image = torch.rand(1, 6, 6)
    with pytest.raises(ValueError, match="query must be the top-left corner"):
        best_patch_match(image, (5, 0), 3)
    with pytest.raises(ValueError, match="query must be"):
        best_patch_match(image, 3, 3)
    with pytest.raises(ValueError, match="does not overlap"):
        best_patch_match(image, (1, 1), 4)
    with pytest.raises(ValueError, match="image must be 3-D"):
        best_patch_match(torch.rand(6, 6), (0, 0), 2)
    with pytest.raises(ValueError, match="patch_size must be a positive int"):
        best_patch_match(image, (0, 0), 0)


# ----------------------------------------------------------------- pixel permutation
@given(h=st.integers(1, 6), w=st.integers(1, 6), c=st.integers(1, 3), seed=st.integers(0, 99))
def test_permute_pixels_equals_numpy_indexing_and_is_undone(h, w, c, seed):
    perm = pixel_permutation(h, w, generator=torch.Generator().manual_seed(seed))
    assert sorted(perm.tolist()) == list(range(h * w))
    x = torch.randn(2, c, h, w)
    y = permute_pixels(x, perm)
    expected = x.numpy().reshape(2, c, h * w)[:, :, perm.numpy()].reshape(2, c, h, w)
    np.testing.assert_array_equal(y.numpy(), expected)
    assert torch.equal(permute_pixels(y, torch.argsort(perm)), x)


def test_pixel_permutation_is_reproducible_and_moves_pixels():
    a = pixel_permutation(10, 10, generator=torch.Generator().manual_seed(3))
    b = pixel_permutation(10, 10, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and not torch.equal(a, torch.arange(100))
    x = torch.arange(4.0).view(1, 2, 2)
    assert permute_pixels(x, torch.tensor([3, 2, 1, 0])).tolist() == [[[3, 2], [1, 0]]]


def test_permuted_dense_layer_sees_permuted_images_as_the_original_sees_originals(device):
    torch.manual_seed(0)
    c, h, w = 3, 5, 4
    layer = nn.Linear(c * h * w, 7).to(device)
    before = layer.weight.detach().clone()
    perm = pixel_permutation(h, w, generator=torch.Generator().manual_seed(1), device=device)
    twin = permute_input_weights(layer, perm, (c, h, w))
    x = torch.randn(6, c, h, w, device=device)
    torch.testing.assert_close(twin(permute_pixels(x, perm).flatten(1)), layer(x.flatten(1)))
    assert torch.equal(layer.weight, before)  # the original is untouched
    # the original layer on permuted images is a different function
    assert (layer(permute_pixels(x, perm).flatten(1)) - layer(x.flatten(1))).abs().max() > 0.1


def test_permutation_errors():
    with pytest.raises(ValueError, match=r"perm must be an integer tensor of shape \(4,\)"):
        permute_pixels(torch.zeros(2, 2), torch.arange(5))
    with pytest.raises(ValueError, match="perm must be a permutation"):
        permute_pixels(torch.zeros(2, 2), torch.tensor([0, 0, 1, 2]))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        permute_pixels(torch.zeros(4), torch.arange(4))
    with pytest.raises(ValueError, match="height must be a positive int"):
        pixel_permutation(0, 3)
    with pytest.raises(TypeError, match=r"linear must be a torch\.nn\.Linear"):
        permute_input_weights(nn.Conv2d(1, 1, 1), torch.arange(4), (1, 2, 2))
    with pytest.raises(ValueError, match="has 12 values but linear takes 8 inputs"):
        permute_input_weights(nn.Linear(8, 2), torch.arange(4), (3, 2, 2))


# ------------------------------------------------------------------------ deformations
def test_smooth_displacement_size_magnitude_and_smoothness():
    gen = torch.Generator().manual_seed(0)
    tau = smooth_displacement((30, 40), 2.5, generator=gen)
    assert tau.shape == (2, 30, 40) and tau.dtype == torch.float32
    assert tau.norm(dim=0).max().item() == pytest.approx(2.5, rel=1e-6)
    # smooth: neighbouring vectors differ by a small fraction of the magnitude
    assert (tau[:, 1:] - tau[:, :-1]).abs().max() < 0.5
    assert (tau[:, :, 1:] - tau[:, :, :-1]).abs().max() < 0.5
    again = smooth_displacement((30, 40), 2.5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(tau, again)
    assert torch.equal(smooth_displacement((4, 5), 0.0), torch.zeros(2, 4, 5))


def test_smooth_displacement_errors():
    with pytest.raises(ValueError, match="magnitude must be a non-negative number"):
        smooth_displacement((4, 4), -1.0)
    with pytest.raises(ValueError, match="cells must be a positive int"):
        smooth_displacement((4, 4), 1.0, cells=0)
    with pytest.raises(ValueError, match="height must be a positive int"):
        smooth_displacement((0, 4), 1.0)


@given(h=st.integers(2, 7), w=st.integers(2, 7), dy=st.integers(-8, 8), dx=st.integers(-8, 8))
def test_constant_whole_pixel_warp_is_a_zero_fill_translation(h, w, dy, dx):
    x = torch.rand(2, 3, h, w, dtype=torch.float64)
    tau = torch.empty(2, h, w, dtype=torch.float64)
    tau[0], tau[1] = dy, dx
    got = deform(x, tau, padding_mode="zeros")
    torch.testing.assert_close(got, translate(x, (dy, dx), mode="zeros"), atol=1e-9, rtol=0)


def test_deform_hand_cases(device):
    x = torch.tensor([[[0.0, 2.0, 4.0, 6.0]] * 2], device=device)  # (1, 2, 4)
    tau = torch.zeros(2, 2, 4, device=device)
    torch.testing.assert_close(deform(x, tau), x)
    tau[1] = 0.5  # content moves half a pixel right: each pixel reads x at p − 0.5
    got = deform(x, tau)
    assert got.device == x.device
    torch.testing.assert_close(got[0, 0], torch.tensor([0.0, 1.0, 3.0, 5.0], device=device))


def test_deform_batches_and_gradient():
    x = torch.rand(3, 1, 5, 6, requires_grad=True)
    taus = torch.stack([smooth_displacement((5, 6), m) for m in (0.0, 1.0, 2.0)])
    y = deform(x, taus)
    torch.testing.assert_close(y[0], x[0].detach(), atol=1e-6, rtol=0)
    y.sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape
    one = deform(x[1].detach(), taus[1])
    torch.testing.assert_close(one, y[1].detach())


def test_deform_errors():
    with pytest.raises(ValueError, match=r"displacement must have shape \(2, 4, 4\)"):
        deform(torch.rand(1, 4, 4), torch.zeros(2, 4, 5))
    with pytest.raises(ValueError, match="at least 2×2"):
        deform(torch.rand(1, 1, 4), torch.zeros(2, 1, 4))
    with pytest.raises(TypeError, match="displacement must be a floating-point"):
        deform(torch.rand(1, 4, 4), torch.zeros(2, 4, 4, dtype=torch.int64))


def test_smooth_displacement_count_gives_independent_fields_each_of_the_magnitude():
    gen = torch.Generator().manual_seed(3)
    taus = smooth_displacement((12, 9), 1.5, cells=4, generator=gen, count=5,
                               dtype=torch.float64)
    assert taus.shape == (5, 2, 12, 9) and taus.dtype == torch.float64
    torch.testing.assert_close(taus.norm(dim=1).flatten(1).max(dim=1).values,
                               torch.full((5,), 1.5, dtype=torch.float64))
    assert not torch.equal(taus[0], taus[1])
    # count=None is the first of count=1 fields, drawn from the same generator state
    one = smooth_displacement((12, 9), 1.5, 4, torch.Generator().manual_seed(3))
    batch = smooth_displacement((12, 9), 1.5, 4, torch.Generator().manual_seed(3), count=1)
    assert one.shape == (2, 12, 9) and torch.equal(one, batch[0])
    with pytest.raises(TypeError, match="count must be a positive int"):
        smooth_displacement((4, 4), 1.0, count=1.5)
    with pytest.raises(ValueError, match="count must be a positive int"):
        smooth_displacement((4, 4), 1.0, count=0)


def test_more_cells_vary_faster_at_the_same_size():
    gen = torch.Generator().manual_seed(0)
    grads = [max_displacement_gradient(smooth_displacement((64, 64), 3.0, c, gen, count=20))
             .mean() for c in (1, 2, 4, 8)]
    assert all(a < b for a, b in itertools.pairwise(grads))


def test_constant_displacement_is_the_translation_field(device):
    tau = constant_displacement((3, 4), (2, -1.5), device=device)
    assert tau.shape == (2, 3, 4) and tau.device.type == device.type
    assert (tau[0] == 2).all() and (tau[1] == -1.5).all()
    x = torch.rand(2, 1, 6, 7, device=device)
    got = deform(x, constant_displacement((6, 7), (1, -2), device=device), padding_mode="zeros")
    torch.testing.assert_close(got, translate(x, (1, -2), mode="zeros"), atol=1e-5, rtol=0)
    with pytest.raises(TypeError, match=r"shift must be a pair of numbers \(dy, dx\)"):
        constant_displacement((3, 4), 2)
    with pytest.raises(TypeError, match="shift must be a pair"):
        constant_displacement((3, 4), (1, 2, 3))
    with pytest.raises(ValueError, match="width must be a positive int"):
        constant_displacement((3, 0), (1, 2))


def _grid(h, w, dtype=torch.float64):
    rows, cols = torch.meshgrid(torch.arange(h, dtype=dtype), torch.arange(w, dtype=dtype),
                                indexing="ij")
    return rows, cols


@given(a=st.lists(st.floats(-2, 2), min_size=4, max_size=4), h=st.integers(2, 7),
       w=st.integers(2, 7))
def test_the_jacobian_of_an_affine_field_is_its_matrix_everywhere(a, h, w):
    A = torch.tensor(a, dtype=torch.float64).view(2, 2)
    rows, cols = _grid(h, w)
    tau = torch.stack([A[0, 0] * rows + A[0, 1] * cols + 3.0,
                       A[1, 0] * rows + A[1, 1] * cols - 1.0])
    jac = displacement_jacobian(tau)
    assert jac.shape == (h, w, 2, 2)
    torch.testing.assert_close(jac, A.expand(h, w, 2, 2))
    # the spectral norm, against torch's SVD-based one
    torch.testing.assert_close(max_displacement_gradient(tau),
                               torch.linalg.matrix_norm(A, ord=2))


def test_jacobian_by_hand_central_inside_one_sided_on_the_border():
    rows, cols = _grid(4, 5)
    tau = torch.stack([rows ** 2, torch.zeros_like(cols)])  # τ_0 = i²: ∂τ_0/∂p_0 = 2i inside
    jac = displacement_jacobian(tau)
    assert jac[..., 0, 0][:, 0].tolist() == [1.0, 2.0, 4.0, 5.0]  # 1−0, (4−0)/2, (9−1)/2, 9−4
    assert (jac[..., 0, 1] == 0).all() and (jac[..., 1, :] == 0).all()
    assert max_displacement_gradient(tau).item() == 5.0
    assert max_displacement(tau).item() == 9.0


def test_max_gradient_matches_the_svd_on_random_fields_and_batches(device):
    gen = torch.Generator().manual_seed(1)
    taus = torch.randn(3, 2, 2, 6, 5, generator=gen, dtype=torch.float64).to(device)
    got = max_displacement_gradient(taus)
    want = torch.linalg.matrix_norm(displacement_jacobian(taus), ord=2).flatten(-2).amax(-1)
    assert got.shape == (3, 2) and got.device.type == device.type
    torch.testing.assert_close(got, want)
    sizes = max_displacement(taus)
    torch.testing.assert_close(sizes, taus.norm(dim=-3).flatten(-2).amax(-1))


def test_translations_have_any_size_and_gradient_zero():
    for shift in [(0, 0), (3, 4), (-20.5, 7)]:
        tau = constant_displacement((5, 6), shift, dtype=torch.float64)
        assert max_displacement(tau).item() == pytest.approx(math.hypot(*shift))
        assert max_displacement_gradient(tau).item() == 0.0


def test_displacement_measure_errors():
    with pytest.raises(ValueError, match=r"displacement must have shape \(…, 2, H, W\)"):
        max_displacement(torch.zeros(3, 4, 4))
    with pytest.raises(ValueError, match="at least 2×2 in space"):
        displacement_jacobian(torch.zeros(2, 1, 4))
    with pytest.raises(TypeError, match="displacement must be a floating-point"):
        max_displacement_gradient(torch.zeros(2, 4, 4, dtype=torch.int64))


@given(h=st.integers(2, 7), w=st.integers(2, 7), dy=st.integers(-8, 8), dx=st.integers(-8, 8))
def test_bicubic_whole_pixel_warp_is_a_zero_fill_translation(h, w, dy, dx):
    x = torch.rand(1, 2, h, w, dtype=torch.float64)
    tau = constant_displacement((h, w), (dy, dx), dtype=torch.float64)
    got = deform(x, tau, padding_mode="zeros", mode="bicubic")
    torch.testing.assert_close(got, translate(x, (dy, dx), mode="zeros"), atol=1e-9, rtol=0)


def test_bilinear_reads_a_ramp_exactly_and_bicubic_a_smooth_wave_better():
    rows, cols = _grid(8, 10)
    ramp = (2 * cols - rows)[None, None]  # linear in p: bilinear interpolation is exact on it
    tau = constant_displacement((8, 10), (0.25, 0.5), dtype=torch.float64)
    got = deform(ramp, tau, mode="bilinear")[..., 1:, 1:]
    torch.testing.assert_close(got, (ramp - 2 * 0.5 + 0.25)[..., 1:, 1:])
    flat = torch.full((1, 1, 8, 10), 0.7, dtype=torch.float64)  # both keep constants
    torch.testing.assert_close(deform(flat, tau, mode="bicubic")[..., 2:, 2:],
                               flat[..., 2:, 2:])
    # a cosine read halfway between its samples: the bilinear mean loses more of it
    half = constant_displacement((8, 10), (0, 0.5), dtype=torch.float64)
    wave = torch.cos(cols * torch.pi / 3)[None, None]
    exact = torch.cos((cols - 0.5) * torch.pi / 3)[None, None][..., 3:-3]
    lin = deform(wave, half, mode="bilinear")[..., 3:-3]
    cub = deform(wave, half, mode="bicubic")[..., 3:-3]
    assert (cub - exact).abs().max() < (lin - exact).abs().max() / 2
    with pytest.raises(ValueError, match="mode must be one of 'bilinear', 'bicubic'"):
        deform(ramp, tau, mode="nearest")


# ---------------------------------------------------------------------------- figures
def test_figures_draw_what_they_are_given():
    t = np.arange(10)
    fig = show_signal_rows([(t, torch.randn(10), "one"), (t, torch.randn(3, 10), "three")])
    assert [len(ax.lines) for ax in fig.axes] == [1, 3]
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["one", "three"]
    fig = show_lag_correlation({"a": torch.ones(4), "b": torch.tensor([1.0, -0.5, 0.0])})
    assert fig.axes[0].get_ylim()[0] <= -0.55  # the lowest value stays in view
    assert [line.get_label() for line in fig.axes[0].lines if not line.get_label().startswith(
        "_")] == ["a", "b"]
    m = PatchMatch(query=(0, 0), match=(4, 4), distance=1.0, typical=2.0)
    fig = show_patch_matches(torch.rand(3, 8, 8), [m, m], 3)
    assert len(fig.axes[0].patches) == 4
    fig = show_sensitivity([1, 2, 4], {"pixels": [0.1, 0.2, 0.3], "pooled": torch.ones(3)})
    assert [list(line.get_ydata()) for line in fig.axes[0].lines] == [[0.1, 0.2, 0.3], [1, 1, 1]]
    with pytest.raises(ValueError, match="curve 'x' has 2 values for 3 magnitudes"):
        show_sensitivity([1, 2, 4], {"x": [0.1, 0.2]})


def test_change_grid_draws_one_panel_per_representation_and_measure():
    measures = {"size": {"a": [4, 8], "b": [4, 4, 4]}, "gradient": {"a": [0, 0],
                                                                   "b": torch.tensor([.1, .3, .2])}}
    changes = {"pixels": {"a": [1.0, 1.2], "b": [0.5, 0.6, 0.4]},
               "pooled": {"a": [0.0, 0.0], "b": [0.1, 0.3, 0.2]}}
    fig = show_change_grid(measures, changes, title="t")
    assert len(fig.axes) == 4
    pooled_vs_gradient = fig.axes[3]
    a, b = pooled_vs_gradient.lines
    assert list(b.get_xdata()) == pytest.approx([0.1, 0.2, 0.3])  # sorted by x
    assert list(b.get_ydata()) == pytest.approx([0.1, 0.2, 0.3])
    assert a.get_label() == "a" and b.get_marker() != a.get_marker()
    assert pooled_vs_gradient.get_ylim()[0] < 0 < pooled_vs_gradient.get_ylim()[1]
    assert fig.axes[0].get_ylabel().endswith("pixels") and fig.axes[1].get_ylabel() == ""
    with pytest.raises(ValueError, match=r"changes\['pooled'\]\['b'\] has 2 values, expected 3"):
        show_change_grid(measures, {"pooled": {"a": [0, 0], "b": [0, 0]}})
    with pytest.raises(ValueError, match="must have the families"):
        show_change_grid(measures, {"pooled": {"a": [0, 0]}})
    with pytest.raises(ValueError, match="at least one entry"):
        show_change_grid({}, changes)
