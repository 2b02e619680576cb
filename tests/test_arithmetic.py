"""Output-size formulas against the shapes PyTorch really produces, and their argument errors."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

from cnnlib.arithmetic import conv_output_size, conv_transpose_output_size, pool_output_size


def torch_length(fn, n, *args, **kwargs):
    """Length of fn's output on a (1, 1, n) signal, or None when PyTorch refuses."""
    try:
        return fn(torch.zeros(1, 1, n), *args, **kwargs).shape[-1]
    except RuntimeError:
        return None


sizes = st.integers(1, 30)
kernels = st.integers(1, 7)
strides = st.integers(1, 4)
paddings = st.integers(0, 4)
dilations = st.integers(1, 3)


# --- convolution --------------------------------------------------------------------------

def test_conv_hand_cases():
    assert conv_output_size(7, 3, stride=2, padding=1) == 4  # ⌊(7 + 2 − 3)/2⌋ + 1
    assert conv_output_size(32, 5) == 28                      # LeNet's first layer
    assert conv_output_size(224, 3, padding=1) == 224         # VGG's 'same' 3×3
    assert conv_output_size(10, 3, dilation=2) == 6           # dilated span 5
    assert conv_output_size(5, 5) == 1


@given(sizes, kernels, strides, paddings, dilations)
def test_conv_output_size_matches_torch(n, k, s, p, d):
    weight = torch.zeros(1, 1, k)
    expected = torch_length(F.conv1d, n, weight, stride=s, padding=p, dilation=d)
    if d * (k - 1) + 1 <= n + 2 * p:
        assert conv_output_size(n, k, s, p, d) == expected
    else:  # kernel wider than the padded input: PyTorch refuses too
        assert expected is None
        with pytest.raises(ValueError, match="is larger than the padded input"):
            conv_output_size(n, k, s, p, d)


@given(st.tuples(sizes, sizes), st.tuples(kernels, kernels), st.tuples(strides, strides),
       st.tuples(paddings, paddings), st.tuples(dilations, dilations))
def test_conv_output_size_per_dimension_in_2d(n, k, s, p, d):
    assume(all(di * (ki - 1) + 1 <= ni + 2 * pi
               for ni, ki, pi, di in zip(n, k, p, d, strict=True)))
    out = F.conv2d(torch.zeros(1, 1, *n), torch.zeros(1, 1, *k), stride=s, padding=p,
                   dilation=d)
    expected = tuple(conv_output_size(*args) for args in zip(n, k, s, p, d, strict=True))
    assert out.shape[-2:] == expected


# --- pooling ------------------------------------------------------------------------------

def test_ceil_mode_window_wider_than_input_is_where_cnnlib_and_torch_differ():
    assert torch_length(F.max_pool1d, 1, 2, ceil_mode=True) == 1
    with pytest.raises(ValueError, match="is larger than the padded input"):
        pool_output_size(1, 2, ceil_mode=True)


def test_pool_hand_cases():
    assert pool_output_size(28, 2) == 14                 # stride defaults to kernel_size
    assert pool_output_size(7, 2) == 3
    assert pool_output_size(7, 2, ceil_mode=True) == 4   # the last, partial window counts
    assert pool_output_size(5, 3, stride=2, padding=1, ceil_mode=True) == 3
    # ceil mode never starts a window in the right padding: ⌈(6 + 2 − 2)/2⌉ + 1 = 4 → 3
    assert pool_output_size(6, 2, stride=2, padding=1, ceil_mode=True) == 4
    assert pool_output_size(5, 2, stride=3, padding=1, ceil_mode=True) == 2


def torch_refuses_window(n, span, s, p, ceil_mode):
    """Whether PyTorch refuses a pooling window wider than the padded input.

    cnnlib's pool_output_size always refuses it. PyTorch does too in floor mode, but in ceil
    mode it accepts a window that overhangs the padded input by less than one stride and
    returns one output: there the two differ.
    """
    return not (ceil_mode and span <= n + 2 * p + s - 1)


@given(sizes, kernels, st.one_of(st.none(), strides), st.data(), dilations, st.booleans())
def test_max_pool_output_size_matches_torch(n, k, s, data, d, ceil_mode):
    p = data.draw(st.integers(0, k // 2))
    expected = torch_length(F.max_pool1d, n, k, stride=s, padding=p, dilation=d,
                            ceil_mode=ceil_mode)
    span = d * (k - 1) + 1
    if span <= n + 2 * p:
        assert pool_output_size(n, k, s, p, d, ceil_mode) == expected
    else:
        with pytest.raises(ValueError, match="is larger than the padded input"):
            pool_output_size(n, k, s, p, d, ceil_mode)
        assert (expected is None) == torch_refuses_window(n, span, k if s is None else s, p,
                                                          ceil_mode)


@given(sizes, kernels, st.one_of(st.none(), strides), st.data(), st.booleans())
def test_avg_pool_output_size_matches_torch(n, k, s, data, ceil_mode):
    p = data.draw(st.integers(0, k // 2))
    expected = torch_length(F.avg_pool1d, n, k, stride=s, padding=p, ceil_mode=ceil_mode)
    if k <= n + 2 * p:
        assert pool_output_size(n, k, s, p, ceil_mode=ceil_mode) == expected
    else:
        with pytest.raises(ValueError, match="is larger than the padded input"):
            pool_output_size(n, k, s, p, ceil_mode=ceil_mode)
        assert (expected is None) == torch_refuses_window(n, k, k if s is None else s, p,
                                                          ceil_mode)


@given(kernels, st.integers(1, 4))
def test_pool_padding_rule_is_torchs(k, extra):
    p = k // 2 + extra  # more than half the kernel
    assert torch_length(F.max_pool1d, 30, k, 1, p) is None
    with pytest.raises(ValueError, match="padding must be at most half of kernel_size"):
        pool_output_size(30, k, 1, p)


# --- transposed convolution ---------------------------------------------------------------

def test_conv_transpose_hand_cases():
    assert conv_transpose_output_size(4, 3, stride=2) == 9          # (4 − 1)·2 + 3
    assert conv_transpose_output_size(4, 4, stride=2, padding=1) == 8  # the usual 2× upsampler
    assert conv_transpose_output_size(4, 3, stride=2, padding=1, output_padding=1) == 8
    # it inverts conv_output_size's shape map: 8 → 4 → 8
    assert conv_output_size(8, 3, stride=2, padding=1) == 4


@given(sizes, kernels, strides, paddings, dilations, st.data())
def test_conv_transpose_output_size_matches_torch(n, k, s, p, d, data):
    output_padding = data.draw(st.integers(0, max(s, d) - 1))
    expected = torch_length(F.conv_transpose1d, n, torch.zeros(1, 1, k), stride=s, padding=p,
                            output_padding=output_padding, dilation=d)
    out = (n - 1) * s - 2 * p + d * (k - 1) + output_padding + 1
    if out >= 1:
        assert conv_transpose_output_size(n, k, s, p, output_padding, d) == expected
    else:
        assert expected is None
        with pytest.raises(ValueError, match=r"padding \d+ is too large"):
            conv_transpose_output_size(n, k, s, p, output_padding, d)


@given(st.integers(1, 39), kernels, strides, st.integers(0, 3))
def test_conv_transpose_inverts_the_conv_shape(n, k, s, p):
    # every n that a strided conv maps to some m comes back, with an output_padding below s
    k = min(k, n + 2 * p)  # a kernel that fits the padded input
    m = conv_output_size(n, k, s, p)
    output_padding = n - ((m - 1) * s - 2 * p + k)
    assert 0 <= output_padding < s
    assert conv_transpose_output_size(m, k, s, p, output_padding) == n


# --- argument errors ----------------------------------------------------------------------

@pytest.mark.parametrize("fn", [conv_output_size, conv_transpose_output_size])
@pytest.mark.parametrize(("name", "bad", "exc", "words"), [
    ("n", 0, ValueError, "n must be a positive int, got 0"),
    ("n", 2.5, TypeError, "n must be a positive int"),
    ("n", True, TypeError, "n must be a positive int"),
    ("kernel_size", 0, ValueError, "kernel_size must be a positive int, got 0"),
    ("kernel_size", "3", TypeError, "kernel_size must be a positive int"),
    ("stride", 0, ValueError, "stride must be a positive int, got 0"),
    ("stride", 1.0, TypeError, "stride must be a positive int"),
    ("dilation", 0, ValueError, "dilation must be a positive int, got 0"),
    ("padding", -1, ValueError, "padding must be a non-negative int, got -1"),
    ("padding", 0.5, TypeError, "padding must be a non-negative int"),
    ("padding", False, TypeError, "padding must be a non-negative int"),
])
def test_shared_argument_errors(fn, name, bad, exc, words):
    kwargs = {"n": 8, "kernel_size": 3, "stride": 1, "padding": 0, "dilation": 1, name: bad}
    with pytest.raises(exc, match=words):
        fn(**kwargs)


@pytest.mark.parametrize(("kwargs", "exc", "words"), [
    ({"n": 0}, ValueError, "n must be a positive int"),
    ({"kernel_size": 0}, ValueError, "kernel_size must be a positive int"),
    ({"kernel_size": None}, TypeError, "kernel_size must be a positive int"),
    ({"stride": 0}, ValueError, "stride must be a positive int"),
    ({"dilation": 0}, ValueError, "dilation must be a positive int"),
    ({"padding": -1}, ValueError, "padding must be a non-negative int"),
    ({"padding": 2}, ValueError, "padding must be at most half of kernel_size"),
    ({"n": 1, "padding": 1, "dilation": 3}, ValueError, "is larger than the padded input"),
])
def test_pool_argument_errors(kwargs, exc, words):
    args = {"n": 8, "kernel_size": 3, "stride": None, "padding": 0, "dilation": 1, **kwargs}
    for ceil_mode in (False, True):
        with pytest.raises(exc, match=words):
            pool_output_size(**args, ceil_mode=ceil_mode)


@pytest.mark.parametrize(("kwargs", "exc", "words"), [
    ({"output_padding": -1}, ValueError, "output_padding must be a non-negative int"),
    ({"output_padding": 1.0}, TypeError, "output_padding must be a non-negative int"),
    ({"stride": 2, "output_padding": 2}, ValueError,
     "output_padding must be smaller than either stride or dilation"),
    ({"stride": 1, "dilation": 1, "output_padding": 1}, ValueError,
     "output_padding must be smaller than either stride or dilation"),
    ({"n": 1, "kernel_size": 1, "padding": 1}, ValueError, "padding 1 is too large"),
])
def test_conv_transpose_argument_errors(kwargs, exc, words):
    args = {"n": 8, "kernel_size": 3, **kwargs}
    with pytest.raises(exc, match=words):
        conv_transpose_output_size(**args)


def test_kernel_larger_than_input_message_names_the_numbers():
    with pytest.raises(ValueError, match=r"kernel_size 5 \(dilated span 9\) is larger than "
                                         r"the padded input: 6 \+ 1 \+ 1 = 8"):
        conv_output_size(6, 5, padding=1, dilation=2)
