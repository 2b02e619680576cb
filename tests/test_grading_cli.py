"""The ``cnnlib-grade`` command: a folder, Gradescope's layout, usage errors."""

import csv
import json
import shutil
from pathlib import Path

from cnnlib.grading import load_exercise
from cnnlib.grading.cli import main

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "exercises" / "sources" / "02_conv1d.ipynb"
STUDENT = ROOT / "exercises" / "02_conv1d.ipynb"
EX02 = load_exercise("02_conv1d")


def test_grade_a_folder_with_any_file_names(tmp_path, capsys):
    subs = tmp_path / "submissions"
    (subs / "group b").mkdir(parents=True)
    shutil.copy(SOURCE, subs / "Alice Smith - final (2).ipynb")
    shutil.copy(STUDENT, subs / "group b" / "bob.IPYNB")
    (subs / "notes.txt").write_text("not a notebook, not graded")
    out = tmp_path / "out"
    code = main(["02_conv1d", str(subs), "--out", str(out), "--timeout", "5", "--seed", "7",
                 "--no-progress", "--jobs", "2"])
    assert code == 0
    assert f"graded 2 notebooks; mean {EX02.points / 2:.2f} / {EX02.points:g}" in \
        capsys.readouterr().out
    rows = list(csv.reader((out / "grades.csv").open()))
    totals = {row[0]: row[-2] for row in rows[2:]}
    assert totals == {"Alice_Smith_-_final_2": f"{EX02.points:g}", "group_b__bob": "0"}
    files = {row[0]: row[1] for row in rows[2:]}
    assert files["group_b__bob"] == "group b/bob.IPYNB"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed_fixed"] is True and summary["submissions"] == 2
    assert {"mechanism", "protections", "missing", "why"} <= set(summary["sandbox"])
    assert set(summary["sandbox"]["protections"]) == {
        "user_namespaces", "private_tmp", "own_proc", "no_network", "readonly_filesystem",
        "hidden_submissions", "capabilities_dropped", "sandbox_user"}
    assert summary["write_failures"] == []
    report = json.loads((out / "reports" / "group_b__bob.json").read_text())
    assert report["sandbox"]["missing"] == summary["sandbox"]["missing"]


def test_usage_errors_exit_with_2(tmp_path, capsys):
    assert main(["99_nothing", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "no exercise named '99_nothing'" in capsys.readouterr().err
    assert main(["grade", "02_conv1d", str(tmp_path / "absent"), "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_list_shows_the_exercises(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert (f"02_conv1d: 1D convolution — {len(EX02.questions)} questions, "
            f"{EX02.points:g} points") in out
    assert "conv1d_valid" in out and "(from scratch)" in out


def test_gradescope_mode_reads_the_submission_and_writes_results_json(tmp_path):
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    shutil.copy(SOURCE, root / "submission" / "02_conv1d.ipynb")
    shutil.copy(STUDENT, root / "submission" / "an old copy.ipynb")
    assert main(["gradescope", "02_conv1d", "--root", str(root), "--timeout", "5"]) == 0
    doc = json.loads((root / "results" / "results.json").read_text())
    assert doc["score"] == EX02.points
    assert [t["name"] for t in doc["tests"]][:2] == ["conv1d_valid (from scratch)",
                                                    "output_length (from scratch)"]
    assert "other notebooks were ignored" in doc["output"]


def test_gradescope_mode_without_a_notebook(tmp_path):
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "submission" / "answers.pdf").write_bytes(b"%PDF")
    assert main(["gradescope", "02_conv1d", "--root", str(root)]) == 0
    doc = json.loads((root / "results" / "results.json").read_text())
    assert doc["score"] == 0 and "No .ipynb file" in doc["output"]
