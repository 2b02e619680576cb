"""Shared test set-up: hypothesis profiles and the device parameter.

HYPOTHESIS_PROFILE=ci (what `make test` uses) draws at least 200 examples per property;
the default "dev" profile draws 30 so that a developer's loop stays quick.
"""

import os

import pytest
import torch
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=200, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev", max_examples=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# PyTorch is the oracle: on GPUs its cuDNN convolutions default to TensorFloat-32, which is
# not exact enough to be one. (No effect on a CPU.)
torch.backends.cudnn.allow_tf32 = False
torch.backends.cuda.matmul.allow_tf32 = False

# Under pytest-xdist each worker gets one thread: the workers already fill the cores, and
# tiny convolutions on an oversubscribed machine otherwise run up to 1000× slower.
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread while a module runs, the previous count restored after it. For modules
    of tiny tensors, which opt in with ``pytestmark = pytest.mark.usefixtures("one_thread")``:
    a second thread only adds synchronisation, and tiny float64 convolutions on two busy
    threads run up to 1000× slower. (Under pytest-xdist every worker already has one thread.)"""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def closed_figures(monkeypatch):
    """The matplotlib figures closed during the test, in order: how a test gets hold of the
    figure that a static explorer drew, turned into a PNG and closed."""
    import matplotlib.pyplot as plt

    closed = []
    close = plt.close

    def spy(fig=None):
        closed.append(fig)
        close(fig)

    monkeypatch.setattr(plt, "close", spy)
    return closed


@pytest.fixture(params=DEVICES)
def device(request):
    """Runs a test once per available device (CPU always, CUDA where present)."""
    return torch.device(request.param)
