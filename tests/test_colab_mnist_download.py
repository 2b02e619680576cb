"""MNIST as Colab gets it: torchvision's download, proven offline.

On Colab the data root is empty, so :func:`cnnlib.load_mnist` lets torchvision download the
four ``.gz`` files from the mirrors listed in ``torchvision.datasets.MNIST.mirrors``, check
each one's md5 against ``MNIST.resources`` and unpack it. Here a local HTTP server on a free
port serves those four files, made from the local copy (the data root, ``CNNLIB_DATA``), and
the mirror list names that server alone; the data set downloaded into an empty data root must
equal the local copy, image for image and label for label.

Which ``.gz`` files: where the data root holds them (torchvision keeps them after its own
download, e.g. in ``~/.cache/cnnlib``), the original bytes, checked against torchvision's own
md5s. Where it holds only the uncompressed files (``../shared/data``), no gzip of them can
match those md5s (a ``.gz`` also records the original's name and time, and its compressor's
choices), so the test gzips them and gives torchvision the md5s of the files it serves: still
a real check, as the corrupted-file test shows.

Self-contained (no conftest fixture): ``make colab`` also runs it with ``--noconftest`` in a
venv of Colab's versions, against the installed wheel of cnnlib.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import threading
from collections import Counter
from pathlib import Path

import pytest
import torch
from torchvision.datasets import MNIST

import cnnlib


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _raw_folder() -> Path:
    """The local copy's ``MNIST/raw`` (torchvision downloads it there first where it is
    missing and the machine is online, as the other MNIST tests do)."""
    cnnlib.load_mnist(train=False)
    return cnnlib.data_root() / "MNIST" / "raw"


@pytest.fixture(scope="module")
def mnist_files():
    """``(files, resources, originals)``: the bytes to serve by file name, the ``resources``
    list torchvision must check them against, and whether they are the original ``.gz``."""
    raw = _raw_folder()
    names = [name for name, _ in MNIST.resources]
    if all((raw / name).is_file() for name in names):
        files = {name: (raw / name).read_bytes() for name in names}
        return files, list(MNIST.resources), True
    files = {name: gzip.compress((raw / name.removesuffix(".gz")).read_bytes(),
                                 compresslevel=1, mtime=0) for name in names}
    return files, [(name, _md5(data)) for name, data in files.items()], False


class _Mirror:
    """A local HTTP server that serves ``files`` (``{name: bytes}``) at ``url`` + name and
    counts the requests for each name."""

    def __init__(self, files: dict[str, bytes]):
        self.files, self.requests = dict(files), Counter()
        mirror = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # the name http.server calls
                name = self.path.lstrip("/")
                mirror.requests[name] += 1
                body = mirror.files.get(name)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args):
                """Quiet: the test checks the requests itself."""

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def _only_mirror(monkeypatch, mirror: _Mirror, resources: list, root: Path) -> None:
    """torchvision downloads from ``mirror`` alone, checked against ``resources``; cnnlib's
    data root is ``root``."""
    monkeypatch.setattr(MNIST, "mirrors", [mirror.url])
    monkeypatch.setattr(MNIST, "resources", resources)
    monkeypatch.setenv("CNNLIB_DATA", str(root))


def test_load_mnist_downloads_into_an_empty_data_root(tmp_path, monkeypatch, mnist_files):
    files, resources, originals = mnist_files
    if originals:  # torchvision's own md5s check the original files
        assert resources == list(MNIST.resources)
    local = {train: cnnlib.load_mnist(train=train) for train in (True, False)}
    local_raw = _raw_folder()
    root = tmp_path / "colab-data"
    with _Mirror(files) as mirror:
        _only_mirror(monkeypatch, mirror, resources, root)
        assert not root.exists()
        downloaded = {train: cnnlib.load_mnist(train=train) for train in (True, False)}
    assert cnnlib.data_root() == root.resolve()
    # every file was fetched from the mirror, and only once the data was there
    assert set(mirror.requests) == set(files)
    for train in (True, False):
        assert Path(downloaded[train].root) == root.resolve()
        assert torch.equal(downloaded[train].data, local[train].data)
        assert torch.equal(downloaded[train].targets, local[train].targets)
    unpacked = root.resolve() / "MNIST" / "raw"
    for name in files:
        stem = name.removesuffix(".gz")
        assert _md5((unpacked / stem).read_bytes()) == _md5((local_raw / stem).read_bytes())


def test_a_corrupted_download_is_refused_with_a_clear_error(tmp_path, monkeypatch, mnist_files,
                                                           capsys):
    files, resources, _ = mnist_files
    bad = "train-labels-idx1-ubyte.gz"
    corrupted = bytearray(files[bad])
    corrupted[len(corrupted) // 2] ^= 0xFF
    root = tmp_path / "colab-data"
    with _Mirror({**files, bad: bytes(corrupted)}) as mirror:
        _only_mirror(monkeypatch, mirror, resources, root)
        with pytest.raises(cnnlib.DataNotFoundError) as info:
            cnnlib.load_mnist(train=True)
    assert mirror.requests[bad] >= 1
    message = str(info.value)
    assert bad in message and "CNNLIB_DATA" in message
    # the corrupted file is not unpacked: the data set is still missing
    assert not (root / "MNIST" / "raw" / bad.removesuffix(".gz")).exists()
    captured = capsys.readouterr()
    assert "Downloading" not in captured.out + captured.err
