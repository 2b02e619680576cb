"""``cnnlib-grade release``: the assignment folder, and its autograder run in Gradescope's layout.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` there once, then for
each submission copies ``run_autograder`` to ``/autograder/run_autograder`` and runs it, the
submission in ``/autograder/submission``; it reads ``/autograder/results/results.json``. Here
that root is a temporary folder (``AUTOGRADER_ROOT``). ``setup.sh`` runs for real with
``apt-get`` and ``python3`` replaced by commands that record what they are asked to do (no
network here); the environment it would make, cnnlib from the bundled wheel on top of
PyTorch, is then made from that very wheel, and ``run_autograder`` grades with it.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from cnnlib.grading.cli import main
from cnnlib.grading.question import load_exercise
from cnnlib.grading.release import TORCH_CPU_INDEX, resolve_exercise

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"
SOURCE = EXERCISES / "sources" / "02_conv1d.ipynb"
STUDENT = EXERCISES / "02_conv1d.ipynb"
CONFIG = ROOT / "_config.yml"
URL = re.search(r"^repository:\n(?: .*\n)*? +url: *(\S+)", CONFIG.read_text(), re.M).group(1)
EXERCISE = load_exercise("02_conv1d")


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "assignment"
    assert main(["release", "02", "--out", str(out), "--exercises", str(EXERCISES),
                 "--config", str(CONFIG)]) == 0
    return out


def test_the_folder_holds_the_student_notebook_its_readme_and_the_zip(released):
    assert sorted(p.name for p in released.iterdir()) == [
        "02_conv1d.ipynb", "02_conv1d_autograder.zip", "README.md"]
    # the notebook is the student version, as `make student` writes it
    assert (released / "02_conv1d.ipynb").read_text() == STUDENT.read_text()
    readme = (released / "README.md").read_text()
    for needed in ('check("name")', "check.summary()", "Restart and run all", "Gradescope",
                   "`02_conv1d.ipynb`", f'pip install "cnnlib @ git+{URL}"',
                   *(f"| `{q.name}` | {q.points:g} |" for q in EXERCISE.questions)):
        assert needed in readme, needed
    assert "BEGIN SOLUTION" not in (released / "02_conv1d.ipynb").read_text()


def test_the_zip_has_gradescopes_two_scripts_at_its_top_executable(released):
    with zipfile.ZipFile(released / "02_conv1d_autograder.zip") as zf:
        infos = {i.filename: i for i in zf.infolist()}
    assert set(infos) == {"setup.sh", "run_autograder", "cnnlib-0.1.0-py3-none-any.whl"}
    for name in ("setup.sh", "run_autograder"):
        assert infos[name].external_attr >> 16 & 0o111, f"{name} is not executable"


def unpack(released: Path, root: Path) -> Path:
    source = root / "source"
    with zipfile.ZipFile(released / "02_conv1d_autograder.zip") as zf:
        zf.extractall(source)
        for info in zf.infolist():  # extractall drops the modes; Gradescope's unzip keeps them
            os.chmod(source / info.filename, info.external_attr >> 16 & 0o777)
    return source


RECORDER = """#!/bin/sh
echo "$(basename "$0") $*" >> "{log}"
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin" && cp "$0" "$3/bin/python"
fi
"""


def test_setup_sh_installs_bubblewrap_python_and_the_bundled_wheel(released, tmp_path):
    root = tmp_path / "autograder"
    source = unpack(released, root)
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    log = tmp_path / "log"
    for name in ("apt-get", "python3"):
        (fake / name).write_text(RECORDER.format(log=log))
        (fake / name).chmod(0o755)
    done = subprocess.run(["bash", str(source / "setup.sh")], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60, env={"PATH": f"{fake}:/usr/bin:/bin",
                                                         "AUTOGRADER_ROOT": str(root)})
    assert done.returncode == 0, done.stderr
    lines = log.read_text().splitlines()
    assert lines[0] == "apt-get update -qq"
    assert lines[1].startswith("apt-get install -y -qq ")
    assert {"python3", "python3-venv", "bubblewrap"} <= set(lines[1].split())
    assert lines[2] == f"python3 -m venv {root}/venv"
    pip = "python -m pip install --quiet"
    assert lines[3:] == [f"{pip} --upgrade pip",
                         f"{pip} --index-url {TORCH_CPU_INDEX} torch torchvision",
                         f"{pip} ./cnnlib-0.1.0-py3-none-any.whl",
                         "python -I -m cnnlib.grading.cli list"]
    assert (source / "cnnlib-0.1.0-py3-none-any.whl").is_file()  # "./" is the source folder


def environment_from_the_wheel(source: Path, root: Path) -> None:
    """What setup.sh makes, without a network: a virtual environment in ``$ROOT/venv`` with
    the bundled wheel installed, which finds PyTorch and the other dependencies in this
    machine's environment (a ``.pth`` line: the development copy of cnnlib there, installed
    by a finder that only that environment's own ``.pth`` files load, stays out of it)."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--no-index", "--target", str(site),
                           str(source / "cnnlib-0.1.0-py3-none-any.whl")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    here = sysconfig.get_paths()["purelib"]
    (site / "dependencies.pth").write_text(here + "\n")


def run_autograder(root: Path, notebook: Path) -> dict:
    shutil.rmtree(root / "submission", ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    (root / "submission").mkdir()
    (root / "results").mkdir()
    shutil.copy(notebook, root / "submission" / "02_conv1d.ipynb")
    done = subprocess.run([str(root / "run_autograder")], capture_output=True, text=True,
                          timeout=300, env={"PATH": "/usr/bin:/bin",
                                            "AUTOGRADER_ROOT": str(root),
                                            **({"CNNLIB_DATA": os.environ["CNNLIB_DATA"]}
                                               if "CNNLIB_DATA" in os.environ else {})})
    assert done.returncode == 0, done.stderr
    assert "reproduce with: cnnlib-grade gradescope 02_conv1d --root" in done.stdout
    return json.loads((root / "results" / "results.json").read_text())


def check_schema(doc: dict) -> None:
    """Gradescope's results.json: a score, and tests with name, score, max_score, output."""
    assert isinstance(doc["score"], int | float)
    assert [t["name"].split()[0] for t in doc["tests"]] == [q.name for q in EXERCISE.questions]
    for t, q in zip(doc["tests"], EXERCISE.questions, strict=True):
        assert isinstance(t["name"], str) and isinstance(t["output"], str) and t["output"]
        assert isinstance(t["score"], int | float) and t["max_score"] == q.points
    assert doc["score"] == pytest.approx(sum(t["score"] for t in doc["tests"]))


def test_run_autograder_grades_in_gradescopes_layout(released, tmp_path):
    root = tmp_path / "autograder"
    source = unpack(released, root)
    environment_from_the_wheel(source, root)
    where = subprocess.run([str(root / "venv" / "bin" / "python"), "-I", "-c",
                            "import cnnlib; print(cnnlib.__file__)"],
                           capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(root / "venv" / "lib"))  # it grades with the wheel's cnnlib
    shutil.copy(source / "run_autograder", root / "run_autograder")  # as Gradescope does
    full = run_autograder(root, SOURCE)
    check_schema(full)
    assert full["score"] == EXERCISE.points
    assert all(t["score"] == t["max_score"] for t in full["tests"])
    zero = run_autograder(root, STUDENT)
    check_schema(zero)
    assert zero["score"] == 0 and all(t["score"] == 0 for t in zero["tests"])
    assert all(t["output"].startswith("[missing]") for t in zero["tests"])


def test_make_release_runs_the_command(tmp_path):
    done = subprocess.run(["make", "-n", "-s", "-C", str(ROOT), "release", "EX=02"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert ".venv/bin/cnnlib-grade release 02 --out _build/release/02" in done.stdout
    done = subprocess.run(["make", "-n", "-s", "-C", str(ROOT), "release", "EX=02",
                           f"OUT={tmp_path}"], capture_output=True, text=True, timeout=60)
    assert f"cnnlib-grade release 02 --out {tmp_path}" in done.stdout


def test_the_exercise_by_number_or_name_and_clear_errors(tmp_path, capsys):
    assert resolve_exercise("02") == "02_conv1d" == resolve_exercise("02_conv1d")
    assert main(["release", "42", "--out", str(tmp_path)]) == 2
    assert "no exercise numbered 42" in capsys.readouterr().err
    assert main(["release", "02", "--out", str(tmp_path / "o"), "--exercises",
                 str(tmp_path), "--config", str(CONFIG)]) == 2
    assert "pass --exercises DIR" in capsys.readouterr().err
    assert main(["release", "02", "--out", str(tmp_path / "o"), "--install", "git",
                 "--config", str(tmp_path / "absent.yml")]) == 2
    assert "pass --url" in capsys.readouterr().err
