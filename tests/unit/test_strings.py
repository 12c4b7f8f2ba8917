"""String commands: option parsing and error precedence as Redis 7.0, INCR's ranges, LCS."""

import pytest
from conftest import Harness, err

SYNTAX = "ERR syntax error"
NOT_INT = "ERR value is not an integer or out of range"




# ---- SET and GETEX options --------------------------------------------------------


@pytest.mark.parametrize(
    "options, reply",
    [
        (["EX", "10", "EX", "20"], b"OK"),  # the same option again: the last counts
        (["EX", "abc", "EX", "20"], b"OK"),  # only the last number is read
        (["EX", "10", "ex", "20"], b"OK"),
        (["EX", "10", "PX", "20"], SYNTAX),
        (["PX", "-1", "ex", "500", "EX", "abc"], SYNTAX),  # syntax before any number
        (["EX", "abc", "KEEPTTL"], SYNTAX),
        (["KEEPTTL", "EX", "10"], SYNTAX),
        (["GET", "EX"], SYNTAX),  # EX without its argument
        (["NX", "XX"], SYNTAX),
        (["KEEPTTL", "KEEPTTL"], b"OK"),
        (["EX", "abc"], NOT_INT),
        (["EX", "0"], "ERR invalid expire time in 'set' command"),
        (["PERSIST"], SYNTAX),
    ],
)
def test_set_options(h, options, reply):
    got = h.run("SET", "k", "v", *options)
    assert (got if isinstance(reply, bytes) else err(got)) == reply


def test_set_last_expiry_wins(h):
    h.run("SET", "k", "v", "EX", "10", "EX", "20")
    assert h.run("TTL", "k") == 20


def test_set_number_checked_before_get_type(h):
    h.run("RPUSH", "l", "x")
    assert err(h.run("SET", "l", "v", "GET", "EX", "abc")) == NOT_INT
    assert err(h.run("SET", "l", "v", "GET")).startswith("WRONGTYPE")


def test_getex_missing_key_is_nil_whatever_the_expiry(h):
    assert h.run("GETEX", "nokey", "EX", "0") is None
    assert h.run("GETEX", "nokey", "EX", "abc") is None
    assert err(h.run("GETEX", "nokey", "EX", "0", "extra")) == SYNTAX
    assert err(h.run("GETEX", "nokey", "EX", "abc", "EXAT", "4102444800")) == SYNTAX


def test_getex_options(h):
    h.run("SET", "k", "v")
    assert err(h.run("GETEX", "k", "EX", "0")) == "ERR invalid expire time in 'getex' command"
    assert err(h.run("GETEX", "k", "PERSIST", "EX", "10")) == SYNTAX
    assert err(h.run("GETEX", "k", "EX", "10", "PERSIST")) == SYNTAX
    assert err(h.run("GETEX", "k", "NX")) == SYNTAX
    assert h.run("GETEX", "k", "PERSIST", "PERSIST") == b"v"
    assert h.run("GETEX", "k", "EX", "10", "EX", "30") == b"v"
    assert h.run("TTL", "k") == 30


# ---- INCR family ---------------------------------------------------------------------


@pytest.mark.parametrize("stored", ["12345678901234567890", "-9223372036854775809", "1.5", " 1", "01"])
@pytest.mark.parametrize("command", [("INCR",), ("DECR",), ("INCRBY", "1"), ("DECRBY", "1"), ("INCRBY", "-9223372036854775808")])
def test_incr_refuses_values_outside_64_bits(h, stored, command):
    h.run("SET", "n", stored)
    assert err(h.run(command[0], "n", *command[1:])) == NOT_INT
    assert h.run("GET", "n") == stored.encode()


def test_incr_overflow_is_its_own_error(h):
    h.run("SET", "n", "9223372036854775807")
    assert err(h.run("INCR", "n")) == "ERR increment or decrement would overflow"
    assert h.run("INCRBY", "n", "-1") == 9223372036854775806


def test_incr_on_a_plain_counter_keeps_redis_bookkeeping(h):
    """INCR's inlined path (a live counter, no TTL in the db) does what the general path does."""
    h.run("SET", "n", "41")
    h.run("APPEND", "n", "1")  # 411, stored raw
    assert h.run("OBJECT", "ENCODING", "n") == b"raw"
    assert h.run("INCR", "n") == 412
    assert h.run("OBJECT", "ENCODING", "n") == b"int"
    other = h.new_client()
    h.run("WATCH", "n")
    h.run("INCR", "n", client=other)
    h.run("MULTI")
    h.run("GET", "n")
    assert h.run("EXEC") is None  # the INCR broke the WATCH
    h.run("SET", "t", "5", "EX", "100")  # a TTL in the db: the general path
    assert h.run("INCR", "t") == 6 and h.run("TTL", "t") == 100
    assert h.run("INCR", "n") == 414
    before = int(h.run("MEMORY", "USAGE", "n"))
    h.run("SET", "n", "99999")
    assert h.run("INCR", "n") == 100000 and h.run("GET", "n") == b"100000"
    assert int(h.run("MEMORY", "USAGE", "n")) >= before


def test_counters_at_the_same_value_and_overwritten(h):
    for key in ("a", "b"):
        h.run("SET", key, "7")
        assert h.run("INCR", key) == 8
    assert h.run("INCR", "a") == 9 and h.run("INCR", "b") == 9 and h.run("DECRBY", "a", "2") == 7
    h.run("SET", "a", "100")
    assert h.run("INCR", "a") == 101
    h.run("SET", "b", "x8")
    assert err(h.run("INCR", "b")) == NOT_INT
    for round_ in range(3):
        for i in range(1500):
            assert h.run("INCRBY", "c%d" % i, str(i)) == i * (round_ + 1)
    assert h.run("GET", "c1499") == b"4497" and h.run("INCR", "a") == 102


# Every command that reads a string, with a key: a counter INCR left (stored as an int) must
# read exactly like the same digits written by SET.
_READS = [
    ["GET", "{k}"], ["MGET", "{k}", "nokey"], ["STRLEN", "{k}"], ["GETRANGE", "{k}", "1", "-2"],
    ["SUBSTR", "{k}", "0", "2"], ["TYPE", "{k}"], ["EXISTS", "{k}"], ["OBJECT", "ENCODING", "{k}"],
    ["OBJECT", "REFCOUNT", "{k}"], ["LCS", "{k}", "other"], ["SORT", "list", "BY", "{k}"],
    ["SORT", "list", "GET", "{k}"], ["DEBUG", "DIGEST-VALUE", "{k}"], ["LPUSH", "{k}", "x"],
    ["HGET", "{k}", "f"], ["SCARD", "{k}"], ["ZSCORE", "{k}", "m"], ["SCAN", "0", "TYPE", "string"],
]
_WRITES = [
    ["APPEND", "{k}", "5"], ["SETRANGE", "{k}", "1", "9"], ["GETSET", "{k}", "3"], ["GETDEL", "{k}"],
    ["INCRBYFLOAT", "{k}", "0.5"], ["COPY", "{k}", "{k}c"], ["RENAME", "{k}", "{k}r"], ["MOVE", "{k}", "1"],
    ["EXPIRE", "{k}", "100"], ["GETEX", "{k}", "PX", "5000"], ["SET", "{k}", "v", "GET"], ["DECR", "{k}"],
    ["SETNX", "{k}", "1"], ["MSETNX", "{k}", "1"], ["SET", "{k}", "abc"], ["MSET", "{k}", "0"], ["DEL", "{k}"],
]


def _counter_and_string(h, value):
    """Key "n" holds `value` as INCR left it, key "s" the same digits as SET wrote them."""
    h.run("SET", "n", str(value - 1))
    assert h.run("INCR", "n") == value and h.client.db.data[b"n"].__class__ is int
    h.run("SET", "s", str(value))
    assert h.client.db.data[b"s"].__class__ is bytes


@pytest.mark.parametrize("value", [0, 7, 12345, -40, 2**63 - 1])
def test_a_counter_reads_like_the_string_of_its_digits(h, value):
    h.run("RPUSH", "list", "a", "b")
    h.run("SET", "other", "1234")
    _counter_and_string(h, value)
    for read in _READS:
        n, s = (h.run(*[a.format(k=k) for a in read]) for k in ("n", "s"))
        if read[0] == "SCAN":
            assert sorted(n[1]) == [b"n", b"other", b"s"] and sorted(s[1]) == sorted(n[1])
        else:
            assert (str(n) if isinstance(n, Exception) else n) == (str(s) if isinstance(s, Exception) else s), read
    assert _string_bytes_consistent(h)


@pytest.mark.parametrize("write", _WRITES, ids=" ".join)
def test_a_counter_changes_like_the_string_of_its_digits(h, write):
    _counter_and_string(h, 10)
    replies = [h.run(*[a.format(k=k) for a in write]) for k in ("n", "s")]
    assert replies[0] == replies[1] or str(replies[0]) == str(replies[1])
    for suffix in ("", "c", "r"):
        assert h.run("GET", "n" + suffix) == h.run("GET", "s" + suffix)
        assert h.run("PTTL", "n" + suffix) == h.run("PTTL", "s" + suffix)
    h.run("SELECT", "1")
    assert h.run("GET", "n") == h.run("GET", "s")
    h.run("SELECT", "0")
    assert _string_bytes_consistent(h)


def test_a_counter_at_zero_is_kept_by_every_change(h):
    """A zero int is falsy: the hook that drops emptied collections must not take it."""
    h.run("INCR", "n")
    assert h.run("DECR", "n") == 0
    h.run("EXPIRE", "n", "100")
    h.run("PERSIST", "n")
    assert h.run("GET", "n") == b"0" and h.run("INCR", "n") == 1


def test_counters_survive_save_and_reload(tmp_path):
    from node.log import Log
    from node.persistence.manager import Persistence

    h = Harness(dir=str(tmp_path))
    Persistence(h.node, Log("nothing"))
    h.run("INCRBY", "n", "123456789")
    h.run("INCR", "m")
    h.run("SET", "t", "41")
    h.run("INCR", "t")
    h.run("EXPIRE", "t", "100")
    digest = h.run("DEBUG", "DIGEST")
    assert h.run("DEBUG", "RELOAD") == b"OK"
    assert h.run("DEBUG", "DIGEST") == digest
    assert h.run("MGET", "n", "m", "t") == [b"123456789", b"1", b"42"]
    assert 0 < h.run("TTL", "t") <= 100 and h.run("INCR", "n") == 123456790


def test_incr_under_lfu_counts_the_access(h):
    h.run("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    h.run("SET", "n", "1")
    for _ in range(50):
        h.run("INCR", "n")
    assert h.run("OBJECT", "FREQ", "n") > 5
    assert h.run("GET", "n") == b"51"


def _string_bytes_consistent(h):
    db = h.client.db
    return db.string_bytes == sum(len(v) for v in db.data.values() if v.__class__ is bytes)


def test_mset_keeps_set_bookkeeping(h):
    """MSET's loop (Database.set_pairs) does what SET does for each pair."""
    assert h.run("MSET", "a", "1", "b", "22", "a", "333") == b"OK"
    assert h.run("MGET", "a", "b") == [b"333", b"22"]
    assert _string_bytes_consistent(h)
    h.run("RPUSH", "l", "x")
    dirty = h.node.keyspace.dirty
    assert h.run("MSET", "l", "now a string", "b", "2") == b"OK"
    assert h.run("TYPE", "l") == b"string" and h.node.keyspace.dirty == dirty + 2
    assert _string_bytes_consistent(h) and "l" not in h.client.db.coll_sizes
    h.run("SET", "t", "v", "EX", "100")
    h.run("APPEND", "b", "x")
    assert h.run("MSETNX", "t", "1") == 0
    assert h.run("MSET", "t", "1", "b", "5") == b"OK"
    assert h.run("TTL", "t") == -1 and h.run("OBJECT", "ENCODING", "b") == b"int"
    other = h.new_client()
    h.run("WATCH", "a")
    h.run("MSET", "a", "9", client=other)
    h.run("MULTI")
    h.run("GET", "a")
    assert h.run("EXEC") is None
    assert _string_bytes_consistent(h)


# ---- LCS ---------------------------------------------------------------------------------


def test_lcs(h):
    h.run("MSET", "k1", "ohmytext", "k2", "mynewtext")
    assert h.run("LCS", "k1", "k2") == b"mytext"
    assert h.run("LCS", "k1", "k2", "LEN") == 6
    assert h.run("LCS", "k1", "k2", "IDX") == [b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len", 6]
    assert h.run("LCS", "k1", "k2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN") == [b"matches", [[[4, 7], [5, 8], 4]], b"len", 6]
    assert h.run("LCS", "k1", "missing") == b""
    assert h.run("LCS", "nokey", "missing", "IDX") == [b"matches", [], b"len", 0]


def test_lcs_errors_in_redis_order(h):
    h.run("SET", "k1", "abc")
    h.run("RPUSH", "l", "x")
    assert err(h.run("LCS", "l", "k1", "FOO")) == "ERR The specified keys must contain string values"
    assert err(h.run("LCS", "k1", "k1", "FOO")) == SYNTAX
    assert err(h.run("LCS", "k1", "k1", "MINMATCHLEN", "abc")) == NOT_INT
    assert err(h.run("LCS", "k1", "k1", "MINMATCHLEN")) == SYNTAX
    assert err(h.run("LCS", "k1", "k1", "IDX", "LEN")) == "ERR If you want both the length and indexes, please just use IDX."


def test_lcs_walk_picks_redis_subsequence(h):
    h.run("MSET", "a", "abcabcabcabc", "b", "cbacbacbcaabbcc")
    assert h.run("LCS", "a", "b") == b"cbcabcabc"
    assert h.run("LCS", "b", "a") == b"abcbcabcc"


# ---- unknown commands -----------------------------------------------------------------


def test_unknown_command_shows_arguments_as_c_strings(h):
    # %s stops at a NUL byte; CR and LF become spaces.
    assert err(h.run("gEtT", "\x00\r\n")) == "ERR unknown command 'gEtT', with args beginning with: '' "
    assert err(h.run("FOO", "a\x00b", "c\rd")) == "ERR unknown command 'FOO', with args beginning with: 'a' 'c d' "
    assert err(h.run("F\x00OO")) == "ERR unknown command 'F', with args beginning with: "
