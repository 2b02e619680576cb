"""The "from scratch" rule (static scan and runtime guard) and reading submitted notebooks."""

import json
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib.grading.forbidden import CONVOLUTION, ESCAPES, TAMPERING, static_rules
from cnnlib.grading.guard import ForbiddenAPIError, Guard
from cnnlib.grading.notebook import (
    mentioned_outside_code,
    read_notebook,
    runnable_cells,
    strip_magics,
)
from cnnlib.grading.question import FromScratch, load_exercise
from cnnlib.grading.scan import NotebookModel, code_of_function, forbidden_objects, scan

IMPORTS = (
    "import torch\n"
    "import numpy as np\n"
    "import torch.nn.functional as F\n"
    "from torch.nn.functional import conv1d as c\n"
    "from torch import nn\n"
)


def violations(body: str, name: str = "f", spec: FromScratch = CONVOLUTION, cells=()):
    """Scan ``name`` in a notebook made of the imports, ``cells`` and ``body``."""
    model = NotebookModel([(1, IMPORTS), *((i + 2, c) for i, c in enumerate(cells)),
                           (9, body)])
    return scan(model.definition(name), spec)


@pytest.mark.parametrize(("body", "api"), [
    ("def f(x, h):\n    return F.conv1d(x, h)", "torch.nn.functional.conv1d"),
    ("def f(x, h):\n    return c(x, h)", "torch.nn.functional.conv1d"),
    ("def f(x, h):\n    return torch.nn.functional.conv1d(x, h)", "torch.nn.functional.conv1d"),
    ("def f(x, h):\n    return torch.conv1d(x, h)", "torch.conv1d"),
    ("def f(x, h):\n    return nn.Conv1d(1, 1, 3)(x)", "torch.nn.Conv1d"),
    ("def f(x, h):\n    return getattr(F, 'conv1d')(x, h)", "torch.nn.functional.conv1d"),
    ("def f(x, h):\n    return getattr(F, name)(x, h)",
     "torch.nn.functional.<a name computed at run time>"),
    ("def f(x, h):\n    return x.unfold(0, len(h), 1) @ h", "torch.Tensor.unfold"),
    ("def f(x, h):\n    return F.unfold(x, 3)", "torch.nn.functional.unfold"),
    ("def f(x, h):\n    return np.convolve(x, h)", "numpy.convolve"),
    ("def f(x, h):\n    import scipy.signal\n    return scipy.signal.correlate(x, h)",
     "scipy.signal"),
    ("def f(x, h):\n    return __import__('scipy.signal').signal.correlate(x, h)",
     "scipy.signal"),
    ("def f(x, h):\n    import importlib\n    return importlib.import_module('scipy.signal')",
     "scipy.signal"),
    ("def f(x, h):\n    G = torch.nn.functional\n    return G.conv1d(x, h)",
     "torch.nn.functional.conv1d"),
    ("def f(x, h):\n    return torch.ops.aten.convolution(x, h)", "torch.ops"),
    ("f = lambda x, h: F.conv1d(x, h)", "torch.nn.functional.conv1d"),
])
def test_the_static_scan_sees_through_aliases(body, api):
    found = violations(body)
    assert [v.api for v in found][:1] == [api], found


def test_the_scan_follows_the_submissions_own_helpers():
    helper = "def helper(x, h):\n    return alias(x, h)\nalias = F.conv1d\n"
    found = violations("def f(x, h):\n    return helper(x, h)", cells=[helper])
    assert found and found[0].api == "torch.nn.functional.conv1d"
    assert found[0].where == "cell 2, line 3"  # where the alias was made


def test_a_from_scratch_answer_passes_the_scan():
    body = ("def f(x, h):\n    m = len(h)\n    y = torch.zeros(len(x) - m + 1)\n"
            "    for i in range(len(y)):\n        y[i] = (h * x[i:i + m]).sum()\n    return y")
    assert violations(body) == []


def test_local_names_shadow_forbidden_globals():
    # a parameter called c is not the module-level alias of conv1d
    assert violations("def f(x, c):\n    return c * x") == []


def test_every_from_scratch_answer_also_forbids_processes_and_the_grader():
    q = load_exercise("02_conv1d").question("conv1d_valid")
    rules = static_rules(q)
    found = violations("def f(x, h):\n    import subprocess\n    return subprocess.run(x)",
                       spec=rules)
    assert found[0].api == "subprocess"
    found = violations("def f(x, h):\n    from cnnlib.grading import load_exercise\n"
                       "    return load_exercise('02_conv1d')", spec=rules)
    assert found[0].api == "cnnlib.grading"


def test_the_last_definition_wins_and_broken_cells_are_left_out():
    model = NotebookModel([(1, "def f():\n    return F.conv1d"), (2, "def f(:"),
                           (3, "def f():\n    return 1")])
    assert model.parse_errors.keys() == {2}
    assert model.definition("f").label == "cell 3"
    assert model.definition_at("f", 1, 2).label == "cell 1"


def test_tampering_is_found_anywhere_in_the_notebook():
    model = NotebookModel([(1, "import sys\nimport gc"), (2, "frame = sys._getframe()"),
                           (3, "objs = gc.get_objects()\nx = frame.f_back"),
                           (4, "code = 'F.conv' + '1d'\nfn = eval(code)"),
                           (5, "from cnnlib.grading import Checker\ncheck = Checker('02_conv1d')"),
                           (6, "y = eval('1 + 1')")])
    found = {(v.api, v.where.split(",")[0]) for v in model.tampering(TAMPERING)}
    assert ("sys._getframe", "cell 2") in found
    assert ("gc.get_objects", "cell 3") in found
    assert ("<any object>.f_back", "cell 3") in found
    assert ("eval of a string built at run time", "cell 4") in found
    assert not {w for _, w in found} & {"cell 5", "cell 6"}  # the checker and constant code


# --- the runtime guard ---------------------------------------------------------------------------

@pytest.fixture
def guard():
    seen = []
    g = Guard(CONVOLUTION.union(ESCAPES), seen.append).install()
    g.seen = seen
    yield g
    g.uninstall()


SAVED_CONV1D = F.conv1d  # saved before any guard, as a cunning submission would


@pytest.mark.parametrize(("call", "api"), [
    (lambda x, h: F.conv1d(x[None, None], h[None, None]), "torch.nn.functional.conv1d"),
    (lambda x, h: torch.conv1d(x[None, None], h[None, None]), "torch.nn.functional.conv1d"),
    (lambda x, h: x.unfold(0, 3, 1), "torch.Tensor.unfold"),
    (lambda x, h: torch.nn.Conv1d(1, 1, 3)(x[None, None]), "torch.nn.Conv1d"),
    (lambda x, h: np.convolve(x.numpy(), h.numpy()), "numpy.convolve"),
    (lambda x, h: np.correlate(x.numpy(), h.numpy()), "numpy.correlate"),
    (lambda x, h: SAVED_CONV1D(x[None, None], h[None, None]),
     "the PyTorch operator aten::convolution"),
    (lambda x, h: torch.ops.aten.convolution(x[None, None], h[None, None], None, [1], [0],
                                             [1], False, [0], 1),
     "the PyTorch operator aten::convolution"),
    (lambda x, h: torch._VF.conv1d(x[None, None], h[None, None]),
     "the PyTorch operator aten::convolution"),
])
def test_the_runtime_guard_refuses_forbidden_calls_while_watching(guard, call, api):
    x, h = torch.arange(6.0), torch.ones(3)
    call(x, h)  # allowed outside a from-scratch question
    assert guard.seen == []
    with guard.watching("q", CONVOLUTION), pytest.raises(ForbiddenAPIError):
        call(x, h)
    assert guard.seen[0]["api"] == api and guard.seen[0]["question"] == "q"
    assert "test_grading_scan.py" in guard.seen[0]["where"]


def test_the_guard_lets_from_scratch_code_run_and_restores_everything(guard):
    x, h = torch.arange(6.0), torch.ones(3)
    with guard.watching("q", CONVOLUTION):
        y = torch.stack([(h * x[i:i + 3]).sum() for i in range(4)])
    assert guard.seen == [] and y.tolist() == [3.0, 6.0, 9.0, 12.0]
    guard.uninstall()
    assert F.conv1d is SAVED_CONV1D and torch.conv1d is SAVED_CONV1D
    assert "unfold" not in vars(torch.Tensor)


def test_starting_a_process_is_refused_in_a_from_scratch_answer(guard):
    import os
    import posix
    import subprocess

    for start in (lambda: subprocess.run(["true"], check=False), lambda: os.system("true"),
                  lambda: posix.system("true")):
        with guard.watching("q", CONVOLUTION.union(ESCAPES)), pytest.raises(ForbiddenAPIError):
            start()
    assert {v["api"] for v in guard.seen} == {"subprocess.Popen", "os.system"}


def test_the_guard_blocks_everything_between_questions(guard):
    guard.block()
    with pytest.raises(ForbiddenAPIError):
        F.conv1d(torch.ones(1, 1, 3), torch.ones(1, 1, 2))
    assert guard.seen[0]["question"] is None
    guard.allow()
    F.conv1d(torch.ones(1, 1, 3), torch.ones(1, 1, 2))


def test_a_forbidden_module_is_refused_even_when_imported_late():
    # colorsys stands in for scipy.signal (which this environment may not have)
    seen = []
    g = Guard(FromScratch((), modules=("colorsys",)), seen.append).install()
    try:
        import importlib
        import sys

        sys.modules.pop("colorsys", None)
        colorsys = importlib.import_module("colorsys")
        assert colorsys.rgb_to_hsv(1, 0, 0)[0] == 0  # allowed outside a question
        with g.watching("q", FromScratch((), modules=("colorsys",))), \
                pytest.raises(ForbiddenAPIError):
            colorsys.rgb_to_hsv(1, 0, 0)
        assert seen[0]["api"] == "colorsys.rgb_to_hsv"
        sys.modules.pop("colorsys", None)
        with g.watching("q", FromScratch((), modules=("colorsys",))), \
                pytest.raises(ForbiddenAPIError):
            importlib.import_module("colorsys")
    finally:
        g.uninstall()


# --- reading notebooks ---------------------------------------------------------------------------

def test_read_notebook_never_raises():
    assert "not valid JSON" in read_notebook(b"{nope").error
    assert "not UTF-8" in read_notebook(b"\xff\xfe\x00").error
    assert "no list of cells" in read_notebook(b'{"cells": 3}').error
    assert "not a notebook" in read_notebook(b"[1, 2]").error
    nb = read_notebook(json.dumps({"cells": [
        {"cell_type": "code", "source": ["a = 1\n", "b = 2"]}, "junk",
        {"cell_type": "markdown", "source": "def f(x):\n    pass"},
        {"cell_type": "code", "source": 7}]}).encode())
    assert nb.error is None
    assert [(c.number, c.cell_type) for c in nb.cells] == [(1, "code"), (3, "markdown")]
    assert mentioned_outside_code(nb, "f") == 3 and mentioned_outside_code(nb, "a") is None
    v3 = read_notebook(json.dumps({"worksheets": [{"cells": [
        {"cell_type": "code", "input": "x = 1"}]}]}).encode())
    assert v3.cells[0].source == "x = 1"


def test_magics_become_python():
    setup = ("try:\n    import cnnlib\nexcept ImportError:\n"
             "    %pip install cnnlib\n    import cnnlib\n")
    assert "    pass\n" in strip_magics(setup)
    compile(strip_magics(setup), "cell", "exec")
    assert strip_magics("!ls -l\nfiles = !ls\nx = 1\ntorch.conv1d?") == \
        "pass\nfiles = None\nx = 1\npass"
    assert strip_magics("%%bash\necho hi") is None
    assert strip_magics("%%time\nx = 1") == "x = 1"
    nb = read_notebook(json.dumps({"cells": [
        {"cell_type": "code", "source": "%%writefile a.py\nprint(1)"},
        {"cell_type": "code", "source": "y = 2"}]}).encode())
    cells, notes = runnable_cells(nb)
    assert cells == [(2, "y = 2")] and "cell 1" in notes[0]


def test_a_forbidden_module_does_not_trip_on_what_it_only_imports():
    """cnnlib.counting imports dataclasses.dataclass; forbidding the module must not make
    every later @dataclass (inside torch, say) look like a violation."""
    import torch.utils._config_module as torch_module  # imports dataclass, as cnnlib does

    import cnnlib.counting
    from cnnlib.grading.guard import Guard
    from cnnlib.grading.question import FromScratch

    seen = []
    guard = Guard(FromScratch((), modules=("cnnlib.counting",)), seen.append).install()
    try:
        with guard.watching("q", FromScratch((), modules=("cnnlib.counting",))):
            torch_module.dataclass(type("Point", (), {"__annotations__": {"x": int}}))
            assert not seen
            with pytest.raises(Exception):  # noqa: B017 (ForbiddenAPIError or its subclass)
                cnnlib.counting.count_parameters(torch.nn.Linear(2, 2))
        assert seen and "count_parameters" in str(seen[0])
    finally:
        guard.uninstall()


# --- long expressions and the student's own methods ----------------------------------------------

def _sum_of(n: int, last: str = "") -> str:
    terms = [f"a{i % 7}" for i in range(n)]
    if last:
        terms[-1] = last
    return " + ".join(terms)


SCRATCH = "a0 = a1 = a2 = a3 = a4 = a5 = a6 = 1.0\n"
FROM_SCRATCH_F = ("def f(x, h):\n    m = len(h)\n"
                  "    return torch.stack([(h * x[i:i + m]).sum() "
                  "for i in range(len(x) - m + 1)])\n")


@pytest.mark.parametrize("n", [600, 10_000])
def test_a_long_expression_in_an_honest_notebook_is_scanned_without_error(n):
    before = sys.getrecursionlimit()
    model = NotebookModel([(1, IMPORTS), (2, SCRATCH + f"total = {_sum_of(n)}\n"),
                           (3, FROM_SCRATCH_F + f"    total = {_sum_of(n)}\n"
                                                "    return total\n"),
                           (4, "print(total)")])
    assert sys.getrecursionlimit() == before
    assert model.parse_errors == {} and set(model.trees) == {1, 2, 3, 4}
    assert scan(model.definition("f"), CONVOLUTION) == []
    assert model.tampering(TAMPERING) == []


def test_a_forbidden_api_inside_a_long_expression_is_found():
    deep_call = _sum_of(10_000, last="F.conv1d(x, h).sum()")
    deep_attr = "x" + ".T" * 5_000 + ".unfold(0, 3, 1)"
    deep_getattr = "getattr(" * 150 + "F" + ", 'conv1d')" + ", 'x')" * 149  # ≤ 200 ( deep
    model = NotebookModel([(1, IMPORTS), (2, SCRATCH),
                           (3, f"def f(x, h):\n    return {deep_call}\n"),
                           (4, f"def g(x, h):\n    return {deep_attr}\n"),
                           (5, f"def k(x, h):\n    return {deep_getattr}\n")])
    assert model.parse_errors == {}
    (conv,) = scan(model.definition("f"), CONVOLUTION)
    assert conv.api == "torch.nn.functional.conv1d" and conv.used_as == "F.conv1d"
    (unfold,) = scan(model.definition("g"), CONVOLUTION)
    assert unfold.api == "torch.Tensor.unfold" and unfold.used_as.startswith("<a long")
    (nested,) = scan(model.definition("k"), CONVOLUTION)
    assert nested.api == "torch.nn.functional.conv1d"


def test_a_cell_too_deep_to_read_is_left_out_and_the_rest_is_scanned():
    model = NotebookModel([(1, IMPORTS), (2, "x = " + "-" * 200_000 + "1"),
                           (3, "y = a" + ".b" * 200_000),
                           (4, "def f(x, h):\n    return F.conv1d(x, h)")])
    assert set(model.parse_errors) == {2, 3}
    assert [v.api for v in scan(model.definition("f"), CONVOLUTION)] == \
        ["torch.nn.functional.conv1d"]


OWN_UNFOLD = {
    "a method": "class Windows:\n    def __init__(self, m):\n        self.m = m\n"
                "    def unfold(self, x):\n"
                "        return torch.stack([x[i:i + self.m] for i in "
                "range(len(x) - self.m + 1)])\n",
    "an attribute": "class Windows:\n    def __init__(self, m):\n        self.m = m\n"
                    "        self.unfold = lambda x: torch.stack([x[i:i + m] for i in "
                    "range(len(x) - m + 1)])\n",
}


@pytest.mark.parametrize("kind", sorted(OWN_UNFOLD))
def test_unfold_of_the_students_own_object_is_not_tensor_unfold(kind):
    body = "def f(x, h):\n    return Windows(len(h)).unfold(x) @ h"
    assert violations(body, cells=[OWN_UNFOLD[kind]]) == []
    by_name = "def f(x, h):\n    return getattr(Windows(len(h)), 'unfold')(x) @ h"
    assert violations(by_name, cells=[OWN_UNFOLD[kind]]) == []


def test_unfold_is_still_found_where_the_submission_defines_none_of_its_own():
    other = "class Windows:\n    def sweep(self, x):\n        return x\n"
    body = "def f(x, h):\n    return Windows().sweep(x).unfold(0, len(h), 1) @ h"
    assert [v.api for v in violations(body, cells=[other])] == ["torch.Tensor.unfold"]


def test_an_attribute_of_the_students_own_does_not_hide_tampering():
    model = NotebookModel([(1, "import sys"),
                           (2, "class Frame:\n    f_back = None\n"
                               "    def __init__(self):\n        self.__closure__ = ()\n"),
                           (3, "up = sys.modules['x'].f_back\nc = len.__closure__")])
    found = {v.api for v in model.tampering(TAMPERING)}
    assert {"<any object>.f_back", "<any object>.__closure__"} <= found


def test_the_students_kernel_side_also_knows_its_own_unfold(tmp_path, monkeypatch):
    """check() scans live functions: a class of the notebook's with an ``unfold`` counts."""
    (tmp_path / "own_unfold_kernel.py").write_text(
        "import torch\n" + OWN_UNFOLD["a method"] +
        "def f(x, h):\n    return Windows(len(h)).unfold(x) @ h\n"
        "def g(x, h):\n    return x.unfold(0, len(h), 1) @ h\n")
    (tmp_path / "plain_kernel.py").write_text(
        "import torch\ndef g(x, h):\n    return x.unfold(0, len(h), 1) @ h\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    own, plain = (importlib.import_module(m) for m in ("own_unfold_kernel", "plain_kernel"))
    forbidden = forbidden_objects(CONVOLUTION)
    x, h = torch.arange(6.0), torch.ones(3)
    assert torch.equal(own.f(x, h), plain.g(x, h))
    assert scan(code_of_function(own.f, forbidden), CONVOLUTION) == []
    (found,) = scan(code_of_function(plain.g, forbidden), CONVOLUTION)
    assert found.api == "torch.Tensor.unfold"


# --- back doors and private functions ------------------------------------------------------------

@pytest.mark.parametrize(("body", "api"), [
    ("def f(x, h):\n    return torch._VF.conv1d(x, h)", "torch._VF"),
    ("def f(x, h):\n    return torch.ops.aten.convolution(x, h)", "torch.ops"),
    ("def f(x, h):\n    return torch.jit.wait(torch.jit.fork(g, x, h))", "torch.jit"),
    ("def f(x, h):\n    return torch.futures.Future().then(g)", "torch.futures"),
    ("def f(x, h):\n    lib = torch.library.Library('aten', 'IMPL')\n    return lib",
     "torch.library"),
    ("def f(x, h):\n    import torch.multiprocessing as mp\n    return mp.Pool(2).map(g, x)",
     "torch.multiprocessing"),
])
def test_back_doors_are_forbidden_by_name(body, api):
    q = load_exercise("02_conv1d").question("conv1d_valid")
    assert api in [v.api for v in violations(body, spec=static_rules(q))]


@pytest.mark.parametrize(("module", "function", "spec_modules"), [
    ("cnnlib.loop_conv", "_conv2d_loop", ("cnnlib.loop_conv",)),
    ("cnnlib.pooling", "_max_pool", ("cnnlib.pooling",)),
])
def test_private_functions_of_a_forbidden_module_are_tripwired(module, function, spec_modules):
    import importlib

    mod = importlib.import_module(module)
    original = vars(mod)[function]
    spec = FromScratch((), modules=spec_modules)
    seen = []
    g = Guard(spec, seen.append).install()
    try:
        assert vars(mod)[function] is not original  # the module's own name is the tripwire
        assert "__getattr__" not in vars(mod) or vars(mod)["__getattr__"].__module__ != module
        with g.watching("q", spec), pytest.raises(ForbiddenAPIError):
            vars(importlib.import_module(module))[function]()  # the arguments never matter
        assert seen[0]["api"] == f"{module}.{function}"
    finally:
        g.uninstall()
    assert vars(mod)[function] is original


def test_dunders_of_a_forbidden_module_are_left_alone(tmp_path, monkeypatch):
    (tmp_path / "lazy_module.py").write_text(
        "def __getattr__(name):\n    return name.upper()\n"
        "def _helper():\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    lazy = importlib.import_module("lazy_module")
    dunder, helper = vars(lazy)["__getattr__"], vars(lazy)["_helper"]
    spec = FromScratch((), modules=("lazy_module",))
    g = Guard(spec, lambda record: None).install()
    try:
        assert vars(lazy)["__getattr__"] is dunder and vars(lazy)["_helper"] is not helper
    finally:
        g.uninstall()
