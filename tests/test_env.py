"""Device choice, seeding and the set-up report of chapter 0."""

import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch

import cnnlib


def test_default_device_is_cuda_exactly_when_available(monkeypatch):
    monkeypatch.delenv("CNNLIB_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert cnnlib.get_device().type == expected


def test_device_can_be_forced(monkeypatch):
    monkeypatch.setenv("CNNLIB_DEVICE", "cpu")
    assert cnnlib.get_device() == torch.device("cpu")
    assert cnnlib.get_device("cpu") == torch.device("cpu")


def test_bad_device_names_are_explained(monkeypatch):
    with pytest.raises(ValueError, match="device must be"):
        cnnlib.get_device("gpu please")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            cnnlib.get_device("cuda")


def test_seed_everything_makes_runs_repeatable():
    def draw():
        return random.random(), np.random.rand(), torch.rand(3)  # noqa: NPY002

    g = cnnlib.seed_everything(123)
    first = draw(), torch.rand(2, generator=g)
    g = cnnlib.seed_everything(123)
    second = draw(), torch.rand(2, generator=g)
    assert first[0][:2] == second[0][:2]
    assert torch.equal(first[0][2], second[0][2]) and torch.equal(first[1], second[1])
    cnnlib.seed_everything(124)
    assert not torch.equal(torch.rand(3), first[0][2])
    assert not torch.backends.cudnn.allow_tf32 and torch.backends.cudnn.deterministic


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_bad_seeds(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        cnnlib.seed_everything(seed)


def test_describe_environment_names_versions_and_device():
    info = cnnlib.describe_environment()
    assert info["torch"] == torch.__version__
    assert info["device"] == str(cnnlib.get_device())


def test_setup_report_flags_missing_mnist_with_advice(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path))
    report = cnnlib.check_setup(download=False)
    assert not report.ok
    mnist = next(c for c in report if c.item == "MNIST")
    assert not mnist.ok and "CNNLIB_DATA" in mnist.advice
    assert "MISSING" in str(report) and "✗ missing" in report._repr_html_()
    assert all(c.ok for c in report if c.item != "MNIST")


def test_setup_report_is_all_green_with_the_data():
    report = cnnlib.check_setup()
    assert report.ok, str(report)


def test_setup_report_names_the_data_root_without_a_path_of_this_machine(monkeypatch, tmp_path):
    from cnnlib.doctor import describe_data_root

    def expanded():
        return Path(os.path.expandvars(os.path.expanduser(describe_data_root()))).resolve()

    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / "data"))
    assert describe_data_root() == "$CNNLIB_DATA" and expanded() == cnnlib.data_root()
    mnist = next(c for c in cnnlib.check_setup() if c.item == "MNIST")
    assert "$CNNLIB_DATA" in mnist.found and str(tmp_path) not in mnist.found
    monkeypatch.delenv("CNNLIB_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert describe_data_root() == "$XDG_CACHE_HOME/cnnlib"
    assert expanded() == cnnlib.data_root().resolve()
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert describe_data_root() == "~/.cache/cnnlib"
    assert expanded() == cnnlib.data_root().resolve()
