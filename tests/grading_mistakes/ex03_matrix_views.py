"""Wrong answers students write for exercise 03, each labelled with the mistake it makes."""

BANK = {
    "toeplitz": [
        ("padding ignored", '''
def toeplitz(h, n, stride=1, padding=0):
    m = len(h)
    o = (n - m) // stride + 1
    T = torch.zeros(o, n, dtype=h.dtype)
    for i in range(o):
        T[i, i * stride:i * stride + m] = h
    return T
'''),
        ("stride ignored", '''
def toeplitz(h, n, stride=1, padding=0):
    m = len(h)
    o = n + 2 * padding - m + 1
    T = torch.zeros(o, n, dtype=h.dtype)
    for i in range(o):
        for j in range(m):
            col = i + j - padding
            if 0 <= col < n:
                T[i, col] = h[j]
    return T
'''),
        ("kernel flipped", '''
def toeplitz(h, n, stride=1, padding=0):
    m = len(h)
    o = (n + 2 * padding - m) // stride + 1
    T = torch.zeros(o, n, dtype=h.dtype)
    for i in range(o):
        for j in range(m):
            col = i * stride + j - padding
            if 0 <= col < n:
                T[i, col] = h[m - 1 - j]
    return T
'''),
        ("stride applied to the unpadded size", '''
def toeplitz(h, n, stride=1, padding=0):
    m = len(h)
    o = (n - m) // stride + 1
    T = torch.zeros(o, n, dtype=h.dtype)
    for i in range(o):
        for j in range(m):
            col = i * stride + j - padding
            if 0 <= col < n:
                T[i, col] = h[j]
    return T
'''),
        ("matrix built for the padded signal", '''
def toeplitz(h, n, stride=1, padding=0):
    m = len(h)
    width = n + 2 * padding
    o = (width - m) // stride + 1
    T = torch.zeros(o, width, dtype=h.dtype)
    for i in range(o):
        T[i, i * stride:i * stride + m] = h
    return T
'''),
        ("padding offset with the wrong sign", '''
def toeplitz(h, n, stride=1, padding=0):
    m = len(h)
    o = (n + 2 * padding - m) // stride + 1
    T = torch.zeros(o, n, dtype=h.dtype)
    for i in range(o):
        for j in range(m):
            col = i * stride + j + padding
            if 0 <= col < n:
                T[i, col] = h[j]
    return T
'''),
    ],
    "circulant": [
        ("kernel flipped", '''
def circulant(h, n):
    C = torch.zeros(n, n, dtype=h.dtype)
    for i in range(n):
        for j in range(len(h)):
            C[i, (i - j) % n] = h[j]
    return C
'''),
        ("no wrap-around", '''
def circulant(h, n):
    C = torch.zeros(n, n, dtype=h.dtype)
    for i in range(n):
        for j in range(len(h)):
            if i + j < n:
                C[i, i + j] = h[j]
    return C
'''),
        ("transposed", '''
def circulant(h, n):
    C = torch.zeros(n, n, dtype=h.dtype)
    for i in range(n):
        for j in range(len(h)):
            C[(i + j) % n, i] = h[j]
    return C
'''),
        ("rows shifted the wrong way", '''
def circulant(h, n):
    C = torch.zeros(n, n, dtype=h.dtype)
    for i in range(n):
        for j in range(len(h)):
            C[i, (j - i) % n] = h[j]
    return C
'''),
        ("size taken from h instead of n", '''
def circulant(h, n):
    m = len(h)
    C = torch.zeros(m, m, dtype=h.dtype)
    for i in range(m):
        for j in range(m):
            C[i, (i + j) % m] = h[j]
    return C
'''),
    ],
    "toeplitz_nonzeros": [
        ("padding losses ignored", '''
def toeplitz_nonzeros(n, m, p):
    rows = n + 2 * p - m + 1
    return rows * m
'''),
        ("losses counted at one end only", '''
def toeplitz_nonzeros(n, m, p):
    return (n + 2 * p - m + 1) * m - p * (p + 1) // 2
'''),
        ("padding ignored", '''
def toeplitz_nonzeros(n, m, p):
    return (n - m + 1) * m
'''),
        ("p² instead of p(p + 1)", '''
def toeplitz_nonzeros(n, m, p):
    return (n + 2 * p - m + 1) * m - p ** 2
'''),
        ("+1 forgotten in the rows", '''
def toeplitz_nonzeros(n, m, p):
    return (n + 2 * p - m) * m - p * (p + 1)
'''),
    ],
    "kernel_from_response": [
        ("whole response reversed", '''
def kernel_from_response(r):
    return torch.flip(r, dims=[0])
'''),
        ("response returned as it is", '''
def kernel_from_response(r):
    return r.clone()
'''),
        ("index off by one", '''
def kernel_from_response(r):
    n = len(r)
    return torch.stack([r[(1 - j) % n] for j in range(n)])
'''),
        ("index 0 moved to the end", '''
def kernel_from_response(r):
    return torch.cat([r[1:].flip(0), r[:1]])
'''),
    ],
    "circulant_eigenvalues": [
        ("conjugated eigenvalues", '''
def circulant_eigenvalues(c):
    n = len(c)
    row = torch.stack([c[(-j) % n] for j in range(n)])  # read as row 0
    lam = torch.fft.fft(row)
    return torch.stack([lam.real, lam.imag], dim=1)
'''),
        ("conjugated eigenvalues", '''
def circulant_eigenvalues(c):
    n = len(c)
    j = torch.arange(n, dtype=torch.float64)
    angle = 2 * torch.pi * torch.outer(j, j) / n
    re = (torch.cos(angle) * c.double()).sum(1)
    im = (torch.sin(angle) * c.double()).sum(1)
    return torch.stack([re, im], dim=1).to(c.dtype)
'''),
        ("inverse DFT instead of the DFT", '''
def circulant_eigenvalues(c):
    lam = torch.fft.ifft(c)
    return torch.stack([lam.real, lam.imag], dim=1)
'''),
        ("divided by n", '''
def circulant_eigenvalues(c):
    lam = torch.fft.fft(c, norm="forward")
    return torch.stack([lam.real, lam.imag], dim=1)
'''),
        ("column reversed with flip", '''
def circulant_eigenvalues(c):
    lam = torch.fft.fft(torch.flip(c, [0]))
    return torch.stack([lam.real, lam.imag], dim=1)
'''),
        ("real and imaginary parts swapped", '''
def circulant_eigenvalues(c):
    lam = torch.fft.fft(c)
    return torch.stack([lam.imag, lam.real], dim=1)
'''),
        ("magnitude and phase instead of real and imaginary parts", '''
def circulant_eigenvalues(c):
    lam = torch.fft.fft(c)
    return torch.stack([lam.abs(), torch.angle(lam)], dim=1)
'''),
    ],
    "circular_deconvolve": [
        ("eigenvalues of the kernel read as the first column", '''
def circular_deconvolve(y, h):
    lam = torch.fft.fft(h, n=len(y))  # h zero-padded to n
    return torch.fft.ifft(torch.fft.fft(y) / lam).real
'''),
        ("eigenvalues of the kernel read as the first column", '''
def circular_deconvolve(y, h):
    n = len(y)
    h_pad = torch.zeros(n, dtype=h.dtype)
    h_pad[: len(h)] = h
    lam = torch.fft.fft(torch.roll(h_pad.flip(0), 1))
    return torch.fft.fft(torch.fft.ifft(y) / lam).real  # transforms swapped
'''),
        ("divided the wrong way", '''
def circular_deconvolve(y, h):
    n = len(y)
    h_pad = torch.zeros(n, dtype=h.dtype)
    h_pad[: len(h)] = h
    lam = torch.fft.fft(torch.roll(h_pad.flip(0), 1))
    return torch.fft.ifft(lam / torch.fft.fft(y)).real
'''),
        ("multiplied instead of divided", '''
def circular_deconvolve(y, h):
    n = len(y)
    h_pad = torch.zeros(n, dtype=h.dtype)
    h_pad[: len(h)] = h
    lam = torch.fft.fft(torch.roll(h_pad.flip(0), 1))
    return torch.fft.ifft(torch.fft.fft(y) * lam).real
'''),
        ("magnitude instead of real part", '''
def circular_deconvolve(y, h):
    n = len(y)
    h_pad = torch.zeros(n, dtype=h.dtype)
    h_pad[: len(h)] = h
    lam = torch.fft.fft(torch.roll(h_pad.flip(0), 1))
    return torch.fft.ifft(torch.fft.fft(y) / lam).abs()
'''),
        ("divided by n", '''
def circular_deconvolve(y, h):
    n = len(y)
    h_pad = torch.zeros(n, dtype=h.dtype)
    h_pad[: len(h)] = h
    lam = torch.fft.fft(torch.roll(h_pad.flip(0), 1))
    return torch.fft.ifft(torch.fft.fft(y) / lam).real / n
'''),
        ("kernel reversed with flip instead of circular flip", '''
def circular_deconvolve(y, h):
    n = len(y)
    h_pad = torch.zeros(n, dtype=h.dtype)
    h_pad[: len(h)] = h
    lam = torch.fft.fft(h_pad.flip(0))
    return torch.fft.ifft(torch.fft.fft(y) / lam).real
'''),
    ],
}
