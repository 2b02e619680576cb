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
    "strided_equivariance_error": [
        ("output shifted by t instead of t/s", """
def strided_equivariance_error(x, stride, shift):
    d = x[::stride, ::stride]
    moved = torch.roll(x, shift, dims=-1)[::stride, ::stride]
    return (moved - torch.roll(d, shift, dims=-1)).norm() / d.norm()
"""),
        ("absolute error", """
def strided_equivariance_error(x, stride, shift):
    d = x[::stride, ::stride]
    moved = torch.roll(x, shift, dims=-1)[::stride, ::stride]
    freq = torch.fft.fftfreq(d.shape[-1])
    ramp = torch.exp(-2j * math.pi * freq * shift / stride)
    target = torch.fft.ifft(torch.fft.fft(d) * ramp).real
    return (moved - target).norm()
"""),
        ("divided by the input's norm", """
def strided_equivariance_error(x, stride, shift):
    d = x[::stride, ::stride]
    moved = torch.roll(x, shift, dims=-1)[::stride, ::stride]
    freq = torch.fft.fftfreq(d.shape[-1])
    ramp = torch.exp(-2j * math.pi * freq * shift / stride)
    target = torch.fft.ifft(torch.fft.fft(d) * ramp).real
    return (moved - target).norm() / x.norm()
"""),
        ("shifted along the rows", """
def strided_equivariance_error(x, stride, shift):
    d = x[::stride, ::stride]
    moved = torch.roll(x, shift, dims=0)[::stride, ::stride]
    freq = torch.fft.fftfreq(d.shape[0])[:, None]
    ramp = torch.exp(-2j * math.pi * freq * shift / stride)
    target = torch.fft.ifft(torch.fft.fft(d, dim=0) * ramp, dim=0).real
    return (moved - target).norm() / d.norm()
"""),
        ("t/s rounded to whole samples", """
def strided_equivariance_error(x, stride, shift):
    d = x[::stride, ::stride]
    moved = torch.roll(x, shift, dims=-1)[::stride, ::stride]
    return (moved - torch.roll(d, shift // stride, dims=-1)).norm() / d.norm()
"""),
        ("output shifted the wrong way", """
def strided_equivariance_error(x, stride, shift):
    d = x[::stride, ::stride]
    moved = torch.roll(x, shift, dims=-1)[::stride, ::stride]
    freq = torch.fft.fftfreq(d.shape[-1])
    ramp = torch.exp(2j * math.pi * freq * shift / stride)
    target = torch.fft.ifft(torch.fft.fft(d) * ramp).real
    return (moved - target).norm() / d.norm()
"""),
        ("subsampled along the width only", """
def strided_equivariance_error(x, stride, shift):
    d = x[:, ::stride]
    moved = torch.roll(x, shift, dims=-1)[:, ::stride]
    freq = torch.fft.fftfreq(d.shape[-1])
    ramp = torch.exp(-2j * math.pi * freq * shift / stride)
    target = torch.fft.ifft(torch.fft.fft(d) * ramp).real
    return (moved - target).norm() / d.norm()
"""),
    ],
    "blur_downsample": [
        ("no blur", """
def blur_downsample(x, stride):
    return x[..., ::stride, ::stride]
"""),
        ("blurred after subsampling", """
def blur_downsample(x, stride):
    import torch.nn.functional as F
    b = torch.tensor([1.0, 2.0, 1.0]) / 4
    c = x.shape[1]
    kept = F.pad(x[..., ::stride, ::stride], (1, 1, 1, 1), mode="circular")
    return F.conv2d(kept, torch.outer(b, b).expand(c, 1, 3, 3), groups=c)
"""),
        ("zero padding", """
def blur_downsample(x, stride):
    import torch.nn.functional as F
    b = torch.tensor([1.0, 2.0, 1.0]) / 4
    c = x.shape[1]
    blurred = F.conv2d(x, torch.outer(b, b).expand(c, 1, 3, 3), padding=1, groups=c)
    return blurred[..., ::stride, ::stride]
"""),
        ("blur that does not sum to 1", """
def blur_downsample(x, stride):
    import torch.nn.functional as F
    b = torch.tensor([1.0, 2.0, 1.0])
    c = x.shape[1]
    padded = F.pad(x, (1, 1, 1, 1), mode="circular")
    blurred = F.conv2d(padded, torch.outer(b, b).expand(c, 1, 3, 3), groups=c)
    return blurred[..., ::stride, ::stride]
"""),
        ("box of width 2", """
def blur_downsample(x, stride):
    import torch.nn.functional as F
    return F.avg_pool2d(F.pad(x, (0, 1, 0, 1), mode="circular"), 2, stride=1)[
        ..., ::stride, ::stride]
"""),
    ],
}
