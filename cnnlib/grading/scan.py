"""The static half of the "from scratch" rule: find forbidden APIs in a question's source.

The scan reads the syntax tree of the question's definition and, transitively, of the
submission's own helpers it uses (functions, classes, module-level names), and resolves every
name through the imports in force, so all of these are caught::

    import torch.nn.functional as F;          F.conv1d(x, h)
    from torch.nn.functional import conv1d as c;   c(x, h)
    import torch;                             torch.nn.functional.conv1d(x, h)
    getattr(F, "conv1d")(x, h)                # a constant string
    getattr(F, name)(x, h)                    # a dynamic lookup in a module that holds one
    __import__("scipy.signal")  /  importlib.import_module("scipy.signal")
    x.unfold(0, m, 1)                         # a forbidden tensor method, on any object…
    helper = F.conv1d  (in another cell);     helper(x, h)

…unless the submission defines a method or attribute of that name itself (``def unfold(self…)``
in one of its classes, ``self.unfold = …``): ``windows.unfold(x)`` then calls the student's own
code, and a real ``Tensor.unfold`` is still refused by the runtime guard.

The scan walks the syntax tree with an explicit stack, never by recursion, so an honest cell
with a long expression (``a0 + a1 + … + a9999`` is a tree 10,000 levels deep) cannot make it
fail.

Names are resolved by a *resolver*: :class:`NotebookModel` works on the text of a submitted
notebook (the grader's side: nothing of the submission runs); :class:`RuntimeResolver` works on
the live objects of the student's kernel (the ``check()`` side). The runtime guard
(:mod:`cnnlib.grading.guard`) catches what no static scan can see (``eval``, strings built at
run time).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
import textwrap
import threading
import types
import warnings
from dataclasses import dataclass

from .question import FromScratch

__all__ = ["Code", "Dotted", "NotebookModel", "RuntimeResolver", "Violation", "scan"]


@dataclass(frozen=True)
class Violation:
    """A forbidden API found in a from-scratch answer."""

    api: str          # the forbidden entry, e.g. "torch.nn.functional.conv1d"
    used_as: str      # how the code reaches it, e.g. "F.conv1d"
    where: str        # e.g. "cell 5, line 3"
    how: str = "static scan"

    def describe(self) -> str:
        used = "" if self.used_as == self.api else f"{self.used_as} → "
        return f"{used}{self.api} ({self.where}, found by the {self.how})"

    def as_dict(self) -> dict:
        return {"api": self.api, "used_as": self.used_as, "where": self.where, "how": self.how}


@dataclass(frozen=True)
class Dotted:
    """A name bound to a module or an object with a dotted path (``torch.nn.functional``)."""

    name: str


@dataclass(eq=False)
class Code:
    """A definition of the submission's own: its syntax tree and where it came from."""

    node: ast.AST
    label: str
    resolver: object
    line_offset: int = 0

    def where(self, node: ast.AST) -> str:
        return f"{self.label}, line {getattr(node, 'lineno', 0) + self.line_offset}"


_SPELL_DEPTH = 40  # ast.unparse recurses: deeper expressions are named, not spelled


def _shallow(node: ast.AST, limit: int) -> bool:
    """Is ``node``'s tree at most ``limit`` levels deep? (Found without recursion.)"""
    stack = [(node, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return True


def _spell(node: ast.AST) -> str:
    if not _shallow(node, _SPELL_DEPTH):
        return f"<a long {type(node).__name__} expression>"
    try:
        return ast.unparse(node)[:80]
    except Exception:  # unparse of odd trees is best effort
        return "?"


_PARSE_LOCK = threading.Lock()
_PARSE_RECURSION_LIMIT = 20_000  # CPython builds the tree recursively: room for deep cells


def parse_cell(source: str) -> ast.Module:
    """``ast.parse``, with room for deeply nested code (a sum of thousands of terms).

    Raises ``SyntaxError``, ``ValueError``, ``RecursionError`` or ``MemoryError`` (what CPython
    raises for code nested beyond what it can build) for a cell that cannot be read.
    """
    with _PARSE_LOCK:  # one parse at a time: a parse in another thread while the limit is
        try:            # raised here would fail ("AST constructor recursion depth mismatch")
            return ast.parse(source)
        except RecursionError:
            pass
        before = sys.getrecursionlimit()
        sys.setrecursionlimit(max(before, _PARSE_RECURSION_LIMIT))
        try:
            return ast.parse(source)
        finally:
            sys.setrecursionlimit(before)


def _const_str(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _is_call_to(node: ast.Call, *names: str) -> bool:
    f = node.func
    spelled = f.id if isinstance(f, ast.Name) else (
        f"{f.value.id}.{f.attr}" if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
        else "")
    return spelled in names


class _Scanner:
    """Reports what one definition uses; ``run`` walks its tree with an explicit stack."""

    def __init__(self, code: Code, spec: FromScratch, found: list, todo: list,
                 dynamic: bool = False):
        self.code, self.spec, self.found, self.todo = code, spec, found, todo
        self.dynamic = dynamic  # also report code built at run time (eval of a variable…)
        self.aliases: dict[str, str] = {}
        self.locals: set[str] = set()
        self._collect_locals(code.node)

    # -- what the definition binds itself ---------------------------------------------------
    def _collect_locals(self, root: ast.AST) -> None:
        for node in ast.walk(root):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
                self.locals.add(node.id)
            elif isinstance(node, ast.arg):
                self.locals.add(node.arg)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) \
                    and node is not root:
                self.locals.add(node.name)
            elif isinstance(node, ast.Import):
                for a in node.names:
                    self.aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else \
                        a.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    if a.name != "*":
                        self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        # simple local aliases: F = torch.nn.functional
        for node in ast.walk(root):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                    isinstance(node.targets[0], ast.Name):
                dotted = self.dotted(node.value)
                if dotted:
                    self.aliases[node.targets[0].id] = dotted

    # -- resolving an expression to a dotted name ---------------------------------------------
    def dotted(self, node: ast.AST) -> str | None:
        suffix: list[str] = []  # attribute names, innermost last
        while True:
            if isinstance(node, ast.Attribute):
                suffix.append(node.attr)
                node = node.value
            elif isinstance(node, ast.Call) and _is_call_to(node, "getattr") and \
                    len(node.args) >= 2:
                attr = _const_str(node.args[1])
                if attr is None:
                    return None
                suffix.append(attr)
                node = node.args[0]
            else:
                break
        base = self._dotted_base(node)
        return ".".join((base, *reversed(suffix))) if base else None

    def _dotted_base(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            if node.id in self.aliases:
                return self.aliases[node.id]
            if node.id in self.locals:
                return None
            bound = self.code.resolver.resolve(node.id)
            return bound.name if isinstance(bound, Dotted) else None
        if isinstance(node, ast.Call) and node.args and \
                _is_call_to(node, "__import__", "importlib.import_module"):
            return _const_str(node.args[0])
        return None

    def report(self, api: str, node: ast.AST, used_as: str | None = None) -> None:
        self.found.append(Violation(api, used_as or _spell(node), self.code.where(node)))

    def check_dotted(self, dotted: str | None, node: ast.AST) -> None:
        if dotted:
            entry = self.spec.match(dotted)
            if entry:
                self.report(entry, node)

    def report_method(self, attr: str, node: ast.AST) -> None:
        """``<something>.attr``, where ``attr`` is a forbidden method's name (``unfold``) or a
        forbidden attribute (``f_back``)."""
        api = self.spec.method_names[attr]
        if not api.startswith("<any object>") and _defines_attribute(self.code.resolver, attr):
            return  # the submission's own method of that name (the guard watches Tensor's)
        self.report(api, node)

    # -- visiting ------------------------------------------------------------------------------
    def run(self) -> None:
        """Visit every node of the definition, parents before children, in source order."""
        stack = [self.code.node]
        while stack:
            node = stack.pop()
            visit = getattr(self, f"visit_{type(node).__name__}", None)
            if visit is None or visit(node):
                stack.extend(reversed(list(ast.iter_child_nodes(node))))

    # Each visit_* returns whether the node's children are to be visited too.
    def visit_Name(self, node: ast.Name) -> bool:
        if not isinstance(node.ctx, ast.Load):
            return False
        if node.id in self.aliases:
            self.check_dotted(self.aliases[node.id], node)
            return False
        if node.id in self.locals:
            return False
        bound = self.code.resolver.resolve(node.id)
        if isinstance(bound, Dotted):
            self.check_dotted(bound.name, node)
        elif isinstance(bound, Code):
            self.todo.append(bound)
        return False

    def visit_Attribute(self, node: ast.Attribute) -> bool:
        dotted = self.dotted(node)
        if dotted:
            self.check_dotted(dotted, node)
        elif node.attr in self.spec.method_names:
            self.report_method(node.attr, node)
        return True

    def visit_Call(self, node: ast.Call) -> bool:
        if _is_call_to(node, "getattr") and len(node.args) >= 2:
            base = self.dotted(node.args[0])
            attr = _const_str(node.args[1])
            if base and attr:
                self.check_dotted(f"{base}.{attr}", node)
            elif base and base in self.spec.module_prefixes:
                self.report(f"{base}.<a name computed at run time>", node,
                            f"getattr({_spell(node.args[0])}, …)")
            elif attr in self.spec.method_names:
                self.report_method(attr, node)
        elif _is_call_to(node, "__import__", "importlib.import_module") and node.args:
            self.check_dotted(_const_str(node.args[0]), node)
        if self.dynamic and node.args and _const_str(node.args[0]) is None and _is_call_to(
                node, "eval", "exec", "compile", "__import__", "importlib.import_module"):
            self.report(f"{_spell(node.func)} of a string built at run time", node)
        return True

    def visit_Import(self, node: ast.Import) -> bool:
        for a in node.names:
            self.check_dotted(a.name, node)
        return False

    def visit_ImportFrom(self, node: ast.ImportFrom) -> bool:
        if node.module and not node.level:
            self.check_dotted(node.module, node)
            for a in node.names:
                self.check_dotted(f"{node.module}.{a.name}", node)
        return False


def _defines_attribute(resolver, name: str) -> bool:
    """Does the submission define a method or attribute called ``name`` itself?"""
    defines = getattr(resolver, "defines_attribute", None)
    return bool(defines and defines(name))


def own_attributes(tree: ast.AST) -> set[str]:
    """The method and attribute names code defines: ``def name`` and ``name = …`` in a class
    body, ``something.name = …`` anywhere, ``setattr(something, "name", …)``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    names.add(stmt.name)
                elif isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
                    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                    names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Call) and _is_call_to(node, "setattr") and \
                len(node.args) >= 2 and _const_str(node.args[1]):
            names.add(_const_str(node.args[1]))
    return names


def scan(root: Code, spec: FromScratch, dynamic: bool = False) -> list[Violation]:
    """Forbidden APIs used by ``root`` or by any of the submission's code it reaches."""
    found: list[Violation] = []
    todo = [root]
    seen: set[int] = set()
    while todo:
        code = todo.pop()
        if id(code.node) in seen:
            continue
        seen.add(id(code.node))
        _Scanner(code, spec, found, todo, dynamic).run()
    unique = {}
    for v in found:
        unique.setdefault((v.api, v.where), v)
    return list(unique.values())


# --- the grader's side: a model of a notebook's text ---------------------------------------------

class NotebookModel:
    """Module-level names of a notebook's code cells, run top to bottom (the last binding wins).

    ``cells`` is a list of ``(cell_number, source)``; cells that do not parse are left out (they
    would not run either) and listed in ``parse_errors``. ``attributes``: the method and
    attribute names the notebook defines itself (see :func:`own_attributes`).
    """

    def __init__(self, cells: list[tuple[int, str]]):
        self.bindings: dict[str, Dotted | Code] = {}
        self.trees: dict[int, ast.Module] = {}
        self.parse_errors: dict[int, str] = {}
        self.attributes: set[str] = set()
        for number, source in cells:
            try:
                tree = parse_cell(source)
            except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
                self.parse_errors[number] = f"{type(err).__name__}: {err}"
                continue
            self.trees[number] = tree
            self._bind_block(tree.body, number)
            self.attributes |= own_attributes(tree)

    def _bind_block(self, body: list[ast.stmt], cell: int) -> None:
        stack = list(reversed(body))  # statements in source order, nested blocks in place
        while stack:
            stack.extend(reversed(self._bind(stack.pop(), f"cell {cell}")))

    def _bind(self, stmt: ast.stmt, label: str) -> list[ast.stmt]:
        """Record what ``stmt`` binds; the statements of its nested blocks, to bind next."""
        if isinstance(stmt, ast.Import):
            for a in stmt.names:
                top = a.name.split(".")[0]
                self.bindings[a.asname or top] = Dotted(a.name if a.asname else top)
        elif isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
            for a in stmt.names:
                if a.name != "*":
                    self.bindings[a.asname or a.name] = Dotted(f"{stmt.module}.{a.name}")
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            self.bindings[stmt.name] = Code(stmt, label, self)
        elif isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    self.bindings[target.id] = Code(stmt.value, label, self)
        elif isinstance(stmt, ast.If | ast.For | ast.While | ast.With | ast.Try):
            inner = [*stmt.body, *getattr(stmt, "orelse", []), *getattr(stmt, "finalbody", [])]
            for handler in getattr(stmt, "handlers", []):
                inner += handler.body
            return inner
        return []

    def resolve(self, name: str) -> Dotted | Code | None:
        return self.bindings.get(name)

    def defines_attribute(self, name: str) -> bool:
        return name in self.attributes

    def tampering(self, spec: FromScratch) -> list[Violation]:
        """Every use of ``spec`` anywhere in the notebook, and code built at run time."""
        found: list[Violation] = []
        for number, tree in self.trees.items():
            for v in scan(Code(tree, f"cell {number}", self), spec, dynamic=True):
                if v not in found:
                    found.append(v)
        return sorted(found, key=lambda v: [int(n) for n in re.findall(r"\d+", v.where)])

    def definition(self, name: str) -> Code | None:
        bound = self.bindings.get(name)
        return bound if isinstance(bound, Code) else None

    def definition_at(self, name: str, cell: int, line: int) -> Code | None:
        """The ``def name`` that starts at ``line`` of ``cell`` (as the sandbox reported it)."""
        tree = self.trees.get(cell)
        if tree is None:
            return None
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) and \
                    node.lineno <= line <= (node.end_lineno or node.lineno) and \
                    getattr(node, "name", name) == name:
                return Code(node, f"cell {cell}", self)
        return None


# --- the student's side: live objects ------------------------------------------------------------

def forbidden_objects(spec: FromScratch) -> dict[int, str]:
    """``id(obj) → dotted name`` for every forbidden API that can be imported here."""
    out: dict[int, str] = {}
    for entry in spec.apis:
        module_name, _, attr = entry.rpartition(".")
        try:
            with warnings.catch_warnings():  # numpy.core.* warns that it was renamed
                warnings.simplefilter("ignore")
                obj = getattr(importlib.import_module(module_name), attr)
        except Exception:  # absent optional modules are simply not forbidden here
            continue
        out.setdefault(id(obj), entry)
    return out


class RuntimeResolver:
    """Resolves names through a live namespace (a function's ``__globals__``)."""

    def __init__(self, namespace: dict, forbidden: dict[int, str]):
        self.namespace, self.forbidden = namespace, forbidden

    def defines_attribute(self, name: str) -> bool:
        """A class of the student's (or an instance of one) in the namespace has ``name``."""
        module = self.namespace.get("__name__")
        for value in list(self.namespace.values()):
            try:
                cls = value if isinstance(value, type) else type(value)
                if getattr(cls, "__module__", None) != module:
                    continue
                if any(name in vars(k) for k in cls.__mro__ if k.__module__ == module):
                    return True
                if not isinstance(value, type) and name in vars(value):
                    return True
            except Exception:  # an object without a __dict__, or one that refuses to show it
                continue
        return False

    def resolve(self, name: str) -> Dotted | Code | None:
        if name not in self.namespace:
            return None
        value = self.namespace[name]
        if isinstance(value, types.ModuleType):
            return Dotted(value.__name__)
        if id(value) in self.forbidden:
            return Dotted(self.forbidden[id(value)])
        if isinstance(value, types.FunctionType) and \
                value.__module__ == self.namespace.get("__name__"):
            return code_of_function(value, self.forbidden)
        return None


def code_of_function(fn: types.FunctionType, forbidden: dict[int, str]) -> Code | None:
    """The syntax tree of a live function (``None`` when its source cannot be read)."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, ValueError):
        return None
    if not tree.body:
        return None
    return Code(tree.body[0], fn.__name__, RuntimeResolver(fn.__globals__, forbidden),
                fn.__code__.co_firstlineno - 1)
