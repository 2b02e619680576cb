"""Benchmark ``cnnlib.training.fit`` against a plain PyTorch loop: time to 99.0 % on MNIST.

    python benchmarks/training.py [--out DIR] [--target 99.0] [--max-epochs 8]

Both train the same LeNet (20-50-500) from the same initial weights and are judged on the
10,000 test digits.

- **plain loop** — the textbook one: torchvision's ``MNIST`` with ``ToTensor`` and
  ``Normalize`` transforms, a ``DataLoader`` (batch 128, shuffled, per-sample collation),
  ``Adam`` at its default rate 10⁻³, cross-entropy, 60,000 training digits. It is evaluated
  every quarter epoch; its time is the training time until the first evaluation at or above
  the target (the evaluations themselves are not counted).
- **fit** — chapter 7's ``MNIST_RECIPE`` (one epoch of AdamW, one-cycle schedule, batches of
  256, label smoothing, channels-last) on the 55,000 digits of ``mnist_split``; its time is
  ``History.train_seconds`` (validation passes not counted), and its test accuracy is
  measured once, at the end.

Each pair runs in fp32 and, on a CPU that computes bfloat16 natively, again with both under
bf16 autocast. Data loading before training (reading the files, building the tensors) is not
counted for either. The ratio fit / plain is printed per precision; the exit status is 1 when
fit misses the target accuracy or the fp32 ratio exceeds ``RATIO_TARGET``. Results go to
``DIR/training.json`` (default ``bench-results/``). Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F

import cnnlib
from cnnlib.datasets import MNIST_MEAN, MNIST_STD, load_mnist, mnist_split
from cnnlib.evaluation import _cpu_has_native_bf16
from cnnlib.models import LeNet
from cnnlib.performance import describe_device
from cnnlib.training import MNIST_RECIPE, evaluate, fit

RATIO_TARGET = 0.4  # fit's time to the target / the plain loop's, in fp32


def plain_loop(target: float, max_epochs: int, precision: str, x_test, y_test) -> dict:
    """Train LeNet the textbook way until its test accuracy reaches ``target``."""
    from torchvision import transforms

    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MNIST_MEAN,),
                                                                         (MNIST_STD,))])
    loader = torch.utils.data.DataLoader(load_mnist(train=True, transform=tf), batch_size=128,
                                         shuffle=True,
                                         generator=torch.Generator().manual_seed(0))
    cnnlib.seed_everything(0)
    model = LeNet()
    opt = torch.optim.Adam(model.parameters())
    checks = {len(loader) * q // 4 for q in range(1, 5)}  # a quarter epoch apart
    seconds, curve = 0.0, []
    for epoch in range(max_epochs):
        model.train()
        start = time.perf_counter()
        for step, (xb, yb) in enumerate(loader, 1):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
                loss = F.cross_entropy(model(xb).float(), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step in checks:
                seconds += time.perf_counter() - start
                accuracy = evaluate(model, x_test, y_test).accuracy
                curve.append((round(epoch + step / len(loader), 2), accuracy, seconds))
                if accuracy >= target:
                    return {"seconds": seconds, "accuracy": accuracy, "curve": curve}
                start = time.perf_counter()
    return {"seconds": None, "accuracy": curve[-1][1], "curve": curve}


def with_fit(precision: str, x_test, y_test) -> dict:
    train, val, _ = mnist_split(validation=5_000, seed=0)
    cnnlib.seed_everything(0)
    model = LeNet()
    history = fit(model, train, val, progress=False, **{**MNIST_RECIPE, "precision": precision})
    return {"seconds": history.train_seconds,
            "accuracy": evaluate(model, x_test, y_test).accuracy}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="bench-results")
    parser.add_argument("--target", type=float, default=99.0, help="test accuracy, percent")
    parser.add_argument("--max-epochs", type=int, default=8)
    args = parser.parse_args()
    target = args.target / 100
    _, _, (x_test, y_test) = mnist_split(validation=5_000, seed=0)
    precisions = ["fp32"] + (["bf16"] if _cpu_has_native_bf16() else [])
    print(f"LeNet on MNIST, time to {args.target:.1f} % test accuracy on "
          f"{describe_device('cpu')}; precisions: {', '.join(precisions)}")
    results, ok = {}, True
    for precision in precisions:
        plain = plain_loop(target, args.max_epochs, precision, x_test, y_test)
        ours = with_fit(precision, x_test, y_test)
        reached = ours["accuracy"] >= target
        ratio = (ours["seconds"] / plain["seconds"]
                 if plain["seconds"] is not None and reached else None)
        results[precision] = {"plain": plain, "fit": ours, "ratio": ratio}
        shown = "—" if plain["seconds"] is None else f"{plain['seconds']:.1f} s"
        print(f"[{precision}] plain loop: {shown} (test accuracy "
              f"{100 * plain['accuracy']:.2f} % after {plain['curve'][-1][0]} epochs)")
        print(f"[{precision}] fit:        {ours['seconds']:.1f} s (test accuracy "
              f"{100 * ours['accuracy']:.2f} % after {MNIST_RECIPE['epochs']} epoch)")
        print(f"[{precision}] fit / plain = "
              + ("n/a" if ratio is None else f"{ratio:.2f}"))
        ok &= reached and (precision != "fp32" or (ratio is not None and ratio <= RATIO_TARGET))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "training.json").write_text(json.dumps(results, indent=1))
    fp32 = results["fp32"]["ratio"]
    print(f"SUMMARY: fit / plain loop (fp32) = "
          f"{'n/a' if fp32 is None else f'{fp32:.2f}'} (target ≤ {RATIO_TARGET}); "
          + ("met" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
