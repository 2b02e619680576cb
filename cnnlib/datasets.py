"""Real data for the course: MNIST through torchvision, and a photo and signals from matplotlib.

MNIST is loaded with torchvision's own ``MNIST`` class, so users with network get the usual
download. Its root folder comes from the environment variable ``CNNLIB_DATA`` when set (CI and
offline machines point it at a folder holding ``MNIST/raw/``), else from a per-user cache
folder (``$XDG_CACHE_HOME/cnnlib`` or ``~/.cache/cnnlib``).

The photo (Grace Hopper) and the signals (Google's daily stock price, a four-channel EEG
recording) ship inside matplotlib's ``mpl-data/sample_data``, so they never need a network.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "MNIST_MEAN",
    "MNIST_STD",
    "DataNotFoundError",
    "data_root",
    "eeg",
    "load_mnist",
    "mnist_split",
    "mnist_tensors",
    "photo",
    "stock_prices",
]

#: Mean and standard deviation of the MNIST training pixels scaled to [0, 1].
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081

_MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class DataNotFoundError(RuntimeError):
    """A data set is neither on disk nor downloadable; the message says how to fix it."""


def data_root() -> Path:
    """Where cnnlib keeps data sets: ``$CNNLIB_DATA`` if set, else a per-user cache folder."""
    env = os.environ.get("CNNLIB_DATA")
    if env:
        return Path(env).expanduser().resolve()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "cnnlib"


def _mnist_missing_message(root: Path, reason: str) -> str:
    raw = root / "MNIST" / "raw"
    files = "\n".join(f"    {raw / name}" for name in _MNIST_FILES)
    return (
        f"MNIST was not found under {root}\nand could not be downloaded ({reason}).\n"
        "Fix it in one of these ways:\n"
        "  * connect to the internet and run again (torchvision downloads it), or\n"
        "  * set the environment variable CNNLIB_DATA to a folder that holds MNIST/raw/ with\n"
        "    the four IDX files (from a checkout of the course: CNNLIB_DATA=../shared/data), or\n"
        f"  * copy the files (uncompressed or .gz) to:\n{files}"
    )


def load_mnist(train: bool = True, root: str | Path | None = None, download: bool = True,
               transform=None):
    """The torchvision ``MNIST`` data set (60,000 training or 10,000 test digits, 28×28).

    ``root`` defaults to :func:`data_root`. Raises :class:`DataNotFoundError` with a message
    naming ``CNNLIB_DATA`` when the files are absent and cannot be downloaded.
    """
    from torchvision.datasets import MNIST

    root = Path(root) if root is not None else data_root()
    try:
        return MNIST(str(root), train=train, download=False, transform=transform)
    except RuntimeError:
        if not download:
            raise DataNotFoundError(
                _mnist_missing_message(root, "download=False was given")
            ) from None
    # torchvision prints each failed mirror; keep the console clean and say it once, clearly.
    chatter = io.StringIO()
    try:
        with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
            return MNIST(str(root), train=train, download=True, transform=transform)
    except Exception as err:  # URLError, HTTPError, RuntimeError, OSError, ...
        reason = (str(err).splitlines() or [type(err).__name__])[0].rstrip(": ")
        reason += "; is this machine offline?"
        raise DataNotFoundError(_mnist_missing_message(root, reason)) from None


def mnist_tensors(train: bool = True, root: str | Path | None = None, device=None,
                  download: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST as two tensors, ready for fast training without a DataLoader.

    Returns ``images`` of shape ``(N, 1, 28, 28)``, float32 in [0, 1], and ``labels`` of
    shape ``(N,)``, int64, on ``device`` (default CPU).
    """
    ds = load_mnist(train=train, root=root, download=download)
    images = ds.data.unsqueeze(1).to(torch.float32).div_(255.0)
    labels = ds.targets.to(torch.int64)
    if device is not None:
        images, labels = images.to(device), labels.to(device)
    return images, labels


def mnist_split(validation: int = 5_000, seed: int = 0, device=None):
    """MNIST as chapters 7 and 8 train on it: ``(train, val, test)``, each ``(x, y)``.

    The 60,000 training digits are shuffled once (``seed``) and the first ``validation`` of
    them held out; the 10,000 test digits stay apart. Images are standardised with MNIST's
    mean and standard deviation (:func:`cnnlib.training.standardize`), ``(N, 1, 28, 28)``
    float32 on ``device``; labels are int64.
    """
    from ._validate import check_positive_int
    from .evaluation import standardize

    check_positive_int("validation", validation)
    images, labels = mnist_tensors(train=True, device=device)
    if validation >= len(images):
        raise ValueError(f"validation must leave training digits: at most {len(images) - 1}, "
                         f"got {validation}")
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    order = order.to(images.device)
    held, kept = order[:validation], order[validation:]
    test_images, test_labels = mnist_tensors(train=False, device=device)
    return ((standardize(images[kept]), labels[kept]),
            (standardize(images[held]), labels[held]),
            (standardize(test_images), test_labels))


def _sample_data(name: str) -> Path:
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "sample_data" / name
    if not path.exists():
        raise DataNotFoundError(
            f"matplotlib's sample file {name} is missing from {path.parent}; "
            "reinstall matplotlib (pip install --force-reinstall matplotlib)"
        )
    return path


def photo(gray: bool = False) -> torch.Tensor:
    """The photo of Grace Hopper shipped with matplotlib, float32 in [0, 1].

    Shape ``(3, H, W)`` (RGB), or ``(1, H, W)`` with ``gray=True`` (ITU-R BT.601 luma:
    0.299 R + 0.587 G + 0.114 B).
    """
    import matplotlib.image

    img = matplotlib.image.imread(_sample_data("grace_hopper.jpg"))
    x = torch.from_numpy(np.array(img)).permute(2, 0, 1).to(torch.float32)
    if img.dtype == np.uint8:
        x = x / 255.0
    if gray:
        weights = torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)
        x = (x[:3] * weights).sum(0, keepdim=True)
    return x[:3] if not gray else x


def stock_prices() -> tuple[np.ndarray, torch.Tensor]:
    """Google's daily adjusted closing price (matplotlib's ``goog.npz``).

    Returns ``(dates, prices)``: dates as ``numpy.datetime64[D]`` and prices as a float64
    tensor of shape ``(T,)``, in trading-day order.
    """
    with np.load(_sample_data("goog.npz")) as f:
        data = f["price_data"]
    dates = data["date"].astype("datetime64[D]")
    prices = torch.from_numpy(np.ascontiguousarray(data["adj_close"], dtype=np.float64))
    return dates, prices


def eeg() -> tuple[torch.Tensor, torch.Tensor]:
    """Four EEG channels, 800 samples over 10 s (matplotlib's ``eeg.dat``).

    Returns ``(t, signals)``: times in seconds, shape ``(800,)``, and ``signals`` of shape
    ``(4, 800)`` (channels first, as ``torch.nn.Conv1d`` expects), both float64.
    """
    n_samples, n_channels = 800, 4
    raw = np.fromfile(_sample_data("eeg.dat"), dtype=np.float64)
    signals = torch.from_numpy(raw.reshape(n_samples, n_channels).T.copy())
    t = torch.arange(n_samples, dtype=torch.float64) * (10.0 / n_samples)
    return t, signals
