"""The evaluation regime of a from-scratch answer, inside its own sandbox.

A from-scratch answer is evaluated in a sandbox that runs only the answer's extracted code (see
:mod:`cnnlib.grading.extract`), after :func:`arm` has put three locks in place that no Python
code can take off again:

- **PyTorch's operators** named by the question's rule (``aten::convolution``, ``im2col``,
  ``unfold``…) are re-registered, for every backend, with a kernel that refuses: however an
  operator is reached (``F.conv2d``, ``torch._VF``, ``torch.ops.aten``, a saved reference, any
  thread), the dispatcher calls the refusal.
- **An audit hook** (PEP 578: Python code cannot remove one) refuses, from the answer's code,
  what looks into the running program (frames, ``gc``, code objects), code compiled at run time
  (``compile``/``exec``/``eval``, from anywhere but the few library modules that need it),
  unpickling, ``ctypes``, and starting processes; and from anywhere, reading the grader's
  reference code.
- **No new threads**: ``_thread``'s thread starters refuse, so all of the answer runs on the
  thread the operator watch and the tripwires see.

The refusal kernels and the state they use live only in closures held by the audit hook and the
dispatcher, so no attribute path from a module reaches them. On top, the runtime
:class:`~cnnlib.grading.guard.Guard` puts tripwires on the forbidden Python functions, which
name the API in the feedback.

:func:`protect_references` is the part the notebook sandbox gets too: no file of
``cnnlib/grading/exercises`` can be opened or imported.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable

from .guard import ForbiddenAPIError

__all__ = ["arm", "protect_references"]

_GRADING = os.path.dirname(os.path.abspath(__file__))
_REFERENCES = os.path.join(_GRADING, "exercises")
_LIBRARY_PREFIXES = tuple(sorted({os.path.realpath(p) + os.sep for p in (
    sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.__file__),
    os.path.dirname(os.path.dirname(_GRADING)))}))
_COMPILERS = ("dataclasses.py", os.path.join("collections", "__init__.py"))
_INTROSPECTION = ("sys._getframe", "sys._current_frames", "sys.settrace", "sys.setprofile",
                  "gc.get_objects", "gc.get_referrers", "gc.get_referents", "function.__new__",
                  "code.__new__", "object.__getattr__", "object.__setattr__",
                  "object.__delattr__", "builtins.input", "sys.addaudithook")
_ALWAYS_REFUSED = ("os.system", "os.fork", "os.forkpty", "os.exec", "os.posix_spawn",
                   "os.spawn", "subprocess.Popen", "pty.spawn")
"""Starting a process, from any code: no guard would watch it."""
_PROCESSES = ("os.kill", "os.killpg", "marshal.loads", "os.link", "os.symlink")
"""Refused from the answer's own code (importing a module reads its .pyc with marshal)."""


def _is_reference(path) -> bool:
    try:
        real = os.path.realpath(os.fsdecode(path))
    except (TypeError, ValueError):
        return False
    return real == _REFERENCES or real.startswith(_REFERENCES + os.sep)


def _trusted(frame) -> bool:
    """Code from a file of the installed libraries or of cnnlib (not text built at run time,
    not the submission's cells)."""
    if frame is None:
        return True
    name = frame.f_code.co_filename
    if name.startswith("<frozen"):
        return True
    return name.startswith(_LIBRARY_PREFIXES)


def protect_references() -> None:
    """Refuse opening or importing the grader's exercise modules, from anywhere, for the rest
    of this process's life."""

    def hook(event, args):
        if not args:
            return
        if event == "import":
            refused = isinstance(args[0], str) and args[0].startswith("cnnlib.grading.exercises")
        else:
            refused = event in ("open", "os.link", "os.symlink") and _is_reference(args[0])
        if refused:
            raise PermissionError("the grader's reference code is not available to a "
                                  "submission")

    sys.addaudithook(hook)


def arm(aten: tuple[str, ...], trusted_code: set, report: Callable[[dict], None]) -> None:
    """Lock this process down for one from-scratch answer (see the module docstring).

    ``aten``: shell-style operator names to refuse; ``trusted_code``: the code objects of the
    answer itself, which the sandbox is about to run (``exec`` of those is allowed);
    ``report(record)`` is called once per refused action, before it raises.
    """
    protect_references()
    state = {"inside": False}

    def refuse(api: str, how: str) -> None:
        where = _where_in_answer()
        record = {"api": api, "used_as": api, "where": where, "how": how}
        report(record)
        raise ForbiddenAPIError(f"{api} is not allowed in a from-scratch answer ({where})")

    library = _refuse_operators(aten, refuse)

    def hook(event, args, _keep=library):
        if state["inside"]:
            return
        state["inside"] = True
        try:
            _audit(event, args, trusted_code, refuse)
        finally:
            state["inside"] = False

    sys.addaudithook(hook)
    _refuse_threads(refuse)


def _caller():
    return sys._getframe(3)  # hook ← _audit ← this ← the code that triggered the event


def _audit(event: str, args: tuple, trusted_code: set, refuse) -> None:
    if event == "exec" and args and args[0] in trusted_code:
        return
    if event in ("compile", "exec"):
        frame = _caller()
        name = frame.f_code.co_filename if frame is not None else ""
        if not (_trusted(frame) and name.endswith(_COMPILERS)) and \
                not name.startswith(("<frozen importlib", _GRADING)):
            refuse(f"{event} (code built at run time)", "audit hook")
        return
    if event == "pickle.find_class" or event.startswith(_ALWAYS_REFUSED):
        refuse(event, "audit hook")
    elif event.startswith("ctypes.") or event in _PROCESSES:
        if not _trusted(_caller()):
            refuse(event, "audit hook")
        return
    if event in _INTROSPECTION and not _trusted(_caller()):
        what = f"{event} {args[1]}" if event == "object.__getattr__" and len(args) > 1 else event
        refuse(what, "audit hook")


def _where_in_answer() -> str:
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith("<cell "):
            return f"{name[1:-1]}, line {frame.f_lineno}, in {frame.f_code.co_name}"
        frame = frame.f_back
    return "the answer's code"


def _refuse_operators(patterns: tuple[str, ...], refuse):
    """Register a refusing kernel for every aten operator matching ``patterns``."""
    if not patterns:
        return None
    import fnmatch

    import torch

    names = set()
    for op in torch._C._dispatch_get_all_op_names():
        if not op.startswith("aten::"):
            continue
        base = op[len("aten::"):]
        stem = base.split(".")[0]
        if stem.startswith("_convert"):
            continue
        if any(fnmatch.fnmatchcase(stem, p) for p in patterns):
            names.add(base)
    library = torch.library.Library("aten", "IMPL")

    def refusal(name):
        def kernel(*args, **kwargs):
            refuse(f"the PyTorch operator aten::{name}", "operator watch")
        return kernel

    keys = ["CPU", "CompositeExplicitAutograd", "CompositeImplicitAutograd"]
    if torch.cuda.is_available():
        keys.append("CUDA")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in sorted(names):
            for key in keys:
                try:
                    library.impl(name, refusal(name), key)
                except Exception:  # not every operator takes every key
                    continue
    return library


def _refuse_threads(refuse) -> None:
    import _thread
    import threading

    def no_threads(*args, **kwargs):
        refuse("starting a thread", "thread lock")

    for module, names in ((_thread, ("start_new_thread", "start_joinable_thread", "start_new")),
                          (threading, ("_start_new_thread", "_start_joinable_thread"))):
        for name in names:
            if hasattr(module, name):
                setattr(module, name, no_threads)
