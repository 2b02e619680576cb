"""What the browser tests of the website share: the pages, a local server, Chromium, visits.

The server serves ``_build/html`` as GitHub Pages does — text files gzip-compressed when the
browser accepts it — so that "bytes transferred" means what a reader's browser downloads.
Every request a page makes outside localhost is refused and recorded: the site must work
offline. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import io
import os
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]

DESKTOP = {"width": 1400, "height": 900}
LAPTOP = {"width": 1280, "height": 800}
TABLET = {"width": 1000, "height": 800}
PHONE = {"width": 390, "height": 844}


def toc_pages() -> list[str]:
    """Every page of the table of contents, as paths of the built site."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [c["file"] for c in part.get("chapters", [])]
    return [f"{p}.html" for p in pages]


PAGES = toc_pages()
CHAPTERS = [p for p in PAGES if p.startswith("chapters/") and not p.startswith("chapters/00_")]

_COMPRESSED = {".html", ".js", ".css", ".json", ".svg", ".txt", ".md", ".ipynb", ".xml"}


class _PagesHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, text gzip-compressed on request (as GitHub Pages serves them)."""

    def log_message(self, *args):
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        accepts = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (accepts and path.is_file() and path.suffix in _COMPRESSED):
            return super().send_head()
        body = _gzipped(path, path.stat().st_mtime)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


@functools.lru_cache(maxsize=512)
def _gzipped(path: Path, mtime: float) -> bytes:
    return gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)


@pytest.fixture(scope="module")
def server():
    if not (SITE / "index.html").exists():
        pytest.fail("the site is not built: run `make book` first (make test does)")
    handler = functools.partial(_PagesHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium "
                    "(make test does) or set CHROMIUM")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Visit:
    """One page load in a fresh browser context: console errors, failed or outside requests,
    bytes transferred, and the page itself (left open for the test to inspect)."""

    def __init__(self, browser, base: str, path: str, viewport: dict = DESKTOP,
                 color_scheme: str = "light", **context_options):
        self.path = path
        self.context = browser.new_context(viewport=viewport, color_scheme=color_scheme,
                                           **context_options)
        self.page = self.context.new_page()
        self.errors, self.outside, self.failed, self.responses = [], [], [], []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))
        self.page.on("response", lambda r: self.responses.append(r))

        def route(r):
            url = r.request.url
            if urlparse(url).hostname in ("127.0.0.1", "localhost") or url.startswith("data:"):
                r.continue_()
            else:
                self.outside.append(url)
                r.abort()

        self.page.route("**/*", route)
        self.response = self.page.goto(urljoin(base, path), wait_until="networkidle")
        if self.page.query_selector("main span.math, main div.math"):
            self.page.wait_for_selector("mjx-container", state="attached", timeout=20_000)
            self.page.wait_for_load_state("networkidle")

    def transferred(self) -> int:
        """Bytes received for this page: headers and (compressed) bodies of every response."""
        total = 0
        for response in self.responses:
            sizes = response.request.sizes()
            total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        return total

    def screenshot(self, name: str, **options) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        target = ARTIFACTS / name
        self.page.screenshot(path=str(target), **options)
        return target

    def close(self):
        self.context.close()


def visit_all(browser, base: str, paths: list[str], **options) -> dict[str, Visit]:
    return {path: Visit(browser, base, path, **options) for path in paths}


@contextlib.contextmanager
def visiting(browser, base: str, paths: list[str], **options):
    """Every page of ``paths`` loaded (``Visit`` options apply to all), closed at the end:
    what a module-scoped fixture yields."""
    done = visit_all(browser, base, paths, **options)
    try:
        yield done
    finally:
        for v in done.values():
            v.close()
