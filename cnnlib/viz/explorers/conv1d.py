"""Explorer of chapter 2: watch a 1D convolution shift, multiply and sum.

Choose a signal, a kernel, the padding (``"valid"``, ``"same"``, ``"full"``) and the stride,
then step through the outputs: each picture is :func:`cnnlib.sliding.draw_step` — the padded
input with the window that feeds the selected output, the kernel under it, the products and
the outputs computed so far.

- :func:`conv1d_explorer`: every control live; on the static site, small multiples along one
  control (``sweep``), the others at their defaults. Live, ``step`` offers only the outputs
  that exist (:func:`n_outputs`), ``stride`` is disabled when there is one output whatever
  the stride, and a combination PyTorch refuses disables the signal, kernel and step until
  stride or padding make it possible again.
- :func:`slide_animation`: one signal and kernel, a slider over the steps; on the static site
  an offline HTML animation of all steps.
"""

from __future__ import annotations

import functools
import textwrap

import torch

from ...filters import gaussian_kernel_1d
from ...sliding import PADDING_NAMES, conv1d_steps
from ..figure_output import legible_fontsize
from ..sliding import draw_step
from ..widgets import explorer

__all__ = ["KERNELS", "SIGNALS", "STRIDES", "conv1d_explorer", "describe_sweep", "kernel",
           "n_outputs", "render", "signal", "slide_animation"]

STRIDES = (1, 2, 3)


def _stock_days() -> list[float]:
    from ...datasets import stock_prices

    _, prices = stock_prices()
    return [float(round(p)) for p in prices[:8].tolist()]


#: name → a function giving the signal (short, so every number fits in its cell).
SIGNALS = {
    "ramp [1 … 5]": lambda: [1.0, 2, 3, 4, 5],
    "ramp [1 … 8]": lambda: [float(v) for v in range(1, 9)],
    "spike": lambda: [0.0, 0, 0, 1, 0, 0, 0, 0],
    "edge": lambda: [0.0, 0, 0, 0, 1, 1, 1, 1],
    "stock, 8 days ($)": _stock_days,
}

#: name → a function giving the kernel.
KERNELS = {
    "[2 1]": lambda: [2.0, 1],
    "average [1 1 1]/3": lambda: [1 / 3] * 3,
    "difference [-1 1]": lambda: [-1.0, 1],
    "asymmetric [1 2 3]": lambda: [1.0, 2, 3],
    "Gaussian 5, σ = 1": lambda: gaussian_kernel_1d(5, 1.0, dtype=torch.float64).tolist(),
}


def _lookup(kind: str, table: dict, name) -> torch.Tensor:
    if name not in table:
        raise ValueError(f"{kind} must be one of {list(table)}, got {name!r}")
    return torch.tensor(table[name](), dtype=torch.float64)


@functools.cache
def _cached(kind: str, name: str) -> tuple[float, ...]:
    table = SIGNALS if kind == "signal" else KERNELS
    return tuple(_lookup(kind, table, name).tolist())


def signal(name: str) -> torch.Tensor:
    """The explorer's signal ``name`` (a key of :data:`SIGNALS`), float64, shape ``(n,)``."""
    return torch.tensor(_cached("signal", name), dtype=torch.float64)


def kernel(name: str) -> torch.Tensor:
    """The explorer's kernel ``name`` (a key of :data:`KERNELS`), float64, shape ``(m,)``."""
    return torch.tensor(_cached("kernel", name), dtype=torch.float64)


_signal, _kernel = signal, kernel  # render's arguments shadow the two functions' names


def _max_steps() -> int:
    longest_x = max(len(signal(s)) for s in SIGNALS)
    longest_h = max(len(kernel(k)) for k in KERNELS)
    return longest_x + longest_h - 1  # "full" padding, stride 1


def render(ax, signal: str = "ramp [1 … 5]", kernel: str = "[2 1]",
           padding: str = "valid", stride: int = 1, step: int = 0) -> None:
    """Draw output ``step`` of ``kernel`` ⋆ ``signal`` into ``ax`` (the explorer's picture).

    A ``step`` past the last output shows the last one (the number of outputs depends on the
    other controls); a combination PyTorch refuses (``"same"`` with stride > 1) is explained
    in the panel instead of drawn.
    """
    x, h = _signal(signal), _kernel(kernel)
    try:
        steps = conv1d_steps(x, h, stride=stride, padding=padding)
    except ValueError as err:
        ax.text(0.5, 0.5, "Not possible:\n" + textwrap.fill(str(err), 48), ha="center",
                va="center", fontsize=legible_fontsize(ax.figure, 9), transform=ax.transAxes,
                gid="message")
        ax.axis("off")
        return
    draw_step(steps[min(step, len(steps) - 1)], ax)
    if step >= len(steps):
        ax.text(0.5, 1.0, f"only {len(steps)} outputs: showing the last", ha="center",
                va="bottom", fontsize=legible_fontsize(ax.figure, 8), color="#aa3333",
                transform=ax.transAxes, gid="message")


def n_outputs(signal: str, kernel: str, padding: str = "valid", stride: int = 1) -> int:
    """How many outputs ``kernel`` ⋆ ``signal`` has; 0 for a combination PyTorch refuses
    (``"same"`` with stride > 1)."""
    try:
        return len(conv1d_steps(_signal(signal), _kernel(kernel), stride=stride,
                                padding=padding))
    except ValueError:
        return 0


def _state(params: dict) -> tuple[str, str, str, int]:
    return params["signal"], params["kernel"], params["padding"], params["stride"]


def _possible(params: dict) -> bool:
    return n_outputs(*_state(params)) > 0


def _stride_matters(params: dict) -> bool:
    """False when the kernel covers the whole padded signal: one output at any stride."""
    signal, kernel, padding, _ = _state(params)
    return padding == "same" or n_outputs(signal, kernel, padding, 1) > 1


def _note(params: dict) -> str:
    if not _possible(params):
        return ("padding 'same' needs stride 1: signal, kernel and step wait for stride 1 or "
                "another padding")
    if not _stride_matters(params):
        return "stride: the kernel covers the whole padded signal, so there is one output"
    return ""


def conv1d_explorer(*, sweep: str = "padding", sweep_values=None, static: str = "grid",
                    ncols: int = 1, force_static: bool | None = None, **defaults):
    """The chapter's explorer: signal, kernel, padding, stride and step, all live.

    ``defaults`` set the start values (e.g. ``kernel="average [1 1 1]/3"``); on the static
    site the ``sweep`` control varies across small multiples (``static="grid"``, ``ncols``
    panels per row) or the frames of an animation (``static="animation"``), over
    ``sweep_values`` (default: every value of the control, at most 12 of them). Live, the
    ``step`` slider offers the outputs of the current choice only, and a combination that
    PyTorch refuses (drawn as a message) disables signal, kernel and step.
    """
    controls = {
        "signal": list(SIGNALS),
        "kernel": list(KERNELS),
        "padding": list(PADDING_NAMES),
        "stride": list(STRIDES),
        "step": list(range(_max_steps())),
    }
    if sweep_values is None and sweep in controls:
        sweep_values = controls[sweep][:12]
    describe = None
    if sweep in controls:
        start = {**{name: values[0] for name, values in controls.items()}, **defaults}
        describe = describe_sweep(sweep, list(sweep_values), start, static)
    return explorer(render, controls, defaults=defaults, sweep=sweep, sweep_values=sweep_values,
                    static=static, ncols=ncols, panel_size=(7.0, 2.6), force_static=force_static,
                    describe=describe,
                    choices={"step": lambda p: list(range(max(1, n_outputs(*_state(p)))))},
                    active={"signal": _possible, "kernel": _possible,
                            "stride": _stride_matters}, note=_note)


_WHAT = ("the padded input x (padding zeros grey, the window under the kernel orange), the "
         "kernel h under the window, their products and the outputs y, the current one red")


def describe_sweep(sweep: str, values: list, start: dict, static: str = "grid") -> str:
    """The static preview's description: which control varies, what stays, what is drawn."""
    fixed = ", ".join(f"{k} {start[k]!s}" for k in ("signal", "kernel", "padding", "stride",
                                                     "step") if k != sweep)
    form = "frame" if static == "animation" else "panel"
    shown = ", ".join(str(v) for v in values)
    return (f"One {form} per {sweep} ({shown}) with {fixed}; each shows {_WHAT}.")


def slide_animation(signal: str = "ramp [1 … 5]", kernel: str = "[2 1]",
                    padding: str = "valid", stride: int = 1, *,
                    force_static: bool | None = None):
    """Every step of one convolution: a step slider when live, an HTML animation when static."""
    first = conv1d_steps(_signal(signal), _kernel(kernel), stride=stride, padding=padding)[0]
    steps = list(range(first.n_outputs))
    fixed = {"signal": signal, "kernel": kernel, "padding": padding, "stride": stride}
    length = len(first.padded)
    describe = (f"The kernel {kernel} shifts along the signal {signal} ({padding} padding, "
                f"stride {stride}), one frame per output y[0] … y[{len(steps) - 1}]: each "
                f"shows {_WHAT}, with the sum written out.")
    return explorer(functools.partial(render, **fixed), {"step": steps}, sweep="step",
                    sweep_values=steps, static="animation",
                    panel_size=(max(4.0, 0.55 * length + 1.5), 3.0), force_static=force_static,
                    describe=describe)
