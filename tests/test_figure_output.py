"""How figures become images for a page: format, weight, the text-size description, IPython.

Also: every public figure function and every explorer preview of cnnlib.viz, built with small
inputs, shows its smallest text at ≥ 9 CSS px in the website's 780 px column.
"""

import base64
import io
import re
import xml.etree.ElementTree as ET

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from PIL import Image

from cnnlib.viz import figure_output as fo

matplotlib.use("Agg")

DC = "{http://purl.org/dc/elements/1.1/}"


def _text_figure(sizes=(7, 12), width=4.0, line=True):
    fig, ax = plt.subplots(figsize=(width, 3))
    if line:
        ax.plot([0, 1], [0, 1])
    ax.set_title("title", fontsize=sizes[1])
    ax.tick_params(labelsize=sizes[1])
    ax.text(0.5, 0.5, "small", fontsize=sizes[0])
    ax.text(0.5, 0.2, "", fontsize=3)  # empty: not counted
    hidden = ax.text(0.5, 0.1, "hidden", fontsize=4)
    hidden.set_visible(False)
    plt.close(fig)
    return fig


def _photo_figure(width=4.0, title=None):
    """The colour photo (far more than 4096 colours)."""
    from cnnlib.datasets import photo

    fig, ax = plt.subplots(figsize=(width, width))
    ax.imshow(photo().permute(1, 2, 0).numpy())
    ax.axis("off")  # tick labels of hidden axes are not drawn: no text at all
    if title:
        ax.set_title(title)
    plt.close(fig)
    return fig


def _picture_figure(width=4.0):
    """A colour-mapped picture of 8 levels: few colours, cheapest as a PNG."""
    fig, ax = plt.subplots(figsize=(width, width))
    ax.imshow(np.random.default_rng(0).integers(0, 8, (100, 100)), cmap="viridis")
    ax.axis("off")
    plt.close(fig)
    return fig


def _decode(mime, data):
    if mime == "image/png":
        image = Image.open(io.BytesIO(data))
        return image.text["Description"], image.width
    root = ET.fromstring(data)
    text = root.find(f".//{DC}description").text
    return text, float(root.get("width").removesuffix("pt")) * 4 / 3


def test_min_text_counts_only_drawn_text():
    fig = _text_figure(sizes=(7, 12))
    assert fo.min_font_size(fig) == 7
    assert fo.min_text_px(fig, 200) == round(7 * 200 / 72, 1) == 19.4
    assert fo.min_text_px(fig, fo.SVG_DPI) == round(7 * 96 / 72, 1) == 9.3
    assert fo.min_font_size(_photo_figure()) is None
    with pytest.raises(ValueError, match="dpi must be a positive number"):
        fo.min_text_px(fig, 0)
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure"):
        fo.min_font_size("figure")


def test_legend_colorbar_and_annotation_texts_count():
    fig, ax = plt.subplots()
    image = ax.imshow(np.eye(3))
    bar = fig.colorbar(image)
    bar.ax.tick_params(labelsize=6.5)
    ax.annotate("a", (1, 1), fontsize=11)
    ax.plot([0, 1], label="line")
    ax.legend(fontsize=8)
    plt.close(fig)
    assert fo.min_font_size(fig) == 6.5
    bar.ax.tick_params(labelsize=12)
    assert fo.min_font_size(fig) == 8


def _vector_figure():
    fig, ax = plt.subplots(figsize=(6, 4))
    rng = np.random.default_rng(0)
    for _ in range(40):  # overlapping translucent discs: thousands of colours, few shapes
        ax.add_patch(plt.Circle(rng.random(2), 0.1 + 0.3 * rng.random(), color=rng.random(3),
                                alpha=0.25))
    ax.set_title("cheaper as SVG", fontsize=7)
    plt.close(fig)
    return fig


def test_svg_carries_its_description_and_needs_no_font():
    mime, data, metadata = fo.figure_image(_text_figure(sizes=(7, 12)), "svg")
    assert mime == "image/svg+xml" and metadata == {}
    text, _ = _decode(mime, data)
    assert text == "cnnlib-figure min_text_px=9.3"
    assert b"<text" not in data  # text drawn as paths: no font needed
    assert fo.read_description(mime, data) == text
    assert fo.figure_image(_text_figure(sizes=(7, 12)), "svg")[1] == data  # reproducible


@pytest.mark.parametrize("make", [_vector_figure, lambda: _picture_figure(2.0),
                                  lambda: _photo_figure(2.0)])
def test_the_smaller_format_is_chosen(make):
    fig = make()
    mime, data, _ = fo.figure_image(fig)
    sizes = {"image/svg+xml": len(fo.figure_image(fig, "svg")[1]),
             "image/png": len(fo.figure_image(fig, "png")[1])}
    assert len(data) == sizes[mime] == min(sizes.values())


def test_png_of_a_picture_is_2x_with_its_logical_width():
    fig = _picture_figure(width=3.0)
    mime, data, metadata = fo.figure_image(fig)
    assert mime == "image/png"
    text, natural = _decode(mime, data)
    assert text == "cnnlib-figure min_text_px=none"
    assert metadata == {"image/png": {"width": round(natural / 2)}}
    assert abs(natural - 200 * fo._tight_width_inches(fig)) <= 2  # 2 × 100 px per inch
    svg = fo.figure_image(fig, "svg")[1]
    assert len(data) < len(svg)


def test_a_photo_is_a_jpeg_inside_an_svg_with_its_text_as_paths():
    fig = _photo_figure(width=3.0, title="noise")
    mime, data, _ = fo.figure_image(fig)
    assert mime == "image/svg+xml"
    assert b"data:image/jpeg;base64," in data and b"data:image/png" not in data
    assert b"<text" not in data
    assert len(data) < len(fo.figure_image(fig, "png")[1]) / 2
    assert fo.read_description(mime, data) == "cnnlib-figure min_text_px=16.0"  # title: 12 pt
    # a picture of few colours stays a (lossless) PNG inside the SVG
    assert b"data:image/png" in fo.figure_image(_picture_figure(), "svg")[1]


def test_enlarged_pictures_repeat_pixels_and_keep_their_interpolation():
    small, large = np.random.default_rng(1).random((16, 16)), np.zeros((400, 400))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(4, 2))
    shown = ax1.imshow(small), ax2.imshow(large)
    plt.close(fig)
    fig.draw_without_rendering()
    with fo._compact_pictures(fig, fo.PNG_DPI):
        assert [im.get_interpolation() for im in shown] == ["nearest", "auto"]
        assert [im.get_interpolation_stage() for im in shown] == ["data", "data"]
    assert [im.get_interpolation() for im in shown] == ["auto", "auto"]
    assert [im.get_interpolation_stage() for im in shown] == ["auto", "auto"]


def test_drawings_take_a_palette_within_the_tolerance():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [0, 2, 1], lw=2)  # anti-aliased edges: > 256 colours in all
    ax.plot([0, 1, 2], [2, 0, 1.5], lw=2)
    ax.set_title("two lines")
    plt.close(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=200, bbox_inches="tight")
    plain = np.asarray(Image.open(buffer).convert("RGB")).astype(int)
    assert len(np.unique(plain.reshape(-1, 3), axis=0)) > 256
    data = fo.figure_image(fig, "png")[1]
    light = Image.open(io.BytesIO(data))
    assert light.mode == "P"
    error = np.abs(np.asarray(light.convert("RGB")).astype(int) - plain).max()
    assert error <= fo.PALETTE_TOLERANCE
    assert len(data) < len(buffer.getvalue()) / 2


def test_png_stays_exact_when_made_lighter():
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.imshow(np.arange(16).reshape(4, 4), cmap="viridis")  # ≤ 256 colours: a palette
    ax.axis("off")
    plt.close(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=200, bbox_inches="tight")
    plain = np.asarray(Image.open(buffer).convert("RGB"))
    data = fo.figure_image(fig, "png")[1]
    light = Image.open(io.BytesIO(data))
    assert light.mode == "P"
    assert np.array_equal(np.asarray(light.convert("RGB")), plain)
    assert len(data) < len(buffer.getvalue())


def test_description_and_format_errors():
    assert fo.description(None) == "cnnlib-figure min_text_px=none"
    assert fo.description(12.345) == "cnnlib-figure min_text_px=12.3"
    with pytest.raises(ValueError, match="fmt must be"):
        fo.figure_image(_text_figure(), "jpeg")
    with pytest.raises(ValueError, match="bbox_inches"):
        fo.figure_image(_text_figure(), bbox_inches=(0, 0, 1, 1))


def test_displayed_text_px_follows_the_column_rule():
    narrow, wide = _text_figure((10, 12), width=5.0), _text_figure((10, 12), width=15.0)
    assert fo.displayed_text_px(narrow) == pytest.approx(10 * 96 / 72, abs=0.01)
    width = fo._tight_width_inches(wide)
    assert width > 7.8
    assert fo.displayed_text_px(wide) == pytest.approx(10 / 72 * 780 / width, abs=0.01)
    assert fo.check_figure_text(narrow) > 9
    with pytest.raises(ValueError, match="'small' at 10 pt"):
        fo.check_figure_text(wide)
    assert fo.displayed_text_px(_photo_figure()) is None


def test_readable_fontsize_shows_at_least_9_px():
    for width in (3.0, 7.8, 12.0, 20.0):
        fig = _text_figure((fo.readable_fontsize(width + 0.2), 30), width=width)
        assert fo.displayed_text_px(fig) >= 9
    with pytest.raises(ValueError, match="width_inches"):
        fo.readable_fontsize(0)


def test_ipython_shows_figures_through_figure_image():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    assert fo.install(shell)
    data, metadata = shell.display_formatter.format(_picture_figure(width=2.0))
    assert "image/svg+xml" not in data
    png = base64.b64decode(data["image/png"])
    assert metadata["image/png"]["width"] == round(Image.open(io.BytesIO(png)).width / 2)
    assert fo.read_description("image/png", png) == "cnnlib-figure min_text_px=none"
    data, metadata = shell.display_formatter.format(_vector_figure())
    assert "image/png" not in data and "cnnlib-figure" in data["image/svg+xml"]
    # a formatter registered over them (as %matplotlib inline does) is undone before a cell
    shell.display_formatter.formatters["image/png"].for_type(Figure, lambda fig: "other")
    shell.events.trigger("pre_run_cell", None)
    assert fo._installed(shell)


def test_install_does_nothing_outside_ipython(monkeypatch):
    import sys

    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert fo.install() is False


def test_img_html_is_one_line_with_alt_and_logical_width():
    html = fo.img_html(_picture_figure(width=2.0), 'noise "dots"')
    assert "\n" not in html and 'alt="noise &quot;dots&quot;"' in html
    uri = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    width = Image.open(io.BytesIO(base64.b64decode(uri))).width
    assert f'width="{round(width / 2)}"' in html


# --- every figure of cnnlib.viz: text ≥ 9 CSS px on the website -------------------------------

def _figures():
    from cnnlib import viz
    from cnnlib.equivariance import PatchMatch
    from cnnlib.models import LeNet
    from cnnlib.network_costs import layer_costs
    from cnnlib.training import History
    from cnnlib.viz.equivariance import show_change_grid
    from cnnlib.viz.networks import show_score_map

    h = History(device="cpu", precision="fp32", batch_size=8)
    for i in range(1, 5):
        h.step.append(i)
        h.epoch.append(i)
        h.lr.append(0.1)
        h.train_loss.append(1 / i)
        h.train_acc.append(1 - 0.1 / i)
        h.seconds.append(1.0)
        h.val_loss.append(1.5 / i)
        h.val_acc.append(1 - 0.2 / i)
    g = torch.Generator().manual_seed(0)
    image = torch.rand(1, 32, 32, generator=g)
    signed = torch.randn(32, 32, generator=g)
    match = PatchMatch(query=(0, 0), match=(4, 4), distance=1.0, typical=2.0)
    costs = layer_costs(LeNet(), (1, 1, 28, 28))
    records = [{"name": "matmul", "gflops": 90.0, "fraction": 1.0},
               {"name": "torch", "gflops": 80.0, "fraction": 0.9},
               {"name": "fft", "gflops": 1.2, "fraction": 0.013}]
    memory = {"toeplitz": 10**6, "im2col matrix": 10**5, "input": 10**3}
    a = torch.randn(6, 8, generator=g)
    x = torch.randn(8, generator=g)
    return {
        "show_images": lambda: viz.show_images([image] * 4, ["a"] * 4),
        "show_images signed": lambda: viz.show_images([image, signed], ["x", "y"],
                                                      signed=[False, True]),
        "show_images 6": lambda: viz.show_images([image] * 6, ["t"] * 6, size=2.0),
        "show_matrix": lambda: viz.show_matrix(torch.randn(6, 6, generator=g)),
        "show_product": lambda: viz.show_product(a, x, a @ x),
        "show_matrices": lambda: viz.show_matrices([a, a.T], ["A", "Aᵀ"]),
        "plot_density": lambda: viz.plot_density([4, 8, 16], [0.5, 0.25, 0.12], [0.5, 0.25,
                                                                                  0.125]),
        "draw_step": lambda: viz.draw_step(__import__("cnnlib").sliding.conv1d_steps(
            torch.arange(8.0), torch.tensor([1.0, 2.0]))[0]),
        "show_steps": lambda: viz.show_steps(torch.arange(5.0), torch.tensor([2.0, 1.0]),
                                             steps=[0, 1, 2, 3]),
        "show_signals": lambda: viz.show_signals(range(10), {"a": torch.rand(10, generator=g)}),
        "draw_conv_arithmetic": lambda: viz.draw_conv_arithmetic(5, 3, 2, 1),
        "draw_conv_arithmetic transposed": lambda: viz.draw_conv_arithmetic(
            3, 3, 2, transposed=True),
        "draw_conv_arithmetic_cases": lambda: viz.draw_conv_arithmetic_cases(
            [dict(input_size=5, kernel_size=3), dict(input_size=5, kernel_size=3, padding=1),
             dict(input_size=5, kernel_size=3, stride=2)]),
        "show_signal_rows": lambda: viz.show_signal_rows([(range(10), torch.rand(10), "a"),
                                                          (range(10), torch.rand(2, 10), "b")]),
        "show_lag_correlation": lambda: viz.show_lag_correlation({"a": torch.ones(4)}),
        "show_patch_matches": lambda: viz.show_patch_matches(image, [match], 3),
        "show_sensitivity": lambda: viz.show_sensitivity([1, 2], {"a": [0.1, 0.2]}),
        "show_change_grid": lambda: show_change_grid({"m": {"a": [1, 2]}, "n": {"a": [0, 1]}},
                                                     {"r": {"a": [1, 2]}, "s": {"a": [0, 1]}}),
        "show_matches": lambda: viz.show_matches(image[0], (4, 6), {"plain": (1, 2)}),
        "plot_singular_values": lambda: viz.plot_singular_values(
            {"sobel": torch.tensor([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]]),
             "random": torch.randn(3, 3, generator=g)}),
        "plot_cost_ratios": lambda: viz.plot_cost_ratios([8, 64], {3: [0.2, 0.13],
                                                                   5: [0.17, 0.05]}),
        "plot_history": lambda: viz.plot_history({"MLP": h, "LeNet": h}),
        "show_filters": lambda: viz.show_filters(torch.randn(20, 1, 5, 5, generator=g)),
        "show_feature_maps": lambda: viz.show_feature_maps(
            image, {f"layer {i}": torch.rand(8, 6, 6) for i in range(4)}),
        "plot_curves": lambda: viz.plot_curves([0, 1, 2], {"a": [1, 2, 3]}, "x", "y", "t"),
        "plot_bars": lambda: viz.plot_bars({"MLP": {"o": 98.0, "p": 97.0},
                                            "LeNet": {"o": 99.0, "p": 98.5}}, "accuracy"),
        "plot_layer_costs": lambda: viz.plot_layer_costs(costs),
        "show_score_map": lambda: show_score_map(torch.rand(1, 28, 84), torch.randn(10, 15),
                                                 stride=4, window=28),
        "plot_times": lambda: viz.plot_times({"fft": {3: 4e-3, 7: 4e-3},
                                              "im2col": {3: 1e-3, 7: 7e-3}}, "k", "t",
                                             crossovers={"fft < im2col": 5}),
        "plot_rates": lambda: viz.plot_rates(records),
        "plot_memory": lambda: viz.plot_memory({"a": memory, "b": memory}),
    }


FIGURES = list(_figures())


@pytest.mark.parametrize("name", FIGURES)
def test_every_figure_shows_its_text_at_9_px_or_more(name):
    fig = _figures()[name]()
    assert isinstance(fig, Figure)
    shown = fo.displayed_text_px(fig)
    assert shown is None or shown >= fo.MIN_TEXT_PX, (name, shown)


def _preview_images(preview) -> list[tuple[str, bytes, float]]:
    """(mime, bytes, displayed width) of each image of a static explorer's HTML."""
    html = preview._repr_html_()
    found = []
    for match in re.finditer(r'(?:src="|")data:(image/[a-z+]+);base64,([A-Za-z0-9+/=]+)"',
                             html):
        found.append((match.group(1), base64.b64decode(match.group(2))))
    width = float(re.search(r'<img[^>]*width="([0-9.]+)"', html).group(1))
    return [(mime, data, width) for mime, data in found]


def _explorers():
    from cnnlib import viz
    from cnnlib.models import LeNet

    torch.manual_seed(0)
    return {
        "conv1d_explorer": lambda: viz.conv1d_explorer(force_static=True),
        "slide_animation": lambda: viz.slide_animation(force_static=True),
        "cost_explorer": lambda: viz.cost_explorer(force_static=True),
        "feature_explorer": lambda: viz.feature_explorer(LeNet(), torch.rand(4, 1, 28, 28)),
        "filter_explorer": lambda: viz.filter_explorer(torch.rand(64, 64), force_static=True),
        "matrix_explorer": lambda: viz.matrix_explorer(force_static=True),
        "pooling_explorer": lambda: viz.pooling_explorer(torch.randn(1, 48, 40),
                                                         force_static=True),
        "shift_explorer": lambda: viz.shift_explorer(torch.rand(1, 40, 48), max_shift=8,
                                                     step=4, force_static=True),
        "variants_explorer": lambda: viz.variants_explorer(force_static=True),
        "vgg_explorer": lambda: viz.vgg_explorer(),
        "conv_arithmetic_explorer": lambda: viz.conv_arithmetic_explorer(
            5, 3, 2, 1, force_static=True),
    }


@pytest.mark.parametrize("name", list(_explorers()))
def test_every_explorer_preview_shows_text_at_9_px_and_says_what_it_shows(name, monkeypatch):
    monkeypatch.setenv("CNNLIB_STATIC", "1")
    preview = _explorers()[name]()
    images = _preview_images(preview)
    assert images
    for mime, data, width in images:
        text, natural = _decode(mime, data)
        value = re.fullmatch(r"cnnlib-figure min_text_px=(none|[0-9.]+)", text).group(1)
        if value != "none":
            shown = float(value) * min(width, fo.COLUMN_PX) / natural
            assert shown >= fo.MIN_TEXT_PX, (name, shown)
    html = preview._repr_html_()
    alt = re.search(r'<img[^>]*alt="([^"]+)"', html).group(1)
    assert len(alt) > 40 and "explorer preview" not in alt
    assert alt in html.split("cnnlib-explorer-caption")[1]  # the caption says it too
    assert '<code class="cnnlib-explorer-control">' in html
    assert "Run this notebook" not in html
