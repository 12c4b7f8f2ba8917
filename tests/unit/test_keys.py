"""Generic key commands, lazy and active expiry. Expected texts were checked against Redis 7.0.15."""

import random

import pytest

from conftest import Harness, err
from node import scan as scan_module
from node.keyspace import HashValue, ListValue, SetValue

NOW = 1_700_000_000_000




def propagated(h):
    """Collect what the node propagates from now on."""
    out = []
    h.node.propagate_listeners.append(lambda dbnum, argv: out.append([bytes(a) for a in argv]))
    return out


def put(h, key, value, db=0):
    h.node.keyspace.dbs[db].set(key, value)


# ---- DEL, UNLINK, EXISTS, TOUCH, TYPE -------------------------------------


@pytest.mark.parametrize("name", ["DEL", "UNLINK"])
def test_del_counts_removed_keys_once(h, name):
    h.run("SET", "a", "1")
    h.run("SET", "b", "2")
    assert h.run(name, "a", "a", "b", "missing") == 2
    assert h.run("EXISTS", "a", "b") == 0
    assert err(h.run(name)) == "ERR wrong number of arguments for '%s' command" % name.lower()


def test_del_does_not_count_an_expired_key(h):
    h.run("SET", "a", "1", "PX", "10")
    h.advance(10)
    assert h.run("DEL", "a") == 0
    assert b"a" not in h.node.keyspace.dbs[0].data


def test_exists_counts_repeats(h):
    h.run("SET", "a", "1")
    assert h.run("EXISTS", "a", "a", "b", "a") == 3


def test_touch_counts_existing_keys_and_refreshes_access(h):
    h.run("SET", "a", "1")
    h.advance(5000)
    h.node.keyspace.tick()
    assert h.run("OBJECT", "IDLETIME", "a") == 5
    assert h.run("TOUCH", "a", "a", "nokey") == 2
    assert h.run("OBJECT", "IDLETIME", "a") == 0


def test_type_names_every_type(h):
    h.run("SET", "s", "v")
    put(h, b"l", ListValue([b"x"]))
    put(h, b"h", HashValue({b"f": b"v"}))
    put(h, b"st", SetValue({b"m"}))
    assert h.raw("TYPE", "s") == b"+string\r\n"
    assert h.raw("TYPE", "l") == b"+list\r\n"
    assert h.raw("TYPE", "h") == b"+hash\r\n"
    assert h.raw("TYPE", "st") == b"+set\r\n"
    assert h.raw("TYPE", "nokey") == b"+none\r\n"


# ---- KEYS -----------------------------------------------------------------


def test_keys_matches_glob_patterns(h):
    for key in ("hello", "hallo", "hxllo", "world"):
        h.run("SET", key, "1")
    assert sorted(h.run("KEYS", "h?llo")) == [b"hallo", b"hello", b"hxllo"]
    assert sorted(h.run("KEYS", "h[ae]llo")) == [b"hallo", b"hello"]
    assert sorted(h.run("KEYS", "h[^e]llo")) == [b"hallo", b"hxllo"]
    assert sorted(h.run("KEYS", "*")) == [b"hallo", b"hello", b"hxllo", b"world"]
    assert h.run("KEYS", "nothing*") == []


def test_keys_skips_expired_keys_without_deleting_them(h):
    h.run("SET", "live", "1")
    h.run("SET", "gone", "1", "PX", "5")
    h.advance(5)
    assert h.run("KEYS", "*") == [b"live"]
    assert b"gone" in h.node.keyspace.dbs[0].data


# ---- SCAN -----------------------------------------------------------------


def full_scan(h, *options, between=None):
    """Run a whole SCAN iteration; `between(step)` runs between calls. Returns (keys, calls)."""
    seen, cursor, calls = [], b"0", 0
    while True:
        cursor, batch = h.run("SCAN", cursor, *options)
        seen.extend(batch)
        calls += 1
        if cursor == b"0":
            return seen, calls
        if between is not None:
            between(calls)
        assert calls < 100_000


def test_scan_returns_every_key_and_honours_count(h):
    for i in range(100):
        h.run("SET", "k%d" % i, "v")
    seen, calls = full_scan(h, "COUNT", "10")
    assert sorted(seen) == sorted(b"k%d" % i for i in range(100))
    assert calls == 10


def test_scan_count_larger_than_keyspace_is_one_call(h):
    for i in range(5):
        h.run("SET", "k%d" % i, "v")
    cursor, batch = h.run("SCAN", "0", "COUNT", "1000")
    assert cursor == b"0" and len(batch) == 5


def test_scan_match_and_type_filter(h):
    for i in range(30):
        h.run("SET", "str%d" % i, "v")
        put(h, b"list%d" % i, ListValue([b"x"]))
    seen, _ = full_scan(h, "MATCH", "*1*", "COUNT", "7")
    assert sorted(seen) == sorted(k for i in range(30) for k in (b"str%d" % i, b"list%d" % i) if b"1" in k)
    seen, _ = full_scan(h, "TYPE", "LIST", "COUNT", "7")
    assert sorted(seen) == sorted(b"list%d" % i for i in range(30))
    assert full_scan(h, "TYPE", "nosuchtype")[0] == []


def test_scan_skips_and_deletes_expired_keys(h):
    h.run("SET", "live", "1")
    h.run("SET", "gone", "1", "PX", "5")
    h.advance(5)
    assert full_scan(h)[0] == [b"live"]
    assert b"gone" not in h.node.keyspace.dbs[0].data


def test_scan_guarantee_survives_interleaved_writes_and_deletes(h):
    rng = random.Random(7)
    initial = [b"key:%d" % i for i in range(2000)]
    for key in initial:
        h.run("SET", key, "v")
    deleted, added = set(), []

    def churn(step):
        for _ in range(5):
            victim = rng.choice(initial)
            h.run("DEL", victim)
            deleted.add(victim)
            fresh = b"new:%d:%d" % (step, len(added))
            h.run("SET", fresh, "v")
            added.append(fresh)

    seen, _ = full_scan(h, "COUNT", "13", between=churn)
    present_throughout = set(initial) - deleted
    assert present_throughout <= set(seen)
    # Nothing returned that never existed.
    assert set(seen) <= set(initial) | set(added)


def test_scan_restarts_safely_when_its_snapshot_was_evicted(h, monkeypatch):
    for i in range(50):
        h.run("SET", "k%d" % i, "v")
    first_half = []
    cursor, batch = h.run("SCAN", "0", "COUNT", "10")
    first_half.extend(batch)
    # Other iterations push this one's snapshot out of the cache.
    monkeypatch.setattr(scan_module, "MAX_SNAPSHOTS", 1)
    h.run("SCAN", "0", "COUNT", "10")
    seen = list(first_half)
    while cursor != b"0":
        cursor, batch = h.run("SCAN", cursor, "COUNT", "10")
        seen.extend(batch)
    assert set(seen) == {b"k%d" % i for i in range(50)}


def test_scan_small_collections_come_whole_with_cursor_zero():
    items = {b"a": 1, b"b": 2, b"c": 3}
    assert scan_module.scan(items, 0, 1, whole_below=128) == (0, [b"a", b"b", b"c"])
    assert scan_module.scan({}, 0, 10) == (0, [])


def test_scan_made_up_cursor_starts_over(h):
    for i in range(20):
        h.run("SET", "k%d" % i, "v")
    seen, cursor = [], b"123456789"
    while True:
        cursor, batch = h.run("SCAN", cursor, "COUNT", "3")
        seen.extend(batch)
        if cursor == b"0":
            break
    assert sorted(seen) == sorted(b"k%d" % i for i in range(20))


@pytest.mark.parametrize("cursor", ["abc", " 0", "0 ", "1.5", "+", "-", "18446744073709551616", "0x10"])
def test_scan_invalid_cursor(h, cursor):
    assert err(h.run("SCAN", cursor)) == "ERR invalid cursor"


@pytest.mark.parametrize("cursor", ["", "+0", "-0", "007", "-1", "18446744073709551615"])
def test_scan_accepts_what_strtoul_accepts(h, cursor):
    h.run("SET", "a", "1")
    reply = h.run("SCAN", cursor)
    assert isinstance(reply, list) and reply[0] == b"0"


def test_scan_option_errors(h):
    assert err(h.run("SCAN", "0", "COUNT", "0")) == "ERR syntax error"
    assert err(h.run("SCAN", "0", "COUNT", "-1")) == "ERR syntax error"
    assert err(h.run("SCAN", "0", "COUNT", "x")) == "ERR value is not an integer or out of range"
    assert err(h.run("SCAN", "0", "MATCH")) == "ERR syntax error"
    assert err(h.run("SCAN", "0", "TYPE")) == "ERR syntax error"
    assert err(h.run("SCAN", "0", "FOO", "bar")) == "ERR syntax error"


def test_scan_reply_shape(h):
    h.run("SET", "a", "1")
    assert h.raw("SCAN", "0") == b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"


# ---- RANDOMKEY ------------------------------------------------------------


def test_randomkey_empty_db_is_nil(h):
    assert h.raw("RANDOMKEY") == b"$-1\r\n"


def test_randomkey_returns_keys_of_the_db(h):
    for i in range(10):
        h.run("SET", "k%d" % i, "v")
    picks = {h.run("RANDOMKEY") for _ in range(200)}
    assert picks <= {b"k%d" % i for i in range(10)} and len(picks) > 1


def test_randomkey_skips_and_removes_expired_keys(h):
    h.run("SET", "live", "1")
    for i in range(20):
        h.run("SET", "gone%d" % i, "v", "PX", "5")
    h.advance(5)
    for _ in range(20):
        assert h.run("RANDOMKEY") == b"live"
    h.run("DEL", "live")
    assert h.run("RANDOMKEY") is None
    assert len(h.node.keyspace.dbs[0].data) == 0


def test_randomkey_on_a_replica_gives_up_when_every_key_is_expired(h):
    h.run("SET", "gone", "v", "PX", "5")
    h.advance(5)
    h.node.keyspace.is_replica = True
    # Redis returns a logically expired name rather than loop for ever.
    assert h.run("RANDOMKEY") == b"gone"
    assert b"gone" in h.node.keyspace.dbs[0].data


# ---- RENAME, RENAMENX -----------------------------------------------------


def test_rename_moves_value_and_ttl(h):
    h.run("SET", "a", "1", "EX", "100")
    h.run("SET", "b", "old")
    assert h.run("RENAME", "a", "b") == b"OK"
    assert h.run("GET", "b") == b"1"
    assert h.run("TTL", "b") == 100
    assert h.run("EXISTS", "a") == 0


def test_rename_overwrite_drops_the_destination_ttl(h):
    h.run("SET", "a", "1")
    h.run("SET", "b", "2", "EX", "100")
    h.run("RENAME", "a", "b")
    assert h.run("TTL", "b") == -1


def test_rename_errors_and_same_key(h):
    assert err(h.run("RENAME", "nokey", "x")) == "ERR no such key"
    assert err(h.run("RENAME", "nokey", "nokey")) == "ERR no such key"
    assert err(h.run("RENAMENX", "nokey", "x")) == "ERR no such key"
    h.run("SET", "a", "1")
    dirty = h.node.keyspace.dirty
    assert h.run("RENAME", "a", "a") == b"OK"
    assert h.run("RENAMENX", "a", "a") == 0
    assert h.node.keyspace.dirty == dirty


def test_renamenx_refuses_an_existing_destination(h):
    h.run("SET", "a", "1")
    h.run("SET", "b", "2")
    assert h.run("RENAMENX", "a", "b") == 0
    assert h.run("GET", "b") == b"2"
    assert h.run("RENAMENX", "a", "c") == 1
    assert h.run("GET", "c") == b"1"


@pytest.mark.parametrize("watched", ["a", "b"])
def test_rename_breaks_watch_on_both_keys(h, watched):
    from node.commands.table import COMMANDS

    if "watch" not in COMMANDS:
        pytest.skip("WATCH not implemented yet")
    other = h.new_client()
    h.run("SET", "a", "1")
    h.run("WATCH", watched, client=other)
    h.run("RENAME", "a", "b")
    h.run("MULTI", client=other)
    h.run("SET", "x", "1", client=other)
    assert h.run("EXEC", client=other) is None


def test_rename_of_an_expired_key_is_no_such_key(h):
    h.run("SET", "a", "1", "PX", "5")
    h.advance(5)
    assert err(h.run("RENAME", "a", "b")) == "ERR no such key"


# ---- COPY, MOVE -----------------------------------------------------------


def test_copy_strings_with_ttl_and_replace(h):
    h.run("SET", "a", "1", "EX", "100")
    assert h.run("COPY", "a", "b") == 1
    assert h.run("GET", "b") == b"1"
    assert h.run("TTL", "b") == 100
    h.run("SET", "c", "x")
    assert h.run("COPY", "a", "c") == 0
    assert h.run("GET", "c") == b"x"
    assert h.run("COPY", "a", "c", "REPLACE") == 1
    assert h.run("GET", "c") == b"1"
    assert h.run("COPY", "nokey", "d") == 0


def test_copy_to_another_db(h):
    h.run("SET", "a", "1")
    assert h.run("COPY", "a", "a", "DB", "1") == 1
    assert h.node.keyspace.dbs[1].data[b"a"] == b"1"
    assert h.run("COPY", "a", "a", "db", "1") == 0
    assert h.run("COPY", "a", "a", "DB", "1", "REPLACE") == 1


def test_copy_is_deep_for_collections(h):
    db = h.node.keyspace.dbs[0]
    put(h, b"l", ListValue([b"x"]))
    put(h, b"h", HashValue({b"f": b"v"}))
    put(h, b"s", SetValue({b"m"}))
    for key in (b"l", b"h", b"s"):
        assert h.run("COPY", key, key + b"2") == 1
    db.data[b"l2"].append(b"y")
    db.data[b"h2"][b"g"] = b"w"
    db.data[b"s2"].add(b"n")
    assert list(db.data[b"l"]) == [b"x"]
    assert dict(db.data[b"h"]) == {b"f": b"v"}
    assert set(db.data[b"s"]) == {b"m"}
    assert db.data[b"l2"].__class__ is ListValue


def test_copy_errors(h):
    h.run("SET", "a", "1")
    same = "ERR source and destination objects are the same"
    assert err(h.run("COPY", "a", "a")) == same
    assert err(h.run("COPY", "a", "a", "DB", "0")) == same
    assert err(h.run("COPY", "a", "b", "DB")) == "ERR syntax error"
    assert err(h.run("COPY", "a", "b", "FOO")) == "ERR syntax error"
    assert err(h.run("COPY", "a", "b", "DB", "16")) == "ERR DB index is out of range"
    assert err(h.run("COPY", "a", "b", "DB", "-1")) == "ERR DB index is out of range"
    assert err(h.run("COPY", "a", "b", "DB", "x")) == "ERR value is not an integer or out of range"
    assert err(h.run("COPY", "a", "b", "DB", "99999999999")) == "ERR value is out of range, value must between -2147483648 and 2147483647"


def test_move_moves_key_and_ttl(h):
    h.run("SET", "a", "1", "EX", "100")
    assert h.run("MOVE", "a", "1") == 1
    assert h.run("EXISTS", "a") == 0
    db1 = h.node.keyspace.dbs[1]
    assert db1.data[b"a"] == b"1"
    assert db1.expires[b"a"] == NOW + 100_000


def test_move_refuses_when_destination_has_the_key(h):
    h.run("SET", "a", "1")
    put(h, b"a", b"other", db=1)
    assert h.run("MOVE", "a", "1") == 0
    assert h.run("GET", "a") == b"1"
    assert h.run("MOVE", "nokey", "1") == 0


def test_move_errors(h):
    h.run("SET", "a", "1")
    assert err(h.run("MOVE", "a", "0")) == "ERR source and destination objects are the same"
    assert err(h.run("MOVE", "a", "16")) == "ERR DB index is out of range"
    assert err(h.run("MOVE", "a", "x")) == "ERR value is not an integer or out of range"


# ---- EXPIRE family --------------------------------------------------------


def test_expire_sets_ttl_and_propagates_absolute_pexpireat(h):
    out = propagated(h)
    h.run("SET", "a", "1")
    assert h.run("EXPIRE", "a", "100") == 1
    assert h.run("PEXPIRE", "a", "5000", "XX") == 1
    assert h.run("EXPIREAT", "a", str(NOW // 1000 + 50)) == 1
    assert h.run("PEXPIREAT", "a", str(NOW + 7)) == 1
    assert out[1:] == [
        [b"PEXPIREAT", b"a", b"%d" % (NOW + 100_000)],
        [b"PEXPIREAT", b"a", b"%d" % (NOW + 5000), b"XX"],
        [b"PEXPIREAT", b"a", b"%d" % (NOW + 50_000)],
        [b"PEXPIREAT", b"a", b"%d" % (NOW + 7)],  # PEXPIREAT goes as sent
    ]


def test_expire_in_the_past_deletes_and_propagates_del(h):
    out = propagated(h)
    h.run("SET", "a", "1")
    h.run("SET", "b", "1")
    assert h.run("EXPIRE", "a", "0") == 1
    assert h.run("PEXPIREAT", "b", "1") == 1
    assert h.run("EXISTS", "a", "b") == 0
    assert out[2:] == [[b"DEL", b"a"], [b"DEL", b"b"]]
    assert h.node.keyspace.expired_keys == 0


def test_expire_in_the_past_propagates_unlink_under_lazyfree():
    h = Harness(lazyfree_lazy_expire="yes")
    out = propagated(h)
    h.run("SET", "a", "1")
    h.run("EXPIRE", "a", "-1")
    assert out[-1] == [b"UNLINK", b"a"]


def test_expire_in_the_past_on_a_replica_keeps_the_key_hidden(h):
    h.run("SET", "a", "1")
    h.node.keyspace.is_replica = True
    assert h.run("EXPIRE", "a", "-10") == 1
    assert h.run("GET", "a") is None
    assert h.run("TTL", "a") == -2
    assert b"a" in h.node.keyspace.dbs[0].data


def test_expire_on_missing_key_is_zero_and_not_propagated(h):
    out = propagated(h)
    assert h.run("EXPIRE", "nokey", "100") == 0
    assert out == []
    h.run("SET", "a", "1")
    assert out == [[b"SET", b"a", b"1"]]


def test_expire_options(h):
    h.run("SET", "a", "1")
    assert h.run("EXPIRE", "a", "100", "XX") == 0
    assert h.run("EXPIRE", "a", "100", "GT") == 0  # no TTL counts as infinite
    assert h.run("EXPIRE", "a", "100", "LT") == 1
    assert h.run("EXPIRE", "a", "50", "NX") == 0
    assert h.run("EXPIRE", "a", "200", "LT") == 0
    assert h.run("EXPIRE", "a", "50", "lt", "xx") == 1
    assert h.run("TTL", "a") == 50
    assert h.run("EXPIRE", "a", "40", "GT") == 0
    assert h.run("EXPIRE", "a", "60", "gt") == 1
    assert h.run("TTL", "a") == 60
    h.run("PERSIST", "a")
    assert h.run("EXPIRE", "a", "10", "NX") == 1


def test_expire_option_errors(h):
    h.run("SET", "a", "1")
    nx = "ERR NX and XX, GT or LT options at the same time are not compatible"
    assert err(h.run("EXPIRE", "a", "100", "NX", "XX")) == nx
    assert err(h.run("EXPIRE", "a", "100", "NX", "GT")) == nx
    assert err(h.run("EXPIRE", "a", "100", "LT", "NX")) == nx
    assert err(h.run("EXPIRE", "a", "100", "GT", "LT")) == "ERR GT and LT options at the same time are not compatible"
    assert err(h.run("EXPIRE", "a", "100", "foo")) == "ERR Unsupported option foo"
    # Options are read before the time.
    assert err(h.run("EXPIRE", "a", "abc", "foo")) == "ERR Unsupported option foo"
    assert err(h.run("EXPIRE", "a", "abc")) == "ERR value is not an integer or out of range"


@pytest.mark.parametrize(
    "name, amount",
    [
        ("EXPIRE", "9223372036854775807"),
        ("EXPIRE", "9223372036854775"),
        ("EXPIRE", "-9223372036854776"),
        ("PEXPIRE", "9223372036854775807"),
        ("EXPIREAT", "9223372036854775807"),
    ],
)
def test_expire_overflow(h, name, amount):
    # Checked before the key is looked up.
    assert err(h.run(name, "nokey", amount)) == "ERR invalid expire time in '%s' command" % name.lower()


def test_expire_extremes_within_range(h):
    h.run("SET", "a", "1")
    assert h.run("PEXPIREAT", "a", "9223372036854775807") == 1
    assert h.run("EXPIRETIME", "a") == 9223372036854776
    h.run("SET", "b", "1")
    assert h.run("EXPIRE", "b", "-9223372036854775") == 1
    assert h.run("EXISTS", "b") == 0


def test_ttl_family(h):
    h.run("SET", "a", "1")
    for name in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"):
        assert h.run(name, "a") == -1
        assert h.run(name, "nokey") == -2
    h.run("PEXPIRE", "a", "10499")
    assert h.run("TTL", "a") == 10
    assert h.run("PTTL", "a") == 10499
    assert h.run("PEXPIRETIME", "a") == NOW + 10499
    assert h.run("EXPIRETIME", "a") == (NOW + 10499 + 500) // 1000
    h.run("PEXPIRE", "a", "10500")
    assert h.run("TTL", "a") == 11
    h.advance(10499)
    assert h.run("TTL", "a") == 0 and h.run("PTTL", "a") == 1
    h.advance(1)
    assert h.run("TTL", "a") == -2


def test_persist(h):
    out = propagated(h)
    h.run("SET", "a", "1", "EX", "100")
    assert h.run("PERSIST", "a") == 1
    assert h.run("TTL", "a") == -1
    assert h.run("PERSIST", "a") == 0
    assert h.run("PERSIST", "nokey") == 0
    assert [argv[0] for argv in out] == [b"SET", b"PERSIST"]


# ---- OBJECT ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value, encoding",
    [
        (b"123", "int"),
        (b"-9223372036854775808", "int"),
        (b"9223372036854775807", "int"),
        (b"9223372036854775808", "embstr"),
        (b"-0", "embstr"),
        (b"01", "embstr"),
        (b" 1", "embstr"),
        (b"", "embstr"),
        (b"x" * 44, "embstr"),
        (b"x" * 45, "raw"),
    ],
)
def test_object_encoding_strings(h, value, encoding):
    h.run("SET", "k", value)
    assert h.run("OBJECT", "ENCODING", "k") == encoding.encode()


def test_object_encoding_collections(h):
    put(h, b"l", ListValue([b"x"] * 1000))
    put(h, b"small_list", ListValue([b"x"]))
    put(h, b"h", HashValue({b"%d" % i: b"x" * 64 for i in range(512)}))
    put(h, b"h_many", HashValue({b"%d" % i: b"x" for i in range(513)}))
    put(h, b"h_long_value", HashValue({b"f": b"x" * 65}))
    put(h, b"h_long_field", HashValue({b"f" * 65: b"v"}))
    put(h, b"ints", SetValue({b"%d" % i for i in range(512)}))
    put(h, b"many_ints", SetValue({b"%d" % i for i in range(513)}))
    put(h, b"words", SetValue({b"1", b"a"}))
    put(h, b"minus_zero", SetValue({b"-0"}))
    expected = {
        "l": "quicklist",  # Redis 7.0 has no listpack lists
        "small_list": "quicklist",
        "h": "listpack",
        "h_many": "hashtable",
        "h_long_value": "hashtable",
        "h_long_field": "hashtable",
        "ints": "intset",
        "many_ints": "hashtable",
        "words": "hashtable",
        "minus_zero": "hashtable",
    }
    for key, encoding in expected.items():
        assert h.run("OBJECT", "ENCODING", key) == encoding.encode(), key


def test_object_encoding_follows_config():
    h = Harness(hash_max_listpack_entries="2", set_max_intset_entries="1")
    put(h, b"h", HashValue({b"a": b"1", b"b": b"2", b"c": b"3"}))
    put(h, b"s", SetValue({b"1", b"2"}))
    assert h.run("OBJECT", "ENCODING", "h") == b"hashtable"
    assert h.run("OBJECT", "ENCODING", "s") == b"hashtable"


def test_object_encoding_zsets(h):
    from node.datatypes.zset import ZSet

    put(h, b"small", ZSet.build([(b"m", 1.0)], True))
    put(h, b"big", ZSet.build([(b"m%d" % i, float(i)) for i in range(129)], False))
    assert h.run("OBJECT", "ENCODING", "small") == b"listpack"
    assert h.run("OBJECT", "ENCODING", "big") == b"skiplist"


def test_copy_is_deep_for_zsets(h):
    from node.datatypes.zset import ZSet

    put(h, b"z", ZSet.build([(b"a", 1.0)], True))
    assert h.run("COPY", "z", "z2") == 1
    db = h.node.keyspace.dbs[0]
    db.data[b"z2"].insert(b"b", 2.0)
    assert len(db.data[b"z"]) == 1 and len(db.data[b"z2"]) == 2
    assert h.run("OBJECT", "ENCODING", "z2") == b"listpack"


def test_object_refcount(h):
    h.run("SET", "shared", "9999")
    h.run("SET", "own", "10000")
    put(h, b"l", ListValue([b"x"]))
    assert h.run("OBJECT", "REFCOUNT", "shared") == 2147483647
    assert h.run("OBJECT", "REFCOUNT", "own") == 1
    assert h.run("OBJECT", "REFCOUNT", "l") == 1


def test_object_refcount_no_shared_integers_under_lru_with_maxmemory():
    h = Harness(maxmemory="100mb", maxmemory_policy="allkeys-lru")
    h.run("SET", "n", "123")
    assert h.run("OBJECT", "REFCOUNT", "n") == 1


def test_object_freq_needs_an_lfu_policy(h):
    h.run("SET", "a", "1")
    assert err(h.run("OBJECT", "FREQ", "a")) == (
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
        "Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
    )


def test_object_freq_and_idletime_under_lfu():
    h = Harness(maxmemory_policy="allkeys-lfu")
    h.node.keyspace.lfu = True
    h.run("SET", "a", "1")
    assert h.run("OBJECT", "FREQ", "a") == 5
    h.run("TOUCH", "a")  # the first hits always count (Redis's LFULogIncr near LFU_INIT_VAL)
    assert h.run("OBJECT", "FREQ", "a") == 6
    assert err(h.run("OBJECT", "IDLETIME", "a")) == (
        "ERR An LFU maxmemory policy is selected, idle time not tracked. "
        "Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
    )


def test_rename_and_move_keep_the_lfu_counter():
    h = Harness(maxmemory_policy="allkeys-lfu")
    h.node.keyspace.lfu = True
    h.run("SET", "a", "1")
    for _ in range(3):
        h.run("TOUCH", "a")
    before = h.run("OBJECT", "FREQ", "a")
    assert before > 5
    h.run("RENAME", "a", "b")
    h.run("MOVE", "b", "1")
    h.client.select(1)
    # RENAME's own lookup counts as one more access, at most one increment.
    assert h.run("OBJECT", "FREQ", "b") in (before, before + 1, before + 2)
    h.run("COPY", "b", "c")
    assert h.run("OBJECT", "FREQ", "c") == 5


def test_object_idletime_does_not_touch(h):
    h.run("SET", "a", "1")
    h.advance(3000)
    h.node.keyspace.tick()
    assert h.run("OBJECT", "IDLETIME", "a") == 3
    assert h.run("OBJECT", "IDLETIME", "a") == 3
    assert h.run("TYPE", "a") == b"string"
    assert h.run("EXISTS", "a") == 1
    assert h.run("OBJECT", "IDLETIME", "a") == 3
    h.run("GET", "a")
    assert h.run("OBJECT", "IDLETIME", "a") == 0


def test_object_missing_key_is_nil(h):
    for sub in ("ENCODING", "REFCOUNT", "IDLETIME", "FREQ"):
        assert h.raw("OBJECT", sub, "nokey") == b"$-1\r\n"


def test_object_help_and_errors(h):
    lines = h.run("OBJECT", "HELP")
    assert lines[0] == b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert lines[-1] == b"    Prints this help." and len(lines) == 15
    assert h.raw("OBJECT", "help").startswith(b"*15\r\n+OBJECT <subcommand>")
    assert err(h.run("OBJECT")) == "ERR wrong number of arguments for 'object' command"
    assert err(h.run("OBJECT", "ENCODING")) == "ERR wrong number of arguments for 'object|encoding' command"
    assert err(h.run("OBJECT", "encoding", "a", "b")) == "ERR wrong number of arguments for 'object|encoding' command"
    assert err(h.run("OBJECT", "HELP", "x")) == "ERR wrong number of arguments for 'object|help' command"
    assert err(h.run("OBJECT", "foo", "bar")) == "ERR unknown subcommand 'foo'. Try OBJECT HELP."
    assert err(h.run("OBJECT", "Foo\r\nx")) == "ERR unknown subcommand 'Foo  x'. Try OBJECT HELP."


# ---- lazy and active expiry -----------------------------------------------


def test_lazy_expiry_read_returns_nil_and_removes_the_key(h):
    expired = []
    h.node.keyspace.expired_listeners.append(lambda db, key: expired.append(key))
    h.run("SET", "a", "1", "PX", "100")
    h.advance(99)
    assert h.run("GET", "a") == b"1"
    h.advance(1)
    db = h.node.keyspace.dbs[0]
    assert b"a" in db.data  # nothing reclaimed it yet
    assert h.run("GET", "a") is None
    assert b"a" not in db.data and b"a" not in db.expires
    assert h.node.keyspace.expired_keys == 1
    assert expired == [b"a"]


def test_active_expiry_removes_keys_nobody_reads(h):
    for i in range(10):
        h.run("SET", "short%d" % i, "v", "PX", "100")
    h.run("SET", "long", "v", "PX", "10000")
    h.run("SET", "forever", "v")
    space = h.node.keyspace
    db = space.dbs[0]
    assert space.active_expire_cycle() == 0
    h.advance(100)
    assert space.active_expire_cycle(budget_keys=4) == 4
    assert space.active_expire_cycle() == 6
    assert set(db.data) == {b"long", b"forever"}
    assert space.expired_keys == 10
    h.advance(10_000)
    assert space.active_expire_cycle() == 1
    assert set(db.data) == {b"forever"}


def test_active_expiry_ignores_stale_deadlines(h):
    h.run("SET", "a", "v", "PX", "100")
    h.run("PEXPIRE", "a", "1000")
    h.run("SET", "b", "v", "PX", "100")
    h.run("PERSIST", "b")
    h.advance(100)
    space = h.node.keyspace
    assert space.active_expire_cycle() == 0
    assert h.run("EXISTS", "a", "b") == 2
    h.advance(900)
    assert space.active_expire_cycle() == 1
    assert h.run("EXISTS", "a", "b") == 1


def test_active_expiry_tracks_avg_ttl(h):
    space = h.node.keyspace
    h.run("SET", "a", "v", "PX", "10000")
    space.active_expire_cycle()
    assert 0 < space.dbs[0].avg_ttl <= 10000
    h.run("PERSIST", "a")
    space.active_expire_cycle()
    assert space.dbs[0].avg_ttl == 0


def test_replica_hides_but_does_not_delete_expired_keys(h):
    h.run("SET", "a", "1", "PX", "100")
    space = h.node.keyspace
    space.is_replica = True
    h.advance(100)
    db = space.dbs[0]
    assert h.run("GET", "a") is None
    assert h.run("EXISTS", "a") == 0
    assert h.run("KEYS", "*") == []
    assert space.active_expire_cycle() == 0
    assert b"a" in db.data
    # The master's DEL removes it (and counts it, as on Redis).
    assert h.run("DEL", "a") == 1
    assert b"a" not in db.data


# ---- encodings stay converted (one-way), strings keep the encoding commands leave ------

LONG = "x" * 70


def _enc(h, key):
    return h.run("OBJECT", "ENCODING", key).decode()


def test_hash_encoding_sticks_after_shrinking(h):
    h.run("HSET", "h", "f", LONG)
    h.run("HSET", "h", "f", "short")
    assert _enc(h, "h") == "hashtable"
    h.run("HSET", "g", "a", "1", "long", LONG)
    h.run("HDEL", "g", "long")
    assert _enc(h, "g") == "hashtable"
    h.run("HSET", "n", "a", "1")
    assert h.run("HSETNX", "n", "a", LONG) == 0  # not written: no conversion
    assert _enc(h, "n") == "listpack"
    h.run("HINCRBY", "n", LONG, "1")  # a long field converts
    assert _enc(h, "n") == "hashtable"


def test_set_encoding_sticks_after_shrinking(h):
    h.run("SADD", "j", "1", "2")
    h.run("SADD", "j", "x")
    h.run("SREM", "j", "x")
    assert _enc(h, "j") == "hashtable"
    h.run("SADD", "k", "1", "2")
    h.run("SADD", "src", "y")
    h.run("SMOVE", "src", "k", "y")
    h.run("SREM", "k", "y")
    assert _enc(h, "k") == "hashtable"


def test_loaded_collections_take_the_encoding_of_their_contents(h):
    # A value that arrives whole (a dump) is judged by its contents, then sticks.
    put(h, b"h", HashValue({b"f": LONG.encode(), b"g": b"1"}))
    h.run("HDEL", "h", "f")
    assert _enc(h, "h") == "hashtable"
    put(h, b"s", SetValue({b"1", b"a"}))
    h.run("SREM", "s", "a")
    assert _enc(h, "s") == "hashtable"


def test_copy_rename_move_keep_encodings(h):
    h.run("SADD", "s", "1", "x")
    h.run("SREM", "s", "x")
    h.run("COPY", "s", "s2")
    assert _enc(h, "s2") == "hashtable"
    h.run("SET", "a", "12")
    h.run("APPEND", "a", "3")
    h.run("COPY", "a", "b")
    h.run("RENAME", "b", "c")
    h.run("MOVE", "c", "1")
    h.run("SELECT", "1")
    assert _enc(h, "c") == "raw"
    h.run("SET", "c", "123")
    assert _enc(h, "c") == "int"


def test_sdiffstore_that_copies_then_removes_keeps_the_copy_encoding(h):
    # Redis's second SDIFF algorithm adds the whole first set, then removes the others.
    h.run("SADD", "a", "1", "2", "3", "4", "5", "6", "x")
    h.run("SADD", "b", "x")
    h.run("SADD", "c", "9")
    h.run("SDIFFSTORE", "d", "a", "b", "c")
    assert _enc(h, "d") == "hashtable"
    h.run("SDIFFSTORE", "e", "a", "b")
    assert _enc(h, "e") == "intset"


@pytest.mark.parametrize(
    "commands, encoding",
    [
        ([("SET", "k", "12"), ("APPEND", "k", "3")], "raw"),
        ([("SET", "k", "1"), ("APPEND", "k", "")], "raw"),
        ([("APPEND", "k", "123")], "int"),  # a new key takes the argument as SET does
        ([("SETRANGE", "k", "3", "ab")], "raw"),
        ([("SET", "k", "abc"), ("SETRANGE", "k", "0", "")], "embstr"),  # nothing written
        ([("INCRBYFLOAT", "k", "3")], "embstr"),
        ([("INCRBYFLOAT", "k", "3"), ("INCR", "k")], "int"),
        ([("INCRBYFLOAT", "k", "1e50")], "raw"),
        ([("SETRANGE", "k", "0", "x"), ("SET", "k", "x", "KEEPTTL")], "embstr"),
        ([("SET", "k", "10000"), ("GETSET", "k", "20")], "int"),
    ],
)
def test_string_encoding_left_by_commands(h, commands, encoding):
    for args in commands:
        h.run(*args)
    assert _enc(h, "k") == encoding
