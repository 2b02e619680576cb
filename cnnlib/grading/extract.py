"""A from-scratch answer, taken out of its notebook: the code it needs and nothing else.

A from-scratch question is not graded in the process that ran the notebook: code anywhere in a
notebook could switch a guard off there. Instead the grader reads the notebook's *text* and
extracts the answer — the definition of the question's name and, transitively, the top-level
statements it uses (its helper functions and classes, the imports it names, the constants it
reads) — and a fresh sandbox that runs no other code of the submission evaluates it.

The extracted code must also keep to a strict policy (:func:`policy_problems`), which is what
makes the runtime guard of that sandbox impossible to switch off from inside: no
introspection (frames, ``gc``, code objects, ``__closure__``, ``__globals__``, dunder or
private attributes), no code built at run time (``eval``, ``exec``, ``compile``, ``getattr``
of a computed name), no ``sys``/``os``/``threading``/``importlib``/``ctypes`` — only imports of
numerical and standard helper modules. An honest answer never needs any of it.

The student's ``check()`` applies the same extraction to the cells the kernel has run, so a
student learns at once that an answer depends on something it may not.

Statements that bind a name at the top level of a cell are ``def``, ``class``, ``import``,
assignments (also inside ``if``/``for``/``with``/``try`` blocks of the cell), and augmented
assignments after them. Names bound any other way (a loop variable, ``globals()[...]``) are not
found: the extracted answer then raises ``NameError``, and the feedback says why.
"""

from __future__ import annotations

import ast
import symtable
import textwrap
from dataclasses import dataclass, field

from .scan import parse_cell

__all__ = ["ALLOWED_MODULES", "Extraction", "Problem", "Statement", "extract_answer",
           "policy_problems"]

ALLOWED_MODULES = frozenset({
    "torch", "numpy", "scipy", "cnnlib", "math", "cmath", "functools", "itertools",
    "operator", "collections", "typing", "typing_extensions", "dataclasses", "fractions",
    "decimal", "statistics", "numbers", "copy", "enum", "abc", "string", "heapq", "bisect",
    "random", "array", "re", "__future__",
})
"""Top-level modules a from-scratch answer may import (and their submodules, but those in
:data:`REFUSED_MODULES`)."""

REFUSED_MODULES = (
    "torch.jit", "torch.library", "torch.fx", "torch.compiler", "torch.multiprocessing",
    "torch.distributed", "torch.utils", "torch.hub", "torch.package", "torch.export",
    "torch.futures", "torch.overrides", "torch.ops", "torch.testing", "torch.backends",
    "torch.cuda.memory", "numpy.ctypeslib", "numpy.f2py", "numpy.distutils", "numpy.testing",
    "cnnlib.grading", "cnnlib.datasets", "cnnlib.doctor", "cnnlib.env", "scipy.weave",
)
"""Submodules that reach threads, processes, kernels, files or the grader."""

_REFUSED_CALLS = frozenset({
    "eval", "exec", "compile", "__import__", "globals", "locals", "vars", "open",
    "breakpoint", "input", "help", "exit", "quit",
})
_NAMED_ATTR_CALLS = frozenset({"getattr", "setattr", "delattr", "hasattr"})
_ALLOWED_DUNDERS = frozenset({
    "__init__", "__call__", "__name__", "__len__", "__getitem__", "__setitem__", "__iter__",
    "__next__", "__repr__", "__str__", "__eq__", "__hash__", "__enter__", "__exit__",
    "__array__", "__doc__", "__contains__",
})
_REFUSED_ATTRS = frozenset({
    "f_back", "f_locals", "f_globals", "f_builtins", "f_code", "f_trace", "tb_frame",
    "tb_next", "gi_frame", "gi_code", "cr_frame", "cr_code", "ag_frame", "ag_code",
    "co_code", "co_consts", "co_names", "func_globals", "ctypes", "attrgetter",
    "methodcaller", "get_type_hints", "load", "loads",
})


@dataclass(frozen=True)
class Problem:
    """Something the extracted answer may not do (``where``: "cell 5, line 3")."""

    what: str
    where: str

    def describe(self) -> str:
        return f"{self.what} ({self.where})"


@dataclass(frozen=True)
class Statement:
    """One top-level statement of a cell: the cell's number, where it starts, its tree."""

    cell: int
    line: int
    col: int
    node: ast.stmt = field(compare=False, repr=False)
    order: int = field(compare=False, default=0)

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.cell, self.line, self.col)


@dataclass
class Extraction:
    """What :func:`extract_answer` found for one question."""

    name: str
    statements: list[Statement]
    problems: list[Problem]
    sources: dict[int, str]

    @property
    def found(self) -> bool:
        return bool(self.statements)

    def pieces(self) -> list[list]:
        """``[[cell, source, [[line, col], ...]], ...]``: the cells' text and which of their
        statements to run, in the order the notebook runs them (what the sandbox receives)."""
        out: list[list] = []
        for s in sorted(self.statements, key=lambda s: s.order):
            if not out or out[-1][0] != s.cell:
                out.append([s.cell, self.sources[s.cell], []])
            out[-1][2].append([s.line, s.col])
        return out


# --- which statements bind which names -----------------------------------------------------------

def _bound_names(stmt: ast.stmt) -> list[str]:
    if isinstance(stmt, ast.Import):
        return [a.asname or a.name.split(".")[0] for a in stmt.names]
    if isinstance(stmt, ast.ImportFrom):
        return [a.asname or a.name for a in stmt.names if a.name != "*"]
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [stmt.name]
    targets: list[ast.expr] = []
    if isinstance(stmt, ast.Assign):
        targets = list(stmt.targets)
    elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        targets = [stmt.target]
    elif isinstance(stmt, ast.AugAssign):
        targets = [stmt.target]
    names = []
    while targets:
        t = targets.pop()
        if isinstance(t, ast.Name):
            names.append(t.id)
        elif isinstance(t, ast.Tuple | ast.List):
            targets.extend(t.elts)
        elif isinstance(t, ast.Starred):
            targets.append(t.value)
    return names


def _top_statements(tree: ast.Module) -> list[ast.stmt]:
    """The cell's statements, with those nested in if/for/while/with/try blocks (not in
    functions or classes), in source order."""
    out: list[ast.stmt] = []
    stack = list(reversed(tree.body))
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, ast.If | ast.For | ast.AsyncFor | ast.While | ast.With |
                      ast.AsyncWith | ast.Try):
            inner = [*stmt.body, *getattr(stmt, "orelse", []), *getattr(stmt, "finalbody", [])]
            for handler in getattr(stmt, "handlers", []):
                inner.extend(handler.body)
            stack.extend(reversed(inner))
        else:
            out.append(stmt)
    return out


def _start(stmt: ast.stmt) -> tuple[int, int]:
    decorators = getattr(stmt, "decorator_list", None)
    if decorators:
        first = decorators[0]
        return first.lineno, max(first.col_offset - 1, 0)
    return stmt.lineno, stmt.col_offset


def _segment(source_lines: list[str], stmt: ast.stmt) -> str:
    """The statement's text, dedented (decorators included)."""
    line, col = _start(stmt)
    end_line, end_col = stmt.end_lineno or line, stmt.end_col_offset or 0
    lines = source_lines[line - 1:end_line]
    if not lines:
        return ""
    if len(lines) == 1:
        lines = [lines[0][col:end_col]]
    else:
        lines = [" " * col + lines[0][col:], *lines[1:-1], lines[-1][:end_col]]
    return textwrap.dedent("\n".join(lines)) + "\n"


def _free_names(stmt: ast.stmt, text: str) -> tuple[set[str], set[str]]:
    """Global names the statement reads: ``(now, later)`` — those read while it runs (its
    right-hand side, a decorator, a class body) and those read when its functions are called."""
    try:
        table = symtable.symtable(text, "<answer>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set(), {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}
    now = {sym.get_name() for sym in table.get_symbols()
           if sym.is_referenced() and not sym.is_imported()}
    later: set[str] = set()
    stack = list(table.get_children())
    while stack:
        child = stack.pop()
        stack.extend(child.get_children())
        names = {sym.get_name() for sym in child.get_symbols()
                 if sym.is_global() and sym.is_referenced()}
        (now if child.get_type() == "class" else later).update(names)
    return now, later


class _Model:
    """Every top-level binding of a notebook's cells, in the order the cells run."""

    def __init__(self, cells: list[tuple[int, str]]):
        self.sources: dict[int, str] = {}
        self.lines: dict[int, list[str]] = {}
        self.bindings: dict[str, list[Statement]] = {}
        order = 0
        for number, source in cells:
            try:
                tree = parse_cell(source)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
            self.sources[number] = source
            self.lines[number] = source.splitlines()
            for stmt in _top_statements(tree):
                names = _bound_names(stmt)
                if not names:
                    continue
                line, col = _start(stmt)
                s = Statement(number, line, col, stmt, order)
                order += 1
                for name in names:
                    self.bindings.setdefault(name, []).append(s)

    def binding(self, name: str, before: int | None = None) -> list[Statement]:
        """The statements that give ``name`` its value (its final one, or the one it has when
        statement number ``before`` runs): its last plain binding and the augmented
        assignments after it."""
        found = [s for s in self.bindings.get(name, []) if before is None or s.order < before]
        out: list[Statement] = []
        for s in reversed(found):
            out.append(s)
            if not isinstance(s.node, ast.AugAssign):
                break
        return list(reversed(out))

    def text(self, s: Statement) -> str:
        return _segment(self.lines[s.cell], s.node)


def extract_answer(cells: list[tuple[int, str]], name: str) -> Extraction:
    """The statements that define ``name`` and everything they use (see the module docstring),
    with the policy problems found in them."""
    model = _Model(cells)
    chosen: dict[tuple, Statement] = {}
    todo: list[tuple[str, int | None]] = [(name, None)]
    seen: set[tuple[str, int | None]] = set()
    while todo:
        wanted = todo.pop()
        if wanted in seen:
            continue
        seen.add(wanted)
        for s in model.binding(*wanted):
            if s.key in chosen:
                continue
            chosen[s.key] = s
            now, later = _free_names(s.node, model.text(s))
            todo.extend((n, s.order) for n in now if n in model.bindings)
            todo.extend((n, None) for n in later if n in model.bindings)
    statements = sorted(chosen.values(), key=lambda s: s.order)
    problems: list[Problem] = []
    for s in statements:
        problems.extend(p for p in policy_problems(s.node, f"cell {s.cell}") if p not in problems)
    return Extraction(name, statements, problems, {s.cell: model.sources[s.cell]
                                                  for s in statements})


# --- the policy ----------------------------------------------------------------------------------

def _module_problem(module: str) -> str | None:
    root = module.split(".")[0]
    if root not in ALLOWED_MODULES:
        return f"imports {module}: a from-scratch answer may import only numerical and " \
               "standard helper modules (torch, numpy, math, functools, itertools…)"
    for refused in REFUSED_MODULES:
        if module == refused or module.startswith(refused + "."):
            return f"imports {module}, which from-scratch answers may not use"
    if any(part.startswith("_") and part != "__future__" for part in module.split(".")):
        return f"imports {module}, a private module"
    return None


def _attr_problem(node: ast.Attribute, receivers: frozenset[str]) -> str | None:
    attr = node.attr
    if attr in _REFUSED_ATTRS:
        return f"uses .{attr}, which from-scratch answers may not use"
    if attr.startswith("__") and attr.endswith("__"):
        return None if attr in _ALLOWED_DUNDERS else \
            f"reads .{attr}: from-scratch answers may not use dunder attributes"
    if attr.startswith("_"):
        if isinstance(node.value, ast.Name) and node.value.id in receivers:
            return None  # a private attribute of the answer's own object (self._cache)
        return f"reads .{attr}, a private attribute"
    return None


def _call_problem(node: ast.Call) -> str | None:
    f = node.func
    if not isinstance(f, ast.Name):
        return None
    if f.id in _NAMED_ATTR_CALLS:
        if len(node.args) < 2:
            return None
        attr = node.args[1]
        if not (isinstance(attr, ast.Constant) and isinstance(attr.value, str)):
            return f"calls {f.id}() with an attribute name computed at run time"
        if attr.value.startswith("_") or attr.value in _REFUSED_ATTRS:
            return f"calls {f.id}() on the attribute {attr.value!r}"
    return None


def _method_receivers(cls: ast.ClassDef) -> dict[int, str]:
    """``id(method) → name of its first parameter`` for the methods of a class."""
    out = {}
    for item in cls.body:
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.args.args:
            out[id(item)] = item.args.args[0].arg
    return out


def _import_problem(node: ast.Import | ast.ImportFrom) -> str | None:
    if isinstance(node, ast.Import):
        return next(filter(None, (_module_problem(a.name) for a in node.names)), None)
    if node.level or not node.module:
        return "uses a relative import"
    if any(a.name == "*" for a in node.names):
        return f"uses 'from {node.module} import *'"
    private = [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    return _module_problem(node.module) or next(filter(None, map(_module_problem, private)),
                                                None)


def _name_problem(node: ast.Name, allowed_calls: set[int]) -> str | None:
    if not isinstance(node.ctx, ast.Load):
        return None
    if node.id.startswith("__") and node.id != "__name__":
        return f"uses {node.id}"
    if node.id in _REFUSED_CALLS:
        return f"uses {node.id}(), which from-scratch answers may not use"
    if node.id in _NAMED_ATTR_CALLS and id(node) not in allowed_calls:
        return f"passes {node.id} around as a value"
    return None


def _node_problem(node: ast.AST, receivers: frozenset[str], allowed: set[int]) -> str | None:
    if isinstance(node, ast.Import | ast.ImportFrom):
        return _import_problem(node)
    if isinstance(node, ast.Attribute):
        return _attr_problem(node, receivers)
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id in _NAMED_ATTR_CALLS:
            allowed.add(id(node.func))  # getattr(x, "name"): judged here, as a call
        return _call_problem(node)
    if isinstance(node, ast.Name):
        return _name_problem(node, allowed)
    return None


def policy_problems(root: ast.AST, label: str) -> list[Problem]:
    """What the strict policy refuses in ``root`` (iterative: any depth of expression)."""
    problems: list[Problem] = []
    methods: dict[int, str] = {}
    allowed_calls: set[int] = set()
    stack: list[tuple[ast.AST, frozenset[str]]] = [(root, frozenset())]
    while stack:
        node, receivers = stack.pop()
        if isinstance(node, ast.ClassDef):
            methods.update(_method_receivers(node))
        elif id(node) in methods:
            receivers = receivers | {methods[id(node)]}
        what = _node_problem(node, receivers, allowed_calls)
        if what:
            problem = Problem(what, f"{label}, line {getattr(node, 'lineno', '?')}")
            if problem not in problems:
                problems.append(problem)
        stack.extend((child, receivers) for child in ast.iter_child_nodes(node))
    return problems
