"""Live servers on a directory of the test's choosing, restarted and killed at will.

`spawn("triokv", workdir, "--appendonly", "yes")` starts a node (or a real
redis-server with "redis") whose files live in `workdir`, so a test can stop
it, kill it with SIGKILL, look at or damage its files, and start another one on
the same directory. Every process started here is stopped by pid at teardown.
"""

import os
import signal
import subprocess
import time

import pytest
import redis as redis_py

from tests.support import ServerProcess, free_port, need_binary, wait_until


class Server(ServerProcess):
    """A ServerProcess whose directory is given and outlives it."""

    def __init__(self, kind, workdir, extra_args=()):
        super().__init__(kind, extra_args, name="%s-%s" % (kind, os.path.basename(str(workdir))))
        self.workdir = str(workdir)
        self.exit_status = None

    def start(self, wait=True):
        self.dir = self.workdir
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "server-%d.log" % self.port)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.argv(self.port), cwd=self.dir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if wait and not self._wait_ready():
            raise RuntimeError("%s did not start; log:\n%s" % (self.name, self.log_tail()))
        return self

    def client(self, **kwargs) -> redis_py.Redis:
        kwargs.setdefault("socket_timeout", 30)
        return redis_py.Redis(host=self.host, port=self.port, **kwargs)

    def wait_loaded(self, deadline=30.0):
        """Until the dataset is loaded: PING answers PONG rather than -LOADING."""
        client = self.client()

        def pong():
            try:
                return client.ping()
            except redis_py.BusyLoadingError:
                return False

        try:
            wait_until(pong, deadline, "%s to finish loading" % self.name)
        finally:
            client.close()
        return self

    def kill9(self):
        """SIGKILL by pid, as a crash would."""
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def terminate(self, timeout=30.0) -> int:
        """SIGTERM by pid; the exit status."""
        if self.alive():
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=timeout)
        return self.proc.returncode

    def wait_exit(self, timeout=30.0) -> int:
        return self.proc.wait(timeout=timeout)

    def log_text(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        self._reap()  # the directory stays: tests look at the files


@pytest.fixture
def spawn():
    """spawn(kind, workdir, *args, wait=True) -> a started Server; all are stopped at teardown."""
    started = []

    def make(kind, workdir, *extra_args, wait=True):
        if kind == "redis":
            need_binary("redis-server")
            extra_args = ("--enable-debug-command", "yes") + tuple(extra_args)
        server = Server(kind, workdir, extra_args)
        started.append(server)
        return server.start(wait=wait)

    yield make
    for server in started:
        server.stop()


def refuses_to_start(server_kind, workdir, *args, spawn, timeout=30.0):
    """Start a node that must refuse (exit status 1); returns its log."""
    server = spawn(server_kind, workdir, *args, wait=False)
    try:
        status = server.wait_exit(timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError("the node started instead of refusing; log:\n" + server.log_text()) from None
    assert status == 1, "exit status %r; log:\n%s" % (status, server.log_text())
    return server.log_text()


def snapshot_files(directory) -> dict:
    """name -> bytes of every data file in directory (and its AOF directory), logs excluded."""
    out = {}
    for root, _dirs, files in os.walk(directory):
        for name in files:
            if name.startswith("server-") and name.endswith(".log"):
                continue
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, directory)] = f.read()
    return out


def wait_for(condition, deadline=20.0, what="a condition"):
    return wait_until(condition, deadline, what, interval=0.02)


def info(client, section="persistence") -> dict:
    return {k: v for k, v in client.info(section).items()}


def now_ms() -> int:
    return int(time.time() * 1000)
