"""Sorted set commands. ZADD and ZPOPMIN are benchmarked: keep them lean.

Scores reach the client as Python floats: a RESP3 double, or in RESP2 a bulk
string in Redis's %.17g form (node.resp.format_double). WITHSCORES replies are
flat in RESP2 and [member, score] pairs in RESP3.
"""

import random
import re
from math import inf

from ..datatypes.zset import ZSet, LexBound
from ..errors import CommandError, WRONGTYPE, SYNTAX, NOT_FLOAT
from ..glob import matches
from ..keyspace import SetValue
from ..resp import EMPTY_ARRAY, NULL_ARRAY, ONE, ZERO, Raw, format_double
from ..scan import scan
from ..session import Block
from .args import clamp_range, parse_int, parse_timeout, INT64_MAX
from .table import command

_GROUP = "sorted-set"
_NAN_RESULT = "ERR resulting score is not a number (NaN)"
_RANGE_NOT_FLOAT = "ERR min or max is not a float"
_RANGE_NOT_LEX = "ERR min or max not valid string range item"

# ---- number parsing with C strtod's rules ------------------------------------

_SPACE = b" \t\n\v\f\r"
_DEC = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_HEX = re.compile(rb"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?\d+)?")
_INFNAN = re.compile(rb"([+-]?)(?:(inf(?:inity)?)|nan(?:\([0-9A-Za-z_]*\))?)", re.I)
_NONZERO_MANTISSA = re.compile(rb"[1-9a-fA-F]")


def _strtod(s: bytes):
    """(value, bytes consumed, out of range) as strtod reads a prefix of s."""
    m = _HEX.match(s)
    if m:
        text = m.group()
        try:
            value = float.fromhex(text.decode())
        except OverflowError:
            return (-inf if text[:1] == b"-" else inf), m.end(), True
        mantissa = text.split(b"x", 1)[-1].split(b"X", 1)[-1].split(b"p")[0].split(b"P")[0]
        return value, m.end(), value == 0 and bool(_NONZERO_MANTISSA.search(mantissa))
    m = _INFNAN.match(s)
    if m:
        if m.group(2):
            return (-inf if m.group(1) == b"-" else inf), m.end(), False
        return float("nan"), m.end(), False
    m = _DEC.match(s)
    if not m:
        return 0.0, 0, False
    text = m.group()
    value = float(text)
    if value in (inf, -inf):
        return value, m.end(), True
    mantissa = text.split(b"e")[0].split(b"E")[0]
    return value, m.end(), value == 0 and bool(_NONZERO_MANTISSA.search(mantissa))


def parse_score(raw: bytes, error: str = NOT_FLOAT) -> float:
    """A double as Redis's getDoubleFromObject takes it: whole string, no NaN, no overflow."""
    if raw.isdigit():
        value = float(raw)
        if value != inf:
            return value
    if not raw or raw[0] in _SPACE:
        raise CommandError(error)
    value, used, out_of_range = _strtod(raw)
    if used != len(raw) or value != value or (out_of_range and (value == 0 or value in (inf, -inf))):
        raise CommandError(error)
    return value


def _range_score(raw: bytes):
    """(value, exclusive) for a ZRANGEBYSCORE bound: '(' prefix, strtod up to a NUL."""
    exclusive = raw[:1] == b"("
    s = raw[1:] if exclusive else raw
    nul = s.find(b"\0")
    if nul >= 0:
        s = s[:nul]
    if not s:
        return 0.0, exclusive
    body = s.lstrip(_SPACE)
    value, used, _ = _strtod(body)
    if not used or used != len(body) or value != value:
        raise CommandError(_RANGE_NOT_FLOAT)
    return value, exclusive


def _lex_bound(raw: bytes) -> LexBound:
    first = raw[:1]
    if first == b"+" or first == b"-":
        # Redis checks only the byte after the sign, so "+\0..." still means +.
        if len(raw) > 1 and raw[1] != 0:
            raise CommandError(_RANGE_NOT_LEX)
        return LexBound(1 if first == b"+" else -1)
    if first == b"(":
        return LexBound(0, raw[1:], True)
    if first == b"[":
        return LexBound(0, raw[1:], False)
    raise CommandError(_RANGE_NOT_LEX)


def _ranged_int(raw: bytes, lo: int, hi: int, error: str) -> int:
    """getRangeLongFromObjectOrReply with a message: one error for any bad value."""
    value = parse_int(raw, error)
    if not lo <= value <= hi:
        raise CommandError(error)
    return value


# ---- lookups and small helpers ---------------------------------------------


def _zset(c, key, lookup=None):
    """The zset at key, None if absent; WRONGTYPE for another type."""
    value = (lookup or c.db.lookup)(key)
    if value is not None and value.__class__ is not ZSet:
        raise CommandError(WRONGTYPE)
    return value


def _limits(c):
    values = c.node.config.values
    return values["zset-max-listpack-entries"], values["zset-max-listpack-value"]


def _fits_listpack(c, pairs) -> bool:
    max_entries, max_value = _limits(c)
    return len(pairs) <= max_entries and all(len(m) <= max_value for m, _ in pairs)


def _with_scores(c, items):
    """(score, member) tuples as a WITHSCORES reply: flat in RESP2, pairs in RESP3."""
    if c.resp3:
        return [[m, s] for s, m in items]
    out = []
    for s, m in items:
        out.append(m)
        out.append(s)
    return out


def _store(c, dst, pairs) -> int:
    """Store (member, score) pairs at dst (deleting dst when empty); the reply count."""
    if not pairs:
        c.db.delete(dst)
        return 0
    c.db.set(dst, ZSet.build(pairs, _fits_listpack(c, pairs)))
    return len(pairs)


# ---- ZADD, ZINCRBY, ZREM -----------------------------------------------------

_NX, _XX, _CH, _INCR, _GT, _LT = 1, 2, 4, 8, 16, 32
_SMALL_COUNTS = (ZERO, ONE)
_ZADD_FLAGS = {b"nx": _NX, b"xx": _XX, b"ch": _CH, b"incr": _INCR, b"gt": _GT, b"lt": _LT}


def _zadd_options(argv, flags):
    """(flags, index of the first score) with Redis's conflict checks."""
    n = len(argv)
    i = 2
    get = _ZADD_FLAGS.get
    while i < n:
        flag = get(argv[i].lower())
        if flag is None:
            break
        flags |= flag
        i += 1
    pairs = n - i
    if pairs % 2 or not pairs:
        raise CommandError(SYNTAX)
    if flags & _NX and flags & _XX:
        raise CommandError("ERR XX and NX options at the same time are not compatible")
    if (flags & _GT and flags & (_NX | _LT)) or (flags & _LT and flags & _NX):
        raise CommandError("ERR GT, LT, and/or NX options at the same time are not compatible")
    if flags & _INCR and pairs > 2:
        raise CommandError("ERR INCR option supports a single increment-element pair")
    return flags, i


def _zadd_generic(c, argv, flags):
    flags, first = _zadd_options(argv, flags)
    n = len(argv)
    scores = [parse_score(argv[j]) for j in range(first, n, 2)]
    key = argv[1]
    db = c.db
    z = db.lookup(key)
    if z is None:
        if flags & _XX:
            return None if flags & _INCR else 0
        z = ZSet()
        db.add_new(key, z)
    elif z.__class__ is not ZSet:
        raise CommandError(WRONGTYPE)
    if flags & ~_CH:
        added, updated, processed, score = _zadd_flagged(c, z, argv, first, scores, flags)
    else:
        added, updated, processed, score = _zadd_plain(c, z, argv, first, scores)
    if added or updated:
        db.modified(key)
    if flags & _INCR:
        return score if processed else None
    count = added + updated if flags & _CH else added
    return _SMALL_COUNTS[count] if count < 2 else count


def _grow(c, z, member):
    """Before adding a member: leave the listpack form as Redis would."""
    max_entries, max_value = _limits(c)
    if len(z) >= max_entries or len(member) > max_value:
        z.compact = False


def _zadd_plain(c, z, argv, first, scores):
    added = updated = 0
    zscores = z.scores
    j = first + 1
    for score in scores:
        member = argv[j]
        j += 2
        cur = zscores.get(member)
        if cur is None:
            if z.compact:
                _grow(c, z, member)
            z.insert(member, score)
            added += 1
        elif score != cur:
            z.rescore(member, cur, score)
            updated += 1
    return added, updated, len(scores), score


def _zadd_flagged(c, z, argv, first, scores, flags):
    """ZADD with NX/XX/GT/LT/INCR: Redis's zsetAdd, one element at a time."""
    added = updated = processed = 0
    zscores = z.scores
    nx, xx, gt, lt, incr = flags & _NX, flags & _XX, flags & _GT, flags & _LT, flags & _INCR
    score = 0.0
    for k, score in enumerate(scores):
        member = argv[first + 1 + 2 * k]
        cur = zscores.get(member)
        if cur is None:
            if xx:
                continue
            if z.compact:
                _grow(c, z, member)
            z.insert(member, score)
            added += 1
            processed += 1
            continue
        if nx:
            continue
        if incr:
            score += cur
            if score != score:
                raise CommandError(_NAN_RESULT)
        if (lt and score >= cur) or (gt and score <= cur):
            continue
        processed += 1
        if score != cur:
            z.rescore(member, cur, score)
            updated += 1
    return added, updated, processed, score


@command("zadd", -4, "write denyoom fast", 1, 1, 1, group=_GROUP, since="1.2.0", summary="Add one or more members to a sorted set, or update its score if it already exists")
def zadd(c, argv):
    if len(argv) != 4 or argv[2].lower() in _ZADD_FLAGS:
        return _zadd_generic(c, argv, 0)
    # The benchmarked shape, ZADD key score member: same rules, no option machinery.
    score = parse_score(argv[2])
    key, member = argv[1], argv[3]
    db = c.db
    z = db.lookup(key)
    if z is None:
        z = ZSet()
        db.add_new(key, z)
    elif z.__class__ is not ZSet:
        raise CommandError(WRONGTYPE)
    cur = z.scores.get(member)
    if cur is None:
        if z.compact:
            _grow(c, z, member)
        z.insert(member, score)
        db.grew(key)
        return ONE
    if score != cur:
        z.rescore(member, cur, score)
        db.grew(key)
    return ZERO


@command("zincrby", 4, "write denyoom fast", 1, 1, 1, group=_GROUP, since="1.2.0", summary="Increment the score of a member in a sorted set")
def zincrby(c, argv):
    # Redis runs ZINCRBY through ZADD's parser: "ZINCRBY k nx m" is a syntax error there too.
    return _zadd_generic(c, argv, _INCR)


@command("zrem", -3, "write fast", 1, 1, 1, group=_GROUP, since="1.2.0", summary="Remove one or more members from a sorted set")
def zrem(c, argv):
    key = argv[1]
    z = _zset(c, key)
    if z is None:
        return 0
    deleted = 0
    for member in argv[2:]:
        if z.discard(member):
            deleted += 1
            if not z:
                break
    if deleted:
        c.db.modified(key)
    return deleted


# ---- point reads -------------------------------------------------------------


@command("zscore", 3, "readonly fast", 1, 1, 1, group=_GROUP, since="1.2.0", summary="Get the score associated with the given member in a sorted set")
def zscore(c, argv):
    z = _zset(c, argv[1])
    if z is None:
        return None
    return z.scores.get(argv[2])


@command("zmscore", -3, "readonly fast", 1, 1, 1, group=_GROUP, since="6.2.0", summary="Get the score associated with the given members in a sorted set")
def zmscore(c, argv):
    z = _zset(c, argv[1])
    if z is None:
        return [None] * (len(argv) - 2)
    get = z.scores.get
    return [get(m) for m in argv[2:]]


@command("zcard", 2, "readonly fast", 1, 1, 1, group=_GROUP, since="1.2.0", summary="Get the number of members in a sorted set")
def zcard(c, argv):
    z = _zset(c, argv[1])
    return 0 if z is None else len(z)


def _rank(c, argv, reverse):
    z = _zset(c, argv[1])
    if z is None:
        return None
    rank = z.rank(argv[2])
    if rank is None or not reverse:
        return rank
    return len(z) - 1 - rank


@command("zrank", 3, "readonly fast", 1, 1, 1, group=_GROUP, since="2.0.0", summary="Determine the index of a member in a sorted set")
def zrank(c, argv):
    return _rank(c, argv, False)


@command("zrevrank", 3, "readonly fast", 1, 1, 1, group=_GROUP, since="2.0.0", summary="Determine the index of a member in a sorted set, with scores ordered from high to low")
def zrevrank(c, argv):
    return _rank(c, argv, True)


@command("zcount", 4, "readonly fast", 1, 1, 1, group=_GROUP, since="2.0.0", summary="Count the members in a sorted set with scores within the given values")
def zcount(c, argv):
    lo, lo_ex = _range_score(argv[2])
    hi, hi_ex = _range_score(argv[3])
    z = _zset(c, argv[1])
    if z is None:
        return 0
    start, stop = z.score_span(lo, lo_ex, hi, hi_ex)
    return stop - start


@command("zlexcount", 4, "readonly fast", 1, 1, 1, group=_GROUP, since="2.8.9", summary="Count the number of members in a sorted set between a given lexicographical range")
def zlexcount(c, argv):
    lo, hi = _lex_bound(argv[2]), _lex_bound(argv[3])
    z = _zset(c, argv[1])
    if z is None:
        return 0
    start, stop = z.lex_span(lo, hi)
    return stop - start


# ---- ZRANGE and its older forms ------------------------------------------------

_BY_RANK, _BY_SCORE, _BY_LEX = 1, 2, 3


class _RangeQuery:
    """ZRANGE's parsed arguments (after <src> <min> <max>)."""

    __slots__ = ("by", "reverse", "withscores", "offset", "limit")

    def __init__(self, by, reverse):
        self.by = by
        self.reverse = reverse
        self.withscores = False
        self.offset = 0
        self.limit = -1


def _parse_range_options(argv, first, store, by, reverse) -> _RangeQuery:
    q = _RangeQuery(by, reverse)
    n = len(argv)
    j = first + 3
    while j < n:
        opt = argv[j].lower()
        if not store and opt == b"withscores":
            q.withscores = True
        elif opt == b"limit" and n - j - 1 >= 2:
            q.offset = parse_int(argv[j + 1])
            q.limit = parse_int(argv[j + 2])
            j += 2
        elif q.reverse is None and opt == b"rev":
            q.reverse = True
        elif q.by is None and opt == b"bylex":
            q.by = _BY_LEX
        elif q.by is None and opt == b"byscore":
            q.by = _BY_SCORE
        else:
            raise CommandError(SYNTAX)
        j += 1
    q.reverse = bool(q.reverse)
    q.by = q.by or _BY_RANK
    # Redis tests the limit's count against its "absent" value, so LIMIT 0 -1 passes here.
    if q.limit != -1 and q.by == _BY_RANK:
        raise CommandError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
    if q.withscores and q.by == _BY_LEX:
        raise CommandError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    return q


def _rank_items(z, start, end, reverse):
    n = len(z)
    span = clamp_range(start, end, n)
    if span is None:
        return []
    start, end = span
    if reverse:
        return z.span(n - 1 - end, n - start, True)
    return z.span(start, end + 1)


def _window(z, start, stop, q):
    """Apply LIMIT offset/count to the rank span [start, stop) in the query's direction."""
    offset, limit = q.offset, q.limit
    # A negative offset walks off the end in Redis; a negative count means no limit.
    if offset < 0 or start >= stop:
        return []
    if q.reverse:
        top = stop - offset
        bottom = start if limit < 0 else max(start, top - limit)
        return z.span(bottom, top, True) if bottom < top else []
    first = start + offset
    last = stop if limit < 0 else min(stop, first + limit)
    return z.span(first, last) if first < last else []


def _range_items(c, argv, first, q):
    """Parse the bounds and return the selected (score, member) tuples, or None when src is absent."""
    lo_raw, hi_raw = argv[first + 1], argv[first + 2]
    if q.reverse and q.by != _BY_RANK:
        lo_raw, hi_raw = hi_raw, lo_raw
    if q.by == _BY_RANK:
        start, end = parse_int(lo_raw), parse_int(hi_raw)
    elif q.by == _BY_SCORE:
        lo, lo_ex = _range_score(lo_raw)
        hi, hi_ex = _range_score(hi_raw)
    else:
        lo_bound, hi_bound = _lex_bound(lo_raw), _lex_bound(hi_raw)
    z = _zset(c, argv[first], c.db.lookup_read)  # ZRANGESTORE counts its read, as ZRANGE
    if z is None:
        return None
    if q.by == _BY_RANK:
        return _rank_items(z, start, end, q.reverse)
    if q.by == _BY_SCORE:
        span = z.score_span(lo, lo_ex, hi, hi_ex)
    else:
        span = z.lex_span(lo_bound, hi_bound, q.reverse)
    return _window(z, span[0], span[1], q)


def _range_reply(c, argv, by=None, reverse=None):
    q = _parse_range_options(argv, 1, False, by, reverse)
    items = _range_items(c, argv, 1, q)
    if not items:
        return EMPTY_ARRAY
    if q.withscores:
        return _with_scores(c, items)
    return [m for _, m in items]


@command("zrange", -4, "readonly", 1, 1, 1, group=_GROUP, since="1.2.0", summary="Return a range of members in a sorted set")
def zrange(c, argv):
    return _range_reply(c, argv)


@command("zrangestore", -5, "write denyoom", 1, 2, 1, group=_GROUP, since="6.2.0", summary="Store a range of members from sorted set into another key")
def zrangestore(c, argv):
    q = _parse_range_options(argv, 2, True, None, None)
    items = _range_items(c, argv, 2, q) or ()
    return _store(c, argv[1], [(m, s) for s, m in items])


@command("zrevrange", -4, "readonly", 1, 1, 1, group=_GROUP, since="1.2.0", summary="Return a range of members in a sorted set, by index, with scores ordered from high to low")
def zrevrange(c, argv):
    return _range_reply(c, argv, _BY_RANK, True)


@command("zrangebyscore", -4, "readonly", 1, 1, 1, group=_GROUP, since="1.0.5", summary="Return a range of members in a sorted set, by score")
def zrangebyscore(c, argv):
    return _range_reply(c, argv, _BY_SCORE, False)


@command("zrevrangebyscore", -4, "readonly", 1, 1, 1, group=_GROUP, since="2.2.0", summary="Return a range of members in a sorted set, by score, with scores ordered from high to low")
def zrevrangebyscore(c, argv):
    return _range_reply(c, argv, _BY_SCORE, True)


@command("zrangebylex", -4, "readonly", 1, 1, 1, group=_GROUP, since="2.8.9", summary="Return a range of members in a sorted set, by lexicographical range")
def zrangebylex(c, argv):
    return _range_reply(c, argv, _BY_LEX, False)


@command("zrevrangebylex", -4, "readonly", 1, 1, 1, group=_GROUP, since="2.8.9", summary="Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.")
def zrevrangebylex(c, argv):
    return _range_reply(c, argv, _BY_LEX, True)


# ---- ZREMRANGEBY* --------------------------------------------------------------


def _zremrange(c, key, span_of):
    z = _zset(c, key)
    if z is None:
        return 0
    start, stop = span_of(z)
    if start >= stop:
        return 0
    deleted = z.delete_span(start, stop)
    c.db.modified(key)
    return deleted


@command("zremrangebyrank", 4, "write", 1, 1, 1, group=_GROUP, since="2.0.0", summary="Remove all members in a sorted set within the given indexes")
def zremrangebyrank(c, argv):
    start, end = parse_int(argv[2]), parse_int(argv[3])

    def span(z):
        n = len(z)
        lo = start + n if start < 0 else start
        hi = end + n if end < 0 else end
        lo = max(lo, 0)
        if lo > hi or lo >= n:
            return 0, 0
        return lo, min(hi, n - 1) + 1

    return _zremrange(c, argv[1], span)


@command("zremrangebyscore", 4, "write", 1, 1, 1, group=_GROUP, since="1.2.0", summary="Remove all members in a sorted set within the given scores")
def zremrangebyscore(c, argv):
    lo, lo_ex = _range_score(argv[2])
    hi, hi_ex = _range_score(argv[3])
    return _zremrange(c, argv[1], lambda z: z.score_span(lo, lo_ex, hi, hi_ex))


@command("zremrangebylex", 4, "write", 1, 1, 1, group=_GROUP, since="2.8.9", summary="Remove all members in a sorted set between the given lexicographical range")
def zremrangebylex(c, argv):
    lo, hi = _lex_bound(argv[2]), _lex_bound(argv[3])
    return _zremrange(c, argv[1], lambda z: z.lex_span(lo, hi))


# ---- pops ------------------------------------------------------------------------

_POP_NAMES = (b"ZPOPMIN", b"ZPOPMAX")


def _pop(z, count, last):
    """Remove up to count members from one end; (score, member) tuples in pop order."""
    take = z.pop_last if last else z.pop_first
    return [take() for _ in range(min(count, len(z)))]


def _pair_reply(c, member, score):
    """[member, score] pre-encoded: the single pop is a benchmarked hot path."""
    text = format_double(score)
    if c.resp3:
        return Raw(b"*2\r\n$%d\r\n%s\r\n,%s\r\n" % (len(member), member, text))
    return Raw(b"*2\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(member), member, len(text), text))


def _zpop(c, argv, last):
    n = len(argv)
    if n > 3:
        raise CommandError(SYNTAX)
    key = argv[1]
    if n == 2:
        z = _zset(c, key)
        if z is None:
            return EMPTY_ARRAY
        score, member = z.pop_last() if last else z.pop_first()
        c.db.modified(key)
        return _pair_reply(c, member, score)
    count = _ranged_int(argv[2], 0, INT64_MAX, "ERR value is out of range, must be positive")
    z = _zset(c, key)
    if z is None or count == 0:
        return EMPTY_ARRAY
    items = _pop(z, count, last)
    c.db.modified(key)
    return _with_scores(c, items)


@command("zpopmin", -2, "write fast", 1, 1, 1, group=_GROUP, since="5.0.0", summary="Remove and return members with the lowest scores in a sorted set")
def zpopmin(c, argv):
    return _zpop(c, argv, False)


@command("zpopmax", -2, "write fast", 1, 1, 1, group=_GROUP, since="5.0.0", summary="Remove and return members with the highest scores in a sorted set")
def zpopmax(c, argv):
    return _zpop(c, argv, True)


def _first_zset(c, keys):
    """(key, zset) of the first non-empty zset among keys, or (None, None); WRONGTYPE first."""
    db = c.db
    for key in keys:
        z = db.lookup(key)
        if z is None:
            continue
        if z.__class__ is not ZSet:
            raise CommandError(WRONGTYPE)
        return key, z
    return None, None


def _ready_zset(c, keys):
    """(key, zset) to serve a woken client from, or (None, None).

    Redis 7.0 serves from the key that was signalled ready; otherwise take the
    first zset in the client's key order. A key now holding another type is
    skipped: the client stays blocked on it.
    """
    db = c.db
    hint = getattr(c.blocked, "ready_key", None)
    for key in ((hint,) if hint is not None else ()) + tuple(keys):
        z = db.lookup(key)
        if z.__class__ is ZSet:
            return key, z
    return None, None


def _bzpop_serve(c, key, z, last):
    score, member = z.pop_last() if last else z.pop_first()
    c.db.modified(key)
    c.propagate_as = [[_POP_NAMES[last], key]]
    return [key, member, score]


def _block(c, argv_keys, timeout, serve):
    """Block on the keys; on wake, `serve(client, key, zset)` answers."""
    keys = list(dict.fromkeys(argv_keys))

    def retry(client):
        key, z = _ready_zset(client, keys)
        return None if z is None else serve(client, key, z)

    return Block(keys, timeout, retry, NULL_ARRAY)


def _bzpop(c, argv, last):
    timeout = parse_timeout(argv[-1])
    keys = argv[1:-1]
    key, z = _first_zset(c, keys)
    if z is not None:
        return _bzpop_serve(c, key, z, last)
    if c.in_exec:
        return NULL_ARRAY
    return _block(c, keys, timeout, lambda client, k, zs: _bzpop_serve(client, k, zs, last))


@command("bzpopmin", -3, "write noscript blocking fast", 1, -2, 1, group=_GROUP, since="5.0.0", summary="Remove and return the member with the lowest score from one or more sorted sets, or block until one is available")
def bzpopmin(c, argv):
    return _bzpop(c, argv, False)


@command("bzpopmax", -3, "write noscript blocking fast", 1, -2, 1, group=_GROUP, since="5.0.0", summary="Remove and return the member with the highest score from one or more sorted sets, or block until one is available")
def bzpopmax(c, argv):
    return _bzpop(c, argv, True)


def _parse_mpop(argv, numkeys_idx):
    """(keys, pop from the max end?, count) for [B]ZMPOP."""
    n = len(argv)
    numkeys = _ranged_int(argv[numkeys_idx], 1, INT64_MAX, "ERR numkeys should be greater than 0")
    where_idx = numkeys_idx + numkeys + 1
    if where_idx >= n:
        raise CommandError(SYNTAX)
    where = argv[where_idx].lower()
    if where not in (b"min", b"max"):
        raise CommandError(SYNTAX)
    count = -1
    j = where_idx + 1
    while j < n:
        if count == -1 and argv[j].lower() == b"count" and j + 1 < n:
            count = _ranged_int(argv[j + 1], 1, INT64_MAX, "ERR count should be greater than 0")
            j += 2
        else:
            raise CommandError(SYNTAX)
    keys = argv[numkeys_idx + 1 : where_idx]
    return keys, where == b"max", max(count, 1)


def _mpop_serve(c, key, z, last, count):
    items = _pop(z, count, last)
    c.db.modified(key)
    # Replicas replay an explicit pop of exactly what was taken.
    c.propagate_as = [[_POP_NAMES[last], key, b"%d" % len(items)]]
    return [key, [[m, s] for s, m in items]]


def _mpop_keys(argv, numkeys_idx):
    """Key positions for COMMAND GETKEYS / ACLs: numkeys keys after the count."""
    try:
        numkeys = int(argv[numkeys_idx])
    except (ValueError, IndexError):
        return []
    return list(range(numkeys_idx + 1, min(numkeys_idx + 1 + max(numkeys, 0), len(argv))))


@command("zmpop", -4, "write movablekeys", group=_GROUP, since="7.0.0", summary="Remove and return members with scores in a sorted set", key_finder=lambda argv: _mpop_keys(argv, 1))
def zmpop(c, argv):
    keys, last, count = _parse_mpop(argv, 1)
    key, z = _first_zset(c, keys)
    return NULL_ARRAY if z is None else _mpop_serve(c, key, z, last, count)


@command("bzmpop", -5, "write blocking movablekeys", group=_GROUP, since="7.0.0", summary="Remove and return members with scores in a sorted set or block until one is available", key_finder=lambda argv: _mpop_keys(argv, 2))
def bzmpop(c, argv):
    keys, last, count = _parse_mpop(argv, 2)
    timeout = parse_timeout(argv[1])
    key, z = _first_zset(c, keys)
    if z is not None:
        return _mpop_serve(c, key, z, last, count)
    if c.in_exec:
        return NULL_ARRAY
    return _block(c, keys, timeout, lambda client, k, zs: _mpop_serve(client, k, zs, last, count))


# ---- ZUNION, ZINTER, ZDIFF and their STORE forms -------------------------------------

_UNION, _INTER, _DIFF = 1, 2, 3
_SUM, _MIN, _MAX = 1, 2, 3
_AGGREGATES = {b"sum": _SUM, b"min": _MIN, b"max": _MAX}


class _Source:
    """One input of a set operation: a zset, a plain set (every score 1), or nothing."""

    __slots__ = ("value", "weight")

    def __init__(self, value):
        self.value = value
        self.weight = 1.0

    def __len__(self):
        return 0 if self.value is None else len(self.value)

    def items(self):
        value = self.value
        if value is None:
            return ()
        if value.__class__ is ZSet:
            return value.scores.items()
        return ((m, 1.0) for m in value)

    def score(self, member):
        """The member's score here, or None when absent."""
        value = self.value
        if value.__class__ is ZSet:
            return value.scores.get(member)
        return 1.0 if value is not None and member in value else None


def _aggregate(target, value, how):
    if how == _SUM:
        total = target + value
        # inf + -inf: Redis keeps the convention that the sum is 0.
        return 0.0 if total != total else total
    if how == _MIN:
        return value if value < target else target
    return value if value > target else target


class _SetOp:
    __slots__ = ("sources", "aggregate", "withscores", "limit")

    def __init__(self, sources):
        self.sources = sources
        self.aggregate = _SUM
        self.withscores = False
        self.limit = 0


def _parse_setop(c, argv, numkeys_idx, op, name, store, card_only) -> _SetOp:
    n = len(argv)
    setnum = parse_int(argv[numkeys_idx])
    if setnum < 1:
        raise CommandError("ERR at least 1 input key is needed for '%s' command" % name)
    if setnum > n - numkeys_idx - 1:
        raise CommandError(SYNTAX)
    sources = []
    for key in argv[numkeys_idx + 1 : numkeys_idx + 1 + setnum]:
        value = c.db.lookup_read(key)  # the STORE forms count their reads too
        if value is not None and value.__class__ is not ZSet and value.__class__ is not SetValue:
            raise CommandError(WRONGTYPE)
        sources.append(_Source(value))
    spec = _SetOp(sources)
    j = numkeys_idx + 1 + setnum
    while j < n:
        remaining = n - j
        opt = argv[j].lower()
        full = op != _DIFF and not card_only
        if full and remaining >= setnum + 1 and opt == b"weights":
            for k, src in enumerate(sources):
                src.weight = parse_score(argv[j + 1 + k], "ERR weight value is not a float")
            j += setnum + 1
        elif full and remaining >= 2 and opt == b"aggregate":
            how = _AGGREGATES.get(argv[j + 1].lower())
            if how is None:
                raise CommandError(SYNTAX)
            spec.aggregate = how
            j += 2
        elif not store and not card_only and opt == b"withscores":
            spec.withscores = True
            j += 1
        elif card_only and remaining >= 2 and opt == b"limit":
            spec.limit = _ranged_int(argv[j + 1], 0, INT64_MAX, "ERR LIMIT can't be negative")
            j += 2
        else:
            raise CommandError(SYNTAX)
    return spec


def _weighted(score, weight):
    value = score * weight
    return 0.0 if value != value else value


def _inter(spec, card_only=False):
    """{member: score} of the intersection (or its size when card_only)."""
    # Smallest first, as Redis orders them: the aggregation order follows.
    sources = sorted(spec.sources, key=len)
    first = sources[0]
    if not len(first):
        return 0 if card_only else {}
    how, result, count = spec.aggregate, {}, 0
    for member, score in first.items():
        total = _weighted(score, first.weight)
        for src in sources[1:]:
            if src.value is first.value:
                value = score * src.weight
            else:
                value = src.score(member)
                if value is None:
                    break
                value *= src.weight
            total = _aggregate(total, value, how)
        else:
            if card_only:
                count += 1
                if spec.limit and count >= spec.limit:
                    break
            else:
                result[member] = total
    return count if card_only else result


def _union(spec):
    how, acc = spec.aggregate, {}
    for src in sorted(spec.sources, key=len):
        weight = src.weight
        for member, score in src.items():
            value = _weighted(score, weight)
            old = acc.get(member)
            acc[member] = value if old is None else _aggregate(old, value, how)
    return acc


def _diff(spec):
    first, rest = spec.sources[0], spec.sources[1:]
    if not len(first) or any(src.value is first.value for src in rest):
        return {}
    others = [src for src in rest if src.value is not None]
    return {m: s for m, s in first.items() if all(src.score(m) is None for src in others)}


_OPS = {_UNION: _union, _INTER: _inter, _DIFF: _diff}


def _setop_store(c, argv, op, name):
    spec = _parse_setop(c, argv, 2, op, name, True, False)
    return _store(c, argv[1], list(_OPS[op](spec).items()))


def _setop_reply(c, argv, op, name):
    spec = _parse_setop(c, argv, 1, op, name, False, False)
    result = _OPS[op](spec)
    items = sorted((s, m) for m, s in result.items())
    if spec.withscores:
        return _with_scores(c, items)
    return [m for _, m in items]


def _setop_keys(argv, numkeys_idx, dst):
    keys = _mpop_keys(argv, numkeys_idx)
    return [1] + keys if dst else keys


_STORE_KEYS = lambda argv: _setop_keys(argv, 2, True)  # noqa: E731
_READ_KEYS = lambda argv: _setop_keys(argv, 1, False)  # noqa: E731


@command("zunionstore", -4, "write denyoom movablekeys", 1, 1, 1, group=_GROUP, since="2.0.0", summary="Add multiple sorted sets and store the resulting sorted set in a new key", key_finder=_STORE_KEYS)
def zunionstore(c, argv):
    return _setop_store(c, argv, _UNION, "zunionstore")


@command("zinterstore", -4, "write denyoom movablekeys", 1, 1, 1, group=_GROUP, since="2.0.0", summary="Intersect multiple sorted sets and store the resulting sorted set in a new key", key_finder=_STORE_KEYS)
def zinterstore(c, argv):
    return _setop_store(c, argv, _INTER, "zinterstore")


@command("zdiffstore", -4, "write denyoom movablekeys", 1, 1, 1, group=_GROUP, since="6.2.0", summary="Subtract multiple sorted sets and store the resulting sorted set in a new key", key_finder=_STORE_KEYS)
def zdiffstore(c, argv):
    return _setop_store(c, argv, _DIFF, "zdiffstore")


@command("zunion", -3, "readonly movablekeys", group=_GROUP, since="6.2.0", summary="Add multiple sorted sets", key_finder=_READ_KEYS)
def zunion(c, argv):
    return _setop_reply(c, argv, _UNION, "zunion")


@command("zinter", -3, "readonly movablekeys", group=_GROUP, since="6.2.0", summary="Intersect multiple sorted sets", key_finder=_READ_KEYS)
def zinter(c, argv):
    return _setop_reply(c, argv, _INTER, "zinter")


@command("zdiff", -3, "readonly movablekeys", group=_GROUP, since="6.2.0", summary="Subtract multiple sorted sets", key_finder=_READ_KEYS)
def zdiff(c, argv):
    return _setop_reply(c, argv, _DIFF, "zdiff")


@command("zintercard", -3, "readonly movablekeys", group=_GROUP, since="7.0.0", summary="Intersect multiple sorted sets and return the cardinality of the result", key_finder=_READ_KEYS)
def zintercard(c, argv):
    spec = _parse_setop(c, argv, 1, _INTER, "zintercard", False, True)
    return _inter(spec, card_only=True)


# ---- ZRANDMEMBER, ZSCAN --------------------------------------------------------------

_LONG_RANGE = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"


@command("zrandmember", -2, "readonly", 1, 1, 1, group=_GROUP, since="6.2.0", summary="Get one or multiple random elements from a sorted set")
def zrandmember(c, argv):
    n = len(argv)
    if n == 2:
        z = _zset(c, argv[1])
        if z is None:
            return None
        return z.order[random.randrange(len(z))][1]
    count = parse_int(argv[2])
    if count < -INT64_MAX:
        raise CommandError(_LONG_RANGE)
    if n > 4 or (n == 4 and argv[3].lower() != b"withscores"):
        raise CommandError(SYNTAX)
    if n == 4 and not -(INT64_MAX // 2) <= count <= INT64_MAX // 2:
        # The reply would hold 2 * count elements; refused before the key is looked at.
        raise CommandError("ERR value is out of range")
    z = _zset(c, argv[1])
    if z is None or count == 0:
        return EMPTY_ARRAY
    items = _random_items(z, count)
    if n == 4:
        return _with_scores(c, items)
    return [m for _, m in items]


def _random_items(z, count):
    """(score, member) tuples: |count| picks with repeats when count < 0, else distinct ones."""
    order, size = z.order, len(z)
    if count < 0 or count == 1:
        return [order[random.randrange(size)] for _ in range(abs(count))]
    if count >= size:
        # Redis walks the whole zset from its tail in this case.
        return list(reversed(order))
    return [order[i] for i in random.sample(range(size), count)]


def _parse_cursor(raw: bytes) -> int:
    """A SCAN cursor as strtoul reads it: no leading space, whole string, 64-bit."""
    body = raw.split(b"\0", 1)[0]
    if raw[:1] and raw[:1] in _SPACE:
        raise CommandError("ERR invalid cursor")
    if not body:
        return 0
    sign = body[:1]
    digits = body[1:] if sign in (b"+", b"-") else body
    if not digits.isdigit() or int(digits) > 0xFFFFFFFFFFFFFFFF:
        raise CommandError("ERR invalid cursor")
    value = int(digits)
    return (-value) & 0xFFFFFFFFFFFFFFFF if sign == b"-" else value


def _scan_options(argv):
    """(count, pattern or None) from ZSCAN's options."""
    count, pattern = 10, None
    n, i = len(argv), 3
    while i < n:
        opt = argv[i].lower()
        if opt == b"count" and n - i >= 2:
            count = parse_int(argv[i + 1])
            if count < 1:
                raise CommandError(SYNTAX)
        elif opt == b"match" and n - i >= 2:
            pattern = None if argv[i + 1] == b"*" else argv[i + 1]
        else:
            raise CommandError(SYNTAX)
        i += 2
    return count, pattern


@command("zscan", -3, "readonly", 1, 1, 1, group=_GROUP, since="2.8.0", summary="Incrementally iterate sorted sets elements and associated scores")
def zscan(c, argv):
    cursor = _parse_cursor(argv[2])
    z = _zset(c, argv[1])
    if z is None:
        return [b"0", []]
    count, pattern = _scan_options(argv)
    if z.compact:
        # A listpack is returned whole, in order, whatever the cursor.
        cursor, members = 0, [m for _, m in z.order]
    else:
        cursor, members = scan(z.scores, cursor, count)
    if pattern is not None:
        members = [m for m in members if matches(pattern, m)]
    scores = z.scores
    out = []
    for m in members:
        out.append(m)
        out.append(format_double(scores[m]))
    return [b"%d" % cursor, out]
