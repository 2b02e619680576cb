"""What the exercise-grading tests (``test_grading_exNN_*.py``) share: variants of an exercise's
source notebook (a solution swapped for a cheat, a slip typed into one line) and grading them
beside the source and the student notebook.

Test modules import it as ``from exercise_grading import ...``: pytest's default ("prepend")
import mode puts ``tests/`` on ``sys.path`` before it imports a test module, in the main process
and in every pytest-xdist worker alike.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import torch

from cnnlib.grading import grader
from cnnlib.grading.cli import grade_folder
from cnnlib.grading.compare import compare
from cnnlib.grading.grader import SubmissionResult
from cnnlib.grading.question import CheckCase, Exercise, load_exercise
from cnnlib.grading.sandbox import Limits

ROOT = Path(__file__).resolve().parents[1]

Edit = Callable[[dict], None]
"""An edit of a notebook's JSON, in place."""

GRADING_SEED = 2024
"""The batch seed of :func:`grade_notebooks` (each submission's hidden checks are drawn from
:func:`hidden_seed` of it)."""


def source_notebook(exercise: str) -> Path:
    """The exercise's source notebook: questions, model solutions and checks."""
    return ROOT / "exercises" / "sources" / f"{exercise}.ipynb"


def student_notebook(exercise: str) -> Path:
    """The notebook students get: the solutions replaced by stubs."""
    return ROOT / "exercises" / f"{exercise}.ipynb"


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def replace_solution(nb: dict, name: str, body: str) -> None:
    """Swap the solution block (``### BEGIN SOLUTION`` … ``### END SOLUTION``) of function
    ``name`` for ``body``."""
    for cell in code_cells(nb):
        text = "".join(cell["source"])
        if text.startswith(f"def {name}("):
            head, rest = text.split("    ### BEGIN SOLUTION\n")
            _, tail = rest.split("    ### END SOLUTION")
            cell["source"] = head + body + "\n" + tail
            return
    raise AssertionError(f"no cell defines {name}")


def replace_solutions(nb: dict, bodies: Mapping[str, str]) -> None:
    """:func:`replace_solution` for every ``name: body`` of ``bodies``."""
    for name, body in bodies.items():
        replace_solution(nb, name, body)


def replace_text(nb: dict, old: str, new: str, *, function: str | None = None) -> None:
    """Replace ``old`` by ``new`` in the one code cell that holds ``old`` (the one that defines
    ``function``, when given): a slip typed into a solution."""
    cells = [c for c in code_cells(nb) if old in "".join(c["source"])
             and (function is None or "".join(c["source"]).startswith(f"def {function}("))]
    where = f" of {function}" if function else ""
    assert len(cells) == 1, f"{len(cells)} solution cells{where} hold {old!r}, not one"
    cells[0]["source"] = "".join(cells[0]["source"]).replace(old, new)


def notebook_variant(source: Path, edit: Edit) -> str:
    """The notebook at ``source`` after ``edit``, as JSON text."""
    nb = json.loads(source.read_text(encoding="utf-8"))
    edit(nb)
    return json.dumps(nb)


def grade_notebooks(exercise: str, folder: Path, variants: Mapping[str, Edit] | None = None, *,
                    originals: bool = False, timeout: float = 20,
                    seed: int = GRADING_SEED) -> dict[str, SubmissionResult]:
    """Grade, in ``folder``, one variant of the exercise's source notebook per ``name: edit``
    of ``variants`` (plus, with ``originals=True``, the source itself as ``"solution"`` and
    the student notebook as ``"student"``; tests/test_grading_exercises.py already grades
    those for every exercise); the results by student."""
    subs = folder / "submissions"
    subs.mkdir()
    if originals:
        shutil.copy(source_notebook(exercise), subs / "solution.ipynb")
        shutil.copy(student_notebook(exercise), subs / "student.ipynb")
    for name, edit in (variants or {}).items():
        (subs / f"{name}.ipynb").write_text(notebook_variant(source_notebook(exercise), edit),
                                            encoding="utf-8")
    results = grade_folder(exercise, subs, folder / "out", jobs=2,
                           limits=Limits(timeout=timeout, memory_mb=1024), seed=seed,
                           progress=False)
    return {r.student: r for r in results}


def verdicts_of(result: SubmissionResult) -> dict[str, tuple[str, float]]:
    """``{question: (status, score)}`` of one graded submission."""
    return {q: (r.status, r.score) for q, r in result.questions.items()}


def assert_zero(result: SubmissionResult, points: Mapping[str, float], status: str) -> None:
    """Every question scored 0 with the same ``status`` (``missing``, ``forbidden``…)."""
    assert verdicts_of(result) == {q: (status, 0.0) for q in points}


def assert_partial_credit_only_on(result: SubmissionResult, points: Mapping[str, float],
                                  edit: Edit, *questions: str, seed: int = GRADING_SEED) -> None:
    """Each of ``questions`` fails with exactly the credit the slip ``edit`` earns: its points ×
    the checks that pass / all its checks, the checks that pass being those the edited
    function passes when run here on the same cases; every other question is ``ok``."""
    namespace = variant_namespace(result.exercise, edit)
    verdicts = verdicts_of(result)
    for name in questions:
        expected = expected_outcomes(result.exercise, namespace, name,
                                     hidden_seed(seed, result.student))
        got = [c.passed for c in result.questions[name].checks]
        assert got == expected, f"{name}: checks passed in the grader {got}, here {expected}"
        assert 0 < sum(expected) < len(expected), f"{name}: the slip must cost some checks"
        score = round(points[name] * sum(expected) / len(expected), 4)
        assert verdicts.pop(name) == ("fail", score)
    assert verdicts == {q: ("ok", p) for q, p in points.items() if q not in questions}


def hidden_seed(batch_seed: int, student: str) -> int:
    """The seed the grader draws ``student``'s hidden checks from, in a batch graded with
    ``batch_seed``."""
    derive = getattr(grader, "submission_seed", None)  # one seed per submission
    return derive(batch_seed, student) if derive else batch_seed


def expected_outcomes(exercise: str, namespace: dict, name: str, seed: int) -> list[bool]:
    """Whether the answer ``namespace[name]`` passes each check of question ``name`` (public
    ones and the hidden ones of seed ``seed``, see :func:`hidden_seed`), evaluated here, in
    order."""
    ex = load_exercise(exercise)
    q = ex.question(name)
    outcomes = []
    for case in checked_cases(ex, name, seed):
        try:
            got = namespace[name](*_clone(case.args)) if q.kind == "function" else namespace[name]
        except Exception:  # a check that raises fails
            outcomes.append(False)
            continue
        outcomes.append(compare(case.expected, got, q.tolerance, reveal=case.public).passed)
    return outcomes


def _clone(value):
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, tuple | list):
        return type(value)(_clone(v) for v in value)
    return copy.deepcopy(value)


def checked_cases(ex: Exercise, name: str, seed: int = 7) -> list[CheckCase]:
    """The checks of question ``name``: its public cases and its hidden ones for the grading
    seed ``seed``."""
    q = ex.question(name)
    return ex.public_cases(q) + ex.hidden_cases(q, seed)


def solution_namespace(exercise: str) -> dict:
    """The source notebook's definitions, as its cells define them (no check() calls)."""
    return notebook_namespace(json.loads(source_notebook(exercise).read_text(encoding="utf-8")))


def variant_namespace(exercise: str, edit: Edit) -> dict:
    """The definitions of the source notebook after ``edit`` (a slip), run here."""
    return notebook_namespace(json.loads(notebook_variant(source_notebook(exercise), edit)))


def notebook_namespace(nb: dict) -> dict:
    """A notebook's definitions, as its code cells define them (no setup, no check() calls)."""
    namespace: dict = {}
    for cell in code_cells(nb):
        source = "".join(cell["source"])
        if not source.startswith(("check", "# Setup")):
            exec(source, namespace)
    return namespace


def printed_in_kernel(notebook: Path, folder: Path) -> str:
    """Execute ``notebook`` in a real Jupyter kernel (cwd ``folder``), as a student would, and
    return everything its code cells printed: what the student sees from ``check(...)``."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, 4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs if o.get("name") == "stdout")
