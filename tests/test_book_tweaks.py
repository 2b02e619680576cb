"""The book's Sphinx extension: computed reading times and the duplicate-script fix."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))

import book_tweaks  # noqa: E402


def _notebook(tmp_path, words: int, code_cells: int) -> Path:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["word " * words]}]
    cells += [{"cell_type": "code", "metadata": {}, "source": ["1"], "outputs": [],
               "execution_count": None}] * code_cells
    path = tmp_path / "01_x.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    return path


def test_reading_minutes_counts_prose_and_code_and_rounds_up_to_five(tmp_path):
    # 2000 words / 200 + 10 cells × 0.5 = 15 minutes exactly
    assert book_tweaks.reading_minutes(_notebook(tmp_path, 2000, 10)) == 15
    # one word more tips it over to the next multiple of 5
    assert book_tweaks.reading_minutes(_notebook(tmp_path, 2001, 10)) == 20
    assert book_tweaks.reading_minutes(_notebook(tmp_path, 10, 0)) == 5


def test_duplicate_inline_scripts_are_dropped_once(tmp_path):
    page = tmp_path / "p.html"
    page.write_text("<head>\n<script>const A = 1</script>\n<script src='x.js'></script>\n"
                    "  <script>const A = 1</script>\n<script>const B = 2</script>\n</head>")
    book_tweaks._drop_duplicate_inline_scripts(tmp_path)
    text = page.read_text()
    assert text.count("const A = 1") == 1 and "const B = 2" in text and "x.js" in text
