"""The student's side: ``check("conv1d_valid")`` in the notebook, instant and kind feedback.

::

    from cnnlib.grading import Checker
    check = Checker("02_conv1d")
    ...
    check("conv1d_valid")

runs the question's *public* checks (its fixed, hand-checked cases and a few random ones with a
fixed seed) on the student's current definition, in the student's own kernel, and prints one
of:

- ``✓ conv1d_valid: all 8 public checks passed. 20 hidden checks will run at grading.``
- ``✗ conv1d_valid: …`` with the first failing case: its input, the expected and the received
  value, what differs, the known mistake the answer reproduces on the public checks when there
  is one (:mod:`cnnlib.grading.mistakes`: "looks like kernel flipped: …"), and a hint;
- ``… conv1d_valid is not written yet …`` while the stub still raises ``NotImplementedError``;
- ``✗ conv1d_valid uses torch.nn.functional.conv1d …`` for a forbidden API in a from-scratch
  question.

Every line it prints is at most 88 characters, the width of the book's output column (longer
messages are wrapped by :func:`fit_lines`). It never raises, so a notebook runs top to bottom
whatever state it is in, and it never shows a hidden check or a reference. This is feedback
only: the grade comes from the grader, which runs the notebook in a sandbox and computes every
verdict in its own process.
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import sys
import textwrap
from dataclasses import dataclass

from .compare import describe_type, format_value
from .extract import extract_answer
from .forbidden import runtime_rules, static_rules
from .guard import ForbiddenAPIError, Guard, warm_up
from .mistakes import matching_mistakes, mistake_text
from .question import Exercise, Question, _clone, load_exercise
from .scan import Code, NotebookModel, code_of_function, forbidden_objects, scan

__all__ = ["CheckResult", "Checker", "Summary", "fit_lines"]

GRADING_ENV = "CNNLIB_GRADING_CHILD"
WIDTH = 88  # characters of a notebook's output that the book's page shows without scrolling
_LABEL = re.compile(r"\s*[a-z]+:\s+")  # "    expected: " starts a labelled detail line
_MISSING = object()
_ON_ITS_OWN = ("a from-scratch answer is graded on its own, with only the top-level imports, "
               "functions, classes and assignments it uses: define every name it needs at the "
               "top level of a cell")


@dataclass
class CheckResult:
    """What one ``check(...)`` found; ``passed`` is True when every public check passed."""

    question: str
    status: str            # ok, fail, missing, forbidden, error, skipped
    n_passed: int = 0
    n_public: int = 0
    n_hidden: int = 0
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "ok"

    def __repr__(self) -> str:
        return f"CheckResult({self.question!r}, status={self.status!r}, " \
               f"passed {self.n_passed}/{self.n_public} public checks)"

    def _ipython_display_(self) -> None:
        """The message was printed already; show nothing more when it ends a cell."""


_SHORT_BRACKET = re.compile(r"\[[^\[\]\n]{1,16}\]|\([^()\n]{1,16}\)")
_GLUE = "\x00"  # a space that textwrap does not break at


def fit_lines(text: str, width: int = WIDTH) -> str:
    """``text`` with every line longer than ``width`` characters wrapped at spaces.

    A continuation line hangs under the text it continues: under the value of a labelled line
    (``"    hint:     "``), else two places in from the line's own indent, past the mark
    (``"✗ "``, ``"… "``) that starts a message. Lines that fit are left exactly as they are.
    A short bracket, such as the index in ``x[i + j]``, is never split across lines.
    """
    if not isinstance(width, int) or isinstance(width, bool) or width < 20:
        raise ValueError(f"width must be an int of at least 20, got {width!r}")
    out = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        label = _LABEL.match(line)
        hang = len(label.group(0)) if label else len(line) - len(line.lstrip(" ")) + 2
        kept = _SHORT_BRACKET.sub(lambda m: m.group(0).replace(" ", _GLUE), line)
        out.extend(w.replace(_GLUE, " ") for w in textwrap.wrap(
            kept, width, subsequent_indent=" " * min(hang, width // 2),
            break_on_hyphens=False))
    return "\n".join(out)


def _call_args(question: Question, args: tuple) -> str:
    names = question.arg_names or tuple(f"arg{i + 1}" for i in range(len(args)))
    return ", ".join(f"{n} = {format_value(a)}" for n, a in zip(names, args, strict=False))


class Summary(list):
    """The :class:`CheckResult` of every question. ``check.summary()`` printed the table
    already, so a notebook cell that ends with it shows the table once and nothing more."""

    def _ipython_display_(self) -> None:
        """The lines were printed already."""


class Checker:
    """Checks one exercise's questions from inside its notebook; see the module docstring."""

    def __init__(self, exercise: str):
        self.exercise_name = exercise
        # In the grader's sandbox the notebook's check() lines do nothing (the grader runs
        # every check itself, in its own process).
        self._grading = os.environ.get(GRADING_ENV) == "1"
        self._exercise: Exercise | None = None if self._grading else load_exercise(exercise)

    @property
    def exercise(self) -> Exercise:
        if self._exercise is None:
            self._exercise = load_exercise(self.exercise_name)
        return self._exercise

    def __repr__(self) -> str:
        return f"Checker({self.exercise_name!r})"

    def __call__(self, name: str, value=_MISSING, *, quiet: bool = False) -> CheckResult:
        """Run the public checks of question ``name`` on the caller's definition of ``name``
        (or on ``value`` when given) and print what was found."""
        if self._grading:
            return CheckResult(str(name), "skipped")
        namespace = sys._getframe(1).f_globals
        try:
            result = self._check(name, value, namespace)
        except KeyboardInterrupt:
            raise
        except BaseException as err:  # check() must never stop a notebook
            result = CheckResult(str(name), "error",
                                 message=f"! {name}: the checker itself failed "
                                         f"({type(err).__name__}: {err}); please report this")
        result.message = fit_lines(result.message)
        if not quiet:
            print(result.message)
        return result

    def summary(self) -> Summary:
        """Check every question of the exercise and print one line each, with the points.

        The table is printed in one piece, every line at most :data:`WIDTH` characters.
        Returns the results (a list) that shows nothing more when it ends a notebook cell."""
        namespace = sys._getframe(1).f_globals
        if self._grading:
            return Summary()
        results = Summary()
        lines = [f"Exercise {self.exercise.name} — {self.exercise.title}"]
        width = max(len(q.name) for q in self.exercise.questions)
        for q in self.exercise.questions:
            r = self._check(q.name, _MISSING, namespace)
            results.append(r)
            mark = {"ok": "✓", "missing": "…"}.get(r.status, "✗")
            hidden = f" (+{r.n_hidden} hidden at grading)" if r.n_hidden else ""
            lines.append(f"  {mark} {q.name:<{width}} {q.points:>4g} pts  {r.status:<9} "
                         f"{r.n_passed}/{r.n_public} public{hidden}")
        done = sum(r.passed for r in results)
        lines.append(f"  {done} of {len(results)} questions pass their public checks; "
                     f"{self.exercise.points:g} points in all.")
        print(fit_lines("\n".join(lines)))  # one write: one output block in the notebook
        return results

    # -- the checks ------------------------------------------------------------------------------
    def _check(self, name: str, value, namespace: dict) -> CheckResult:
        try:
            q = self.exercise.question(name)
        except KeyError:
            known = ", ".join(f'"{q.name}"' for q in self.exercise.questions)
            return CheckResult(str(name), "error", message=f"? There is no question {name!r} in "
                               f"exercise {self.exercise.name}; the questions are {known}.")
        n_hidden = q.n_hidden
        n_public = q.n_public_checks
        base = dict(question=q.name, n_public=n_public, n_hidden=n_hidden)
        if value is _MISSING:
            if q.name not in namespace:
                return CheckResult(**base, status="missing", message=f"… {q.name} is not defined "
                                   "yet: run the cell that defines it, then check again.")
            value = namespace[q.name]
        if q.kind == "value":
            return self._check_value(q, value, base)
        if not callable(value):
            return CheckResult(**base, status="fail", message=f"✗ {q.name} should be a "
                               f"function, but it is {describe_type(value)}.")
        if q.from_scratch is not None:
            refused = self._refused(q, value, namespace, base)
            if refused is not None:
                return refused
            value, setup_error = self._extracted(q, value, namespace)
            if setup_error is not None:
                return CheckResult(**base, status="fail", message=setup_error)
        return self._check_function(q, value, base)

    def _refused(self, q: Question, value, namespace: dict, base: dict) -> CheckResult | None:
        """What grading will refuse in the answer: a forbidden API, or code outside the policy
        of from-scratch answers (see :mod:`cnnlib.grading.extract`)."""
        rules = static_rules(q)
        cells = _kernel_cells(namespace)
        extraction = extract_answer(cells, q.name) if cells else None
        if extraction is not None and extraction.found:
            model = NotebookModel(cells)
            violations = [v for s in extraction.statements
                          for v in scan(Code(s.node, f"cell {s.cell}", model), rules)]
        else:
            found = forbidden_objects(rules)
            code = code_of_function(value, found) if hasattr(value, "__code__") else None
            violations = scan(code, rules) if code is not None else []
        if violations:
            v = violations[0]
            return CheckResult(**base, status="forbidden", message=(
                f"✗ {q.name} uses {v.api}" + (f" (as {v.used_as})" if v.used_as != v.api
                                               else "") + f", {v.where}. This question is "
                "from scratch: write it with indexing, loops and sums, without "
                f"{v.api.split('.')[-1]}. At grading, a forbidden API scores 0."))
        if extraction is not None and extraction.problems:
            p = extraction.problems[0]
            return CheckResult(**base, status="forbidden", message=(
                f"✗ {q.name}: its code {p.what} ({p.where}). A from-scratch answer is graded "
                "on its own code, which may not look into the running program or build code "
                "at run time: at grading, this scores 0."))
        return None

    def _extracted(self, q: Question, value, namespace: dict):
        """The answer as grading will see it: its extracted code run in a fresh namespace
        (``value`` itself when the kernel keeps no history of its cells)."""
        cells = _kernel_cells(namespace)
        extraction = extract_answer(cells, q.name) if cells else None
        if extraction is None or not extraction.found:
            return value, None
        fresh = {"__name__": "__main__"}
        for s in extraction.statements:
            module = ast.Module(body=[s.node], type_ignores=[])
            try:
                exec(compile(module, f"<cell {s.cell}>", "exec"), fresh)
            except Exception as err:
                hint = f" ({_ON_ITS_OWN})" if isinstance(err, NameError) else ""
                return value, (f"✗ {q.name}: set up on its own, as grading runs it, its code in "
                               f"cell {s.cell} raised {type(err).__name__}: {err}{hint}.")
        return fresh.get(q.name, value), None

    def _check_value(self, q: Question, value, base: dict) -> CheckResult:
        if value is None:
            return CheckResult(**base, status="missing",
                               message=f"… {q.name} is still None: set it to your answer.")
        (case,) = self.exercise.public_cases(q)
        outcome = q.assess((), case.expected, value, reveal=False)
        if outcome.passed:
            return CheckResult(**base, status="ok", n_passed=1,
                               message=f"✓ {q.name}: correct.")
        return CheckResult(**base, status="fail", message=(
            f"✗ {q.name} = {format_value(value)} is not right ({outcome.message}).\n"
            f"    hint: {q.hint}"))

    def _check_function(self, q: Question, fn, base: dict) -> CheckResult:
        cases = self.exercise.public_cases(q)
        violations: list[dict] = []
        rules = runtime_rules(q)
        if rules:
            warm_up()  # torch's first-use imports must not run under the tripwires
        guard = Guard(rules, violations.append).install() if rules else None
        try:
            outcomes = _run_cases(q, fn, cases, guard, rules, violations)
        finally:
            if guard is not None:
                guard.uninstall()
        if violations:
            v = violations[0]
            return CheckResult(**base, status="forbidden", n_passed=0, message=(
                f"✗ {q.name} called {v['api']} ({v['where']}). This question is from scratch: "
                "at grading, a forbidden API scores 0."))
        if outcomes and all(isinstance(got, _Raised) and got.kind == "NotImplementedError"
                            for _, got, _, _ in outcomes[:1]):
            return CheckResult(**base, status="missing", message=(
                f"… {q.name} is not written yet (it still raises NotImplementedError): "
                "replace the stub with your code."))
        if q.check_judge is not None and outcomes and \
                not any(isinstance(got, _Raised) for _, got, _, _ in outcomes):
            return _judged_message(q, outcomes, base)
        passed = sum(ok for _, _, ok, _ in outcomes)
        first = next(((case, got, why) for case, got, ok, why in outcomes if not ok), None)
        n = len(cases)
        hidden = f" {q.n_hidden} hidden checks will run at grading." if q.n_hidden else ""
        if first is None:
            return CheckResult(**base, status="ok", n_passed=passed,
                               message=f"✓ {q.name}: all {n} public checks passed.{hidden}")
        outputs = {case.index: got for case, got, _, _ in outcomes
                   if not isinstance(got, _Raised)}
        raised = {case.index for case, got, _, _ in outcomes if isinstance(got, _Raised)}
        found = matching_mistakes(q.mistakes, cases, outputs, q.tolerance, raised)
        return CheckResult(**base, status="fail", n_passed=passed,
                           message=_failure_message(q, passed, n, *first, mistakes=found))


def _run_cases(q: Question, fn, cases, guard, rules, violations) -> list[tuple]:
    """``[(case, got, passed, why)]`` for the public cases, up to a forbidden call (when the
    first case raises NotImplementedError, only that one)."""
    out = []
    for case in cases:
        args = _clone(case.args)
        try:
            with guard.watching(q.name, rules) if guard is not None else contextlib.nullcontext():
                got = fn(*args)
        except ForbiddenAPIError:
            break
        except KeyboardInterrupt:
            raise
        except BaseException as err:  # a student's error is feedback
            got = _Raised(type(err).__name__, str(err))
        if violations:
            break
        if isinstance(got, _Raised):
            out.append((case, got, False, got.describe()))
            if not out[:-1] and got.kind == "NotImplementedError":
                break  # still the stub
        else:
            o = q.assess(case.args, case.expected, got, checker=True)
            out.append((case, got, o.passed, o.message))
    return out


def _judged_message(q: Question, outcomes: list, base: dict) -> CheckResult:
    """A question with its own ``check_judge`` (the training question): the judge's words for
    each public check, and the hint when one falls short."""
    passed = sum(ok for _, _, ok, _ in outcomes)
    lines = [f"{'✓' if ok else '✗'} {q.name}: {why}" for _, _, ok, why in outcomes]
    if passed < len(outcomes) and q.hint:
        lines.append(f"    hint:     {q.hint}")
    return CheckResult(**base, status="ok" if passed == len(outcomes) else "fail",
                       n_passed=passed, message="\n".join(lines))


def _failure_message(q: Question, passed: int, n: int, case, got, why, mistakes=()) -> str:
    label = case.label + (f" — {case.note}" if case.note else "")
    got_text = got.describe() if isinstance(got, _Raised) else format_value(got)
    lines = [f"✗ {q.name}: {passed} of {n} public checks passed. First failure, {label}:",
             f"    input:    {_call_args(q, case.args)}",
             f"    expected: {format_value(case.expected)}",
             f"    got:      {got_text}"]
    if not isinstance(got, _Raised):
        lines.append(f"    problem:  {why}")
    elif got.kind == "NameError" and q.from_scratch is not None:
        lines.append(f"    note:     {_ON_ITS_OWN}")
    lines.extend(f"    mistake:  {mistake_text(m)}" for m in mistakes)
    if q.hint:
        lines.append(f"    hint:     {q.hint}")
    return "\n".join(lines)


def _kernel_cells(namespace: dict) -> list[tuple[int, str]]:
    """The cells the kernel has run, in order (IPython keeps them in ``In``)."""
    history = namespace.get("In", namespace.get("_ih"))
    if not isinstance(history, list):
        return []
    return [(i, text) for i, text in enumerate(history) if isinstance(text, str) and text.strip()]


class _Raised:
    def __init__(self, kind: str, message: str):
        self.kind, self.message = kind, message

    def describe(self) -> str:
        text = f"{self.kind}: {self.message}" if self.message else self.kind
        return f"an error, {text[:300]}"
