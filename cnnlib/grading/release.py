"""``cnnlib-grade release``: one exercise as an assignment, for students and for Gradescope.

``release("02_conv1d", "out/")`` (or ``cnnlib-grade release 02 --out out/``, or
``make release EX=02``) writes::

    out/02_conv1d.ipynb          the student notebook, made from exercises/sources/ (as
                                 ``make student`` makes it)
    out/README.md                for students: how to open it, check answers, submit it
    out/02_conv1d_autograder.zip for Gradescope's "Autograder configuration"

The zip holds, at its top level, what Gradescope needs: ``setup.sh``, which Gradescope runs
once as root on its Ubuntu image (it installs Python, bubblewrap for the grader's sandboxes,
and cnnlib with the CPU build of PyTorch in ``/autograder/venv``), and ``run_autograder``,
which it runs for each submission: ``cnnlib-grade gradescope 02_conv1d`` grades the notebook
in ``/autograder/submission`` into ``/autograder/results/results.json``. With
``install="wheel"`` (the default) the zip also bundles a wheel of the cnnlib that made it, so
Gradescope grades with exactly that version; with ``install="git"`` setup.sh installs cnnlib
from the course repository (``repository.url`` in ``_config.yml``, or ``url``). Both scripts
read ``AUTOGRADER_ROOT`` (default ``/autograder``), which is how the tests run them in a
folder of their own.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from .authoring import dumps, student_notebook
from .question import Exercise, list_exercises, load_exercise

__all__ = ["AUTOGRADER_FILES", "TORCH_CPU_INDEX", "autograder_zip", "build_wheel", "release",
           "resolve_exercise", "student_readme"]

TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
"""Where setup.sh finds PyTorch's CPU build (Gradescope has no GPU; the CUDA build is GBs)."""
AUTOGRADER_FILES = ("setup.sh", "run_autograder")
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # fixed, so that the same inputs give the same zip
_CONFIG_URL = re.compile(r"^repository:[ \t]*(?:#.*)?\n(?:(?:[ \t]+.*|[ \t]*)\n)*?[ \t]+url:"
                         r"[ \t]*[\"']?([^\s\"'#]+)", re.MULTILINE)
_GIT_URL = re.compile(r"https://[A-Za-z0-9.-]+/[A-Za-z0-9._/-]+")


def resolve_exercise(name: str) -> str:
    """``"02"`` → ``"02_conv1d"``; a full name is returned as it is (checked later)."""
    if not isinstance(name, str):
        raise TypeError(f"exercise must be a str, got {type(name).__name__}")
    if re.fullmatch(r"\d\d", name):
        found = [e for e in list_exercises() if e.startswith(name + "_")]
        if len(found) != 1:
            raise ValueError(f"no exercise numbered {name}; known exercises: "
                             f"{', '.join(list_exercises())}")
        return found[0]
    return name


def _config_url(config: Path) -> str:
    try:
        text = config.read_text(encoding="utf-8")
    except OSError as err:
        raise ValueError(f"cannot read the repository URL from {config} "
                         f"({err.strerror or err}): pass --url") from err
    match = _CONFIG_URL.search(text)
    if not match:
        raise ValueError(f"{config} has no `url:` under `repository:`: pass --url")
    return match.group(1)


def _notebook(exercise: str, exercises_dir: Path) -> str:
    source = exercises_dir / "sources" / f"{exercise}.ipynb"
    if source.is_file():
        return dumps(student_notebook(json.loads(source.read_text(encoding="utf-8")),
                                      source.name))
    student = exercises_dir / f"{exercise}.ipynb"
    if student.is_file():
        return student.read_text(encoding="utf-8")
    raise ValueError(f"neither {source} nor {student} exists: run this in the course's "
                     "folder, or pass --exercises DIR")


def student_readme(ex: Exercise, notebook: str, url: str | None) -> str:
    """The students' README of the assignment folder."""
    rows = "\n".join(f"| `{q.name}` | {q.points:g} | {'yes' if q.from_scratch else ''} |"
                     for q in ex.questions)
    if url:
        install = (f'install the course\'s library once,\n\n  ```bash\n  pip install '
                   f'"cnnlib @ git+{url}"\n  ```\n\n  then open')
    else:
        install = ("install the course's library, `cnnlib`, from the course's repository, "
                   "then\n  open")
    return f"""# {ex.title} — graded exercise `{ex.name}`

This folder holds the exercise notebook, `{notebook}`. It has {len(ex.questions)} graded
questions, {ex.points:g} points in all:

| question | points | from scratch |
|---|---:|:---:|
{rows}

## Open it

- **On your computer**: {install} the notebook with `jupyter lab {notebook}` (or
  `jupyter notebook`).
- **In Google Colab**: open <https://colab.research.google.com>, choose *File → Upload
  notebook* and pick `{notebook}`. Its first cell installs the library.

## Answer and check

Each question is a function (or a value) with a fixed name. Write it in the cell that defines
it, in place of the `raise NotImplementedError` line, then run the `check("name")` line
below it: it runs the question's public checks at once and says what passed, or shows the
first case that fails with a hint. `check.summary()`, at the end, checks every question and
shows your points. When you are graded, hidden checks on new random inputs run as well: test
more than one case.

A question marked *from scratch* may not call a function that does the work for you (a
library's convolution, for instance): `check` says so when it sees one, and such an answer
scores 0. Define the helpers an answer needs at the top level of a cell.

## Submit

1. *Kernel → Restart and run all*: the grader runs the notebook from top to bottom in a fresh
   process, so it must run without your help. A cell that fails does not stop the others.
2. Save, and upload `{notebook}` (keep its name) to the assignment on Gradescope. The
   autograder runs it and shows your points, question by question, with what went wrong.
"""


def _setup_sh(install: str, wheel: str | None, url: str | None) -> str:
    if install == "wheel":
        target, apt_git = f'"./{wheel}"', ""
    else:
        target, apt_git = f'"cnnlib @ git+{url}"', " git"
    return f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu). It
# installs what `cnnlib-grade gradescope` needs: Python, bubblewrap for the grader's
# sandboxes, and cnnlib with PyTorch's CPU build in a virtual environment of its own.
set -euo pipefail
cd "$(dirname "$0")"
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-venv bubblewrap util-linux{apt_git}
python3 -m venv "$ROOT/venv"
PIP=("$ROOT/venv/bin/python" -m pip install --quiet)
"${{PIP[@]}}" --upgrade pip
"${{PIP[@]}}" --index-url {TORCH_CPU_INDEX} torch torchvision  # the CPU build: no GPU there
"${{PIP[@]}}" {target}
# Fails the build now, not a student's submission later, if the install is broken.
"$ROOT/venv/bin/python" -I -m cnnlib.grading.cli list >/dev/null
"""


def _run_autograder(exercise: str) -> str:
    return f"""#!/usr/bin/env bash
# Gradescope runs this for every submission: it grades the notebook in
# $ROOT/submission and writes $ROOT/results/results.json (ROOT is /autograder).
set -euo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
exec "$ROOT/venv/bin/python" -I -m cnnlib.grading.cli gradescope {exercise} --root "$ROOT"
"""


def _project_root() -> Path:
    """The source folder of the running cnnlib (with its pyproject.toml)."""
    import cnnlib

    root = Path(cnnlib.__file__).resolve().parents[1]
    if not (root / "pyproject.toml").is_file():
        raise ValueError("this cnnlib is not installed from its source folder, so no wheel "
                         "can be built from it: use --install git")
    return root


def build_wheel(out_dir: Path) -> Path:
    """A wheel of the running cnnlib, built from a copy of its sources (the checkout is left
    as it is); returns its path in ``out_dir``."""
    root = _project_root()
    with tempfile.TemporaryDirectory(prefix="cnnlib-wheel-") as tmp:
        copy = Path(tmp) / "src"
        copy.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (root / name).is_file():
                shutil.copy2(root / name, copy / name)
        shutil.copytree(root / "cnnlib", copy / "cnnlib",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                               "--no-build-isolation", "--wheel-dir", str(Path(tmp) / "dist"),
                               str(copy)], capture_output=True, text=True, check=False)
        wheels = sorted((Path(tmp) / "dist").glob("cnnlib-*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            raise RuntimeError(f"building the cnnlib wheel failed: {done.stderr[-2000:]}")
        out_dir.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(wheels[0], out_dir / wheels[0].name))


def _add(zf: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def autograder_zip(exercise: str, path: Path, *, install: str = "wheel",
                   url: str | None = None) -> Path:
    """Write Gradescope's autograder zip for ``exercise`` to ``path`` (see the module
    docstring)."""
    if install not in ("wheel", "git"):
        raise ValueError(f"install must be 'wheel' or 'git', got {install!r}")
    if install == "git" and not (url and _GIT_URL.fullmatch(url)):
        raise ValueError(f"install='git' needs the repository's https URL, got {url!r}")
    with tempfile.TemporaryDirectory(prefix="cnnlib-release-") as tmp:
        wheel = build_wheel(Path(tmp)) if install == "wheel" else None
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w") as zf:
            _add(zf, "setup.sh", _setup_sh(install, wheel and wheel.name, url).encode(), True)
            _add(zf, "run_autograder", _run_autograder(exercise).encode(), True)
            if wheel is not None:
                _add(zf, wheel.name, wheel.read_bytes())
    return path


def release(exercise: str, out_dir, *, exercises_dir="exercises", install: str = "wheel",
            url: str | None = None, config="_config.yml") -> list[Path]:
    """Write the assignment folder of ``exercise`` (a name, or its two-digit number) into
    ``out_dir``; return the paths written. ``url``: the course repository (default: the
    ``repository.url`` of ``config``, when that file exists)."""
    ex = load_exercise(resolve_exercise(exercise))
    if url is None and (install == "git" or Path(config).is_file()):
        url = _config_url(Path(config))
    notebook = _notebook(ex.name, Path(exercises_dir))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    nb_path = out / f"{ex.name}.ipynb"
    nb_path.write_text(notebook, encoding="utf-8")
    readme = out / "README.md"
    readme.write_text(student_readme(ex, nb_path.name, url), encoding="utf-8")
    zip_path = autograder_zip(ex.name, out / f"{ex.name}_autograder.zip", install=install,
                              url=url)
    return [nb_path, readme, zip_path]
