"""The built website in a real browser: pages, links, images, math, figures, search.

Needs the site built (`make test` builds it first; by hand: `make book`) and Chromium at
/usr/bin/chromium (or $CHROMIUM; `make test` installs it with apt). Every request the pages
make outside localhost is refused and reported, so the site is proven to work offline.
Screenshots go to test-artifacts/.
"""

import functools
import http.server
import os
import re
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse
from urllib.request import urlopen

import pytest
import yaml

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [c["file"] for c in part.get("chapters", [])]
    return [f"{p}.html" for p in pages]


PAGES = toc_pages()
CHAPTERS = [p for p in PAGES if p.startswith("chapters/") and not p.startswith("chapters/00_")]


@pytest.fixture(scope="module")
def server():
    if not (SITE / "index.html").exists():
        pytest.fail("the site is not built: run `make book` first (make test does)")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


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
    """One page load: console errors, failed or outside requests, and the page itself."""

    def __init__(self, browser, base, path):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.errors, self.outside, self.failed = [], [], []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))

        def route(r):
            if urlparse(r.request.url).hostname in ("127.0.0.1", "localhost") or \
                    r.request.url.startswith("data:"):
                r.continue_()
            else:
                self.outside.append(r.request.url)
                r.abort()

        self.page.route("**/*", route)
        self.response = self.page.goto(urljoin(base, path), wait_until="networkidle")

    def close(self):
        self.context.close()


@pytest.fixture(scope="module")
def visits(browser, server):
    done = {}
    for path in [*PAGES, "search.html?q=Toeplitz"]:
        done[path] = Visit(browser, server, path)
    yield done
    for v in done.values():
        v.close()


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_without_errors_or_outside_requests(visits, path):
    v = visits[path]
    assert v.response.status == 200
    assert not v.errors, f"console errors on {path}: {v.errors}"
    assert not v.outside, f"{path} asked for outside resources: {v.outside}"
    assert not [u for u in v.failed if urlparse(u).hostname == "127.0.0.1"]


@pytest.mark.parametrize("path", PAGES)
def test_internal_links_and_images_resolve(visits, server, path):
    page = visits[path].page
    urls = page.eval_on_selector_all(
        "a[href], img[src]", "els => els.map(e => e.href || e.src)")
    internal = {u.split("#")[0] for u in urls if u.startswith(server)}
    broken = []
    for url in sorted(internal):
        try:
            with urlopen(url) as r:
                ok = r.status == 200
        except OSError:
            ok = False
        if not ok:
            broken.append(url)
    assert internal, f"no internal links found on {path}"
    assert not broken, f"broken links or images on {path}: {broken}"
    for img in page.query_selector_all("img"):
        assert img.evaluate("i => i.complete && i.naturalWidth > 0"), img.get_attribute("src")


@pytest.mark.parametrize("path", PAGES)
def test_math_is_typeset(visits, path):
    page = visits[path].page
    if page.query_selector_all("span.math, div.math"):
        page.wait_for_selector("mjx-container", state="attached", timeout=15_000)
    # the prose only: code cells, their outputs and typeset math may hold dollar signs
    text = page.evaluate("""() => {
        const main = document.querySelector("main").cloneNode(true);
        main.querySelectorAll(".cell, pre, code, mjx-container, script")
            .forEach(e => e.remove());
        return main.innerText; }""")
    assert "$$" not in text and not re.search(r"(?<!\\)\$[^$\s][^$]*\$", text), \
        f"raw TeX left on {path}"


@pytest.mark.parametrize("path", CHAPTERS)
def test_chapter_shows_a_figure_and_an_explorer_preview(visits, path):
    page = visits[path].page
    figures = page.query_selector_all(".cell_output img")
    assert figures, f"no figure on {path}"
    previews = page.query_selector_all(".cell_output .cnnlib-explorer")
    assert previews, f"no explorer preview on {path}"
    assert not page.query_selector_all(".jupyter-widgets, .widget-slider"), \
        f"dead widget controls on {path}"


def test_search_finds_toeplitz(visits):
    page = visits["search.html?q=Toeplitz"].page
    page.wait_for_selector("#search-results li", timeout=15_000)
    hits = page.inner_text("#search-results")
    assert "Toeplitz" in hits or "matrix" in hits.lower()


def test_screenshots_of_landing_page_and_a_chapter(visits):
    ARTIFACTS.mkdir(exist_ok=True)
    targets = {"landing.png": PAGES[0], "chapter.png": (CHAPTERS or PAGES)[-1]}
    for name, path in targets.items():
        visits[path].page.screenshot(path=str(ARTIFACTS / name), full_page=False)
        assert (ARTIFACTS / name).stat().st_size > 10_000
