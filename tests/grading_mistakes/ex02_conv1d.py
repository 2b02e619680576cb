"""Wrong answers students write for exercise 02, each labelled with the mistake it makes."""

BANK = {
    "conv1d_valid": [
        ("kernel flipped", '''
def conv1d_valid(x, h):
    n, m = len(x), len(h)
    hf = torch.flip(h, dims=[0])
    y = torch.zeros(n - m + 1, dtype=x.dtype)
    for i in range(n - m + 1):
        y[i] = (hf * x[i:i + m]).sum()
    return y
'''),
        ("last window missing", '''
def conv1d_valid(x, h):
    n, m = len(x), len(h)
    out = []
    for i in range(n - m):
        out.append(sum(h[j] * x[i + j] for j in range(m)))
    return torch.tensor(out, dtype=x.dtype)
'''),
        ("last tap dropped", '''
def conv1d_valid(x, h):
    n, m = len(x), len(h)
    y = torch.zeros(n - m + 1, dtype=x.dtype)
    for i in range(n - m + 1):
        for j in range(m - 1):
            y[i] += h[j] * x[i + j]
    return y
'''),
        ("padded to the full length", '''
def conv1d_valid(x, h):
    m = len(h)
    z = torch.zeros(m - 1, dtype=x.dtype)
    xp = torch.cat([z, x, z])
    return torch.stack([(h * xp[i:i + m]).sum() for i in range(len(xp) - m + 1)])
'''),
        ("mean instead of sum", '''
def conv1d_valid(x, h):
    n, m = len(x), len(h)
    y = torch.zeros(n - m + 1, dtype=x.dtype)
    for i in range(n - m + 1):
        y[i] = (h * x[i:i + m]).mean()
    return y
'''),
        ("kernel flipped", '''
def conv1d_valid(x, h):
    n, m = len(x), len(h)
    y = torch.zeros(n - m + 1, dtype=x.dtype)
    for i in range(n - m + 1):
        for j in range(m):
            y[i] += h[m - 1 - j] * x[i + j]
    return y
'''),
    ],
    "output_length": [
        ("padding counted once", '''
def output_length(n, m, p, s):
    return (n + p - m) // s + 1
'''),
        ("true division instead of floor division", '''
def output_length(n, m, p, s):
    return (n + 2 * p - m) / s + 1
'''),
        ("integer division misplaced", '''
def output_length(n, m, p, s):
    return n + 2 * p - m // s + 1
'''),
        ("+1 forgotten", '''
def output_length(n, m, p, s):
    return (n + 2 * p - m) // s
'''),
        ("padding added after dividing by the stride", '''
def output_length(n, m, p, s):
    return (n - m) // s + 1 + 2 * p
'''),
    ],
    "conv1d_general": [
        ("kernel flipped", '''
def conv1d_general(x, h, stride=1, padding=0):
    m = len(h)
    z = torch.zeros(padding, dtype=x.dtype)
    xp = torch.cat([z, x, z])
    h = h.flip(0)
    n_out = (len(xp) - m) // stride + 1
    return torch.stack([(h * xp[i * stride:i * stride + m]).sum() for i in range(n_out)])
'''),
        ("padding on one side only", '''
def conv1d_general(x, h, stride=1, padding=0):
    m = len(h)
    xp = torch.cat([torch.zeros(padding, dtype=x.dtype), x])
    n_out = (len(xp) - m) // stride + 1
    y = torch.zeros(n_out, dtype=x.dtype)
    for i in range(n_out):
        y[i] = (h * xp[i * stride:i * stride + m]).sum()
    return y
'''),
        ("stride applied to the unpadded size", '''
def conv1d_general(x, h, stride=1, padding=0):
    n, m = len(x), len(h)
    z = torch.zeros(padding, dtype=x.dtype)
    xp = torch.cat([z, x, z])
    y = torch.zeros((n - m) // stride + 1, dtype=x.dtype)
    for i in range(len(y)):
        y[i] = (h * xp[i * stride:i * stride + m]).sum()
    return y
'''),
        ("stride ignored", '''
def conv1d_general(x, h, stride=1, padding=0):
    m = len(h)
    z = torch.zeros(padding, dtype=x.dtype)
    xp = torch.cat([z, x, z])
    return torch.stack([(h * xp[i:i + m]).sum() for i in range(len(xp) - m + 1)])
'''),
        ("padding ignored", '''
def conv1d_general(x, h, stride=1, padding=0):
    n, m = len(x), len(h)
    y = torch.zeros((n - m) // stride + 1, dtype=x.dtype)
    for i in range(len(y)):
        y[i] = (h * x[i * stride:i * stride + m]).sum()
    return y
'''),
    ],
    "true_convolution": [
        ("kernel not flipped", '''
def true_convolution(x, h):
    m = len(h)
    z = torch.zeros(m - 1, dtype=x.dtype)
    xp = torch.cat([z, x, z])
    return torch.stack([(h * xp[i:i + m]).sum() for i in range(len(xp) - m + 1)])
'''),
        ("no padding", '''
def true_convolution(x, h):
    n, m = len(x), len(h)
    hf = torch.flip(h, dims=[0])
    y = torch.zeros(n - m + 1, dtype=x.dtype)
    for i in range(n - m + 1):
        y[i] = (hf * x[i:i + m]).sum()
    return y
'''),
        ("one zero too many on each side", '''
def true_convolution(x, h):
    m = len(h)
    z = torch.zeros(m, dtype=x.dtype)
    xp = torch.cat([z, x, z])
    hf = h.flip(0)
    return torch.stack([(hf * xp[i:i + m]).sum() for i in range(len(xp) - m + 1)])
'''),
        ("one zero too few on each side", '''
def true_convolution(x, h):
    m = len(h)
    z = torch.zeros(m - 2, dtype=x.dtype)
    xp = torch.cat([z, x, z])
    hf = h.flip(0)
    return torch.stack([(hf * xp[i:i + m]).sum() for i in range(len(xp) - m + 1)])
'''),
        ("x flipped instead of h", '''
def true_convolution(x, h):
    m = len(h)
    z = torch.zeros(m - 1, dtype=x.dtype)
    xp = torch.cat([z, x.flip(0), z])
    return torch.stack([(h * xp[i:i + m]).sum() for i in range(len(xp) - m + 1)])
'''),
        ("kernel not flipped", '''
def true_convolution(x, h):
    n, m = len(x), len(h)
    y = torch.zeros(n + m - 1, dtype=x.dtype)
    for i in range(n):
        for j in range(m):
            y[i + j] += x[i] * h[m - 1 - j]
    return y
'''),
    ],
}
