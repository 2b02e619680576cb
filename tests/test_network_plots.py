"""cnnlib.network_costs, cnnlib.viz.networks and cnnlib.viz.explorers.vgg: per-layer costs
against hand counts, and the score-map figure."""

import matplotlib
import numpy as np
import pytest
import torch

from cnnlib.models import VGG_CONFIGS, LeNet, vgg
from cnnlib.network_costs import QUANTITIES, LayerCost, layer_costs
from cnnlib.viz.explorers.vgg import NETWORKS, render_vgg_costs, vgg_costs, vgg_explorer
from cnnlib.viz.networks import draw_layer_costs, plot_layer_costs, show_score_map
from cnnlib.viz.widgets import StaticExplorer

matplotlib.use("Agg")


def _vgg16_costs():
    with torch.device("meta"):
        return layer_costs(vgg("vgg16"), (1, 3, 224, 224))


def test_vgg16_rows_are_named_like_the_paper():
    labels = [c.label for c in _vgg16_costs()]
    assert labels == ["conv1_1", "conv1_2", "pool1", "conv2_1", "conv2_2", "pool2",
                      "conv3_1", "conv3_2", "conv3_3", "pool3", "conv4_1", "conv4_2", "conv4_3",
                      "pool4", "conv5_1", "conv5_2", "conv5_3", "pool5", "fc1", "fc2", "fc3"]


def test_vgg16_costs_by_hand():
    costs = {c.label: c for c in _vgg16_costs()}
    # conv1_2: 224·224 outputs × 64 channels × (64·3·3) products; output 64·224·224 floats
    assert costs["conv1_2"].macs == 224 * 224 * 64 * 64 * 9
    assert costs["conv1_2"].activation_bytes == 64 * 224 * 224 * 4
    assert costs["conv1_2"].params == 64 * 64 * 9 + 64
    assert costs["fc1"].params == 512 * 7 * 7 * 4096 + 4096
    assert costs["fc1"].receptive_field is None
    assert costs["pool1"].macs == 0 and costs["pool1"].activation_bytes == 64 * 112 * 112 * 4
    # receptive fields: 3, 5, then +1 (pool), then +2·2 per conv of block 2, …
    assert [costs[k].receptive_field for k in ("conv1_1", "conv1_2", "pool1", "conv2_1",
                                               "conv5_3", "pool5")] == [3, 5, 6, 10, 196, 212]
    assert sum(c.params for c in costs.values()) == 138_357_544


def test_layer_costs_of_lenet_count_convs_pools_and_dense_layers():
    costs = layer_costs(LeNet(), (1, 1, 28, 28))
    assert [c.label for c in costs] == ["conv1_1", "pool1", "conv2_1", "pool2", "fc1", "fc2"]
    assert [c.receptive_field for c in costs] == [5, 6, 14, 16, None, None]
    with pytest.raises(ValueError, match="features"):
        layer_costs(torch.nn.Linear(3, 3), (1, 3))


def test_value_and_drawing():
    costs = _vgg16_costs()
    assert costs[0].value("MACs") == costs[0].macs
    with pytest.raises(ValueError, match="quantity"):
        costs[0].value("FLOPs")
    fig = plot_layer_costs(costs, quantities=QUANTITIES)
    assert len(fig.axes) == 4
    heights = [p.get_height() for p in fig.axes[1].patches]  # MACs in billions
    assert heights == pytest.approx([c.macs / 1e9 for c in costs])
    rf_bars = fig.axes[3].patches  # no bars for the dense layers
    assert len(rf_bars) == 18
    with pytest.raises(ValueError, match="costs"):
        plot_layer_costs([])
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="quantity"):
        draw_layer_costs(ax, costs, "latency")
    plt.close(fig)


def test_vgg_explorer_static_grid_and_totals(monkeypatch):
    assert NETWORKS == tuple(VGG_CONFIGS)
    assert sum(c.params for c in vgg_costs("vgg19")) == 143_667_240
    monkeypatch.setenv("CNNLIB_STATIC", "1")
    static = vgg_explorer()  # the four networks side by side, MACs on one scale
    assert isinstance(static, StaticExplorer) and static.values == list(NETWORKS)
    assert static.describe.startswith("MACs per layer of vgg11, vgg13, vgg16, vgg19")
    assert "vgg16 15.47 G" in static.describe
    by_quantity = vgg_explorer(sweep="quantity")
    assert by_quantity.values == list(QUANTITIES) and "vgg16" in by_quantity.describe
    with pytest.raises(ValueError, match="sweep"):
        vgg_explorer(sweep="depth")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    render_vgg_costs(ax, "vgg16", "MACs")
    assert ax.get_title() == "vgg16: MACs (total 15.47 G)"
    top = ax.get_ylim()[1]  # one scale for every network: the largest layer of any, + 5 %
    largest = max(c.macs for n in NETWORKS for c in vgg_costs(n)) / 1e9
    assert top == pytest.approx(1.05 * largest)
    ax.clear()
    render_vgg_costs(ax, "vgg16", "receptive field")
    assert ax.get_title().endswith("(largest 212 px)")
    with pytest.raises(ValueError, match="network"):
        render_vgg_costs(ax, "vgg12", "MACs")
    plt.close(fig)


def test_layer_cost_is_a_record():
    c = LayerCost("fc1", "classifier.0", 10, 10, 40, None)
    assert c.value("receptive field") == 0 and c.value("activation memory") == 40


def test_show_score_map_draws_the_softmax_under_each_window():
    torch.manual_seed(0)
    strip, scores = torch.rand(1, 28, 84), torch.randn(10, 1, 15)
    fig = show_score_map(strip, scores, stride=4, window=28)
    top, bottom = fig.axes[:2]
    heat = np.asarray(bottom.get_images()[0].get_array())
    assert heat.shape == (10, 15)
    assert heat == pytest.approx(torch.softmax(scores[:, 0], dim=0).numpy(), abs=1e-6)
    written = [t.get_text() for t in bottom.texts]
    assert written == [str(int(j)) for j in scores[:, 0].argmax(dim=0)]
    assert top.get_images()[0].get_array().shape == (28, 84)
    assert bottom.get_xlim() == (-0.5, 83.5)


def test_show_score_map_errors():
    strip = torch.rand(28, 84)
    with pytest.raises(ValueError, match="span 80 columns, but the image has 84"):
        show_score_map(strip, torch.randn(10, 14), stride=4, window=28)
    with pytest.raises(ValueError, match="scores"):
        show_score_map(strip, torch.randn(10, 2, 15), stride=4, window=28)
    with pytest.raises(TypeError, match="scores"):
        show_score_map(strip, [[0.0]], stride=4, window=28)
    with pytest.raises(ValueError, match="stride"):
        show_score_map(strip, torch.randn(10, 15), stride=0, window=28)
