"""The sorted set value.

A dict member -> score answers ZSCORE and membership in O(1); an ordered
sequence of (score, member) tuples keeps Redis's order (score, then member
bytes) so that rank, score-range and rank-range queries are O(log n). Both hold
the same member bytes and score float objects, so an element costs one tuple
beyond the dict entry.

The ordered sequence is a plain sorted list while the zset is small (a
SortedList's fixed overhead is several hundred bytes, more than the data of a
typical small zset, and C bisection on one list is faster there too) and
becomes a sortedcontainers SortedList past _BIG members. Both answer the same
calls (add, remove, pop, bisect_left/right, islice, indexing, slicing).

`compact` mirrors whether Redis would still hold this zset as a listpack (at
most zset-max-listpack-entries members, none longer than
zset-max-listpack-value bytes; once converted it never goes back). Two
observable behaviours depend on it: a listpack cannot store -0 (it reads back
as 0), and ZSCAN returns a listpack whole, in order.

Other modules may use: len(), sample_member(), items() (member, score in
order), members(), copy(), ZSet.build(pairs, compact), `scores` (the dict,
read-only) and `compact` (OBJECT ENCODING: listpack while True).
"""

from bisect import bisect_left, bisect_right, insort
from math import inf, nextafter

from sortedcontainers import SortedList

# Past this many members the order moves to a SortedList (O(log n) inserts
# instead of an O(n) memmove); it never moves back.
_BIG = 1024


class _SmallOrder(list):
    """A sorted list of (score, member) with SortedList's method names."""

    __slots__ = ()

    def add(self, item):
        insort(self, item)

    def remove(self, item):
        del self[bisect_left(self, item)]

    def bisect_left(self, item):
        return bisect_left(self, item)

    def bisect_right(self, item):
        return bisect_right(self, item)

    def islice(self, start, stop, reverse=False):
        part = self[start:stop]
        if reverse:
            part.reverse()
        return part


def _ordered(items):
    """The right container for already sorted (score, member) tuples."""
    return SortedList(items) if len(items) > _BIG else _SmallOrder(items)


class ZSet:
    __slots__ = ("scores", "order", "compact")

    def __init__(self, compact: bool = True):
        self.scores = {}
        self.order = _SmallOrder()
        self.compact = compact

    @classmethod
    def build(cls, pairs, compact: bool):
        """A zset from (member, score) pairs with distinct members."""
        z = cls(compact)
        if compact:
            # A listpack reads -0 back as 0.
            pairs = [(m, s + 0.0 if s == 0.0 else s) for m, s in pairs]
        z.scores = dict(pairs)
        z.order = _ordered(sorted((s, m) for m, s in z.scores.items()))
        return z

    def __len__(self):
        return len(self.scores)

    def sample_member(self) -> bytes:
        # Called on every change (memory estimate): read a SortedList's first sublist directly.
        order = self.order
        if order.__class__ is _SmallOrder:
            return order[0][1]
        return order._lists[0][0][1]

    def items(self):
        """(member, score) pairs in rank order."""
        return [(m, s) for s, m in self.order]

    def members(self):
        """The members, in no particular order."""
        return self.scores.keys()

    def copy(self):
        z = ZSet(self.compact)
        z.scores = self.scores.copy()
        z.order = self.order.__class__(self.order)
        return z

    # ---- changes ------------------------------------------------------

    def insert(self, member: bytes, score: float):
        """Add a member known to be absent."""
        if score == 0.0 and self.compact:
            score = 0.0
        self.scores[member] = score
        order = self.order
        order.add((score, member))
        if order.__class__ is _SmallOrder and len(order) > _BIG:
            self.order = SortedList(order)

    def rescore(self, member: bytes, old: float, new: float):
        """Move a present member from score `old` to `new`."""
        if new == 0.0 and self.compact:
            new = 0.0
        order = self.order
        order.remove((old, member))
        order.add((new, member))
        self.scores[member] = new

    def discard(self, member: bytes) -> bool:
        score = self.scores.pop(member, None)
        if score is None:
            return False
        self.order.remove((score, member))
        return True

    def pop_first(self):
        """Remove and return the (score, member) with the lowest rank."""
        item = self.order.pop(0)
        del self.scores[item[1]]
        return item

    def pop_last(self):
        item = self.order.pop()
        del self.scores[item[1]]
        return item

    def delete_span(self, start: int, stop: int) -> int:
        """Remove ranks start..stop-1; returns how many."""
        order, scores = self.order, self.scores
        doomed = order[start:stop]
        if len(doomed) == len(order):
            order.clear()
            scores.clear()
        else:
            del order[start:stop]
            for _, m in doomed:
                del scores[m]
        return len(doomed)

    # ---- queries ------------------------------------------------------

    def rank(self, member: bytes):
        """0-based rank by ascending score, or None when absent."""
        score = self.scores.get(member)
        if score is None:
            return None
        return self.order.bisect_left((score, member))

    def span(self, start: int, stop: int, reverse: bool = False):
        """(score, member) tuples at ranks start..stop-1 (reverse: from the top)."""
        return list(self.order.islice(start, stop, reverse))

    def score_span(self, lo: float, lo_ex: bool, hi: float, hi_ex: bool):
        """(start, stop) ranks of the members whose score lies in the range."""
        order = self.order
        n = len(order)
        if lo_ex:
            start = n if lo == inf else order.bisect_left((nextafter(lo, inf),))
        else:
            start = order.bisect_left((lo,))
        if hi_ex:
            stop = order.bisect_left((hi,))
        else:
            stop = n if hi == inf else order.bisect_left((nextafter(hi, inf),))
        return start, max(start, stop)

    def lex_span(self, lo, hi, reverse: bool = False):
        """(start, stop) ranks of the members in a lex range (LexRange bounds).

        Lex ranges assume every member has the same score; then members are
        sorted and the span is found by bisection. With mixed scores Redis's
        answer depends on its listpack walk, which is reproduced: forward,
        from the first member >= min while members stay <= max; reverse, from
        the last member <= max while members stay >= min.
        """
        order = self.order
        n = len(order)
        if not n or lex_range_empty(lo, hi):
            return 0, 0
        first, last = order[0], order[-1]
        if first[0] == last[0]:
            start = _lex_bisect(order, first[0], lo, True)
            stop = _lex_bisect(order, first[0], hi, False)
            return start, max(start, stop)
        if not lo.below(last[1]) or not hi.above(first[1]):
            return 0, 0
        members = [m for _, m in order]
        return _lex_walk_reverse(members, lo, hi) if reverse else _lex_walk(members, lo, hi)


class LexBound:
    """One end of a lex range: '-' (kind -1), '+' (kind 1), or '[x' / '(x' (kind 0)."""

    __slots__ = ("kind", "value", "exclusive")

    def __init__(self, kind: int, value: bytes = b"", exclusive: bool = True):
        self.kind = kind
        self.value = value
        self.exclusive = exclusive

    def below(self, member: bytes) -> bool:
        """As a min bound: member is at or past it."""
        if self.kind:
            return self.kind < 0
        return member > self.value if self.exclusive else member >= self.value

    def above(self, member: bytes) -> bool:
        """As a max bound: member is at or before it."""
        if self.kind:
            return self.kind > 0
        return member < self.value if self.exclusive else member <= self.value


def lex_range_empty(lo: LexBound, hi: LexBound) -> bool:
    """Redis's sdscmplex test for ranges that can never match."""
    if lo.kind and lo.kind == hi.kind:
        cmp = 0
    elif lo.kind < 0 or hi.kind > 0:
        cmp = -1
    elif lo.kind > 0 or hi.kind < 0:
        cmp = 1
    else:
        cmp = (lo.value > hi.value) - (lo.value < hi.value)
    return cmp > 0 or (cmp == 0 and (lo.exclusive or hi.exclusive))


def _lex_bisect(order, score, bound: LexBound, is_min: bool) -> int:
    """Rank where a bound cuts a zset whose members all share `score`."""
    if bound.kind:
        return 0 if bound.kind < 0 else len(order)
    key = (score, bound.value)
    # A min bound starts at the value unless exclusive; a max bound ends after it unless exclusive.
    if is_min != bound.exclusive:
        return order.bisect_left(key)
    return order.bisect_right(key)


def _lex_walk(members, lo, hi):
    for i, m in enumerate(members):
        if lo.below(m):
            stop = i
            while stop < len(members) and hi.above(members[stop]):
                stop += 1
            return i, stop
    return 0, 0


def _lex_walk_reverse(members, lo, hi):
    for i in range(len(members) - 1, -1, -1):
        if hi.above(members[i]):
            start = i + 1
            while start > 0 and lo.below(members[start - 1]):
                start -= 1
            return start, i + 1
    return 0, 0
