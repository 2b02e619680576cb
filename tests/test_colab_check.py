"""The Colab check's parts (scripts/colab_check.py; the check itself is ``make colab``), and
cnnlib's install requirements against Colab's versions (colab/constraints.txt)."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import stat
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("colab_check", ROOT / "scripts" / "colab_check.py")
colab_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(colab_check)

COLAB = colab_check.read_constraints()
DEPENDENCIES = [Requirement(r) for r in tomllib.loads(
    (ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]]


# -- cnnlib's requirements -----------------------------------------------------------------------
@pytest.mark.parametrize("req", DEPENDENCIES, ids=lambda r: r.name)
def test_cnnlib_admits_colab_s_version_and_claims_nothing_older(req):
    """On Colab the setup cell must install cnnlib and nothing else: every requirement admits
    Colab's version. Its lower bound is that version (local label aside): older ones are not
    tested anywhere."""
    colab = COLAB[colab_check.canonical(req.name)]
    assert req.specifier.contains(colab, prereleases=True), (req, colab)
    lower = [s.version for s in req.specifier if s.operator == ">="]
    assert len(lower) == 1, req
    assert Version(lower[0]) == Version(Version(colab).public), (req, colab)


def test_the_project_venv_satisfies_cnnlib_s_requirements_too():
    for req in DEPENDENCIES:
        assert req.specifier.contains(metadata.version(req.name), prereleases=True), req


def test_the_constraints_name_their_source_date_and_python():
    text = colab_check.CONSTRAINTS.read_text(encoding="utf-8")
    assert "https://github.com/googlecolab/backend-info" in text
    assert re.search(r"commit [0-9a-f]{7,40} of \d{4}-\d{2}-\d{2}", text)
    assert re.fullmatch(r"3\.\d+\.\d+", colab_check.colab_python())
    # everything the venv installs is pinned by them
    for name in (*colab_check.PACKAGES, *colab_check.COURSE_OWN, "pip", "traitlets"):
        assert colab_check.canonical(name) in COLAB, name


def test_read_constraints_refuses_a_line_that_is_not_a_pin(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("# a comment\nnumpy==2.1.3  # trailing\nTyping_Extensions==4.16.0\n")
    assert colab_check.read_constraints(path) == {"numpy": "2.1.3",
                                                  "typing-extensions": "4.16.0"}
    path.write_text("numpy>=2\n")
    with pytest.raises(colab_check.CheckError, match="not a name==version line"):
        colab_check.read_constraints(path)


# -- the venv's constraints ----------------------------------------------------------------------
def test_a_colab_pin_the_course_s_torch_excludes_is_freed_and_named():
    python = ".".join(map(str, sys.version_info[:3]))
    torch_reqs = [r for r in colab_check._requirements("torch", python) if r.specifier]
    assert torch_reqs  # torch pins some of its requirements
    excluded = torch_reqs[0]
    name = colab_check.canonical(excluded.name)
    pins = {name: "0.0.1", "numpy": "2.1.3", "torch": "2.11.0+cpu"}
    freed = colab_check.freed_pins(pins, python)
    assert list(freed) == [name]
    assert f"torch {metadata.version('torch')} needs {excluded.name}" in freed[name]
    assert "Colab has 0.0.1" in freed[name]
    constraints = colab_check.venv_constraints(pins, freed)
    assert constraints == "numpy==2.1.3\n"  # torch is the course's own, the freed pin is gone


def test_course_versions_are_the_project_venv_s_torch_and_torchvision():
    assert colab_check.course_versions() == {
        n: metadata.version(n).split("+")[0] for n in ("torch", "torchvision")}


def _fake_python(path: Path, version: str) -> None:
    path.parent.mkdir(parents=True)
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_find_python_takes_the_newest_pyenv_install_of_colab_s_minor(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("COLAB_PYTHON", raising=False)
    for version in ("3.13.2", "3.13.10", "3.12.9"):
        _fake_python(tmp_path / "versions" / version / "bin" / f"python{version[:4]}", version)
    path, version, matches = colab_check.find_python("3.13", pyenv_root=tmp_path)
    assert (version, matches) == ("3.13.10", True)
    assert path == str(tmp_path / "versions" / "3.13.10" / "bin" / "python3.13")
    # $COLAB_PYTHON comes first
    _fake_python(tmp_path / "mine" / "python", "3.13.15")
    monkeypatch.setenv("COLAB_PYTHON", str(tmp_path / "mine" / "python"))
    assert colab_check.find_python("3.13", pyenv_root=tmp_path)[1] == "3.13.15"


def test_find_python_without_colab_s_minor_says_it_ran_another(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("COLAB_PYTHON", raising=False)
    path, version, matches = colab_check.find_python("3.99", pyenv_root=tmp_path)
    assert (path, matches) == (sys.executable, False)
    assert version == ".".join(map(str, sys.version_info[:3]))


# -- the notebooks -------------------------------------------------------------------------------
def test_every_notebook_of_the_book_is_checked():
    names = colab_check.notebooks()
    for folder in ("chapters", "exercises", "exercises/sources", "reference"):
        on_disk = sorted(f"{folder}/{p.name}" for p in (ROOT / folder).glob("*.ipynb"))
        assert on_disk and set(on_disk) <= set(names), folder
    assert colab_check.notebooks("02_conv1d") == [
        "chapters/02_conv1d.ipynb", "exercises/02_conv1d.ipynb",
        "exercises/sources/02_conv1d.ipynb"]


@pytest.mark.parametrize("name", colab_check.notebooks())
def test_the_setup_cell_is_the_only_edit(name):
    nb = json.loads((ROOT / name).read_text(encoding="utf-8"))
    edited = copy.deepcopy(nb)
    wheel = "cnnlib @ file:///tmp/dist/cnnlib-0.1.0-py3-none-any.whl"
    index = colab_check.point_setup_cell_at(edited, wheel)
    assert index == next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code")
    before, after = "".join(nb["cells"][index]["source"]), edited["cells"][index]["source"]
    assert re.sub(r'"cnnlib @ git\+[^"]*"', f'"{wheel}"', before) == after != before
    assert f'%pip install --quiet "{wheel}"' in after
    edited["cells"][index]["source"] = nb["cells"][index]["source"]
    assert edited == nb


def test_a_notebook_without_one_setup_spec_is_refused():
    nb = {"cells": [{"cell_type": "code", "metadata": {"tags": ["setup"]},
                     "source": "import cnnlib\n"}]}
    with pytest.raises(colab_check.CheckError, match="holds 0"):
        colab_check.point_setup_cell_at(nb, "cnnlib @ file:///x.whl")
    nb["cells"][0]["metadata"]["tags"] = []
    with pytest.raises(colab_check.CheckError, match="0 code cells are tagged 'setup'"):
        colab_check.point_setup_cell_at(nb, "cnnlib @ file:///x.whl")


def test_freeze_changes_name_each_difference():
    before = {"numpy": "numpy==2.1.3", "ipywidgets": "ipywidgets==7.7.1", "old": "old==1"}
    after = {"numpy": "numpy==2.1.3", "ipywidgets": "ipywidgets==8.1.9",
             "cnnlib": "cnnlib @ file:///x.whl"}
    assert colab_check.freeze_changes(before, after) == [
        "added cnnlib @ file:///x.whl", "ipywidgets==7.7.1 → ipywidgets==8.1.9",
        "removed old==1"]
    assert colab_check.freeze_changes(before, before) == []


def test_the_kernel_sees_no_static_flag_and_a_fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLIB_STATIC", "1")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    env = colab_check.kernel_env(tmp_path / "venv", "/data", tmp_path / "models", 1)
    assert "CNNLIB_STATIC" not in env and "PYTHONPATH" not in env
    assert env["CNNLIB_DATA"] == "/data" and env["CNNLIB_CACHE"] == str(tmp_path / "models")
    assert env["PATH"].split(os.pathsep)[0] == str(tmp_path / "venv" / "bin")
    assert env["OMP_NUM_THREADS"] == "1"


def _exercise_nb(verdicts: list[str], summary: str) -> dict:
    cells = [{"cell_type": "code", "source": f'check("q{i}")',
              "outputs": [{"output_type": "stream", "name": "stdout", "text": v + "\n"}]}
             for i, v in enumerate(verdicts)]
    cells.append({"cell_type": "code", "source": "check.summary()",
                  "outputs": [{"output_type": "stream", "name": "stdout", "text": summary}]})
    return {"cells": cells}


def test_exercise_verdicts_must_match_the_version_run():
    student = _exercise_nb(["… q0 is not written yet", "… q1 is not written yet"],
                           "Exercise\n  0 of 2 questions pass their public checks; 5 points.")
    solved = _exercise_nb(["✓ q0: all 8 public checks passed.", "✓ q1: all 3 passed."],
                          "Exercise\n  2 of 2 questions pass their public checks; 5 points.")
    assert colab_check.exercise_problems(student, 2, solutions=False) == []
    assert colab_check.exercise_problems(solved, 2, solutions=True) == []
    problems = colab_check.exercise_problems(student, 2, solutions=True)
    assert len(problems) == 3 and "expected 2 of 2 questions to pass" in problems[-1]
    half = _exercise_nb(["✓ q0: passed", "✗ q1: expected 3, got 4"],
                        "  1 of 2 questions pass their public checks")
    assert [p.split(" (")[0] for p in colab_check.exercise_problems(half, 2, True)] == [
        "cell 1", "check.summary()"]


def test_the_probe_refuses_a_cnnlib_from_the_repository(tmp_path):
    venv = tmp_path / "venv"
    inside = venv / "lib" / "python3.13" / "site-packages" / "cnnlib" / "__init__.py"
    assert colab_check.probe_problems({"cnnlib": str(inside), "static": False}, venv) == []
    outside = ROOT / "cnnlib" / "__init__.py"
    problems = colab_check.probe_problems({"cnnlib": str(outside), "static": True}, venv)
    assert len(problems) == 2 and "not from the wheel" in problems[0]
    assert "CNNLIB_STATIC" in problems[1]


def test_make_colab_runs_the_check():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^colab: setup\n\t\$\(BIN\)/python scripts/colab_check\.py",
                     makefile, re.MULTILINE)
    assert re.search(r"^\.PHONY:.*\bcolab\b", makefile, re.MULTILINE)
    assert "make colab" in makefile


def test_short_polls_catch_a_missed_wake_up_and_keep_the_timeout():
    import asyncio
    from queue import Empty

    class Channel:
        """A socket whose message is there from the start but whose first poll, of whatever
        length, sleeps through it (a missed wake-up)."""

        def __init__(self, message):
            self.message, self.polls = message, []

        async def get_msg(self, timeout=None):
            self.polls.append(timeout)
            if len(self.polls) == 1 or self.message is None:
                await asyncio.sleep(timeout)
                raise Empty
            return self.message

    ready = Channel({"msg_id": "reply"})
    colab_check._short_polls(ready)
    assert asyncio.run(ready.get_msg(timeout=600)) == {"msg_id": "reply"}
    assert ready.polls == [1.0, 1.0]  # found on the second poll, a second later
    silent = Channel(None)
    colab_check._short_polls(silent)
    with pytest.raises(Empty):
        asyncio.run(silent.get_msg(timeout=2.5))
    assert silent.polls[:2] == [1.0, 1.0] and 0 <= silent.polls[2] <= 0.5 + 1e-6
