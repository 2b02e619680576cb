"""Every exercise: its reference solution scores full marks, its student version scores zero.

The per-exercise test files grade only their own variants (cheats, typical slips).
"""

from pathlib import Path

import pytest

from cnnlib.grading import list_exercises, load_exercise
from cnnlib.grading.grader import grade_files
from cnnlib.grading.sandbox import Limits

EXERCISES = Path(__file__).resolve().parents[1] / "exercises"


@pytest.mark.parametrize("name", list_exercises())
def test_solution_scores_full_marks_and_student_version_zero(name):
    exercise = load_exercise(name)
    files = [("solution", "solution.ipynb", (EXERCISES / "sources" / f"{name}.ipynb").read_bytes()),
             ("student", "student.ipynb", (EXERCISES / f"{name}.ipynb").read_bytes())]
    solution, student = grade_files(exercise, files, jobs=2, limits=Limits(timeout=20),
                                    progress=False)
    points = {q.name: float(q.points) for q in exercise.questions}
    assert {q: (r.status, r.score) for q, r in solution.questions.items()} == \
        {q: ("ok", p) for q, p in points.items()}, solution.notes
    assert solution.total == solution.possible == exercise.points
    assert {q: (r.status, r.score) for q, r in student.questions.items()} == \
        {q: ("missing", 0.0) for q in points}, student.notes
    assert student.total == 0
