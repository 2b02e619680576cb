"""How alike two students' answers are, question by question, whatever the names and literals.

For each question, each notebook's answer is taken out of its *text*, as the grader does for a
from-scratch answer (:func:`~cnnlib.grading.extract.extract_answer`: the question's definition
and the top-level code it uses); nothing is run. What the exercise's student notebook already
holds is removed: statements copied from it unchanged (the set-up cell, ``import torch``, the
stub ``conv1d_params = None``) and, inside a function it defines, its docstring and the stub's
lines, so only what the student wrote is left. Definitions of the exercise's *other* questions
are left out too (each is compared under its own question). A question left as the stub gives
no answer and is not compared.

The answer is then *normalised*: written as a sequence of tokens, one per node of its syntax
tree (``For``, ``Call``, ``Add``…), where

- every name the answer binds (variables, parameters, its helper functions) becomes the same
  token ``v``, so renaming changes nothing, and splitting off a helper function or moving a
  statement changes little (numbering the names in order of use would renumber all that
  follows);
- a module imported under another name becomes the module's own name (``import torch as T``:
  ``T.zeros`` reads ``torch.zeros``); builtins, attributes (``.sum``) and the questions' names
  stay as they are;
- every literal is the same token (``0``, ``1.0`` and ``"x"`` alike); docstrings and other bare
  strings are dropped; comments and layout are gone with the parse.

Two answers' **score** is the Jaccard index of their sets of :data:`K`-grams of tokens (runs of
K consecutive tokens): ``|A ∩ B| / |A ∪ B|``, 1 for answers equal up to names, literals,
comments and layout, near 0 for unrelated code. A pair is **flagged** when its score is at
least :data:`THRESHOLD` and both answers have at least :data:`MIN_TOKENS` tokens: a one-line
answer (``(n + 2*p - m)//s + 1``) is the same for every student who got it right, so its
score says nothing.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from .extract import _segment, _top_statements, extract_answer
from .notebook import MAX_BYTES, read_notebook, runnable_cells
from .question import Exercise
from .scan import parse_cell

__all__ = [
    "MIN_TOKENS",
    "SOLUTION",
    "THRESHOLD",
    "Answer",
    "K",
    "Pair",
    "SimilarityResult",
    "Skipped",
    "Template",
    "answers_of",
    "compare_folder",
    "grams",
    "normalise",
    "score",
]

K = 5
"""Tokens per gram."""
THRESHOLD = 0.7
"""Score from which a pair is flagged. A copy with other names, literals, comments or layout
scores 1, and one with a statement added, a helper function split off or statements moved
stays above 0.7; independent correct answers score below 0.3
(tests/test_grading_similarity.py)."""
MIN_TOKENS = 40
"""Tokens both answers of a flagged pair need (a loop over a slice with a sum has about 60)."""
SOLUTION = "(solution)"
"""The name under which the exercise's own solution takes part, when its source is found."""

_STRING_TYPES = (str, bytes)


# --- the template: what the student notebook already holds ---------------------------------------

@dataclass
class Template:
    """The exercise's student notebook: its statements and, per function, its body's
    statements, as exact keys (names and literals kept)."""

    statements: set[tuple] = field(default_factory=set)
    bodies: dict[str, set[tuple]] = field(default_factory=dict)

    @classmethod
    def from_cells(cls, cells: list[tuple[int, str]]) -> Template:
        out = cls()
        for _, source in cells:
            try:
                tree = parse_cell(source)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
            for stmt in _top_statements(tree):
                out.statements.add(_key(stmt))
                if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                    out.bodies.setdefault(stmt.name, set()).update(_key(s) for s in stmt.body)
        return out

    @classmethod
    def from_notebook(cls, path: str | Path) -> Template:
        """The template of a student notebook file (``exercises/02_conv1d.ipynb``)."""
        nb = read_notebook(Path(path).read_bytes())
        if nb.error is not None:
            raise ValueError(f"the exercise's student notebook {path} cannot be read: {nb.error}")
        return cls.from_cells(runnable_cells(nb)[0])


# --- tokens --------------------------------------------------------------------------------------

def _is_bare_string(node: ast.AST) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and \
        isinstance(node.value.value, _STRING_TYPES)


def _key(node: ast.AST) -> tuple:
    """An exact key of a statement (names and literals kept; positions, comments and layout
    not), built without recursion."""
    out: list = []
    stack = [node]
    while stack:
        n = stack.pop()
        out.append(type(n).__name__)
        for name, value in ast.iter_fields(n):
            if isinstance(value, str | int | float | complex | bytes | bool) or value is None:
                out.append((name, repr(value)))
        stack.extend(reversed(list(ast.iter_child_nodes(n))))
    return tuple(out)


def _bound_names(statements: list[ast.stmt]) -> set[str]:
    """Every name the statements bind (assigned, a parameter, a def or class, an exception)."""
    bound: set[str] = set()
    for stmt in statements:
        for n in ast.walk(stmt):
            if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
                bound.add(n.id)
            elif isinstance(n, ast.arg):
                bound.add(n.arg)
            elif isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                bound.add(n.name)
            elif isinstance(n, ast.ExceptHandler) and n.name:
                bound.add(n.name)
    return bound


def _imported_modules(statements: list[ast.stmt]) -> dict[str, str]:
    """``{name bound by an import: the dotted name it stands for}``."""
    out = {}
    for stmt in statements:
        for n in ast.walk(stmt):
            if isinstance(n, ast.Import):
                for a in n.names:
                    if a.asname:
                        out[a.asname] = a.name
                    else:
                        out[a.name.split(".")[0]] = a.name.split(".")[0]
            elif isinstance(n, ast.ImportFrom):
                for a in n.names:
                    out[a.asname or a.name] = f"{n.module or ''}.{a.name}"
    return out


class _Names:
    """The normalised spelling of each name (see the module docstring)."""

    def __init__(self, statements: list[ast.stmt], keep: frozenset[str],
                 modules: dict[str, str]):
        self.modules = modules | _imported_modules(statements)
        self.bound = _bound_names(statements) - set(self.modules)
        self.keep = keep

    def __call__(self, name: str) -> str:
        if name in self.keep:
            return name
        if name in self.modules:
            return self.modules[name]
        if name in self.bound:
            return "v"
        return name  # a builtin, or a name the template binds (torch)


def _node_tokens(n: ast.AST, names: _Names) -> list[str]:
    kind = type(n).__name__
    if isinstance(n, ast.Name):
        return [kind, names(n.id)]
    if isinstance(n, ast.arg):
        return [kind, names(n.arg)]
    if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [kind, names(n.name)]
    if isinstance(n, ast.Attribute):
        return [kind, n.attr]
    if isinstance(n, ast.keyword):
        return [kind, n.arg or "**"]
    if isinstance(n, ast.alias):
        return [kind, n.name]
    if isinstance(n, ast.ImportFrom):
        return [kind, n.module or "."]
    return [kind]


def normalise(statements: list[ast.stmt], keep: frozenset[str] = frozenset(),
              modules: dict[str, str] | None = None) -> tuple[str, ...]:
    """The answer's tokens, in source order (see the module docstring). ``keep``: names that
    stay as they are (the exercise's questions); ``modules``: names bound by imports outside
    ``statements`` (``{"T": "torch"}``), besides those it imports itself."""
    names = _Names(statements, keep, modules or {})
    out: list[str] = []
    stack: list[ast.AST] = list(reversed(statements))
    while stack:
        n = stack.pop()
        if isinstance(n, ast.expr_context) or _is_bare_string(n):
            continue
        out.extend(_node_tokens(n, names))
        stack.extend(reversed(list(ast.iter_child_nodes(n))))
    return tuple(out)


def grams(tokens: tuple[str, ...], k: int = K) -> frozenset[bytes]:
    """The set of ``k``-grams of ``tokens`` (hashed); the whole sequence when it is shorter."""
    runs = [tokens[i:i + k] for i in range(max(1, len(tokens) - k + 1))]
    return frozenset(hashlib.blake2b("\x1f".join(r).encode(), digest_size=8).digest()
                     for r in runs if r)


def score(a: frozenset, b: frozenset) -> float:
    """Jaccard index ``|a ∩ b| / |a ∪ b|`` of two gram sets (0 when both are empty)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


# --- one notebook's answer to one question -------------------------------------------------------

@dataclass
class Answer:
    """What one notebook answers to one question, once the template is taken out."""

    student: str
    question: str
    code: str                    # the student's text of it, as written
    tokens: tuple[str, ...]
    grams: frozenset = field(repr=False, default=frozenset())


def _strip_template(stmt: ast.stmt, template: Template) -> ast.stmt | None:
    """``stmt`` without what the template holds; None when nothing of the student's is left."""
    if _key(stmt) in template.statements:
        return None
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
        stub = template.bodies.get(stmt.name, set())
        body = [s for s in stmt.body if not _is_bare_string(s) and _key(s) not in stub]
        if not body:
            return None
        copy = ast.FunctionDef(**{f: getattr(stmt, f) for f in stmt._fields}) \
            if isinstance(stmt, ast.FunctionDef) else \
            ast.AsyncFunctionDef(**{f: getattr(stmt, f) for f in stmt._fields})
        copy.body = body
        return copy
    return stmt


def _names_of(stmt: ast.stmt) -> set[str]:
    if isinstance(stmt, ast.Import | ast.ImportFrom):
        return set()
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {stmt.name}
    return _bound_names([stmt])


def _own_statements(question: str, extractions: dict) -> list:
    """The statements of ``question``'s extraction, less those of the other questions it uses
    (each is compared under its own name), in the order the notebook runs them."""
    mine = extractions[question].statements
    used = {o for s in mine for o in _names_of(s.node) if o != question and o in extractions}
    theirs = {s.key for o in used for s in extractions[o].statements}
    return [s for s in mine if s.key not in theirs or question in _names_of(s.node)]


def answers_of(cells: list[tuple[int, str]], questions: list[str], template: Template,
               student: str = "") -> dict[str, Answer]:
    """``student``'s answer to each of ``questions`` in ``cells`` (``[(cell number,
    source)]``); a question whose answer holds nothing beyond the template is left out."""
    extractions = {q: extract_answer(cells, q) for q in questions}
    keep = frozenset(questions)
    out = {}
    for q in questions:
        modules = _imported_modules([s.node for s in extractions[q].statements])
        kept: list[ast.stmt] = []
        texts: list[str] = []
        for s in _own_statements(q, extractions):
            stripped = _strip_template(s.node, template)
            if stripped is not None:
                kept.append(stripped)
                texts.append(_segment(extractions[q].sources[s.cell].splitlines(),
                                      s.node).rstrip())
        if kept:
            tokens = normalise(kept, keep, modules)
            out[q] = Answer(student, q, "\n\n".join(texts) + "\n", tokens, grams(tokens))
    return out


# --- a folder -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pair:
    question: str
    a: str
    b: str
    score: float
    flagged: bool
    tokens: tuple[int, int]


@dataclass(frozen=True)
class Skipped:
    """A file that was not compared, and why."""

    student: str
    file: str
    reason: str


@dataclass
class SimilarityResult:
    exercise: str
    students: list[str]
    answers: dict[str, dict[str, Answer]]      # question → student → answer
    pairs: dict[str, list[Pair]]               # question → the top pairs, most similar first
    flagged: dict[str, int]                    # question → pairs flagged (all, not only top)
    skipped: list[Skipped]


def _cells_of(data: bytes) -> tuple[list[tuple[int, str]] | None, str | None]:
    nb = read_notebook(data)
    if nb.error is not None:
        return None, nb.error
    return runnable_cells(nb)[0], None


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(MAX_BYTES + 1)
    except OSError as err:
        return f"unreadable file: {err}".encode()


def _pairs(question: str, answers: dict[str, Answer], top: int) -> tuple[list[Pair], int]:
    found = []
    for x, y in combinations(sorted(answers), 2):
        a, b = answers[x], answers[y]
        s = round(score(a.grams, b.grams), 4)
        sizes = (len(a.tokens), len(b.tokens))
        found.append(Pair(question, x, y, s, s >= THRESHOLD and min(sizes) >= MIN_TOKENS,
                          sizes))
    found.sort(key=lambda p: (-p.score, -min(p.tokens), p.a, p.b))
    return found[:top], sum(p.flagged for p in found)


def compare_folder(exercise: Exercise, submissions, template: Template, *,
                   solution: Path | None = None, top: int = 10) -> SimilarityResult:
    """Every pair of notebooks under ``submissions`` (and the exercise's ``solution`` notebook,
    as :data:`SOLUTION`, when given), question by question: the ``top`` most similar pairs of
    each question. Files that are not notebooks are listed in ``skipped``."""
    from .grader import find_submissions

    if not isinstance(top, int) or top < 1:
        raise ValueError(f"top must be a positive int, got {top!r}")
    root = Path(submissions)
    files = [(s, str(p.relative_to(root)), _read(p)) for s, p in find_submissions(root)]
    if solution is not None:
        files.append((SOLUTION, str(solution), Path(solution).read_bytes()))
    names = [q.name for q in exercise.questions]
    answers: dict[str, dict[str, Answer]] = {q.name: {} for q in exercise.questions}
    skipped, students = [], []
    for student, file, data in files:
        cells, error = _cells_of(data)
        if cells is None:
            skipped.append(Skipped(student, file, error or "unreadable"))
            continue
        students.append(student)
        for q, a in answers_of(cells, names, template, student).items():
            answers[q][student] = a
    pairs, flagged = {}, {}
    for q in exercise.questions:
        pairs[q.name], flagged[q.name] = _pairs(q.name, answers[q.name], top)
    return SimilarityResult(exercise.name, students, answers, pairs, flagged, skipped)
