"""The student's side: what ``check("...")`` prints, in a test and in a real Jupyter kernel."""

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from exercise_grading import printed_in_kernel

from cnnlib.grading import Checker, list_exercises, load_exercise
from cnnlib.grading.checker import GRADING_ENV, WIDTH, fit_lines

EXERCISES = Path(__file__).resolve().parents[1] / "exercises"
EX02 = load_exercise("02_conv1d")


@pytest.fixture
def check(monkeypatch):
    monkeypatch.delenv(GRADING_ENV, raising=False)
    return Checker("02_conv1d")


def good_conv1d_valid(x, h):
    m = len(h)
    y = torch.zeros(len(x) - m + 1, dtype=x.dtype)
    for i in range(len(y)):
        y[i] = (h * x[i:i + m]).sum()
    return y


def flipped_conv1d_valid(x, h):  # a true convolution where a cross-correlation is asked
    return good_conv1d_valid(x, torch.flip(h, dims=[0]))


def torch_conv1d_valid(x, h):
    return F.conv1d(x.view(1, 1, -1), h.view(1, 1, -1))[0, 0]


def hidden_torch_conv1d_valid(x, h):
    conv = eval("F.conv1d")  # out of the static scan's sight; the runtime guard sees it
    return conv(x.view(1, 1, -1), h.view(1, 1, -1))[0, 0]


def stub(*args):
    raise NotImplementedError("write it")


def flat(text: str) -> str:
    """``text`` with every run of spaces and line breaks made one space: what a message says,
    however it is wrapped to fit the page."""
    return " ".join(text.split())


def assert_fits(text: str) -> None:
    too_long = [line for line in text.splitlines() if len(line) > WIDTH]
    assert not too_long, f"lines over {WIDTH} characters: {too_long}"


def test_a_correct_answer_passes_and_hidden_checks_are_announced(check, capsys):
    result = check("conv1d_valid", good_conv1d_valid)
    out = capsys.readouterr().out
    assert out == ("✓ conv1d_valid: all 8 public checks passed. "
                   "20 hidden checks will run at grading.\n")
    assert result.passed and result.n_passed == 8 and result.n_hidden == 20


def test_a_wrong_answer_shows_the_first_failing_case(check, capsys):
    result = check("conv1d_valid", flipped_conv1d_valid)
    out = capsys.readouterr().out
    assert not result.passed and result.status == "fail"
    assert out.startswith("✗ conv1d_valid: ") and out == result.message + "\n"
    assert_fits(out)
    for said in ("First failure, fixed case 1 — a difference filter:",
                 "input:    x = tensor([1., 2., 3., 4., 5.]), h = tensor([1., 0., -1.])",
                 "expected: tensor([-2., -2., -2.])", "got:      tensor([2., 2., 2.])",
                 "problem:  3 of 3 values differ", "hint:     the output has n − m + 1 entries"):
        assert flat(said) in flat(out)
    assert "\n    expected: tensor([-2., -2., -2.])\n" in out  # one detail a line, aligned
    assert "hidden" not in out and "F.conv1d" not in out  # no hidden check, no reference


def test_the_stub_is_not_written_yet(check, capsys):
    result = check("conv1d_valid", stub)
    assert result.status == "missing" and not result.passed
    assert "not written yet" in capsys.readouterr().out


def test_a_forbidden_api_is_named_by_the_static_scan(check, capsys):
    result = check("conv1d_valid", torch_conv1d_valid)
    out = capsys.readouterr().out
    assert result.status == "forbidden"
    assert "uses torch.nn.functional.conv1d (as F.conv1d)" in out and "scores 0" in out


def test_a_forbidden_api_is_caught_at_run_time_too(check, capsys):
    result = check("conv1d_valid", hidden_torch_conv1d_valid)
    out = capsys.readouterr().out
    assert result.status == "forbidden"
    assert "called torch.nn.functional.conv1d" in out
    assert F.conv1d is torch.conv1d  # the guard put everything back


def test_errors_are_feedback_not_exceptions(check, capsys):
    def raises(x, h):
        raise ValueError("shapes do not match")

    def exits(x, h):
        raise SystemExit(1)

    assert check("conv1d_valid", raises).status == "fail"
    assert "got:      an error, ValueError: shapes do not match" in capsys.readouterr().out
    assert check("conv1d_valid", exits).status == "fail"
    assert check("conv1d_valid", 3).status == "fail"
    assert "should be a function, but it is an int" in capsys.readouterr().out


def test_names_are_looked_up_in_the_callers_namespace(check, capsys):
    namespace = {"check": check, "conv1d_valid": good_conv1d_valid}
    exec("result = check('conv1d_valid')\nmissing = check('moving_average')", namespace)
    assert namespace["result"].passed
    assert namespace["missing"].status == "missing"
    assert "moving_average is not defined yet" in capsys.readouterr().out


def test_a_value_question_never_shows_the_answer(check, capsys):
    assert check("conv1d_params", None).status == "missing"
    wrong = check("conv1d_params", 120)
    out = capsys.readouterr().out
    assert wrong.status == "fail" and "120 is not right" in out and "128" not in out
    assert check("conv1d_params", 128).passed
    assert capsys.readouterr().out == "✓ conv1d_params: correct.\n"
    assert check("conv1d_params", 128.0).status == "fail"


def test_an_unknown_question_lists_the_known_ones(check, capsys):
    assert check("conv2d").status == "error"
    out = capsys.readouterr().out
    assert '"conv1d_valid", "output_length"' in flat(out)
    assert_fits(out)


def test_the_summary_checks_every_question(check, capsys):
    namespace = {"check": check, "conv1d_valid": good_conv1d_valid, "conv1d_params": 128}
    exec("results = check.summary()", namespace)
    out = capsys.readouterr().out
    assert "✓ conv1d_valid" in out and "✓ conv1d_params" in out
    assert "… output_length" in out and f"{EX02.points:g} points in all" in out
    assert [r.status for r in namespace["results"]].count("ok") == 2


def test_inside_the_grader_check_does_nothing(monkeypatch, capsys):
    monkeypatch.setenv(GRADING_ENV, "1")
    quiet = Checker("02_conv1d")
    assert quiet("conv1d_valid", good_conv1d_valid).status == "skipped"
    assert capsys.readouterr().out == ""


@pytest.mark.slow
def test_the_notebooks_run_in_a_real_kernel(tmp_path):
    """The student notebook runs top to bottom (stubs only raise when called); the source
    notebook passes every public check. Both in an actual Jupyter kernel, where check() finds
    the student's definitions in the kernel's namespace."""
    done = printed_in_kernel(EXERCISES / "sources" / "02_conv1d.ipynb", tmp_path)
    todo = printed_in_kernel(EXERCISES / "02_conv1d.ipynb", tmp_path)
    n = len(EX02.questions)
    assert done.count("✓ ") == n + n and "✗" not in done  # each check and the summary
    assert f"0 of {n} questions pass" in todo
    for name in ("conv1d_valid", "output_length", "conv1d_general", "true_convolution",
                 "moving_average"):
        assert f"… {name} is not written yet" in todo
    assert "… conv1d_params is still None" in todo


def test_a_cell_ending_with_the_summary_shows_it_once(check, capsys):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.user_ns.update(check=check, conv1d_valid=good_conv1d_valid)
    try:
        shell.run_cell("check.summary()", store_history=False)
    finally:
        InteractiveShell.clear_instance()
    out = capsys.readouterr().out
    assert out.count("points in all") == 1
    assert "CheckResult(" not in out  # the returned list is not displayed a second time


def test_fit_lines_wraps_long_lines_under_what_they_continue():
    short = "✓ conv1d_valid: correct.\n    hint:     short"
    assert fit_lines(short) == short  # lines that fit are left exactly as they are
    message = "… " + " ".join(f"word{i}" for i in range(40))
    wrapped = fit_lines(message, width=40).split("\n")
    assert len(wrapped) > 1 and all(len(line) <= 40 for line in wrapped)
    assert all(line.startswith("  word") for line in wrapped[1:])  # past the mark "… "
    detail = "    hint:     " + "a b " * 30
    lines = fit_lines(detail, width=50).split("\n")
    assert lines[0].startswith("    hint:     a b") and len(lines) > 1
    assert all(line.startswith(" " * 14 + "a b") for line in lines[1:])  # under the value
    assert flat(fit_lines(message, width=40)) == flat(message)  # no word lost or cut
    assert fit_lines("x" * 30, width=20) == "x" * 20 + "\n  " + "x" * 10  # a word too long


@pytest.mark.parametrize("shift", range(12))
def test_fit_lines_keeps_a_short_bracket_on_one_line(shift):
    text = "    hint:     " + "w " * shift + "read y[i] = Σ_j h[j]·x[i + j] and f(a, b) as written"
    lines = fit_lines(text, width=40).split("\n")
    assert len(lines) > 1 and all(len(line) <= 40 for line in lines)
    assert any("x[i + j]" in line for line in lines) and any("f(a, b)" in line for line in lines)
    assert flat("\n".join(lines)) == flat(text)


@pytest.mark.parametrize("width", [0, 19, 88.0, True, "88"])
def test_fit_lines_refuses_a_width_it_cannot_keep(width):
    with pytest.raises(ValueError, match="width must be an int of at least 20"):
        fit_lines("text", width)


def wrong_answer(*args):
    return None


@pytest.mark.parametrize("name", list_exercises())
def test_every_message_of_every_exercise_fits_the_page(name, monkeypatch, capsys):
    """What the notebook shows before the student writes anything (stubs, None values), for a
    wrong answer, and the summary table: no line wider than the page's output column."""
    monkeypatch.delenv(GRADING_ENV, raising=False)
    check = Checker(name)
    for q in check.exercise.questions:
        if q.kind == "value":
            check(q.name, None)
            check(q.name, -1)
        else:
            assert check(q.name, stub).status == "missing"
            assert check(q.name, wrong_answer).status == "fail"
    check.summary()
    out = capsys.readouterr().out
    assert "not written yet" in out and "points in all" in out
    assert_fits(out)


def test_the_summary_is_printed_in_one_write(check, monkeypatch):
    """One write makes one output block in the notebook: Jupyter Book's merging of output
    blocks has nothing to merge, and the page shows the table once."""
    writes = []

    class Recorder:
        def write(self, text):
            writes.append(text)

        def flush(self):
            pass

    monkeypatch.setattr("sys.stdout", Recorder())
    check.summary()
    assert [w for w in writes if w.strip()] == [writes[0]]
    assert writes[0].startswith("Exercise 02_conv1d")
    assert f"{EX02.points:g} points in all." in writes[0]
