"""The book's Sphinx extensions: reading times, script and status-mark fixes, the site's weight."""

import base64
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))

import book_tweaks  # noqa: E402
import site_weight  # noqa: E402


def _notebook(tmp_path, words: int, code_cells: int) -> Path:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["word " * words]}]
    cells += [{"cell_type": "code", "metadata": {}, "source": ["1"], "outputs": [],
               "execution_count": None}] * code_cells
    path = tmp_path / "01_x.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    return path


def test_reading_minutes_counts_prose_and_code_and_rounds_up_to_five(tmp_path):
    # 2000 words / 200 + 10 cells × 0.5 = 15 minutes exactly
    assert book_tweaks.reading_minutes(_notebook(tmp_path, 2000, 10)) == 15
    # one word more tips it over to the next multiple of 5
    assert book_tweaks.reading_minutes(_notebook(tmp_path, 2001, 10)) == 20
    assert book_tweaks.reading_minutes(_notebook(tmp_path, 10, 0)) == 5


def test_duplicate_inline_scripts_are_dropped_once(tmp_path):
    page = tmp_path / "p.html"
    page.write_text("<head>\n<script>const A = 1</script>\n<script src='x.js'></script>\n"
                    "  <script>const A = 1</script>\n<script>const B = 2</script>\n</head>")
    book_tweaks._drop_duplicate_inline_scripts(tmp_path)
    text = page.read_text()
    assert text.count("const A = 1") == 1 and "const B = 2" in text and "x.js" in text


def test_execution_report_marks_become_symbols_with_words(tmp_path):
    page = tmp_path / "reports.html"
    page.write_text("<td><p>✅</p></td><td><p>❌</p></td>")
    book_tweaks._plain_status_marks(page)
    assert page.read_text() == "<td><p>✓ ran</p></td><td><p>✗ failed</p></td>"


PNG = b"\x89PNG\r\n\x1a\n" + b"pixels"


def test_data_uris_become_shared_image_files(tmp_path):
    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    page = tmp_path / "chapters" / "p.html"
    page.parent.mkdir()
    html = f'<img src="{uri}"><script>frames = ["{uri}", \'{uri}\'];</script>'
    page.write_text(html)
    broken = '<script>f = "data:image/png;base64,iVBOR\\\nAAAA";</script>'
    (tmp_path / "q.html").write_text(f'<img src="{uri}">' + broken)
    site_weight.lighten_pages(tmp_path)
    images = list((tmp_path / "_images").iterdir())
    assert len(images) == 1 and images[0].read_bytes() == PNG and images[0].suffix == ".png"
    name = images[0].name
    assert page.read_text() == (f'<img src="../_images/{name}"><script>frames = '
                                f'["../_images/{name}", \'../_images/{name}\'];</script>')
    assert (tmp_path / "q.html").read_text() == f'<img src="_images/{name}">' + broken


def test_theme_script_maps_and_new_tabs_go(tmp_path):
    scripts = tmp_path / "_static" / "scripts"
    scripts.mkdir(parents=True)
    for name in ("fontawesome.js", "fontawesome.js.map", "theme.js", "theme.js.map"):
        (scripts / name).write_text("x")
    (tmp_path / "p.html").write_text(
        '<head>\n    <script src="_static/scripts/fontawesome.js?digest=1"></script>\n'
        '<script src="_static/scripts/theme.js"></script></head>\n'
        '<a href="_sources/p.ipynb" target="_blank"\n   class="btn-download-source-button">'
        '<a href="https://example.org" target="_blank">')
    fonts = tmp_path / "_static" / "vendor" / "fontawesome" / "webfonts"
    fonts.mkdir(parents=True)
    for name in ("fa-solid-900.woff2", "fa-solid-900.ttf"):
        (fonts / name).write_text("x")
    (tmp_path / "_static" / "styles").mkdir()
    css = tmp_path / "_static" / "styles" / "theme.css"
    css.write_text('@font-face{src:url(../vendor/fontawesome/webfonts/fa-solid-900.woff2) '
                   'format("woff2"),url(../vendor/fontawesome/webfonts/fa-solid-900.ttf) '
                   'format("truetype")}')
    site_weight.lighten_pages(tmp_path)
    assert sorted(p.name for p in scripts.iterdir()) == ["theme.js"]
    assert [p.name for p in fonts.iterdir()] == ["fa-solid-900.woff2"]
    assert css.read_text() == ('@font-face{src:url(../vendor/fontawesome/webfonts/'
                               'fa-solid-900.woff2) format("woff2")}')
    assert (tmp_path / "p.html").read_text() == (
        '<head>\n<script src="_static/scripts/theme.js"></script></head>\n'
        '<a href="_sources/p.ipynb" download\n   class="btn-download-source-button">'
        '<a href="https://example.org" target="_blank">')


def test_mathjax_copy_holds_what_tex_chtml_loads(tmp_path):
    site_weight.copy_mathjax(tmp_path)
    mathjax = tmp_path / "mathjax"
    for part in ("tex-chtml.js", "input/tex/extensions/ams.js", "ui/menu.js",
                 "a11y/assistive-mml.js", "output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff",
                 "sre/mathmaps/en.json"):
        assert (mathjax / part).is_file(), part
    assert not (mathjax / "tex-svg-full.js").exists()
    assert not (mathjax / "sre" / "mathmaps" / "de.json").exists()


def test_controls_are_named_by_their_visible_text(tmp_path):
    page = tmp_path / "p.html"
    page.write_text('<button class="btn search-button-field x" title="Search" aria-label="Search" '
                    'data-bs-toggle="tooltip"><span>Search</span><kbd>Ctrl+K</kbd></button>'
                    '<button class="theme" aria-label="Search">'
                    '<summary aria-label="Toggle hidden content"><p>Show code cell source</p>')
    book_tweaks._visible_names(tmp_path)
    assert page.read_text() == (
        '<button class="btn search-button-field x" title="Search" data-bs-toggle="tooltip">'
        '<span>Search</span><kbd>Ctrl+K</kbd></button><button class="theme" aria-label="Search">'
        '<summary><p>Show code cell source</p>')
