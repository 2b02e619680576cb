"""Sphinx extension with the book's small fixes to Jupyter Book 1.x's defaults.

- The site serves its own MathJax, so math renders offline: MathJax 3 comes from the
  ``django-static-mathjax`` wheel (plain static files, no Django needed); its ``es5`` folder
  is copied to ``_static/mathjax`` and Sphinx is pointed at it instead of a CDN.
- Jupyter Book adds sphinx-thebe's inline configuration script twice, which makes every
  page log "Identifier 'THEBE_JS_URL' has already been declared": keep one copy.
- The theme logs "Got invalid theme mode" on a first visit unless a default mode is set.
"""

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


def _configure(app, config):
    _mathjax_source()  # fail early, with a clear message
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
