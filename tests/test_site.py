"""The built website in a real browser: pages, links, images, math, search, menus, icons.

Needs the site built (`make test` builds it first; by hand: `make book`) and Chromium at
/usr/bin/chromium (or $CHROMIUM; `make test` installs it with apt). Every request the pages
make outside localhost is refused and reported, so the site is proven to work offline.
Layout, figures, weight and accessibility have their own test_site_*.py files.
"""

import re
from urllib.parse import urljoin, urlparse
from urllib.request import urlopen

import pytest
from site_browser import CHAPTERS, DESKTOP, LAPTOP, PAGES, PHONE, TABLET, Visit, visiting

pytestmark = pytest.mark.site


@pytest.fixture(scope="module")
def visits(browser, server):
    with visiting(browser, server, [*PAGES, "search.html?q=Toeplitz"]) as done:
        yield done


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
        "a[href], img[src], link[rel~=icon]", "els => els.map(e => e.href || e.src)")
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


@pytest.mark.parametrize("path", PAGES)
def test_no_output_is_shown_twice(visits, path):
    """A cell that prints a result and also returns it shows the same text twice."""
    repeats = visits[path].page.evaluate("""() => {
        const found = [];
        for (const cell of document.querySelectorAll("main .cell")) {
            const texts = [...cell.querySelectorAll(".cell_output > .output")]
                .map(o => o.innerText.trim()).filter(t => t.length > 20);
            if (new Set(texts).size < texts.length) found.push(texts[0].slice(0, 80));
        }
        return found; }""")
    assert not repeats, f"{path} shows an output twice: {repeats}"


# Symbols outside the fonts every system has (emoji, media-control glyphs) would show as
# boxes on some machines; the book and its outputs use words or drawn icons instead.
_EXOTIC = re.compile("[\U0001F000-\U0001FFFF\u2600-\u2712\u2714-\u2716\u2718-\u27BF"
                     "\u23E9-\u23FF\u2B00-\u2BFF]")


@pytest.mark.parametrize("path", PAGES)
def test_text_uses_symbols_every_system_can_draw(visits, path):
    text = visits[path].page.inner_text("main")
    assert not _EXOTIC.findall(text), f"{path} uses {sorted(set(_EXOTIC.findall(text)))}"


def test_theme_icons_are_drawn_by_the_web_font(visits):
    """The icons (menu, search, download, theme switch) come from the theme's Font Awesome
    web fonts, since the 1.5 MB script that redrew them is not shipped."""
    page = visits[CHAPTERS[0]].page
    assert not page.query_selector("script[src*='fontawesome']")
    drawn = page.evaluate("""() => [...document.querySelectorAll(
            ".bd-header-article .fa-solid, .bd-header-article .fab, .bd-header-article .fas")]
        .filter(i => i.offsetParent !== null)
        .map(i => [i.className, getComputedStyle(i, "::before").content,
                   getComputedStyle(i).fontFamily, i.getBoundingClientRect().width])""")
    assert drawn, "no icons in the article header"
    for cls, content, family, width in drawn:
        assert content not in ("none", "normal", '""') and "Font Awesome" in family \
            and width > 0, (cls, content, family, width)
    assert page.evaluate("document.fonts.check('900 16px \"Font Awesome 6 Free\"')")


def test_download_buttons_download(visits):
    page = visits[CHAPTERS[0]].page
    links = page.query_selector_all("a.btn-download-source-button")
    assert links
    for link in links:
        assert link.get_attribute("download") is not None
        assert link.get_attribute("target") is None


def test_search_finds_toeplitz(visits):
    page = visits["search.html?q=Toeplitz"].page
    page.wait_for_selector("#search-results li", timeout=15_000)
    hits = page.inner_text("#search-results")
    assert "Toeplitz" in hits or "matrix" in hits.lower()


def test_screenshots_of_landing_page_and_a_chapter(visits):
    targets = {"desktop-landing.png": PAGES[0], "desktop-chapter.png": CHAPTERS[-1]}
    for name, path in targets.items():
        assert visits[path].screenshot(name).stat().st_size > 10_000


# --- the menus: chapter list and in-page contents at every width -----------------------------

_VISIBLE = """e => { const r = e.getBoundingClientRect(), s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none"
        && r.right > 0 && r.left < innerWidth; }"""
_MENU_PAGE = "chapters/04_conv2d.html"


def _open_menu(page, toggle: str):
    buttons = page.locator(f"button.{toggle}:visible")
    assert buttons.count() == 1, f"{buttons.count()} visible {toggle} buttons"
    buttons.click()
    page.wait_for_timeout(400)


@pytest.mark.parametrize("viewport", [PHONE, TABLET], ids=["phone", "tablet"])
def test_chapter_menu_opens_and_its_links_work(browser, server, viewport):
    v = Visit(browser, server, _MENU_PAGE, viewport=viewport)
    try:
        page = v.page
        if not page.locator("#pst-primary-sidebar").evaluate(_VISIBLE):
            _open_menu(page, "primary-toggle")
        link = page.locator("#pst-primary-sidebar a:visible, dialog[open] a:visible",
                            has_text="Pooling").first
        assert link.evaluate(_VISIBLE), "the chapter list did not open"
        if viewport is PHONE:
            v.screenshot("phone-chapter-menu.png")
        link.click()
        page.wait_for_url("**/chapters/06_pooling.html")
    finally:
        v.close()


@pytest.mark.parametrize("viewport", [PHONE, TABLET, LAPTOP], ids=["phone", "tablet", "laptop"])
def test_contents_menu_opens_and_jumps_to_a_section(browser, server, viewport):
    v = Visit(browser, server, _MENU_PAGE, viewport=viewport)
    try:
        page = v.page
        assert not page.locator("#pst-secondary-sidebar").evaluate(_VISIBLE)
        _open_menu(page, "secondary-toggle")
        link = page.locator("dialog[open] nav a:visible").nth(1)
        assert link.evaluate(_VISIBLE), "the in-page contents did not open"
        if viewport is PHONE:
            v.screenshot("phone-contents-menu.png")
        target = link.get_attribute("href")
        link.click()
        page.wait_for_function("h => location.hash === h", arg=target)
    finally:
        v.close()


def test_desktop_sidebar_button_hides_and_shows_the_chapter_list(browser, server):
    v = Visit(browser, server, _MENU_PAGE, viewport=DESKTOP)
    try:
        page, sidebar = v.page, v.page.locator("#pst-primary-sidebar")
        assert sidebar.evaluate(_VISIBLE)
        _open_menu(page, "primary-toggle")
        assert not sidebar.evaluate(_VISIBLE), "the sidebar button did nothing"
        _open_menu(page, "primary-toggle")
        assert sidebar.evaluate(_VISIBLE)
        assert page.locator("#pst-secondary-sidebar").evaluate(_VISIBLE)
    finally:
        v.close()


@pytest.mark.parametrize("viewport", [PHONE, TABLET, LAPTOP, DESKTOP],
                         ids=["phone", "tablet", "laptop", "desktop"])
def test_one_search_control_per_width(browser, server, viewport):
    v = Visit(browser, server, _MENU_PAGE, viewport=viewport)
    try:
        n = v.page.locator(".search-button:visible, .search-button-field:visible").count()
        assert n == 1, f"{n} search controls visible at {viewport['width']} px"
        v.page.keyboard.press("Control+k")
        v.page.wait_for_selector("#pst-search-dialog[open] input", timeout=5_000)
    finally:
        v.close()


def test_favicon_is_declared(visits, server):
    href = visits[PAGES[0]].page.eval_on_selector("link[rel~=icon]", "l => l.href")
    with urlopen(urljoin(server, href)) as r:
        assert r.status == 200 and b"<svg" in r.read()
