"""Hypothesis strategies for command sequences, one family at a time.

The key space is a handful of names so that commands meet each other's keys:
the same key is pushed to, read as a string, renamed, expired, popped empty.
Arguments come from small pools mixing good values with the bad ones Redis
rejects in its own words: non-integers, floats where integers go, overflow,
empty strings, nan. Expiries are either far in the future (the two servers see
the same TTL) or zero/negative/past (deleted at once): nothing expires while a
sequence runs. A command may then be mangled: a mixed-case name, arguments cut
short or one too many (arity errors), or an unknown name.

Each strategy yields a list of str arguments, command name first.
"""

from hypothesis import strategies as st

KEYS = ["a", "b", "c", "d"]
key = st.sampled_from(KEYS)


def keys(lo=1, hi=3):
    return st.lists(key, min_size=lo, max_size=hi)


def _flatten(parts):
    out = []
    for part in parts:
        if isinstance(part, (list, tuple)):
            out.extend(_flatten(part))
        else:
            out.append(part)
    return out


def c(*parts):
    """A command: literal strings and strategies (of strings or lists of strings), flattened."""
    return st.tuples(*[p if isinstance(p, st.SearchStrategy) else st.just(p) for p in parts]).map(_flatten)


def opt(*parts):
    """Optional arguments: nothing, or all of `parts`."""
    return st.one_of(st.just([]), c(*parts))


def some(strategy, lo=0, hi=3):
    return st.lists(strategy, min_size=lo, max_size=hi)


def pick(*items):
    return st.sampled_from(items)


def flags(*tokens, hi=3):
    """A few option tokens in any order, possibly conflicting ("EX 10" counts as one token)."""
    return st.lists(st.sampled_from(tokens), max_size=hi).map(lambda ts: [w for t in ts for w in t.split(" ")])


# ---- argument pools ---------------------------------------------------------

GOOD_INTS = ["0", "1", "-1", "2", "3", "5", "-5", "10", "100"]
BAD_INTS = ["abc", "1.5", "", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809", " 1", "+1", "01", "0x10", "1e3", "-0"]
integer = st.one_of(pick(*GOOD_INTS), pick(*GOOD_INTS), pick(*BAD_INTS))
_index = st.integers(-6, 6).map(str)
small_int = st.one_of(_index, _index, _index, pick(*BAD_INTS))
count = st.one_of(st.integers(0, 6).map(str), pick("-1", "-3", "abc", "1.0", "9223372036854775807", "-9223372036854775808"))

GOOD_FLOATS = ["0", "1", "-1", "1.5", "-2.25", "1e3", "0.1", "3.0", "inf", "-inf", "+inf", "10.50", "1e-5"]
BAD_FLOATS = ["abc", "nan", "", "1e400", "1.5x", " 1", "0x10", "1e"]
floating = st.one_of(pick(*GOOD_FLOATS), pick(*GOOD_FLOATS), pick(*BAD_FLOATS))

LONG = "x" * 70  # over the 64-byte listpack value limit: converts encodings
VALUES = ["v", "", "1", "-1", "10", "3.5", "abc", "hello world", LONG, "12345678901234567890", "\x00\r\n", "9223372036854775807"]
value = pick(*VALUES)
MEMBERS = ["m1", "m2", "m3", "1", "2", "-3", "10", "", LONG]
member = pick(*MEMBERS)

FAR = ["1000", "100000", "99999"]
seconds = st.one_of(pick(*FAR), pick("0", "-1", "abc", "1.5", "9223372036854775807", "-9223372036854775808", ""))
millis = st.one_of(pick("1000000", "99999999"), pick("0", "-1", "abc", "9223372036854775807"))
unix = st.one_of(pick("4102444800", "4102444801"), pick("1", "0", "-1", "abc", "9223372036854775807"))
unix_ms = st.one_of(pick("4102444800000", "4102444800123"), pick("1", "0", "abc", "9223372036854775807"))
expire_flags = flags("NX", "XX", "GT", "LT", "nx", "FOO", hi=2)
pattern = pick("*", "a*", "?", "[ab]", "[^a]*", "nomatch", "*[", "\\a", "")
scan_opts = flags("MATCH *", "MATCH a*", "MATCH [bc]", "COUNT 1", "COUNT 2", "COUNT 100", "COUNT 0", "COUNT abc", "TYPE string", "TYPE list", "TYPE hash", "TYPE set", "TYPE zset", "FOO", hi=3)
short_timeout = pick("0.01", "0.02", "abc", "-1", "1x")
# numkeys then that many keys, or a count that does not fit
numkeys_keys = st.one_of(keys(1, 3).map(lambda ks: [str(len(ks))] + ks), keys(1, 3).map(lambda ks: [str(len(ks))] + ks), c(pick("0", "3", "abc", "-1"), keys(1, 2)))
side = pick("LEFT", "RIGHT", "LEFT", "RIGHT", "left", "right", "UP")

# ---- families ---------------------------------------------------------------

set_opts = flags("NX", "XX", "GET", "KEEPTTL", "EX 1000", "PX 100000", "EXAT 4102444800", "PXAT 4102444800000", "EX 0", "EX abc", "PX -1", "ex 500", "EX", "FOO", hi=3)
getex_opts = flags("EX 1000", "PX 100000", "EXAT 4102444800", "PXAT 4102444800000", "PERSIST", "EX 0", "EX abc", "FOO", hi=2)
lcs_opts = flags("LEN", "IDX", "MINMATCHLEN 2", "MINMATCHLEN abc", "WITHMATCHLEN", hi=3)

STRINGS = [
    c("SET", key, value),
    c("SET", key, value, set_opts),
    c("GET", key),
    c("GETSET", key, value),
    c("GETDEL", key),
    c("GETEX", key, getex_opts),
    c("SETNX", key, value),
    c("SETEX", key, seconds, value),
    c("PSETEX", key, millis, value),
    c("MSET", some(c(key, value), 1, 3)),
    c("MSETNX", some(c(key, value), 1, 3)),
    c("MGET", keys()),
    c("INCR", key),
    c("DECR", key),
    c("INCRBY", key, integer),
    c("DECRBY", key, integer),
    c("INCRBYFLOAT", key, floating),
    c("APPEND", key, value),
    c("STRLEN", key),
    c("GETRANGE", key, small_int, small_int),
    c("SUBSTR", key, small_int, small_int),
    c("SETRANGE", key, st.one_of(st.integers(0, 20).map(str), pick("-1", "abc", "536870912")), value),
    c("LCS", key, key, lcs_opts),
    c("OBJECT", "ENCODING", key),
]

KEYSPACE = [
    c("SET", key, value),
    c("RPUSH", key, some(value, 1, 3)),
    c("HSET", key, member, value),
    c("SADD", key, some(member, 1, 3)),
    c("ZADD", key, "1", member),
    c("DEL", keys()),
    c("UNLINK", keys()),
    c("EXISTS", keys()),
    c("TYPE", key),
    c("RENAME", key, key),
    c("RENAMENX", key, key),
    c("COPY", key, key, flags("REPLACE", "DB 0", "DB 1", "DB abc", "DB 99", hi=2)),
    c("MOVE", key, pick("1", "0", "abc", "16")),
    c("TOUCH", keys()),
    c("KEYS", pattern),
    c("SCAN", "0", scan_opts),
    c("RANDOMKEY"),
    c("DBSIZE"),
    c("EXPIRE", key, seconds, expire_flags),
    c("PEXPIRE", key, millis, expire_flags),
    c("EXPIREAT", key, unix, expire_flags),
    c("PEXPIREAT", key, unix_ms, expire_flags),
    c("TTL", key),
    c("PTTL", key),
    c("EXPIRETIME", key),
    c("PEXPIRETIME", key),
    c("PERSIST", key),
    c("OBJECT", "ENCODING", key),
    c("MEMORY", "USAGE", key, opt("SAMPLES", count)),
    c(pick("SORT", "SORT_RO"), key, flags("DESC", "ALPHA", "LIMIT 0 2", "LIMIT 1 -1", "LIMIT abc 1", hi=3)),
    c("SORT", key, flags("DESC", "ALPHA", "LIMIT 0 2", hi=2), "STORE", key),
    c("SELECT", pick("0", "1", "0", "16", "abc")),
    c("SWAPDB", pick("0", "1"), pick("0", "1", "abc")),
    c("SET", key, value, pick("EX", "PX"), pick("100000", "1000000")),
    c("GETEX", key, getex_opts),
]

LISTS = [
    c("RPUSH", key, some(value, 1, 4)),
    c("LPUSH", key, some(value, 1, 3)),
    c("RPUSH", key, some(value, 1, 3)),
    c("LPUSHX", key, some(value, 1, 2)),
    c("RPUSHX", key, some(value, 1, 2)),
    c("LPOP", key, opt(count)),
    c("RPOP", key, opt(count)),
    c("LLEN", key),
    c("LRANGE", key, small_int, small_int),
    c("LINDEX", key, small_int),
    c("LSET", key, small_int, value),
    c("LINSERT", key, pick("BEFORE", "AFTER", "before", "MIDDLE"), value, value),
    c("LREM", key, small_int, value),
    c("LTRIM", key, small_int, small_int),
    c("LPOS", key, value, flags("RANK 1", "RANK -1", "RANK 2", "RANK 0", "COUNT 0", "COUNT 2", "COUNT -1", "MAXLEN 2", "MAXLEN 0", "RANK abc", hi=3)),
    c("LMOVE", key, key, side, side),
    c("RPOPLPUSH", key, key),
    c("LMPOP", numkeys_keys, side, opt("COUNT", count)),
    # One branch for all blocking pops: a timeout costs up to a server tick (100 ms in Redis).
    st.one_of(
        c(pick("BLPOP", "BRPOP"), keys(1, 2), short_timeout),
        c("BLMOVE", key, key, side, side, short_timeout),
        c("BRPOPLPUSH", key, key, short_timeout),
        c("BLMPOP", short_timeout, numkeys_keys, side, opt("COUNT", count)),
    ),
    c("OBJECT", "ENCODING", key),
]

HASHES = [
    c("HSET", key, some(c(member, value), 1, 4)),
    c("HSET", key, some(c(member, value), 1, 3)),
    c("HMSET", key, some(c(member, value), 1, 2)),
    c("HSETNX", key, member, value),
    c("HGET", key, member),
    c("HMGET", key, some(member, 1, 3)),
    c("HDEL", key, some(member, 1, 3)),
    c("HLEN", key),
    c("HEXISTS", key, member),
    c("HSTRLEN", key, member),
    c("HGETALL", key),
    c("HKEYS", key),
    c("HVALS", key),
    c("HINCRBY", key, member, integer),
    c("HINCRBYFLOAT", key, member, floating),
    c("HRANDFIELD", key, opt(small_int, opt("WITHVALUES"))),
    c("HSCAN", key, "0", scan_opts),
    c("OBJECT", "ENCODING", key),
]

SET_MEMBERS = pick("1", "2", "3", "-5", "10", "a", "b", "c", LONG)
SETS = [
    c("SADD", key, some(SET_MEMBERS, 1, 4)),
    c("SADD", key, some(SET_MEMBERS, 1, 4)),
    c("SREM", key, some(SET_MEMBERS, 1, 3)),
    c("SCARD", key),
    c("SISMEMBER", key, SET_MEMBERS),
    c("SMISMEMBER", key, some(SET_MEMBERS, 1, 3)),
    c("SMEMBERS", key),
    c("SMOVE", key, key, SET_MEMBERS),
    c("SPOP", key, opt(count)),
    c("SRANDMEMBER", key, opt(small_int)),
    c(pick("SUNION", "SINTER", "SDIFF"), keys()),
    c(pick("SUNIONSTORE", "SINTERSTORE", "SDIFFSTORE"), key, keys()),
    c("SINTERCARD", numkeys_keys, opt("LIMIT", count)),
    c("SSCAN", key, "0", scan_opts),
    c("OBJECT", "ENCODING", key),
]

Z_MEMBERS = pick("a", "b", "c", "d", "1", LONG)
score = st.one_of(pick("0", "1", "2", "2.5", "-1", "3", "1e3", "0.1"), pick("-inf", "+inf", "inf", "abc", "nan", ""))
# Lex ranges assume one score for all members: with mixed scores Redis's answer is
# undefined, and random once the zset is a skiplist (it depends on the node levels;
# test_known_differences.py shows it). Lex commands get keys of their own, which
# only ever hold score 0.
LEX_KEYS = ["e", "f"]
lex_key = pick(*LEX_KEYS)
score_bound = pick("-inf", "+inf", "0", "1", "(1", "2.5", "(2", "3", "abc", "(abc", "(", "nan")
lex_bound = pick("-", "+", "[a", "(a", "[c", "(d", "a", "[", "(", "[1")
zrange_opts = flags("BYSCORE", "BYLEX", "REV", "LIMIT 0 2", "LIMIT 1 -1", "LIMIT abc 1", "WITHSCORES", hi=3)
weights = opt("WEIGHTS", some(pick("1", "2", "0.5", "-1", "inf", "abc"), 1, 2))
aggregate = opt("AGGREGATE", pick("SUM", "MIN", "MAX", "AVG"))
withscores = opt("WITHSCORES")

good_score = pick("0", "1", "2", "2.5", "-1", "3", "1e3", "0.1", "-inf", "+inf")
ZSETS = [
    c("SADD", key, some(SET_MEMBERS, 1, 4)),
    c("ZADD", key, some(c(good_score, Z_MEMBERS), 1, 4)),
    c("ZADD", key, some(c(good_score, Z_MEMBERS), 1, 4)),
    c("ZADD", key, some(c(pick("0", "0", "1"), Z_MEMBERS), 1, 4)),
    c("ZADD", key, flags("NX", "XX", "GT", "LT", "CH", "INCR", hi=2), some(c(score, Z_MEMBERS), 1, 3)),
    c("ZINCRBY", key, score, Z_MEMBERS),
    c("ZSCORE", key, Z_MEMBERS),
    c("ZMSCORE", key, some(Z_MEMBERS, 1, 3)),
    c("ZCARD", key),
    c("ZCOUNT", key, score_bound, score_bound),
    c("ZADD", lex_key, some(c("0", Z_MEMBERS), 1, 4)),
    c("ZADD", lex_key, some(c("0", Z_MEMBERS), 1, 4)),
    c("ZREM", lex_key, some(Z_MEMBERS, 1, 3)),
    c("ZLEXCOUNT", lex_key, lex_bound, lex_bound),
    c("ZRANGE", key, small_int, small_int, zrange_opts.filter(lambda ts: "BYLEX" not in ts)),
    c("ZRANGE", key, score_bound, score_bound, "BYSCORE", zrange_opts),
    c("ZRANGE", lex_key, lex_bound, lex_bound, "BYLEX", zrange_opts),
    c(pick("ZRANGEBYSCORE", "ZREVRANGEBYSCORE"), key, score_bound, score_bound, flags("WITHSCORES", "LIMIT 0 2", "LIMIT 1 -1", hi=2)),
    c(pick("ZRANGEBYLEX", "ZREVRANGEBYLEX"), lex_key, lex_bound, lex_bound, opt("LIMIT", small_int, small_int)),
    c("ZREVRANGE", key, small_int, small_int, withscores),
    c(pick("ZRANK", "ZREVRANK"), key, Z_MEMBERS),
    c("ZREM", key, some(Z_MEMBERS, 1, 3)),
    c("ZREMRANGEBYRANK", key, small_int, small_int),
    c("ZREMRANGEBYSCORE", key, score_bound, score_bound),
    c("ZREMRANGEBYLEX", lex_key, lex_bound, lex_bound),
    c(pick("ZPOPMIN", "ZPOPMAX"), key, opt(count)),
    c("ZMPOP", numkeys_keys, pick("MIN", "MAX", "MID"), opt("COUNT", count)),
    c(pick("BZPOPMIN", "BZPOPMAX"), keys(1, 2), short_timeout),
    c(pick("ZUNION", "ZINTER"), numkeys_keys, weights, aggregate, withscores),
    c("ZDIFF", numkeys_keys, withscores),
    c(pick("ZUNIONSTORE", "ZINTERSTORE"), key, numkeys_keys, weights, aggregate),
    c("ZDIFFSTORE", key, numkeys_keys),
    c("ZINTERCARD", numkeys_keys, opt("LIMIT", count)),
    c("ZRANGESTORE", key, key, small_int, small_int, flags("REV", "LIMIT 0 1", hi=1)),
    c("ZRANDMEMBER", key, opt(small_int, opt("WITHSCORES"))),
    c("ZSCAN", key, "0", scan_opts),
    c("OBJECT", "ENCODING", key),
]

MISC = [
    c("PING", opt(value)),
    c("ECHO", value),
    c("DBSIZE"),
    c("TYPE", key),
    c(pick("FOO", "GETT", "SETX", "ZADDD", ""), some(value, 0, 2)),
]

TRANSACTIONS = [
    c("MULTI"),
    c("EXEC"),
    c("DISCARD"),
    c("WATCH", keys(1, 2)),
    c("UNWATCH"),
]


def _mixed_case(name: str, mask: int) -> str:
    return "".join(ch.upper() if mask >> (i % 16) & 1 else ch.lower() for i, ch in enumerate(name))


def mangle(args, how, n):
    """Turn a good command into a likely bad one (or leave it)."""
    if how == "case":
        return [_mixed_case(args[0], n)] + args[1:]
    if how == "short" and len(args) > 1:
        return args[: n % len(args)] or args[:1]
    if how == "extra":
        return args + ["extra"] * (1 + n % 2)
    return args


def commands(family):
    """One command of `family` (a list of strategies), sometimes mangled."""
    how = pick("same", "same", "same", "same", "same", "same", "same", "case", "case", "short", "extra")
    return st.tuples(st.one_of(family), how, st.integers(0, 1 << 16)).map(lambda t: mangle(*t))


def sequence(family, lo=15, hi=50):
    """Steps on connection 1: [(1, args)]."""
    return st.lists(commands(family).map(lambda args: (1, args)), min_size=lo, max_size=hi)


ALL = STRINGS + KEYSPACE + LISTS + HASHES + SETS + ZSETS + MISC


def _on(index):
    return lambda args: [(index, args)]


def _transaction():
    """WATCH, a write from connection 2 or not, MULTI, queued commands, EXEC or DISCARD."""
    nothing = st.just([])
    parts = st.tuples(
        st.one_of(nothing, c("WATCH", keys(1, 2)).map(_on(1))),
        st.one_of(nothing, commands(ALL).map(_on(2))),
        st.just([(1, ["MULTI"])]),
        st.lists(commands(ALL).map(lambda args: (1, args)), max_size=5),
        pick("EXEC", "EXEC", "DISCARD", "exec").map(lambda name: [(1, [name])]),
    )
    return parts.map(lambda ps: [step for part in ps for step in part])


def mixed_sequence(lo=8, hi=30):
    """Every family on two connections, with transactions and WATCH on connection 1."""
    step = st.one_of(
        commands(ALL).map(_on(1)),
        commands(ALL).map(_on(1)),
        commands(ALL).map(_on(1)),
        commands(ALL).map(_on(2)),
        st.one_of(TRANSACTIONS).map(_on(1)),
        _transaction(),
    )
    return st.lists(step, min_size=lo, max_size=hi).map(lambda chunks: [s for chunk in chunks for s in chunk])


def pipelined_sequence(lo=10, hi=60):
    """Steps on connection 1 for one write: every family, MULTI/EXEC and WATCH mixed in.
    Left out: what the comparison follows up with commands of its own (a SCAN from
    cursor 0 is driven to its end, SPOP's random pick is copied over)."""
    step = st.one_of(commands(ALL), commands(ALL), commands(ALL), st.one_of(TRANSACTIONS))
    followed_up = {"scan", "sscan", "hscan", "zscan", "spop"}
    return st.lists(step.filter(lambda args: args[0].lower() not in followed_up), min_size=lo, max_size=hi).map(lambda cmds: [(1, args) for args in cmds])


FAMILIES = {
    "strings": STRINGS + MISC,
    "keys": KEYSPACE,
    "lists": LISTS + [c("SET", key, value)],
    "hashes": HASHES + [c("SET", key, value), c("DEL", key)],
    "sets": SETS + [c("SET", key, value), c("DEL", key)],
    "zsets": ZSETS + [c("SET", key, value), c("SADD", key, SET_MEMBERS), c("DEL", key), c("SET", lex_key, value), c("DEL", lex_key)],
}
