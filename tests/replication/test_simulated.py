"""A master and a replica inside one test process, on trio's MockClock, over in-memory
streams: the clock and the connections are injected, so the whole replication path
(handshake, full sync, streaming, a link cut and partial resync, WAIT) runs
deterministically and in virtual time."""

import trio
import trio.testing

from node.config import Config
from node.core import Node
from node.log import Log
from node.server import Server
from replication.resp_client import RespClient


class Net:
    """host:port -> a node's server; a connection is a fresh in-memory stream pair."""

    def __init__(self, nursery):
        self.nursery = nursery
        self.servers = {}

    async def open_stream(self, host, port):
        server = self.servers.get((host, port))
        if server is None:
            raise OSError("connection refused")
        ours, theirs = trio.testing.memory_stream_pair()
        self.nursery.start_soon(server.serve_stream, theirs, "10.0.0.9:%d" % len(self.servers), "%s:%d" % (host, port))
        return ours

    def node(self, host, port, *directives):
        config = Config()
        config.set("port", str(port), startup=True)
        for name, value in zip(directives[::2], directives[1::2]):
            config.set(name, value, startup=True)
        node = Node(config, clock=lambda: int(trio.current_time() * 1000) + 1_700_000_000_000, open_stream=self.open_stream)
        self.servers[(host, port)] = Server(node, Log("nothing"))
        self.nursery.start_soon(node.replication.run)
        return node


def run(node, client, *args):
    node.execute(client, [a if isinstance(a, bytes) else str(a).encode() for a in args])
    out = b"".join(client.out)
    client.out.clear()
    return out


async def until(condition, seconds=30.0):
    with trio.fail_after(seconds):
        while not condition():
            await trio.sleep(0.01)


def synced(master, replica):
    return replica.replication.link.connected and replica.replication.master_repl_offset == master.replication.master_repl_offset


async def test_replication_in_virtual_time(autojump_clock):
    async with trio.open_nursery() as nursery:
        net = Net(nursery)
        master = net.node("m", 7000)
        writer = master.new_client("10.0.0.1:1000")
        for i in range(100):
            run(master, writer, "SET", "k%d" % i, i)
        run(master, writer, "HSET", "h", "f", "v")
        replica = net.node("r", 7001, "replicaof", "m 7000")
        await until(lambda: synced(master, replica))
        assert master.stats["sync_full"] == 1
        for i in range(50):
            run(master, writer, "INCR", "n")
        run(master, writer, "PEXPIRE", "k1", 10)
        await until(lambda: synced(master, replica))
        reader = replica.new_client("10.0.0.2:1000")
        assert run(replica, reader, "GET", "n") == b"$2\r\n50\r\n"
        assert run(replica, reader, "DEBUG", "DIGEST") == run(master, writer, "DEBUG", "DIGEST")

        # A cut: the replica reconnects and continues from the backlog.
        run(master, writer, "CLIENT", "KILL", "TYPE", "replica")
        run(master, writer, "SET", "during", "cut")
        await until(lambda: master.stats.get("sync_partial_ok", 0) == 1)
        await until(lambda: synced(master, replica))
        assert run(replica, reader, "GET", "during") == b"$3\r\ncut\r\n"
        assert master.stats["sync_full"] == 1

        # Expiry on the master reaches the replica as a DEL, in virtual time.
        await trio.sleep(1)
        master.keyspace.active_expire_cycle()
        await until(lambda: synced(master, replica))
        assert b"k1" not in replica.keyspace.dbs[0].data
        assert run(replica, reader, "DEBUG", "DIGEST") == run(master, writer, "DEBUG", "DIGEST")

        # WAIT blocks a connected client until the replica acknowledges its write.
        client = RespClient(await net.open_stream("m", 7000))
        assert await client.call("SET", "w", "1") == b"OK"
        assert await client.call("WAIT", 1, 0) == 1
        start = trio.current_time()
        assert await client.call("WAIT", 2, 500) == 1  # one replica only: the timeout answers
        assert trio.current_time() - start >= 0.5
        await client.aclose()
        nursery.cancel_scope.cancel()
