"""Figures and explorers: right panels, right titles, static fallbacks, clear errors."""

import base64
import io
import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from PIL import Image

import cnnlib
from cnnlib import env
from cnnlib.viz import images as viz_images
from cnnlib.viz import widgets
from cnnlib.viz.live import NumberBox

matplotlib.use("Agg")


def test_show_images_draws_one_panel_per_image():
    fig = cnnlib.show_images([torch.rand(5, 5), torch.rand(3, 4, 4)], titles=["a", "b"])
    shown = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in shown] == ["a", "b"]
    assert shown[1].images[0].get_array().shape == (4, 4, 3)


def test_show_images_symmetric_colour_map_is_centred():
    fig = cnnlib.show_images([torch.tensor([[-2.0, 1.0]])], symmetric=True)
    assert fig.axes[0].images[0].get_clim() == (-2.0, 2.0)


def test_show_images_signed_uses_a_robust_symmetric_scale_and_says_so():
    values = torch.linspace(-1, 1, 1001).reshape(11, 91)
    values[0, 0] = -100.0  # one outlier does not set the scale
    fig = cnnlib.show_images([torch.rand(3, 3), values], signed=[False, True])
    signed_ax = next(ax for ax in fig.axes if ax.images and ax.images[0].cmap.name == "RdBu_r")
    low, high = signed_ax.images[0].get_clim()
    limit = viz_images.signed_limit(values)
    assert low == -high == -limit and 0.9 < limit < 1.0
    bars = [ax for ax in fig.axes if ax not in (signed_ax,) and not ax.images]
    assert [t.get_text() for t in bars[0].get_yticklabels()] == [f"{-limit:.2g}", "0",
                                                                  f"{limit:.2g}"]
    legend = " ".join(t.get_text() for t in fig.texts)
    assert "red: positive" in legend and "blue: negative" in legend and "99th" in legend
    other = cnnlib.show_images([values], signed=True, quantile=0.5)
    assert "50th percentile" in " ".join(t.get_text() for t in other.texts).replace("\n", " ")
    with pytest.raises(ValueError, match="signed must be a bool or one bool per image"):
        cnnlib.show_images([values], signed=[True, False])


def test_signed_limit_and_norm():
    x = torch.cat([torch.full((99,), 0.5), torch.tensor([50.0])])
    assert viz_images.signed_limit(x, 0.9) == pytest.approx(0.5)
    assert viz_images.signed_limit(x, 1.0) == 50.0
    assert viz_images.signed_limit(torch.zeros(4)) == 1.0  # a valid range for a flat map
    norm = viz_images.signed_norm(-x)
    assert norm.vmin == -norm.vmax and norm(0.0) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="quantile must be a number in"):
        viz_images.signed_limit(x, 0)
    with pytest.raises(ValueError, match="x must hold at least one number"):
        viz_images.signed_limit(torch.zeros(0))


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


def _image_size(uri: str) -> tuple:
    mime, data = uri[5:].split(";base64,")
    raw = base64.b64decode(data)
    if mime == "image/png":
        return Image.open(io.BytesIO(raw)).size
    return tuple(re.search(rb'width="([0-9.]+)pt" height="([0-9.]+)pt"', raw).groups())


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
    assert re.search(r'<img [^>]*src="data:image/(svg\+xml|png);base64,', html)
    assert "live controls" in html and "Run this notebook" not in html
    # the default description names the sweep, its values and the other controls
    assert preview.describe == ("4 panels side by side, one for each k in 1, 3, 6, 8; the "
                                "other controls stay at shift = 0.")
    assert f'alt="{preview.describe}"' in html
    assert '<code class="cnnlib-explorer-control">k</code> = 1, 3, 6, 8.' in html


def test_static_explorer_says_what_its_author_describes():
    preview = widgets.explorer(_render, {"k": [1, 2]}, force_static=True,
                               describe="Lines at heights 1 and 2 <rising>.")
    html = preview._repr_html_()
    assert 'alt="Lines at heights 1 and 2 &lt;rising&gt;."' in html
    caption = html.split('class="cnnlib-explorer-caption"')[1]
    assert caption.startswith(">Lines at heights 1 and 2 &lt;rising&gt;. <em>Static preview:")
    with pytest.raises(ValueError, match="describe must be a non-empty string"):
        widgets.explorer(_render, {"k": [1]}, force_static=True, describe=" ")


def test_static_explorer_animation_is_self_contained_html():
    preview = widgets.explorer(_render, {"k": [1, 2, 3]}, static="animation",
                               force_static=True)
    html = preview._repr_html_()
    assert "<script" in html and "class=\"cnnlib-player\"" in html
    assert "http://" not in html and "https://" not in html  # no CDN
    assert preview.values == [1, 2, 3]
    frames = re.findall(r'"(data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+)"', html)
    assert len(frames) == 3  # the first frame in the <img>, the others in the player's list
    sizes = {_image_size(uri) for uri in frames}
    assert len(sizes) == 1  # every frame has the same size: the picture does not jump


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


class _Tags(__import__("html.parser").parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _parse(html):
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def test_player_html_structure_frames_and_unique_ids():
    from cnnlib.viz import figure_output, player

    frames = []
    for k in (1, 2, 3):
        fig, ax = plt.subplots(figsize=(2, 1.5))
        ax.plot([0, k])
        plt.close(fig)
        frames.append(figure_output.data_uri(*figure_output.figure_image(fig, "png")[:2]))
    html = player.player_html(frames, ["k = 1", "k = 2", "k = 3"], "A line that rises.", 150)
    tags = _parse(html)
    root = tags[0][1]
    assert tags[0][0] == "div" and root["class"] == "cnnlib-player" and root["role"] == "group"
    buttons = [a for t, a in tags if t == "button"]
    assert [b["aria-label"] for b in buttons] == ["Previous frame", "Play", "Next frame"]
    assert all(b["type"] == "button" for b in buttons)
    icons = [a for t, a in tags if t == "svg"]
    assert len(icons) == 3 and all(i["aria-hidden"] == "true" for i in icons)
    (slider,) = [a for t, a in tags if t == "input"]
    (label,) = [a for t, a in tags if t == "label"]
    assert slider["type"] == "range" and label["for"] == slider["id"]
    assert (slider["min"], slider["max"]) == ("0", "2")
    (img,) = [a for t, a in tags if t == "img"]
    assert img["alt"] == "A line that rises." and img["src"] == frames[0]
    assert img["width"] == "150"
    listed = re.findall(r'^    "(data:image/png;base64,[A-Za-z0-9+/=]+)",?$', html, re.M)
    assert listed == frames[1:]  # one plain data URI per line, in order, after the <img>'s
    assert 'var frames = [img.getAttribute("src"),' in html
    for uri in listed:
        assert Image.open(io.BytesIO(base64.b64decode(uri.split(",")[1]))).size[0] > 0
    assert not re.search("[\u23E9-\u23FF\u25B6\u25C0\U0001F000-\U0001FFFF]", html)  # no glyphs
    other = player.player_html(frames, ["a", "b", "c"], "Again.")
    ids = [a["id"] for t, a in tags + _parse(other) if "id" in a]
    assert len(ids) == len(set(ids)) == 4  # two players, each a root and a slider
    assert root["id"] in html.split("<script>")[1]  # the script drives its own player


def test_player_html_errors():
    from cnnlib.viz import player

    with pytest.raises(ValueError, match="frames must be"):
        player.player_html([], [], "x")
    with pytest.raises(ValueError, match="labels must have one entry per frame"):
        player.player_html(["data:image/png;base64,AA=="], [], "x")
    with pytest.raises(ValueError, match="describe"):
        player.player_html(["data:image/png;base64,AA=="], ["a"], "")
    with pytest.raises(ValueError, match="interval_ms"):
        player.player_html(["data:image/png;base64,AA=="], ["a"], "x", interval_ms=0)


# ------------------------------------------------------- dependent controls of a live explorer


def _live(**options):
    calls = []

    def render(ax, mode="line", k=1, shift=0.0):
        calls.append((mode, k, shift))
        ax.plot(range(k + 1), [shift] * (k + 1) if mode == "line" else range(k + 1))

    box = widgets.explorer(render, {"mode": ["line", "ramp"], "k": [1, 2, 3, 4],
                                    "shift": NumberBox(0.5, -2.0, 2.0, step=0.25)},
                           force_static=False, **options)
    return box, box.explorer, calls


def test_number_box_controls():
    import ipywidgets

    _, live, _ = _live()
    shift = live.controls["shift"]
    assert isinstance(shift, ipywidgets.BoundedFloatText)
    assert (shift.min, shift.max, shift.step, shift.value) == (-2.0, 2.0, 0.25, 0.5)
    shift.value = 7.0  # typed beyond the bound: clamped
    assert live.params["shift"] == 2.0
    assert live.offered("shift") is None and live.offered("k") == [1, 2, 3, 4]
    free = widgets.explorer(_render, {"k": [1], "shift": NumberBox()},
                            force_static=False).explorer.controls["shift"]
    assert type(free) is ipywidgets.FloatText and free.value == 0.0
    assert free.step is None  # the browser takes any value (step="any")
    with pytest.raises(ValueError, match="low and high must be given together"):
        NumberBox(0.0, low=-1.0)
    with pytest.raises(ValueError, match=r"value must lie in \[low, high\]"):
        NumberBox(3.0, -1.0, 1.0)
    with pytest.raises(ValueError, match="step must be positive"):
        NumberBox(step=0)
    with pytest.raises(TypeError, match="NumberBox value must be a number"):
        NumberBox("1")
    with pytest.raises(ValueError, match="sweep_values must be given to sweep the number box"):
        widgets.explorer(_render, {"shift": NumberBox()}, force_static=True)
    preview = widgets.explorer(lambda ax, shift: _render(ax, 2, shift),
                               {"shift": NumberBox()}, sweep_values=[0.0, 1.0],
                               force_static=True)
    assert preview.values == [0.0, 1.0]


def test_active_disables_a_control_and_the_note_says_why():
    _, live, _ = _live(active={"shift": lambda p: p["mode"] == "line"},
                       note=lambda p: "" if p["mode"] == "line" else "shift: a ramp has none")
    assert live.enabled() == ["mode", "k", "shift"] and live.note.layout.display == "none"
    live.controls["mode"].value = "ramp"
    assert live.enabled() == ["mode", "k"] and live.controls["shift"].disabled
    assert live.note.value == "shift: a ramp has none" and live.note.layout.display is None


def test_choices_restrict_a_slider_and_move_its_value_to_the_nearest_one():
    _, live, calls = _live(choices={"k": lambda p: [1, 2] if p["mode"] == "line" else
                                    [1, 2, 3, 4]}, defaults={"k": 4, "mode": "ramp"})
    assert live.offered("k") == [1, 2, 3, 4] and live.params["k"] == 4
    live.controls["mode"].value = "line"
    assert live.offered("k") == [1, 2] and live.params["k"] == live.controls["k"].value == 2
    assert list(live.controls["k"].options) == [1, 2] and calls[-1] == ("line", 2, 0.5)
    live.controls["mode"].value = "ramp"  # offered again, not moved back
    assert live.offered("k") == [1, 2, 3, 4] and live.params["k"] == 2
    single = _live(choices={"k": lambda p: [3]})[1]
    assert single.params["k"] == 3 and single.controls["k"].disabled  # nothing to choose


def test_link_sets_other_controls_in_one_redraw():
    def link(changed, params):
        if changed == "shift":
            return {"mode": "line"}  # a shift only shows on a line
        if changed in (None, "k"):
            return {"shift": params["k"] / 2}
        return None

    _, live, calls = _live(link=link)
    assert live.params["shift"] == 0.5 and live.redraws == 1 and len(calls) == 1
    live.controls["k"].value = 3
    assert live.params["shift"] == live.controls["shift"].value == 1.5
    assert live.redraws == 2 and calls[-1] == ("line", 3, 1.5)  # one picture, final state
    live.controls["mode"].value = "ramp"
    live.controls["shift"].value = -1.0
    assert live.params["mode"] == live.controls["mode"].value == "line"
    assert live.redraws == 4 and len(calls) == 4
    live.set(k=4, mode="ramp")  # as if started there: link(None, …) sets the shift
    assert live.params == {"mode": "ramp", "k": 4, "shift": 2.0} and live.redraws == 5
    with pytest.raises(ValueError, match="set names 'q', which is not a control"):
        live.set(q=1)


def test_rows_lay_the_controls_out():
    import ipywidgets

    box, live, _ = _live(rows=[["k", "shift"]])
    first, row = box.children[0].children
    assert [c.description for c in first.children] == ["mode"]
    assert isinstance(row, ipywidgets.HBox) and list(row.children) == [
        live.controls["k"], live.controls["shift"]]
    assert list(box.children[1:]) == [live.note, live.output]


def test_the_live_picture_is_rendered_to_pixels():
    _, live, _ = _live()
    before = live.picture()
    assert before.shape == (200, 250, 4) and before.dtype == np.uint8  # 5 × 4 in at 50 dpi
    assert np.array_equal(live.picture(dict(live.params)), before)
    assert not np.array_equal(live.picture({**live.params, "k": 3}), before)


def test_the_static_rendering_ignores_the_live_options():
    def plain():
        return widgets.explorer(_render, {"k": [1, 2]}, force_static=True)._repr_html_()

    options = dict(active={"k": lambda p: False}, choices={"k": lambda p: [1]},
                   link=lambda changed, p: {"k": 2}, note=lambda p: "never", rows=[["k"]])
    assert widgets.explorer(_render, {"k": [1, 2]}, force_static=True,
                            **options)._repr_html_() == plain()


@pytest.mark.parametrize("options, error, match", [
    (dict(active={"q": lambda p: True}), ValueError, "active names 'q', which is not a control"),
    (dict(active={"k": True}), TypeError, r"active\['k'\] must be a function of params"),
    (dict(active=[("k", bool)]), TypeError, "active must be a dict"),
    (dict(choices={"flag": lambda p: [True]}), ValueError,
     "choices can only restrict a slider or a drop-down; 'flag' is a checkbox"),
    (dict(choices={"shift": lambda p: [1.0]}), ValueError, "'shift' is a number box"),
    (dict(link="k"), TypeError, "link must be a function or None"),
    (dict(note="why"), TypeError, "note must be a function or None"),
    (dict(rows=["k"]), TypeError, "rows must be a list of lists of control names"),
    (dict(rows=[["k"], ["k"]]), ValueError, "rows must name each control at most once"),
    (dict(rows=[["q"]]), ValueError, "rows names 'q', which is not a control"),
])
def test_dependent_control_errors(options, error, match):
    controls = {"k": [1, 2], "flag": [False, True], "shift": NumberBox()}
    with pytest.raises(error, match=match):
        widgets.explorer(lambda ax, **p: None, controls, force_static=False, **options)


@pytest.mark.parametrize("options, error, match", [
    (dict(link=lambda changed, p: ["k"]), TypeError, "link must return a dict"),
    (dict(link=lambda changed, p: {"q": 1}), ValueError, "link set 'q', which is not a control"),
    (dict(choices={"k": lambda p: []}), ValueError,
     r"choices\['k'\] must offer at least one value"),
])
def test_dependent_control_errors_when_applied(options, error, match):
    with pytest.raises(error, match=match):
        widgets.explorer(lambda ax, **p: None, {"k": [1, 2]}, force_static=False, **options)
