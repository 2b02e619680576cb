"""The shift explorer: its panels are right (against torch), and it builds live and static."""

import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F

from cnnlib import env
from cnnlib.equivariance import interior
from cnnlib.viz.explorers import shift
from cnnlib.viz.explorers.shift import PANELS, render_shift, shift_explorer, shift_panels

matplotlib.use("Agg")


def _image(h=18, w=14):
    torch.manual_seed(0)
    return torch.rand(1, h, w)


KERNEL = torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])


@pytest.mark.parametrize("dy, dx", [(0, 0), (3, -5), (-7, 20)])
def test_circular_panels_match_torch_and_commute(dy, dx):
    x = _image()
    panels = shift_panels(x, KERNEL, dy, dx, "circular")
    assert list(panels) == list(PANELS)
    rolled = torch.roll(x, (dy, dx), (-2, -1))
    torch.testing.assert_close(panels["shifted input"], rolled[0])
    oracle = F.conv2d(F.pad(rolled[None], (1, 1, 1, 1), mode="circular"), KERNEL[None, None])
    torch.testing.assert_close(panels["conv of shifted input"], oracle[0, 0])
    assert panels["difference"].abs().max() < 1e-6


def test_zero_padding_panels_differ_only_at_the_border():
    x = _image()
    panels = shift_panels(x, KERNEL, 2, 3, "zeros")
    oracle = F.conv2d(panels["shifted input"][None, None], KERNEL[None, None], padding=1)
    torch.testing.assert_close(panels["conv of shifted input"], oracle[0, 0])
    assert interior(panels["difference"], 4).abs().max() < 1e-6
    assert panels["difference"].abs().max() > 1e-3


def _insets(fig):
    return [inset for ax in fig.axes for inset in ax.child_axes if inset.images]


def _inset_titles(fig):
    return [inset.get_title() for inset in _insets(fig)]


def test_static_explorer_draws_a_row_of_four_panels_per_shift(closed_figures):
    shown = shift_explorer(_image(), KERNEL, max_shift=6, step=2, padding="zeros",
                           force_static=True)
    fig = closed_figures[-1]
    assert _inset_titles(fig) == list(PANELS) * 4
    rows = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert rows == [f"shift (dy, dx) = (0, {dx}), zeros padding" for dx in (0, 2, 4, 6)]
    # whatever the widgets module returns for a static page, it shows the drawing
    html = shown._repr_html_() if hasattr(shown, "_repr_html_") else ""
    assert isinstance(shown, matplotlib.figure.Figure) or "data:image/png" in html


def test_live_explorer_has_the_controls_and_renders_the_panels():
    import ipywidgets

    box = shift_explorer(_image(), KERNEL, max_shift=4, step=2, dy=2, force_static=False)
    assert isinstance(box, ipywidgets.VBox)
    controls = box.children[0].children
    assert [c.description for c in controls] == ["dx", "dy", "padding"]
    assert controls[0].options == (-4, -2, 0, 2, 4) and controls[1].value == 2
    assert [v for _, v in controls[2].options] == ["circular", "zeros"]
    controls[0].value = 4  # moving a slider redraws without error
    fig, ax = plt.subplots(figsize=(5, 4))  # the live figure: a 2 × 2 layout
    render_shift(ax, dx=4, dy=2, padding="circular", image=_image(), kernel=KERNEL)
    assert _inset_titles(fig) == list(PANELS)
    insets = _insets(fig)
    assert insets[0].get_position().y0 > insets[2].get_position().y0  # two rows
    plt.close(fig)


def test_default_image_is_the_shrunk_photo():
    img = shift.default_image()
    assert img.shape == (1, 150, 128)
    assert 0.0 <= float(img.min()) and float(img.max()) <= 1.0


def test_explorer_errors():
    with pytest.raises(ValueError, match="padding must be one of"):
        shift_panels(_image(), KERNEL, 0, 0, "reflect")
    with pytest.raises(ValueError, match="padding must be one of"):
        shift_explorer(_image(), KERNEL, padding="same")
    with pytest.raises(ValueError, match="max_shift must be a multiple of step"):
        shift_explorer(_image(), KERNEL, max_shift=5, step=2)
    assert env.is_static() in (True, False)
