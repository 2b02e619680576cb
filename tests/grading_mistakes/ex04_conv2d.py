"""Wrong answers students write for exercise 04, each labelled with the mistake it makes."""

BANK = {
    "conv2d_single": [
        ("kernel flipped", '''
def conv2d_single(x, w):
    H, W = x.shape
    kh, kw = w.shape
    wf = torch.flip(w, dims=[0, 1])
    y = torch.zeros(H - kh + 1, W - kw + 1, dtype=x.dtype)
    for a in range(H - kh + 1):
        for b in range(W - kw + 1):
            y[a, b] = (wf * x[a:a + kh, b:b + kw]).sum()
    return y
'''),
        ("kernel flipped along one axis", '''
def conv2d_single(x, w):
    H, W = x.shape
    kh, kw = w.shape
    y = torch.zeros(H - kh + 1, W - kw + 1, dtype=x.dtype)
    for a in range(H - kh + 1):
        for b in range(W - kw + 1):
            for i in range(kh):
                for j in range(kw):
                    y[a, b] += w[i, kw - 1 - j] * x[a + i, b + j]
    return y
'''),
        ("kernel transposed", '''
def conv2d_single(x, w):
    H, W = x.shape
    kw, kh = w.shape
    w = w.T
    y = torch.zeros(H - kh + 1, W - kw + 1, dtype=x.dtype)
    for a in range(H - kh + 1):
        for b in range(W - kw + 1):
            y[a, b] = (w * x[a:a + kh, b:b + kw]).sum()
    return y
'''),
        ("last row and column of windows missing", '''
def conv2d_single(x, w):
    H, W = x.shape
    kh, kw = w.shape
    rows = []
    for a in range(H - kh):
        rows.append([(w * x[a:a + kh, b:b + kw]).sum() for b in range(W - kw)])
    return torch.tensor(rows, dtype=x.dtype).reshape(H - kh, W - kw)
'''),
        ("mean instead of sum", '''
def conv2d_single(x, w):
    H, W = x.shape
    kh, kw = w.shape
    y = torch.zeros(H - kh + 1, W - kw + 1, dtype=x.dtype)
    for a in range(H - kh + 1):
        for b in range(W - kw + 1):
            y[a, b] = (w * x[a:a + kh, b:b + kw]).mean()
    return y
'''),
        ("kernel flipped", '''
def conv2d_single(x, w):
    H, W = x.shape
    kh, kw = w.shape
    y = torch.zeros(H - kh + 1, W - kw + 1, dtype=x.dtype)
    for a in range(H - kh + 1):
        for b in range(W - kw + 1):
            for i in range(kh):
                for j in range(kw):
                    y[a, b] += w[kh - 1 - i, kw - 1 - j] * x[a + i, b + j]
    return y
'''),
    ],
    "conv2d_layer": [
        ("bias forgotten", '''
def conv2d_layer(x, weight, bias, stride=1, padding=0):
    c_in, H, W = x.shape
    c_out, _, kh, kw = weight.shape
    xp = torch.zeros(c_in, H + 2 * padding, W + 2 * padding, dtype=x.dtype)
    xp[:, padding:padding + H, padding:padding + W] = x
    h_out = (H + 2 * padding - kh) // stride + 1
    w_out = (W + 2 * padding - kw) // stride + 1
    y = torch.zeros(c_out, h_out, w_out, dtype=x.dtype)
    for o in range(c_out):
        for a in range(h_out):
            for b in range(w_out):
                win = xp[:, a * stride:a * stride + kh, b * stride:b * stride + kw]
                y[o, a, b] = (weight[o] * win).sum()
    return y
'''),
        ("bias added once per input channel", '''
def conv2d_layer(x, weight, bias, stride=1, padding=0):
    c_in, H, W = x.shape
    c_out, _, kh, kw = weight.shape
    xp = torch.zeros(c_in, H + 2 * padding, W + 2 * padding, dtype=x.dtype)
    xp[:, padding:padding + H, padding:padding + W] = x
    h_out = (H + 2 * padding - kh) // stride + 1
    w_out = (W + 2 * padding - kw) // stride + 1
    y = torch.zeros(c_out, h_out, w_out, dtype=x.dtype)
    for o in range(c_out):
        for c in range(c_in):
            for a in range(h_out):
                for b in range(w_out):
                    win = xp[c, a * stride:a * stride + kh, b * stride:b * stride + kw]
                    y[o, a, b] += (weight[o, c] * win).sum() + bias[o]
    return y
'''),
        ("kernel flipped", '''
def conv2d_layer(x, weight, bias, stride=1, padding=0):
    c_in, H, W = x.shape
    c_out, _, kh, kw = weight.shape
    weight = weight.flip(2, 3)
    xp = torch.zeros(c_in, H + 2 * padding, W + 2 * padding, dtype=x.dtype)
    xp[:, padding:padding + H, padding:padding + W] = x
    h_out = (H + 2 * padding - kh) // stride + 1
    w_out = (W + 2 * padding - kw) // stride + 1
    y = torch.zeros(c_out, h_out, w_out, dtype=x.dtype)
    for a in range(h_out):
        for b in range(w_out):
            win = xp[:, a * stride:a * stride + kh, b * stride:b * stride + kw]
            y[:, a, b] = (weight * win).sum(dim=(1, 2, 3)) + bias
    return y
'''),
        ("stride ignored", '''
def conv2d_layer(x, weight, bias, stride=1, padding=0):
    c_in, H, W = x.shape
    c_out, _, kh, kw = weight.shape
    xp = torch.zeros(c_in, H + 2 * padding, W + 2 * padding, dtype=x.dtype)
    xp[:, padding:padding + H, padding:padding + W] = x
    h_out = H + 2 * padding - kh + 1
    w_out = W + 2 * padding - kw + 1
    y = torch.zeros(c_out, h_out, w_out, dtype=x.dtype)
    for a in range(h_out):
        for b in range(w_out):
            y[:, a, b] = (weight * xp[:, a:a + kh, b:b + kw]).sum(dim=(1, 2, 3)) + bias
    return y
'''),
        ("padding ignored", '''
def conv2d_layer(x, weight, bias, stride=1, padding=0):
    c_in, H, W = x.shape
    c_out, _, kh, kw = weight.shape
    h_out = (H - kh) // stride + 1
    w_out = (W - kw) // stride + 1
    y = torch.zeros(c_out, h_out, w_out, dtype=x.dtype)
    for a in range(h_out):
        for b in range(w_out):
            win = x[:, a * stride:a * stride + kh, b * stride:b * stride + kw]
            y[:, a, b] = (weight * win).sum(dim=(1, 2, 3)) + bias
    return y
'''),
        ("stride applied to the unpadded size", '''
def conv2d_layer(x, weight, bias, stride=1, padding=0):
    c_in, H, W = x.shape
    c_out, _, kh, kw = weight.shape
    xp = torch.zeros(c_in, H + 2 * padding, W + 2 * padding, dtype=x.dtype)
    xp[:, padding:padding + H, padding:padding + W] = x
    h_out = (H - kh) // stride + 1
    w_out = (W - kw) // stride + 1
    y = torch.zeros(c_out, h_out, w_out, dtype=x.dtype)
    for a in range(h_out):
        for b in range(w_out):
            win = xp[:, a * stride:a * stride + kh, b * stride:b * stride + kw]
            y[:, a, b] = (weight * win).sum(dim=(1, 2, 3)) + bias
    return y
'''),
    ],
    "conv_output_shape": [
        ("dilation counted from 0", '''
def conv_output_shape(h, w, k, stride=1, padding=0, dilation=1):
    span = (dilation + 1) * (k - 1) + 1
    return (h + 2 * padding - span) // stride + 1, (w + 2 * padding - span) // stride + 1
'''),
        ("dilation times the kernel size", '''
def conv_output_shape(h, w, k, stride=1, padding=0, dilation=1):
    span = dilation * k
    return (h + 2 * padding - span) // stride + 1, (w + 2 * padding - span) // stride + 1
'''),
        ("dilation ignored", '''
def conv_output_shape(h, w, k, stride=1, padding=0, dilation=1):
    return (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
'''),
        ("padding counted once", '''
def conv_output_shape(h, w, k, stride=1, padding=0, dilation=1):
    span = dilation * (k - 1) + 1
    return (h + padding - span) // stride + 1, (w + padding - span) // stride + 1
'''),
        ("true division instead of floor division", '''
def conv_output_shape(h, w, k, stride=1, padding=0, dilation=1):
    span = dilation * (k - 1) + 1
    return (h + 2 * padding - span) / stride + 1, (w + 2 * padding - span) / stride + 1
'''),
        ("height and width swapped", '''
def conv_output_shape(h, w, k, stride=1, padding=0, dilation=1):
    span = dilation * (k - 1) + 1
    h_out = (h + 2 * padding - span) // stride + 1
    w_out = (w + 2 * padding - span) // stride + 1
    return w_out, h_out
'''),
    ],
    "combine_kernels": [
        ("h flipped", '''
def combine_kernels(g, h):
    (gh, gw), (hh, hw) = g.shape, h.shape
    K = torch.zeros(gh + hh - 1, gw + hw - 1, dtype=g.dtype)
    hf = torch.flip(h, dims=[0, 1])
    for i in range(gh):
        for j in range(gw):
            K[i:i + hh, j:j + hw] += g[i, j] * hf
    return K
'''),
        ("result rotated by 180°", '''
def combine_kernels(g, h):
    (gh, gw), (hh, hw) = g.shape, h.shape
    K = torch.zeros(gh + hh - 1, gw + hw - 1, dtype=g.dtype)
    for i in range(gh):
        for j in range(gw):
            K[gh - 1 - i:gh - 1 - i + hh, gw - 1 - j:gw - 1 - j + hw] += g[i, j] * h.flip(0, 1)
    return K
'''),
        ("one row and column too many", '''
def combine_kernels(g, h):
    (gh, gw), (hh, hw) = g.shape, h.shape
    K = torch.zeros(gh + hh, gw + hw, dtype=g.dtype)
    for i in range(gh):
        for j in range(gw):
            K[i:i + hh, j:j + hw] += g[i, j] * h
    return K
'''),
        ("blocks overwritten instead of added", '''
def combine_kernels(g, h):
    (gh, gw), (hh, hw) = g.shape, h.shape
    K = torch.zeros(gh + hh - 1, gw + hw - 1, dtype=g.dtype)
    for i in range(gh):
        for j in range(gw):
            K[i:i + hh, j:j + hw] = g[i, j] * h
    return K
'''),
        ("row and column of g swapped", '''
def combine_kernels(g, h):
    (gh, gw), (hh, hw) = g.shape, h.shape
    K = torch.zeros(gh + hh - 1, gw + hw - 1, dtype=g.dtype)
    for i in range(gh):
        for j in range(gw):
            K[j:j + hh, i:i + hw] += g[i, j] * h
    return K
'''),
    ],
    "ncc_map": [
        ("no mean subtraction", '''
def ncc_map(image, template):
    H, W = image.shape
    h, w = template.shape
    t = template
    tn = torch.sqrt((t * t).sum())
    out = torch.zeros(H - h + 1, W - w + 1, dtype=image.dtype)
    for i in range(H - h + 1):
        for j in range(W - w + 1):
            x = image[i:i + h, j:j + w]
            xn = torch.sqrt((x * x).sum())
            if xn > 0:
                out[i, j] = (x * t).sum() / (xn * tn)
    return out
'''),
        ("template not normalised", '''
def ncc_map(image, template):
    H, W = image.shape
    h, w = template.shape
    t = template
    t = t - t.mean()
    out = torch.zeros(H - h + 1, W - w + 1, dtype=image.dtype)
    for i in range(H - h + 1):
        for j in range(W - w + 1):
            x = image[i:i + h, j:j + w]
            x = x - x.mean()
            xn = torch.sqrt((x * x).sum())
            if xn > 0:
                out[i, j] = (x * t).sum() / xn
    return out
'''),
        ("window norm taken before removing its mean", '''
def ncc_map(image, template):
    H, W = image.shape
    h, w = template.shape
    t = template
    t = t - t.mean()
    tn = torch.sqrt((t * t).sum())
    out = torch.zeros(H - h + 1, W - w + 1, dtype=image.dtype)
    for i in range(H - h + 1):
        for j in range(W - w + 1):
            x = image[i:i + h, j:j + w]
            xn = x.norm()
            x = x - x.mean()
            if xn > 0:
                out[i, j] = (x * t).sum() / (xn * tn)
    return out
'''),
        ("standard deviations instead of norms", '''
def ncc_map(image, template):
    H, W = image.shape
    h, w = template.shape
    t = template
    t = t - t.mean()
    ts = template.std()
    out = torch.zeros(H - h + 1, W - w + 1, dtype=image.dtype)
    for i in range(H - h + 1):
        for j in range(W - w + 1):
            x = image[i:i + h, j:j + w]
            xs = x.std()
            x = x - x.mean()
            if xs > 0:
                out[i, j] = (x * t).sum() / (xs * ts)
    return out
'''),
        ("template rotated by 180°", '''
def ncc_map(image, template):
    H, W = image.shape
    h, w = template.shape
    t = torch.flip(template, dims=[0, 1])
    t = t - t.mean()
    tn = torch.sqrt((t * t).sum())
    out = torch.zeros(H - h + 1, W - w + 1, dtype=image.dtype)
    for i in range(H - h + 1):
        for j in range(W - w + 1):
            x = image[i:i + h, j:j + w]
            x = x - x.mean()
            xn = torch.sqrt((x * x).sum())
            if xn > 0:
                out[i, j] = (x * t).sum() / (xn * tn)
    return out
'''),
        ("last row and column of windows missing", '''
def ncc_map(image, template):
    H, W = image.shape
    h, w = template.shape
    t = template
    t = t - t.mean()
    tn = torch.sqrt((t * t).sum())
    out = torch.zeros(H - h, W - w, dtype=image.dtype)
    for i in range(H - h):
        for j in range(W - w):
            x = image[i:i + h, j:j + w]
            x = x - x.mean()
            xn = torch.sqrt((x * x).sum())
            if xn > 0:
                out[i, j] = (x * t).sum() / (xn * tn)
    return out
'''),
    ],
    "find_template": [
        ("plain correlation instead of NCC", '''
def find_template(image, template):
    H, W = image.shape
    h, w = template.shape
    best, where = None, (0, 0)
    for i in range(H - h + 1):
        for j in range(W - w + 1):
            score = (image[i:i + h, j:j + w] * template).sum()
            if best is None or score > best:
                best, where = score, (i, j)
    return where
'''),
        ("(col, row) instead of (row, col)", '''
def find_template(image, template):
    H, W = image.shape
    h, w = template.shape
    t = template - template.mean()
    scores = torch.zeros(H - h + 1, W - w + 1)
    for i in range(H - h + 1):
        for j in range(W - w + 1):
            x = image[i:i + h, j:j + w] - image[i:i + h, j:j + w].mean()
            if x.norm() > 0:
                scores[i, j] = (x * t).sum() / (x.norm() * t.norm())
    k = int(torch.argmax(scores))
    return k % scores.shape[1], k // scores.shape[1]
'''),
        ("centre of the window instead of its corner", '''
def find_template(image, template):
    H, W = image.shape
    h, w = template.shape
    t = template - template.mean()
    scores = torch.zeros(H - h + 1, W - w + 1)
    for i in range(H - h + 1):
        for j in range(W - w + 1):
            x = image[i:i + h, j:j + w] - image[i:i + h, j:j + w].mean()
            if x.norm() > 0:
                scores[i, j] = (x * t).sum() / (x.norm() * t.norm())
    k = int(torch.argmax(scores))
    return k // scores.shape[1] + h // 2, k % scores.shape[1] + w // 2
'''),
        ("smallest score instead of the largest", '''
def find_template(image, template):
    H, W = image.shape
    h, w = template.shape
    t = template - template.mean()
    scores = torch.zeros(H - h + 1, W - w + 1)
    for i in range(H - h + 1):
        for j in range(W - w + 1):
            x = image[i:i + h, j:j + w] - image[i:i + h, j:j + w].mean()
            if x.norm() > 0:
                scores[i, j] = (x * t).sum() / (x.norm() * t.norm())
    k = int(torch.argmin(scores))
    return k // scores.shape[1], k % scores.shape[1]
'''),
        ("flat index split by the number of rows", '''
def find_template(image, template):
    H, W = image.shape
    h, w = template.shape
    t = template - template.mean()
    scores = torch.zeros(H - h + 1, W - w + 1)
    for i in range(H - h + 1):
        for j in range(W - w + 1):
            x = image[i:i + h, j:j + w] - image[i:i + h, j:j + w].mean()
            if x.norm() > 0:
                scores[i, j] = (x * t).sum() / (x.norm() * t.norm())
    k = int(torch.argmax(scores))
    rows = scores.shape[0]
    return k // rows, k % rows
'''),
    ],
}
