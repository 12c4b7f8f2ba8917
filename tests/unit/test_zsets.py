"""Sorted set commands: replies and error texts as Redis 7.0.15 gives them."""

import pytest

from node.commands.zsets import parse_score
from node.datatypes.zset import ZSet
from node.errors import CommandError
from conftest import err

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_FLOAT = "ERR value is not a valid float"
NOT_INT = "ERR value is not an integer or out of range"




def resp3(h):
    h.client.resp3 = True
    return h


def abcd(h, key="z"):
    return h.run("ZADD", key, 1, "a", 2, "b", 3, "c", 0.1, "d")


# ---- ZADD / ZINCRBY ------------------------------------------------------------


def test_zadd_counts_added_and_changed(h):
    assert abcd(h) == 4
    assert h.run("ZADD", "z", 1, "a", 5, "b", 9, "new") == 1
    assert h.run("ZADD", "z", "CH", 1, "a", 6, "b", 10, "new2") == 2
    assert h.run("ZRANGE", "z", 0, -1) == [b"d", b"a", b"c", b"b", b"new", b"new2"]


def test_zadd_nx_xx_gt_lt(h):
    abcd(h)
    assert h.run("ZADD", "z", "NX", 100, "a", 5, "e") == 1
    assert h.run("ZSCORE", "z", "a") == b"1"
    assert h.run("ZADD", "z", "XX", "CH", 100, "a", 5, "f") == 1
    assert h.run("ZSCORE", "z", "f") is None
    # GT: a (100 -> 50) is refused, b rises, g is new.
    assert h.run("ZADD", "z", "GT", "CH", 50, "a", 5, "b", 7, "g") == 2
    assert h.run("ZADD", "z", "LT", "CH", 60, "a", 1, "b") == 2
    assert h.run("ZMSCORE", "z", "a", "b", "g") == [b"60", b"1", b"7"]


def test_zadd_xx_on_missing_key_creates_nothing(h):
    assert h.run("ZADD", "z", "XX", 1, "a") == 0
    assert h.run("ZADD", "z", "XX", "INCR", 1, "a") is None
    assert h.run("EXISTS", "z") == 0


def test_zadd_incr(h):
    abcd(h)
    assert h.run("ZADD", "z", "INCR", 1.5, "a") == b"2.5"
    assert h.run("ZADD", "z", "NX", "INCR", 1, "a") is None
    assert h.run("ZADD", "z", "LT", "INCR", 1, "a") is None
    assert h.run("ZADD", "z", "GT", "INCR", 1, "a") == b"3.5"
    assert h.run("ZADD", "z", "INCR", "-inf", "a") == b"-inf"
    assert err(h.run("ZADD", "z", "INCR", "+inf", "a")) == "ERR resulting score is not a number (NaN)"
    assert h.run("ZSCORE", "z", "a") == b"-inf"


def test_zadd_option_conflicts(h):
    assert err(h.run("ZADD", "z", "NX", "XX", 1, "a")) == "ERR XX and NX options at the same time are not compatible"
    for opts in (("GT", "LT"), ("GT", "NX"), ("LT", "NX")):
        assert err(h.run("ZADD", "z", *opts, 1, "a")) == "ERR GT, LT, and/or NX options at the same time are not compatible"
    assert err(h.run("ZADD", "z", "INCR", 1, "a", 2, "b")) == "ERR INCR option supports a single increment-element pair"
    assert err(h.run("ZADD", "z", "NX")) == "ERR wrong number of arguments for 'zadd' command"
    assert err(h.run("ZADD", "z", "NX", 1)) == SYNTAX
    assert err(h.run("ZADD", "z", 1, "a", 2)) == SYNTAX
    assert err(h.run("ZADD", "z", "NX", "CH", 1)) == SYNTAX


def test_zadd_refuses_bad_scores_before_touching_the_key(h):
    h.run("SET", "s", "x")
    for bad in ("abc", "nan", " 1", "1 ", "1e", "1e400", "-1e400", "1e-400", "1_0", "0x", ""):
        assert err(h.run("ZADD", "z", bad, "m")) == NOT_FLOAT, bad
    assert err(h.run("ZADD", "s", "abc", "m")) == NOT_FLOAT
    assert err(h.run("ZADD", "s", 1, "m")) == WRONGTYPE
    assert h.run("EXISTS", "z") == 0


def test_parse_score_follows_strtod():
    assert parse_score(b"0x10") == 16.0
    assert parse_score(b"0x1p3") == 8.0
    assert parse_score(b".5") == 0.5
    assert parse_score(b"5.") == 5.0
    assert parse_score(b"+inf") == float("inf")
    assert parse_score(b"-Infinity") == float("-inf")
    assert parse_score(b"1e-310") > 0  # subnormal: accepted, unlike underflow to zero
    with pytest.raises(CommandError):
        parse_score(b"0x1p99999")


def test_zincrby(h):
    assert h.run("ZINCRBY", "z", 2, "a") == b"2"
    assert h.run("ZINCRBY", "z", 0.5, "a") == b"2.5"
    assert err(h.run("ZINCRBY", "z", "abc", "a")) == NOT_FLOAT
    # ZINCRBY goes through ZADD's option parser, as in Redis.
    assert err(h.run("ZINCRBY", "z", "nx", "a")) == SYNTAX
    h.run("ZADD", "z", "inf", "i")
    assert err(h.run("ZINCRBY", "z", "-inf", "i")) == "ERR resulting score is not a number (NaN)"


def test_scores_are_17_digit_bulk_in_resp2_and_doubles_in_resp3(h):
    h.run("ZADD", "z", 1.5, "a", 0.1, "b", 1e20, "c", "inf", "d", "-inf", "e", 3, "f")
    expected = {"a": b"$3\r\n1.5\r\n", "b": b"$19\r\n0.10000000000000001\r\n", "c": b"$5\r\n1e+20\r\n",
                "d": b"$3\r\ninf\r\n", "e": b"$4\r\n-inf\r\n", "f": b"$1\r\n3\r\n"}
    for member, raw in expected.items():
        assert h.raw("ZSCORE", "z", member) == raw
    resp3(h)
    assert h.raw("ZSCORE", "z", "b") == b",0.10000000000000001\r\n"
    assert h.raw("ZSCORE", "z", "d") == b",inf\r\n"
    assert h.raw("ZSCORE", "z", "nope") == b"_\r\n"
    assert h.raw("ZINCRBY", "z", 1, "f") == b",4\r\n"


def test_negative_zero_is_zero_in_a_listpack_but_kept_in_a_skiplist(h):
    assert h.raw("ZADD", "z", "INCR", "-0", "x") == b"$2\r\n-0\r\n"
    assert h.run("ZSCORE", "z", "x") == b"0"
    h.node.config.set("zset-max-listpack-entries", "0")
    h.run("ZADD", "big", "-0", "x")
    assert h.run("ZSCORE", "big", "x") == b"-0"
    # -0 equals 0: re-adding at 0 changes nothing.
    assert h.run("ZADD", "big", "CH", 0, "x") == 0


def test_listpack_state_follows_redis_conversions(h):
    h.node.config.set("zset-max-listpack-entries", "3")
    h.run("ZADD", "z", 1, "a", 2, "b", 3, "c")
    assert h.client.db.data[b"z"].compact
    h.run("ZADD", "z", 4, "d")
    assert not h.client.db.data[b"z"].compact
    h.run("ZREM", "z", "d", "c")
    # Redis never converts back.
    assert not h.client.db.data[b"z"].compact
    h.run("ZADD", "long", 1, "x" * 65)
    assert not h.client.db.data[b"long"].compact


def test_wrongtype(h):
    h.run("SET", "s", "x")
    for args in (("ZSCORE", "s", "a"), ("ZCARD", "s"), ("ZRANGE", "s", 0, -1), ("ZREM", "s", "a"),
                 ("ZRANK", "s", "a"), ("ZPOPMIN", "s"), ("ZINCRBY", "s", 1, "a"), ("ZMSCORE", "s", "a"),
                 ("ZUNION", 1, "s"), ("ZRANDMEMBER", "s"), ("ZSCAN", "s", 0), ("ZMPOP", 1, "s", "min")):
        assert err(h.run(*args)) == WRONGTYPE, args


# ---- reads -----------------------------------------------------------------------


def test_point_reads(h):
    abcd(h)
    assert h.run("ZCARD", "z") == 4
    assert h.run("ZCARD", "nokey") == 0
    assert h.run("ZMSCORE", "z", "a", "nope", "d") == [b"1", None, b"0.10000000000000001"]
    assert h.run("ZMSCORE", "nokey", "a", "b") == [None, None]
    assert h.run("ZRANK", "z", "a") == 1
    assert h.run("ZREVRANK", "z", "a") == 2
    assert h.run("ZRANK", "z", "nope") is None
    assert h.run("ZREVRANK", "nokey", "a") is None


def test_zcount_and_zlexcount(h):
    abcd(h)
    assert h.run("ZCOUNT", "z", "-inf", "+inf") == 4
    assert h.run("ZCOUNT", "z", "(1", 3) == 2
    assert h.run("ZCOUNT", "z", 3, 1) == 0
    assert err(h.run("ZCOUNT", "z", "a", 1)) == "ERR min or max is not a float"
    assert err(h.run("ZCOUNT", "nokey", 1, "x")) == "ERR min or max is not a float"
    h.run("ZADD", "l", 0, "a", 0, "b", 0, "c", 0, "d")
    assert h.run("ZLEXCOUNT", "l", "[a", "[c") == 3
    assert h.run("ZLEXCOUNT", "l", "(a", "+") == 3
    assert h.run("ZLEXCOUNT", "l", "+", "-") == 0
    assert err(h.run("ZLEXCOUNT", "l", "a", "[c")) == "ERR min or max not valid string range item"


# ---- ZRANGE family -------------------------------------------------------------------


def test_zrange_by_rank(h):
    abcd(h)
    assert h.run("ZRANGE", "z", 0, -1) == [b"d", b"a", b"b", b"c"]
    assert h.run("ZRANGE", "z", -2, 100, "WITHSCORES") == [b"b", b"2", b"c", b"3"]
    assert h.run("ZRANGE", "z", 0, 1, "REV") == [b"c", b"b"]
    assert h.run("ZREVRANGE", "z", 1, 2, "WITHSCORES") == [b"b", b"2", b"a", b"1"]
    assert h.run("ZRANGE", "z", 3, 1) == []
    assert h.run("ZRANGE", "nokey", 0, -1) == []
    # LIMIT with its default count is accepted even by rank, as in Redis.
    assert h.run("ZRANGE", "z", 0, 0, "LIMIT", 5, -1) == [b"d"]


def test_zrange_by_score(h):
    abcd(h)
    assert h.run("ZRANGE", "z", "(0.1", 3, "BYSCORE") == [b"a", b"b", b"c"]
    assert h.run("ZRANGE", "z", 3, "(0.1", "BYSCORE", "REV", "LIMIT", 1, 5) == [b"b", b"a"]
    assert h.run("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 1, 2, "WITHSCORES") == [b"a", b"1", b"b", b"2"]
    assert h.run("ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", 3, 10) == [b"d"]
    # A negative offset gives nothing; a negative count means all.
    assert h.run("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", -1, 2) == []
    assert h.run("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 2, -5) == [b"b", b"c"]
    assert h.run("ZRANGEBYSCORE", "z", "(inf", "+inf") == []
    assert h.run("ZRANGEBYSCORE", "z", " 0", "0x2") == [b"d", b"a", b"b"]
    assert h.run("ZRANGEBYSCORE", "z", "(", "1e400") == [b"d", b"a", b"b", b"c"]
    assert err(h.run("ZRANGEBYSCORE", "z", "nan", 1)) == "ERR min or max is not a float"
    assert err(h.run("ZRANGEBYSCORE", "z", "1 ", 1)) == "ERR min or max is not a float"


def test_zrange_by_lex(h):
    h.run("ZADD", "l", 0, "a", 0, "b", 0, "c", 0, "d", 0, "e")
    assert h.run("ZRANGE", "l", "[b", "(d", "BYLEX") == [b"b", b"c"]
    assert h.run("ZRANGE", "l", "[d", "(b", "BYLEX", "REV") == [b"d", b"c"]
    assert h.run("ZRANGEBYLEX", "l", "-", "+", "LIMIT", 1, 2) == [b"b", b"c"]
    assert h.run("ZREVRANGEBYLEX", "l", "+", "-", "LIMIT", 0, 2) == [b"e", b"d"]
    assert h.run("ZRANGEBYLEX", "l", "(", "+") == [b"a", b"b", b"c", b"d", b"e"]
    assert h.run("ZRANGEBYLEX", "l", "(b", "(b") == []
    assert h.run("ZRANGEBYLEX", "l", "+", "-") == []
    assert err(h.run("ZRANGEBYLEX", "l", "", "+")) == "ERR min or max not valid string range item"
    assert err(h.run("ZRANGEBYLEX", "l", "+x", "+")) == "ERR min or max not valid string range item"


def test_lex_ranges_with_mixed_scores_walk_like_a_listpack(h):
    h.run("ZADD", "m", 1, "d", 2, "a", 3, "c", 4, "b")
    # Forward: from the first member >= min, while members stay <= max.
    assert h.run("ZRANGEBYLEX", "m", "[b", "+") == [b"d", b"a", b"c", b"b"]
    assert h.run("ZRANGEBYLEX", "m", "[b", "[d") == [b"d", b"a", b"c", b"b"]
    # Reverse: from the last member <= max, while members stay >= min.
    assert h.run("ZREVRANGEBYLEX", "m", "[d", "[b") == [b"b", b"c"]
    # The first member (d) is past max: Redis gives up at once.
    assert h.run("ZRANGEBYLEX", "m", "-", "[c") == []
    assert h.run("ZREVRANGEBYLEX", "m", "[c", "-") == []
    assert h.run("ZLEXCOUNT", "m", "[b", "[c") == 0


def test_zrange_option_errors(h):
    abcd(h)
    assert err(h.run("ZRANGE", "z", 0, -1, "LIMIT", 0, 1)) == "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
    assert err(h.run("ZRANGE", "z", "[a", "[z", "BYLEX", "WITHSCORES")) == "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
    assert err(h.run("ZRANGEBYLEX", "z", "-", "+", "WITHSCORES")) == "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
    assert err(h.run("ZRANGE", "z", "a", "b", "BYSCORE")) == "ERR min or max is not a float"
    assert err(h.run("ZRANGE", "z", "a", "b", "BYLEX")) == "ERR min or max not valid string range item"
    assert err(h.run("ZRANGE", "z", "a", "b")) == NOT_INT
    assert err(h.run("ZRANGE", "z", 0, -1, "REV", "REV")) == SYNTAX
    assert err(h.run("ZRANGE", "z", 0, -1, "BYSCORE", "BYLEX")) == SYNTAX
    assert err(h.run("ZRANGE", "z", 1, 5, "BYSCORE", "LIMIT", 0, "x")) == NOT_INT
    assert err(h.run("ZRANGE", "z", 1, 5, "BYSCORE", "LIMIT", 0)) == SYNTAX
    assert err(h.run("ZREVRANGE", "z", 0, -1, "REV")) == SYNTAX
    assert err(h.run("ZREVRANGE", "z", 0, -1, "BYSCORE")) == SYNTAX
    assert err(h.run("ZRANGESTORE", "d", "z", 0, -1, "WITHSCORES")) == SYNTAX


def test_withscores_shapes_in_resp3(h):
    abcd(h)
    resp3(h)
    assert h.raw("ZRANGE", "z", 0, 1, "WITHSCORES") == b"*2\r\n*2\r\n$1\r\nd\r\n,0.10000000000000001\r\n*2\r\n$1\r\na\r\n,1\r\n"
    assert h.raw("ZRANGE", "z", 0, 1) == b"*2\r\n$1\r\nd\r\n$1\r\na\r\n"
    assert h.raw("ZRANGE", "nokey", 0, 1, "WITHSCORES") == b"*0\r\n"


def test_zrangestore(h):
    abcd(h)
    assert h.run("ZRANGESTORE", "dst", "z", 1, 2) == 2
    assert h.run("ZRANGE", "dst", 0, -1, "WITHSCORES") == [b"a", b"1", b"b", b"2"]
    h.run("ZADD", "l", 0, "a", 0, "b", 0, "c", 0, "d")
    assert h.run("ZRANGESTORE", "dst", "l", "[c", "-", "BYLEX", "REV") == 3
    assert h.run("ZRANGE", "dst", 0, -1, "WITHSCORES") == [b"a", b"0", b"b", b"0", b"c", b"0"]
    assert h.run("ZRANGESTORE", "dst", "z", 5, 9) == 0
    assert h.run("EXISTS", "dst") == 0
    h.run("SET", "dst", "x")
    assert h.run("ZRANGESTORE", "dst", "z", 0, 0) == 1
    assert h.run("TYPE", "dst") == b"zset"


# ---- removals --------------------------------------------------------------------


def test_zrem_deletes_the_emptied_key(h):
    abcd(h)
    assert h.run("ZREM", "z", "a", "nope", "a") == 1
    assert h.run("ZREM", "nokey", "a") == 0
    assert h.run("ZREM", "z", "b", "c", "d") == 3
    assert h.run("EXISTS", "z") == 0


def test_zremrange(h):
    abcd(h)
    assert h.run("ZREMRANGEBYRANK", "z", -1, -1) == 1
    assert h.run("ZREMRANGEBYRANK", "z", 5, 10) == 0
    assert err(h.run("ZREMRANGEBYRANK", "z", "a", 1)) == NOT_INT
    assert h.run("ZREMRANGEBYSCORE", "z", "(0.1", 1) == 1
    assert err(h.run("ZREMRANGEBYSCORE", "z", "x", 1)) == "ERR min or max is not a float"
    assert h.run("ZRANGE", "z", 0, -1) == [b"d", b"b"]
    h.run("ZADD", "l", 0, "a", 0, "b", 0, "c")
    assert h.run("ZREMRANGEBYLEX", "l", "(a", "+") == 2
    assert h.run("ZREMRANGEBYLEX", "l", "-", "+") == 1
    assert h.run("EXISTS", "l") == 0
    assert h.run("ZREMRANGEBYLEX", "nokey", "-", "+") == 0


# ---- pops -------------------------------------------------------------------------


def test_zpop_shapes(h):
    abcd(h)
    assert h.raw("ZPOPMIN", "z") == b"*2\r\n$1\r\nd\r\n$19\r\n0.10000000000000001\r\n"
    assert h.run("ZPOPMAX", "z", 2) == [b"c", b"3", b"b", b"2"]
    assert h.raw("ZPOPMIN", "z", 0) == b"*0\r\n"
    assert h.raw("ZPOPMIN", "nokey") == b"*0\r\n"
    assert err(h.run("ZPOPMIN", "z", -1)) == "ERR value is out of range, must be positive"
    assert err(h.run("ZPOPMIN", "z", "x")) == "ERR value is out of range, must be positive"
    assert err(h.run("ZPOPMIN", "z", 1, 2)) == SYNTAX
    assert h.run("ZPOPMIN", "z", 10) == [b"a", b"1"]
    assert h.run("EXISTS", "z") == 0


def test_zpop_shapes_in_resp3(h):
    abcd(h)
    resp3(h)
    assert h.raw("ZPOPMIN", "z") == b"*2\r\n$1\r\nd\r\n,0.10000000000000001\r\n"
    assert h.raw("ZPOPMIN", "z", 1) == b"*1\r\n*2\r\n$1\r\na\r\n,1\r\n"
    assert h.raw("ZPOPMAX", "z", 5) == b"*2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n"


def test_zmpop(h):
    abcd(h)
    assert h.run("ZMPOP", 2, "nokey", "z", "MIN", "COUNT", 2) == [b"z", [[b"d", b"0.10000000000000001"], [b"a", b"1"]]]
    assert h.run("ZMPOP", 1, "z", "max") == [b"z", [[b"c", b"3"]]]
    assert h.raw("ZMPOP", 1, "nokey", "min") == b"*-1\r\n"
    assert err(h.run("ZMPOP", 0, "z", "min")) == "ERR numkeys should be greater than 0"
    assert err(h.run("ZMPOP", "x", "z", "min")) == "ERR numkeys should be greater than 0"
    assert err(h.run("ZMPOP", 1, "z", "middle")) == SYNTAX
    assert err(h.run("ZMPOP", 2, "z", "min")) == SYNTAX
    assert err(h.run("ZMPOP", 1, "z", "min", "COUNT", 0)) == "ERR count should be greater than 0"
    assert err(h.run("ZMPOP", 1, "z", "min", "COUNT", 1, "COUNT", 1)) == SYNTAX
    resp3(h)
    assert h.raw("ZMPOP", 1, "nokey", "min") == b"_\r\n"
    assert h.raw("ZMPOP", 1, "z", "min") == b"*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n,2\r\n"


def test_bzpop_serves_at_once(h):
    abcd(h)
    assert h.run("BZPOPMIN", "nokey", "z", 0) == [b"z", b"d", b"0.10000000000000001"]
    assert h.run("BZPOPMAX", "z", 0) == [b"z", b"c", b"3"]
    assert h.run("BZMPOP", 0, 1, "z", "MAX", "COUNT", 5) == [b"z", [[b"b", b"2"], [b"a", b"1"]]]
    assert err(h.run("BZPOPMIN", "z", "x")) == "ERR timeout is not a float or out of range"
    assert err(h.run("BZPOPMIN", "z", -1)) == "ERR timeout is negative"
    # BZMPOP checks numkeys before the timeout.
    assert err(h.run("BZMPOP", "x", 0, "z", "min")) == "ERR numkeys should be greater than 0"
    h.run("SET", "s", "x")
    assert err(h.run("BZPOPMIN", "nokey", "s", 0)) == WRONGTYPE


def block(h, *args):
    c = h.new_client()
    assert h.raw(*args, client=c) == b""
    assert c.blocked is not None
    return c


def test_bzpopmin_blocks_until_zadd(h):
    a = block(h, "BZPOPMIN", "q", "q2", 0)
    b = block(h, "BZPOPMAX", "q2", 0)
    h.run("ZADD", "q2", 1, "x", 2, "y")
    assert a.blocked is None and b.blocked is None
    assert a.blocked_reply == b"*3\r\n$2\r\nq2\r\n$1\r\nx\r\n$1\r\n1\r\n"
    assert b.blocked_reply == b"*3\r\n$2\r\nq2\r\n$1\r\ny\r\n$1\r\n2\r\n"
    assert h.run("EXISTS", "q2") == 0


def test_bzmpop_blocks_and_is_served_in_resp3(h):
    a = h.new_client()
    a.resp3 = True
    assert h.raw("BZMPOP", 0, 1, "q", "MIN", "COUNT", 2, client=a) == b""
    h.run("ZADD", "q", 1, "x", 2, "y", 3, "z")
    assert a.blocked_reply == b"*2\r\n$1\r\nq\r\n*2\r\n*2\r\n$1\r\nx\r\n,1\r\n*2\r\n$1\r\ny\r\n,2\r\n"


def test_blocked_client_skips_a_key_of_another_type(h):
    a = block(h, "BZPOPMIN", "q", 0)
    h.run("SET", "q", "x")
    h.node.serve_blocked()
    assert a.blocked is not None
    h.run("DEL", "q")
    h.run("ZADD", "q", 5, "m")
    assert a.blocked_reply == b"*3\r\n$1\r\nq\r\n$1\r\nm\r\n$1\r\n5\r\n"


def test_blocking_timeout_reply_is_a_null_array(h):
    a = block(h, "BZPOPMIN", "q", 0.5)
    assert h.node.timeout_block(a) == b"*-1\r\n"
    b = h.new_client()
    b.resp3 = True
    assert h.raw("BZMPOP", 1, 1, "q", "MIN", client=b) == b""
    assert h.node.timeout_block(b) == b"_\r\n"


def test_blocking_pops_inside_exec_do_not_block(h):
    h.run("ZADD", "z", 1, "a")
    h.run("MULTI")
    h.run("BZPOPMIN", "nokey", 0)
    h.run("BZMPOP", 0, 1, "nokey", "MIN")
    h.run("BZPOPMAX", "z", 0)
    assert h.raw("EXEC") == b"*3\r\n*-1\r\n*-1\r\n*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n"


# ---- propagation -------------------------------------------------------------------




def test_pops_propagate_as_plain_pops(h, feed):
    h.run("ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d")
    h.run("BZPOPMIN", "nokey", "z", 0)
    h.run("BZPOPMAX", "z", 0)
    h.run("ZMPOP", 1, "z", "MIN", "COUNT", 10)
    assert feed[1:] == [[b"ZPOPMIN", b"z"], [b"ZPOPMAX", b"z"], [b"ZPOPMIN", b"z", b"2"]]


def test_served_blocked_pops_propagate_as_plain_pops(h, feed):
    block(h, "BZPOPMAX", "q", 0)
    block(h, "BZMPOP", 0, 1, "q", "MIN", "COUNT", 3)
    h.run("ZADD", "q", 1, "a", 2, "b", 3, "c")
    assert feed == [[b"ZADD", b"q", b"1", b"a", b"2", b"b", b"3", b"c"], [b"ZPOPMAX", b"q"], [b"ZPOPMIN", b"q", b"2"]]


def test_incr_forms_and_noops_propagate(h, feed):
    h.run("ZADD", "z", "INCR", 1, "a")
    h.run("ZINCRBY", "z", 1, "a")
    h.run("ZADD", "z", "NX", 5, "a")
    h.run("ZREM", "z", "nope")
    assert feed == [[b"ZADD", b"z", b"INCR", b"1", b"a"], [b"ZINCRBY", b"z", b"1", b"a"]]


# ---- set operations -------------------------------------------------------------------


def make_set(h, key, *members):
    from node.keyspace import SetValue

    h.client.db.set(key.encode(), SetValue(m.encode() for m in members))


def test_zunion_zinter_zdiff_with_sets(h):
    abcd(h)
    make_set(h, "s", "a", "b", "x")
    assert h.run("ZUNION", 2, "z", "s", "WITHSCORES") == [b"d", b"0.10000000000000001", b"x", b"1", b"a", b"2", b"b", b"3", b"c", b"3"]
    assert h.run("ZINTER", 2, "z", "s", "AGGREGATE", "MAX", "WITHSCORES") == [b"a", b"1", b"b", b"2"]
    assert h.run("ZINTER", 2, "z", "s", "WEIGHTS", 2, 10) == [b"a", b"b"]
    assert h.run("ZDIFF", 2, "z", "s", "WITHSCORES") == [b"d", b"0.10000000000000001", b"c", b"3"]
    assert h.run("ZDIFF", 2, "z", "z") == []
    assert h.run("ZINTERCARD", 2, "z", "s") == 2
    assert h.run("ZINTERCARD", 2, "z", "s", "LIMIT", 1) == 1
    assert h.run("ZUNION", 2, "z", "nokey", "AGGREGATE", "MIN") == [b"d", b"a", b"b", b"c"]


def test_setop_infinities(h):
    h.run("ZADD", "wi", 1, "a", "inf", "b", "-inf", "c")
    h.run("ZADD", "wn", "inf", "b", "-inf", "c")
    # 0 * inf and inf + -inf count as 0 in Redis.
    assert h.run("ZUNION", 1, "wi", "WEIGHTS", 0, "WITHSCORES") == [b"a", b"0", b"b", b"0", b"c", b"0"]
    assert h.run("ZUNION", 2, "wi", "wn", "WEIGHTS", 1, -1, "WITHSCORES") == [b"b", b"0", b"c", b"0", b"a", b"1"]
    assert h.run("ZINTER", 2, "wi", "wi", "WEIGHTS", 1, -1, "WITHSCORES") == [b"a", b"0", b"b", b"0", b"c", b"0"]


def test_setop_stores(h):
    abcd(h)
    assert h.run("ZUNIONSTORE", "dst", 2, "z", "z") == 4
    assert h.run("ZRANGE", "dst", 0, -1, "WITHSCORES") == [b"d", b"0.20000000000000001", b"a", b"2", b"b", b"4", b"c", b"6"]
    assert h.run("ZINTERSTORE", "dst", 2, "z", "nokey") == 0
    assert h.run("EXISTS", "dst") == 0
    assert h.run("ZDIFFSTORE", "dst", 1, "z") == 4
    assert err(h.run("ZUNIONSTORE", "dst", 1, "z", "WITHSCORES")) == SYNTAX


def test_setop_errors(h):
    abcd(h)
    assert err(h.run("ZUNIONSTORE", "d", 0, "z")) == "ERR at least 1 input key is needed for 'zunionstore' command"
    assert err(h.run("ZINTERCARD", 0, "z")) == "ERR at least 1 input key is needed for 'zintercard' command"
    assert err(h.run("ZUNION", 3, "z")) == SYNTAX
    assert err(h.run("ZUNION", "x", "z")) == NOT_INT
    assert err(h.run("ZUNION", 1, "z", "WEIGHTS", "abc")) == "ERR weight value is not a float"
    assert err(h.run("ZUNION", 1, "z", "AGGREGATE", "avg")) == SYNTAX
    assert err(h.run("ZDIFF", 1, "z", "WEIGHTS", 1)) == SYNTAX
    assert err(h.run("ZINTERCARD", 1, "z", "LIMIT", -1)) == "ERR LIMIT can't be negative"
    assert err(h.run("ZINTERCARD", 1, "z", "LIMIT", "x")) == "ERR LIMIT can't be negative"
    assert err(h.run("ZINTERCARD", 1, "z", "WITHSCORES")) == SYNTAX


# ---- ZRANDMEMBER, ZSCAN ------------------------------------------------------------------


def test_zrandmember(h):
    abcd(h)
    assert h.run("ZRANDMEMBER", "z") in (b"a", b"b", b"c", b"d")
    assert h.run("ZRANDMEMBER", "nokey") is None
    picks = h.run("ZRANDMEMBER", "z", 3)
    assert len(set(picks)) == 3 and set(picks) <= {b"a", b"b", b"c", b"d"}
    assert len(h.run("ZRANDMEMBER", "z", -10)) == 10
    # Asking for at least the whole zset returns it from the top, as Redis does.
    assert h.run("ZRANDMEMBER", "z", 100, "WITHSCORES") == [b"c", b"3", b"b", b"2", b"a", b"1", b"d", b"0.10000000000000001"]
    assert h.run("ZRANDMEMBER", "z", 0) == []
    assert h.run("ZRANDMEMBER", "nokey", 5) == []
    assert err(h.run("ZRANDMEMBER", "z", 1, "foo")) == SYNTAX
    assert err(h.run("ZRANDMEMBER", "z", "x")) == NOT_INT
    assert err(h.run("ZRANDMEMBER", "z", "-9223372036854775808")) == "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    resp3(h)
    pairs = h.run("ZRANDMEMBER", "z", -2, "WITHSCORES")
    assert len(pairs) == 2 and all(len(p) == 2 for p in pairs)


def test_zscan_small_zset_is_returned_whole_in_order(h):
    abcd(h)
    assert h.run("ZSCAN", "z", 0) == [b"0", [b"d", b"0.10000000000000001", b"a", b"1", b"b", b"2", b"c", b"3"]]
    assert h.run("ZSCAN", "z", 1234, "MATCH", "a*", "COUNT", 1) == [b"0", [b"a", b"1"]]
    assert h.run("ZSCAN", "nokey", 0, "COUNT", 0) == [b"0", []]
    assert err(h.run("ZSCAN", "z", "x")) == "ERR invalid cursor"
    assert err(h.run("ZSCAN", "z", 0, "COUNT", 0)) == SYNTAX
    assert err(h.run("ZSCAN", "z", 0, "COUNT", "x")) == NOT_INT
    assert err(h.run("ZSCAN", "z", 0, "FOO", "bar")) == SYNTAX


def test_zscan_large_zset_iterates_everything(h):
    args = []
    for i in range(300):
        args += [i, "m%d" % i]
    h.run("ZADD", "big", *args)
    seen, cursor = {}, b"0"
    while True:
        cursor, batch = h.run("ZSCAN", "big", cursor, "COUNT", 25)
        assert len(batch) <= 2 * 25 + 2
        seen.update(zip(batch[::2], batch[1::2]))
        if cursor == b"0":
            break
    assert len(seen) == 300 and seen[b"m7"] == b"7"


# ---- the data structure -------------------------------------------------------------------


def test_zset_structure_queries():
    z = ZSet()
    for i, m in enumerate([b"e", b"d", b"c", b"b", b"a"]):
        z.insert(m, float(i % 2))
    # Score first, then member bytes.
    assert [m for m, _ in z.items()] == [b"a", b"c", b"e", b"b", b"d"]
    assert z.rank(b"e") == 2 and z.rank(b"zz") is None
    assert z.score_span(0.0, True, 1.0, False) == (3, 5)
    assert z.score_span(1.0, False, 0.0, False) == (3, 3)
    z.rescore(b"e", 0.0, 5.0)
    assert z.pop_last() == (5.0, b"e")
    assert z.delete_span(0, 2) == 2 and len(z) == 2
    assert z.sample_member() == b"b"
    copy = z.copy()
    copy.discard(b"b")
    assert len(z) == 2 and len(copy) == 1


def test_zrandmember_withscores_count_range_is_checked_before_the_key(h):
    for key in ("nokey", "z"):
        if key == "z":
            h.run("ZADD", "z", "1", "a")
        assert str(h.run("ZRANDMEMBER", key, "9223372036854775807", "WITHSCORES")) == "ERR value is out of range"
        assert str(h.run("ZRANDMEMBER", key, "-4611686018427387904", "WITHSCORES")) == "ERR value is out of range"
    assert h.run("ZRANDMEMBER", "nokey", "4611686018427387903", "WITHSCORES") == []
