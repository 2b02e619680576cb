"""Reading a submitted notebook without trusting it: cells out of JSON, magics out of cells.

:func:`read_notebook` never raises: a file that is not UTF-8, not JSON or not a notebook comes
back with ``error`` set (the grader then gives every question the status ``crash`` and says
why). Only code cells run; :func:`runnable_cells` turns each into plain Python the way
IPython would (``%pip …`` and ``!ls`` lines become ``pass`` at the same indentation, so the
setup cell's ``try:`` block still parses; ``%%bash``-style cells are skipped).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

__all__ = ["Cell", "Notebook", "mentioned_outside_code", "read_notebook", "runnable_cells",
           "strip_magics"]

MAX_BYTES = 20 * 1024 * 1024
_RUN_BODY_MAGICS = {"time", "timeit", "capture", "prun", "debug"}


@dataclass(frozen=True)
class Cell:
    number: int        # 1-based position in the notebook, counting every cell
    cell_type: str
    source: str


@dataclass
class Notebook:
    cells: list[Cell] = field(default_factory=list)
    error: str | None = None


def _text(source) -> str | None:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    return None


def read_notebook(data: bytes) -> Notebook:
    """The cells of an ``.ipynb`` file's bytes (nbformat 4, or 3 with worksheets)."""
    if len(data) > MAX_BYTES:
        return Notebook(error=f"the file is {len(data) / 2**20:.1f} MB; the limit is "
                              f"{MAX_BYTES // 2**20} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        return Notebook(error=f"the file is not UTF-8 text ({err.reason} at byte {err.start})")
    try:
        nb = json.loads(text)
    except (ValueError, RecursionError) as err:
        return Notebook(error=f"the file is not a notebook: it is not valid JSON ({err})"[:300])
    if not isinstance(nb, dict):
        return Notebook(error="the file is JSON but not a notebook (no cells)")
    raw = nb.get("cells")
    if raw is None and isinstance(nb.get("worksheets"), list) and nb["worksheets"]:
        sheet = nb["worksheets"][0]
        raw = sheet.get("cells") if isinstance(sheet, dict) else None
    if not isinstance(raw, list):
        return Notebook(error="the file is JSON but not a notebook (no list of cells)")
    cells = []
    for i, cell in enumerate(raw, start=1):
        if not isinstance(cell, dict):
            continue
        kind = cell.get("cell_type")
        source = _text(cell.get("source", cell.get("input", "")))
        if isinstance(kind, str) and source is not None:
            cells.append(Cell(i, kind, source))
    return Notebook(cells)


_SHELL_ASSIGN = re.compile(r"^(\s*)([A-Za-z_][\w, ]*?)\s*=\s*[!%]")
_HELP = re.compile(r"^\s*[\w.]+\?{1,2}\s*$")


def strip_magics(source: str) -> str | None:
    """Plain Python for one code cell, or ``None`` for a cell that is not Python (``%%bash``)."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(maxsplit=1)
        if not magic or magic[0] not in _RUN_BODY_MAGICS:
            return None
        lines = lines[1:]
    out = []
    for line in lines:
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if stripped.startswith(("%", "!")) or _HELP.match(line):
            out.append(f"{indent}pass")
        elif (m := _SHELL_ASSIGN.match(line)):
            out.append(f"{m.group(1)}{m.group(2)} = None")
        else:
            out.append(line)
    return "\n".join(out) + ("\n" if source.endswith("\n") else "")


def runnable_cells(nb: Notebook) -> tuple[list[tuple[int, str]], list[str]]:
    """``[(cell number, python source)]`` of the code cells, and notes on cells left out."""
    cells, notes = [], []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = strip_magics(cell.source)
        if source is None:
            notes.append(f"cell {cell.number} starts with a cell magic and was not run")
            continue
        cells.append((cell.number, source))
    return cells, notes


def mentioned_outside_code(nb: Notebook, name: str) -> int | None:
    """The number of a markdown/raw cell that defines ``name`` (a cell whose type changed)."""
    pattern = re.compile(rf"(^|\n)\s*(def\s+{re.escape(name)}\s*\(|{re.escape(name)}\s*=)")
    for cell in nb.cells:
        if cell.cell_type != "code" and pattern.search(cell.source):
            return cell.number
    return None
