"""What runs inside the sandbox: a submission's cells, then its answers to the grader's inputs.

Nothing here is trusted by the grader. This process executes the student's code cells in
order, each guarded so that an exception (even ``SystemExit``) in one cell is recorded and the
next cell still runs, then answers the grader's requests one question at a time: it calls the
student's function on the inputs it is sent and sends back the *outputs*, as JSON lines, on
its own channel. It never sees an expected answer and decides no verdict; the grader compares
the outputs with its own references in its own process. A submission that tampers with this
process (patching torch, forging messages, exiting) can only spoil its own outputs.

Protocol (one JSON object per line). Grader → sandbox, on the control pipe::

    {"op": "setup", "cells": [[number, source], ...], "skip": [...], "questions": [...],
     "guard": {"apis": [...], "modules": [...], "aten": [...]}}
    {"op": "evaluate", "question": q, "kind": "function"|"value",
     "from_scratch": {...} | null, "cases": [[arg, ...], ...]}
    {"op": "exit"}

Sandbox → grader, on the result channel::

    {"event": "hello"}                      {"event": "cell_start", "cell": n}
    {"event": "cell_end", "cell": n, "error": null | {...}}
    {"event": "cells_done", "names": {q: {...}}}
    {"event": "check", "question": q, "index": k, "output": value | "error": {...}}
    {"event": "violation", "question": q, "api": ..., "where": ...}
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

from . import codec
from .guard import ForbiddenAPIError, Guard
from .question import FromScratch

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
        channel.send({"event": "cell_end", "cell": number, "error": error, "nonce": nonce})
    return namespace


def evaluate(request: dict, namespace: dict, guard: Guard, channel: Channel) -> None:
    name = request["question"]
    nonce = request.get("nonce")
    value = namespace.get(name)
    if request["kind"] == "value":
        try:
            output = codec.encode(value)
        except Exception as err:
            channel.send({"event": "check", "question": name, "index": 0, "nonce": nonce,
                          "error": _error_record(err)})
        else:
            channel.send({"event": "check", "question": name, "index": 0, "nonce": nonce,
                          "output": output})
        channel.send({"event": "question_done", "question": name, "nonce": nonce})
        return
    spec = request.get("from_scratch")
    spec = FromScratch.from_dict(spec) if spec else None
    for index, encoded_args in enumerate(request["cases"]):
        args = codec.decode(encoded_args)
        message = {"event": "check", "question": name, "index": index, "nonce": nonce}
        try:
            context = guard.watching(name, spec) if spec else guard.allowing(name)
            with context:
                result = value(*args)
                message["output"] = codec.encode(result)
        except ForbiddenAPIError as err:
            message["error"] = _error_record(err)
        except BaseException as err:  # SystemExit too: record, go on
            message["error"] = _error_record(err)
        sys.stdout.flush()
        channel.send(message)
    channel.send({"event": "question_done", "question": name, "nonce": nonce})


def _become(uid: int) -> None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def main(control_fd: int, result_fd: int, uid: int | None = None) -> None:
    """Serve one submission, then leave without running the submission's ``atexit`` hooks.

    With ``uid``, the process becomes that user once its guard is in place (installing the
    guard may import modules only the grader's user can read), before any student code.
    """
    channel = Channel(result_fd)
    control = Control(control_fd)
    code = 0
    try:
        setup = control.receive()
        if setup is None or setup.get("op") != "setup":
            os._exit(3)
        nonce = setup.get("nonce")
        reported: dict = {}

        def report(record: dict) -> None:  # at most 20 reports per question
            key = record.get("question")
            reported[key] = reported.get(key, 0) + 1
            if reported[key] <= 20:
                channel.send({"event": "violation", **record})

        guard = Guard(FromScratch.from_dict(setup["guard"]), report)
        guard.install()
        if uid is not None:
            _become(uid)
        channel.send({"event": "hello", "nonce": nonce})
        namespace = run_cells(setup, channel, nonce)
        guard.block()
        channel.send({"event": "cells_done", "nonce": nonce,
                      "names": {q: _describe(namespace, q) for q in setup["questions"]}})
        while True:
            request = control.receive()
            if request is None or request.get("op") != "evaluate":
                break
            evaluate(request, namespace, guard, channel)
    except BaseException:  # report our own failure, then leave
        traceback.print_exc()
        code = 4
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)
