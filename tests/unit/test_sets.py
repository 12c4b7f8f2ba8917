"""Set family. Expected replies were checked against a real Redis 7.0.15."""

import hiredis
import pytest
from hypothesis import given, settings, strategies as st

from node.commands.table import COMMANDS

from conftest import Harness, err

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "ERR value is not an integer or out of range"
POSITIVE = "ERR value is out of range, must be positive"






def members(h, key):
    return set(h.run("SMEMBERS", key))


# ---- add, remove, query ------------------------------------------------------


def test_sadd_srem_counts(h):
    assert h.run("SADD", "s", "a", "b", "a") == 2
    assert h.run("SADD", "s", "b", "c") == 1
    assert h.run("SREM", "s", "a", "a", "zz") == 1
    assert h.run("SREM", "nokey", "a") == 0
    assert h.run("SCARD", "s") == 2
    assert h.run("SREM", "s", "b", "c", "d") == 2
    assert h.run("EXISTS", "s") == 0


def test_membership(h):
    h.run("SADD", "s", "1", "a", "")
    assert h.run("SISMEMBER", "s", "a") == 1
    assert h.run("SISMEMBER", "s", "") == 1
    assert h.run("SISMEMBER", "s", "01") == 0
    assert h.run("SISMEMBER", "nokey", "a") == 0
    assert h.run("SMISMEMBER", "s", "1", "x", "a") == [1, 0, 1]
    assert h.run("SMISMEMBER", "nokey", "a", "b") == [0, 0]
    assert h.run("SCARD", "nokey") == 0


def test_smembers_of_an_intset_is_ascending(h):
    h.run("SADD", "s", "5", "3", "1", "-2", "10", "9223372036854775807", "-9223372036854775808")
    assert h.raw("SMEMBERS", "s") == b"*7\r\n$20\r\n-9223372036854775808\r\n$2\r\n-2\r\n$1\r\n1\r\n$1\r\n3\r\n$1\r\n5\r\n$2\r\n10\r\n$19\r\n9223372036854775807\r\n"
    h.client.resp3 = True
    assert h.raw("SMEMBERS", "s").startswith(b"~7\r\n$20\r\n-9223372036854775808\r\n")
    assert h.raw("SMEMBERS", "nokey") == b"~0\r\n"
    h.client.resp3 = False
    assert h.raw("SMEMBERS", "nokey") == b"*0\r\n"


def test_non_canonical_integers_are_not_an_intset(h):
    h.run("SADD", "s", "1", "01", "-0", "+1", "0")
    assert members(h, "s") == {b"1", b"01", b"-0", b"+1", b"0"}
    assert h.run("SCARD", "s") == 5


@pytest.mark.parametrize(
    "args",
    [
        ("SADD", "str", "a"), ("SREM", "str", "a"), ("SISMEMBER", "str", "a"), ("SMISMEMBER", "str", "a"),
        ("SMEMBERS", "str"), ("SCARD", "str"), ("SPOP", "str"), ("SPOP", "str", 1), ("SRANDMEMBER", "str"),
        ("SRANDMEMBER", "str", 1), ("SINTER", "str"), ("SINTER", "nokey", "str"), ("SUNION", "str"),
        ("SDIFF", "nokey", "str"), ("SINTERSTORE", "d", "nokey", "str"), ("SUNIONSTORE", "d", "str"),
        ("SDIFFSTORE", "d", "str"), ("SINTERCARD", 2, "nokey", "str"), ("SSCAN", "str", 0),
        ("SMOVE", "str", "s", "a"), ("SMOVE", "s", "str", "a"),
    ],
)
def test_wrongtype(h, args):
    h.run("SET", "str", "v")
    h.run("SADD", "s", "a")
    assert err(h.run(*args)) == WRONGTYPE
    assert h.run("GET", "str") == b"v"


# ---- SPOP ------------------------------------------------------------------


def test_spop_single(h, feed):
    h.run("SADD", "s", "a", "b")
    first = h.run("SPOP", "s")
    second = h.run("SPOP", "s")
    assert {first, second} == {b"a", b"b"}
    assert h.run("EXISTS", "s") == 0
    assert h.raw("SPOP", "s") == b"$-1\r\n"
    assert feed[1:] == [[b"SREM", b"s", first], [b"SREM", b"s", second]]


def test_spop_count(h, feed):
    h.run("SADD", "s", *range(10))
    popped = h.run("SPOP", "s", 3)
    assert len(set(popped)) == 3 and h.run("SCARD", "s") == 7
    assert members(h, "s").isdisjoint(popped)
    assert feed[1:] == [[b"SREM", b"s", m] for m in popped]
    rest = h.run("SPOP", "s", 100)
    # The whole set comes as SUNION would give it (ascending: an intset), replicated as DEL.
    assert rest == sorted(rest, key=int) and len(rest) == 7
    assert feed[-1] == [b"DEL", b"s"]
    assert h.run("EXISTS", "s") == 0


def test_spop_count_shapes_and_errors(h):
    h.run("SADD", "s", "a")
    assert h.raw("SPOP", "nokey", 2) == b"*0\r\n"
    assert h.raw("SPOP", "s", 0) == b"*0\r\n"
    assert err(h.run("SPOP", "s", -1)) == POSITIVE
    assert err(h.run("SPOP", "s", "x")) == POSITIVE
    assert err(h.run("SPOP", "nokey", "x")) == POSITIVE
    assert err(h.run("SPOP", "s", 1, 2)) == "ERR syntax error"
    h.client.resp3 = True
    assert h.raw("SPOP", "nokey", 2) == b"~0\r\n"
    assert h.raw("SPOP", "nokey") == b"_\r\n"
    assert h.raw("SPOP", "s", 1) == b"~1\r\n$1\r\na\r\n"


# ---- SRANDMEMBER -------------------------------------------------------------


def test_srandmember(h):
    h.run("SADD", "s", "3", "1", "2")
    assert h.run("SRANDMEMBER", "s") in (b"1", b"2", b"3")
    assert h.run("SRANDMEMBER", "s", 5) == [b"1", b"2", b"3"]
    two = h.run("SRANDMEMBER", "s", 2)
    assert len(set(two)) == 2 and set(two) <= {b"1", b"2", b"3"}
    repeated = h.run("SRANDMEMBER", "s", -30)
    assert len(repeated) == 30 and set(repeated) <= {b"1", b"2", b"3"} and len(set(repeated)) > 1
    assert h.run("SCARD", "s") == 3


def test_srandmember_shapes_and_errors(h):
    h.run("SADD", "s", "a")
    assert h.raw("SRANDMEMBER", "nokey") == b"$-1\r\n"
    assert h.raw("SRANDMEMBER", "nokey", 5) == b"*0\r\n"
    assert h.raw("SRANDMEMBER", "s", 0) == b"*0\r\n"
    assert err(h.run("SRANDMEMBER", "s", "x")) == NOT_INT
    assert err(h.run("SRANDMEMBER", "s", 1, 2)) == "ERR syntax error"
    assert err(h.run("SRANDMEMBER", "s", "-9223372036854775808")) == (
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    )
    h.client.resp3 = True
    # An array even in RESP3, unlike SPOP's set.
    assert h.raw("SRANDMEMBER", "s", 1) == b"*1\r\n$1\r\na\r\n"
    assert h.raw("SRANDMEMBER", "nokey", 5) == b"*0\r\n"


# ---- SMOVE -----------------------------------------------------------------


def test_smove(h):
    h.run("SADD", "a", "x", "y")
    h.run("SADD", "b", "y")
    assert h.run("SMOVE", "a", "b", "x") == 1
    assert members(h, "a") == {b"y"} and members(h, "b") == {b"x", b"y"}
    assert h.run("SMOVE", "a", "b", "y") == 1
    assert h.run("EXISTS", "a") == 0
    assert h.run("SMOVE", "b", "b", "x") == 1
    assert h.run("SMOVE", "b", "b", "zz") == 0
    assert h.run("SMOVE", "b", "c", "zz") == 0
    assert h.run("SMOVE", "b", "c", "x") == 1
    assert members(h, "c") == {b"x"}


def test_smove_missing_source_ignores_destination_type(h):
    h.run("SET", "str", "v")
    assert h.run("SMOVE", "nokey", "str", "a") == 0


def test_smove_propagation(h, feed):
    h.run("SADD", "a", "x")
    h.run("SMOVE", "a", "b", "zz")
    h.run("SMOVE", "a", "b", "x")
    assert feed == [[b"SADD", b"a", b"x"], [b"SMOVE", b"a", b"b", b"x"]]


# ---- algebra -----------------------------------------------------------------


def test_sinter_sunion_sdiff(h):
    h.run("SADD", "a", 1, 2, 3, 4, 5, 6)
    h.run("SADD", "b", 4, 5, 6, 7, 8)
    h.run("SADD", "c", 6, 5, 100)
    assert h.run("SINTER", "a", "b") == [b"4", b"5", b"6"]
    assert h.run("SINTER", "a", "b", "c") == [b"5", b"6"]
    assert h.run("SINTER", "a", "a") == [b"1", b"2", b"3", b"4", b"5", b"6"]
    assert h.run("SUNION", "a", "b", "c", "nokey") == [b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"8", b"100"]
    assert h.run("SDIFF", "a", "b") == [b"1", b"2", b"3"]
    assert h.run("SDIFF", "a", "nokey", "a") == []
    assert h.run("SDIFF", "nokey", "a") == []


def test_algebra_with_missing_keys(h):
    h.run("SADD", "a", "x")
    assert h.raw("SINTER", "a", "nokey") == b"*0\r\n"
    h.client.resp3 = True
    assert h.raw("SINTER", "a", "nokey") == b"~0\r\n"
    assert h.raw("SUNION", "nokey") == b"~0\r\n"
    assert h.raw("SDIFF", "nokey") == b"~0\r\n"
    assert h.raw("SUNION", "a") == b"~1\r\n$1\r\nx\r\n"


def test_store_variants(h, feed):
    h.run("SADD", "a", 1, 2, 3)
    h.run("SADD", "b", 2, 3, 4)
    assert h.run("SINTERSTORE", "d", "a", "b") == 2
    assert h.run("SMEMBERS", "d") == [b"2", b"3"]
    assert h.run("SUNIONSTORE", "d", "a", "b") == 4
    assert h.run("SDIFFSTORE", "d", "a", "b") == 1
    assert h.run("SMEMBERS", "d") == [b"1"]
    # An empty result deletes the destination ...
    assert h.run("SINTERSTORE", "d", "a", "nokey") == 0
    assert h.run("EXISTS", "d") == 0
    # ... and with nothing to delete, nothing changed: nothing is propagated.
    before = len(feed)
    assert h.run("SDIFFSTORE", "d", "a", "a") == 0
    assert len(feed) == before


def test_store_replaces_any_type_and_its_ttl(h):
    h.run("SADD", "a", "x")
    h.run("SET", "d", "string", "EX", 100)
    assert h.run("SUNIONSTORE", "d", "a") == 1
    assert h.run("TYPE", "d") == b"set"
    assert h.run("TTL", "d") == -1


def test_store_into_a_source_key(h):
    h.run("SADD", "a", 1, 2)
    h.run("SADD", "b", 2, 3)
    assert h.run("SUNIONSTORE", "a", "a", "b") == 3
    assert h.run("SMEMBERS", "a") == [b"1", b"2", b"3"]


sets_strategy = st.lists(st.frozensets(st.sampled_from([b"a", b"b", b"c", b"1", b"2", b"10", b"-3"])), min_size=1, max_size=4)


@settings(max_examples=150, deadline=None)
@given(sets_strategy)
def test_algebra_matches_python_sets(groups):
    h = Harness()
    keys = []
    for i, group in enumerate(groups):
        key = "k%d" % i
        keys.append(key)
        if group:
            h.run("SADD", key, *group)
    live = [g for g in groups]
    inter = frozenset.intersection(*live)
    union = frozenset.union(*live)
    diff = live[0].difference(*live[1:])
    assert set(h.run("SINTER", *keys)) == inter
    assert set(h.run("SUNION", *keys)) == union
    assert set(h.run("SDIFF", *keys)) == diff
    assert h.run("SINTERCARD", len(keys), *keys) == len(inter)
    assert h.run("SINTERCARD", len(keys), *keys, "LIMIT", 1) == min(1, len(inter))
    assert h.run("SDIFFSTORE", "dst", *keys) == len(diff)
    assert h.run("EXISTS", "dst") == (1 if diff else 0)


# ---- SINTERCARD --------------------------------------------------------------


def test_sintercard(h):
    h.run("SADD", "a", 1, 2, 3, 4)
    h.run("SADD", "b", 2, 3, 4, 5)
    assert h.run("SINTERCARD", 2, "a", "b") == 3
    assert h.run("SINTERCARD", 2, "a", "b", "LIMIT", 2) == 2
    assert h.run("SINTERCARD", 2, "a", "b", "limit", 0) == 3
    assert h.run("SINTERCARD", 2, "a", "b", "LIMIT", 1, "LIMIT", 5) == 3
    assert h.run("SINTERCARD", 1, "a") == 4
    assert h.run("SINTERCARD", 2, "a", "nokey") == 0


def test_sintercard_errors(h):
    h.run("SADD", "a", 1)
    for bad in (0, -1, "x", "9223372036854775808"):
        assert err(h.run("SINTERCARD", bad, "a")) == "ERR numkeys should be greater than 0"
    assert err(h.run("SINTERCARD", 2, "a")) == "ERR Number of keys can't be greater than number of args"
    assert err(h.run("SINTERCARD", 1, "a", "b")) == "ERR syntax error"
    assert err(h.run("SINTERCARD", 1, "a", "LIMIT")) == "ERR syntax error"
    assert err(h.run("SINTERCARD", 1, "a", "LIMIT", -1)) == "ERR LIMIT can't be negative"
    assert err(h.run("SINTERCARD", 1, "a", "LIMIT", "x")) == "ERR LIMIT can't be negative"


# ---- SSCAN -----------------------------------------------------------------


def test_sscan_intset_is_whole_and_ascending(h):
    h.run("SADD", "s", 8, 4, 6, 5, 7)
    assert h.run("SSCAN", "s", 0, "COUNT", 1) == [b"0", [b"4", b"5", b"6", b"7", b"8"]]
    assert h.run("SSCAN", "s", 999) == [b"0", [b"4", b"5", b"6", b"7", b"8"]]
    assert h.run("SSCAN", "s", 0, "MATCH", "[4-6]") == [b"0", [b"4", b"5", b"6"]]
    assert h.run("SSCAN", "nokey", 0, "COUNT", 0) == [b"0", []]


def test_sscan_errors(h):
    h.run("SADD", "s", "a")
    assert err(h.run("SSCAN", "s", "x")) == "ERR invalid cursor"
    for opts in (("COUNT", 0), ("TYPE", "set"), ("MATCH",), ("NOVALUES",)):
        assert err(h.run("SSCAN", "s", 0, *opts)) == "ERR syntax error"


def test_sscan_iterates_a_hash_table_set(h):
    h.run("SADD", "s", *["m%d" % i for i in range(300)])
    cursor, seen, calls = b"0", set(), 0
    while True:
        cursor, batch = h.run("SSCAN", "s", cursor, "COUNT", 10)
        seen.update(batch)
        calls += 1
        if cursor == b"0":
            break
    assert seen == {b"m%d" % i for i in range(300)} and calls > 1
    # A small set of strings (a hash table in Redis 7.0) fits one COUNT.
    h.run("SADD", "t", "a", "b", "c")
    assert sorted(h.run("SSCAN", "t", 0)[1]) == [b"a", b"b", b"c"]


def test_intset_limit_follows_the_directive():
    h = Harness(set_max_intset_entries=3)
    h.run("SADD", "s", 4, 3, 2, 1)
    cursor, batch = h.run("SSCAN", "s", 0, "COUNT", 1)
    assert cursor != b"0" and len(batch) == 1


# ---- command table -----------------------------------------------------------


@pytest.mark.parametrize(
    "name, arity, flags, keys",
    [
        ("sadd", -3, {"write", "denyoom", "fast"}, (1, 1, 1)), ("srem", -3, {"write", "fast"}, (1, 1, 1)),
        ("sismember", 3, {"readonly", "fast"}, (1, 1, 1)), ("smismember", -3, {"readonly", "fast"}, (1, 1, 1)),
        ("smembers", 2, {"readonly"}, (1, 1, 1)), ("scard", 2, {"readonly", "fast"}, (1, 1, 1)),
        ("spop", -2, {"write", "fast"}, (1, 1, 1)), ("srandmember", -2, {"readonly"}, (1, 1, 1)),
        ("smove", 4, {"write", "fast"}, (1, 2, 1)), ("sinter", -2, {"readonly"}, (1, -1, 1)),
        ("sintercard", -3, {"readonly", "movablekeys"}, (0, 0, 0)), ("sunion", -2, {"readonly"}, (1, -1, 1)),
        ("sdiff", -2, {"readonly"}, (1, -1, 1)), ("sinterstore", -3, {"write", "denyoom"}, (1, -1, 1)),
        ("sunionstore", -3, {"write", "denyoom"}, (1, -1, 1)), ("sdiffstore", -3, {"write", "denyoom"}, (1, -1, 1)),
        ("sscan", -3, {"readonly"}, (1, 1, 1)),
    ],
)
def test_command_table_entries(name, arity, flags, keys):
    cmd = COMMANDS[name]
    assert (cmd.arity, set(cmd.flags), (cmd.first_key, cmd.last_key, cmd.step), cmd.group) == (arity, flags, keys, "set")


def test_sintercard_key_finder():
    cmd = COMMANDS["sintercard"]
    assert cmd.key_indexes([b"SINTERCARD", b"2", b"a", b"b", b"LIMIT", b"1"]) == [2, 3]
    assert cmd.key_indexes([b"SINTERCARD", b"x", b"a"]) == []
