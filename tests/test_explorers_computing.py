"""The memory explorer of chapter 9: its bars are memory_costs of the chosen layer, its title
the layer's FLOPs, and it builds live and static."""

import re

import matplotlib
import matplotlib.pyplot as plt
import pytest

from cnnlib.benchmark import ConvCase
from cnnlib.performance import layer_flops, memory_costs
from cnnlib.viz.explorers.computing import (
    CHANNELS,
    IMAGE_SIZES,
    KERNEL_SIZES,
    cost_explorer,
    layer_case,
    render_costs,
)

matplotlib.use("Agg")


def test_layer_case_keeps_the_size_for_odd_kernels():
    case = layer_case(5, 28, 16)
    assert case == ConvCase(case.name, 1, 16, 16, 28, 5, padding=2)
    assert memory_costs(case)["output"] == memory_costs(case)["input"]


def test_render_draws_memory_costs_and_titles_the_flops():
    fig, ax = plt.subplots()
    render_costs(ax, kernel_size=3, size=56, channels=64)
    costs = memory_costs(layer_case(3, 56, 64))
    assert [p.get_width() for p in ax.patches] == list(costs.values())
    assert [t.get_text() for t in ax.get_yticklabels()] == list(costs)
    assert layer_flops(layer_case(3, 56, 64)) == 231_211_008
    assert ax.get_title() == "64→64 ch, 56×56, 3×3: 231 MFLOPs"
    assert "150 GiB" in [t.get_text().strip() for t in ax.texts]  # the Toeplitz matrix
    plt.close(fig)


def test_static_explorer_shows_four_kernel_sizes(closed_figures):
    shown = cost_explorer(size=28, channels=16, force_static=True)
    fig = closed_figures[-1]
    assert [ax.get_title().split(":")[0] for ax in fig.axes] == [
        f"16→16 ch, 28×28, {k}×{k}" for k in (1, 3, 7, 11)]
    assert re.search(r"data:image/(png|svg\+xml);base64", shown._repr_html_())
    assert "grows with k²" in shown.describe


def test_live_explorer_has_the_controls():
    import ipywidgets

    box = cost_explorer(kernel_size=5, force_static=False)
    assert isinstance(box, ipywidgets.VBox)
    controls = box.children[0].children
    assert [c.description for c in controls] == ["kernel_size", "size", "channels"]
    assert controls[0].options == KERNEL_SIZES and controls[0].value == 5
    assert controls[1].options == IMAGE_SIZES and controls[2].options == CHANNELS
    controls[2].value = 256  # redraws without error
    controls[1].value = 224


@pytest.mark.parametrize("kwargs, name", [({"kernel_size": 4}, "kernel_size"),
                                          ({"size": 100}, "size"), ({"channels": 0}, "channels")])
def test_explorer_rejects_values_it_does_not_offer(kwargs, name):
    with pytest.raises(ValueError, match=f"{name} must be one of"):
        cost_explorer(**kwargs)
