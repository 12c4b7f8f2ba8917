"""maxmemory eviction: which keys each policy removes, OOM under noeviction, the
LFU counter, accounting, propagation."""

import random

import pytest

_OOM = "OOM command not allowed when used memory > 'maxmemory'."


@pytest.fixture(autouse=True)
def _seeded():
    # Sampling is random, as in Redis; a fixed seed keeps runs repeatable.
    random.seed(1234)


def _configure(h, **directives):
    for name, value in directives.items():
        h.node.config.set(name.replace("_", "-"), str(value))


def _just_under(h):
    """A maxmemory one byte below what is used now: the next write evicts.
    Like Redis, eviction runs before a command, so that write may then go over."""
    return h.node.eviction.used_memory() - 1


def _tick(h, seconds=1):
    h.advance(seconds * 1000)
    h.node.keyspace.tick()


def _keys(h):
    return set(h.client.db.data)


def test_noeviction_refuses_writes_but_not_reads_or_deletes(h):
    h.run("SET", "a", "1")
    _configure(h, maxmemory=h.node.eviction.used_memory())
    h.run("SET", "b", "2")  # fits nothing more: memory is now over
    assert str(h.run("SET", "c", "3")) == _OOM
    assert h.raw("SET", "c", "3") == b"-" + _OOM.encode() + b"\r\n"
    assert h.run("GET", "a") == b"1"
    assert h.run("DEL", "a") == 1
    assert h.run("SET", "c", "3") == b"OK"
    assert h.node.stats["evicted_keys"] == 0


def test_allkeys_lru_evicts_the_least_recently_used(h):
    _configure(h, maxmemory_policy="allkeys-lru", maxmemory_samples=64)
    for i in range(20):
        h.run("SET", "k%d" % i, "x")
        _tick(h)
    for i in range(5):  # k0..k4 become the most recently used
        h.run("GET", "k%d" % i)
    _tick(h)
    _configure(h, maxmemory=_just_under(h))
    for i in range(5):
        h.run("SET", "new%d" % i, "x")
    survivors = _keys(h)
    assert len(survivors) == 20
    assert {"k%d" % i for i in range(5)} <= {k.decode() for k in survivors}
    evicted = {"k%d" % i for i in range(20)} - {k.decode() for k in survivors}
    assert len(evicted) == 5 and all(5 <= int(k[1:]) < 12 for k in evicted)
    assert h.node.stats["evicted_keys"] == h.node.keyspace.evicted_keys == 5


def test_volatile_lru_only_evicts_keys_with_ttl(h):
    _configure(h, maxmemory_policy="volatile-lru")
    for i in range(5):
        h.run("SET", "keep%d" % i, "x")
        h.run("SET", "temp%d" % i, "x", "EX", "1000")
    _configure(h, maxmemory=_just_under(h))
    for i in range(3):
        assert h.run("SET", "new%d" % i, "x") == b"OK"
    names = {k.decode() for k in _keys(h)}
    assert {"keep%d" % i for i in range(5)} <= names
    assert len([n for n in names if n.startswith("temp")]) < 5
    # Once no key has a TTL, there is nothing to evict: OOM.
    for i in range(5):
        h.run("SET", "more%d" % i, "x" * 200)
    assert not any(n.startswith(b"temp") for n in _keys(h))
    assert str(h.run("SET", "last", "x")) == _OOM


def test_volatile_ttl_evicts_the_soonest_expiring_first(h):
    _configure(h, maxmemory_policy="volatile-ttl", maxmemory_samples=64)
    for i in range(9):
        h.run("SET", "t%d" % i, "x", "EX", 100 + i)
    before = h.node.eviction.used_memory()
    h.run("SET", "t9", "x", "EX", 109)
    key_cost = h.node.eviction.used_memory() - before
    # Freeing one and a half keys' worth takes two of them.
    _configure(h, maxmemory=h.node.eviction.used_memory() - key_cost * 3 // 2)
    evicted = {"t%d" % i for i in range(10)} - {k.decode() for k in _keys(h)}
    assert evicted == {"t0", "t1"}


def test_allkeys_random_keeps_memory_under_the_limit(h):
    _configure(h, maxmemory_policy="allkeys-random")
    h.run("SET", "k0", "x" * 10)
    key_cost = h.node.eviction.used_memory()
    for i in range(1, 30):
        h.run("SET", "k%d" % i, "x" * 10)
    limit = _just_under(h)
    _configure(h, maxmemory=limit)
    for i in range(10):
        assert h.run("SET", "n%d" % i, "x" * 10) == b"OK"
        assert h.node.eviction.used_memory() <= limit + key_cost
    assert h.node.stats["evicted_keys"] == 10
    assert len(_keys(h)) == 30


def test_volatile_random_with_no_volatile_key_is_oom(h):
    _configure(h, maxmemory_policy="volatile-random")
    h.run("SET", "a", "x")
    _configure(h, maxmemory=1)
    assert str(h.run("SET", "b", "x")) == _OOM


def test_allkeys_lfu_keeps_the_frequently_used(h):
    _configure(h, maxmemory_policy="allkeys-lfu", maxmemory_samples=10)
    assert h.node.keyspace.lfu
    for i in range(10):
        h.run("SET", "k%d" % i, "x")
    for _ in range(200):
        for i in range(5):
            h.run("STRLEN", "k%d" % i)
    _configure(h, maxmemory=_just_under(h))
    for i in range(4):
        h.run("SET", "n%d" % i, "x")
    names = {k.decode() for k in _keys(h)}
    assert {"k%d" % i for i in range(5)} <= names


def test_lfu_counter_grows_logarithmically_and_decays(h):
    _configure(h, maxmemory_policy="allkeys-lfu")
    space, db = h.node.keyspace, h.client.db
    h.run("SET", "k", "x")
    assert space.lfu_frequency(db, "k".encode()) == 5
    for _ in range(1000):
        h.run("STRLEN", "k")
    counter = space.lfu_frequency(db, b"k")
    # With lfu-log-factor 10, a thousand hits lift the counter by about 10-20, not 1000.
    assert 12 < counter < 40
    _tick(h, 3 * 60)  # lfu-decay-time 1: one point per idle minute
    assert space.lfu_frequency(db, b"k") == counter - 3
    # Decay is worked out when read, from the minutes since the last access:
    # with lfu-decay-time 0 the stored counter stands, however long the key idles.
    _configure(h, lfu_decay_time=0)
    _tick(h, 10 * 60)
    assert space.lfu_frequency(db, b"k") == counter
    h.run("STRLEN", "k")
    _configure(h, lfu_decay_time=1)
    _tick(h, 2 * 60)
    assert space.lfu_frequency(db, b"k") in (counter - 2, counter - 1)


def test_leaving_lfu_stops_counting(h):
    _configure(h, maxmemory_policy="allkeys-lfu")
    h.run("SET", "k", "x")
    assert h.client.db.freq
    _configure(h, maxmemory_policy="allkeys-lru")
    assert not h.node.keyspace.lfu
    h.run("GET", "k")
    assert not h.client.db.freq


def test_evictions_propagate_as_del(h):
    fed = []
    h.node.propagate_listeners.append(lambda db, argv: fed.append((db, argv)))
    _configure(h, maxmemory_policy="allkeys-lru")
    h.client.select(3)
    h.run("SET", "old", "x")
    _tick(h)
    _configure(h, maxmemory=_just_under(h))
    h.run("SET", "new", "x")
    assert (3, [b"DEL", b"old"]) in fed
    _configure(h, lazyfree_lazy_eviction="yes")
    _tick(h)
    h.run("SET", "newer", "x")
    assert (3, [b"UNLINK", b"new"]) in fed


def test_lowering_maxmemory_evicts_at_once(h):
    _configure(h, maxmemory_policy="allkeys-lru")
    for i in range(10):
        h.run("SET", "k%d" % i, "x")
    limit = h.node.eviction.used_memory() // 2
    _configure(h, maxmemory=limit)
    assert h.node.eviction.used_memory() <= limit
    assert len(_keys(h)) < 10


def test_client_output_buffers_count_but_replicas_do_not(h):
    h.run("SET", "k", "x")
    base = h.node.eviction.used_memory()
    sub = h.new_client()
    h.raw("SUBSCRIBE", "ch", client=sub)
    h.run("PUBLISH", "ch", "y" * 1000)
    assert h.node.eviction.used_memory() > base + 1000
    sub.kind = "replica"
    assert h.node.eviction.used_memory() == base


def test_buffers_alone_over_the_limit_evict_everything_then_refuse(h):
    _configure(h, maxmemory_policy="allkeys-lru")
    h.run("SET", "k", "x")
    sub = h.new_client()
    h.raw("SUBSCRIBE", "ch", client=sub)
    h.run("PUBLISH", "ch", "y" * 5000)
    _configure(h, maxmemory=1000)
    assert _keys(h) == set()
    assert str(h.run("SET", "k", "x")) == _OOM


def test_eviction_breaks_watch(h):
    _configure(h, maxmemory_policy="allkeys-lru")
    h.run("SET", "k", "x")
    h.raw("WATCH", "k")
    _configure(h, maxmemory=1)
    h.raw("MULTI")
    assert h.raw("EXEC") == b"*-1\r\n"


def test_replicas_do_not_evict(h):
    _configure(h, maxmemory_policy="allkeys-lru")
    h.run("SET", "k", "x")
    h.node.role = "slave"
    _configure(h, maxmemory=1)
    assert h.node.eviction.make_room()
    assert _keys(h) == {b"k"}


def test_eviction_time_limit_follows_tenacity():
    from node.eviction import TIME_LIMIT, time_limit

    assert time_limit(10) == TIME_LIMIT
    assert time_limit(0) == 0 and time_limit(5) == TIME_LIMIT / 2
    assert time_limit(11) == pytest.approx(TIME_LIMIT * 1.15)
    assert time_limit(100) is None


def test_tenacity_zero_evicts_in_steps_of_sixteen(h):
    _configure(h, maxmemory_policy="allkeys-random", maxmemory_eviction_tenacity=0)
    for i in range(100):
        h.run("SET", "k%d" % i, "x" * 100)
    _configure(h, maxmemory=h.node.eviction.used_memory() // 2)
    # The budget is spent at once: each call evicts one batch and leaves the rest for later.
    assert h.node.keyspace.evicted_keys == 16
    assert h.node.eviction.unfinished
