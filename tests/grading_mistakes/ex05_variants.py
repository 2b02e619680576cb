"""Wrong answers students write for exercise 05, each labelled with the mistake it makes."""

BANK = {
    "transposed_conv1d": [
        ("kernel flipped", '''
def transposed_conv1d(x, h, stride=1, padding=0):
    n, m = len(x), len(h)
    full = torch.zeros((n - 1) * stride + m, dtype=x.dtype)
    for i in range(n):
        full[i * stride:i * stride + m] += x[i] * torch.flip(h, dims=[0])
    return full[padding:len(full) - padding]
'''),
        ("padding not cropped", '''
def transposed_conv1d(x, h, stride=1, padding=0):
    n, m = len(x), len(h)
    full = torch.zeros((n - 1) * stride + m, dtype=x.dtype)
    for i in range(n):
        full[i * stride:i * stride + m] += x[i] * h
    return full
'''),
        ("padding cropped at the start only", '''
def transposed_conv1d(x, h, stride=1, padding=0):
    n, m = len(x), len(h)
    full = torch.zeros((n - 1) * stride + m, dtype=x.dtype)
    for i in range(n):
        full[i * stride:i * stride + m] += x[i] * h
    return full[padding:]
'''),
        ("padding added instead of removed", '''
def transposed_conv1d(x, h, stride=1, padding=0):
    n, m = len(x), len(h)
    full = torch.zeros((n - 1) * stride + m + 2 * padding, dtype=x.dtype)
    for i in range(n):
        start = padding + i * stride
        full[start:start + m] += x[i] * h
    return full
'''),
        ("overlaps overwritten instead of added", '''
def transposed_conv1d(x, h, stride=1, padding=0):
    n, m = len(x), len(h)
    full = torch.zeros((n - 1) * stride + m, dtype=x.dtype)
    for i in range(n):
        full[i * stride:i * stride + m] = x[i] * h
    return full[padding:len(full) - padding]
'''),
        ("stride ignored", '''
def transposed_conv1d(x, h, stride=1, padding=0):
    n, m = len(x), len(h)
    full = torch.zeros(n + m - 1, dtype=x.dtype)
    for i in range(n):
        for j in range(m):
            full[i + j] += x[i] * h[j]
    return full[padding:len(full) - padding]
'''),
    ],
    "transposed_output_length": [
        ("the convolution's formula", '''
def transposed_output_length(n, m, s, p, output_padding):
    return (n + 2 * p - m) // s + 1
'''),
        ("n steps instead of n − 1", '''
def transposed_output_length(n, m, s, p, output_padding):
    return n * s + m - 2 * p + output_padding
'''),
        ("padding counted once", '''
def transposed_output_length(n, m, s, p, output_padding):
    return (n - 1) * s + m - p + output_padding
'''),
        ("output_padding forgotten", '''
def transposed_output_length(n, m, s, p, output_padding):
    return (n - 1) * s + m - 2 * p
'''),
        ("padding added instead of subtracted", '''
def transposed_output_length(n, m, s, p, output_padding):
    return (n - 1) * s + m + 2 * p + output_padding
'''),
    ],
    "output_padding_needed": [
        ("padding counted once", '''
def output_padding_needed(i, m, s, p):
    return (i + p - m) % s
'''),
        ("padding forgotten", '''
def output_padding_needed(i, m, s, p):
    return (i - m) % s
'''),
        ("remainder of i alone", '''
def output_padding_needed(i, m, s, p):
    return i % s
'''),
        ("quotient instead of remainder", '''
def output_padding_needed(i, m, s, p):
    return (i + 2 * p - m) // s
'''),
        ("complement of the remainder", '''
def output_padding_needed(i, m, s, p):
    r = (i + 2 * p - m) % s
    return 0 if r == 0 else s - r
'''),
    ],
    "separable_params": [
        ("bias forgotten", '''
def separable_params(c_in, c_out, k):
    return c_in * k * k + c_in * c_out
'''),
        ("depthwise bias counted", '''
def separable_params(c_in, c_out, k):
    depthwise = c_in * k * k + c_in
    pointwise = c_in * c_out + c_out
    return depthwise + pointwise
'''),
        ("depthwise counted as a full convolution", '''
def separable_params(c_in, c_out, k):
    return c_in * c_in * k * k + c_in * c_out + c_out
'''),
        ("kernel counted as k instead of k×k", '''
def separable_params(c_in, c_out, k):
    return c_in * k + c_in * c_out + c_out
'''),
        ("one bias per input channel", '''
def separable_params(c_in, c_out, k):
    return c_in * k * k + c_in * c_out + c_in
'''),
    ],
    "dilated_receptive_field": [
        ("dilation counted from 0", '''
def dilated_receptive_field(k, dilations):
    r = 1
    for d in dilations:
        r += (d + 1) * (k - 1)
    return r
'''),
        ("started from 0", '''
def dilated_receptive_field(k, dilations):
    return sum(d * (k - 1) for d in dilations)
'''),
        ("dilation treated as a stride", '''
def dilated_receptive_field(k, dilations):
    r, jump = 1, 1
    for d in dilations:
        r += (k - 1) * jump
        jump *= d
    return r
'''),
        ("layer spans added up", '''
def dilated_receptive_field(k, dilations):
    return sum(d * (k - 1) + 1 for d in dilations)
'''),
        ("dilation ignored", '''
def dilated_receptive_field(k, dilations):
    return 1 + len(dilations) * (k - 1)
'''),
    ],
}
