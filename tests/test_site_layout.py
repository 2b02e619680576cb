"""The website's layout at a desktop width (1400 px) and on a phone (390 px).

At 1400 px nothing in the article scrolls sideways: every code cell, printed output, table
and display formula fits the column. On a phone the page itself never scrolls sideways
(a long code line may scroll inside its own box there).
"""

import pytest
from site_browser import PAGES, PHONE, visit_all

pytestmark = pytest.mark.site


@pytest.fixture(scope="module")
def desktop(browser, server):
    done = visit_all(browser, server, PAGES)
    yield done
    for v in done.values():
        v.close()


@pytest.fixture(scope="module")
def phone(browser, server):
    done = visit_all(browser, server, PAGES, viewport=PHONE, is_mobile=True, has_touch=True)
    yield done
    for v in done.values():
        v.close()


_OVERFLOWING = """() => [...document.querySelectorAll(
        "main pre, main div.math, main mjx-container[display='true'], main table")]
    .filter(e => e.scrollWidth > e.clientWidth + 1)
    .map(e => `${e.tagName.toLowerCase()} needs ${e.scrollWidth} px, has ${e.clientWidth}: `
              + (e.innerText || "").trim().split("\\n")[0].slice(0, 70))"""


@pytest.mark.parametrize("path", PAGES)
def test_nothing_scrolls_sideways_at_1400px(desktop, path):
    overflowing = desktop[path].page.evaluate(_OVERFLOWING)
    assert not overflowing, f"{path} at 1400 px:\n" + "\n".join(overflowing)


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
