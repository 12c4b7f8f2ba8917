"""The cluster the durability drills break: node1..3, sentinel1..3 and a client, each in a
network namespace of its own (tests/faults/netns.py), started from plain command lines.

    with Network(HOSTS, workdir) as net:
        cluster = Cluster(net, implementation="triokv", mode="durable").start()
        cluster.wait_healthy(20, "the first start")

Topology: node1 starts as master, node2 and node3 replicate it; three sentinels monitor it
as `mymaster`, quorum 2, down-after-milliseconds 1000, failover-timeout 3000, hostnames
resolved and announced. Each node runs from its own node.conf in its own directory, so a
restarted node comes back with whatever CONFIG REWRITE (sent by sentinels) recorded.

Why each node has `appendonly yes` + `appendfsync always`: the guarantee holds "as long as a
majority of the data nodes eventually come back", and a node that comes back must come back
with what it acknowledged, or the guarantee says nothing. With every write fsynced before it
is acknowledged (or acked to the master), a node survives kill -9 and even power loss with its
data; everysec would do for kill -9 alone (the kernel keeps written pages), not for power.

Modes: "default" is Redis's asynchronous replication (synchronous-replicas 0, no
min-replicas-to-write), "durable" adds `synchronous-replicas 1`, `synchronous-replicas-timeout
1000` and `min-replicas-max-lag 1` (the refusal window of a master that lost its replicas).
implementation="redis" runs real redis-server 7 and `redis-server --sentinel` (default only).

Timing made lean for tests, on both implementations: `repl-timeout 5` (a stale replication
link dies in seconds, not a minute), and SENTINEL DEBUG info-period 1000 and publish-period
500 (Redis's own sentinel tests do the same): sentinels refresh offsets and roles every second
and turn a returning old master into a replica after 2 s (4 publish periods) instead of 8.
"""

import sys
import time
from pathlib import Path

from tests.faults.probe import Probe
from tests.support import need_binary, triokv_command

NODES = {"node1": 7000, "node2": 7001, "node3": 7002}
SENTINELS = {"sentinel1": 26379, "sentinel2": 26380, "sentinel3": 26381}
CLIENT = "client"
HOSTS = [*NODES, *SENTINELS, CLIENT]
SERVICE = "mymaster"
FIRST_MASTER = "node1"
MODES = ("default", "durable")
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 3000
SYNC_TIMEOUT_MS = 1000
SENTINEL_DEBUG = ("info-period", 1000, "publish-period", 500)
PROBE_TIMEOUT = 1.0
POLL = 0.2


def node_conf(host: str, implementation: str, mode: str) -> str:
    lines = [
        "port %d" % NODES[host],
        "bind 0.0.0.0",
        "protected-mode no",
        "replica-announce-ip %s" % host,
        "appendonly yes",
        "appendfsync always",
        'save ""',
        "repl-diskless-sync-delay 0",
        "repl-timeout 5",
        "min-replicas-max-lag 1",
    ]
    if implementation == "redis":
        lines.append("enable-debug-command yes")  # DEBUG DIGEST from the client namespace
    if mode == "durable":
        lines += ["synchronous-replicas 1", "synchronous-replicas-timeout %d" % SYNC_TIMEOUT_MS]
    if host != FIRST_MASTER:
        lines.append("replicaof %s %d" % (FIRST_MASTER, NODES[FIRST_MASTER]))
    return "\n".join(lines) + "\n"


def sentinel_conf(host: str) -> str:
    lines = [
        "port %d" % SENTINELS[host],
        "bind 0.0.0.0",
        "protected-mode no",
        "sentinel resolve-hostnames yes",
        "sentinel announce-hostnames yes",
        "sentinel announce-ip %s" % host,
        "sentinel monitor %s %s %d 2" % (SERVICE, FIRST_MASTER, NODES[FIRST_MASTER]),
        "sentinel down-after-milliseconds %s %d" % (SERVICE, DOWN_AFTER_MS),
        "sentinel failover-timeout %s %d" % (SERVICE, FAILOVER_TIMEOUT_MS),
        "sentinel parallel-syncs %s 1" % SERVICE,
    ]
    return "\n".join(lines) + "\n"


class Cluster:
    """Processes, observations and restarts of one drill cluster; see the module docstring."""

    def __init__(self, net, implementation: str = "triokv", mode: str = "default"):
        if implementation == "redis" and mode != "default":
            raise ValueError("real Redis has no synchronous mode")
        self.net, self.implementation, self.mode = net, implementation, mode
        self.processes = {}
        self.events = []  # (time.time(), text): what the drills did, for reading losses
        self.probe = None

    # ---- starting and restarting ----

    def start(self, deadline: float = 30.0) -> "Cluster":
        self.probe = Probe.start(self.net, CLIENT)
        for host in NODES:
            (self.net.workdir / host / "node.conf").write_text(node_conf(host, self.implementation, self.mode))
        for host in SENTINELS:
            (self.net.workdir / host / "sentinel.conf").write_text(sentinel_conf(host))
        self.spawn(FIRST_MASTER)
        self._wait(lambda: self._answers(FIRST_MASTER), deadline, "node1 to answer")
        for host in NODES:
            if host != FIRST_MASTER:
                self.spawn(host)
        self._wait(lambda: self._replica_count(FIRST_MASTER) == 2, deadline, "both replicas online")
        for host in SENTINELS:
            self.spawn(host)
        for host, port in SENTINELS.items():
            self._wait(lambda: self._answers(host), deadline, "%s to answer" % host)
            self.probe.call(host, port, "execute_command", "SENTINEL", "DEBUG", *SENTINEL_DEBUG)
        self.note("cluster up (%s, %s mode)" % (self.implementation, self.mode))
        return self

    def argv(self, host: str) -> list:
        if host in NODES:
            if self.implementation == "redis":
                return [need_binary("redis-server"), "node.conf"]
            return [*triokv_command(), "node.conf"]
        if self.implementation == "redis":
            return [need_binary("redis-server"), "sentinel.conf", "--sentinel"]
        return [*sentinel_command(), "sentinel.conf"]

    def spawn(self, host: str):
        self.processes[host] = self.net.spawn(host, self.argv(host), log_name="server")
        return self.processes[host]

    def restart(self, host: str):
        """After kill(): cable back in, the same command from the same directory."""
        self.net.rejoin(host)
        self.note("restart %s" % host)
        return self.spawn(host)

    def note(self, text: str):
        self.events.append((time.time(), text))

    # ---- observations (through the probe in the client namespace) ----

    def call(self, host: str, *args):
        """A command to a node or sentinel; None when it fails (down, cut off, refused)."""
        port = NODES.get(host) or SENTINELS[host]
        return self.probe.ok(host, port, "execute_command", *args, timeout=PROBE_TIMEOUT)

    def info(self, host: str) -> dict:
        return self.probe.ok(host, NODES[host], "info", "replication", timeout=PROBE_TIMEOUT) or {}

    def _answers(self, host: str) -> bool:
        port = NODES.get(host) or SENTINELS[host]
        return self.probe.ok(host, port, "ping", timeout=PROBE_TIMEOUT) is True

    def _replica_count(self, host: str) -> int:
        info = self.info(host)
        return sum(1 for k, v in info.items() if k.startswith("slave") and isinstance(v, dict) and v.get("state") == "online")

    def sentinel_masters(self) -> dict:
        """sentinel -> the master host it names (None when it does not answer)."""
        named = {}
        for host, port in SENTINELS.items():
            answer = self.probe.ok(host, port, "sentinel_get_master_addr_by_name", SERVICE, timeout=PROBE_TIMEOUT)
            named[host] = answer[0] if answer else None
        return named

    def agreed_master(self):
        names = set(self.sentinel_masters().values())
        return names.pop() if len(names) == 1 and None not in names else None

    def roles(self) -> dict:
        """{"master": host, "replicas": [host, host]} as the sentinels agree now."""
        master = self.agreed_master()
        return {"master": master, "replicas": sorted(h for h in NODES if h != master)}

    # ---- health ----

    def unhealthy(self, synced: bool = False):
        """Why the cluster is not healthy, or None: every process running; the sentinels agree
        on one master and see it plainly (no down flag, no failover running), each other and
        both replicas in sync; the master and the replicas say the same. synced: also every
        replica has the master's whole stream (only meaningful while nobody writes)."""
        dead = [h for h, p in self.processes.items() if not p.alive()]
        if dead:
            return "exited: %s" % ", ".join(dead)
        master = self.agreed_master()
        if master is None:
            return "sentinels name %s" % self.sentinel_masters()
        for host in SENTINELS:
            why = self._sentinel_view(host, master)
            if why:
                return "%s: %s" % (host, why)
        return self._nodes_view(master, synced)

    def _sentinel_view(self, host: str, master: str):
        port = SENTINELS[host]
        state = self.probe.ok(host, port, "sentinel_master", SERVICE, timeout=PROBE_TIMEOUT) or {}
        flags = _flags(state)
        if flags != ["master"] or state.get("num-other-sentinels") != 2 or state.get("num-slaves") != 2:
            return "master %s flags %s, %s replicas, %s other sentinels" % (master, flags, state.get("num-slaves"), state.get("num-other-sentinels"))
        replicas = self.probe.ok(host, port, "sentinel_slaves", SERVICE, timeout=PROBE_TIMEOUT) or []
        seen = {r.get("ip"): r for r in replicas}
        for node in NODES:
            if node == master:
                continue
            r = seen.get(node) or {}
            if _flags(r) != ["slave"] or r.get("master-link-status") != "ok" or r.get("master-host") != master:
                return "replica %s: flags %s, link %s, master-host %s" % (node, r.get("flags"), r.get("master-link-status"), r.get("master-host"))
        return None

    def _nodes_view(self, master: str, synced: bool):
        info = self.info(master)
        if info.get("role") != "master" or self._online(info) != 2:
            return "%s: role %s, %d replicas online" % (master, info.get("role"), self._online(info))
        offset = info.get("master_repl_offset")
        for node in NODES:
            if node == master:
                continue
            r = self.info(node)
            if r.get("role") != "slave" or r.get("master_host") != master or r.get("master_link_status") != "up":
                return "%s: role %s, master %s, link %s" % (node, r.get("role"), r.get("master_host"), r.get("master_link_status"))
            if synced and r.get("slave_repl_offset") != offset:
                return "%s at offset %s, master %s at %s" % (node, r.get("slave_repl_offset"), master, offset)
        return None

    @staticmethod
    def _online(info) -> int:
        return sum(1 for k, v in info.items() if k.startswith("slave") and isinstance(v, dict) and v.get("state") == "online")

    def wait_healthy(self, deadline: float, what: str, synced: bool = False) -> float:
        """Poll until healthy; fail naming the last reason. Returns the seconds it took."""
        start = time.monotonic()
        why = self.unhealthy(synced)
        while why:
            if time.monotonic() - start > deadline:
                raise AssertionError("cluster not healthy %.0fs after %s: %s" % (deadline, what, why))
            time.sleep(POLL)
            why = self.unhealthy(synced)
        return time.monotonic() - start

    def digests(self) -> dict:
        """node -> DEBUG DIGEST of its whole dataset: equal on every node once converged."""
        return {host: self.call(host, "DEBUG", "DIGEST") for host in NODES}

    def _wait(self, condition, deadline: float, what: str):
        end = time.monotonic() + deadline
        while not condition():
            if time.monotonic() > end:
                raise AssertionError("timed out after %.0fs waiting for %s\n%s" % (deadline, what, self.logs()))
            time.sleep(POLL)

    def log_sizes(self, hosts) -> dict:
        """host -> bytes in its log now: a mark for wait_log."""
        return {host: _size(self.processes[host].log_path) for host in hosts}

    def wait_log(self, marks: dict, texts, deadline: float):
        """Until one of the hosts' logs gets a line with one of `texts` after its mark: that
        text (None after the deadline). Nemeses time a heal to a step of a failover this way."""
        texts = (texts,) if isinstance(texts, str) else tuple(texts)
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            for host, mark in marks.items():
                with open(self.processes[host].log_path, "rb") as log:
                    log.seek(mark)
                    found = log.read()
                for text in texts:
                    if text.encode() in found:
                        return text
            time.sleep(0.02)
        return None

    def logs(self, lines: int = 40) -> str:
        return "\n".join("---- %s (%s)\n%s" % (host, p.log_path, p.log_tail(lines)) for host, p in self.processes.items())


def _size(path) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


def _flags(state: dict) -> list:
    """A sentinel's flags for an instance, sorted (redis-py gives a set, or the text)."""
    flags = state.get("flags") or []
    return sorted(flags.split(",") if isinstance(flags, str) else flags)


def sentinel_command() -> list:
    """The triokv-sentinel script next to this interpreter, else `python -m sentinel`."""
    script = Path(sys.executable).parent / "triokv-sentinel"
    return [str(script)] if script.exists() else [sys.executable, "-m", "sentinel"]
