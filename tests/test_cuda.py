"""On a CUDA GPU every cnnlib op gives the CPU's answer, on the GPU, and training runs there.

Each test computes the same op on the CPU and on the GPU from the same inputs and compares:
conv1d/conv2d with every method (forward and gradients), conv_transpose1d/2d, every pooling,
im2col, toeplitz_matrix, circulant_matrix and the Winograd convolutions; then LeNet is trained
with ``cnnlib.training.fit`` on a few MNIST digits, and a network built from cnnlib's own
conv2d and max_pool2d by a hand-written loop. All are skipped on a machine without CUDA.
"""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib.conv import METHODS, conv1d, conv2d
from cnnlib.datasets import mnist_tensors
from cnnlib.im2col import im2col
from cnnlib.matrices import circulant_matrix
from cnnlib.models import LeNet
from cnnlib.pooling import (
    avg_pool1d,
    avg_pool2d,
    global_avg_pool2d,
    global_max_pool2d,
    lp_pool1d,
    lp_pool2d,
    max_pool1d,
    max_pool2d,
)
from cnnlib.toeplitz import toeplitz_matrix
from cnnlib.training import fit, standardize
from cnnlib.transposed import conv_transpose1d, conv_transpose2d
from cnnlib.winograd import winograd_conv2d, winograd_f23

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]

GPU = torch.device("cuda")
TOL = {torch.float32: {"rtol": 1e-4, "atol": 1e-5}, torch.float64: {"rtol": 1e-9, "atol": 1e-10}}


def _random(*shape, dtype=torch.float64, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _same_on_gpu(op, *args, **kwargs):
    """``op`` on the CPU and on the GPU from the same inputs; the GPU's output stays there and
    equals the CPU's (every tensor of a tuple output too). Returns the GPU output."""
    cpu = op(*args, **kwargs)
    moved = [a.to(GPU) if isinstance(a, torch.Tensor) else a for a in args]
    gpu = op(*moved, **kwargs)
    pairs = zip(cpu, gpu, strict=True) if isinstance(cpu, tuple) else [(cpu, gpu)]
    for c, g in pairs:
        assert g.device.type == GPU.type
        if c.is_floating_point():
            torch.testing.assert_close(g.cpu(), c, **TOL[c.dtype])
        else:
            assert torch.equal(g.cpu(), c)
    return gpu


# --- convolutions ---------------------------------------------------------------------------

CONV2D = [  # (input shape, weight shape, keyword arguments)
    ((2, 4, 11, 10), (6, 4, 3, 3), {}),
    ((2, 4, 11, 10), (6, 4, 3, 2), {"stride": 2, "padding": 1}),
    ((1, 4, 9, 9), (6, 4, 3, 3), {"padding": "same", "dilation": 2}),
    ((2, 4, 10, 12), (6, 2, 3, 3), {"stride": 2, "padding": 2, "groups": 2,
                                    "padding_mode": "reflect"}),
    ((2, 4, 8, 8), (4, 1, 3, 3), {"padding": 1, "groups": 4, "padding_mode": "circular"}),
    ((3, 9, 9), (2, 3, 2, 3), {"stride": 3, "padding": (1, 2), "dilation": (2, 1),
                               "padding_mode": "replicate"}),
]
CONV1D = [
    ((2, 3, 20), (5, 3, 4), {}),
    ((2, 4, 17), (6, 2, 3), {"stride": 2, "padding": 1, "groups": 2}),
    ((1, 2, 16), (3, 2, 3), {"padding": "same", "dilation": 3, "padding_mode": "circular"}),
    ((2, 15), (4, 2, 5), {"stride": 3, "padding": 2, "padding_mode": "reflect"}),
]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("x_shape, w_shape, kwargs", CONV2D)
def test_conv2d_every_method(method, dtype, x_shape, w_shape, kwargs):
    x, w = _random(*x_shape, dtype=dtype), _random(*w_shape, dtype=dtype, seed=1)
    b = _random(w_shape[0], dtype=dtype, seed=2)
    _same_on_gpu(conv2d, x, w, b, method=method, **kwargs)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("x_shape, w_shape, kwargs", CONV1D)
def test_conv1d_every_method(method, dtype, x_shape, w_shape, kwargs):
    x, w = _random(*x_shape, dtype=dtype), _random(*w_shape, dtype=dtype, seed=1)
    b = _random(w_shape[0], dtype=dtype, seed=2)
    _same_on_gpu(conv1d, x, w, b, method=method, **kwargs)


@pytest.mark.parametrize("method", METHODS)
def test_conv2d_gradients_on_the_gpu(method):
    x, w, b = _random(2, 3, 9, 8), _random(4, 3, 3, 3, seed=1), _random(4, seed=2)

    def grads(device):
        leaves = [t.to(device).requires_grad_() for t in (x, w, b)]
        y = conv2d(*leaves, stride=2, padding=1, method=method)
        (y * torch.arange(y.numel(), device=device).view_as(y).sin()).sum().backward()
        return [t.grad for t in leaves]

    for g_cpu, g_gpu in zip(grads("cpu"), grads(GPU), strict=True):
        assert g_gpu.device.type == GPU.type
        torch.testing.assert_close(g_gpu.cpu(), g_cpu, **TOL[torch.float64])


@pytest.mark.parametrize("kwargs", [
    {}, {"stride": 2}, {"stride": 2, "padding": 1, "output_padding": 1},
    {"stride": 3, "padding": 2, "output_padding": 2, "dilation": 2}, {"groups": 2, "stride": 2},
])
def test_conv_transpose2d_and_1d(kwargs):
    x, w, b = _random(2, 4, 5, 6), _random(4, 3, 3, 2, seed=1), _random(3 * kwargs.get(
        "groups", 1), seed=2)
    y = _same_on_gpu(conv_transpose2d, x, w, b, **kwargs)
    torch.testing.assert_close(y, F.conv_transpose2d(x.to(GPU), w.to(GPU), b.to(GPU),
                                                     **kwargs), **TOL[torch.float64])
    x1, w1 = x[:, :, 0], w[:, :, 0]
    y1 = _same_on_gpu(conv_transpose1d, x1, w1, b, **kwargs)
    torch.testing.assert_close(y1, F.conv_transpose1d(x1.to(GPU), w1.to(GPU), b.to(GPU),
                                                      **kwargs), **TOL[torch.float64])


# --- pooling --------------------------------------------------------------------------------

POOLS = [
    (max_pool2d, (3,), {"stride": 2, "padding": 1, "ceil_mode": True, "return_indices": True}),
    (max_pool2d, (2,), {"dilation": 2}),
    (avg_pool2d, (3,), {"stride": 2, "padding": 1, "count_include_pad": False,
                        "ceil_mode": True}),
    (avg_pool2d, (2,), {"divisor_override": 3}),
    (lp_pool2d, (2.0, 3), {"stride": 2}),
    (lp_pool2d, (float("inf"), 2), {}),
    (global_avg_pool2d, (), {}),
    (global_max_pool2d, (), {}),
]
POOLS_1D = [
    (max_pool1d, (3,), {"stride": 2, "padding": 1, "return_indices": True}),
    (avg_pool1d, (4,), {"stride": 3, "padding": 2, "ceil_mode": True}),
    (lp_pool1d, (3.0, 2), {}),
]


@pytest.mark.parametrize("pool, args, kwargs", POOLS, ids=lambda v: getattr(v, "__name__", ""))
def test_pooling_2d(pool, args, kwargs):
    _same_on_gpu(pool, _random(2, 3, 9, 10).abs(), *args, **kwargs)


@pytest.mark.parametrize("pool, args, kwargs", POOLS_1D,
                         ids=lambda v: getattr(v, "__name__", ""))
def test_pooling_1d(pool, args, kwargs):
    _same_on_gpu(pool, _random(2, 3, 17).abs(), *args, **kwargs)


# --- matrices -------------------------------------------------------------------------------

def test_im2col():
    cols = _same_on_gpu(im2col, _random(2, 3, 9, 8), (3, 2), stride=2, padding=1,
                        dilation=(1, 2))
    x = _random(2, 3, 9, 8).to(GPU)
    torch.testing.assert_close(cols, F.unfold(x, (3, 2), stride=2, padding=1, dilation=(1, 2)))


@pytest.mark.parametrize("weight_shape, size, kwargs", [
    ((5,), 12, {"stride": 2, "padding": 1}),
    ((3, 3), (6, 7), {"padding": 1}),
    ((4, 2, 3), 10, {"dilation": 2}),
    ((4, 3, 3, 2), (7, 8), {"stride": 2, "padding": 1}),
])
def test_toeplitz_matrix(weight_shape, size, kwargs):
    _same_on_gpu(toeplitz_matrix, _random(*weight_shape), size, **kwargs)


def test_circulant_matrix():
    h = _random(4)
    c = _same_on_gpu(circulant_matrix, h, 9)
    x = _random(9, seed=3).to(GPU)
    torch.testing.assert_close(c @ x, F.conv1d(F.pad(x.view(1, 1, 9), (0, 3), mode="circular"),
                                               h.to(GPU).view(1, 1, 4)).view(9))


def test_winograd():
    _same_on_gpu(winograd_conv2d, _random(2, 3, 9, 8), _random(4, 3, 3, 3, seed=1),
                 _random(4, seed=2), padding=1)
    _same_on_gpu(winograd_f23, _random(2, 11), _random(3, seed=1))


# --- training -------------------------------------------------------------------------------

def _digits(n: int):
    images, labels = mnist_tensors(train=False)
    return standardize(images[:n]), labels[:n]


def test_fit_trains_lenet_on_the_gpu():
    x, y = _digits(1024)
    torch.manual_seed(0)
    model = LeNet()
    history = fit(model, (x[:768], y[:768]), (x[768:], y[768:]), epochs=2, batch_size=64,
                  device=GPU, progress=False)
    assert all(p.device.type == GPU.type for p in model.parameters())
    assert history.device.startswith(GPU.type) and history.precision == "fp32"
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.val_acc[-1] > 0.5  # 10 classes: chance is 0.1


class _CnnlibNet(nn.Module):
    """conv (cnnlib) → ReLU → max pool (cnnlib) → linear: a digit classifier built on cnnlib."""

    def __init__(self, method: str):
        super().__init__()
        self.method = method
        self.weight = nn.Parameter(torch.randn(8, 1, 5, 5) / 5)
        self.bias = nn.Parameter(torch.zeros(8))
        self.fc = nn.Linear(8 * 12 * 12, 10)

    def forward(self, x):
        x = conv2d(x, self.weight, self.bias, method=self.method).relu()
        return self.fc(max_pool2d(x, 2).flatten(1))


@pytest.mark.parametrize("method", ["im2col", "fft"])
def test_a_network_of_cnnlib_ops_learns_on_the_gpu(method):
    x, y = (t.to(GPU) for t in _digits(256))
    torch.manual_seed(0)
    model = _CnnlibNet(method).to(GPU)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for step in range(40):
        batch = slice(64 * (step % 4), 64 * (step % 4 + 1))
        loss = F.cross_entropy(model(x[batch]), y[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert model.weight.grad.device.type == GPU.type
    assert sum(losses[-4:]) < 0.5 * sum(losses[:4])
