"""cnnlib.winograd: F(2, 3) and F(2×2, 3×3) equal PyTorch's convolutions, with 4 (16) products."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cnnlib.winograd import (
    F23_AT,
    F23_BT,
    f23_matrices,
    winograd_conv2d,
    winograd_f23,
)


def test_the_transforms_of_data_and_result_only_add_and_subtract():
    assert {v for row in (*F23_BT, *F23_AT) for v in row} == {-1, 0, 1}
    bt, g, at = f23_matrices(torch.float64)
    assert bt.shape == (4, 4) and g.shape == (4, 3) and at.shape == (2, 4)
    # 4 products per tile of 2 outputs, against 2 outputs × 3 taps done directly
    assert bt.shape[0] == 4 < at.shape[0] * g.shape[1] == 6


def test_the_four_products_written_out():
    d0, d1, d2, d3 = 1.5, -2.0, 0.25, 3.0
    g0, g1, g2 = 0.5, 2.0, -1.0
    bt, g, at = f23_matrices(torch.float64)
    m = (g @ torch.tensor([g0, g1, g2], dtype=torch.float64)) * (
        bt @ torch.tensor([d0, d1, d2, d3], dtype=torch.float64))
    expected = [(d0 - d2) * g0, (d1 + d2) * (g0 + g1 + g2) / 2, (d2 - d1) * (g0 - g1 + g2) / 2,
                (d1 - d3) * g2]
    torch.testing.assert_close(m, torch.tensor(expected, dtype=torch.float64))
    y = at @ m
    assert y.tolist() == pytest.approx([d0 * g0 + d1 * g1 + d2 * g2, d1 * g0 + d2 * g1 + d3 * g2])


def test_f23_by_hand():
    # y[i] = x[i] − x[i + 2] for h = (1, 0, −1)
    y = winograd_f23(torch.tensor([1.0, 2, 3, 4, 7]), torch.tensor([1.0, 0, -1]))
    assert y.tolist() == [-2.0, -2.0, -4.0]


@given(length=st.integers(3, 20), batch=st.lists(st.integers(1, 3), max_size=2),
       seed=st.integers(0, 2**16))
def test_f23_equals_conv1d(length, batch, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*batch, length, generator=g, dtype=torch.float64)
    h = torch.randn(3, generator=g, dtype=torch.float64)
    y = winograd_f23(x, h)
    expected = F.conv1d(x.reshape(-1, 1, length), h.view(1, 1, 3)).reshape(*batch, length - 2)
    torch.testing.assert_close(y, expected)


@given(n=st.integers(1, 2), c_in=st.integers(1, 3), c_out=st.integers(1, 3),
       h=st.integers(1, 9), w=st.integers(1, 9), ph=st.integers(0, 2), pw=st.integers(0, 2),
       bias=st.booleans(), seed=st.integers(0, 2**16))
def test_winograd_conv2d_equals_conv2d(n, c_in, c_out, h, w, ph, pw, bias, seed):
    if h + 2 * ph < 3 or w + 2 * pw < 3:
        return
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c_in, h, w, generator=g, dtype=torch.float64)
    wt = torch.randn(c_out, c_in, 3, 3, generator=g, dtype=torch.float64)
    b = torch.randn(c_out, generator=g, dtype=torch.float64) if bias else None
    y = winograd_conv2d(x, wt, b, padding=(ph, pw))
    torch.testing.assert_close(y, F.conv2d(x, wt, b, padding=(ph, pw)))


def test_outputs_stay_on_the_input_device(device):
    g = torch.Generator().manual_seed(2)
    x, w, b = (torch.randn(*s, generator=g).to(device) for s in ((2, 3, 9, 8), (4, 3, 3, 3), (4,)))
    y = winograd_conv2d(x, w, b, padding=1)
    assert y.device == x.device
    torch.testing.assert_close(y, F.conv2d(x, w, b, padding=1), rtol=1e-4, atol=1e-5)
    y1 = winograd_f23(x[0, 0, 0], w[0, 0, 0])
    assert y1.device == x.device
    expected = F.conv1d(x[0, 0, 0].view(1, 1, -1), w[0, 0, 0].view(1, 1, 3)).view(-1)
    torch.testing.assert_close(y1, expected)


def test_winograd_conv2d_float32_is_close_to_float64():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 16, 20, 20, generator=g)
    w = torch.randn(8, 16, 3, 3, generator=g) / 12
    exact = F.conv2d(x.double(), w.double(), padding=1)
    torch.testing.assert_close(winograd_conv2d(x, w, padding=1).double(), exact,
                               rtol=1e-4, atol=1e-5)


def test_gradients_flow_to_input_weight_and_bias():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 2, 5, 6, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, 3, 3, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda *a: winograd_conv2d(*a, padding=1), (x, w, b))
    h = torch.randn(3, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(winograd_f23, (x[0, 0, 0], h))


@pytest.mark.parametrize("call, error, message", [
    (lambda: winograd_f23(torch.zeros(2), torch.zeros(3)), ValueError, "at least 3 samples"),
    (lambda: winograd_f23(torch.zeros(5), torch.zeros(5)), ValueError, "3-tap filter"),
    (lambda: winograd_f23(torch.zeros(5), torch.zeros(3, dtype=torch.float64)), TypeError,
     "same dtype"),
    (lambda: winograd_f23([1.0, 2.0, 3.0], torch.zeros(3)), TypeError, "x must be"),
    (lambda: winograd_conv2d(torch.zeros(1, 1, 5, 5), torch.zeros(1, 1, 5, 5)), ValueError,
     "3×3 filters"),
    (lambda: winograd_conv2d(torch.zeros(1, 2, 5, 5), torch.zeros(1, 1, 3, 3)), ValueError,
     "input channels"),
    (lambda: winograd_conv2d(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 3, 3)), ValueError,
     "larger than the padded input"),
    (lambda: winograd_conv2d(torch.zeros(1, 1, 5, 5), torch.zeros(1, 1, 3, 3), padding=-1),
     ValueError, "padding"),
    (lambda: winograd_conv2d(torch.zeros(1, 1, 5, 5), torch.zeros(2, 1, 3, 3),
                             torch.zeros(3)), ValueError, "bias must have shape"),
    (lambda: winograd_conv2d(torch.zeros(1, 5, 5), torch.zeros(1, 1, 3, 3)), ValueError,
     "input"),
])
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
