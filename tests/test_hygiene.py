"""The repository's own rules: clean notebooks, a toc that matches the files, setup cells, and
a book that never refers the reader to material they do not have."""

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIRS = ("chapters", "exercises", "reference")
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
    pages = {f"{d}/{p.stem}" for d in NOTEBOOK_DIRS for p in (ROOT / d).glob("*.ipynb")}
    missing = pages - set(listed)
    assert not missing, f"chapters, exercises or reference pages not in _toc.yml: {sorted(missing)}"


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


# --- words that send the reader to material they never saw -----------------------------------
# The book stands on its own: it never points to the course material it was written from. Only
# the appendix that recomputes that material's examples, and the landing page that says where
# the book comes from, may name it. The words are assembled from pieces so that this file does
# not match itself.
SOURCE_WORDS = ("sl" + "ides?", "de" + "cks?", "lec" + "tures?")
SOURCE_WORD = re.compile(r"\b(" + "|".join(SOURCE_WORDS) + r")\b", re.IGNORECASE)
SOURCE_WORD_ALLOWED = ("reference/lecture_examples.ipynb", "intro.md")
TEXT_SUFFIXES = (".ipynb", ".md", ".py", ".yml", ".yaml", ".toml", ".txt", ".cfg")
TEXT_NAMES = ("Makefile",)
SKIPPED_DIRS = {".git", ".venv", "_build", "node_modules", ".ipynb_checkpoints",
                ".pytest_cache", ".hypothesis", "__pycache__"}


def repository_text_files() -> list[str]:
    """Paths (relative, with /) of the text files git tracks or would track (not ignored)."""
    try:
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
        paths = out.splitlines()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: walk the tree
        paths = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                 if p.is_file() and not SKIPPED_DIRS & set(p.relative_to(ROOT).parts)]
    return sorted(p for p in set(paths) if (p.endswith(TEXT_SUFFIXES) or
                                            Path(p).name in TEXT_NAMES)
                  and (ROOT / p).is_file())


def source_word_hits(text: str) -> list[tuple[int, str]]:
    """(line number from 1, word) for each whole-word match of SOURCE_WORD in ``text``."""
    return [(number, match.group(0)) for number, line in enumerate(text.splitlines(), 1)
            for match in SOURCE_WORD.finditer(line)]


def test_the_source_word_matcher_catches_the_words_and_spares_other_words():
    lec, sli, dec = "lec" + "ture", "sl" + "ide", "de" + "ck"
    for text in (f"the {lec}'s example", f"{sli.title()}s", dec.upper(), f"a {dec} of cards",
                 f"as the {sli} shows", f"two {lec}s ago"):
        assert source_word_hits(text), text
    for text in ("a slider", "the sliding window", "viz.slide_animation()", "slideshow",
                 "example_same = 1", "decked out", "prelecture"):
        assert source_word_hits(text) == [], text
    assert source_word_hits(f"one\ntwo {sli.title()}\n{dec} and {dec}") == [
        (2, sli.title()), (3, dec), (3, dec)]


def test_the_allowed_files_exist():
    for path in SOURCE_WORD_ALLOWED:
        assert (ROOT / path).is_file(), f"{path} is allowed the words but does not exist"


def test_no_file_refers_the_reader_to_material_they_never_saw():
    hits = []
    for path in repository_text_files():
        if path in SOURCE_WORD_ALLOWED:
            continue
        text = (ROOT / path).read_text(encoding="utf-8", errors="replace")
        hits += [f"{path}:{number}: {word}" for number, word in source_word_hits(text)]
    assert not hits, (f"{len(hits)} uses of words the reader cannot follow (say shift, move or "
                      "sweep; describe the example itself):\n" + "\n".join(hits))
