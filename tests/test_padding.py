"""Padding: the four modes equal torch.nn.functional.pad, and the 'same' rule equals PyTorch's."""

import warnings

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cnnlib.conv import conv2d
from cnnlib.padding import pad, resolve_padding, same_padding

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors: see conftest.py


TORCH_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate",
              "circular": "circular"}


@st.composite
def pad_cases(draw):
    mode = draw(st.sampled_from(list(TORCH_MODE)))
    spatial = draw(st.sampled_from([1, 2]))
    sizes = [draw(st.integers(1, 7)) for _ in range(spatial)]
    limit = {"reflect": lambda n: n - 1, "circular": lambda n: n}.get(mode, lambda n: 4)
    pairs = [(draw(st.integers(0, limit(n))), draw(st.integers(0, limit(n)))) for n in sizes]
    batch = draw(st.sampled_from([(), (2,), (2, 3)]))
    if mode != "zeros" and not batch:
        batch = (2,)  # torch's non-constant modes need a batch or channel dimension
    return mode, (*batch, *sizes), pairs


@given(case=pad_cases())
def test_pad_equals_torch(case):
    mode, shape, pairs = case
    x = torch.randn(shape)
    torch_pad = [p for pair in reversed(pairs) for p in pair]  # last dimension first
    assert torch.equal(pad(x, pairs, mode), F.pad(x, torch_pad, mode=TORCH_MODE[mode]))


def test_pad_modes_on_the_docstring_row():
    x = torch.tensor([1.0, 2, 3, 4])  # a b c d
    assert pad(x, [(2, 2)], "zeros").tolist() == [0, 0, 1, 2, 3, 4, 0, 0]
    assert pad(x, [(2, 2)], "reflect").tolist() == [3, 2, 1, 2, 3, 4, 3, 2]
    assert pad(x, [(2, 2)], "replicate").tolist() == [1, 1, 1, 2, 3, 4, 4, 4]
    assert pad(x, [(2, 2)], "circular").tolist() == [3, 4, 1, 2, 3, 4, 1, 2]


def test_pad_flat_ints_mean_both_sides():
    x = torch.randn(2, 3, 4)
    assert torch.equal(pad(x, (1, 2), "circular"), pad(x, ((1, 1), (2, 2)), "circular"))


def test_pad_gradient_flows():
    x = torch.randn(1, 1, 4, 5, dtype=torch.float64, requires_grad=True)
    for mode in TORCH_MODE:
        assert torch.autograd.gradcheck(lambda t, m=mode: pad(t, ((1, 2), (3, 0)), m), (x,))


@pytest.mark.parametrize(("kernel", "dilation", "expected"), [
    (1, 1, (0, 0)), (3, 1, (1, 1)), (4, 1, (1, 2)), (2, 1, (0, 1)), (2, 3, (1, 2)), (5, 2, (4, 4)),
])
def test_same_padding_rule(kernel, dilation, expected):
    assert same_padding(kernel, dilation) == expected


@given(k=st.integers(1, 7), d=st.integers(1, 3), n=st.integers(1, 20))
def test_same_padding_matches_torch(k, d, n):
    """An impulse response locates the padding: with h = e_0, y[t] = x[t − left]."""
    left, right = same_padding(k, d)
    x = torch.arange(1.0, n + 1).view(1, 1, n)
    h = torch.zeros(1, 1, k)
    h[0, 0, 0] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = F.conv1d(x, h, padding="same", dilation=d)
    assert torch.equal(y, F.conv1d(F.pad(x, (left, right)), h, dilation=d))
    assert left + right == d * (k - 1)



@given(kh=st.integers(1, 6), kw=st.integers(1, 6), h=st.integers(6, 9), w=st.integers(6, 9))
def test_same_padding_2d_is_lopsided_for_even_kernels(kh, kw, h, w):
    """Top/left get ⌊(k−1)/2⌋, bottom/right the rest; a symmetric ⌊k/2⌋ gives n + 1 for even k."""
    x = torch.randn(1, 1, h, w, dtype=torch.float64)
    weight = torch.zeros(1, 1, kh, kw, dtype=torch.float64)
    weight[0, 0, 0, 0] = 1  # impulse at the top-left: y[i, j] = padded x[i, j]
    (top, bottom), (left, right) = resolve_padding("same", (kh, kw), (1, 1), (1, 1))
    assert (top, left) == ((kh - 1) // 2, (kw - 1) // 2)
    assert (top + bottom, left + right) == (kh - 1, kw - 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = F.conv2d(x, weight, padding="same")
    y = conv2d(x, weight, padding="same")
    assert y.shape == x.shape and torch.equal(y, expected)
    assert torch.equal(y, F.conv2d(F.pad(x, (left, right, top, bottom)), weight))
    symmetric = F.conv2d(x, weight, padding=(kh // 2, kw // 2))
    assert symmetric.shape[-2:] == (h + 1 - kh % 2, w + 1 - kw % 2)

def test_resolve_padding_forms():
    k, d, s = (3, 4), (1, 2), (1, 1)
    assert resolve_padding(2, k, d, s) == ((2, 2), (2, 2))
    assert resolve_padding((0, 1), k, d, s) == ((0, 0), (1, 1))
    assert resolve_padding("valid", k, d, s) == ((0, 0), (0, 0))
    assert resolve_padding("same", k, d, s) == ((1, 1), (3, 3))


@pytest.mark.parametrize(("call", "error", "pattern"), [
    (lambda: pad(torch.randn(3), [(1, 1)], "mirror"), ValueError, "padding_mode must be one of"),
    (lambda: pad(torch.randn(3), [(3, 0)], "reflect"), ValueError,
     "smaller than the input size for padding_mode='reflect'"),
    (lambda: pad(torch.randn(3), [(0, 4)], "circular"), ValueError,
     "at most the input size for padding_mode='circular'"),
    (lambda: pad(torch.randn(3), [(-1, 0)]), ValueError, "padding must be non-negative"),
    (lambda: pad(torch.randn(3), [(1, 1)] * 2), ValueError, "padding has 2 pairs"),
    (lambda: pad([1.0, 2.0], [(1, 1)]), TypeError, "input must be a torch"),
    (lambda: resolve_padding("full", (3,), (1,), (1,)), ValueError, "'valid' or 'same'"),
    (lambda: same_padding(0), ValueError, "kernel_size must be a positive int"),
    (lambda: same_padding(3, dilation=0), ValueError, "dilation must be a positive int"),
    (lambda: resolve_padding("same", (3,), (1,), (2,)), ValueError, "requires stride 1"),
    (lambda: resolve_padding((1, 2), (3,), (1,), (1,)), ValueError, "padding must be"),
])
def test_padding_argument_checks(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()
