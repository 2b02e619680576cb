"""Interactive explorers, one module per topic; each builds on :func:`cnnlib.viz.explorer`."""

from .computing import cost_explorer
from .conv1d import conv1d_explorer, slide_animation
from .features import feature_explorer
from .filters import filter_explorer
from .matrices import matrix_explorer
from .pooling import pooling_explorer
from .shift import shift_explorer, shift_panels
from .variants import variants_explorer
from .vgg import vgg_explorer

__all__ = [
    "conv1d_explorer",
    "cost_explorer",
    "feature_explorer",
    "filter_explorer",
    "matrix_explorer",
    "pooling_explorer",
    "shift_explorer",
    "shift_panels",
    "slide_animation",
    "variants_explorer",
    "vgg_explorer",
]
