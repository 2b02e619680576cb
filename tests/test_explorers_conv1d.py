"""cnnlib.viz.explorers.conv1d: every choice draws PyTorch's numbers; live and static both build."""

import itertools
import re

import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F

from cnnlib.sliding import PADDING_NAMES, format_number, resolve_padding_1d
from cnnlib.viz.explorers import conv1d as ex

matplotlib.use("Agg")


def texts(ax, gid):
    return [t.get_text() for t in ax.texts if t.get_gid() == gid]


def test_signals_and_kernels_are_1d_float64():
    for name in ex.SIGNALS:
        assert ex.signal(name).dtype == torch.float64 and ex.signal(name).dim() == 1
    for name in ex.KERNELS:
        assert ex.kernel(name).dtype == torch.float64 and ex.kernel(name).dim() == 1
    assert ex.kernel("Gaussian 5, σ = 1").sum().item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="signal must be one of"):
        ex.signal("noise")


def test_the_chapter_example_is_the_default():
    """Chapter 2's worked example, x = (1, …, 5) and h = (2, 1), under neutral names."""
    assert ex.signal("ramp [1 … 5]").tolist() == [1, 2, 3, 4, 5]
    assert ex.signal("ramp [1 … 8]").tolist() == list(range(1, 9))
    assert ex.kernel("[2 1]").tolist() == [2, 1]
    fig, ax = plt.subplots()
    ex.render(ax, step=3)  # the defaults: the last of the four outputs
    assert texts(ax, "y") == ["4", "7", "10", "13"]
    plt.close(fig)


def test_every_choice_draws_torch_conv1d_outputs():
    fig, ax = plt.subplots()
    combos = itertools.product(ex.SIGNALS, ex.KERNELS, PADDING_NAMES, ex.STRIDES)
    for signal, kernel, padding, stride in combos:
        ax.clear()
        ex.render(ax, signal=signal, kernel=kernel, padding=padding, stride=stride, step=1)
        if padding == "same" and stride > 1:
            assert "stride 1" in texts(ax, "message")[0]
            continue
        x, h = ex.signal(signal), ex.kernel(kernel)
        left, right = resolve_padding_1d(padding, len(h), stride)
        y = F.conv1d(F.pad(x, (left, right))[None, None], h[None, None], stride=stride)[0, 0]
        shown = texts(ax, "y")
        assert shown == [format_number(v) for v in y[: len(shown)].tolist()]
        assert len(shown) == min(2, len(y))  # steps 0 and 1 (or the last, if only one)
    plt.close(fig)


def test_step_past_the_end_shows_the_last_output():
    fig, ax = plt.subplots()
    ex.render(ax, signal="ramp [1 … 5]", kernel="[2 1]", step=9)
    assert texts(ax, "y") == ["4", "7", "10", "13"]
    assert texts(ax, "message") == ["only 4 outputs: showing the last"]
    plt.close(fig)


def test_live_explorer_has_the_five_controls():
    import ipywidgets

    box = ex.conv1d_explorer(force_static=False)
    assert isinstance(box, ipywidgets.VBox)
    controls = box.children[0].children
    assert [c.description for c in controls] == ["signal", "kernel", "padding", "stride", "step"]
    live = box.explorer
    assert live.offered("step") == [0, 1, 2, 3]  # ramp [1 … 5] ⋆ [2 1], valid: 4 outputs
    live.controls["padding"].value = "full"
    assert live.offered("step") == list(range(ex.n_outputs("ramp [1 … 5]", "[2 1]", "full")))
    assert live.offered("step")[-1] == 5
    live.controls["step"].value = 5
    live.controls["padding"].value = "valid"  # step 5 no longer exists: the last one is shown
    assert live.params["step"] == live.controls["step"].value == 3
    live.controls["padding"].value = "same"
    live.controls["stride"].value = 2  # PyTorch refuses: signal, kernel and step wait
    assert live.enabled() == ["padding", "stride"]
    assert live.note.value.startswith("padding 'same' needs stride 1")
    live.controls["padding"].value = "valid"
    live.controls["kernel"].value = "Gaussian 5, σ = 1"  # one output at any stride
    assert not ({"stride", "step"} & set(live.enabled()))
    assert ex.n_outputs("ramp [1 … 5]", "Gaussian 5, σ = 1") == 1
    assert ex.n_outputs("ramp [1 … 5]", "[2 1]", "same", 2) == 0


def test_static_grid_shows_one_panel_per_padding():
    page = ex.conv1d_explorer(sweep="padding", force_static=True, kernel="average [1 1 1]/3")
    html = page._repr_html_()
    assert len(re.findall(r"data:image/(?:png|svg\+xml);base64", html)) == 1
    assert "One panel per padding (valid, same, full) with signal ramp [1 … 5], kernel " \
        "average [1 1 1]/3, stride 1, step 0" in page.describe
    assert page.values == list(PADDING_NAMES)


def test_slide_animation_has_one_frame_per_output():
    page = ex.slide_animation(force_static=True)  # 5 inputs, kernel of 2: 4 outputs
    html = page._repr_html_()
    assert len(re.findall(r"data:image/(?:png|svg\+xml);base64", html)) == 4
    assert "one frame per output y[0] … y[3]" in page.describe
    assert "<script" in html and "https://" not in html
    live = ex.slide_animation(force_static=False, padding="full")
    assert live.children[0].children[0].options[-1] == 5  # steps 0 … 5
