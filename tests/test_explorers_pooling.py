"""The pooling explorer: every pooling it offers is PyTorch's, and it builds live and static."""

import math

import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F

from cnnlib.datasets import photo
from cnnlib.viz.explorers import pooling as ex
from cnnlib.viz.explorers.pooling import POOLINGS, SIZES, pool_map, pooling_explorer, render_pooling

matplotlib.use("Agg")

TORCH = {
    "max": lambda x, k, s: F.max_pool2d(x, k, s),
    "avg": lambda x, k, s: F.avg_pool2d(x, k, s),
    "L2": lambda x, k, s: F.lp_pool2d(x, 2, k, s),
    "L∞": lambda x, k, s: F.lp_pool2d(x, math.inf, k, s),
}


def _map(h=13, w=11):
    torch.manual_seed(0)
    return torch.randn(1, h, w, dtype=torch.float64)


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("window, stride", [(1, 1), (2, 2), (3, 2), (4, 1), (2, 6)])
def test_pool_map_is_torch_pooling(pooling, window, stride):
    x = _map()
    torch.testing.assert_close(pool_map(x, pooling, window, stride),
                               TORCH[pooling](x, window, stride))


def test_stride_defaults_to_the_window_and_l_infinity_is_max_of_abs():
    x = _map()
    assert pool_map(x, "avg", 3).shape == (1, 4, 3)
    torch.testing.assert_close(pool_map(x, "L∞", 2), F.max_pool2d(x.abs(), 2))
    relu = x.clamp(min=0)
    torch.testing.assert_close(pool_map(relu, "L∞", 2), pool_map(relu, "max", 2))


def test_default_feature_map_is_sobel_x_of_the_shrunk_photo():
    fmap = ex.default_feature_map()
    assert fmap.shape == (1, 150, 128)
    small = F.avg_pool2d(photo(gray=True)[None], 4)
    sobel = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])[None, None]
    oracle = F.conv2d(F.pad(small, (1, 1, 1, 1), mode="replicate"), sobel)[0]
    torch.testing.assert_close(fmap, oracle)
    assert fmap.min() < 0 < fmap.max()  # edges of both polarities


def test_render_titles_and_colour_maps():
    x = _map()
    fig, (a, b) = plt.subplots(1, 2)
    render_pooling(a, "avg", 2, 2, feature_map=x)
    render_pooling(b, "max", 3, 1, relu=True, feature_map=x)
    assert a.get_title().startswith("avg, 2×2, stride 2\n→ 6×5")
    assert b.get_title().startswith("max of ReLU, 3×3, stride 1\n→ 11×9")  # says the ReLU
    assert a.images[0].get_cmap().name == "RdBu_r"   # signed map
    assert b.images[0].get_cmap().name == "gray"     # after the ReLU: non-negative
    shown = b.images[0].get_array()
    expected = F.max_pool2d(x.clamp(min=0), 3, 1)[0].numpy()
    assert shown.shape == expected.shape and abs(shown - expected).max() < 1e-6
    plt.close(fig)


def test_static_explorer_shows_one_panel_per_pooling(closed_figures):
    shown = pooling_explorer(_map(), window=2, stride=3, force_static=True)
    fig = closed_figures[-1]
    titles = [ax.get_title().split("\n")[0] for ax in fig.axes]
    assert titles == [f"{p}, 2×2, stride 3" for p in POOLINGS]
    assert "data:image/png" in shown._repr_html_()


def test_live_explorer_has_the_controls():
    import ipywidgets

    box = pooling_explorer(_map(), window=3, stride=2, force_static=False)
    assert isinstance(box, ipywidgets.VBox)
    controls = box.children[0].children
    assert [c.description for c in controls] == ["pooling", "window", "stride", "relu"]
    assert [v for _, v in controls[0].options] == list(POOLINGS)
    assert controls[1].options == SIZES and controls[1].value == 3 and controls[2].value == 2
    controls[0].value = "L2"  # redraws without error
    controls[3].value = True


def test_explorer_errors():
    with pytest.raises(ValueError, match="pooling must be one of"):
        pool_map(_map(), "median", 2)
    with pytest.raises(ValueError, match="window must be one of"):
        pooling_explorer(_map(), window=5)
    with pytest.raises(ValueError, match="stride must be one of"):
        pooling_explorer(_map(), stride=0)
