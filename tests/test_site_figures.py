"""Figures on the website: sharp, legible at 1400 px, described in words, framed in dark mode.

Every figure of the book goes through ``cnnlib.viz.figure_output``, which writes into the
image itself the height of its smallest text in the image's own pixels
(``cnnlib-figure min_text_px=…``). The browser tells how much each image is scaled on the
page, so the test knows how tall that text is on a reader's screen.
"""

import re
import struct
import zlib
from urllib.request import urlopen

import pytest
from site_browser import CHAPTERS, PAGES, Visit, visiting

pytestmark = pytest.mark.site

MIN_TEXT_PX = 9.0
# A text alternative that says nothing about the figure.
_GENERIC_ALT = re.compile(r"^\s*(|image|figure|plot|png|svg|explorer preview|[0-9a-f]{16,}"
                          r"(\.\w+)?)\s*$", re.I)


@pytest.fixture(scope="module")
def desktop(browser, server):
    with visiting(browser, server, PAGES) as done:
        yield done


def image_description(data: bytes) -> str | None:
    """The "Description" text stored in a PNG (tEXt/iTXt chunk) or an SVG (<dc:description>)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        pos = 8
        while pos + 8 <= len(data):
            length, kind = struct.unpack(">I4s", data[pos:pos + 8])
            body = data[pos + 8:pos + 8 + length]
            if kind in (b"tEXt", b"iTXt", b"zTXt"):
                key, _, value = body.partition(b"\0")
                if key == b"Description":
                    if kind == b"zTXt":
                        value = zlib.decompress(value[1:])
                    elif kind == b"iTXt":
                        flag, _method = value[0], value[1]
                        value = value[2:].split(b"\0", 2)[2]
                        value = zlib.decompress(value) if flag else value
                    return value.decode("utf-8", "replace")
            pos += 12 + length
        return None
    match = re.search(rb"<dc:description>(.*?)</dc:description>", data, re.S)
    return match.group(1).decode("utf-8") if match else None


def figures(page) -> list[dict]:
    return page.evaluate("""() => [...document.querySelectorAll(
            "main .cell_output img, main .cnnlib-explorer img")]
        .map(i => ({src: i.currentSrc || i.src, alt: i.getAttribute("alt"),
                    shown: i.getBoundingClientRect().width, natural: i.naturalWidth}))""")


def test_png_reader_reads_a_description():
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", 0)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", b"\0" * 13)
           + chunk(b"tEXt", b"Description\0cnnlib-figure min_text_px=27.8") + chunk(b"IEND", b""))
    assert image_description(png) == "cnnlib-figure min_text_px=27.8"
    svg = b"<svg><metadata><dc:description>cnnlib-figure min_text_px=none</dc:description>"
    assert image_description(svg) == "cnnlib-figure min_text_px=none"
    assert image_description(b"\x89PNG\r\n\x1a\n" + chunk(b"IEND", b"")) is None


@pytest.mark.parametrize("path", [*CHAPTERS, "chapters/00_getting_started.html"])
def test_figure_text_is_at_least_9px_and_sharp(desktop, path):
    problems = []
    for fig in figures(desktop[path].page):
        with urlopen(fig["src"]) as r:
            data = r.read()
        description = image_description(data)
        match = re.search(r"cnnlib-figure min_text_px=([0-9.]+|none)", description or "")
        name = fig["src"].rsplit("/", 1)[-1][:16]
        if not match:
            problems.append(f"{name}: not drawn through cnnlib.viz.figure_output "
                            f"(no min_text_px in its metadata)")
            continue
        scale = fig["shown"] / fig["natural"]
        if match.group(1) != "none" and float(match.group(1)) * scale < MIN_TEXT_PX - 0.05:
            problems.append(f"{name}: smallest text {float(match.group(1)) * scale:.1f} px "
                            f"on screen (alt: {fig['alt'][:60]!r})")
        if data.startswith(b"\x89PNG") and scale > 0.51:
            problems.append(f"{name}: a PNG shown at {scale:.2f}× its pixels is not sharp on a "
                            "high-density screen (needs 2× pixels, or SVG)")
    assert not problems, f"{path}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", PAGES)
def test_every_figure_says_what_it_shows(desktop, path):
    bad = [(f["src"].rsplit("/", 1)[-1][:16], f["alt"]) for f in figures(desktop[path].page)
           if f["alt"] is None or _GENERIC_ALT.match(f["alt"]) or len(f["alt"].split()) < 5]
    assert not bad, f"figures on {path} without a text alternative that describes them: {bad}"


@pytest.mark.parametrize("path", CHAPTERS)
def test_explorer_previews_say_what_the_control_changes(desktop, path):
    captions = desktop[path].page.eval_on_selector_all(
        "main .cnnlib-explorer", "els => els.map(e => e.innerText.trim())")
    assert captions
    for caption in captions:
        assert len(caption.split()) >= 15, f"explorer preview on {path} says too little: {caption}"


def test_figures_sit_on_a_white_card_in_dark_mode(browser, server):
    v = Visit(browser, server, "chapters/04_conv2d.html", color_scheme="dark")
    try:
        assert v.page.evaluate("document.documentElement.dataset.theme") == "dark"
        styles = v.page.eval_on_selector_all(
            "main .cell_output img", """imgs => imgs.map(i => { const s = getComputedStyle(i);
                return [s.backgroundColor, parseFloat(s.borderRadius),
                        parseFloat(s.paddingTop)]; })""")
        assert styles
        for background, radius, padding in styles:
            assert background == "rgb(255, 255, 255)" and radius > 0 and padding > 0
        v.page.locator("main .cell_output img").nth(2).scroll_into_view_if_needed()
        v.screenshot("dark-chapter.png")
    finally:
        v.close()
