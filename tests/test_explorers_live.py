"""Every chapter explorer, live: no control silently does nothing.

For each explorer, built live (``force_static=False``) on small inputs, and from the default
state and a few others chosen to cover the ways its controls can stand (which are enabled,
which values they offer): every enabled control moved to each neighbouring value it offers
(a number box: ±1) changes the picture, in one redraw; a disabled control is one whose
neighbouring values leave the picture as it is. Then the filter explorer's weight grid: it
shows the selected kernel, an edit starts a custom kernel from it, and it is disabled
(saying why) for a kernel it cannot show.

Self-contained (no conftest fixture, no data files): it also runs with ``--noconftest`` in a
venv pinned to Colab's ipywidgets 7.7.1 and IPython 7.34.
"""

import ipywidgets
import matplotlib
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from cnnlib import viz
from cnnlib.filters import FILTERS
from cnnlib.models import LeNet
from cnnlib.viz.explorers import filters as fx

matplotlib.use("Agg")


def _lenet():
    torch.manual_seed(0)
    return LeNet()


_IMAGE = torch.rand(24, 20, generator=torch.Generator().manual_seed(0))

#: name → (build it live, the states to start from besides the default: {control: value}).
EXPLORERS = {
    "conv1d_explorer": (lambda: viz.conv1d_explorer(force_static=False),
                        [{"padding": p} for p in ("same", "full")]
                        + [{"padding": "same", "stride": 2}, {"kernel": "Gaussian 5, σ = 1"}]),
    "slide_animation": (lambda: viz.slide_animation(force_static=False, padding="full"), []),
    "matrix_explorer": (lambda: viz.matrix_explorer(force_static=False),
                        [{"kernel": "random", "padding": "valid"}, {"n": 4, "size": 1}]),
    # one start per way the controls stand (the default: a named 3×3 kernel, its weights
    # shown and editable, A disabled): weights disabled for a 5×5, a 2×2 and the magnitude;
    # A enabled for sharpen; the custom kernel. Every kernel's own weights: tests below.
    "filter_explorer": (lambda: viz.filter_explorer(_IMAGE, force_static=False),
                        [{"kernel": k} for k in ("box_5", "roberts_x", fx.MAGNITUDE,
                                                 "sharpen", fx.CUSTOM)]),
    # output_padding disabled (the default, not transposed); enabled, with counts disabled
    # (a 13×13 output, no counts); an impossible combination (step and counts disabled)
    "variants_explorer": (lambda: viz.variants_explorer(force_static=False, input_size=3,
                                                        kernel_size=2),
                          [{"transposed": True, "input_size": 5, "kernel_size": 1,
                            "stride": 3},
                           {"input_size": 2, "kernel_size": 4}]),
    "conv_arithmetic_explorer": (lambda: viz.conv_arithmetic_explorer(
        4, 3, 2, 1, force_static=False), []),
    "pooling_explorer": (lambda: viz.pooling_explorer(torch.randn(1, 24, 20),
                                                      force_static=False),
                         [{"pooling": p} for p in ("avg", "L2", "L∞")] + [{"relu": True}]),
    "shift_explorer": (lambda: viz.shift_explorer(torch.rand(1, 20, 16), max_shift=8, step=4,
                                                  force_static=False),
                       [{"padding": "zeros"}]),
    "feature_explorer": (lambda: viz.feature_explorer(_lenet(), torch.rand(3, 1, 28, 28),
                                                      force_static=False),
                         [{"view": "filters"}, {"layer": "pool 1"},
                          {"layer": "pool 1", "view": "filters"}]),
    "vgg_explorer": (lambda: viz.vgg_explorer(force_static=False),
                     [{"quantity": "receptive field"}]),
    "cost_explorer": (lambda: viz.cost_explorer(force_static=False), []),
}


#: The resolution of the compared pictures: enough to tell every change of a title.
DPI = 40


def _others(ex, name) -> list:
    """The values to move control ``name`` to: its neighbours among the values it offers
    now, or ±1 in a number box."""
    widget, offered = ex.controls[name], ex.offered(name)
    if offered is None:  # a number box
        high = getattr(widget, "max", np.inf)
        return [widget.value + 1 if widget.value + 1 <= high else widget.value - 1]
    i = offered.index(widget.value)
    return [offered[j] for j in (i - 1, i + 1) if 0 <= j < len(offered)]


def _picture(ex, params: dict, seen: dict) -> np.ndarray:
    """``ex.picture(params)``, drawn once per distinct state."""
    key = tuple((name, repr(value)) for name, value in sorted(params.items()))
    if key not in seen:
        seen[key] = ex.picture(params, dpi=DPI)
    return seen[key]


def _check_state(ex, state: dict, redraws: list, seen: dict) -> None:
    ex.set(**state)
    base_params = dict(ex.params)
    base = _picture(ex, base_params, seen)
    enabled = ex.enabled()
    for name in ex.controls:
        for value in _others(ex, name):
            if name in enabled:
                before = len(redraws)
                ex.controls[name].value = value
                assert len(redraws) == before + 1, (state, name, value)
                assert not np.array_equal(_picture(ex, ex.params, seen), base), (
                    f"from {base_params}, {name} = {value!r} leaves the picture unchanged "
                    "but is enabled")
                ex.set(**base_params)
            else:
                changed = _picture(ex, {**base_params, name: value}, seen)
                assert np.array_equal(changed, base), (
                    f"from {base_params}, {name} = {value!r} changes the picture but is "
                    "disabled")
    assert ex.params == base_params


@pytest.mark.parametrize("name", list(EXPLORERS))
def test_every_enabled_control_changes_the_picture_and_no_disabled_one_does(name):
    build, states = EXPLORERS[name]
    box = build()
    assert isinstance(box, ipywidgets.VBox)
    ex = box.explorer
    assert ex.redraws == 1  # drawn once at the start
    redraws = []  # the pictures are compared by ex.picture(): count the live ones only
    ex.redraw = lambda: redraws.append(dict(ex.params))
    start, seen = dict(ex.params), {}
    for state in [{}, *states]:
        _check_state(ex, {**start, **state}, redraws, seen)


def test_the_generic_test_sees_every_chapter_explorer():
    assert set(EXPLORERS) == {name for name in viz.explorers.__all__
                              if name.endswith(("explorer", "animation"))} | {
        "conv_arithmetic_explorer"}


# ------------------------------------------------------------------ the filter explorer


def _filter_explorer(**defaults):
    """The live filter explorer, its redraws after the first counted but not drawn (the
    tests draw with ``_drawn``; ``test_one_redraw_per_change_of_any_control`` draws them)."""
    ex = viz.filter_explorer(_IMAGE, force_static=False, **defaults).explorer

    def count():
        ex.redraws += 1

    ex.redraw = count
    return ex


def _grid(ex) -> torch.Tensor:
    return torch.tensor([ex.controls[n].value for n in fx.WEIGHT_NAMES]).view(3, 3)


def _drawn(ex):
    """Render the current state; return (the kernel drawn in the corner, the picture)."""
    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ex.render(ax, **ex.params)
    kernel = torch.as_tensor(np.asarray(ax.child_axes[0].images[0].get_array()))
    return kernel, torch.as_tensor(np.asarray(ax.images[0].get_array()))


def _torch_same_replicate(x, k):
    kh, kw = k.shape
    top, left = (kh - 1) // 2, (kw - 1) // 2
    padded = F.pad(x[None, None], (left, kw - 1 - left, top, kh - 1 - top), mode="replicate")
    return F.conv2d(padded, k[None, None].to(x.dtype))[0, 0]


def test_the_weights_are_number_boxes_in_a_3x3_grid_under_kernel_and_a():
    box = viz.filter_explorer(_IMAGE, force_static=False)
    ex = box.explorer
    layout = box.children[0]
    rows = [[c.description for c in row.children] for row in layout.children]
    assert rows == [["kernel", "A"], ["w00", "w01", "w02"], ["w10", "w11", "w12"],
                    ["w20", "w21", "w22"]]
    for name in fx.WEIGHT_NAMES:
        widget = ex.controls[name]
        assert isinstance(widget, ipywidgets.BoundedFloatText)
        assert (widget.min, widget.max) == (-fx.WEIGHT_LIMIT, fx.WEIGHT_LIMIT)
        assert widget.step is None  # the browser accepts any weight, 0.11111112 too
    assert box.children[1] is ex.note and box.children[2] is ex.output


@pytest.mark.parametrize("name", [n for n in fx.NAMES if n != fx.MAGNITUDE
                                  and FILTERS[n].shape == (3, 3)])
def test_a_named_3x3_kernel_shows_its_weights_and_an_edit_starts_a_custom_kernel_from_them(
        name):
    ex = _filter_explorer()
    ex.controls["kernel"].value = name
    expected = fx.kernel(name, ex.params["A"])
    assert torch.equal(_grid(ex).to(torch.float32), expected)  # the shown weights, exactly
    assert all(not ex.controls[n].disabled for n in fx.WEIGHT_NAMES)
    assert ex.controls["A"].disabled == (name != "sharpen")
    assert ex.note.value == f"the weights of {name}: editing one starts a custom 3×3 kernel " \
                            "from them"
    redraws = ex.redraws
    ex.controls["w01"].value = 3.0
    assert ex.redraws == redraws + 1  # one picture, though two controls changed
    assert ex.params["kernel"] == ex.controls["kernel"].value == fx.CUSTOM
    edited = expected.clone()
    edited[0, 1] = 3.0
    assert torch.equal(_grid(ex).to(torch.float32), edited)
    drawn_kernel, picture = _drawn(ex)
    assert torch.equal(drawn_kernel.to(torch.float32), edited)  # the kernel drawn is the grid
    torch.testing.assert_close(picture.to(torch.float32), _torch_same_replicate(_IMAGE, edited))
    ex.controls["w22"].value = -1.0  # a second edit keeps the first
    edited[2, 2] = -1.0
    assert torch.equal(_drawn(ex)[0].to(torch.float32), edited)


def test_every_3x3_kernel_offered_fits_the_weight_boxes():
    kernels = [fx.kernel(n, a) for n in fx.NAMES if n != fx.MAGNITUDE for a in fx.A_VALUES]
    assert max(float(k.abs().max()) for k in kernels if k.shape == (3, 3)) <= fx.WEIGHT_LIMIT


@pytest.mark.parametrize("name, why", [
    ("box_5", "5×5 kernel: pick custom 3×3 to edit weights"),
    ("gaussian_5", "5×5 kernel: pick custom 3×3 to edit weights"),
    ("roberts_x", "2×2 kernel: pick custom 3×3 to edit weights"),
    (fx.MAGNITUDE, "sobel magnitude combines two kernels (sobel_x, sobel_y): pick custom 3×3 "
                   "to edit weights"),
])
def test_a_kernel_the_grid_cannot_show_disables_it_and_says_why(name, why):
    ex = _filter_explorer(kernel="sobel_x")
    ex.controls["kernel"].value = name
    assert all(ex.controls[n].disabled for n in fx.WEIGHT_NAMES)
    assert ex.note.value == why and ex.note.layout.display is None
    ex.controls["kernel"].value = fx.CUSTOM  # custom starts from the grid as it stands
    assert not any(ex.controls[n].disabled for n in fx.WEIGHT_NAMES)
    assert torch.equal(_drawn(ex)[0].to(torch.float32), FILTERS["sobel_x"])


def test_a_is_enabled_for_sharpen_only_and_moves_its_centre_weight():
    ex = _filter_explorer()
    for name in [*fx.NAMES, fx.CUSTOM]:
        ex.controls["kernel"].value = name
        assert ex.controls["A"].disabled == (name != "sharpen"), name
    ex.controls["kernel"].value = "sharpen"
    for a in fx.A_VALUES:
        ex.controls["A"].value = a
        assert torch.equal(_grid(ex).to(torch.float32), fx.kernel("sharpen", a))


def test_one_redraw_per_change_of_any_control():
    ex = viz.filter_explorer(_IMAGE, force_static=False).explorer
    assert ex.redraws == 1
    for name, value in [("kernel", "gaussian_3"), ("kernel", "box_5"), ("kernel", "sharpen"),
                        ("A", 5.0), ("w12", 0.5), ("w12", 0.25), ("kernel", "laplacian_8"),
                        ("kernel", fx.CUSTOM), ("w00", 2.0)]:
        before = ex.redraws
        ex.controls[name].value = value
        assert ex.redraws == before + 1, (name, value)


def test_custom_defaults_start_from_the_identity_with_the_weights_given():
    ex = _filter_explorer(kernel=fx.CUSTOM, w01=1.0)
    expected = torch.zeros(3, 3)
    expected[1, 1] = expected[0, 1] = 1.0
    assert torch.equal(_grid(ex).to(torch.float32), expected)
    assert ex.note.value == "custom 3×3: type a weight, then press Enter"


def test_versions_in_use():
    """The versions this run used (the Colab check runs this file under ipywidgets 7)."""
    import IPython

    print(f"ipywidgets {ipywidgets.__version__}, IPython {IPython.__version__}")
    assert int(ipywidgets.__version__.split(".")[0]) in (7, 8)


def test_the_feature_explorer_disables_digit_for_the_filters():
    model = _lenet()
    live = viz.feature_explorer(model, torch.rand(3, 1, 28, 28), force_static=False).explorer
    assert "digit" in live.enabled() and live.note.value == ""
    live.set(view="filters", layer="pool 1")
    assert "digit" not in live.enabled()
    assert live.note.value == "digit: the filters do not depend on the input"
    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    live.render(ax, **live.params)
    shape = "×".join(map(str, model.features[0].weight.shape))  # the first convolution's
    assert ax.get_title() == f"pool 1 has no weights:\nfilters of the conv before, {shape}"
    assert len(ax.child_axes) == 1  # the filters only: no input digit beside them
