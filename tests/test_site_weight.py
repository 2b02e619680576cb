"""What a reader downloads: every page under 3 MB transferred, the website under 25 MB, and
the book's PDF (one download, linked from the landing page) under 12 MB.

Pages are served gzip-compressed as GitHub Pages serves them (tests/site_browser.py); a
page's weight is every byte its first load transfers — HTML, styles, scripts, fonts, MathJax
and all its images.
"""

import pytest
from site_browser import PAGES, SITE, visiting

pytestmark = pytest.mark.site

PAGE_BUDGET = 3_000_000
SITE_BUDGET = 25_000_000
PDF_BUDGET = 12_000_000


@pytest.fixture(scope="module")
def visits(browser, server):
    with visiting(browser, server, PAGES) as done:
        for v in done.values():  # lazy images too: scroll to the end and let everything load
            v.page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            v.page.wait_for_load_state("networkidle")
        yield done


@pytest.mark.parametrize("path", PAGES)
def test_page_weight(visits, path):
    v = visits[path]
    biggest = sorted(((r.request.sizes()["responseBodySize"], r.url.rsplit("/", 1)[-1][:40])
                      for r in v.responses), reverse=True)[:5]
    assert v.transferred() <= PAGE_BUDGET, \
        f"{path} transfers {v.transferred() / 1e6:.2f} MB; largest: {biggest}"


def test_pages_without_math_do_not_load_mathjax(visits):
    for path, v in visits.items():
        has_math = v.page.query_selector("main span.math, main div.math") is not None
        loads = any("mathjax" in r.url for r in v.responses)
        assert loads == has_math, f"{path}: math {has_math}, MathJax loaded {loads}"


def test_site_size():
    """Every file GitHub Pages serves for the web pages: HTML, sources, styles, scripts,
    fonts, MathJax, images, search index (the PDF is counted on its own below)."""
    pdf = SITE / "book.pdf"
    sizes = {p: p.stat().st_size for p in SITE.rglob("*") if p.is_file() and p != pdf}
    total = sum(sizes.values())
    biggest = sorted(sizes.items(), key=lambda kv: -kv[1])[:5]
    assert total <= SITE_BUDGET, \
        f"the site is {total / 1e6:.1f} MB; largest files: " + \
        ", ".join(f"{p.relative_to(SITE)} {s / 1e6:.1f} MB" for p, s in biggest)


def test_pdf_size():
    pdf = SITE / "book.pdf"
    if not pdf.exists():
        pytest.fail("no PDF in the site: run `make pdf` (make test does, before this test)")
    assert pdf.stat().st_size <= PDF_BUDGET, f"book.pdf is {pdf.stat().st_size / 1e6:.1f} MB"
