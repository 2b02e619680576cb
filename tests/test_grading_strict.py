"""The runtime locks of a from-scratch answer's sandbox (cnnlib.grading._strict), tried route by
route in a real process: each forbidden route is refused, each honest one works.

The routes run as code compiled under a cell's name (``<cell 1>``), the way the sandbox runs an
extracted answer, so the audit hook treats them as the submission's code. The static policy
would refuse most of these routes before they run; here they run anyway, to prove the second
line holds on its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

SCRIPT = r'''
import json, sys, threading, time
import torch
from cnnlib.grading import _strict
from cnnlib.grading.forbidden import CONVOLUTION

ready, go, seen = threading.Event(), threading.Event(), []

def early_thread():  # started before the locks, calls torch._VF later
    ready.set()
    go.wait()
    try:
        torch._VF.conv1d(torch.ones(1, 1, 5), torch.ones(1, 1, 3))
        seen.append("PASSED")
    except BaseException as err:
        seen.append(type(err).__name__)

threading.Thread(target=early_thread, daemon=True).start()
ready.wait()
for name in ("statistics", "fractions"):  # imported afresh by an answer: read from .pyc files
    sys.modules.pop(name, None)
records = []
ROUTES = json.loads(sys.argv[1])
codes = {name: compile(src, "<cell 1>", "exec") for name, src in ROUTES.items()}
_strict.arm(CONVOLUTION.aten, set(codes.values()), records.append)
results = {}
for name, code in codes.items():
    namespace = {"__name__": "__main__", "torch": torch}
    try:
        exec(code, namespace)
        results[name] = "PASSED"
    except BaseException as err:
        results[name] = type(err).__name__
go.set()
end = time.monotonic() + 60  # however loaded the machine, the thread answers
while not seen and time.monotonic() < end:
    time.sleep(0.01)
results["thread_started_before_the_locks"] = seen[0] if seen else "no answer"
from cnnlib.grading import forbidden
from cnnlib.grading.guard import Guard
for rule in vars(forbidden).values():  # every rule's tripwires, as answer sandboxes get them
    if isinstance(rule, forbidden.FromScratch):
        Guard(rule, records.append).install()
results["drawing_loaded"] = sorted(m for m in ("matplotlib.pyplot", "ipywidgets", "cnnlib.viz")
                                   if m in sys.modules)
print(json.dumps({"results": results, "records": len(records)}))
'''

REFUSED = {
    "functional": "import torch.nn.functional as F\n"
                  "F.conv2d(torch.ones(1, 1, 4, 4), torch.ones(1, 1, 3, 3))",
    "vf": "torch._VF.conv1d(torch.ones(1, 1, 5), torch.ones(1, 1, 3))",
    "aten": "torch.ops.aten.convolution(torch.ones(1,1,4,4), torch.ones(1,1,3,3), None, [1,1],"
            " [0,0], [1,1], False, [0,0], 1)",
    "unfold": "torch.ones(6).unfold(0, 3, 1)",
    "im2col": "torch.nn.functional.unfold(torch.ones(1,1,4,4), 2)",
    "thread": "import threading\nthreading.Thread(target=print).start()",
    "frame": "import sys\nsys._getframe()",
    "code_object": "(lambda: 0).__code__",
    "gc": "import gc\ngc.get_objects()",
    "eval": "eval('1 + 1')",
    "type_hints_gadget": "import typing\nclass A:\n    x: '__import__(\"os\")'\n"
                         "typing.get_type_hints(A)",
    "pickle": "import pickle\npickle.loads(pickle.dumps(print))",
    "reference_file": "import cnnlib, os\nopen(os.path.join(os.path.dirname(cnnlib.__file__), "
                      "'grading', 'exercises', '__init__.py')).read()",
    "process": "import os\nos.system('true')",
}
ALLOWED = {
    "as_strided": "torch.as_strided(torch.arange(6.), (4, 3), (1, 1)) @ torch.ones(3)",
    "einsum": "torch.einsum('ij,j->i', torch.ones(3, 2), torch.ones(2))",
    "loops": "sum(float((torch.ones(3) * i).sum()) for i in range(5))",
    "dataclass": "import dataclasses\n@dataclasses.dataclass\nclass P:\n    a: int = 1\nP()",
    "namedtuple": "import collections\ncollections.namedtuple('Pair', 'a b')(1, 2)",
    "pooling": "torch.nn.functional.max_pool2d(torch.ones(1, 1, 4, 4), 2)",
    "autograd": "x = torch.ones(3, requires_grad=True)\n(x * x).sum().backward()",
    "fresh_import": "import statistics\nstatistics.mean([1, 2, 3])",
}


@pytest.fixture(scope="module")
def outcome():
    routes = {**REFUSED, **ALLOWED}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(SCRIPT), json.dumps(routes)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("route", sorted(REFUSED))
def test_forbidden_routes_are_refused(outcome, route):
    expected = "PermissionError" if route == "reference_file" else "ForbiddenAPIError"
    assert outcome["results"][route] == expected


def test_a_thread_started_before_the_locks_is_refused_too(outcome):
    assert outcome["results"]["thread_started_before_the_locks"] == "ForbiddenAPIError"


@pytest.mark.parametrize("route", sorted(ALLOWED))
def test_honest_routes_work(outcome, route):
    assert outcome["results"][route] == "PASSED"


def test_the_answer_sandbox_never_loads_the_drawing_layer(outcome):
    assert outcome["results"]["drawing_loaded"] == []


def test_every_refusal_is_reported(outcome):
    # one report per refusal of a forbidden API (the reference file is refused without one)
    assert outcome["records"] >= len(REFUSED) - 1
