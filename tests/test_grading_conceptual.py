"""The conceptual questions (values: a number, or letters among stated options): each answer is
recomputed here from first principles, independently of the exercise's reference; the source
notebook's answer passes ``check()`` and the grader, the student stub scores zero, and a typical
wrong answer scores zero with the question's hint and without the expected answer."""

import json
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from exercise_grading import grade_notebooks, source_notebook, student_notebook
from numpy.lib.stride_tricks import sliding_window_view
from torch import nn

from cnnlib.grading import Checker, load_exercise
from cnnlib.matrices import circulant_matrix
from cnnlib.models import VGG_CONFIGS, LeNet, LeNet5, vgg_layers
from cnnlib.receptive_field import empirical_receptive_field
from cnnlib.winograd import f23_matrices

# exercise → {question: typical wrong answers (each a misconception)}
WRONG = {
    "01_structure": {"q_invariant": ["acd", "d"], "q_equivariant_dof": [64, 1]},
    "02_conv1d": {"q_commutative": ["c", "b"], "q_two_averages_length": [6, 3]},
    "03_matrix_views": {"q_circulant_eigenvectors": ["c", "d"], "q_difference_rank": [8, 2]},
    "04_conv2d": {"q_params_growth": [448 * 3, 448], "q_vertical_edge": ["b", "abcd"]},
    "05_variants": {"q_grouped_params": [64 * 128 * 9, 64 * 128 * 9 // 16],
                    "q_one_by_one": ["a", "c"]},
    "06_pooling": {"q_shift_equivariant": ["abcd", "a"], "q_maxpool_gradients": [256, 16]},
    "07_lenet": {"q_params_at_56": [0, 1_200_000], "q_conv1_weight_uses": [576, 1]},
    "08_vgg": {"q_vgg11_receptive_field": [212, 17],
               "q_vgg11_gap_params": [15_227_688, 9_220_480]},
    "09_computing": {"q_im2col_ratio": [25.0, 12.5], "q_winograd_tile_products": [36, 4]},
}
QUESTIONS = [(ex, q) for ex, qs in WRONG.items() for q in qs]


def _answer_cell(path, name: str) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    sources = ["".join(c["source"]) for c in nb["cells"]]
    (i,) = [i for i, s in enumerate(sources) if re.search(rf"^{name} = ", s, re.M)]
    assert sources[i + 1] == f'check("{name}")', "the answer cell is followed by its check"
    assert f"`{name}`" in sources[i - 1], "the question's text names the variable to set"
    return sources[i]


def _value_in(path, name: str):
    namespace = {}
    exec(_answer_cell(path, name), namespace)  # the course's own notebook
    return namespace[name]


# --- the declarations and the notebooks --------------------------------------------------------

@pytest.mark.parametrize(("exercise", "name"), QUESTIONS)
def test_each_is_a_one_point_value_question_with_a_hint(exercise, name):
    q = load_exercise(exercise).question(name)
    assert (q.kind, q.points, q.from_scratch) == ("value", 1, None)
    answer = q.reference()
    assert q.hint and (isinstance(answer, str) or str(answer) not in re.findall(r"\d+", q.hint))


@pytest.mark.parametrize(("exercise", "name"), QUESTIONS)
def test_the_solution_passes_the_stub_is_missing_a_slip_gets_the_hint(exercise, name):
    q = load_exercise(exercise).question(name)
    check = Checker(exercise)
    solution = _value_in(source_notebook(exercise), name)
    assert check(name, solution, quiet=True).status == "ok"
    assert "### BEGIN SOLUTION" not in _answer_cell(student_notebook(exercise), name)
    stub = _value_in(student_notebook(exercise), name)
    assert stub is None and check(name, stub, quiet=True).status == "missing"
    for wrong in WRONG[exercise][name]:
        result = check(name, wrong, quiet=True)
        assert result.status == "fail" and result.n_passed == 0, wrong
        message = " ".join(result.message.split())  # the checker wraps long lines
        assert q.hint in message and "expected" not in message


@pytest.mark.parametrize("exercise", list(WRONG))
def test_the_grader_scores_typical_wrong_answers_zero_with_the_hint(exercise, tmp_path):
    def wrong_answers(nb):
        for cell in nb["cells"]:
            text = "".join(cell["source"])
            for name, wrong in WRONG[exercise].items():
                if re.search(rf"^{name} = ", text, re.M):
                    cell["source"] = f"{name} = {wrong[0]!r}\n"

    result = grade_notebooks(exercise, tmp_path, {"wrong": wrong_answers})["wrong"]
    ex = load_exercise(exercise)
    for name in WRONG[exercise]:
        r = result.questions[name]
        assert (r.status, r.score) == ("fail", 0.0), r.feedback
        assert ex.question(name).hint in " ".join(r.feedback.split())
    others = [q.name for q in ex.questions if q.name not in WRONG[exercise]]
    assert all(result.questions[n].status == "ok" for n in others)


# --- the answers, from first principles ---------------------------------------------------------

def _reference(exercise: str, name: str):
    return load_exercise(exercise).question(name).reference()


def test_q_invariant_sum_and_max_ignore_every_shift_a_convolution_moves():
    rng = np.random.default_rng(0)
    img, w = rng.normal(size=(8, 8)), rng.normal(size=(3, 3))

    def circular_conv(a):
        return (sliding_window_view(np.pad(a, 1, mode="wrap"), (3, 3)) * w).sum(axis=(-1, -2))

    options = {"a": np.sum, "b": lambda a: a[0, 0], "c": np.max, "d": circular_conv}
    invariant = "".join(k for k, f in options.items()
                        if all(np.allclose(f(np.roll(img, (dy, dx), (0, 1))), f(img))
                               for dy in range(8) for dx in range(8)))
    # the convolution is equivariant instead: its output rolls with the input
    assert np.allclose(circular_conv(np.roll(img, (1, 2), (0, 1))),
                       np.roll(circular_conv(img), (1, 2), (0, 1)))
    assert invariant == "ac" == _reference("01_structure", "q_invariant")


def test_q_equivariant_dof_is_the_dimension_of_the_circulants():
    n = 8
    s = np.roll(np.eye(n), 1, axis=0)  # (S x)_i = x_{i-1}
    columns = []
    for a in range(n):
        for b in range(n):
            e = np.zeros((n, n))
            e[a, b] = 1
            columns.append((e @ s - s @ e).ravel())
    dof = n * n - np.linalg.matrix_rank(np.array(columns).T)
    powers = np.array([np.linalg.matrix_power(s, k).ravel() for k in range(n)])
    assert np.linalg.matrix_rank(powers) == n  # I, S, …, S⁷: independent, all commute with S
    assert dof == n == _reference("01_structure", "q_equivariant_dof")


def test_q_commutative_only_the_true_convolution_commutes():
    rng = np.random.default_rng(2)
    x, h = rng.normal(size=7), rng.normal(size=4)
    conv = np.allclose(np.convolve(x, h), np.convolve(h, x))
    corr = np.allclose(np.correlate(x, h, "full"), np.correlate(h, x, "full"))
    # the cross-correlation with x and h swapped is the same one reversed
    assert np.allclose(np.correlate(h, x, "full"), np.correlate(x, h, "full")[::-1])
    assert (conv, corr) == (True, False) and _reference("02_conv1d", "q_commutative") == "a"


def test_q_two_averages_length_is_the_length_of_the_combined_kernel():
    rng = np.random.default_rng(3)
    x = rng.normal(size=20)
    box = np.full(3, 1 / 3)
    twice = np.correlate(np.correlate(x, box, "valid"), box, "valid")
    combined = np.convolve(box, box)
    assert np.allclose(twice, np.correlate(x, combined, "valid"))
    # a valid cross-correlation with a kernel of length L has n − L + 1 outputs
    length = len(x) + 1 - len(twice)
    assert length == len(combined) == _reference("02_conv1d", "q_two_averages_length")


def test_q_circulant_eigenvectors_are_the_fourier_modes_with_the_dft_as_eigenvalues():
    n = 8
    j = np.arange(n)
    modes = np.exp(2j * np.pi * np.outer(j, j) / n)
    for seed in range(4):
        h = np.random.default_rng(seed).normal(size=n)
        c = circulant_matrix(torch.from_numpy(h), n).numpy()
        eigenvalues = n * np.fft.ifft(h)  # Σ_j h_j e^{2πi jk/n}
        assert np.allclose(c @ modes, modes * eigenvalues)
        assert not np.allclose(c @ np.eye(n), np.eye(n) * np.diag(c))  # not the standard basis
    assert _reference("03_matrix_views", "q_circulant_eigenvectors") == "b"


def test_q_difference_rank_one_eigenvalue_is_zero_the_constant_signal():
    n = 8
    c = np.eye(n) - np.roll(np.eye(n), 1, axis=1)  # (C x)_i = x_i − x_{i+1 mod n}
    x = np.random.default_rng(4).normal(size=n)
    assert np.allclose(c @ x, x - np.roll(x, -1))
    assert np.allclose(circulant_matrix(torch.tensor([1.0, -1.0], dtype=torch.float64),
                                        n).numpy(), c)
    assert np.allclose(c @ np.ones(n), 0)
    zeros = int(np.isclose(np.fft.fft(np.r_[1.0, -1.0, np.zeros(n - 2)]), 0).sum())
    assert zeros == 1 and np.linalg.matrix_rank(c) == n - zeros
    assert _reference("03_matrix_views", "q_difference_rank") == n - zeros


def test_q_params_growth_the_parameters_do_not_depend_on_the_image():
    layer = nn.Conv2d(3, 16, kernel_size=3, padding=1)
    shapes = {name: p.shape for name, p in layer.named_parameters()}
    counts = []
    for size in (32, 64):
        assert layer(torch.zeros(1, 3, size, size)).shape == (1, 16, size, size)
        assert {name: p.shape for name, p in layer.named_parameters()} == shapes
        counts.append(sum(p.numel() for p in layer.parameters()))
    assert counts == [16 * 3 * 3 * 3 + 16] * 2
    assert _reference("04_conv2d", "q_params_growth") == counts[1] - counts[0] == 0


def test_q_vertical_edge_prewitt_and_sobel_in_x():
    from cnnlib.grading.exercises.ex04_conv2d import EDGE_KERNELS

    vertical = np.kron(np.ones((10, 1)), np.r_[np.zeros(5), np.ones(5)])
    images = {"vertical": vertical, "horizontal": vertical.T, "flat": np.ones((10, 10))}

    def response(img, w):
        return np.abs((sliding_window_view(img, (3, 3)) * np.array(w)).sum(axis=(-1, -2)))

    found = "".join(k for k, w in EDGE_KERNELS.items()
                    if response(images["vertical"], w).max() > 0
                    and response(images["horizontal"], w).max() == 0
                    and response(images["flat"], w).max() == 0)
    assert found == "ac" == _reference("04_conv2d", "q_vertical_edge")


def test_q_grouped_params_each_filter_sees_its_group():
    c_in, c_out, k, groups = 64, 128, 3, 4
    layer = nn.Conv2d(c_in, c_out, k, groups=groups, bias=False)
    assert layer.weight.shape == (c_out, c_in // groups, k, k)
    count = c_out * (c_in // groups) * k * k
    assert sum(p.numel() for p in layer.parameters()) == count
    assert _reference("05_variants", "q_grouped_params") == count


def test_q_one_by_one_is_a_dense_layer_applied_at_every_pixel():
    torch.manual_seed(5)
    layer = nn.Conv2d(6, 6, kernel_size=1).double()
    x = torch.randn(2, 6, 7, 9, dtype=torch.float64)
    y = layer(x)
    per_pixel = torch.einsum("oc,bchw->bohw", layer.weight[:, :, 0, 0], x) + \
        layer.bias.view(1, -1, 1, 1)
    torch.testing.assert_close(y, per_pixel)                       # (b) holds
    assert not torch.allclose(y, x) and y.shape == x.shape        # (a) and (d) do not
    bumped = x.clone()
    bumped[0, :, 3, 4] += 1
    moved = (layer(bumped) - y).abs().sum(dim=(0, 1)) > 0
    assert moved.sum() == 1 and moved[3, 4]                       # (c) does not
    assert _reference("05_variants", "q_one_by_one") == "b"


def test_q_shift_equivariant_strided_pooling_breaks_a_one_pixel_shift():
    torch.manual_seed(6)
    conv = nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False).double()
    layers = {"a": conv, "b": nn.MaxPool2d(2),
              "c": lambda x: nn.MaxPool2d(3, stride=1)(F.pad(x, (1,) * 4, mode="circular")),
              "d": nn.AvgPool2d(2)}
    equivariant = ""
    for letter, layer in layers.items():
        works = []
        for _ in range(3):
            x = torch.randn(1, 1, 8, 8, dtype=torch.float64)
            y, moved = layer(x), layer(torch.roll(x, 1, dims=-1))
            works.append(any(torch.allclose(torch.roll(y, (dy, dx), dims=(-2, -1)), moved)
                             for dy in range(y.shape[-2]) for dx in range(y.shape[-1])))
        if all(works):
            equivariant += letter
    assert equivariant == "ac" == _reference("06_pooling", "q_shift_equivariant")


def test_q_maxpool_gradients_one_winner_per_window():
    x = torch.randn(1, 4, 8, 8, dtype=torch.float64, requires_grad=True)
    y, winners = F.max_pool2d(x, 2, return_indices=True)
    y.sum().backward()
    assert int((x.grad != 0).sum()) == winners.numel() == 4 * (8 // 2) ** 2
    assert _reference("06_pooling", "q_maxpool_gradients") == winners.numel()


def test_q_params_at_56_only_the_first_dense_layer_grows():
    """The convolutions keep their weights; the first linear layer reads what the
    convolutional part hands it, which grows from 50·4·4 to 50·11·11 values."""
    lenet = LeNet()
    flat = {n: lenet.features(torch.zeros(1, 1, n, n)).numel() for n in (28, 56)}
    dense = lenet.classifier[1]
    assert flat[28] == dense.in_features and dense.out_features == 500
    assert _reference("07_lenet", "q_params_at_56") == (flat[56] - flat[28]) * 500


def test_q_conv1_weight_uses_one_use_per_output_position():
    conv1 = LeNet5().features[0]
    y = conv1(torch.zeros(1, 1, 28, 28))
    # each weight w[o, 0, u, v] multiplies exactly one input value per output y[., o, i, j]
    assert _reference("07_lenet", "q_conv1_weight_uses") == y.shape[-2] * y.shape[-1]


def test_q_vgg11_receptive_field_is_what_autograd_measures():
    """The receptive field measured on a one-channel VGG-11 (the channel count changes
    nothing), with cnnlib's positive-weight gradient probe."""
    slim = vgg_layers([1 if entry != "M" else "M" for entry in VGG_CONFIGS["vgg11"]],
                      in_channels=1)
    measured = empirical_receptive_field(slim, (1, 1, 224, 224))
    assert not measured.touches_border
    assert measured.size == (_reference("08_vgg", "q_vgg11_receptive_field"),) * 2


def test_q_vgg11_gap_params_torchvisions_features_and_a_1x1_head():
    with torch.device("meta"):
        features = torchvision.models.vgg11().features
        head = nn.Conv2d(512, 1000, kernel_size=1)
    count = sum(p.numel() for p in [*features.parameters(), *head.parameters()])
    assert _reference("08_vgg", "q_vgg11_gap_params") == count


def test_q_im2col_ratio_counts_pytorchs_unfold():
    x = torch.zeros(1, 3, 64, 64)
    columns = F.unfold(x, kernel_size=5, padding=2, stride=2)  # (1, C·k², H_out·W_out)
    assert columns.shape == (1, 3 * 25, 32 * 32)
    assert _reference("09_computing", "q_im2col_ratio") == columns.numel() / x.numel()


def test_q_winograd_tile_products_the_2d_transform_computes_the_tile():
    """F(2×2, 3×3) with cnnlib's matrices gives the 2×2 tile of a 3×3 correlation, from one
    elementwise product of 4×4 transformed tiles: fewer products than the direct 36."""
    bt, g_matrix, at = (m.double() for m in f23_matrices())
    torch.manual_seed(9)
    d, g = torch.randn(4, 4, dtype=torch.float64), torch.randn(3, 3, dtype=torch.float64)
    product = (g_matrix @ g @ g_matrix.T) * (bt @ d @ bt.T)
    torch.testing.assert_close(at @ product @ at.T, F.conv2d(d[None, None], g[None, None])[0, 0])
    count = _reference("09_computing", "q_winograd_tile_products")
    assert count == product.numel() < 2 * 2 * 9
