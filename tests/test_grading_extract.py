"""Extracting a from-scratch answer from a notebook's cells, and the policy its code keeps."""

from __future__ import annotations

import ast
import textwrap

import pytest

from cnnlib.grading.extract import extract_answer, policy_problems


def _cells(*sources: str) -> list[tuple[int, str]]:
    return [(i + 1, textwrap.dedent(s).strip("\n")) for i, s in enumerate(sources)]


def _kinds(extraction) -> list[tuple[int, str]]:
    return [(s.cell, type(s.node).__name__) for s in extraction.statements]


def test_the_answer_takes_its_helpers_imports_and_constants_and_nothing_else():
    cells = _cells(
        "import torch\nimport numpy as np",
        "SCALE = 2.0\nunused = torch.zeros(10**9)",
        """
        def helper(x):
            return SCALE * x
        """,
        "plot_everything()",
        """
        def answer(x):
            return helper(torch.as_tensor(x))
        """,
    )
    e = extract_answer(cells, "answer")
    assert _kinds(e) == [(1, "Import"), (2, "Assign"), (3, "FunctionDef"), (5, "FunctionDef")]
    assert "unused" not in {getattr(t, "id", "") for s in e.statements
                            for t in getattr(s.node, "targets", [])}
    assert e.problems == []


def test_the_last_definition_wins_and_augmented_assignments_follow_it():
    cells = _cells("K = 1", "def answer():\n    return K", "K = 2", "K += 3", "K2 = 0")
    e = extract_answer(cells, "answer")
    assert [(s.cell, s.line) for s in e.statements] == [(2, 1), (3, 1), (4, 1)]


def test_definitions_inside_blocks_decorators_classes_and_partials_are_found():
    cells = _cells(
        "import functools",
        """
        if True:
            def _impl(x, flip=False):
                return x
        """,
        """
        @functools.lru_cache(None)
        def cached(n):
            return n
        """,
        """
        class Conv:
            def __call__(self, x):
                return _impl(cached(x))
        """,
        "answer = functools.partial(Conv(), )",
    )
    e = extract_answer(cells, "answer")
    assert _kinds(e) == [(1, "Import"), (2, "FunctionDef"), (3, "FunctionDef"),
                         (4, "ClassDef"), (5, "Assign")]
    assert e.statements[2].line == 1  # the decorator's line: the statement starts there
    assert e.problems == []


def test_a_missing_name_is_not_found():
    assert not extract_answer(_cells("x = 1"), "answer").found


def test_very_long_expressions_are_read():
    long_sum = " + ".join(str(i) for i in range(900))  # about what Python itself compiles
    cells = _cells(f"TOTAL = {long_sum}", "def answer():\n    return TOTAL")
    e = extract_answer(cells, "answer")
    assert len(e.statements) == 2 and e.problems == []
    assert policy_problems(ast.parse(f"x = {long_sum}"), "cell 1") == []


def test_a_cell_python_cannot_parse_is_left_out():
    too_long = " + ".join(str(i) for i in range(10_000))  # RecursionError in ast.parse
    cells = _cells(f"junk = {too_long}", "def answer():\n    return 1")
    assert [s.cell for s in extract_answer(cells, "answer").statements] == [2]


REFUSED = {
    "eval": "def f():\n    return eval('1')",
    "exec as a value": "def f():\n    g = exec\n    return g",
    "getattr computed": "def f(m, n):\n    return getattr(m, '_' + n)",
    "getattr private": "def f(m):\n    return getattr(m, '_VF')",
    "getattr as a value": "def f(m):\n    return list(map(getattr, [m], ['x']))",
    "dunder": "def f(g):\n    return g.__globals__",
    "closure": "def f(g):\n    return g.__closure__",
    "frame": "def f(e):\n    return e.tb_frame",
    "private attribute": "import torch\ndef f():\n    return torch._VF",
    "import sys": "import sys",
    "import os": "import os.path",
    "import threading": "import threading",
    "import importlib": "from importlib import import_module",
    "torch.jit": "import torch.jit",
    "torch.utils": "from torch.utils import data",
    "grader": "from cnnlib.grading import exercises",
    "star": "from torch import *",
    "relative": "from . import x",
    "builtins": "def f():\n    return __builtins__",
    "attrgetter": "import operator\nget = operator.attrgetter('x')",
    "ctypes": "def f(a):\n    return a.ctypes",
    "type hints": "import typing\nh = typing.get_type_hints",
    "pickle": "import pickle",
    "open": "def f(p):\n    return open(p).read()",
    "vars": "def f(m):\n    return vars(m)",
}
ALLOWED = {
    "numpy": "import numpy as np\ndef f(x):\n    return np.einsum('i,i->', x, x)",
    "as_strided": "import torch\ndef f(x):\n    return torch.as_strided(x, (2, 2), (1, 1))",
    "own private": "class A:\n    def __init__(self):\n        self._n = 0\n"
                   "    def __call__(self):\n        self._n += 1\n        return self._n",
    "super": "import torch\nclass M(torch.nn.Module):\n    def __init__(self):\n"
             "        super().__init__()\n        self.w = torch.nn.Parameter(torch.ones(1))",
    "getattr constant": "def f(m):\n    return getattr(m, 'weight', None)",
    "math": "import math\nfrom functools import reduce\nimport operator\n"
            "def f(s):\n    return reduce(operator.mul, s, 1) + math.floor(2.5)",
    "__name__": "if __name__ == '__main__':\n    pass",
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_the_policy_refuses(name):
    assert policy_problems(ast.parse(REFUSED[name]), "cell 1"), name


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_the_policy_allows_honest_code(name):
    assert policy_problems(ast.parse(ALLOWED[name]), "cell 1") == []


def test_a_private_attribute_of_another_object_than_self_is_refused():
    code = "class A:\n    def m(self, other):\n        return other._secret"
    assert policy_problems(ast.parse(code), "cell 1")


def test_every_solution_keeps_the_policy():
    from pathlib import Path

    from cnnlib.grading.notebook import read_notebook, runnable_cells
    from cnnlib.grading.question import list_exercises, load_exercise

    root = Path(__file__).resolve().parents[1] / "exercises" / "sources"
    checked = 0
    for name in list_exercises():
        cells, _ = runnable_cells(read_notebook((root / f"{name}.ipynb").read_bytes()))
        for q in load_exercise(name).questions:
            if q.from_scratch is not None:
                e = extract_answer(cells, q.name)
                assert e.found and e.problems == [], (name, q.name, e.problems)
                checked += 1
    assert checked >= 30


def test_a_name_read_at_the_top_level_has_the_value_it_had_then():
    # the old definition is kept under another name, then the name is redefined
    cells = _cells("def f(x):\n    return x", "_old = f", "def f(x):\n    return _old(x) + 1")
    e = extract_answer(cells, "f")
    assert [s.cell for s in e.statements] == [1, 2, 3]
    namespace: dict = {}
    for s in e.statements:
        exec(compile(ast.Module(body=[s.node], type_ignores=[]), "<t>", "exec"), namespace)
    assert namespace["f"](1) == 2


def test_pieces_keep_the_order_the_notebook_runs_in():
    cells = [(1, "A = 1\nunused = 0"), (2, "B = A + 1"),
             (3, "C = B + 1\ndef answer():\n    return C")]
    e = extract_answer(cells, "answer")
    assert [(p[0], p[2]) for p in e.pieces()] == [(1, [[1, 0]]), (2, [[1, 0]]),
                                                  (3, [[1, 0], [2, 0]])]
