"""The book as one PDF (`make pdf`): every page of the book, figures embedded, math typeset,
and linked from the website.

Needs the PDF built (`make test` builds it first; by hand: `make pdf`). The checks read the PDF
with pypdf: its text (page by page) and its images.
"""

import json
import re
import unicodedata
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
PDF = BUILD / "pdf" / "book.pdf"
SITE = BUILD / "html"
EXECUTED = BUILD / "jupyter_execute"
PAGES = (100, 800)  # the book prints on about 270 A4 pages
RAW_TEX = ("\\frac", "\\sum", "\\begin{", "$$")


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    return files


def title(entry: str) -> str:
    """The first `# ` heading of a page of the book (notebook or markdown)."""
    path = ROOT / f"{entry}.ipynb"
    if path.exists():
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = (ROOT / f"{entry}.md").read_text(encoding="utf-8")
    match = re.search(r"^# (.+)$", text, re.MULTILINE)
    assert match, f"{entry} has no `# title` line"
    return re.sub(r"[*_`]", "", match.group(1)).strip()


def normal(text: str) -> str:
    """Text as compared: ligatures (ﬁ) unfolded, runs of white space made one space."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def opening_pages(titles: list[str], pages: list[str]) -> dict[str, int | None]:
    """For each title in turn, the first page (from 0) after the previous title's page whose
    text starts with it, else None: the pages of the book, in order, each opening a page."""
    starts = [normal(p) for p in pages]
    found, after = {}, -1
    for t in titles:
        found[t] = next((i for i in range(after + 1, len(starts))
                         if starts[i].startswith(normal(t))), None)
        after = found[t] if found[t] is not None else after
    return found


def raw_tex(pages: list[str]) -> list[str]:
    """`page N: snippet` for each TeX command or $$ left unrendered in the text."""
    hits = []
    for number, text in enumerate(pages, 1):
        for token in RAW_TEX:
            at = text.find(token)
            if at >= 0:
                hits.append(f"page {number}: …{text[max(0, at - 30):at + 30]}…")
    return hits


def image_count(reader) -> int:
    """Distinct images drawn in the PDF (in the pages or in the forms they draw)."""
    seen = set()

    def walk(resources):
        xobjects = resources.get_object().get("/XObject") if resources is not None else None
        for ref in xobjects.get_object().values() if xobjects is not None else ():
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                seen.add(getattr(ref, "idnum", id(obj)))
            elif obj.get("/Subtype") == "/Form":
                walk(obj.get("/Resources"))

    for page in reader.pages:
        walk(page.get("/Resources"))
    return len(seen)


def figure_count(entries: list[str]) -> int:
    """Figures of the executed book: distinct PNG outputs plus explorer previews (a picture or
    an animation each), over the notebooks as the build executed them."""
    pngs, previews = set(), 0
    for entry in entries:
        path = EXECUTED / f"{entry}.ipynb"
        if not path.exists():
            continue
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if "image/png" in data:
                    pngs.add("".join(data["image/png"]))
                previews += "cnnlib-explorer" in "".join(data.get("text/html", ""))
    return len(pngs) + previews


@pytest.fixture(scope="module")
def reader():
    from pypdf import PdfReader

    if not PDF.exists():
        pytest.fail(f"no PDF at {PDF}: run `make pdf` (make test does)")
    return PdfReader(PDF)


@pytest.fixture(scope="module")
def pages(reader) -> list[str]:
    return [page.extract_text() for page in reader.pages]


def test_page_count_is_that_of_a_book(reader):
    assert PAGES[0] <= len(reader.pages) <= PAGES[1], \
        f"{len(reader.pages)} pages, expected {PAGES[0]} to {PAGES[1]}"


def test_every_page_of_the_book_opens_a_pdf_page_with_its_title_in_order(pages):
    found = opening_pages([title(entry) for entry in toc_files()], pages)
    missing = [t for t, page in found.items() if page is None]
    assert not missing, (f"in _toc.yml's order, no PDF page starts with these titles: {missing} "
                         f"(title: first page from 0): {found}")


def test_no_raw_tex_is_left(pages):
    hits = raw_tex(pages)
    assert not hits, f"{len(hits)} places show TeX instead of typeset math: {hits[:5]}"


def test_every_figure_is_embedded(reader):
    figures = figure_count(toc_files())
    assert figures >= 50, f"only {figures} figures in {EXECUTED}: is the book built?"
    images = image_count(reader)
    assert images >= figures, f"the PDF holds {images} images, the book shows {figures} figures"


def test_the_site_links_the_pdf():
    intro = (SITE / "intro.html").read_text(encoding="utf-8")
    assert re.search(r'<a [^>]*href="book\.pdf"', intro), "intro.html has no link to book.pdf"
    assert (SITE / "book.pdf").read_bytes() == PDF.read_bytes(), \
        f"{SITE / 'book.pdf'} is not the PDF just built: run `make pdf`"


def test_the_checks_catch_a_missing_title_raw_tex_and_ligatures():
    pages = ["Notation\nThis page ﬁxes the symbols", "A chapter\n$$ x = \\frac{1}{2} $$"]
    assert opening_pages(["Notation", "A chapter", "Pooling"], pages) == {
        "Notation": 0, "A chapter": 1, "Pooling": None}
    assert opening_pages(["A chapter", "Notation"], pages) == {"A chapter": 1, "Notation": None}
    assert opening_pages(["This page fixes the"], ["This page ﬁxes\nthe symbols"]) == {
        "This page fixes the": 0}
    assert [h.split(":")[0] for h in raw_tex(pages)] == ["page 2", "page 2"]
    assert raw_tex(["h ⋆ x = ∑ h[j] x[i+j]", "cost: 5 $ a unit"]) == []
