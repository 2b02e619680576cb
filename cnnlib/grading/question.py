"""Questions and exercises: what a student defines, what it is checked against, what it is worth.

A :class:`Question` is a function or a value the student defines in the notebook, found by its
name. It carries, declared once:

- ``points``, shared out over its checks (partial credit per check);
- a ``reference`` (PyTorch, numpy or cnnlib) that computes every expected answer;
- ``fixed`` hand-checked cases (their hand-written answers are tested against the reference);
- ``random_case(rng) -> args`` drawing random inputs: ``n_public`` of them with a fixed seed
  (the student's ``check()`` runs them) and ``n_hidden`` with a seed drawn at grading time;
- ``from_scratch``: the APIs the answer may not call (a :class:`FromScratch`);
- a ``hint`` shown when a check fails;
- ``mistakes``: the known slips (:class:`~cnnlib.grading.mistakes.Mistake`), each with a hint
  that names it, shown instead of a bare failure when the answer reproduces that slip;
- a ``judge`` (optional) for questions with many right answers (a filter designed for a
  purpose, a downsampler that must lower an error): ``judge(args, expected, got, reveal)``
  returns an :class:`~cnnlib.grading.compare.Outcome` in place of the comparison with the
  reference's answer. It runs in the grader's process, never beside the student's code, and
  with ``reveal=False`` its message names no value. A judge may return a :class:`Graded`
  outcome: a check worth part of its share (``credit`` between 0 and 1), as a training
  question grades the accuracy a network reached;
- ``check_judge`` (optional): the judge the student's ``check()`` uses in their own kernel
  instead of ``judge`` (a training question measures there on held-out training digits, never
  on the test digits the grader keeps);
- ``timeout`` (optional): wall seconds for this question's checks in the sandbox, in place of
  the grader's per-question limit (a training question gets its own, stated in its notebook).

An :class:`Exercise` is the list of questions of one notebook; ``load_exercise("02_conv1d")``
imports ``cnnlib.grading.exercises.ex02_conv1d`` and returns its ``EXERCISE``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib
import pkgutil
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .compare import Outcome, Tolerance, compare
from .mistakes import Mistake

__all__ = [
    "Case",
    "CheckCase",
    "Exercise",
    "FromScratch",
    "Graded",
    "Question",
    "list_exercises",
    "load_exercise",
]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXERCISE_NAME = re.compile(r"\d\d_[a-z0-9_]+")


@dataclass(frozen=True)
class FromScratch:
    """What a "from scratch" answer may not use.

    ``apis``: dotted names (``"torch.nn.functional.conv1d"``, ``"torch.Tensor.unfold"``); a name
    also forbids everything under it (``"torch.nn.Conv1d"`` covers its ``forward``).
    ``modules``: whole modules whose import and functions are forbidden (``"scipy.signal"``).
    ``aten``: PyTorch operator names, shell-style patterns (``"conv*"``), caught where every
    Python path to them meets, the dispatcher, so ``torch.ops.aten.convolution`` is caught too.
    """

    apis: tuple[str, ...]
    modules: tuple[str, ...] = ()
    aten: tuple[str, ...] = ()
    attrs: tuple[str, ...] = ()

    def __post_init__(self):
        for name in (*self.apis, *self.modules, *self.attrs):
            if not all(_NAME.fullmatch(part) for part in name.split(".")):
                raise ValueError(f"forbidden name must be a dotted Python name, got {name!r}")

    def match(self, dotted: str) -> str | None:
        """The forbidden entry that ``dotted`` (a resolved name) falls under, else None."""
        for entry in (*self.apis, *self.modules):
            if dotted == entry or dotted.startswith(entry + "."):
                return entry
        return None

    @property
    def method_names(self) -> dict[str, str]:
        """Forbidden tensor/array methods by bare name: ``{"unfold": "torch.Tensor.unfold"}``."""
        names = {e.rsplit(".", 1)[1]: e for e in self.apis
                 if e.startswith(("torch.Tensor.", "numpy.ndarray."))}
        return names | {a: f"<any object>.{a}" for a in self.attrs}

    @property
    def module_prefixes(self) -> tuple[str, ...]:
        """Modules that hold forbidden names, for spotting dynamic lookups (``getattr(F, s)``)."""
        return tuple(sorted({e.rsplit(".", 1)[0] for e in self.apis} | set(self.modules)))

    def aten_match(self, op_name: str) -> str | None:
        base = op_name.split("::")[-1].split(".")[0]
        for pattern in self.aten:
            if fnmatch.fnmatchcase(base, pattern):
                return pattern
        return None

    def union(self, other: FromScratch) -> FromScratch:
        def merge(a, b):
            return tuple(dict.fromkeys((*a, *b)))
        return FromScratch(merge(self.apis, other.apis), merge(self.modules, other.modules),
                           merge(self.aten, other.aten), merge(self.attrs, other.attrs))

    def as_dict(self) -> dict:
        return {"apis": list(self.apis), "modules": list(self.modules), "aten": list(self.aten),
                "attrs": list(self.attrs)}

    @classmethod
    def from_dict(cls, d: dict) -> FromScratch:
        return cls(**{k: tuple(d.get(k, ())) for k in ("apis", "modules", "aten", "attrs")})

    def describe(self) -> str:
        return ", ".join((*self.apis, *self.modules))


_NO_ANSWER = object()


@dataclass(frozen=True)
class Case:
    """A fixed, hand-checked case: the arguments and the answer written by hand."""

    args: tuple
    expected: Any = _NO_ANSWER
    note: str = ""

    @property
    def has_expected(self) -> bool:
        return self.expected is not _NO_ANSWER


@dataclass(frozen=True)
class CheckCase:
    """One check as the grader runs it: inputs, the reference's answer, and where it came from."""

    index: int
    public: bool
    args: tuple
    expected: Any
    label: str
    note: str = ""


@dataclass(frozen=True)
class Graded(Outcome):
    """A judge's outcome worth part of a check: ``credit`` in [0, 1] (``passed`` is
    ``credit == 1``). The check scores ``credit`` of its share of the points."""

    credit: float = 0.0

    def __post_init__(self):
        if not 0.0 <= self.credit <= 1.0:
            raise ValueError(f"credit must be between 0 and 1, got {self.credit!r}")
        if self.passed != (self.credit == 1.0):
            raise ValueError("a Graded outcome passes exactly when its credit is 1")

    @classmethod
    def of(cls, credit: float, message: str = "") -> Graded:
        credit = min(1.0, max(0.0, float(credit)))
        return cls(credit == 1.0, message, credit)


def credit_of(outcome: Outcome) -> float:
    """The share of a check's points an outcome earns: its ``credit`` when it is
    :class:`Graded`, else 1 when it passed and 0 when not."""
    return outcome.credit if isinstance(outcome, Graded) else float(outcome.passed)


@dataclass(frozen=True)
class Question:
    """A function or value the student defines; see the module docstring."""

    name: str
    kind: str
    points: float
    reference: Callable[..., Any]
    arg_names: tuple[str, ...] = ()
    fixed: tuple[Case, ...] = ()
    random_case: Callable[[np.random.Generator], tuple] | None = None
    n_public: int = 0
    n_hidden: int = 0
    from_scratch: FromScratch | None = None
    hint: str = ""
    tolerance: Tolerance = field(default_factory=Tolerance)
    mistakes: tuple[Mistake, ...] = ()
    judge: Callable[[tuple, Any, Any, bool], Outcome] | None = None
    check_judge: Callable[[tuple, Any, Any, bool], Outcome] | None = None
    timeout: float | None = None

    def __post_init__(self):
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"name must be a Python identifier, got {self.name!r}")
        if self.kind not in ("function", "value"):
            raise ValueError(f"kind must be 'function' or 'value', got {self.kind!r}")
        if not self.points > 0:
            raise ValueError(f"points must be positive, got {self.points!r}")
        if self.kind == "function" and not self.fixed and self.random_case is None:
            raise ValueError(f"question {self.name!r} has no cases: give fixed or random_case")
        if (self.n_public or self.n_hidden) and self.random_case is None:
            raise ValueError(f"question {self.name!r} asks for random cases but has no "
                             "random_case")
        if not all(isinstance(m, Mistake) for m in self.mistakes):
            raise TypeError(f"mistakes of question {self.name!r} must be Mistake objects")
        labels = [m.label for m in self.mistakes]
        if len(set(labels)) != len(labels):
            raise ValueError(f"mistake labels repeat in question {self.name!r}: {labels}")
        if self.judge is not None and not callable(self.judge):
            raise TypeError(f"judge of question {self.name!r} must be callable, "
                            f"got {type(self.judge).__name__}")
        if self.check_judge is not None and not callable(self.check_judge):
            raise TypeError(f"check_judge of question {self.name!r} must be callable, "
                            f"got {type(self.check_judge).__name__}")
        if self.timeout is not None and not (
                isinstance(self.timeout, int | float) and not isinstance(self.timeout, bool)
                and 0 < self.timeout <= 600):
            raise ValueError(f"timeout of question {self.name!r} must be seconds in (0, 600], "
                             f"got {self.timeout!r}")

    def assess(self, args: tuple, expected, got, reveal: bool = True,
               checker: bool = False) -> Outcome:
        """Whether ``got`` answers the case ``args``: the :attr:`judge` when the question has
        one (its :attr:`check_judge`, when it has one, for the student's ``check()``:
        ``checker=True``), else :func:`~cnnlib.grading.compare.compare` with the reference's
        ``expected``. A judge that cannot read the answer (wrong type or shape) fails the
        check; it never raises."""
        judge = (self.check_judge or self.judge) if checker else self.judge
        if judge is None:
            return compare(expected, got, self.tolerance, reveal=reveal)
        try:
            outcome = judge(args, expected, got, reveal)
        except Exception as err:  # a malformed answer: a failed check, not a crash
            return Outcome(False, f"the answer could not be checked ({type(err).__name__})")
        if not isinstance(outcome, Outcome):
            raise TypeError(f"judge of question {self.name!r} must return an Outcome, "
                            f"got {type(outcome).__name__}")
        return outcome

    @classmethod
    def function(cls, name: str, *, points: float, reference: Callable, args: Sequence[str],
                 fixed: Sequence[Case] = (), random_case=None, n_public: int = 0,
                 n_hidden: int = 0, from_scratch: FromScratch | None = None, hint: str = "",
                 tolerance: Tolerance | None = None,
                 mistakes: Sequence[Mistake] = (), judge=None, check_judge=None,
                 timeout: float | None = None) -> Question:
        """A function ``name(*args)`` checked case by case against ``reference`` (or by
        ``judge``)."""
        return cls(name, "function", points, reference, tuple(args), tuple(fixed), random_case,
                   n_public, n_hidden, from_scratch, hint, tolerance or Tolerance(),
                   tuple(mistakes), judge, check_judge, timeout)

    @classmethod
    def value(cls, name: str, *, points: float, reference: Callable[[], Any],
              hint: str = "", judge=None) -> Question:
        """A value ``name`` (a number, a tensor…) equal to what ``reference()`` computes (or
        accepted by ``judge``, called with ``args=()``)."""
        return cls(name, "value", points, reference, hint=hint, judge=judge)

    @property
    def open_ended(self) -> bool:
        """Judged on what the answer achieves on data the grader holds, measured by
        ``check()`` on other data (a training question): it has no hand-checked cases, no
        hidden random cases and no bank of known mistakes (a wrong answer is a weak network,
        not a wrong value)."""
        return self.check_judge is not None

    @property
    def n_checks(self) -> int:
        if self.kind == "value":
            return 1
        return len(self.fixed) + self.n_public + self.n_hidden

    @property
    def n_public_checks(self) -> int:
        return 1 if self.kind == "value" else len(self.fixed) + self.n_public


def _clone(value):
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple | list):
        return type(value)(_clone(v) for v in value)
    return value


def _stable_seed(*parts: object) -> int:
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little")


@dataclass(frozen=True)
class Exercise:
    """The graded questions of one exercise notebook, in the order the notebook asks them."""

    name: str
    title: str
    questions: tuple[Question, ...]

    def __post_init__(self):
        if not _EXERCISE_NAME.fullmatch(self.name):
            raise ValueError(f"exercise name must look like '02_conv1d', got {self.name!r}")
        names = [q.name for q in self.questions]
        if len(set(names)) != len(names):
            raise ValueError(f"question names repeat in exercise {self.name}: {names}")

    def question(self, name: str) -> Question:
        for q in self.questions:
            if q.name == name:
                return q
        known = ", ".join(q.name for q in self.questions)
        raise KeyError(f"exercise {self.name} has no question {name!r}; its questions: {known}")

    @property
    def points(self) -> float:
        return sum(q.points for q in self.questions)

    def forbidden_union(self) -> FromScratch:
        out = FromScratch(())
        for q in self.questions:
            if q.from_scratch is not None:
                out = out.union(q.from_scratch)
        return out

    def public_cases(self, question: Question) -> list[CheckCase]:
        """The fixed cases and the ``n_public`` random ones (fixed seed), expected answers
        computed by the reference."""
        q = question
        if q.kind == "value":
            return [CheckCase(0, True, (), q.reference(), "the value")]
        cases = [CheckCase(i, True, c.args, q.reference(*_clone(c.args)), f"fixed case {i + 1}",
                           c.note) for i, c in enumerate(q.fixed)]
        rng = np.random.default_rng(_stable_seed(self.name, q.name, "public"))
        for j in range(q.n_public):
            args = tuple(q.random_case(rng))
            cases.append(CheckCase(len(cases), True, args, q.reference(*_clone(args)),
                                   f"random case {j + 1}"))
        return cases

    def hidden_cases(self, question: Question, seed: int) -> list[CheckCase]:
        """``n_hidden`` random cases drawn from the grading run's secret ``seed``."""
        q = question
        if q.kind == "value" or not q.n_hidden:
            return []
        rng = np.random.default_rng([seed, _stable_seed(self.name, q.name, "hidden")])
        start = q.n_public_checks
        out = []
        for j in range(q.n_hidden):
            args = tuple(q.random_case(rng))
            out.append(CheckCase(start + j, False, args, q.reference(*_clone(args)),
                                 f"hidden check {j + 1}"))
        return out


def load_exercise(name: str) -> Exercise:
    """The :class:`Exercise` declared in ``cnnlib/grading/exercises/ex<name>.py``."""
    if not isinstance(name, str) or not _EXERCISE_NAME.fullmatch(name):
        raise ValueError(f"exercise must be a name like '02_conv1d', got {name!r}")
    try:
        module = importlib.import_module(f"cnnlib.grading.exercises.ex{name}")
    except ModuleNotFoundError as err:
        known = ", ".join(list_exercises()) or "none"
        raise ValueError(f"no exercise named {name!r}; known exercises: {known}") from err
    exercise = module.EXERCISE
    if exercise.name != name:
        raise ValueError(f"module ex{name} declares exercise {exercise.name!r}")
    return exercise


def list_exercises() -> list[str]:
    """Names of every exercise shipped in ``cnnlib.grading.exercises``."""
    from . import exercises

    return sorted(m.name[2:] for m in pkgutil.iter_modules(exercises.__path__)
                  if m.name.startswith("ex") and _EXERCISE_NAME.fullmatch(m.name[2:]))
