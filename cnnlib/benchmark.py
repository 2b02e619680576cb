"""Timing cnnlib's convolution methods against PyTorch's own kernel.

Used by ``benchmarks/conv.py`` (the full run) and by the chapter "How convolution is computed"
(a shrunk run). Every function returns plain records — lists of dicts — ready for a table,
a plot or ``json.dump``.

Timing rules, so that numbers from one run can be compared with each other:

- **Warm-up** calls first (allocator, caches, lazy initialisation are not measured).
- **Median** of the repeats, not the mean: one hiccup of a shared machine does not move it.
  A repeat of a fast function times several calls in a row (as ``timeit`` does).
- **Interleaved** rounds: every contender is called once per round, so a slow spell of the
  machine slows all of them alike; the ratio to PyTorch is the median of the per-round
  ratios (a paired comparison), which stays meaningful on a busy machine.
- On CUDA, ``torch.cuda.synchronize()`` before and after each call: kernels run
  asynchronously and would otherwise be timed as free.
- Same inputs, dtype, device and thread count for every contender (like with like).

:func:`seconds_by` turns records into ``{method: {x: seconds}}`` and :func:`crossover` finds
from which ``x`` one method beats another.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from ._validate import check_non_negative_int, check_positive_int
from .conv import METHODS, conv2d

__all__ = [
    "LENET_LAYER",
    "MID_LAYERS",
    "ConvCase",
    "OtherLoad",
    "compare_methods",
    "conv_calls",
    "crossover",
    "kernel_size_sweep",
    "measure",
    "seconds_by",
    "time_function",
    "time_functions",
]


@dataclass(frozen=True)
class ConvCase:
    """One convolution layer to time: ``input (N, C_in, H, W)``, ``C_out`` filters of ``k×k``."""

    name: str
    batch: int
    in_channels: int
    out_channels: int
    size: int
    kernel_size: int
    stride: int = 1
    padding: int = 0

    def tensors(self, device="cpu", dtype=torch.float32, seed: int = 0):
        """Random ``(x, weight, bias)`` for this layer, reproducible from ``seed``."""
        gen = torch.Generator().manual_seed(seed)
        x = torch.randn(self.batch, self.in_channels, self.size, self.size, generator=gen,
                        dtype=dtype)
        w = torch.randn(self.out_channels, self.in_channels, self.kernel_size,
                        self.kernel_size, generator=gen, dtype=dtype)
        w = w / (self.in_channels * self.kernel_size**2) ** 0.5
        b = torch.randn(self.out_channels, generator=gen, dtype=dtype)
        return x.to(device), w.to(device), b.to(device)


MID_LAYERS = (
    ConvCase("stage 1: 8×64×56×56, 64→64, 3×3", 8, 64, 64, 56, 3, padding=1),
    ConvCase("stage 2: 8×128×28×28, 128→128, 3×3", 8, 128, 128, 28, 3, padding=1),
    ConvCase("stage 3: 8×256×14×14, 256→256, 3×3", 8, 256, 256, 14, 3, padding=1),
)
"""3×3, padding 1 layers at the shapes of ResNet-18's first three stages (He et al., 2016),
batch 8: typical mid-network convolutions; the first is the im2col target."""

LENET_LAYER = ConvCase("LeNet conv1: 1×1×28×28, 1→20, 5×5", 1, 1, 20, 28, 5)


class OtherLoad:
    """How much CPU *other* processes used while the ``with`` block ran (Linux only).

    ``fraction`` is their CPU time (including time stolen by a hypervisor) divided by the
    machine's capacity over the interval: 0 on a quiet machine, 0.5 when other processes kept
    half of the cores busy. ``None`` where ``/proc/stat`` does not exist. A busy machine makes
    every parallel step wait for descheduled threads, so timings from it are not comparable.
    """

    fraction: float | None = None

    @staticmethod
    def _busy_seconds() -> float | None:
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _own_seconds() -> float:
        t = os.times()
        return t.user + t.system

    def __enter__(self) -> OtherLoad:
        self._start = (time.perf_counter(), self._busy_seconds(), self._own_seconds())
        return self

    def __exit__(self, *exc) -> None:
        wall0, busy0, own0 = self._start
        busy1 = self._busy_seconds()
        if busy0 is None or busy1 is None:
            return
        elapsed = time.perf_counter() - wall0
        others = (busy1 - busy0) - (self._own_seconds() - own0)
        self.fraction = max(0.0, others) / (max(elapsed, 1e-9) * (os.cpu_count() or 1))


def _sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def measure(functions: dict[str, Callable[[], object]], repeats: int = 10, warmup: int = 2,
            device="cpu", budget_s: float | None = None,
            min_sample_s: float = 0.005) -> dict[str, list[float]]:
    """Seconds per call of each function, one sample per interleaved round.

    ``functions`` maps a name to a zero-argument callable. Each gets ``warmup`` untimed
    calls (at least one, used to size the run), then ``repeats`` rounds take one sample of
    every function, in forward order on even rounds and reverse order on odd ones (no
    contender always runs right after the same neighbour). As ``timeit`` does, a sample of a
    fast function times several calls in a row — enough to last ``min_sample_s`` — and
    divides, so that timer resolution and waking idle threads do not dominate. With
    ``budget_s``, the number of rounds shrinks (to at least 3) so that the whole measurement
    takes about that long — for contenders that need seconds per call.
    Returns ``{name: [seconds per call in round 0, round 1, …]}``.
    """
    check_positive_int("repeats", repeats)
    check_non_negative_int("warmup", warmup, type_error=ValueError)
    first = {name: _timed(fn, device, 1) for name, fn in functions.items()}
    for _ in range(warmup - 1):
        first = {name: _timed(fn, device, 1) for name, fn in functions.items()}
    calls = {name: min(1000, max(1, math.ceil(min_sample_s / max(t, 1e-9))))
             for name, t in first.items()}
    if budget_s is not None:
        per_round = sum(first[name] * calls[name] for name in functions)
        repeats = max(3, min(repeats, int(budget_s / max(per_round, 1e-9))))
    samples: dict[str, list[float]] = {name: [] for name in functions}
    names = list(functions)
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            samples[name].append(_timed(functions[name], device, calls[name]))
    return samples


def _timed(fn: Callable[[], object], device, calls: int) -> float:
    """Seconds per call over ``calls`` calls in a row."""
    _sync(device)
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    _sync(device)
    return (time.perf_counter() - start) / calls


def time_functions(functions: dict[str, Callable[[], object]], repeats: int = 10,
                   warmup: int = 2, device="cpu", budget_s: float | None = None
                   ) -> dict[str, float]:
    """Median seconds per call of each function, measured in interleaved rounds (see
    :func:`measure`)."""
    samples = measure(functions, repeats, warmup, device, budget_s)
    return {name: statistics.median(values) for name, values in samples.items()}


def time_function(fn: Callable[[], object], repeats: int = 10, warmup: int = 2,
                  device="cpu") -> float:
    """Median seconds per call of ``fn()`` over ``repeats`` calls, after ``warmup`` calls."""
    return time_functions({"fn": fn}, repeats, warmup, device)["fn"]


def _record(case: ConvCase, method: str, samples: list[float], torch_samples: list[float],
            error: float, device) -> dict:
    """Medians, minima and the paired ratio: the median over rounds of method/torch, each
    pair measured back to back, so a slow spell of a shared machine cancels out."""
    paired = [t / t0 for t, t0 in zip(samples, torch_samples, strict=True)]
    return {
        **asdict(case),
        "method": method,
        "seconds": statistics.median(samples),
        "torch_seconds": statistics.median(torch_samples),
        "ratio": statistics.median(paired),
        "ratio_of_medians": statistics.median(samples) / statistics.median(torch_samples),
        "min_seconds": min(samples),
        "torch_min_seconds": min(torch_samples),
        "rounds": len(samples),
        "max_abs_error": error,
        "device": str(device),
        "threads": torch.get_num_threads(),
    }


def compare_methods(cases: Iterable[ConvCase], methods: Sequence[str] = ("im2col",),
                    repeats: int = 10, warmup: int = 2, device="cpu",
                    dtype=torch.float32, budget_s: float | None = None,
                    progress: bool = False) -> list[dict]:
    """Time ``conv2d(method=m)`` for each method against ``F.conv2d`` on each case.

    Returns one record per (case, method): the case's fields; ``seconds`` and
    ``torch_seconds``, medians measured in the same interleaved rounds; ``ratio``, the median
    over rounds of method time / PyTorch time (paired); ``ratio_of_medians``; ``min_seconds``
    and ``torch_min_seconds``; ``rounds``; ``max_abs_error`` against PyTorch; ``device``;
    ``threads``; ``other_load``, the share of the CPU that other processes used meanwhile
    (see :class:`OtherLoad`).
    """
    for m in methods:
        if m not in METHODS:
            raise ValueError(f"methods must be among {', '.join(METHODS)}, got {m!r}")
    records = []
    cases = list(cases)
    for case in _progress(cases, progress, "layers"):
        x, w, b = case.tensors(device, dtype)
        args = {"stride": case.stride, "padding": case.padding}
        with torch.no_grad():
            expected = F.conv2d(x, w, b, **args)
            with OtherLoad() as load:
                samples = measure(conv_calls(x, w, b, methods, **args), repeats, warmup, device,
                                  budget_s)
            for m in methods:
                error = (conv2d(x, w, b, method=m, **args) - expected).abs().max().item()
                records.append({**_record(case, m, samples[m], samples["torch"], error, device),
                                "other_load": load.fraction})
    return records


def conv_calls(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
               methods: Sequence[str], **args) -> dict[str, Callable[[], torch.Tensor]]:
    """``{"torch": F.conv2d call, method: conv2d(method=…) call, …}`` on the same tensors,
    ready for :func:`measure`. ``args`` are conv2d's keyword arguments (stride, padding, …)."""
    calls = {"torch": lambda: F.conv2d(x, weight, bias, **args)}
    for m in methods:
        calls[m] = lambda m=m: conv2d(x, weight, bias, method=m, **args)
    return calls


def kernel_size_sweep(kernel_sizes: Sequence[int], batch: int = 1, channels: int = 3,
                      out_channels: int = 8, size: int = 256,
                      methods: Sequence[str] = ("fft", "im2col"), repeats: int = 5,
                      warmup: int = 1, device="cpu", budget_s: float | None = 2.0,
                      progress: bool = False) -> list[dict]:
    """Time the methods against ``F.conv2d`` for growing ``k×k`` kernels on one image size.

    Padding ``k // 2`` keeps the output at the input size, so only the kernel grows. The
    direct methods cost ∝ k², the FFT's cost hardly depends on k: see :func:`crossover`.
    """
    cases = [ConvCase(f"k={k}", batch, channels, out_channels, size, k, padding=k // 2)
             for k in kernel_sizes]
    return compare_methods(cases, methods, repeats, warmup, device, budget_s=budget_s,
                           progress=progress)



def seconds_by(records: Iterable[dict], key: str = "kernel_size") -> dict[str, dict]:
    """``{method: {record[key]: median seconds}}`` from :mod:`cnnlib.benchmark` records, with
    PyTorch's own kernel as ``"torch"`` (its medians from the same rounds; where several
    records share a ``key`` value, the median of their ``torch_seconds``)."""
    table: dict[str, dict] = {}
    torch_times: dict = {}
    for r in records:
        table.setdefault(r["method"], {})[r[key]] = r["seconds"]
        torch_times.setdefault(r[key], []).append(r["torch_seconds"])
    if not table:
        raise ValueError("records must hold at least one benchmark record")
    table["torch"] = {x: statistics.median(v) for x, v in torch_times.items()}
    return {m: dict(sorted(t.items())) for m, t in table.items()}


def crossover(times: Mapping[str, Mapping], fast: str, slow: str):
    """The smallest ``x`` from which ``fast`` takes less time than ``slow`` at every larger
    ``x`` measured for both (``None`` if ``fast`` is not faster at the largest one).

    ``times`` as returned by :func:`seconds_by`, e.g. ``crossover(times, "fft", "torch")``.
    """
    for name in (fast, slow):
        if name not in times:
            raise ValueError(f"{name!r} is not among the measured methods {sorted(times)}")
    xs = sorted(set(times[fast]) & set(times[slow]))
    found = None
    for x in reversed(xs):
        if times[fast][x] >= times[slow][x]:
            break
        found = x
    return found


def _progress(items: list, enabled: bool, unit: str):
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, unit=unit, leave=False)
