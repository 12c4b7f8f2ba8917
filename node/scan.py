"""SCAN-family cursors with Redis's guarantee.

An element present for the whole of a full iteration is returned at least
once; elements added or removed meanwhile may or may not be. The cursor is the
hash (Python's, 62 bits, stable for the life of the process) of the next element
to return, and elements are visited in hash order: inserts and deletes do not
move the others, so nothing present throughout is skipped.

Small collections (as Redis does for listpack/intset encodings) are returned
whole with cursor 0.
"""

from bisect import bisect_left

_MASK = (1 << 62) - 1


def _h(item) -> int:
    return hash(item) & _MASK


def scan(items, cursor: int, count: int, whole_below: int = 0):
    """Return (next_cursor, batch) from `items` (a dict, set or other iterable of keys).

    When len(items) <= whole_below, everything is returned with cursor 0.
    """
    n = len(items)
    if n == 0:
        return 0, []
    if n <= whole_below:
        return 0, list(items)
    if cursor == 0 and count >= n:
        return 0, list(items)
    order = sorted((_h(k), k) for k in items) if n < 4096 or count * 64 >= n else None
    if order is None:
        # Large collection, small batch: select only the hashes at or past the cursor.
        tail = sorted((h, k) for h, k in ((_h(k), k) for k in items) if h >= cursor)
        batch = tail[:count]
        if len(tail) <= count:
            return 0, [k for _, k in batch]
        return tail[count][0], [k for _, k in batch]
    start = bisect_left(order, (cursor,)) if cursor else 0
    batch = order[start : start + count]
    end = start + count
    if end >= n:
        return 0, [k for _, k in batch]
    return order[end][0], [k for _, k in batch]
