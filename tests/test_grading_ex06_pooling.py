"""Exercise 06 (pooling): the reference solution scores full marks, the student notebook zero,
answers that call a pooling function score 0 as forbidden, and a classic slip loses points;
the anti-aliased downsampler is judged on its properties (shape, constants, equivariance)."""

import math

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

import cnnlib.invariance_measures as inv
from cnnlib.equivariance import translate
from cnnlib.grading import load_exercise
from cnnlib.grading.exercises import ex06_pooling as ex06

POINTS = {"max_pool": 3.0, "pool_output_shape": 1.0, "receptive_field_size": 2.0,
          "lp_pool": 2.0,
          "q_shift_equivariant": 1.0, "q_maxpool_gradients": 1.0,
          "strided_equivariance_error": 2.0, "blur_downsample": 3.0}

# Each replaces the body of one solution with a call to what the question forbids.
CHEATS = {
    "max_pool": ("    return torch.nn.functional.max_pool2d(x[None, None], k, stride, "
                 "padding)[0, 0]"),
    "pool_output_shape": (
        "    import torch.nn.functional as F\n"
        "    return tuple(F.avg_pool2d(torch.zeros(1, 1, h, w), k, stride, padding).shape[-2:])"),
    "receptive_field_size": (
        "    from cnnlib.receptive_field import Layer, receptive_field\n"
        "    return receptive_field([Layer(k, s) for k, s in layers]).final.size"),
    "lp_pool": "    return torch.nn.LPPool1d(p, k)(x[None, None])[0, 0]",
    "strided_equivariance_error": (
        "    import cnnlib.invariance_measures as inv\n"
        "    return inv.shift_sensitivity(lambda z: inv.subsample2d(z, stride), x[None, None],\n"
        "                                 [(0, shift)], out_shifts=[(0, shift / stride)],\n"
        "                                 mode='circular')[0]"),
    "blur_downsample": (
        "    from cnnlib.invariance_measures import blur_pool2d\n"
        "    return blur_pool2d(x, stride)"),
}
# Zero padding instead of −∞: right on non-negative maps, wrong where every value is negative.
SLIP = ('torch.full((h + 2 * padding, w + 2 * padding), float("-inf"), dtype=x.dtype)',
        "torch.zeros((h + 2 * padding, w + 2 * padding), dtype=x.dtype)")


# The output moved by t samples instead of t/s: right when the shift is 0, wrong otherwise.
SLIP_SHIFT = ("freq * shift / stride)", "freq * shift)")


VARIANTS = {"cheat": lambda nb: replace_solutions(nb, CHEATS),
            "slip": lambda nb: replace_text(nb, *SLIP),
            "slip_shift": lambda nb: replace_text(nb, *SLIP_SHIFT)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_notebooks("06_pooling", tmp_path_factory.mktemp("ex06"), VARIANTS)


def test_the_exercise_has_eight_questions_worth_fifteen_points():
    ex = load_exercise("06_pooling")
    assert {q.name: q.points for q in ex.questions} == POINTS and ex.points == 15
    assert all(q.from_scratch is not None for q in ex.questions if q.kind == "function")


def test_calling_what_a_question_forbids_scores_zero(graded):
    assert verdicts_of(graded["cheat"]) == {q: ("ok", p) if q.startswith("q_") else
                                            ("forbidden", 0.0) for q, p in POINTS.items()}


def test_zero_padding_instead_of_minus_infinity_loses_points(graded):
    assert_partial_credit_only_on(graded["slip"], POINTS, VARIANTS["slip"], "max_pool")


def test_the_output_shifted_by_t_instead_of_t_over_s_loses_points(graded):
    assert_partial_credit_only_on(graded["slip_shift"], POINTS, VARIANTS["slip_shift"],
                                  "strided_equivariance_error")


def test_the_hints_formulas_are_the_references():
    ex = load_exercise("06_pooling")
    for case in checked_cases(ex, "receptive_field_size", seed=3):
        r, jump = 1, 1
        for k, s in case.args[0]:
            r, jump = r + (k - 1) * jump, jump * s
        assert r == case.expected
    for case in checked_cases(ex, "pool_output_shape", seed=3):
        h, w, k, s, p = case.args
        s = k if s is None else s
        assert case.expected == ((h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
    for case in checked_cases(ex, "lp_pool", seed=3):
        x, p, k = case.args
        windows = x[: len(x) // k * k].view(-1, k).double()
        by_hand = windows.amax(1) if p == math.inf else windows.pow(p).sum(1).pow(1 / p)
        torch.testing.assert_close(case.expected.double(), by_hand, rtol=1e-5, atol=1e-6)


def test_the_equivariance_error_is_the_chapters_measure():
    """The reference against the chapter's formula computed with cnnlib (translate,
    subsample2d, fractional_shift), on the exercise's checks."""
    ex = load_exercise("06_pooling")
    for case in checked_cases(ex, "strided_equivariance_error", seed=3):
        x, s, shift = case.args
        d = inv.subsample2d(x.double(), s)
        moved = inv.subsample2d(translate(x.double()[None], (0, shift), mode="circular")[0], s)
        oracle = (moved - inv.fractional_shift(d, shift / s)).norm() / d.norm()
        torch.testing.assert_close(case.expected.double(), oracle, rtol=1e-4, atol=1e-5)
        assert case.expected.dtype == x.dtype and case.expected.dim() == 0


def _probes(n: int = 40) -> list[tuple]:
    return [ex06.rand_blur_downsample(np.random.default_rng(seed)) for seed in range(n)]


def _judged(answer, probes):
    q = load_exercise("06_pooling").question("blur_downsample")
    return [q.assess(args, None, answer(*args), reveal=False) for args in probes]


def test_the_chapters_blur_passes_with_margin_and_average_pooling_fails():
    """F = 2.2: the binomial 3×3 blur lowers the error at least 1.05·F times on every drawn
    probe, a 2×2 box (average pooling) at most F/1.1 times."""
    for args in _probes():
        x, s = args
        plain = ex06._mean_equivariance_error(x[..., ::s, ::s], s)
        binomial = ex06._mean_equivariance_error(inv.blur_pool2d(x, s), s)
        box = ex06._mean_equivariance_error(F.avg_pool2d(F.pad(x, (0, 1, 0, 1),
                                                               mode="circular"), 2, 1)
                                            [..., ::s, ::s], s)
        assert plain / binomial >= 1.05 * ex06.BLUR_FACTOR
        assert plain / box <= ex06.BLUR_FACTOR / 1.1


def test_blurs_that_do_the_job_pass():
    probes = _probes()
    for answer in (inv.blur_pool2d, lambda x, s: inv.blur_pool2d(x, s, filter_size=5),
                   lambda x, s: inv.max_blur_pool2d(x, 1, s)):
        assert all(o.passed for o in _judged(answer, probes))


@pytest.mark.parametrize(("answer", "failed"), [
    (lambda x, s: x[..., ::s, ::s], "(c) equivariance"),
    (lambda x, s: inv.blur_pool2d(x, s, filter_size=1), "(c) equivariance"),  # box of width 1
    (lambda x, s: inv.blur_pool2d(x[..., ::s, ::s], 1), "(c) equivariance"),  # blur after
    (lambda x, s: F.avg_pool2d(x, s), "(c) equivariance"),
    (lambda x, s: torch.zeros_like(x[..., ::s, ::s]), "(b) constants"),
    (lambda x, s: inv.blur_pool2d(x, s, padding_mode="zeros"), "(b) constants"),
    (lambda x, s: 2 * inv.blur_pool2d(x, s), "(b) constants"),
    (lambda x, s: inv.blur_pool2d(x, s)[..., :-1], "(a) shape"),
    (lambda x, s: inv.blur_pool2d(x, s).double().numpy(), "float torch.Tensor"),
])
def test_downsamplers_that_miss_a_property_fail_and_say_which(answer, failed):
    outcomes = _judged(answer, _probes(8))
    assert not any(o.passed for o in outcomes)
    for o in outcomes:
        assert failed in o.message
        assert not any(c.isdigit() for c in o.message.replace(f"1/{ex06.BLUR_FACTOR}", "")
                       .replace("(a)", "").replace("(b)", "").replace("(c)", ""))


def test_the_judge_shows_numbers_on_public_checks_only():
    q = load_exercise("06_pooling").question("blur_downsample")
    x, s = _probes(1)[0]
    shown = q.assess((x, s), None, x[..., ::s, ::s], reveal=True).message
    assert "(yours " in shown and "plain subsampling " in shown
    hidden = q.assess((x, s), None, x[..., ::s, ::s], reveal=False).message
    assert "yours" not in hidden


def test_the_probe_holds_the_shifts_and_a_constant():
    x, s = _probes(1)[0]
    assert x.shape[0] == 2 * s and s == 2 and x.dtype == torch.float32
    torch.testing.assert_close(x[1], torch.roll(x[0], 1, dims=-1), rtol=0, atol=0)
    torch.testing.assert_close(x[2], torch.roll(x[0], 1, dims=-2), rtol=0, atol=0)
    assert (x[-1] == x[-1, :, :1, :1]).all()
