"""cnnlib.viz.explorers.variants: the drawn footprints and counts are what autograd through
PyTorch's conv2d / conv_transpose2d says each output reads; live and static explorers both build."""

import itertools
import re

import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cnnlib.arithmetic import conv_arithmetic
from cnnlib.viz.explorers import variants as ex

matplotlib.use("Agg")


def torch_reads(args, position):
    """The input pixels output ``position`` depends on, by autograd through PyTorch."""
    n, k = args["input_size"], args["kernel_size"]
    s, p, d = args.get("stride", 1), args.get("padding", 0), args.get("dilation", 1)
    x = torch.randn(1, 1, n, n, dtype=torch.float64, requires_grad=True)
    w = torch.ones(1, 1, k, k, dtype=torch.float64)
    if args.get("transposed", False):
        y = F.conv_transpose2d(x, w, stride=s, padding=p, dilation=d,
                               output_padding=args.get("output_padding", 0))
    else:
        y = F.conv2d(x, w, stride=s, padding=p, dilation=d)
    (grad,) = torch.autograd.grad(y[0, 0][position], x, allow_unused=True)
    if grad is None:
        return set(), tuple(y.shape[-2:])
    return {tuple(ix) for ix in torch.nonzero(grad[0, 0]).tolist()}, tuple(y.shape[-2:])


def gids(ax, prefix):
    return [p.get_gid() for p in ax.patches if str(p.get_gid()).startswith(prefix)]


def texts(ax, gid):
    return [t.get_text() for t in ax.texts if t.get_gid() == gid]


def output_cell_texts(ax):
    """{(i, j): text} for the numbers written inside the output cells."""
    cells = {}
    for a in ax.patches:
        gid = str(a.get_gid())
        if gid.startswith("output"):
            i, j = (int(v) for v in gid.split(":")[1:])
            cells[(i, j)] = a.get_xy()
    found = {}
    for t in ax.texts:
        x, y = t.get_position()
        for ij, (cx, cy) in cells.items():
            if cx < x < cx + 1 and cy < y < cy + 1:
                found[ij] = t.get_text()
    return found


@st.composite
def valid_args(draw):
    transposed = draw(st.booleans())
    args = dict(input_size=draw(st.integers(2, 6)), kernel_size=draw(st.integers(1, 4)),
                stride=draw(st.integers(1, 3)), padding=draw(st.integers(0, 2)),
                dilation=draw(st.integers(1, 3)), transposed=transposed)
    if transposed:
        args["output_padding"] = draw(st.integers(0, max(args["stride"], args["dilation"]) - 1))
    return args


def geometry_or_none(args):
    try:
        return conv_arithmetic(args["input_size"], args["kernel_size"], args["stride"],
                               args["padding"], args["dilation"],
                               transposed=args["transposed"],
                               output_padding=args.get("output_padding", 0))
    except ValueError:
        return None


@given(args=valid_args(), data=st.data())
def test_counts_are_what_pytorch_reads(args, data):
    geo = geometry_or_none(args)
    if geo is None:
        return  # PyTorch refuses these too; test_impossible_combinations covers them
    counts = ex.feeding_counts(**args)
    oh, ow = geo.output_shape
    assert counts.shape == (oh, ow) and counts.dtype == torch.int64
    i, j = data.draw(st.integers(0, oh - 1)), data.draw(st.integers(0, ow - 1))
    reads, shape = torch_reads(args, (i, j))
    assert shape == (oh, ow)
    assert counts[i, j].item() == len(reads)


@pytest.mark.parametrize("name", list(ex.PRESETS))
def test_every_preset_draws_pytorchs_footprint_and_counts(name):
    args = ex.PRESETS[name]
    fig, ax = plt.subplots()
    geo = geometry_or_none({"stride": 1, "padding": 0, "dilation": 1, "transposed": False,
                            **args})
    oh, ow = geo.output_shape
    for step in range(oh * ow):
        ax.clear()
        ex.render(ax, **args, step=step)
        position = divmod(step, ow)
        reads, _ = torch_reads(args, position)
        assert texts(ax, "feeds") == [
            f"output {position} reads {len(reads)} input pixel{'s' * (len(reads) != 1)}"]
        drawn = {geo.input_index(*(int(v) for v in g.split(":")[1:]))
                 for g in gids(ax, "footprint:")}
        assert drawn - {None} == reads
        assert gids(ax, "output-highlight:") == [f"output-highlight:{position[0]}:"
                                                  f"{position[1]}"]
    written = output_cell_texts(ax)
    counts = ex.feeding_counts(**args)
    assert written == {(i, j): str(counts[i, j].item()) for i in range(oh) for j in range(ow)}
    plt.close(fig)


def test_checkerboard_presets_show_uneven_and_even_counts():
    uneven = ex.feeding_counts(**ex.PRESETS["transposed, k=3, s=2"])
    even = ex.feeding_counts(**ex.PRESETS["transposed, k=4, s=2, p=1"])
    assert set(uneven[1:-1, 1:-1].unique().tolist()) == {1, 2, 4}
    assert set(even[1:-1, 1:-1].unique().tolist()) == {4}


@pytest.mark.parametrize("args, match", [
    (dict(input_size=2, kernel_size=4, dilation=3), "larger than the padded input"),
    (dict(input_size=3, kernel_size=2, stride=2, transposed=True, output_padding=2),
     "output_padding must be smaller"),
    (dict(input_size=2, kernel_size=1, padding=2, transposed=True), "padding 2 is too large"),
])
def test_impossible_combinations_are_explained(args, match):
    fig, ax = plt.subplots()
    ex.render(ax, **args)
    (message,) = texts(ax, "message")
    assert message.startswith("Not possible:") and match in message.replace("\n", " ")
    assert not gids(ax, "footprint:")
    plt.close(fig)


def test_step_past_the_end_and_ignored_output_padding_are_said():
    fig, ax = plt.subplots()
    ex.render(ax, input_size=5, kernel_size=3, output_padding=1, step=50)
    (message,) = texts(ax, "message")
    assert "only 9 outputs: showing the last" in message
    assert "output_padding ignored" in message
    assert gids(ax, "output-highlight:") == ["output-highlight:2:2"]
    plt.close(fig)


def test_counts_are_left_out_when_they_would_not_fit():
    fig, ax = plt.subplots()
    ex.render(ax, input_size=7, kernel_size=4, stride=2, transposed=True)  # 16 × 16 output
    assert output_cell_texts(ax) == {}
    ax.clear()
    ex.render(ax, input_size=5, kernel_size=3, counts=False)
    assert output_cell_texts(ax) == {}
    plt.close(fig)


def test_the_step_slider_reaches_the_widest_output():
    widest = 0
    for n, k, s, d, op in itertools.product(ex.CONTROLS["input_size"],
                                            ex.CONTROLS["kernel_size"], ex.CONTROLS["stride"],
                                            ex.CONTROLS["dilation"],
                                            ex.CONTROLS["output_padding"]):
        geo = geometry_or_none(dict(input_size=n, kernel_size=k, stride=s, padding=0,
                                    dilation=d, transposed=True, output_padding=op))
        if geo is not None:
            widest = max(widest, geo.output_shape[0] * geo.output_shape[1])
    assert ex._max_steps() == widest


def test_live_explorer_has_every_control():
    import ipywidgets

    box = ex.variants_explorer(force_static=False, transposed=True, stride=2)
    assert isinstance(box, ipywidgets.VBox)
    controls = {c.description: c for c in box.children[0].children}
    assert list(controls) == [*ex.CONTROLS, "step"]
    assert controls["transposed"].value is True and controls["stride"].value == 2
    live = box.explorer
    # transposed, input 5, kernel 3, stride 2: a 11 × 11 output, so 121 steps
    assert live.offered("step") == list(range(11 * 11))
    assert live.offered("output_padding") == [0, 1]  # below the stride
    live.controls["step"].value = 120
    live.controls["output_padding"].value = 1  # 12 × 12: the same last step, now 143
    assert live.offered("step")[-1] == 143 and live.params["step"] == 120
    live.controls["input_size"].value = 7  # 16 × 16: counts no longer fit
    assert controls["counts"].disabled and "counts: written up to 12" in live.note.value
    live.controls["transposed"].value = False
    assert live.params["output_padding"] == 0 and controls["output_padding"].disabled
    assert live.note.value.startswith("output_padding: only for a transposed convolution")
    assert live.offered("step")[-1] == 3 * 3 - 1 and live.params["step"] == 8
    live.controls["kernel_size"].value = 4
    live.controls["dilation"].value = 3  # a dilated kernel of 10 on an input of 7
    assert live.enabled() == ["input_size", "kernel_size", "stride", "padding", "dilation",
                              "transposed"]
    assert "nothing to draw for an impossible combination" in live.note.value
    assert ex._max_steps() == 900  # what the step control can hold, at most


def test_static_animation_steps_through_the_presets():
    frames = ex.preset_frames()
    names = [name for name, _ in frames]
    assert list(dict.fromkeys(names)) == list(ex.PRESETS)
    for name, step in frames:
        args = {"stride": 1, "padding": 0, "dilation": 1, "transposed": False,
                **ex.PRESETS[name]}
        oh, ow = geometry_or_none(args).output_shape
        assert divmod(step, ow) in ex.STATIC_POSITIONS and step < oh * ow
    page = ex.variants_explorer(force_static=True)
    html = page._repr_html_()
    assert len(re.findall(r"data:image/(?:png|svg\+xml);base64", html)) == len(frames)
    assert "(transposed, k=3, s=2): the checkerboard" in page.describe
    assert "<script" in html and "https://" not in html
