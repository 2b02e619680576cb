"""cnnlib — the companion library of the executable course on convolutional neural networks.

Every operation the course teaches is written here from scratch, readable first, and proven
equal to ``torch.nn.functional`` by the test suite. Modules, one concept each:

- ``conv``: ``conv1d``/``conv2d`` with ``method="loop" | "toeplitz" | "im2col" | "fft"``,
  built on ``loop_conv``, ``toeplitz``, ``im2col``, ``fft_conv`` and ``padding``
- ``convolve``: the true (flipped) convolution, next to the cross-correlation
- ``sliding``: the shift–multiply–sum steps of a 1D convolution, one at a time
- ``transposed``: transposed convolution as the adjoint of the convolution
- ``backprop``: a convolution's gradients, from transposed convolution and correlation
- ``augment``: random shifts, rotations and rescaling of image batches
- ``checkpoint``: ``fit_or_load``, training once and reusing the stored result
- ``pooling``: max, average and Lp pooling
- ``matrices``: circulant, shift and DFT matrices; impulse responses
- ``arithmetic``, ``receptive_field``, ``counting``, ``network_costs``: output sizes,
  receptive fields, parameter and FLOP counts, per-layer costs
- ``separable``, ``winograd``: depthwise/spatially separable convolutions, Winograd F(2,3)
- ``template_matching``: finding a patch with (normalised) cross-correlation
- ``filters``: handcrafted kernels (box, Gaussian, Sobel, Laplacian, sharpen, ...)
- ``models``, ``training``: LeNet, LeNet-5, an MLP, VGG from a configuration; a fast
  seeded training loop
- ``equivariance``, ``invariance_measures``: translations, (in)variance measurements,
  anti-aliased pooling
- ``benchmark``, ``performance``: timing (shared by ``make bench`` and chapter 9), and what
  chapter 9 derives from it (rates, memory, crossovers)
- ``env``: device choice, seeding and whether the book is being built
- ``datasets``: MNIST (torchvision, root from ``CNNLIB_DATA``), a photo and real signals
- ``_validate``: the shared argument checks and their wording
- ``viz``: the drawing layer — every figure, animation and explorer (``from cnnlib import
  viz``); the only part of cnnlib that imports matplotlib's pyplot or ipywidgets
- ``grading``: the autograder (student checks and instructor batch grading)
- ``doctor``: the set-up check of chapter 0

``import cnnlib`` loads neither pyplot nor ipywidgets: ``show_images`` and ``show_matrix``
(from ``viz``) are loaded on first use.
"""

__version__ = "0.1.0"

from . import augment, checkpoint, filters
from .arithmetic import conv_output_size, conv_transpose_output_size, pool_output_size
from .backprop import conv1d_backward, conv2d_backward
from .conv import conv1d, conv2d
from .convolve import convolve1d, convolve2d
from .counting import count_flops, count_macs, count_parameters, layer_summary
from .datasets import (
    DataNotFoundError,
    data_root,
    eeg,
    load_mnist,
    mnist_tensors,
    photo,
    stock_prices,
)
from .doctor import check_setup
from .env import describe_environment, get_device, seed_everything
from .filters import gaussian_kernel
from .im2col import im2col, patches
from .matrices import circulant_matrix, circular_flip, dft_matrix, impulse_response, shift_matrix
from .models import MLP, VGG, LeNet, LeNet5, small_vgg, vgg, vgg_layers
from .module_repr import compact_repr as compact_repr
from .padding import pad, same_padding
from .pooling import (
    avg_pool1d,
    avg_pool2d,
    global_avg_pool2d,
    global_max_pool2d,
    lp_pool1d,
    lp_pool2d,
    max_pool1d,
    max_pool2d,
)
from .receptive_field import Layer, empirical_receptive_field, receptive_field
from .separable import DepthwiseSeparableConv2d, kernel_rank, separable_approximation
from .toeplitz import toeplitz_matrix
from .training import History, evaluate, fit, standardize
from .transposed import conv_transpose1d, conv_transpose2d
from .winograd import winograd_conv2d, winograd_f23

__all__ = [
    "MLP",
    "VGG",
    "DataNotFoundError",
    "DepthwiseSeparableConv2d",
    "History",
    "Layer",
    "LeNet",
    "LeNet5",
    "augment",
    "avg_pool1d",
    "avg_pool2d",
    "check_setup",
    "checkpoint",
    "circulant_matrix",
    "circular_flip",
    "conv1d",
    "conv1d_backward",
    "conv2d",
    "conv2d_backward",
    "conv_output_size",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose_output_size",
    "convolve1d",
    "convolve2d",
    "count_flops",
    "count_macs",
    "count_parameters",
    "data_root",
    "describe_environment",
    "dft_matrix",
    "eeg",
    "empirical_receptive_field",
    "evaluate",
    "filters",
    "fit",
    "gaussian_kernel",
    "get_device",
    "global_avg_pool2d",
    "global_max_pool2d",
    "im2col",
    "impulse_response",
    "kernel_rank",
    "layer_summary",
    "load_mnist",
    "lp_pool1d",
    "lp_pool2d",
    "max_pool1d",
    "max_pool2d",
    "mnist_tensors",
    "pad",
    "patches",
    "photo",
    "pool_output_size",
    "receptive_field",
    "same_padding",
    "seed_everything",
    "separable_approximation",
    "shift_matrix",
    "show_images",
    "show_matrix",
    "small_vgg",
    "standardize",
    "stock_prices",
    "toeplitz_matrix",
    "vgg",
    "vgg_layers",
    "winograd_conv2d",
    "winograd_f23",
]

# Drawing names load the drawing layer (and pyplot) only when first used.
_LAZY = {"show_images": "cnnlib.viz.images", "show_matrix": "cnnlib.viz.images"}


def __getattr__(name: str):
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cnnlib' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
