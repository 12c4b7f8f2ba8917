"""String commands. GET, SET and INCR are the hottest paths in the server: keep them lean."""

from ..encoding import mark_string
from ..errors import CommandError, WRONGTYPE, SYNTAX, OVERFLOW, STRING_TOO_LONG
from ..resp import OK, NULL_ARRAY
from .args import parse_int, INT64_MIN, INT64_MAX
from .table import COMMANDS, command

_OPT_NX, _OPT_XX, _OPT_GET, _OPT_KEEPTTL, _OPT_PERSIST = 1, 2, 4, 8, 16
_UNITS = {b"ex": 1000, b"px": 1, b"exat": 1000, b"pxat": 1}
_MAX_STRING = 512 * 1024 * 1024


def _get_string(c, key, lookup=None):
    """The string at key, None if absent; WRONGTYPE for another type. A write command that
    reads the value back (GETSET, GETDEL, GETEX) passes db.lookup_read to count the hit."""
    value = (lookup or c.db.lookup)(key)
    if value is not None and value.__class__ is not bytes:
        raise CommandError(WRONGTYPE)
    return value


@command("get", 2, "readonly fast", 1, 1, 1, group="string", summary="Get the value of a key")
def get(c, argv):
    db = c.db
    key = argv[1]
    value = db.data.get(key)
    if value is None:
        db.space.keyspace_misses += 1
        return None
    if db.expires or db.freq:
        value = db.lookup(key)
        if value is None:
            return None
    else:
        space = db.space
        space.keyspace_hits += 1
        db.access[key] = space.lru_clock
    if value.__class__ is not bytes:
        if value.__class__ is int:  # a counter (node.keyspace)
            return b"%d" % value
        raise CommandError(WRONGTYPE)
    return value


def _parse_set_options(argv, start, for_set):
    """(flags, expiry unit or None, expiry argument) for SET's or GETEX's options, read
    all at once as Redis 7.0 does: conflicting options (NX with XX, two different
    expiries, an expiry with KEEPTTL or PERSIST) are a syntax error; the same expiry
    option given twice is not, and the last one counts. The number is checked later."""
    flags = 0
    unit = amount = None
    i, n = start, len(argv)
    while i < n:
        opt = argv[i].lower()
        if for_set and opt == b"nx" and not flags & _OPT_XX:
            flags |= _OPT_NX
        elif for_set and opt == b"xx" and not flags & _OPT_NX:
            flags |= _OPT_XX
        elif for_set and opt == b"get":
            flags |= _OPT_GET
        elif for_set and opt == b"keepttl" and unit is None:
            flags |= _OPT_KEEPTTL
        elif not for_set and opt == b"persist" and unit is None:
            flags |= _OPT_PERSIST
        elif opt in _UNITS and unit in (None, opt) and not flags & (_OPT_KEEPTTL | _OPT_PERSIST) and i + 1 < n:
            unit = opt
            i += 1
            amount = argv[i]
        else:
            raise CommandError(SYNTAX)
        i += 1
    return flags, unit, amount


def _expire_time(c, raw, unit, name):
    """Absolute unix ms from an EX/PX/EXAT/PXAT argument (Redis's range checks)."""
    amount = parse_int(raw)
    if amount <= 0:
        raise CommandError("ERR invalid expire time in '%s' command" % name)
    ms = amount * _UNITS[unit]
    if ms > INT64_MAX:
        raise CommandError("ERR invalid expire time in '%s' command" % name)
    if unit in (b"ex", b"px"):
        ms += c.node.keyspace.clock()
        if ms > INT64_MAX:
            raise CommandError("ERR invalid expire time in '%s' command" % name)
    return ms


@command("set", -3, "write denyoom", 1, 1, 1, group="string", summary="Set the string value of a key")
def set_(c, argv):
    db = c.db
    key, value = argv[1], argv[2]
    if len(argv) == 3:
        db.set_string(key, value)
        return OK
    flags, unit, amount = _parse_set_options(argv, 3, True)
    expire_at = None if unit is None else _expire_time(c, amount, unit, "set")
    old = db.lookup_read(key) if flags & _OPT_GET else db.lookup(key)
    if flags & _OPT_GET and old is not None and old.__class__ is not bytes:
        raise CommandError(WRONGTYPE)
    if (flags & _OPT_NX and old is not None) or (flags & _OPT_XX and old is None):
        return old if flags & _OPT_GET else None
    db.set(key, value, keep_ttl=bool(flags & _OPT_KEEPTTL))
    if expire_at is not None:
        db.set_expire(key, expire_at)
        c.propagate_as = [[b"SET", key, value, b"PXAT", b"%d" % expire_at]]
    return old if flags & _OPT_GET else OK


COMMANDS["set"].cut_on_free = True


@command("setnx", 3, "write denyoom fast", 1, 1, 1, group="string", summary="Set the value of a key, only if the key does not exist")
def setnx(c, argv):
    if c.db.lookup(argv[1]) is not None:
        return 0
    c.db.set(argv[1], argv[2])
    return 1


def _set_with_expiry(c, argv, unit, name):
    expire_at = _expire_time(c, argv[2], unit, name)
    c.db.set(argv[1], argv[3])
    c.db.set_expire(argv[1], expire_at)
    c.propagate_as = [[b"SET", argv[1], argv[3], b"PXAT", b"%d" % expire_at]]
    return OK


@command("setex", 4, "write denyoom", 1, 1, 1, group="string", summary="Set the value and expiration of a key")
def setex(c, argv):
    return _set_with_expiry(c, argv, b"ex", "setex")


@command("psetex", 4, "write denyoom", 1, 1, 1, group="string", summary="Set the value and expiration in milliseconds of a key")
def psetex(c, argv):
    return _set_with_expiry(c, argv, b"px", "psetex")


@command("getset", 3, "write denyoom fast", 1, 1, 1, group="string", summary="Set the string value of a key and return its old value")
def getset(c, argv):
    old = _get_string(c, argv[1], c.db.lookup_read)
    c.db.set(argv[1], argv[2])
    return old


@command("getdel", 2, "write fast", 1, 1, 1, group="string", summary="Get the value of a key and delete the key")
def getdel(c, argv):
    old = _get_string(c, argv[1], c.db.lookup_read)
    if old is not None:
        c.db.delete(argv[1])
    return old


@command("getex", -2, "write fast", 1, 1, 1, group="string", summary="Get the value of a key and optionally set its expiration")
def getex(c, argv):
    key = argv[1]
    flags, unit, amount = _parse_set_options(argv, 2, False)
    persist = bool(flags & _OPT_PERSIST)
    value = _get_string(c, key, c.db.lookup_read)
    if value is None:
        return None
    # A missing key answers nil whatever the expiry says: Redis reads the number last.
    expire_at = None if unit is None else _expire_time(c, amount, unit, "getex")
    if expire_at is not None:
        if expire_at <= c.node.keyspace.clock():
            c.db.delete(key)
            c.propagate_as = [[b"DEL", key]]
        else:
            c.db.set_expire(key, expire_at)
            c.propagate_as = [[b"PEXPIREAT", key, b"%d" % expire_at]]
    elif persist and c.db.persist(key):
        c.propagate_as = [[b"PERSIST", key]]
    return value


@command("mget", -2, "readonly fast", 1, -1, 1, group="string", summary="Get the values of all the given keys")
def mget(c, argv):
    lookup = c.db.lookup
    result = []
    for key in argv[1:]:
        value = lookup(key)
        result.append(value if value.__class__ is bytes else None)
    return result


@command("mset", -3, "write denyoom", 1, -1, 2, group="string", summary="Set multiple keys to multiple values")
def mset(c, argv):
    if len(argv) % 2 == 0:
        raise CommandError("ERR wrong number of arguments for 'mset' command")
    c.db.set_pairs(argv)
    return OK


@command("msetnx", -3, "write denyoom", 1, -1, 2, group="string", summary="Set multiple keys to multiple values, only if none of the keys exist")
def msetnx(c, argv):
    if len(argv) % 2 == 0:
        raise CommandError("ERR wrong number of arguments for 'msetnx' command")
    db = c.db
    if any(db.lookup(argv[i]) is not None for i in range(1, len(argv), 2)):
        return 0
    db.set_pairs(argv)
    return 1


@command("incr", 2, "write denyoom fast", 1, 1, 1, group="string", summary="Increment the integer value of a key by one")
def incr(c, argv, delta=1):
    """Add delta to the integer at argv[1], keeping its TTL (as Redis's INCR does); the
    rest of the family passes its delta. The result is stored as an int (node.keyspace):
    the next increment neither parses nor formats."""
    key = argv[1]
    db = c.db
    data = db.data
    old = data.get(key)
    if old.__class__ is int and not (db.freq or db.watched or db.blocking) and (not db.expires or key not in db.expires):
        # A live counter and nothing else to update: lookup() and store_counter() inlined
        # (a write's lookup counts no hit). The hot path of every counter.
        result = old + delta
        if not INT64_MIN <= result <= INT64_MAX:
            raise CommandError(OVERFLOW)
        data[key] = result
        space = db.space
        db.access[key] = space.lru_clock
        space.dirty += 1
        return result
    old = db.lookup(key)
    if old is None:
        current = 0
    elif old.__class__ is not bytes:
        raise CommandError(WRONGTYPE)
    else:
        # The stored value must itself be a 64-bit integer before any overflow check.
        current = parse_int(old)
    result = current + delta
    if not INT64_MIN <= result <= INT64_MAX:
        raise CommandError(OVERFLOW)
    db.store_counter(key, result)
    return result


@command("decr", 2, "write denyoom fast", 1, 1, 1, group="string", summary="Decrement the integer value of a key by one")
def decr(c, argv):
    return incr(c, argv, -1)


@command("incrby", 3, "write denyoom fast", 1, 1, 1, group="string", summary="Increment the integer value of a key by the given amount")
def incrby(c, argv):
    return incr(c, argv, parse_int(argv[2]))


@command("decrby", 3, "write denyoom fast", 1, 1, 1, group="string", summary="Decrement the integer value of a key by the given number")
def decrby(c, argv):
    delta = parse_int(argv[2])
    if delta == INT64_MIN:
        raise CommandError("ERR decrement would overflow")
    return incr(c, argv, -delta)


@command("incrbyfloat", 3, "write denyoom fast", 1, 1, 1, group="string", summary="Increment the float value of a key by the given amount")
def incrbyfloat(c, argv):
    from .floats import incr_float

    key = argv[1]
    old = _get_string(c, key)
    result = incr_float(old if old is not None else b"0", argv[2])
    c.db.set(key, result, keep_ttl=True)
    mark_string(c.db, key, result, "embstr")
    # Replicas must not redo the float arithmetic: propagate the result.
    c.propagate_as = [[b"SET", key, result, b"KEEPTTL"]]
    return result


@command("append", 3, "write denyoom fast", 1, 1, 1, group="string", summary="Append a value to a key")
def append(c, argv):
    key = argv[1]
    old = _get_string(c, key)
    value = argv[2] if old is None else old + argv[2]
    if len(value) > c.node.config.values["proto-max-bulk-len"]:
        raise CommandError(STRING_TOO_LONG)
    c.db.set(key, value, keep_ttl=True)
    if old is not None:
        # Redis appends to an unshared raw copy; a new key takes the argument as SET would.
        mark_string(c.db, key, value, "raw")
    return len(value)


@command("strlen", 2, "readonly fast", 1, 1, 1, group="string", summary="Get the length of the value stored in a key")
def strlen(c, argv):
    value = _get_string(c, argv[1])
    return 0 if value is None else len(value)


def _getrange(c, argv):
    start, end = parse_int(argv[2]), parse_int(argv[3])
    value = _get_string(c, argv[1])
    if value is None:
        return b""
    n = len(value)
    if start < 0 and end < 0 and start > end:
        return b""
    if start < 0:
        start = max(n + start, 0)
    if end < 0:
        end = max(n + end, 0)
    end = min(end, n - 1)
    if start > end or n == 0:
        return b""
    return value[start : end + 1]


@command("getrange", 4, "readonly", 1, 1, 1, group="string", summary="Get a substring of the string stored at a key")
def getrange(c, argv):
    return _getrange(c, argv)


@command("substr", 4, "readonly", 1, 1, 1, group="string", summary="Get a substring of the string stored at a key")
def substr(c, argv):
    return _getrange(c, argv)


@command("setrange", 4, "write denyoom", 1, 1, 1, group="string", summary="Overwrite part of a string at key starting at the specified offset")
def setrange(c, argv):
    key, patch = argv[1], argv[3]
    offset = parse_int(argv[2])
    if offset < 0:
        raise CommandError("ERR offset is out of range")
    old = _get_string(c, key)
    if not patch:
        return 0 if old is None else len(old)
    if offset + len(patch) > c.node.config.values["proto-max-bulk-len"]:
        raise CommandError(STRING_TOO_LONG)
    base = old or b""
    if len(base) < offset:
        base = base + b"\x00" * (offset - len(base))
    value = base[:offset] + patch + base[offset + len(patch) :]
    c.db.set(key, value, keep_ttl=True)
    mark_string(c.db, key, value, "raw")
    return len(value)
