"""Exercise 01 (structure, invariance and equivariance): its references against independent
oracles; the grader gives the source notebook full marks, the student notebook zero, answers
that call what a question forbids 0, and a translation without the modulo partial credit."""

import json
import shutil
from pathlib import Path

import pytest
import torch
from torch import nn

from cnnlib.grading import load_exercise
from cnnlib.grading.cli import grade_folder
from cnnlib.grading.sandbox import Limits
from cnnlib.matrices import circulant_matrix

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "exercises" / "sources" / "01_structure.ipynb"
STUDENT = ROOT / "exercises" / "01_structure.ipynb"
POINTS = {"translate": 2.0, "translate_image": 2.0, "dense_params": 1.0,
          "dense_as_conv_params": 1.0, "scramble_weights": 1.0, "equivariance_error": 2.0}
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


def _replace_solution(nb: dict, name: str, body: str) -> None:
    """Swap the solution block of function ``name`` for ``body``."""
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "code" and text.startswith(f"def {name}("):
            head, rest = text.split("    ### BEGIN SOLUTION\n")
            _, tail = rest.split("    ### END SOLUTION")
            cell["source"] = head + body + "\n" + tail
            return
    raise AssertionError(f"no cell defines {name}")


def _variant(edit) -> str:
    nb = json.loads(SOURCE.read_text(encoding="utf-8"))
    edit(nb)
    return json.dumps(nb)


def _cheat(nb):
    for name, body in CHEATS.items():
        _replace_solution(nb, name, body)


def _slip(nb):
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if text.startswith("def translate(") and SLIP[0] in text:
            cell["source"] = text.replace(SLIP[0], SLIP[1])
            return
    raise AssertionError("the solution's modulo line is gone")


def _cases(name: str, seed: int = 7):
    q = EX.question(name)
    return EX.public_cases(q) + EX.hidden_cases(q, seed)


# --- the declarations and the references ------------------------------------------------------

def test_the_exercise_has_six_questions_worth_nine_points():
    assert {q.name: q.points for q in EX.questions} == POINTS and EX.points == 9
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
    for case in _cases("translate"):
        x, k = case.args
        n = len(x)
        by_definition = torch.stack([x[(i - k) % n] for i in range(n)])
        assert torch.equal(case.expected, by_definition)
        assert torch.equal(case.expected, torch.roll(x, k))
    assert any(abs(c.args[1]) > len(c.args[0]) for c in _cases("translate"))


def test_translate_image_reference_is_the_definition():
    for case in _cases("translate_image"):
        img, dy, dx = case.args
        h, w = img.shape
        by_definition = torch.zeros_like(img)
        for a in range(h):
            for b in range(w):
                if 0 <= a - dy < h and 0 <= b - dx < w:
                    by_definition[a, b] = img[a - dy, b - dx]
        assert torch.equal(case.expected, by_definition)


def test_dense_params_reference_counts_a_real_layer():
    for case in _cases("dense_params"):
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
    for case in _cases("scramble_weights"):
        weight, perm = case.args
        assert perm.dtype == torch.int64 and torch.equal(perm.sort().values,
                                                         torch.arange(len(perm)))
        x = torch.randn(weight.shape[1], generator=gen)
        torch.testing.assert_close(case.expected @ x[perm], weight @ x)


def test_equivariance_error_reference_is_the_formula_and_zero_for_convolutions():
    kinds = set()
    for case in _cases("equivariance_error"):
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

@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ex01")
    subs = tmp / "submissions"
    subs.mkdir()
    shutil.copy(SOURCE, subs / "solution.ipynb")
    shutil.copy(STUDENT, subs / "student.ipynb")
    (subs / "cheat.ipynb").write_text(_variant(_cheat), encoding="utf-8")
    (subs / "slip.ipynb").write_text(_variant(_slip), encoding="utf-8")
    results = grade_folder("01_structure", subs, tmp / "out", jobs=2,
                           limits=Limits(timeout=20, memory_mb=1024), seed=2024, progress=False)
    return {r.student: r for r in results}


def _verdicts(result):
    return {q: (r.status, r.score) for q, r in result.questions.items()}


def test_the_reference_solution_scores_full_marks(graded):
    assert _verdicts(graded["solution"]) == {q: ("ok", p) for q, p in POINTS.items()}


def test_the_student_notebook_scores_zero(graded):
    assert _verdicts(graded["student"]) == {q: ("missing", 0.0) for q in POINTS}


def test_calling_what_a_question_forbids_scores_zero(graded):
    verdicts = _verdicts(graded["cheat"])
    assert verdicts == {q: ("forbidden", 0.0) if q in CHEATS else ("ok", p)
                        for q, p in POINTS.items()}


def test_a_translation_without_the_modulo_loses_points(graded):
    verdicts = _verdicts(graded["slip"])
    status, score = verdicts.pop("translate")
    assert status == "fail" and 0 < score < POINTS["translate"]
    # equivariance_error calls that translate: its negative shifts now fail too
    status, score = verdicts.pop("equivariance_error")
    assert status == "fail" and 0 < score < POINTS["equivariance_error"]
    assert verdicts == {q: ("ok", p) for q, p in POINTS.items()
                        if q not in ("translate", "equivariance_error")}
