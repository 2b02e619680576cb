"""Train once, reuse: :func:`fit_or_load` keeps what :func:`cnnlib.training.fit` learned.

Chapters 7 and 8 both need a LeNet trained with chapter 7's recipe, and the book's build and
its tests execute every chapter. :func:`fit_or_load` trains a model exactly as ``fit`` does
the first time and stores the trained weights and the :class:`~cnnlib.training.History` on
disk; a later call with the same inputs loads them instead of training again. Each notebook
still runs alone from a clean checkout: with nothing stored, it trains.

The entry's key is a fingerprint of everything that decides the result: the model's class
and initial weights, the training and validation tensors, every argument of ``fit`` (an
``augment`` function by its code and the values it closes over), the precision and device
type ``fit`` resolves, torch's thread count and version, and the source of cnnlib's training
code. Change any of them and the model is trained anew. A loaded history says so
(``history.cached``) and keeps the training time it was measured with.

Where: ``$CNNLIB_CACHE`` when set, else ``~/.cache/cnnlib/trained-models`` (beside the
data, see :func:`cnnlib.datasets.data_root`); ``CNNLIB_CACHE=off`` trains
every time. Entries are written to a temporary file and renamed, so two notebooks training
the same model at once both leave a complete entry. Loading uses
``torch.load(weights_only=True)``: an entry holds tensors and numbers, never code.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import os
import pickle
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from . import evaluation, training
from ._validate import check_module
from .training import History, fit

__all__ = ["cache_dir", "fit_or_load"]

_FORMAT = 1  # bump when an entry's layout changes


def cache_dir() -> Path | None:
    """The folder of the entries (created on first write), or ``None`` when
    ``CNNLIB_CACHE=off``."""
    value = os.environ.get("CNNLIB_CACHE", "").strip()
    if value.lower() == "off":
        return None
    if value:
        return Path(value).expanduser()
    return Path.home() / ".cache" / "cnnlib" / "trained-models"


def _update_tensor(h, tensor: torch.Tensor) -> None:
    t = tensor.detach().to("cpu").contiguous()
    h.update(f"{t.dtype}{tuple(t.shape)}".encode())
    h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")


def _update_value(h, value) -> None:
    """Feed ``value`` to the hash: tensors by content, callables by code and closure."""
    if isinstance(value, torch.Tensor):
        _update_tensor(h, value)
    elif isinstance(value, (list, tuple)):
        h.update(f"{type(value).__name__}{len(value)}".encode())
        for item in value:
            _update_value(h, item)
    elif isinstance(value, dict):
        for key in sorted(value, key=repr):
            h.update(repr(key).encode())
            _update_value(h, value[key])
    elif inspect.isfunction(value):
        code = value.__code__
        h.update(f"{value.__module__}.{value.__qualname__}".encode())
        h.update(code.co_code)
        _update_value(h, [c for c in code.co_consts if not inspect.iscode(c)])
        _update_value(h, list(value.__defaults__ or ()))
        _update_value(h, [cell.cell_contents for cell in value.__closure__ or ()])
        _update_value(h, [value.__globals__.get(name) for name in code.co_names
                          if isinstance(value.__globals__.get(name), (int, float, str))])
    else:
        h.update(f"{type(value).__qualname__}:{value!r}".encode())


def _key(model: nn.Module, train_data, val_data, kwargs: dict, device: torch.device) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(f"format {_FORMAT} torch {torch.__version__} threads {torch.get_num_threads()}"
             .encode())
    for module in (training, evaluation):
        h.update(Path(module.__file__).read_bytes())
    h.update(f"{type(model).__module__}.{type(model).__qualname__}{model!r}".encode())
    try:  # the model's code (its forward) where it lives in a file
        h.update(Path(inspect.getsourcefile(type(model)) or "").read_bytes())
    except (TypeError, OSError):
        pass
    _update_value(h, model.state_dict())
    _update_value(h, list(train_data))
    _update_value(h, list(val_data) if val_data is not None else None)
    precision = evaluation.resolve_precision(kwargs.get("precision", "auto"), device)
    h.update(f"{device.type} {precision}".encode())
    _update_value(h, {k: v for k, v in kwargs.items() if k not in ("progress", "desc")})
    return h.hexdigest()


def _history_from(entry: dict) -> History:
    fields = {f.name for f in dataclasses.fields(History)}
    history = History(**{k: v for k, v in entry.items() if k in fields})
    history.cached = True
    return history


def fit_or_load(model: nn.Module, train_data: Sequence[torch.Tensor],
                val_data: Sequence[torch.Tensor] | None = None, *, name: str,
                device: torch.device | str | None = None, **fit_kwargs) -> History:
    """``fit(model, train_data, val_data, device=device, **fit_kwargs)``, or its stored result.

    Args:
        model: the untrained model (its initial weights are part of the key); trained or
            loaded in place, and moved to ``device``.
        train_data, val_data, device, fit_kwargs: exactly as for
            :func:`cnnlib.training.fit`.
        name: a readable prefix of the entry's file name (e.g. ``"lenet-mnist"``); letters,
            digits, ``-`` and ``_``.

    Returns:
        The :class:`~cnnlib.training.History`; ``history.cached`` is ``True`` when it was
        loaded (its times are those of the run that trained the model).
    """
    check_module("model", model)
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "-_" for c in name):
        raise ValueError(f"name must be a non-empty string of letters, digits, '-' and '_', "
                         f"got {name!r}")
    device = torch.device(device) if device is not None else evaluation._model_device(model)
    folder = cache_dir()
    if folder is None:
        return fit(model, train_data, val_data, device=device, **fit_kwargs)
    path = folder / f"{name}-{_key(model, train_data, val_data, fit_kwargs, device)}.pt"
    if path.exists():
        try:
            entry = torch.load(path, map_location="cpu", weights_only=True)
            model.load_state_dict(entry["state_dict"])
            model.to(device)
            if fit_kwargs.get("channels_last", True):
                model.to(memory_format=torch.channels_last)
            history = _history_from(entry["history"])
            if fit_kwargs.get("progress", True):
                print(_loaded_message(fit_kwargs.get("desc") or type(model).__name__, path,
                                      name, history), flush=True)
            return history
        except (OSError, RuntimeError, KeyError, TypeError, ValueError, pickle.UnpicklingError):
            pass  # a damaged or foreign entry: train again and overwrite it
    history = fit(model, train_data, val_data, device=device, **fit_kwargs)
    _store(path, model, history)
    return history


def _loaded_message(desc: str, path: Path, name: str, history: History) -> str:
    """``"LeNet: stored run lenet-mnist-ade1b4a0… loaded (trained in 5.0 s)"``: the entry's
    name and the first 8 digits of its key (two pages that show the same ones loaded the
    same run), short enough for a printed line of the book."""
    return (f"{desc}: stored run {path.stem[:len(name) + 9]}… loaded "
            f"(trained in {history.train_seconds:.1f} s)")


def _store(path: Path, model: nn.Module, history: History) -> None:
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    entry = {"state_dict": state, "history": dataclasses.asdict(history)}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
            torch.save(entry, tmp)
        os.replace(tmp.name, path)
    except OSError:  # a read-only home: the model is trained, just not stored
        if "tmp" in locals():
            Path(tmp.name).unlink(missing_ok=True)
