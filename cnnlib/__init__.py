"""cnnlib — the companion library of the executable course on convolutional neural networks.

Every operation the course teaches is written here from scratch, readable first, and proven
equal to ``torch.nn.functional`` by the test suite. Modules, one concept each:

- ``env``: device choice and seeding shared by every notebook
- ``datasets``: MNIST (torchvision, root from ``CNNLIB_DATA``), a photo and real signals
- ``arithmetic``: output sizes of convolution, transposed convolution and pooling
- ``plotting``, ``widgets``: the book's figures and its interactive explorers
- ``doctor``: the set-up check of chapter 0
"""

__version__ = "0.1.0"

from .arithmetic import conv_output_size, conv_transpose_output_size, pool_output_size
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
from .plotting import show_images, show_matrix

__all__ = [
    "DataNotFoundError",
    "check_setup",
    "conv_output_size",
    "conv_transpose_output_size",
    "data_root",
    "describe_environment",
    "eeg",
    "get_device",
    "load_mnist",
    "mnist_tensors",
    "photo",
    "pool_output_size",
    "seed_everything",
    "show_images",
    "show_matrix",
    "stock_prices",
]
