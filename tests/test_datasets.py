"""Data loaders: real files, the data root, and the error a student sees when MNIST is absent."""

import socket

import pytest
import torch

import cnnlib
from cnnlib import datasets


def test_data_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path))
    assert cnnlib.data_root() == tmp_path.resolve()
    monkeypatch.delenv("CNNLIB_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert cnnlib.data_root() == tmp_path / "cache" / "cnnlib"


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a network connection fails at once, as on a machine offline."""
    def refuse(*args, **kwargs):
        raise OSError("network is unreachable (test)")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_missing_mnist_without_network_gives_one_clear_error(tmp_path, offline, capsys):
    with pytest.raises(cnnlib.DataNotFoundError) as info:
        cnnlib.load_mnist(root=tmp_path)
    message = str(info.value)
    assert "CNNLIB_DATA" in message and str(tmp_path) in message
    assert "MNIST/raw" in message
    # no chained urllib traceback, and torchvision's per-mirror chatter is not printed
    assert info.value.__suppress_context__ and info.value.__cause__ is None
    captured = capsys.readouterr()
    assert "Downloading" not in captured.out + captured.err


def test_missing_mnist_with_download_false(tmp_path):
    with pytest.raises(cnnlib.DataNotFoundError, match="download=False"):
        cnnlib.load_mnist(root=tmp_path, download=False)


def test_mnist_tensors_from_the_data_root():
    # `make test` sets CNNLIB_DATA to ../shared/data when it exists; elsewhere torchvision
    # downloads MNIST into the data root.
    x, y = cnnlib.mnist_tensors(train=False)
    assert x.shape == (10_000, 1, 28, 28) and x.dtype == torch.float32
    assert y.shape == (10_000,) and y.dtype == torch.int64
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    # the canonical test-set label counts (from the data set's README)
    counts = torch.bincount(y, minlength=10).tolist()
    assert counts == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_mnist_statistics_match_the_published_constants():
    x, _ = cnnlib.mnist_tensors(train=True)
    assert x.shape[0] == 60_000
    assert abs(float(x.mean()) - datasets.MNIST_MEAN) < 5e-5
    assert abs(float(x.std()) - datasets.MNIST_STD) < 5e-5


def test_photo_rgb_and_gray():
    rgb, gray = cnnlib.photo(), cnnlib.photo(gray=True)
    assert rgb.shape[0] == 3 and gray.shape == (1, *rgb.shape[1:])
    assert rgb.dtype == gray.dtype == torch.float32
    assert 0 <= float(rgb.min()) and float(rgb.max()) <= 1
    expected = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    torch.testing.assert_close(gray[0], expected)


def test_stock_prices_are_daily_and_positive():
    dates, prices = cnnlib.stock_prices()
    assert len(dates) == len(prices) > 500
    assert prices.dtype == torch.float64 and bool((prices > 0).all())
    assert (dates[1:] > dates[:-1]).all()


def test_eeg_shape_and_time_axis():
    t, signals = cnnlib.eeg()
    assert signals.shape == (4, 800) and t.shape == (800,)
    assert float(t[1] - t[0]) == pytest.approx(10 / 800)
    assert bool(torch.isfinite(signals).all()) and float(signals.std()) > 0


def test_missing_sample_file_is_explained(monkeypatch, tmp_path):
    import matplotlib
    monkeypatch.setattr(matplotlib, "get_data_path", lambda: str(tmp_path))
    with pytest.raises(cnnlib.DataNotFoundError, match="reinstall matplotlib"):
        cnnlib.photo()
