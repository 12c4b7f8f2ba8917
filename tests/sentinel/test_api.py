"""The sentinel API against the oracle: a triokv sentinel and a real redis-sentinel watch the
same group, and the same requests get replies of the same shape (RESP2 and RESP3), the
same field names in the same order, and the same bytes where the values are not timings."""

import pytest

from tests.resp_wire import Conn
from tests.support import wait_until

# Fields whose values depend on timing or on which sentinel answers.
_TIMINGS = {"last-ping-sent", "last-ok-ping-reply", "last-ping-reply", "info-refresh", "role-reported-time", "last-hello-message",
            "link-pending-commands", "slave-repl-offset", "runid", "name", "port", "voted-leader", "master-link-down-time"}

EXACT = [
    ("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"),
    ("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nosuch"),
    ("SENTINEL", "CKQUORUM", "mymaster"),
    ("SENTINEL", "CKQUORUM", "nosuch"),
    ("SENTINEL", "CONFIG", "GET", "*"),
    ("SENTINEL", "CONFIG", "GET", "announce-*"),
    ("SENTINEL", "CONFIG", "GET", "nosuch"),
    ("SENTINEL", "DEBUG"),
    ("SENTINEL", "HELP"),
    ("SENTINEL", "PENDING-SCRIPTS"),
    ("SENTINEL", "SIMULATE-FAILURE", "HELP"),
    ("SENTINEL", "INFO-CACHE", "nosuch"),
    ("SENTINEL", "RESET", "nosuch"),
    ("ROLE",),
    ("PING",),
    ("PING", "hi"),
    ("INFO", "nosuch"),
    # Errors, byte for byte.
    ("SENTINEL", "FOO"),
    ("SENTINEL",),
    ("SENTINEL", "MASTER", "nosuch"),
    ("SENTINEL", "REPLICAS"),
    ("SENTINEL", "MASTERS", "x"),
    ("SENTINEL", "SENTINELS", "nosuch"),
    ("SENTINEL", "SET", "mymaster", "foo", "1"),
    ("SENTINEL", "SET", "mymaster", "quorum", "0"),
    ("SENTINEL", "SET", "mymaster", "quorum"),
    ("SENTINEL", "SET", "nosuch", "quorum", "2"),
    ("SENTINEL", "SET", "mymaster", "notification-script", "/bin/true"),
    ("SENTINEL", "CONFIG", "SET", "foo", "1"),
    ("SENTINEL", "CONFIG", "SET", "announce-port", "x"),
    ("SENTINEL", "CONFIG", "SET", "resolve-hostnames", "maybe"),
    ("SENTINEL", "CONFIG", "GET"),
    ("SENTINEL", "CONFIG", "FOO", "x"),
    ("SENTINEL", "DEBUG", "foo", "1"),
    ("SENTINEL", "DEBUG", "ping-period", "0"),
    ("SENTINEL", "DEBUG", "ping-period"),
    ("SENTINEL", "MONITOR", "x", "127.0.0.1", "abc", "2"),
    ("SENTINEL", "MONITOR", "x", "127.0.0.1", "1", "zero"),
    ("SENTINEL", "MONITOR", "x", "127.0.0.1", "1", "0"),
    ("SENTINEL", "MONITOR", "mymaster", "127.0.0.1", "1", "2"),
    ("SENTINEL", "MONITOR", "x", "127.0.0.1", "70000", "2"),
    ("SENTINEL", "MONITOR", "x", "not-an-ip", "1", "2"),
    ("SENTINEL", "FAILOVER", "nosuch"),
    ("SENTINEL", "REMOVE", "nosuch"),
    ("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "x", "0", "*"),
    ("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "1", "0", "*"),
    ("SENTINEL", "SIMULATE-FAILURE", "foo"),
    ("SENTINEL", "FLUSHCONFIG", "x"),
    ("PUBLISH", "foo", "bar"),
    ("GET", "x"),
    ("SET", "x", "1"),
    # Changes, made the same way on both (and undone).
    ("SENTINEL", "MONITOR", "other", "127.0.0.1", "1", "1"),
    ("SENTINEL", "SET", "other", "quorum", "2", "down-after-milliseconds", "1500", "parallel-syncs", "2"),
    ("SENTINEL", "SET", "other", "failover-timeout", "-1"),
    ("SENTINEL", "RESET", "oth*"),
    ("SENTINEL", "REMOVE", "other"),
    ("SENTINEL", "CONFIG", "SET", "announce-port", "0"),
]


@pytest.fixture
def pair(group):
    """(triokv sentinel, redis sentinel) of one group."""
    g = group(sentinel_kinds=("triokv", "redis", "triokv"))

    def all_connected(s):
        c = s.client(decode_responses=True)
        described = [c.sentinel_master("mymaster"), *c.sentinel_slaves("mymaster"), *c.sentinel_sentinels("mymaster")]
        return all("disconnected" not in d["flags"] and "s_down" not in d["flags"] for d in described)

    wait_until(lambda: all(all_connected(s) for s in g.sentinels), 10, "every link up")
    return g, g.sentinels[0], g.sentinels[1]


def _call(sentinel, args, resp3):
    with Conn("127.0.0.1", sentinel.port) as conn:
        if resp3:
            conn.call("HELLO", "3")
        return conn.call(*args)


def _fields(node):
    """A map or flat array of bulk pairs -> [(name, value)]."""
    items = node.value
    return [(items[i].value.decode(), items[i + 1].value) for i in range(0, len(items), 2)]


def _instances(node):
    return [_fields(item) for item in node.value]


def _comparable(fields):
    return [(name, None if name in _TIMINGS else value) for name, value in fields]


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_same_replies_as_redis_sentinel(pair, resp3):
    g, ours, theirs = pair
    for args in EXACT:
        a, b = _call(ours, args, resp3), _call(theirs, args, resp3)
        assert a.raw == b.raw, (args, a.raw, b.raw)


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_instance_descriptions_match(pair, resp3):
    g, ours, theirs = pair
    kind = "%" if resp3 else "*"
    a, b = _call(ours, ("SENTINEL", "MASTER", "mymaster"), resp3), _call(theirs, ("SENTINEL", "MASTER", "mymaster"), resp3)
    assert a.kind == b.kind == kind
    assert _comparable(_fields(a)) == _comparable(_fields(b))
    for sub in ("MASTERS", "REPLICAS", "SLAVES", "SENTINELS"):
        args = ("SENTINEL", sub) if sub == "MASTERS" else ("SENTINEL", sub, "mymaster")
        a, b = _call(ours, args, resp3), _call(theirs, args, resp3)
        ours_list, theirs_list = _instances(a), _instances(b)
        assert [item.kind for item in a.value] == [item.kind for item in b.value]
        assert len(ours_list) == len(theirs_list), sub
        if sub != "SENTINELS":  # each lists the others, so names and ports differ
            key = lambda fields: dict(fields)["port"]  # noqa: E731
            ours_list.sort(key=key)
            theirs_list.sort(key=key)
        for x, y in zip(ours_list, theirs_list):
            assert _comparable(x) == _comparable(y), sub


def test_info_and_hello_match(pair):
    g, ours, theirs = pair

    def names(text):
        return [line.split(":", 1)[0] if not line.startswith("#") else line for line in text.decode().split("\r\n") if line]

    a = _call(ours, ("INFO",), False).value
    b = _call(theirs, ("INFO",), False).value
    assert [n for n in names(a) if n.startswith("#")] == [n for n in names(b) if n.startswith("#")]
    a = _call(ours, ("INFO", "sentinel"), False).value.decode().split("\r\n")
    b = _call(theirs, ("INFO", "sentinel"), False).value.decode().split("\r\n")
    assert a == b
    a, b = _call(ours, ("HELLO", "3"), False), _call(theirs, ("HELLO", "3"), False)
    assert [k for k, _ in _fields(a)] == [k for k, _ in _fields(b)]
    assert dict(_fields(a))["mode"] == b"sentinel"
