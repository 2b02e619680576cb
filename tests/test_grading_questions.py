"""Questions, references and the values they exchange: hand-checked answers, comparisons, JSON."""

import json
import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from cnnlib.grading import Exercise, FromScratch, Question, list_exercises, load_exercise
from cnnlib.grading.codec import MAX_ELEMENTS, CodecError, Unsupported, decode, dumps, encode
from cnnlib.grading.compare import Outcome, compare, format_value
from cnnlib.grading.question import Case

EXERCISES = list_exercises()
# (a training question has no fixed answers or hidden cases: tests/test_grading_training.py)
FUNCTION_QUESTIONS = [(name, q.name) for name in EXERCISES
                      for q in load_exercise(name).questions
                      if q.kind == "function" and not q.open_ended]


def test_the_conv1d_exercise_is_shipped_with_at_least_four_questions():
    assert "02_conv1d" in EXERCISES
    ex = load_exercise("02_conv1d")
    assert len(ex.questions) >= 4
    assert ex.points == sum(q.points for q in ex.questions) == 13
    assert any(q.from_scratch for q in ex.questions)


@pytest.mark.parametrize(("exercise", "question"), FUNCTION_QUESTIONS)
def test_hand_checked_answers_agree_with_the_reference(exercise, question):
    q = load_exercise(exercise).question(question)
    assert q.fixed, "every function question has fixed, hand-checked cases"
    for case in q.fixed:
        assert case.has_expected, f"{question}: a fixed case needs its answer written by hand"
        _assert_same(q.reference(*case.args), case.expected)


def _assert_same(got, expected):
    """Tensors: same dtype, shape and values; a tuple holding tensors, element by element;
    anything else: same type and equal."""
    if isinstance(expected, torch.Tensor):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)
    elif isinstance(expected, tuple) and any(isinstance(e, torch.Tensor) for e in expected):
        assert type(got) is tuple and len(got) == len(expected)
        for value, by_hand in zip(got, expected, strict=True):
            _assert_same(value, by_hand)
    else:
        assert type(got) is type(expected) and got == expected


@pytest.mark.parametrize(("exercise", "question"), FUNCTION_QUESTIONS)
def test_random_cases_are_valid_inputs_and_fixed_per_seed(exercise, question):
    ex = load_exercise(exercise)
    q = ex.question(question)
    public = ex.public_cases(q)
    assert len(public) == len(q.fixed) + q.n_public
    again = ex.public_cases(q)
    for a, b in zip(public, again, strict=True):  # the public seed is fixed
        assert compare(a.expected, b.expected).passed
    hidden = ex.hidden_cases(q, seed=1)
    assert len(hidden) == q.n_hidden and not any(c.public for c in hidden)
    assert [c.index for c in public + hidden] == list(range(q.n_checks))
    other = ex.hidden_cases(q, seed=2)
    assert any(not compare(a.args, b.args).passed for a, b in zip(hidden, other, strict=True))


def test_the_parameter_count_is_counted_from_the_real_layer():
    ex = load_exercise("02_conv1d")
    (case,) = ex.public_cases(ex.question("conv1d_params"))
    assert case.expected == 8 * 3 * 5 + 8 == 128  # weights C_out·C_in·k plus one bias each


def test_output_length_reference_is_cnnlibs_formula():
    q = load_exercise("02_conv1d").question("output_length")
    for n, m, p, s in [(7, 3, 1, 2), (100, 7, 3, 3), (5, 5, 0, 1)]:
        assert q.reference(n, m, p, s) == (n + 2 * p - m) // s + 1


def test_load_exercise_names_the_known_ones():
    with pytest.raises(ValueError, match="02_conv1d"):
        load_exercise("99_nothing")
    with pytest.raises(ValueError, match="like '02_conv1d'"):
        load_exercise("conv1d")


def test_declarations_are_validated():
    ref = lambda x: x  # noqa: E731
    with pytest.raises(ValueError, match="identifier"):
        Question.function("not a name", points=1, reference=ref, args=("x",),
                          fixed=(Case((1,), 1),))
    with pytest.raises(ValueError, match="points must be positive"):
        Question.function("f", points=0, reference=ref, args=("x",), fixed=(Case((1,), 1),))
    with pytest.raises(ValueError, match="no cases"):
        Question.function("f", points=1, reference=ref, args=("x",))
    q = Question.value("v", points=1, reference=lambda: 1)
    with pytest.raises(ValueError, match="repeat"):
        Exercise("01_x", "x", (q, q))
    with pytest.raises(ValueError, match="dotted Python name"):
        FromScratch(("torch.nn.functional.conv1d()",))


def test_from_scratch_matching_covers_names_under_an_entry():
    spec = FromScratch(("torch.nn.Conv1d", "torch.Tensor.unfold"), modules=("scipy.signal",),
                       aten=("conv*", "im2col"))
    assert spec.match("torch.nn.Conv1d.forward") == "torch.nn.Conv1d"
    assert spec.match("torch.nn.Conv1dX") is None
    assert spec.match("scipy.signal.convolve") == "scipy.signal"
    assert spec.method_names == {"unfold": "torch.Tensor.unfold"}
    assert spec.aten_match("aten::convolution") == "conv*"
    assert spec.aten_match("aten::im2col") == "im2col"
    assert spec.aten_match("aten::mul.Tensor") is None


# --- comparisons -------------------------------------------------------------------------------

def test_compare_says_what_differs():
    e = torch.tensor([1.0, 2.0, 3.0])
    assert compare(e, e.clone()).passed
    assert compare(e, e + 1e-7).passed  # float32 tolerance
    assert compare(e, torch.ones(4)).message == "expected shape (3,), got (4,)"
    assert "expected dtype torch.float32, got torch.float64" in compare(e, e.double()).message
    assert "did you forget to return" in compare(e, None).message
    assert "numpy array" in compare(e, e.numpy()).message
    msg = compare(e, torch.tensor([1.0, 2.0, 4.0])).message
    assert msg.startswith("1 of 3 values differ") and "index (2,)" in msg and "got 4" in msg
    hidden = compare(e, torch.tensor([1.0, 2.0, 4.0]), reveal=False).message
    assert hidden == "1 of 3 values differ"  # a hidden check shows no value
    assert not compare(e, torch.tensor([1.0, 2.0, math.nan])).passed


def test_compare_ints_floats_and_sequences():
    assert compare(4, 4).passed and compare(4, np.int64(4)).passed
    assert compare(4, 4.0).message == "expected an int, got a float (use // for integer division)"
    assert not compare(4, True).passed
    assert compare(4, 5).message == "expected 4, got 5"
    assert compare(4, 5, reveal=False).message == "wrong value"
    assert compare(0.5, 0.50001).passed and not compare(0.5, 0.6).passed
    assert compare((1, torch.ones(2)), [1, torch.ones(2)]).passed
    assert compare((1, 2), (1, 3)).message == "item 1: expected 2, got 3"
    assert "cannot be graded" in compare(1, Unsupported("builtins.object")).message


def test_format_value_is_short_and_readable():
    assert format_value(torch.tensor([1.0, 2.5])) == "tensor([1., 2.5])"
    assert format_value(torch.tensor([1, 2])) == "tensor([1, 2], dtype=torch.int64)"
    long = format_value(torch.arange(100.0))
    assert "…" in long and len(long) < 120
    assert format_value((3, 1.5)) == "(3, 1.5)"
    image = torch.zeros(1, 1, 28, 28)
    image[0, 0, 3, 4] = 0.5
    assert format_value(image) == "tensor(shape=(1, 1, 28, 28), min=0., max=0.5)"


# --- the JSON channel --------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    torch.tensor([1.5, -2.0]), torch.zeros(2, 3, dtype=torch.float64),
    torch.tensor([[1, 2]], dtype=torch.int32), torch.tensor(True), torch.ones(0),
    np.arange(6.0).reshape(2, 3), np.float32(1.5), np.int64(-3),
    1, -2**70, 2.5, True, None, "text", [1, [2, 3]], (1, (2.0, "a")), {"k": torch.ones(1)},
])
def test_codec_round_trip(value):
    back = decode(json.loads(dumps(encode(value))))
    assert type(back) is type(value)
    if isinstance(value, dict):
        assert back.keys() == value.keys()
        assert all(compare(v, back[k]).passed for k, v in value.items())
    elif isinstance(value, str) or value is None:
        assert back == value
    else:
        assert compare(value, back).passed


def test_codec_keeps_non_finite_floats():
    back = decode(encode(torch.tensor([math.nan, math.inf, -math.inf])))
    assert math.isnan(back[0]) and back[1] == math.inf and back[2] == -math.inf
    assert decode(encode(math.inf)) == math.inf


def test_codec_refuses_what_it_cannot_send():
    class Sub(torch.Tensor):
        pass

    sub = torch.ones(2).as_subclass(Sub)
    assert isinstance(decode(encode(sub)), Unsupported)
    assert isinstance(decode(encode(object())), Unsupported)
    big = decode(encode(torch.zeros(MAX_ELEMENTS + 1)))
    assert isinstance(big, Unsupported) and big.shape == (MAX_ELEMENTS + 1,)


def test_codec_ignores_a_patched_tolist(monkeypatch):
    monkeypatch.setattr(torch.Tensor, "tolist", lambda self: [42.0])
    assert decode(encode(torch.tensor([1.0, 2.0]))).numpy().tolist() == [1.0, 2.0]


@pytest.mark.parametrize("bad", [
    {"$tensor": {"dtype": "float32", "shape": [3], "data": [1, 2]}},
    {"$tensor": {"dtype": "evil", "shape": [1], "data": [1]}},
    {"$tensor": {"dtype": "float32", "shape": [1], "data": ["x"]}},
    {"$pickle": "gASV"}, {"a": 1, "b": 2}, {"$ndarray": {"dtype": "object", "shape": [1],
                                                          "data": [1]}},
])
def test_codec_rejects_malformed_messages(bad):
    with pytest.raises(CodecError):
        decode(bad)


# --- properties ----------------------------------------------------------------------------------

def _solution_namespace() -> dict:
    """The source notebook's solutions, defined as its cells define them (no check() calls)."""
    from pathlib import Path

    nb = json.loads((Path(__file__).resolve().parents[1] / "exercises" / "sources" /
                     "02_conv1d.ipynb").read_text())
    namespace: dict = {}
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and not source.startswith(("check", "# Setup")):
            exec(source, namespace)
    return namespace


SOLUTIONS = _solution_namespace()
signals = st.lists(st.floats(-10, 10, width=32), min_size=1, max_size=12).map(
    lambda v: torch.tensor(v, dtype=torch.float32))


@given(x=signals, h=signals, stride=st.integers(1, 4), padding=st.integers(0, 4))
def test_the_model_solutions_agree_with_the_references(x, h, stride, padding):
    ex = load_exercise("02_conv1d")
    assume(len(h) <= len(x) + 2 * padding)
    for name, args in [("conv1d_general", (x, h, stride, padding)),
                       ("true_convolution", (x, h)),
                       ("output_length", (len(x), len(h), padding, stride))]:
        expected = ex.question(name).reference(*args)
        assert compare(expected, SOLUTIONS[name](*args),
                       ex.question(name).tolerance).passed, name
    if len(h) <= len(x):
        for name, args in [("conv1d_valid", (x, h)), ("moving_average", (x, len(h)))]:
            expected = ex.question(name).reference(*args)
            assert compare(expected, SOLUTIONS[name](*args)).passed, name


@given(shape=st.lists(st.integers(0, 4), max_size=3),
       dtype=st.sampled_from([torch.float32, torch.float64, torch.int64, torch.bool]),
       seed=st.integers(0, 2**16))
def test_any_tensor_survives_the_channel(shape, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    t = (torch.randn(shape, generator=g, dtype=torch.float64) * 100).to(dtype)
    back = decode(json.loads(dumps(encode(t))))
    assert back.dtype == t.dtype and back.shape == t.shape and torch.equal(back, t)


def test_a_judge_replaces_the_comparison_and_never_raises():
    def positive_sum(args, expected, got, reveal):
        ok = float(got.sum()) > 0
        return Outcome(ok, "" if ok else ("the sum is not positive" if not reveal
                                          else f"the sum is {float(got.sum()):g}"))

    q = Question.function("f", points=1, reference=lambda x: x, args=("x",),
                          fixed=(Case((torch.ones(2),), torch.ones(2)),), judge=positive_sum)
    assert q.assess((torch.ones(2),), torch.ones(2), torch.tensor([5.0, -1.0])).passed
    assert not q.assess((), None, torch.tensor([-2.0])).passed  # not the reference's answer
    assert q.assess((), None, torch.tensor([-2.0]), reveal=False).message == \
        "the sum is not positive"
    broken = q.assess((), None, "not a tensor")  # the judge raises: the check fails
    assert not broken.passed and "could not be checked (AttributeError)" in broken.message
    plain = Question.value("v", points=1, reference=lambda: 3)
    assert plain.assess((), 3, 3).passed and not plain.assess((), 3, 4).passed
    with pytest.raises(TypeError, match="judge of question 'g' must be callable"):
        Question.value("g", points=1, reference=lambda: 1, judge=3)
    liar = Question.value("h", points=1, reference=lambda: 1, judge=lambda *a: True)
    with pytest.raises(TypeError, match="must return an Outcome"):
        liar.assess((), 1, 1)
