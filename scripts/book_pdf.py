"""The whole book as one PDF: ``make pdf`` (after ``make book``) runs this file.

1. ``jupyter-book build . --builder singlehtml`` writes the book as one HTML page into
   ``_build/singlehtml``. It renders the notebooks from the execution cache that ``make book``
   filled (``_build/.jupyter_cache``): no notebook is executed a second time, and this script
   stops with an error if the build log says one was.
2. That page is served on a local port and opened in Chromium (Debian's, as the browser test
   uses) through Playwright; once MathJax has typeset every formula, Chromium prints it to
   ``_build/pdf/book.pdf`` (A4). A print style sheet hides the site's navigation and buttons
   and the animations' controls (their first frame stays), starts each chapter on a new page
   and keeps figures whole.
3. The PDF is copied to ``_build/html/book.pdf``, where the website links it.

Usage: ``python scripts/book_pdf.py`` from the repository root; ``$CHROMIUM`` overrides the
browser's path.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
SINGLE = BUILD / "singlehtml"
PDF = BUILD / "pdf" / "book.pdf"
SITE_COPY = BUILD / "html" / "book.pdf"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
EXECUTED = "Executing notebook"  # what myst-nb logs when it runs a notebook
TIMEOUT_MS = 600_000

# Applied on top of the site's own styles when printing.
PRINT_CSS = """
@page { size: A4; }
html, body { font-size: 10.5pt; background: white; }
.bd-header, .bd-header-article, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-footer,
.bd-footer-article, .prev-next-area, .prev-next-footer, .headerlink, .skip-link,
#pst-back-to-top, .search-button-field, .anim-controls, .toggle-details__summary,
.cell_input.tag_hide-input, details.hide.above-input { display: none !important; }
.bd-container, .bd-container__inner, .bd-main, .bd-content, .bd-article-container,
.bd-article { max-width: none !important; width: 100% !important; padding: 0 !important;
  margin: 0 !important; display: block !important; }
#jb-print-docs-body { display: block !important; }
span[id^="document-"] + section { break-before: page; }
img, svg, figure, .cell_input, .cell_output, .cnnlib-explorer, .animation, .math,
mjx-container[display], tr, .admonition { break-inside: avoid; }
h1, h2, h3, h4, .cell_input { break-after: avoid; }
pre { white-space: pre-wrap !important; word-break: break-word; overflow: visible !important; }
.output, .cell_output, .highlight, .pst-scrollable-table-container {
  overflow: visible !important; max-height: none !important; }
img { max-width: 100% !important; height: auto; }
"""

# Prepares the page for print once it has loaded: waits until MathJax (the site serves its
# own MathJax 3) has typeset every formula, drops the landing page's link to this PDF, and
# reports what a reader would miss: formulas left as TeX, images that did not load.
PREPARE_JS = """
async () => {
  const math = document.querySelectorAll('.math').length;
  if (window.MathJax && MathJax.startup) {
    const limit = new Promise((_, reject) =>
      setTimeout(() => reject(new Error('MathJax did not finish within 5 minutes')), 300000));
    await Promise.race([MathJax.startup.promise.then(() => MathJax.typesetPromise()), limit]);
  }
  await document.fonts.ready;
  document.querySelectorAll('a[href="book.pdf"]').forEach(a => (a.closest('p') || a).remove());
  return {math: math, typeset: document.querySelectorAll('mjx-container').length,
          broken: [...document.images].filter(i => !i.complete || i.naturalWidth === 0)
                                      .map(i => i.getAttribute('src'))};
}
"""
PAGE_MARGINS = {"top": "16mm", "bottom": "16mm", "left": "15mm", "right": "15mm"}
PAGE_NUMBER = ('<div style="font-size:8pt;width:100%;text-align:center">'
               '<span class="pageNumber"></span></div>')


def build_singlehtml() -> None:
    """The book as one HTML page, from the execution cache (never executing a notebook)."""
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT),
           "--builder", "singlehtml", "--warningiserror", "--nitpick", "--keep-going"]
    env = {**os.environ, "CNNLIB_STATIC": "1"}
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    log = run.stdout + run.stderr
    if run.returncode != 0:
        sys.exit(f"{log}\nThe single-page build failed (log above).")
    if EXECUTED in log:
        sys.exit(f"{log}\nThe single-page build executed a notebook: run `make book` first, "
                 "so that it finds every notebook's outputs in _build/.jupyter_cache.")
    if not (SINGLE / "intro.html").exists():
        sys.exit(f"{log}\nThe single-page build wrote no {SINGLE / 'intro.html'}.")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(directory: Path):
    """Serve ``directory`` on a free local port; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()


def print_pdf(url: str, out: Path, chromium: str = CHROMIUM) -> int:
    """Print the page at ``url`` to ``out`` with Chromium; returns the formulas typeset."""
    from playwright.sync_api import sync_playwright

    if not Path(chromium).exists():
        sys.exit(f"Chromium not found at {chromium}: `make chromium` installs it "
                 "(or set CHROMIUM)")
    out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(url, wait_until="load")
            page.add_style_tag(content=PRINT_CSS)
            found = page.evaluate(PREPARE_JS)
            if found["math"] and not found["typeset"]:
                sys.exit("MathJax typeset no formula: the PDF would show raw TeX.")
            if found["broken"]:
                sys.exit(f"Images that did not load: {found['broken'][:5]}")
            page.pdf(path=str(out), format="A4", print_background=True, margin=PAGE_MARGINS,
                     display_header_footer=True, header_template="<span></span>",
                     footer_template=PAGE_NUMBER)
        finally:
            browser.close()
    return found["typeset"]


def main() -> None:
    start = time.monotonic()
    print("Building the book as one HTML page (from the execution cache)...", flush=True)
    build_singlehtml()
    print("Printing it with Chromium...", flush=True)
    with serve(SINGLE) as base:
        formulas = print_pdf(base + "intro.html", PDF)
    SITE_COPY.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PDF, SITE_COPY)
    size = PDF.stat().st_size / 2**20
    print(f"Built: {PDF} ({size:.1f} MiB, {formulas} formulas typeset, "
          f"{time.monotonic() - start:.0f} s); copied to {SITE_COPY}")


if __name__ == "__main__":
    main()
