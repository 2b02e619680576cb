"""The runtime half of the "from scratch" rule: tripwires on forbidden APIs.

A :class:`Guard` replaces every forbidden callable it can reach (``torch.nn.functional.conv1d``
and its aliases such as ``torch.conv1d``, ``torch.Tensor.unfold``, the ``forward`` of
``torch.nn.Conv1d``, every function of a forbidden module such as ``scipy.signal``, even one
imported later) by a *tripwire*. It is installed before any student code runs, so a name a
submission saves early (``c = F.conv1d``) is already the tripwire. A tripwire does nothing
until the guard is told what is going on:

- ``allow`` (the notebook's cells, questions that are not from scratch): calls pass through;
- ``watch`` (a from-scratch question is being evaluated): a call to one of *its* forbidden APIs
  is reported at once (``on_violation``) and raises :class:`ForbiddenAPIError`; a PyTorch
  dispatch mode also watches the operators themselves (``aten::convolution``, ``im2col``…),
  so reaching them by another path (``torch.ops.aten``, a saved C function) is caught too;
- ``block`` (the grader's process waits between questions): every forbidden call is reported,
  so code left running in the background cannot compute an answer unseen.

Nothing here makes a verdict: the grader only learns of a violation and gives 0 points.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import os
import sys
import threading
import types
import warnings
from collections.abc import Callable

from .question import FromScratch

__all__ = ["ALLOW", "BLOCK", "WATCH", "ForbiddenAPIError", "Guard", "warm_up"]

ALLOW, WATCH, BLOCK = "allow", "watch", "block"
_ALIAS_ROOTS = ("torch", "numpy", "scipy", "cnnlib", "posix")  # posix.fork is os.fork
_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the cnnlib package


class ForbiddenAPIError(RuntimeError):
    """A from-scratch answer called an API it may not use."""


def _import_path(dotted: str):
    """``(owner, attr, obj)`` for a dotted name, importing the longest module prefix."""
    with warnings.catch_warnings():  # numpy.core.* warns that it was renamed
        warnings.simplefilter("ignore")
        return _import_path_quietly(dotted)


def _import_path_quietly(dotted: str):
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            owner = importlib.import_module(".".join(parts[:cut]))
        except Exception:  # optional modules (scipy) may be absent
            continue
        try:
            for attr in parts[cut:-1]:
                owner = getattr(owner, attr)
            return owner, parts[-1], getattr(owner, parts[-1])
        except Exception:  # absent, or a lazy attribute whose import fails: nothing to guard
            return None
    return None


def _where() -> str:
    """The innermost frame of the submission's own code (not a library, not the grader)."""
    frame = sys._getframe(2)
    libraries = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix, _HERE})
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(libraries) and not filename.startswith("<frozen"):
            place = filename[1:-1] if filename.startswith("<cell") else filename
            return f"{place}, line {frame.f_lineno}, in {frame.f_code.co_name}"
        frame = frame.f_back
    return "unknown place"


class _WrappingLoader(importlib.abc.Loader):
    """Loads a forbidden module as usual, then puts tripwires on its functions."""

    def __init__(self, loader, guard: Guard):
        self._loader, self._guard = loader, guard

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        self._guard._wrap_module(module)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _ModuleFinder(importlib.abc.MetaPathFinder):
    def __init__(self, guard: Guard):
        self._guard = guard

    def find_spec(self, fullname, path, target=None):
        guard = self._guard
        if not guard._forbidden_module(fullname):
            return None
        if guard._forbids(fullname):
            guard._violated(fullname, f"import {fullname}")
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _WrappingLoader(spec.loader, guard)
                return spec
        return None


class Guard:
    """Tripwires for every API of ``spec``; see the module docstring.

    ``on_violation(record)`` receives ``{"api", "question", "where", "how"}`` the moment a
    forbidden call happens, before :class:`ForbiddenAPIError` is raised.
    """

    def __init__(self, spec: FromScratch, on_violation: Callable[[dict], None]):
        self.spec = spec
        self.on_violation = on_violation
        self.mode = ALLOW
        self.question: str | None = None
        self.active: FromScratch | None = None
        self._patches: list[tuple[object, str, object, bool]] = []
        self._tripwires: dict[int, tuple[Callable, list[str]]] = {}
        self._finder: _ModuleFinder | None = None
        self._lock = threading.Lock()

    # -- deciding ----------------------------------------------------------------------------
    def _forbids(self, *apis: str) -> bool:
        if self.mode == BLOCK:
            return True
        if self.mode == WATCH and self.active is not None:
            return any(self.active.match(api) for api in apis)
        return False

    def _forbidden_module(self, name: str) -> bool:
        return any(name == m or name.startswith(m + ".") for m in self.spec.modules)

    def _violated(self, api: str, used_as: str) -> None:
        record = {"api": api, "used_as": used_as, "question": self.question,
                  "where": _where(), "how": "runtime guard"}
        with self._lock:
            self.on_violation(record)
        what = f"while {self.question} was graded" if self.question else \
            "between questions (code running in the background?)"
        raise ForbiddenAPIError(f"{api} is not allowed here: it was called {what}, and this "
                                "question must be answered from scratch")

    # -- installing --------------------------------------------------------------------------
    def _tripwire(self, original: Callable, api: str) -> Callable:
        known = self._tripwires.get(id(original))
        if known is not None:
            wrapper, apis = known
            if api not in apis:
                apis.append(api)
            return wrapper
        apis = [api]
        guard = self

        def tripwire(*args, **kwargs):
            if guard.mode != ALLOW and guard._forbids(*apis):
                guard._violated(apis[0], apis[0])
            return original(*args, **kwargs)

        for attr in ("__name__", "__qualname__", "__doc__", "__module__"):
            with contextlib.suppress(AttributeError, TypeError):
                setattr(tripwire, attr, getattr(original, attr))
        self._tripwires[id(original)] = (tripwire, apis)
        return tripwire

    def _patch(self, owner, attr: str, original, api: str) -> None:
        wrapper = self._tripwire(original, api)
        own = attr in vars(owner)
        try:
            setattr(owner, attr, wrapper)
        except (AttributeError, TypeError):
            return
        self._patches.append((owner, attr, original, own))

    def _wrap_module(self, module: types.ModuleType) -> None:
        """Tripwires on the functions a forbidden module defines, private ones too
        (``cnnlib.loop_conv._conv2d_loop``) — not on what it merely imports (``dataclass``,
        shared helpers), used legitimately elsewhere, nor on its dunders (``__getattr__``)."""
        for name, value in list(vars(module).items()):
            if not (name.startswith("__") and name.endswith("__")) and isinstance(
                    value, types.FunctionType | types.BuiltinFunctionType) and \
                    getattr(value, "__module__", None) == module.__name__ and \
                    id(value) not in self._wrapper_ids():
                self._patch(module, name, value, f"{module.__name__}.{name}")

    def _wrapper_ids(self) -> set[int]:
        return {id(w) for w, _ in self._tripwires.values()}

    def install(self) -> Guard:
        """Put the tripwires in place (calls still pass through: the mode is ``allow``)."""
        if self._patches or self._finder:
            return self
        for entry in self.spec.apis:
            found = _import_path(entry)
            if found is None:
                continue
            owner, attr, obj = found
            if isinstance(obj, type):  # a layer's forward, else the class's constructor
                method = "forward" if "forward" in vars(obj) else "__init__"
                if method in vars(obj):
                    self._patch(obj, method, vars(obj)[method], entry)
            elif callable(obj) and not isinstance(obj, types.ModuleType):
                self._patch(owner, attr, obj, entry)
        for name, module in list(sys.modules.items()):
            if module is not None and self._forbidden_module(name):
                self._wrap_module(module)
        self._patch_aliases()
        self._finder = _ModuleFinder(self)
        sys.meta_path.insert(0, self._finder)
        return self

    def _patch_aliases(self) -> None:
        """The same callables under other names (``torch.conv1d is F.conv1d``)."""
        originals = {key: wrapper for key, (wrapper, _) in self._tripwires.items()}
        for name, module in list(sys.modules.items()):
            if module is None or not name.startswith(_ALIAS_ROOTS) or \
                    name.startswith("cnnlib.grading"):
                continue
            try:
                items = list(vars(module).items())
            except TypeError:
                continue
            for attr, value in items:
                if id(value) in originals and not isinstance(value, type):
                    self._patch(module, attr, value, self._tripwires[id(value)][1][0])

    def uninstall(self) -> None:
        """Put every original back (the student-side checker does this after each check)."""
        for owner, attr, original, own in reversed(self._patches):
            with contextlib.suppress(AttributeError, TypeError):
                if own:
                    setattr(owner, attr, original)
                else:
                    delattr(owner, attr)
        self._patches.clear()
        self._tripwires.clear()
        if self._finder is not None:
            with contextlib.suppress(ValueError):
                sys.meta_path.remove(self._finder)
            self._finder = None

    # -- modes -------------------------------------------------------------------------------
    def allow(self) -> None:
        self.mode, self.question, self.active = ALLOW, None, None

    def block(self) -> None:
        self.mode, self.question, self.active = BLOCK, None, None

    @contextlib.contextmanager
    def watching(self, question: str, spec: FromScratch):
        """Evaluate ``question`` under ``spec``: forbidden calls are reported and refused."""
        previous = (self.mode, self.question, self.active)
        self.mode, self.question, self.active = WATCH, question, spec
        mode = _aten_watch(self, spec) if spec.aten else contextlib.nullcontext()
        try:
            with mode:
                yield self
        finally:
            self.mode, self.question, self.active = previous

    @contextlib.contextmanager
    def allowing(self, question: str):
        """Evaluate a question that is not from scratch: everything is allowed."""
        previous = (self.mode, self.question, self.active)
        self.mode, self.question, self.active = ALLOW, question, None
        try:
            yield self
        finally:
            self.mode, self.question, self.active = previous


def warm_up() -> None:
    """Pay PyTorch's first-use cost of dispatch modes (it imports ~900 modules) once, here,
    instead of in the first from-scratch check (the grader's zygote calls this)."""
    import torch

    with _aten_watch(Guard(FromScratch(()), lambda record: None), FromScratch((), aten=("x",))):
        torch.zeros(2) + 1


def _aten_watch(guard: Guard, spec: FromScratch):
    """A PyTorch dispatch mode that refuses the forbidden operators however they are reached."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class AtenWatch(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            name = func._schema.name
            if spec.aten_match(name):
                guard._violated(f"the PyTorch operator {name}", name)
            return func(*args, **(kwargs or {}))

    return AtenWatch()
