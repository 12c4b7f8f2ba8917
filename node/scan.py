"""SCAN-family cursors with Redis's guarantee.

The guarantee (Redis's): an element present in the collection for the whole of
a full iteration, from the call with cursor 0 to the call that returns cursor
0, is returned at least once. Elements added or removed meanwhile may or may
not be returned, and an element may be returned more than once.

How: the first call of an iteration copies the collection's elements into a
snapshot list (one C-speed `list(items)`) filed under a fresh tag, and hands
out the cursor `tag << 32 | position`. Each later call returns the snapshot's
next `count` elements that are still present in the live collection. An element
present throughout is in the snapshot (taken at the iteration's start) and
still present when its position comes, so it is returned; a removed one is
skipped; one added after the start is not returned. Inserts and deletes never
move snapshot positions. Every call costs O(count), except the first, which
costs one copy of the element references.

Snapshots live in a small LRU cache bounded in number and total size, and are
dropped when their iteration ends. A cursor whose snapshot is gone (evicted,
from before a restart, from another collection, or made up) starts over with a
fresh snapshot: elements may then come twice, never be missed. Cursors stay
below 2**63 so clients that read them as signed 64-bit integers are fine.

Small collections are returned whole with cursor 0, as Redis does for its
listpack and intset encodings whatever the COUNT.
"""

import random
from collections import OrderedDict

_POS_BITS = 32
_POS_MASK = (1 << _POS_BITS) - 1
_TAG_LIMIT = (1 << 31) - 1
MAX_SNAPSHOTS = 64
MAX_SNAPSHOT_ELEMENTS = 1 << 23  # 64 MiB of references across all snapshots


class _Snapshot:
    __slots__ = ("source", "elements")

    def __init__(self, source: int, elements: list):
        self.source = source  # id() of the collection it copies
        self.elements = elements


class _Cache:
    """Snapshots by tag, least recently used first."""

    def __init__(self):
        self.snapshots = OrderedDict()
        self.size = 0
        self.next_tag = random.randrange(1, _TAG_LIMIT)

    def get(self, tag: int, source: int):
        snap = self.snapshots.get(tag)
        if snap is None or snap.source != source:
            return None
        self.snapshots.move_to_end(tag)
        return snap

    def add(self, snap: _Snapshot) -> int:
        tag = self.next_tag
        while tag in self.snapshots:
            tag = tag % _TAG_LIMIT + 1
        self.next_tag = tag % _TAG_LIMIT + 1
        self.snapshots[tag] = snap
        self.size += len(snap.elements)
        while len(self.snapshots) > 1 and (len(self.snapshots) > MAX_SNAPSHOTS or self.size > MAX_SNAPSHOT_ELEMENTS):
            self.drop(next(iter(self.snapshots)))
        return tag

    def drop(self, tag: int):
        snap = self.snapshots.pop(tag, None)
        if snap is not None:
            self.size -= len(snap.elements)


_cache = _Cache()


def scan(items, cursor: int, count: int, whole_below: int = 0):
    """Return (next_cursor, batch) from `items` (a dict, set, or any sized iterable
    container of elements). When len(items) <= whole_below, everything is
    returned with cursor 0."""
    n = len(items)
    if n == 0:
        return 0, []
    if n <= whole_below:
        return 0, list(items)
    tag = cursor >> _POS_BITS
    snap = _cache.get(tag, id(items)) if cursor else None
    if snap is None:
        if count >= n:
            return 0, list(items)
        snap = _Snapshot(id(items), list(items))
        tag = _cache.add(snap)
        pos = 0
    else:
        pos = cursor & _POS_MASK
    elements = snap.elements
    end = pos + count
    batch = [e for e in elements[pos:end] if e in items]
    if end >= len(elements):
        _cache.drop(tag)
        return 0, batch
    return tag << _POS_BITS | end, batch
