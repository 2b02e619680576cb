"""Exercise 04 (2D convolution): its references against independent oracles (the definitions,
cnnlib's loop convolution, the chapter's worked example); the grader gives the source notebook
full marks, the student notebook zero, answers that call what a question forbids 0, and a layer
that forgets the stride inside its windows partial credit."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from exercise_grading import (
    assert_partial_credit_only_on,
    checked_cases,
    grade_notebooks,
    replace_solutions,
    replace_text,
    verdicts_of,
)

from cnnlib.arithmetic import conv_output_size
from cnnlib.conv import conv2d
from cnnlib.equivariance import translate
from cnnlib.grading import load_exercise
from cnnlib.grading.exercises.ex04_conv2d import EXAMPLE_IMAGE, EXAMPLE_KERNEL

POINTS = {"conv2d_single": 3.0, "conv2d_layer": 3.0, "conv_output_shape": 1.0,
          "example_same": 1.0, "combine_kernels": 2.0, "shift_right_kernel": 1.0,
          "q_params_growth": 1.0, "q_vertical_edge": 1.0}
EX = load_exercise("04_conv2d")

# Each replaces the body of one from-scratch solution with a call to what the question forbids.
CHEATS = {
    "conv2d_single": "    return torch.nn.functional.conv2d(x[None, None], w[None, None])[0, 0]",
    "conv2d_layer": (
        "    from cnnlib.conv import conv2d\n"
        "    return conv2d(x, weight, bias, stride=stride, padding=padding)"),
    "conv_output_shape": (
        "    from cnnlib.arithmetic import conv_output_size\n"
        "    return (conv_output_size(h, k, stride, padding, dilation),\n"
        "            conv_output_size(w, k, stride, padding, dilation))"),
    "combine_kernels": ("    import cnnlib.convolve\n"
                        "    return cnnlib.convolve.convolve2d(g, h, mode='full')"),
}
# Forgetting the stride inside the window: the right shape, the wrong windows when s > 1.
SLIP = ("window = padded[:, a * stride:a * stride + kh, b * stride:b * stride + kw]",
        "window = padded[:, a:a + kh, b:b + kw]")


def _correlate(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The 2D formula, in float64 numpy."""
    kh, kw = w.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for a in range(out.shape[0]):
        for b in range(out.shape[1]):
            out[a, b] = (w * x[a:a + kh, b:b + kw]).sum()
    return out


# --- the declarations and the references ------------------------------------------------------

def test_the_exercise_has_six_questions_worth_eleven_points():
    assert {q.name: q.points for q in EX.questions} == POINTS and EX.points == 13
    assert all(q.from_scratch is not None for q in EX.questions if q.kind == "function")
    banned = EX.question("combine_kernels").from_scratch
    for api in ("torch.nn.functional.conv2d", "torch.nn.Conv2d", "torch.Tensor.unfold",
                "cnnlib.conv.conv2d", "cnnlib.convolve.convolve2d",
                "cnnlib.template_matching.cross_correlation_scores",
                "cnnlib.separable.separable_conv2d"):
        assert banned.match(api) is not None, api
    assert EX.question("conv_output_shape").from_scratch.match("cnnlib.arithmetic."
                                                               "conv_output_size")


def test_single_channel_reference_is_the_formula():
    for case in checked_cases(EX, "conv2d_single"):
        x, w = case.args
        expected = _correlate(x.double().numpy(), w.double().numpy())
        np.testing.assert_allclose(case.expected.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_layer_reference_is_cnnlibs_loop_and_a_sum_over_channels():
    for case in checked_cases(EX, "conv2d_layer"):
        x, weight, bias, stride, padding = case.args
        loop = conv2d(x, weight, bias, stride=stride, padding=padding, method="loop")
        torch.testing.assert_close(case.expected, loop)
        padded = F.pad(x, (padding,) * 4)
        for o in range(weight.shape[0]):
            per_channel = sum(_correlate(padded[c].double().numpy(), weight[o, c].double().numpy())
                              for c in range(x.shape[0]))
            strided = per_channel[::stride, ::stride] + float(bias[o])
            np.testing.assert_allclose(case.expected[o].numpy(), strided, rtol=1e-5, atol=1e-5)


def test_output_shape_reference_is_the_formula():
    for case in checked_cases(EX, "conv_output_shape"):
        h, w, k, s, p, d = case.args
        expected = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n in (h, w))
        assert case.expected == expected
        assert case.expected == (conv_output_size(h, k, s, p, d), conv_output_size(w, k, s, p, d))


def test_example_same_holds_the_valid_output_in_its_centre():
    same = EX.question("example_same").reference()
    assert same.shape == (4, 4) and same.dtype == torch.float32
    assert same[1:3, 1:3].tolist() == [[-4, -3], [3, -8]]        # the valid output of chapter 4
    assert same[0, 0] == 0 - (7 + 1)             # top-left: padding above, x[1, 0:2] below
    assert same[3, 3] == (5 + 0) - 0             # bottom-right: x[2, 2:4] above, padding below
    assert torch.equal(EXAMPLE_KERNEL, torch.tensor([[1., 1, 1], [0, 0, 0], [-1, -1, -1]]))
    assert EXAMPLE_IMAGE.shape == (4, 4)


def test_combined_kernel_filters_like_the_two_in_a_row():
    gen = torch.Generator().manual_seed(0)
    for case in checked_cases(EX, "combine_kernels"):
        g, h = case.args
        k = case.expected
        assert k.shape == (g.shape[0] + h.shape[0] - 1, g.shape[1] + h.shape[1] - 1)
        x = torch.randn(1, 1, k.shape[0] + 3, k.shape[1] + 4, generator=gen)
        twice = F.conv2d(F.conv2d(x, g[None, None]), h[None, None])
        torch.testing.assert_close(F.conv2d(x, k[None, None]), twice, rtol=1e-4, atol=1e-4)


def test_the_shift_kernel_moves_images_right_with_zero_fill():
    kernel = EX.question("shift_right_kernel").reference()
    assert kernel.shape == (3, 3) and kernel.dtype == torch.float32 and kernel.sum() == 1
    for h, w in [(1, 1), (4, 6), (7, 3)]:
        x = torch.randn(h, w)
        moved = F.conv2d(x[None, None], kernel[None, None], padding=1)[0, 0]
        assert torch.equal(moved, translate(x, (0, 1), mode="zeros"))


# --- grading the notebooks --------------------------------------------------------------------

VARIANTS = {"cheat": lambda nb: replace_solutions(nb, CHEATS),
            "slip": lambda nb: replace_text(nb, *SLIP)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_notebooks("04_conv2d", tmp_path_factory.mktemp("ex04"), VARIANTS)


def test_calling_what_a_question_forbids_scores_zero(graded):
    verdicts = verdicts_of(graded["cheat"])
    # example_same is computed with conv2d_layer, which now calls a convolution: a value
    # question is not from scratch, so it keeps its point
    assert verdicts == {q: ("forbidden", 0.0) if q in CHEATS else ("ok", p)
                        for q, p in POINTS.items()}


def test_a_layer_that_forgets_the_stride_in_its_windows_loses_points(graded):
    assert_partial_credit_only_on(graded["slip"], POINTS, VARIANTS["slip"], "conv2d_layer")
