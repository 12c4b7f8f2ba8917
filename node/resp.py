"""Reply encoding for RESP2 and RESP3.

Commands return plain Python values; `encode` turns them into wire bytes for the
client's protocol version:

    bytes          bulk string            None        null ($-1 / _)
    int            integer                float       double (RESP3) or bulk (RESP2)
    list, tuple    array                  dict        map (RESP3) or flat array (RESP2)
    set, frozenset set (RESP3) or array   Push        push (RESP3) or array (RESP2)
    Verbatim       verbatim txt (RESP3) or bulk       Raw  pre-encoded bytes, sent as is
    NULL_ARRAY     null (RESP3) or *-1 (RESP2)        BigNumber, Attribute: not used

Constant replies are precomputed Raw values so the hot path does no formatting.
"""

import math


class Raw(bytes):
    """Already-encoded reply bytes (the same in RESP2 and RESP3)."""

    __slots__ = ()


class Push(list):
    """An out-of-band message: `>` in RESP3, a plain array in RESP2."""

    __slots__ = ()


class Verbatim(bytes):
    """A verbatim text string (`=` with `txt:` in RESP3), a bulk string in RESP2."""

    __slots__ = ()


class _NullArray:
    __slots__ = ()


NULL_ARRAY = _NullArray()


class Pairs(list):
    """A list of (field, value) pairs sent as a map: keeps order, allows any key type."""

    __slots__ = ()


def encode_command(argv) -> bytes:
    """A command as a multibulk of bulk strings (argv: bytes), as clients send it and as the
    AOF and the replication stream carry it."""
    n = len(argv)
    try:
        # Precomputed length headers: a %-format costs more than the rest of the encoding.
        if n == 3:  # the usual write (SET k v, SADD k m, DEL k1 k2...)
            a, b, c = argv
            return _join((b"*3", _BULK_LINES[len(a)], a, _BULK_LINES[len(b)], b, _BULK_LINES[len(c)], c, b"\r\n"))
        if n == 2:
            a, b = argv
            return _join((b"*2", _BULK_LINES[len(a)], a, _BULK_LINES[len(b)], b, b"\r\n"))
    except IndexError:
        pass  # an argument of 1024 bytes or more
    parts = [b"*%d\r\n" % n]
    for a in argv:
        size = len(a)
        parts += (BULK_HEADERS[size] if size < 1024 else b"$%d\r\n" % size, a, b"\r\n")
    return _join(parts)


_join = b"".join
BULK_HEADERS = [b"$%d\r\n" % size for size in range(1024)]
_BULK_LINES = [b"\r\n" + header for header in BULK_HEADERS]  # ending the line before


def simple(text: str) -> Raw:
    return Raw(b"+" + text.encode() + b"\r\n")


def error(text: str) -> Raw:
    return Raw(b"-" + text.encode() + b"\r\n")


OK = simple("OK")
PONG = simple("PONG")
QUEUED = simple("QUEUED")
EMPTY_ARRAY = Raw(b"*0\r\n")
ZERO = Raw(b":0\r\n")
ONE = Raw(b":1\r\n")
NEG_ONE = Raw(b":-1\r\n")
NEG_TWO = Raw(b":-2\r\n")

SMALL_INTS = [b":%d\r\n" % i for i in range(10000)]
_INT_LINES = [b":%d\r\n" * count for count in range(65)]


def int_replies(values) -> bytes:
    """Integer replies, formatted together: one %-format of many values costs about half as
    much a value as one each (the batch fast path's counters and list lengths)."""
    count = len(values)
    return (_INT_LINES[count] if count < 65 else b":%d\r\n" * count) % tuple(values)


def format_double(value: float) -> bytes:
    """Redis 7.0's addReplyDouble text: printf %.17g (0.1 -> 0.10000000000000001), inf as inf."""
    if value == math.inf:
        return b"inf"
    if value == -math.inf:
        return b"-inf"
    return b"%.17g" % value


def format_resp3_double(value: float) -> bytes:
    if value == math.inf:
        return b",inf\r\n"
    if value == -math.inf:
        return b",-inf\r\n"
    if value != value:
        return b",nan\r\n"
    return b"," + format_double(value) + b"\r\n"


def encode(value, resp3: bool) -> bytes:
    out: list = []
    _encode(value, resp3, out.append)
    return b"".join(out)


def _encode(value, resp3, append):
    t = value.__class__
    if t is bytes:
        size = len(value)
        append(BULK_HEADERS[size] + value + b"\r\n" if size < 1024 else b"$%d\r\n%s\r\n" % (size, value))
    elif t is Raw:
        append(value)
    elif t is int:
        append(SMALL_INTS[value] if 0 <= value < 10000 else b":%d\r\n" % value)
    elif value is None:
        append(b"_\r\n" if resp3 else b"$-1\r\n")
    elif t is list or t is tuple:
        append(b"*%d\r\n" % len(value))
        for item in value:
            _encode(item, resp3, append)
    elif t is dict or t is Pairs:
        items = value.items() if t is dict else value
        if resp3:
            append(b"%%%d\r\n" % len(value))
        else:
            append(b"*%d\r\n" % (2 * len(value)))
        for k, v in items:
            _encode(k, resp3, append)
            _encode(v, resp3, append)
    elif t is float:
        if resp3:
            append(format_resp3_double(value))
        else:
            text = format_double(value)
            append(b"$%d\r\n%s\r\n" % (len(text), text))
    elif t is set or t is frozenset:
        append((b"~%d\r\n" if resp3 else b"*%d\r\n") % len(value))
        for item in value:
            _encode(item, resp3, append)
    elif t is Push:
        append((b">%d\r\n" if resp3 else b"*%d\r\n") % len(value))
        for item in value:
            _encode(item, resp3, append)
    elif t is Verbatim:
        if resp3:
            append(b"=%d\r\ntxt:%s\r\n" % (len(value) + 4, value))
        else:
            append(b"$%d\r\n%s\r\n" % (len(value), value))
    elif value is NULL_ARRAY:
        append(b"_\r\n" if resp3 else b"*-1\r\n")
    elif t is bool:
        append(b"#t\r\n" if value else b"#f\r\n") if resp3 else append(b":1\r\n" if value else b":0\r\n")
    elif t is str:
        append(b"+%s\r\n" % value.encode())
    else:
        # Subclasses of the basic types (deque-backed values never reach here).
        if isinstance(value, bytes):
            _encode(bytes(value), resp3, append)
        elif isinstance(value, int):
            _encode(int(value), resp3, append)
        elif isinstance(value, (list, tuple)):
            _encode(list(value), resp3, append)
        elif isinstance(value, dict):
            _encode(dict(value), resp3, append)
        else:
            raise TypeError("cannot encode %r" % (t,))
