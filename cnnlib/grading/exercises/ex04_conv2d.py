"""Exercise 04 — 2D convolution: the graded questions of ``exercises/04_conv2d.ipynb``.

Every expected answer comes from a reference (PyTorch or cnnlib); the fixed cases' hand-written
answers are tested against those references in ``tests/test_grading_questions.py`` and
``tests/test_grading_ex04_conv2d.py``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from cnnlib.convolve import convolve2d
from cnnlib.equivariance import translate
from cnnlib.template_matching import (
    best_match,
    cross_correlation_scores,
    normalized_cross_correlation,
)

from ..cases import m, rounded_normal, t
from ..compare import Outcome
from ..forbidden import CONV2D, OUTPUT_SIZE
from ..mistakes import Mistake
from ..question import Case, Exercise, Question

__all__ = ["EDGE_RULES", "EXAMPLE_IMAGE", "EXAMPLE_KERNEL", "EXERCISE", "edge_test_images",
           "judge_edge_kernel"]

EXAMPLE_IMAGE = m([2, 0, 1, 3], [7, 1, 1, 0], [0, 2, 5, 0], [0, 5, 1, 4])
EXAMPLE_KERNEL = m([1, 1, 1], [0, 0, 0], [-1, -1, -1])
GAUSS3 = m([1, 2, 1], [2, 4, 2], [1, 2, 1]) / 16


# --- references -------------------------------------------------------------------------------

def ref_conv2d_single(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return F.conv2d(x[None, None], w[None, None])[0, 0]


def ref_conv2d_layer(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, stride: int,
                     padding: int) -> torch.Tensor:
    return F.conv2d(x[None], weight, bias, stride=stride, padding=padding)[0]


def ref_conv_output_shape(h: int, w: int, k: int, stride: int, padding: int,
                          dilation: int) -> tuple[int, int]:
    shape = F.conv2d(torch.zeros(1, 1, h, w), torch.zeros(1, 1, k, k), stride=stride,
                     padding=padding, dilation=dilation).shape
    return int(shape[-2]), int(shape[-1])


def ref_example_same() -> torch.Tensor:
    return F.conv2d(EXAMPLE_IMAGE[None, None], EXAMPLE_KERNEL[None, None], padding=1)[0, 0]


def ref_combine_kernels(g: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    return convolve2d(g, h, mode="full")


def ref_shift_right_kernel() -> torch.Tensor:
    """Read off the kernel from the wanted operation's answer to an impulse.

    With padding 1, ``y[a, b] = Σ w[i, j] x[a + i − 1, b + j − 1]``; for the impulse at the
    centre (2, 2) of a 5 × 5 image that is ``y[a, b] = w[3 − a, 3 − b]``, so the kernel is the
    central 3 × 3 of the response rotated by 180°.
    """
    impulse = torch.zeros(5, 5)
    impulse[2, 2] = 1.0
    response = translate(impulse, (0, 1), mode="zeros")
    return response[1:4, 1:4].flip(0, 1).contiguous()


def ref_edge_kernel() -> torch.Tensor:
    """A Sobel kernel for edges bright on the left, dark on the right: the central difference
    ``x[left] − x[right]`` across the columns, smoothed by ``[1, 2, 1]`` down the rows (the
    outer product of the two). Cross-correlation uses it as it is, so its positive column
    reads the bright side."""
    smooth = convolve2d(t(1, 1)[None], t(1, 1)[None], mode="full")[0]      # [1, 2, 1]
    difference = convolve2d(t(1, 1)[None], t(1, -1)[None], mode="full")[0]  # [1, 0, −1]
    return torch.outer(smooth, difference)


def ref_ncc_map(image: torch.Tensor, template: torch.Tensor) -> torch.Tensor:
    return normalized_cross_correlation(image, template)


def ref_find_template(image: torch.Tensor, template: torch.Tensor) -> tuple[int, int]:
    return best_match(normalized_cross_correlation(image, template))


# --- the edge detector's judge: properties measured on images it draws ------------------------

EDGE_RULES = {"size": 16, "flat": 1e-5, "strength": 0.25, "across": 0.1, "seed": 4}
"""What ``edge_kernel`` must do on the judge's ``size × size`` images (noise-free steps of
brightness ``b`` to ``b + C``), with ``S = Σ|w|`` the kernel's total absolute weight:

- flat images: every response ``|r| ≤ flat·b·S`` (practically 0);
- the edge asked for (bright on the left, dark on the right): a largest response
  ``≥ strength·C·S`` (a Sobel or Prewitt kernel reaches ``C·S/2``);
- the opposite edge (dark on the left, bright on the right): no response above ``flat·C·S``;
- horizontal edges (either polarity): every ``|r|`` at most ``across`` times the kernel's
  largest response to the edge asked for, at the same contrast."""


def edge_test_images(seed: int = EDGE_RULES["seed"]) -> dict[str, list[tuple[torch.Tensor,
                                                                             float, float]]]:
    """The judge's images, float64 ``(size, size)``, with their base brightness ``b`` and
    contrast ``C``: ``{"flat": …, "target": …, "opposite": …, "horizontal": …}``, four steps of
    each kind at random positions (three flat images)."""
    rng = np.random.default_rng(seed)
    n = EDGE_RULES["size"]
    out: dict[str, list] = {"flat": [], "target": [], "opposite": [], "horizontal": []}
    for _ in range(3):
        b = float(rng.uniform(0.2, 1.0))
        out["flat"].append((torch.full((n, n), b, dtype=torch.float64), b, 0.0))
    for kind in ("target", "opposite", "horizontal"):
        for k in range(4):
            b, c, edge = float(rng.uniform(0.2, 1.0)), float(rng.uniform(0.2, 1.0)), \
                int(rng.integers(3, n - 3))
            img = torch.full((n, n), b, dtype=torch.float64)
            if kind == "target":
                img[:, :edge] += c          # bright on the left
            elif kind == "opposite":
                img[:, edge:] += c          # bright on the right
            elif k % 2 == 0:
                img[:edge] += c             # bright above
            else:
                img[edge:] += c             # bright below
            out[kind].append((img, b, c))
    return out


def _responses(kernel: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """Valid cross-correlation of a 3 × 3 kernel: nine shifted copies of the image, weighed
    (cheaper than a convolution call for one small image)."""
    n = image.shape[0] - 2
    return sum(kernel[i, j] * image[i:i + n, j:j + n] for i in range(3) for j in range(3))


def _fmt(v: float) -> str:
    return f"{round(v, 6) + 0.0:.3g}"


def _edge_failures(w: torch.Tensor) -> list[tuple[str, str]]:
    """The properties the kernel ``w`` (float64, 3 × 3) breaks: ``(rule, measured)`` pairs."""
    rules, images = EDGE_RULES, edge_test_images()
    s = float(w.abs().sum())
    failures = []
    flat = max(float(_responses(w, img).abs().max()) / (b * s) for img, b, _ in images["flat"])
    if flat > rules["flat"]:
        failures.append(("it is not silent on flat regions: its weights must sum to zero",
                         f"|response|/(b·Σ|w|) = {_fmt(flat)}"))
    target = min(float(_responses(w, img).max()) / (c * s) for img, _, c in images["target"])
    if target < rules["strength"]:
        failures.append(("it does not respond strongly to the edge asked for (bright on the "
                         "left, dark on the right): its largest response there must be at "
                         "least a quarter of C·Σ|w|",
                         f"largest response/(C·Σ|w|) = {_fmt(target)}"))
    opposite = max(float(_responses(w, img).max()) / (c * s) for img, _, c in images["opposite"])
    if opposite > rules["flat"]:
        failures.append(("it responds positively to the opposite edge (dark on the left, "
                         "bright on the right): mind the signs", f"largest response/(C·Σ|w|) "
                         f"= {_fmt(opposite)}"))
    across = max(float(_responses(w, img).abs().max()) / (c * s)
                 for img, _, c in images["horizontal"])
    if across > rules["across"] * max(target, rules["strength"]):
        failures.append(("it responds to horizontal edges: at most a tenth of its response to "
                         "the edge asked for", f"largest |response|/(C·Σ|w|) = {_fmt(across)}, "
                         f"on the edge asked for {_fmt(target)}"))
    return failures


def judge_edge_kernel(args: tuple, expected, got, reveal: bool) -> Outcome:
    """Accept any 3 × 3 kernel with the properties of :data:`EDGE_RULES`; the message names
    every property it breaks (with its measurements only when ``reveal``)."""
    if not isinstance(got, torch.Tensor):
        return Outcome(False, "expected a torch.Tensor")
    if tuple(got.shape) != (3, 3) or not got.is_floating_point():
        return Outcome(False, "expected a 3 × 3 tensor of floats")
    w = got.detach().double().cpu()
    if not bool(torch.isfinite(w).all()) or not bool((w != 0).any()):
        return Outcome(False, "the kernel must hold finite weights, not all zero")
    failures = _edge_failures(w)
    if not failures:
        return Outcome(True)
    parts = [f"{rule} ({measured})" if reveal else rule for rule, measured in failures]
    return Outcome(False, "; ".join(parts))


# --- known mistakes: what an answer with each slip returns -------------------------------------

def _layer(x, weight, bias, stride, padding):
    return ref_conv2d_layer(x, weight, bias, stride, padding)


def _layer_unpadded_count(x, weight, bias, stride, padding):
    """Windows on the padded image, but as many as the unpadded image has."""
    rows = (x.shape[1] - weight.shape[2]) // stride + 1
    cols = (x.shape[2] - weight.shape[3]) // stride + 1
    if rows <= 0 or cols <= 0:
        raise ValueError("no output")
    return _layer(x, weight, bias, stride, padding)[:, :rows, :cols]


def _shape(h, w, span, stride, padding):
    return (h + 2 * padding - span) // stride + 1, (w + 2 * padding - span) // stride + 1


def _combine_assigned(g, h):
    """The blocks written with = instead of +=: each overwrites the ones before."""
    out = torch.zeros(g.shape[0] + h.shape[0] - 1, g.shape[1] + h.shape[1] - 1, dtype=g.dtype)
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            out[i:i + h.shape[0], j:j + h.shape[1]] = g[i, j] * h
    return out


def _combine_swapped(g, h):
    """The block of g[i, j] put at (j, i)."""
    out = torch.zeros(g.shape[0] + h.shape[0] - 1, g.shape[1] + h.shape[1] - 1, dtype=g.dtype)
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            out[j:j + h.shape[0], i:i + h.shape[1]] += g[i, j] * h
    return out


SINGLE_MISTAKES = (
    Mistake("kernel flipped", lambda x, w: ref_conv2d_single(x, w.flip(0, 1)),
            "that is a true convolution, not the cross-correlation asked for: multiply the "
            "window by w as it is, without rotating it"),
    Mistake("kernel flipped along one axis", lambda x, w: ref_conv2d_single(x, w.flip(1)),
            "w is used as it is: neither its rows nor its columns are reversed"),
    Mistake("kernel transposed", lambda x, w: ref_conv2d_single(x, w.T),
            "rows and columns are swapped: w[i, j] multiplies x[a + i, b + j], i down and j "
            "across, and the window is kh rows by kw columns"),
    Mistake("last row and column of windows missing",
            lambda x, w: ref_conv2d_single(x, w)[:-1, :-1],
            "the loops stop one window early: there are H − kh + 1 window rows and W − kw + 1 "
            "window columns"),
    Mistake("mean instead of sum", lambda x, w: ref_conv2d_single(x, w) / w.numel(),
            "each output is the sum of the products of w with its window, not their mean"),
)

LAYER_MISTAKES = (
    Mistake("bias forgotten", lambda x, weight, bias, s, p: _layer(x, weight, None, s, p),
            "every output channel o adds its bias[o] to each of its values"),
    Mistake("bias added once per input channel",
            lambda x, weight, bias, s, p: _layer(x, weight, bias * x.shape[0], s, p),
            "the bias is added once per output value, after summing over the input channels, "
            "not inside the loop over them"),
    Mistake("kernel flipped",
            lambda x, weight, bias, s, p: _layer(x, weight.flip(2, 3), bias, s, p),
            "that is a true convolution, not the cross-correlation asked for: use each filter "
            "as it is, without rotating it"),
    Mistake("stride ignored", lambda x, weight, bias, s, p: _layer(x, weight, bias, 1, p),
            "keep every s-th window in each direction: window (a, b) starts at (a·s, b·s)"),
    Mistake("padding ignored", lambda x, weight, bias, s, p: _layer(x, weight, bias, s, 0),
            "pad each channel with p zeros on every side before sliding the filters"),
    Mistake("stride applied to the unpadded size", _layer_unpadded_count,
            "the number of outputs comes from the padded size: ⌊(H + 2p − kh)/s⌋ + 1 rows "
            "(likewise columns)"),
)

SHAPE_MISTAKES = (
    Mistake("dilation counted from 0",
            lambda h, w, k, s, p, d: _shape(h, w, (d + 1) * (k - 1) + 1, s, p),
            "dilation 1 is the plain kernel: d − 1 holes between taps, a span of d(k − 1) + 1"),
    Mistake("dilation times the kernel size",
            lambda h, w, k, s, p, d: _shape(h, w, d * k, s, p),
            "a dilated kernel spans d(k − 1) + 1 pixels: the holes sit between the k taps, "
            "there are k − 1 gaps"),
    Mistake("dilation ignored", lambda h, w, k, s, p, d: _shape(h, w, k, s, p),
            "a dilated kernel spans d(k − 1) + 1 pixels, not k"),
    Mistake("padding counted once",
            lambda h, w, k, s, p, d: _shape(h - p, w - p, d * (k - 1) + 1, s, p),
            "p zeros are added on each side: the padded size is n + 2p"),
    Mistake("true division instead of floor division",
            lambda h, w, k, s, p, d: ((h + 2 * p - d * (k - 1) - 1) / s + 1,
                                      (w + 2 * p - d * (k - 1) - 1) / s + 1),
            "/ gives floats; the number of whole windows is an int: use // (floor division)"),
    Mistake("height and width swapped",
            lambda h, w, k, s, p, d: _shape(w, h, d * (k - 1) + 1, s, p),
            "return (rows, columns): the height's output first, then the width's"),
)

COMBINE_MISTAKES = (
    Mistake("h flipped", lambda g, h: convolve2d(g, h.flip(0, 1), mode="full"),
            "each g[i, j] adds g[i, j]·h as it is, not rotated: composing two "
            "cross-correlations adds shifted copies of h"),
    Mistake("result rotated by 180°",
            lambda g, h: convolve2d(g, h, mode="full").flip(0, 1),
            "the block of g[i, j] has its top-left corner at (i, j), counted from the top-left "
            "of the output, not from its bottom-right"),
    Mistake("one row and column too many",
            lambda g, h: F.pad(convolve2d(g, h, mode="full"), (0, 1, 0, 1)),
            "the output is (kh_g + kh_h − 1) × (kw_g + kw_h − 1): two kernels that overlap by "
            "one pixel"),
    Mistake("blocks overwritten instead of added", _combine_assigned,
            "where blocks overlap their values add up: use += to accumulate g[i, j]·h"),
    Mistake("row and column of g swapped", _combine_swapped,
            "the block of g[i, j] goes to row i and column j: i indexes rows, j columns"),
)


def _windows(image, template):
    """Every window ``(H − h + 1, W − w + 1, h, w)`` of the image, float64."""
    h, w = template.shape
    return image.double().unfold(0, h, 1).unfold(1, w, 1)


def _safe_ratio(num, den):
    return torch.where(den == 0, torch.zeros_like(num), num / torch.where(den == 0, 1.0, den))


def _ncc_like(image, template, *, centre=True, window_norm="centred", template_norm=True):
    """NCC with one step done differently (what an answer with that slip computes)."""
    x = _windows(image, template)
    tt = template.double()
    xc = x - x.mean(dim=(-2, -1), keepdim=True) if centre else x
    tc = tt - tt.mean() if centre else tt
    num = (xc * tc).sum(dim=(-2, -1))
    norm = {"centred": xc, "raw": x}[window_norm].pow(2).sum(dim=(-2, -1)).sqrt()
    den = norm * (tc.norm() if template_norm else 1.0)
    return _safe_ratio(num, den).to(image.dtype)


def _ncc_std(image, template):
    """Divided by the two (unbiased) standard deviations instead of the norms."""
    return (ref_ncc_map(image, template).double() * (template.numel() - 1)).to(image.dtype)


NCC_MISTAKES = (
    Mistake("no mean subtraction", lambda x, t_: _ncc_like(x, t_, centre=False),
            "remove the mean first: subtract each window's own mean from the window and the "
            "template's mean from the template, then take the norms of what is left"),
    Mistake("template not normalised", lambda x, t_: _ncc_like(x, t_, template_norm=False),
            "divide by both norms, the window's and the template's: the score is a cosine, "
            "between −1 and 1"),
    Mistake("window norm taken before removing its mean",
            lambda x, t_: _ncc_like(x, t_, window_norm="raw"),
            "the window's norm is that of the window minus its mean, ‖x − mean x‖, like the "
            "template's"),
    Mistake("standard deviations instead of norms", _ncc_std,
            "divide by the norms ‖x − mean x‖·‖t − mean t‖ (square roots of sums of squares), "
            "not by standard deviations, which also divide by the number of pixels"),
    Mistake("template rotated by 180°", lambda x, t_: ref_ncc_map(x, t_.flip(0, 1)),
            "cross-correlation moves the template as it is: pixel (i, j) of the template "
            "meets pixel (a + i, b + j) of the image"),
    Mistake("last row and column of windows missing",
            lambda x, t_: ref_ncc_map(x, t_)[:-1, :-1],
            "there are H − h + 1 window rows and W − w + 1 window columns: the last window "
            "ends at the image's last pixel"),
)

def _find_split_by_rows(image, template):
    scores = normalized_cross_correlation(image, template)
    k = int(torch.argmax(scores))
    return k // scores.shape[0], k % scores.shape[0]


FIND_MISTAKES = (
    Mistake("plain correlation instead of NCC",
            lambda x, t_: best_match(cross_correlation_scores(x, t_)),
            "the plain score Σ x·t grows with the window's brightness: a bright region beats "
            "the true match; take the largest normalised cross-correlation"),
    Mistake("(col, row) instead of (row, col)",
            lambda x, t_: ref_find_template(x, t_)[::-1],
            "return (row, col): the row first, then the column"),
    Mistake("centre of the window instead of its corner",
            lambda x, t_: tuple(int(v + s // 2) for v, s in
                                zip(ref_find_template(x, t_), t_.shape, strict=True)),
            "the NCC map's entry (i, j) belongs to the window whose top-left corner is (i, j): "
            "return that corner"),
    Mistake("smallest score instead of the largest",
            lambda x, t_: best_match(-normalized_cross_correlation(x, t_)),
            "the best match has the largest NCC (1 for a perfect copy), not the smallest"),
    Mistake("flat index split by the number of rows", _find_split_by_rows,
            "the map is stored row after row: flat index k is row k // (number of columns), "
            "column k % (number of columns)"),
)


# --- random cases -----------------------------------------------------------------------------

def rand_single(rng: np.random.Generator):
    h, w = int(rng.integers(1, 9)), int(rng.integers(1, 9))
    kh, kw = int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))
    return rounded_normal(rng, (h, w)), rounded_normal(rng, (kh, kw))


def rand_layer(rng: np.random.Generator):
    c_in, c_out = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    stride, padding = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    h = int(rng.integers(max(1, kh - 2 * padding), 8))
    w = int(rng.integers(max(1, kw - 2 * padding), 8))
    return (rounded_normal(rng, (c_in, h, w)), rounded_normal(rng, (c_out, c_in, kh, kw)),
            rounded_normal(rng, c_out), stride, padding)


def rand_output_shape(rng: np.random.Generator):
    k, dilation = int(rng.integers(1, 8)), int(rng.integers(1, 4))
    stride, padding = int(rng.integers(1, 5)), int(rng.integers(0, 4))
    low = max(1, dilation * (k - 1) + 1 - 2 * padding)
    return int(rng.integers(low, 65)), int(rng.integers(low, 65)), k, stride, padding, dilation


def rand_combine(rng: np.random.Generator):
    return (rounded_normal(rng, tuple(int(v) for v in rng.integers(1, 5, size=2))),
            rounded_normal(rng, tuple(int(v) for v in rng.integers(1, 5, size=2))))


def _cut_template(rng: np.random.Generator, image: np.ndarray, low: int = 1, high: int = 9):
    """A non-constant patch of ``image`` (at least 2 pixels), with another brightness and
    contrast: ``a·patch + b``, ``a > 0``; returns the template and its top-left corner."""
    H, W = image.shape
    while True:
        h, w = int(rng.integers(low, min(H, high) + 1)), int(rng.integers(low, min(W, high) + 1))
        r, c = int(rng.integers(0, H - h + 1)), int(rng.integers(0, W - w + 1))
        patch = image[r:r + h, c:c + w]
        if patch.size >= 2 and patch.std() > 0:
            a, b = float(rng.choice([0.5, 1.0, 2.0, 3.0])), float(rng.integers(-3, 4))
            return a * patch + b, (r, c)


def rand_ncc(rng: np.random.Generator):
    """A small image of integers 0–4, sometimes with a flat block, and a template cut out of
    it with its brightness and contrast changed."""
    image = np.zeros((1, 1))
    while image.std() == 0:  # a constant image holds no template
        H, W = int(rng.integers(3, 9)), int(rng.integers(3, 9))
        image = rng.integers(0, 5, size=(H, W)).astype(np.float64)
        if rng.random() < 0.5:
            r, c = int(rng.integers(0, H - 1)), int(rng.integers(0, W - 1))
            image[r:r + int(rng.integers(2, 4)), c:c + int(rng.integers(2, 4))] = \
                rng.integers(0, 5)
    template, _ = _cut_template(rng, image)
    return (torch.tensor(image, dtype=torch.float32),
            torch.tensor(template, dtype=torch.float32))


def rand_find(rng: np.random.Generator):
    """A dim image (integers 0–3) holding a template cut out of it, its brightness and contrast
    changed (2 to 4 pixels a side), and a bright block (integers 6–9) elsewhere that wins
    plain correlation more often than not; redrawn until the true match beats every other
    window's NCC by 0.05."""
    while True:
        H, W = int(rng.integers(6, 11)), int(rng.integers(6, 11))
        image = rng.integers(0, 4, size=(H, W)).astype(np.float64)
        r, c = int(rng.integers(0, H - 2)), int(rng.integers(0, W - 2))
        image[r:r + 3, c:c + 3] = rng.integers(6, 10, size=image[r:r + 3, c:c + 3].shape)
        template, _ = _cut_template(rng, image, low=2, high=4)
        args = (torch.tensor(image, dtype=torch.float32),
                torch.tensor(template, dtype=torch.float32))
        scores = ref_ncc_map(*args).flatten().sort(descending=True).values
        if len(scores) > 1 and float(scores[0] - scores[1]) > 0.05:
            return args


# --- conceptual questions: answers computed, not typed ------------------------------------------

EDGE_KERNELS = {
    "a": [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
    "b": [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
    "c": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "d": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
}
"""The options of ``q_vertical_edge``, as the notebook prints them."""


def ref_q_params_growth() -> int:
    """How many learnable parameters ``Conv2d(3, 16, 3, padding=1)`` gains when its input
    grows from 32×32 to 64×64: the layer is run on both, its parameters counted after each."""
    layer = torch.nn.Conv2d(3, 16, kernel_size=3, padding=1)
    counts = []
    for size in (32, 64):
        layer(torch.zeros(1, 3, size, size))
        counts.append(sum(p.numel() for p in layer.parameters()))
    return counts[1] - counts[0]


def ref_q_vertical_edge() -> str:
    """The options (letters in alphabetical order) whose kernel responds to a vertical step
    edge and gives exactly 0 on a horizontal step edge and on a flat image."""
    vertical = torch.zeros(1, 1, 12, 12, dtype=torch.float64)
    vertical[..., 6:] = 1.0  # dark on the left, bright on the right
    horizontal = vertical.transpose(-1, -2)
    flat = torch.ones_like(vertical)
    found = ""
    for letter, rows in EDGE_KERNELS.items():
        w = torch.tensor(rows, dtype=torch.float64).view(1, 1, 3, 3)
        responds = bool(F.conv2d(vertical, w).abs().max() > 0)
        silent = all(bool(F.conv2d(img, w).abs().max() == 0) for img in (horizontal, flat))
        if responds and silent:
            found += letter
    return found


# --- the questions ----------------------------------------------------------------------------

EXERCISE = Exercise(
    name="04_conv2d",
    title="2D convolution",
    questions=(
        Question.function(
            "conv2d_single", points=3, reference=ref_conv2d_single, args=("x", "w"),
            fixed=(
                Case((EXAMPLE_IMAGE, EXAMPLE_KERNEL), m([-4, -3], [3, -8]),
                     "the 4×4 example of chapter 4"),
                Case((m([0, 0, 0], [0, 1, 0], [0, 0, 0]), m([1, 2], [3, 4])), m([4, 3], [2, 1]),
                     "an impulse: cross-correlation reads the kernel rotated by 180°"),
                Case((m([1, 2, 4, 7], [0, 0, 0, 0], [5, 3, 1, 0]), m([1, -1])),
                     m([-1, -2, -3], [0, 0, 0], [2, 2, 1]), "a 1 × 2 kernel: not square"),
                Case((m([1, 2], [3, 4]), m([1, 0], [0, 1])), m([5]),
                     "kernel as large as the image: one output"),
                Case((m([1, -2, 3], [4, 5, -6]), m([2])), m([2, -4, 6], [8, 10, -12]),
                     "a 1 × 1 kernel scales the image"),
            ),
            random_case=rand_single, n_public=6, n_hidden=24, from_scratch=CONV2D,
            mistakes=SINGLE_MISTAKES,
            hint="the output is (H − kh + 1) × (W − kw + 1) and y[a, b] = "
                 "Σ_i Σ_j w[i, j]·x[a + i, b + j]: the sum of w times the window "
                 "x[a:a + kh, b:b + kw]",
        ),
        Question.function(
            "conv2d_layer", points=3, reference=ref_conv2d_layer,
            args=("x", "weight", "bias", "stride", "padding"),
            fixed=(
                Case((torch.stack([m([1, 2], [3, 4]), m([0, 1], [1, 0])]),
                      torch.tensor([[[[1.0]], [[10.0]]]]), t(0.5), 1, 0),
                     torch.stack([m([1.5, 12.5], [13.5, 4.5])]),
                     "a 1 × 1 filter mixes the channels: x₀ + 10·x₁ + 0.5"),
                Case((m([1, 2, 3], [4, 5, 6], [7, 8, 9])[None],
                      torch.stack([torch.ones(1, 2, 2), m([1, 0], [0, -1])[None]]), t(0, 1), 1, 0),
                     torch.stack([m([12, 16], [24, 28]), m([-3, -3], [-3, -3])]),
                     "two filters, two output channels, two biases"),
                Case((torch.ones(1, 2, 2), torch.ones(1, 1, 3, 3), t(0), 1, 1),
                     m([4, 4], [4, 4])[None], "padding 1 with a 3 × 3 kernel keeps the size"),
                Case((torch.arange(25.0).view(1, 5, 5), torch.ones(1, 1, 1, 1), t(0), 2, 0),
                     m([0, 2, 4], [10, 12, 14], [20, 22, 24])[None],
                     "stride 2 keeps every other row and column"),
                Case((torch.ones(1, 3, 3), torch.ones(1, 1, 2, 2), t(0), 2, 1),
                     m([1, 2], [2, 4])[None], "stride and padding together"),
            ),
            random_case=rand_layer, n_public=6, n_hidden=24, from_scratch=CONV2D,
            mistakes=LAYER_MISTAKES,
            hint="pad each channel with p zeros on every side; then y[o, a, b] = bias[o] + "
                 "Σ_c Σ_i Σ_j weight[o, c, i, j]·x_padded[c, a·s + i, b·s + j] with "
                 "⌊(H + 2p − kh)/s⌋ + 1 rows (likewise columns)",
        ),
        Question.function(
            "conv_output_shape", points=1, reference=ref_conv_output_shape,
            args=("h", "w", "k", "stride", "padding", "dilation"),
            fixed=(
                Case((4, 4, 3, 1, 0, 1), (2, 2), "the 4×4 example of chapter 4"),
                Case((5, 5, 3, 2, 1, 1), (3, 3), "half padding, stride 2"),
                Case((224, 224, 7, 2, 3, 1), (112, 112), "ResNet's first layer"),
                Case((28, 20, 5, 1, 2, 1), (28, 20), "'same' padding keeps the size"),
                Case((10, 7, 3, 1, 0, 2), (6, 3), "dilation 2: the kernel spans 5 pixels"),
                Case((7, 8, 3, 3, 0, 1), (2, 2), "what does not fill a window is dropped"),
            ),
            random_case=rand_output_shape, n_public=10, n_hidden=30, from_scratch=OUTPUT_SIZE,
            mistakes=SHAPE_MISTAKES,
            hint="⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1 along each dimension, p per side; return a "
                 "tuple of two ints",
        ),
        Question.value(
            "example_same", points=1, reference=ref_example_same,
            hint="pad the 4 × 4 image with one row or column of zeros on every side (6 × 6), "
                 "then cross-correlate: the output is 4 × 4, float32",
        ),
        Question.function(
            "combine_kernels", points=2, reference=ref_combine_kernels, args=("g", "h"),
            fixed=(
                Case((GAUSS3, GAUSS3),
                     torch.outer(t(1, 4, 6, 4, 1), t(1, 4, 6, 4, 1)) / 256,
                     "two 3 × 3 Gaussians make the 5 × 5 one"),
                Case((m([1, -1]), m([1], [1])), m([1, -1], [1, -1]),
                     "a row difference after a column sum: a 2 × 2 kernel"),
                Case((m([1, 1]), m([1, 1])), m([1, 2, 1]), "two boxes make a triangle"),
                Case((m([1, 2], [3, 4]), m([0, 1], [0, 0])), m([0, 1, 2], [0, 3, 4], [0, 0, 0]),
                     "an off-centre impulse shifts the other kernel"),
                Case((m([2]), m([1, 2], [3, 4])), m([2, 4], [6, 8]), "a 1 × 1 kernel scales"),
            ),
            random_case=rand_combine, n_public=6, n_hidden=20, from_scratch=CONV2D,
            mistakes=COMBINE_MISTAKES,
            hint="start from zeros of shape (kh_g + kh_h − 1, kw_g + kw_h − 1); each g[i, j] "
                 "adds g[i, j]·h into the block whose top-left corner is (i, j)",
        ),
        Question.value(
            "shift_right_kernel", points=1, reference=ref_shift_right_kernel,
            hint="with padding 1, y[a, b] = Σ w[i, j]·x[a + i − 1, b + j − 1]; which single "
                 "(i, j) reads x[a, b − 1]?",
        ),
        Question.value(
            "q_params_growth", points=1, reference=ref_q_params_growth,
            hint="weight sharing: the parameters are the kernels and the biases; ask what "
                 "their shapes depend on",
        ),
        Question.value(
            "q_vertical_edge", points=1, reference=ref_q_vertical_edge,
            hint="a kernel detects a change of intensity along the direction in which its "
                 "weights change; its weights must sum to 0 to stay silent on flat regions",
        ),
        Question.value(
            "edge_kernel", points=2, reference=ref_edge_kernel, judge=judge_edge_kernel,
            hint="cross-correlation weighs the window as it is: put positive weights on the "
                 "side that must be bright, negative ones on the side that must be dark, equal "
                 "in total, and make every row the same so that a horizontal edge cancels",
        ),
        Question.function(
            "ncc_map", points=3, reference=ref_ncc_map, args=("image", "template"),
            fixed=(
                Case((m([1, 2, 3, 2, 1]), m([1, 2])), m([1, 1, -1, -1]),
                     "a rising pair scores 1, a falling pair −1"),
                Case((m([1, 2, 3, 2, 1]), m([15, 25])), m([1, 1, -1, -1]),
                     "brightness and contrast of the template do not matter"),
                Case((m([0, 0, 0, 1]), m([0, 1])), m([0, 0, 1]),
                     "flat windows score 0"),
                Case((m([0, 1, 0], [1, 0, 1]), m([1, 0], [0, 1])), m([-1, 1]),
                     "a 2 × 2 template: the anti-diagonal window scores −1"),
                Case((m([2, 4], [6, 8]), m([0, 1], [2, 3])), m([1]),
                     "template as large as the image: one output"),
            ),
            random_case=rand_ncc, n_public=6, n_hidden=14, from_scratch=CONV2D,
            mistakes=NCC_MISTAKES,
            hint="for each window x (top-left corner (i, j), the template's size): "
                 "Σ (x − mean x)(t − mean t) / (‖x − mean x‖·‖t − mean t‖), and 0 where "
                 "‖x − mean x‖ = 0; there are (H − h + 1) × (W − w + 1) windows",
        ),
        Question.function(
            "find_template", points=2, reference=ref_find_template, args=("image", "template"),
            fixed=(
                Case((m([0, 0, 0, 0], [0, 1, 2, 0], [0, 3, 4, 0], [9, 9, 9, 9]),
                      m([1, 2], [3, 4])), (1, 1),
                     "plain correlation would pick the bright bottom row"),
                Case((m([9, 8, 9, 8, 9], [0, 0, 0, 1, 0], [0, 0, 0, 2, 0]),
                      m([5, 15], [5, 25])), (1, 2),
                     "the match is row 1, column 2: (row, col)"),
            ),
            random_case=rand_find, n_public=4, n_hidden=10, from_scratch=CONV2D,
            mistakes=FIND_MISTAKES,
            hint="compute the NCC map (your ncc_map) and return (row, col) of its largest "
                 "entry as two ints: the top-left corner of the best window",
        ),
    ),
)
