"""Shared test set-up: hypothesis profiles and the device parameter.

HYPOTHESIS_PROFILE=ci (what `make test` uses) draws 200 examples per property, from a seed that
changes every run, so that CI keeps exploring new inputs in the same time; the pytest header
prints the seed, and ``HYPOTHESIS_SEED=<seed>`` replays a run. The default "dev" profile draws 30
so that a developer's loop stays quick. Neither keeps an example database: a failure found once
is not replayed first in later runs, so a run's outcome depends on its seed alone (``print_blob``
shows how to reproduce one failing example).
"""

import os

import pytest
import torch
from hypothesis import HealthCheck, seed, settings

# The browser tests' server and Chromium fixtures (tests/site_browser.py).
from site_browser import browser, server  # noqa: F401

settings.register_profile(
    "ci", max_examples=200, deadline=None, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev", max_examples=30, deadline=None, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "dev")
settings.load_profile(PROFILE)

# One seed per run (shared by the pytest-xdist workers through the environment), or the one
# given to replay a run.
HYPOTHESIS_SEED = int(os.environ.setdefault("HYPOTHESIS_SEED",
                                            str(int.from_bytes(os.urandom(4), "little"))))


def pytest_report_header(config):
    return (f"hypothesis: profile {PROFILE}, seed {HYPOTHESIS_SEED} "
            f"(replay with HYPOTHESIS_SEED={HYPOTHESIS_SEED})")


def pytest_collection_modifyitems(items):
    """Every property test draws from this run's seed (a test's own @seed still wins)."""
    for item in items:
        test = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
        if getattr(test, "is_hypothesis_test", False) and \
                getattr(test, "_hypothesis_internal_use_seed", None) is None:
            seed(HYPOTHESIS_SEED)(test)

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
