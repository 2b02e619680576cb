"""What runs inside the sandbox: a submission's cells, or one of its from-scratch answers.

Nothing here is trusted by the grader. A sandbox runs in one of two modes:

- ``notebook``: the student's code cells in order, each guarded so that an exception (even
  ``SystemExit``) in one cell is recorded and the next cell still runs (and, as PID 1 of its
  own namespace, whatever a cell left running is ended before the next one); then the
  questions that are not from scratch. The grader's reference code can be neither imported
  nor opened here (:func:`cnnlib.grading._strict.protect_references`).
- ``answer``: one from-scratch answer extracted from the notebook's text
  (:mod:`cnnlib.grading.extract`), compiled first, then run under locks no Python code can
  take off (:func:`cnnlib.grading._strict.arm`) and the question's tripwires; no other code of
  the submission runs in this process.

Either way it calls the student's function on the inputs it is sent and sends back the
*outputs*, as JSON lines, on its own channel. It never sees an expected answer and decides no
verdict; the grader compares the outputs with its own references in its own process.

Protocol (one JSON object per line). Grader → sandbox, on the control pipe::

    {"op": "setup", "mode": "notebook", "cells": [[number, source], ...], "skip": [...],
     "questions": [...], "nonce": ...}
    {"op": "setup", "mode": "answer", "question": q, "pieces": [[cell, source, [[line, col],
     ...]], ...], "guard": {"apis": [...], "modules": [...], "aten": [...]}, "nonce": ...,
     "train": true | false}   (a training question: see _warm_up_training)
    {"op": "evaluate", "question": q, "kind": "function"|"value", "cases": [[arg, ...], ...],
     "nonce": ...}
    {"op": "exit"}

Sandbox → grader, on the result channel (each with the nonce of its request)::

    {"event": "hello"}                      {"event": "cell_start", "cell": n}
    {"event": "cell_end", "cell": n, "error": null | {...}}
    {"event": "cells_done", "names": {q: {...}}}
    {"event": "check", "question": q, "index": k, "output": value | "error": {...}}
    {"event": "violation", "question": q, "api": ..., "where": ..., "how": ...}
    {"event": "question_done", "question": q}
"""

from __future__ import annotations

import builtins
import linecache
import os
import sys
import threading
import time
import traceback
import types

from . import _strict, codec
from .guard import Guard
from .question import FromScratch
from .scan import parse_cell

_MEMORY_WORDS = ("can't allocate memory", "CUDA out of memory", "out of memory",
                 "Unable to allocate")


class Channel:
    """Writes JSON lines to the result pipe, whole lines at a time, from any thread."""

    def __init__(self, fd: int):
        self.fd = fd
        self.lock = threading.Lock()
        self._write = os.write

    def send(self, message: dict) -> None:
        data = (codec.dumps(message) + "\n").encode()
        with self.lock:
            view = memoryview(data)
            while view:
                try:
                    n = self._write(self.fd, view)
                except InterruptedError:
                    continue
                except OSError:
                    return  # the grader is gone or the submission closed the pipe
                view = view[n:]


class Control:
    """Reads the grader's JSON lines from the control pipe."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buffer = b""
        self._read = os.read

    def receive(self) -> dict | None:
        while b"\n" not in self.buffer:
            try:
                chunk = self._read(self.fd, 1 << 16)
            except InterruptedError:
                continue
            except OSError:
                return None
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            return codec.loads(line)
        except codec.CodecError:
            return None


def _error_record(err: BaseException, cell_name: str | None = None) -> dict:
    try:
        message = str(err)[:500]
    except Exception:  # a student's exception may not even print
        message = "<unprintable>"
    line = None
    tb = err.__traceback__
    while tb is not None:
        if cell_name and tb.tb_frame.f_code.co_filename == cell_name:
            line = tb.tb_lineno
        tb = tb.tb_next
    if isinstance(err, SyntaxError) and line is None:
        line = err.lineno
    memory = isinstance(err, MemoryError) or any(w in message for w in _MEMORY_WORDS)
    return {"type": type(err).__name__[:100], "message": message, "line": line,
            "memory": memory}


def _describe(namespace: dict, name: str) -> dict:
    if name not in namespace:
        return {"defined": False}
    value = namespace[name]
    info = {"defined": True, "callable": callable(value), "type": type(value).__name__[:100],
            "none": value is None, "cell": None, "line": None}
    if type(value) is types.FunctionType:
        filename = value.__code__.co_filename
        if filename.startswith("<cell ") and filename.endswith(">"):
            try:
                info["cell"] = int(filename[6:-1])
            except ValueError:
                pass
            info["line"] = value.__code__.co_firstlineno
    return info


def _display(*objects, **_kwargs) -> None:
    for obj in objects:
        print(repr(obj))


class _FakeIPython:
    """Enough of ``get_ipython()`` for notebooks that call it; magics do nothing here."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _watch_kills() -> list:
    """Note every ``os.kill``/``os.killpg`` a cell makes (the list is cleared after each cell).

    A cell that kills the sandbox's parent dies a few milliseconds later; knowing it sent a
    signal lets :func:`run_cells` wait for that, so the crash is put on the right cell.
    """
    calls: list = []
    for name in ("kill", "killpg"):
        original = getattr(os, name)

        def noted(*args, _original=original):
            calls.append(args)
            return _original(*args)

        setattr(os, name, noted)
    return calls


def run_cells(setup: dict, channel: Channel, nonce: str) -> dict:
    namespace = {"__name__": "__main__", "__builtins__": builtins, "display": _display,
                 "get_ipython": _FakeIPython}
    skip = set(setup.get("skip", []))
    parent = os.getppid()
    signalled = _watch_kills()
    for number, source in setup["cells"]:
        if number in skip:
            continue
        channel.send({"event": "cell_start", "cell": number, "nonce": nonce})
        name = f"<cell {number}>"
        linecache.cache[name] = (len(source), None, source.splitlines(True), name)
        error = None
        try:
            code = compile(source, name, "exec")
            exec(code, namespace)
        except BaseException as err:  # SystemExit in a cell ends the cell only
            error = _error_record(err, name)
        sys.stdout.flush()
        if signalled:  # the cell signalled a process: if it was our parent, end in this cell
            signalled.clear()
            for _ in range(50):
                if os.getppid() != parent:
                    os._exit(9)
                time.sleep(0.01)
        _end_strays()
        channel.send({"event": "cell_end", "cell": number, "error": error, "nonce": nonce})
    return namespace


_kill, _waitpid = os.kill, os.waitpid  # the real ones: run_cells notes the cells' own calls


def _end_strays() -> None:
    """Kill every process a cell left running, so what it still does (allocating memory, say)
    is not charged to the next cell. Only as PID 1 of the sandbox's own PID namespace, where
    ``kill(-1)`` reaches exactly the sandbox's other processes."""
    if os.getpid() != 1:
        return
    try:
        _kill(-1, 9)
    except OSError:  # none left
        return
    end = time.monotonic() + 2.0
    while time.monotonic() < end:  # reap them all (orphans come to PID 1 too)
        try:
            pid, _ = _waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.002)


def evaluate(request: dict, namespace: dict, channel: Channel) -> None:
    """Send the value of a value question (the grader compares it with its answer)."""
    name = request["question"]
    nonce = request.get("nonce")
    message = {"event": "check", "question": name, "index": 0, "nonce": nonce}
    try:
        message["output"] = codec.encode(namespace.get(name))
    except Exception as err:
        message["error"] = _error_record(err)
    channel.send(message)
    channel.send({"event": "question_done", "question": name, "nonce": nonce})


def _become(uid: int) -> None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def _compile_pieces(pieces: list) -> list[tuple[int, types.CodeType]]:
    """``[(cell, code)]`` for the statements of an extracted answer, compiled with their cells'
    names and line numbers (so errors point at the student's cell)."""
    import ast

    out = []
    for cell, source, spots in pieces:
        wanted = {tuple(spot) for spot in spots}
        tree = parse_cell(source)
        body = []
        stack = list(reversed(tree.body))
        while stack:
            stmt = stack.pop()
            decorators = getattr(stmt, "decorator_list", None)
            start = (decorators[0].lineno, max(decorators[0].col_offset - 1, 0)) if decorators \
                else (stmt.lineno, stmt.col_offset)
            if start in wanted:
                body.append(stmt)
            elif isinstance(stmt, ast.If | ast.For | ast.AsyncFor | ast.While | ast.With |
                            ast.AsyncWith | ast.Try):
                inner = [*stmt.body, *getattr(stmt, "orelse", []),
                         *getattr(stmt, "finalbody", [])]
                for handler in getattr(stmt, "handlers", []):
                    inner.extend(handler.body)
                stack.extend(reversed(inner))
        name = f"<cell {cell}>"
        linecache.cache[name] = (len(source), None, source.splitlines(True), name)
        module = ast.Module(body=body, type_ignores=[])
        before = sys.getrecursionlimit()  # a long expression the grader could read compiles
        sys.setrecursionlimit(max(before, 20_000))  # here too (one thread: nothing races)
        try:
            out.append((cell, compile(module, name, "exec")))
        finally:
            sys.setrecursionlimit(before)
    return out


def serve_answer(setup: dict, control: Control, channel: Channel, report, uid) -> None:
    """Evaluate one extracted from-scratch answer under the strict regime (:mod:`._strict`)."""
    from .guard import WATCH

    nonce = setup.get("nonce")
    question = setup["question"]
    spec = FromScratch.from_dict(setup["guard"])
    codes = _compile_pieces(setup["pieces"])
    if setup.get("train") is True:
        _warm_up_training()
        _seed_generators()  # the warm-up drew numbers: start the answer from the usual state
    guard = Guard(spec, report).install()
    guard.mode, guard.question, guard.active = WATCH, question, spec
    _strict.arm(spec.aten, {code for _, code in codes}, report)
    if uid is not None:
        _become(uid)
    channel.send({"event": "hello", "nonce": nonce})
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    for cell, code in codes:
        channel.send({"event": "cell_start", "cell": cell, "nonce": nonce})
        error = None
        try:
            exec(code, namespace)
        except BaseException as err:  # a failing statement is feedback, not the end
            error = _error_record(err, f"<cell {cell}>")
        sys.stdout.flush()
        channel.send({"event": "cell_end", "cell": cell, "error": error, "nonce": nonce})
    channel.send({"event": "cells_done", "nonce": nonce,
                  "names": {question: _describe(namespace, question)}})
    while True:
        request = control.receive()
        if request is None or request.get("op") != "evaluate" or \
                request.get("question") != question:
            break
        if request.get("kind") == "value":
            evaluate(request, namespace, channel)
        else:
            _evaluate_cases(request, namespace, channel)


def _evaluate_cases(request: dict, namespace: dict, channel: Channel) -> None:
    name, nonce = request["question"], request.get("nonce")
    value = namespace.get(name)
    for index, encoded_args in enumerate(request["cases"]):
        args = codec.decode(encoded_args)
        message = {"event": "check", "question": name, "index": index, "nonce": nonce}
        try:
            message["output"] = codec.encode(value(*args))
        except BaseException as err:  # ForbiddenAPIError and SystemExit too: record, go on
            message["error"] = _error_record(err)
        sys.stdout.flush()
        channel.send(message)
    channel.send({"event": "question_done", "question": name, "nonce": nonce})


def serve_notebook(setup: dict, control: Control, channel: Channel, uid) -> None:
    """Run the notebook's cells, then answer the questions that are not from scratch."""
    _strict.protect_references()
    if uid is not None:
        _become(uid)
    channel.send({"event": "hello", "nonce": setup.get("nonce")})
    namespace = run_cells(setup, channel, setup.get("nonce"))
    channel.send({"event": "cells_done", "nonce": setup.get("nonce"),
                  "names": {q: _describe(namespace, q) for q in setup["questions"]}})
    while True:
        request = control.receive()
        if request is None or request.get("op") != "evaluate":
            break
        if request.get("kind") == "value":
            evaluate(request, namespace, channel)
        else:
            _evaluate_cases(request, namespace, channel)


def _warm_up_training() -> None:
    """Before the locks of a training question's answer are armed (:func:`_strict.arm`), run
    once what a first training step imports: an optimiser's first ``step()`` imports
    ``torch._dynamo``, whose modules build code at import time (``typing``, ``namedtuple``),
    which the locks would take for the answer's own. A tiny network is trained one step with
    each common optimiser, through a ``DataLoader``."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    net = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3), torch.nn.Tanh(), torch.nn.AvgPool2d(2),
                              torch.nn.Flatten(), torch.nn.Linear(1, 2))
    data = DataLoader(TensorDataset(torch.zeros(2, 1, 4, 4), torch.zeros(2, dtype=torch.long)),
                      batch_size=2, shuffle=True)
    for make in (torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW, torch.optim.RMSprop):
        optimizer = make(net.parameters(), lr=0.0)
        net.train()
        for x, y in data:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(net(x), y).backward()
            optimizer.step()
        net.eval()
        with torch.no_grad():
            net(x).argmax(1)


def _seed_generators() -> None:
    """Every sandbox starts its random generators from the same state (Python's ``random``,
    NumPy's and PyTorch's global ones): an answer that draws numbers without seeding them is
    graded alike at every regrade. The state is a constant, not the hidden checks' seed, so it
    tells the submission nothing about its hidden inputs."""
    import random

    random.seed(0)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(0)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(0)


def main(control_fd: int, result_fd: int, uid: int | None = None) -> None:
    """Serve one sandbox run, then leave without running the submission's ``atexit`` hooks.

    The first message says which run: ``"mode": "notebook"`` (the notebook's cells, then the
    questions that are not from scratch) or ``"mode": "answer"`` (one extracted from-scratch
    answer, under :mod:`._strict`). With ``uid``, the process becomes that user once its locks
    are in place (installing them may import modules only the grader's user can read), before
    any student code.
    """
    channel = Channel(result_fd)
    control = Control(control_fd)
    code = 0
    try:
        setup = control.receive()
        if setup is None or setup.get("op") != "setup":
            os._exit(3)
        reported: dict = {}

        def report(record: dict) -> None:  # at most 20 reports per question
            key = record.get("question")
            reported[key] = reported.get(key, 0) + 1
            if reported[key] <= 20:
                channel.send({"event": "violation", "nonce": setup.get("nonce"),
                              "question": setup.get("question"), **record})

        _seed_generators()
        if setup.get("mode") == "answer":
            serve_answer(setup, control, channel, report, uid)
        else:
            serve_notebook(setup, control, channel, uid)
    except BaseException:  # report our own failure, then leave
        traceback.print_exc()
        code = 4
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)
