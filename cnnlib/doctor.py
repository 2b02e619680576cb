"""Checks a reader's set-up (chapter 0) and says what to do about anything missing."""

from __future__ import annotations

import html
import os
import sys
from dataclasses import dataclass

import torch

from .datasets import DataNotFoundError, load_mnist, photo
from .env import describe_environment, get_device

__all__ = ["SetupCheck", "SetupReport", "check_setup", "describe_data_root"]

MIN_PYTHON = (3, 10)
MIN_TORCH = (2, 2)


@dataclass
class SetupCheck:
    """One line of the set-up report: what was checked, whether it is fine, and advice."""

    item: str
    ok: bool
    found: str
    advice: str = ""


class SetupReport(list):
    """A list of :class:`SetupCheck` that prints as a table (text or HTML)."""

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self)

    def __str__(self) -> str:
        width = max(len(c.item) for c in self)
        lines = []
        for c in self:
            mark = "ok " if c.ok else "MISSING"
            line = f"{mark:8} {c.item:{width}}  {c.found}"
            if c.advice and not c.ok:
                line += f"\n{'':8} {'':{width}}  -> {c.advice}"
            lines.append(line)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{'✓ ok' if c.ok else '✗ missing'}</td><td>{html.escape(c.item)}</td>"
            f"<td><code>{html.escape(c.found)}</code></td>"
            f"<td>{'' if c.ok else html.escape(c.advice)}</td></tr>"
            for c in self
        )
        return (
            "<table><thead><tr><th>status</th><th>check</th><th>found</th><th>what to do</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>"
        )


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split("+")[0].split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def describe_data_root() -> str:
    """Where the data root is, in words that name no folder of this machine.

    ``"$CNNLIB_DATA"`` when that variable is set, else the per-user cache folder of
    :func:`cnnlib.data_root` (``"$XDG_CACHE_HOME/cnnlib"`` or ``"~/.cache/cnnlib"``): a report
    printed on one machine (the website's build) tells every reader where to look on theirs.
    """
    if os.environ.get("CNNLIB_DATA"):
        return "$CNNLIB_DATA"
    if os.environ.get("XDG_CACHE_HOME"):
        return "$XDG_CACHE_HOME/cnnlib"
    return "~/.cache/cnnlib"


def check_setup(download: bool = False) -> SetupReport:
    """Run every check of the course's set-up and return a printable report.

    Checks the Python and torch versions, the compute device, matplotlib's sample photo and
    the MNIST files under :func:`cnnlib.data_root`. ``download=True`` lets torchvision fetch
    MNIST when it is missing (needs network).
    """
    info = describe_environment()
    report = SetupReport()
    py_ok = sys.version_info[:2] >= MIN_PYTHON
    report.append(SetupCheck(
        "Python", py_ok, info["python"],
        f"install Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer"))
    torch_ok = _version_tuple(torch.__version__) >= MIN_TORCH
    report.append(SetupCheck(
        "PyTorch", torch_ok, info["torch"],
        "pip install -r requirements.txt (from the course repository)"))
    report.append(SetupCheck("torchvision", True, info["torchvision"]))
    device = get_device()
    found = info.get("gpu", "no CUDA GPU: the CPU will do, every chapter fits its budget")
    report.append(SetupCheck(f"device ({device})", True, found))
    try:
        img = photo()
        report.append(SetupCheck("sample photo", True, f"grace_hopper.jpg {tuple(img.shape)}"))
    except DataNotFoundError as err:
        report.append(SetupCheck("sample photo", False, "missing", str(err)))
    where = describe_data_root()
    try:
        ds = load_mnist(train=False, download=download)
        report.append(SetupCheck("MNIST", True, f"{len(ds)} test digits in {where}"))
    except DataNotFoundError:
        report.append(SetupCheck(
            "MNIST", False, f"not in {where}",
            "connect to the internet (torchvision downloads it), or set CNNLIB_DATA to a "
            "folder holding MNIST/raw/ (from a checkout: ../shared/data)"))
    return report
