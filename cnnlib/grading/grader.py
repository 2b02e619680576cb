"""Grading submissions: every verdict is computed here, in the grader's own process.

For each question the grader draws the inputs (public cases with their fixed seeds, hidden
cases from the run's secret seed and the student's id: no two submissions share them) and
computes the expected answers with the references, before the submission runs. Sandboxes
(:mod:`cnnlib.grading.sandbox`) run a submission's code cells, and then each from-scratch
answer on its own, extracted from the notebook's text (:mod:`cnnlib.grading.extract`); they
return only the *outputs* of the student's functions on the inputs they are sent, as JSON;
the grader compares them with its own answers. Nothing a submission does in its
sandbox (patching ``torch.allclose``, redefining the checker, writing a results file, printing
fake results) can reach a verdict.

Each question gets a status:

============  =========================================================================
ok            every check passed
fail          some checks failed or raised; partial credit per check
timeout       the checks did not finish within the time limit (the rest then run in a
              fresh sandbox)
memory        the process tree used more than the memory limit (or ran out of memory)
crash         the sandbox process died (``os._exit``, a signal, ``sys.exit()`` inside the
              function) or its messages were malformed; the file is not a notebook
forbidden     a from-scratch answer uses a forbidden API (static scan, answer policy or
              the answer sandbox's locks): 0 points, the API and where it was used
              are named
missing       no code cell defines the name, or it is still the stub
============  =========================================================================

Score: ``points × passed checks / all checks`` (public and hidden); 0 for forbidden/missing.
A judged check may earn part of its share (a :class:`~cnnlib.grading.question.Graded`
outcome: the training question's credit grows with the accuracy reached). A question with its
own ``timeout`` (the training question) gets that many seconds for its checks instead of the
grader's per-question limit; past it, it is stopped and scores ``timeout`` (0 unless a check
had already come back).
A cell that hangs, eats memory or kills the process is skipped and the notebook run again
without it, so one broken scratch cell never zeroes a notebook.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import codec
from .compare import format_value
from .extract import Extraction, extract_answer
from .forbidden import TAMPERING, runtime_rules, static_rules
from .mistakes import matching_mistakes, mistake_text
from .notebook import mentioned_outside_code, read_notebook, runnable_cells
from .question import CheckCase, Exercise, Graded, Question, credit_of
from .sandbox import Limits, SandboxError, Session, Zygote
from .scan import Code, NotebookModel, scan

__all__ = [
    "STATUSES",
    "CheckOutcome",
    "GradingPlan",
    "QuestionResult",
    "SubmissionResult",
    "find_submissions",
    "grade_files",
]

STATUSES = ("ok", "fail", "timeout", "memory", "crash", "forbidden", "missing")
_OUTPUT_KEEP = 16 * 1024


@dataclass
class CheckOutcome:
    index: int
    label: str
    public: bool
    passed: bool
    message: str = ""
    credit: float | None = None  # the share of the check's points earned (None: passed or not)
    graded: bool = False  # the judge gave partial credit (a Graded outcome)

    @property
    def earned(self) -> float:
        return float(self.passed) if self.credit is None else self.credit

    def as_dict(self) -> dict:
        return {"check": self.label, "public": self.public, "passed": self.passed,
                "message": self.message}


@dataclass
class QuestionResult:
    name: str
    points: float
    n_checks: int
    from_scratch: bool
    status: str = "missing"
    score: float = 0.0
    checks: list[CheckOutcome] = field(default_factory=list)
    feedback: str = ""
    violations: list[dict] = field(default_factory=list)

    @property
    def n_passed(self) -> int:
        return sum(c.passed for c in self.checks)

    def as_dict(self) -> dict:
        return {"status": self.status, "score": self.score, "points": self.points,
                "passed_checks": self.n_passed, "checks": self.n_checks,
                "from_scratch": self.from_scratch, "feedback": self.feedback,
                "violations": self.violations,
                "check_results": [c.as_dict() for c in self.checks]}


@dataclass
class SubmissionResult:
    student: str
    file: str
    exercise: str
    questions: dict[str, QuestionResult]
    notes: list[str] = field(default_factory=list)
    output: str = ""
    seconds: float = 0.0

    @property
    def total(self) -> float:
        return round(sum(q.score for q in self.questions.values()), 4)

    @property
    def possible(self) -> float:
        return sum(q.points for q in self.questions.values())

    def as_dict(self) -> dict:
        return {"student": self.student, "file": self.file, "exercise": self.exercise,
                "score": self.total, "max_score": self.possible,
                "questions": {k: q.as_dict() for k, q in self.questions.items()},
                "notes": self.notes, "output": self.output, "seconds": round(self.seconds, 2)}


_OPEN_ENDED: dict = {}
"""An open-ended question's cases (the training question's 1,200 digits) and their encoding,
drawn and encoded once per process: they are fixed (no hidden cases) and take a second to
encode."""


class GradingPlan:
    """Every check's inputs and expected answer for one submission, drawn before it runs
    (hidden ones from ``seed``)."""

    def __init__(self, exercise: Exercise, seed: int):
        self.exercise = exercise
        self.seed = seed
        self.cases: dict[str, list[CheckCase]] = {}
        self.encoded: dict[str, list] = {}
        for q in exercise.questions:
            key = (exercise.name, q.name) if q.open_ended and not q.n_hidden else None
            if key in _OPEN_ENDED:  # the same fixed digits for everyone
                self.cases[q.name], self.encoded[q.name] = _OPEN_ENDED[key]
                continue
            cases = exercise.public_cases(q) + exercise.hidden_cases(q, seed)
            self.cases[q.name] = cases
            self.encoded[q.name] = [codec.encode(list(c.args)) for c in cases]
            if key is not None:
                _OPEN_ENDED[key] = cases, self.encoded[q.name]


def submission_seed(batch_seed: int, student: str) -> int:
    """The hidden checks' seed of one submission: derived from the batch's seed and the
    student's id, so no two submissions see the same hidden inputs, and the same ``--seed``
    draws them again."""
    digest = hashlib.sha256(f"{batch_seed}/{student}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def _clean_error(raw) -> dict:
    raw = raw if isinstance(raw, dict) else {}
    return {"type": str(raw.get("type", "error"))[:100],
            "message": str(raw.get("message", ""))[:300],
            "line": raw.get("line") if type(raw.get("line")) is int else None,
            "memory": raw.get("memory") is True}


def _exit_text(info: dict) -> str:
    if info.get("cpu_limit"):
        return "it used up its CPU time"
    if info.get("signal") is not None:
        return f"it was killed by signal {info['signal']}"
    if info.get("code") is not None:
        return f"it exited with code {info['code']} (sys.exit / os._exit?)"
    return "it ended unexpectedly"


_NAME_ERROR_HINT = ("a from-scratch answer is graded on its own, with only the top-level "
                    "imports, functions, classes and assignments it uses: define every name it "
                    "needs at the top level of a cell")


def _stop_text(kind: str, event, limits: Limits) -> str:
    if kind == "timeout":
        return f"ran longer than {limits.timeout:g} s"
    if kind == "memory":
        return f"used more than {limits.memory_mb} MB of memory"
    if kind == "exit":
        return f"ended the Python process ({_exit_text(event)})"
    return f"broke the grader's channel ({event})"


def _violation_record(event: dict) -> dict:
    return {k: str(event.get(k, ""))[:300] for k in ("api", "used_as", "where", "how")}


class _SubmissionGrader:
    """Grades one notebook: first its cells in one sandbox (the output, the cells that fail,
    the answers that are not from scratch), then each from-scratch answer, extracted from the
    notebook's text, in a sandbox of its own (:mod:`cnnlib.grading.extract`)."""

    def __init__(self, plan: GradingPlan, student: str, filename: str, data: bytes,
                 zygote: Zygote, limits: Limits):
        self.plan, self.zygote, self.limits = plan, zygote, limits
        ex = plan.exercise
        self.result = SubmissionResult(student, filename, ex.name, {
            q.name: QuestionResult(q.name, q.points, q.n_checks, q.from_scratch is not None)
            for q in ex.questions})
        self.data = data
        self.skip: set[int] = set()
        self.cell_notes: dict[int, str] = {}
        self.outputs: list[str] = []
        self.losses: dict[str, int] = {}
        self.start = time.monotonic()
        self.budget_end = self.start + limits.total

    # -- the whole submission ----------------------------------------------------------------
    def grade(self) -> SubmissionResult:
        nb = read_notebook(self.data)
        if nb.error is not None:
            self.result.notes.append(nb.error)
            for qr in self.result.questions.values():
                qr.status, qr.feedback = "crash", f"Not graded: {nb.error}."
            return self._finish()
        self.nb = nb
        self.cells, notes = runnable_cells(nb)
        self.result.notes.extend(notes)
        self.model = NotebookModel(self.cells)
        self.tampering = self.model.tampering(TAMPERING)
        if self.tampering:
            found = "; ".join(v.describe() for v in self.tampering[:5])
            self.result.notes.append(f"the notebook looks into the grader's own process: {found}")
        questions = self.plan.exercise.questions
        self._run_notebook([q for q in questions if q.from_scratch is None])
        for q in questions:
            if q.from_scratch is not None:
                self._grade_answer(q)
        return self._finish()

    def _run_notebook(self, questions: list[Question]) -> None:
        """Run the cells (again without a cell that hung or crashed the process), answering
        ``questions`` on the way."""
        remaining, attempts = list(questions), 0
        while True:
            attempts += 1
            if self._out_of_time() or attempts > len(self.cells) + 2 * len(remaining) + 3:
                for q in remaining:
                    self._set(q, "timeout", f"Not run: the submission's time budget "
                                            f"({self.limits.total:.0f} s) ran out.")
                return
            remaining = self._run_session(remaining)
            if not remaining:
                return

    def _out_of_time(self) -> bool:
        return time.monotonic() >= self.budget_end

    def _finish(self) -> SubmissionResult:
        self.result.notes.extend(self.cell_notes[k] for k in sorted(self.cell_notes))
        text = "\n".join(self.outputs)
        self.result.output = text[:_OUTPUT_KEEP] + (
            f"\n[… output cut at {_OUTPUT_KEEP} characters]" if len(text) > _OUTPUT_KEEP else "")
        self.result.seconds = time.monotonic() - self.start
        return self.result

    def _set(self, q: Question, status: str, feedback: str, score: float = 0.0) -> None:
        qr = self.result.questions[q.name]
        qr.status, qr.feedback, qr.score = status, feedback, score

    def _forbid(self, q: Question, violations: list[dict], feedback: str) -> None:
        self.result.questions[q.name].violations = violations
        self._set(q, "forbidden", feedback)

    def _forbid_uses(self, q: Question, violations: list, why: str) -> None:
        """0 points for using a forbidden API, the first one named with where it is used."""
        v = violations[0]
        used = f" (as {v.used_as})" if v.used_as != v.api else ""
        self._forbid(q, [v.as_dict() for v in violations],
                     f"Uses {v.api}{used}, {v.where}: {why}, so it scores 0.")

    def _forgive(self, phase: str, times: int) -> bool:
        """Something that is not this notebook's doing failed in ``phase`` (the zygote died
        while starting its sandbox): try again, at most ``times`` times."""
        self.losses[phase] = self.losses.get(phase, 0) + 1
        return self.losses[phase] <= times

    def _seconds(self, q: Question | None = None) -> float:
        """The time limit of ``q``'s checks: its own ``timeout`` when it has one."""
        return q.timeout if q is not None and q.timeout is not None else self.limits.timeout

    def _deadline(self, q: Question | None = None) -> float:
        return min(time.monotonic() + self._seconds(q), self.budget_end)

    def _open(self, setup: dict) -> Session | None:
        """A fresh sandbox that has received ``setup``; None when none could be started."""
        try:
            session = Session(self.zygote, self.limits)
        except (SandboxError, OSError) as err:
            self.start_error = str(err)
            return None
        session.send(setup)
        return session

    def _close(self, session: Session) -> None:
        session.close()
        text = session.output_text()
        if text.strip():
            self.outputs.append(text)

    # -- the notebook's run ----------------------------------------------------------------------
    def _run_session(self, remaining: list[Question]) -> list[Question]:
        """Run the cells, then as many questions as possible; return those still to do."""
        self.nonce = secrets.token_hex(16)
        session = self._open({"op": "setup", "mode": "notebook",
                              "cells": [list(c) for c in self.cells], "skip": sorted(self.skip),
                              "questions": [q.name for q in remaining], "nonce": self.nonce})
        if session is None:
            if self._forgive("start", 3):
                return remaining
            for q in remaining:
                self._set(q, "crash", f"Not graded: the sandbox failed ({self.start_error}).")
            return []
        try:
            names = self._run_cells(session)
            if names is None:
                return remaining
            if names is False:
                # No cell had started: the sandbox itself failed to come up (on a loaded
                # machine a fork can miss its start-up deadline); no student code ran yet,
                # so a fresh sandbox is fair.
                if self._forgive("start", 3) and remaining:
                    return remaining
                for q in remaining:
                    self._set(q, "crash", "Not graded: the sandbox did not start "
                                          f"({session.output_text()[-300:]}).")
                return []
            for i, q in enumerate(remaining):
                if not self._question(session, q, names.get(q.name)):
                    return remaining[i + 1:]
            session.send({"op": "exit"})
            return []
        finally:
            self._close(session)

    def _run_cells(self, session: Session):
        """``names`` when the cells ran; ``None`` to run again (a cell was skipped);
        ``False`` when the sandbox never started."""
        if not self._said_hello(session):
            return False
        current = last = None
        deadline = self._deadline()
        while True:
            kind, event = session.next_event(deadline)
            if kind == "event":
                if event.get("nonce") != self.nonce:
                    continue  # not from the grader's own code: a forgery (keeps the deadline)
                deadline = self._deadline()  # each cell gets its own time
                name = event["event"]
                if name == "cell_start" and type(event.get("cell")) is int:
                    current = last = event["cell"]
                elif name == "cell_end" and type(event.get("cell")) is int:
                    self._note_cell_error(event)
                    current = None
                elif name == "cells_done":
                    names = event.get("names")
                    return names if isinstance(names, dict) else {}
                continue
            culprit = current if current is not None else last
            # A cell hung, ate memory or ended the process (perhaps through a thread it left
            # running): skip it and run the notebook again without it.
            if culprit is None:
                return False
            self.skip.add(culprit)
            self.cell_notes[culprit] = f"cell {culprit} {_stop_text(kind, event, self.limits)}; " \
                                       "it was skipped and the notebook run again without it"
            return None

    def _said_hello(self, session: Session) -> bool:
        kind, event = session.next_event(time.monotonic() + self.limits.startup_timeout)
        return kind == "event" and event.get("event") == "hello" and \
            event.get("nonce") == self.nonce

    def _note_cell_error(self, event: dict) -> None:
        error = event.get("error")
        if error and event["cell"] not in self.cell_notes:
            e = _clean_error(error)
            where = f" (line {e['line']})" if e["line"] else ""
            self.cell_notes[event["cell"]] = (
                f"cell {event['cell']} raised {e['type']}{where}: {e['message']}")

    # -- one question of the notebook's run ------------------------------------------------------
    def _question(self, session: Session, q: Question, info) -> bool:
        """Grade ``q`` (not from scratch) in the notebook's sandbox; False when the sandbox had
        to be stopped (the rest go to a new one)."""
        if not self._defined(q, info):
            return True
        violations = self._static_scan(q, info)
        if violations:
            self._forbid_uses(q, violations, "answers may not use the grader's own package")
            return True
        end = self._evaluate(session, q)
        return end == "done"

    def _defined(self, q: Question, info) -> bool:
        """Whether the sandbox found a usable definition of ``q``; if not, say why."""
        info = info if isinstance(info, dict) else {"defined": False}
        if not info.get("defined"):
            where = mentioned_outside_code(self.nb, q.name)
            self._set(q, "missing", f"Not found: no code cell defines {q.name}." + (
                f" Cell {where} defines it but is not a code cell: change it back to code."
                if where else ""))
            return False
        if q.kind == "value" and info.get("none"):
            self._set(q, "missing", f"{q.name} is still None.")
            return False
        if q.kind == "function" and not info.get("callable"):
            self._set(q, "fail", f"{q.name} should be a function, but it is a "
                                 f"{str(info.get('type'))[:40]}.")
            self.result.questions[q.name].checks = []
            return False
        return True

    def _evaluate(self, session: Session, q: Question, violations: list | None = None) -> str:
        """Send ``q``'s inputs, collect the outputs, decide the verdict; how the run ended."""
        cases = self.plan.cases[q.name]
        nonce = secrets.token_hex(16)
        session.send({"op": "evaluate", "question": q.name, "kind": q.kind, "nonce": nonce,
                      "cases": self.plan.encoded[q.name]})
        outputs, errors, found = {}, {}, list(violations or [])
        end, detail = "done", None
        deadline = self._deadline(q)
        while True:
            kind, event = session.next_event(deadline)
            if kind != "event":
                end, detail = kind, event
                break
            if event.get("nonce") != nonce and event["event"] != "violation":
                continue  # not an answer to this request: a forgery
            name = event["event"]
            if name == "check" and event.get("question") == q.name:
                self._record_check(event, len(cases), outputs, errors)
            elif name == "violation" and q.from_scratch is not None:
                found.append(_violation_record(event))
            elif name == "question_done" and event.get("question") == q.name:
                break
        self._verdict(q, cases, outputs, errors, found, end, detail)
        return end

    @staticmethod
    def _record_check(event: dict, n_cases: int, outputs: dict, errors: dict) -> None:
        index = event.get("index")
        if type(index) is not int or not 0 <= index < n_cases or index in outputs or \
                index in errors:
            return
        if "output" in event:
            try:
                outputs[index] = codec.decode(event["output"])
            except codec.CodecError as err:
                errors[index] = {"type": "unreadable output", "message": str(err)[:200],
                                 "line": None, "memory": False}
        else:
            errors[index] = _clean_error(event.get("error"))

    def _static_scan(self, q: Question, info: dict):
        found = []
        codes = [self.model.definition(q.name)]
        if type(info.get("cell")) is int and type(info.get("line")) is int:
            codes.append(self.model.definition_at(q.name, info["cell"], info["line"]))
        for code in codes:
            if code is not None:
                found += [v for v in scan(code, static_rules(q)) if v not in found]
        return found

    # -- a from-scratch answer, on its own -------------------------------------------------------
    def _grade_answer(self, q: Question) -> None:
        """Extract ``q``'s answer from the notebook's text and evaluate it in a fresh sandbox
        under the strict regime; the verdict comes from the outputs, as for every question."""
        extraction = extract_answer(self.cells, q.name)
        if not extraction.found:
            self._defined(q, {"defined": False})
            return
        if self._refused_statically(q, extraction):
            return
        while not self._out_of_time():
            if self._run_answer(q, extraction):
                return
            if not self._forgive("start", 3):  # one budget of restarts for the submission
                self._set(q, "crash", "Not graded: the sandbox did not start.")
                return
        self._set(q, "timeout", f"Not run: the submission's time budget "
                                f"({self.limits.total:.0f} s) ran out.")

    def _refused_statically(self, q: Question, extraction: Extraction) -> bool:
        """Forbidden APIs or policy problems in the extracted code: 0 points, and why."""
        found = []
        for s in extraction.statements:
            code = Code(s.node, f"cell {s.cell}", self.model)
            found += [v for v in scan(code, static_rules(q)) if v not in found]
        if found:
            self._forbid_uses(q, found, "this question is from scratch")
            return True
        if extraction.problems:
            p = extraction.problems[0]
            self._forbid(q, [{"api": p.what, "used_as": p.what, "where": p.where,
                              "how": "answer policy"} for p in extraction.problems],
                         f"The answer's code {p.what} ({p.where}). A from-scratch answer is "
                         "graded on its own code, which may not look into the running "
                         "program or build code at run time, so it scores 0.")
            return True
        if self.tampering:
            v = self.tampering[0]
            self._forbid(q, [v.as_dict() for v in self.tampering],
                         f"The notebook looks into the grader's process ({v.api}, {v.where}), "
                         "so this from-scratch answer cannot be verified: it scores 0.")
            return True
        return False

    def _run_answer(self, q: Question, extraction: Extraction) -> bool:
        """One sandbox for ``q``'s extracted answer; False when it never started."""
        self.nonce = secrets.token_hex(16)
        session = self._open({"op": "setup", "mode": "answer", "question": q.name,
                              "pieces": extraction.pieces(),
                              "guard": runtime_rules(q).as_dict(), "nonce": self.nonce,
                              "train": q.open_ended})
        if session is None:
            return False
        try:
            if not self._said_hello(session):
                return False
            setup_errors, violations = [], []
            end, info = self._answer_setup(session, setup_errors, violations)
            if end != "done":
                self._verdict(q, self.plan.cases[q.name], {}, {}, violations, *end)
            elif info is not None and self._defined(q, info):
                self._evaluate(session, q, violations)
            elif violations:
                self._verdict(q, self.plan.cases[q.name], {}, {}, violations, "done", None)
            if setup_errors and self.result.questions[q.name].status != "ok":
                self._explain_setup(q, setup_errors)
            session.send({"op": "exit"})
            return True
        finally:
            self._close(session)

    def _answer_setup(self, session: Session, setup_errors: list, violations: list):
        """Follow the answer's top-level statements; ``("done", info)`` or ``((kind, detail),
        None)`` when the sandbox stopped."""
        deadline = self._deadline()
        while True:
            kind, event = session.next_event(deadline)
            if kind != "event":
                return (kind, event), None
            if event["event"] == "violation":
                violations.append(_violation_record(event))
                continue
            if event.get("nonce") != self.nonce:
                continue
            deadline = self._deadline()
            if event["event"] == "cell_end" and event.get("error"):
                setup_errors.append((event.get("cell"), _clean_error(event["error"])))
            elif event["event"] == "cells_done":
                names = event.get("names")
                return "done", (next(iter(names.values()), None) if isinstance(names, dict)
                                else None)

    def _explain_setup(self, q: Question, setup_errors: list) -> None:
        cell, e = setup_errors[0]
        where = f" (line {e['line']})" if e["line"] else ""
        text = f" Set up on its own, the answer's code in cell {cell}{where} raised " \
               f"{e['type']}: {e['message']}"
        if e["type"] == "NameError":
            text += f" — {_NAME_ERROR_HINT}"
        qr = self.result.questions[q.name]
        qr.feedback = (qr.feedback + text + ".").strip()

    def _verdict(self, q: Question, cases: list[CheckCase], outputs: dict, errors: dict,
                 violations: list, end: str, detail) -> None:
        qr = self.result.questions[q.name]
        checks = []
        not_run = {"done": "no answer came back", "timeout": "not run: time limit reached",
                   "memory": "not run: memory limit reached",
                   "exit": "not run: the process ended",
                   "protocol": "not run: the grader's channel broke"}[end]
        for c in cases:
            if c.index in outputs:
                o = q.assess(c.args, c.expected, outputs[c.index], reveal=c.public)
                checks.append(CheckOutcome(c.index, c.label, c.public, o.passed, o.message,
                                           credit_of(o), isinstance(o, Graded)))
            elif c.index in errors:
                e = errors[c.index]
                text = f"raised {e['type']}" + (f": {e['message']}" if e["message"] else "")
                checks.append(CheckOutcome(c.index, c.label, c.public, False, text))
            else:
                checks.append(CheckOutcome(c.index, c.label, c.public, False, not_run))
        qr.checks = checks
        n_passed = sum(c.passed for c in checks)
        score = round(q.points * sum(c.earned for c in checks) / len(checks), 4) \
            if checks else 0.0
        kinds = [e["type"] for e in errors.values()]
        if violations:
            qr.violations = violations
            v = violations[0]
            self._set(q, "forbidden", f"Called {v['api']} ({v['where']}): this question is "
                                      "from scratch, so it scores 0.")
        elif kinds and not outputs and all(k == "NotImplementedError" for k in kinds):
            self._set(q, "missing", f"{q.name} is still the stub (it raises "
                                    "NotImplementedError).")
        elif end == "timeout":
            self._set(q, "timeout", f"Stopped after {self._seconds(q):g} s: the checks did "
                                    f"not finish (an endless loop?). {n_passed} of {len(checks)} "
                                    "checks had passed.", score)
        elif end == "memory" or any(e["memory"] for e in errors.values()):
            self._set(q, "memory", f"Stopped: more than {self.limits.memory_mb} MB of memory. "
                                   f"{n_passed} of {len(checks)} checks had passed.", score)
        elif end in ("exit", "protocol") or "SystemExit" in kinds:
            why = _exit_text(detail) if end == "exit" else (
                str(detail) if end == "protocol" else "it called sys.exit()")
            if end == "exit" and detail and detail.get("cpu_limit"):
                self._set(q, "timeout", f"Stopped: {why}. {n_passed} of {len(checks)} checks "
                                        "had passed.", score)
                return
            self._set(q, "crash", f"The sandbox stopped while checking {q.name}: {why}. "
                                  f"{n_passed} of {len(checks)} checks had passed.", score)
        elif n_passed == len(checks):
            public = sum(c.public for c in checks)
            said = " ".join(c.message for c in checks if c.graded and c.public)
            self._set(q, "ok", "Correct." if q.kind == "value" else
                      f"All {len(checks)} checks passed ({public} public, "
                      f"{len(checks) - public} hidden)." + (f" {said}" if said else ""), score)
        else:
            self._set(q, "fail", self._fail_text(q, cases, checks, outputs, set(errors)), score)

    def _fail_text(self, q: Question, cases, checks, outputs, raised=()) -> str:
        public = [c for c in checks if c.public]
        hidden = [c for c in checks if not c.public]
        lines = [f"{sum(c.passed for c in checks)} of {len(checks)} checks passed "
                 f"({sum(c.passed for c in public)}/{len(public)} public, "
                 f"{sum(c.passed for c in hidden)}/{len(hidden)} hidden)."]
        first = next((c for c in public if not c.passed), None)
        if first is not None and first.graded:  # the judge's own words: no expected value
            lines.append(f"{first.label.capitalize()}: {first.message}")
        elif first is not None:
            case = cases[first.index]
            args = ", ".join(f"{n} = {format_value(a)}" for n, a in
                             zip(q.arg_names or [f"arg{i + 1}" for i in range(len(case.args))],
                                 case.args, strict=False))
            got = format_value(outputs[first.index]) if first.index in outputs else "—"
            lines.append(f"First failing public check, {case.label}"
                         + (f" ({case.note})" if case.note else "") + ":" +
                         (f" input {args};" if args else "") +
                         f" expected {format_value(case.expected)}, got {got}: {first.message}"
                         if q.kind == "function" else
                         f"{q.name} = {got} is not right: {first.message}")
        else:
            bad = next(c for c in hidden if not c.passed)
            lines.append(f"Every public check passes, but hidden checks fail, e.g. {bad.label}: "
                         f"{bad.message}. Test more cases (lengths, strides, padding).")
        # Matching on hidden checks too says only that the answer behaves like the slip: the
        # text is the mistake's fixed sentence, never a value.
        for m in matching_mistakes(q.mistakes, cases, outputs, q.tolerance, raised):
            lines.append(f"This {mistake_text(m)}.")
        if q.hint:
            lines.append(f"Hint: {q.hint}")
        return " ".join(lines)


def grade_submission(exercise: Exercise, batch_seed: int, student: str, filename: str,
                     data: bytes, zygote: Zygote, limits: Limits) -> SubmissionResult:
    """Grade one notebook's bytes; never raises (a grader failure is reported as crash).

    Its hidden checks are drawn from :func:`submission_seed` of ``batch_seed`` and ``student``.
    """
    plan = GradingPlan(exercise, submission_seed(batch_seed, student))
    grader = _SubmissionGrader(plan, student, filename, data, zygote, limits)
    try:
        return grader.grade()
    except Exception as err:  # one submission never stops the batch
        for q in plan.exercise.questions:
            qr = grader.result.questions[q.name]
            if qr.status == "missing" and not qr.feedback:
                qr.status, qr.feedback = "crash", f"Not graded: the grader failed ({err!r})."
        grader.result.notes.append(f"grader error: {err!r}")
        return grader._finish()


# --- batches -------------------------------------------------------------------------------------

def _student_id(relative: Path) -> str:
    stem = "__".join((*relative.parent.parts, relative.stem))
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "submission"


def find_submissions(folder: str | os.PathLike) -> list[tuple[str, Path]]:
    """``[(student id, path)]`` for every ``.ipynb`` under ``folder`` (any names, sub-folders
    allowed, checkpoints ignored); the id is the path without its suffix."""
    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"submissions folder {str(root)!r} does not exist or is not a folder")
    paths = sorted(p for p in root.rglob("*") if p.suffix.lower() == ".ipynb" and p.is_file()
                   and ".ipynb_checkpoints" not in p.parts)
    out, seen = [], {}
    for p in paths:
        sid = _student_id(p.relative_to(root))
        seen[sid] = seen.get(sid, 0) + 1
        out.append((sid if seen[sid] == 1 else f"{sid}-{seen[sid]}", p))
    return out


def grade_files(exercise: Exercise, files: list[tuple[str, str, bytes]], *, jobs: int = 2,
                limits: Limits | None = None, seed: int | None = None, progress: bool = True,
                isolation: str = "auto", info: dict | None = None,
                hide: tuple = ()) -> list[SubmissionResult]:
    """Grade ``(student, filename, bytes)`` triples in parallel, in a sandbox each.

    ``seed`` fixes the hidden checks (default: a fresh secret per call); each submission draws
    its own from it (:func:`submission_seed`). ``info``, when given, receives how the sandboxes
    were isolated (``mechanism``, ``protections``, ``missing``, ``why``: see
    :meth:`Zygote.isolation_report`). ``hide``: folders no sandbox may see (the submissions,
    the output).
    """
    from tqdm.auto import tqdm

    limits = limits or Limits()
    if not files:
        return []
    batch_seed = secrets.randbits(63) if seed is None else seed
    results: dict[int, SubmissionResult] = {}
    with Zygote(isolation, hide=hide) as zygote:
        if info is not None:
            info.update(zygote.isolation_report())
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs))
        with pool, tqdm(total=len(files), desc=f"grading {exercise.name}", unit="notebook",
                        disable=not progress, dynamic_ncols=True) as bar:
            futures = {pool.submit(grade_submission, exercise, batch_seed, s, f, d, zygote,
                                   limits): i
                       for i, (s, f, d) in enumerate(files)}
            for future in concurrent.futures.as_completed(futures):
                results[futures[future]] = future.result()
                bar.update(1)
    return [results[i] for i in range(len(files))]
