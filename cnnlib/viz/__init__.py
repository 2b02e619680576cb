"""cnnlib's drawing layer: every figure, animation and interactive explorer of the book.

Notebooks use it as one namespace::

    from cnnlib import viz

    viz.show_images([photo], ["the photo"])
    viz.shift_explorer()

Modules, named by what their figures show (each draws what the module of the same name in
``cnnlib`` computes):

- ``images``: images and matrices as pictures (``show_images``, ``show_matrix``)
- ``figure_output``: how a figure becomes an image for a page (SVG or 2× PNG, with the size
  of its smallest text in its metadata); :func:`figure_output.install` is called on import
  inside IPython, so every figure a notebook shows goes through it
- ``widgets``: ``explorer``, every explorer's entry point — small multiples or an animation
  on the static website (``StaticExplorer``)
- ``live``: the live controls ``explorer`` shows in Jupyter — ``NumberBox``, controls that
  depend on each other, one redraw per change (``LiveExplorer``)
- ``player``: the animation player of the static explorers (one image, drawn buttons)
- ``sliding``: the shift–multiply–sum steps of a 1D convolution; signals against time
- ``arithmetic``: convolution arithmetic drawn as grids (Dumoulin & Visin's figures)
- ``matrices``: Toeplitz, circulant and im2col matrices, products and densities
- ``equivariance``: chapter 1's signals, correlations, patch matches, sensitivity curves
- ``template_matching``: boxes on the matches of a template
- ``separable``: singular values of kernels, cost ratios of separable layers
- ``training``: learning curves, filters, feature maps, bar charts
- ``networks``: per-layer parameters, MACs, memory and receptive fields
- ``performance``: chapter 9's times, rates and memory
- ``explorers``: one interactive explorer per chapter topic

Nothing outside this package imports matplotlib's pyplot or ipywidgets, so training, the
operations and the grader never load them.
"""

from contextlib import suppress as _suppress

from . import (
    arithmetic,
    equivariance,
    explorers,
    figure_output,
    images,
    live,
    matrices,
    networks,
    performance,
    player,
    separable,
    sliding,
    template_matching,
    training,
    widgets,
)
from .arithmetic import conv_arithmetic_explorer, draw_conv_arithmetic, draw_conv_arithmetic_cases
from .equivariance import (
    show_lag_correlation,
    show_patch_matches,
    show_sensitivity,
    show_signal_rows,
)
from .explorers import (
    conv1d_explorer,
    cost_explorer,
    feature_explorer,
    filter_explorer,
    matrix_explorer,
    pooling_explorer,
    shift_explorer,
    shift_panels,
    slide_animation,
    variants_explorer,
    vgg_explorer,
)
from .figure_output import figure_image
from .images import show_images, show_matrix, signed_norm, to_numpy_image
from .live import NumberBox
from .matrices import plot_density, show_matrices, show_product
from .networks import draw_layer_costs, plot_layer_costs
from .performance import plot_memory, plot_rates, plot_times
from .separable import plot_cost_ratios, plot_singular_values
from .sliding import draw_step, show_signals, show_steps
from .template_matching import show_matches
from .training import montage, plot_bars, plot_curves, plot_history, show_feature_maps, show_filters
from .widgets import StaticExplorer, explorer

__all__ = [
    "NumberBox",
    "StaticExplorer",
    "arithmetic",
    "conv1d_explorer",
    "conv_arithmetic_explorer",
    "cost_explorer",
    "draw_conv_arithmetic",
    "draw_conv_arithmetic_cases",
    "draw_layer_costs",
    "draw_step",
    "equivariance",
    "explorer",
    "explorers",
    "feature_explorer",
    "figure_image",
    "figure_output",
    "filter_explorer",
    "images",
    "live",
    "matrices",
    "matrix_explorer",
    "montage",
    "networks",
    "performance",
    "player",
    "plot_bars",
    "plot_cost_ratios",
    "plot_curves",
    "plot_density",
    "plot_history",
    "plot_layer_costs",
    "plot_memory",
    "plot_rates",
    "plot_singular_values",
    "plot_times",
    "pooling_explorer",
    "separable",
    "shift_explorer",
    "shift_panels",
    "show_feature_maps",
    "show_filters",
    "show_images",
    "show_lag_correlation",
    "show_matches",
    "show_matrices",
    "show_matrix",
    "show_patch_matches",
    "show_product",
    "show_sensitivity",
    "show_signal_rows",
    "show_signals",
    "show_steps",
    "signed_norm",
    "slide_animation",
    "sliding",
    "template_matching",
    "to_numpy_image",
    "training",
    "variants_explorer",
    "vgg_explorer",
    "widgets",
]

with _suppress(AttributeError, KeyError):  # an IPython-like shell without formatters
    figure_output.install()  # inside IPython: every figure shown as SVG or 2× PNG; else nothing
