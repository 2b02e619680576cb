"""The course's autograder: questions, the student's ``check()``, and the sandboxed grader.

Student side (in an exercise notebook)::

    from cnnlib.grading import Checker
    check = Checker("02_conv1d")
    check("conv1d_valid")          # public checks, instant feedback, never raises

Instructor side (a shell)::

    cnnlib-grade grade 02_conv1d submissions/ --out grades/     # grades.csv, reports, results.json
    cnnlib-grade student --check                                # student notebooks == sources?
    cnnlib-grade similarity 02_conv1d submissions/              # the most similar answers
    cnnlib-grade release 02_conv1d --out assignment/            # notebook, README, autograder

Authoring an exercise: one source notebook ``exercises/sources/NN_slug.ipynb`` (solutions
between ``### BEGIN SOLUTION`` and ``### END SOLUTION``) and one module of questions
``cnnlib/grading/exercises/exNN_slug.py`` (see :mod:`cnnlib.grading.question`).

Modules: ``question`` (Question, Exercise), ``compare``, ``codec`` (JSON values), ``scan`` and
``guard`` (the static and runtime halves of "from scratch"), ``extract`` (a from-scratch answer
taken out of its notebook, and the policy its code keeps), ``checker`` (student side),
``notebook`` and ``authoring`` (reading submissions, making student notebooks), ``sandbox``,
``_zygote``, ``_child`` and ``_strict`` (the isolated processes and an answer's locks),
``mistakes`` (known slips, each named in the feedback), ``grader`` (verdicts, batches),
``report`` (CSV, JSON, Gradescope, what reproduces a run),
``similarity`` and ``similarity_report`` (answers compared as syntax; CSV and HTML),
``release`` (an assignment folder and its Gradescope autograder zip), ``cli``.
"""

from .checker import Checker, CheckResult
from .question import Case, Exercise, FromScratch, Question, list_exercises, load_exercise

__all__ = [
    "Case",
    "CheckResult",
    "Checker",
    "Exercise",
    "FromScratch",
    "Question",
    "list_exercises",
    "load_exercise",
]
