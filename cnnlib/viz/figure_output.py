"""How a figure becomes the bytes of a page: sharp, light, and saying how small its text is.

Every figure the book shows goes through :func:`figure_image`. It saves the figure twice,
both cropped to what is drawn (``bbox_inches="tight"``):

- as SVG with its text drawn as paths (``svg.fonttype = "path"``: no font is needed to
  show it, so it looks the same everywhere), and raster parts (``imshow``) at 2×, each
  made light as the PNG below is, except a photograph (more than 4096 colours), stored as
  a JPEG of quality :data:`JPEG_QUALITY`: text and lines stay sharp vectors while the
  photo weighs a fraction of a PNG;
- as a PNG at 2 × 100 dpi, made light: Pillow's ``optimize``; one grey channel when the
  image is grey; an exact palette when it has at most 256 colours, else a 256-colour
  palette when no channel of any pixel moves by more than :data:`PALETTE_TOLERANCE` of 255
  (drawings whose anti-aliased edges add colours, maps drawn with a colour map or two:
  3–4 times lighter, and the difference is not visible; a colour photo keeps its
  colours); pictures (``imshow``) that the 2× image enlarges are enlarged by repeating
  pixels (``nearest``) rather than blended: a picture has no detail between its pixels,
  and repeated pixels compress far better,

and returns the smaller of the two (most plots and maps: the PNG; figures with a photo or
many overlapping shapes: the SVG). A page shows an image at its *logical* size, 100 px per
inch of ``figsize`` (a PNG carries ``{"image/png": {"width": natural / 2}}`` as display
metadata for that; an SVG's natural size is already in CSS px: 96 per inch), capped by
the 780 px wide column of the website at 1400 px.

**How small is the text?** Every image carries, in its own metadata (PNG: a ``tEXt`` chunk
``Description``; SVG: ``<dc:description>``), the string ``cnnlib-figure min_text_px=X``:
``X`` is the height in the image's natural pixels of its smallest visible text (font size in
points × dpi / 72; the SVG's dpi is 96), or ``none`` when the figure shows no text. The
site's browser test reads it and checks ``X × displayed width / natural width ≥ 9``.
An author checks a figure before the site is built with::

    from cnnlib.viz import figure_output
    figure_output.displayed_text_px(fig)     # smallest text, CSS px, at 1400 px: ≥ 9
    figure_output.check_figure_text(fig)     # raises ValueError naming the culprit

Rule of thumb: with matplotlib's default 10 pt text a figure may be up to about 11.5 in
wide; with 8 pt text, about 9 in; up to 7.8 in nothing is scaled down and 7 pt still passes.
cnnlib's drawing functions size their text with :func:`legible_fontsize` (``max(usual
size, readable_fontsize(figure width))``), so they pass at any width a notebook asks for.

:func:`install` makes IPython show every ``matplotlib.figure.Figure`` through
:func:`figure_image` (a returned figure, or ``plt.show()`` with the inline backend, also
inside an ipywidgets ``Output``); importing :mod:`cnnlib.viz` calls it inside IPython.
"""

from __future__ import annotations

import base64
import contextlib
import html
import importlib
import io
import re
import sys
import weakref

import matplotlib
import matplotlib.text
import numpy as np
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

__all__ = [
    "COLUMN_PX",
    "DESCRIPTION_PREFIX",
    "JPEG_QUALITY",
    "LOGICAL_DPI",
    "MIN_TEXT_PX",
    "PALETTE_TOLERANCE",
    "PNG_DPI",
    "SVG_DPI",
    "check_figure_text",
    "data_uri",
    "description",
    "displayed_text_px",
    "drawn_texts",
    "figure_image",
    "img_html",
    "install",
    "legible_fontsize",
    "min_font_size",
    "min_text_px",
    "read_description",
    "readable_fontsize",
]

#: CSS px per inch of ``figsize`` at which a page shows a figure (its logical size).
LOGICAL_DPI = 100
#: The PNG's resolution: twice the logical size, for high-density screens.
PNG_DPI = 2 * LOGICAL_DPI
#: CSS px per inch of an SVG (its size is written in points, 72 per inch = 96 px).
SVG_DPI = 96
#: Width of the website's content column at a 1400 px wide window.
COLUMN_PX = 780
#: The JPEG quality of photographs inside an SVG (with full colour resolution).
JPEG_QUALITY = 90
#: The largest error (in 0 … 255 per channel) of the 256-colour palette a PNG may take.
PALETTE_TOLERANCE = 8
#: The smallest text height, in CSS px, a figure may show there.
MIN_TEXT_PX = 9.0
#: The start of the string each image carries in its metadata.
DESCRIPTION_PREFIX = "cnnlib-figure"

_PAD_INCHES = 0.1  # matplotlib's savefig.pad_inches, used with bbox_inches="tight"
_SVG_SALT = "cnnlib"  # fixed ids inside the SVG: the same figure gives the same bytes


# --- the text a figure shows -------------------------------------------------------------------

@contextlib.contextmanager
def _recording_texts(found: list):
    """While active, every ``Text`` that actually draws (visible, non-empty) is appended."""
    original = matplotlib.text.Text.draw

    def draw(self, renderer):
        if self.get_visible() and self.get_text().strip() and self.get_alpha() != 0:
            found.append(self)
        return original(self, renderer)

    matplotlib.text.Text.draw = draw
    try:
        yield found
    finally:
        matplotlib.text.Text.draw = original


def _check_figure(fig) -> None:
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")


def drawn_texts(fig) -> list[matplotlib.text.Text]:
    """The ``Text`` artists a draw of ``fig`` renders: tick labels, titles, legends,
    annotations, colour-bar labels — those visible and not empty (hidden axes' labels are
    not drawn, so they are not counted)."""
    _check_figure(fig)
    found: list = []
    with _recording_texts(found):
        fig.draw_without_rendering()
    unique = {id(t): t for t in found}
    return list(unique.values())


def min_font_size(fig) -> float | None:
    """The smallest font size, in points, of :func:`drawn_texts`; ``None`` without text."""
    sizes = [float(t.get_fontsize()) for t in drawn_texts(fig)]
    return min(sizes) if sizes else None


def min_text_px(fig, dpi: float, font_size: float | None = None) -> float | None:
    """Height in natural pixels of ``fig``'s smallest text in an image saved at ``dpi``:
    ``points × dpi / 72``, rounded to 0.1 (``None`` when nothing is written).

    ``dpi`` is :data:`PNG_DPI` for the PNG and :data:`SVG_DPI` for the SVG (whose natural
    pixels are CSS px). ``font_size`` skips the draw when the smallest size is known.
    """
    if not isinstance(dpi, (int, float)) or isinstance(dpi, bool) or dpi <= 0:
        raise ValueError(f"dpi must be a positive number, got {dpi!r}")
    size = min_font_size(fig) if font_size is None else font_size
    return None if size is None else round(size * dpi / 72, 1)


def description(text_px: float | None) -> str:
    """The string an image carries: ``"cnnlib-figure min_text_px=12.3"`` (or ``=none``)."""
    value = "none" if text_px is None else f"{text_px:.1f}"
    return f"{DESCRIPTION_PREFIX} min_text_px={value}"


def _tight_width_inches(fig) -> float:
    bbox = fig.get_tightbbox()
    return bbox.width + 2 * _PAD_INCHES


def displayed_text_px(fig, column_px: float = COLUMN_PX) -> float | None:
    """The smallest text of ``fig`` in CSS px as the website shows it in a ``column_px``
    wide column (``None`` without text).

    An image wider than the column is scaled down to it: ``points × 100/72 × min(1, 780 /
    (width in inches × 100))`` for the 2× PNG and ``points × 96/72 × min(1, 780 / (width ×
    96))`` for the SVG; the smaller of the two is returned, whichever format is chosen.
    """
    size = min_font_size(fig)
    if size is None:
        return None
    width = _tight_width_inches(fig)
    shown = [size * dpi / 72 * min(1.0, column_px / (width * dpi))
             for dpi in (LOGICAL_DPI, SVG_DPI)]
    return round(min(shown), 2)


def readable_fontsize(width_inches: float, px: float = MIN_TEXT_PX + 0.5,
                      column_px: float = COLUMN_PX) -> float:
    """The font size, in points, that shows as ``px`` CSS px in a figure ``width_inches``
    wide: ``px × 72/100``, times the factor by which the column shrinks a wider figure.
    Drawing functions take ``max(their usual size, readable_fontsize(width))``."""
    if not isinstance(width_inches, (int, float)) or width_inches <= 0:
        raise ValueError(f"width_inches must be a positive number, got {width_inches!r}")
    shrink = max(1.0, width_inches * LOGICAL_DPI / column_px)
    return round(px * 72 / LOGICAL_DPI * shrink, 1)


def legible_fontsize(fig, usual: float) -> float:
    """``max(usual, readable_fontsize(width))`` for a figure (or a width in inches): the
    size a drawing function gives a text it would normally set at ``usual`` points."""
    width = fig.get_size_inches()[0] if isinstance(fig, Figure) else fig
    return max(float(usual), readable_fontsize(float(width)))


def check_figure_text(fig, min_px: float = MIN_TEXT_PX, column_px: float = COLUMN_PX):
    """Raise ``ValueError`` when ``fig``'s smallest text shows below ``min_px`` CSS px in
    the ``column_px`` wide column; the message names the text and says what to change.
    Returns :func:`displayed_text_px` otherwise."""
    shown = displayed_text_px(fig, column_px)
    if shown is not None and shown < min_px:
        texts = drawn_texts(fig)
        small = min(texts, key=lambda t: t.get_fontsize())
        width = _tight_width_inches(fig)
        raise ValueError(
            f"the figure's smallest text, {small.get_text()[:40]!r} at "
            f"{small.get_fontsize():g} pt, shows {shown:.1f} px < {min_px:g} px: the figure "
            f"is {width:.1f} in wide and shown at most {column_px / LOGICAL_DPI:g} in; "
            "make it narrower or its text larger")
    return shown


# --- the bytes -------------------------------------------------------------------------------

def _svg_bytes(fig, text: str, bbox) -> bytes:
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": _SVG_SALT}), \
            _compact_pictures(fig, PNG_DPI):
        fig.savefig(buffer, format="svg", dpi=PNG_DPI, bbox_inches=bbox,
                    metadata={"Description": text, "Date": None})
    return _compact_embedded(buffer.getvalue())


_SVG_PNG = re.compile(rb"data:image/png;base64,\s*([A-Za-z0-9+/=\s]+)")


def _compact_embedded(svg: bytes) -> bytes:
    """The SVG with each embedded picture made light: a photograph (opaque, more than 4096
    colours) as a JPEG (quality :data:`JPEG_QUALITY`, full colour resolution), any other as
    a PNG made light like the figure's own (:func:`_compact`); whichever is smaller than
    matplotlib's PNG. Text and lines stay vectors."""
    from PIL import Image

    def recode(match: re.Match) -> bytes:
        data = base64.b64decode(re.sub(rb"\s", b"", match.group(1)))
        image = _compact(Image.open(io.BytesIO(data)))
        out = io.BytesIO()
        if image.mode == "RGB" and image.getcolors(4096) is None:
            image.save(out, format="jpeg", quality=JPEG_QUALITY, subsampling=0)
            kind = b"jpeg"
        else:
            image.save(out, format="png", optimize=True)
            kind = b"png"
        if out.tell() >= len(data):
            return match.group(0)
        return b"data:image/" + kind + b";base64," + base64.b64encode(out.getvalue())

    return _SVG_PNG.sub(recode, svg)


def _compact(image):
    """A PIL image made light without a visible change: opaque RGBA → RGB; grey → one
    channel; at most 256 colours (or within :data:`PALETTE_TOLERANCE`) → a palette."""
    from PIL import Image

    image.load()
    pixels = np.asarray(image)
    if image.mode == "RGBA" and (pixels[..., 3] == 255).all():
        pixels = np.ascontiguousarray(pixels[..., :3])
        image = Image.fromarray(pixels)
    if image.mode != "RGB":
        return image
    if (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 1] == pixels[..., 2]).all():
        return Image.fromarray(np.ascontiguousarray(pixels[..., 0]))
    return _palette(pixels) or image


def _palette(rgb: np.ndarray):
    """A palette image of ``rgb: (H, W, 3) uint8``: exact when it has ≤ 256 colours, else a
    256-colour one when no channel of any pixel moves by more than
    :data:`PALETTE_TOLERANCE`; ``None`` otherwise."""
    from PIL import Image

    codes = (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8) \
        | rgb[..., 2]
    colours, index = np.unique(codes.reshape(-1), return_inverse=True)
    if len(colours) > 256:
        if len(colours) > 4096:  # photographic: no palette comes close
            return None
        image = Image.fromarray(rgb).quantize(256, method=Image.Quantize.MAXCOVERAGE,
                                              dither=Image.Dither.NONE)
        error = np.abs(np.asarray(image.convert("RGB")).astype(np.int16) - rgb).max()
        return image if error <= PALETTE_TOLERANCE else None
    h, w = codes.shape
    image = Image.frombytes("P", (w, h), index.astype(np.uint8).tobytes())
    table = np.stack([colours >> 16, (colours >> 8) & 255, colours & 255], axis=1)
    image.putpalette(table.astype(np.uint8).reshape(-1).tolist())
    return image


@contextlib.contextmanager
def _compact_pictures(fig, dpi: float):
    """While active, pictures (``imshow``) left at matplotlib's defaults are drawn so that
    they compress well without a visible change: one that a save at ``dpi`` enlarges with
    ``nearest`` (a picture has no detail between its pixels), and a colour-mapped one (2-D
    data) resampled before its colour map (``interpolation_stage="data"``), so that its
    pixels keep the colour map's colours."""
    from matplotlib.image import AxesImage

    changed = []
    get_renderer = getattr(fig.canvas, "get_renderer", None)
    renderer = get_renderer() if get_renderer is not None else fig._get_renderer()
    for image in fig.findobj(AxesImage):
        array = image.get_array()
        if array is None:
            continue
        before = (image.get_interpolation(), image.get_interpolation_stage())
        if array.ndim == 2 and before[1] == "auto":
            image.set_interpolation_stage("data")
        box = image.get_window_extent(renderer)
        rows, cols = array.shape[:2]
        scale = dpi / fig.dpi * min(abs(box.width) / cols, abs(box.height) / rows)
        if scale > 1.0 and before[0] in ("auto", "antialiased"):
            image.set_interpolation("nearest")
        changed.append((image, before))
    try:
        yield
    finally:
        for image, (interpolation, stage) in changed:
            image.set_interpolation(interpolation)
            image.set_interpolation_stage(stage)


def _png_bytes(fig, dpi: int, text: str, bbox) -> bytes:
    """The PNG at ``dpi``, made light (see the module docstring), with ``text`` as its
    Description."""
    from PIL import Image, PngImagePlugin

    buffer = io.BytesIO()
    with _compact_pictures(fig, dpi):
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches=bbox)
    image = _compact(Image.open(io.BytesIO(buffer.getvalue())))
    info = PngImagePlugin.PngInfo()
    info.add_text("Description", text)
    out = io.BytesIO()
    image.save(out, format="png", optimize=True, pnginfo=info)
    return out.getvalue()


def _png_width(data: bytes) -> int:
    return int.from_bytes(data[16:20], "big")  # the IHDR chunk's width


def figure_image(fig, fmt: str | None = None, *, bbox_inches="tight"
                 ) -> tuple[str, bytes, dict]:
    """``(mime type, bytes, display metadata)`` of ``fig`` for a page.

    ``fmt``: ``"svg"`` or ``"png"`` forces a format; default (``None``): the smaller of the
    two. The PNG is saved at 2× (:data:`PNG_DPI`); its metadata is
    ``{"image/png": {"width": natural width / 2}}``, the logical width; the SVG's is ``{}``.
    ``bbox_inches``: ``"tight"`` crops to what is drawn; a
    :class:`~matplotlib.transforms.Bbox` in inches gives every frame of an animation the
    same size.
    """
    _check_figure(fig)
    if fmt not in (None, "svg", "png"):
        raise ValueError(f"fmt must be None, 'svg' or 'png', got {fmt!r}")
    if not (bbox_inches == "tight" or isinstance(bbox_inches, Bbox)):
        raise ValueError(f"bbox_inches must be 'tight' or a Bbox, got {bbox_inches!r}")
    size = min_font_size(fig)
    svg = png = None
    if fmt in (None, "svg"):
        svg = _svg_bytes(fig, description(min_text_px(fig, SVG_DPI, size)), bbox_inches)
    if fmt in (None, "png"):
        png = _png_bytes(fig, PNG_DPI, description(min_text_px(fig, PNG_DPI, size)),
                         bbox_inches)
    if svg is not None and (png is None or len(svg) <= len(png)):
        return "image/svg+xml", svg, {}
    width = round(_png_width(png) * LOGICAL_DPI / PNG_DPI)
    return "image/png", png, {"image/png": {"width": width}}


_DESCRIPTION = re.compile(re.escape(DESCRIPTION_PREFIX) + r" min_text_px=(none|[0-9.]+)")


def read_description(mime: str, data: bytes) -> str | None:
    """The ``cnnlib-figure …`` string stored in an image made by :func:`figure_image`."""
    if mime == "image/png":
        from PIL import Image

        text = Image.open(io.BytesIO(data)).text.get("Description", "")
    elif mime == "image/svg+xml":
        found = re.search(rb"<dc:description>(.*?)</dc:description>", data, re.S)
        text = html.unescape(found.group(1).decode()) if found else ""
    else:
        raise ValueError(f"mime must be 'image/png' or 'image/svg+xml', got {mime!r}")
    match = _DESCRIPTION.search(text)
    return match.group(0) if match else None


def data_uri(mime: str, data: bytes) -> str:
    """``data:<mime>;base64,…`` on one line (a page's build step moves these into files)."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _natural_width(mime: str, data: bytes, metadata: dict) -> float:
    if mime == "image/png":
        return metadata["image/png"]["width"]
    found = re.search(rb'<svg[^>]*?width="([0-9.]+)pt"', data)
    return float(found.group(1)) * 4 / 3 if found else 0.0


def img_html(fig, alt: str, *, css_class: str = "cnnlib-figure") -> str:
    """``<img>`` of :func:`figure_image` as a data URI, at its logical width, with ``alt``."""
    mime, data, metadata = figure_image(fig)
    width = round(_natural_width(mime, data, metadata))
    return (f'<img class="{html.escape(css_class)}" src="{data_uri(mime, data)}" '
            f'alt="{html.escape(alt)}" width="{width}" style="max-width:100%;height:auto">')


# --- IPython ----------------------------------------------------------------------------------

class _Formatter:
    """One mime type's formatter for ``Figure``; both share the last figure's result, so a
    figure is saved once per display, and each answers ``None`` for the other's format."""

    last: tuple = (None, None)  # (weak reference to the figure, figure_image result)

    def __init__(self, mime: str):
        self.mime = mime

    def __call__(self, fig):
        ref, result = _Formatter.last
        if ref is None or ref() is not fig or fig.stale:
            result = figure_image(fig)
            _Formatter.last = (weakref.ref(fig), result)
        mime, data, metadata = result
        if mime != self.mime:
            return None
        if mime == "image/png":  # IPython files the metadata under the mime type
            return base64.b64encode(data).decode("ascii"), metadata["image/png"]
        return data.decode("utf-8")


_FORMATTERS = {mime: _Formatter(mime) for mime in ("image/svg+xml", "image/png")}


def _register(shell) -> None:
    formatters = shell.display_formatter.formatters
    for mime, formatter in _FORMATTERS.items():
        formatters[mime].for_type(Figure, formatter)


def _installed(shell) -> bool:
    formatters = shell.display_formatter.formatters
    return all(formatters[mime].type_printers.get(Figure) is formatter
               for mime, formatter in _FORMATTERS.items())


def _backend_name() -> str:
    try:
        return str(matplotlib.get_backend(auto_select=False))
    except TypeError:  # matplotlib < 3.10
        return str(matplotlib.rcParams["backend"])


def install(shell=None) -> bool:
    """Show every matplotlib ``Figure`` through :func:`figure_image` in IPython.

    ``shell``: the IPython shell (default: the running one). Outside IPython it does
    nothing and returns ``False``. The inline backend registers its own PNG formatter
    when it is loaded (and again on ``%matplotlib inline``), removing others: it is
    loaded first, and a ``pre_run_cell`` hook puts these formatters back before each cell.
    """
    if shell is None:
        if "IPython" not in sys.modules:
            return False
        shell = sys.modules["IPython"].get_ipython()
        if shell is None:
            return False
    if "matplotlib_inline" in _backend_name():
        with contextlib.suppress(ImportError):
            importlib.import_module("matplotlib_inline.backend_inline")
    _register(shell)
    callbacks = shell.events.callbacks.get("pre_run_cell", [])
    if _on_pre_run_cell not in callbacks:
        shell.events.register("pre_run_cell", _on_pre_run_cell)
    return True


def _on_pre_run_cell(*_args) -> None:
    shell = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
    if shell is not None and not _installed(shell):
        _register(shell)
