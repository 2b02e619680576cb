"""The grader's side of the sandbox: start it, talk to it, watch it, kill it.

A :class:`Zygote` (see :mod:`cnnlib.grading._zygote`) is started once per batch; each
:class:`Session` asks it for a fresh sandbox process and talks to that process over three
pipes the grader creates and hands over:

- *control* (grader → sandbox): the cells to run, then one question's inputs at a time;
- *result* (sandbox → grader): JSON lines, at most ``Limits.result_bytes`` in all and
  ``Limits.line_bytes`` per line; anything else is a protocol error, never a pass;
- *output* (the sandbox's stdout and stderr): the first ``Limits.output_bytes`` are kept,
  the rest is read and dropped, so a submission that prints megabytes neither blocks nor
  floods the grader.

:meth:`Session.next_event` waits for the next message until a deadline, and on the way
enforces the limits: the memory of the whole process tree is polled (psutil) and the tree is
killed when it passes ``memory_mb``; the sandbox's CPU time, data segment and file sizes are
capped by rlimits set before any student code runs. :meth:`Session.close` kills the process
group and every remaining descendant; when the cells are done and after each question, the
processes a cell left behind are killed (:meth:`Session.kill_strays`), so that they are not
charged to the next question.

What holds where (:meth:`Zygote.isolation_report` says it for each batch, with the reasons):

==========================================  ==========  ===============  ==========  =========
protection                                  bubblewrap  user namespaces  namespaces  processes
==========================================  ==========  ===============  ==========  =========
read-only view of an allow-list only        yes         no               no          no
submissions, output, references invisible   yes         no               no          no
course data (MNIST's test labels) invisible yes         no               no          no
private /tmp and /dev/shm, counted, erased  yes         yes              no          no
own /proc: sees only its own processes      yes         yes              yes         no
no network                                  yes         yes              yes         no
no capability, ``no_new_privs``             yes         yes              as nobody   not root
runs as                                     nobody [*]  grader's user    nobody [+]  grader
==========================================  ==========  ===============  ==========  =========

``bubblewrap``: ``bwrap`` and ``setpriv`` installed and allowed (``make grade-deps``).
``user namespaces``: no bubblewrap, a grader that is not root. ``namespaces``: root without
bubblewrap. ``processes``: ``isolation="none"`` or a kernel that refuses namespaces (most
Docker containers, Gradescope). [*] the grader's user when the grader is not root.
[+] where ``nobody`` can read Python; otherwise root, with every capability.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from . import codec

__all__ = ["Limits", "SandboxError", "Session", "Zygote", "sandbox_view"]

POLL_SECONDS = 0.05
SANDBOX_WORKDIR = "/tmp/work"  # a nested sandbox's working folder, in its private /tmp
_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox run.

    ``timeout``: wall seconds for each cell and for each question's checks (a question with
    its own ``timeout``, the training question, gets that instead).
    ``memory_mb``: resident memory the submission's process tree may add to what the sandbox
    holds when it starts (PyTorch, about 0.6 GB, is not counted).
    ``submission_timeout``: wall seconds for a whole submission, restarts included (default
    ``max(120, 10·timeout)``); it is also the sandbox's CPU-time limit.
    """

    timeout: float = 10.0
    memory_mb: int = 2048
    submission_timeout: float | None = None
    output_bytes: int = 64 * 1024
    result_bytes: int = 64 * 1024 * 1024
    line_bytes: int = 32 * 1024 * 1024
    file_mb: int = 64
    startup_timeout: float = 60.0

    def __post_init__(self):
        if not self.timeout > 0:
            raise ValueError(f"timeout must be positive seconds, got {self.timeout}")
        if not self.memory_mb >= 256:
            raise ValueError(f"memory_mb must be at least 256, got {self.memory_mb}")

    @property
    def total(self) -> float:
        return self.submission_timeout or max(120.0, 10 * self.timeout)

    def rlimits(self) -> dict:
        return {"cpu_seconds": int(self.total) + 5,
                "data_bytes": int(self.memory_mb) * 2**20,
                "file_bytes": int(self.file_mb) * 2**20}


class SandboxError(RuntimeError):
    """The sandbox machinery itself failed (not the submission)."""


def _child_env(home: str) -> dict:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": home,
           "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "MPLBACKEND": "Agg",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "CUDA_VISIBLE_DEVICES": "", "CNNLIB_GRADING_CHILD": "1", "CNNLIB_STATIC": "1",
           "XDG_CACHE_HOME": home, "MPLCONFIGDIR": home, "TORCH_HOME": home,
           "PYTHONDONTWRITEBYTECODE": "1"}
    # No CNNLIB_DATA: the course data (MNIST's test digits and labels among them) stays out
    # of every sandbox; a question that needs data receives it as its inputs.
    return env


def _world_readable(path: str) -> bool:
    """Can any user read ``path`` and traverse every folder above it?"""
    path = os.path.realpath(path)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    need = 0o005 if stat.S_ISDIR(mode) else 0o004
    if mode & need != need:
        return False
    parent = os.path.dirname(path)
    while parent != path:
        path, parent = parent, os.path.dirname(parent)
        try:
            if not os.stat(path).st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


def _sandbox_uid() -> int | None:
    """``nobody`` when the grader runs as root and ``nobody`` can read Python and cnnlib."""
    if os.geteuid() != 0:
        return None
    import sysconfig

    needed = [os.path.realpath(sys.executable), sysconfig.get_paths()["stdlib"],
              sysconfig.get_paths()["purelib"], _PACKAGE_ROOT]
    if not all(_world_readable(p) for p in needed):
        return None
    try:
        import pwd

        return pwd.getpwnam("nobody").pw_uid
    except (KeyError, ImportError):
        return None


_CNNLIB_DIR = os.path.join(_PACKAGE_ROOT, "cnnlib")
_EXERCISES_DIR = os.path.join(_CNNLIB_DIR, "grading", "exercises")
# Of /etc, only what a Python process may look at (the dynamic loader's cache, users' names,
# the time zone): nothing of the host's configuration beyond that.
_ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/passwd", "/etc/group",
              "/etc/nsswitch.conf")
_bwrap_state: dict = {}


def _python_paths() -> list[str]:
    """The folders a fresh ``python -I`` of this interpreter imports from (asked once)."""
    if "paths" not in _bwrap_state:
        try:
            done = subprocess.run(
                [sys.executable, "-I", "-c", "import json, sys; print(json.dumps(sys.path))"],
                capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"},
                check=True)
            paths = json.loads(done.stdout)
        except (OSError, subprocess.SubprocessError, ValueError):
            paths = list(sys.path)
        _bwrap_state["paths"] = [p for p in paths if isinstance(p, str) and p]
    return _bwrap_state["paths"]


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _allowed_folders() -> list[str]:
    """The folders bound read-only into the bubblewrap view (none inside another)."""
    wanted = ["/usr", sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
              *_python_paths(), _CNNLIB_DIR]
    folders: list[str] = []
    for path in wanted:
        for p in {os.path.abspath(path), os.path.realpath(path)}:
            if os.path.isdir(p) and not os.path.islink(p) and p != "/" and p not in folders:
                folders.append(p)
    folders.sort(key=len)
    return [p for i, p in enumerate(folders) if not any(_inside(p, q) for q in folders[:i])]


def sandbox_view(hide: tuple[str, ...] = ()) -> list[str]:
    """bubblewrap's arguments for the zygote's view of the filesystem: an allow-list of
    read-only folders at their own paths (the system, Python, its packages, cnnlib), an
    empty tmpfs over cnnlib's exercise references and over ``hide``, fresh
    /dev and /tmp, the host's /proc (each sandbox mounts its own over it), and the root itself
    read-only. The repository, the submissions, the output folders and the course data
    (``$CNNLIB_DATA``, the per-user caches: MNIST's test labels) are not in it; the data
    folder is covered by an empty tmpfs too, should it lie inside an allowed folder."""
    binds = _allowed_folders()
    args: list[str] = ["--perms", "1777", "--tmpfs", "/tmp"]  # first: binds may lie in /tmp
    made: set[str] = {"/tmp"}
    for path in binds:  # the folders above each bind, traversable whatever their host mode
        parts = path.strip("/").split("/")
        for i in range(1, len(parts)):
            above = "/" + "/".join(parts[:i])
            if above not in made:
                made.add(above)
                args += ["--perms", "0755", "--dir", above]
        args += ["--ro-bind", path, path]
    for link in ("/bin", "/lib", "/lib32", "/lib64", "/sbin"):
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link) and not any(_inside(link, b) for b in binds):
            args += ["--ro-bind", link, link]
    args += ["--perms", "0755", "--dir", "/etc"]
    for path in _ETC_FILES:
        args += ["--ro-bind-try", path, path]
    args += ["--bind", "/proc", "/proc", "--dev", "/dev", "--dir", "/dev/shm",
             "--remount-ro", "/dev"]
    from ..datasets import data_root

    # the course data stays out even when it lies inside an allowed folder (say, under the
    # Python prefix): an empty tmpfs covers it, as it covers the references
    for path in (_EXERCISES_DIR, str(data_root()), *hide):
        path = os.path.realpath(path)
        if os.path.isdir(path) and any(_inside(path, b) for b in binds):
            args += ["--tmpfs", path, "--remount-ro", path]
    return [*args, "--remount-ro", "/", "--chdir", "/"]


def _bwrap_prefix(hide: tuple[str, ...] = ()) -> tuple[list[str] | None, str]:
    """The command that starts a process in the zygote's bubblewrap sandbox, or ``None`` and
    why it cannot be used here. As root, bubblewrap sets up the view and the zygote becomes
    ``nobody`` (setpriv) before Python starts: no process of the sandbox is ever host root.
    As any other user, bubblewrap runs in a user namespace of that user's."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return None, "bubblewrap (bwrap) is not installed"
    args = [bwrap, "--die-with-parent", "--new-session", "--unshare-net", "--unshare-ipc",
            "--unshare-uts", "--unshare-cgroup-try", "--cap-drop", "ALL"]
    after: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            return None, "setpriv (util-linux) is not installed"
        try:
            import pwd

            nobody = pwd.getpwnam("nobody")
        except (KeyError, ImportError):
            return None, "there is no user 'nobody'"
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add",
                 "CAP_SETPCAP"]
        after = [setpriv, f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
                 "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
    else:
        args += ["--unshare-user"]
    command = [*args, *sandbox_view(hide), *after]
    key = ("probe", tuple(command))
    if key not in _bwrap_state:
        try:
            done = subprocess.run([*command, "/usr/bin/env", "true"], capture_output=True,
                                  text=True, timeout=60, stdin=subprocess.DEVNULL,
                                  env={"PATH": "/usr/bin:/bin"}, umask=0o022, check=False)
            said = done.stderr.strip()[-300:] or f"exit status {done.returncode}"
            _bwrap_state[key] = None if done.returncode == 0 else \
                f"bubblewrap refused to start here: {said}"
        except (OSError, subprocess.SubprocessError) as err:
            _bwrap_state[key] = f"bubblewrap could not run: {err}"
    if _bwrap_state[key] is not None:
        return None, _bwrap_state[key]
    return command, ""


class _Child:
    def __init__(self):
        self.pid: int | None = None
        self.spawned = threading.Event()
        self.exited = threading.Event()
        self.status: int | None = None
        self.cpu: float = 0.0
        self.orphaned = False  # the zygote died: this process's exit status will not come


class Zygote:
    """A process with PyTorch imported that forks sandboxes on request (one per batch).

    ``isolation="auto"`` isolates each sandbox as far as this machine allows, in this order:

    ``"bubblewrap"``: the zygote runs in one bubblewrap sandbox (as ``nobody`` when the grader
    is root) that sees only a read-only allow-list of the filesystem (:func:`sandbox_view`):
    no submission, no output folder, no reference of the grader's. Each sandbox it forks then
    enters its own user, mount, PID, network, IPC and UTS namespaces, gets a private /tmp and
    /dev/shm (their size counted as memory; they vanish with it), its own /proc, and drops
    every capability (``no_new_privs`` set) before any student code runs.

    ``"user namespaces"`` (no bubblewrap, a grader that is not root, user namespaces
    allowed): the same per-sandbox namespaces, but the whole filesystem is visible with the
    grader's user's rights.

    ``"namespaces"`` (root without bubblewrap): new PID, mount and network namespaces, and
    the sandbox becomes ``nobody`` where it can still read Python.

    ``"processes"``: none of these (``isolation="none"``, or a kernel that refuses them).

    :meth:`isolation_report` says which protections hold and, in plain sentences, which are
    missing. ``hide`` lists more folders to cover with an empty tmpfs in the bubblewrap view
    (only needed for a folder inside the allow-list, e.g. an output folder inside cnnlib).
    """

    def __init__(self, isolation: str = "auto", hide: tuple[str, ...] = ()):
        if isolation not in ("auto", "none"):
            raise ValueError(f"isolation must be 'auto' or 'none', got {isolation!r}")
        self.isolation = isolation
        self.hide = tuple(sorted({os.path.realpath(p) for p in hide}))
        self.workdir = tempfile.mkdtemp(prefix="cnnlib-grade-")
        os.chmod(self.workdir, 0o711)
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None
        self.sock: socket.socket | None = None
        self.children: dict[int, _Child] = {}
        self.by_pid: dict[int, _Child] = {}
        self.next_id = 0
        self.isolate = False  # sandboxes get PID, mount and network namespaces
        self.nested = False  # ... and user/IPC namespaces, private /tmp, /dev/shm, no capability
        self.bwrap: list[str] | None = None  # the zygote runs in this bubblewrap command
        self.uid: int | None = None  # the fallback's sandbox user (set after its guard)
        self.zygote_uid: int | None = None
        self.keep: list[str] = []  # allowed folders inside /tmp, bound again in private ones
        self.why: list[str] = []  # why a stronger mechanism was not used
        self.starts = 0
        self.zygote_pid: int | None = None

    # -- life cycle ------------------------------------------------------------------------------
    def start(self) -> Zygote:
        with self.lock:
            self._start()
        return self

    def _start(self) -> None:
        first = self.starts == 0
        if first and self.isolation == "auto":
            self.bwrap, why = _bwrap_prefix(self.hide)
            if why:
                self.why.append(why)
            else:
                self.keep = [p for p in _allowed_folders() if _inside(p, "/tmp")]
        try:
            ready = self._launch(self.bwrap, probe=first and self.isolation == "auto")
        except SandboxError as err:
            if not (first and self.bwrap):
                raise
            self.why.append(f"the zygote did not start inside bubblewrap ({err})")
            self.bwrap = None
            ready = self._launch(None, probe=True)
        if first:
            self.zygote_uid = ready.get("uid")
            if self.isolation == "auto":
                self.nested = bool(ready.get("nested")) and (
                    self.bwrap is not None or ready.get("uid") != 0)
                if ready.get("nested_error"):
                    self.why.append("sandboxes cannot have user namespaces here "
                                    f"({ready['nested_error']})")
                elif not self.nested:
                    self.why.append("the grader runs as root without bubblewrap")
                if self.nested:
                    self.isolate = True
                elif self.bwrap is None:  # today's fallback
                    self.isolate = self._probe_isolation()
                    self.uid = _sandbox_uid()
        threading.Thread(target=self._dispatch, args=(self.sock,), daemon=True).start()

    def _launch(self, bwrap: list[str] | None, probe: bool) -> dict:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        boot = (f"import sys; sys.path.insert(0, {_PACKAGE_ROOT!r}); "
                f"from cnnlib.grading._zygote import serve; serve({child.fileno()}, {probe})")
        log_path = os.path.join(self.workdir, f"zygote-{self.starts}.log")
        log = open(log_path, "wb")
        self.starts += 1
        self.proc = subprocess.Popen(
            [*(bwrap or []), sys.executable, "-I", "-c", boot], pass_fds=[child.fileno()],
            env=_child_env("/tmp" if bwrap else self.workdir),
            cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, umask=0o022)
        child.close()
        log.close()
        self.sock = parent
        ready, _, _ = select.select([parent], [], [], 300)
        message = parent.recv(1 << 16) if ready else b""
        if not message:
            self._kill()
            self.sock = None
            parent.close()
            with open(log_path, "rb") as f:
                tail = f.read()[-2000:].decode("utf-8", "replace")
            raise SandboxError(f"the grading sandbox did not start:\n{tail}")
        ready = json.loads(message)
        self.zygote_pid = ready["pid"]
        return ready

    @property
    def mechanism(self) -> str:
        if self.bwrap is not None and self.nested:
            return "bubblewrap"
        if self.nested:
            return "user namespaces"
        if self.bwrap is not None:
            return "bubblewrap without per-sandbox namespaces"
        return "namespaces" if self.isolate else "processes"

    @property
    def protections(self) -> dict:
        """Which protections hold for every sandbox of this zygote."""
        root = self.zygote_uid == 0 if self.zygote_uid is not None else os.geteuid() == 0
        if self.nested or self.bwrap is not None:
            user = "nobody" if os.geteuid() == 0 else "the grader's user"
        elif self.uid is not None:
            user = "nobody"
        else:
            user = "root without capabilities" if root else "the grader's user"
        return {
            "user_namespaces": self.nested,
            "private_tmp": self.nested,
            "own_proc": self.isolate,
            "no_network": self.isolate or self.bwrap is not None,
            "readonly_filesystem": self.bwrap is not None,
            "hidden_submissions": self.bwrap is not None,
            "capabilities_dropped": True,  # nobody, a user namespace, or dropped as root
            "sandbox_user": user,
        }

    def missing(self) -> list[str]:
        """Plain sentences, one per protection that does not hold here."""
        p = self.protections
        user = p["sandbox_user"]
        out = []
        if not p["readonly_filesystem"]:
            out.append(f"Sandboxes see the whole filesystem as {user}: a submission can "
                       f"read, and change, every file {user} can.")
        if not p["hidden_submissions"]:
            out.append(f"Sandboxes can read the submissions folder, the output folder, "
                       f"the grader's references and the course data (MNIST's test labels, "
                       f"which a training question grades with) wherever {user} can.")
        if not p["private_tmp"]:
            out.append("Sandboxes share /tmp and /dev/shm with each other and the host: "
                       "submissions graded together can exchange files, and files there "
                       "are not counted as memory and can outlive the sandbox.")
        if not p["own_proc"]:
            out.append("Sandboxes can see the other processes of this machine (and signal "
                       f"those of {user}).")
        if not p["no_network"]:
            out.append("Sandboxes can use the network.")
        return out

    def isolation_report(self) -> dict:
        """``{"mechanism", "protections", "missing", "why"}`` for summary.json and reports."""
        return {"mechanism": self.mechanism, "protections": self.protections,
                "missing": self.missing(), "why": list(self.why)}

    def _probe_isolation(self) -> bool:
        """Can a sandbox enter new namespaces here? (Asks the kernel in a throwaway process.)"""
        probe = ("import ctypes, os, sys\n"
                 "libc = ctypes.CDLL(None, use_errno=True)\n"
                 "sys.exit(0 if libc.unshare(0x00020000 | 0x20000000 | 0x40000000) == 0 else 1)")
        try:
            done = subprocess.run([sys.executable, "-I", "-c", probe], timeout=30,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin"},
                                  check=False)
        except (OSError, subprocess.SubprocessError):
            return False
        return done.returncode == 0

    def _dispatch(self, sock: socket.socket) -> None:
        while True:
            try:
                data = sock.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                break
            message = json.loads(data)
            with self.lock:
                if message.get("op") == "spawned":
                    child = self.children.pop(message["id"], None)
                    if child is not None:
                        child.pid = message["pid"]
                        self.by_pid[child.pid] = child
                        child.spawned.set()
                elif message.get("op") == "exited":
                    child = self.by_pid.pop(message["pid"], None)
                    if child is not None:
                        child.status, child.cpu = message["status"], message["cpu"]
                        child.exited.set()
        with self.lock:  # the zygote is gone; its sandboxes run on, watched through their pipes
            for child in self.children.values():
                child.spawned.set()  # never spawned: pid stays None
            for child in self.by_pid.values():
                child.orphaned = True
            self.children.clear()
            self.by_pid.clear()
            if self.sock is sock:
                self.sock = None

    def _kill(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(OSError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            if self.zygote_pid is not None and self.zygote_pid != self.proc.pid and \
                    self.proc.poll() is None:
                with contextlib.suppress(OSError):
                    os.kill(self.zygote_pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.SubprocessError):
                self.proc.wait(timeout=10)

    def stop(self) -> None:
        with self.lock:
            if self.sock is not None:
                with contextlib.suppress(OSError):
                    self.sock.send(b'{"op": "stop"}')
            proc = self.proc
        if proc is not None:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._kill()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Zygote:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- sandboxes -------------------------------------------------------------------------------
    def spawn(self, fds: list[int], cwd: str, limits: Limits) -> _Child:
        """Fork a sandbox that serves ``fds`` (control, result, output); restart if needed."""
        child = _Child()
        with self.lock:
            if self.sock is None or self.proc is None or self.proc.poll() is not None:
                self._kill()
                self._start()
            rlimits = limits.rlimits()
            if self.nested:
                rlimits["nproc"] = 4096
                request = {"op": "spawn", "id": self.next_id, "nested": True,
                           "tmp_bytes": limits.memory_mb * 2**20, "keep": self.keep,
                           "env": _child_env(SANDBOX_WORKDIR), "limits": rlimits, "uid": None}
            else:
                if self.uid is not None:
                    rlimits["nproc"] = 4096
                    os.chown(cwd, self.uid, self.uid)
                request = {"op": "spawn", "id": self.next_id, "cwd": cwd,
                           "env": _child_env(cwd), "limits": rlimits, "isolate": self.isolate,
                           "uid": self.uid}
            self.children[self.next_id] = child
            self.next_id += 1
            try:
                socket.send_fds(self.sock, [json.dumps(request).encode()], fds)
            except OSError as err:
                raise SandboxError(f"could not reach the grading sandbox: {err}") from err
        if not child.spawned.wait(60) or child.pid is None:
            raise SandboxError("the grading sandbox did not start a process")
        return child


def tree_memory(pid: int) -> tuple[int, list]:
    """Resident bytes of ``pid`` and all its descendants, and those processes."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0, []
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total, procs


# After these the sandbox waits for the grader's next request: killing its strays as the event
# is read cannot touch anything the next step starts.
_STEP_ENDS = ("cells_done", "question_done")


def _children(pid: int) -> list[int]:
    """The direct children of ``pid`` (all its threads'), from /proc; empty if it is gone."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            continue
    return out


def private_tmp_bytes(pid: int) -> int:
    """Bytes held by the tmpfs on /tmp and /dev/shm as process ``pid`` sees them (a nested
    sandbox's private ones; read through /proc/<pid>/root, which the grader may read)."""
    total = 0
    for where in ("tmp", "dev/shm"):
        try:
            st = os.statvfs(f"/proc/{pid}/root/{where}")
        except OSError:
            continue
        total += (st.f_blocks - st.f_bfree) * st.f_frsize
    return total


class Session:
    """One sandbox run; see the module docstring."""

    def __init__(self, zygote: Zygote, limits: Limits):
        self.limits = limits
        self.cwd = tempfile.mkdtemp(prefix="run-", dir=zygote.workdir)
        control_r, self.control_w = os.pipe()
        self.result_r, result_w = os.pipe()
        self.output_r, output_w = os.pipe()
        try:
            self.child = zygote.spawn([control_r, result_w, output_w], self.cwd, limits)
        except BaseException:
            for fd in (self.control_w, self.result_r, self.output_r):
                os.close(fd)
            shutil.rmtree(self.cwd, ignore_errors=True)
            raise
        finally:
            for fd in (control_r, result_w, output_w):
                os.close(fd)
        for fd in (self.control_w, self.result_r, self.output_r):
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
        self.pid = self.child.pid
        self.nested = zygote.nested
        self.main_pid: int | None = None
        self.strays_killed = 0
        self.events: collections.deque = collections.deque()
        self.pending = b""
        self.buffer = b""
        self.result_total = 0
        self.output = bytearray()
        self.output_total = 0
        self.result_open = self.output_open = True
        self.failure: tuple | None = None
        self.killed_for: str | None = None
        self.peak_memory = 0
        self.baseline: int | None = None
        self.exited_at: float | None = None
        self._last_poll = 0.0
        self.closed = False

    # -- talking ---------------------------------------------------------------------------------
    def send(self, message: dict) -> None:
        self.pending += (codec.dumps(message) + "\n").encode()

    def next_event(self, deadline: float) -> tuple[str, object]:
        """``("event", dict)``, ``("timeout", None)``, ``("exit", info)``, ``("memory", mb)``
        or ``("protocol", why)``, whichever comes first."""
        while True:
            if self.events:
                return "event", self.events.popleft()
            if self.failure is not None:
                return self.failure
            if self.child.orphaned and not self.child.exited.is_set() and \
                    not self.result_open and not self.output_open:
                self.child.exited.set()  # its zygote is gone; its pipes closed: it ended
            if self.child.exited.is_set():
                # The sandbox's outer process ended. Read what the inner one sent before it
                # ended too (its pipe closes), waiting a moment at most, then make sure.
                if self.exited_at is None:
                    self.exited_at = time.monotonic()
                if self.result_open and time.monotonic() - self.exited_at < 1.0:
                    self._pump(POLL_SECONDS)
                    continue
                self._pump(0)
                if self.events:
                    continue
                self.kill("exit")
                return "exit", self.exit_info()
            now = time.monotonic()
            if now >= deadline:
                return "timeout", None
            self._pump(min(deadline - now, POLL_SECONDS))
            if time.monotonic() - self._last_poll >= POLL_SECONDS:
                self._last_poll = time.monotonic()
                self._watch_memory()

    def _pump(self, wait: float) -> None:
        readers = [fd for fd, is_open in ((self.result_r, self.result_open),
                                          (self.output_r, self.output_open)) if is_open]
        writers = [self.control_w] if self.pending else []
        if not readers and not writers:
            time.sleep(wait)
            return
        try:
            readable, writable, _ = select.select(readers, writers, [], wait)
        except (OSError, ValueError):
            return
        if self.control_w in writable:
            try:
                n = os.write(self.control_w, self.pending[: 1 << 16])
                self.pending = self.pending[n:]
            except BlockingIOError:
                pass
            except OSError:
                self.pending = b""
        if self.output_r in readable:
            self._read_output()
        if self.result_r in readable:
            self._read_results()

    def _read_output(self) -> None:
        for _ in range(64):
            try:
                chunk = os.read(self.output_r, 1 << 16)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self.output_open = False
                return
            self.output_total += len(chunk)
            room = self.limits.output_bytes - len(self.output)
            if room > 0:
                self.output += chunk[:room]

    def _read_results(self) -> None:
        for _ in range(64):
            try:
                chunk = os.read(self.result_r, 1 << 20)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self.result_open = False
                return
            self.result_total += len(chunk)
            if self.result_total > self.limits.result_bytes:
                self._fail("protocol", f"sent more than {self.limits.result_bytes >> 20} MB of "
                                       "results")
                return
            self.buffer += chunk
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                try:
                    message = codec.loads(line)
                except codec.CodecError:
                    self._fail("protocol", "sent a message that is not JSON")
                    return
                if not isinstance(message, dict) or not isinstance(message.get("event"), str):
                    self._fail("protocol", "sent a message the grader does not know")
                    return
                if message["event"] == "hello" and self.baseline is None:
                    self.baseline = self._memory()
                elif message["event"] in _STEP_ENDS:
                    self.kill_strays()
                self.events.append(message)
            if len(self.buffer) > self.limits.line_bytes:
                self._fail("protocol", "sent a result line longer than "
                                       f"{self.limits.line_bytes >> 20} MB")
                return

    def _fail(self, kind: str, why) -> None:
        if self.failure is None:
            self.failure = (kind, why)
            self.kill(kind)

    def _memory(self) -> int:
        """Resident bytes of the sandbox's processes, plus what its private /tmp and /dev/shm
        hold (files in memory: they count against the same limit)."""
        return tree_memory(self.pid)[0] + (private_tmp_bytes(self.pid) if self.nested else 0)

    def kill_strays(self) -> int:
        """Kill every process of the sandbox but its main one (the one running the cells), so
        that nothing a cell started (a child still allocating, a ``sleep``) is charged to the
        next question. Called when the cells are done and when a question is (the sandbox then
        waits for the grader, so nothing of the next step is running yet); returns how many."""
        if self.main_pid is None:
            kids = _children(self.pid)
            if len(kids) != 1:
                return 0
            self.main_pid = kids[0]
        if not _children(self.main_pid):
            return 0
        import psutil

        try:
            strays = psutil.Process(self.main_pid).children(recursive=True)
        except psutil.Error:
            return 0
        for p in strays:
            with contextlib.suppress(psutil.Error):
                p.kill()
        psutil.wait_procs(strays, timeout=2)
        self.strays_killed += len(strays)
        return len(strays)

    def _watch_memory(self) -> None:
        """Memory the submission added since the sandbox said hello (PyTorch not counted)."""
        if self.baseline is None:
            return
        used = self._memory() - self.baseline
        self.peak_memory = max(self.peak_memory, used)
        if used > self.limits.memory_mb * 2**20:
            self._fail("memory", round(used / 2**20))

    # -- ending ----------------------------------------------------------------------------------
    def exit_info(self) -> dict:
        status = self.child.status
        info = {"code": None, "signal": None, "cpu": round(self.child.cpu, 2),
                "killed_for": self.killed_for}
        if status is not None:
            if os.WIFSIGNALED(status):
                info["signal"] = os.WTERMSIG(status)
            elif os.WIFEXITED(status):
                info["code"] = os.WEXITSTATUS(status)
        info["cpu_limit"] = info["cpu"] >= self.limits.rlimits()["cpu_seconds"] - 1 or \
            info["signal"] == signal.SIGXCPU
        return info

    def kill(self, why: str = "end") -> None:
        """Kill the sandbox and every descendant still alive (those that escaped the tree
        are the zygote's: it kills them when they are re-parented to it)."""
        if self.killed_for is None:
            self.killed_for = why
        _, procs = tree_memory(self.pid)
        for p in reversed(procs):
            with contextlib.suppress(Exception):
                p.kill()
        with contextlib.suppress(OSError):
            os.killpg(self.pid, signal.SIGKILL)
        if self.child.orphaned:  # no exit report will come: wait for the process to go
            import psutil

            with contextlib.suppress(psutil.Error):
                psutil.Process(self.pid).wait(10)
            self.child.exited.set()
        self.child.exited.wait(10)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.kill()
        for fd in (self.control_w, self.result_r, self.output_r):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.cwd, ignore_errors=True)

    def output_text(self) -> str:
        text = bytes(self.output).decode("utf-8", "replace")
        if self.output_total > len(self.output):
            text += f"\n[… {self.output_total - len(self.output)} more bytes of output dropped]"
        return text
