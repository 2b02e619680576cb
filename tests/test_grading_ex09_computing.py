"""Exercise 09 (how convolution is computed): the reference solution scores full marks, the
student notebook zero, answers that call what a question forbids score 0 as forbidden, and a
classic slip loses points."""

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

from cnnlib.grading import load_exercise

POINTS = {"im2col_matrix": 3.0, "conv_flops": 1.0, "im2col_bytes": 2.0,
          "winograd_products": 2.0, "q_im2col_ratio": 1.0, "q_winograd_tile_products": 1.0}
FUNCTIONS = {name: p for name, p in POINTS.items() if not name.startswith("q_")}

# Each replaces the body of one solution with a call to what the question forbids.
CHEATS = {
    "im2col_matrix": "    return torch.nn.functional.unfold(x[None], k)[0]",
    "conv_flops": (
        "    from cnnlib.counting import count_flops\n"
        "    layer = torch.nn.Conv2d(c_in, c_out, k, stride, padding)\n"
        "    return count_flops(layer, (1, c_in, h, w))"),
    "im2col_bytes": (
        "    cols = torch.nn.functional.unfold(torch.empty(1, c, h, w), k, padding=padding,\n"
        "                                      stride=stride)\n"
        "    return cols.numel() * element_size"),
    "winograd_products": (
        "    from cnnlib.winograd import f23_matrices\n"
        "    bt, gm, _ = f23_matrices(d.dtype)\n"
        "    return (gm @ g) * (bt @ d)"),
}
# Forgetting the stride: right for stride-1 layers only.
SLIP = ("    h_out = (h + 2 * padding - k) // stride + 1\n"
        "    w_out = (w + 2 * padding - k) // stride + 1\n"
        "    return 2 * c_out",
        "    h_out = h + 2 * padding - k + 1\n"
        "    w_out = w + 2 * padding - k + 1\n"
        "    return 2 * c_out")


VARIANTS = {"cheat": lambda nb: replace_solutions(nb, CHEATS),
            "slip": lambda nb: replace_text(nb, *SLIP, function="conv_flops")}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_notebooks("09_computing", tmp_path_factory.mktemp("ex09"), VARIANTS)


def test_the_exercise_has_six_questions_worth_ten_points():
    ex = load_exercise("09_computing")
    assert [q.name for q in ex.questions] == list(POINTS)
    assert {q.name: q.points for q in ex.questions} == POINTS and ex.points == 10
    assert all((q.from_scratch is not None) == (q.name in FUNCTIONS) for q in ex.questions)


def test_calling_what_a_question_forbids_scores_zero(graded):
    assert verdicts_of(graded["cheat"]) == {
        q: ("forbidden", 0.0) if q in FUNCTIONS else ("ok", p) for q, p in POINTS.items()}


def test_forgetting_the_stride_loses_points(graded):
    assert_partial_credit_only_on(graded["slip"], POINTS, VARIANTS["slip"], "conv_flops")


def test_the_references_are_what_the_notebook_says():
    ex = load_exercise("09_computing")
    for case in checked_cases(ex, "im2col_matrix", seed=3):
        x, k = case.args
        c, h, w = x.shape
        assert case.expected.shape == (c * k * k, (h - k + 1) * (w - k + 1))
        weight = torch.randn(2, c, k, k, generator=torch.Generator().manual_seed(0))
        torch.testing.assert_close((weight.view(2, -1) @ case.expected).view(
            2, h - k + 1, w - k + 1), F.conv2d(x[None], weight)[0], rtol=1e-4, atol=1e-5)
    for case in checked_cases(ex, "conv_flops", seed=3):
        c_in, c_out, h, w, k, s, p = case.args
        h_out, w_out = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        assert case.expected == 2 * c_out * h_out * w_out * c_in * k * k
    for case in checked_cases(ex, "im2col_bytes", seed=3):
        c, h, w, k, s, p, size = case.args
        h_out, w_out = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        assert case.expected == c * k * k * h_out * w_out * size
    for case in checked_cases(ex, "winograd_products", seed=3):
        d, g = case.args
        m1, m2, m3, m4 = case.expected.double()
        direct = F.conv1d(d.double().view(1, 1, 4), g.double().view(1, 1, 3)).view(2)
        torch.testing.assert_close(torch.stack([m1 + m2 + m3, m2 - m3 - m4]), direct,
                                   rtol=1e-5, atol=1e-5)
