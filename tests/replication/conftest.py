"""Live masters and replicas: triokv nodes and real redis-servers on loopback.

`nodes` is a factory: `nodes("triokv")`, `nodes("redis", replica_of=master)`,
each with its own directory that outlives restarts (a replica restarted from
its own snapshot must find it). Every process is stopped by pid at teardown.
Every wait has a deadline (tests.support.wait_until).

Real-redis tests need redis-server: without it they skip with the reason,
and with CI set they fail (tests.support.need_binary).
"""

import os
import shutil
import signal
import subprocess
import tempfile

import pytest
import redis as redis_py

from tests.support import ServerProcess, free_port, need_binary, wait_until

SYNC_DEADLINE = 20.0
# Every node starts ready to sync at once: no diskless delay (Redis's default is 5 s).
COMMON = ["--repl-diskless-sync-delay", "0"]
REDIS_EXTRA = ["--enable-debug-command", "yes"]


class Node(ServerProcess):
    """A server on a port and directory of its own, kept across restarts."""

    def __init__(self, kind, extra_args=(), name=""):
        extra = COMMON + (REDIS_EXTRA if kind == "redis" else []) + [str(a) for a in extra_args]
        super().__init__(kind, extra, name=name or kind)
        self.dir = tempfile.mkdtemp(prefix="repl-%s-" % self.name)
        self.port = free_port()
        self.replica_of = None

    def start(self):
        """Start on this node's port and directory (retrying another port on a collision)."""
        for attempt in range(5):
            self.log_path = os.path.join(self.dir, "server-%d.log" % self.port)
            argv = self.argv(self.port)
            if self.replica_of is not None:
                argv += ["--replicaof", self.replica_of.host, str(self.replica_of.port)]
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(argv, cwd=self.dir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            if self._wait_ready():
                return self
            tail = self.log_tail()
            self._reap()
            if "in use" not in tail.lower():
                raise RuntimeError("%s did not start; log:\n%s" % (self.name, tail))
            self.port = free_port()
        raise RuntimeError("%s found no free port" % self.name)

    def stop_process(self):
        """Stop the process (SIGTERM, then SIGKILL) and keep its directory."""
        self._reap()

    def kill9(self):
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def remove(self):
        self._reap()
        shutil.rmtree(self.dir, ignore_errors=True)

    def client(self, **kwargs) -> redis_py.Redis:
        kwargs.setdefault("socket_timeout", 15)
        return redis_py.Redis(host=self.host, port=self.port, **kwargs)

    def info(self, section="replication") -> dict:
        with self.client() as c:
            return c.info(section)

    def stats(self) -> dict:
        return self.info("stats")

    def digest(self) -> str:
        with self.client(decode_responses=True) as c:
            return c.execute_command("DEBUG", "DIGEST")

    def log_text(self) -> str:
        text = []
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".log"):
                with open(os.path.join(self.dir, name), "rb") as f:
                    text.append(f.read().decode("utf-8", "replace"))
        return "\n".join(text)


def wait_linked(replica, deadline=SYNC_DEADLINE):
    """Until the replica's link is up and its sync is over."""

    def up():
        try:
            info = replica.info()
        except (redis_py.ConnectionError, redis_py.TimeoutError):
            return False
        return info.get("master_link_status") == "up" and info.get("master_sync_in_progress") == 0

    wait_until(up, deadline, "%s to be linked to its master" % replica.name, interval=0.02)


def wait_caught_up(master, *replicas, deadline=SYNC_DEADLINE):
    """Until every replica applied the master's whole stream so far (same offset)."""
    target = master.info()["master_repl_offset"]

    def caught_up():
        return all(r.info().get("slave_repl_offset", -1) >= target for r in replicas)

    wait_until(caught_up, deadline, "replicas to reach offset %d" % target, interval=0.02)


def wait_same_data(master, *replicas, deadline=SYNC_DEADLINE):
    """Until every replica applied the master's whole stream and holds the same dataset
    (DEBUG DIGEST, the same algorithm in triokv and Redis). Polled as a whole: keys that
    expire meanwhile change the master's digest, and their DEL then reaches the replicas."""

    def same():
        offset = master.info()["master_repl_offset"]
        if any(r.info().get("slave_repl_offset", -1) < offset for r in replicas):
            return False
        digest = master.digest()
        return digest if all(r.digest() == digest for r in replicas) else False

    return wait_until(same, deadline, "replicas to hold the master's data", interval=0.02)


def sync_counts(master) -> tuple:
    stats = master.stats()
    return stats["sync_full"], stats["sync_partial_ok"], stats["sync_partial_err"]


@pytest.fixture
def nodes():
    """nodes(kind, *directives, replica_of=None, start=True) -> a running Node."""
    made = []

    def make(kind, *extra_args, replica_of=None, start=True, name=""):
        if kind == "redis":
            need_binary("redis-server")
        node = Node(kind, extra_args, name=name or "%s%d" % (kind, len(made)))
        node.replica_of = replica_of
        made.append(node)
        return node.start() if start else node

    yield make
    for node in made:
        node.remove()


@pytest.fixture
def need_redis():
    need_binary("redis-server")

