"""The training question of exercise 07: its digits, its limits and its judges.

The student writes ``train_lenet5(images, labels)``: it builds ``cnnlib.models.LeNet5()``
(the architecture is fixed, so the grader can rebuild it), trains it on the digits it is given
and returns ``model.state_dict()``, plain data that can leave the sandbox (a model object
cannot). No student code ever runs in the grader: the grader loads the returned weights into a
fresh ``LeNet5()`` of its own and measures it.

Three fixed, disjoint sets of MNIST digits (from :func:`cnnlib.datasets.load_mnist`, i.e.
``$CNNLIB_DATA`` or a download), each drawn once with a fixed seed:

- :func:`training_digits`: ``N_TRAIN`` training digits, ``images`` uint8 ``(N, 1, 28, 28)``
  (pixel values 0–255, as MNIST stores them) and ``labels`` int64 ``(N,)``. They are the
  question's only input: the grader sends them to the sandbox through its channel, so the
  sandbox needs no data files (and sees none: :mod:`cnnlib.grading.sandbox`).
- :func:`validation_digits`: ``N_VALIDATION`` other training digits. ``check()`` measures the
  student's model on them, in the student's own kernel.
- :func:`test_digits`: ``N_TEST`` digits of MNIST's test set. Only the grader's judge
  (:func:`judge_training`) reads them, in the grader's process; they never reach a sandbox,
  so no submission can read, or train on, their labels.

The accuracy of a state dict is the share of digits whose largest logit is their label, for
``LeNet5()`` with the state dict loaded (``strict=True``: every weight, the right shapes), in
``eval()`` mode, on ``images.float() / 255`` (pixels in [0, 1]: the input the student trains
on). Credit: 1 at ``FULL_MARKS`` (88 %) or more, 0 at ``NO_MARKS`` (50 %) or less, linear in
between (a 69 % model earns half the points). The model solution (Adam, learning rate 2·10⁻³,
mini-batches of 32, 15 epochs) reaches about 92 %; the same loop without
``optimizer.zero_grad()`` less than 88 % (partial credit, and feedback that names the slip).

The training runs in the sandbox under its own time limit, ``TIMEOUT`` seconds (one thread,
as every sandbox: ``OMP_NUM_THREADS=1``); a loop that runs longer is stopped and scores 0
(status ``timeout``). Every sandbox seeds Python's, NumPy's and PyTorch's generators alike
before any student code runs, so a regrade trains the same network and gives the same grade.
"""

from __future__ import annotations

import functools

import torch

from .compare import Outcome
from .question import Graded

__all__ = ["FULL_MARKS", "NO_MARKS", "N_TEST", "N_TRAIN", "N_VALIDATION", "TIMEOUT",
           "accuracy", "check_training", "credit", "judge_training", "ref_train_lenet5",
           "test_digits", "training_case", "training_digits", "validation_digits"]

N_TRAIN = 1_200
"""Training digits the student's loop receives (1,200 × 784 pixels fit one message of the
grader's channel, at most a million values a tensor)."""
N_VALIDATION = 2_000
N_TEST = 2_000
FULL_MARKS = 0.88
NO_MARKS = 0.50
TIMEOUT = 40.0
"""Wall seconds the sandbox gives the training (the model solution takes a few)."""
_SEED = 2026

@functools.cache
def _digits(train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    from cnnlib.datasets import load_mnist

    ds = load_mnist(train=train)
    order = torch.randperm(len(ds.targets), generator=torch.Generator().manual_seed(_SEED))
    return ds.data[order].unsqueeze(1).to(torch.uint8), ds.targets[order].to(torch.int64)


def training_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """The ``N_TRAIN`` training digits of the question: ``(images, labels)``, fresh copies."""
    images, labels = _digits(True)
    return images[:N_TRAIN].clone(), labels[:N_TRAIN].clone()


def validation_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """``N_VALIDATION`` training digits not among :func:`training_digits` (for ``check()``)."""
    images, labels = _digits(True)
    end = N_TRAIN + N_VALIDATION
    return images[N_TRAIN:end].clone(), labels[N_TRAIN:end].clone()


def test_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """``N_TEST`` digits of MNIST's test set: the grader's alone."""
    images, labels = _digits(False)
    return images[:N_TEST].clone(), labels[:N_TEST].clone()


def accuracy(state, images: torch.Tensor, labels: torch.Tensor) -> float:
    """The accuracy of ``LeNet5()`` with ``state`` loaded, on ``images.float() / 255``.

    Raises TypeError when ``state`` is not a dict of tensors, and the error of
    ``load_state_dict`` (a RuntimeError naming the missing or misshapen weights) when it does
    not fit LeNet-5."""
    from cnnlib.models import LeNet5

    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor)
                                              for v in state.values()):
        raise TypeError("expected model.state_dict() of a LeNet5(): a dict of tensors")
    model = LeNet5()
    model.load_state_dict(state, strict=True)
    model.eval()
    with torch.no_grad():
        logits = model(images.to(torch.float32) / 255)
    return float((logits.argmax(1) == labels).to(torch.float64).mean())


def credit(acc: float) -> float:
    """1 from ``FULL_MARKS`` up, 0 at ``NO_MARKS`` and below, linear in between."""
    return min(1.0, max(0.0, (acc - NO_MARKS) / (FULL_MARKS - NO_MARKS)))


_LOW = ("it learns too little. Common causes: optimizer.zero_grad() forgotten before each "
        "backward() (the gradients of all earlier steps then add up), a learning rate far too "
        "small (Adam: about 1e-3), too few epochs, or training on pixels 0–255 instead of "
        "images.float() / 255")
_NOTHING = ("it has hardly learnt anything: does the loop call loss.backward() and "
            "optimizer.step() on batches of images.float() / 255 with their labels, and return "
            "the trained model's state_dict()?")


def _outcome(acc: float, where: str, reveal: bool) -> Graded:
    share = credit(acc)
    said = f"accuracy {100 * acc:.1f} % on {where}" if reveal else f"the accuracy on {where}"
    scale = (f"full marks from {100 * FULL_MARKS:.0f} %, none at {100 * NO_MARKS:.0f} % or "
             "less")
    if share == 1.0:
        return Graded.of(1.0, f"{said}: full marks ({scale}).")
    why = _NOTHING if share == 0.0 else _LOW + "."
    return Graded.of(share, f"{said} ({scale}): {why}")


def _unreadable(err: Exception) -> Outcome:
    return Outcome(False, "train_lenet5 must return model.state_dict() of a "
                          f"cnnlib.models.LeNet5() ({type(err).__name__}: {str(err)[:160]})")


def judge_training(args, expected, got, reveal) -> Outcome:
    """The grader's judge: the accuracy on the test digits it keeps (:func:`test_digits`)."""
    try:
        acc = accuracy(got, *test_digits())
    except (TypeError, RuntimeError, ValueError) as err:
        return _unreadable(err)
    return _outcome(acc, f"{N_TEST:,} test digits the grader keeps", reveal)


def check_training(args, expected, got, reveal) -> Outcome:
    """``check()``'s judge: the accuracy on held-out training digits
    (:func:`validation_digits`), never on the test digits."""
    try:
        acc = accuracy(got, *validation_digits())
    except (TypeError, RuntimeError, ValueError) as err:
        return _unreadable(err)
    return _outcome(acc, f"{N_VALIDATION:,} held-out training digits", True)


def ref_train_lenet5(images: torch.Tensor, labels: torch.Tensor) -> None:
    """The question's reference: nothing to compare with (many weights are right answers);
    the judges measure what the returned weights achieve."""
    return None


def training_case(rng) -> tuple[torch.Tensor, torch.Tensor]:
    """The question's one public case: :func:`training_digits` (fixed, whatever ``rng``)."""
    return training_digits()
