"""Live servers for tests: a triokv-node or a real redis-server on a free port.

Every process started here is stopped by pid (SIGTERM, then SIGKILL after a
deadline). Readiness is a condition with a deadline: the server answered a
PING (any RESP reply counts, so a node still lacking PING is "up" too).

Fixtures for test packages that talk to live servers; a conftest.py imports
the ones it needs:

    from tests.support import triokv_server, redis_server, triokv, redis  # noqa: F401

* `triokv_server` / `redis_server`: session-scoped processes (ServerProcess:
  .host, .port, .pid, .log_tail()), started once, killed by pid at the end;
* `triokv` / `redis`: the same process for one test, emptied with FLUSHALL
  first, and restarted (new port) if an earlier test crashed it;
* `server_factory`: extra servers with their own directives, stopped after the test.

Without redis-server on PATH the tests that need it skip with the reason
(tests/conftest.py repeats it at the end of the run); with CI set they fail.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.resp_wire import Conn

START_DEADLINE = 20.0
STOP_DEADLINE = 10.0
_PORT_ATTEMPTS = 5


def free_port() -> int:
    """A port that was free a moment ago (bound on port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, deadline: float, what: str, interval: float = 0.01):
    """Poll `condition()` until it is truthy; fail naming `what` after `deadline` seconds."""
    end = time.monotonic() + deadline
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= end:
            raise AssertionError("timed out after %.1fs waiting for %s" % (deadline, what))
        time.sleep(interval)


# Why tests were skipped for a missing tool; tests/conftest.py prints it at the end of the run.
SKIP_REASONS = set()


def need_binary(name: str) -> str:
    """The path of a Redis tool; CI must have it (fail), elsewhere skip with the reason."""
    path = shutil.which(name)
    if path:
        return path
    reason = "%s not found on PATH (install Redis 7.0 to run the differential and tool tests)" % name
    if os.environ.get("CI"):
        pytest.fail("CI is set but " + reason, pytrace=False)
    SKIP_REASONS.add(reason)
    pytest.skip(reason)


def triokv_command() -> list:
    """How to start a node: the console script next to this interpreter, else `python -m node`."""
    script = Path(sys.executable).parent / "triokv-node"
    if script.exists():
        return [str(script)]
    found = shutil.which("triokv-node")
    return [found] if found else [sys.executable, "-m", "node"]


def answers_ping(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when the server answered a PING with a complete line and has its dataset loaded."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            data = b""
            while not data.endswith(b"\r\n"):
                chunk = s.recv(4096)
                if not chunk:
                    return False
                data += chunk
            # -NOAUTH still means "up"; -LOADING means "not ready yet".
            return data[:1] == b"+" or (data[:1] == b"-" and not data.startswith(b"-LOADING"))
    except OSError:
        return False


class ServerProcess:
    """One server process on 127.0.0.1. `start()` picks a free port, retrying on a collision."""

    def __init__(self, kind: str, extra_args=(), name: str = ""):
        self.kind = kind  # "triokv" | "redis"
        self.extra_args = [str(a) for a in extra_args]
        self.name = name or kind
        self.host = "127.0.0.1"
        self.port = None
        self.proc = None
        self.dir = None
        self.log_path = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def argv(self, port: int) -> list:
        common = ["--port", str(port), "--save", "", "--appendonly", "no", "--bind", self.host, "--dir", self.dir]
        if self.kind == "redis":
            return [need_binary("redis-server"), *common, "--daemonize", "no", *self.extra_args]
        return [*triokv_command(), *common, *self.extra_args]

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="%s-" % self.name)
        last = ""
        for attempt in range(_PORT_ATTEMPTS):
            port = free_port()
            self.log_path = os.path.join(self.dir, "server-%d.log" % attempt)
            with open(self.log_path, "wb") as log:
                self.proc = subprocess.Popen(self.argv(port), cwd=self.dir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            self.port = port
            if self._wait_ready():
                return self
            last = self.log_tail()
            self._reap()
            if "in use" not in last.lower():
                break  # not a port collision: retrying would fail the same way
        raise RuntimeError("%s did not start; log:\n%s" % (self.name, last))

    def _wait_ready(self) -> bool:
        end = time.monotonic() + START_DEADLINE
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            if answers_ping(self.host, self.port):
                return True
            time.sleep(0.02)
        return False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n: int = 40) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    def _reap(self):
        """SIGTERM by pid, SIGKILL if it is still there after the deadline."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        try:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=STOP_DEADLINE)
        except ProcessLookupError:
            pass

    def stop(self):
        self._reap()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def restart_if_dead(self):
        """Bring back a server an earlier test crashed, so one crash fails one test."""
        if not self.alive():
            self.restart()

    def restart(self):
        if self.proc is not None:
            sys.stderr.write("\n%s (pid %s) is restarted; log tail:\n%s\n" % (self.name, self.pid, self.log_tail()))
        self.stop()
        self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def flushall(server: ServerProcess):
    """Empty every database; fails the test if the server cannot."""
    with Conn(server.host, server.port, timeout=10) as conn:
        reply = conn.call("FLUSHALL")
    if reply.raw != b"+OK\r\n":
        pytest.fail("FLUSHALL on %s answered %r" % (server.name, reply.raw), pytrace=False)


@pytest.fixture(scope="session")
def triokv_server():
    with ServerProcess("triokv") as server:
        yield server


@pytest.fixture(scope="session")
def redis_server():
    need_binary("redis-server")
    with ServerProcess("redis", name="redis-server") as server:
        yield server


def fresh(server: ServerProcess) -> ServerProcess:
    """The server, running and empty: restarted if an earlier test crashed it."""
    server.restart_if_dead()
    try:
        flushall(server)
    except OSError:  # it was dying as we connected: a crash at the end of the last test
        server.restart()
        flushall(server)
    return server


@pytest.fixture
def triokv(triokv_server):
    """The session node, emptied for this test."""
    return fresh(triokv_server)


@pytest.fixture
def redis(redis_server):
    """The session redis-server, emptied for this test."""
    return fresh(redis_server)


@pytest.fixture
def server_factory():
    """Start extra servers with their own directives (`server_factory("triokv", "--maxclients", 3)`);
    all are stopped at teardown."""
    started = []

    def make(kind, *extra_args):
        if kind == "redis":
            need_binary("redis-server")
        server = ServerProcess(kind, extra_args).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
