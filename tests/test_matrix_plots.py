"""Figures of the matrix views: right panels, same entry size everywhere, honest data, errors."""

import matplotlib
import numpy as np
import pytest
import torch

from cnnlib.viz.matrices import outline_entries, plot_density, show_matrices, show_product

matplotlib.use("Agg")


def _entry_size(fig, ax, shape):
    """Width and height in inches of one matrix entry drawn in ``ax``."""
    box = ax.get_position()
    w, h = fig.get_size_inches()
    return box.width * w / shape[1], box.height * h / shape[0]


def test_show_product_draws_y_equals_a_times_x():
    a = torch.tensor([[1.0, 2.0, 0.0], [0.0, 1.0, 2.0]])
    x = torch.tensor([1.0, -1.0, 3.0])
    fig = show_product(a, x, a @ x, names=("y", "A", "x"))
    assert [ax.get_title() for ax in fig.axes] == ["y", "A", "x"]
    shown = [ax.images[0].get_array() for ax in fig.axes]
    np.testing.assert_array_equal(shown[0], [[-1.0], [5.0]])  # vectors become columns
    np.testing.assert_array_equal(shown[1], a.numpy())
    np.testing.assert_array_equal(shown[2], [[1.0], [-1.0], [3.0]])
    assert [t.get_text() for t in fig.texts] == ["=", "·"]
    sizes = {tuple(np.round(_entry_size(fig, ax, arr.shape), 6))
             for ax, arr in zip(fig.axes, shown, strict=True)}
    assert len(sizes) == 1  # one entry has the same size in all three panels


def test_show_product_row_vectors_read_as_transposed_product():
    h = torch.tensor([[1.0, 2.0]])
    patches = torch.tensor([[3.0, 1.0, 4.0], [1.0, 5.0, 9.0]])
    fig = show_product(h, patches, h @ patches)
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), [[5.0, 11.0, 22.0]])


def test_show_product_rejects_shapes_that_do_not_multiply():
    with pytest.raises(ValueError, match="do not make a product"):
        show_product(torch.zeros(2, 3), torch.zeros(2), torch.zeros(2))
    with pytest.raises(ValueError, match="names must be three"):
        show_product(torch.zeros(2, 3), torch.zeros(3), torch.zeros(2), names=("y", "A"))


def test_show_matrices_same_entry_size_and_titles():
    fig = show_matrices([torch.ones(6, 8), torch.ones(8, 8), torch.ones(3, 8)],
                        ["valid", "circulant", "stride 2"])
    assert [ax.get_title() for ax in fig.axes] == ["valid", "circulant", "stride 2"]
    sizes = {tuple(np.round(_entry_size(fig, ax, s), 6))
             for ax, s in zip(fig.axes, [(6, 8), (8, 8), (3, 8)], strict=True)}
    assert len(sizes) == 1


def test_show_matrices_annotates_small_and_not_large_matrices():
    small = torch.tensor([[1.0, 0.0], [0.0, -4.0]])
    fig = show_matrices([small])
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["-4", "1"]
    beside_large = show_matrices([small, torch.randn(40, 40)])  # entries too small for text
    assert len(beside_large.axes[0].texts) == len(beside_large.axes[1].texts) == 0
    forced = show_matrices([torch.randn(40, 40)], annotate=True, cell=0.1)
    assert len(forced.axes[0].texts) == 1600


def test_show_matrices_writes_dark_entries_in_white():
    fig = show_matrices([torch.tensor([[1.0, 10.0]])])
    colours = {t.get_text(): t.get_color() for t in fig.axes[0].texts}
    assert colours["10"] == "white" and colours["1"] != "white"


def test_show_matrices_draws_block_lines_between_blocks():
    fig = show_matrices([torch.ones(12, 20)], blocks=[(4, 5)])
    ax = fig.axes[0]
    horizontal = sorted(line.get_ydata()[0] for line in ax.lines if line.get_ydata()[0]
                        == line.get_ydata()[1] and line.get_xdata()[0] != line.get_xdata()[1])
    vertical = sorted(line.get_xdata()[0] for line in ax.lines if line.get_xdata()[0]
                      == line.get_xdata()[1] and line.get_ydata()[0] != line.get_ydata()[1])
    assert horizontal == [3.5, 7.5]
    assert vertical == [4.5, 9.5, 14.5]


def test_show_matrices_errors():
    with pytest.raises(ValueError, match="at least one matrix"):
        show_matrices([])
    with pytest.raises(ValueError, match="one entry per matrix"):
        show_matrices([torch.ones(2, 2)], ["a", "b"])
    with pytest.raises(ValueError, match="blocks must have one entry per matrix"):
        show_matrices([torch.ones(2, 2)], blocks=[None, None])
    with pytest.raises(ValueError, match="dividing the matrix shape"):
        show_matrices([torch.ones(6, 6)], blocks=[(4, 3)])
    with pytest.raises(TypeError, match="must be real"):
        show_matrices([torch.ones(2, 2, dtype=torch.complex64)])
    with pytest.raises(ValueError, match=r"matrices\[0\] must be a matrix"):
        show_matrices([torch.ones(2, 2, 2)])


def test_outline_entries_frames_exactly_the_masked_entries():
    fig = show_matrices([torch.ones(3, 3)])
    ax = fig.axes[0]
    mask = torch.zeros(3, 3, dtype=torch.bool)
    mask[0, 2] = mask[2, 0] = True
    assert outline_entries(ax, mask) == 2
    corners = sorted(p.get_xy() for p in ax.patches)
    assert corners == [(-0.5, 1.5), (1.5, -0.5)]  # (column − ½, row − ½) of (2, 0) and (0, 2)
    with pytest.raises(ValueError, match="boolean"):
        outline_entries(ax, torch.ones(3, 3))


def test_plot_density_draws_measured_points_and_formula_line():
    ns = [8, 16, 32]
    fig = plot_density(ns, [0.5, 0.25, 0.125], [0.5, 0.25, 0.125], title="m = 4")
    ax = fig.axes[0]
    marks, line = ax.lines
    np.testing.assert_array_equal(marks.get_xdata(), ns)
    np.testing.assert_array_equal(marks.get_ydata(), [0.5, 0.25, 0.125])
    assert line.get_linestyle() == "-" and marks.get_linestyle() == "None"
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_title() == "m = 4"
    plot_density(ns, [0.4, 0.2, 0.1], ax=ax, label="same")  # a second series on the same axes
    assert len(ax.lines) == 3


def test_plot_density_errors():
    with pytest.raises(ValueError, match="equal length"):
        plot_density([8, 16], [0.5])
    with pytest.raises(ValueError, match="one value per n"):
        plot_density([8, 16], [0.5, 0.25], [0.5])
