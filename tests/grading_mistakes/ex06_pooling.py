"""Wrong answers students write for exercise 06, each labelled with the mistake it makes."""

BANK = {
    "max_pool": [
        ("padding with zeros", '''
def max_pool(x, k, stride, padding):
    h, w = x.shape
    xp = torch.zeros(h + 2 * padding, w + 2 * padding, dtype=x.dtype)
    xp[padding:padding + h, padding:padding + w] = x
    h_out = (h + 2 * padding - k) // stride + 1
    w_out = (w + 2 * padding - k) // stride + 1
    y = torch.empty(h_out, w_out, dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            y[i, j] = xp[i * stride:i * stride + k, j * stride:j * stride + k].max()
    return y
'''),
        ("stride ignored", '''
def max_pool(x, k, stride, padding):
    h, w = x.shape
    xp = torch.full((h + 2 * padding, w + 2 * padding), float("-inf"), dtype=x.dtype)
    xp[padding:padding + h, padding:padding + w] = x
    h_out = h + 2 * padding - k + 1
    w_out = w + 2 * padding - k + 1
    y = torch.empty(h_out, w_out, dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            y[i, j] = xp[i:i + k, j:j + k].max()
    return y
'''),
        ("padding ignored", '''
def max_pool(x, k, stride, padding):
    h, w = x.shape
    h_out = (h - k) // stride + 1
    w_out = (w - k) // stride + 1
    y = torch.empty(h_out, w_out, dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            y[i, j] = x[i * stride:i * stride + k, j * stride:j * stride + k].max()
    return y
'''),
        ("stride applied to the unpadded size", '''
def max_pool(x, k, stride, padding):
    h, w = x.shape
    xp = torch.full((h + 2 * padding, w + 2 * padding), float("-inf"), dtype=x.dtype)
    xp[padding:padding + h, padding:padding + w] = x
    h_out = (h - k) // stride + 1
    w_out = (w - k) // stride + 1
    y = torch.empty(h_out, w_out, dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            y[i, j] = xp[i * stride:i * stride + k, j * stride:j * stride + k].max()
    return y
'''),
        ("last row and column of windows missing", '''
def max_pool(x, k, stride, padding):
    h, w = x.shape
    xp = torch.full((h + 2 * padding, w + 2 * padding), float("-inf"), dtype=x.dtype)
    xp[padding:padding + h, padding:padding + w] = x
    h_out = (h + 2 * padding - k) // stride
    w_out = (w + 2 * padding - k) // stride
    y = torch.empty(h_out, w_out, dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            y[i, j] = xp[i * stride:i * stride + k, j * stride:j * stride + k].max()
    return y
'''),
        ("mean instead of max", '''
def max_pool(x, k, stride, padding):
    h, w = x.shape
    xp = torch.full((h + 2 * padding, w + 2 * padding), float("-inf"), dtype=x.dtype)
    xp[padding:padding + h, padding:padding + w] = x
    h_out = (h + 2 * padding - k) // stride + 1
    w_out = (w + 2 * padding - k) // stride + 1
    y = torch.empty(h_out, w_out, dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            y[i, j] = xp[i * stride:i * stride + k, j * stride:j * stride + k].mean()
    return y
'''),
    ],
    "pool_output_shape": [
        ("stride None taken as 1", '''
def pool_output_shape(h, w, k, stride=None, padding=0):
    if stride is None:
        stride = 1
    return (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
'''),
        ("padding counted once", '''
def pool_output_shape(h, w, k, stride=None, padding=0):
    s = k if stride is None else stride
    return (h + padding - k) // s + 1, (w + padding - k) // s + 1
'''),
        ("rounded up", '''
def pool_output_shape(h, w, k, stride=None, padding=0):
    s = stride or k
    return math.ceil((h + 2 * padding - k) / s) + 1, math.ceil((w + 2 * padding - k) / s) + 1
'''),
        ("+1 forgotten", '''
def pool_output_shape(h, w, k, stride=None, padding=0):
    if stride is None:
        stride = k
    return (h + 2 * padding - k) // stride, (w + 2 * padding - k) // stride
'''),
        ("height and width swapped", '''
def pool_output_shape(h, w, k, stride=None, padding=0):
    if stride is None:
        stride = k
    return (w + 2 * padding - k) // stride + 1, (h + 2 * padding - k) // stride + 1
'''),
    ],
    "receptive_field_size": [
        ("jump updated too early", '''
def receptive_field_size(layers):
    r, jump = 1, 1
    for k, s in layers:
        jump *= s
        r += (k - 1) * jump
    return r
'''),
        ("strides ignored", '''
def receptive_field_size(layers):
    r = 1
    for k, s in layers:
        r += k - 1
    return r
'''),
        ("started from 0", '''
def receptive_field_size(layers):
    r, jump = 0, 1
    for k, s in layers:
        r += (k - 1) * jump
        jump *= s
    return r
'''),
        ("jump multiplied by the kernel size", '''
def receptive_field_size(layers):
    r, jump = 1, 1
    for k, s in layers:
        r += (k - 1) * jump
        jump *= k
    return r
'''),
        ("k instead of k − 1", '''
def receptive_field_size(layers):
    r, jump = 1, 1
    for k, s in layers:
        r += k * jump
        jump *= s
    return r
'''),
    ],
    "lp_pool": [
        ("root forgotten", '''
def lp_pool(x, p, k):
    n_out = len(x) // k
    windows = x[:n_out * k].reshape(n_out, k)
    if p == math.inf:
        return windows.max(dim=1).values
    return (windows ** p).sum(dim=1)
'''),
        ("overlapping windows", '''
def lp_pool(x, p, k):
    out = []
    for i in range(len(x) - k + 1):
        win = x[i:i + k]
        out.append(win.max() if p == math.inf else (win ** p).sum() ** (1 / p))
    return torch.stack(out)
'''),
        ("mean instead of sum", '''
def lp_pool(x, p, k):
    n_out = len(x) // k
    windows = x[:n_out * k].reshape(n_out, k)
    if p == math.inf:
        return windows.max(dim=1).values
    return (windows ** p).mean(dim=1) ** (1 / p)
'''),
        ("p = ∞ not handled", '''
def lp_pool(x, p, k):
    n_out = len(x) // k
    windows = x[:n_out * k].reshape(n_out, k)
    return (windows ** p).sum(dim=1) ** (1 / p)
'''),
        ("last partial window kept", '''
def lp_pool(x, p, k):
    out = []
    for i in range(0, len(x), k):
        win = x[i:i + k]
        out.append(win.max() if p == math.inf else (win ** p).sum() ** (1 / p))
    return torch.stack(out)
'''),
    ],
}
