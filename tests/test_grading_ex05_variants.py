"""Exercise 05 (convolution variants): its references against independent oracles, and the
grader gives the source notebook full marks and the generated student notebook zero."""

import numpy as np
import pytest
import torch
from exercise_grading import (
    checked_cases,
    grade_notebooks,
    printed_in_kernel,
    source_notebook,
    student_notebook,
    verdicts_of,
)
from torch import nn

from cnnlib.counting import count_parameters
from cnnlib.grading import load_exercise
from cnnlib.receptive_field import empirical_receptive_field
from cnnlib.transposed import conv_transpose1d

SOURCE, STUDENT = source_notebook("05_variants"), student_notebook("05_variants")
POINTS = {"transposed_conv1d": 3, "transposed_output_length": 1, "output_padding_needed": 1,
          "separable_params": 1, "dilated_receptive_field": 1,
          "q_grouped_params": 1, "q_one_by_one": 1}
EX = load_exercise("05_variants")


def test_the_exercise_has_its_five_questions_all_from_scratch():
    assert [q.name for q in EX.questions] == list(POINTS)
    assert {q.name: q.points for q in EX.questions} == POINTS and EX.points == 9
    assert all(q.from_scratch is not None for q in EX.questions if q.kind == "function")
    banned = EX.question("transposed_conv1d").from_scratch
    for api in ("torch.nn.functional.conv_transpose1d", "torch.nn.functional.fold",
                "torch.nn.functional.unfold", "torch.nn.ConvTranspose1d", "cnnlib.transposed"):
        assert banned.match(api) == api
    assert EX.question("separable_params").from_scratch.match("cnnlib.separable."
                                                              "DepthwiseSeparableConv2d")


def scatter(x, h, s, p):
    """The definition, written out: every input writes a scaled kernel copy; crop p."""
    full = np.zeros((len(x) - 1) * s + len(h))
    for i, xi in enumerate(x.tolist()):
        full[i * s: i * s + len(h)] += xi * h.double().numpy()
    return full[p: len(full) - p]


def test_transposed_reference_is_the_scatter_and_cnnlibs_conv_transpose():
    for case in checked_cases(EX, "transposed_conv1d", seed=11):
        x, h, s, p = case.args
        assert case.expected.dtype == torch.float32
        assert np.allclose(case.expected.numpy(), scatter(x, h, s, p), atol=1e-5)
        ours = conv_transpose1d(x[None, None], h[None, None], stride=s, padding=p)[0, 0]
        torch.testing.assert_close(ours, case.expected)


def test_size_references_agree_with_the_formulas():
    length = EX.question("transposed_output_length")
    needed = EX.question("output_padding_needed")
    for n, m, s, p, a in [c.args for c in checked_cases(EX, "transposed_output_length", seed=5)]:
        assert length.reference(n, m, s, p, a) == (n - 1) * s + m - 2 * p + a
    for i in range(1, 25):
        for m in range(1, 6):
            for s in range(1, 5):
                for p in range(3):
                    if m <= i + 2 * p:
                        assert needed.reference(i, m, s, p) == (i + 2 * p - m) % s


def test_separable_reference_counts_the_two_real_layers():
    q = EX.question("separable_params")
    for c_in, c_out, k in [(32, 64, 3), (3, 16, 5), (7, 1, 2), (1, 9, 7)]:
        depthwise = nn.Conv2d(c_in, c_in, k, groups=c_in, bias=False)
        pointwise = nn.Conv2d(c_in, c_out, 1)
        expected = count_parameters(nn.Sequential(depthwise, pointwise))
        assert q.reference(c_in, c_out, k) == expected == c_in * k * k + c_in * c_out + c_out


@pytest.mark.parametrize("k, dilations", [(3, (1, 2, 4, 8)), (3, (2, 2, 2)), (5, (1, 3)),
                                          (2, (4, 1, 2)), (1, (3, 3))])
def test_receptive_field_reference_is_what_autograd_measures(k, dilations):
    stack = nn.Sequential(*[nn.Conv1d(1, 1, k, dilation=d) for d in dilations])
    measured = empirical_receptive_field(stack, (1, 1, 80))
    assert not measured.touches_border
    assert EX.question("dilated_receptive_field").reference(k, dilations) == measured.size


def test_source_scores_full_marks_and_student_version_zero(tmp_path):
    graded = grade_notebooks("05_variants", tmp_path, originals=True, timeout=10,
                             seed=123_456_789)
    solution, student = graded["solution"], graded["student"]
    assert verdicts_of(solution) == {q: ("ok", float(p)) for q, p in POINTS.items()}, \
        solution.notes
    assert verdicts_of(student) == {q: ("missing", 0.0) for q in POINTS}, student.notes
    assert solution.total == solution.possible == 9 and student.total == 0


@pytest.mark.slow
def test_the_notebooks_run_in_a_real_kernel(tmp_path):
    """The source notebook passes every public check in a Jupyter kernel; the student notebook
    runs top to bottom and reports each question as not written yet."""
    done, todo = printed_in_kernel(SOURCE, tmp_path), printed_in_kernel(STUDENT, tmp_path)
    assert done.count("✓ ") == 7 + 7 and "✗" not in done  # five checks and the summary
    assert "7 of 7 questions pass" in done
    assert "0 of 7 questions pass" in todo
    for name in (n for n in POINTS if not n.startswith("q_")):
        assert f"… {name} is not written yet" in todo
