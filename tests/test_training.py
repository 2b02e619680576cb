"""cnnlib.training: evaluate against a hand computation, fit learns, reproducibly, anywhere."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib.datasets import MNIST_MEAN, MNIST_STD
from cnnlib.training import (
    History,
    Score,
    _eval_steps,
    evaluate,
    fit,
    resolve_precision,
    shift_accuracy,
    standardize,
)


def _toy_data(n: int, seed: int = 0):
    """8×8 images: class 0 has a bright left half, class 1 a bright right half, plus noise."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = 0.5 * torch.randn(n, 1, 8, 8, generator=g)
    x[y == 0, :, :, :4] += 1.0
    x[y == 1, :, :, 4:] += 1.0
    return x, y


def _toy_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 3 * 3, 2))


# ---------------------------------------------------------------------------- standardize

def test_standardize_uses_mnist_statistics_by_default():
    x = torch.tensor([0.0, MNIST_MEAN, 1.0])
    torch.testing.assert_close(standardize(x), (x - 0.1307) / 0.3081)
    assert standardize(x)[1] == 0
    torch.testing.assert_close(standardize(x, mean=0.5, std=0.5), 2 * x - 1)
    with pytest.raises(TypeError, match="x"):
        standardize(torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="std"):
        standardize(x, std=0)
    assert MNIST_STD == 0.3081


# ------------------------------------------------------------------------------ evaluate

class _Fixed(nn.Module):
    """Logits = the input itself (a (N, 3) tensor): the prediction is its argmax."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return x + 0 * self.dummy


def test_evaluate_against_a_hand_computation(device):
    logits = torch.tensor([[3.0, 1.0, 0.0],   # predicts 0
                           [0.0, 2.0, 1.0],   # predicts 1
                           [0.0, 0.0, 5.0],   # predicts 2
                           [1.0, 0.0, 0.0],   # predicts 0
                           [0.0, 4.0, 0.0]])  # predicts 1
    labels = torch.tensor([0, 1, 1, 2, 1])   # right, right, wrong, wrong, right
    model = _Fixed().to(device)
    score = evaluate(model, logits, labels, batch_size=2)  # batches of 2, 2 and 1
    assert (score.correct, score.total) == (3, 5)
    assert score.accuracy == 3 / 5 and math.isclose(score.error, 2 / 5)
    # mean of −log softmax(row)[label], written out
    by_hand = sum(-(row[k] - torch.logsumexp(row, 0)).item()
                  for row, k in zip(logits, labels.tolist(), strict=True)) / 5
    assert math.isclose(score.loss, by_hand, rel_tol=1e-6)
    assert math.isclose(score.loss, F.cross_entropy(logits, labels).item(), rel_tol=1e-6)
    assert "60.00 %" in str(score)


def test_evaluate_restores_the_mode_and_uses_eval_mode():
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.9), nn.Linear(64, 2))
    x, y = _toy_data(50)
    model.train()
    first = evaluate(model, x, y)
    assert model.training
    assert evaluate(model, x, y) == first  # dropout off during evaluation: deterministic
    model.eval()
    evaluate(model, x, y)
    assert not model.training


def test_evaluate_errors():
    model = _toy_model()
    x, y = _toy_data(10)
    with pytest.raises(ValueError, match="same, non-zero number"):
        evaluate(model, x, y[:5])
    with pytest.raises(ValueError, match="int64"):
        evaluate(model, x, y.float())
    with pytest.raises(ValueError, match="batch_size"):
        evaluate(model, x, y, batch_size=0)
    with pytest.raises(ValueError, match="precision"):
        evaluate(model, x, y, precision="fp16")


# ----------------------------------------------------------------------------------- fit

def test_fit_learns_a_toy_problem(device):
    train, val = _toy_data(256, seed=1), _toy_data(128, seed=2)
    model = _toy_model().to(device)
    before = evaluate(model, *val)
    history = fit(model, train, val, epochs=3, batch_size=32, lr=1e-2, precision="fp32",
                  progress=False, evals_per_epoch=2)
    after = evaluate(model, *val)
    assert after.loss < 0.5 * before.loss
    assert after.accuracy > 0.95
    assert history.train_loss[-1] < history.train_loss[0]
    assert math.isclose(history.val_loss[-1], after.loss, rel_tol=1e-5)
    assert history.val_acc[-1] == after.accuracy


def test_fit_is_reproducible_with_the_same_seed(device):
    train, val = _toy_data(128, seed=1), _toy_data(64, seed=2)
    runs = []
    for seed in (0, 0, 1):
        model = nn.Sequential(_toy_model(), nn.Dropout(0.2)).to(device)
        h = fit(model, train, val, epochs=2, batch_size=16, seed=seed, progress=False,
                evals_per_epoch=2, precision="fp32")
        runs.append((h.numbers(), [p.detach().cpu().clone() for p in model.parameters()]))
    (h0, w0), (h1, w1), (h2, _) = runs
    assert h0 == h1
    assert all(torch.equal(a, b) for a, b in zip(w0, w1, strict=True))
    assert h0 != h2  # another seed shuffles (and drops out) differently


def test_fit_history_points_and_schedule():
    train, val = _toy_data(100), _toy_data(20)
    model = _toy_model()
    h = fit(model, train, val, epochs=2, batch_size=10, lr=0.1, optimizer="sgd",
            evals_per_epoch=3, progress=False, precision="fp32")
    assert isinstance(h, History)
    assert h.step == [4, 7, 10, 14, 17, 20]  # ⌈k·10/3⌉ within each epoch of 10 steps
    assert h.epoch == [s / 10 for s in h.step]
    assert len(h.train_loss) == len(h.val_acc) == len(h.seconds) == 6
    assert h.seconds == sorted(h.seconds) and h.train_seconds == h.seconds[-1]
    assert h.total_seconds >= h.train_seconds
    assert max(h.lr) <= 0.1 and h.lr[-1] < 0.1 / 25  # one cycle: up to lr, then down
    assert h.lr.index(max(h.lr)) in (0, 1)  # the peak is early (warm-up = 25 % of steps)
    assert h.train_error == [1 - a for a in h.train_acc]
    assert "trained" in str(h) and "val acc" in str(h)
    constant = fit(_toy_model(), train, epochs=1, batch_size=10, lr=0.05, schedule="constant",
                   progress=False, precision="fp32")
    assert constant.lr == [0.05] and constant.val_acc == []


def test_eval_steps_end_every_epoch():
    assert _eval_steps(10, 2, 1) == {10, 20}
    assert _eval_steps(7, 1, 7) == set(range(1, 8))
    assert max(_eval_steps(214, 2, 4)) == 428


@pytest.mark.parametrize("optimizer", ["adamw", "adam", "sgd"])
def test_fit_each_optimizer_lowers_the_loss(optimizer):
    train = _toy_data(128)
    model = _toy_model()
    lr = 0.05 if optimizer == "sgd" else 5e-3
    start = evaluate(model, *train).loss
    fit(model, train, epochs=2, batch_size=16, optimizer=optimizer, lr=lr, progress=False,
        precision="fp32")
    assert evaluate(model, *train).loss < start


def test_fit_in_bfloat16_learns_and_keeps_float32_weights():
    train, val = _toy_data(256, seed=1), _toy_data(128, seed=2)
    model = _toy_model()
    h = fit(model, train, val, epochs=3, batch_size=32, lr=1e-2, precision="bf16",
            progress=False, label_smoothing=0.1)
    assert h.precision == "bf16"
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert h.val_acc[-1] > 0.95


def test_fit_moves_model_and_data_to_the_device(device):
    train = _toy_data(64)
    model = _toy_model()  # built on the CPU
    h = fit(model, train, train, epochs=1, batch_size=16, device=device, progress=False)
    assert all(p.device.type == device.type for p in model.parameters())
    assert h.device == str(device)
    assert h.precision == resolve_precision("auto", device)


def test_progress_bar_and_static_lines(capsys, monkeypatch):
    train = _toy_data(64)
    monkeypatch.delenv("CNNLIB_STATIC", raising=False)
    fit(_toy_model(), train, train, epochs=1, batch_size=16, progress=True, desc="toy")
    err = capsys.readouterr().err
    assert "toy" in err and "4/4" in err
    monkeypatch.setenv("CNNLIB_STATIC", "1")
    fit(_toy_model(), train, train, epochs=1, batch_size=16, progress=True, desc="toy",
        evals_per_epoch=2)
    captured = capsys.readouterr()
    assert captured.out.count("toy: epoch") == 1 and "\r" not in captured.out  # per epoch
    assert captured.err == ""


def test_resolve_precision():
    assert resolve_precision("fp32", "cpu") == "fp32"
    assert resolve_precision("bf16", "cpu") == "bf16"
    assert resolve_precision("auto", "cpu") in ("fp32", "bf16")
    assert resolve_precision("auto", "cuda") == "fp32"
    with pytest.raises(ValueError, match="precision"):
        resolve_precision("half", "cpu")


@pytest.mark.parametrize("kwargs, error, match", [
    ({"optimizer": "rmsprop"}, ValueError, "optimizer"),
    ({"schedule": "step"}, ValueError, "schedule"),
    ({"batch_size": 1000}, ValueError, "batch_size must not exceed the 64"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"epochs": 0}, ValueError, "epochs"),
    ({"evals_per_epoch": 5, "batch_size": 16}, ValueError, "evals_per_epoch"),
    ({"lr": 0}, ValueError, "lr"),
    ({"lr": "fast"}, TypeError, "lr"),
    ({"warmup": 1.5}, ValueError, "warmup"),
    ({"label_smoothing": -0.1}, ValueError, "label_smoothing"),
    ({"seed": -1}, ValueError, "seed"),
    ({"precision": "fp16"}, ValueError, "precision"),
    ({"batch_size": 32, "epochs": 1}, ValueError, "at least 3 steps"),
])
def test_fit_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        fit(_toy_model(), _toy_data(64), progress=False, **{"batch_size": 16, **kwargs})


def test_fit_data_errors():
    x, y = _toy_data(64)
    with pytest.raises(TypeError, match="train_data"):
        fit(_toy_model(), x, progress=False)
    with pytest.raises(ValueError, match="val_data"):
        fit(_toy_model(), (x, y), (x, y[:3]), progress=False)
    with pytest.raises(TypeError, match="images"):
        fit(_toy_model(), ((x > 0).long(), y), progress=False)


class _Recorder(nn.Module):
    """The toy model, recording whether each batch it saw was all zeros, in which mode."""

    def __init__(self):
        super().__init__()
        self.net = _toy_model()
        self.seen: list[tuple[bool, bool]] = []

    def forward(self, x):
        self.seen.append((self.training, bool((x == 0).all())))
        return self.net(x)


def test_fit_augments_every_training_batch_and_never_the_validation_data():
    train, val = _toy_data(64, seed=1), _toy_data(32, seed=2)
    calls = []

    def blank(xb):
        calls.append(tuple(xb.shape))
        return torch.zeros_like(xb)

    model = _Recorder()
    fit(model, train, val, epochs=2, batch_size=16, augment=blank, progress=False,
        precision="fp32", evals_per_epoch=2)
    assert calls == [(16, 1, 8, 8)] * 8  # 4 steps per epoch, 2 epochs
    training = [zero for mode, zero in model.seen if mode]
    validation = [zero for mode, zero in model.seen if not mode]
    assert training == [True] * 8 and validation and not any(validation)


def test_fit_learns_from_the_augmented_batches():
    train, val = _toy_data(256, seed=1), _toy_data(128, seed=2)
    kwargs = dict(epochs=3, batch_size=32, lr=1e-2, precision="fp32", progress=False)
    plain, blind = _toy_model(), _toy_model()
    fit(plain, train, **kwargs)
    fit(blind, train, augment=torch.zeros_like, **kwargs)  # sees no image at all
    assert evaluate(plain, *val).accuracy > 0.95
    assert evaluate(blind, *val).accuracy < 0.75


def test_fit_with_random_shifts_is_reproducible(device):
    from cnnlib.augment import random_shift

    train = _toy_data(128, seed=1)
    runs = []
    for seed in (0, 0, 1):
        model = _toy_model().to(device)
        h = fit(model, train, epochs=2, batch_size=16, seed=seed, progress=False,
                precision="fp32", augment=lambda xb: random_shift(xb, 2, fill=-1.0))
        runs.append((h.numbers(), [p.detach().cpu().clone() for p in model.parameters()]))
    (h0, w0), (h1, w1), (h2, _) = runs
    assert h0 == h1 and all(torch.equal(a, b) for a, b in zip(w0, w1, strict=True))
    assert h0 != h2


@pytest.mark.parametrize("augment, error, match", [
    ("shift", TypeError, "augment"),
    (lambda xb: xb[:, :, 1:], ValueError, r"augment must return a tensor of the batch's shape"),
    (lambda xb: xb.tolist(), ValueError, "augment must return"),
])
def test_fit_augment_errors(augment, error, match):
    with pytest.raises(error, match=match):
        fit(_toy_model(), _toy_data(64), batch_size=16, augment=augment, progress=False)


class _TopLeft(nn.Module):
    """Class 0 if the image's top-left 2×2 quadrant holds more than the rest, else class 1."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        corner = x[..., :2, :2].sum(dim=(1, 2, 3))
        rest = x.sum(dim=(1, 2, 3)) - corner
        return torch.stack([corner, rest], dim=1) + 0 * self.dummy


def test_shift_accuracy_by_hand(device):
    image = torch.zeros(1, 1, 4, 4)
    image[0, 0, 1, 1] = 1.0  # in the top-left quadrant: class 0
    labels = torch.tensor([0])
    model = _TopLeft().to(device)
    acc = shift_accuracy(model, image, labels, [0, 1, 2, 4], prepare=lambda x: x)
    # shift 1: right → (1, 2) wrong, left → (1, 0) right, down → (2, 1) wrong, up → (0, 1)
    # right. Shift 2: right (1, 3) wrong, left: the pixel leaves, logits tie at 0 and argmax
    # picks class 0 (right), down (3, 1) wrong, up: leaves (right). Shift 4: all leave.
    assert acc == [1.0, 0.5, 0.5, 1.0]
    only_right = shift_accuracy(model, image, labels, [1], directions=[(0, 1)],
                                prepare=lambda x: x)
    assert only_right == [0.0]


def test_shift_accuracy_standardises_after_shifting():
    x, y = _toy_data(40)
    x = x.clamp(0, 1)
    model = _toy_model()
    assert shift_accuracy(model, x, y, [0]) == [evaluate(model, standardize(x), y).accuracy]
    with pytest.raises(ValueError, match="shifts"):
        shift_accuracy(model, x, y, [-1])
    with pytest.raises(TypeError, match="shifts"):
        shift_accuracy(model, x, y, 2)


def test_score_error_property():
    assert Score(loss=0.1, accuracy=0.75, correct=3, total=4).error == 0.25


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_fit_trains_on_the_gpu():
    train, val = _toy_data(256, seed=1), _toy_data(128, seed=2)
    model = _toy_model()
    h = fit(model, train, val, epochs=3, batch_size=32, lr=1e-2, device="cuda",
            progress=False)
    assert next(model.parameters()).is_cuda
    assert h.device.startswith("cuda") and h.precision == "fp32"
    assert h.val_acc[-1] > 0.95
    assert evaluate(model, *val).accuracy == h.val_acc[-1]
