"""A whole group, nodes and sentinels, inside one test process on trio's MockClock.

Every actor has a host name and connects through `Net`, which hands out in-memory
stream pairs. A partition is a set of host pairs whose wires stop carrying bytes
(bytes sent meanwhile wait, as in a TCP black hole, and flow again once healed);
connecting across it hangs until the caller's timeout, like a dropped SYN.
Killing an actor cancels everything it runs: its connections close, as a killed
process's sockets do, and connecting to it is refused until it is restarted.

Sentinels are built the way `triokv-sentinel` builds them (sentinel.server.build),
with the clock, the stream opener and a seeded random source injected, so one seed
gives one run.
"""

import random

import trio
import trio.testing

from node.config import Config
from node.core import Node
from node.log import Log
from node.server import Server
from sentinel import config as sentinel_config
from sentinel.server import build
from sentinel.state_file import MemoryStore

EPOCH_MS = 1_700_000_000_000


def clock_ms() -> int:
    return int(trio.current_time() * 1000) + EPOCH_MS


class Net:
    def __init__(self, nursery):
        self.nursery = nursery
        self.servers = {}  # (host, port) -> Server
        self.cuts = set()  # frozenset({host_a, host_b}) pairs that cannot talk
        self.wires = []  # (send stream, receive stream, from host, to host) to pump on heal
        self.next_port = 40000

    def blocked(self, a, b) -> bool:
        return a != b and frozenset((a, b)) in self.cuts

    def opener(self, src):
        """The open_stream of an actor on host `src`."""

        async def open_stream(host, port):
            while self.blocked(src, host):
                await trio.sleep(0.05)
            server = self.servers.get((host, port))
            if server is None:
                raise OSError("connection refused by %s:%d" % (host, port))
            ours, theirs = self._pair(src, host)
            self.next_port += 1
            server.actor.nursery.start_soon(server.serve_stream, theirs, "%s:%d" % (src, self.next_port), "%s:%d" % (host, port))
            return ours

        return open_stream

    def _pair(self, a, b):
        a_to_b = self._one_way(a, b)
        b_to_a = self._one_way(b, a)
        return trio.StapledStream(a_to_b[0], b_to_a[1]), trio.StapledStream(b_to_a[0], a_to_b[1])

    def _one_way(self, src, dst):
        send, receive = trio.testing.memory_stream_one_way_pair()

        def pump():
            if not self.blocked(src, dst):
                trio.testing.memory_stream_pump(send, receive)

        async def pump_async():
            pump()

        send.send_all_hook = pump_async
        send.close_hook = pump
        receive.receive_some_hook = pump_async
        self.wires.append((send, receive, src, dst))
        return send, receive

    def partition(self, side_a, side_b):
        for a in side_a:
            for b in side_b:
                if a != b:
                    self.cuts.add(frozenset((a, b)))

    def heal(self):
        self.cuts.clear()
        for send, receive, _, _ in self.wires:
            try:
                trio.testing.memory_stream_pump(send, receive)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass


class Actor:
    """Something running on a host: killing it cancels all it runs."""

    def __init__(self, net, host, port):
        self.net, self.host, self.port = net, host, port
        self.nursery = None
        self.scope = None
        self.alive = False

    async def _run(self, main, task_status=trio.TASK_STATUS_IGNORED):
        with trio.CancelScope() as scope:
            self.scope = scope
            async with trio.open_nursery() as nursery:
                self.nursery = nursery
                self.alive = True
                task_status.started()
                await main(nursery)

    async def start(self, main):
        await self.net.nursery.start(self._run, main)

    def kill(self):
        self.alive = False
        self.net.servers.pop((self.host, self.port), None)
        if self.scope is not None:
            self.scope.cancel()


class SimNode(Actor):
    def __init__(self, net, host, port=6379, replicaof=None, priority=100, password=""):
        super().__init__(net, host, port)
        self.replicaof = replicaof
        self.priority = priority
        self.password = password
        self.node = None

    async def start(self):
        config = Config()
        config.set("port", str(self.port), startup=True)
        config.set("repl-diskless-sync-delay", "0", startup=True)
        config.set("replica-priority", str(self.priority), startup=True)
        if self.replicaof is not None:
            config.set("replicaof", "%s %d" % self.replicaof, startup=True)
        if self.password:
            config.set("requirepass", self.password, startup=True)
            config.set("masterauth", self.password, startup=True)
        self.node = Node(config, clock=clock_ms, open_stream=self.net.opener(self.host))
        server = Server(self.node, Log("nothing"))
        server.actor = self

        async def main(nursery):
            self.net.servers[(self.host, self.port)] = server
            await self.node.replication.run()

        await super().start(main)

    def run(self, *args):
        """Run one command on the node, as a local client would; the raw reply."""
        client = self.node.new_client("127.0.0.1:1")
        client.authenticated = True
        self.node.execute(client, [a if isinstance(a, bytes) else str(a).encode() for a in args])
        self.node.remove_client(client)
        return b"".join(client.out)

    @property
    def role(self):
        return self.node.role if self.alive else None


class SimSentinel(Actor):
    def __init__(self, net, host, master, quorum=2, port=26379, rng=None, down_after=1000, failover_timeout=5000, store=None, password=""):
        super().__init__(net, host, port)
        self.password = password
        self.master, self.quorum = master, quorum
        self.rng = rng or random.Random()
        self.down_after, self.failover_timeout = down_after, failover_timeout
        self.store = store or MemoryStore()
        self.sentinel = None
        self.events = []  # (virtual ms, type, message)

    def _statements(self):
        if self.store.text:  # a restart: carry on from the saved state, as from a sentinel.conf
            return [(line.split()[1:], "state") for line in self.store.text.splitlines()]
        host, port = self.master
        return [(["monitor", "mymaster", host, str(port), str(self.quorum)], "sim"),
                (["down-after-milliseconds", "mymaster", str(self.down_after)], "sim"),
                (["failover-timeout", "mymaster", str(self.failover_timeout)], "sim"),
                (["announce-ip", self.host], "sim")] + ([(["auth-pass", "mymaster", self.password], "sim"), (["sentinel-pass", self.password], "sim")] if self.password else [])

    async def start(self):
        config = sentinel_config.SentinelConfig()
        config.node_config.set("port", str(self.port), startup=True)
        if self.password:  # the sentinel itself wants AUTH too (the others use sentinel-pass)
            config.node_config.set("requirepass", self.password, startup=True)
        sentinel, node, server = build(config, clock=clock_ms, open_stream=self.net.opener(self.host), rng=self.rng, log=None, store=self.store)
        sentinel_config.apply_statements(sentinel, self._statements())
        sentinel_config.propagate_periods(sentinel)
        sentinel.simulated_crash = self.kill
        sentinel.events.listeners.append(lambda type_, message, ri: self.events.append((clock_ms() - EPOCH_MS, type_, message)))
        self.sentinel = sentinel
        server.actor = self

        async def main(nursery):
            self.net.servers[(self.host, self.port)] = server
            await sentinel.run()

        await super().start(main)

    def master_addr(self):
        master = self.sentinel.masters["mymaster"]
        from sentinel.hello import current_master_addr

        addr = current_master_addr(master)
        return addr.host, addr.port

    def count(self, type_) -> int:
        return sum(1 for _, t, _ in self.events if t == type_)

    def types(self):
        return [t for _, t, _ in self.events]


async def until(condition, seconds=60.0, step=0.05):
    """Wait in virtual time until condition() holds; fail after `seconds` of virtual time."""
    with trio.fail_after(seconds):
        while not condition():
            await trio.sleep(step)


class Group:
    """Three nodes (10.0.0.1 master, .2 and .3 replicas) and three sentinels (10.0.1.1-3)."""

    def __init__(self, nursery, seed=0, priorities=(100, 100, 100), down_after=1000, failover_timeout=5000, password=""):
        self.net = Net(nursery)
        self.rng = random.Random(seed)
        master = ("10.0.0.1", 6379)
        self.nodes = [SimNode(self.net, "10.0.0.%d" % (i + 1), replicaof=None if i == 0 else master, priority=priorities[i], password=password) for i in range(3)]
        self.sentinels = [SimSentinel(self.net, "10.0.1.%d" % (i + 1), master, rng=random.Random(self.rng.random()), down_after=down_after,
                                      failover_timeout=failover_timeout, password=password) for i in range(3)]

    async def start(self):
        for n in self.nodes:
            await n.start()
        await until(lambda: all(n.node.replication.link.connected for n in self.nodes[1:]), 30)
        for s in self.sentinels:
            await s.start()
        await until(self.discovered, 30)

    def discovered(self) -> bool:
        for s in self.sentinels:
            master = s.sentinel.masters["mymaster"]
            if len(master.slaves) < 2 or len(master.sentinels) < 2:
                return False
        return True

    def node_at(self, addr):
        return next(n for n in self.nodes if (n.host, n.port) == tuple(addr))

    def agreed_master(self):
        """The master every live sentinel reports, or None while they disagree."""
        addrs = {s.master_addr() for s in self.sentinels if s.alive}
        return addrs.pop() if len(addrs) == 1 else None

    def settled(self) -> bool:
        """All live sentinels agree on a live node that is master and run no failover, and every
        other live node replicates from it with its link up."""
        addr = self.agreed_master()
        if addr is None or any(s.sentinel.masters["mymaster"].failover_state for s in self.sentinels if s.alive):
            return False
        master = self.node_at(addr)
        if not master.alive or master.node.role != "master":
            return False
        for n in self.nodes:
            if n is master or not n.alive:
                continue
            link = n.node.replication.link
            if n.node.role != "slave" or (link.host, link.port) != addr or not link.connected:
                return False
        return True
