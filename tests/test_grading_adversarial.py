"""Adversarial submissions, all graded in one batch: each gets exactly the status and score it
deserves, and the batch completes (see tests/grading_fixtures/README.md for the fixtures)."""

import csv
import importlib.util
import json
import os
import shutil
from pathlib import Path

import psutil
import pytest

from cnnlib.grading.cli import grade_folder
from cnnlib.grading.report import POINTS_ROW
from cnnlib.grading.sandbox import Limits

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "grading_fixtures"
SEED = 987_654_321_987
LIMITS = Limits(timeout=3, memory_mb=512)
QUESTIONS = ("conv1d_valid", "output_length", "conv1d_general", "true_convolution",
             "moving_average", "conv1d_params", "q_commutative", "q_two_averages_length")
POINTS = dict(zip(QUESTIONS, (3, 1, 3, 2, 1, 1, 1, 1), strict=True))
SLEEP_MARK = "977.5"  # what tests/grading_fixtures/child_processes.cells runs `sleep` with


def _fixtures_module():
    spec = importlib.util.spec_from_file_location("grading_fixtures", FIXTURES / "fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def full(**changes):
    """Every question ok with full points, except ``changes`` (name → status)."""
    return {q: (changes[q], 0.0) if q in changes else ("ok", float(POINTS[q]))
            for q in QUESTIONS}


def every(status):
    return {q: (status, 0.0) for q in QUESTIONS}


FROM_SCRATCH = ("conv1d_valid", "output_length", "conv1d_general", "true_convolution")
EXPECTED = {
    "solution": full(),
    "student": every("missing"),
    "infinite_loop": full(conv1d_valid="timeout", moving_average="timeout"),
    "memory_bomb": full(conv1d_valid="memory", moving_average="memory"),
    # a from-scratch answer may not import sys or os: its own run never gets to exit
    "sys_exit": full(conv1d_general="forbidden", true_convolution="forbidden"),
    "os_exit": full(conv1d_valid="forbidden", moving_average="crash"),
    "child_processes": full(),
    "monkeypatch": every("fail"),
    "redefine_checker": every("missing"),
    "fake_results": every("missing"),
    "read_hidden": {**every("missing"), **{q: ("forbidden", 0.0) for q in FROM_SCRATCH}},
    "megabytes": full(),
    "forbidden_conv": full(**dict.fromkeys(FROM_SCRATCH, "forbidden")),
    "syntax_error": full(),
    "not_json": every("crash"),
    "empty": every("crash"),
    "renamed_cells": full(output_length="missing", conv1d_params="missing",
                          q_commutative="missing"),
    "kill_parent": full(),
    "kill_zygote": full(),
    # from-scratch answers are evaluated apart from the notebook: a thread it left running
    # never meets them, and these answers are the honest solution's
    "background_thread": full(),
    "tamper": full(**dict.fromkeys(FROM_SCRATCH, "forbidden")),
}


def _grade(tmp: Path, names=None, isolation="auto"):
    subs = tmp / "submissions"
    built = _fixtures_module().build(subs)
    shutil.copy(ROOT / "exercises" / "sources" / "02_conv1d.ipynb", subs / "solution.ipynb")
    shutil.copy(ROOT / "exercises" / "02_conv1d.ipynb", subs / "student.ipynb")
    assert set(built) | {"solution", "student"} == set(EXPECTED)
    if names is not None:
        for path in subs.iterdir():
            if path.stem not in names:
                path.unlink()
    out = tmp / "out"
    results = grade_folder("02_conv1d", subs, out, jobs=2, limits=LIMITS, seed=SEED,
                           progress=False, isolation=isolation)
    return {r.student: r for r in results}, out


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    return _grade(tmp_path_factory.mktemp("adversarial"))


def _verdicts(result):
    return {q: (r.status, r.score) for q, r in result.questions.items()}


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_every_submission_gets_exactly_its_grade(batch, student):
    results, _ = batch
    assert _verdicts(results[student]) == EXPECTED[student], results[student].notes


def test_no_process_a_submission_started_survives(batch):
    # The batch (child_processes among it) started several `sleep 977.5`.
    results, _ = batch
    assert _verdicts(results["child_processes"]) == EXPECTED["child_processes"]
    left = [p.info for p in psutil.process_iter(["pid", "cmdline"])
            if p.info["cmdline"] and SLEEP_MARK in p.info["cmdline"]]
    assert left == []


def test_skipped_cells_and_errors_are_reported(batch):
    results, _ = batch
    notes = " ".join(results["infinite_loop"].notes)
    assert "ran longer than 3 s; it was skipped" in notes
    assert "used more than 512 MB" in " ".join(results["memory_bomb"].notes)
    assert "ended the Python process" in " ".join(results["os_exit"].notes)
    syntax = " ".join(results["syntax_error"].notes)
    assert "raised SyntaxError" in syntax and "raised NameError" in syntax
    assert "raised SystemExit" in " ".join(results["sys_exit"].notes)
    assert "not valid JSON" in results["not_json"].notes[0]
    feedback = results["renamed_cells"].questions["output_length"].feedback
    assert "is not a code cell" in feedback


def test_forbidden_apis_are_named(batch):
    results, _ = batch
    q = results["forbidden_conv"].questions
    assert q["conv1d_valid"].violations[0]["api"] == "torch.nn.functional.conv1d"
    assert q["conv1d_valid"].violations[0]["how"] == "static scan"
    assert q["output_length"].violations[0]["api"] == "cnnlib.conv_output_size"
    assert q["conv1d_general"].violations[0]["how"] == "answer policy"
    assert "eval()" in q["conv1d_general"].violations[0]["api"]
    assert "eval()" in q["true_convolution"].feedback  # it uses conv1d_general
    tamper = results["tamper"].questions
    assert "eval()" in tamper["conv1d_valid"].feedback  # its own code breaks the policy
    assert "looks into the grader's process (sys._getframe" in tamper["output_length"].feedback


def test_output_is_capped(batch):
    results, out = batch
    text = results["megabytes"].output
    assert len(text) < 20_000 and "output cut" in text
    report = json.loads((out / "reports" / "megabytes.json").read_text())
    assert len(report["output"]) < 20_000


def test_the_secret_seed_stays_secret(batch):
    results, _ = batch
    printed = results["read_hidden"].output
    assert "'argv'" in printed and "/proc/self/environ" in printed  # it did look
    assert str(SEED) not in printed


def test_forged_results_do_not_count(batch):
    results, out = batch
    gradescope = json.loads((out / "gradescope" / "fake_results" / "results.json").read_text())
    assert gradescope["score"] == 0
    assert "cells_done" in results["fake_results"].output  # it did try
    assert {p.name for p in out.iterdir()} == {"gradescope", "grades.csv", "reports",
                                               "summary.json"}


def test_grades_csv(batch):
    results, out = batch
    rows = list(csv.reader((out / "grades.csv").open()))
    assert rows[0] == ["student", "file", *QUESTIONS, "total", "problems"]
    n, total = len(QUESTIONS), sum(POINTS.values())
    points = [str(POINTS[q]) for q in QUESTIONS]
    assert rows[1] == [POINTS_ROW, "", *points, str(total), ""]
    body = {row[0]: row for row in rows[2:]}
    assert set(body) == set(EXPECTED)
    assert body["solution"][2:] == [*points, str(total), ""]
    # an endless loop in conv1d_valid and moving_average costs their points, no more
    assert body["infinite_loop"][2 + n] == \
        str(total - POINTS["conv1d_valid"] - POINTS["moving_average"])
    assert "conv1d_valid: timeout" in body["infinite_loop"][3 + n]
    for name, row in body.items():
        assert float(row[2 + n]) == pytest.approx(sum(float(x) for x in row[2:2 + n])), name
        assert float(row[2 + n]) == pytest.approx(results[name].total)


def test_gradescope_results_follow_the_specification(batch):
    _, out = batch
    for name in EXPECTED:
        doc = json.loads((out / "gradescope" / name / "results.json").read_text())
        assert set(doc) >= {"score", "tests", "output"}
        assert len(doc["tests"]) == len(QUESTIONS)
        for test in doc["tests"]:
            assert set(test) >= {"name", "score", "max_score", "output", "status", "visibility"}
            assert test["status"] in ("passed", "failed")
            assert test["visibility"] == "visible"
            assert 0 <= test["score"] <= test["max_score"]
        assert doc["score"] == pytest.approx(sum(t["score"] for t in doc["tests"]))
    solution = json.loads((out / "gradescope" / "solution" / "results.json").read_text())
    assert solution["score"] == sum(POINTS.values())
    assert all(t["status"] == "passed" for t in solution["tests"])


def test_reports_give_per_check_feedback_without_hidden_values(batch):
    _, out = batch
    report = json.loads((out / "reports" / "monkeypatch.json").read_text())
    assert report["score"] == 0 and report["max_score"] == sum(POINTS.values())
    checks = report["questions"]["conv1d_valid"]["check_results"]
    assert len(checks) == 28 and not any(c["passed"] for c in checks)
    public = [c for c in checks if c["public"]]
    hidden = [c for c in checks if not c["public"]]
    assert len(public) == 8 and len(hidden) == 20
    assert "largest difference" in public[0]["message"]
    assert all("largest difference" not in c["message"] for c in hidden)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["submissions"] == len(EXPECTED)
    assert sum(summary["statuses"].values()) == len(EXPECTED) * len(QUESTIONS)


FALLBACK = ("solution", "child_processes", "kill_parent", "kill_zygote", "os_exit",
            "memory_bomb", "fake_results")


def test_without_namespaces_the_same_verdicts_hold(tmp_path):
    """The plain-process sandbox (no PID/network namespaces, as on most hosted graders)."""
    results, _ = _grade(tmp_path, FALLBACK, isolation="none")
    for name in FALLBACK:
        assert _verdicts(results[name]) == EXPECTED[name], (name, results[name].notes)
    left = [p.info for p in psutil.process_iter(["pid", "cmdline"])
            if p.info["cmdline"] and SLEEP_MARK in p.info["cmdline"]]
    assert left == []


@pytest.mark.skipif(os.geteuid() == 0, reason="the grader runs as root here")
def test_a_grader_that_is_not_root_never_switches_users():
    import cnnlib.grading.sandbox as sandbox

    assert sandbox._sandbox_uid() is None


@pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs a grader run as root")
def test_a_root_grader_runs_sandboxes_as_nobody(tmp_path, monkeypatch):
    """As root, sandboxes become ``nobody`` once their guard is set (where Python is readable
    by all; here that check is bypassed, as everything a notebook needs is already loaded)."""
    import pwd

    import cnnlib.grading.sandbox as sandbox

    nobody = pwd.getpwnam("nobody").pw_uid
    monkeypatch.setattr(sandbox, "_sandbox_uid", lambda: nobody)
    secret = tmp_path / "grader-only"
    secret.mkdir(mode=0o700)
    (secret / "key.txt").write_text("hidden")
    text = ("# %% [solution]\n# %%\nimport os\nprint('uid', os.getuid())\n"
            f"for path in ({str(secret / 'key.txt')!r}, {str(secret / 'new.txt')!r}):\n"
            "    try:\n        open(path, 'a').close()\n        print('opened', path)\n"
            "    except OSError as err:\n        print('refused', type(err).__name__)\n")
    subs = tmp_path / "submissions"
    subs.mkdir()
    nb = _fixtures_module().notebook_from_cells(text)
    (subs / "as_nobody.ipynb").write_text(json.dumps(nb))
    (result,) = grade_folder("02_conv1d", subs, tmp_path / "out", jobs=1, limits=LIMITS,
                             progress=False)
    assert _verdicts(result) == full()
    assert f"uid {nobody}" in result.output
    # Refused, or (in a bubblewrap view) not even there.
    assert result.output.count("refused PermissionError") + \
        result.output.count("refused FileNotFoundError") == 2 and "opened" not in result.output
    assert not (secret / "new.txt").exists()
