"""Hash commands: HSET, HGET, HINCRBY, HRANDFIELD, HSCAN and the rest.

A hash is a HashValue (a dict of bytes -> bytes). Python dicts keep insertion
order and update in place, which is exactly the order Redis's listpack
encoding shows for small hashes; for big ones Redis's order is arbitrary.
"""

import random

from .. import resp
from ..encoding import hash_grown, hash_is_big
from ..errors import CommandError, WRONGTYPE, OVERFLOW, SYNTAX, NOT_FLOAT, wrong_arity
from ..glob import compile_pattern
from ..keyspace import HashValue
from ..resp import Raw
from ..scan import scan
from .args import parse_int, INT64_MIN, INT64_MAX
from .floats import parse_long_double, add_long_double, format_long_double, is_finite, NAN_OR_INF
from .keys import parse_cursor, parse_scan_options
from .table import command

__all__ = ["format_long_double"]  # re-exported for node.commands.strings

HASH_NOT_INTEGER = "ERR hash value is not an integer"
HASH_NOT_FLOAT = "ERR hash value is not a float"
INCR_NOT_FINITE = "ERR value is NaN or Infinity"
OUT_OF_RANGE = "ERR value is out of range"
COUNT_RANGE = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
LONG_MAX = INT64_MAX


def _read(c, key):
    """The hash at key for reading, None when absent; WRONGTYPE for another type."""
    h = c.db.lookup(key)
    if h is not None and h.__class__ is not HashValue:
        raise CommandError(WRONGTYPE)
    return h


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


@command("hset", -4, "write denyoom fast", 1, 1, 1, group="hash", since="2.0.0")
def hset(c, argv):
    """Set the string value of a hash field"""
    n = len(argv)
    if n & 1:
        raise wrong_arity("hset")
    db, key = c.db, argv[1]
    h = db.lookup(key)
    if h is None:
        h = HashValue()
        h.big = False
        db.add_new(key, h)
    elif h.__class__ is not HashValue:
        raise CommandError(WRONGTYPE)
    elif h.big is None:
        hash_is_big(h, c.node.config.values)
    before = len(h)
    if n == 4:
        field, value = argv[2], argv[3]
        h[field] = value
        if not h.big:
            # hash_grown inlined for the common single field: HSET is hot.
            cfg = c.node.config.values
            limit = cfg["hash-max-listpack-value"]
            h.big = len(field) > limit or len(value) > limit or len(h) > cfg["hash-max-listpack-entries"]
    else:
        for i in range(2, n, 2):
            h[argv[i]] = argv[i + 1]
        if not h.big:
            hash_grown(h, argv[2:], c.node.config.values)
    db.grew(key)
    return len(h) - before


@command("hmset", -4, "write denyoom fast", 1, 1, 1, group="hash", since="2.0.0")
def hmset(c, argv):
    """Set multiple hash fields to multiple values"""
    if len(argv) & 1:
        raise wrong_arity("hmset")
    hset(c, argv)
    return resp.OK


@command("hsetnx", 4, "write denyoom fast", 1, 1, 1, group="hash", since="2.0.0")
def hsetnx(c, argv):
    """Set the value of a hash field, only if the field does not exist"""
    h = _read(c, argv[1])
    if h is not None and argv[2] in h:
        return 0
    _write_field(c, argv[1], h, argv[2], argv[3])
    return 1


def _write_field(c, key, h, field, value):
    """Store one field, creating the hash when it is absent (h is None)."""
    cfg = c.node.config.values
    if h is None:
        h = HashValue()
        h.big = False
        c.db.add_new(key, h)
    elif h.big is None:
        hash_is_big(h, cfg)
    h[field] = value
    if not h.big:
        hash_grown(h, (field, value), cfg)
    c.db.modified(key)


@command("hget", 3, "readonly fast", 1, 1, 1, group="hash", since="2.0.0")
def hget(c, argv):
    """Get the value of a hash field"""
    h = _read(c, argv[1])
    if h is None:
        return None
    return h.get(argv[2])


@command("hmget", -3, "readonly fast", 1, 1, 1, group="hash", since="2.0.0")
def hmget(c, argv):
    """Get the values of all the given hash fields"""
    h = _read(c, argv[1])
    if h is None:
        return [None] * (len(argv) - 2)
    get = h.get
    return [get(f) for f in argv[2:]]


@command("hdel", -3, "write fast", 1, 1, 1, group="hash", since="2.0.0")
def hdel(c, argv):
    """Delete one or more hash fields"""
    h = _read(c, argv[1])
    if h is None:
        return 0
    if h.big is None:
        hash_is_big(h, c.node.config.values)  # the encoding it had stays when it shrinks
    deleted = 0
    for field in argv[2:]:
        if h.pop(field, None) is not None:
            deleted += 1
            if not h:
                break
    if deleted:
        c.db.modified(argv[1])
    return deleted


@command("hlen", 2, "readonly fast", 1, 1, 1, group="hash", since="2.0.0")
def hlen(c, argv):
    """Get the number of fields in a hash"""
    h = _read(c, argv[1])
    return 0 if h is None else len(h)


@command("hstrlen", 3, "readonly fast", 1, 1, 1, group="hash", since="3.2.0")
def hstrlen(c, argv):
    """Get the length of the value of a hash field"""
    h = _read(c, argv[1])
    if h is None:
        return 0
    value = h.get(argv[2])
    return 0 if value is None else len(value)


@command("hexists", 3, "readonly fast", 1, 1, 1, group="hash", since="2.0.0")
def hexists(c, argv):
    """Determine if a hash field exists"""
    h = _read(c, argv[1])
    return 1 if h is not None and argv[2] in h else 0


@command("hgetall", 2, "readonly", 1, 1, 1, group="hash", since="2.0.0")
def hgetall(c, argv):
    """Get all the fields and values in a hash"""
    h = _read(c, argv[1])
    n = 0 if h is None else len(h)
    head = (b"%%%d\r\n" % n) if c.resp3 else (b"*%d\r\n" % (2 * n))
    if not n:
        return Raw(head)
    return Raw(head + b"".join([b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v) for k, v in h.items()]))


@command("hkeys", 2, "readonly", 1, 1, 1, group="hash", since="2.0.0")
def hkeys(c, argv):
    """Get all the fields in a hash"""
    h = _read(c, argv[1])
    if not h:
        return resp.EMPTY_ARRAY
    return Raw(b"*%d\r\n" % len(h) + b"".join([_bulk(k) for k in h]))


@command("hvals", 2, "readonly", 1, 1, 1, group="hash", since="2.0.0")
def hvals(c, argv):
    """Get all the values in a hash"""
    h = _read(c, argv[1])
    if not h:
        return resp.EMPTY_ARRAY
    return Raw(b"*%d\r\n" % len(h) + b"".join([_bulk(v) for v in h.values()]))


@command("hincrby", 4, "write denyoom fast", 1, 1, 1, group="hash", since="2.0.0")
def hincrby(c, argv):
    """Increment the integer value of a hash field by the given number"""
    incr = parse_int(argv[3])
    key, field = argv[1], argv[2]
    h = _read(c, key)
    old = None if h is None else h.get(field)
    value = 0 if old is None else parse_int(old, HASH_NOT_INTEGER)
    if (incr < 0 and value < 0 and incr < INT64_MIN - value) or (incr > 0 and value > 0 and incr > INT64_MAX - value):
        raise CommandError(OVERFLOW)
    value += incr
    _write_field(c, key, h, field, b"%d" % value)
    return value


@command("hincrbyfloat", 4, "write denyoom fast", 1, 1, 1, group="hash", since="2.6.0")
def hincrbyfloat(c, argv):
    """Increment the float value of a hash field by the given amount"""
    incr = parse_long_double(argv[3])
    if incr is None:
        raise CommandError(NOT_FLOAT)
    if not is_finite(incr):
        raise CommandError(INCR_NOT_FINITE)
    key, field = argv[1], argv[2]
    h = _read(c, key)
    old = None if h is None else h.get(field)
    value = (0, 0) if old is None else parse_long_double(old)
    if value is None:
        raise CommandError(HASH_NOT_FLOAT)
    total = add_long_double(value, incr)
    if not is_finite(total):
        raise CommandError(NAN_OR_INF)
    text = format_long_double(total)
    _write_field(c, key, h, field, text)
    # Replicas and the AOF get the result, not the arithmetic, so they cannot diverge.
    if c.node.propagate_listeners:
        c.propagate_as = [[b"HSET", key, field, text]]
    return text


@command("hrandfield", -2, "readonly", 1, 1, 1, group="hash", since="6.2.0")
def hrandfield(c, argv):
    """Get one or multiple random fields from a hash"""
    n = len(argv)
    if n == 2:
        h = _read(c, argv[1])
        if not h:
            return None
        return _random_fields(h, 1, True)[0]
    count = parse_int(argv[2])
    if count < -LONG_MAX:
        raise CommandError(COUNT_RANGE)
    with_values = False
    if n > 4 or (n == 4 and argv[3].lower() != b"withvalues"):
        raise CommandError(SYNTAX)
    if n == 4:
        with_values = True
        # Redis doubles the count for the reply length; refuse what would overflow.
        if count < -(LONG_MAX // 2) or count > LONG_MAX // 2:
            raise CommandError(OUT_OF_RANGE)
    h = _read(c, argv[1])
    if not h or count == 0:
        return resp.EMPTY_ARRAY
    fields = _random_fields(h, abs(count), count > 0)
    if not with_values:
        return fields
    if c.resp3:
        return [[f, h[f]] for f in fields]
    return [x for f in fields for x in (f, h[f])]


def _random_fields(h, count: int, unique: bool) -> list:
    """count random fields: distinct (at most all of them) when unique, else with repeats.

    Distinct picks keep the hash's order, as Redis's listpack sampling does.
    """
    keys = list(h)
    if not unique:
        return random.choices(keys, k=count)
    if count == 1:
        return [random.choice(keys)]
    if count >= len(keys):
        return keys
    return [keys[i] for i in sorted(random.sample(range(len(keys)), count))]


@command("hscan", -3, "readonly", 1, 1, 1, group="hash", since="2.8.0")
def hscan(c, argv):
    """Incrementally iterate hash fields and associated values"""
    cursor = parse_cursor(argv[2])
    h = _read(c, argv[1])
    if h is None:
        return [b"0", []]
    count, pattern, _ = parse_scan_options(argv, 3, False)
    # A listpack-encoded hash comes whole, in order, whatever the cursor and COUNT.
    whole = 0 if hash_is_big(h, c.node.config.values) else len(h)
    cursor, fields = scan(h, cursor, count, whole)
    if pattern is not None:
        match = compile_pattern(pattern).match
        fields = [f for f in fields if match(f)]
    return [b"%d" % cursor, [x for f in fields for x in (f, h[f])]]
