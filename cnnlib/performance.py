"""Timing results of chapter 9, "How convolution is computed": tables, rates, memory.

The measurements themselves come from :mod:`cnnlib.benchmark` (the code behind ``make bench``):
warm-up, interleaved rounds, medians, CUDA synchronisation. This module turns its records into
what the chapter shows and asserts:

- :func:`loglog_slope` — how fast a time grows: ``t ∝ x^slope``;
- :func:`layer_flops` and :func:`measure_rates` — FLOPs of a layer (via
  :mod:`cnnlib.counting`) and the achieved GFLOP/s of each method, measured in the same rounds
  as a large matrix product, the practical peak of the machine;
- :func:`memory_costs` — bytes of the input, output, weights, im2col matrix, Toeplitz matrix
  and FFT spectra of a layer; :func:`peak_memory` — what a call allocates at most (CUDA);
- :func:`timing_threads` — one CPU thread while timing (see its docstring), and
  :func:`describe_device`, :func:`conv_backend`: what the numbers were measured on;
- :func:`format_table`, :func:`format_count`, :func:`format_bytes` for plain-text tables.

The figures are drawn by :mod:`cnnlib.viz.performance`.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from ._validate import check_kernel_fits, check_positive_int
from .arithmetic import conv_output_size
from .benchmark import ConvCase, OtherLoad, conv_calls, measure
from .counting import count_flops
from .fft_conv import fast_fft_size

__all__ = [
    "conv_backend",
    "describe_device",
    "format_bytes",
    "format_count",
    "format_table",
    "group_by_value",
    "layer_flops",
    "loglog_slope",
    "measure_rates",
    "memory_costs",
    "peak_memory",
    "timing_threads",
]


# --- what the numbers are measured on -----------------------------------------------------

@contextlib.contextmanager
def timing_threads(device, threads: int = 1):
    """While timing on a CPU, let PyTorch use ``threads`` threads (default 1); restore after.

    A multi-threaded kernel waits at every step for its slowest thread. On a machine shared
    with other processes a thread is often descheduled for a whole time slice, so a call that
    takes 50 µs alone can take milliseconds, at random. One thread per call is slowed only in
    proportion to the CPU share it gets, so ratios between methods stay meaningful. On a GPU
    nothing changes (its kernels do not use the CPU threads).
    """
    check_positive_int("threads", threads, type_error=ValueError)
    if torch.device(device).type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_device(device) -> str:
    """One line naming the hardware: the GPU and cuDNN version, or the CPU, its cores and
    the number of threads PyTorch uses right now."""
    device = torch.device(device)
    if device.type == "cuda":
        cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
        return (f"cuda: {torch.cuda.get_device_name(device)}"
                f"{f', cuDNN {cudnn}' if cudnn else ''}, torch {torch.__version__}")
    return (f"cpu: {_cpu_name()}, {os.cpu_count()} cores, {torch.get_num_threads()} "
            f"thread(s) in use, torch {torch.__version__}")


_BACKENDS = {"Mkldnn": "oneDNN", "Slow2d": "ATen im2col + GEMM", "Cudnn": "cuDNN",
             "CudaDepthwise2d": "CUDA depthwise", "Empty": "empty", "Miopen": "MIOpen",
             "Overrideable": "custom", "Mps": "MPS"}


def conv_backend(x: torch.Tensor, weight: torch.Tensor, stride=1, padding=0) -> str:
    """The library kernel ``F.conv2d(x, weight, stride=…, padding=…)`` would run, in words:
    ``"oneDNN"``, ``"ATen im2col + GEMM"`` (``slow_conv2d``: unfold, then one matrix
    product), ``"cuDNN"``…

    Asks PyTorch's own dispatcher (``torch._C._select_conv_backend``, a private function);
    returns ``"unknown"`` where this PyTorch does not offer it.
    """
    select = getattr(torch._C, "_select_conv_backend", None)
    if select is None:
        return "unknown"
    stride, padding = ([v, v] if isinstance(v, int) else list(v) for v in (stride, padding))
    try:
        backend = select(x, weight, None, stride, padding, [1, 1], False, [0, 0], 1, None)
    except (RuntimeError, TypeError):
        return "unknown"
    name = str(backend).rsplit(".", 1)[-1]
    return _BACKENDS.get(name, name)


# --- records → tables ---------------------------------------------------------------------


def loglog_slope(times: Mapping, x_min: float | None = None) -> float:
    """Least-squares slope of ``log t`` against ``log x``: ``t ∝ x^slope`` (2 for a time that
    grows with the area of a kernel or an image). ``times``: ``{x: seconds}``; ``x_min``
    keeps only ``x ≥ x_min``."""
    pts = [(x, t) for x, t in times.items() if x_min is None or x >= x_min]
    if len(pts) < 2:
        raise ValueError(f"times must hold at least two points (x ≥ {x_min}), got {len(pts)}")
    lx, lt = (np.log(np.array(v, dtype=float)) for v in zip(*pts, strict=True))
    return float(np.polyfit(lx, lt, 1)[0])


def format_table(rows: Sequence[Mapping], columns: Sequence[tuple[str, str, str]]) -> str:
    """A plain-text table; ``columns``: ``(header, key, format)``, e.g. ``("ms", "ms", ".2f")``
    (an empty format left-aligns the value as text, any other right-aligns it)."""
    cells = [[format(r[key], fmt) if r[key] is not None else "–" for _, key, fmt in columns]
             for r in rows]
    headers = [h for h, _, _ in columns]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    left = [not fmt for _, _, fmt in columns]

    def line(values):
        return "  ".join(v.ljust(w) if lft else v.rjust(w)
                         for v, w, lft in zip(values, widths, left, strict=True)).rstrip()

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *map(line, cells)])


def group_by_value(mapping: Mapping) -> dict:
    """The keys of ``mapping`` grouped by their value, both in order of first appearance:
    ``{3: "oneDNN", 5: "oneDNN", 7: "ATen"}`` → ``{"oneDNN": [3, 5], "ATen": [7]}`` (which
    backend PyTorch picks for which sizes, one line per backend)."""
    if not isinstance(mapping, Mapping):
        raise TypeError(f"mapping must be a mapping such as a dict, got {type(mapping).__name__}")
    groups: dict = {}
    for key, value in mapping.items():
        groups.setdefault(value, []).append(key)
    return groups


# --- FLOPs and rates ----------------------------------------------------------------------

def layer_flops(case: ConvCase) -> int:
    """FLOPs of one forward pass of the layer, ``2 · N · C_out · H_out · W_out · C_in · k²``,
    counted by :func:`cnnlib.counting.count_flops` on an ``nn.Conv2d`` of that shape."""
    layer = nn.Conv2d(case.in_channels, case.out_channels, case.kernel_size, case.stride,
                      case.padding, device="meta")
    return count_flops(layer, (case.batch, case.in_channels, case.size, case.size))


def measure_rates(case: ConvCase, methods: Sequence[str] = ("im2col", "fft"), device="cpu",
                  matmul_size: int | None = None, repeats: int = 7,
                  budget_s: float | None = None) -> list[dict]:
    """Achieved GFLOP/s of PyTorch and each method on ``case``, against a matrix product.

    The practical peak is a float32 ``n × n`` matrix product (``2n³`` FLOPs, ``n`` =
    ``matmul_size``, default 1024 on a CPU and 8192 on a GPU): the best-tuned kernel of every
    library, with ``n`` multiply-adds per number read. Everything is measured in the same
    interleaved rounds (:func:`cnnlib.benchmark.measure`). A method's rate is the layer's
    FLOPs (:func:`layer_flops`) divided by its time — for the FFT an *effective* rate, since
    it does other arithmetic. Returns one record per contender (``"matmul"`` first):
    ``name``, ``seconds`` (median), ``flops``, ``gflops``, ``fraction`` (median over rounds of
    rate / matmul rate, a paired ratio) and ``other_load`` (see
    :class:`cnnlib.benchmark.OtherLoad`).
    """
    device = torch.device(device)
    n = matmul_size or (8192 if device.type == "cuda" else 1024)
    gen = torch.Generator().manual_seed(0)
    a, b = (torch.randn(n, n, generator=gen).to(device) for _ in range(2))
    x, w, bias = case.tensors(device)
    calls = {"matmul": lambda: a @ b,
             **conv_calls(x, w, bias, methods, stride=case.stride, padding=case.padding)}
    with torch.no_grad(), OtherLoad() as load:
        samples = measure(calls, repeats=repeats, warmup=2, device=device, budget_s=budget_s)
    flops = {"matmul": 2 * n**3, **dict.fromkeys(calls.keys() - {"matmul"}, layer_flops(case))}
    peak_rounds = [flops["matmul"] / t for t in samples["matmul"]]
    records = []
    for name, times in samples.items():
        rates = [flops[name] / t for t in times]
        records.append({
            "name": name, "seconds": statistics.median(times), "flops": flops[name],
            "gflops": flops[name] / statistics.median(times) / 1e9,
            "fraction": statistics.median(r / p for r, p in zip(rates, peak_rounds,
                                                                strict=True)),
            "other_load": load.fraction})
    return records


# --- memory -------------------------------------------------------------------------------

def memory_costs(case: ConvCase, element_size: int = 4) -> dict[str, int]:
    """Bytes each representation of the layer ``case`` takes (``element_size`` bytes a value,
    4 for float32; complex values take two):

    - ``input`` ``N·C_in·H·W``, ``weights`` ``C_out·C_in·k²``, ``output``
      ``N·C_out·H_out·W_out``;
    - ``im2col matrix``: ``N · C_in·k² · H_out·W_out`` — each input value copied once per
      kernel tap that sees it (what :func:`cnnlib.im2col.im2col` returns);
    - ``Toeplitz matrix``: ``C_out·H_out·W_out × C_in·H·W``, dense, shared by the batch
      (what :func:`cnnlib.toeplitz.toeplitz_matrix` returns);
    - ``FFT spectra``: ``rfft2`` of the padded inputs, of every filter padded to the image
      grid, and of the outputs, on a grid of ``G × (G//2 + 1)`` complex values (``G`` the
      padded size rounded up to a fast FFT size), as :mod:`cnnlib.fft_conv` computes them.
    """
    if not isinstance(case, ConvCase):
        raise TypeError(f"case must be a cnnlib.benchmark.ConvCase, got {type(case).__name__}")
    n, c_in, c_out, k = case.batch, case.in_channels, case.out_channels, case.kernel_size
    padded = check_kernel_fits(case.size, k, 1, case.padding)
    out = conv_output_size(case.size, k, stride=case.stride, padding=case.padding)
    grid = fast_fft_size(padded)
    spectrum = grid * (grid // 2 + 1) * 2  # complex: two values each
    return {
        "input": n * c_in * case.size**2 * element_size,
        "weights": c_out * c_in * k * k * element_size,
        "output": n * c_out * out**2 * element_size,
        "im2col matrix": n * c_in * k * k * out**2 * element_size,
        "Toeplitz matrix": c_out * out**2 * c_in * case.size**2 * element_size,
        "FFT spectra": (n * c_in + c_out * c_in + n * c_out) * spectrum * element_size,
    }


def peak_memory(fn: Callable[[], object], device) -> int | None:
    """Bytes a call of ``fn()`` allocates at most on a CUDA device, above what was allocated
    before it (its result included). On a CPU, where PyTorch keeps no such count, ``fn`` is not
    called and the answer is ``None``."""
    device = torch.device(device)
    if device.type != "cuda":
        return None
    torch.cuda.synchronize(device)
    before = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    result = fn()
    torch.cuda.synchronize(device)
    peak = torch.cuda.max_memory_allocated(device) - before
    del result
    return peak


def format_count(n: float) -> str:
    """``1_850_000_000 → '1.85 G'``: a count with an SI prefix, three significant digits."""
    for prefix, size in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g} {prefix}"
    return f"{n:.3g} "


def format_bytes(n: float) -> str:
    """``1536 → '1.5 KiB'``: bytes in binary units, three significant digits."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


# --- figures ------------------------------------------------------------------------------
