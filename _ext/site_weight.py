"""Sphinx extension that keeps the built website light: what each page makes a reader download.

Run after the HTML is written (``build-finished``):

- Images embedded as ``data:`` URIs (the explorers' previews, the animation players' frames)
  are written once to ``_images/<sha256>.<ext>`` and the pages point at those files, so the
  HTML stays small, images are cached across pages and the browser loads them in parallel.
- MathJax: only the parts a page uses are copied to ``_static/mathjax`` — the TeX input with
  its on-demand extensions, the CHTML output with its web fonts, the menu and its
  accessibility modules with English speech rules — from the ``django-static-mathjax``
  wheel (plain static files).
  MathJax is loaded only by pages that contain math (Sphinx also loads it on a page whose
  table of contents lists pages with math, such as the landing page: not here).
- The theme's ``fontawesome.js`` (1.5 MB that redraws every icon as SVG) is dropped: the
  theme's CSS already draws the same icons with Font Awesome's web fonts.
- Source maps (``*.map``, read only by browser developer tools) are not published, nor the
  TrueType copies of the icon fonts: every browser in use reads the WOFF2 ones listed first.
- The "download source" links download the file instead of opening it in a new tab.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
from importlib.util import find_spec
from pathlib import Path

MATHJAX_ENTRY = "mathjax/tex-chtml.js"
# What tex-chtml.js loads at run time: TeX extensions (autoload), the CHTML fonts, the
# contextual menu and the accessibility modules it offers, with the speech rules of the
# book's language (English) and Nemeth braille.
MATHJAX_PARTS = ["tex-chtml.js", "input/tex/extensions", "output/chtml/fonts/woff-v2",
                 "ui", "a11y", "sre/mathmaps/base.json", "sre/mathmaps/en.json",
                 "sre/mathmaps/nemeth.json"]

# A whole URI only: one that ends where its attribute or string does (a base64 string broken
# over several lines of a script is left alone).
_DATA_URI = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml);base64,([A-Za-z0-9+/=]+)"
                       r"(?=[\"')])")
_EXTENSIONS = {"png": "png", "jpeg": "jpg", "gif": "gif", "webp": "webp", "svg+xml": "svg"}
_FONTAWESOME_JS = re.compile(r'[ \t]*<script[^>]*src="[^"]*_static/scripts/fontawesome\.js[^"]*"'
                             r'[^>]*></script>\n?')
_TTF_FALLBACK = re.compile(r',url\([^)]*\.ttf\) format\("truetype"\)')
_SOURCE_LINK = re.compile(r'(<a href="[^"]*_sources/[^"]*")\s+target="_blank"')


def mathjax_source() -> Path:
    """The MathJax 3 ``es5`` folder of the django-static-mathjax wheel."""
    spec = find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("MathJax files missing: pip install -r requirements.txt")
    es5 = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" / "es5"
    if not (es5 / "tex-chtml.js").exists():
        raise RuntimeError(f"MathJax files missing under {es5}: reinstall django-static-mathjax")
    return es5


def copy_mathjax(static: Path) -> None:
    source, target = mathjax_source(), static / "mathjax"
    if target.exists():
        shutil.rmtree(target)
    for part in MATHJAX_PARTS:
        src, dst = source / part, target / part
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


def extract_data_uris(page: Path, outdir: Path, html: str) -> str:
    """Write every ``data:image/...;base64`` URI of ``html`` to ``outdir/_images`` and return
    the page with relative links to those files instead."""
    images = outdir / "_images"

    def to_file(match: re.Match) -> str:
        data = base64.b64decode(match.group(2))
        name = f"{hashlib.sha256(data).hexdigest()}.{_EXTENSIONS[match.group(1)]}"
        target = images / name
        if not target.exists():
            images.mkdir(exist_ok=True)
            target.write_bytes(data)
        return Path(os.path.relpath(target, page.parent)).as_posix()

    return _DATA_URI.sub(to_file, html)


def lighten_pages(outdir: Path) -> None:
    for page in outdir.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        new = extract_data_uris(page, outdir, html)
        new = _FONTAWESOME_JS.sub("", new)
        new = _SOURCE_LINK.sub(r"\1 download", new)
        if new != html:
            page.write_text(new, encoding="utf-8")
    for css in outdir.glob("_static/styles/*.css"):
        text = css.read_text(encoding="utf-8")
        if _TTF_FALLBACK.search(text):
            css.write_text(_TTF_FALLBACK.sub("", text), encoding="utf-8")
    unused = {*outdir.rglob("*.map"), *outdir.glob("_static/scripts/fontawesome.js*"),
              *outdir.glob("_static/vendor/fontawesome/webfonts/*.ttf")}
    for path in unused:
        path.unlink(missing_ok=True)


def _mathjax_only_where_math(app, pagename, templatename, context, doctree):
    """Runs after sphinx.ext.mathjax added its scripts: takes them off a page without math."""
    if app.builder.name != "html":  # the single-page build holds every page's math
        return
    if app.env.get_domain("math").data["has_equations"].get(pagename, False):
        return
    app.builder._js_files[:] = [
        js for js in app.builder._js_files
        if not str(getattr(js, "filename", js)).endswith(app.config.mathjax_path)
        and not js.attributes.get("body", "").startswith("window.MathJax")]


def _configure(app, config):
    mathjax_source()  # fail early, with a clear message
    config.mathjax_path = MATHJAX_ENTRY


def _finish(app, exception):
    if exception is None and app.builder.format == "html":
        outdir = Path(app.outdir)
        copy_mathjax(outdir / "_static")
        lighten_pages(outdir)


def setup(app):
    app.connect("config-inited", _configure, priority=900)
    app.connect("html-page-context", _mathjax_only_where_math, priority=600)
    app.connect("build-finished", _finish)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
