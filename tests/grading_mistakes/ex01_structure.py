"""Wrong answers students write for exercise 01, each labelled with the mistake it makes."""

_SHIFT = '''
    def shift(v, k):
        n = len(v)
        k = k % n
        return torch.cat([v[n - k:], v[:n - k]])
'''

BANK = {
    "translate": [
        ("shifted the wrong way", '''
def translate(x, k):
    n = len(x)
    k = k % n
    return torch.cat([x[k:], x[:k]])
'''),
        ("k not reduced modulo n", '''
def translate(x, k):
    n = len(x)
    return torch.cat([x[n - k:], x[:n - k]])
'''),
        ("zeros come in instead of wrapping", '''
def translate(x, k):
    n = len(x)
    out = torch.zeros_like(x)
    for i in range(n):
        if 0 <= i - k < n:
            out[i] = x[i - k]
    return out
'''),
        ("sign of k lost", '''
def translate(x, k):
    n = len(x)
    k = abs(k) % n
    return torch.cat([x[n - k:], x[:n - k]])
'''),
        ("shifted the wrong way", '''
def translate(x, k):
    n = len(x)
    return torch.stack([x[(i + k) % n] for i in range(n)])
'''),
    ],
    "translate_image": [
        ("rows and columns swapped", '''
def translate_image(img, dy, dx):
    h, w = img.shape
    out = torch.zeros_like(img)
    for a in range(h):
        for b in range(w):
            if 0 <= a - dx < h and 0 <= b - dy < w:
                out[a, b] = img[a - dx, b - dy]
    return out
'''),
        ("wraps around instead of zeros", '''
def translate_image(img, dy, dx):
    h, w = img.shape
    out = torch.zeros_like(img)
    for a in range(h):
        for b in range(w):
            out[a, b] = img[(a - dy) % h, (b - dx) % w]
    return out
'''),
        ("shifted the wrong way", '''
def translate_image(img, dy, dx):
    h, w = img.shape
    out = torch.zeros_like(img)
    for a in range(h):
        for b in range(w):
            if 0 <= a + dy < h and 0 <= b + dx < w:
                out[a, b] = img[a + dy, b + dx]
    return out
'''),
        ("large shifts not handled", '''
def translate_image(img, dy, dx):
    h, w = img.shape
    out = torch.zeros_like(img)
    rows_out = slice(max(dy, 0), h + min(dy, 0))
    rows_in = slice(max(-dy, 0), h - max(dy, 0))
    cols_out = slice(max(dx, 0), w + min(dx, 0))
    cols_in = slice(max(-dx, 0), w - max(dx, 0))
    out[rows_out, cols_out] = img[rows_in, cols_in]
    return out
'''),
        ("dx ignored", '''
def translate_image(img, dy, dx):
    h, w = img.shape
    out = torch.zeros_like(img)
    for a in range(h):
        if 0 <= a - dy < h:
            out[a] = img[a - dy]
    return out
'''),
    ],
    "dense_params": [
        ("bias forgotten", '''
def dense_params(c, h, w, units):
    return c * h * w * units
'''),
        ("one bias per input", '''
def dense_params(c, h, w, units):
    inputs = c * h * w
    return inputs * units + inputs
'''),
        ("channels forgotten", '''
def dense_params(c, h, w, units):
    return h * w * units + units
'''),
        ("one weight per input only", '''
def dense_params(c, h, w, units):
    return c * h * w + units
'''),
    ],
    "scramble_weights": [
        ("inverse permutation", '''
def scramble_weights(weight, perm):
    new = torch.zeros_like(weight)
    new[:, perm] = weight
    return new
'''),
        ("rows permuted instead of columns", '''
def scramble_weights(weight, perm):
    return weight[perm]
'''),
        ("weights not moved", '''
def scramble_weights(weight, perm):
    return weight.clone()
'''),
        ("inverse permutation", '''
def scramble_weights(weight, perm):
    inverse = torch.argsort(perm)
    return weight[:, inverse]
'''),
    ],
    "equivariance_error": [
        ("not normalised", '''
def equivariance_error(A, x, k):''' + _SHIFT + '''
    return float((A @ shift(x, k) - shift(A @ x, k)).norm())
'''),
        ("normalised by the input", '''
def equivariance_error(A, x, k):''' + _SHIFT + '''
    gap = A @ shift(x, k) - shift(A @ x, k)
    return float(gap.norm() / x.norm())
'''),
        ("shifted back the wrong way", '''
def equivariance_error(A, x, k):''' + _SHIFT + '''
    gap = A @ shift(x, k) - shift(A @ x, -k)
    return float(gap.norm() / (A @ x).norm())
'''),
        ("squared norms", '''
def equivariance_error(A, x, k):''' + _SHIFT + '''
    gap = A @ shift(x, k) - shift(A @ x, k)
    return float((gap ** 2).sum() / ((A @ x) ** 2).sum())
'''),
        ("sum of absolute values instead of the norm", '''
def equivariance_error(A, x, k):''' + _SHIFT + '''
    gap = A @ shift(x, k) - shift(A @ x, k)
    return float(gap.abs().sum() / (A @ x).abs().sum())
'''),
    ],
}
