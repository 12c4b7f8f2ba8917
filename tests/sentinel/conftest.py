"""Live groups for sentinel tests: nodes (triokv or redis-server) and sentinels (triokv-sentinel
or `redis-server --sentinel`) on loopback, on free ports, each in a directory of its own.

`group(...)` starts three nodes (the first one master) and three sentinels watching it,
waits until every sentinel knows both replicas and the two other sentinels, and
tunes the sentinels' periods with SENTINEL DEBUG so that scenarios take seconds.
Each sentinel's events are collected from its own pub/sub (`sentinel.events`), as
clients and the operator CLI receive them. Every process is stopped by pid at
teardown; every wait has a deadline.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import redis as redis_py

from tests.replication.conftest import Node, nodes  # noqa: F401  (the nodes fixture, for single-node tests)
from tests.support import answers_ping, free_port, need_binary, wait_until

DOWN_AFTER = 1000
FAILOVER_TIMEOUT = 5000
# Shorter periods than Redis's defaults (INFO every 10 s, hello every 2 s), for both kinds.
DEBUG_PERIODS = ("info-period", 1000, "publish-period", 500)


def sentinel_command() -> list:
    script = Path(sys.executable).parent / "triokv-sentinel"
    return [str(script)] if script.exists() else [sys.executable, "-m", "sentinel"]


class EventWatcher:
    """Every message a sentinel publishes (PSUBSCRIBE *), with the time it arrived."""

    def __init__(self, port):
        self.events = []  # (monotonic time, channel, message)
        self._stop = False
        self._client = redis_py.Redis(port=port, socket_timeout=2, decode_responses=True)
        self._pubsub = self._client.pubsub()
        self._pubsub.psubscribe("*")
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            try:
                message = self._pubsub.get_message(timeout=0.1)
            except (redis_py.ConnectionError, redis_py.TimeoutError, OSError, ValueError, AttributeError):
                return
            if message and message["type"] == "pmessage":
                self.events.append((time.monotonic(), message["channel"], message["data"]))

    def types(self):
        return [channel for _, channel, _ in self.events]

    def stop(self):
        self._stop = True
        self._thread.join(timeout=2)
        try:
            self._pubsub.close()
            self._client.close()
        except (redis_py.RedisError, OSError):
            pass


class SentinelProcess:
    """A triokv or redis sentinel with its own sentinel.conf, restartable in place."""

    def __init__(self, kind, lines, name):
        self.kind = kind
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="sentinel-%s-" % name)
        self.port = free_port()
        self.conf = os.path.join(self.dir, "sentinel.conf")
        with open(self.conf, "w") as f:
            f.write("# written by the test\nport %d\nbind 127.0.0.1\n%s\n" % (self.port, "\n".join(lines)))
        self.log_path = os.path.join(self.dir, "sentinel.log")
        self.proc = None
        self.watcher = None

    def start(self):
        argv = [*sentinel_command(), self.conf] if self.kind == "triokv" else [need_binary("redis-server"), self.conf, "--sentinel"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, cwd=self.dir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_until(lambda: self.proc.poll() is not None or answers_ping("127.0.0.1", self.port), 20, "%s to answer" % self.name)
        if self.proc.poll() is not None:
            raise RuntimeError("%s exited:\n%s" % (self.name, self.log_tail()))
        self.watcher = EventWatcher(self.port)
        return self

    def client(self, **kwargs):
        kwargs.setdefault("socket_timeout", 5)
        return redis_py.Redis(port=self.port, **kwargs)

    def call(self, *args):
        with self.client() as c:
            return c.execute_command(*args)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, signum):
        if self.alive():
            os.kill(self.proc.pid, signum)

    def kill9(self):
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._stop_watcher()

    def stop(self):
        self._stop_watcher()
        if self.alive():
            os.kill(self.proc.pid, signal.SIGCONT)
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def _stop_watcher(self):
        if self.watcher is not None:
            self.watcher.stop()

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def types(self):
        return self.watcher.types() if self.watcher else []

    def log_tail(self, n=60):
        try:
            return "\n".join(Path(self.log_path).read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def master_addr(self):
        try:
            host, port = self.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")
        except (redis_py.RedisError, OSError, TypeError):
            return None
        return host.decode(), int(port)


class Group:
    def __init__(self, nodes, sentinels):
        self.nodes = nodes
        self.sentinels = sentinels

    @property
    def master(self):
        return self.nodes[0]

    def node_at(self, addr):
        return next(n for n in self.nodes if (n.host, n.port) == tuple(addr))

    def agreed_master(self, among=None):
        addrs = {s.master_addr() for s in (among or self.sentinels) if s.alive()}
        return addrs.pop() if len(addrs) == 1 else None

    def wait_new_master(self, old, deadline=30, among=None):
        """Until every live sentinel reports the same master, other than `old`, and that node says master."""

        def moved():
            addr = self.agreed_master(among)
            if addr is None or addr == (old.host, old.port):
                return None
            try:
                return addr if self.node_at(addr).info()["role"] == "master" else None
            except (redis_py.RedisError, OSError):
                return None

        return self.node_at(wait_until(moved, deadline, "a new master agreed by every sentinel", interval=0.05))

    def dump(self) -> str:
        return "\n\n".join("%s:\n%s" % (s.name, s.log_tail()) for s in self.sentinels)


@pytest.fixture
def group():
    """group(node_kind, sentinel_kinds, priorities, failover_timeout) -> a running Group."""
    made_nodes, made_sentinels = [], []

    def make(node_kind="triokv", sentinel_kinds=("triokv", "triokv", "triokv"), priorities=(100, 100, 100), failover_timeout=FAILOVER_TIMEOUT, quorum=2, extra_lines=(), node_args=()):
        if node_kind == "redis" or "redis" in sentinel_kinds:
            need_binary("redis-server")
        master = None
        for i, priority in enumerate(priorities):
            node = Node(node_kind, ["--replica-priority", priority, *node_args], name="%s-node%d" % (node_kind, i))
            node.replica_of = master
            made_nodes.append(node)
            node.start()
            master = master or node
        for replica in made_nodes[1:]:
            wait_until(lambda r=replica: r.info().get("master_link_status") == "up", 20, "%s to sync" % replica.name)
        lines = ["sentinel monitor mymaster 127.0.0.1 %d %d" % (master.port, quorum),
                 "sentinel down-after-milliseconds mymaster %d" % DOWN_AFTER,
                 "sentinel failover-timeout mymaster %d" % failover_timeout, *extra_lines]
        for i, kind in enumerate(sentinel_kinds):
            made_sentinels.append(SentinelProcess(kind, lines, "%s-sentinel%d" % (kind, i)).start())
        for s in made_sentinels:
            s.call("SENTINEL", "DEBUG", *DEBUG_PERIODS)
        g = Group(made_nodes, made_sentinels)
        wait_until(lambda: all(_knows_everyone(s, len(made_nodes) - 1, len(made_sentinels) - 1) for s in made_sentinels), 20, "sentinels to discover the group")
        return g

    yield make
    for s in made_sentinels:
        s.remove()
    for n in made_nodes:
        n.remove()


def _knows_everyone(s, replicas, sentinels) -> bool:
    try:
        master = s.client(decode_responses=True).sentinel_master("mymaster")
    except (redis_py.RedisError, OSError):
        return False
    return master["num-slaves"] == replicas and master["num-other-sentinels"] == sentinels


def subsequence(wanted, seen) -> bool:
    """`wanted` appears in `seen` in this order (other events may come between)."""
    it = iter(seen)
    return all(any(x == w for x in it) for w in wanted)


LEADER_EVENTS = ["+sdown", "+odown", "+try-failover", "+elected-leader", "+failover-state-select-slave", "+selected-slave",
                 "+failover-state-send-slaveof-noone", "+failover-state-wait-promotion", "+promoted-slave",
                 "+failover-state-reconf-slaves", "+slave-reconf-sent", "+slave-reconf-inprog", "+slave-reconf-done",
                 "+failover-end", "+switch-master"]
