"""The repository's own rules: clean notebooks, a toc that matches the files, setup cells."""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIRS = ("chapters", "exercises")
NOTEBOOKS = sorted(p for d in NOTEBOOK_DIRS for p in (ROOT / d).rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())


def ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


def toc_files(node) -> list[str]:
    files = []
    if isinstance(node, dict):
        if "file" in node:
            files.append(node["file"])
        for value in node.values():
            files += toc_files(value)
    elif isinstance(node, list):
        for item in node:
            files += toc_files(item)
    return files


def test_there_are_notebooks():
    assert any(p.parent.name == "chapters" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_notebook_is_committed_clean(path):
    nb = json.loads(path.read_text())
    assert nb["nbformat"] == 4
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    dirty = [i for i, c in enumerate(nb["cells"])
             if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"cells {dirty} carry outputs or execution counts: clear them"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_notebook_starts_with_the_setup_cell(path):
    first = json.loads(path.read_text())["cells"][0]
    source = "".join(first["source"])
    assert first["cell_type"] == "code"
    tags = first.get("metadata", {}).get("tags", [])
    assert "setup" in tags
    assert "remove-cell" in tags  # the website shows the page, not its plumbing
    assert "import cnnlib" in source and "except ImportError" in source
    # Colab installs cnnlib from the one repository URL the book's config names.
    url = CONFIG["repository"]["url"]
    assert re.search(rf"%pip install .*git\+{re.escape(url)}", source), source


def test_toc_lists_existing_files_and_every_chapter():
    listed = [*toc_files(TOC), TOC["root"]]
    for entry in listed:
        matches = [p for ext in (".ipynb", ".md") if (p := ROOT / f"{entry}{ext}").exists()]
        assert matches, f"_toc.yml lists {entry}, which does not exist"
    pages = {f"{d}/{p.stem}" for d in ("chapters", "exercises")
             for p in (ROOT / d).glob("*.ipynb")}
    missing = pages - set(listed)
    assert not missing, f"chapters or exercises not in _toc.yml: {sorted(missing)}"


def test_chapter_file_names_follow_the_convention():
    for path in (ROOT / "chapters").glob("*.ipynb"):
        assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), path.name


IMPORT_CELL_LINES = 15
CODE_COLUMN = 88  # characters of code the book's page shows without a scroll bar


def code_cells(path) -> list[dict]:
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def long_import_cell(cells: list[dict], limit: int = IMPORT_CELL_LINES) -> int | None:
    """Lines of the first cell after the setup cell, when it is longer than ``limit``."""
    if len(cells) < 2:
        return None
    lines = [line for line in "".join(cells[1]["source"]).splitlines() if line.strip()]
    return len(lines) if len(lines) > limit else None


def too_wide(cells: list[dict], width: int = CODE_COLUMN) -> list[str]:
    """Code lines (setup cell aside: the reader never sees it) wider than ``width``."""
    return [line for cell in cells[1:] for line in "".join(cell["source"]).splitlines()
            if len(line) > width]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_the_first_screen_is_not_a_wall_of_imports(path):
    n = long_import_cell(code_cells(path))
    assert n is None, (f"the import cell has {n} lines (at most {IMPORT_CELL_LINES}): import "
                       "a namespace (from cnnlib import viz) instead of every name")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_notebook_code_fits_the_book_column(path):
    wide = too_wide(code_cells(path))
    assert not wide, f"{len(wide)} code lines wider than {CODE_COLUMN}: {wide[:3]}"


def test_the_notebook_checks_catch_a_wall_and_a_wide_line():
    def cell(source):
        return {"cell_type": "code", "source": source}

    wall = "\n".join(f"from cnnlib.m{i} import f{i}" for i in range(16))
    assert long_import_cell([cell("# setup"), cell(wall)]) == 16
    short = "import torch\n\nfrom cnnlib import viz"
    assert long_import_cell([cell("# setup"), cell(short)]) is None
    assert too_wide([cell("x" * 200), cell("y = 1\n" + "z" * 89)]) == ["z" * 89]
