"""A sandbox that fails to come up (no student code has run yet) is started again, a few
times, before the grader gives up and reports every question as a crash."""

from pathlib import Path

from cnnlib.grading import grader, load_exercise
from cnnlib.grading.grader import grade_files
from cnnlib.grading.sandbox import Limits

SOURCE = Path(__file__).resolve().parents[1] / "exercises" / "sources" / "02_conv1d.ipynb"


def _flaky_session(failures: int):
    """A Session whose first ``failures`` instances never say hello (as on a machine so
    loaded that the fork misses its start-up deadline)."""
    started = {"n": 0}

    class FlakySession(grader.Session):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started["n"] += 1
            self._silent = started["n"] <= failures

        def next_event(self, deadline):
            if self._silent:
                return "timeout", None
            return super().next_event(deadline)

    return FlakySession, started


def _grade(monkeypatch, failures: int):
    session, started = _flaky_session(failures)
    monkeypatch.setattr(grader, "Session", session)
    exercise = load_exercise("02_conv1d")
    [result] = grade_files(exercise, [("solution", "solution.ipynb", SOURCE.read_bytes())],
                           jobs=1, limits=Limits(timeout=20), progress=False)
    return exercise, result, started["n"]


def _from_scratch(exercise) -> int:
    return sum(q.from_scratch is not None for q in exercise.questions)


def test_a_sandbox_that_does_not_start_is_started_again(monkeypatch):
    exercise, result, starts = _grade(monkeypatch, failures=2)
    assert result.total == exercise.points, result.notes
    # the notebook's run started on the third try, then one sandbox per from-scratch answer
    assert starts == 3 + _from_scratch(exercise)


def test_after_repeated_start_failures_every_question_is_a_crash(monkeypatch):
    exercise, result, starts = _grade(monkeypatch, failures=10)
    # the notebook's run: the first try and three more; the submission's budget of restarts
    # is then spent, so each from-scratch answer gets one try
    assert starts == 4 + _from_scratch(exercise)
    assert {r.status for r in result.questions.values()} == {"crash"}
    assert all("did not start" in r.feedback for r in result.questions.values())
