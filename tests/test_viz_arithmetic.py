"""Conv-arithmetic drawings: the cells they shade are the cells PyTorch's convolution reads.

Oracle: autograd through ``torch.nn.functional.conv2d`` / ``conv_transpose2d``. The input
elements with a non-zero gradient of output ``(i, j)`` are exactly those it depends on; the
drawing must shade exactly those (plus padding / inserted zeros), and the canvas it draws,
convolved without padding, must reproduce PyTorch's output.
"""

import re

import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.patches import Rectangle

from cnnlib.arithmetic import conv_arithmetic, conv_output_size, conv_transpose_output_size
from cnnlib.viz.arithmetic import (
    conv_arithmetic_explorer,
    draw_conv_arithmetic,
    draw_conv_arithmetic_cases,
)

matplotlib.use("Agg")

pair = st.tuples


pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors: see conftest.py


@pytest.fixture(scope="module")
def ax():
    """One reused Axes: property tests redraw into it instead of making a figure each time."""
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


@st.composite
def conv_configs(draw, n_max=6, k_max=4, s_max=3, d_max=3):
    """Valid by construction (a dilated kernel no wider than the padded input), so that
    hypothesis rejects no draw."""
    dims = []
    for _ in range(2):
        n, p, d = draw(st.integers(1, n_max)), draw(st.integers(0, 2)), draw(st.integers(1, d_max))
        k = draw(st.integers(1, min(k_max, (n + 2 * p - 1) // d + 1)))
        dims.append((n, k, draw(st.integers(1, s_max)), p, d))
    n, k, s, p, d = zip(*dims, strict=True)
    return dict(input_size=n, kernel_size=k, stride=s, padding=p, dilation=d)


@st.composite
def transposed_configs(draw, n_max=5, k_max=4, s_max=3, d_max=2):
    """Valid by construction (output_padding below the stride or the dilation, an output of at
    least one pixel)."""
    dims = []
    for _ in range(2):
        n, k = draw(st.integers(1, n_max)), draw(st.integers(1, k_max))
        s, d = draw(st.integers(1, s_max)), draw(st.integers(1, d_max))
        op = draw(st.integers(0, min(2, max(s, d) - 1)))
        p = draw(st.integers(0, min(3, ((n - 1) * s + d * (k - 1) + op) // 2)))
        assert conv_transpose_output_size(n, k, s, p, op, d) >= 1
        dims.append((n, k, s, p, d, op))
    n, k, s, p, d, op = zip(*dims, strict=True)
    return dict(input_size=n, kernel_size=k, stride=s, padding=p, dilation=d, output_padding=op)


# Drawing costs a few ms per cell, so the drawing tests use smaller grids than the geometry tests.
SMALL = dict(n_max=4, k_max=3, s_max=2, d_max=2)


def _torch_output(cfg, x, w, transposed):
    if transposed:
        return F.conv_transpose2d(x, w, stride=cfg["stride"], padding=cfg["padding"],
                                  output_padding=cfg["output_padding"], dilation=cfg["dilation"])
    return F.conv2d(x, w, stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"])


def _dependencies(cfg, position, transposed):
    """Input elements with a non-zero gradient of output ``position`` (the oracle)."""
    x = torch.rand(1, 1, *cfg["input_size"], dtype=torch.float64, requires_grad=True)
    w = torch.ones(1, 1, *cfg["kernel_size"], dtype=torch.float64)
    y = _torch_output(cfg, x, w, transposed)
    y[0, 0][position].backward()
    return {tuple(ix) for ix in torch.nonzero(x.grad[0, 0]).tolist()}, tuple(y.shape[-2:])


def _gids(fig, prefix):
    return [p.get_gid() for ax in fig.axes for p in ax.patches
            if isinstance(p, Rectangle) and (p.get_gid() or "").startswith(prefix + ":")]


def _cells(gids):
    return [tuple(int(v) for v in g.split(":")[1:]) for g in gids]


def _position(geo, data):
    ho, wo = geo.output_shape
    return data.draw(st.integers(0, ho - 1)), data.draw(st.integers(0, wo - 1))


def _geometry_agrees_with_torch(cfg, data, transposed):
    geo = conv_arithmetic(**cfg, transposed=transposed)
    position = _position(geo, data)
    expected, torch_shape = _dependencies(cfg, position, transposed)
    assert geo.output_shape == torch_shape
    assert geo.inputs_feeding(position) == expected


def _drawing_shades_what_torch_reads(cfg, data, transposed, ax):
    geo = conv_arithmetic(**cfg, transposed=transposed)
    position = _position(geo, data)
    expected, _ = _dependencies(cfg, position, transposed)
    ax.clear()
    fig = draw_conv_arithmetic(**cfg, position=position, transposed=transposed, legend=False,
                               ax=ax)
    shaded = _cells(_gids(fig, "footprint"))
    kh, kw = cfg["kernel_size"]
    assert len(shaded) == kh * kw == len(set(shaded))  # every tap drawn, once
    assert {geo.input_index(r, c) for r, c in shaded} - {None} == expected
    assert _cells(_gids(fig, "output-highlight")) == [position]
    assert len(_gids(fig, "output")) == geo.output_shape[0] * geo.output_shape[1] - 1
    inputs = _cells(_gids(fig, "input"))
    assert len(inputs) == len(set(inputs)) <= cfg["input_size"][0] * cfg["input_size"][1]
    if not transposed:  # a convolution's canvas shows every input element
        assert len(inputs) == cfg["input_size"][0] * cfg["input_size"][1]


@given(cfg=conv_configs(), data=st.data())
def test_footprint_is_what_conv2d_reads(cfg, data):
    _geometry_agrees_with_torch(cfg, data, transposed=False)


@given(cfg=transposed_configs(), data=st.data())
def test_footprint_is_what_conv_transpose2d_reads(cfg, data):
    _geometry_agrees_with_torch(cfg, data, transposed=True)


@given(cfg=conv_configs(**SMALL), data=st.data())
def test_drawing_shades_what_conv2d_reads(cfg, data, ax):
    _drawing_shades_what_torch_reads(cfg, data, False, ax)


@given(cfg=transposed_configs(**SMALL), data=st.data())
def test_drawing_shades_what_conv_transpose2d_reads(cfg, data, ax):
    _drawing_shades_what_torch_reads(cfg, data, True, ax)


@given(conv_configs())
def test_conv_canvas_without_padding_reproduces_conv2d(cfg):
    geo = conv_arithmetic(**cfg)
    x = torch.randn(2, 3, *cfg["input_size"], dtype=torch.float64)
    w = torch.randn(2, 3, *cfg["kernel_size"], dtype=torch.float64)
    canvas = geo.canvas_values(x)
    assert canvas.shape[-2:] == geo.canvas_shape
    direct = F.conv2d(canvas, geo.direct_kernel(w), stride=cfg["stride"],
                      dilation=cfg["dilation"])
    torch.testing.assert_close(direct, _torch_output(cfg, x, w, transposed=False))


@given(transposed_configs())
def test_transposed_canvas_is_a_stride_one_conv_with_the_rotated_kernel(cfg):
    geo = conv_arithmetic(**cfg, transposed=True)
    x = torch.randn(1, 2, *cfg["input_size"], dtype=torch.float64)
    w = torch.randn(2, 3, *cfg["kernel_size"], dtype=torch.float64)  # (C_in, C_out, kh, kw)
    direct_w = geo.direct_kernel(w).transpose(0, 1)                  # (C_out, C_in, kh, kw)
    direct = F.conv2d(geo.canvas_values(x), direct_w, dilation=cfg["dilation"])
    torch.testing.assert_close(direct, _torch_output(cfg, x, w, transposed=True))


def test_hand_checked_cases():
    # 5×5, k=3: no padding 3×3, half padding 5×5, full padding 7×7, stride 2 + half 3×3.
    for p, s, out in [(0, 1, 3), (1, 1, 5), (2, 1, 7), (1, 2, 3)]:
        geo = conv_arithmetic(5, 3, stride=s, padding=p)
        assert geo.output_shape == (out, out) == (conv_output_size(5, 3, s, p),) * 2
        assert geo.canvas_shape == (5 + 2 * p,) * 2
    geo = conv_arithmetic(5, 3, padding=1)
    assert geo.cell_kind(0, 3) == "padding" and geo.input_index(1, 1) == (0, 0)
    assert geo.inputs_feeding((0, 0)) == {(0, 0), (0, 1), (1, 0), (1, 1)}
    # transposed, 2×2 input, k=3, s=2: one zero inserted, padding 2 → canvas 7×7, output 5×5
    geo = conv_arithmetic(2, 3, stride=2, transposed=True)
    assert geo.canvas_shape == (7, 7) and geo.output_shape == (5, 5)
    assert [geo.cell_kind(2, c) for c in range(7)] == ["padding", "padding", "input",
                                                       "inserted", "input", "padding", "padding"]
    assert geo.inputs_feeding((2, 2)) == {(0, 0), (0, 1), (1, 0), (1, 1)}


def test_values_are_written_into_the_cells():
    x = torch.tensor([[2.0, 0, 1, 3], [7, 1, 1, 0], [0, 2, 5, 0], [0, 5, 1, 4]])
    k = torch.tensor([[1.0, 1, 1], [0, 0, 0], [-1, -1, -1]])
    y = F.conv2d(x[None, None], k[None, None])[0, 0]
    fig = draw_conv_arithmetic(4, 3, position=(1, 0), input_values=x, kernel_values=k,
                               output_values=y)
    texts = [t.get_text() for t in fig.axes[0].texts]
    for v in ["-4", "-3", "3", "-8", "7"]:
        assert v in texts
    assert fig.axes[0].get_title() == "k=3, s=1, p=0 → 2×2"


def test_transposed_title_names_its_own_arguments():
    fig = draw_conv_arithmetic(3, 3, stride=2, padding=1, output_padding=1, transposed=True)
    assert fig.axes[0].get_title() == "transposed: k=3, s=2, p=1, output_padding=1 → 6×6"


def test_small_multiples_draw_one_panel_per_case():
    fig = draw_conv_arithmetic_cases([dict(input_size=5, kernel_size=3, title="a"),
                                      dict(input_size=5, kernel_size=3, padding=2, title="b"),
                                      dict(input_size=5, kernel_size=3, stride=2, title="c")],
                                     ncols=2)
    assert [ax.get_title() for ax in fig.axes if ax.patches] == ["a", "b", "c"]


def test_explorer_animation_has_one_frame_per_output_position():
    page = conv_arithmetic_explorer(4, 3, stride=1, force_static=True)
    html = page._repr_html_()
    # the frames: the <img>'s and three more
    assert len(re.findall(r"data:image/(?:png|svg\+xml);base64", html)) == 4
    assert "https://" not in html


def test_explorer_live_has_a_step_slider():
    box = conv_arithmetic_explorer(5, 3, stride=2, padding=1, force_static=False)
    slider = box.children[0].children[0]
    assert slider.description == "step" and list(slider.options) == list(range(9))


def test_errors_speak_to_the_student():
    with pytest.raises(ValueError, match="position must lie inside the 3×3 output"):
        draw_conv_arithmetic(5, 3, position=(3, 0))
    with pytest.raises(TypeError, match="position must be a pair of ints"):
        draw_conv_arithmetic(5, 3, position=4)
    with pytest.raises(ValueError, match="output_padding only applies"):
        conv_arithmetic(5, 3, output_padding=1)
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv_arithmetic(2, 3)
    with pytest.raises(ValueError, match="stride must be"):
        conv_arithmetic(5, 3, stride=0)
    with pytest.raises(ValueError, match="input_values must have shape"):
        draw_conv_arithmetic(4, 3, input_values=torch.zeros(3, 3))
    with pytest.raises(TypeError, match="transposed must be True or False"):
        conv_arithmetic(4, 3, transposed="yes")
    with pytest.raises(ValueError, match="x must end in the input shape"):
        conv_arithmetic(4, 3).canvas_values(torch.zeros(3, 3))
    with pytest.raises(ValueError, match="cases must be a non-empty list"):
        draw_conv_arithmetic_cases([])
