"""Processes the CLI starts detached and later stops: pid files, identity checks, signals.

A pid file can outlive its process and, once the pid is reused, name a stranger. So next to
`<name>.pid` we keep `<name>.start`, the process's start time (field 22 of /proc/PID/stat,
clock ticks since boot): a pid is ours only while both match. The command line cannot serve
as the check, since redis-server rewrites it (`redis-server 127.0.0.1:7000`).
"""

import errno
import os
import signal
import socket
import subprocess
import time

STOP_DEADLINE = 10.0


def start_detached(argv, cwd, out_path, pid_path) -> int:
    """Start argv in its own session (it survives the CLI), record its pid, return it.
    stdout and stderr go to out_path: what a server says before its logfile is open."""
    with open(out_path, "ab") as out:
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
    record(pid_path, proc.pid)
    return proc.pid


def _stat(pid: int):
    """(state, start ticks) of a live pid, or None. Zombies and dead pids count as gone."""
    _reap(pid)
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            raw = f.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = raw[raw.rindex(b")") + 2 :].split()
    state = fields[0].decode()
    if state in ("Z", "X", "x"):
        return None
    return state, int(fields[19])


def alive(pid: int) -> bool:
    """Whether pid is a live process (not a zombie)."""
    return _stat(pid) is not None


def _reap(pid: int):
    """Collect the exit status if the process is our own child, so it does not linger as a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def record(pid_path: str, pid: int):
    stat = _stat(pid)
    _write(pid_path, "%d\n" % pid)
    _write(_start_path(pid_path), "%d\n" % (stat[1] if stat else -1))


def _start_path(pid_path: str) -> str:
    return pid_path[: -len(".pid")] + ".start" if pid_path.endswith(".pid") else pid_path + ".start"


def _write(path: str, text: str):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _read_int(path: str):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def running_pid(pid_path: str):
    """The pid recorded in pid_path while that very process (same start time) is alive, else None."""
    pid = _read_int(pid_path)
    start = _read_int(_start_path(pid_path))
    if pid is None or start is None:
        return None
    stat = _stat(pid)
    return pid if stat is not None and stat[1] == start else None


def forget(pid_path: str):
    for path in (pid_path, _start_path(pid_path)):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def signal_pid(pid_path: str, sig) -> int:
    """Send sig to the recorded process if it is still ours; its pid, or None when it is not running."""
    pid = running_pid(pid_path)
    if pid is not None:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return None
    return pid


def wait_gone(pid_path: str, deadline: float) -> bool:
    end = time.monotonic() + deadline
    while running_pid(pid_path) is not None:
        if time.monotonic() >= end:
            return False
        time.sleep(0.02)
    return True


def stop(pid_path: str, deadline: float = STOP_DEADLINE):
    """SIGTERM, then SIGKILL after the deadline; forget the pid files. The pid stopped, or None."""
    pid = signal_pid(pid_path, signal.SIGTERM)
    if pid is not None and not wait_gone(pid_path, deadline):
        signal_pid(pid_path, signal.SIGKILL)
        wait_gone(pid_path, deadline)
    forget(pid_path)
    return pid


def port_free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now (bound with SO_REUSEADDR, as servers do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True
