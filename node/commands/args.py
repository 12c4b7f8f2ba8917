"""Argument parsing with Redis's strictness (string2ll, strtold rules)."""

import math
import re

from ..errors import CommandError, NOT_INTEGER, NOT_FLOAT, SYNTAX

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


def parse_int(raw: bytes, error: str = NOT_INTEGER) -> int:
    """A signed 64-bit integer in canonical form, as Redis's string2ll accepts it."""
    if raw.__class__ is bytes and raw.isdigit() and len(raw) < 19 and (raw[0] != 48 or len(raw) == 1):
        return int(raw)  # the usual case: up to 18 ASCII digits, no leading zero
    try:
        value = int(raw)
    except (ValueError, TypeError):
        raise CommandError(error) from None
    # int() accepts spaces, '+', '_' and leading zeros; Redis does not.
    if b"%d" % value != raw or not INT64_MIN <= value <= INT64_MAX:
        raise CommandError(error)
    return value


def parse_nonneg_int(raw: bytes, error: str) -> int:
    value = parse_int(raw)
    if value < 0:
        raise CommandError(error)
    return value


_FLOAT_OK = re.compile(rb"[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity)\Z", re.I)


def parse_float(raw: bytes, error: str = NOT_FLOAT, allow_nan: bool = False) -> float:
    """A double as strtod reads it: no surrounding spaces, inf allowed, nan refused."""
    if not _FLOAT_OK.match(raw):
        if allow_nan and raw.lower() in (b"nan", b"+nan", b"-nan"):
            return math.nan
        raise CommandError(error)
    return float(raw)


def parse_timeout(raw: bytes) -> float:
    """Blocking command timeout in seconds, 0 = forever, as Redis 7.0 reads it.

    Redis converts to milliseconds rounding up into a 64-bit integer: a tiny
    negative like -0.0001 becomes 0 (block forever), a tiny positive becomes
    1 ms, and anything past the 64-bit range (inf, 1e16) wraps negative.
    """
    value = parse_float(raw, "ERR timeout is not a float or out of range")
    ms = value * 1000.0
    if math.isinf(ms) or ms >= 9223372036854775808.0:
        raise CommandError("ERR timeout is negative")
    ms = math.ceil(ms)
    if ms < 0:
        raise CommandError("ERR timeout is negative")
    return ms / 1000.0


def lower(raw: bytes) -> bytes:
    return raw.lower()


def syntax_error() -> CommandError:
    return CommandError(SYNTAX)


class ArgCursor:
    """A cursor over a command's arguments (after the name), for option parsing."""

    __slots__ = ("argv", "pos")

    def __init__(self, argv, start=1):
        self.argv = argv
        self.pos = start

    def more(self) -> bool:
        return self.pos < len(self.argv)

    def remaining(self) -> int:
        return len(self.argv) - self.pos

    def next(self) -> bytes:
        if self.pos >= len(self.argv):
            raise CommandError(SYNTAX)
        value = self.argv[self.pos]
        self.pos += 1
        return value

    def next_int(self) -> int:
        return parse_int(self.next())

    def peek_lower(self) -> bytes:
        return self.argv[self.pos].lower()


def clamp_range(start, end, n):
    """Redis's range rule: negative indexes count from the end; None when empty."""
    if start < 0:
        start += n
    if end < 0:
        end += n
    if start < 0:
        start = 0
    if start > end or start >= n:
        return None
    if end >= n:
        end = n - 1
    return start, end
