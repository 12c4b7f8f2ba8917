"""Interoperability: redis-py's Sentinel support (sync and asyncio) against triokv sentinels;
a real redis-sentinel in a group of triokv sentinels, failovers led by either kind; triokv
sentinels failing over real redis-server nodes."""

import asyncio
import time

import redis as redis_py
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.sentinel import Sentinel

from tests.sentinel.conftest import subsequence
from tests.sentinel.test_failover import Writer
from tests.support import wait_until


def test_redis_py_sentinel_sync(group):
    g = group()
    sentinel = Sentinel([("127.0.0.1", s.port) for s in g.sentinels], socket_timeout=1)
    assert sentinel.discover_master("mymaster") == ("127.0.0.1", g.master.port)
    assert sorted(sentinel.discover_slaves("mymaster")) == sorted(("127.0.0.1", n.port) for n in g.nodes[1:])
    master = sentinel.master_for("mymaster", socket_timeout=1)
    master.set("greeting", "hello")
    replica = sentinel.slave_for("mymaster", socket_timeout=1)
    wait_until(lambda: replica.get("greeting") == b"hello", 10, "the write to reach a replica")
    assert replica.info("replication")["role"] == "slave"
    # Under RESP3 (redis-py's protocol=3) instances come as maps: the same parsed result.
    resp3 = redis_py.Redis(port=g.sentinels[0].port, protocol=3, decode_responses=True)
    assert resp3.sentinel_master("mymaster")["num-slaves"] == 2
    assert resp3.execute_command("SENTINEL", "MASTER", "mymaster")["name"] == "mymaster"


def test_redis_py_sentinel_asyncio(group):
    """redis.asyncio's Sentinel (on an asyncio loop of its own: the suite runs on trio)."""
    g = group()
    asyncio.run(_asyncio_scenario(g))


async def _asyncio_scenario(g):
    sentinel = AsyncSentinel([("127.0.0.1", s.port) for s in g.sentinels], socket_timeout=1)
    assert await sentinel.discover_master("mymaster") == ("127.0.0.1", g.master.port)
    assert len(await sentinel.discover_slaves("mymaster")) == 2
    master = sentinel.master_for("mymaster", socket_timeout=1)
    await master.set("k", "v")
    old = g.master
    old.kill9()
    deadline = time.monotonic() + 30
    while True:
        try:
            await master.set("after", "failover")
            break
        except (redis_py.ConnectionError, redis_py.TimeoutError, redis_py.ReadOnlyError, OSError):
            assert time.monotonic() < deadline, "no write succeeded after the failover"
            await asyncio.sleep(0.05)
    new = await sentinel.discover_master("mymaster")
    assert new != ("127.0.0.1", old.port)
    assert g.node_at(new).client().get("after") == b"failover"
    await master.aclose()


def test_redis_sentinel_joins_triokv_sentinels(group):
    """Two triokv sentinels and one redis-sentinel: they find each other from hellos, and
    failovers led by either kind are followed by all."""
    g = group(sentinel_kinds=("triokv", "triokv", "redis"))
    redis_s = g.sentinels[2]
    for s in g.sentinels:
        assert sorted(int(x["port"]) for x in s.client(decode_responses=True).sentinel_sentinels("mymaster")) == sorted(o.port for o in g.sentinels if o is not s)
    # A failover led by the redis sentinel (manual, so it leads), then one led by a triokv one.
    assert redis_s.call("SENTINEL", "FAILOVER", "mymaster") == b"OK"
    first = g.wait_new_master(g.master)
    wait_until(lambda: all("+switch-master" in s.types() for s in g.sentinels), 15, "+switch-master everywhere")
    wait_until(lambda: all(s.client(decode_responses=True).sentinel_master("mymaster")["num-slaves"] == 2 for s in g.sentinels), 30, "both replicas known")
    assert g.sentinels[0].call("SENTINEL", "FAILOVER", "mymaster") == b"OK"
    second = g.wait_new_master(first)
    assert second is not first
    wait_until(lambda: redis_s.types().count("+switch-master") == 2, 15, "the redis sentinel to switch twice")
    # And an automatic one: the master is killed; the majority elects whoever is first.
    wait_until(lambda: all(s.types().count("+switch-master") == 2 for s in g.sentinels), 15, "every sentinel to switch twice")
    second.kill9()
    third = g.wait_new_master(second, deadline=40)
    assert third not in (second,)
    epochs = {s.client(decode_responses=True).sentinel_master("mymaster")["config-epoch"] for s in g.sentinels}
    assert len(epochs) == 1


def test_triokv_sentinels_fail_over_redis_nodes(group):
    g = group(node_kind="redis")
    writer = Writer(g)
    wait_until(lambda: len(writer.acked) > 100, 10, "writes to the redis master")
    assert g.sentinels[1].call("SENTINEL", "FAILOVER", "mymaster") == b"OK"
    new = g.wait_new_master(g.master)
    writer.wait_acks_after(time.monotonic())
    assert writer.lost(new) == []  # the pause-and-catch-up manual failover works on Redis nodes too
    wait_until(lambda: "+switch-master" in g.sentinels[1].types(), 10, "+switch-master")
    assert subsequence(["+elected-leader", "+promoted-slave", "+failover-end", "+switch-master"], g.sentinels[1].types())
    wait_until(lambda: g.master.info()["role"] == "slave", 10, "the old redis master to be a replica")
    new.kill9()
    killed = time.monotonic()
    newest = g.wait_new_master(new)
    first = writer.wait_acks_after(killed)
    writer.stop()
    print("redis nodes, kill -9 to first write: %.2f s" % (first - killed))
    assert newest is not new
