"""Sphinx extension with the book's small fixes to Jupyter Book 1.x's defaults.

- The site serves its own MathJax, so math renders offline: MathJax 3 comes from the
  ``django-static-mathjax`` wheel (plain static files, no Django needed); its ``es5`` folder
  is copied to ``_static/mathjax`` and Sphinx is pointed at it instead of a CDN.
- Jupyter Book adds sphinx-thebe's inline configuration script twice, which makes every
  page log "Identifier 'THEBE_JS_URL' has already been declared": keep one copy.
- The theme logs "Got invalid theme mode" on a first visit unless a default mode is set.
- The landing page's reading times are computed from the chapters themselves: substitutions
  ``{{ minutes_NN }}`` (prose words at 200 a minute plus half a minute a code cell, rounded
  up to 5 minutes) for every ``chapters/NN_*.ipynb``.
"""

import json
import math
import re
import shutil
from importlib.util import find_spec
from pathlib import Path

MATHJAX_ENTRY = "mathjax/tex-mml-chtml.js"
_THEME_MODE_DEFAULT = (
    'document.documentElement.dataset.mode = document.documentElement.dataset.mode || "auto";'
)


def _mathjax_source() -> Path:
    spec = find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("MathJax files missing: pip install -r requirements.txt")
    es5 = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" / "es5"
    if not (es5 / "tex-mml-chtml.js").exists():
        raise RuntimeError(f"MathJax files missing under {es5}: reinstall django-static-mathjax")
    return es5


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
    _mathjax_source()  # fail early, with a clear message
    for notebook in sorted((Path(app.srcdir) / "chapters").glob("[0-9][0-9]_*.ipynb")):
        key = f"minutes_{notebook.name[:2]}"
        config.myst_substitutions[key] = f"{reading_minutes(notebook)} min"
    config.mathjax_path = MATHJAX_ENTRY
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


def _finish(app, exception):
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "_static" / "mathjax"
        if not (target / "tex-mml-chtml.js").exists():
            shutil.copytree(_mathjax_source(), target, dirs_exist_ok=True)
        _drop_duplicate_inline_scripts(Path(app.outdir))


def setup(app):
    app.connect("config-inited", _configure, priority=900)
    app.connect("build-finished", _finish)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
