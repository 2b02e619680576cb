"""Data loaders: real files, the data root, and the error a student sees when MNIST is absent."""

import socket

import pytest
import torch

import cnnlib
from cnnlib import datasets
from cnnlib.training import standardize


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


def _rows(x: torch.Tensor) -> list[bytes]:
    """Each image as bytes, sorted: a multiset of images that ignores their order."""
    return sorted(row.numpy().tobytes() for row in x.flatten(1))


def test_mnist_split_sizes_partition_and_seed():
    (x_tr, y_tr), (x_val, y_val), (x_te, y_te) = datasets.mnist_split(validation=5_000, seed=0)
    assert x_tr.shape == (55_000, 1, 28, 28) and y_tr.shape == (55_000,)
    assert x_val.shape == (5_000, 1, 28, 28) and y_val.shape == (5_000,)
    assert x_te.shape == (10_000, 1, 28, 28) and y_te.shape == (10_000,)
    assert x_tr.dtype == torch.float32 and y_tr.dtype == torch.int64
    # train and validation split the 60,000 training digits: together they are all of them,
    # each exactly once, so no digit is both trained on and validated on
    full = standardize(cnnlib.mnist_tensors(train=True)[0])
    assert _rows(torch.cat([x_tr, x_val])) == _rows(full)
    # the test digits are the test set, standardised the same way, in their own order
    x_test, y_test = cnnlib.mnist_tensors(train=False)
    assert torch.equal(x_te, standardize(x_test)) and torch.equal(y_te, y_test)

    (_, _), (x_val_again, y_val_again), _ = datasets.mnist_split(validation=5_000, seed=0)
    assert torch.equal(x_val_again, x_val) and torch.equal(y_val_again, y_val)
    (_, _), (x_val_other, _), _ = datasets.mnist_split(validation=5_000, seed=1)
    assert not torch.equal(x_val_other, x_val)


@pytest.mark.parametrize("validation, error", [(0, ValueError), (60_000, ValueError),
                                               (2.5, TypeError)])
def test_mnist_split_rejects_a_validation_size_that_leaves_nothing(validation, error):
    with pytest.raises(error, match="validation must"):
        datasets.mnist_split(validation=validation)
