"""Figures and explorers: right panels, right titles, static fallbacks, clear errors."""

import matplotlib
import pytest
import torch

import cnnlib
from cnnlib import env
from cnnlib.viz import widgets

matplotlib.use("Agg")


def test_show_images_draws_one_panel_per_image():
    fig = cnnlib.show_images([torch.rand(5, 5), torch.rand(3, 4, 4)], titles=["a", "b"])
    shown = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in shown] == ["a", "b"]
    assert shown[1].images[0].get_array().shape == (4, 4, 3)


def test_show_images_symmetric_colour_map_is_centred():
    fig = cnnlib.show_images([torch.tensor([[-2.0, 1.0]])], symmetric=True)
    assert fig.axes[0].images[0].get_clim() == (-2.0, 2.0)


def test_show_images_errors():
    with pytest.raises(ValueError, match="at least one image"):
        cnnlib.show_images([])
    with pytest.raises(ValueError, match="one entry per image"):
        cnnlib.show_images([torch.rand(2, 2)], titles=["a", "b"])
    with pytest.raises(ValueError, match="img must be"):
        cnnlib.show_images([torch.rand(2, 2, 2, 2)])


def test_show_matrix_annotates_nonzero_entries():
    fig = cnnlib.show_matrix(torch.tensor([[1.0, 0.0], [0.0, -2.0]]))
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["-2", "1"]
    with pytest.raises(ValueError, match="2-D matrix"):
        cnnlib.show_matrix(torch.zeros(2, 2, 2))


def _render(ax, k, shift=0):
    ax.plot(range(k), [shift] * k)


def test_static_explorer_draws_small_multiples_along_the_sweep(monkeypatch):
    drawn = []

    def render(ax, k, shift=0):
        drawn.append((k, shift))
        _render(ax, k, shift)

    preview = widgets.explorer(render, {"k": range(1, 9), "shift": [0, 1]}, force_static=True)
    assert drawn == [(1, 0), (3, 0), (6, 0), (8, 0)]
    html = preview._repr_html_()
    assert html.startswith('<div class="cnnlib-explorer">')
    assert "data:image/png;base64" in html and "live explorer" in html


def test_static_explorer_animation_is_self_contained_html():
    preview = widgets.explorer(_render, {"k": [1, 2, 3]}, static="animation",
                               force_static=True)
    html = preview._repr_html_()
    assert "<script" in html and "data:image/png;base64" in html
    assert "http://" not in html and "https://" not in html  # no CDN
    assert preview.values == [1, 2, 3]


def test_static_mode_follows_the_environment(monkeypatch):
    monkeypatch.setenv("CNNLIB_STATIC", "1")
    assert env.is_static()
    monkeypatch.setenv("CNNLIB_STATIC", "0")
    assert not env.is_static()


def test_live_explorer_builds_controls_and_renders():
    import ipywidgets

    box = widgets.explorer(_render, {"k": [1, 2, 3], "shift": [0, 1]}, defaults={"k": 2},
                           force_static=False)
    controls = box.children[0].children
    assert [c.description for c in controls] == ["k", "shift"]
    assert isinstance(controls[0], ipywidgets.SelectionSlider) and controls[0].value == 2


def test_explorer_errors():
    with pytest.raises(TypeError, match="render must be a callable"):
        widgets.explorer(None, {"k": [1]})
    with pytest.raises(ValueError, match="non-empty"):
        widgets.explorer(_render, {})
    with pytest.raises(ValueError, match="sweep must name a control"):
        widgets.explorer(_render, {"k": [1]}, sweep="j")
    with pytest.raises(ValueError, match="static must be"):
        widgets.explorer(_render, {"k": [1]}, static="video")
    with pytest.raises(ValueError, match="not a control"):
        widgets.explorer(_render, {"k": [1]}, defaults={"q": 1})
    with pytest.raises(ValueError, match="control 'k'"):
        widgets.explorer(_render, {"k": []})


def test_live_redraws_do_not_pile_up_figures():
    import matplotlib.pyplot as plt

    box = widgets.explorer(_render, {"k": [1, 2, 3]}, force_static=False)
    before = len(plt.get_fignums())
    slider = box.children[0].children[0]
    for value in (2, 3, 1, 2):
        slider.value = value
    assert len(plt.get_fignums()) == before
