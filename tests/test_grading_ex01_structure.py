"""Exercise 01 (structure, invariance and equivariance): its references against independent
oracles; the grader gives the source notebook full marks, the student notebook zero, answers
that call what a question forbids 0, and a translation without the modulo partial credit."""

import pytest
import torch
from exercise_grading import (
    assert_partial_credit_only_on,
    checked_cases,
    grade_notebooks,
    replace_solutions,
    replace_text,
    verdicts_of,
)
from torch import nn

from cnnlib.grading import load_exercise
from cnnlib.matrices import circulant_matrix

POINTS = {"translate": 2.0, "translate_image": 2.0, "dense_params": 1.0,
          "dense_as_conv_params": 1.0, "scramble_weights": 1.0, "equivariance_error": 2.0,
          "q_invariant": 1.0, "q_equivariant_dof": 1.0}
EX = load_exercise("01_structure")

# Each replaces the body of one from-scratch solution with a call to what the question forbids.
CHEATS = {
    # reached through the dispatcher, where only the runtime guard can see it
    "translate": "    return torch.ops.aten.roll(x, [k], [0])",
    "translate_image": (
        "    from cnnlib.equivariance import translate as shift\n"
        "    return shift(img, (dy, dx), mode='zeros')"),
    "dense_params": ("    return sum(p.numel() for p in torch.nn.Linear(c * h * w, units, "
                     "device='meta').parameters())"),
    "scramble_weights": (
        "    import cnnlib.equivariance as eq\n"
        "    layer = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=False)\n"
        "    layer.weight.data = weight\n"
        "    return eq.permute_input_weights(layer, perm, (1, 1, weight.shape[1])).weight.data"),
    "equivariance_error": (
        "    from cnnlib.equivariance import equivariance_gap\n"
        "    gap = equivariance_gap(lambda v: A @ v, x, lambda v: translate(v, k))\n"
        "    return float(gap.norm() / (A @ x).norm())"),
}
# Forgetting to reduce k modulo n: right for 0 ≤ k ≤ n, wrong for negative or larger shifts.
SLIP = ("    k = k % n\n", "")


# --- the declarations and the references ------------------------------------------------------

def test_the_exercise_has_six_questions_worth_nine_points():
    assert {q.name: q.points for q in EX.questions} == POINTS and EX.points == 11
    assert all(q.from_scratch is not None for q in EX.questions if q.kind == "function")
    shifting = EX.question("translate").from_scratch
    for api in ("torch.roll", "torch.Tensor.roll", "numpy.roll", "cnnlib.equivariance.translate",
                "cnnlib.matrices.shift_matrix"):
        assert shifting.match(api) is not None, api
    assert shifting.aten_match("aten::roll")
    assert EX.question("dense_params").from_scratch.match("torch.nn.Linear")
    assert EX.question("equivariance_error").from_scratch.match(
        "cnnlib.equivariance.equivariance_gap")
    assert EX.question("equivariance_error").from_scratch.match("torch.roll") is None


def test_translate_reference_is_the_definition_and_torch_roll():
    for case in checked_cases(EX, "translate"):
        x, k = case.args
        n = len(x)
        by_definition = torch.stack([x[(i - k) % n] for i in range(n)])
        assert torch.equal(case.expected, by_definition)
        assert torch.equal(case.expected, torch.roll(x, k))
    assert any(abs(c.args[1]) > len(c.args[0]) for c in checked_cases(EX, "translate"))


def test_translate_image_reference_is_the_definition():
    for case in checked_cases(EX, "translate_image"):
        img, dy, dx = case.args
        h, w = img.shape
        by_definition = torch.zeros_like(img)
        for a in range(h):
            for b in range(w):
                if 0 <= a - dy < h and 0 <= b - dx < w:
                    by_definition[a, b] = img[a - dy, b - dx]
        assert torch.equal(case.expected, by_definition)


def test_dense_params_reference_counts_a_real_layer():
    for case in checked_cases(EX, "dense_params"):
        c, h, w, units = case.args
        assert case.expected == c * h * w * units + units
    for c, h, w, units in [(1, 5, 5, 3), (3, 4, 2, 7)]:
        layer = nn.Linear(c * h * w, units)   # a real one, on the CPU
        assert EX.question("dense_params").reference(c, h, w, units) == \
            sum(p.numel() for p in layer.parameters())


def test_dense_as_conv_params_is_a_dense_layer_with_the_convs_input_and_output():
    conv = nn.Conv2d(3, 16, kernel_size=3, padding=1)
    assert conv(torch.zeros(1, 3, 32, 32)).shape == (1, 16, 32, 32)
    n_in, n_out = 3 * 32 * 32, 16 * 32 * 32
    assert EX.question("dense_as_conv_params").reference() == n_in * n_out + n_out


def test_scrambled_weights_see_scrambled_inputs_as_the_originals():
    gen = torch.Generator().manual_seed(0)
    for case in checked_cases(EX, "scramble_weights"):
        weight, perm = case.args
        assert perm.dtype == torch.int64 and torch.equal(perm.sort().values,
                                                         torch.arange(len(perm)))
        x = torch.randn(weight.shape[1], generator=gen)
        torch.testing.assert_close(case.expected @ x[perm], weight @ x)


def test_equivariance_error_reference_is_the_formula_and_zero_for_convolutions():
    kinds = set()
    for case in checked_cases(EX, "equivariance_error"):
        a, x, k = (v.double() if isinstance(v, torch.Tensor) else v for v in case.args)
        gap = a @ torch.roll(x, k) - torch.roll(a @ x, k)
        relative = float(gap.norm() / (a @ x).norm())
        assert isinstance(case.expected, float)
        assert abs(case.expected - relative) <= 1e-5 + 1e-4 * relative
        is_circulant = torch.equal(case.args[0], circulant_matrix(case.args[0][0], len(x)))
        kinds.add(is_circulant)
        if is_circulant:
            assert case.expected < 1e-5
    assert kinds == {True, False}   # both kinds of matrix are drawn


# --- grading the notebooks --------------------------------------------------------------------

VARIANTS = {"cheat": lambda nb: replace_solutions(nb, CHEATS),
            "slip": lambda nb: replace_text(nb, *SLIP, function="translate")}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_notebooks("01_structure", tmp_path_factory.mktemp("ex01"), VARIANTS)


def test_calling_what_a_question_forbids_scores_zero(graded):
    verdicts = verdicts_of(graded["cheat"])
    assert verdicts == {q: ("forbidden", 0.0) if q in CHEATS else ("ok", p)
                        for q, p in POINTS.items()}


def test_a_translation_without_the_modulo_loses_points(graded):
    # equivariance_error calls that translate: its negative shifts now fail too
    assert_partial_credit_only_on(graded["slip"], POINTS, VARIANTS["slip"], "translate",
                                  "equivariance_error")


def test_equivariance_cases_terminate_for_every_seed():
    """A one-tap kernel that rounds to 0.00 made ‖f(x)‖ = 0 for every x: drawing x again
    looped forever. Every seed must now give a case with ‖f(x)‖ ≥ 0.1."""
    import threading

    import numpy as np

    from cnnlib.grading.exercises.ex01_structure import rand_equivariance

    norms = []

    def draw():  # in a thread, so that a generator that loops fails the test, not hangs it
        for seed in range(3000):
            a, x, _ = rand_equivariance(np.random.default_rng(seed))
            norms.append(float((a @ x).norm()))

    worker = threading.Thread(target=draw, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), f"the case generator loops forever at seed {len(norms)}"
    assert len(norms) == 3000 and min(norms) >= 0.1
