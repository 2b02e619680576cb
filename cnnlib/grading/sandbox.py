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
group and every remaining descendant.
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

__all__ = ["Limits", "SandboxError", "Session", "Zygote"]

POLL_SECONDS = 0.05
_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox run.

    ``timeout``: wall seconds for each cell and for each question's checks.
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
    if os.environ.get("CNNLIB_DATA"):
        env["CNNLIB_DATA"] = os.environ["CNNLIB_DATA"]
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

    ``isolation="auto"`` uses PID/mount/network namespaces when the kernel allows it and runs
    sandboxes as ``nobody`` when that is possible; ``"none"`` uses neither.
    """

    def __init__(self, isolation: str = "auto"):
        if isolation not in ("auto", "none"):
            raise ValueError(f"isolation must be 'auto' or 'none', got {isolation!r}")
        self.isolation = isolation
        self.workdir = tempfile.mkdtemp(prefix="cnnlib-grade-")
        os.chmod(self.workdir, 0o711)
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None
        self.sock: socket.socket | None = None
        self.children: dict[int, _Child] = {}
        self.by_pid: dict[int, _Child] = {}
        self.next_id = 0
        self.isolate = False
        self.uid: int | None = None
        self.starts = 0

    # -- life cycle ------------------------------------------------------------------------------
    def start(self) -> Zygote:
        with self.lock:
            self._start()
        return self

    def _start(self) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        boot = (f"import sys; sys.path.insert(0, {_PACKAGE_ROOT!r}); "
                f"from cnnlib.grading._zygote import serve; serve({child.fileno()})")
        log_path = os.path.join(self.workdir, f"zygote-{self.starts}.log")
        log = open(log_path, "wb")
        self.starts += 1
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", boot], pass_fds=[child.fileno()],
            env=_child_env(self.workdir), cwd=self.workdir, stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        child.close()
        log.close()
        self.sock = parent
        ready, _, _ = select.select([parent], [], [], 300)
        message = parent.recv(1 << 16) if ready else b""
        if not message:
            self._kill()
            with open(log_path, "rb") as f:
                tail = f.read()[-2000:].decode("utf-8", "replace")
            raise SandboxError(f"the grading sandbox did not start:\n{tail}")
        self.zygote_pid = json.loads(message)["pid"]
        if self.isolation == "auto" and self.starts == 1:
            self.isolate = self._probe_isolation()
            self.uid = _sandbox_uid()
        threading.Thread(target=self._dispatch, args=(parent,), daemon=True).start()

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
            if self.uid is not None:
                rlimits["nproc"] = 4096
                os.chown(cwd, self.uid, self.uid)
            request = {"op": "spawn", "id": self.next_id, "cwd": cwd, "env": _child_env(cwd),
                       "limits": rlimits, "isolate": self.isolate, "uid": self.uid}
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
                    self.baseline = tree_memory(self.pid)[0]
                self.events.append(message)
            if len(self.buffer) > self.limits.line_bytes:
                self._fail("protocol", "sent a result line longer than "
                                       f"{self.limits.line_bytes >> 20} MB")
                return

    def _fail(self, kind: str, why) -> None:
        if self.failure is None:
            self.failure = (kind, why)
            self.kill(kind)

    def _watch_memory(self) -> None:
        """Memory the submission added since the sandbox said hello (PyTorch not counted)."""
        if self.baseline is None:
            return
        used = tree_memory(self.pid)[0] - self.baseline
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
