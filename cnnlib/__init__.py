"""cnnlib — the companion library of the executable course on convolutional neural networks.

Every operation the course teaches is written here from scratch, readable first, and proven
equal to ``torch.nn.functional`` by the test suite. Modules, one concept each:

- ``env``: device choice and seeding shared by every notebook
- ``datasets``: MNIST (torchvision, root from ``CNNLIB_DATA``), a photo and real signals
- ``arithmetic``: output sizes, receptive fields, parameter and FLOP counts
"""

__version__ = "0.1.0"

from .arithmetic import conv_output_size, conv_transpose_output_size, pool_output_size
from .datasets import DataNotFoundError, data_root, eeg, load_mnist, mnist_tensors, photo, stock_prices
from .env import describe_environment, get_device, seed_everything
