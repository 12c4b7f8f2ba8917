"""LCS: the longest common subsequence of two strings, as Redis 7.0's lcsCommand finds it.

Redis fills the dynamic-programming table of LCS lengths, then walks it back
from the end: on equal bytes it takes the byte and moves diagonally, else it
moves toward the larger neighbour (up when strictly larger, else left). The
walk decides which of several equally long subsequences is returned and which
ranges IDX reports, so it is reproduced step by step, ranges emitted in the
order the walk closes them (from the end of the strings).
"""

from array import array

from ..errors import CommandError, SYNTAX
from ..resp import Pairs
from .args import parse_int
from .table import command

_NOT_STRINGS = "ERR The specified keys must contain string values"
_BOTH = "ERR If you want both the length and indexes, please just use IDX."
_TOO_BIG = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"


@command("lcs", -3, "readonly", 1, 2, 1, group="string", since="7.0.0", summary="Find longest common substring")
def lcs(c, argv):
    a, b = _string(c, argv[1]), _string(c, argv[2])
    if a is None or b is None:
        raise CommandError(_NOT_STRINGS)
    get_len = get_idx = with_len = False
    min_len = 0
    i, n = 3, len(argv)
    while i < n:
        opt = argv[i].lower()
        if opt == b"idx":
            get_idx = True
        elif opt == b"len":
            get_len = True
        elif opt == b"withmatchlen":
            with_len = True
        elif opt == b"minmatchlen" and i + 1 < n:
            i += 1
            min_len = max(parse_int(argv[i]), 0)
        else:
            raise CommandError(SYNTAX)
        i += 1
    if get_idx and get_len:
        raise CommandError(_BOTH)
    if (len(a) + 1) * (len(b) + 1) * 4 > c.node.config.values["proto-max-bulk-len"]:
        raise CommandError(_TOO_BIG)
    table = _lengths(a, b)
    total = table[-1][-1]
    if get_len:
        return total
    result, ranges = _walk(a, b, table, total)
    if not get_idx:
        return result
    matches = []
    for (a_start, a_end), (b_start, b_end) in ranges:
        size = a_end - a_start + 1
        if min_len == 0 or size >= min_len:
            match = [[a_start, a_end], [b_start, b_end]]
            if with_len:
                match.append(size)
            matches.append(match)
    return Pairs([(b"matches", matches), (b"len", total)])


def _string(c, key):
    """The string at key, b"" when absent, None for another type."""
    value = c.db.lookup(key)
    if value is None:
        return b""
    return value if value.__class__ is bytes else None


def _lengths(a: bytes, b: bytes) -> list:
    """rows[i][j]: the LCS length of a[:i] and b[:j]."""
    width = len(b) + 1
    rows = [array("I", bytes(4 * width))]
    for x in a:
        above = rows[-1]
        row = array("I", bytes(4 * width))
        left = 0
        for j, y in enumerate(b, 1):
            if x == y:
                left = above[j - 1] + 1
            else:
                up = above[j]
                if up > left:
                    left = up
            row[j] = left
        rows.append(row)
    return rows


def _walk(a: bytes, b: bytes, rows, total: int):
    """The subsequence Redis's walk back picks, and the matching ranges it emits:
    [((a_start, a_end), (b_start, b_end))] with inclusive ends."""
    out = bytearray(total)
    ranges = []
    unset = len(a)  # Redis's marker for "no range open"
    a_start, a_end, b_start, b_end = unset, 0, 0, 0
    i, j, k = len(a), len(b), total
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            out[k - 1] = a[i - 1]
            if a_start == unset:
                a_start = a_end = i - 1
                b_start = b_end = j - 1
            elif a_start == i and b_start == j:
                a_start -= 1
                b_start -= 1
            else:
                emit = True
            if a_start == 0 or b_start == 0:
                emit = True
            k -= 1
            i -= 1
            j -= 1
        else:
            if rows[i - 1][j] > rows[i][j - 1]:
                i -= 1
            else:
                j -= 1
            if a_start != unset:
                emit = True
        if emit:
            ranges.append(((a_start, a_end), (b_start, b_end)))
            a_start = unset
    return bytes(out), ranges
