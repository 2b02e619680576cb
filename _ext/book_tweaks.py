"""Sphinx extension with the book's small fixes to Jupyter Book 1.x's defaults.

- The site serves its own MathJax, so math renders offline (``site_weight`` copies the parts
  it uses from the ``django-static-mathjax`` wheel and points Sphinx at them, not at a CDN).
- Jupyter Book adds sphinx-thebe's inline configuration script twice, which makes every
  page log "Identifier 'THEBE_JS_URL' has already been declared": keep one copy.
- Two controls whose visible words differ from their hidden accessible names (a screen-reader
  user who says what they see would not reach them): the search field ("Search Ctrl+K",
  named "Search") and myst-nb's "Show code cell source" toggles (named "Toggle hidden
  content"). Their labels go, so their visible text names them.
- The theme logs "Got invalid theme mode" on a first visit unless a default mode is set.
- The execution report marks each notebook with emoji (✅/❌) that some systems cannot draw:
  they become ✓ and ✗ with a word.
- The landing page's reading times are computed from the chapters themselves: substitutions
  ``{{ minutes_NN }}`` (prose words at 200 a minute plus half a minute a code cell, rounded
  up to 5 minutes) for every ``chapters/NN_*.ipynb``.
"""

import json
import math
import re
from pathlib import Path

_THEME_MODE_DEFAULT = (
    'document.documentElement.dataset.mode = document.documentElement.dataset.mode || "auto";'
)


WORDS_PER_MINUTE = 200
MINUTES_PER_CODE_CELL = 0.5


def reading_minutes(notebook: Path) -> int:
    """Estimated study time of a chapter: its prose read at 200 words a minute, plus half a
    minute to read and run each code cell, rounded up to a multiple of 5 minutes."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    words = sum(len(re.findall(r"\w+", "".join(c["source"])))
                for c in cells if c["cell_type"] == "markdown")
    code = sum(1 for c in cells if c["cell_type"] == "code")
    minutes = words / WORDS_PER_MINUTE + MINUTES_PER_CODE_CELL * code
    return max(5, 5 * math.ceil(minutes / 5))


def _configure(app, config):
    for notebook in sorted((Path(app.srcdir) / "chapters").glob("[0-9][0-9]_*.ipynb")):
        key = f"minutes_{notebook.name[:2]}"
        config.myst_substitutions[key] = f"{reading_minutes(notebook)} min"
    app.add_js_file(None, body=_THEME_MODE_DEFAULT, priority=100)


def _drop_duplicate_inline_scripts(outdir: Path) -> None:
    for page in outdir.rglob("*.html"):
        lines, seen, kept = page.read_text(encoding="utf-8").split("\n"), set(), []
        for line in lines:
            tag = line.strip()
            if tag.startswith("<script>") and tag.endswith("</script>"):
                if tag in seen:
                    continue
                seen.add(tag)
            kept.append(line)
        if len(kept) != len(lines):
            page.write_text("\n".join(kept), encoding="utf-8")


_MISMATCHED_LABELS = [
    (re.compile(r'(<button class="[^"]*search-button-field[^"]*"[^>]*?) aria-label="Search"'),
     r"\1"),
    (re.compile(r'<summary aria-label="Toggle hidden content">'), "<summary>"),
]


def _visible_names(outdir: Path) -> None:
    for page in outdir.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        new = html
        for pattern, replacement in _MISMATCHED_LABELS:
            new = pattern.sub(replacement, new)
        if new != html:
            page.write_text(new, encoding="utf-8")


_STATUS_MARKS = {"✅": "✓ ran", "❌": "✗ failed"}


def _plain_status_marks(page: Path) -> None:
    if page.exists():
        html = page.read_text(encoding="utf-8")
        for emoji, text in _STATUS_MARKS.items():
            html = html.replace(f"<p>{emoji}</p>", f"<p>{text}</p>")
        page.write_text(html, encoding="utf-8")


def _finish(app, exception):
    if exception is None and app.builder.format == "html":
        _drop_duplicate_inline_scripts(Path(app.outdir))
        _visible_names(Path(app.outdir))
        _plain_status_marks(Path(app.outdir) / "reports.html")


def setup(app):
    app.connect("config-inited", _configure, priority=900)
    app.connect("build-finished", _finish)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
