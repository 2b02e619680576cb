"""Feedback that names the mistake: banks of labelled wrong answers, graded for real.

``tests/grading_mistakes/exNN_*.py`` holds, for every from-scratch question of an exercise,
answers students write with a known slip in them, each labelled with the mistake
(:class:`cnnlib.grading.mistakes.Mistake`) it makes. Each must score below full marks in the
grader, and both the grader's feedback and ``check()``'s name its mistake; the model solutions
name none; and a mistake's hint never shows a hidden check's value.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
from exercise_grading import (
    GRADING_SEED,
    checked_cases,
    solution_namespace,
    source_notebook,
)

from cnnlib.grading import Checker
from cnnlib.grading.checker import _MISSING, GRADING_ENV
from cnnlib.grading.grader import grade_submission
from cnnlib.grading.mistakes import Mistake, SlipRaises, matching_mistakes, mistake_text
from cnnlib.grading.question import CheckCase, Question, list_exercises, load_exercise
from cnnlib.grading.sandbox import Limits, Zygote

BANKS = Path(__file__).resolve().parent / "grading_mistakes"
EXERCISES = sorted(p.stem[2:] for p in BANKS.glob("ex*.py"))


def bank(exercise: str) -> dict[str, list[tuple[str, str]]]:
    """``{question: [(mistake label, the answer's code)]}`` of one exercise."""
    path = BANKS / f"ex{exercise}.py"
    spec = importlib.util.spec_from_file_location(f"mistake_bank_{exercise}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BANK


def entries(exercise: str) -> list[tuple[str, int, str, str]]:
    """``(question, k, label, code)`` for every wrong answer of the exercise's bank."""
    return [(q, k, label, code) for q, answers in bank(exercise).items()
            for k, (label, code) in enumerate(answers)]


def from_scratch(exercise: str) -> list[Question]:
    """The questions with a bank: from scratch, and judged on a value (a training question is
    judged on the accuracy it reaches; its feedback comes by accuracy band)."""
    return [q for q in load_exercise(exercise).questions
            if q.from_scratch is not None and not q.open_ended]


# --- the banks ----------------------------------------------------------------------------------

def test_every_from_scratch_question_of_the_course_has_a_bank():
    """Every exercise with from-scratch questions has a bank, each of its from-scratch
    questions at least 3 wrong answers, and the course at least 5 a question on average."""
    with_scratch = [e for e in list_exercises() if from_scratch(e)]
    assert EXERCISES == with_scratch, f"banks {EXERCISES}, exercises {with_scratch}"
    sizes = []
    for exercise in EXERCISES:
        answers = bank(exercise)
        names = {q.name for q in from_scratch(exercise)}
        assert set(answers) == names, f"{exercise}: the bank's questions {sorted(answers)}"
        for q in from_scratch(exercise):
            labels = {label for label, _ in answers[q.name]}
            declared = {m.label for m in q.mistakes}
            assert labels <= declared, f"{q.name}: undeclared mistakes {labels - declared}"
            assert declared <= labels, f"{q.name}: mistakes with no answer {declared - labels}"
            assert len(answers[q.name]) >= 3, f"{q.name}: too few wrong answers"
            sizes.append(len(answers[q.name]))
    assert sum(sizes) / len(sizes) >= 5, f"{sum(sizes) / len(sizes):.2f} wrong answers per question"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_each_mistake_shows_on_the_public_checks_and_the_solution_makes_none(exercise):
    """``check()`` sees only public checks: each mistake must differ there from the reference;
    the model solution's outputs, on public and hidden checks, match no mistake."""
    ex = load_exercise(exercise)
    solution = solution_namespace(exercise)
    for q in from_scratch(exercise):
        public = ex.public_cases(q)
        for m in q.mistakes:
            shown = [c for c in public if _differs(m, c, q)]
            assert shown, f"{q.name}: {m.label!r} never differs from the reference in public"
        cases = checked_cases(ex, q.name, 11)
        outputs = {c.index: solution[q.name](*_copy(c.args)) for c in cases}
        assert matching_mistakes(q.mistakes, cases, outputs, q.tolerance) == []


def _copy(args: tuple) -> tuple:
    return tuple(a.clone() if isinstance(a, torch.Tensor) else a for a in args)


def _differs(m: Mistake, case: CheckCase, q: Question) -> bool:
    from cnnlib.grading.compare import compare

    try:
        slip = m.returns(*_copy(case.args))
    except SlipRaises:
        return True
    except Exception:
        return False
    return not compare(case.expected, slip, q.tolerance).passed


def test_a_mistake_needs_a_label_a_function_and_a_hint():
    with pytest.raises(ValueError, match="label"):
        Mistake("", abs, "fix it")
    with pytest.raises(TypeError, match="returns"):
        Mistake("sign lost", 3, "fix it")
    with pytest.raises(ValueError, match="hint"):
        Mistake("sign lost", abs, " ")
    twice = (Mistake("sign lost", abs, "a"), Mistake("sign lost", abs, "b"))
    with pytest.raises(ValueError, match="repeat"):
        Question.function("f", points=1, reference=abs, args=("x",), random_case=lambda r: (1,),
                          mistakes=twice)


def test_matching_needs_every_case_where_the_slip_shows():
    """A mistake matches when the answer returns its output wherever it differs from the
    reference; cases where it agrees, raises or the answer did not return are skipped."""
    slip = Mistake("sign lost", lambda x: abs(x), "keep the sign")
    cases = [CheckCase(i, True, (x,), x, "") for i, x in enumerate((-2, 3, -5, 7))]
    assert matching_mistakes([slip], cases, {0: 2, 1: 3, 2: 5, 3: 7}) == [slip]
    assert matching_mistakes([slip], cases, {0: 2, 1: 3, 3: 7}) == [slip]  # case 2 raised
    assert matching_mistakes([slip], cases, {0: 2, 1: 3, 2: -5, 3: 7}) == []
    assert matching_mistakes([slip], cases, {1: 3, 3: 7}) == []  # never where it shows
    undefined = Mistake("no answer", lambda x: 1 // 0, "…")
    assert matching_mistakes([undefined], cases, {0: 0, 1: 0, 2: 0, 3: 0}) == []


def test_a_slip_that_raises_matches_answers_that_raise_there():
    def crashes_on_negatives(x):
        if x < 0:
            raise SlipRaises
        return x

    slip = Mistake("negatives crash", crashes_on_negatives, "handle negative inputs")
    cases = [CheckCase(i, True, (x,), x, "") for i, x in enumerate((-2, 3, -5))]
    assert matching_mistakes([slip], cases, {1: 3}, raised={0, 2}) == [slip]
    assert matching_mistakes([slip], cases, {1: 3, 2: -5}, raised={0}) == []
    assert matching_mistakes([slip], cases, {0: -2, 1: 3, 2: -5}) == []


# --- the student's check() ----------------------------------------------------------------------

@pytest.mark.parametrize("exercise", EXERCISES)
def test_check_names_each_wrong_answers_mistake(exercise, monkeypatch):
    """Each wrong answer, run by ``check()`` as a notebook's cells would define it (after the
    notebook's imports and given cells), fails with its mistake's sentence; the model
    solution passes."""
    monkeypatch.delenv(GRADING_ENV, raising=False)
    ex = load_exercise(exercise)
    check = Checker(exercise)
    given = given_cells(exercise)
    for name, k, label, code in entries(exercise):
        namespace = {"In": ["", *given, code]}
        for cell in namespace["In"][1:]:
            exec(cell, namespace)
        result = check._check(name, _MISSING, namespace)  # the cells' namespace
        text = " ".join(result.message.split())
        expected = " ".join(mistake_text(_mistake(ex, name, label)).split())
        assert result.status == "fail", f"{name} #{k} ({label}): {result.message}"
        assert expected in text, f"{name} #{k} ({label}):\n{result.message}"
    solution = solution_namespace(exercise)
    for q in from_scratch(exercise):
        result = check(q.name, solution[q.name], quiet=True)
        assert result.status == "ok" and "mistake" not in result.message


def given_cells(exercise: str) -> list[str]:
    """The cells of the source notebook a wrong answer runs after: its imports (the student
    writes the rest) and its given cells (``# Given: …``, e.g. the ``lenet5_logits`` that
    runs the student's ``LeNet5``)."""
    nb = json.loads(source_notebook(exercise).read_text(encoding="utf-8"))
    return [text for text in ("".join(c["source"]) for c in nb["cells"]
                              if c["cell_type"] == "code")
            if text.startswith(("import ", "from ", "# Given"))]


def _mistake(ex, name: str, label: str) -> Mistake:
    return next(m for m in ex.question(name).mistakes if m.label == label)


# --- the grader ---------------------------------------------------------------------------------

def _notebooks(exercise: str) -> list[tuple[str, str, bytes]]:
    """Variants of the source notebook whose last cells redefine the from-scratch answers:
    variant k holds the k-th wrong answer of each question (the grader grades each question
    on its own). The source notebook itself gets full marks in test_grading_exercises.py, and
    its answers match no mistake (above)."""
    source = json.loads(source_notebook(exercise).read_text(encoding="utf-8"))
    answers = bank(exercise)
    files = []
    for k in range(max(len(v) for v in answers.values())):
        nb = json.loads(json.dumps(source))
        for code in (v[k][1] for v in answers.values() if k < len(v)):
            nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [],
                                "execution_count": None, "source": code.splitlines(True)})
        files.append((f"wrong{k}", f"wrong{k}.ipynb", json.dumps(nb).encode()))
    return files


@pytest.fixture(scope="module")
def graded():
    """Every exercise's notebooks, graded by the grader in one batch: one zygote forks every
    sandbox, 2 jobs (as ``grade_files`` does for one exercise; one batch for all saves a
    zygote's start per exercise). ``{exercise: {student: result}}``."""
    # a training question is left out: it has no bank, and would train once per notebook
    exercises = {exercise: dataclasses.replace(ex, questions=tuple(
        q for q in ex.questions if not q.open_ended))
        for exercise, ex in ((e, load_exercise(e)) for e in EXERCISES)}
    limits = Limits(timeout=20, memory_mb=1024)
    with Zygote() as zygote, ThreadPoolExecutor(max_workers=2) as pool:
        futures = {(exercise, student): pool.submit(
            grade_submission, exercises[exercise], GRADING_SEED, student, filename, data,
            zygote, limits) for exercise in EXERCISES
            for student, filename, data in _notebooks(exercise)}
        results = {key: future.result() for key, future in futures.items()}
    return {exercise: {student: r for (ex, student), r in results.items() if ex == exercise}
            for exercise in EXERCISES}


@pytest.mark.parametrize("exercise", EXERCISES)
def test_the_grader_names_each_wrong_answers_mistake(exercise, graded):
    ex = load_exercise(exercise)
    results = graded[exercise]
    for name, k, label, _ in entries(exercise):
        qr = results[f"wrong{k}"].questions[name]
        where = f"{name} #{k} ({label}): {qr.status} {qr.score}/{qr.points} {qr.feedback}"
        assert qr.status == "fail" and qr.score < qr.points, where
        assert f"This {mistake_text(_mistake(ex, name, label))}." in qr.feedback, where


# --- hidden checks stay hidden ------------------------------------------------------------------

_SUMMARY = re.compile(r"^\d+ of \d+ checks passed \(\d+/\d+ public, \d+/\d+ hidden\)\. ")
_FIRST_PUBLIC = re.compile(r"First failing public check.*?(?=This looks like|Hint:|$)", re.S)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_the_named_mistakes_show_no_hidden_checks_value(exercise, graded):
    """Mistakes are matched on hidden checks too, yet a wrong answer's feedback shows no value
    of them: beside how many checks passed and the first failing public check (its input,
    answer and the student's output: all public), it holds only fixed sentences, the named
    mistakes' and the question's hint, the same whatever the hidden checks drew."""
    ex = load_exercise(exercise)
    for name, k, label, _ in entries(exercise):
        q = ex.question(name)
        feedback = graded[exercise][f"wrong{k}"].questions[name].feedback
        assert _SUMMARY.match(feedback) and "First failing public check" in feedback, feedback
        rest = _FIRST_PUBLIC.sub("", _SUMMARY.sub("", feedback))
        for sentence in [f"This {mistake_text(m)}." for m in q.mistakes] + [f"Hint: {q.hint}"]:
            rest = rest.replace(sentence, "")
        assert not rest.strip(), f"{name} #{k} ({label}): {rest!r} in {feedback}"


def test_no_mistake_hint_holds_a_number_of_any_check():
    """The hints are fixed sentences: none holds a decimal number, so none can carry a check's
    value (formulas use letters)."""
    for exercise in EXERCISES:
        for q in from_scratch(exercise):
            for m in q.mistakes:
                assert not re.search(r"\d\.\d|\d{2,}", m.hint), f"{q.name}: {m.hint}"
