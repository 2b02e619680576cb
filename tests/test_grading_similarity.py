"""``cnnlib-grade similarity``: a disguised copy is flagged, independent answers are not."""

import csv
import html
import json
import re
from pathlib import Path

import pytest

from cnnlib.grading.cli import main
from cnnlib.grading.notebook import read_notebook, runnable_cells
from cnnlib.grading.question import load_exercise
from cnnlib.grading.similarity import (
    MIN_TOKENS,
    SOLUTION,
    THRESHOLD,
    Template,
    answers_of,
    grams,
    normalise,
    score,
)

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"
STUDENT = EXERCISES / "02_conv1d.ipynb"
SOURCE = EXERCISES / "sources" / "02_conv1d.ipynb"
QUESTIONS = [q.name for q in load_exercise("02_conv1d").questions]

# Alice's answers (not the exercise's solution: her own way of writing them).
ALICE_VALID = '''def conv1d_valid(x, h):
    """Valid cross-correlation of x (length n) with h (length m ≤ n): length n − m + 1.
    """
    result = []
    for i in range(len(x) - len(h) + 1):
        acc = 0.0  # running sum
        for j in range(len(h)):
            acc += h[j] * x[i + j]
        result.append(acc)
    return torch.tensor(result, dtype=x.dtype)
'''
ALICE_GENERAL = '''def conv1d_general(x, h, stride=1, padding=0):
    """Cross-correlation of x with h after zero-padding x by `padding` per side, with a
    stride.
    """
    if padding < 0:
        raise ValueError("padding must be >= 0")
    n, m = x.numel(), h.numel()
    xp = x.new_zeros(n + 2 * padding)
    xp[padding:padding + n] = x
    o = output_length(n, m, padding, stride)
    y = x.new_zeros(o)
    for i in range(o):
        for j in range(m):
            y[i] = y[i] + h[j] * xp[i * stride + j]
    return y
'''
# Bob's copy: other names, literals and comments, another layout.
BOB_VALID = '''def conv1d_valid(x, h):
    """My cross-correlation."""
    # loop over every window
    out = []
    for start in range(len(x)-len(h)+7):
        total = 1.5
        for k in range( len(h) ):
            total += h[k]*x[start+k]      # multiply and add
        out.append( total )
    return torch.tensor(out,
                        dtype=x.dtype)
'''
BOB_GENERAL = '''def conv1d_general(x, h, stride=1, padding=0):
  """Padded, strided."""
  if padding<0:
    raise ValueError('negative padding')   # just in case
  N, M = x.numel(), h.numel()
  padded = x.new_zeros(N+3*padding)
  padded[padding : padding+N] = x
  size = output_length(N, M, padding, stride)
  res = x.new_zeros(size)
  for a in range(size):
    for b in range(M):
      res[a] = res[a] + h[b]*padded[a*stride+b]
  return res
'''
# Carol's answers, written independently.
CAROL_VALID = '''def conv1d_valid(x, h):
    m = h.shape[0]
    windows = [x[start:start + m] for start in range(x.shape[0] - m + 1)]
    return torch.stack([torch.dot(w, h) for w in windows])
'''
CAROL_GENERAL = '''def pad(signal, p):
    if p == 0:
        return signal
    z = torch.zeros(p, dtype=signal.dtype)
    return torch.cat((z, signal, z))


def conv1d_general(x, h, stride=1, padding=0):
    xp = pad(x, padding)
    count = (len(xp) - len(h)) // stride + 1
    outs = []
    for k in range(count):
        window = xp[k * stride : k * stride + len(h)]
        outs.append(torch.sum(window * h))
    return torch.stack(outs).to(x.dtype)
'''


def with_answers(answers: dict[str, str]) -> dict:
    """The student notebook with the cell that defines each name replaced by an answer."""
    nb = json.loads(STUDENT.read_text())
    for name, code in answers.items():
        (cell,) = [c for c in nb["cells"] if c["cell_type"] == "code"
                   and "".join(c["source"]).startswith(f"def {name}(")]
        cell["source"] = code.splitlines(True)
    return nb


def cells(nb: dict) -> list[tuple[int, str]]:
    return runnable_cells(read_notebook(json.dumps(nb).encode()))[0]


def tokens(code: str, keep=frozenset()) -> tuple:
    import ast

    return normalise(ast.parse(code).body, keep)


# --- the normalisation --------------------------------------------------------------------------

def test_names_literals_comments_docstrings_and_layout_do_not_count():
    a = tokens("def f(x, n):\n    'doc'\n    s = 0  # sum\n    for i in range(n):\n"
               "        s += x[i] * 2\n    return s\n")
    b = tokens("def g(values, count):\n    total = 10.5\n    for k in range( count ):\n"
               "        total += values[k]*7\n\n    return total\n")
    assert a == b
    assert tokens("def f(x):\n    return x - 1\n") != tokens("def f(x):\n    return x + 1\n")
    assert tokens("def f(x):\n    return len(x)\n") != tokens("def f(x):\n    return abs(x)\n")


def test_an_imported_module_reads_as_its_own_name_and_question_names_stay():
    assert tokens("import torch as T\nT.zeros(3)\n") == tokens("import torch\ntorch.zeros(3)\n")
    assert tokens("import numpy as T\nT.zeros(3)\n") != tokens("import torch\ntorch.zeros(3)\n")
    keep = frozenset({"output_length"})
    assert tokens("output_length(1)\n", keep) != tokens("helper(1)\n", keep)


def test_the_score_is_the_jaccard_index_of_the_gram_sets():
    a, b = frozenset({1, 2, 3, 4}), frozenset({3, 4, 5})
    assert score(a, b) == 2 / 5 and score(a, a) == 1 and score(frozenset(), frozenset()) == 0
    assert grams(("a", "b")) == grams(("a", "b"))  # shorter than K: one gram
    assert len(grams(tuple("abcdefg"), 5)) == 3


def test_the_template_is_taken_out_and_a_stub_gives_no_answer():
    template = Template.from_notebook(STUDENT)
    assert answers_of(cells(json.loads(STUDENT.read_text())), QUESTIONS, template) == {}
    solution = answers_of(cells(json.loads(SOURCE.read_text())), QUESTIONS, template)
    assert set(solution) == set(QUESTIONS)
    # moving_average calls conv1d_valid: that definition is compared under its own name
    assert "def conv1d_valid" not in solution["moving_average"].code
    assert "import torch" not in solution["conv1d_valid"].code
    assert "Checker" not in "".join(a.code for a in solution.values())


def test_a_copy_with_a_statement_added_or_a_helper_split_off_stays_above_the_threshold():
    def answer(code):
        return answers_of([(1, code)], QUESTIONS, Template())["conv1d_general"]

    original = answer(ALICE_GENERAL)
    edits = {
        "a statement added": ALICE_GENERAL.replace("    return y", "    print(y.shape)\n"
                                                   "    return y"),
        "a helper split off": "def step(a, b):\n    return a * b\n\n\n" + ALICE_GENERAL.replace(
            "h[j] * xp[i * stride + j]", "step(h[j], xp[i * stride + j])"),
        "statements moved": ALICE_GENERAL.replace(
            "    o = output_length(n, m, padding, stride)\n", "").replace(
            "    xp = x.new_zeros", "    o = output_length(n, m, padding, stride)\n"
                                   "    xp = x.new_zeros"),
    }
    for what, code in edits.items():
        assert code != ALICE_GENERAL
        assert score(original.grams, answer(code).grams) >= THRESHOLD, what


# --- a folder -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("similarity")
    subs = tmp / "submissions"
    (subs / "group 2").mkdir(parents=True)
    notebooks = {
        "alice.ipynb": {"conv1d_valid": ALICE_VALID, "conv1d_general": ALICE_GENERAL},
        "group 2/bob.ipynb": {"conv1d_valid": BOB_VALID, "conv1d_general": BOB_GENERAL},
        "carol.ipynb": {"conv1d_valid": CAROL_VALID, "conv1d_general": CAROL_GENERAL},
        "dave.ipynb": {},
    }
    for name, answers in notebooks.items():
        (subs / name).write_text(json.dumps(with_answers(answers), indent=1))
    (subs / "eve.ipynb").write_text("this is not JSON")
    out = tmp / "out"
    return subs, out


def run(capsys, *args):
    code = main(["similarity", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def rows_of(out: Path) -> list[dict]:
    with (out / "similarity.csv").open() as f:
        return list(csv.DictReader(f))


def pair(rows, question, a, b) -> dict:
    (row,) = [r for r in rows if r["question"] == question and {r["student_a"],
              r["student_b"]} == {a, b}]
    return row


def test_a_disguised_copy_is_flagged_and_independent_answers_are_not(report, capsys):
    subs, out = report
    code, stdout, stderr = run(capsys, "02_conv1d", subs, "--out", out, "--exercises", EXERCISES)
    assert code == 0, stderr
    assert "compared 5 notebooks" in stdout  # four of the folder and the solution
    assert re.search(r"not compared: eve\.ipynb: the file is not a notebook: it is not valid "
                     r"JSON", stderr)
    rows = rows_of(out)
    bob = "group_2__bob"
    for q in ("conv1d_valid", "conv1d_general"):
        copy = pair(rows, q, "alice", bob)
        assert float(copy["score"]) >= THRESHOLD and copy["flagged"] == "yes", copy
        assert min(int(copy["tokens_a"]), int(copy["tokens_b"])) >= MIN_TOKENS
        for other in ("alice", bob, SOLUTION):
            independent = pair(rows, q, other, "carol")
            assert float(independent["score"]) < 0.3 and independent["flagged"] == "no"
        assert float(pair(rows, q, "alice", SOLUTION)["score"]) < 0.3
    # dave left the stubs: nothing of his is compared; eve's file is not a notebook
    assert not [r for r in rows if "dave" in (r["student_a"], r["student_b"])]
    assert not [r for r in rows if "eve" in (r["student_a"], r["student_b"])]
    scores = [float(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    # the solution's one-line answers equal the copies' too, but are too short to flag
    assert all(r["flagged"] == "no" for r in rows
               if min(int(r["tokens_a"]), int(r["tokens_b"])) < MIN_TOKENS)


def test_the_page_shows_the_pairs_side_by_side_escaped_and_self_contained(report, capsys):
    subs, out = report
    assert run(capsys, "02_conv1d", subs, "--out", out, "--exercises", EXERCISES,
               "--top", "2")[0] == 0
    page = (out / "similarity.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "padding &lt; 0" in page and "padding < 0" not in page
    assert "<script" not in page and "<link" not in page and "src=" not in page
    assert "eve.ipynb" in page and "not valid JSON" in page
    flagged = re.findall(r'<details class="flagged" open><summary>([\d.]+) — (.*?) and (.*?) ',
                         page)
    assert ("alice", "group_2__bob") in {(a, b) for _, a, b in flagged}
    assert page.count('<div class="pair">') == len(rows_of(out)) <= 2 * len(QUESTIONS)
    # the copy's lines are marked as shared with the original
    assert '<span class="same">  for a in range(size):</span>' in page
    assert html.escape('raise ValueError("padding must be >= 0")') in page


def test_the_solution_can_be_left_out(report, capsys):
    subs, out = report
    code, stdout, _ = run(capsys, "02_conv1d", subs, "--out", out, "--exercises", EXERCISES,
                          "--no-solution")
    assert code == 0 and "compared 4 notebooks" in stdout
    assert SOLUTION not in (out / "similarity.csv").read_text()


def test_bad_input_gets_a_clear_error(tmp_path, capsys):
    out = ("--out", tmp_path / "out")
    code, _, err = run(capsys, "99_nothing", tmp_path, *out, "--exercises", EXERCISES)
    assert code == 2 and "no exercise named '99_nothing'" in err
    code, _, err = run(capsys, "02_conv1d", tmp_path / "absent", *out, "--exercises", EXERCISES)
    assert code == 2 and "does not exist or is not a folder" in err
    code, _, err = run(capsys, "02_conv1d", tmp_path, *out, "--exercises", tmp_path)
    assert code == 2 and "student notebook" in err and "--exercises" in err
    code, _, err = run(capsys, "02_conv1d", tmp_path, *out, "--exercises", EXERCISES,
                       "--top", "0")
    assert code == 2 and "top must be a positive int, got 0" in err
    assert not (tmp_path / "out").exists()
