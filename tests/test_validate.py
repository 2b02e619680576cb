"""Every argument rule in cnnlib._validate: the exception type and the one wording each rule has."""

import pytest
import torch
from torch import nn

from cnnlib import _validate as v


def test_positive_int():
    assert v.check_positive_int("stride", 2) == 2
    with pytest.raises(ValueError, match=r"^stride must be a positive int, got 0$"):
        v.check_positive_int("stride", 0)
    with pytest.raises(TypeError, match=r"^stride must be a positive int, got 1\.5 \(float\)$"):
        v.check_positive_int("stride", 1.5)
    with pytest.raises(TypeError, match="stride must be a positive int"):
        v.check_positive_int("stride", True)
    with pytest.raises(ValueError, match="n must be a positive int"):
        v.check_positive_int("n", "3", type_error=ValueError)


def test_non_negative_int():
    assert v.check_non_negative_int("seed", 0) == 0
    with pytest.raises(ValueError, match=r"^seed must be a non-negative int, got -1$"):
        v.check_non_negative_int("seed", -1)
    with pytest.raises(TypeError, match=r"^seed must be a non-negative int, got 'a' \(str\)$"):
        v.check_non_negative_int("seed", "a")
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        v.check_non_negative_int("seed", False, type_error=ValueError)


def test_as_tuple():
    assert v.as_tuple("stride", 2, 2) == (2, 2)
    assert v.as_tuple("stride", [1, 3], 2) == (1, 3)
    with pytest.raises(ValueError, match=r"^stride must be an int or a tuple of 2 ints"):
        v.as_tuple("stride", (1, 2, 3), 2)
    with pytest.raises(TypeError, match=r"^stride must be an int or a tuple of 2 ints"):
        v.as_tuple("stride", 1.0, 2)


def test_positive_tuple():
    assert v.check_positive_tuple("dilation", (1, 2), 2) == (1, 2)
    with pytest.raises(ValueError, match=r"^dilation must be positive ints \(one per dimension"):
        v.check_positive_tuple("dilation", (1, 0), 2)
    with pytest.raises(ValueError, match=r"^dilation must be a positive int, got 0$"):
        v.check_positive_tuple("dilation", 0, 1)


def test_non_negative_tuple():
    assert v.check_non_negative_tuple("padding", 0, 2) == (0, 0)
    with pytest.raises(ValueError, match=r"^padding must be non-negative, got -1$"):
        v.check_non_negative_tuple("padding", -1, 2)


def test_bool():
    assert v.check_bool("bias", False) is False
    for bad in (0, 1, None, "yes"):
        with pytest.raises(TypeError, match=r"^bias must be True or False, got "):
            v.check_bool("bias", bad)


def test_choice():
    v.check_choice("mode", "full", ("full", "same"))
    with pytest.raises(ValueError, match=r"^mode must be one of 'full', 'same', got 'half'$"):
        v.check_choice("mode", "half", ("full", "same"))


def test_tensor():
    t = torch.zeros(2, dtype=torch.int64)
    assert v.check_tensor("x", t) is t
    with pytest.raises(TypeError, match=r"^x must be a torch\.Tensor, got list$"):
        v.check_tensor("x", [1.0])


def test_float_tensor():
    with pytest.raises(TypeError, match=r"^x must be a torch\.Tensor, got list$"):
        v.check_float_tensor("x", [1.0])
    with pytest.raises(TypeError, match=r"^x must be a floating-point tensor .*x\.float\(\)$"):
        v.check_float_tensor("x", torch.zeros(2, dtype=torch.int64))


def test_module():
    layer = nn.Linear(2, 2)
    assert v.check_module("model", layer) is layer
    with pytest.raises(TypeError, match=r"^model must be a torch\.nn\.Module, got str$"):
        v.check_module("model", "net")


def test_callable():
    v.check_callable("f", abs)
    with pytest.raises(TypeError, match=r"^f must be a callable \(a function of a tensor\)"):
        v.check_callable("f", 3)


def test_ndim():
    v.check_ndim("input", torch.zeros(1, 2, 3), (3, 4), "(N, C, H, W)")
    with pytest.raises(ValueError, match=r"^input must be 3-D or 4-D \(N, C, H, W\), got a 2-D"):
        v.check_ndim("input", torch.zeros(2, 3), (3, 4), "(N, C, H, W)")


def test_same_dtype():
    x = torch.zeros(2)
    v.check_same_dtype("input", x, weight=torch.ones(2), bias=None)
    with pytest.raises(TypeError, match=r"^weight must have the same dtype as input, got input "
                                        r"torch\.float32 and weight torch\.float64"):
        v.check_same_dtype("input", x, weight=torch.ones(2, dtype=torch.float64))


def test_same_device():
    v.check_same_device(input=torch.zeros(1), weight=torch.zeros(1), bias=None)
    meta = torch.zeros(1, device="meta")
    with pytest.raises(ValueError, match=r"^all tensors must be on the same device, got "
                                         r"input on cpu, weight on meta$"):
        v.check_same_device(input=torch.zeros(1), weight=meta)


def test_kernel_fits():
    assert v.check_kernel_fits(4, 3) == 4
    assert v.check_kernel_fits(2, 3, 1, 1) == 4
    assert v.check_kernel_fits(2, 3, 1, 0, 1) == 3
    with pytest.raises(ValueError, match=r"^kernel_size 5 \(dilated span 9\) is larger than "
                                         r"the padded input along W: 6 \+ 1 \+ 0 = 7; add "
                                         r"padding or use a smaller kernel$"):
        v.check_kernel_fits(6, 5, 2, 1, 0, dim="W")
    with pytest.raises(ValueError, match=r"larger than the padded input: 2 \+ 0 \+ 0 = 2;"):
        v.check_kernel_fits(2, 3)


def test_number():
    assert v.check_number("momentum", 1, 0.0, 1.0) == 1.0
    with pytest.raises(ValueError, match=r"^lr must lie in \(0\.0, ∞\), got 0$"):
        v.check_number("lr", 0, 0.0, low_open=True)
    with pytest.raises(ValueError, match=r"^momentum must lie in \[0\.0, 1\.0\], got 1\.5$"):
        v.check_number("momentum", 1.5, 0.0, 1.0)
    with pytest.raises(TypeError, match=r"^lr must be a number, got '0\.1'$"):
        v.check_number("lr", "0.1", 0.0)


def test_shape():
    assert v.check_shape("input_shape", [1, 3, 8], "(N, C, L)", 3) == (1, 3, 8)
    with pytest.raises(ValueError, match=r"^input_shape must be a tuple of at least 3 positive "
                                         r"ints \(N, C, L\), got \(1, 3\)$"):
        v.check_shape("input_shape", (1, 3), "(N, C, L)", 3)
    with pytest.raises(ValueError, match="input_shape must be a non-empty tuple of positive"):
        v.check_shape("input_shape", (1, 0), "(N, …)")
    with pytest.raises(TypeError, match="input_shape must be a non-empty tuple of positive"):
        v.check_shape("input_shape", 3, "(N, …)")
