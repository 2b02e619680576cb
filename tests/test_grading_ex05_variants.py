"""Exercise 05 (convolution variants): its references against independent oracles; the grader
gives the source notebook full marks and the generated student notebook zero, answers calling
what a question forbids zero, and typical slips partial credit with their own hint."""

import numpy as np
import pytest
import torch
from exercise_grading import (
    assert_partial_credit_only_on,
    checked_cases,
    grade_notebooks,
    printed_in_kernel,
    replace_solutions,
    replace_text,
    source_notebook,
    student_notebook,
    verdicts_of,
)
from torch import nn

from cnnlib.counting import count_parameters
from cnnlib.grading import Checker, load_exercise
from cnnlib.grading.exercises.ex05_variants import EVEN_OVERLAP_OPTIONS
from cnnlib.receptive_field import empirical_receptive_field
from cnnlib.separable import separable_approximation
from cnnlib.transposed import conv_transpose1d

SOURCE, STUDENT = source_notebook("05_variants"), student_notebook("05_variants")
POINTS = {"transposed_conv1d": 3, "transposed_output_length": 1, "output_padding_needed": 1,
          "separable_params": 1, "dilated_receptive_field": 1,
          "q_grouped_params": 1, "q_one_by_one": 1, "transposed_overlaps": 2,
          "q_even_overlap": 1, "grouped_conv2d": 3, "best_separable": 2}
EX = load_exercise("05_variants")


def test_the_exercise_has_its_questions_every_function_from_scratch():
    assert [q.name for q in EX.questions] == list(POINTS)
    assert {q.name: q.points for q in EX.questions} == POINTS and EX.points == 17
    assert all(q.from_scratch is not None for q in EX.questions if q.kind == "function")
    banned = EX.question("transposed_conv1d").from_scratch
    for api in ("torch.nn.functional.conv_transpose1d", "torch.nn.functional.fold",
                "torch.nn.functional.unfold", "torch.nn.ConvTranspose1d", "cnnlib.transposed"):
        assert banned.match(api) == api
    assert EX.question("separable_params").from_scratch.match("cnnlib.separable."
                                                              "DepthwiseSeparableConv2d")
    for name in ("transposed_overlaps", "grouped_conv2d", "best_separable"):
        banned = EX.question(name).from_scratch
        for api in ("torch.nn.functional.conv2d", "torch.nn.functional.conv_transpose1d",
                    "torch.nn.Conv2d", "cnnlib.separable.separable_approximation"):
            assert banned.match(api)
        assert banned.match("torch.linalg.svd") is None  # the SVD is the point of best_separable
    assert EX.question("transposed_overlaps").from_scratch.match("cnnlib.arithmetic")


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
    assert solution.total == solution.possible == 17 and student.total == 0


@pytest.mark.slow
def test_the_notebooks_run_in_a_real_kernel(tmp_path):
    """The source notebook passes every public check in a Jupyter kernel; the student notebook
    runs top to bottom and reports each question as not written yet."""
    done, todo = printed_in_kernel(SOURCE, tmp_path), printed_in_kernel(STUDENT, tmp_path)
    assert done.count("✓ ") == 11 + 11 and "✗" not in done  # each check and the summary
    assert "11 of 11 questions pass" in done
    assert "0 of 11 questions pass" in todo
    for name in (n for n in POINTS if not n.startswith("q_")):
        assert f"… {name} is not written yet" in todo


# --- the overlaps, the grouped convolution and the separable approximation ----------------------

def test_overlap_reference_counts_the_copies_and_is_the_transpose_of_ones():
    for case in checked_cases(EX, "transposed_overlaps", seed=3):
        n, k, s = case.args
        counted = [sum(1 for i in range(n) if i * s <= u < i * s + k)
                   for u in range((n - 1) * s + k)]
        assert case.expected.dtype == torch.long and case.expected.tolist() == counted
        ones = conv_transpose1d(torch.ones(1, 1, n), torch.ones(1, 1, k), stride=s)[0, 0]
        assert torch.equal(ones.long(), case.expected)


def test_q_even_overlap_is_the_options_whose_stride_divides_the_kernel():
    """Away from the ends, output u receives the taps t ≡ u (mod s): the same number for every u
    exactly when s divides k (counted here with a long run of copies, not with the reference)."""
    answer = ""
    for letter, (k, s) in EVEN_OVERLAP_OPTIONS.items():
        n = 40
        counts = np.zeros((n - 1) * s + k, dtype=int)
        for i in range(n):
            counts[i * s:i * s + k] += 1
        inside = counts[k - 1:(n - 1) * s + 1]
        assert (len(set(inside.tolist())) == 1) == (k % s == 0)
        answer += letter if k % s == 0 else ""
    assert answer == "bc" == EX.question("q_even_overlap").reference()


def test_q_even_overlap_typical_wrong_answers_score_zero_with_the_hint():
    check, q = Checker("05_variants"), EX.question("q_even_overlap")
    assert check("q_even_overlap", "bc", quiet=True).status == "ok"
    for wrong in ("bce", "b", "ad"):  # gaps counted as even; one multiple only; odd k
        result = check("q_even_overlap", wrong, quiet=True)
        message = " ".join(result.message.split())
        assert result.status == "fail" and q.hint in message and "expected" not in message


def _grouped_loops(x, w, groups):
    """The formula, in float64 numpy loops: filter o reads input block o // (C_out/groups)."""
    x, w = x.double().numpy(), w.double().numpy()
    c_out, c_group, k, _ = w.shape
    y = np.zeros((c_out, x.shape[1] - k + 1, x.shape[2] - k + 1))
    for o in range(c_out):
        block = x[(o // (c_out // groups)) * c_group:][:c_group]
        for i in range(y.shape[1]):
            for j in range(y.shape[2]):
                y[o, i, j] = (w[o] * block[:, i:i + k, j:j + k]).sum()
    return y


def test_grouped_reference_is_the_formula_and_a_real_grouped_layer():
    groups_seen = set()
    for case in checked_cases(EX, "grouped_conv2d", seed=4):
        x, w, groups = case.args
        groups_seen.add(groups)
        assert case.expected.dtype == torch.float32
        assert np.allclose(case.expected.numpy(), _grouped_loops(x, w, groups), atol=1e-4)
        layer = nn.Conv2d(x.shape[0], w.shape[0], w.shape[-1], groups=groups, bias=False)
        with torch.no_grad():
            layer.weight.copy_(w)
            torch.testing.assert_close(layer(x[None])[0], case.expected)
    assert {1, 2, 3} <= groups_seen


def test_best_separable_reference_is_the_closest_rank_one_matrix():
    """Eckart–Young, checked: rank 1, error √(σ₂² + σ₃² + …), no random rank-1 matrix closer
    to k, and the same matrix as cnnlib's separable_approximation."""
    gen = torch.Generator().manual_seed(0)
    for case in checked_cases(EX, "best_separable", seed=6):
        (k,) = case.args
        best, k64 = case.expected.double(), k.double()
        sigma = torch.linalg.svdvals(k64)
        assert len(sigma) == 1 or sigma[1] <= 0.9 * sigma[0]  # unique: the cases say so
        assert int(torch.linalg.matrix_rank(best, atol=1e-4 * float(sigma[0]))) == 1
        error = float(torch.linalg.norm(k64 - best))
        assert abs(error - float(sigma[1:].square().sum().sqrt())) < 1e-4 * float(sigma[0])
        for _ in range(50):  # random rank-1 matrices, each at its best scale, do no better
            u = torch.randn(k.shape[0], generator=gen, dtype=torch.float64)
            v = torch.randn(k.shape[1], generator=gen, dtype=torch.float64)
            other = (u @ k64 @ v) / (u @ u) / (v @ v) * torch.outer(u, v)
            assert float(torch.linalg.norm(k64 - other)) >= error - 1e-6
        torch.testing.assert_close(case.expected, separable_approximation(k).approximation)


# --- grading variants ---------------------------------------------------------------------------

# Each replaces the body of one from-scratch solution with a call to what the question forbids.
CHEATS = {
    "transposed_overlaps": (
        "    ones = torch.ones(1, 1, n)\n"
        "    out = torch.nn.functional.conv_transpose1d(ones, torch.ones(1, 1, k), stride=s)\n"
        "    return out[0, 0].round().long()"),
    "grouped_conv2d": "    return torch.nn.functional.conv2d(x[None], w, groups=groups)[0]",
    "best_separable": ("    import cnnlib\n"
                       "    return cnnlib.separable_approximation(k).approximation"),
}
# One slip in each new function: copies written (= 1) instead of counted, the group index of
# filter o taken as o % groups, the column and row of the outer product swapped.
SLIPS = {
    "transposed_overlaps": ("counts[i * s : i * s + k] += 1", "counts[i * s : i * s + k] = 1"),
    "grouped_conv2d": ("first = (o // per_group) * c_group", "first = (o % groups) * c_group"),
    "best_separable": ("torch.outer(u[:, 0], vt[0])", "torch.outer(vt[0], u[:, 0])"),
}
SLIP_LABELS = {"transposed_overlaps": "copies written instead of counted",
               "grouped_conv2d": "group index o % groups",
               "best_separable": "column and row swapped"}


def _slips(nb):
    for name, (old, new) in SLIPS.items():
        replace_text(nb, old, new, function=name)


VARIANTS = {"cheat": lambda nb: replace_solutions(nb, CHEATS), "slip": _slips}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_notebooks("05_variants", tmp_path_factory.mktemp("ex05"), VARIANTS)


def test_calling_what_a_question_forbids_scores_zero(graded):
    assert verdicts_of(graded["cheat"]) == {q: ("forbidden", 0.0) if q in CHEATS else ("ok", p)
                                            for q, p in POINTS.items()}


def test_a_slip_in_each_new_function_earns_partial_credit_and_its_hint(graded):
    result = graded["slip"]
    assert_partial_credit_only_on(result, POINTS, VARIANTS["slip"], *SLIPS)
    for name, label in SLIP_LABELS.items():
        (mistake,) = [m for m in EX.question(name).mistakes if m.label == label]
        assert mistake.hint in " ".join(result.questions[name].feedback.split())
