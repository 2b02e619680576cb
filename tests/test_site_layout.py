"""The website's layout on a desktop (1400 px), a laptop (1280 px), a small window (1024 px)
and a phone (390 px).

At 1024 px and wider nothing in the article scrolls sideways: every code cell, printed
output, table and display formula fits the column (between 1200 and 1400 px the in-page
contents move behind their button to leave the column its width; narrower, code shrinks to
no less than 12 px). On a phone the page itself never scrolls sideways (a long code line
may scroll inside its own box there).
"""

import pytest
from site_browser import DESKTOP, LAPTOP, PAGES, PHONE, visiting

pytestmark = pytest.mark.site


@pytest.fixture(scope="module", params=[DESKTOP, LAPTOP, {"width": 1024, "height": 768}],
                ids=lambda v: f"{v['width']}px")
def wide(request, browser, server):
    with visiting(browser, server, PAGES, viewport=request.param) as done:
        yield request.param["width"], done


@pytest.fixture(scope="module")
def phone(browser, server):
    with visiting(browser, server, PAGES, viewport=PHONE, is_mobile=True,
                  has_touch=True) as done:
        yield done


_OVERFLOWING = """() => [...document.querySelectorAll(
        "main pre, main div.math, main mjx-container[display='true'], main table")]
    .filter(e => e.scrollWidth > e.clientWidth + 1)
    .map(e => `${e.tagName.toLowerCase()} needs ${e.scrollWidth} px, has ${e.clientWidth}: `
              + (e.innerText || "").trim().split("\\n")[0].slice(0, 70))"""


@pytest.mark.parametrize("path", PAGES)
def test_nothing_scrolls_sideways_from_1024px(wide, path):
    width, pages = wide
    overflowing = pages[path].page.evaluate(_OVERFLOWING)
    assert not overflowing, f"{path} at {width} px:\n" + "\n".join(overflowing)


def test_code_stays_legible(wide):
    width, pages = wide
    sizes = pages["chapters/08_vgg.html"].page.eval_on_selector_all(
        "main .cell pre", "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
    assert sizes and min(sizes) >= 12, f"code at {min(sizes)} px at {width} px"
    if width >= 1200:
        assert min(sizes) == 14, f"code shrunk to {min(sizes)} px at {width} px"


@pytest.mark.parametrize("path", PAGES)
def test_phone_page_does_not_scroll_sideways(phone, path):
    page = phone[path].page
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path} is {width} px wide on a {PHONE['width']} px phone"
    too_wide = page.evaluate("""() => [...document.querySelectorAll("main img")]
        .filter(i => i.getBoundingClientRect().right > innerWidth + 1).map(i => i.src)""")
    assert not too_wide, f"images wider than the phone on {path}: {too_wide}"


def test_phone_screenshots(phone):
    for path in (PAGES[0], "chapters/04_conv2d.html"):
        name = "phone-" + path.replace("/", "-").replace(".html", ".png")
        assert phone[path].screenshot(name).stat().st_size > 10_000
