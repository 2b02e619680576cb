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
    "transposed_overlaps": [
        ("length n·s + k", '''
def transposed_overlaps(n, k, s):
    counts = torch.zeros(n * s + k, dtype=torch.long)
    for i in range(n):
        counts[i * s:i * s + k] += 1
    return counts
'''),
        ("stride ignored", '''
def transposed_overlaps(n, k, s):
    counts = torch.zeros(n + k - 1, dtype=torch.long)
    for i in range(n):
        for j in range(k):
            counts[i + j] += 1
    return counts
'''),
        ("copies written instead of counted", '''
def transposed_overlaps(n, k, s):
    counts = torch.zeros((n - 1) * s + k, dtype=torch.long)
    for i in range(n):
        counts[i * s:i * s + k] = 1
    return counts
'''),
        ("counts returned as floats", '''
def transposed_overlaps(n, k, s):
    counts = torch.zeros((n - 1) * s + k)
    for i in range(n):
        counts[i * s:i * s + k] += 1
    return counts
'''),
        ("each copy one position short", '''
def transposed_overlaps(n, k, s):
    counts = torch.zeros((n - 1) * s + k, dtype=torch.long)
    for i in range(n):
        counts[i * s:i * s + k - 1] += 1
    return counts
'''),
        ("one copy missing", '''
def transposed_overlaps(n, k, s):
    counts = torch.zeros((n - 1) * s + k, dtype=torch.long)
    for i in range(n - 1):
        counts[i * s:i * s + k] += 1
    return counts
'''),
    ],
    "grouped_conv2d": [
        ("every filter reads the first group", '''
def grouped_conv2d(x, w, groups):
    c_out, c_group, k, _ = w.shape
    h_out, w_out = x.shape[1] - k + 1, x.shape[2] - k + 1
    y = torch.zeros(c_out, h_out, w_out, dtype=x.dtype)
    per_group = c_out // groups
    for o in range(c_out):
        first = 0
        block = x[first:first + c_group]
        for i in range(h_out):
            for j in range(w_out):
                y[o, i, j] = (w[o] * block[:, i:i + k, j:j + k]).sum()
    return y
'''),
        ("group index o % groups", '''
def grouped_conv2d(x, w, groups):
    c_out, c_group, k, _ = w.shape
    h_out, w_out = x.shape[1] - k + 1, x.shape[2] - k + 1
    y = torch.zeros(c_out, h_out, w_out, dtype=x.dtype)
    per_group = c_out // groups
    for o in range(c_out):
        first = (o % groups) * c_group
        block = x[first:first + c_group]
        for i in range(h_out):
            for j in range(w_out):
                y[o, i, j] = (w[o] * block[:, i:i + k, j:j + k]).sum()
    return y
'''),
        ("channels of a group interleaved", '''
def grouped_conv2d(x, w, groups):
    c_out, c_group, k, _ = w.shape
    h_out, w_out = x.shape[1] - k + 1, x.shape[2] - k + 1
    y = torch.zeros(c_out, h_out, w_out, dtype=x.dtype)
    per_group = c_out // groups
    for o in range(c_out):
        first = o // per_group
        block = x[first::groups]
        for i in range(h_out):
            for j in range(w_out):
                y[o, i, j] = (w[o] * block[:, i:i + k, j:j + k]).sum()
    return y
'''),
        ("kernel flipped", '''
def grouped_conv2d(x, w, groups):
    c_out, c_group, k, _ = w.shape
    h_out, w_out = x.shape[1] - k + 1, x.shape[2] - k + 1
    y = torch.zeros(c_out, h_out, w_out, dtype=x.dtype)
    per_group = c_out // groups
    for o in range(c_out):
        first = (o // per_group) * c_group
        block = x[first:first + c_group]
        for i in range(h_out):
            for j in range(w_out):
                y[o, i, j] = (w[o].flip(-1, -2) * block[:, i:i + k, j:j + k]).sum()
    return y
'''),
        ("kernel rows and columns swapped", '''
def grouped_conv2d(x, w, groups):
    c_out, c_group, k, _ = w.shape
    h_out, w_out = x.shape[1] - k + 1, x.shape[2] - k + 1
    y = torch.zeros(c_out, h_out, w_out, dtype=x.dtype)
    per_group = c_out // groups
    for o in range(c_out):
        first = (o // per_group) * c_group
        block = x[first:first + c_group]
        for i in range(h_out):
            for j in range(w_out):
                y[o, i, j] = (w[o].transpose(-1, -2) * block[:, i:i + k, j:j + k]).sum()
    return y
'''),
        ("last window missing", '''
def grouped_conv2d(x, w, groups):
    c_out, c_group, k, _ = w.shape
    h_out, w_out = x.shape[1] - k, x.shape[2] - k
    y = torch.zeros(c_out, h_out, w_out, dtype=x.dtype)
    per_group = c_out // groups
    for o in range(c_out):
        first = (o // per_group) * c_group
        block = x[first:first + c_group]
        for i in range(h_out):
            for j in range(w_out):
                y[o, i, j] = (w[o] * block[:, i:i + k, j:j + k]).sum()
    return y
'''),
    ],
    "best_separable": [
        ("σ₁ forgotten", '''
def best_separable(k):
    u, sigma, vt = torch.linalg.svd(k)
    return torch.outer(u[:, 0], vt[0])
'''),
        ("σ₁ squared", '''
def best_separable(k):
    eigenvalues, v = torch.linalg.eigh(k.T @ k)
    v1 = v[:, -1]
    u1 = k @ v1 / torch.linalg.norm(k @ v1)
    return eigenvalues[-1] * torch.outer(u1, v1)
'''),
        ("column and row swapped", '''
def best_separable(k):
    u, sigma, vh = torch.linalg.svd(k)
    return sigma[0] * torch.outer(vh[0], u[:, 0])
'''),
        ("√σ₁ in one factor only", '''
def best_separable(k):
    u, sigma, vh = torch.linalg.svd(k)
    column = torch.sqrt(sigma[0]) * u[:, 0]
    row = vh[0]
    return torch.outer(column, row)
'''),
        ("smallest singular value kept", '''
def best_separable(k):
    u, sigma, vh = torch.linalg.svd(k, full_matrices=False)
    return sigma[-1] * torch.outer(u[:, -1], vh[-1])
'''),
        ("first column times first row", '''
def best_separable(k):
    return torch.outer(k[:, 0], k[0]) / k[0, 0]
'''),
    ],
}
