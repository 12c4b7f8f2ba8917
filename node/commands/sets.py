"""Set commands: SADD, SPOP, SINTER, SSCAN and the rest.

A set is a SetValue (a set of bytes). Redis 7.0 keeps a set of integers as an
intset (at most set-max-intset-entries members) and anything else in a hash
table. An intset is sorted, so Redis replies its members in ascending numeric
order; a hash table's order is arbitrary. Replies here follow the intset order
whenever Redis would use one (and any order otherwise).

Redis 7.0 sends SMEMBERS, SINTER, SUNION, SDIFF and SPOP-with-count as RESP3
sets, SRANDMEMBER-with-count as an array.
"""

import random

from ..encoding import is_int64, set_grown, set_is_big
from ..errors import CommandError, WRONGTYPE, SYNTAX
from ..glob import compile_pattern
from ..keyspace import SetValue
from ..resp import EMPTY_ARRAY, Raw
from ..scan import scan
from .args import parse_int, INT64_MAX
from .keys import parse_cursor, parse_scan_options
from .table import command

POP_COUNT_RANGE = "ERR value is out of range, must be positive"
COUNT_RANGE = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
NUMKEYS_RANGE = "ERR numkeys should be greater than 0"
NUMKEYS_TOO_MANY = "ERR Number of keys can't be greater than number of args"
LIMIT_NEGATIVE = "ERR LIMIT can't be negative"

_EMPTY_SET = {False: Raw(b"*0\r\n"), True: Raw(b"~0\r\n")}
_INTSET_HARD_MAX = 1 << 30  # intset's own limit, whatever the directive says
_SPOP_MOVE_STRATEGY_MUL = 5


# ---- helpers ---------------------------------------------------------


def _read(c, key, lookup=None):
    """The set at key, None when absent; WRONGTYPE for another type."""
    s = (lookup or c.db.lookup)(key)
    if s is not None and s.__class__ is not SetValue:
        raise CommandError(WRONGTYPE)
    return s


def _for_change(c, key):
    """_read for a command that changes the set: its encoding is settled first, as a
    set that shrinks keeps the encoding it had."""
    s = _read(c, key)
    if s is not None and s.big is None:
        set_is_big(s, c.node.config.values)
    return s


def _is_intset(c, members) -> bool:
    """Whether Redis 7.0 would hold these members as an intset (integers only, few enough)."""
    if len(members) > min(c.node.config.values["set-max-intset-entries"], _INTSET_HARD_MAX):
        return False
    for m in members:
        if not is_int64(m):
            return False
    return True


def _ordered(c, members) -> list:
    """members as Redis lists them: ascending when they form an intset, else any order."""
    if _is_intset(c, members):
        return sorted(members, key=int)
    return list(members)


def _bulks(head: bytes, items) -> Raw:
    out = [head]
    append = out.append
    for x in items:
        append(b"$%d\r\n%s\r\n" % (len(x), x))
    return Raw(b"".join(out))


def _set_reply(c, items) -> Raw:
    """items (a list) as a RESP3 set, an array in RESP2, in the given order."""
    return _bulks((b"~%d\r\n" if c.resp3 else b"*%d\r\n") % len(items), items)


def _array_reply(items) -> Raw:
    return _bulks(b"*%d\r\n" % len(items), items)


def _propagate(c, argvs):
    # Only when something listens: the rewrite is for replicas and the AOF.
    if c.node.propagate_listeners:
        c.propagate_as = argvs


def _store(c, dst, result) -> int:
    """The *STORE commands' ending: dst holds result, or is deleted when result is empty."""
    if result:
        c.db.set(dst, result)
    else:
        c.db.delete(dst)
    return len(result)


# ---- single-set commands ---------------------------------------------


@command("sadd", -3, "write denyoom fast", 1, 1, 1, group="set", since="1.0.0")
def sadd(c, argv):
    """Add one or more members to a set"""
    db = c.db
    key = argv[1]
    s = db.lookup(key)
    if s is None:
        s = SetValue()
        s.big = False
        db.add_new(key, s)
    elif s.__class__ is not SetValue:
        raise CommandError(WRONGTYPE)
    elif s.big is None:
        set_is_big(s, c.node.config.values)
    before = len(s)
    if len(argv) == 3:
        s.add(argv[2])
    else:
        s.update(argv[2:])
    added = len(s) - before
    if added:
        if not s.big:
            set_grown(s, argv[2:], c.node.config.values)
        db.grew(key)
    return added


@command("srem", -3, "write fast", 1, 1, 1, group="set", since="1.0.0")
def srem(c, argv):
    """Remove one or more members from a set"""
    s = _for_change(c, argv[1])
    if s is None:
        return 0
    before = len(s)
    if len(argv) == 3:
        s.discard(argv[2])
    else:
        s.difference_update(argv[2:])
    removed = before - len(s)
    if removed:
        c.db.modified(argv[1])
    return removed


@command("sismember", 3, "readonly fast", 1, 1, 1, group="set", since="1.0.0")
def sismember(c, argv):
    """Determine if a given value is a member of a set"""
    s = _read(c, argv[1])
    return 1 if s is not None and argv[2] in s else 0


@command("smismember", -3, "readonly fast", 1, 1, 1, group="set", since="6.2.0")
def smismember(c, argv):
    """Returns the membership associated with the given elements for a set"""
    s = _read(c, argv[1]) or ()
    return [1 if m in s else 0 for m in argv[2:]]


@command("scard", 2, "readonly fast", 1, 1, 1, group="set", since="1.0.0")
def scard(c, argv):
    """Get the number of members in a set"""
    s = _read(c, argv[1])
    return 0 if s is None else len(s)


@command("smembers", 2, "readonly", 1, 1, 1, group="set", since="1.0.0")
def smembers(c, argv):
    """Get all the members in a set"""
    s = _read(c, argv[1])
    if s is None:
        return _EMPTY_SET[c.resp3]
    if set_is_big(s, c.node.config.values):
        return _set_reply(c, list(s))
    return _set_reply(c, sorted(s, key=int))


@command("spop", -2, "write fast", 1, 1, 1, group="set", since="1.0.0")
def spop(c, argv):
    """Remove and return one or multiple random members from a set"""
    n = len(argv)
    if n == 3:
        return _spop_count(c, argv)
    if n > 3:
        raise CommandError(SYNTAX)
    key = argv[1]
    s = _for_change(c, key)
    if s is None:
        return None
    # set.pop() takes an arbitrary member in O(1); bytes hashes are salted per process.
    member = s.pop()
    c.db.modified(key)
    if c.node.propagate_listeners:
        c.propagate_as = [[b"SREM", key, member]]
    return member


def _spop_count(c, argv):
    count = parse_int(argv[2], POP_COUNT_RANGE)
    if count < 0:
        raise CommandError(POP_COUNT_RANGE)
    key = argv[1]
    s = _for_change(c, key)
    if s is None or count == 0:
        return _EMPTY_SET[c.resp3]
    if count >= len(s):
        # The whole set: replied as SUNION would, and replicated as one DEL.
        members = _ordered(c, s)
        c.db.delete(key)
        _propagate(c, [[b"DEL", key]])
        return _set_reply(c, members)
    members = random.sample(list(s), count)
    s.difference_update(members)
    if len(s) * _SPOP_MOVE_STRATEGY_MUL <= count:
        # Redis builds a new set of the few members left (its CASE 3): a fresh encoding.
        s.big = None
    c.db.modified(key)
    _propagate(c, [[b"SREM", key, m] for m in members])
    return _set_reply(c, members)


@command("srandmember", -2, "readonly", 1, 1, 1, group="set", since="1.0.0")
def srandmember(c, argv):
    """Get one or multiple random members from a set"""
    n = len(argv)
    if n > 3:
        raise CommandError(SYNTAX)
    if n == 2:
        s = _read(c, argv[1])
        if s is None:
            return None
        return random.choice(list(s))
    count = parse_int(argv[2])
    if count < -INT64_MAX:
        raise CommandError(COUNT_RANGE)
    s = _read(c, argv[1])
    if s is None or count == 0:
        return EMPTY_ARRAY
    if count < 0 or count == 1:
        # A negative count allows repeats.
        return _array_reply(random.choices(list(s), k=abs(count)))
    if count >= len(s):
        return _array_reply(_ordered(c, s))
    return _array_reply(random.sample(list(s), count))


@command("smove", 4, "write fast", 1, 2, 1, group="set", since="1.0.0")
def smove(c, argv):
    """Move a member from one set to another"""
    src_key, dst_key, member = argv[1], argv[2], argv[3]
    src = _for_change(c, src_key)
    if src is None:
        return 0
    dst = _for_change(c, dst_key)
    if src is dst:
        return 1 if member in src else 0
    if member not in src:
        return 0
    src.discard(member)
    db = c.db
    db.modified(src_key)
    if dst is None:
        dst = SetValue()
        dst.big = False
        db.add_new(dst_key, dst)
    if member not in dst:
        dst.add(member)
        if not dst.big:
            set_grown(dst, (member,), c.node.config.values)
        db.modified(dst_key)
    return 1


# ---- multi-set commands ----------------------------------------------


def _sets(c, keys) -> list:
    """The sets at keys (None for absent ones), checking every type first. Their STORE
    forms too count the reads as hits or misses, as in Redis."""
    return [_read(c, k, c.db.lookup_read) for k in keys]


def _intersection(sets, limit: int = 0):
    """Members of all the sets (none may be None) in the smallest one's order,
    stopping after limit members when limit > 0."""
    sets = sorted(sets, key=len)
    smallest, others = sets[0], [s for s in sets[1:] if s is not sets[0]]
    if not others:
        return list(smallest)[:limit] if limit else list(smallest)
    out = []
    for m in smallest:
        for s in others:
            if m not in s:
                break
        else:
            out.append(m)
            if len(out) == limit:
                break
    return out


@command("sinter", -2, "readonly", 1, -1, 1, group="set", since="1.0.0")
def sinter(c, argv):
    """Intersect multiple sets"""
    sets = _sets(c, argv[1:])
    if None in sets:
        return _EMPTY_SET[c.resp3]
    return _set_reply(c, _ordered(c, _intersection(sets)))


def _sintercard_keys(argv):
    """Key positions for SINTERCARD (numkeys key [key ...] [LIMIT n])."""
    try:
        numkeys = int(argv[1])
    except (ValueError, IndexError):
        return []
    return list(range(2, min(2 + max(numkeys, 0), len(argv))))


@command("sintercard", -3, "readonly movablekeys", 0, 0, 0, group="set", since="7.0.0", key_finder=_sintercard_keys)
def sintercard(c, argv):
    """Intersect multiple sets and return the cardinality of the result"""
    numkeys = parse_int(argv[1], NUMKEYS_RANGE)
    if numkeys < 1:
        raise CommandError(NUMKEYS_RANGE)
    if numkeys > len(argv) - 2:
        raise CommandError(NUMKEYS_TOO_MANY)
    limit = 0
    i = 2 + numkeys
    while i < len(argv):
        if argv[i].lower() == b"limit" and i + 1 < len(argv):
            limit = parse_int(argv[i + 1], LIMIT_NEGATIVE)
            if limit < 0:
                raise CommandError(LIMIT_NEGATIVE)
            i += 2
        else:
            raise CommandError(SYNTAX)
    sets = _sets(c, argv[2 : 2 + numkeys])
    if None in sets:
        return 0
    return len(_intersection(sets, limit))


@command("sinterstore", -3, "write denyoom", 1, -1, 1, group="set", since="1.0.0")
def sinterstore(c, argv):
    """Intersect multiple sets and store the resulting set in a key"""
    sets = _sets(c, argv[2:])
    result = SetValue() if None in sets else SetValue(_intersection(sets))
    return _store(c, argv[1], result)


def _union(sets) -> SetValue:
    out = SetValue()
    for s in sets:
        if s is not None:
            out |= s
    return out


def _difference(sets) -> SetValue:
    """The first set minus the others; empty when a later key is the first key itself."""
    first = sets[0]
    if first is None or any(s is first for s in sets[1:]):
        return SetValue()
    out = SetValue(first)
    for s in sets[1:]:
        if s is not None:
            out -= s
            if not out:
                break
    return out


@command("sunion", -2, "readonly", 1, -1, 1, group="set", since="1.0.0")
def sunion(c, argv):
    """Add multiple sets"""
    return _set_reply(c, _ordered(c, _union(_sets(c, argv[1:]))))


@command("sunionstore", -3, "write denyoom", 1, -1, 1, group="set", since="1.0.0")
def sunionstore(c, argv):
    """Add multiple sets and store the resulting set in a key"""
    return _store(c, argv[1], _union(_sets(c, argv[2:])))


@command("sdiff", -2, "readonly", 1, -1, 1, group="set", since="1.0.0")
def sdiff(c, argv):
    """Subtract multiple sets"""
    return _set_reply(c, _ordered(c, _difference(_sets(c, argv[1:]))))


@command("sdiffstore", -3, "write denyoom", 1, -1, 1, group="set", since="1.0.0")
def sdiffstore(c, argv):
    """Subtract multiple sets and store the resulting set in a key"""
    sets = _sets(c, argv[2:])
    result = _difference(sets)
    if result and _diff_adds_then_removes(sets):
        # Redis's result held all of the first set before losing the others' members.
        result.big = not _is_intset(c, sets[0])
    return _store(c, argv[1], result)


def _diff_adds_then_removes(sets) -> bool:
    """Whether Redis computes this difference with its second algorithm (copy the first
    set, then remove), chosen by the same estimate of the work each would take."""
    first = len(sets[0])
    one = two = 0
    for s in sets:
        if s is not None:
            one += first
            two += len(s)
    return one // 2 > two


@command("sscan", -3, "readonly", 1, 1, 1, group="set", since="2.8.0")
def sscan(c, argv):
    """Incrementally iterate Set elements"""
    cursor = parse_cursor(argv[2])
    s = _read(c, argv[1])
    if s is None:
        return [b"0", []]
    count, pattern, _ = parse_scan_options(argv, 3, False)
    if not set_is_big(s, c.node.config.values):
        # An intset comes whole, in ascending order, whatever the cursor and COUNT.
        cursor, members = 0, sorted(s, key=int)
    else:
        cursor, members = scan(s, cursor, count)
    if pattern is not None:
        match = compile_pattern(pattern).match
        members = [m for m in members if match(m)]
    return [b"%d" % cursor, members]
