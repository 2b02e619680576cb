"""Circulant, shift and DFT matrices against PyTorch (conv1d with circular padding, roll, fft)."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cnnlib.matrices import (
    circulant_matrix,
    circular_flip,
    dft_matrix,
    impulse_response,
    shift_matrix,
)

DT = torch.float64


def circular_xcorr(x, h):
    """The oracle: PyTorch's cross-correlation of x (n,) with h (m,), wrapping around."""
    m = h.numel()
    padded = F.pad(x.view(1, 1, -1), (0, m - 1), mode="circular")
    return F.conv1d(padded, h.view(1, 1, -1)).view(-1)


@st.composite
def kernel_and_n(draw, max_n=12):
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(1, n))
    seed = draw(st.integers(0, 2**31 - 1))
    g = torch.Generator().manual_seed(seed)
    return torch.randn(m, generator=g, dtype=DT), n, g


# --- circulant_matrix ---------------------------------------------------------------------

def test_circulant_hand_case():
    c = circulant_matrix(torch.tensor([1.0, 2.0, 3.0]), 4)
    expected = torch.tensor([
        [1.0, 2.0, 3.0, 0.0],
        [0.0, 1.0, 2.0, 3.0],
        [3.0, 0.0, 1.0, 2.0],
        [2.0, 3.0, 0.0, 1.0],
    ])
    assert torch.equal(c, expected)
    x = torch.tensor([1.0, 0.0, -1.0, 2.0])
    # row 0: 1·1 + 2·0 + 3·(−1) + 0·2 = −2      row 1: 0·1 + 1·0 + 2·(−1) + 3·2 = 4
    # row 2: 3·1 + 0·0 + 1·(−1) + 2·2 = 6        row 3: 2·1 + 3·0 + 0·(−1) + 1·2 = 4
    assert torch.equal(c @ x, torch.tensor([-2.0, 4.0, 6.0, 4.0]))


@given(kernel_and_n())
def test_circulant_is_circular_cross_correlation(case):
    h, n, g = case
    x = torch.randn(n, generator=g, dtype=DT)
    c = circulant_matrix(h, n)
    assert c.shape == (n, n)
    torch.testing.assert_close(c @ x, circular_xcorr(x, h))


@given(kernel_and_n())
def test_circulant_rows_are_shifted_copies(case):
    h, n, _ = case
    c = circulant_matrix(h, n)
    for i in range(n):
        assert torch.equal(c[i], torch.roll(c[0], i))


def test_circulant_accepts_list_dtype_device_and_keeps_grad(device):
    c = circulant_matrix([1, 2], 3, dtype=torch.float64, device=device)
    assert c.dtype == torch.float64 and c.device.type == torch.device(device).type
    h = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
    circulant_matrix(h, 5).sum().backward()
    # every kernel entry appears once per row: d(sum)/dh_j = n
    assert torch.equal(h.grad, torch.full((3,), 5.0))


@pytest.mark.parametrize(("h", "n", "exc", "words"), [
    (torch.ones(3), 0, ValueError, "n must be a positive int"),
    (torch.ones(3), 2.0, TypeError, "n must be a positive int"),
    (torch.ones(4), 3, ValueError, "must not be longer than n"),
    (torch.ones(2, 2), 3, ValueError, "h must be 1-D"),
    (torch.ones(0), 3, ValueError, "at least one element"),
    (torch.ones(3, dtype=torch.int64), 3, TypeError, "floating-point"),
    ("abc", 3, TypeError, "h must be a 1-D floating-point tensor or a list"),
    ([1, True], 3, TypeError, "h must be a 1-D floating-point tensor or a list"),
])
def test_circulant_errors(h, n, exc, words):
    with pytest.raises(exc, match=words):
        circulant_matrix(h, n)


# --- shift_matrix -------------------------------------------------------------------------

def test_shift_hand_case():
    # S for n = 4: y_0 = x_3, y_1 = x_0, … (one place to the right, wrapping).
    s = shift_matrix(4)
    expected = torch.tensor([
        [0.0, 0.0, 0.0, 1.0],
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
    ])
    assert torch.equal(s, expected)


@given(st.integers(1, 16), st.integers(-40, 40))
def test_shift_is_roll_and_orthogonal(n, k):
    s = shift_matrix(n, k, dtype=DT)
    x = torch.randn(n, dtype=DT)
    assert torch.equal(s @ x, torch.roll(x, k))
    assert torch.equal(s @ s.T, torch.eye(n, dtype=DT))
    assert torch.equal(s.T @ s, torch.eye(n, dtype=DT))
    assert torch.equal(s.T, shift_matrix(n, -k, dtype=DT))


@given(st.integers(1, 12), st.integers(-20, 20))
def test_shift_is_a_circulant(n, k):
    impulse = torch.zeros(n, dtype=DT)
    impulse[(-k) % n] = 1
    assert torch.equal(shift_matrix(n, k, dtype=DT), circulant_matrix(impulse, n))


def test_shift_device(device):
    assert shift_matrix(3, device=device).device.type == torch.device(device).type


@pytest.mark.parametrize(("n", "k", "exc", "words"), [
    (0, 1, ValueError, "n must be a positive int"),
    (3, 1.5, TypeError, "k must be an int"),
    (3, True, TypeError, "k must be an int"),
])
def test_shift_errors(n, k, exc, words):
    with pytest.raises(exc, match=words):
        shift_matrix(n, k)


# --- commuting: the matrix form of shift-equivariance --------------------------------------

@given(kernel_and_n(), st.integers(-10, 10))
def test_circulant_commutes_with_shift(case, k):
    h, n, g = case
    c = circulant_matrix(h, n)
    s = shift_matrix(n, k, dtype=DT)
    torch.testing.assert_close(c @ s, s @ c)
    x = torch.randn(n, generator=g, dtype=DT)
    # Conv(Shift(x)) == Shift(Conv(x)), checked with PyTorch's own ops
    torch.testing.assert_close(circular_xcorr(torch.roll(x, k), h),
                               torch.roll(circular_xcorr(x, h), k))


@given(kernel_and_n())
def test_circulants_commute(case):
    h, n, g = case
    other = torch.randn(torch.randint(1, n + 1, (1,), generator=g).item(), generator=g,
                        dtype=DT)
    a, b = circulant_matrix(h, n), circulant_matrix(other, n)
    torch.testing.assert_close(a @ b, b @ a)


def test_general_matrices_do_not_commute_with_shift():
    # The test above can fail: a random (non-circulant) matrix does not commute with S.
    a = torch.randn(5, 5, dtype=DT, generator=torch.Generator().manual_seed(0))
    s = shift_matrix(5, dtype=DT)
    assert not torch.allclose(a @ s, s @ a)


# --- every linear shift-equivariant operator is a circulant -------------------------------

def fft_filter(n, g):
    """An LSI operator defined without any circulant: multiply the spectrum by a filter."""
    response = torch.fft.rfft(torch.randn(n, generator=g, dtype=DT))
    return lambda x: torch.fft.irfft(torch.fft.rfft(x) * response, n=n)


@given(st.integers(1, 16), st.integers(0, 2**31 - 1))
def test_lsi_operator_is_the_circulant_of_its_impulse_response(n, seed):
    g = torch.Generator().manual_seed(seed)
    op = fft_filter(n, g)
    x = torch.randn(n, generator=g, dtype=DT)
    # op really is shift-equivariant …
    torch.testing.assert_close(op(torch.roll(x, 1)), torch.roll(op(x), 1))
    # … so its impulse response rebuilds it exactly
    h = impulse_response(op, n, dtype=DT)
    c = circulant_matrix(circular_flip(h), n)
    torch.testing.assert_close(c @ x, op(x))
    # and op(x) is the circular convolution Σ_m x_m h_{(i−m) mod n}
    conv = torch.stack([sum(x[m] * h[(i - m) % n] for m in range(n)) for i in range(n)])
    torch.testing.assert_close(conv, op(x))


def test_impulse_response_of_a_circulant_recovers_its_kernel():
    h = torch.tensor([1.0, 2.0, 3.0], dtype=DT)
    c = circulant_matrix(h, 5)
    response = impulse_response(lambda x: c @ x, 5, dtype=DT)
    # the impulse response is the convolution kernel: the first column of C
    assert torch.equal(response, c[:, 0])
    assert torch.equal(circular_flip(response), torch.tensor([1.0, 2.0, 3.0, 0.0, 0.0],
                                                             dtype=DT))


def test_impulse_response_fails_for_a_shift_variant_operator():
    # Linear but not shift-equivariant: a ramp window. Its "circulant" does not reproduce it.
    n = 6
    ramp = torch.arange(1.0, n + 1, dtype=DT)
    op = lambda x: ramp * x  # noqa: E731
    c = circulant_matrix(circular_flip(impulse_response(op, n, dtype=DT)), n)
    x = torch.randn(n, dtype=DT, generator=torch.Generator().manual_seed(1))
    assert not torch.allclose(c @ x, op(x))


def test_circular_flip():
    assert torch.equal(circular_flip(torch.tensor([0.0, 1.0, 2.0, 3.0])),
                       torch.tensor([0.0, 3.0, 2.0, 1.0]))
    x = torch.randn(7)
    assert torch.equal(circular_flip(circular_flip(x)), x)
    with pytest.raises(ValueError, match="h must be 1-D"):
        circular_flip(torch.ones(2, 2))
    with pytest.raises(TypeError, match=r"h must be a torch\.Tensor"):
        circular_flip([1.0, 2.0])


@pytest.mark.parametrize(("op", "n", "exc", "words"), [
    ("not callable", 3, TypeError, "op must be a callable"),
    (lambda x: x, 0, ValueError, "n must be a positive int"),
    (lambda x: x[:-1], 3, ValueError, r"op must map a \(3,\) tensor to a \(3,\) tensor"),
    (lambda x: 1.0, 3, ValueError, "op must map"),
])
def test_impulse_response_errors(op, n, exc, words):
    with pytest.raises(exc, match=words):
        impulse_response(op, n)


# --- the DFT diagonalises circulants -------------------------------------------------------

@given(st.integers(1, 16))
def test_dft_matrix_is_torch_fft(n):
    f = dft_matrix(n, dtype=torch.complex128)
    x = torch.randn(n, dtype=DT).to(torch.complex128)
    torch.testing.assert_close(f @ x, torch.fft.fft(x))
    torch.testing.assert_close(torch.linalg.inv(f), f.conj().T / n)


@given(kernel_and_n())
def test_dft_diagonalises_circulants(case):
    h, n, _ = case
    f = dft_matrix(n, dtype=torch.complex128)
    c = circulant_matrix(h, n).to(torch.complex128)
    d = f @ c @ torch.linalg.inv(f)
    padded = torch.cat([h, h.new_zeros(n - h.numel())])
    eigenvalues = torch.fft.fft(circular_flip(padded)).to(torch.complex128)
    torch.testing.assert_close(d, torch.diag(eigenvalues))
    # for a real kernel, the same values are the conjugate of the kernel's own DFT
    torch.testing.assert_close(eigenvalues, torch.fft.fft(padded).conj())


def test_dft_matrix_dtype_device_and_errors(device):
    f = dft_matrix(4, device=device)
    assert f.dtype == torch.complex64 and f.device.type == torch.device(device).type
    assert torch.allclose(f.cpu()[1], torch.tensor([1, -1j, -1, 1j], dtype=torch.complex64),
                          atol=1e-6)
    with pytest.raises(TypeError, match="dtype must be a complex torch dtype"):
        dft_matrix(4, dtype=torch.float32)
    with pytest.raises(ValueError, match="n must be a positive int"):
        dft_matrix(0)
