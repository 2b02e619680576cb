"""cnnlib.sliding: the step data equals PyTorch's conv1d, and the drawings show exactly it."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.patches import Rectangle

from cnnlib.arithmetic import conv_output_size
from cnnlib.sliding import Step, conv1d_steps, format_number, resolve_padding_1d
from cnnlib.viz.sliding import draw_step, show_signals, show_steps

matplotlib.use("Agg")


def texts(ax, gid):
    return [t.get_text() for t in ax.texts if t.get_gid() == gid]


def torch_reference(x, h, stride, left, right):
    xp = F.pad(torch.as_tensor(x, dtype=torch.float64), (left, right))
    return F.conv1d(xp[None, None], torch.as_tensor(h, dtype=torch.float64)[None, None],
                    stride=stride)[0, 0]


# --- the step data -----------------------------------------------------------------------------

@st.composite
def conv_cases(draw):
    n = draw(st.integers(1, 12))
    m = draw(st.integers(1, 6))
    stride = draw(st.integers(1, 3))
    padding = draw(st.one_of(st.integers(0, 3), st.sampled_from(["valid", "full", "same"]),
                             st.tuples(st.integers(0, 3), st.integers(0, 3))))
    if padding == "same":
        stride = 1
    left, right = resolve_padding_1d(padding, m, stride)
    if m > n + left + right:
        n = m  # the kernel must fit in the padded input
    x = draw(st.lists(st.integers(-9, 9), min_size=n, max_size=n))
    h = draw(st.lists(st.integers(-4, 4), min_size=m, max_size=m))
    return [float(v) for v in x], [float(v) for v in h], stride, padding


@given(conv_cases())
def test_steps_equal_torch_conv1d(case):
    x, h, stride, padding = case
    steps = conv1d_steps(x, h, stride=stride, padding=padding)
    left, right = resolve_padding_1d(padding, len(h), stride)
    expected = torch_reference(x, h, stride, left, right).numpy()
    assert len(steps) == len(expected)
    if left == right:
        assert len(steps) == conv_output_size(len(x), len(h), stride=stride, padding=left)
    for i, step in enumerate(steps):
        assert step.index == i and step.start == i * stride
        np.testing.assert_allclose(step.outputs, expected)
        assert step.value == pytest.approx(expected[i])
        # what the step shows: the window under the kernel, its products, their sum
        np.testing.assert_array_equal(step.window, step.padded[i * stride:i * stride + len(h)])
        np.testing.assert_array_equal(step.products, np.asarray(h) * step.window)
        assert step.products.sum() == pytest.approx(step.value)


def test_lecture_example_by_hand():
    steps = conv1d_steps([1.0, 2, 3, 4, 5], [2.0, 1])
    assert [s.value for s in steps] == [4, 7, 10, 13]
    assert steps[1].window.tolist() == [2, 3] and steps[1].products.tolist() == [4, 3]
    assert steps[1].input_indices() == [1, 2]


def test_padding_zeros_and_input_indices():
    steps = conv1d_steps([1.0, 2, 3], [1.0, 1, 1], padding="full")
    assert steps[0].padded.tolist() == [0, 0, 1, 2, 3, 0, 0]
    assert steps[0].input_indices() == [0]  # the two zeros feed nothing real
    assert [s.value for s in steps] == [1, 3, 6, 5, 3]


def test_named_paddings_give_the_named_lengths():
    x, n = list(range(10)), 10
    for m in (1, 2, 3, 4, 5):
        h = [1.0] * m
        assert len(conv1d_steps(x, h, padding="valid")) == n - m + 1
        assert len(conv1d_steps(x, h, padding="full")) == n + m - 1
        assert len(conv1d_steps(x, h, padding="same")) == n
    assert resolve_padding_1d("same", 4) == (1, 2)  # PyTorch: the extra zero on the right
    assert resolve_padding_1d("full", 3) == (2, 2)
    assert resolve_padding_1d(2, 3) == (2, 2) and resolve_padding_1d((0, 1), 3) == (0, 1)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_same_padding_matches_torch_for_even_kernels():
    x, h = torch.randn(9, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    steps = conv1d_steps(x, h, padding="same")
    expected = F.conv1d(x[None, None], h[None, None], padding="same")[0, 0]
    np.testing.assert_allclose(steps[0].outputs, expected.numpy())


def test_inputs_on_any_device(device):
    x = torch.arange(6.0, device=device)
    h = torch.tensor([1.0, -1.0], device=device)
    steps = conv1d_steps(x, h)
    assert [s.value for s in steps] == [-1.0] * 5


def test_argument_errors():
    with pytest.raises(ValueError, match="stride 1"):
        conv1d_steps([1.0, 2, 3], [1.0, 1], stride=2, padding="same")
    with pytest.raises(ValueError, match="padding must be"):
        conv1d_steps([1.0, 2, 3], [1.0, 1], padding="half")
    with pytest.raises(ValueError, match="non-negative"):
        conv1d_steps([1.0, 2, 3], [1.0, 1], padding=-1)
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv1d_steps([1.0, 2], [1.0, 1, 1])
    with pytest.raises(ValueError, match="1-D signal"):
        conv1d_steps([[1.0, 2]], [1.0])
    with pytest.raises(ValueError, match="stride must be a positive int"):
        conv1d_steps([1.0, 2], [1.0], stride=0)
    with pytest.raises(TypeError, match="step must be a Step"):
        draw_step([1, 2, 3])


def test_format_number():
    assert [format_number(v) for v in (3.0, -2.0000000001, 0.3333, 1.5, 123.4, -0.004)] == [
        "3", "-2", "0.33", "1.5", "123", "0"]


# --- the drawings ------------------------------------------------------------------------------

def test_draw_step_shows_the_lecture_example():
    step = conv1d_steps([1.0, 2, 3, 4, 5], [2.0, 1])[1]
    fig = draw_step(step)
    (ax,) = fig.axes
    # 5 input cells, 2 kernel cells, 2 products, 4 output cells (2 computed, 2 still empty)
    assert len([p for p in ax.patches if isinstance(p, Rectangle)]) == 5 + 2 + 2 + 4
    assert texts(ax, "x") == ["1", "2", "3", "4", "5"]
    assert texts(ax, "h") == ["2", "1"]
    assert texts(ax, "product") == ["4", "3"]
    assert texts(ax, "y") == ["4", "7"]  # the output so far
    assert texts(ax, "formula") == ["y[1] = 2·2 + 1·3 = 7"]
    assert texts(ax, "label") == ["x", "h", "h·x", "y"]
    assert len(ax.lines) == 2  # one line from each product to the output it sums into
    assert not plt.fignum_exists(fig.number)  # closed: a notebook shows it once


def test_draw_step_highlights_the_window_and_marks_padding():
    step = conv1d_steps([5.0, 6, 7], [1.0, 1, 1], padding=1)[0]
    fig = draw_step(step)
    ax = fig.axes[0]
    faces = [matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches[:5]]
    assert faces[0] == faces[1] == faces[2]  # the window: a zero and the first two samples
    assert faces[3] != faces[0] and faces[4] not in (faces[0], faces[3])  # input, padding
    assert texts(ax, "x") == ["0", "5", "6", "7", "0"]
    assert texts(ax, "y") == ["11"]


@given(conv_cases(), st.data())
def test_drawn_outputs_are_torch_values(case, data):
    x, h, stride, padding = case
    steps = conv1d_steps(x, h, stride=stride, padding=padding)
    i = data.draw(st.integers(0, len(steps) - 1))
    ax = _SHARED_AX
    ax.clear()
    draw_step(steps[i], ax)
    left, right = resolve_padding_1d(padding, len(h), stride)
    expected = torch_reference(x, h, stride, left, right)[: i + 1]
    assert texts(ax, "y") == [format_number(v) for v in expected.tolist()]
    assert len(texts(ax, "product")) == len(h)


_SHARED_FIG, _SHARED_AX = plt.subplots()  # one figure for the many examples above
plt.close(_SHARED_FIG)


def test_show_steps_small_multiples():
    fig = show_steps([1.0, 2, 3, 4, 5, 6, 7], [1.0, 1, 1], stride=2, padding=1)
    drawn = [ax for ax in fig.axes if ax.patches]
    assert [ax.get_title() for ax in drawn] == ["step 0", "step 1", "step 2", "step 3"]
    assert [texts(ax, "y")[-1] for ax in drawn] == ["3", "9", "15", "13"]
    fig = show_steps([1.0, 2, 3, 4], [1.0], steps=[3, 0], ncols=3)
    assert [ax.get_title() for ax in fig.axes if ax.patches] == ["step 3", "step 0"]
    with pytest.raises(ValueError, match="steps must be output indices in 0 … 3"):
        show_steps([1.0, 2, 3, 4], [1.0], steps=[4])


def test_show_signals_draws_one_line_per_signal():
    t = np.arange(10)
    fig = show_signals(t, {"raw": torch.arange(10.0), "short": (t[2:8], np.ones(6))},
                       title="demo", ylabel="y", xlabel="t")
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["raw", "short"]
    assert ax.lines[1].get_xdata().tolist() == list(range(2, 8))
    assert ax.get_title() == "demo" and ax.get_xlabel() == "t"
    with pytest.raises(ValueError, match="one value per time step"):
        show_signals(t, {"bad": np.ones(4)})
    with pytest.raises(ValueError, match="at least one signal"):
        show_signals(t, {})


def test_step_is_a_plain_record():
    step = conv1d_steps([1.0, 2, 3], [1.0])[2]
    assert isinstance(step, Step) and step.n_outputs == 3 and step.value == 3.0
