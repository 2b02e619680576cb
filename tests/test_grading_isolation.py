"""What a sandbox can and cannot reach, driven through real sandboxes (Zygote + Session).

With bubblewrap (``make grade-deps`` installs it) each sandbox sees a read-only allow-list of
the filesystem, runs in its own user, mount, PID, network and IPC namespaces with a private
/tmp and /dev/shm, and holds no capability. Where that is not available, the tests that need
it are skipped with the reason the grader gives, and the report of missing protections is
checked instead. Run as root (as CI does), one test also grades as ``nobody``.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil
import pytest

from cnnlib.grading import load_exercise
from cnnlib.grading.cli import grade_folder
from cnnlib.grading.sandbox import Limits, Session, Zygote

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "exercises" / "sources" / "02_conv1d.ipynb"
LIMITS = Limits(timeout=10, memory_mb=256)


def _total_02() -> float:
    """Exercise 02's points (read when a test needs them: this module is also imported inside
    sandboxes, where the exercises are not)."""
    return load_exercise("02_conv1d").points
GUARD = {"apis": [], "modules": [], "aten": []}
PROTECTIONS = {"user_namespaces", "private_tmp", "own_proc", "no_network", "readonly_filesystem",
               "hidden_submissions", "capabilities_dropped", "sandbox_user"}


@pytest.fixture(scope="module")
def zygote():
    with Zygote("auto") as z:
        yield z


@pytest.fixture
def bwrap(zygote):
    if zygote.mechanism != "bubblewrap":
        pytest.skip("bubblewrap sandboxes are not available here: " + "; ".join(zygote.why))
    return zygote


def run(zygote, cells: list[str], limits: Limits = LIMITS, seconds: float = 30):
    """Run ``cells`` in a fresh sandbox; return (how it ended, its output, the session)."""
    session = Session(zygote, limits)
    ended = "cells_done"
    try:
        session.send({"op": "setup", "mode": "notebook",
                      "cells": [[i, c] for i, c in enumerate(cells, 1)],
                      "skip": [], "questions": [], "guard": GUARD, "nonce": "n"})
        deadline = time.monotonic() + seconds
        while True:
            kind, event = session.next_event(deadline)
            if kind != "event":
                ended = kind
                break
            if event.get("event") == "cells_done":
                session.send({"op": "exit"})
                deadline = time.monotonic() + 10
        end = time.monotonic() + 5
        while session.output_open and time.monotonic() < end:
            session._pump(0.05)  # the rest of its output
        return ended, session.output_text(), session
    finally:
        session.close()


def results(output: str) -> dict:
    """The ``RESULT {json}`` line a probe cell printed."""
    line = next(x for x in output.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


PROBE = """
import ctypes, json, os, socket, subprocess
r = {}
# read first: once in a user namespace of its own (where one may be made), a process holds
# every capability of that namespace, which says nothing of what it holds outside
status = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)
r["CapEff"], r["CapBnd"] = status["CapEff"].strip(), status["CapBnd"].strip()
r["NoNewPrivs"] = status["NoNewPrivs"].strip()
r["uid"], r["cwd"] = os.getuid(), os.getcwd()
def attempt(name, f):
    try:
        r[name] = ["ok", repr(f())[:100]]
    except BaseException as e:
        r[name] = [type(e).__name__, getattr(e, "errno", None)]
def write(path):
    with open(path, "a") as f:
        f.write("x")
attempt("read_submission", lambda: open(%(submission)r).read())
attempt("read_other_output", lambda: open(%(output)r).read())
attempt("read_repository", lambda: open(%(readme)r).read())
attempt("read_reference", lambda: open(%(reference)r).read())
attempt("read_reference_in_a_child", lambda: subprocess.run(["cat", %(reference)r],
        capture_output=True).stderr.decode())
attempt("write_cnnlib", lambda: write(%(cnnlib_file)r))
attempt("create_in_cnnlib", lambda: write(%(cnnlib_new)r))
attempt("read_root_home", lambda: os.listdir("/root/.cache"))
attempt("grader_environ", lambda: open("/proc/%(grader)d/environ").read())
libc = ctypes.CDLL(None, use_errno=True)
def mount():
    if libc.mount(b"tmpfs", os.getcwd().encode(), b"tmpfs", 0, None) != 0:
        raise OSError(ctypes.get_errno(), "mount")
def umount_proc():
    if libc.umount2(b"/proc", 2) != 0:
        raise OSError(ctypes.get_errno(), "umount")
def new_userns():
    if libc.unshare(0x10000000) != 0:
        raise OSError(ctypes.get_errno(), "unshare")
attempt("mount", mount)
attempt("umount_proc", umount_proc)
attempt("new_user_namespace", new_userns)
attempt("umount_command", lambda: subprocess.run(["umount", "-l", "/proc"],
        capture_output=True).returncode)
attempt("network", lambda: socket.create_connection(("127.0.0.1", %(port)d), timeout=3))
r["pids"] = sorted(p for p in os.listdir("/proc") if p.isdigit())
print("RESULT " + json.dumps(r))
"""


def test_the_isolation_report_is_explicit(zygote):
    report = zygote.isolation_report()
    assert set(report) == {"mechanism", "protections", "missing", "why"}
    assert set(report["protections"]) == PROTECTIONS
    held = [k for k, v in report["protections"].items() if v is False]
    assert len(report["missing"]) >= min(1, len(held))
    if report["mechanism"] == "bubblewrap":
        assert report["missing"] == [] and all(report["protections"].values())
        assert report["protections"]["sandbox_user"] == (
            "nobody" if os.geteuid() == 0 else "the grader's user")
    else:
        assert report["why"], "a weaker mechanism must say why"


def test_plain_processes_say_what_is_missing():
    plain = Zygote("none")
    try:
        p = plain.protections
        assert plain.mechanism == "processes"
        assert not any(p[k] for k in PROTECTIONS - {"sandbox_user", "capabilities_dropped"})
        text = " ".join(plain.missing())
        for words in ("whole filesystem", "submissions folder", "share /tmp and /dev/shm",
                      "other processes", "network"):
            assert words in text
        assert ("without capabilities" in text) == (os.geteuid() == 0)
    finally:
        plain.stop()


@pytest.fixture
def listener():
    """A TCP port listening on the grader's loopback: a sandbox with a network of its own
    cannot reach it (its loopback is down); one without can."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server.getsockname()[1]
    server.close()


def test_a_sandbox_cannot_reach_outside_its_own_folders(bwrap, tmp_path, listener):
    subs, out = tmp_path / "submissions", tmp_path / "out"
    subs.mkdir()
    out.mkdir()
    (subs / "alice.ipynb").write_text("{}")
    (out / "bob.json").write_text("{}")
    cnnlib = ROOT / "cnnlib"
    probe = PROBE % {"submission": str(subs / "alice.ipynb"), "output": str(out / "bob.json"),
                     "readme": str(ROOT / "README.md"),
                     "reference": str(cnnlib / "grading" / "exercises" / "ex02_conv1d.py"),
                     "cnnlib_file": str(cnnlib / "__init__.py"),
                     "cnnlib_new": str(cnnlib / f"planted-{uuid.uuid4().hex}.py"),
                     "grader": os.getpid(), "port": listener}
    ended, output, _ = run(bwrap, [probe])
    assert ended == "exit", output
    r = results(output)
    for name in ("read_submission", "read_other_output", "read_repository",
                 "read_root_home", "grader_environ"):
        assert r[name] == ["FileNotFoundError", 2], name
    # the references: refused by the sandbox's audit hook, and absent from its filesystem
    # (what a child process, which no audit hook watches, finds)
    assert r["read_reference"][0] == "PermissionError"
    assert r["read_reference_in_a_child"][0] == "ok"
    assert "No such file or directory" in r["read_reference_in_a_child"][1]
    for name in ("write_cnnlib", "create_in_cnnlib"):  # not its files; read-only anyway
        assert r[name] in (["PermissionError", 13], ["OSError", 30]), name
    assert r["mount"] == r["umount_proc"] == ["PermissionError", 1]  # EPERM
    assert r["new_user_namespace"] == ["OSError", 28]  # ENOSPC: none allowed
    assert r["umount_command"][0] == "ok" and r["umount_command"][1] != "0"
    assert r["network"] == ["OSError", 101]  # ENETUNREACH: no interface but a down loopback
    assert r["pids"] == ["1"]  # it sees its own process only
    assert r["CapEff"] == "0000000000000000" and r["CapBnd"] == "0000000000000000"
    assert r["NoNewPrivs"] == "1"
    assert r["cwd"] == "/tmp/work"
    assert r["uid"] == (65534 if os.geteuid() == 0 else os.getuid())
    assert not list(cnnlib.glob("planted-*.py"))


def test_tmp_and_shm_are_private_and_vanish(bwrap):
    """Two sandboxes at once: neither sees the other's /tmp or /dev/shm files, and nothing
    is left on the host afterwards."""
    mark = uuid.uuid4().hex
    code = """
import json, os, time
me = %(me)r
for d in ("/tmp", "/dev/shm"):
    with open(f"{d}/{me}-%(mark)s", "w") as f:
        f.write(me)
seen = set()
end = time.monotonic() + 4
while time.monotonic() < end:
    for d in ("/tmp", "/dev/shm"):
        seen.update(f"{d}/{n}" for n in os.listdir(d) if "%(mark)s" in n and not n.startswith(me))
    time.sleep(0.1)
print("RESULT " + json.dumps({"seen": sorted(seen), "tmp": sorted(os.listdir("/tmp"))}))
"""
    out: dict = {}

    def go(me):
        out[me] = run(bwrap, [code % {"me": me, "mark": mark}])

    threads = [threading.Thread(target=go, args=(me,)) for me in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for me in ("a", "b"):
        ended, output, _ = out[me]
        assert ended == "exit", output
        r = results(output)
        kept = {p.split("/")[2] for p in bwrap.keep}  # allowed folders inside /tmp
        assert r["seen"] == [] and set(r["tmp"]) - kept == {f"{me}-{mark}", "work"}
    left = [p for d in ("/tmp", "/dev/shm") for p in Path(d).glob(f"*{mark}*")]
    assert left == []


def test_files_in_shm_count_as_memory_and_vanish(bwrap):
    mark = uuid.uuid4().hex
    fill = """
import time
for folder in %(folders)r:
    for part in range(%(parts)d):  # 50 MB files: a file may not pass 64 MB
        with open(f"{folder}/%(mark)s-{part}", "wb") as f:
            for _ in range(50):
                f.write(b"x" * (1 << 20))
print("wrote")
time.sleep(%(sleep)s)
"""
    ended, output, session = run(bwrap, [fill % {"mark": mark, "parts": 2, "sleep": 0.5,
                                                 "folders": ["/dev/shm"]}])
    assert ended == "exit" and "wrote" in output, output
    # counted (the process itself may hold a few MB less than when it said hello), under the limit
    assert 90 * 2**20 <= session.peak_memory < 256 * 2**20
    # 150 MB in each: each tmpfs fits, together they pass the 256 MB limit.
    ended, output, _ = run(bwrap, [fill % {"mark": mark, "parts": 3, "sleep": 5,
                                           "folders": ["/dev/shm", "/tmp"]}])
    assert ended == "memory", output
    assert [p for d in ("/dev/shm", "/tmp") for p in Path(d).glob(f"{mark}*")] == []


def test_processes_a_cell_left_are_killed_before_the_questions(zygote):
    """Whatever the isolation, nothing a cell started outlives the cells (point 10: a child
    still allocating must not be charged to the next question)."""
    mark = f"{time.time_ns() % 1000}.25"
    _, output, session = run(zygote, [
        f"import subprocess\np = subprocess.Popen(['sleep', '{mark}'])\nprint('started')"])
    assert "started" in output
    # with its own PID namespace the sandbox ends them itself, after each cell; else the
    # grader does, once the cells are done
    assert session.strays_killed == (0 if zygote.protections["own_proc"] else 1)
    alive = [p.info for p in psutil.process_iter(["pid", "cmdline"])
             if p.info["cmdline"] and mark in p.info["cmdline"]]
    assert alive == []


def test_processes_a_cell_left_are_gone_before_the_next_cell(bwrap):
    """Point 10: a child still allocating is not charged to the next cell either."""
    _, output, _ = run(bwrap, [
        "import subprocess\np = subprocess.Popen(['sleep', '60'])",
        "import os\ntry:\n    os.kill(p.pid, 0)\n    p.poll()\n"
        "    print('STATE', 'zombie' if p.returncode is not None else 'alive')\n"
        "except ProcessLookupError:\n    print('STATE', 'gone')"])
    assert "STATE gone" in output


def _notebook(code: str) -> str:
    nb = json.loads(SOURCE.read_text())
    nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [],
                        "execution_count": None, "source": code.splitlines(True)})
    return json.dumps(nb)


def test_the_batch_completes_when_outputs_are_blocked(tmp_path, capsys):
    """grades.csv already a folder, a report's name taken by a folder: every other file is
    written, the failures are said, grades.csv is written under another name."""
    from cnnlib.grading.cli import main

    subs, out = tmp_path / "submissions", tmp_path / "out"
    subs.mkdir()
    for name in ("alice", "bob"):
        (subs / f"{name}.ipynb").write_text(_notebook("x = 1"))
    (out / "grades.csv").mkdir(parents=True)
    (out / "reports" / "alice.json").mkdir(parents=True)
    code = main(["02_conv1d", str(subs), "--out", str(out), "--timeout", "5", "--seed", "3",
                 "--no-progress", "--isolation", "none"])
    assert code == 1
    err = capsys.readouterr().err
    assert f"could not write {out / 'grades.csv'}" in err
    assert f"could not write {out / 'reports' / 'alice.json'}" in err
    (written,) = out.glob("grades.*.csv")
    rows = list(csv.reader(written.open()))
    assert [r[0] for r in rows[2:]] == ["alice", "bob"] and rows[2][-2] == f"{_total_02():g}"
    assert json.loads((out / "reports" / "bob.json").read_text())["score"] == _total_02()
    assert (out / "gradescope" / "alice" / "results.json").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["write_failures"]) == 3  # two files refused, one written elsewhere
    assert summary["sandbox"]["mechanism"] == "processes"


def test_a_planted_grades_csv_cannot_stop_a_sandboxed_batch(bwrap, tmp_path):
    """The sandbox itself tries to turn out/grades.csv into a folder: it cannot see it."""
    subs, out = tmp_path / "submissions", tmp_path / "out"
    subs.mkdir()
    out.mkdir()
    (subs / "mallory.ipynb").write_text(_notebook(
        f"import os\ntry:\n    os.mkdir({str(out / 'grades.csv')!r})\n    print('planted')\n"
        "except OSError as e:\n    print('refused', type(e).__name__)"))
    (result,) = grade_folder("02_conv1d", subs, out, jobs=1, limits=LIMITS, seed=1,
                             progress=False)
    assert "refused FileNotFoundError" in result.output
    assert (out / "grades.csv").is_file() and result.total == _total_02()


@pytest.mark.skipif(os.geteuid() != 0, reason="the suite already runs unprivileged: "
                    "every other test here covers that case")
def test_as_root_without_bubblewrap_namespaces_and_no_capability_remain(tmp_path, listener,
                                                                      monkeypatch):
    """The fallback where the grader is root and bubblewrap is missing: what the report
    says is missing is really missing, and what it says holds, holds."""
    from cnnlib.grading import sandbox

    if os.geteuid() != 0:
        pytest.skip("this fallback is the grader running as root")
    which = shutil.which
    monkeypatch.setattr(sandbox.shutil, "which",
                        lambda name, *a, **k: None if name == "bwrap" else which(name, *a, **k))
    secret = tmp_path / "submission.ipynb"
    secret.write_text("{}")
    with Zygote("auto") as z:
        report = z.isolation_report()
        probe = PROBE % {"submission": str(secret), "output": str(secret),
                         "readme": str(ROOT / "README.md"), "reference": "/nonexistent",
                         "cnnlib_file": "/nonexistent/x", "cnnlib_new": "/nonexistent/y",
                         "grader": os.getpid(), "port": listener}
        _, output, _ = run(z, [probe])
    assert "bubblewrap" not in report["mechanism"]
    assert not report["protections"]["readonly_filesystem"]
    assert any("read, and change" in m for m in report["missing"])
    r = results(output)
    assert r["read_submission"][0] == "ok"          # missing, and said so
    assert r["CapEff"] == "0000000000000000"        # no capability, whichever user it is
    assert r["NoNewPrivs"] == "1"
    assert r["mount"] == ["PermissionError", 1] and r["umount_proc"] == ["PermissionError", 1]
    if report["protections"]["own_proc"]:
        assert r["pids"] == ["1"]
        assert r["network"] == ["OSError", 101]
    else:
        assert any("other processes" in m for m in report["missing"])


STRAY_CELLS = ["import subprocess\np = subprocess.Popen(['sleep', '60'])",
               "import os\ntry:\n    os.kill(p.pid, 0)\n    print('STATE', 'alive')\n"
               "except ProcessLookupError:\n    print('STATE', 'gone')"]


def test_with_namespaces_what_a_cell_left_is_gone_before_the_next_cell(monkeypatch):
    from cnnlib.grading import sandbox

    which = shutil.which
    monkeypatch.setattr(sandbox.shutil, "which",
                        lambda name, *a, **k: None if name == "bwrap" else which(name, *a, **k))
    with Zygote("auto") as z:
        if not z.protections["own_proc"]:
            pytest.skip("sandboxes cannot have a PID namespace here: " + "; ".join(z.why))
        _, output, _ = run(z, STRAY_CELLS)
    assert "STATE gone" in output


def test_plain_processes_hold_no_capability_and_no_reference(tmp_path, listener):
    """``--isolation none`` (a container without namespaces): still no capability when the
    grader is root, and the references refused to the notebook's code."""
    reference = ROOT / "cnnlib" / "grading" / "exercises" / "ex02_conv1d.py"
    with Zygote("none") as z:
        probe = PROBE % {"submission": "/nonexistent", "output": "/nonexistent",
                         "readme": str(ROOT / "README.md"), "reference": str(reference),
                         "cnnlib_file": "/nonexistent/x", "cnnlib_new": "/nonexistent/y",
                         "grader": os.getpid(), "port": listener}
        ended, output, _ = run(z, [probe])
        _, strays, session = run(z, STRAY_CELLS)
    assert "RESULT" in output, (ended, output[-2000:])
    r = results(output)
    assert r["read_reference"] == ["PermissionError", None]       # the audit hook
    assert r["read_reference_in_a_child"][0] == "ok"               # ... is all there is
    assert r["network"][0] == "ok"                                 # missing, and said so
    if os.geteuid() == 0:
        assert r["CapEff"] == "0000000000000000" and r["NoNewPrivs"] == "1"
    assert "STATE alive" in strays and session.strays_killed == 1  # killed before questions


def test_an_unprivileged_grader_gets_the_same_sandbox(tmp_path):
    """Graded as ``nobody`` (run inside a bubblewrap view of Python, since this Python may
    live in a folder ``nobody`` cannot read): the sandboxes run as that user, in their own
    namespaces, and see none of the grader's files."""
    from cnnlib.grading import sandbox

    prefix, why = sandbox._bwrap_prefix()
    if prefix is None:
        pytest.skip(f"bubblewrap is not available here: {why}")
    script = f"""
import json, sys, time
sys.path.insert(0, {str(ROOT)!r})
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_grading_isolation import run, results, PROBE, LIMITS
from cnnlib.grading.sandbox import Zygote
with Zygote("auto") as z:
    probe = PROBE % dict(submission="/etc/shadow", output="/root/.bashrc",
                         readme={str(ROOT / "README.md")!r}, reference="/nonexistent",
                         cnnlib_file="/usr/bin/env", cnnlib_new="/usr/planted", grader=1,
                         port=9)
    ended, output, _ = run(z, [probe])
    print("REPORT " + json.dumps(z.isolation_report()))
    print(output)
"""
    tests = str(Path(__file__).parent)
    cut = max(i for i in range(len(prefix) - 1) if prefix[i:i + 2] == ["--remount-ro", "/"])
    view = [*prefix[:cut], "--ro-bind", tests, tests, *prefix[cut:]]
    done = subprocess.run([*view, sys.executable, "-I", "-c", script], capture_output=True,
                          text=True, timeout=300, env={"PATH": "/usr/bin:/bin"}, umask=0o022)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(next(x for x in done.stdout.splitlines()
                             if x.startswith("REPORT "))[7:])
    if report["mechanism"] != "bubblewrap":
        # Nested user namespaces refused here: the report must say what is missing.
        assert report["missing"] and report["why"]
        pytest.skip("bubblewrap inside bubblewrap is refused here: " + "; ".join(report["why"]))
    assert report["protections"]["sandbox_user"] == "the grader's user"
    r = results(done.stdout)
    assert r["uid"] == 65534 and r["pids"] == ["1"] and r["NoNewPrivs"] == "1"
    assert r["CapEff"] == "0000000000000000"
    assert r["read_submission"][0] in ("FileNotFoundError", "PermissionError")
    assert r["read_repository"] == ["FileNotFoundError", 2]
    assert r["create_in_cnnlib"] in (["PermissionError", 13], ["OSError", 30])
    assert r["network"] == ["OSError", 101]
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_a_sandbox_starts_without_the_drawing_layer(zygote):
    """The zygote loads PyTorch and cnnlib, never pyplot or ipywidgets: every sandbox is
    forked without them (a notebook that draws imports them itself)."""
    _, output, _ = run(zygote, ["import sys\nprint('LOADED', sorted(m for m in ("
                                "'matplotlib.pyplot', 'ipywidgets', 'cnnlib.viz') "
                                "if m in sys.modules))"])
    assert "LOADED []" in output
