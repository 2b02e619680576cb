"""Chapter 3's explorer: its matrices are PyTorch's convolutions, its panels show them."""

import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cnnlib.toeplitz import toeplitz_matrix
from cnnlib.viz.explorers import matrices as ex

matplotlib.use("Agg")


def test_kernel_presets_by_hand():
    assert torch.equal(ex.kernel_preset("ramp", 4), torch.tensor([1.0, 2.0, 3.0, 4.0]))
    assert torch.allclose(ex.kernel_preset("box", 4), torch.full((4,), 0.25))
    assert torch.allclose(ex.kernel_preset("binomial", 3), torch.tensor([0.25, 0.5, 0.25]))
    a, b = ex.kernel_preset("random", 5), ex.kernel_preset("random", 5)
    assert torch.equal(a, b) and a.shape == (5,)  # seeded: the same picture every time
    for name in ex.KERNELS:
        for size in ex.SIZES:
            kernel = ex.kernel_preset(name, size)
            assert kernel.shape == (size,) and kernel.dtype == torch.float32


def test_kernel_preset_errors():
    with pytest.raises(ValueError, match="kernel must be one of"):
        ex.kernel_preset("sobel", 3)
    with pytest.raises(ValueError, match="size must be a positive int, got 0"):
        ex.kernel_preset("box", 0)
    with pytest.raises(ValueError, match="padding must be 'same' or 'valid'"):
        ex.circular_matrix(torch.ones(3), 5, padding="full")


def _circular_conv(x, h, padding):
    """PyTorch's oracle: pad circularly (same: PyTorch's split; valid: m − 1 on the right)."""
    m = h.numel()
    before = (m - 1) // 2 if padding == "same" else 0
    xp = F.pad(x[None, None], (before, m - 1 - before), mode="circular")
    return F.conv1d(xp, h[None, None])[0, 0]


@given(m=st.integers(1, 7), extra=st.integers(0, 9), padding=st.sampled_from(ex.PADDINGS),
       seed=st.integers(0, 2**16))
def test_circular_matrix_is_circular_convolution(m, extra, padding, seed):
    n = m + extra
    g = torch.Generator().manual_seed(seed)
    h, x = torch.randn(m, generator=g), torch.randn(n, generator=g)
    C = ex.circular_matrix(h, n, padding)
    assert C.shape == (n, n)
    assert torch.allclose(C @ x, _circular_conv(x, h, padding), atol=1e-5)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@given(m=st.integers(1, 7), extra=st.integers(0, 9), padding=st.sampled_from(ex.PADDINGS),
       seed=st.integers(0, 2**16))
def test_removing_wrapped_entries_gives_zero_padded_convolution(m, extra, padding, seed):
    n = m + extra
    g = torch.Generator().manual_seed(seed)
    h, x = torch.randn(m, generator=g), torch.randn(n, generator=g)
    C = ex.circular_matrix(h, n, padding)
    mask = ex.wrap_mask(m, n, padding)
    cut = C.masked_fill(mask, 0)
    if padding == "valid":
        rows = n - m + 1
        assert not mask[:rows].any()  # the valid rows never wrap …
        cut = cut[:rows]  # … and the rows that do are dropped
    assert torch.allclose(cut @ x, F.conv1d(x[None, None], h[None, None], padding=padding)[0, 0],
                          atol=1e-5)
    assert torch.equal(cut, toeplitz_matrix(h, n, padding=padding))


@pytest.mark.parametrize(("m", "n", "padding", "wrapped"), [
    (3, 8, "same", 2),  # one corner entry top right, one bottom left
    (4, 8, "same", 1 + 3),  # PyTorch pads 1 left, 2 right: 1 + (1 + 2) entries wrap
    (5, 8, "same", 3 + 3),  # 2 each side: (1 + 2) per corner
    (3, 8, "valid", 3),  # the last m − 1 rows hold 1 + 2 wrapped entries
    (1, 8, "same", 0),
])
def test_wrap_mask_counts_by_hand(m, n, padding, wrapped):
    assert int(ex.wrap_mask(m, n, padding).sum()) == wrapped


def _panels(ax):
    return [child for child in ax.child_axes if child.images]


def test_render_draws_toeplitz_beside_circulant_with_wrapped_entries_framed():
    fig, ax = plt.subplots()
    ex.render_matrices(ax, kernel="ramp", size=3, n=8, padding="valid")
    left, right = _panels(ax)
    assert left.images[0].get_array().shape == (6, 8)
    assert right.images[0].get_array().shape == (8, 8)
    assert "Toeplitz" in left.get_title() and "6 × 8" in left.get_title()
    assert "circulant" in right.get_title() and "8 × 8" in right.get_title()
    assert len(right.patches) == int(ex.wrap_mask(3, 8, "valid").sum()) == 3
    assert ax.get_title() == "ramp kernel, m = 3, n = 8, valid padding"
    # 3 non-zero entries in each of the 6 rows of 8; 3 in each of 8 rows of the circulant
    assert left.get_title().endswith(f"{1 - 18 / 48:.0%} zeros")
    assert right.get_title().endswith(f"{1 - 24 / 64:.0%} zeros")
    plt.close(fig)


def test_static_preview_titles_and_description_give_the_shares_of_zeros(monkeypatch):
    page = ex.matrix_explorer(force_static=True)
    shares = [1 - (3 * n - 2) / n**2 for n in (6, 8, 12, 16)]  # same padding, m = 3
    assert page.describe.endswith(", ".join(f"{s:.0%}" for s in shares) + " zeros.")
    assert shares == sorted(shares)  # the share of zeros grows with n
    assert ex.zero_share(torch.eye(4)) == 0.75


def test_render_explains_a_kernel_longer_than_the_signal():
    fig, ax = plt.subplots()
    ex.render_matrices(ax, kernel="box", size=7, n=4)
    assert _panels(ax) == []
    assert "longer" in ax.texts[0].get_text()
    plt.close(fig)


def _recording(monkeypatch):
    calls = []
    original = ex.render_matrices

    def spy(ax, **params):
        original(ax, **params)
        calls.append((params, [p.images[0].get_array().shape for p in _panels(ax)]))

    monkeypatch.setattr(ex, "render_matrices", spy)
    return calls


def test_static_explorer_shows_small_multiples_over_n(monkeypatch):
    calls = _recording(monkeypatch)
    page = ex.matrix_explorer(force_static=True)
    assert "data:image/png;base64" in page._repr_html_()
    assert page.sweep == "n" and page.values == [6, 8, 12, 16]
    assert [params["n"] for params, _ in calls] == [6, 8, 12, 16]
    assert all(params["padding"] == "same" and params["size"] == 3 for params, _ in calls)
    assert [shapes for _, shapes in calls] == [[(n, n), (n, n)] for n in (6, 8, 12, 16)]


def test_static_explorer_over_kernel_size(monkeypatch):
    calls = _recording(monkeypatch)
    page = ex.matrix_explorer(sweep="size", force_static=True)
    assert page.values == [1, 3, 5, 7]
    assert [params["size"] for params, _ in calls] == [1, 3, 5, 7]
    assert all(shapes == [(8, 8), (8, 8)] for _, shapes in calls)


def test_live_explorer_has_the_four_controls_at_their_defaults():
    box = ex.matrix_explorer(force_static=False)
    controls = box.children[0].children
    assert [c.description for c in controls] == ["kernel", "size", "n", "padding"]
    assert [c.value for c in controls] == ["ramp", 3, 8, "same"]


def test_live_size_offers_only_kernels_no_longer_than_the_signal():
    live = ex.matrix_explorer(force_static=False).explorer
    assert live.offered("size") == [1, 2, 3, 4, 5, 7]
    live.controls["size"].value = 7
    live.controls["n"].value = 5  # m = 7 > n: the size moves to the largest left, 5
    assert live.offered("size") == [1, 2, 3, 4, 5] and live.params["size"] == 5
    live.controls["n"].value = 16
    assert live.offered("size") == list(ex.SIZES) and live.params["size"] == 5


def test_explorer_rejects_an_unknown_sweep():
    with pytest.raises(ValueError, match="sweep must be one of"):
        ex.matrix_explorer(sweep="stride", force_static=True)
