"""Benchmark cnnlib's convolution methods against PyTorch's own kernel.

    python benchmarks/conv.py [--quick] [--out DIR] [--device cpu|cuda]

Four measurements, every ratio taken against ``torch.nn.functional.conv2d`` in the same
interleaved rounds (see ``cnnlib.benchmark``). Times are medians; "ratio" is the median of the
per-round ratios (each pair measured back to back), "best/best" the ratio of the fastest calls.
"busy" is the share of the CPU that other processes used during a measurement: a busy
machine slows short, many-step computations more than one library call, so run it on a quiet
machine for numbers worth quoting.

1. im2col on VGG-style 3×3 layers — the target: within 2.0× of PyTorch on the first one
   (batch 8, 64→64 channels, 56×56, padding 1);
2. every method on a LeNet first layer (1×1×28×28, 20 filters of 5×5) — the loop must take
   less than a second, the Toeplitz matrix is still small there;
3. fft, im2col and PyTorch for growing kernels on a 256×256 image — where the FFT overtakes;
4. a summary line, ``SUMMARY: …``; the exit status is 1 when the im2col target is missed.

Results go to ``DIR/conv.json`` and ``DIR/conv.csv`` (default ``bench-results/``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

from cnnlib.benchmark import (
    LENET_LAYER,
    MID_LAYERS,
    OtherLoad,
    compare_methods,
    crossover,
    kernel_size_sweep,
    seconds_by,
)
from cnnlib.conv import METHODS

IM2COL_TARGET = 2.0  # im2col time / PyTorch time on MID_LAYERS[0]
LOOP_LIMIT_S = 1.0  # the loop method on the LeNet layer
BUSY_LIMIT = 0.2  # above this share of the CPU used by others, say the timings are unreliable


def table(records: list[dict], columns: list[tuple[str, str, str]]) -> str:
    """A plain-text table: columns are (header, record key, format)."""
    rows = [[format(r[key], fmt) for _, key, fmt in columns] for r in records]
    headers = [h for h, _, _ in columns]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    text = [not fmt for _, _, fmt in columns]  # strings to the left, numbers to the right
    body = ["  ".join(c.ljust(w) if left else c.rjust(w)
                      for c, w, left in zip(row, widths, text, strict=True)) for row in rows]
    return "\n".join([line, "-" * len(line), *body])


def percent(fraction: float | None) -> str:
    return "n/a" if fraction is None else f"{100 * fraction:.0f}%"


def with_ms(records: list[dict]) -> list[dict]:
    return [{**r, "ms": 1e3 * r["seconds"], "torch_ms": 1e3 * r["torch_seconds"],
             "best_ratio": r["min_seconds"] / r["torch_min_seconds"],
             "busy": percent(r["other_load"])} for r in records]


TIMES = [("method", "method", ""), ("ms", "ms", ".2f"), ("torch ms", "torch_ms", ".2f"),
         ("ratio", "ratio", ".2f"), ("best/best", "best_ratio", ".2f"), ("rounds", "rounds", "d"),
         ("busy", "busy", ">"), ("max |err|", "max_abs_error", ".1e")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and kernel sizes")
    parser.add_argument("--out", default="bench-results", help="folder for conv.json/conv.csv")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    repeats = 7 if args.quick else 21
    kernel_sizes = [3, 7, 11, 15, 23, 31] if args.quick else [3, 5, 7, 9, 11, 15, 19, 23, 27, 31]
    layers = MID_LAYERS[:1] if args.quick else MID_LAYERS
    with OtherLoad() as idle:
        time.sleep(1.0)
    print(f"torch {torch.__version__} on {device} ({platform.processor() or platform.machine()}),"
          f" {torch.get_num_threads()} threads, {os.cpu_count()} cores; other processes used "
          f"{percent(idle.fraction)} of the CPU in the last second"
          f"{'  [quick]' if args.quick else ''}")
    start = time.perf_counter()

    print("\n1. im2col vs PyTorch on VGG-style layers")
    vgg = with_ms(compare_methods(layers, ["im2col"], repeats=repeats, device=device,
                                  progress=True))
    print(table(vgg, [("layer", "name", ""), *TIMES[1:]]))

    print(f"\n2. every method on the {LENET_LAYER.name}")
    lenet = with_ms(compare_methods([LENET_LAYER], METHODS, repeats=max(3, repeats // 3),
                                    device=device, budget_s=3.0, progress=True))
    print(table(lenet, TIMES))

    print("\n3. growing kernels on 1×3×256×256 → 8 channels (padding k//2)")
    sweep = with_ms(kernel_size_sweep(kernel_sizes, repeats=max(3, repeats // 3),
                                      device=device, budget_s=1.5 if args.quick else 3.0,
                                      progress=True))
    by_k = {}
    for r in sweep:
        row = by_k.setdefault(r["kernel_size"], {"k": r["kernel_size"], "torch_ms": r["torch_ms"],
                                                 "busy": r["busy"]})
        row[f"{r['method']}_ms"] = r["ms"]
        row[f"{r['method']}_ratio"] = r["ratio"]
    print(table(list(by_k.values()), [
        ("k", "k", "d"), ("torch ms", "torch_ms", ".2f"), ("fft ms", "fft_ms", ".2f"),
        ("fft/torch", "fft_ratio", ".2f"), ("im2col ms", "im2col_ms", ".2f"),
        ("im2col/torch", "im2col_ratio", ".2f"), ("busy", "busy", ">")]))
    fft_from = crossover(seconds_by(sweep), "fft", "torch")

    target_ratio, busy = vgg[0]["ratio"], vgg[0]["other_load"]
    loop_s = next(r["seconds"] for r in lenet if r["method"] == "loop")
    im2col_ok, loop_ok = target_ratio <= IM2COL_TARGET, loop_s < LOOP_LIMIT_S
    fft_text = (f"fft faster than torch from k={fft_from}" if fft_from is not None
                else f"fft not faster than torch up to k={kernel_sizes[-1]}")
    summary = (f"SUMMARY: im2col/torch {target_ratio:.2f}x (target <= {IM2COL_TARGET}x) "
               f"{'PASS' if im2col_ok else 'FAIL'}; {fft_text}; loop LeNet layer "
               f"{loop_s:.2f} s {'PASS' if loop_ok else 'FAIL'}")
    if busy is not None and busy > BUSY_LIMIT:
        summary += (f" [machine busy: other processes used {percent(busy)} of the CPU during "
                    f"the im2col measurement; rerun when it is quiet]")
    elapsed = time.perf_counter() - start
    print(f"\n(measured in {elapsed:.0f} s)\n{summary}")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    records = ([{**r, "benchmark": "vgg_im2col"} for r in vgg]
               + [{**r, "benchmark": "lenet_methods"} for r in lenet]
               + [{**r, "benchmark": "kernel_sweep"} for r in sweep])
    (out / "conv.json").write_text(json.dumps({
        "torch": torch.__version__, "device": str(device), "threads": torch.get_num_threads(),
        "other_load_at_start": idle.fraction, "quick": args.quick, "seconds": elapsed,
        "im2col_ratio": target_ratio, "im2col_target": IM2COL_TARGET, "im2col_pass": im2col_ok,
        "fft_crossover_kernel": fft_from, "loop_lenet_seconds": loop_s, "loop_pass": loop_ok,
        "summary": summary, "records": records,
    }, indent=2))
    with open(out / "conv.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    print(f"results: {out / 'conv.json'}, {out / 'conv.csv'}")
    return 0 if im2col_ok and loop_ok else 1


if __name__ == "__main__":
    sys.exit(main())
