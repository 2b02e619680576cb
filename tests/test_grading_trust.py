"""The trust boundary of from-scratch answers: code in a notebook cannot reach what a verdict
depends on, and honest answers written in unusual ways still get full marks.

Every submission here is graded for real, in one batch per exercise, and gets its exact verdict.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from cnnlib.grading import load_exercise
from cnnlib.grading.cli import grade_folder
from cnnlib.grading.sandbox import Limits

ROOT = Path(__file__).resolve().parents[1]
SEED = 31_337
# Each exercise's question list is pinned in its own test (test_grading_exNN_*.py); here the
# verdicts follow from each question's kind: from scratch, or answered by the notebook's run.
EX04 = load_exercise("04_conv2d")
SCRATCH_04 = tuple(q.name for q in EX04.questions if q.from_scratch is not None)
IN_NOTEBOOK_04 = tuple(q.name for q in EX04.questions if q.from_scratch is None)
POINTS_04 = {q.name: q.points for q in EX04.questions}
POINTS_02 = {q.name: q.points for q in load_exercise("02_conv1d").questions}


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _code(source: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": textwrap.dedent(source).strip("\n")}


def _notebook(cells: list[dict]) -> str:
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _with_answer(base: list[dict], name: str, source: str) -> list[dict]:
    """``base`` with the cell that defines ``name`` replaced by ``source``."""
    out = []
    for cell in base:
        text = "".join(cell["source"])
        out.append(_code(source) if cell["cell_type"] == "code" and
                   text.startswith(f"def {name}(") else cell)
    return out


# --- exercise 04: stubs plus one cell that tries to get around the rules -------------------------

STUDENT_04 = _cells(ROOT / "exercises" / "04_conv2d.ipynb")
SOURCE_04 = _cells(ROOT / "exercises" / "sources" / "04_conv2d.ipynb")

ATTACKS_04 = {
    # 1. switch the guard off through a tripwire's closure, then answer with F.conv2d
    "closure": """
        import torch.nn.functional as F
        cell = getattr(F.conv2d, "__clo" + "sure__")
        for c in cell or ():
            g = c.cell_contents
            if hasattr(g, "mode"):
                g.mode = "allow"

        def conv2d_single(x, w):
            return F.conv2d(x[None, None], w[None, None])[0, 0]
    """,
    # 1. replace the sandbox's own functions through sys.modules (names built at run time)
    "replace_child": """
        import sys
        import torch.nn.functional as F
        child = vars(sys)["mod" + "ules"]["cnnlib.grading._child"]
        def fake(request, namespace, *args):
            pass
        child.evaluate = fake
        child._evaluate_cases = fake
        child._describe = lambda namespace, name: {"defined": True, "callable": True}
    """,
    # 2. a helper thread calls torch._VF, out of the operator watch's sight
    "thread_vf": """
        from concurrent.futures import ThreadPoolExecutor
        import torch

        def conv2d_single(x, w):
            with ThreadPoolExecutor(1) as pool:
                return pool.submit(torch._VF.conv2d, x[None, None], w[None, None]).result()[0, 0]
    """,
    # 3. cnnlib's private loop convolution
    "private_cnnlib": """
        import cnnlib.loop_conv as lc

        def conv2d_single(x, w):
            return lc._conv2d_loop(x[None, None], w[None, None], None, (1, 1), (0, 0), (1, 1),
                                   1)[0, 0]
    """,
    # 1. the stack: find the guard in a frame and switch it off, from the answer itself
    "frames_in_answer": """
        import torch
        import torch.nn.functional as F

        def conv2d_single(x, w):
            frame = (lambda: 0).__code__
            return F.conv2d(x[None, None], w[None, None])[0, 0]
    """,
    # code built at run time inside the answer
    "eval_in_answer": """
        import torch.nn.functional as F

        def conv2d_single(x, w):
            f = eval("F.con" + "v2d")
            return f(x[None, None], w[None, None])[0, 0]
    """,
    # getattr passed around as a value, with a name built at run time
    "getattr_value": """
        import torch

        def conv2d_single(x, w):
            get = getattr
            f = get(get(torch, "_" + "VF"), "conv2d")
            return f(x[None, None], w[None, None])[0, 0]
    """,
    # the answer saves the operator under an innocent name in another cell
    "saved_operator": """
        import torch
        ops = torch.ops
        convolution = ops.aten.convolution

        def conv2d_single(x, w):
            return convolution(x[None, None], w[None, None], None, [1, 1], [0, 0], [1, 1],
                               False, [0, 0], 1)[0, 0]
    """,
    # a module kept in an attribute: no static scan can follow it; the runtime locks refuse
    "module_in_attribute": """
        import torch.nn.functional as F

        class Conv:
            def __init__(self):
                self.lib = F

            def __call__(self, x, w):
                return self.lib.conv2d(x[None, None], w[None, None])[0, 0]

        conv2d_single = Conv()
    """,
    # 9. a question that is not from scratch answered by the grader's own reference
    "reference_import": """
        import importlib
        name = "cnnlib.grading.exer" + "cises.ex04_conv2d"
        module = importlib.import_module(name)
        example_same = module.EXERCISE.question("example_same").reference()
    """,
    # 9. ... or by reading the reference's file
    "reference_file": """
        import cnnlib, os
        folder = os.path.join(os.path.dirname(cnnlib.__file__), "grading", "exer" + "cises")
        text = ""
        for name in sorted(os.listdir(folder)):
            if name.startswith("ex04"):
                with open(os.path.join(folder, name)) as f:
                    text = f.read()
        example_same = 1 if text else None
    """,
}

EXPECTED_04 = {
    # the stubs stay stubs: every from-scratch answer is still missing, the values None
    "closure": {**dict.fromkeys(POINTS_04, "missing"), "conv2d_single": "forbidden"},
    # the notebook's own sandbox no longer answers: its questions time out
    "replace_child": {**dict.fromkeys(POINTS_04, "missing"),
                      **dict.fromkeys(IN_NOTEBOOK_04, "timeout")},
    "thread_vf": {**dict.fromkeys(POINTS_04, "missing"), "conv2d_single": "forbidden"},
    "private_cnnlib": {**dict.fromkeys(POINTS_04, "missing"), "conv2d_single": "forbidden"},
    "frames_in_answer": {**dict.fromkeys(POINTS_04, "missing"), "conv2d_single": "forbidden"},
    # code built at run time anywhere in a notebook: no from-scratch answer of it is trusted
    "eval_in_answer": {**dict.fromkeys(POINTS_04, "missing"),
                       **dict.fromkeys(SCRATCH_04, "forbidden")},
    "getattr_value": {**dict.fromkeys(POINTS_04, "missing"), "conv2d_single": "forbidden"},
    "saved_operator": {**dict.fromkeys(POINTS_04, "missing"), "conv2d_single": "forbidden"},
    "module_in_attribute": {**dict.fromkeys(POINTS_04, "missing"),
                            "conv2d_single": "forbidden"},
    # (an import of a name built at run time also distrusts every from-scratch answer)
    "reference_import": {**dict.fromkeys(POINTS_04, "missing"),
                         **dict.fromkeys(SCRATCH_04, "forbidden")},
    "reference_file": dict.fromkeys(POINTS_04, "missing"),
}


@pytest.fixture(scope="module")
def batch_04(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trust04")
    subs = folder / "submissions"
    subs.mkdir()
    for name, attack in ATTACKS_04.items():
        (subs / f"{name}.ipynb").write_text(_notebook([*STUDENT_04, _code(attack)]))
    results = grade_folder("04_conv2d", subs, folder / "out", jobs=2, seed=SEED,
                           limits=Limits(timeout=10, memory_mb=1024), progress=False)
    return {r.student: r for r in results}


@pytest.mark.parametrize("name", sorted(ATTACKS_04))
def test_stubs_plus_one_cell_score_nothing(batch_04, name):
    result = batch_04[name]
    assert {q: r.status for q, r in result.questions.items()} == EXPECTED_04[name]
    assert result.total == 0.0


def test_refusals_name_the_rule(batch_04):
    feedback = batch_04["thread_vf"].questions["conv2d_single"].feedback
    assert "concurrent.futures" in feedback or "_VF" in feedback
    assert "._conv2d_loop" in batch_04["private_cnnlib"].questions["conv2d_single"].feedback or \
        "loop_conv" in batch_04["private_cnnlib"].questions["conv2d_single"].feedback
    assert "eval" in batch_04["eval_in_answer"].questions["conv2d_single"].feedback
    runtime = batch_04["module_in_attribute"].questions["conv2d_single"]
    assert runtime.violations[0]["how"] in ("runtime guard", "operator watch")
    assert "conv2d" in runtime.violations[0]["api"]


# --- exercise 02: honest answers written in unusual ways ---------------------------------------

SOURCE_02 = _cells(ROOT / "exercises" / "sources" / "02_conv1d.ipynb")

HONEST_02 = {
    "numpy": """
        import numpy as np

        def conv1d_valid(x, h):
            a, k = x.numpy(), h.numpy()
            out = np.array([np.dot(a[i:i + len(k)], k) for i in range(len(a) - len(k) + 1)])
            return torch.from_numpy(out.astype(a.dtype))
    """,
    "einsum": """
        def conv1d_valid(x, h):
            m = len(h)
            idx = torch.arange(len(x) - m + 1)[:, None] + torch.arange(m)[None, :]
            return torch.einsum("ij,j->i", x[idx], h)
    """,
    "as_strided": """
        def conv1d_valid(x, h):
            n, m = len(x), len(h)
            windows = torch.as_strided(x.contiguous(), (n - m + 1, m), (1, 1))
            return windows @ h
    """,
    "callable_class": """
        class Correlator:
            def __init__(self):
                self._calls = 0

            def __call__(self, x, h):
                self._calls += 1
                m = len(h)
                return torch.stack([(x[i:i + m] * h).sum() for i in range(len(x) - m + 1)])

        conv1d_valid = Correlator()
    """,
    "partial": """
        import functools

        def _correlate(x, h, flip=False):
            k = torch.flip(h, [0]) if flip else h
            m = len(k)
            return torch.stack([(x[i:i + m] * k).sum() for i in range(len(x) - m + 1)])

        conv1d_valid = functools.partial(_correlate, flip=False)
    """,
    "helpers_elsewhere": """
        def conv1d_valid(x, h):
            return torch.stack([window_dot(x, h, i) for i in range(len(x) - len(h) + 1)])
    """,
}
HELPER_CELL = """
    SCALE = 1.0

    def window_dot(x, h, i):
        return SCALE * (x[i:i + len(h)] * h).sum()
"""


def _long_expression_cell(terms: int) -> dict:
    return _code("total = " + " + ".join(f"{i}" for i in range(terms)))


@pytest.fixture(scope="module")
def batch_02(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trust02")
    subs = folder / "submissions"
    subs.mkdir()
    for name, source in HONEST_02.items():
        cells = _with_answer(SOURCE_02, "conv1d_valid", source)
        if name == "helpers_elsewhere":
            cells = [*cells[:3], _code(HELPER_CELL), *cells[3:]]
        (subs / f"{name}.ipynb").write_text(_notebook(cells))
    (subs / "long_expression.ipynb").write_text(_notebook(
        [*SOURCE_02[:3], _long_expression_cell(3000), *SOURCE_02[3:]]))
    many = [*SOURCE_02, *(_code(f"x{i} = {i}") for i in range(10_000))]
    (subs / "ten_thousand_cells.ipynb").write_text(_notebook(many))
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": "".join(c["source"]), "outputs": [], "language": "python"}
        if c["cell_type"] == "code" else {"cell_type": "markdown", "source": c["source"]}
        for c in SOURCE_02]}]}
    (subs / "nbformat3.ipynb").write_text(json.dumps(v3))
    results = grade_folder("02_conv1d", subs, folder / "out", jobs=2, seed=SEED,
                           limits=Limits(timeout=20, memory_mb=1024), progress=False)
    return {r.student: r for r in results}


@pytest.mark.parametrize("name", [*sorted(HONEST_02), "long_expression", "ten_thousand_cells",
                                  "nbformat3"])
def test_honest_answers_written_unusually_get_full_marks(batch_02, name):
    result = batch_02[name]
    assert {q: (r.status, r.score) for q, r in result.questions.items()} == \
        {q: ("ok", p) for q, p in POINTS_02.items()}, \
        {q: r.feedback for q, r in result.questions.items() if r.status != "ok"}


# --- the student's check() applies the same extraction ------------------------------------------

def _kernel(cells: list[str]) -> dict:
    """A namespace as IPython leaves it after running ``cells`` (their text kept in ``In``)."""
    namespace: dict = {"__name__": "__main__", "In": ["", *cells]}
    for text in cells:
        exec(compile(text, "<kernel>", "exec"), namespace)
    return namespace


def _check_in(namespace: dict, name: str):
    from cnnlib.grading import Checker

    namespace["check"] = Checker("02_conv1d")
    exec(f"result = check({name!r}, quiet=True)", namespace)
    return namespace["result"]


def test_check_refuses_what_grading_refuses():
    namespace = _kernel(["import torch", textwrap.dedent("""
        def conv1d_valid(x, h):
            f = eval("lambda a, b: a")
            m = len(h)
            return torch.stack([(x[i:i + m] * h).sum() for i in range(len(x) - m + 1)])
    """)])
    result = _check_in(namespace, "conv1d_valid")
    assert result.status == "forbidden"
    assert "eval()" in result.message and "scores 0" in result.message


def test_check_runs_the_answer_as_grading_does():
    # the helper exists in the kernel, but only through code built at run time: grading cannot
    # extract it, and check() says so at once instead of passing
    namespace = _kernel(["import torch", "globals()['window'] = lambda x, h, i: "
                         "(x[i:i + len(h)] * h).sum()", textwrap.dedent("""
        def conv1d_valid(x, h):
            return torch.stack([window(x, h, i) for i in range(len(x) - len(h) + 1)])
    """)])
    result = _check_in(namespace, "conv1d_valid")
    assert result.status == "fail"
    assert "NameError" in result.message and "top level of a cell" in result.message


def test_check_passes_an_honest_answer_with_a_helper():
    namespace = _kernel(["import torch", "def window(x, h, i):\n    return (x[i:i + len(h)] * h)"
                         ".sum()", textwrap.dedent("""
        def conv1d_valid(x, h):
            return torch.stack([window(x, h, i) for i in range(len(x) - len(h) + 1)])
    """)])
    assert _check_in(namespace, "conv1d_valid").status == "ok"


# --- hidden checks: one draw per submission ----------------------------------------------------

def test_each_submission_draws_its_own_hidden_checks():
    from cnnlib.grading.grader import GradingPlan, submission_seed
    from cnnlib.grading.question import load_exercise

    ex = load_exercise("02_conv1d")

    def hidden_inputs(student, batch_seed=SEED):
        plan = GradingPlan(ex, submission_seed(batch_seed, student))
        return [json.dumps(e) for c, e in zip(plan.cases["conv1d_valid"],
                                              plan.encoded["conv1d_valid"], strict=True)
                if not c.public]

    alice, bob = hidden_inputs("alice"), hidden_inputs("bob")
    assert len(alice) == ex.question("conv1d_valid").n_hidden
    assert not set(alice) & set(bob)                    # no hidden input shared
    assert hidden_inputs("alice") == alice              # the same --seed draws them again
    assert hidden_inputs("alice", SEED + 1) != alice    # another batch seed, other inputs
