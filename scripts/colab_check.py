"""The Colab check (``make colab``): every notebook runs as in a fresh Colab runtime.

1. **A venv of Colab's packages.** Python 3.13, Colab's minor version (``$COLAB_PYTHON``, else
   ``python3.13`` on the PATH, else a pyenv install; without one it says loudly which Python
   ran), with every package at its version in ``colab/constraints.txt`` (Colab's published
   list), except torch and torchvision: the course's own versions (those of the project's
   venv), since a second torch would be another download of up to several GB; a Colab pin
   that the course's torch or torchvision itself excludes is left free and named. Built once under
   ``_build/colab/base``, reused while its inputs do not change.
2. **A wheel of the repository** (``pip wheel --no-deps``), built from a copy of cnnlib/,
   pyproject.toml and README.md.
3. **Every notebook** of chapters/, exercises/ (the student versions), exercises/sources/ (the
   reference solutions) and reference/, each copied alone into an empty folder, its setup
   cell's pip spec pointed at the wheel instead of the git URL (the only edit), executed with
   nbclient in a kernel of that venv: ``CNNLIB_DATA`` set (MNIST offline), ``CNNLIB_STATIC``
   unset (live widgets, as on Colab), an empty ``CNNLIB_CACHE`` (as on a fresh runtime), and
   cnnlib not installed until the setup cell installs it. ``pip freeze --all`` before and
   after the setup cell may differ by cnnlib alone. In the exercises every ``check(...)``
   prints its verdict: nothing passes yet in the student versions, everything in the
   reference solutions, and ``check.summary()`` says so.
4. **pytest against the installed wheel**: pytest (Colab's version) joins the venv after the
   notebooks, then runs :data:`WHEEL_TESTS` with ``--noconftest`` from an empty folder.

Notebooks run side by side, one per core (``--jobs``), each in its own hard-linked copy of
the venv, so that one's setup cell never shows in another's ``pip freeze``. Each executed
notebook is kept as ``_build/colab/runs/<notebook>/executed.ipynb``.

Usage: ``python scripts/colab_check.py [--jobs N] [--only TEXT] [--rebuild]``, from the
project's venv (it needs nbclient and cnnlib's grading package).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "colab" / "constraints.txt"
BUILD = ROOT / "_build" / "colab"
NOTEBOOK_DIRS = ("chapters", "exercises", "exercises/sources", "reference")
#: Installed into the venv (at Colab's versions); the course's torch and torchvision join them.
PACKAGES = ("numpy", "matplotlib", "ipywidgets", "widgetsnbextension", "ipython", "ipykernel",
            "jupyter-client", "psutil", "tqdm")
COURSE_OWN = ("torch", "torchvision")
#: Imported once in the new venv, so that their modules are compiled there.
WARM_UP = ("torch", "torch.nn.functional", "torchvision.datasets", "torchvision.transforms",
           "numpy", "matplotlib.pyplot", "matplotlib_inline.backend_inline", "IPython",
           "ipykernel.kernelapp", "ipykernel.ipkernel", "ipywidgets", "tqdm.auto", "psutil")
#: Run by pytest in the venv, against the installed wheel (a test file not written yet is
#: skipped by name in the output).
WHEEL_TESTS = ("tests/test_colab_mnist_download.py", "tests/test_explorers_live.py")
#: The versions the summary prints, beside Colab's.
REPORTED = ("torch", "torchvision", "numpy", "matplotlib", "ipywidgets", "widgetsnbextension",
            "ipython", "ipykernel", "jupyter-client", "traitlets", "psutil", "tqdm", "pip")
#: What the kernel must not inherit from the shell that runs the check.
DROP_ENV = ("CNNLIB_STATIC", "CNNLIB_GRADING_CHILD", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV",
            "MPLBACKEND", "JUPYTER_PATH", "PYTEST_XDIST_WORKER", "PYTEST_CURRENT_TEST")
KERNEL = "colab-check"
SETUP_SPEC = re.compile(r'"cnnlib @ git\+[^"]*"')
CHECK_CELL = re.compile(r'^check\("(\w+)"\)\s*$')
SUMMARY = re.compile(r"(\d+) of (\d+) questions pass their public checks")
CELL_TIMEOUT = 600      # seconds a cell may run
NOTEBOOK_TIMEOUT = 1500  # seconds a whole notebook may take, kernel start and pip included
VENV_LAYOUT = 2          # bump when the way the venv is built changes


class CheckError(Exception):
    """The check found something wrong; the message says what and where."""


def canonical(name: str) -> str:
    """A distribution's name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


# -- Colab's versions ----------------------------------------------------------------------------
def read_constraints(path: Path = CONSTRAINTS) -> dict[str, str]:
    """``{canonical name: version}`` of every ``name==version`` line of a constraints file."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            if not sep:
                raise CheckError(f"{path}: {line!r} is not a name==version line")
            pins[canonical(name)] = version.strip()
    return pins


def colab_python(path: Path = CONSTRAINTS) -> str:
    """Colab's Python version, from the constraints file's ``# Colab's Python: X.Y.Z`` line."""
    found = re.search(r"^# Colab's Python: (\d+\.\d+\.\d+)", path.read_text(encoding="utf-8"),
                      re.MULTILINE)
    if not found:
        raise CheckError(f"{path} does not say which Python Colab runs "
                         "(a line \"# Colab's Python: X.Y.Z\")")
    return found.group(1)


def course_versions() -> dict[str, str]:
    """The course's own torch and torchvision: the release installed in this venv."""
    return {name: metadata.version(name).split("+")[0] for name in COURSE_OWN}


def _requirements(name: str, python: str) -> list:
    from packaging.requirements import Requirement

    env = {"python_version": ".".join(python.split(".")[:2]), "python_full_version": python,
           "extra": ""}
    reqs = [Requirement(r) for r in metadata.requires(name) or []]
    return [r for r in reqs if r.marker is None or r.marker.evaluate(env)]


def freed_pins(pins: dict[str, str], python: str) -> dict[str, str]:
    """The Colab pins that the course's torch or torchvision exclude: ``{name: why}``."""
    freed = {}
    for owner in COURSE_OWN:
        for req in _requirements(owner, python):
            name = canonical(req.name)
            if name in pins and name not in COURSE_OWN and \
                    not req.specifier.contains(pins[name], prereleases=True):
                freed[name] = (f"{owner} {metadata.version(owner)} needs {req.name}"
                               f"{req.specifier}; Colab has {pins[name]}")
    return freed


def venv_constraints(pins: dict[str, str], freed: dict[str, str]) -> str:
    """The constraints the venv is built with: Colab's, less the course's own and the freed."""
    kept = [f"{name}=={v}" for name, v in pins.items() if name not in COURSE_OWN
            and name not in freed]
    return "\n".join(kept) + "\n"


# -- the venv ------------------------------------------------------------------------------------
def interpreter_version(python: str) -> str | None:
    """``X.Y.Z`` of the interpreter at ``python``, or None when it does not run."""
    try:
        out = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip() or None


def _release(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text))


def find_python(minor: str, pyenv_root: Path | None = None) -> tuple[str, str, bool]:
    """``(path, version, matches)``: a Python ``minor`` (``"3.13"``) from ``$COLAB_PYTHON``,
    ``python<minor>`` on the PATH or ``<pyenv root>/versions/<minor>.*``; else this one."""
    root = pyenv_root or Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    pyenv = sorted(root.glob(f"versions/{minor}.*/bin/python{minor}"),
                   key=lambda p: _release(p.parents[1].name), reverse=True)
    for candidate in (os.environ.get("COLAB_PYTHON"), shutil.which(f"python{minor}"), *pyenv):
        if candidate:
            version = interpreter_version(str(candidate))
            if version and version.startswith(f"{minor}."):
                return str(candidate), version, True
    return sys.executable, ".".join(map(str, sys.version_info[:3])), False


def _pip(python: Path | str, *args: str, log: Path | None = None) -> str:
    cmd = [str(python), "-m", "pip", "--disable-pip-version-check", *args]
    done = subprocess.run(cmd, capture_output=True, text=True)
    text = done.stdout + done.stderr
    if log is not None:
        with log.open("a", encoding="utf-8") as f:
            f.write(f"$ {' '.join(cmd)}\n{text}\n")
    if done.returncode != 0:
        noise = "WARNING: Location"  # this machine's local mirrors, harmless
        tail = "\n".join([ln for ln in text.splitlines() if noise not in ln][-25:])
        raise CheckError(f"pip {' '.join(args[:2])} failed (exit {done.returncode}):\n{tail}")
    return done.stdout


def build_venv(python: str, constraints: str, course: dict[str, str], pins: dict[str, str],
               rebuild: bool = False) -> tuple[Path, bool]:
    """The venv of Colab's versions at ``_build/colab/base``; ``(path, built_now)``."""
    base = BUILD / "base"
    key = hashlib.sha256(json.dumps({
        "python": [python, interpreter_version(python)], "constraints": constraints,
        "course": course, "packages": PACKAGES, "layout": VENV_LAYOUT,
        "index": [os.environ.get(k, "") for k in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL")],
    }, sort_keys=True).encode()).hexdigest()
    stamp = base / ".colab-check-key"
    if not rebuild and stamp.exists() and stamp.read_text() == key and \
            (base / "bin" / "python").exists():
        return base, False
    shutil.rmtree(base, ignore_errors=True)
    BUILD.mkdir(parents=True, exist_ok=True)
    log = BUILD / "install.log"
    log.write_text("", encoding="utf-8")
    subprocess.run([python, "-m", "venv", str(base)], check=True)
    (BUILD / "constraints.txt").write_text(constraints, encoding="utf-8")
    py = base / "bin" / "python"
    if "pip" in pins:  # Colab's pip resolves the setup cell's install
        _pip(py, "install", "--quiet", f"pip=={pins['pip']}", log=log)
    # Compiling every module of torch's thousands takes longer than installing them: only
    # those a kernel imports are compiled, once, here (the notebooks' copies share them).
    _pip(py, "install", "--quiet", "--no-compile", "-c", str(BUILD / "constraints.txt"),
         *(f"{n}=={v}" for n, v in course.items()), *PACKAGES, log=log)
    subprocess.run([str(py), "-c", f"import {', '.join(WARM_UP)}"], check=True,
                   capture_output=True)
    stamp.write_text(key)
    return base, True


def freeze(python: Path | str) -> dict[str, str]:
    """``pip freeze --all`` of a venv: ``{canonical name: line}``."""
    lines = _pip(python, "freeze", "--all").splitlines()
    return {canonical(re.split(r"[=@ ]", ln, maxsplit=1)[0]): ln.strip()
            for ln in lines if ln.strip() and not ln.startswith("#")}


def freeze_changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """What changed between two freezes, one line each (``added``, ``removed``, ``a → b``)."""
    changes = []
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if old is None:
            changes.append(f"added {new}")
        elif new is None:
            changes.append(f"removed {old}")
        else:
            changes.append(f"{old} → {new}")
    return changes


def build_wheel(out: Path) -> Path:
    """A wheel of cnnlib from the working tree (a copy of cnnlib/, pyproject.toml, README.md,
    so that the build leaves nothing in the repository)."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="cnnlib-wheel-") as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(ROOT / "cnnlib", src / "cnnlib",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(ROOT / name, src / name)
        _pip(sys.executable, "wheel", "--quiet", "--no-deps", "--no-build-isolation",
             "--wheel-dir", str(out), str(src))
    wheels = sorted(out.glob("cnnlib-*.whl"))
    if len(wheels) != 1:
        raise CheckError(f"pip wheel made {len(wheels)} cnnlib wheels in {out}, not one")
    return wheels[0]


# -- one notebook --------------------------------------------------------------------------------
def point_setup_cell_at(nb: dict, requirement: str) -> int:
    """Point the notebook's setup cell (tagged ``setup``) at ``requirement`` instead of the git
    URL; the cell's index. Nothing else changes."""
    setup = [i for i, c in enumerate(nb["cells"])
             if c["cell_type"] == "code" and "setup" in c.get("metadata", {}).get("tags", [])]
    if len(setup) != 1:
        raise CheckError(f"{len(setup)} code cells are tagged 'setup', not one")
    cell = nb["cells"][setup[0]]
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    new, count = SETUP_SPEC.subn(lambda _: f'"{requirement}"', source)
    if count != 1:
        raise CheckError(f"the setup cell (cell {setup[0]}) holds {count} "
                         "'\"cnnlib @ git+...\"' specs, not one")
    cell["source"] = new
    return setup[0]


def kernel_env(venv: Path, data: str, cache: Path, threads: int) -> dict[str, str]:
    """The kernel's environment: this one, less :data:`DROP_ENV`, with the venv first on the
    PATH, the offline data, a fresh model cache and ``threads`` threads per kernel."""
    env = {k: v for k, v in os.environ.items() if k not in DROP_ENV}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", CNNLIB_DATA=data,
               CNNLIB_CACHE=str(cache), OMP_NUM_THREADS=str(threads))
    return env


def write_kernelspec(folder: Path, venv: Path) -> Path:
    """A kernelspec that starts the venv's own Python; the folder to put on JUPYTER_PATH."""
    spec = folder / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [str(venv / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps(
        {"argv": argv, "display_name": "Python 3 (Colab check)", "language": "python"}))
    return folder


PROBE = """\
import json, sys
import IPython, ipykernel, ipywidgets, cnnlib
from cnnlib.env import is_static
print(json.dumps({"cnnlib": cnnlib.__file__, "python": sys.version.split()[0],
                  "prefix": sys.prefix, "IPython": IPython.__version__,
                  "ipykernel": ipykernel.__version__, "ipywidgets": ipywidgets.__version__,
                  "static": is_static()}))
"""


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream")


def probe_problems(probe: dict, venv: Path) -> list[str]:
    """What is wrong with the kernel the notebook ran in (its cnnlib, its widgets mode)."""
    problems = []
    cnnlib_file = Path(probe["cnnlib"]).resolve()
    if not cnnlib_file.is_relative_to(venv.resolve()) or "site-packages" not in cnnlib_file.parts:
        problems.append(f"the kernel imported cnnlib from {cnnlib_file}, not from the wheel "
                        f"installed in {venv}")
    if probe["static"]:
        problems.append("cnnlib saw CNNLIB_STATIC: its explorers were static, not live")
    return problems


def exercise_problems(nb: dict, questions: int, solutions: bool) -> list[str]:
    """What is wrong with the verdicts an executed exercise notebook printed: each
    ``check("q")`` prints one, which says "✓" in the reference solutions and "…" (not written
    yet) in the student version; ``check.summary()`` counts all (or none) of the exercise's
    ``questions``."""
    mark, want = ("✓", questions) if solutions else ("…", 0)
    problems, summaries = [], []
    for i, cell in enumerate(nb["cells"]):
        source = "".join(cell["source"]).strip() if cell["cell_type"] == "code" else ""
        if CHECK_CELL.match(source):
            text = _text(cell)
            if not text.startswith(mark):
                problems.append(f"cell {i} ({source}) printed {text.strip()[:200]!r}; "
                                f"expected a verdict starting with {mark!r}")
        elif source.endswith("check.summary()"):
            summaries.append((i, _text(cell)))
    if len(summaries) != 1:
        return [*problems, f"{len(summaries)} cells call check.summary(), not one"]
    i, text = summaries[0]
    found = SUMMARY.search(text)
    if not found or (int(found.group(1)), int(found.group(2))) != (want, questions):
        problems.append(f"check.summary() (cell {i}) printed {text.strip()[-200:]!r}; expected "
                        f"{want} of {questions} questions to pass")
    return problems


def _cell_error(err: Exception, nb: dict, index: int) -> str:
    first = "".join(nb["cells"][index]["source"]).strip().splitlines() or [""]
    name = getattr(err, "ename", type(err).__name__)
    value = getattr(err, "evalue", str(err).strip().splitlines()[-1:] or "")
    return f"cell {index} ({first[0][:70]!r}): {name}: {value}"


def _execute(client, nb: dict, setup_index: int, venv: Path) -> tuple[list[str], dict]:
    """Run every code cell, freezing around the setup cell, then the probe; (changes, probe)."""
    import nbformat

    changes: list[str] = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        before = freeze(venv / "bin" / "python") if index == setup_index else None
        try:
            client.execute_cell(cell, index)
        except Exception as err:
            raise CheckError(_cell_error(err, nb, index)) from err
        if before is not None:
            after = freeze(venv / "bin" / "python")
            changes = freeze_changes(before, after)
            if [c for c in changes if not c.startswith("added cnnlib")] or not changes:
                raise CheckError(f"the setup cell (cell {index}) must install cnnlib and "
                                 f"nothing else; pip freeze changed by: {changes or 'nothing'}")
    nb["cells"].append(nbformat.v4.new_code_cell(PROBE))
    try:
        probe_cell = client.execute_cell(nb["cells"][-1], len(nb["cells"]) - 1)
    finally:
        nb["cells"].pop()
    return changes, json.loads(_text(probe_cell).strip().splitlines()[-1])


def _short_polls(channel) -> None:
    """Make ``channel.get_msg(timeout)`` poll in steps of at most a second.

    A zmq.asyncio poll can miss a socket's wake-up (seen once in about thirty notebooks: a
    cell's reply, sent in half a second, was taken only when the 600-s timeout ran out). Every
    new poll looks at the socket afresh, so a missed wake-up then costs a second, not the
    cell's whole timeout; the timeout itself still holds."""
    from queue import Empty

    get_msg = channel.get_msg

    async def get(timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = 1.0 if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return await get_msg(timeout=min(1.0, left))
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    channel.get_msg = get


def run_notebook(task: dict) -> dict:
    """Run one notebook as the module's step 3 says; the result: ``error`` (None when it
    passed), the setup cell's ``changes`` to ``pip freeze``, the kernel's ``probe`` and the
    seconds each ``phase`` took."""
    result = {"notebook": task["notebook"], "error": None, "changes": [], "probe": None,
              "phases": {}}
    kept: dict = {}  # the notebook, once read: saved as executed, however far it got
    try:
        _run(task, result, kept)
    except CheckError as err:
        result["error"] = str(err)
    except Exception as err:  # the kernel died, a timeout: still a failure of this notebook
        result["error"] = f"{type(err).__name__}: {err}"
    finally:
        if "nb" in kept:
            import nbformat

            nbformat.write(kept["nb"], Path(task["folder"]) / "executed.ipynb")
    return result


def _run(task: dict, result: dict, kept: dict) -> None:
    import nbformat
    from nbclient import NotebookClient

    phases, clock = result["phases"], time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        phases[name] = round(time.monotonic() - clock, 2)
        clock = time.monotonic()

    source, folder, venv = ROOT / task["notebook"], Path(task["folder"]), Path(task["venv"])
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "notebook").mkdir(parents=True)
    (folder / "trained-models").mkdir()
    nb = nbformat.read(source, as_version=4)
    setup_index = point_setup_cell_at(nb, f"cnnlib @ {Path(task['wheel']).as_uri()}")
    copy = folder / "notebook" / source.name
    nbformat.write(nb, copy)
    nb = kept["nb"] = nbformat.read(copy, as_version=4)
    _pip(venv / "bin" / "python", "uninstall", "--yes", "--quiet", "cnnlib")
    os.environ["JUPYTER_PATH"] = str(write_kernelspec(folder / "jupyter", venv))
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=CELL_TIMEOUT,
                            shutdown_kernel="immediate",
                            resources={"metadata": {"path": str(copy.parent)}})
    env = kernel_env(venv, task["data"], folder / "trained-models", task["threads"])
    lap("prepare")
    with client.setup_kernel(env=env):
        lap("kernel start")
        _short_polls(client.kc.shell_channel)
        _short_polls(client.kc.iopub_channel)
        result["changes"], result["probe"] = _execute(client, nb, setup_index, venv)
        lap("cells")
    lap("kernel stop")
    problems = probe_problems(result["probe"], venv)
    if task["questions"] is not None:
        problems += exercise_problems(nb, task["questions"], "/sources/" in task["notebook"])
    if problems:
        raise CheckError("; ".join(problems))


# -- the whole check -----------------------------------------------------------------------------
def notebooks(only: str | None = None) -> list[str]:
    """Every notebook the check runs, relative to the repository."""
    found = [f"{d}/{p.name}" for d in NOTEBOOK_DIRS for p in sorted((ROOT / d).glob("*.ipynb"))]
    return [n for n in found if only is None or only in n]


def _order(names: list[str]) -> list[str]:
    """Longest first (the last run's times; chapters before the rest the first time)."""
    try:
        seconds = json.loads((BUILD / "timings.json").read_text())
    except (OSError, ValueError):
        seconds = {}
    return sorted(names, key=lambda n: -seconds.get(n, 1000 if n.startswith("chapters") else 0))


class Runner:
    """A process that runs :func:`run_notebook` for one venv's notebooks, one after the other
    (its own asyncio loop and zmq sockets; nbclient imported once); started anew if it dies.
    A notebook past :data:`NOTEBOOK_TIMEOUT` seconds is stopped with its process."""

    def __init__(self, venv: Path):
        self.venv, self.proc = venv, None
        self.log = venv.parent / f"{venv.name}.log"

    def run(self, task: dict) -> dict:
        start = time.monotonic()
        if self.proc is None or self.proc.poll() is not None:
            with self.log.open("a") as log:
                self.proc = subprocess.Popen([sys.executable, __file__, "--runner"],
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                             stderr=log, text=True)
        watchdog = threading.Timer(NOTEBOOK_TIMEOUT, self.proc.kill)
        watchdog.start()
        try:
            self.proc.stdin.write(json.dumps({**task, "venv": str(self.venv)}) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except OSError:
            line = ""
        finally:
            watchdog.cancel()
        if line:
            result = json.loads(line)
        else:
            self.close()
            tail = self.log.read_text(errors="replace")[-2000:]
            result = {"notebook": task["notebook"], "error": "its runner process died or ran "
                      f"over {NOTEBOOK_TIMEOUT} s; the end of {self.log}:\n{tail}"}
        result["seconds"] = time.monotonic() - start
        return result

    def close(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.stdin.close()
                try:
                    self.proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
            self.proc = None


def serve_runner() -> int:
    """The loop of a :class:`Runner`'s process: a task per line in, a result per line out
    (anything else that prints goes to stderr, the runner's log)."""
    out, sys.stdout = sys.stdout, sys.stderr
    for line in sys.stdin:
        out.write(json.dumps(run_notebook(json.loads(line))) + "\n")
        out.flush()
    return 0


def run_all(tasks: list[dict], venvs: list[Path]) -> list[dict]:
    """Run the tasks, one worker thread per venv, printing a line as each notebook ends."""
    todo: queue.Queue = queue.Queue()
    for task in tasks:
        todo.put(task)
    results: list[dict] = []
    lock = threading.Lock()

    def work(venv: Path) -> None:
        runner = Runner(venv)
        while True:
            try:
                task = todo.get_nowait()
            except queue.Empty:
                runner.close()
                return
            result = runner.run(task)
            with lock:
                results.append(result)
                mark = "ok" if result["error"] is None else "FAILED"
                print(f"  {mark:<6} {result['seconds']:6.1f} s  {result['notebook']}", flush=True)

    threads = [threading.Thread(target=work, args=(v,)) for v in venvs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def worker_venvs(base: Path, n: int) -> list[Path]:
    """``n`` hard-linked copies of the venv (seconds, no extra disk), fresh every run."""
    venvs = []
    for i in range(n):
        venv = BUILD / "work" / f"venv{i}"
        shutil.rmtree(venv, ignore_errors=True)
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "-al", str(base), str(venv)], check=True)
        venvs.append(venv)
    return venvs


PROBE_PLUGIN = """\
import sys


def pytest_sessionfinish(session):
    module = sys.modules.get("cnnlib")
    print(f"\\ncnnlib imported from: {getattr(module, '__file__', None)}")
"""


def run_wheel_tests(venv: Path, wheel: Path, data: str) -> tuple[bool, str]:
    """pytest in the venv on :data:`WHEEL_TESTS`, cnnlib from the wheel; (passed, summary)."""
    python = venv / "bin" / "python"
    _pip(python, "uninstall", "--yes", "--quiet", "cnnlib")
    before = freeze(python)
    _pip(python, "install", "--quiet", f"cnnlib @ {wheel.as_uri()}")
    changes = freeze_changes(before, freeze(python))
    if [c for c in changes if not c.startswith("added cnnlib")]:
        return False, f"installing the wheel changed more than cnnlib: {changes}"
    _pip(python, "install", "--quiet", "-c", str(BUILD / "constraints.txt"), "pytest")
    folder = BUILD / "pytest"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "trained-models").mkdir(parents=True)
    (folder / "colab_probe.py").write_text(PROBE_PLUGIN)
    tests = [str(ROOT / t) for t in WHEEL_TESTS if (ROOT / t).exists()]
    missing = [t for t in WHEEL_TESTS if not (ROOT / t).exists()]
    env = kernel_env(venv, data, folder / "trained-models", os.cpu_count() or 1)
    done = subprocess.run([str(python), "-m", "pytest", "-p", "no:cacheprovider", "--noconftest",
                           "-p", "no:warnings", "-p", "colab_probe", "-q", *tests], cwd=folder,
                          env=env, capture_output=True, text=True)
    out = done.stdout + done.stderr
    imported = re.search(r"cnnlib imported from: (.*)", out)
    where = Path(imported.group(1).strip()).resolve() if imported else None
    from_wheel = where is not None and where.is_relative_to(venv.resolve())
    counts = re.findall(r"^=*\s*(\d+ (?:passed|failed|error).*?)\s*=*$", out, re.MULTILINE)
    summary = f"{', '.join(t.name for t in map(Path, tests))}: " + \
        (counts[-1] if counts else "no summary line")
    if not from_wheel:
        summary += f"\ncnnlib was imported from {where}, not from the wheel in {venv}"
    if missing:
        summary += f"\n(not written yet, so not run: {', '.join(missing)})"
    if done.returncode != 0 or not from_wheel:
        return False, out[-6000:] + summary
    return True, summary


def print_versions(venv: Path, pins: dict[str, str], python: tuple[str, str, bool],
                   colab_py: str, freed: dict[str, str]) -> None:
    installed = freeze(venv / "bin" / "python")
    print(f"\nPython {python[1]} ({python[0]}); Colab runs {colab_py}")
    for name in REPORTED:
        have = re.split(r"==| @ ", installed.get(name, f"{name}==(none)"))[-1]
        note = " (the course's own)" if name in COURSE_OWN else ""
        note = f" (left free: {freed[name]})" if name in freed else note
        print(f"  {name:<19} {have:<12} Colab {pins.get(name, '(none)')}{note}")
    for name, why in freed.items():
        if name not in REPORTED:
            print(f"  {name:<19} left free: {why}")


def _data_root() -> str:
    """``$CNNLIB_DATA``, else cnnlib's data root with MNIST downloaded once, here."""
    import cnnlib

    cnnlib.load_mnist(train=True)  # every notebook then finds it: no download per notebook
    return str(cnnlib.data_root())


def _loud(python: tuple[str, str, bool], minor: str) -> None:
    if not python[2]:
        bar = "!" * 88
        print(f"{bar}\n! No Python {minor} (Colab's) was found: this check runs on Python "
              f"{python[1]} ({python[0]}).\n! Set COLAB_PYTHON=/path/to/python{minor} to check "
              f"what Colab runs.\n{bar}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1),
                        help="notebooks run at a time (default: one per core, at most 4)")
    parser.add_argument("--only", help="run only the notebooks whose path contains this")
    parser.add_argument("--rebuild", action="store_true", help="build the venv anew")
    parser.add_argument("--runner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.runner:  # the process of a Runner
        return serve_runner()
    if args.jobs < 1:
        parser.error(f"--jobs must be a positive int, got {args.jobs}")
    try:
        return check(args)
    except CheckError as err:
        print(f"\nColab check FAILED: {err}", file=sys.stderr)
        return 1


def check(args) -> int:
    start = time.monotonic()
    pins, colab_py = read_constraints(), colab_python()
    minor = ".".join(colab_py.split(".")[:2])
    python = find_python(minor)
    _loud(python, minor)
    course = course_versions()
    freed = freed_pins(pins, python[1])
    base, built = build_venv(python[0], venv_constraints(pins, freed), course, pins, args.rebuild)
    print(f"venv of Colab's versions: {base} ({'built' if built else 'reused'}, "
          f"{time.monotonic() - start:.0f} s)", flush=True)
    wheel = build_wheel(BUILD / "dist")
    names = _order(notebooks(args.only))
    if not names:
        raise CheckError(f"no notebook matches --only {args.only!r}")
    venvs = worker_venvs(base, min(args.jobs, len(names)))
    data = os.environ.get("CNNLIB_DATA") or _data_root()
    threads = max(1, (os.cpu_count() or 1) // len(venvs))
    tasks = [{"notebook": n, "folder": str(BUILD / "runs" / n.removesuffix(".ipynb")),
              "wheel": str(wheel), "data": data, "threads": threads,
              "questions": questions(n)} for n in names]
    print(f"{len(names)} notebooks, {len(venvs)} at a time, each alone with {wheel.name}:",
          flush=True)
    results = run_all(tasks, venvs)
    _save_timings(results)
    tests_ok, tests_summary = run_wheel_tests(venvs[0], wheel, data)
    print(f"\npytest in the venv, cnnlib from the wheel: {tests_summary}")
    print_versions(venvs[0], pins, python, colab_py, freed)
    failed = [r for r in results if r["error"] is not None]
    _print_table(results)
    for r in failed:
        folder = BUILD / "runs" / r["notebook"].removesuffix(".ipynb")
        print(f"\nFAILED {r['notebook']}: {r['error']}\n  (executed copy: "
              f"{folder / 'executed.ipynb'})", file=sys.stderr)
    total = time.monotonic() - start
    verdict = "passed" if not failed and tests_ok else "FAILED"
    print(f"\nColab check {verdict}: {len(results) - len(failed)} of {len(results)} notebooks, "
          f"pytest {'passed' if tests_ok else 'FAILED'}; {total:.0f} s in all.")
    return 0 if verdict == "passed" else 1


def questions(notebook: str) -> int | None:
    """How many questions the exercise of an exercise notebook has (None for the others)."""
    if not notebook.startswith("exercises/"):
        return None
    from cnnlib.grading import load_exercise

    return len(load_exercise(Path(notebook).stem).questions)


def _save_timings(results: list[dict]) -> None:
    """Each notebook's seconds (the order of the next run) and every result in full."""
    (BUILD / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
    path = BUILD / "timings.json"
    try:
        seconds = json.loads(path.read_text())
    except (OSError, ValueError):
        seconds = {}
    seconds.update({r["notebook"]: round(r["seconds"], 1) for r in results})
    path.write_text(json.dumps(seconds, indent=1, sort_keys=True))


def _print_table(results: list[dict]) -> None:
    print(f"\n{'notebook':<44} {'seconds':>8}  result")
    for r in sorted(results, key=lambda r: r["notebook"]):
        print(f"{r['notebook']:<44} {r['seconds']:8.1f}  "
              f"{'ok' if r['error'] is None else 'FAILED'}")
    phases: dict[str, list[float]] = {}
    for r in results:
        for name, seconds in r.get("phases", {}).items():
            phases.setdefault(name, []).append(seconds)
    print(f"{'in all':<44} {sum(r['seconds'] for r in results):8.1f}  of which: " + ", ".join(
        f"{name} {sum(v):.0f}" for name, v in phases.items()))


if __name__ == "__main__":
    sys.exit(main())
