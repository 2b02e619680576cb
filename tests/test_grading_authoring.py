"""Authoring: student notebooks are generated from their sources, and the committed ones match."""

import json
from pathlib import Path

import pytest

from cnnlib.grading import list_exercises, load_exercise
from cnnlib.grading.authoring import (
    AuthoringError,
    dumps,
    generate_all,
    student_notebook,
    student_source,
)
from cnnlib.grading.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"
SOURCE = EXERCISES / "sources" / "02_conv1d.ipynb"


def test_every_exercise_has_a_source_and_a_student_notebook():
    for name in list_exercises():
        assert (EXERCISES / "sources" / f"{name}.ipynb").exists(), name
        assert (EXERCISES / f"{name}.ipynb").exists(), name


def test_committed_student_notebooks_are_exactly_what_the_sources_generate():
    assert generate_all(EXERCISES, check=True) == []


def test_the_cli_check_reports_a_stale_student_notebook(tmp_path, capsys):
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "02_conv1d.ipynb").write_text(SOURCE.read_text())
    assert main(["student", "--check", "--exercises", str(tmp_path)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert main(["student", "--exercises", str(tmp_path)]) == 0
    assert main(["student", "--check", "--exercises", str(tmp_path)]) == 0
    assert (tmp_path / "02_conv1d.ipynb").read_text() == \
        (EXERCISES / "02_conv1d.ipynb").read_text()


def test_only_solution_blocks_change():
    source = json.loads(SOURCE.read_text())
    student = json.loads((EXERCISES / "02_conv1d.ipynb").read_text())
    assert len(source["cells"]) == len(student["cells"])
    changed = 0
    for a, b in zip(source["cells"], student["cells"], strict=True):
        assert a["cell_type"] == b["cell_type"] and a.get("metadata") == b.get("metadata")
        text_a, text_b = "".join(a["source"]), "".join(b["source"])
        if "### BEGIN SOLUTION" in text_a:
            changed += 1
            assert "### BEGIN SOLUTION" not in text_b
            assert "NotImplementedError" in text_b or "= None  # YOUR CODE HERE" in text_b
            before = text_a.split("### BEGIN SOLUTION")[0]
            assert text_b.startswith(before.rstrip(" "))  # the signature and docstring stay
        else:
            assert text_a == text_b
    assert changed == len(load_exercise("02_conv1d").questions)  # one answer block each


def test_student_source_stubs():
    src = ('def f(x):\n    """Doc."""\n    ### BEGIN SOLUTION\n    return x\n'
           '    ### END SOLUTION\n\n### BEGIN SOLUTION\nvalue = 3\n# STUB: value = None\n'
           '### END SOLUTION\n')
    assert student_source(src) == (
        'def f(x):\n    """Doc."""\n    # YOUR CODE HERE\n'
        '    raise NotImplementedError("write f, then run its check")\n\n'
        'value = None  # YOUR CODE HERE\n')


@pytest.mark.parametrize(("src", "message"), [
    ("### BEGIN SOLUTION\nx = 1\n", "without ### END SOLUTION"),
    ("x = 1\n### END SOLUTION\n", "without ### BEGIN SOLUTION"),
    ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", "needs a '# STUB: <code>' line"),
    ("def f():\n    ### BEGIN SOLUTION\n    x = 1\n    ### BEGIN SOLUTION\n"
     "    ### END SOLUTION\n    return x\n", "cannot nest"),
])
def test_malformed_markers_are_reported(src, message):
    with pytest.raises(AuthoringError, match=message):
        student_source(src)


def test_student_notebooks_are_clean_python3_notebooks():
    nb = student_notebook(json.loads(SOURCE.read_text()))
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert all(c.get("outputs") == [] and c.get("execution_count") is None
               for c in nb["cells"] if c["cell_type"] == "code")
    first = nb["cells"][0]
    assert "setup" in first["metadata"]["tags"] and "except ImportError" in "".join(
        first["source"])
    assert dumps(nb).endswith("}\n")
