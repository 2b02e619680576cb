"""Exercise 07 (LeNet): its references against independent oracles (the layer formulas,
cnnlib.models' LeNet, LeNet-5 and MLP, a functional forward pass written out, cnnlib.backprop
and autograd); the grader gives the source notebook full marks, the student notebook zero,
answers that run or count a real network (or inherit cnnlib's LeNet-5, or differentiate with
autograd or cnnlib) 0, and a LeNet-5 with max pooling, or gradients with the stride forgotten,
partial credit with the slip's hint."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from exercise_grading import (
    assert_partial_credit_only_on,
    checked_cases,
    code_cells,
    grade_notebooks,
    replace_solutions,
    replace_text,
    solution_namespace,
    verdicts_of,
)
from hypothesis import given
from hypothesis import strategies as st

from cnnlib.backprop import conv2d_backward as cnnlib_conv2d_backward
from cnnlib.counting import count_parameters, layer_summary
from cnnlib.grading import load_exercise
from cnnlib.grading.compare import compare
from cnnlib.grading.exercises.ex07_lenet import (
    LENET,
    LENET5,
    MLP,
    constant_params,
    lenet5_constant_logit,
    rand_conv_backward,
    rand_lenet5,
    rand_network,
)
from cnnlib.models import MLP as MLPModel
from cnnlib.models import LeNet, LeNet5

POINTS = {"feature_shapes": 2.0, "network_cost": 2.0, "lenet5_logits": 3.0,
          "conv2d_backward": 3.0, "q_params_at_56": 1.0, "q_conv1_weight_uses": 1.0,
          "train_lenet5": 3.0}
TRAINING = "train_lenet5"  # graded on the accuracy it reaches: tests/test_grading_training.py
FUNCTIONS = {name: p for name, p in POINTS.items()
             if not name.startswith("q_") and name != TRAINING}
EX = load_exercise("07_lenet")

# Each replaces the body of one solution with what the question forbids.
CHEATS = {
    # Run the network on the meta device and read the shapes.
    "feature_shapes": (
        "    x, shapes = torch.zeros(input_shape, device='meta'), []\n"
        "    for layer in layers:\n"
        "        if layer[0] == 'conv':\n"
        "            w = torch.zeros(layer[1], x.shape[1], layer[2], layer[2], device='meta')\n"
        "            x = torch.nn.functional.conv2d(x, w, stride=layer[3], padding=layer[4])\n"
        "        elif layer[0] in ('maxpool', 'avgpool'):\n"
        "            x = torch.nn.functional.max_pool2d(x, layer[1])\n"
        "        elif layer[0] == 'flatten':\n"
        "            x = x.flatten(1)\n"
        "        elif layer[0] == 'linear':\n"
        "            x = x[:, :1].expand(-1, layer[1])\n"
        "        shapes.append(tuple(x.shape))\n"
        "    return shapes"),
    # Build each real layer and count what it holds.
    "network_cost": (
        "    shapes = [tuple(input_shape), *feature_shapes(input_shape, layers)]\n"
        "    params = macs = 0\n"
        "    for layer, before, after in zip(layers, shapes, shapes[1:]):\n"
        "        if layer[0] == 'conv':\n"
        "            conv = nn.Conv2d(before[1], layer[1], layer[2], device='meta')\n"
        "            params += sum(p.numel() for p in conv.parameters())\n"
        "            macs += math.prod(after) * before[1] * layer[2] ** 2\n"
        "        elif layer[0] == 'linear':\n"
        "            dense = nn.Linear(before[1], layer[1], device='meta')\n"
        "            params += sum(p.numel() for p in dense.parameters())\n"
        "            macs += before[0] * before[1] * layer[1]\n"
        "    return params, macs"),
    # The forward pass written out, differentiated by autograd.
    "conv2d_backward": (
        "    x, w = x.clone().requires_grad_(), w.clone().requires_grad_()\n"
        "    k = w.shape[-1]\n"
        "    rows = [torch.stack([(w * x[None, :, i * stride:i * stride + k,\n"
        "                                   j * stride:j * stride + k]).sum((1, 2, 3))\n"
        "                         for j in range(grad_y.shape[2])], -1)\n"
        "            for i in range(grad_y.shape[1])]\n"
        "    return torch.autograd.grad(torch.stack(rows, -2), (x, w), grad_y)"),
}
# cnnlib's own backward pass.
CNNLIB_BACKWARD = ("    import cnnlib\n"
                   "    grads = cnnlib.conv2d_backward(x[None], w, grad_y[None], stride=stride)\n"
                   "    return grads.grad_input[0], grads.grad_weight")
# Inheriting the ready-made network instead of writing one.
READY_MADE = ("from cnnlib.models import LeNet5 as ReadyMade\n\n\n"
              "class LeNet5(ReadyMade):\n"
              "    pass\n")
# Max pooling where LeNet-5 averages: constant maps cannot tell them apart, random ones can.
SLIP = ("nn.AvgPool2d(2)", "nn.MaxPool2d(2)")
# Windows one pixel apart whatever the stride: right on the stride-1 checks only.
BACKWARD_SLIP = ("r, c = i * stride, j * stride", "r, c = i, j")


def _cheat(nb):
    replace_solutions(nb, CHEATS)
    (cell,) = [c for c in code_cells(nb) if "".join(c["source"]).startswith("class LeNet5(")]
    cell["source"] = READY_MADE


VARIANTS = {"cheat": _cheat, "slip": lambda nb: replace_text(nb, *SLIP),
            "cnnlib_backward": lambda nb: replace_solutions(
                nb, {"conv2d_backward": CNNLIB_BACKWARD}),
            "backward_slip": lambda nb: replace_text(nb, *BACKWARD_SLIP)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_notebooks("07_lenet", tmp_path_factory.mktemp("ex07"), VARIANTS)


# --- the grader ----------------------------------------------------------------------------

def test_the_exercise_has_its_questions_and_points():
    assert [q.name for q in EX.questions] == list(POINTS)
    assert {q.name: q.points for q in EX.questions} == POINTS and EX.points == 15
    assert all((q.from_scratch is not None) == (q.name in FUNCTIONS or q.name == TRAINING)
               for q in EX.questions)
    shapes = EX.question("feature_shapes").from_scratch
    for api in ("torch.nn.Conv2d", "torch.nn.MaxPool2d", "torch.nn.AvgPool2d",
                "torch.nn.functional.conv2d", "torch.nn.functional.max_pool2d", "torch.nn.Linear",
                "cnnlib.arithmetic.conv_output_size", "cnnlib.counting.layer_summary",
                "cnnlib.models.LeNet"):
        assert shapes.match(api), api
    models = EX.question("lenet5_logits").from_scratch
    assert models.match("cnnlib.models.LeNet5") and models.match("torchvision.models.vgg16")
    assert not models.match("torch.nn.Conv2d")  # building it from torch.nn layers is the task
    backward = EX.question("conv2d_backward").from_scratch
    for api in ("torch.autograd.grad", "torch.autograd.backward", "torch.Tensor.backward",
                "torch.func.vjp", "torch.autograd.functional.vjp", "cnnlib.conv2d_backward",
                "cnnlib.backprop.conv2d_backward", "torch.nn.functional.conv2d",
                "torch.nn.functional.conv_transpose2d", "torch.Tensor.unfold",
                "cnnlib.conv_transpose2d"):
        assert backward.match(api), api
    assert not backward.match("torch.einsum") and not backward.match("torch.zeros_like")


def test_running_counting_or_inheriting_a_real_network_scores_zero(graded):
    verdicts = verdicts_of(graded["cheat"])
    assert {q: verdicts[q] for q in FUNCTIONS} == {q: ("forbidden", 0.0) for q in FUNCTIONS}
    assert all(verdicts[q] == ("ok", p) for q, p in POINTS.items() if q not in FUNCTIONS)


def test_cnnlibs_backward_pass_scores_zero(graded):
    verdicts = verdicts_of(graded["cnnlib_backward"])
    assert verdicts.pop("conv2d_backward") == ("forbidden", 0.0)
    assert verdicts == {q: ("ok", p) for q, p in POINTS.items() if q != "conv2d_backward"}


def test_forgetting_the_stride_loses_points_with_its_hint(graded):
    result = graded["backward_slip"]
    assert_partial_credit_only_on(result, POINTS, VARIANTS["backward_slip"], "conv2d_backward")
    assert "looks like stride forgotten" in " ".join(
        result.questions["conv2d_backward"].feedback.split())


def test_max_pooling_in_lenet5_loses_points_but_not_all(graded):
    assert_partial_credit_only_on(graded["slip"], POINTS, VARIANTS["slip"], "lenet5_logits")


# --- the references against independent oracles -------------------------------------------

def shapes_by_formula(input_shape, layers):
    """The notebook's formulas, written out again: what every check's answer must be."""
    n, c, h, w = input_shape
    flat, out = None, []
    for layer in layers:
        if layer[0] == "conv":
            _, c, k, s, p = layer
            h, w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        elif layer[0] in ("maxpool", "avgpool"):
            h, w = h // layer[1], w // layer[1]
        elif layer[0] == "flatten":
            flat = c * h * w
        elif layer[0] == "linear":
            flat = layer[1]
        out.append((n, flat) if flat is not None else (n, c, h, w))
    return out


def test_shape_and_cost_references_agree_with_the_formulas():
    for case in checked_cases(EX, "feature_shapes"):
        assert case.expected == shapes_by_formula(*case.args)
    for case in checked_cases(EX, "network_cost"):
        input_shape, layers = case.args
        outs = [tuple(input_shape), *shapes_by_formula(input_shape, layers)]
        params = macs = 0
        for layer, before, after in zip(layers, outs, outs[1:], strict=False):
            if layer[0] == "conv":
                fan_in = before[1] * layer[2] ** 2
                params += layer[1] * fan_in + layer[1]
                macs += math.prod(after) * fan_in
            elif layer[0] == "linear":
                params += before[1] * layer[1] + layer[1]
                macs += before[0] * before[1] * layer[1]
        assert case.expected == (params, macs)


@pytest.mark.parametrize(("layers", "model"), [(LENET, LeNet), (LENET5, LeNet5),
                                               (MLP, MLPModel)])
def test_the_layer_lists_are_chapter_sevens_networks(layers, model):
    """LENET, LENET5 and MLP describe cnnlib.models' networks: same parameters, same MACs,
    and (for the LeNets, whose layers map one to one) the same output shapes."""
    net = model()
    summary = layer_summary(net, (2, 1, 28, 28))
    assert EX.question("network_cost").reference((2, 1, 28, 28), layers) == \
        (count_parameters(net), summary.total_macs)
    if model is not MLPModel:  # the MLP's empty `features` is a row of its own
        assert EX.question("feature_shapes").reference((2, 1, 28, 28), layers) == \
            [row.output_shape for row in summary]


def lenet5_by_hand(x, params, pool=F.avg_pool2d):
    """LeNet-5's forward pass written with torch.nn.functional, layer by layer."""
    c1, b1, c2, b2, f1, g1, f2, g2, f3, g3 = params
    y = pool(torch.tanh(F.conv2d(x, c1, b1, padding=2)), 2)
    y = pool(torch.tanh(F.conv2d(y, c2, b2)), 2)
    y = torch.tanh(F.linear(y.flatten(1), f1, g1))
    return F.linear(torch.tanh(F.linear(y, f2, g2)), f3, g3)


def test_lenet5_reference_is_the_forward_pass_written_out():
    for case in checked_cases(EX, "lenet5_logits"):
        x, params = case.args
        assert case.expected.shape == (x.shape[0], 10) and case.expected.dtype == torch.float32
        torch.testing.assert_close(case.expected, lenet5_by_hand(x, params))


@pytest.mark.parametrize(("weight", "bias"), [(1 / 128, 1 / 8), (-1 / 64, 1 / 4), (0.01, -0.3)])
def test_the_hand_derivation_of_constant_logits(weight, bias):
    logits = lenet5_by_hand(torch.zeros(3, 1, 28, 28), constant_params(weight, bias))
    torch.testing.assert_close(logits, torch.full((3, 10), lenet5_constant_logit(weight, bias)))


def test_only_the_random_lenet5_cases_tell_average_from_max_pooling():
    """The slip of the grading test: invisible on constant maps, caught by random weights."""
    for case in checked_cases(EX, "lenet5_logits"):
        slip = lenet5_by_hand(*case.args, pool=F.max_pool2d)
        assert compare(case.expected, slip).passed == case.label.startswith("fixed")


# --- the model solutions, on many random networks -------------------------------------------

SOLUTIONS = solution_namespace("07_lenet")


@given(seed=st.integers(0, 2**32 - 1))
def test_the_model_solutions_agree_with_the_references_on_random_networks(seed):
    args = rand_network(np.random.default_rng(seed))
    for name in ("feature_shapes", "network_cost"):
        q = EX.question(name)
        assert compare(q.reference(*args), SOLUTIONS[name](*args)).passed, (name, args)


def test_the_model_lenet5_passes_and_its_loader_explains_a_wrong_order():
    x, params = rand_lenet5(np.random.default_rng(1))
    q = EX.question("lenet5_logits")
    torch.testing.assert_close(SOLUTIONS["lenet5_logits"](x, params), q.reference(x, params))
    swapped = [params[2], params[3], params[0], params[1], *params[4:]]
    with pytest.raises(ValueError, match="parameter 0 has shape"):
        SOLUTIONS["lenet5_logits"](x, swapped)
    with pytest.raises(ValueError, match="10 parameter tensors, the check brings 9"):
        SOLUTIONS["lenet5_logits"](x, params[:9])


# --- backpropagation through a convolution -------------------------------------------------

def test_the_hand_computed_gradients_are_the_references():
    q = EX.question("conv2d_backward")
    for case in q.fixed:
        got = q.reference(*case.args)
        assert len(got) == len(case.expected) == 2
        for value, by_hand in zip(got, case.expected, strict=True):
            assert value.dtype == by_hand.dtype and value.shape == by_hand.shape
            torch.testing.assert_close(value, by_hand, rtol=0, atol=0)


def test_the_backprop_reference_is_cnnlibs_backward_pass():
    """Autograd's gradients (the reference) equal cnnlib.backprop's, which computes them with
    a transposed convolution and a correlation, on every check; the input's gradient has the
    input's shape, rows no window read included."""
    for case in checked_cases(EX, "conv2d_backward"):
        x, w, grad_y, stride = case.args
        ours = cnnlib_conv2d_backward(x[None], w, grad_y[None], stride=stride)
        grad_x, grad_w = case.expected
        assert grad_x.shape == x.shape and grad_w.shape == w.shape
        torch.testing.assert_close(grad_x, ours.grad_input[0])
        torch.testing.assert_close(grad_w, ours.grad_weight)


@given(seed=st.integers(0, 2**32 - 1))
def test_the_model_backward_pass_agrees_with_autograd(seed):
    x, w, grad_y, stride = rand_conv_backward(np.random.default_rng(seed))
    assert grad_y.shape[1:] == F.conv2d(x[None], w, stride=stride).shape[2:]
    got = SOLUTIONS["conv2d_backward"](x, w, grad_y, stride)
    want = EX.question("conv2d_backward").reference(x, w, grad_y, stride)
    assert compare(want, got).passed
