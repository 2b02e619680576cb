"""The filter explorer: right kernels, filtering equal to PyTorch, both display modes build."""

import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cnnlib.filters import FILTERS, SOBEL_X, SOBEL_Y, sharpen
from cnnlib.viz.explorers import filters as fx

matplotlib.use("Agg")

KERNEL_NAMES = [n for n in fx.NAMES if n != fx.MAGNITUDE]


def _torch_same_replicate(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """PyTorch's oracle: replicate-pad like padding='same' (extra row/col at the end), correlate."""
    kh, kw = k.shape
    top, left = (kh - 1) // 2, (kw - 1) // 2
    padded = F.pad(x[None, None], (left, kw - 1 - left, top, kh - 1 - top), mode="replicate")
    return F.conv2d(padded, k[None, None].to(x.dtype))[0, 0]


def test_every_named_kernel_of_cnnlib_filters_is_offered():
    assert set(FILTERS) <= set(fx.NAMES) and fx.MAGNITUDE in fx.NAMES
    for name in FILTERS:
        if name != "sharpen":
            assert torch.equal(fx.kernel(name), FILTERS[name])
    assert torch.equal(fx.kernel("sharpen", a=3.0), sharpen(3.0))
    assert torch.equal(fx.kernel(fx.CUSTOM, weights=range(9)),
                       torch.arange(9, dtype=torch.float32).view(3, 3))


@given(st.integers(3, 9), st.integers(3, 9), st.sampled_from(KERNEL_NAMES),
       st.sampled_from(fx.A_VALUES), st.integers(0, 2**16))
def test_filtering_equals_torch(h, w, name, a, seed):
    x = torch.rand(h, w, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    expected = _torch_same_replicate(x, fx.kernel(name, a))
    torch.testing.assert_close(fx.apply_filter(x, name, a), expected)


def test_sobel_magnitude_is_the_gradient_length():
    x = torch.rand(7, 8, dtype=torch.float64)
    expected = torch.hypot(_torch_same_replicate(x, SOBEL_X), _torch_same_replicate(x, SOBEL_Y))
    torch.testing.assert_close(fx.apply_filter(x, fx.MAGNITUDE), expected)


def test_numeric_facts_on_a_constant_and_a_random_image():
    x = torch.rand(10, 12)
    torch.testing.assert_close(fx.apply_filter(x, "identity"), x)
    flat = torch.full((10, 12), 0.3)
    for name in ("box_3", "box_5", "gaussian_3", "gaussian_5", "sharpen"):
        torch.testing.assert_close(fx.apply_filter(flat, name), flat)
    for name in ("sobel_x", "sobel_y", "roberts_x", "laplacian_4", "laplacian_8", fx.MAGNITUDE):
        assert fx.apply_filter(flat, name).abs().max() < 1e-6


def test_render_draws_the_filtered_image_with_its_kernel():
    image = torch.rand(12, 10)
    fig, ax = plt.subplots()
    fx.render(ax, kernel="sobel_x", image=image)
    shown = ax.images[0]
    vmin, vmax = shown.get_clim()
    assert shown.get_cmap().name == "RdBu_r" and vmin == -vmax  # signed response, centred
    assert shown.get_array().shape == (12, 10) and ax.get_title() == "sobel_x"
    inset_texts = sorted(t.get_text() for a in ax.child_axes for t in a.texts)
    assert inset_texts == sorted(["-1", "1", "-2", "2", "-1", "1"])
    ax.clear()
    fx.render(ax, kernel="sharpen", A=3.0, image=image)
    assert ax.get_title() == "sharpen, A = 3" and ax.images[0].get_clim() == (0.0, 1.0)
    ax.clear()
    fx.render(ax, kernel=fx.CUSTOM, image=image, w11=2.0)
    torch.testing.assert_close(torch.as_tensor(ax.images[0].get_array().data),
                               2 * image, check_dtype=False)
    plt.close(fig)


def test_static_explorer_is_small_multiples_over_the_named_kernels():
    page = fx.filter_explorer(image=torch.rand(16, 16), force_static=True)
    assert page.sweep == "kernel" and page.values == list(fx.STATIC_NAMES)
    assert set(fx.STATIC_NAMES) <= set(fx.NAMES)
    assert "data:image/png;base64" in page._repr_html_()
    assert page.describe.startswith("The image filtered by each of 6 kernels (box_5,")
    every = fx.filter_explorer(image=torch.rand(16, 16), names=fx.NAMES, force_static=True)
    assert every.values == list(fx.NAMES)


def test_live_explorer_has_a_kernel_menu_a_factor_and_nine_weights():
    import ipywidgets

    box = fx.filter_explorer(image=torch.rand(16, 16), force_static=False, kernel="sobel_y")
    controls = box.explorer.controls
    assert list(controls) == ["kernel", "A", *fx.WEIGHT_NAMES]
    assert isinstance(controls["kernel"], ipywidgets.Dropdown)
    values = [value for _, value in controls["kernel"].options]
    assert controls["kernel"].value == "sobel_y" and values == [*fx.NAMES, fx.CUSTOM]
    shown = [controls[n].value for n in fx.WEIGHT_NAMES]  # the grid shows sobel_y
    assert shown == [-1.0, -2.0, -1.0, 0.0, 0.0, 0.0, 1.0, 2.0, 1.0]
    ninth = fx.grid_weights("box_3")["w00"]  # box_3's float32 weight, in the fewest digits
    assert torch.tensor(ninth) == FILTERS["box_3"][0, 0] and repr(ninth) == "0.11111112"
    assert fx.grid_weights("box_5") is None and fx.grid_weights(fx.CUSTOM) is None


def test_errors_speak_to_the_student():
    with pytest.raises(ValueError, match="name must be one of"):
        fx.kernel("blur")
    with pytest.raises(ValueError, match="has no single kernel"):
        fx.kernel(fx.MAGNITUDE)
    with pytest.raises(ValueError, match="weights must hold 9 values"):
        fx.kernel(fx.CUSTOM, weights=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"image must be a 2-D tensor \(H, W\)"):
        fx.apply_filter(torch.rand(1, 5, 5), "identity")
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="unknown controls"):
        fx.render(ax, kernel="identity", image=torch.rand(5, 5), w33=1.0)
    plt.close(fig)


def test_signed_display_limit_is_the_95th_percentile_so_edges_saturate():
    response = torch.linspace(-1.0, 1.0, 201)  # |response| = 0, 0.01, 0.01, …, 1, 1
    limit = fx.display_limit(response)
    assert limit == pytest.approx(0.95) and fx.SIGNED_QUANTILE == 0.95
    scaled = fx.scale_signed(response)
    assert scaled.shape == response.shape and scaled.abs().max() == 1
    assert (scaled.abs() == 1).float().mean() >= 0.05  # the strongest 5 % saturate
    torch.testing.assert_close(scaled[90:111], response[90:111] / limit)  # linear inside
    assert torch.equal(fx.scale_signed(-response), -scaled)  # the sign is kept
    assert fx.display_limit(torch.zeros(4, 4)) == 1.0  # a blank response: valid limits


def test_photo_edges_are_drawn_strongly_not_nearly_white():
    photo = fx.small_photo(4)
    fig, ax = plt.subplots()
    for name in ("sobel_x", "laplacian_4"):
        ax.clear()
        fx.render(ax, kernel=name, image=photo)
        shown = ax.images[0]
        vmin, vmax = shown.get_clim()
        response = torch.as_tensor(shown.get_array().data)
        assert vmin == -vmax == -fx.display_limit(response)
        assert (response.abs() >= vmax).float().mean() >= 0.05  # edges reach full colour
    plt.close(fig)


def test_display_limit_errors():
    with pytest.raises(ValueError, match="quantile must be a number in"):
        fx.display_limit(torch.rand(3), quantile=0)
    with pytest.raises(ValueError, match="response must be a non-empty tensor"):
        fx.display_limit(torch.zeros(0))
