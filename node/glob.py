"""Redis's glob-style pattern matching (stringmatchlen): * ? [abc] [^a-z] and backslash escapes."""

import re
from functools import lru_cache


@lru_cache(maxsize=512)
def compile_pattern(pattern: bytes):
    """Translate a Redis glob pattern to a compiled regex over bytes."""
    out = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i : i + 1]
        if c == b"*":
            out.append(b".*")
        elif c == b"?":
            out.append(b".")
        elif c == b"\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i : i + 1]))
        elif c == b"[":
            i, cls = _char_class(pattern, i + 1)
            out.append(cls)
            continue
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile(b"".join(out) + b"\\Z", re.S)


def _char_class(pattern: bytes, i: int):
    """Parse a [...] class starting after '['; returns (next index, regex)."""
    n = len(pattern)
    negate = i < n and pattern[i : i + 1] == b"^"
    if negate:
        i += 1
    items = []
    while i < n and pattern[i : i + 1] != b"]":
        c = pattern[i : i + 1]
        if c == b"\\" and i + 1 < n:
            i += 1
            items.append(re.escape(pattern[i : i + 1]))
            i += 1
        elif i + 2 < n and pattern[i + 1 : i + 2] == b"-" and pattern[i + 2 : i + 3] != b"]":
            lo, hi = pattern[i], pattern[i + 2]
            if lo > hi:
                lo, hi = hi, lo
            items.append(b"%s-%s" % (re.escape(bytes([lo])), re.escape(bytes([hi]))))
            i += 3
        else:
            items.append(re.escape(c))
            i += 1
    # Redis treats an unterminated class as ending at the pattern's end.
    i += 1
    if not items:
        return i, (b"." if negate else b"(?!)")
    return i, b"[" + (b"^" if negate else b"") + b"".join(items) + b"]"


def matches(pattern: bytes, subject: bytes) -> bool:
    if pattern == b"*":
        return True
    return compile_pattern(pattern).match(subject) is not None
