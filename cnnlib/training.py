"""Training and evaluating classifiers fast, on any device, reproducibly.

The loop of :func:`fit` is the textbook one — shuffle, take a mini-batch, compute the loss,
back-propagate, step the optimiser — written so that it runs fast on a small CPU:

- **the data set is two tensors on the device** (images ``(N, C, H, W)``, labels ``(N,)``),
  standardised once; a mini-batch is one ``index_select`` of a shuffled index, so there is no
  per-sample Python work and no ``DataLoader`` (MNIST is 47 MB as float32: it fits anywhere);
- **a one-cycle learning-rate schedule** (:class:`torch.optim.lr_scheduler.OneCycleLR`): a
  warm-up from ``lr/25`` to ``lr`` over the first ``warmup`` fraction of the steps, then a
  cosine decay to almost 0. A high peak rate learns fast, the decay settles the weights, so
  one epoch does what a constant rate needs several for;
- **larger batches** (256 instead of the usual 64–128): fewer, better-vectorised steps;
- **bfloat16 mixed precision** (``torch.autocast``) where the hardware computes it natively
  (``precision="auto"``: CPUs with AVX512-BF16 or AMX; GPUs stay in float32, where these
  small networks are limited by kernel launches, not arithmetic). Weights, gradients and the
  optimiser stay float32; only the convolutions and matrix products run in bfloat16;
- **channels-last memory format** for the convolutions (oneDNN's and cuDNN's fast layout);
- validation and evaluation in large batches under ``torch.inference_mode``.

Data augmentation: ``fit(..., augment=f)`` replaces every training batch ``xb`` by ``f(xb)``
on the device before the forward pass (e.g. ``f = lambda xb: cnnlib.augment.random_shift(xb,
3, fill=...)``: new random shifts at every step); validation data are never augmented.

Losses and accuracies are summed on the device and read back (one synchronisation) only
at the evaluation points, so the loop never waits for the GPU inside an epoch.

Reproducibility: :func:`fit` seeds torch's global generator (dropout) and draws its
shuffling from its own generator seeded with ``seed``; the initial weights are the
caller's (seed before building the model, e.g. ``cnnlib.seed_everything(0)``). Same seed,
same machine, same thread count ⇒ the same history.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ._validate import (
    check_callable,
    check_choice,
    check_module,
    check_non_negative_int,
    check_number,
    check_positive_int,
)
from .env import is_static
from .evaluation import (  # re-exported: chapters import them from cnnlib.training
    DIRECTIONS,
    PRECISIONS,
    Score,
    _autocast,
    _check_data,
    _memory_format,
    _model_device,
    evaluate,
    resolve_precision,
    shift_accuracy,
    standardize,
)

__all__ = [
    "DIRECTIONS",
    "MNIST_RECIPE",
    "OPTIMIZERS",
    "PRECISIONS",
    "SCHEDULES",
    "History",
    "Score",
    "evaluate",
    "fit",
    "resolve_precision",
    "shift_accuracy",
    "standardize",
]

OPTIMIZERS = ("adamw", "adam", "sgd")
SCHEDULES = ("onecycle", "constant")

#: The settings of :func:`fit` with which chapters 7 and 8 train on MNIST: one epoch of
#: AdamW with a one-cycle schedule, label smoothing, bf16 where the hardware has it.
MNIST_RECIPE = dict(epochs=1, batch_size=256, optimizer="adamw", lr=1e-2, weight_decay=5e-4,
                    schedule="onecycle", warmup=0.25, label_smoothing=0.1, precision="auto",
                    evals_per_epoch=4)


# ------------------------------------------------------------------------------- history

@dataclass
class History:
    """What :func:`fit` recorded, one entry per evaluation point (``evals_per_epoch`` per
    epoch, the last at the end of training).

    ``train_loss``/``train_acc`` are the mean cross-entropy and accuracy over the
    mini-batches since the previous point (measured while learning, in training mode);
    ``val_loss``/``val_acc`` are those of the validation set at the point (empty lists
    without validation data). ``seconds`` is the cumulative training time at each point,
    validation passes excluded.
    """

    step: list[int] = field(default_factory=list)
    epoch: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    eval_seconds: float = 0.0   #: time spent on the validation passes
    device: str = ""
    precision: str = ""         #: "fp32" or "bf16", as resolved on the device
    batch_size: int = 0
    cached: bool = False        #: loaded by :func:`cnnlib.checkpoint.fit_or_load`, not trained now

    @property
    def train_seconds(self) -> float:
        """Training time (the optimisation steps), validation excluded."""
        return self.seconds[-1] if self.seconds else 0.0

    @property
    def total_seconds(self) -> float:
        """Wall time of the whole :func:`fit`, validation included."""
        return self.train_seconds + self.eval_seconds

    @property
    def train_error(self) -> list[float]:
        return [1.0 - a for a in self.train_acc]

    @property
    def val_error(self) -> list[float]:
        return [1.0 - a for a in self.val_acc]

    def numbers(self) -> dict[str, list]:
        """Every recorded number but the times (which vary from run to run)."""
        return {"step": self.step, "epoch": self.epoch, "lr": self.lr,
                "train_loss": self.train_loss, "train_acc": self.train_acc,
                "val_loss": self.val_loss, "val_acc": self.val_acc}

    def __str__(self) -> str:
        head = f"{'epoch':>6} {'step':>6} {'lr':>9} {'train loss':>10} {'train acc':>9}"
        if self.val_acc:
            head += f" {'val loss':>9} {'val acc':>8}"
        head += f" {'time':>7}"
        lines = [head]
        for i in range(len(self.step)):
            line = (f"{self.epoch[i]:6.2f} {self.step[i]:6d} {self.lr[i]:9.2e} "
                    f"{self.train_loss[i]:10.4f} {100 * self.train_acc[i]:8.2f}%")
            if self.val_acc:
                line += f" {self.val_loss[i]:9.4f} {100 * self.val_acc[i]:7.2f}%"
            lines.append(line + f" {self.seconds[i]:6.1f}s")
        lines.append(f"trained {self.train_seconds:.1f} s on {self.device} ({self.precision}, "
                     f"batch {self.batch_size}) + {self.eval_seconds:.1f} s validation"
                     + (" (a stored result, loaded)" if self.cached else ""))
        return "\n".join(lines)

    __repr__ = __str__


# ---------------------------------------------------------------------------------- fit

def _make_optimizer(name: str, params, lr: float, weight_decay: float, momentum: float):
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=momentum > 0,
                           weight_decay=weight_decay)


def _eval_steps(steps_per_epoch: int, epochs: int, evals_per_epoch: int) -> set[int]:
    """Global step numbers (1-based) after which the history records a point."""
    points = set()
    for e in range(epochs):
        for k in range(1, evals_per_epoch + 1):
            points.add(e * steps_per_epoch + math.ceil(k * steps_per_epoch / evals_per_epoch))
    return points


class _Progress:
    """A tqdm bar on stderr in a live session; one printed line per epoch on the static site
    (where a bar redrawn with carriage returns would show every state at once)."""

    def __init__(self, enabled: bool, total: int, desc: str):
        self.enabled, self.static, self.desc = enabled, is_static(), desc
        self.bar = None
        if enabled and not self.static:
            from tqdm import tqdm  # plain tqdm: text on stderr, no widget needed

            self.bar = tqdm(total=total, desc=desc, unit="step", file=sys.stderr,
                            mininterval=0.25, leave=True)

    def update(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def point(self, history: History) -> None:
        if not self.enabled:
            return
        info = {"loss": f"{history.train_loss[-1]:.4f}"}
        if history.val_acc:
            info["val_acc"] = f"{100 * history.val_acc[-1]:.2f}%"
        if self.bar is not None:
            self.bar.set_postfix(info, refresh=True)
        elif history.epoch[-1] == round(history.epoch[-1]):
            shown = ", ".join(f"{k} {v}" for k, v in info.items())
            print(f"{self.desc}: epoch {history.epoch[-1]:.2f}, {shown}", flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _check_fit(model, train_data, val_data, epochs, batch_size, optimizer, schedule, lr,
               weight_decay, momentum, warmup, label_smoothing, evals_per_epoch, seed, augment):
    """Every argument check of :func:`fit`; returns the training and validation data."""
    check_module("model", model)
    if augment is not None:
        check_callable("augment", augment)
    x_train, y_train = _check_data("train_data", train_data)
    val = _check_data("val_data", val_data) if val_data is not None else None
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size)
    check_positive_int("evals_per_epoch", evals_per_epoch)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    check_choice("schedule", schedule, SCHEDULES)
    check_number("lr", lr, 0.0, low_open=True)
    check_number("weight_decay", weight_decay, 0.0)
    check_number("momentum", momentum, 0.0, 1.0)
    check_number("warmup", warmup, 0.0, 1.0, low_open=True)
    check_number("label_smoothing", label_smoothing, 0.0, 1.0)
    check_non_negative_int("seed", seed, type_error=ValueError)
    n = x_train.shape[0]
    if batch_size > n:
        raise ValueError(f"batch_size must not exceed the {n} training samples, got "
                         f"{batch_size}")
    steps_per_epoch = n // batch_size
    total_steps = epochs * steps_per_epoch
    if schedule == "onecycle" and total_steps < 3:
        raise ValueError(f"schedule 'onecycle' needs at least 3 steps (a warm-up and a decay), "
                         f"got {total_steps}; use schedule='constant' or more epochs")
    if evals_per_epoch > steps_per_epoch:
        raise ValueError(f"evals_per_epoch must not exceed the {steps_per_epoch} steps of an "
                         f"epoch, got {evals_per_epoch}")
    return x_train, y_train, val


def _place(model, x_train, y_train, val, device, channels_last):
    """Model and data on ``device``, channels-last when asked."""
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    x_train = _memory_format(x_train.to(device), channels_last)
    if val is not None:
        val = (_memory_format(val[0].to(device), channels_last), val[1].to(device))
    return x_train, y_train.to(device), val


def _make_scheduler(opt, schedule: str, lr: float, total_steps: int, warmup: float):
    if schedule != "onecycle":
        return None
    # OneCycleLR needs ≥ 1 step in each phase: at least 2 warm-up steps on tiny runs.
    return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total_steps,
                                               pct_start=max(warmup, 2 / total_steps))


class _Running:
    """Training loss and accuracy summed since the last history point, and the time spent."""

    def __init__(self, device: torch.device):
        self.loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        self.correct = torch.zeros((), dtype=torch.int64, device=device)
        self.seen = 0
        self.eval_seconds = 0.0
        self.start = time.perf_counter()

    def add(self, loss: torch.Tensor, logits: torch.Tensor, yb: torch.Tensor) -> None:
        self.loss_sum += loss.double() * yb.shape[0]
        self.correct += (logits.argmax(dim=1) == yb).sum()
        self.seen += yb.shape[0]

    def record(self, history: History, step: int, epoch: float, lr: float) -> None:
        history.step.append(step)
        history.epoch.append(epoch)
        history.lr.append(lr)
        history.train_loss.append(float(self.loss_sum.item()) / self.seen)
        history.train_acc.append(int(self.correct.item()) / self.seen)
        history.seconds.append(time.perf_counter() - self.start - self.eval_seconds)
        self.loss_sum.zero_()
        self.correct.zero_()
        self.seen = 0

    def validate(self, history: History, model: nn.Module, val, precision: str) -> None:
        t0 = time.perf_counter()
        score = evaluate(model, *val, batch_size=500, precision=precision)
        self.eval_seconds += time.perf_counter() - t0
        history.val_loss.append(score.loss)
        history.val_acc.append(score.accuracy)


def _augmented(augment, xb: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """``augment(xb)``, checked to be a tensor of ``xb``'s shape, in the model's layout."""
    with torch.no_grad():
        out = augment(xb)
    if not isinstance(out, torch.Tensor) or out.shape != xb.shape:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"augment must return a tensor of the batch's shape {tuple(xb.shape)}, "
                         f"got {got}")
    return _memory_format(out, channels_last)


def _train_step(model, opt, scheduler, xb, yb, precision, device, label_smoothing,
                running: _Running) -> float:
    """One optimisation step on a batch; returns the learning rate it used."""
    with _autocast(precision, device):
        logits = model(xb)
    logits = logits.float()
    loss = F.cross_entropy(logits, yb, label_smoothing=label_smoothing)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    lr_now = opt.param_groups[0]["lr"]
    if scheduler is not None:
        scheduler.step()
    with torch.no_grad():
        running.add(loss if label_smoothing == 0 else F.cross_entropy(logits, yb), logits, yb)
    return lr_now


def fit(model: nn.Module, train_data: Sequence[torch.Tensor],
        val_data: Sequence[torch.Tensor] | None = None, *, epochs: int = 1,
        batch_size: int = 256, optimizer: str = "adamw", lr: float = 1e-2,
        weight_decay: float = 5e-4, momentum: float = 0.9, schedule: str = "onecycle",
        warmup: float = 0.25, label_smoothing: float = 0.1, precision: str = "auto",
        channels_last: bool = True, evals_per_epoch: int = 1,
        device: torch.device | str | None = None, seed: int = 0, progress: bool = True,
        desc: str | None = None,
        augment: Callable[[torch.Tensor], torch.Tensor] | None = None) -> History:
    """Train ``model`` for classification with cross-entropy; returns a :class:`History`.

    The defaults are chapter 7's recipe, which trains LeNet past 99 % test accuracy on MNIST
    in one epoch: AdamW, peak rate 10⁻², one cycle with a 25 % warm-up, batches of 256,
    weight decay 5·10⁻⁴, label smoothing 0.1, bfloat16 where native, channels-last.

    Args:
        model: any ``nn.Module`` mapping a batch of ``train_data`` images to logits
            ``(B, num_classes)``. Trained in place (and moved to ``device``).
        train_data: ``(images, labels)``: ``(N, C, H, W)`` floats (standardised already,
            see :func:`standardize`) and ``(N,)`` int64 class indices. Moved to the device
            once.
        val_data: the same for validation (or ``None``), evaluated at every point.
        epochs: passes over the training set. Each shuffles it anew and takes
            ``N // batch_size`` full batches (the ``N mod batch_size`` samples left out
            differ from epoch to epoch).
        batch_size: samples per step.
        optimizer: ``"adamw"`` (Adam with decoupled weight decay), ``"adam"`` or ``"sgd"``
            (with Nesterov momentum ``momentum``).
        lr: the peak learning rate (the constant one with ``schedule="constant"``).
        weight_decay: L2 penalty (decoupled for AdamW).
        schedule: ``"onecycle"`` (warm-up over the fraction ``warmup`` of the steps, then
            cosine decay; Adam's β₁ or SGD's momentum cycles the other way, 0.95 → 0.85 →
            0.95, as in ``OneCycleLR``; at least 2 warm-up steps on tiny runs) or
            ``"constant"``.
        label_smoothing: as in ``F.cross_entropy`` (the target puts ``1 − ε`` on the class
            and spreads ``ε`` evenly).
        precision: ``"auto"``, ``"fp32"`` or ``"bf16"`` (see :func:`resolve_precision`).
        channels_last: store 4-D weights and batches channels-last.
        evals_per_epoch: history points per epoch (a point costs one validation pass).
        device: where to train; default: where the model's parameters are.
        seed: seeds the shuffling and dropout.
        progress: show a progress bar (a line per epoch when building the static site).
        desc: the bar's label (default: the model's class name).
        augment: ``None``, or a function applied to every training batch ``(B, C, H, W)``
            on the device, without gradient, before the forward pass; it must return a
            tensor of the same shape (e.g. :func:`cnnlib.augment.random_shift`). Its random
            draws come from torch's global generator, which ``fit`` seeds with ``seed``.
    """
    x_train, y_train, val = _check_fit(model, train_data, val_data, epochs, batch_size,
                                       optimizer, schedule, lr, weight_decay, momentum,
                                       warmup, label_smoothing, evals_per_epoch, seed,
                                       augment)
    steps_per_epoch = x_train.shape[0] // batch_size
    total_steps = epochs * steps_per_epoch
    device = torch.device(device) if device is not None else _model_device(model)
    precision = resolve_precision(precision, device)
    x_train, y_train, val = _place(model, x_train, y_train, val, device, channels_last)

    torch.manual_seed(seed)                       # dropout and other in-model randomness
    shuffler = torch.Generator().manual_seed(seed)
    opt = _make_optimizer(optimizer, model.parameters(), lr, weight_decay, momentum)
    scheduler = _make_scheduler(opt, schedule, lr, total_steps, warmup)
    history = History(device=str(device), precision=precision, batch_size=batch_size)
    points = _eval_steps(steps_per_epoch, epochs, evals_per_epoch)
    bar = _Progress(progress, total_steps, desc or type(model).__name__)
    running = _Running(device)
    model.train()
    step = 0
    try:
        for _ in range(epochs):
            order = torch.randperm(x_train.shape[0], generator=shuffler).to(device)
            for b in range(steps_per_epoch):
                idx = order[b * batch_size:(b + 1) * batch_size]
                xb = x_train.index_select(0, idx)
                if augment is not None:
                    xb = _augmented(augment, xb, channels_last)
                lr_now = _train_step(model, opt, scheduler, xb, y_train.index_select(0, idx),
                                     precision, device, label_smoothing, running)
                step += 1
                bar.update()
                if step in points:
                    running.record(history, step, step / steps_per_epoch, lr_now)
                    if val is not None:
                        running.validate(history, model, val, precision)
                    bar.point(history)
    finally:
        bar.close()
    history.eval_seconds = running.eval_seconds
    return history
