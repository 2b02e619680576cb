"""Slide, multiply, sum: the steps of a 1D convolution, computed and drawn.

A 1D convolution layer (a cross-correlation, as ``torch.nn.functional.conv1d`` computes it)
places the kernel ``h = (h_0, …, h_{m−1})`` on the zero-padded input ``x̃`` at position
``i·s``, multiplies it with the ``m`` samples beneath and sums the products into ``y[i]``::

    y[i] = Σ_{j=0}^{m−1} h_j · x̃[i·s + j]          i = 0, …, o − 1
    o = ⌊(n + p_left + p_right − m)/s⌋ + 1

(the lecture writes the same with 1-based indices, ``y[i] = Σ_{j=1}^{m} h_j x_{i+j−1}``, for
stride 1 and no padding).

- :func:`conv1d_steps` computes what each step shows (a list of :class:`Step`); the outputs come
  from :func:`cnnlib.conv.conv1d`, the products from the window under the kernel.
- :func:`draw_step` draws one step as four rows of cells: the padded input with the window
  highlighted, the kernel placed under the window, the products, and the output so far (lines
  join the products to the output they sum into).
- :func:`show_steps` draws several steps side by side (small multiples); an animation is
  :func:`draw_step` over the steps (see ``cnnlib.explorers.conv1d``).
- :func:`show_signals` plots signals against time (raw vs filtered).

Every drawing function closes its figure and returns it, so a notebook cell ending with the
call shows it once. Texts carry a ``gid`` (``"x"``, ``"h"``, ``"product"``, ``"y"``,
``"formula"``) so tests can read back what a figure displays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Rectangle

from ._validate import check_non_negative_tuple, check_positive_int
from .conv import conv1d
from .padding import pad

__all__ = [
    "PADDING_NAMES",
    "Step",
    "conv1d_steps",
    "draw_step",
    "format_number",
    "resolve_padding_1d",
    "show_signals",
    "show_steps",
]

PADDING_NAMES = ("valid", "same", "full")


@dataclass(frozen=True)
class Step:
    """What step ``index`` of a 1D convolution shows (numpy arrays, float64).

    ``padded``: the input with its zeros, length ``L = n + p_left + p_right``; ``padding``:
    ``(p_left, p_right)``; ``kernel``: ``(m,)``; ``start = index·stride``: where the kernel
    sits in ``padded``; ``window = padded[start:start + m]``; ``products = kernel · window``;
    ``outputs``: all ``o`` outputs of the convolution; ``value = outputs[index]``.
    """

    padded: np.ndarray
    padding: tuple[int, int]
    kernel: np.ndarray
    stride: int
    index: int
    outputs: np.ndarray

    @property
    def start(self) -> int:
        return self.index * self.stride

    @property
    def window(self) -> np.ndarray:
        return self.padded[self.start:self.start + len(self.kernel)]

    @property
    def products(self) -> np.ndarray:
        return self.kernel * self.window

    @property
    def value(self) -> float:
        return float(self.outputs[self.index])

    @property
    def n_outputs(self) -> int:
        return len(self.outputs)

    def input_indices(self) -> list[int]:
        """Indices in the *unpadded* input that feed this output (padding zeros left out)."""
        n = len(self.padded) - sum(self.padding)
        first = self.start - self.padding[0]
        return [k for k in range(first, first + len(self.kernel)) if 0 <= k < n]


def resolve_padding_1d(padding, kernel_size: int, stride: int = 1) -> tuple[int, int]:
    """``(p_left, p_right)`` for ``padding`` = an int ``p`` (both sides), a pair, or a name.

    ``"valid"``: no padding, ``o = n − m + 1``. ``"full"``: ``m − 1`` per side, every overlap
    of kernel and input, ``o = n + m − 1``. ``"same"``: ``m − 1`` in total, split as PyTorch
    does (``(m − 1)//2`` on the left, the rest on the right), ``o = n``; needs stride 1.
    """
    check_positive_int("kernel_size", kernel_size)
    check_positive_int("stride", stride)
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0
        if padding == "full":
            return kernel_size - 1, kernel_size - 1
        if padding == "same":
            if stride != 1:
                raise ValueError(
                    f"padding='same' requires stride 1 (as in PyTorch: the output could not "
                    f"keep the input length otherwise), got stride={stride}"
                )
            total = kernel_size - 1
            return total // 2, total - total // 2
        raise ValueError(
            f"padding must be an int, a pair of ints or one of {PADDING_NAMES}, got {padding!r}"
        )
    if isinstance(padding, Sequence) and len(padding) == 2:
        left, right = check_non_negative_tuple("padding", tuple(padding), 2)
        return left, right
    (p,) = check_non_negative_tuple("padding", padding, 1)
    return p, p


def _as_signal(name: str, values) -> torch.Tensor:
    if isinstance(values, torch.Tensor):
        t = values.detach().to("cpu", torch.float64)
    else:
        t = torch.from_numpy(np.asarray(values, dtype=np.float64))
    if t.dim() != 1 or t.numel() == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D signal (a list or a tensor of shape (n,)), got "
            f"shape {tuple(t.shape)}"
        )
    return t


def conv1d_steps(x, h, stride: int = 1, padding=0) -> list[Step]:
    """Every step of the 1D cross-correlation of ``x: (n,)`` with ``h: (m,)``.

    ``padding``: see :func:`resolve_padding_1d` (zeros). Returns ``o`` steps,
    ``o = ⌊(n + p_left + p_right − m)/s⌋ + 1``; their ``outputs`` are
    ``cnnlib.conv.conv1d(method="loop")`` of the padded input (float64, on the CPU).
    """
    x, h = _as_signal("x", x), _as_signal("h", h)
    check_positive_int("stride", stride)
    m = h.numel()
    left, right = resolve_padding_1d(padding, m, stride)
    padded = pad(x, ((left, right),))
    if m > padded.numel():
        raise ValueError(
            f"the kernel (length {m}) is longer than the padded input ({x.numel()} + {left} + "
            f"{right} = {padded.numel()}): there is no place to put it"
        )
    outputs = conv1d(padded[None, None], h[None, None], stride=stride, method="loop")[0, 0]
    padded_np, h_np, out_np = padded.numpy(), h.numpy(), outputs.numpy()
    return [Step(padded_np, (left, right), h_np, stride, i, out_np) for i in range(len(out_np))]


def format_number(v: float) -> str:
    """Short text for a cell: integers as such, else 2 decimals (none for |v| ≥ 10)."""
    v = float(v)
    if math.isclose(v, round(v), abs_tol=1e-9):
        return str(round(v)) if round(v) != 0 else "0"
    if abs(v) >= 10:
        return f"{v:.0f}"
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("0", "-0") else text


# colours of the cells
_PAD, _INPUT, _WINDOW = "#e6e6e6", "#ffffff", "#ffd28a"
_KERNEL, _PRODUCT, _OUTPUT, _CURRENT = "#a9cdf0", "#c9e8b5", "#f1f1f1", "#f08a5d"
_ROWS = {"x": 3.0, "h": 2.0, "product": 1.0, "y": -0.4}
_LABELS = {"x": "x", "h": "h", "product": "h·x", "y": "y"}


def _cell(ax, col, row, text, face, gid, fontsize, color="black", edge="#555555", style="-"):
    ax.add_patch(Rectangle((col - 0.45, row - 0.4), 0.9, 0.8, facecolor=face, edgecolor=edge,
                           linestyle=style, linewidth=0.8))
    if text is not None:
        ax.text(col, row, text, ha="center", va="center", fontsize=fontsize, color=color,
                gid=gid)


def _formula(step: Step, max_terms: int = 4) -> str:
    terms = [f"{format_number(a)}·{format_number(b)}"
             for a, b in zip(step.kernel, step.window, strict=True)]
    if len(terms) > max_terms:
        terms = [*terms[:2], "…", terms[-1]]
    return f"y[{step.index}] = " + " + ".join(terms) + f" = {format_number(step.value)}"


def draw_step(step: Step, ax=None, *, fontsize: float | None = None, formula: bool = True):
    """Draw one step of a 1D convolution; returns the ``Figure``.

    Rows, top to bottom: the padded input ``x`` (padding zeros grey, the window under the
    kernel orange), the kernel ``h`` under the window, the products ``h_j·x`` (green) and the
    outputs ``y`` — computed ones filled, the current one red, later ones empty, each placed
    under the centre of its window. With ``formula=True`` the sum is written below.
    """
    if not isinstance(step, Step):
        raise TypeError(f"step must be a Step from conv1d_steps(), got {type(step).__name__}")
    own_figure = ax is None
    length, m = len(step.padded), len(step.kernel)
    if own_figure:
        fig, ax = plt.subplots(figsize=(max(4.0, 0.5 * length + 1.2), 3.0))
    fig = ax.figure
    fs = fontsize or float(np.clip(110 / (length + 2), 6, 10))
    left, right = step.padding
    for c, v in enumerate(step.padded):
        in_window = step.start <= c < step.start + m
        is_pad = c < left or c >= length - right
        face = _WINDOW if in_window else (_PAD if is_pad else _INPUT)
        _cell(ax, c, _ROWS["x"], format_number(v), face, "x", fs,
              color="#888888" if is_pad else "black")
    for j in range(m):
        c = step.start + j
        _cell(ax, c, _ROWS["h"], format_number(step.kernel[j]), _KERNEL, "h", fs)
        _cell(ax, c, _ROWS["product"], format_number(step.products[j]), _PRODUCT, "product", fs)
    centre = (m - 1) / 2
    out_col = step.start + centre
    for k, v in enumerate(step.outputs):
        col = k * step.stride + centre
        if k < step.index:
            _cell(ax, col, _ROWS["y"], format_number(v), _OUTPUT, "y", fs)
        elif k == step.index:
            _cell(ax, col, _ROWS["y"], format_number(v), _CURRENT, "y", fs)
        else:
            _cell(ax, col, _ROWS["y"], None, "none", "y", fs, edge="#aaaaaa", style=":")
    for j in range(m):  # the products flow into the current output
        ax.plot([step.start + j, out_col], [_ROWS["product"] - 0.4, _ROWS["y"] + 0.4],
                color=_CURRENT, linewidth=0.8, alpha=0.8)
    for name, row in _ROWS.items():
        ax.text(-0.8, row, _LABELS[name], ha="right", va="center", fontsize=fs + 1,
                style="italic", gid="label")
    if formula:
        ax.text((length - 1) / 2, _ROWS["y"] - 0.85, _formula(step), ha="center", va="top",
                fontsize=fs + 1, gid="formula")
    ax.set_xlim(-2.2, max(length, (step.n_outputs - 1) * step.stride + m) - 0.4)
    ax.set_ylim(_ROWS["y"] - (1.6 if formula else 0.7), _ROWS["x"] + 0.6)
    ax.set_aspect("equal")
    ax.axis("off")
    if own_figure:
        fig.tight_layout()
        plt.close(fig)
    return fig


def show_steps(x, h, stride: int = 1, padding=0, steps: Sequence[int] | None = None,
               ncols: int = 2, size: float = 0.42):
    """Small multiples: one panel per step of the 1D convolution of ``x`` with ``h``.

    ``steps``: which output indices to draw (default: all). Returns the ``Figure``.
    """
    all_steps = conv1d_steps(x, h, stride=stride, padding=padding)
    o = len(all_steps)
    chosen = list(range(o)) if steps is None else list(steps)
    bad = [i for i in chosen if not (isinstance(i, int) and 0 <= i < o)]
    if not chosen or bad:
        raise ValueError(f"steps must be output indices in 0 … {o - 1}, got {steps!r}")
    ncols = check_positive_int("ncols", ncols)
    ncols = min(ncols, len(chosen))
    nrows = -(-len(chosen) // ncols)
    length = len(all_steps[0].padded)
    width = size * (length + 3)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, 2.8 * nrows), squeeze=False)
    for ax in axes.flat[len(chosen):]:
        ax.axis("off")
    for ax, i in zip(axes.flat, chosen, strict=False):
        draw_step(all_steps[i], ax)
        ax.set_title(f"step {i}", fontsize=10)
    fig.tight_layout()
    plt.close(fig)
    return fig


def show_signals(t, signals: Mapping[str, object], title: str | None = None,
                 ylabel: str | None = None, xlabel: str | None = None, ax=None,
                 figsize: tuple[float, float] = (10, 3.2),
                 styles: Mapping[str, dict] | None = None):
    """Plot named 1-D signals against ``t`` (numbers or dates) on one Axes; returns the Figure.

    The legend sits to the right of the plot, so it never hides a curve.

    A signal may be shorter than ``t`` (a valid convolution): give it as ``(t_k, values)``
    to place it on its own time axis. ``styles`` maps a name to extra ``plot`` arguments.
    """
    if not signals:
        raise ValueError("signals must name at least one signal, got an empty mapping")
    own_figure = ax is None
    if own_figure:
        fig, ax = plt.subplots(figsize=figsize)
    fig = ax.figure
    t = np.asarray(t)
    for name, s in signals.items():
        ts, values = s if isinstance(s, tuple) else (t, s)
        values = torch.as_tensor(values).detach().to("cpu", torch.float64).numpy()
        ts = np.asarray(ts)
        if values.ndim != 1 or len(values) != len(ts):
            raise ValueError(
                f"signal {name!r} must be 1-D with one value per time step: {len(ts)} times, "
                f"shape {values.shape}"
            )
        ax.plot(ts, values, label=name, **(styles or {}).get(name, {"linewidth": 1.2}))
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    if title:
        ax.set_title(title, fontsize=11)
    if ylabel:
        ax.set_ylabel(ylabel)
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3)
    if own_figure:
        if np.issubdtype(t.dtype, np.datetime64):
            fig.autofmt_xdate()
        fig.tight_layout()
        plt.close(fig)
    return fig
