"""Builds the adversarial submissions of this folder as .ipynb files (see README.md)."""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SOURCE = ROOT / "exercises" / "sources" / "02_conv1d.ipynb"
STUDENT = ROOT / "exercises" / "02_conv1d.ipynb"


def _cells_of(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _cell(kind: str, lines: list[str]) -> dict:
    text = "".join(lines).strip("\n")
    cell = {"cell_type": kind, "metadata": {}, "source": text.splitlines(True)}
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


def notebook_from_cells(text: str) -> dict:
    """A notebook dict from the percent format described in README.md."""
    cells: list[dict] = []
    kind, lines = None, []
    for line in text.splitlines(True):
        if line.startswith("# %%"):
            if kind is not None:
                cells.append(_cell(kind, lines))
            tag = line[4:].strip()
            lines = []
            if tag in ("[solution]", "[student]"):
                cells.extend(_cells_of(SOURCE if tag == "[solution]" else STUDENT))
                kind = None
            else:
                kind = {"": "code", "[markdown]": "markdown", "[raw]": "raw"}[tag]
        elif kind is not None:
            lines.append(line)
    if kind is not None:
        cells.append(_cell(kind, lines))
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3",
            "display_name": "Python 3", "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def build(out_dir: Path) -> list[str]:
    """Write every fixture into ``out_dir`` as ``<name>.ipynb``; return the names."""
    out_dir.mkdir(parents=True, exist_ok=True)
    names = []
    for path in sorted(HERE.iterdir()):
        if path.suffix == ".cells":
            nb = notebook_from_cells(path.read_text(encoding="utf-8"))
            (out_dir / f"{path.stem}.ipynb").write_text(json.dumps(nb, indent=1))
        elif path.suffix == ".txt":
            (out_dir / f"{path.stem}.ipynb").write_bytes(path.read_bytes())
        else:
            continue
        names.append(path.stem)
    return names
