"""Wrong answers students write for exercise 09, each labelled with the mistake it makes."""

BANK = {
    "im2col_matrix": [
        ("patches as rows", '''
def im2col_matrix(x, k):
    c, h, w = x.shape
    h_out, w_out = h - k + 1, w - k + 1
    rows = []
    for a in range(h_out):
        for b in range(w_out):
            rows.append(x[:, a:a + k, b:b + k].reshape(-1))
    return torch.stack(rows)
'''),
        ("columns ordered down the columns", '''
def im2col_matrix(x, k):
    c, h, w = x.shape
    h_out, w_out = h - k + 1, w - k + 1
    columns = []
    for b in range(w_out):
        for a in range(h_out):
            columns.append(x[:, a:a + k, b:b + k].flatten())
    return torch.stack(columns, dim=1)
'''),
        ("channels last within a patch", '''
def im2col_matrix(x, k):
    c, h, w = x.shape
    h_out, w_out = h - k + 1, w - k + 1
    out = torch.empty(c * k * k, h_out * w_out, dtype=x.dtype)
    for a in range(h_out):
        for b in range(w_out):
            row = 0
            for i in range(k):
                for j in range(k):
                    for ch in range(c):
                        out[row, a * w_out + b] = x[ch, a + i, b + j]
                        row += 1
    return out
'''),
        ("patch read column by column", '''
def im2col_matrix(x, k):
    c, h, w = x.shape
    h_out, w_out = h - k + 1, w - k + 1
    out = torch.zeros(c * k * k, h_out * w_out, dtype=x.dtype)
    for ch in range(c):
        for i in range(k):
            for j in range(k):
                row = ch * k * k + j * k + i
                for a in range(h_out):
                    for b in range(w_out):
                        out[row, a * w_out + b] = x[ch, a + i, b + j]
    return out
'''),
        ("+1 forgotten", '''
def im2col_matrix(x, k):
    c, h, w = x.shape
    h_out, w_out = h - k, w - k
    out = torch.empty(c * k * k, h_out * w_out, dtype=x.dtype)
    for a in range(h_out):
        for b in range(w_out):
            out[:, a * w_out + b] = x[:, a:a + k, b:b + k].reshape(-1)
    return out
'''),
    ],
    "conv_flops": [
        ("MACs instead of FLOPs", '''
def conv_flops(c_in, c_out, h, w, k, stride=1, padding=0):
    h_out = (h + 2 * padding - k) // stride + 1
    w_out = (w + 2 * padding - k) // stride + 1
    return c_out * h_out * w_out * c_in * k * k
'''),
        ("stride ignored", '''
def conv_flops(c_in, c_out, h, w, k, stride=1, padding=0):
    h_out = h + 2 * padding - k + 1
    w_out = w + 2 * padding - k + 1
    return 2 * c_out * h_out * w_out * c_in * k * k
'''),
        ("padding ignored", '''
def conv_flops(c_in, c_out, h, w, k, stride=1, padding=0):
    h_out = (h - k) // stride + 1
    w_out = (w - k) // stride + 1
    macs = c_out * h_out * w_out * c_in * k ** 2
    return 2 * macs
'''),
        ("padding counted once", '''
def conv_flops(c_in, c_out, h, w, k, stride=1, padding=0):
    h_out = (h + padding - k) // stride + 1
    w_out = (w + padding - k) // stride + 1
    return 2 * c_out * h_out * w_out * c_in * k * k
'''),
        ("k instead of k²", '''
def conv_flops(c_in, c_out, h, w, k, stride=1, padding=0):
    h_out = (h + 2 * padding - k) // stride + 1
    w_out = (w + 2 * padding - k) // stride + 1
    per_output = 2 * c_in * k
    return per_output * c_out * h_out * w_out
'''),
        ("output size rounded up", '''
import math


def conv_flops(c_in, c_out, h, w, k, stride=1, padding=0):
    h_out = math.ceil((h + 2 * padding - k) / stride) + 1
    w_out = math.ceil((w + 2 * padding - k) / stride) + 1
    return 2 * c_out * h_out * w_out * c_in * k * k
'''),
    ],
    "im2col_bytes": [
        ("values instead of bytes", '''
def im2col_bytes(c, h, w, k, stride, padding, element_size):
    h_out = (h + 2 * padding - k) // stride + 1
    w_out = (w + 2 * padding - k) // stride + 1
    return c * k * k * h_out * w_out
'''),
        ("k instead of k²", '''
def im2col_bytes(c, h, w, k, stride, padding, element_size):
    h_out = (h + 2 * padding - k) // stride + 1
    w_out = (w + 2 * padding - k) // stride + 1
    rows, cols = c * k, h_out * w_out
    return rows * cols * element_size
'''),
        ("the input's size", '''
def im2col_bytes(c, h, w, k, stride, padding, element_size):
    return c * h * w * element_size
'''),
        ("stride ignored", '''
def im2col_bytes(c, h, w, k, stride, padding, element_size):
    h_out = h + 2 * padding - k + 1
    w_out = w + 2 * padding - k + 1
    return c * k * k * h_out * w_out * element_size
'''),
        ("padding ignored", '''
def im2col_bytes(c, h, w, k, stride, padding, element_size):
    h_out = (h - k) // stride + 1
    w_out = (w - k) // stride + 1
    return c * k * k * h_out * w_out * element_size
'''),
    ],
    "winograd_products": [
        ("halves forgotten", '''
def winograd_products(d, g):
    d0, d1, d2, d3 = d
    g0, g1, g2 = g
    m1 = (d0 - d2) * g0
    m2 = (d1 + d2) * (g0 + g1 + g2)
    m3 = (d2 - d1) * (g0 - g1 + g2)
    m4 = (d1 - d3) * g2
    return torch.stack([m1, m2, m3, m4])
'''),
        ("m3 with m2's filter term", '''
def winograd_products(d, g):
    d0, d1, d2, d3 = d
    g0, g1, g2 = g
    s = (g0 + g1 + g2) / 2
    return torch.stack([(d0 - d2) * g0, (d1 + d2) * s, (d2 - d1) * s, (d1 - d3) * g2])
'''),
        ("m1 and m4 differences reversed", '''
def winograd_products(d, g):
    d0, d1, d2, d3 = d
    g0, g1, g2 = g
    return torch.stack([(d2 - d0) * g0,
                        (d1 + d2) * (g0 + g1 + g2) / 2,
                        (d2 - d1) * (g0 - g1 + g2) / 2,
                        (d3 - d1) * g2])
'''),
        ("m3's data difference reversed", '''
def winograd_products(d, g):
    m1 = (d[0] - d[2]) * g[0]
    m2 = (d[1] + d[2]) * (g[0] + g[1] + g[2]) / 2
    m3 = (d[1] - d[2]) * (g[0] - g[1] + g[2]) / 2
    m4 = (d[1] - d[3]) * g[2]
    return torch.stack([m1, m2, m3, m4])
'''),
        ("filter reversed", '''
def winograd_products(d, g):
    d0, d1, d2, d3 = d
    g2, g1, g0 = g
    return torch.stack([(d0 - d2) * g0,
                        (d1 + d2) * (g0 + g1 + g2) / 2,
                        (d2 - d1) * (g0 - g1 + g2) / 2,
                        (d1 - d3) * g2])
'''),
    ],
}
