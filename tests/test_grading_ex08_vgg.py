"""Exercise 08 (VGG): its references against independent oracles (autograd's receptive field,
torchvision's VGGs, a functional forward pass and the formulas written out); the grader gives
the source notebook full marks, the student notebook zero, answers that measure, build or count a
real network (or take torchvision's) 0, and a builder that forgets the ReLU partial credit."""

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from exercise_grading import (
    assert_partial_credit_only_on,
    checked_cases,
    grade_notebooks,
    replace_solutions,
    replace_text,
    solution_namespace,
    verdicts_of,
)
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from cnnlib.counting import count_macs, count_parameters
from cnnlib.grading import load_exercise
from cnnlib.grading.compare import compare
from cnnlib.grading.exercises.ex08_vgg import (
    rand_vgg_features,
    rand_vgg_layer_costs,
    rand_vgg_parameters,
)
from cnnlib.models import VGG_CONFIGS
from cnnlib.receptive_field import empirical_receptive_field

POINTS = {"stack_versus_single": 2.0, "vgg_features": 3.0, "vgg_parameters": 2.0,
          "vgg_layer_costs": 2.0, "q_vgg11_receptive_field": 1.0, "q_vgg11_gap_params": 1.0}
FUNCTIONS = {name: p for name, p in POINTS.items() if not name.startswith("q_")}
EX = load_exercise("08_vgg")

# Each replaces the body of one solution with what the question forbids.
CHEATS = {
    "stack_versus_single": (
        "    from cnnlib.receptive_field import Layer, receptive_field\n"
        "    r = receptive_field([Layer(k)] * n).final.size\n"
        "    return r, n * c * c * k * k, c * c * r * r"),
    "make_vgg_layers": (  # graded through vgg_features
        "    from torchvision.models.vgg import make_layers\n"
        "    return make_layers(config)"),
    "vgg_parameters": (  # building each real layer to count it
        "    features, channels = 0, in_channels\n"
        "    for entry in config:\n"
        "        if entry != 'M':\n"
        "            conv = nn.Conv2d(channels, entry, 3, padding=1, device='meta')\n"
        "            features += sum(p.numel() for p in conv.parameters())\n"
        "            channels = entry\n"
        "    widths = [channels * 7 * 7, 4096, 4096, num_classes]\n"
        "    return features, sum(a * b + b for a, b in zip(widths, widths[1:]))"),
    "vgg_layer_costs": (
        "    from cnnlib.counting import layer_summary\n"
        "    rows = layer_summary(make_vgg_layers(config, in_channels),\n"
        "                         (1, in_channels, size, size))\n"
        "    return [(r.macs, r.output_shape[1] * r.output_shape[2] * r.output_shape[3])\n"
        "            for r in rows if r.type == 'Conv2d']"),
}
# A builder without its ReLUs: right on the fixed case whose values stay positive, wrong on the
# others.
SLIP = "            layers.append(nn.ReLU())\n"


VARIANTS = {"cheat": lambda nb: replace_solutions(nb, CHEATS),
            "slip": lambda nb: replace_text(nb, SLIP, "")}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_notebooks("08_vgg", tmp_path_factory.mktemp("ex08"), VARIANTS)


# --- the grader ----------------------------------------------------------------------------

def test_the_exercise_has_six_questions_worth_eleven_points():
    assert [q.name for q in EX.questions] == list(POINTS)
    assert {q.name: q.points for q in EX.questions} == POINTS and EX.points == 11
    assert all((q.from_scratch is not None) == (q.name in FUNCTIONS) for q in EX.questions)
    stack = EX.question("stack_versus_single").from_scratch
    for api in ("cnnlib.receptive_field.receptive_field", "cnnlib.counting.count_parameters",
                "torch.nn.Conv2d"):
        assert stack.match(api), api
    builder = EX.question("vgg_features").from_scratch
    assert builder.match("cnnlib.models.vgg_layers")
    assert builder.match("torchvision.models.vgg.make_layers")
    assert not builder.match("torch.nn.Conv2d") and not builder.match("torch.nn.MaxPool2d")


def test_measuring_building_or_counting_a_real_network_scores_zero(graded):
    verdicts = graded["cheat"].questions
    assert verdicts_of(graded["cheat"]) == {
        q: ("forbidden", 0.0) if q in FUNCTIONS else ("ok", p) for q, p in POINTS.items()}
    assert "torchvision.models" in verdicts["vgg_features"].feedback
    assert "torch.nn.Conv2d" in verdicts["vgg_parameters"].feedback


def test_a_builder_without_relus_loses_points_but_not_all(graded):
    assert_partial_credit_only_on(graded["slip"], POINTS, VARIANTS["slip"], "vgg_features")


# --- the references against independent oracles -------------------------------------------

@pytest.mark.parametrize(("n", "k"), [(1, 3), (2, 3), (3, 3), (5, 3), (2, 5), (3, 2), (4, 1)])
def test_the_stack_reference_is_what_autograd_measures(n, k):
    c = 2
    stack = nn.Sequential(*[nn.Conv2d(c, c, k) for _ in range(n)])
    measured = empirical_receptive_field(stack, (1, c, 40, 40))
    assert not measured.touches_border
    r, stack_weights, single_weights = EX.question("stack_versus_single").reference(n, k, c)
    assert measured.size == (r, r) and r == 1 + n * (k - 1)
    assert (stack_weights, single_weights) == (n * c * c * k * k, c * c * r * r)


def vgg_by_hand(x, config, params, relu=True):
    """The convolutional part of a VGG written with torch.nn.functional."""
    weights = iter(params)
    for entry in config:
        if entry == "M":
            x = F.max_pool2d(x, 2, 2)
        else:
            x = F.conv2d(x, next(weights), next(weights), padding=1)
            x = F.relu(x) if relu else x
    return x


def test_the_builder_reference_is_the_forward_pass_written_out_and_torchvisions():
    cases = checked_cases(EX, "vgg_features")
    for case in cases:
        x, config, params = case.args
        torch.testing.assert_close(case.expected, vgg_by_hand(x, config, params))
        if x.shape[1] == 3:  # torchvision's builder only takes RGB images
            layers = torchvision.models.vgg.make_layers(config)
            with torch.no_grad():
                for p, value in zip(layers.parameters(), params, strict=True):
                    p.copy_(value)
                torch.testing.assert_close(case.expected, layers(x))
    assert sum(c.args[0].shape[1] == 3 for c in cases) >= 3
    # The grading slip, a builder without ReLUs: among the fixed cases only the one whose values
    # stay positive passes; random weights catch it (a pool can hide it when every window's
    # maximum is positive, so not always).
    passes = [compare(c.expected, vgg_by_hand(*c.args, relu=False)).passed for c in cases]
    assert passes[:4] == [False, False, False, True]
    assert sum(passes[4:]) <= len(passes[4:]) // 3


@pytest.mark.parametrize("name", sorted(VGG_CONFIGS))
def test_the_parameter_reference_splits_torchvisions_vggs(name):
    with torch.device("meta"):
        tv = getattr(torchvision.models, name)(weights=None)
    features, classifier = EX.question("vgg_parameters").reference(VGG_CONFIGS[name], 3, 1000)
    assert (features, classifier) == (count_parameters(tv.features),
                                      count_parameters(tv.classifier))
    if name == "vgg16":
        assert features + classifier == 138_357_544


def conv_costs_by_formula(config, in_channels, size):
    costs, c, side = [], in_channels, size
    for entry in config:
        if entry == "M":
            side //= 2
        else:
            costs.append((side * side * c * entry * 9, entry * side * side))
            c = entry
    return costs


def test_the_parameter_and_cost_references_agree_with_the_formulas():
    for case in checked_cases(EX, "vgg_parameters"):
        config, c_in, classes = case.args
        convs = [e for e in config if e != "M"]
        widths = [c_in, *convs]
        dense = [convs[-1] * 49, 4096, 4096, classes]
        assert case.expected == (
            sum(a * b * 9 + b for a, b in itertools.pairwise(widths)),
            sum(a * b + b for a, b in itertools.pairwise(dense)))
    for case in checked_cases(EX, "vgg_layer_costs"):
        assert case.expected == conv_costs_by_formula(*case.args)


def test_vgg16_costs_add_up_to_torchvisions_convolutional_macs():
    costs = EX.question("vgg_layer_costs").reference(VGG_CONFIGS["vgg16"], 3, 224)
    with torch.device("meta"):
        tv = torchvision.models.vgg16(weights=None)
    assert len(costs) == 13
    assert sum(m for m, _ in costs) == count_macs(tv.features, (1, 3, 224, 224))
    assert costs[0][1] * 4 == 64 * 224 * 224 * 4 == 12_845_056  # bytes of the first output


# --- the model solutions, on many random configurations -------------------------------------

SOLUTIONS = solution_namespace("08_vgg")


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 8), k=st.integers(1, 9),
       c=st.integers(1, 1024))
def test_the_model_solutions_agree_with_the_references(seed, n, k, c):
    rng = np.random.default_rng(seed)
    for name, args in [("stack_versus_single", (n, k, c)),
                       ("vgg_parameters", rand_vgg_parameters(rng)),
                       ("vgg_layer_costs", rand_vgg_layer_costs(rng))]:
        assert compare(EX.question(name).reference(*args), SOLUTIONS[name](*args)).passed, \
            (name, args)


@pytest.mark.parametrize("seed", range(5))
def test_the_model_builder_agrees_with_the_reference(seed):
    args = rand_vgg_features(np.random.default_rng(seed))
    torch.testing.assert_close(SOLUTIONS["vgg_features"](*args),
                               EX.question("vgg_features").reference(*args))
    x, config, params = args
    with pytest.raises(ValueError, match="parameter tensors, the check brings"):
        SOLUTIONS["vgg_features"](x, config, params[:-1])
    assert math.prod(SOLUTIONS["make_vgg_layers"](config, 3)[0].weight.shape[1:]) == 27
