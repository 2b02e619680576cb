"""The sandbox factory: one process that has imported PyTorch forks a fresh sandbox per run.

Importing PyTorch takes seconds; forking a process that already has it takes milliseconds, so
the grader starts this *zygote* once per batch and asks it for each sandbox. The zygote holds
no secret (it never sees a check's input or answer: those travel on pipes between the grader
and the sandbox, which the grader hands over as file descriptors) and runs no student code
itself. For each request it forks a child that, before running anything of the student's:

- starts a new session (so the grader can kill its whole process group),
- takes its stdin from /dev/null and its stdout/stderr from the grader's capped pipe,
- moves to a fresh empty working directory and a minimal environment,
- sets its resource limits (CPU seconds, data segment, file size, no core files),
- with ``nested`` (the grader's choice where the machine allows it, see
  :class:`cnnlib.grading.sandbox.Zygote`): enters new user, mount, PID, network, IPC and UTS
  namespaces (an unprivileged user may: the user namespace comes first and owns the others),
  mounts a private tmpfs on /tmp and /dev/shm (each at most the memory limit; the grader
  counts what they hold as memory, and they vanish with the namespace), its own /proc (it
  sees only its own processes), forbids further user namespaces, works in /tmp/work, and
  drops every capability (bounding, ambient, inheritable, permitted, effective) and sets
  ``no_new_privs``. When the zygote runs in the grader's bubblewrap view it is already
  ``nobody`` (or the grader's own user) and sees only a read-only allow-list of folders;
- otherwise, where the kernel allows it (``isolate``), enters new PID, mount and network
  namespaces, and where the grader runs as root and Python is world-readable, becomes
  ``nobody`` (right after it has put its guard in place, before any student code).

A sandbox does not die with the zygote: whatever kills the zygote, the grader keeps reading
the sandboxes it already made, and starts a new zygote for the next ones.

The zygote is also a *child subreaper*: a process a submission double-forks to escape is
re-parented here, and the zygote kills it at once. It reports each child's exit status (and
CPU time) back to the grader. Messages are JSON over a Unix ``SOCK_SEQPACKET`` socket.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import resource
import select
import signal
import socket
import sys

CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x20000000, 0x40000000
CLONE_NEWUSER, CLONE_NEWIPC, CLONE_NEWUTS = 0x10000000, 0x08000000, 0x04000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 16384, 1 << 18
MS_RDONLY, MS_REMOUNT, MS_BIND = 1, 32, 4096
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 38, 47, 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_SYS_CAPSET = {"x86_64": 126, "aarch64": 91}.get(os.uname().machine, 126)
WORKDIR = "/tmp/work"  # a nested sandbox's working directory, in its private /tmp


def _libc():
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _send(sock: socket.socket, message: dict) -> None:
    try:
        sock.send(json.dumps(message).encode())
    except OSError:
        pass


def _vm_data() -> int:
    """Bytes of this process's data segment now (what RLIMIT_DATA counts)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _set_limits(limits: dict) -> None:
    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 2))
    # What the submission may allocate comes on top of what PyTorch already holds.
    data = _vm_data() + int(limits["data_bytes"]) + (256 << 20)
    resource.setrlimit(resource.RLIMIT_DATA, (data, data))
    size = int(limits["file_bytes"])
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if limits.get("nproc"):
        n = int(limits["nproc"])
        resource.setrlimit(resource.RLIMIT_NPROC, (n, n))


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _drop_capabilities(libc) -> None:
    """Empty every capability set (bounding, ambient, inheritable, permitted, effective) and
    set ``no_new_privs``: nothing this process or its children execute can gain a privilege."""
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == errno.EINVAL:
            break  # past the last capability this kernel knows
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    _check(libc.syscall(_SYS_CAPSET, header, data), "capset")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def _enter_namespaces(libc) -> None:
    """Enter new user, mount, PID, network, IPC and UTS namespaces (the user namespace first,
    so it owns the others: no capability is needed outside), keeping this process's uid."""
    uid, gid = os.getuid(), os.getgid()
    _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC
                        | CLONE_NEWUTS), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                       ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)


def _private_mounts(libc, tmp_bytes: int, keep: list[str] = ()) -> None:
    """In the new namespaces (PID 1 of its own PID namespace): a private /tmp and /dev/shm of
    at most ``tmp_bytes`` each (the read-only folders of ``keep``, inside /tmp, bound again
    into it), a /proc that shows this namespace only, no further user namespaces, then every
    capability dropped."""
    _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    kept = [(path, os.open(path, os.O_PATH | os.O_DIRECTORY)) for path in keep]
    options = f"size={int(tmp_bytes)},mode=0700,nr_inodes=65536".encode()
    for where in (b"/tmp", b"/dev/shm"):
        _check(libc.mount(b"tmpfs", where, b"tmpfs", MS_NOSUID | MS_NODEV, options),
               f"mount tmpfs on {where.decode()}")
    for path, fd in kept:
        os.makedirs(path, 0o755, exist_ok=True)
        _check(libc.mount(f"/proc/self/fd/{fd}".encode(), path.encode(), None,
                          MS_BIND | MS_REC, None), f"bind {path}")
        _check(libc.mount(None, path.encode(), None,
                          MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, None),
               f"remount {path} read-only")
        os.close(fd)
    _check(libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None),
           "mount /proc")
    # A user namespace of its own would let the submission mount filesystems (a tmpfs whose
    # memory nobody counts): this namespace may create none.
    with open("/proc/sys/user/max_user_namespaces", "w") as f:
        f.write("0")
    os.mkdir(WORKDIR, 0o700)
    os.chdir(WORKDIR)
    _drop_capabilities(libc)


def _split(request: dict, libc) -> None:
    """Fork once more: the outer process only waits and mirrors how the inner one ends, so the
    sandbox's parent is a disposable process, not the zygote.

    ``request["nested"]``: the inner process is PID 1 of new user, mount, PID, network, IPC
    and UTS namespaces with a private /tmp and /dev/shm and its own /proc, and keeps no
    capability (see :func:`_private_mounts`). ``request["isolate"]`` (the fallback where the
    zygote runs as root without bubblewrap): new PID, mount and network namespaces and a /proc
    of its own. Either way it cannot see or signal any process outside, has no network, and
    the kernel kills everything it started when it ends.
    """
    nested = bool(request.get("nested")) and libc is not None
    isolate = bool(request.get("isolate")) and libc is not None and not nested
    if nested:
        _enter_namespaces(libc)
    elif isolate and libc.unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET) != 0:
        isolate = False
    pid = os.fork()
    if pid:
        os.closerange(3, 65536)
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)
        os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)
    os.setsid()  # a group of its own: killing its process group cannot reach the outer one
    if libc is not None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if nested:
        _private_mounts(libc, int(request["tmp_bytes"]), request.get("keep") or [])
    elif isolate:
        libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None)
        libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)


def _probe_nested(libc) -> str | None:
    """Can a sandbox get its namespaces, private mounts and no capabilities here? ``None``
    when it can, else why not (tried in a throwaway child of the zygote)."""
    if libc is None:
        return "the C library cannot be loaded"
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            _split({"nested": True, "tmp_bytes": 1 << 20}, libc)
            with open("/proc/self/status") as f:
                status = dict(line.split(":", 1) for line in f if ":" in line)
            if int(status["CapEff"], 16) or status["NoNewPrivs"].strip() != "1" or \
                    os.listdir("/proc/self/task") != ["1"]:
                raise OSError("capabilities or no_new_privs did not hold")
            os._exit(0)
        except BaseException as err:  # say why, then leave
            with contextlib.suppress(OSError):
                os.write(w, f"{type(err).__name__}: {err}".encode()[:500])
            os._exit(1)
    os.close(w)
    why = b""
    while chunk := os.read(r, 4096):
        why += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if status == 0:
        return None
    return why.decode("utf-8", "replace") or f"the probe ended with status {status}"


def _become_child(request: dict, fds: list[int], libc) -> None:
    """In the forked process: lock down, then serve the submission (never returns)."""
    code = 70
    try:
        control_fd, result_fd, output_fd = fds
        # No parent-death signal here: if the zygote dies (killed by a submission, or by the
        # out-of-memory killer), the sandboxes it made run on and the grader still reads them.
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        os.close(output_fd)
        os.close(devnull)
        os.set_inheritable(control_fd, False)
        os.set_inheritable(result_fd, False)
        if not request.get("nested"):
            os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        _set_limits(request["limits"])
        _split(request, libc)
        if request.get("uid") is None and os.geteuid() == 0 and libc is not None:
            # root without bubblewrap, and Python not readable by nobody: stay uid 0, but
            # without a capability (no mount, no reading others' private files)
            _drop_capabilities(libc)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        from ._child import main

        main(control_fd, result_fd, request.get("uid"))  # becomes ``uid`` before student code
    except BaseException as err:  # say why, then leave
        try:
            os.write(2, f"sandbox start failed: {type(err).__name__}: {err}\n".encode())
        except OSError:
            pass
    os._exit(code)


def _orphans(me: int, known: set[int]) -> list[int]:
    """Processes re-parented to the zygote that it did not start (escaped daemons)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in known:
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == me:
            out.append(int(entry))
    return out


def _reap(sock: socket.socket, children: dict[int, int]) -> bool:
    """Collect every child that ended and report the sandboxes among them; True if any."""
    reported = False
    while True:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return reported
        if pid == 0:
            return reported
        if pid in children:
            children.pop(pid)
            _send(sock, {"op": "exited", "pid": pid, "status": status,
                         "cpu": usage.ru_utime + usage.ru_stime})
            reported = True


def _sweep(me: int, children: dict[int, int]) -> None:
    """Kill the processes re-parented to the zygote that it did not start."""
    for pid in _orphans(me, set(children)):
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass


def _spawn(sock: socket.socket, request: dict, fds: list[int], libc,
           children: dict[int, int]) -> None:
    """Fork a sandbox for a ``spawn`` request and report its pid."""
    if request.get("op") != "spawn" or len(fds) != 3:
        for fd in fds:
            os.close(fd)
        return
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        sock.close()
        _become_child(request, fds, libc)
    for fd in fds:
        os.close(fd)
    children[pid] = request["id"]
    _send(sock, {"op": "spawned", "id": request["id"], "pid": pid})


def _ready(me: int, libc, probe: bool) -> dict:
    ready = {"op": "ready", "pid": me, "uid": os.getuid()}
    if probe:
        why = _probe_nested(libc)
        ready.update(nested=why is None, nested_error=why)
    return ready


def serve(sock_fd: int, probe: bool = False) -> None:
    """The zygote's main loop (started by the grader as ``python -I -c …``). With ``probe``,
    it first tries a nested sandbox (:func:`_probe_nested`) and says in its ``ready`` message
    whether sandboxes can have one."""
    import numpy  # noqa: F401 - imported once here, shared by every sandbox
    import torch

    torch.set_num_threads(1)
    import cnnlib  # noqa: F401

    from . import _child  # noqa: F401
    from .guard import warm_up

    warm_up()

    libc = _libc()
    if libc is not None:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    sock = socket.socket(fileno=sock_fd)
    me = os.getpid()
    children: dict[int, int] = {}
    _send(sock, _ready(me, libc, probe))
    sweep_every, ticks = 10, 0
    while True:
        readable, _, _ = select.select([sock], [], [], 0.05)
        ticks += 1
        if _reap(sock, children):
            ticks = sweep_every  # sweep now: its orphans arrive when it dies
        if ticks >= sweep_every:
            ticks = 0
            _sweep(me, children)
        if not readable:
            continue
        try:
            data, fds, _, _ = socket.recv_fds(sock, 1 << 20, 3)
        except OSError:
            data, fds = b"", []
        if not data:
            break
        request = json.loads(data)
        if request.get("op") == "stop":
            break
        _spawn(sock, request, fds, libc, children)
    for pid in children:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    os._exit(0)
