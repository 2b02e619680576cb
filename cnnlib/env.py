"""The runtime every notebook shares: which device to use, how to seed, what is installed.

Every chapter starts with ``device = cnnlib.get_device()`` and ``cnnlib.seed_everything()``,
so a notebook runs unchanged on a laptop CPU, on Colab, or on a CUDA GPU, and gives the same
numbers on every run on the same machine. :func:`is_static` tells whether the book is being
built (no live kernel behind the page): explorers then draw small multiples instead of
sliders, and training prints one line per epoch instead of a progress bar.
"""

from __future__ import annotations

import os
import platform
import random

import numpy as np
import torch

from ._validate import check_non_negative_int

__all__ = ["STATIC_ENV", "describe_environment", "get_device", "is_static", "seed_everything"]

DEFAULT_SEED = 0

#: Set (to anything but ``0``) while the website is built: ``make book`` does.
STATIC_ENV = "CNNLIB_STATIC"


def is_static() -> bool:
    """True while the website is being built (no live kernel will be behind the page)."""
    return os.environ.get(STATIC_ENV, "") not in ("", "0")


def get_device(prefer: str | None = None) -> torch.device:
    """The device the course computes on: CUDA when available, else the CPU.

    ``prefer`` (or the environment variable ``CNNLIB_DEVICE``) forces a choice, e.g.
    ``"cpu"`` to compare with a GPU run. Asking for ``"cuda"`` on a machine without a GPU
    raises a ``ValueError`` that says so, instead of failing later inside a kernel.
    """
    choice = prefer if prefer is not None else os.environ.get("CNNLIB_DEVICE")
    if choice is None or choice == "":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(choice)
    except RuntimeError as err:
        raise ValueError(f"device must be 'cpu' or 'cuda' (or 'cuda:N'), got {choice!r}") from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device {choice!r} was asked for but torch sees no CUDA GPU here; "
            "use 'cpu' or unset CNNLIB_DEVICE"
        )
    return device


def seed_everything(seed: int = DEFAULT_SEED) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA) and return a seeded CPU generator.

    cuDNN is asked for deterministic algorithms so that a GPU rerun gives the same numbers,
    and TensorFloat-32 is switched off for convolutions and matrix products: on recent GPUs it
    is on by default for cuDNN convolutions and rounds float32 inputs to 10 mantissa bits,
    which would make PyTorch's own convolution disagree with an exact one in the 3rd digit.
    """
    check_non_negative_int("seed", seed, type_error=ValueError)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (seeds legacy np.random.* calls too)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    return torch.Generator().manual_seed(seed)


def describe_environment() -> dict[str, str]:
    """Versions and hardware as a dict of strings, for the set-up check of chapter 0."""
    import matplotlib
    import torchvision

    import cnnlib

    device = get_device()
    info = {
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cnnlib": cnnlib.__version__,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": np.__version__,
        "matplotlib": matplotlib.__version__,
        "device": str(device),
        "cpu threads": str(torch.get_num_threads()),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info
