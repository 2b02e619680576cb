"""The training question of exercise 07 (``train_lenet5``), end to end through the real grader
and its sandbox: the model solution earns full marks, the stub nothing, a loop that forgets
``optimizer.zero_grad()`` partial credit with a hint that names it, cnnlib's ready-made trainer
and trained models are forbidden, a loop that runs past the question's own time limit is
stopped, the sandbox cannot see MNIST's test digits (files, ``CNNLIB_DATA``, cnnlib's loader),
a regrade gives the same grade; and the pieces on their own (credit, accuracy, the digit sets,
``check()``, the sandbox's view and environment)."""

import json
import os
from collections import OrderedDict

import pytest
import torch
from exercise_grading import grade_notebooks, verdicts_of

from cnnlib.datasets import data_root, load_mnist
from cnnlib.grading import Checker, load_exercise
from cnnlib.grading import training_data as T
from cnnlib.grading.codec import decode, dumps, encode, loads
from cnnlib.grading.compare import Outcome
from cnnlib.grading.question import Graded, credit_of
from cnnlib.grading.sandbox import _child_env, sandbox_view
from cnnlib.models import LeNet5

EXERCISE = "07_lenet"
Q = load_exercise(EXERCISE).question("train_lenet5")
TEST_LABELS = data_root() / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"


def _edit_training_cell(change):
    def edit(nb):
        cells = [c for c in nb["cells"] if c.get("id") == "ex07-train-a"]
        assert len(cells) == 1
        cells[0]["source"] = change("".join(cells[0]["source"]))
    return edit


def _body(body):
    """Replace the solution block of train_lenet5 with ``body``."""
    def change(text):
        head, rest = text.split("    ### BEGIN SOLUTION\n")
        _, tail = rest.split("    ### END SOLUTION")
        return head + body + "\n" + tail
    return _edit_training_cell(change)


def _slip(old, new):
    def change(text):
        assert text.count(old) == 1
        return text.replace(old, new)
    return _edit_training_cell(change)


def _probe_cell(nb):
    """A last cell that looks for the test digits in the notebook's sandbox and prints what it
    found."""
    nb["cells"].append({"cell_type": "code", "id": "probe", "metadata": {}, "outputs": [],
                        "execution_count": None, "source": (
        "import os\n"
        "import cnnlib.datasets\n"
        f"seen = os.path.exists({str(TEST_LABELS)!r})\n"
        "try:\n"
        f"    open({str(TEST_LABELS)!r}, 'rb').read()\n"
        "    opened = 'opened'\n"
        "except OSError as err:\n"
        "    opened = type(err).__name__\n"
        "try:\n"
        "    cnnlib.datasets.load_mnist(train=False)\n"
        "    loaded = 'loaded'\n"
        "except Exception as err:\n"
        "    loaded = type(err).__name__\n"
        "print('PROBE', seen, os.environ.get('CNNLIB_DATA'), opened, loaded)\n")})


FIT = ("    from cnnlib.training import fit\n"
       "    model = LeNet5()\n"
       "    fit(model, (images.float() / 255, labels), epochs=3)\n"
       "    return model.state_dict()")
FIT_OR_LOAD = ("    from cnnlib.checkpoint import fit_or_load\n"
               "    model = LeNet5()\n"
               "    fit_or_load(model, (images.float() / 255, labels), epochs=3)\n"
               "    return model.state_dict()")
PEEK = ("    with open(" + repr(str(TEST_LABELS)) + ", 'rb') as f:\n"
        "        f.read()\n"
        "    return LeNet5().state_dict()")
FOREVER = ("    model = LeNet5()\n"
           "    while True:\n"
           "        model(images[:1].float())\n")

VARIANTS = {
    "solution_again": lambda nb: None,
    "no_zero_grad": _slip("            optimizer.zero_grad()\n", ""),
    "fit": _body(FIT),
    "fit_or_load": _body(FIT_OR_LOAD),
    "peek": lambda nb: (_body(PEEK)(nb), _probe_cell(nb)),
    "forever": _body(FOREVER),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_notebooks(EXERCISE, tmp_path_factory.mktemp("training"), VARIANTS,
                           originals=True)


def _train(graded, student):
    return graded[student].questions["train_lenet5"]


def test_the_solution_earns_full_marks_and_the_stub_nothing(graded):
    q = _train(graded, "solution")
    assert (q.status, q.score) == ("ok", Q.points)
    assert "test digits the grader keeps" in q.feedback and "full marks" in q.feedback
    stub = _train(graded, "student")
    assert (stub.status, stub.score) == ("missing", 0.0)


def test_a_regrade_trains_the_same_network(graded):
    """The sandbox seeds its generators alike, and the question has no hidden cases (the seed
    of a grading run cannot change its inputs): two gradings give the same accuracy."""
    assert Q.n_hidden == 0
    a, b = _train(graded, "solution"), _train(graded, "solution_again")
    assert (a.status, a.score, a.feedback) == (b.status, b.score, b.feedback)


def test_forgetting_zero_grad_earns_partial_credit_with_a_hint_that_names_it(graded):
    q = _train(graded, "no_zero_grad")
    assert q.status == "fail" and 0 < q.score < Q.points
    assert "optimizer.zero_grad() forgotten" in q.feedback
    # the credit is the judge's, from the accuracy it states
    percent = float(q.feedback.split("accuracy ")[1].split(" %")[0]) / 100
    assert q.score == pytest.approx(Q.points * T.credit(percent), abs=Q.points * 0.0006)
    others = {k: v for k, v in verdicts_of(graded["no_zero_grad"]).items()
              if k != "train_lenet5"}
    assert others == {k: v for k, v in verdicts_of(graded["solution"]).items()
                      if k != "train_lenet5"}


@pytest.mark.parametrize(("student", "api"), [("fit", "cnnlib.training"),
                                               ("fit_or_load", "cnnlib.checkpoint")])
def test_cnnlibs_trainer_and_trained_models_are_forbidden(graded, student, api):
    q = _train(graded, student)
    assert (q.status, q.score) == ("forbidden", 0.0)
    assert api in q.feedback


def test_the_sandbox_cannot_read_the_test_digits(graded):
    """Under bubblewrap the course data is outside the sandbox's view and CNNLIB_DATA is not
    passed: a notebook cell sees no file and no variable, cannot open the test labels, and
    cnnlib's loader finds nothing (nor can it download); a from-scratch answer may not even
    call open()."""
    assert TEST_LABELS.exists()  # the grader itself has them
    q = _train(graded, "peek")  # open() in a from-scratch answer: refused before it runs
    assert (q.status, q.score) == ("forbidden", 0.0) and "open()" in q.feedback
    assert "PROBE False None FileNotFoundError DataNotFoundError" in graded["peek"].output


def test_a_loop_past_the_time_limit_is_stopped(graded):
    q = _train(graded, "forever")
    assert (q.status, q.score) == ("timeout", 0.0)
    assert f"Stopped after {T.TIMEOUT:g} s" in q.feedback


def test_the_notebook_states_the_limits_it_is_graded_with():
    nb = json.loads((__import__("exercise_grading").source_notebook(EXERCISE)).read_text())
    text = "".join("".join(c["source"]) for c in nb["cells"] if c.get("id") == "ex07-train-q")
    assert f"**{T.TIMEOUT:g} seconds**" in text
    assert f"full marks from {100 * T.FULL_MARKS:.0f} %" in text
    assert f"none at {100 * T.NO_MARKS:.0f} % or less" in text
    half = (T.FULL_MARKS + T.NO_MARKS) / 2
    assert f"({100 * half:.0f} % earns half)" in text and T.credit(half) == pytest.approx(0.5)
    assert f"{T.N_TRAIN:,} fixed training" in text and f"{T.N_TEST:,} MNIST **test**" in text
    assert Q.timeout == T.TIMEOUT <= 60


# --- the pieces ---------------------------------------------------------------------------------

def test_credit_is_linear_between_the_thresholds():
    assert T.credit(T.FULL_MARKS) == 1.0 and T.credit(0.99) == 1.0
    assert T.credit(T.NO_MARKS) == 0.0 and T.credit(0.1) == 0.0
    mid = (T.FULL_MARKS + T.NO_MARKS) / 2
    assert T.credit(mid) == pytest.approx(0.5)
    assert credit_of(Graded.of(0.25, "x")) == 0.25 and credit_of(Outcome(True)) == 1.0
    with pytest.raises(ValueError, match="credit must be between 0 and 1"):
        Graded(False, "", 1.5)
    with pytest.raises(ValueError, match="passes exactly when its credit is 1"):
        Graded(True, "", 0.5)


def test_the_digit_sets_are_fixed_disjoint_and_from_the_right_halves_of_mnist():
    images, labels = T.training_digits()
    assert images.shape == (T.N_TRAIN, 1, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (T.N_TRAIN,) and labels.dtype == torch.int64
    assert images.numel() <= 1_000_000  # one tensor of the grader's channel
    again, _ = T.training_digits()
    assert torch.equal(images, again)
    val, _ = T.validation_digits()
    test, _ = T.test_digits()
    assert val.shape[0] == T.N_VALIDATION and test.shape[0] == T.N_TEST
    train_rows = {x.tobytes() for x in load_mnist(train=True).data.numpy()}
    test_rows = {x.tobytes() for x in load_mnist(train=False).data.numpy()}
    chosen = {x.tobytes() for x in images.numpy()}
    assert chosen <= train_rows and {x.tobytes() for x in val.numpy()} <= train_rows
    assert {x.tobytes() for x in test.numpy()} <= test_rows
    assert not chosen & {x.tobytes() for x in val.numpy()}


def test_accuracy_loads_the_weights_into_cnnlibs_lenet5():
    torch.manual_seed(0)
    model = LeNet5()
    images, labels = T.validation_digits()
    with torch.no_grad():
        expected = (model.eval()(images.float() / 255).argmax(1) == labels).double().mean()
    assert T.accuracy(model.state_dict(), images, labels) == pytest.approx(float(expected))
    with pytest.raises(TypeError, match="state_dict"):
        T.accuracy(model, images, labels)
    with pytest.raises(RuntimeError, match="Missing key"):
        T.accuracy({"w": torch.zeros(1)}, images, labels)
    broken = T.judge_training((), None, [1, 2], True)
    assert not broken.passed and "must return model.state_dict()" in broken.message


def test_a_hidden_judgement_names_no_value():
    torch.manual_seed(0)
    state = LeNet5().state_dict()
    acc = T.accuracy(state, *T.test_digits())
    hidden = T.judge_training((), None, state, False)
    shown = T.judge_training((), None, state, True)
    assert isinstance(hidden, Graded) and hidden.credit == shown.credit == T.credit(acc)
    assert f"{100 * acc:.1f} %" in shown.message and f"{100 * acc:.1f}" not in hidden.message


def test_a_state_dict_crosses_the_channel():
    state = LeNet5().state_dict()
    assert isinstance(state, OrderedDict)
    back = decode(loads(dumps(encode(state))))
    assert set(back) == set(state)
    assert all(torch.equal(back[k], state[k]) for k in state)


def test_the_sandbox_gets_neither_the_data_folder_nor_its_variable(monkeypatch):
    root = os.path.realpath(os.environ.get("CNNLIB_DATA") or data_root())
    monkeypatch.setenv("CNNLIB_DATA", root)
    assert "CNNLIB_DATA" not in _child_env("/tmp/home")
    view = sandbox_view()
    assert not any(isinstance(a, str) and a.startswith(root) for a in view)


def test_a_data_folder_inside_an_allowed_folder_is_covered(monkeypatch, tmp_path):
    """Data kept, say, under the Python prefix would be in the view: an empty tmpfs hides it."""
    import cnnlib.grading.sandbox as sandbox

    data = tmp_path / "prefix" / "share" / "cnnlib-data"
    data.mkdir(parents=True)
    monkeypatch.setattr(sandbox, "_allowed_folders", lambda: [str(tmp_path / "prefix")])
    monkeypatch.setenv("CNNLIB_DATA", str(data))
    view = sandbox.sandbox_view()
    at = view.index(os.path.realpath(data))
    assert view[at - 1] == "--tmpfs" and view[at + 1:at + 3] == ["--remount-ro", str(data)]
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / "elsewhere"))  # outside: not mentioned
    (tmp_path / "elsewhere").mkdir()
    assert str(tmp_path / "elsewhere") not in sandbox.sandbox_view()


def test_check_measures_on_held_out_training_digits_never_the_test_digits(monkeypatch, capsys):
    def no_test_digits():
        raise AssertionError("check() read the test digits")

    monkeypatch.setattr(T, "test_digits", no_test_digits)
    monkeypatch.delenv("CNNLIB_GRADING_CHILD", raising=False)

    def train_lenet5(images, labels):  # a short loop: a weak network, partial credit at most
        torch.manual_seed(0)
        model = LeNet5()
        optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
        x = images.float() / 255
        for start in range(0, len(x), 32):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x[start:start + 32]),
                                              labels[start:start + 32]).backward()
            optimizer.step()
        return model.state_dict()

    result = Checker(EXERCISE)("train_lenet5", train_lenet5)
    said = capsys.readouterr().out
    assert f"on {T.N_VALIDATION:,} held-out training digits" in said
    assert "test" not in said
    assert result.status in ("ok", "fail") and result.n_public == 1
