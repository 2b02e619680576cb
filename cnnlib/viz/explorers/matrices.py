"""Explorer of chapter 3: the Toeplitz matrix of a 1D filter next to its circulant.

Pick a kernel (a preset and a size ``m``), a signal length ``n`` and a padding; the explorer
draws, with one matrix entry the same size in both panels:

- left, the Toeplitz matrix ``T`` of zero-padded convolution
  (:func:`cnnlib.toeplitz.toeplitz_matrix`): ``valid`` gives ``n − m + 1`` rows,
  ``same`` gives ``n`` rows;
- right, the ``n × n`` circulant of the same convolution with **circular** padding
  (:func:`cnnlib.matrices.circulant_matrix`, times a shift for ``same``), with the entries
  that wrap around framed. Remove the framed entries — and for ``valid`` the rows that hold
  them — and the circulant becomes the Toeplitz matrix.

Each matrix's title gives its shape and its share of zero entries (:func:`zero_share`),
which grows with ``n``: a row holds at most ``m`` non-zero entries out of ``n``.

Live in Jupyter the four choices are controls (the size slider offers only kernels no longer
than the signal); on the static site the explorer shows small multiples along one of them
(``n`` by default).
"""

from __future__ import annotations

import torch

from ...filters import binomial_kernel
from ...matrices import circulant_matrix, shift_matrix
from ...padding import same_padding
from ...toeplitz import toeplitz_matrix
from ..figure_output import legible_fontsize
from ..images import show_matrix
from ..matrices import outline_entries
from ..widgets import explorer

__all__ = [
    "KERNELS",
    "circular_matrix",
    "describe_matrices",
    "kernel_preset",
    "matrix_explorer",
    "render_matrices",
    "wrap_mask",
    "zero_share",
]

KERNELS = ("ramp", "box", "binomial", "random")
"""Preset kernels: ``ramp`` (1, 2, …, m — not symmetric, so its direction shows), ``box``
(all 1/m), ``binomial`` (row m − 1 of Pascal's triangle / 2^(m−1)), ``random`` (normal,
seeded by m)."""

SIZES = (1, 2, 3, 4, 5, 7)
LENGTHS = (4, 5, 6, 8, 10, 12, 16)
PADDINGS = ("same", "valid")
STATIC_SWEEPS = {
    "n": (6, 8, 12, 16),
    "size": (1, 3, 5, 7),
    "kernel": KERNELS,
    "padding": PADDINGS,
}
DEFAULTS = {"kernel": "ramp", "size": 3, "n": 8, "padding": "same"}


def kernel_preset(kernel: str, size: int) -> torch.Tensor:
    """The preset ``kernel`` (one of :data:`KERNELS`) of length ``size``: float32 ``(size,)``."""
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValueError(f"size must be a positive int, got {size!r}")
    if kernel == "ramp":
        return torch.arange(1, size + 1, dtype=torch.float32)
    if kernel == "box":
        return torch.full((size,), 1 / size)
    if kernel == "binomial":
        return binomial_kernel(size)
    if kernel == "random":
        return torch.randn(size, generator=torch.Generator().manual_seed(size))
    raise ValueError(f"kernel must be one of {', '.join(map(repr, KERNELS))}, got {kernel!r}")


def _before(size: int, padding: str) -> int:
    if padding not in PADDINGS:
        raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")
    return same_padding(size)[0] if padding == "same" else 0


def circular_matrix(h: torch.Tensor, n: int, padding: str = "same") -> torch.Tensor:
    """The ``n × n`` matrix of cross-correlation with ``h`` on a *circularly* padded signal.

    ``padding="valid"``: the plain circulant ``C`` (``C[i, (i + j) mod n] = h_j``), whose
    first ``n − m + 1`` rows are the valid Toeplitz matrix. ``padding="same"``: the signal is
    padded by ``b = ⌊(m − 1)/2⌋`` on the left (PyTorch's split), so output ``i`` reads
    ``x[(i + j − b) mod n]``: the matrix is ``C Sᵇ``, again a circulant, equal to
    ``conv1d(x, h, padding="same", padding_mode="circular")``.
    """
    b = _before(h.numel(), padding)
    return circulant_matrix(h, n) @ shift_matrix(n, b, dtype=h.dtype, device=h.device)


def wrap_mask(size: int, n: int, padding: str = "same") -> torch.Tensor:
    """Boolean ``(n, n)``: the entries of :func:`circular_matrix` that wrap around the ends.

    Entry ``(i, (i + j − b) mod n)`` holds tap ``j`` of output ``i``; it wraps around when
    ``i + j − b`` falls outside ``0 … n − 1`` — exactly the entries that zero padding replaces
    by 0 (or, for ``valid``, whose rows it drops).
    """
    b = _before(size, padding)
    i = torch.arange(n)[:, None]
    t = i + torch.arange(size)[None, :] - b  # the unwrapped input position of each tap
    mask = torch.zeros(n, n, dtype=torch.bool)
    rows = i.expand(n, size)
    outside = (t < 0) | (t >= n)
    mask[rows[outside], t[outside] % n] = True
    return mask


def zero_share(matrix: torch.Tensor) -> float:
    """The fraction of a matrix's entries that are exactly 0."""
    return float((matrix == 0).sum()) / matrix.numel()


def render_matrices(ax, kernel: str = "ramp", size: int = 3, n: int = 8,
                    padding: str = "same") -> None:
    """Draw the Toeplitz matrix (left) and the circulant (right) into the area of ``ax``,
    each titled with its shape and its share of zero entries."""
    h = kernel_preset(kernel, size)
    fig = ax.figure
    ax.axis("off")
    ax.set_title(f"{kernel} kernel, m = {size}, n = {n}, {padding} padding",
                 fontsize=legible_fontsize(fig, 10))
    if size > n:
        ax.text(0.5, 0.5, f"the kernel (m = {size}) is longer\nthan the signal (n = {n})",
                ha="center", va="center", transform=ax.transAxes,
                fontsize=legible_fontsize(fig, 10))
        return
    toeplitz = toeplitz_matrix(h, n, padding=padding)
    circular = circular_matrix(h, n, padding)
    left = ax.inset_axes((0.0, 0.0, 0.46, 0.8))
    right = ax.inset_axes((0.54, 0.0, 0.46, 0.8))
    for panel, matrix, name in ((left, toeplitz, "Toeplitz"), (right, circular, "circulant")):
        rows, cols = matrix.shape
        show_matrix(matrix, ax=panel, annotate=False,
                    title=f"{name} {rows} × {cols}\n{zero_share(matrix):.0%} zeros")
        panel.set_anchor("N")
        panel.title.set_fontsize(legible_fontsize(fig, 9))
    outline_entries(right, wrap_mask(size, n, padding))


def describe_matrices(sweep: str, values, defaults: dict) -> str:
    """The static preview's description, with the shares of zeros it shows."""
    shares = []
    for value in values:
        args = {**defaults, sweep: value}
        if args["size"] <= args["n"]:
            t = toeplitz_matrix(kernel_preset(args["kernel"], args["size"]), args["n"],
                                padding=args["padding"])
            shares.append(f"{zero_share(t):.0%}")
    fixed = ", ".join(f"{k} {defaults[k]}" for k in ("kernel", "size", "n", "padding")
                      if k != sweep)
    return (f"One panel per {sweep} in {', '.join(map(str, values))} ({fixed}): the "
            f"Toeplitz matrix of zero padding beside the circulant of circular padding, "
            f"whose framed entries wrap around the ends; the Toeplitz matrices are "
            f"{', '.join(shares)} zeros.")


def matrix_explorer(*, sweep: str = "n", force_static: bool | None = None):
    """The chapter's explorer: kernel, size, n and padding → Toeplitz next to circulant.

    On the static site (or with ``force_static=True``) it shows small multiples along
    ``sweep`` (one of ``"n"``, ``"size"``, ``"kernel"``, ``"padding"``) with the other
    choices at their defaults (ramp kernel, m = 3, n = 8, same padding); each matrix's title
    gives its share of zeros. Live, ``size`` offers only the sizes ``m ≤ n`` (a longer kernel
    has no matrix to draw): lowering ``n`` below ``m`` lowers ``m`` with it.
    """
    if sweep not in STATIC_SWEEPS:
        raise ValueError(f"sweep must be one of {', '.join(map(repr, STATIC_SWEEPS))}, "
                         f"got {sweep!r}")
    controls = {"kernel": list(KERNELS), "size": list(SIZES), "n": list(LENGTHS),
                "padding": list(PADDINGS)}
    return explorer(render_matrices, controls, defaults=DEFAULTS, sweep=sweep,
                    sweep_values=STATIC_SWEEPS[sweep], static="grid", ncols=2,
                    panel_size=(3.9, 2.8), force_static=force_static,
                    describe=describe_matrices(sweep, STATIC_SWEEPS[sweep], DEFAULTS),
                    choices={"size": lambda p: [m for m in SIZES if m <= p["n"]]})
