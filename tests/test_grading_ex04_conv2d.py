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
from cnnlib.grading.exercises.ex04_conv2d import (
    EDGE_RULES,
    EXAMPLE_IMAGE,
    EXAMPLE_KERNEL,
    edge_test_images,
    judge_edge_kernel,
)

POINTS = {"conv2d_single": 3.0, "conv2d_layer": 3.0, "conv_output_shape": 1.0,
          "example_same": 1.0, "combine_kernels": 2.0, "shift_right_kernel": 1.0,
          "q_params_growth": 1.0, "q_vertical_edge": 1.0, "edge_kernel": 2.0, "ncc_map": 3.0,
          "find_template": 2.0}
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
    "ncc_map": ("    from cnnlib.template_matching import normalized_cross_correlation\n"
                "    return normalized_cross_correlation(image, template)"),
    "find_template": ("    import cnnlib.template_matching as tm\n"
                      "    return tm.best_match(tm.normalized_cross_correlation(image, "
                      "template))"),
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

def test_the_exercise_has_eleven_questions_worth_twenty_points():
    assert {q.name: q.points for q in EX.questions} == POINTS and EX.points == 20
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


# --- the edge detector: many right kernels, each wrong one told what it breaks ----------------

SOBEL = torch.tensor([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])
RIGHT_KERNELS = {
    "Sobel": SOBEL,
    "Prewitt": torch.tensor([[1.0, 0, -1]] * 3),
    "Sobel × 3": 3 * SOBEL,
    "Sobel / 1000": SOBEL / 1000,
    "two-column difference": torch.tensor([[0.0, 0, 0], [1, -1, 0], [0, 0, 0]]),
    "Sobel in float64": SOBEL.double(),
}
WRONG_KERNELS = {  # the kernel, then words the message must hold
    "polarity flipped": (-SOBEL, ["does not respond strongly", "opposite edge"]),
    "horizontal edges": (SOBEL.T.contiguous(), ["does not respond strongly",
                                                "horizontal edges"]),
    "a blur": (torch.ones(3, 3) / 9, ["not silent on flat regions"]),
    "weights not summing to 0": (SOBEL + 0.1, ["not silent on flat regions"]),
    "second difference": (torch.tensor([[1.0, -2, 1]] * 3), ["opposite edge"]),
    "a diagonal detector": (torch.tensor([[0.0, -1, -2], [1, 0, -1], [2, 1, 0]]),
                            ["horizontal edges"]),
    "5 × 5": (torch.zeros(5, 5), ["3 × 3"]),
    "ints": (SOBEL.long(), ["3 × 3 tensor of floats"]),
    "all zero": (torch.zeros(3, 3), ["not all zero"]),
}


def _brute_response(w: np.ndarray, img: np.ndarray) -> np.ndarray:
    return _correlate(img, w)


def test_the_judges_images_are_the_steps_it_announces():
    images = edge_test_images()
    n = EDGE_RULES["size"]
    assert [len(images[k]) for k in ("flat", "target", "opposite", "horizontal")] == [3, 4, 4, 4]
    for img, b, _ in images["flat"]:
        assert img.shape == (n, n) and torch.all(img == b)
    for kind, axis in (("target", 1), ("opposite", 1), ("horizontal", 0)):
        for img, b, c in images[kind]:
            profile = img[0] if axis == 1 else img[:, 0]  # constant along the edge
            assert torch.equal(img, profile.unsqueeze(1 - axis).expand(n, n))
            assert set(profile.tolist()) == {b, b + c} and 0.2 <= c <= 1
            steps = profile.diff()
            if kind == "target":
                assert (steps <= 0).all()  # bright on the left, dark on the right
            if kind == "opposite":
                assert (steps >= 0).all()
    assert edge_test_images()["target"][0][0].equal(images["target"][0][0])  # deterministic


@pytest.mark.parametrize("name", RIGHT_KERNELS)
def test_every_right_edge_kernel_passes(name):
    kernel = RIGHT_KERNELS[name]
    assert judge_edge_kernel((), None, kernel, reveal=True).passed
    assert EX.question("edge_kernel").assess((), None, kernel, reveal=False).passed


@pytest.mark.parametrize("name", WRONG_KERNELS)
def test_every_wrong_edge_kernel_fails_naming_what_it_breaks(name):
    kernel, words = WRONG_KERNELS[name]
    shown = judge_edge_kernel((), None, kernel, reveal=True)
    hidden = judge_edge_kernel((), None, kernel, reveal=False)
    assert not shown.passed and not hidden.passed
    for word in words:
        assert word in shown.message and word in hidden.message, (word, hidden.message)
    assert not any(ch.isdigit() for ch in hidden.message.replace("3 × 3", ""))


def test_the_judges_properties_match_a_brute_force_measurement():
    """The judge's verdicts on the rules, recomputed with the loop formula of question 1."""
    images = edge_test_images()
    for kernel in [*RIGHT_KERNELS.values(), *(k for k, _ in WRONG_KERNELS.values()
                                               if k.shape == (3, 3) and k.is_floating_point()
                                               and k.any())]:
        w = kernel.double().numpy()
        s = np.abs(w).sum()
        flat = max(np.abs(_brute_response(w, i.numpy())).max() / (b * s)
                   for i, b, _ in images["flat"])
        target = min(_brute_response(w, i.numpy()).max() / (c * s)
                     for i, _, c in images["target"])
        opposite = max(_brute_response(w, i.numpy()).max() / (c * s)
                       for i, _, c in images["opposite"])
        across = max(np.abs(_brute_response(w, i.numpy())).max() / (c * s)
                     for i, _, c in images["horizontal"])
        ok = (flat <= EDGE_RULES["flat"] and target >= EDGE_RULES["strength"]
              and opposite <= EDGE_RULES["flat"]
              and across <= EDGE_RULES["across"] * target)
        assert judge_edge_kernel((), None, kernel, True).passed == ok


def test_the_reference_edge_kernel_is_sobel_and_passes_its_judge():
    reference = EX.question("edge_kernel").reference()
    assert torch.equal(reference, SOBEL)
    assert EX.question("edge_kernel").assess((), reference, reference, reveal=False).passed


# --- normalised cross-correlation and the best match ------------------------------------------

def _ncc_by_definition(image: np.ndarray, template: np.ndarray) -> np.ndarray:
    h, w = template.shape
    t = template - template.mean()
    out = np.zeros((image.shape[0] - h + 1, image.shape[1] - w + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            x = image[i:i + h, j:j + w] - image[i:i + h, j:j + w].mean()
            norm = np.linalg.norm(x) * np.linalg.norm(t)
            out[i, j] = 0.0 if np.linalg.norm(x) == 0 else (x * t).sum() / norm
    return out


def test_ncc_reference_is_the_definition_with_flat_windows_at_zero():
    flat_seen = 0
    for case in checked_cases(EX, "ncc_map"):
        image, template = (a.double().numpy() for a in case.args)
        expected = _ncc_by_definition(image, template)
        np.testing.assert_allclose(case.expected.numpy(), expected, atol=1e-6)
        assert case.expected.dtype == torch.float32
        assert template.std() > 0
        flat_seen += int((expected == 0).sum())
    assert flat_seen > 0


def test_each_random_ncc_case_holds_its_template_with_score_one():
    for case in checked_cases(EX, "ncc_map")[len(EX.question("ncc_map").fixed):]:
        assert float(case.expected.max()) == pytest.approx(1.0, abs=1e-6)


def test_find_template_reference_is_the_unique_best_ncc_window():
    beaten = 0
    for case in checked_cases(EX, "find_template"):
        image, template = (a.double().numpy() for a in case.args)
        ncc = _ncc_by_definition(image, template)
        row, col = case.expected
        assert isinstance(row, int) and isinstance(col, int)
        assert ncc[row, col] == pytest.approx(ncc.max())
        assert (ncc >= ncc.max() - 1e-6).sum() == 1
        plain = _correlate(image, template)
        beaten += np.unravel_index(plain.argmax(), plain.shape) != (row, col)
    assert beaten >= 3  # plain correlation picks the wrong window on several cases


# --- grading the notebooks --------------------------------------------------------------------

# NCC divided by the window's norm only: every score scaled by one number, so the best
# match (question 11) does not move.
NCC_SLIP = ("t_norm = torch.sqrt((t * t).sum())", "t_norm = 1.0")
# (col, row) returned: right only where the two agree.
FIND_SLIP = ("return best // scores.shape[1], best % scores.shape[1]",
             "return best % scores.shape[1], best // scores.shape[1]")
VARIANTS = {"cheat": lambda nb: replace_solutions(nb, CHEATS),
            "slip": lambda nb: replace_text(nb, *SLIP),
            "ncc_slip": lambda nb: replace_text(nb, *NCC_SLIP),
            "find_slip": lambda nb: replace_text(nb, *FIND_SLIP),
            "flipped_edge": lambda nb: replace_text(nb, "[1.0, 0.0, -1.0]", "[-1.0, 0.0, 1.0]")}


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


def test_an_ncc_without_the_template_norm_loses_points_with_its_hint(graded):
    assert_partial_credit_only_on(graded["ncc_slip"], POINTS, VARIANTS["ncc_slip"], "ncc_map")
    assert "template not normalised" in graded["ncc_slip"].questions["ncc_map"].feedback


def test_a_match_returned_as_col_row_loses_points_with_its_hint(graded):
    assert_partial_credit_only_on(graded["find_slip"], POINTS, VARIANTS["find_slip"],
                                  "find_template")
    assert "(col, row)" in graded["find_slip"].questions["find_template"].feedback


def test_an_edge_kernel_of_the_wrong_polarity_scores_zero_and_is_told_why(graded):
    verdicts = verdicts_of(graded["flipped_edge"])
    assert verdicts.pop("edge_kernel") == ("fail", 0.0)
    assert verdicts == {q: ("ok", p) for q, p in POINTS.items() if q != "edge_kernel"}
    feedback = graded["flipped_edge"].questions["edge_kernel"].checks[0].message
    assert "opposite edge" in feedback and "does not respond strongly" in feedback
