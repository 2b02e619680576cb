"""cnnlib.viz.training and cnnlib.viz.explorers.features: what is drawn is what was given."""

import math

import matplotlib
import numpy as np
import pytest
import torch

from cnnlib.models import SMALL_VGG, VGG, LeNet, LeNet5
from cnnlib.training import History
from cnnlib.viz.explorers.features import VIEWS, feature_explorer, feature_layers
from cnnlib.viz.training import (
    montage,
    plot_bars,
    plot_curves,
    plot_history,
    show_feature_maps,
    show_filters,
)
from cnnlib.viz.widgets import StaticExplorer

matplotlib.use("Agg")


def _history(points=4, val=True):
    h = History(device="cpu", precision="fp32", batch_size=8)
    for i in range(1, points + 1):
        h.step.append(i)
        h.epoch.append(i / 2)
        h.lr.append(0.1)
        h.train_loss.append(1 / i)
        h.train_acc.append(1 - 0.1 / i)
        h.seconds.append(float(i))
        if val:
            h.val_loss.append(1.5 / i)
            h.val_acc.append(1 - 0.2 / i)
    return h


def test_montage_places_each_map_and_pads_with_nan():
    maps = torch.arange(5 * 2 * 3, dtype=torch.float32).view(5, 2, 3)
    out = montage(maps, ncols=2, pad=1, normalize=False)
    assert out.shape == (3 * 3 - 1, 2 * 4 - 1)  # 3 rows, 2 columns of 2×3 tiles
    assert torch.equal(out[0:2, 0:3], maps[0])
    assert torch.equal(out[0:2, 4:7], maps[1])
    assert torch.equal(out[6:8, 0:3], maps[4])
    assert torch.isnan(out[2]).all() and torch.isnan(out[:, 3]).all()
    assert torch.isnan(out[6:8, 4:7]).all()  # the sixth tile is empty


def test_montage_normalises_each_map_to_its_own_range():
    maps = torch.stack([torch.tensor([[1.0, 3.0]]), torch.tensor([[-10.0, 10.0]]),
                        torch.full((1, 2), 7.0)])
    out = montage(maps, ncols=3, pad=0)
    assert torch.equal(out, torch.tensor([[0.0, 1.0, 0.0, 1.0, 0.0, 0.0]]))
    assert montage(torch.zeros(9, 2, 2)).shape == (3 * 3 - 1, 3 * 3 - 1)  # ncols = ⌈√9⌉
    with pytest.raises(ValueError, match="maps"):
        montage(torch.zeros(2, 2))


def test_plot_history_draws_train_and_validation_per_model():
    fig = plot_history({"MLP": _history(), "LeNet": _history(val=False)})
    left, right = fig.axes
    assert left.get_title() == "MLP" and right.get_title() == "LeNet"
    assert len(left.lines) == 2 and len(right.lines) == 1
    np.testing.assert_allclose(left.lines[0].get_ydata(), [10, 5, 10 / 3, 2.5])
    np.testing.assert_allclose(left.lines[1].get_xdata(), [0.5, 1, 1.5, 2])
    assert left.get_yscale() == "log"
    acc = plot_history({"MLP": _history()}, metric="accuracy")
    assert acc.axes[0].get_yscale() == "linear"
    with pytest.raises(ValueError, match="metric"):
        plot_history({"MLP": _history()}, metric="f1")
    with pytest.raises(TypeError, match="History"):
        plot_history({"MLP": [0.1, 0.2]})


def test_show_filters_one_panel_per_output_channel():
    weight = torch.randn(20, 1, 5, 5)
    fig = show_filters(weight, ncols=10)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 20
    np.testing.assert_allclose(images[3].get_array(), weight[3, 0].numpy())
    vmin, vmax = images[3].get_clim()
    assert vmin == -vmax == -weight[3, 0].abs().max().item()


def test_show_feature_maps_and_curves_and_bars():
    maps = {"conv": torch.rand(20, 24, 24), "pool": torch.rand(20, 12, 12)}
    fig = show_feature_maps(torch.rand(1, 28, 28), maps)
    assert len(fig.axes) == 3 and "20 maps of 24×24" in fig.axes[1].get_title()
    fig = plot_curves([0, 1, 2], {"a": [1, 2, 3], "b": [3, 2, 1]}, "shift", "accuracy")
    assert [line.get_label() for line in fig.axes[0].lines] == ["a", "b"]
    with pytest.raises(ValueError, match="curves"):
        plot_curves([0, 1], {"a": [1]}, "x", "y")
    fig = plot_bars({"MLP": {"original": 98.0, "permuted": 97.9},
                     "LeNet": {"original": 99.2, "permuted": 95.0}}, "accuracy (%)")
    heights = sorted(round(p.get_height(), 1) for p in fig.axes[0].patches)
    assert heights == [95.0, 97.9, 98.0, 99.2]
    with pytest.raises(ValueError, match="series"):
        plot_bars({"A": {"x": 1.0}, "B": {"y": 2.0}}, "v")


def test_feature_layers_of_the_models():
    assert feature_layers(LeNet()) == {
        "conv 1 + ReLU": ("features.1", "features.0"), "pool 1": ("features.2", "features.0"),
        "conv 2 + ReLU": ("features.4", "features.3"), "pool 2": ("features.5", "features.3")}
    assert list(feature_layers(LeNet5())) == ["conv 1 + Tanh", "pool 1", "conv 2 + Tanh",
                                              "pool 2"]
    vgg_bn = VGG([4, "M"], num_classes=2, batch_norm=True, hidden=(4,))
    assert feature_layers(vgg_bn) == {"conv 1 + BN + ReLU": ("features.2", "features.0"),
                                      "pool 1": ("features.3", "features.0")}
    with pytest.raises(ValueError, match="features"):
        feature_layers(torch.nn.Linear(2, 2))


def test_feature_explorer_static_and_live(monkeypatch):
    torch.manual_seed(0)
    model = LeNet()
    images = torch.rand(3, 1, 28, 28)
    monkeypatch.setenv("CNNLIB_STATIC", "1")
    static = feature_explorer(model, images)  # the digits side by side, last convolution
    assert isinstance(static, StaticExplorer)
    assert static.values == [0, 1, 2]
    assert static.describe.startswith("The 50 feature maps (8×8) of conv 2 + ReLU for inputs "
                                      "0, 1, 2")
    assert "<img" in static._repr_html_()
    by_layer = feature_explorer(model, images, sweep="layer")
    assert by_layer.values == ["conv 1 + ReLU", "pool 1", "conv 2 + ReLU", "pool 2"]
    assert model.training  # the explorer put it back in training mode
    by_view = feature_explorer(model, images, sweep="view")
    assert by_view.values == list(VIEWS)
    monkeypatch.setenv("CNNLIB_STATIC", "0")
    live = feature_explorer(model, images)
    assert type(live).__name__ == "VBox"


def test_feature_explorer_draws_the_recorded_maps(monkeypatch):
    """The 'pool 1' panel shows montage(max_pool(relu(conv1(x)))) of the chosen digit."""
    import matplotlib.pyplot as plt

    from cnnlib.viz.explorers.features import render_features

    torch.manual_seed(0)
    model = VGG(SMALL_VGG, num_classes=10, in_channels=1, pool_size=None, hidden=(8,),
                dropout=0.0, input_size=28).eval()
    x = torch.rand(2, 1, 28, 28)
    conv = model.features[0]
    expected = torch.nn.functional.relu(conv(x))[1]
    maps = {"conv 1 + ReLU": torch.nn.functional.relu(conv(x)).detach()}
    fig, ax = plt.subplots()
    render_features(ax, maps, {"conv 1 + ReLU": conv.weight}, x, "conv 1 + ReLU", 1,
                    "feature maps")
    picture = ax.child_axes[0]  # the montage; child_axes[1] holds the small digit
    shown = picture.images[0].get_array()
    np.testing.assert_allclose(np.ma.filled(shown, np.nan), montage(expected).numpy(),
                               equal_nan=True)
    assert math.isclose(float(np.nanmax(shown)), 1.0)
    plt.close(fig)
    with pytest.raises(ValueError, match="view"):
        render_features(ax, maps, {}, x, "conv 1 + ReLU", 0, "weights")


def test_filter_grid_columns_are_filters_rows_are_input_channels():
    from cnnlib.viz.explorers.features import _filter_grid

    weight = torch.randn(4, 3, 5, 5)  # 4 filters over 3 input channels
    grid = _filter_grid(weight)
    assert grid.shape == (3 * 6 - 1, 4 * 6 - 1)
    for o in range(4):
        for c in range(3):
            assert torch.equal(grid[6 * c:6 * c + 5, 6 * o:6 * o + 5], weight[o, c])
