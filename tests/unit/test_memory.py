"""MEMORY: USAGE's arguments and nil, STATS's fields, DOCTOR, HELP, errors."""

from node.commands.memory import value_size
from node.keyspace import HashValue
from conftest import err




def test_memory_usage(h):
    h.run("SET", "a", "1")
    small = h.run("MEMORY", "USAGE", "a")
    h.run("SET", "b", "x" * 1000)
    assert h.run("MEMORY", "USAGE", "b") > small + 900
    assert h.run("MEMORY", "USAGE", "missing") is None
    assert h.run("MEMORY", "USAGE", "a", "SAMPLES", "0") == small
    assert err(h.run("MEMORY", "USAGE", "a", "SAMPLES")) == "ERR syntax error"
    assert err(h.run("MEMORY", "USAGE", "a", "SAMPLES", "-1")) == "ERR syntax error"
    assert err(h.run("MEMORY", "USAGE", "a", "SAMPLES", "x")) == "ERR value is not an integer or out of range"
    assert err(h.run("MEMORY", "USAGE")) == "ERR wrong number of arguments for 'memory|usage' command"


def test_memory_usage_samples_collections():
    h = HashValue({b"f%d" % i: b"v" for i in range(10)})
    h[b"big"] = b"x" * 10000
    assert value_size(h, 0) > value_size(h, 5)  # all elements seen, the big one too


def test_memory_stats_shape(h):
    h.run("SET", "a", "1")
    stats = h.run("MEMORY", "STATS")
    names = stats[0::2]
    assert names[:10] == [b"peak.allocated", b"total.allocated", b"startup.allocated", b"replication.backlog", b"clients.slaves", b"clients.normal", b"cluster.links", b"aof.buffer", b"lua.caches", b"functions.caches"]
    assert names[10] == b"db.0" and stats[21][0::2] == [b"overhead.hashtable.main", b"overhead.hashtable.expires", b"overhead.hashtable.slot-to-keys"]
    assert names[-1] == b"fragmentation.bytes" and len(names) == 28
    fields = dict(zip(names, stats[1::2]))
    assert fields[b"keys.count"] == 1


def test_memory_doctor_help_and_errors(h):
    assert h.run("MEMORY", "DOCTOR").startswith(b"Hi Sam, this instance is empty")
    assert h.run("MEMORY", "HELP")[0] == b"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert h.run("MEMORY", "PURGE") == b"OK"
    assert err(h.run("MEMORY", "FOO")) == "ERR unknown subcommand 'FOO'. Try MEMORY HELP."
