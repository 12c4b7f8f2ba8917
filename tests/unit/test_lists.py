"""List family. Expected replies were checked against a real Redis 7.0.15."""

import hiredis
import pytest
from hypothesis import given, settings, strategies as st

from node.commands import lists
from node.commands.table import COMMANDS
from node.resp import NULL_ARRAY
from node.session import Block

from conftest import Harness, err

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "ERR value is not an integer or out of range"




def make_string(h, key=b"s"):
    h.client.db.set(key, b"x")


def items(h, key="l"):
    return h.run("LRANGE", key, 0, -1)


# ---- push ---------------------------------------------------------------


def test_push_order_and_length(h):
    assert h.run("LPUSH", "l", "a", "b", "c") == 3
    assert h.run("RPUSH", "l", "d") == 4
    assert h.run("LPUSH", "l", "z") == 5
    assert items(h) == [b"z", b"c", b"b", b"a", b"d"]


def test_push_wrongtype(h):
    make_string(h)
    assert err(h.run("LPUSH", "s", "a")) == WRONGTYPE
    assert err(h.run("RPUSH", "s", "a")) == WRONGTYPE
    assert err(h.run("LPUSHX", "s", "a")) == WRONGTYPE


def test_pushx_only_on_existing(h):
    assert h.raw("LPUSHX", "l", "a") == b":0\r\n"
    assert h.raw("RPUSHX", "l", "a") == b":0\r\n"
    assert h.run("LLEN", "l") == 0
    h.run("RPUSH", "l", "m")
    assert h.run("LPUSHX", "l", "a", "b") == 3
    assert h.run("RPUSHX", "l", "y", "z") == 5
    assert items(h) == [b"b", b"a", b"m", b"y", b"z"]


def test_push_arity(h):
    assert err(h.run("LPUSH", "l")) == "ERR wrong number of arguments for 'lpush' command"


# ---- pop ----------------------------------------------------------------


def test_pop_single(h):
    h.run("RPUSH", "l", "a", "b", "c")
    assert h.raw("LPOP", "l") == b"$1\r\na\r\n"
    assert h.raw("RPOP", "l") == b"$1\r\nc\r\n"
    assert h.run("LPOP", "l") == b"b"
    assert h.run("LLEN", "l") == 0
    assert h.client.db.lookup(b"l") is None


def test_pop_missing_key_null_shapes(h):
    assert h.raw("LPOP", "nokey") == b"$-1\r\n"
    assert h.raw("LPOP", "nokey", 2) == b"*-1\r\n"
    assert h.raw("RPOP", "nokey", 0) == b"*-1\r\n"
    h.client.resp3 = True
    assert h.raw("LPOP", "nokey") == b"_\r\n"
    assert h.raw("LPOP", "nokey", 2) == b"_\r\n"


def test_pop_with_count(h):
    h.run("RPUSH", "l", "a", "b", "c", "d")
    assert h.raw("LPOP", "l", 0) == b"*0\r\n"
    assert h.run("LPOP", "l", 2) == [b"a", b"b"]
    assert h.run("RPOP", "l", 5) == [b"d", b"c"]
    assert h.client.db.lookup(b"l") is None
    h.run("RPUSH", "l", "a")
    assert h.raw("LPOP", "l", 1) == b"*1\r\n$1\r\na\r\n"


def test_rpop_count_is_in_pop_order(h):
    h.run("RPUSH", "l", "a", "b", "c", "d", "e")
    assert h.run("RPOP", "l", 2) == [b"e", b"d"]
    assert h.run("RPOP", "l", 3) == [b"c", b"b", b"a"]


def test_pop_count_errors(h):
    msg = "ERR value is out of range, must be positive"
    assert err(h.run("LPOP", "nokey", -1)) == msg
    assert err(h.run("LPOP", "nokey", "abc")) == msg
    assert err(h.run("RPOP", "nokey", "01")) == msg
    assert err(h.run("LPOP", "nokey", 1, 2)) == "ERR wrong number of arguments for 'lpop' command"
    assert err(h.run("RPOP", "nokey", 1, 2)) == "ERR wrong number of arguments for 'rpop' command"
    make_string(h)
    assert err(h.run("LPOP", "s")) == WRONGTYPE
    assert err(h.run("LPOP", "s", 0)) == WRONGTYPE
    # The count is parsed before the key is looked at.
    assert err(h.run("LPOP", "s", -1)) == msg


# ---- LRANGE / LLEN / LINDEX / LSET -----------------------------------------


def test_lrange(h):
    h.run("RPUSH", "l", *"abcdef")
    assert h.run("LRANGE", "l", 0, -1) == [b"a", b"b", b"c", b"d", b"e", b"f"]
    assert h.run("LRANGE", "l", -100, 100) == [b"a", b"b", b"c", b"d", b"e", b"f"]
    assert h.run("LRANGE", "l", -2, -1) == [b"e", b"f"]
    assert h.run("LRANGE", "l", 4, 100) == [b"e", b"f"]
    assert h.raw("LRANGE", "l", 5, 2) == b"*0\r\n"
    assert h.raw("LRANGE", "l", 2, -5) == b"*0\r\n"
    assert h.raw("LRANGE", "l", 9223372036854775807, -9223372036854775808) == b"*0\r\n"
    assert h.raw("LRANGE", "nokey", 0, -1) == b"*0\r\n"


def test_lrange_errors(h):
    h.run("RPUSH", "l", "a")
    make_string(h)
    for bad in ("abc", "01", " 1", "+1", "9223372036854775808"):
        assert err(h.run("LRANGE", "l", bad, 1)) == NOT_INT
    assert err(h.run("LRANGE", "nokey", "abc", 1)) == NOT_INT
    assert err(h.run("LRANGE", "s", 0, 1)) == WRONGTYPE
    # Indexes are parsed before the type check.
    assert err(h.run("LRANGE", "s", "x", 1)) == NOT_INT


def test_lrange_resp3_is_plain_array(h):
    h.run("RPUSH", "l", "a", "b")
    h.client.resp3 = True
    assert h.raw("LRANGE", "l", 0, -1) == b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"


@settings(max_examples=300, deadline=None)
@given(n=st.integers(0, 40), start=st.integers(-50, 50), end=st.integers(-50, 50))
def test_lrange_ltrim_match_model(n, start, end):
    h = Harness()
    model = [str(i).encode() for i in range(n)]
    if n:
        h.run("RPUSH", "l", *model)
    s = start + n if start < 0 else start
    e = end + n if end < 0 else end
    s = max(s, 0)
    expected = [] if s > e or s >= n else model[s:min(e, n - 1) + 1]
    assert h.run("LRANGE", "l", start, end) == expected
    assert h.run("LTRIM", "l", start, end) == b"OK"
    assert items(h) == expected


def test_llen(h):
    assert h.raw("LLEN", "nokey") == b":0\r\n"
    h.run("RPUSH", "l", "a", "b")
    assert h.run("LLEN", "l") == 2
    make_string(h)
    assert err(h.run("LLEN", "s")) == WRONGTYPE


def test_lindex(h):
    h.run("RPUSH", "l", "a", "b", "c")
    assert h.run("LINDEX", "l", 0) == b"a"
    assert h.run("LINDEX", "l", -1) == b"c"
    assert h.run("LINDEX", "l", -3) == b"a"
    assert h.raw("LINDEX", "l", 3) == b"$-1\r\n"
    assert h.raw("LINDEX", "l", -4) == b"$-1\r\n"
    assert err(h.run("LINDEX", "l", "abc")) == NOT_INT
    # The key is looked at before the index is parsed.
    assert h.raw("LINDEX", "nokey", "abc") == b"$-1\r\n"
    make_string(h)
    assert err(h.run("LINDEX", "s", "abc")) == WRONGTYPE


def test_lset(h):
    assert err(h.run("LSET", "nokey", "abc", "x")) == "ERR no such key"
    make_string(h)
    assert err(h.run("LSET", "s", "abc", "x")) == WRONGTYPE
    h.run("RPUSH", "l", "a", "b", "c")
    assert err(h.run("LSET", "l", "abc", "x")) == NOT_INT
    assert err(h.run("LSET", "l", 3, "x")) == "ERR index out of range"
    assert err(h.run("LSET", "l", -4, "x")) == "ERR index out of range"
    assert h.raw("LSET", "l", -1, "Z") == b"+OK\r\n"
    assert h.run("LSET", "l", 0, "A") == b"OK"
    assert items(h) == [b"A", b"b", b"Z"]


# ---- LREM / LTRIM / LINSERT --------------------------------------------


def test_lrem_directions(h):
    h.run("RPUSH", "l", "a", "b", "a", "c", "a", "d", "a")
    assert h.run("LREM", "l", 2, "a") == 2
    assert items(h) == [b"b", b"c", b"a", b"d", b"a"]
    assert h.run("LREM", "l", -1, "a") == 1
    assert items(h) == [b"b", b"c", b"a", b"d"]
    assert h.run("LREM", "l", 0, "zz") == 0
    assert h.run("LREM", "l", 0, "a") == 1
    assert items(h) == [b"b", b"c", b"d"]


def test_lrem_errors_and_empty(h):
    assert err(h.run("LREM", "nokey", "abc", "a")) == NOT_INT
    assert h.run("LREM", "nokey", 1, "a") == 0
    make_string(h)
    assert err(h.run("LREM", "s", 1, "a")) == WRONGTYPE
    h.run("RPUSH", "l", "x", "x")
    assert h.run("LREM", "l", 0, "x") == 2
    assert h.client.db.lookup(b"l") is None


def model_lrem(lst, count, elem):
    seq = list(reversed(lst)) if count < 0 else list(lst)
    out, removed = [], 0
    for x in seq:
        if x == elem and (count == 0 or removed < abs(count)):
            removed += 1
        else:
            out.append(x)
    return (list(reversed(out)) if count < 0 else out), removed


@settings(max_examples=300, deadline=None)
@given(lst=st.lists(st.sampled_from([b"a", b"b"]), min_size=1, max_size=60), count=st.integers(-40, 40))
def test_lrem_matches_model(lst, count):
    h = Harness()
    h.run("RPUSH", "l", *lst)
    expected, removed = model_lrem(lst, count, b"a")
    assert h.run("LREM", "l", count, "a") == removed
    assert items(h) == expected


def test_ltrim(h):
    assert h.raw("LTRIM", "nokey", 0, 1) == b"+OK\r\n"
    assert err(h.run("LTRIM", "nokey", "a", 1)) == NOT_INT
    make_string(h)
    assert err(h.run("LTRIM", "s", 0, 1)) == WRONGTYPE
    assert err(h.run("LTRIM", "s", "a", 1)) == NOT_INT
    h.run("RPUSH", "l", *"abcde")
    assert h.run("LTRIM", "l", 1, -2) == b"OK"
    assert items(h) == [b"b", b"c", b"d"]
    assert h.run("LTRIM", "l", 5, 10) == b"OK"
    assert h.client.db.lookup(b"l") is None


def test_ltrim_signals_even_without_change(h):
    # Redis's LTRIM signals the key unconditionally, which breaks a WATCH.
    h.run("RPUSH", "l", "a", "b")
    watcher = h.new_client()
    h.client.db.watched[b"l"] = {watcher: False}
    dirty = h.node.keyspace.dirty
    h.run("LTRIM", "l", 0, -1)
    assert watcher.dirty_cas is True
    # ... but counts no change, so there is nothing to propagate.
    assert h.node.keyspace.dirty == dirty
    h.run("LTRIM", "l", 1, -1)
    assert h.node.keyspace.dirty > dirty


def test_linsert(h):
    assert h.run("LINSERT", "nokey", "before", "a", "b") == 0
    assert err(h.run("LINSERT", "nokey", "middle", "a", "b")) == "ERR syntax error"
    make_string(h)
    assert err(h.run("LINSERT", "s", "before", "a", "b")) == WRONGTYPE
    # BEFORE/AFTER is checked before the key.
    assert err(h.run("LINSERT", "s", "middle", "a", "b")) == "ERR syntax error"
    h.run("RPUSH", "l", "a", "b", "c")
    assert h.run("LINSERT", "l", "before", "b", "X") == 4
    assert h.run("LINSERT", "l", "AFTER", "c", "Y") == 5
    assert h.raw("LINSERT", "l", "after", "zz", "Y") == b":-1\r\n"
    assert h.run("LINSERT", "l", "Before", "a", "Z") == 6
    assert items(h) == [b"Z", b"a", b"X", b"b", b"c", b"Y"]


# ---- LPOS ----------------------------------------------------------------


@pytest.fixture
def lp(h):
    h.run("RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c")
    return h


def test_lpos_basic(lp):
    h = lp
    assert h.run("LPOS", "l", "c") == 2
    assert h.run("LPOS", "l", "c", "RANK", 2) == 6
    assert h.run("LPOS", "l", "c", "rank", -1) == 7
    assert h.raw("LPOS", "l", "c", "rank", -4) == b"$-1\r\n"
    assert h.raw("LPOS", "l", "zz") == b"$-1\r\n"
    assert h.run("LPOS", "l", "1") == 3


def test_lpos_count_and_maxlen(lp):
    h = lp
    assert h.raw("LPOS", "l", "c", "count", 0) == b"*3\r\n:2\r\n:6\r\n:7\r\n"
    assert h.run("LPOS", "l", "c", "count", 2) == [2, 6]
    assert h.run("LPOS", "l", "c", "maxlen", 3) == 2
    assert h.run("LPOS", "l", "c", "maxlen", 3, "count", 0) == [2]
    assert h.run("LPOS", "l", "c", "rank", -1, "count", 0) == [7, 6, 2]
    assert h.run("LPOS", "l", "c", "rank", -1, "count", 2, "maxlen", 2) == [7, 6]
    assert h.run("LPOS", "l", "c", "rank", 2, "count", 5) == [6, 7]
    assert h.raw("LPOS", "l", "c", "rank", 5, "count", 1) == b"*0\r\n"
    assert h.raw("LPOS", "l", "zz", "count", 0) == b"*0\r\n"
    assert h.run("LPOS", "l", "c", "count", 1, "count", 2) == [2, 6]


def test_lpos_missing_key(h):
    assert h.raw("LPOS", "nokey", "c") == b"$-1\r\n"
    assert h.raw("LPOS", "nokey", "c", "count", 0) == b"*0\r\n"
    h.client.resp3 = True
    assert h.raw("LPOS", "nokey", "c") == b"_\r\n"


def test_lpos_errors(lp):
    h = lp
    rank_zero = ("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
                 "or use negative to start from the end of the list")
    assert err(h.run("LPOS", "l", "c", "rank", 0)) == rank_zero
    assert err(h.run("LPOS", "nokey", "c", "rank", 0)) == rank_zero
    assert err(h.run("LPOS", "l", "c", "rank", "abc")) == NOT_INT
    assert err(h.run("LPOS", "l", "c", "count", -1)) == "ERR COUNT can't be negative"
    assert err(h.run("LPOS", "l", "c", "count", "abc")) == "ERR COUNT can't be negative"
    assert err(h.run("LPOS", "l", "c", "maxlen", -1)) == "ERR MAXLEN can't be negative"
    assert err(h.run("LPOS", "l", "c", "bogus")) == "ERR syntax error"
    assert err(h.run("LPOS", "l", "c", "rank")) == "ERR syntax error"
    make_string(h)
    assert err(h.run("LPOS", "s", "c")) == WRONGTYPE
    # Options are parsed before the key is looked at.
    assert err(h.run("LPOS", "s", "c", "rank", 0)) == rank_zero


def test_lpos_rank_int64_min_quirk(lp):
    # Redis negates the rank in a C long, so LONG_MIN stays negative: the scan
    # goes from the tail, every match qualifies and COUNT never stops it.
    h = lp
    low = -9223372036854775808
    assert h.run("LPOS", "l", "c", "rank", low) == 7
    assert h.run("LPOS", "l", "c", "rank", low, "count", 1) == [7, 6, 2]
    assert h.run("LPOS", "l", "c", "rank", low + 1, "count", 1) == []


def model_lpos(lst, elem, rank, count, maxlen):
    order = range(len(lst)) if rank > 0 else range(len(lst) - 1, -1, -1)
    found, matches = [], 0
    for scanned, i in enumerate(order):
        if maxlen and scanned >= maxlen:
            break
        if lst[i] == elem:
            matches += 1
            if matches >= abs(rank):
                found.append(i)
                if count is None or (count and len(found) >= count):
                    break
    if count is None:
        return found[0] if found else None
    return found


@settings(max_examples=300, deadline=None)
@given(lst=st.lists(st.sampled_from([b"a", b"b"]), min_size=1, max_size=30),
       rank=st.integers(-5, 5).filter(bool), count=st.one_of(st.none(), st.integers(0, 4)),
       maxlen=st.integers(0, 35))
def test_lpos_matches_model(lst, rank, count, maxlen):
    h = Harness()
    h.run("RPUSH", "l", *lst)
    args = ["LPOS", "l", "a", "RANK", rank, "MAXLEN", maxlen]
    if count is not None:
        args += ["COUNT", count]
    assert h.run(*args) == model_lpos(lst, b"a", rank, count, maxlen)


# ---- LMOVE / RPOPLPUSH ---------------------------------------------------


def test_lmove(h):
    h.run("RPUSH", "l", "a", "b", "c")
    assert h.raw("LMOVE", "l", "d", "left", "right") == b"$1\r\na\r\n"
    assert h.run("LMOVE", "l", "d", "RIGHT", "LEFT") == b"c"
    assert items(h, "d") == [b"c", b"a"]
    assert h.run("LMOVE", "l", "l", "left", "right") == b"b"
    assert items(h) == [b"b"]
    assert h.run("RPOPLPUSH", "l", "d") == b"b"
    assert items(h, "d") == [b"b", b"c", b"a"]
    assert h.client.db.lookup(b"l") is None


def test_lmove_rotation_on_same_key(h):
    h.run("RPUSH", "l", "a", "b", "c")
    assert h.run("LMOVE", "l", "l", "left", "right") == b"a"
    assert h.run("RPOPLPUSH", "l", "l") == b"a"
    assert items(h) == [b"a", b"b", b"c"]


def test_lmove_errors(h):
    make_string(h)
    h.run("RPUSH", "l", "a")
    assert err(h.run("LMOVE", "l", "d", "left", "middle")) == "ERR syntax error"
    assert err(h.run("LMOVE", "nokey", "d", "up", "right")) == "ERR syntax error"
    assert h.raw("LMOVE", "nokey", "d", "left", "right") == b"$-1\r\n"
    # A missing source answers null without looking at the destination.
    assert h.raw("LMOVE", "nokey", "s", "left", "right") == b"$-1\r\n"
    assert err(h.run("LMOVE", "s", "d", "left", "right")) == WRONGTYPE
    assert err(h.run("LMOVE", "l", "s", "left", "right")) == WRONGTYPE
    assert err(h.run("RPOPLPUSH", "l", "s")) == WRONGTYPE
    assert items(h) == [b"a"]
    h.client.resp3 = True
    assert h.raw("RPOPLPUSH", "nokey", "d") == b"_\r\n"


# ---- LMPOP -----------------------------------------------------------------


def test_lmpop(h):
    h.run("RPUSH", "d", "b", "c", "a")
    assert h.raw("LMPOP", 2, "nokey", "d", "left") == b"*2\r\n$1\r\nd\r\n*1\r\n$1\r\nb\r\n"
    assert h.run("LMPOP", 2, "nokey", "d", "RIGHT", "COUNT", 10) == [b"d", [b"a", b"c"]]
    assert h.client.db.lookup(b"d") is None
    assert h.raw("LMPOP", 1, "nokey", "left") == b"*-1\r\n"
    h.client.resp3 = True
    assert h.raw("LMPOP", 1, "nokey", "left") == b"_\r\n"


def test_lmpop_errors(h):
    numkeys = "ERR numkeys should be greater than 0"
    count = "ERR count should be greater than 0"
    for bad in (0, -1, "abc", "9223372036854775808"):
        assert err(h.run("LMPOP", bad, "l", "left")) == numkeys
    assert err(h.run("LMPOP", 1, "l")) == "ERR wrong number of arguments for 'lmpop' command"
    assert err(h.run("LMPOP", 2, "l", "left")) == "ERR syntax error"
    assert err(h.run("LMPOP", 9223372036854775807, "l", "left")) == "ERR syntax error"
    assert err(h.run("LMPOP", 1, "l", "middle")) == "ERR syntax error"
    for bad in (0, -1, "abc"):
        assert err(h.run("LMPOP", 1, "l", "left", "count", bad)) == count
    assert err(h.run("LMPOP", 1, "l", "left", "count", 1, "count", 1)) == "ERR syntax error"
    assert err(h.run("LMPOP", 1, "l", "left", "count")) == "ERR syntax error"
    assert err(h.run("LMPOP", 1, "l", "left", "foo")) == "ERR syntax error"
    make_string(h)
    h.run("RPUSH", "d", "a", "b")
    # Keys are tried in order: a wrong type before the first non-empty list fails.
    assert err(h.run("LMPOP", 2, "s", "d", "left")) == WRONGTYPE
    assert err(h.run("LMPOP", 2, "nokey", "s", "left")) == WRONGTYPE
    assert h.run("LMPOP", 2, "d", "s", "left") == [b"d", [b"a"]]


def test_mpop_key_finders():
    lmpop, blmpop = COMMANDS["lmpop"], COMMANDS["blmpop"]
    assert lmpop.key_indexes([b"LMPOP", b"2", b"a", b"b", b"LEFT"]) == [2, 3]
    assert lmpop.key_indexes([b"LMPOP", b"5", b"a", b"LEFT"]) == []
    assert lmpop.key_indexes([b"LMPOP", b"x", b"a", b"LEFT"]) == []
    assert blmpop.key_indexes([b"BLMPOP", b"0", b"2", b"a", b"b", b"LEFT"]) == [3, 4]


def test_command_table_entries():
    blpop = COMMANDS["blpop"]
    assert (blpop.arity, blpop.first_key, blpop.last_key, blpop.step) == (-3, 1, -2, 1)
    assert blpop.flags == {"write", "noscript", "blocking"}
    assert blpop.key_indexes([b"BLPOP", b"a", b"b", b"0"]) == [1, 2]
    assert COMMANDS["lpush"].flags == {"write", "denyoom", "fast"}
    assert COMMANDS["lrange"].flags == {"readonly"}
    assert COMMANDS["blmove"].flags == {"write", "denyoom", "noscript", "blocking"}
    assert COMMANDS["lmove"].key_indexes([b"LMOVE", b"a", b"b", b"LEFT", b"RIGHT"]) == [1, 2]
    assert COMMANDS["lpos"].arity == -3 and COMMANDS["lmpop"].arity == -4 and COMMANDS["blmpop"].arity == -5


# ---- blocking: immediate, EXEC, argument errors --------------------------


def test_blocking_pops_serve_immediately(h):
    h.run("RPUSH", "l", "a", "b", "c", "d")
    assert h.raw("BLPOP", "nokey", "l", 0) == b"*2\r\n$1\r\nl\r\n$1\r\na\r\n"
    assert h.run("BRPOP", "l", 1) == [b"l", b"d"]
    assert h.run("BLMPOP", 0, 2, "nokey", "l", "right", "count", 5) == [b"l", [b"c", b"b"]]
    assert h.client.blocked is None


def test_blocking_wrongtype_in_key_order(h):
    make_string(h)
    h.run("RPUSH", "l", "a", "b")
    assert err(h.run("BLPOP", "s", 1)) == WRONGTYPE
    assert err(h.run("BLPOP", "nokey", "s", 1)) == WRONGTYPE
    assert h.run("BLPOP", "l", "s", 1) == [b"l", b"a"]
    assert err(h.run("BLPOP", "s", "l", 1)) == WRONGTYPE
    assert err(h.run("BLMPOP", 0, 1, "s", "left")) == WRONGTYPE


def test_blocking_timeout_errors(h):
    make_string(h)
    not_float = "ERR timeout is not a float or out of range"
    negative = "ERR timeout is negative"
    for bad in ("abc", "nan", " 1", "1e", "1,5"):
        assert err(h.run("BLPOP", "nokey", bad)) == not_float
    for bad in ("-1", "inf", "-inf", "infinity", "1e300", "1e16", "9223372036854776"):
        assert err(h.run("BLPOP", "nokey", bad)) == negative
    # The timeout is parsed before keys are looked at.
    assert err(h.run("BLPOP", "s", "-1")) == negative
    assert err(h.run("BLMOVE", "s", "d", "left", "right", "abc")) == not_float
    assert err(h.run("BRPOPLPUSH", "nokey", "d", "-1")) == negative


def test_blocking_argument_order(h):
    make_string(h)
    assert err(h.run("BLMOVE", "nokey", "d", "left", "middle", "abc")) == "ERR syntax error"
    assert err(h.run("BLMOVE", "s", "d", "left", "right", 1)) == WRONGTYPE
    # BLMPOP checks numkeys, LEFT/RIGHT and COUNT before the timeout.
    assert err(h.run("BLMPOP", "abc", 0, "nokey", "left")) == "ERR numkeys should be greater than 0"
    assert err(h.run("BLMPOP", "abc", 1, "nokey", "middle")) == "ERR syntax error"
    assert err(h.run("BLMPOP", "abc", 1, "nokey", "left", "count", 0)) == "ERR count should be greater than 0"
    assert err(h.run("BLMPOP", "abc", 1, "nokey", "left")) == "ERR timeout is not a float or out of range"
    assert err(h.run("BLMPOP", 0, 2, "nokey", "left")) == "ERR syntax error"


def test_blocking_inside_exec_does_not_block(h):
    make_string(h)
    h.client.in_exec = True
    assert h.raw("BLPOP", "nokey", 0) == b"*-1\r\n"
    assert h.raw("BRPOP", "nokey", 1) == b"*-1\r\n"
    assert h.raw("BLMPOP", 0, 1, "nokey", "left", "count", 3) == b"*-1\r\n"
    # BLMOVE/BRPOPLPUSH answer like LMOVE: a null bulk.
    assert h.raw("BLMOVE", "nokey", "d", "left", "right", 0) == b"$-1\r\n"
    assert h.raw("BRPOPLPUSH", "nokey", "d", 0) == b"$-1\r\n"
    assert h.raw("BLMOVE", "nokey", "s", "left", "right", 0) == b"$-1\r\n"
    assert h.client.blocked is None
    assert h.client.db.blocking == {}
    h.client.resp3 = True
    assert h.raw("BLPOP", "nokey", 0) == b"_\r\n"
    assert h.raw("BLMOVE", "nokey", "d", "left", "right", 0) == b"_\r\n"


def test_blmove_serves_immediately(h):
    make_string(h)
    h.run("RPUSH", "l", "a", "b", "c")
    assert err(h.run("BLMOVE", "l", "s", "left", "right", 0)) == WRONGTYPE
    assert err(h.run("BRPOPLPUSH", "l", "s", 0)) == WRONGTYPE
    assert h.raw("BLMOVE", "l", "d", "left", "right", 0) == b"$1\r\na\r\n"
    assert h.run("BRPOPLPUSH", "l", "d", 0) == b"c"
    assert items(h, "d") == [b"c", b"a"]


# ---- blocking: block, serve, fairness, timeout ----------------------------


def block(h, *args):
    c = h.new_client()
    assert h.raw(*args, client=c) == b""
    assert c.blocked is not None
    return c


def test_blpop_blocks_and_is_served_by_push(h):
    a = block(h, "BLPOP", "q", 0)
    assert h.client.db.blocking[b"q"][0] is a
    assert h.run("RPUSH", "q", "x", "y") == 2
    assert a.blocked is None
    assert a.blocked_reply == b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n"
    assert items(h, "q") == [b"y"]
    assert h.client.db.blocking == {}


def test_variadic_lpush_serves_head(h):
    a = block(h, "BLPOP", "q", 0)
    h.run("LPUSH", "q", "foo", "bar")
    assert a.blocked_reply == b"*2\r\n$1\r\nq\r\n$3\r\nbar\r\n"


def test_clients_served_in_blocking_order(h):
    a = block(h, "BLPOP", "q", 0)
    b = block(h, "BRPOP", "q", 0)
    c = block(h, "BLPOP", "q", 0)
    h.run("RPUSH", "q", "1", "2", "3", "4")
    assert a.blocked_reply == b"*2\r\n$1\r\nq\r\n$1\r\n1\r\n"
    assert b.blocked_reply == b"*2\r\n$1\r\nq\r\n$1\r\n4\r\n"
    assert c.blocked_reply == b"*2\r\n$1\r\nq\r\n$1\r\n2\r\n"
    assert items(h, "q") == [b"3"]


def test_fewer_elements_than_waiters(h):
    a = block(h, "BLPOP", "q", 0)
    b = block(h, "BLPOP", "q", 0)
    h.run("RPUSH", "q", "only")
    assert a.blocked_reply == b"*2\r\n$1\r\nq\r\n$4\r\nonly\r\n"
    assert b.blocked is not None and b.blocked_reply is None
    assert list(h.client.db.blocking[b"q"]) == [b]
    assert h.client.db.lookup(b"q") is None


def test_served_from_any_of_the_keys(h):
    a = block(h, "BLPOP", "k1", "k2", "k3", 0)
    h.run("RPUSH", "k3", "v")
    assert a.blocked_reply == b"*2\r\n$2\r\nk3\r\n$1\r\nv\r\n"
    assert h.client.db.blocking == {}


def test_same_key_repeated(h):
    a = block(h, "BLPOP", "l1", "l2", "l2", "l1", 0)
    assert list(h.client.db.blocking[b"l1"]) == [a]
    h.run("LPUSH", "l2", "b")
    assert a.blocked_reply == b"*2\r\n$2\r\nl2\r\n$1\r\nb\r\n"
    assert h.client.db.blocking == {}


def test_two_keys_ready_at_once_serves_the_signalled_key(h):
    # Redis 7.0 serves from the key that became ready first (here k2), not
    # from the first key of the client's list.
    a = block(h, "BLPOP", "k1", "k2", 0)
    c = h.client
    lists.rpush(c, [b"RPUSH", b"k2", b"a"])
    lists.rpush(c, [b"RPUSH", b"k1", b"b"])
    h.node.serve_blocked()
    assert a.blocked_reply == b"*2\r\n$2\r\nk2\r\n$1\r\na\r\n"
    assert items(h, "k1") == [b"b"]


def test_key_of_another_type_keeps_client_blocked(h):
    a = block(h, "BLPOP", "q", 0)
    h.client.db.set(b"q", b"string")
    h.node.serve_blocked()
    assert a.blocked is not None
    h.client.db.delete(b"q")
    h.run("RPUSH", "q", "v")
    assert a.blocked_reply == b"*2\r\n$1\r\nq\r\n$1\r\nv\r\n"


def test_unservable_waiter_does_not_stop_the_queue(h):
    # A waiter of another kind (say BZPOPMIN) ahead of a list waiter.
    other = h.new_client()
    blk = Block([b"q"], 0, lambda client: None, NULL_ARRAY)
    other.blocked = blk
    h.node.block(other, blk)
    a = block(h, "BLPOP", "q", 0)
    h.run("RPUSH", "q", "v")
    assert a.blocked_reply == b"*2\r\n$1\r\nq\r\n$1\r\nv\r\n"
    assert other.blocked is blk


def test_blmpop_blocked_then_served(h):
    a = block(h, "BLMPOP", 0, 2, "a", "b", "left", "count", 2)
    h.run("RPUSH", "b", "x", "y", "z")
    assert a.blocked_reply == b"*2\r\n$1\r\nb\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n"
    assert items(h, "b") == [b"z"]


def test_brpoplpush_blocked_then_served(h):
    a = block(h, "BRPOPLPUSH", "zz", "yy", 0)
    h.run("RPUSH", "zz", "1", "2")
    assert a.blocked_reply == b"$1\r\n2\r\n"
    assert items(h, "yy") == [b"2"]
    assert items(h, "zz") == [b"1"]


def test_blmove_chain_feeds_next_waiter(h):
    a = block(h, "BLMOVE", "list1", "list2", "right", "left", 0)
    b = block(h, "BLPOP", "list2", 0)
    h.run("RPUSH", "list1", "foo")
    assert a.blocked_reply == b"$3\r\nfoo\r\n"
    assert b.blocked_reply == b"*2\r\n$5\r\nlist2\r\n$3\r\nfoo\r\n"
    assert h.run("LLEN", "list2") == 0


def test_circular_brpoplpush(h):
    a = block(h, "BRPOPLPUSH", "list1", "list2", 0)
    b = block(h, "BRPOPLPUSH", "list2", "list1", 0)
    h.run("RPUSH", "list1", "foo")
    assert a.blocked_reply == b"$3\r\nfoo\r\n"
    assert b.blocked_reply == b"$3\r\nfoo\r\n"
    assert items(h, "list1") == [b"foo"]
    assert h.run("LLEN", "list2") == 0


def test_self_referential_brpoplpush(h):
    a = block(h, "BRPOPLPUSH", "blist", "blist", 0)
    h.run("RPUSH", "blist", "foo")
    assert a.blocked_reply == b"$3\r\nfoo\r\n"
    assert items(h, "blist") == [b"foo"]


def test_blmove_wrong_destination_when_served(h):
    # The first waiter gets WRONGTYPE and is unblocked; the source keeps its
    # element and the next waiter is served.
    h.client.db.set(b"target1", b"nolist")
    a = block(h, "BRPOPLPUSH", "blist", "target1", 0)
    b = block(h, "BRPOPLPUSH", "blist", "target2", 0)
    h.run("LPUSH", "blist", "foo")
    assert a.blocked is None
    assert a.blocked_reply == b"-" + WRONGTYPE.encode() + b"\r\n"
    assert b.blocked_reply == b"$3\r\nfoo\r\n"
    assert items(h, "target2") == [b"foo"]


def test_blmove_wrong_destination_keeps_order(h):
    h.client.db.set(b"target", b"nolist")
    a = block(h, "BRPOPLPUSH", "blist", "target", 0)
    h.run("RPUSH", "blist", "a", "b", "c")
    assert a.blocked_reply == b"-" + WRONGTYPE.encode() + b"\r\n"
    assert items(h, "blist") == [b"a", b"b", b"c"]


def test_blocked_resp3_reply(h):
    a = h.new_client()
    a.resp3 = True
    assert h.raw("BLPOP", "q", 0, client=a) == b""
    h.run("RPUSH", "q", "v")
    assert a.blocked_reply == b"*2\r\n$1\r\nq\r\n$1\r\nv\r\n"


def test_timeout_replies(h):
    a = block(h, "BLPOP", "q", "0.5")
    assert a.blocked.timeout == 0.5
    assert h.node.timeout_block(a) == b"*-1\r\n"
    assert a.blocked is None and h.client.db.blocking == {}
    # Redis 7.0 times out BLMOVE/BRPOPLPUSH with a null array too.
    for args in (("BLMOVE", "q", "d", "left", "right", 1), ("BRPOPLPUSH", "q", "d", 1), ("BLMPOP", 1, 1, "q", "left")):
        c = block(h, *args)
        assert h.node.timeout_block(c) == b"*-1\r\n"
    r3 = h.new_client()
    r3.resp3 = True
    h.raw("BLMOVE", "q", "d", "left", "right", 1, client=r3)
    assert h.node.timeout_block(r3) == b"_\r\n"


def test_timeout_rounding(h):
    # Milliseconds, rounded up: a tiny positive is 1 ms, a tiny negative 0 (forever).
    assert block(h, "BLPOP", "q", "0.0001").blocked.timeout == 0.001
    assert block(h, "BLPOP", "q", "-0.0001").blocked.timeout == 0
    assert block(h, "BLPOP", "q", "-0").blocked.timeout == 0
    assert block(h, "BLPOP", "q", ".5e1").blocked.timeout == 5


def test_expired_list_blocks(h):
    h.run("RPUSH", "q", "old")
    h.client.db.set_expire(b"q", h.clock[0] + 100)
    h.advance(200)
    a = block(h, "BLPOP", "q", 0)
    h.run("RPUSH", "q", "new")
    assert a.blocked_reply == b"*2\r\n$1\r\nq\r\n$3\r\nnew\r\n"


def test_disconnect_while_blocked(h):
    a = block(h, "BLPOP", "q", 0)
    h.node.remove_client(a)
    assert h.client.db.blocking == {}
    h.run("RPUSH", "q", "v")
    assert a.blocked_reply is None
    assert items(h, "q") == [b"v"]


# ---- propagation ---------------------------------------------------------




def test_propagation_of_immediate_blocking_pops(h, feed):
    h.run("RPUSH", "l", "a", "b", "c", "d", "e")
    h.run("BLPOP", "nokey", "l", 0)
    h.run("BRPOP", "l", 0)
    h.run("BLMPOP", 0, 1, "l", "left", "count", 10)
    assert feed[1:] == [[b"LPOP", b"l"], [b"RPOP", b"l"], [b"LPOP", b"l", b"3"]]


def test_propagation_of_moves(h, feed):
    h.run("RPUSH", "l", "a", "b")
    h.run("BLMOVE", "l", "d", "left", "RIGHT", 0)
    h.run("BRPOPLPUSH", "l", "d", 0)
    assert feed[1:] == [[b"LMOVE", b"l", b"d", b"left", b"RIGHT"], [b"RPOPLPUSH", b"l", b"d"]]


def test_propagation_of_lmpop_uses_popped_count(h, feed):
    h.run("RPUSH", "l", "a", "b")
    h.run("LMPOP", 1, "l", "right", "count", 5)
    assert feed[-1] == [b"RPOP", b"l", b"2"]


def test_propagation_when_served_after_blocking(h, feed):
    a = block(h, "BLPOP", "q", 0)
    b = block(h, "BLMPOP", 0, 1, "q", "right", "count", 2)
    c = block(h, "BLMOVE", "q", "dst", "left", "left", 0)
    h.run("RPUSH", "q", "1", "2", "3", "4")
    assert feed == [
        [b"RPUSH", b"q", b"1", b"2", b"3", b"4"],
        [b"LPOP", b"q"],
        [b"RPOP", b"q", b"2"],
        [b"LMOVE", b"q", b"dst", b"left", b"left"],
    ]
    assert a.propagate_as is None and b.propagate_as is None and c.propagate_as is None


def test_nothing_left_to_propagate_without_listeners(h):
    h.run("RPUSH", "l", "a")
    h.run("BLPOP", "l", 0)
    assert h.client.propagate_as is None


def test_failed_pop_propagates_nothing(h, feed):
    assert h.raw("LPOP", "nokey") == b"$-1\r\n"
    assert h.raw("LMPOP", 1, "nokey", "left") == b"*-1\r\n"
    assert feed == []
