"""CLIENT PAUSE WRITE, which the write-safe manual failover relies on, holds a transaction
with writes at its EXEC (not only plain writes), and lets reads and admin commands through."""

import trio

from replication.resp_client import RespClient
from tests.sim.cluster import Net, SimNode


async def test_pause_write_holds_exec_with_writes(autojump_clock):
    async with trio.open_nursery() as nursery:
        net = Net(nursery)
        node = SimNode(net, "10.0.0.1")
        await node.start()
        admin = RespClient(await net.opener("10.0.9.1")("10.0.0.1", 6379))
        writer = RespClient(await net.opener("10.0.9.2")("10.0.0.1", 6379))
        assert await writer.call("MULTI") == b"OK"
        assert await writer.call("SET", "k", "v") == b"QUEUED"  # queued before the pause
        assert await admin.call("CLIENT", "PAUSE", 600000, "WRITE") == b"OK"
        await writer.send("EXEC")
        with trio.move_on_after(2) as waited:
            await writer.read_reply(timeout=0)
        assert waited.cancelled_caught  # held by the pause
        assert await admin.call("GET", "k") is None  # reads go on, and the write has not run
        assert await admin.call("CLIENT", "UNPAUSE") == b"OK"
        assert await writer.read_reply(timeout=5) == [b"OK"]
        assert await admin.call("GET", "k") == b"v"
        nursery.cancel_scope.cancel()
