"""Redis's long double arithmetic for INCRBYFLOAT and HINCRBYFLOAT, exactly.

Redis adds two C `long double`s (x86-64: 80-bit extended, a 64-bit
significand) and prints the sum with "%.17Lf", trimming trailing zeros. The
result shows the binary rounding (1e20 + 0.1 stays 100000000000000000000), so
decimal arithmetic would not match; we emulate the binary format instead.

A finite value is an exact pair (m, e) meaning m * 2**e with signed m; an
infinity is a float. Every step is exact integer arithmetic followed by one
round-to-nearest-even, which is what strtold, the FPU and glibc's printf do.
"""

import math
import re
from fractions import Fraction

from ..errors import CommandError, NOT_FLOAT

PRECISION = 64  # significand bits of the x87 extended format
MIN_EXP = -16445  # the quantum of subnormals: the smallest value is 2**MIN_EXP
MAX_EXP = 16320  # the largest is (2**64 - 1) * 2**MAX_EXP
MAX_CHARS = 5 * 1024  # Redis's MAX_LONG_DOUBLE_CHARS: longer input is refused

NAN_OR_INF = "ERR increment would produce NaN or Infinity"

# What strtold accepts, as a whole string (Redis refuses leading spaces and leftovers).
_DECIMAL = re.compile(rb"([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\Z")
_HEX = re.compile(rb"([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?\Z")
_INF = re.compile(rb"([+-]?)inf(?:inity)?\Z", re.I)


def _round(num: int, den: int, negative: bool, shift: int = 0):
    """The long double nearest to num/den * 2**shift (num, den > 0): (m, e), or an infinity."""
    e = max(num.bit_length() - den.bit_length() - PRECISION + shift, MIN_EXP)
    q, r, d = _divide(num, den, e - shift)
    if q.bit_length() > PRECISION:
        e += 1
        q, r, d = _divide(num, den, e - shift)
    if 2 * r > d or (2 * r == d and q & 1):
        q += 1
        if q.bit_length() > PRECISION:
            q >>= 1
            e += 1
    if e > MAX_EXP:
        return -math.inf if negative else math.inf
    return (-q if negative else q), e


def _divide(num: int, den: int, e: int):
    """Quotient and remainder of num/den scaled by 2**-e, with the divisor used."""
    if e >= 0:
        d = den << e
        q, r = divmod(num, d)
        return q, r, d
    q, r = divmod(num << -e, den)
    return q, r, den


def parse_long_double(raw: bytes):
    """Redis's string2ld: the long double strtold reads from raw, or None if refused.

    Refused: empty or very long input, spaces, leftovers, NaN, and values that
    overflow or underflow to zero (strtold's ERANGE).
    """
    if not raw or len(raw) >= MAX_CHARS:
        return None
    m = _DECIMAL.match(raw)
    if m is not None:
        return _from_decimal(m)
    m = _HEX.match(raw)
    if m is not None:
        return _from_hex(m)
    m = _INF.match(raw)
    if m is not None:
        return -math.inf if m.group(1) == b"-" else math.inf
    return None


def _from_decimal(m):
    sign, whole, frac, exp = m.groups()
    frac = frac or b""
    if not whole and not frac:
        return None
    significant = (whole + frac).lstrip(b"0")
    if not significant:
        return (0, 0)
    digits = _int10(significant)
    exp10 = _exponent(exp) - len(frac)
    magnitude = len(significant) + exp10  # digits before the point
    if magnitude > 4940:
        return None  # overflow: HUGE_VAL with ERANGE
    if magnitude < -4960:
        return None  # underflow to zero with ERANGE
    if exp10 >= 0:
        value = _round(digits * 10**exp10, 1, sign == b"-")
    else:
        value = _round(digits, 10**-exp10, sign == b"-")
    return _checked(value)


def _exponent(text) -> int:
    """The exponent's value, clamped far beyond any finite nonzero result."""
    if not text:
        return 0
    negative = text[:1] == b"-"
    text = text.lstrip(b"+-").lstrip(b"0")
    value = int(text) if 0 < len(text) <= 9 else (10**9 if text else 0)
    return -value if negative else value


def _int10(text: bytes) -> int:
    """int(text) for up to MAX_CHARS digits (Python refuses single conversions past 4300)."""
    if len(text) <= 4000:
        return int(text)
    return int(text[:-4000]) * 10**4000 + int(text[-4000:])


def _from_hex(m):
    sign, whole, frac, exp = m.groups()
    frac = frac or b""
    if not whole and not frac:
        return None
    digits = int(whole + frac, 16)
    if digits == 0:
        return (0, 0)
    exp2 = _exponent(exp) - 4 * len(frac)
    if exp2 + digits.bit_length() > MAX_EXP + PRECISION + 1:
        return None
    if exp2 + digits.bit_length() < MIN_EXP - 2:
        return None
    if exp2 >= 0:
        value = _round(digits << exp2, 1, sign == b"-")
    else:
        value = _round(digits, 1 << -exp2, sign == b"-")
    return _checked(value)


def _checked(value):
    """strtold's ERANGE cases that string2ld refuses: overflow, and underflow to zero."""
    if value.__class__ is float or value[0] == 0:
        return None
    return value


def add_long_double(a, b):
    """a + b rounded to a long double (NaN for inf - inf)."""
    if a.__class__ is float or b.__class__ is float:
        x = a if a.__class__ is float else 0.0
        y = b if b.__class__ is float else 0.0
        return x + y
    (ma, ea), (mb, eb) = a, b
    e = min(ea, eb)
    total = (ma << (ea - e)) + (mb << (eb - e))
    if total == 0:
        return (0, 0)
    return _round(abs(total), 1, total < 0, e)


def is_finite(value) -> bool:
    return value.__class__ is not float


def _as_long_double(value):
    """Accept an exact (m, e) pair, an int, a float or a Fraction."""
    if value.__class__ is tuple:
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return value
    q = Fraction(value)
    if q == 0:
        return (0, 0)
    return _round(abs(q.numerator), q.denominator, q < 0)


def format_long_double(value) -> bytes:
    """Redis's ld2string in LD_STR_HUMAN mode: "%.17Lf" with trailing zeros (and '.') trimmed."""
    value = _as_long_double(value)
    if value.__class__ is float:
        if value != value:
            return b"nan"
        return b"inf" if value > 0 else b"-inf"
    m, e = value
    negative, m = m < 0, abs(m)
    if e >= 0:
        text = _str10(m << e)
    else:
        text = _fixed17(m, e)
    if negative and text != b"0":
        text = b"-" + text
    return text


def _fixed17(m: int, e: int) -> bytes:
    """m * 2**e (e < 0) with 17 decimals, rounded half to even as glibc prints it, trimmed."""
    d = 1 << -e
    q, r = divmod(m * 10**17, d)
    if 2 * r > d or (2 * r == d and q & 1):
        q += 1
    whole, frac = divmod(q, 10**17)
    if frac == 0:
        return _str10(whole)
    return (_str10(whole) + b".%017d" % frac).rstrip(b"0")


_CHUNK = 10**4000


def _str10(n: int) -> bytes:
    """b"%d" % n for the up to 4933 digits of a long double (Python refuses past 4300)."""
    if n < _CHUNK:
        return b"%d" % n
    high, low = divmod(n, _CHUNK)
    return b"%d%04000d" % (high, low)


def incr_float(old: bytes, incr: bytes) -> bytes:
    """INCRBYFLOAT's arithmetic: old + incr as Redis stores and replies it.

    A missing key is old=b"0". Either operand unreadable: "ERR value is not a
    valid float"; a non-finite sum: "ERR increment would produce NaN or Infinity".
    """
    a = parse_long_double(old)
    b = parse_long_double(incr)
    if a is None or b is None:
        raise CommandError(NOT_FLOAT)
    total = add_long_double(a, b)
    if not is_finite(total):
        raise CommandError(NAN_OR_INF)
    return format_long_double(total)
