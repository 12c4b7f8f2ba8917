"""SORT and SORT_RO, as Redis 7.0's sortCommandGeneric.

The elements of a list, set or sorted set are sorted as numbers (strtod; equal
scores fall back to comparing the elements as strings, so the result is
deterministic) or with ALPHA as strings, by themselves or by the values other
keys hold (BY pattern, where "*" is replaced by the element and "->field"
reads a hash field). A BY pattern without "*" means "do not sort": the value's
own order (a set is then sorted ALPHA when the result is stored, as Redis
does for replication's sake). LIMIT cuts the sorted vector; GET patterns
replace each element by looked-up values ("#": the element itself); STORE
writes the result as a list instead of replying it.

Strings compare byte by byte, as Redis's strcoll does in the C locale.
"""

import math
import re

from ..encoding import set_is_big
from ..errors import CommandError, SYNTAX, WRONGTYPE
from ..keyspace import HashValue, ListValue, SetValue
from . import meta
from .args import parse_int
from .table import command

_NOT_DOUBLE = "ERR One or more scores can't be converted into double"
_DBL_MIN = 2.2250738585072014e-308


def _sort_keys(argv):
    """Redis's sortGetKeys: the sorted key, and the last STORE's destination."""
    keys = [1]
    i, n = 2, len(argv)
    while i < n:
        word = argv[i].lower()
        if word == b"limit":
            i += 2
        elif word in (b"get", b"by"):
            i += 1
        elif word == b"store" and i + 1 < n:
            keys[1:] = [i + 1]
        i += 1
    return keys


def _sort_keys_and_flags(argv):
    keys = _sort_keys(argv)
    return [(1, ["RO", "access"])] + [(i, ["OW", "update"]) for i in keys[1:]]


meta.KEYS_AND_FLAGS["sort"] = _sort_keys_and_flags
meta.KEYS_AND_FLAGS["sort_ro"] = lambda argv: [(1, ["RO", "access"])]


@command("sort", -2, "write denyoom movablekeys", 1, 1, 1, group="generic", summary="Sort the elements in a list, set or sorted set", key_finder=_sort_keys)
def sort(c, argv):
    return _sort(c, argv, readonly=False)


@command("sort_ro", -2, "readonly movablekeys", 1, 1, 1, group="generic", since="7.0.0", summary="Sort the elements in a list, set or sorted set. Read-only variant of SORT.", key_finder=lambda argv: [1])
def sort_ro(c, argv):
    return _sort(c, argv, readonly=True)


class _Options:
    __slots__ = ("desc", "alpha", "start", "count", "store", "by", "dontsort", "gets")

    def __init__(self):
        self.desc = self.alpha = self.dontsort = False
        self.start, self.count = 0, -1
        self.store = self.by = None
        self.gets = []


def _parse(argv, readonly) -> _Options:
    o = _Options()
    i, n = 2, len(argv)
    while i < n:
        word = argv[i].lower()
        left = n - i - 1
        if word == b"asc":
            o.desc = False
        elif word == b"desc":
            o.desc = True
        elif word == b"alpha":
            o.alpha = True
        elif word == b"limit" and left >= 2:
            o.start, o.count = parse_int(argv[i + 1]), parse_int(argv[i + 2])
            i += 2
        elif word == b"store" and not readonly and left >= 1:
            o.store = argv[i + 1]
            i += 1
        elif word == b"by" and left >= 1:
            o.by = argv[i + 1]
            # A pattern naming no element ("nosort") means: keep the value's own order.
            o.dontsort = b"*" not in _c_string(o.by)
            i += 1
        elif word == b"get" and left >= 1:
            o.gets.append(argv[i + 1])
            i += 1
        else:
            raise CommandError(SYNTAX)
        i += 1
    return o


def _sort(c, argv, readonly):
    o = _parse(argv, readonly)
    value = c.db.lookup_read(argv[1])  # SORT ... STORE still counts its read
    if value is None:
        value = ListValue()
    cls = value.__class__
    if cls is bytes or cls is HashValue:
        raise CommandError(WRONGTYPE)
    if cls is not ListValue and cls is not SetValue:
        cls = "zset"
        # Redis converts a sorted set to a skiplist before sorting it, for good.
        value.compact = False
    if o.dontsort and cls is SetValue and o.store is not None:
        # An unordered set stored must come out the same on replicas: sort it.
        o.dontsort, o.alpha, o.by = False, True, None
    size = len(value)
    start = max(o.start, 0)
    end = size - 1 if o.count < 0 else start + o.count - 1
    if start >= size:
        start, end = size - 1, size - 2
    end = min(end, size - 1)
    elements = _elements(c, value, cls, o, start, end)
    if o.dontsort and cls is not SetValue:
        start, end = 0, end - start  # _elements took the range already
    elif not o.dontsort:
        elements = _sorted(c, elements, o)
    picked = elements[start : end + 1] if end >= start else []
    if o.store is None:
        if not o.gets:
            return picked
        return [_lookup(c, pattern, e) for e in picked for pattern in o.gets]
    return _store(c, o, picked)


def _elements(c, value, cls, o, start, end) -> list:
    """The elements to sort, in the order Redis loads them; for a list or sorted set
    kept in its own order, just the LIMIT range (in DESC order when asked)."""
    if cls is ListValue or cls == "zset":
        items = list(value) if cls is ListValue else [m for _, m in value.order]
        if not o.dontsort:
            return items
        if end < start:
            return []
        if o.desc:
            items.reverse()
        return items[start : end + 1]
    if set_is_big(value, c.node.config.values):
        return list(value)
    return sorted(value, key=int)  # an intset iterates in ascending order


def _sorted(c, elements, o) -> list:
    if o.alpha:
        if o.by is None:
            return sorted(elements, reverse=o.desc)
        # A missing BY value sorts before every present one.
        keyed = [(_by_value(c, o.by, e), e) for e in elements]
        keyed.sort(key=lambda pair: (pair[0] is not None, pair[0] or b""), reverse=o.desc)
        return [e for _, e in keyed]
    scored = []
    failed = False
    for e in elements:
        raw = e if o.by is None else _by_value(c, o.by, e)
        score = 0.0
        if raw is not None:
            score = _strtod(raw)
            if score is None:
                failed, score = True, 0.0
        scored.append((score, e))
    if failed:
        raise CommandError(_NOT_DOUBLE)
    scored.sort(reverse=o.desc)
    return [e for _, e in scored]


def _store(c, o, picked) -> int:
    if o.gets:
        # A missing value is stored as an empty string.
        items = [_lookup(c, pattern, e) or b"" for e in picked for pattern in o.gets]
    else:
        items = picked
    if items:
        c.db.set(o.store, ListValue(items))
    else:
        c.db.delete(o.store)
    return len(items)


# ---- patterns ----------------------------------------------------------------------


def _c_string(raw: bytes) -> bytes:
    """The pattern as C's string functions see it: up to its first NUL byte."""
    end = raw.find(b"\0")
    return raw if end < 0 else raw[:end]


def _lookup(c, pattern: bytes, element: bytes):
    """Redis's lookupKeyByPattern: "#" is the element; the first "*" is replaced by
    it; "->field" after the "*" reads that field of a hash; otherwise a string key."""
    text = _c_string(pattern)
    if text == b"#":
        return element
    star = text.find(b"*")
    if star < 0:
        return None
    arrow = pattern.find(b"->", star + 1)
    field = None
    if 0 <= arrow < len(text) and arrow + 2 < len(pattern):
        field = pattern[arrow + 2 :]
        key = pattern[:star] + element + pattern[star + 1 : arrow]
    else:
        key = pattern[:star] + element + pattern[star + 1 :]
    value = c.db.lookup_read(key)  # BY and GET keys are reads, even under STORE
    if value is None:
        return None
    if field is not None:
        return value.get(field) if value.__class__ is HashValue else None
    return value if value.__class__ is bytes else None


_by_value = _lookup


# ---- numbers -----------------------------------------------------------------------

_STRTOD = re.compile(
    rb"[ \t\n\v\f\r]*([+-]?)(?:(inf(?:inity)?)|(nan(?:\([0-9A-Za-z_]*\))?)|0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?)|((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?))?",
    re.I,
)


def _strtod(raw: bytes):
    """C's strtod over the whole string, None where Redis refuses the score: text left
    over, out of range (ERANGE), or NaN. An empty string reads as 0, as strtod has it."""
    text = _c_string(raw)
    m = _STRTOD.match(text)
    if m.end() != len(text):
        return None
    sign, inf, nan, hexa, dec = m.groups()
    if nan is not None:
        return None
    if inf is not None:
        return -math.inf if sign == b"-" else math.inf
    if hexa is not None:
        mantissa = hexa if b"p" in hexa.lower() else hexa + b"p0"
        try:
            value = float.fromhex((sign + b"0x" + mantissa).decode())
        except OverflowError:
            return None
    elif dec is not None:
        value = float(sign + dec)
    else:
        return 0.0  # no digits at all: strtod reads nothing, and nothing is left over
    digits = (hexa or dec).split(b"e")[0].split(b"E")[0].split(b"p")[0].split(b"P")[0]
    if math.isinf(value) or (abs(value) < _DBL_MIN and digits.strip(b"0.")):
        return None  # overflow, or underflow to a subnormal or zero
    return value
