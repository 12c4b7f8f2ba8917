"""The list family: LPUSH .. BLMPOP, on ListValue (a deque).

Replies and error texts are Redis 7.0's. Notes on the less obvious rules:

- Argument checks run in Redis's order, which decides which error wins when
  several apply (LRANGE parses its indexes before looking at the key, LSET
  looks at the key first, LMPOP parses numkeys before the timeout ...).
- `c.db.modified(key)` after every in-place change also deletes a list that
  became empty, so pops never leave empty keys behind.
- Blocking commands serve at once when they can, return the non-blocking
  answer inside EXEC, and otherwise return a Block. Its retry serves from the
  key that became ready (Redis 7.0 serves from the signalled key), falling back
  to the first non-empty list in the client's own key order.
- Pops done by a blocking command are propagated in their non-blocking form
  (BLPOP -> LPOP key, BLMOVE -> LMOVE, BLMPOP -> LPOP key count), so replicas
  and the AOF never see a blocking command.
"""

from itertools import islice

from .. import resp
from ..errors import CommandError, WRONGTYPE, NO_SUCH_KEY, INDEX_OUT_OF_RANGE, SYNTAX, wrong_arity
from ..keyspace import ListValue
from ..resp import EMPTY_ARRAY, NULL_ARRAY, OK, Raw
from ..session import Block
from .args import clamp_range, parse_int, parse_timeout, INT64_MIN, INT64_MAX
from .table import command

HEAD, TAIL = 0, 1

POP_COUNT_RANGE = "ERR value is out of range, must be positive"
RANK_ZERO = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
COUNT_NEGATIVE = "ERR COUNT can't be negative"
MAXLEN_NEGATIVE = "ERR MAXLEN can't be negative"
NUMKEYS_RANGE = "ERR numkeys should be greater than 0"
MPOP_COUNT_RANGE = "ERR count should be greater than 0"

_POP_NAME = {HEAD: b"LPOP", TAIL: b"RPOP"}


# ---- helpers ---------------------------------------------------------


_BULK_HEADERS = [b"$%d\r\n" % n for n in range(1024)]


def _bulk_array(items, n) -> Raw:
    """An array of n bulk strings, encoded in one go (same bytes in RESP2 and RESP3).

    LRANGE is benchmarked: cached headers and plain appends beat formatting
    each element.
    """
    out = [b"*%d\r\n" % n]
    append = out.append
    headers = _BULK_HEADERS
    for x in items:
        try:
            append(headers[len(x)])
        except IndexError:
            append(b"$%d\r\n" % len(x))
        append(x)
        append(b"\r\n")
    return Raw(b"".join(out))


def _where(raw: bytes) -> int:
    low = raw.lower()
    if low == b"left":
        return HEAD
    if low == b"right":
        return TAIL
    raise CommandError(SYNTAX)


def _pop_many(lst, where, count) -> list:
    """Pop up to count elements from one end, in pop order."""
    n = len(lst)
    if count >= n:
        items = list(lst) if where == HEAD else list(reversed(lst))
        lst.clear()
        return items
    pop = lst.popleft if where == HEAD else lst.pop
    return [pop() for _ in range(count)]


def _propagate(c, *argvs):
    # Only when something listens: an unconsumed rewrite must not leak into
    # the propagation of a later command of this client.
    if c.node.propagate_listeners:
        c.propagate_as = list(argvs)


# ---- push ------------------------------------------------------------


@command("lpush", -3, "write denyoom fast", 1, 1, 1, group="list", since="1.0.0")
def lpush(c, argv):
    """Prepend one or multiple elements to a list"""
    db = c.db
    key = argv[1]
    lst = db.lookup(key)
    if lst is None:
        lst = ListValue()
        db.add_new(key, lst)
    elif lst.__class__ is not ListValue:
        raise CommandError(WRONGTYPE)
    if len(argv) == 3:
        lst.appendleft(argv[2])
    else:
        lst.extendleft(islice(argv, 2, None))
    db.grew(key)
    return len(lst)


@command("rpush", -3, "write denyoom fast", 1, 1, 1, group="list", since="1.0.0")
def rpush(c, argv):
    """Append one or multiple elements to a list"""
    db = c.db
    key = argv[1]
    lst = db.lookup(key)
    if lst is None:
        lst = ListValue()
        db.add_new(key, lst)
    elif lst.__class__ is not ListValue:
        raise CommandError(WRONGTYPE)
    if len(argv) == 3:
        lst.append(argv[2])
    else:
        lst.extend(islice(argv, 2, None))
    db.grew(key)
    return len(lst)


def _pushx(c, argv, where):
    lst = c.db.lookup_typed(argv[1], ListValue)
    if lst is None:
        return 0
    if where == HEAD:
        lst.extendleft(islice(argv, 2, None))
    else:
        lst.extend(islice(argv, 2, None))
    c.db.modified(argv[1])
    return len(lst)


@command("lpushx", -3, "write denyoom fast", 1, 1, 1, group="list", since="2.2.0")
def lpushx(c, argv):
    """Prepend an element to a list, only if the list exists"""
    return _pushx(c, argv, HEAD)


@command("rpushx", -3, "write denyoom fast", 1, 1, 1, group="list", since="2.2.0")
def rpushx(c, argv):
    """Append an element to a list, only if the list exists"""
    return _pushx(c, argv, TAIL)


@command("linsert", 5, "write denyoom", 1, 1, 1, group="list", since="2.2.0")
def linsert(c, argv):
    """Insert an element before or after another element in a list"""
    side = argv[2].lower()
    if side != b"before" and side != b"after":
        raise CommandError(SYNTAX)
    lst = c.db.lookup_typed(argv[1], ListValue)
    if lst is None:
        return 0
    try:
        i = lst.index(argv[3])
    except ValueError:
        return -1
    lst.insert(i if side == b"before" else i + 1, argv[4])
    c.db.modified(argv[1])
    return len(lst)


# ---- pop -------------------------------------------------------------


def _pop(c, argv, where):
    n = len(argv)
    if n == 2:
        db = c.db
        key = argv[1]
        lst = db.lookup(key)
        if lst is None:
            return None
        if lst.__class__ is not ListValue:
            raise CommandError(WRONGTYPE)
        item = lst.popleft() if where == HEAD else lst.pop()
        db.modified(key)
        return item
    if n > 3:
        raise wrong_arity(argv[0].decode("utf-8", "replace").lower())
    count = parse_int(argv[2], POP_COUNT_RANGE)
    if count < 0:
        raise CommandError(POP_COUNT_RANGE)
    lst = c.db.lookup_typed(argv[1], ListValue)
    if lst is None:
        return NULL_ARRAY
    if count == 0:
        return EMPTY_ARRAY
    items = _pop_many(lst, where, count)
    c.db.modified(argv[1])
    return _bulk_array(items, len(items))


@command("lpop", -2, "write fast", 1, 1, 1, group="list", since="1.0.0")
def lpop(c, argv):
    """Remove and get the first elements in a list"""
    return _pop(c, argv, HEAD)


@command("rpop", -2, "write fast", 1, 1, 1, group="list", since="1.0.0")
def rpop(c, argv):
    """Remove and get the last elements in a list"""
    return _pop(c, argv, TAIL)


def _move(c, src, dst, wherefrom, whereto):
    """LMOVE's serving half: the moved element, or None when src is empty.

    The destination's type is checked before popping, so a failed move
    leaves the source untouched. Both lists are looked up before the pop:
    with src == dst the element goes back onto the same list.
    """
    db = c.db
    source = db.lookup_typed(src, ListValue)
    if source is None:
        return None
    target = db.lookup_typed(dst, ListValue)
    item = source.popleft() if wherefrom == HEAD else source.pop()
    if target is None:
        target = ListValue()
        db.add_new(dst, target)
    if whereto == HEAD:
        target.appendleft(item)
    else:
        target.append(item)
    db.modified(dst)
    db.modified(src)
    return item


@command("lmove", 5, "write denyoom", 1, 2, 1, group="list", since="6.2.0")
def lmove(c, argv):
    """Pop an element from a list, push it to another list and return it"""
    wherefrom = _where(argv[3])
    whereto = _where(argv[4])
    return _move(c, argv[1], argv[2], wherefrom, whereto)


@command("rpoplpush", 3, "write denyoom", 1, 2, 1, group="list", since="1.2.0")
def rpoplpush(c, argv):
    """Remove the last element in a list, prepend it to another list and return it"""
    return _move(c, argv[1], argv[2], TAIL, HEAD)


def _parse_mpop(argv, numkeys_index):
    """numkeys, keys, LEFT/RIGHT and COUNT of LMPOP/BLMPOP, in Redis's order: (keys, where, count)."""
    numkeys = parse_int(argv[numkeys_index], NUMKEYS_RANGE)
    if numkeys < 1:
        raise CommandError(NUMKEYS_RANGE)
    where_index = numkeys_index + numkeys + 1
    if where_index >= len(argv):
        raise CommandError(SYNTAX)
    where = _where(argv[where_index])
    count = None
    j = where_index + 1
    while j < len(argv):
        # COUNT may be given once; anything else (or a repeat) is a syntax error.
        if count is None and argv[j].lower() == b"count" and j + 1 < len(argv):
            count = parse_int(argv[j + 1], MPOP_COUNT_RANGE)
            if count < 1:
                raise CommandError(MPOP_COUNT_RANGE)
            j += 2
        else:
            raise CommandError(SYNTAX)
    return argv[numkeys_index + 1:where_index], where, count or 1


def _mpop_serve(c, key, lst, where, count):
    """Pop up to count elements from lst as [key, [elements]], propagated as [LR]POP key n."""
    items = _pop_many(lst, where, count)
    c.db.modified(key)
    _propagate(c, [_POP_NAME[where], key, b"%d" % len(items)])
    return [key, items]


def _first_list(db, keys):
    """(key, list) for the first key holding a non-empty list; WRONGTYPE on the way."""
    for key in keys:
        lst = db.lookup_typed(key, ListValue)
        if lst:
            return key, lst
    return None, None


def _mpop_keys(numkeys_index):
    """key_finder for LMPOP/BLMPOP: the keys counted by numkeys, none when malformed."""

    def find(argv):
        try:
            n = int(argv[numkeys_index])
        except (ValueError, IndexError):
            return []
        if n < 1 or numkeys_index + n >= len(argv):
            return []
        return list(range(numkeys_index + 1, numkeys_index + 1 + n))

    return find


@command("lmpop", -4, "write movablekeys", 0, 0, 0, group="list", since="7.0.0", key_finder=_mpop_keys(1))
def lmpop(c, argv):
    """Pop elements from a list"""
    keys, where, count = _parse_mpop(argv, 1)
    key, lst = _first_list(c.db, keys)
    if lst is None:
        return NULL_ARRAY
    return _mpop_serve(c, key, lst, where, count)


# ---- read and edit in place ------------------------------------------


@command("llen", 2, "readonly fast", 1, 1, 1, group="list", since="1.0.0")
def llen(c, argv):
    """Get the length of a list"""
    lst = c.db.lookup_typed(argv[1], ListValue)
    return 0 if lst is None else len(lst)


@command("lrange", 4, "readonly", 1, 1, 1, group="list", since="1.0.0")
def lrange(c, argv):
    """Get a range of elements from a list"""
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    lst = c.db.lookup_typed(argv[1], ListValue)
    if lst is None:
        return EMPTY_ARRAY
    n = len(lst)
    span = clamp_range(start, end, n)
    if span is None:
        return EMPTY_ARRAY
    start, end = span
    count = end - start + 1
    # Walk in from the nearer end: a deque reaches an index by iterating.
    if start <= n - 1 - end:
        return _bulk_array(islice(lst, start, end + 1), count)
    items = list(islice(reversed(lst), n - 1 - end, n - start))
    items.reverse()
    return _bulk_array(items, count)


@command("lindex", 3, "readonly", 1, 1, 1, group="list", since="1.0.0")
def lindex(c, argv):
    """Get an element from a list by its index"""
    lst = c.db.lookup_typed(argv[1], ListValue)
    if lst is None:
        return None
    index = parse_int(argv[2])
    n = len(lst)
    if index < 0:
        index += n
    if not 0 <= index < n:
        return None
    return lst[index]


@command("lset", 4, "write denyoom", 1, 1, 1, group="list", since="1.0.0")
def lset(c, argv):
    """Set the value of an element in a list by its index"""
    lst = c.db.lookup_typed(argv[1], ListValue)
    if lst is None:
        raise CommandError(NO_SUCH_KEY)
    index = parse_int(argv[2])
    n = len(lst)
    if index < 0:
        index += n
    if not 0 <= index < n:
        raise CommandError(INDEX_OUT_OF_RANGE)
    lst[index] = argv[3]
    c.db.modified(argv[1])
    return OK


def _remove_all(lst, elem) -> int:
    if elem not in lst:
        return 0
    kept = [x for x in lst if x != elem]
    removed = len(lst) - len(kept)
    lst.clear()
    lst.extend(kept)
    return removed


def _remove_some(lst, elem, limit, from_tail) -> int:
    """Remove up to `limit` matches scanning from one end."""
    if limit <= 16:
        # Few removals: deque.remove scans and deletes in C.
        if from_tail:
            lst.reverse()
        removed = 0
        try:
            while removed < limit:
                lst.remove(elem)
                removed += 1
        except ValueError:
            pass
        if from_tail:
            lst.reverse()
        return removed
    kept = []
    removed = 0
    for x in reversed(lst) if from_tail else lst:
        if removed < limit and x == elem:
            removed += 1
        else:
            kept.append(x)
    if removed:
        if from_tail:
            kept.reverse()
        lst.clear()
        lst.extend(kept)
    return removed


@command("lrem", 4, "write", 1, 1, 1, group="list", since="1.0.0")
def lrem(c, argv):
    """Remove elements from a list"""
    count = parse_int(argv[2])
    lst = c.db.lookup_typed(argv[1], ListValue)
    if lst is None:
        return 0
    if count == 0:
        removed = _remove_all(lst, argv[3])
    else:
        removed = _remove_some(lst, argv[3], abs(count), count < 0)
    if removed:
        c.db.modified(argv[1])
    return removed


@command("ltrim", 4, "write", 1, 1, 1, group="list", since="1.0.0")
def ltrim(c, argv):
    """Trim a list to the specified range"""
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    lst = c.db.lookup_typed(argv[1], ListValue)
    if lst is None:
        return OK
    n = len(lst)
    span = clamp_range(start, end, n)
    if span is None:
        lst.clear()
    else:
        start, end = span
        right = n - 1 - end
        if start + right <= end - start + 1:
            # Trimming less than is kept (the capped-list idiom): pop the ends.
            for _ in range(start):
                lst.popleft()
            for _ in range(right):
                lst.pop()
        else:
            kept = list(islice(lst, start, end + 1))
            lst.clear()
            lst.extend(kept)
    c.db.modified(argv[1])
    if len(lst) == n:
        # Redis signals the key even when nothing was trimmed (a WATCH breaks)
        # but counts no change, so nothing is propagated.
        c.db.space.dirty -= 1
    return OK


def _parse_lpos_options(argv):
    """(rank, count, maxlen); count None when COUNT was not given."""
    rank, count, maxlen = 1, None, 0
    j = 3
    n = len(argv)
    while j < n:
        opt = argv[j].lower()
        if j + 1 >= n or opt not in (b"rank", b"count", b"maxlen"):
            raise CommandError(SYNTAX)
        raw = argv[j + 1]
        if opt == b"rank":
            rank = parse_int(raw)
            if rank == 0:
                raise CommandError(RANK_ZERO)
        elif opt == b"count":
            count = _nonneg(raw, COUNT_NEGATIVE)
        else:
            maxlen = _nonneg(raw, MAXLEN_NEGATIVE)
        j += 2
    return rank, count, maxlen


def _nonneg(raw, error):
    value = parse_int(raw, error)
    if value < 0:
        raise CommandError(error)
    return value


def _lpos_forward(lst, elem, skip, want, stop) -> list:
    found = []
    index = lst.index
    pos = 0
    while len(found) < want:
        try:
            i = index(elem, pos, stop)
        except ValueError:
            break
        if skip:
            skip -= 1
        else:
            found.append(i)
        pos = i + 1
    return found


def _lpos_backward(lst, elem, skip, want, stop) -> list:
    found = []
    last = len(lst) - 1
    for j, x in enumerate(islice(reversed(lst), stop)):
        if x == elem:
            if skip:
                skip -= 1
                continue
            found.append(last - j)
            if len(found) >= want:
                break
    return found


@command("lpos", -3, "readonly", 1, 1, 1, group="list", since="6.0.6")
def lpos(c, argv):
    """Return the index of matching elements on a list"""
    rank, count, maxlen = _parse_lpos_options(argv)
    lst = c.db.lookup_typed(argv[1], ListValue)
    if lst is None:
        return EMPTY_ARRAY if count is not None else None
    want = 1 if count is None else (count or INT64_MAX)
    if rank == INT64_MIN:
        # Redis negates the rank in a C long: -LONG_MIN stays LONG_MIN, so every
        # match from the tail qualifies and the COUNT limit never triggers.
        rank, want = -1, (1 if count is None else INT64_MAX)
    stop = len(lst) if maxlen == 0 else min(maxlen, len(lst))
    scan = _lpos_forward if rank > 0 else _lpos_backward
    found = scan(lst, argv[2], abs(rank) - 1, want, stop)
    if count is not None:
        return found
    return found[0] if found else None


# ---- blocking --------------------------------------------------------


def _ready_list(c, keys):
    """(key, list) to serve a blocked client from, or (None, None).

    Prefer the key that was signalled ready (as Redis 7.0 does); otherwise the
    first non-empty list in the client's key order. Keys now holding another
    type are skipped: the client stays blocked on them.
    """
    db = c.db
    blk = c.blocked
    hint = getattr(blk, "ready_key", None)
    if hint is not None:
        lst = db.lookup(hint)
        if lst.__class__ is ListValue and lst:
            return hint, lst
    for key in keys:
        lst = db.lookup(key)
        if lst.__class__ is ListValue and lst:
            return key, lst
    return None, None


def _bpop_serve(c, key, lst, where):
    item = lst.popleft() if where == HEAD else lst.pop()
    c.db.modified(key)
    _propagate(c, [_POP_NAME[where], key])
    return [key, item]


def _block_pop(c, keys, timeout, where, count):
    """Block on keys for a pop (count None: BLPOP/BRPOP shape; else BLMPOP shape)."""
    keys = list(dict.fromkeys(keys))

    def retry(client):
        key, lst = _ready_list(client, keys)
        if lst is None:
            return None
        if count is None:
            return _bpop_serve(client, key, lst, where)
        return _mpop_serve(client, key, lst, where, count)

    return Block(keys, timeout, retry, NULL_ARRAY)


def _bpop(c, argv, where):
    timeout = parse_timeout(argv[-1])
    keys = argv[1:-1]
    key, lst = _first_list(c.db, keys)
    if lst is not None:
        return _bpop_serve(c, key, lst, where)
    if c.in_exec:
        return NULL_ARRAY
    return _block_pop(c, keys, timeout, where, None)


@command("blpop", -3, "write noscript blocking", 1, -2, 1, group="list", since="2.0.0")
def blpop(c, argv):
    """Remove and get the first element in a list, or block until one is available"""
    return _bpop(c, argv, HEAD)


@command("brpop", -3, "write noscript blocking", 1, -2, 1, group="list", since="2.0.0")
def brpop(c, argv):
    """Remove and get the last element in a list, or block until one is available"""
    return _bpop(c, argv, TAIL)


@command("blmpop", -5, "write blocking movablekeys", 0, 0, 0, group="list", since="7.0.0", key_finder=_mpop_keys(2))
def blmpop(c, argv):
    """Pop elements from a list, or block until one is available"""
    keys, where, count = _parse_mpop(argv, 2)
    timeout = parse_timeout(argv[1])
    key, lst = _first_list(c.db, keys)
    if lst is not None:
        return _mpop_serve(c, key, lst, where, count)
    if c.in_exec:
        return NULL_ARRAY
    return _block_pop(c, keys, timeout, where, count)


def _bmove(c, argv, wherefrom, whereto, timeout, rewrite):
    """BLMOVE/BRPOPLPUSH after argument parsing; `rewrite` is the argv to propagate."""
    src, dst = argv[1], argv[2]
    if c.db.lookup_typed(src, ListValue) is not None:
        item = _move(c, src, dst, wherefrom, whereto)
        _propagate(c, rewrite)
        return item
    if c.in_exec:
        # Not allowed to block: the non-blocking answer is LMOVE's null bulk.
        return None

    def retry(client):
        lst = client.db.lookup(src)
        if lst.__class__ is not ListValue or not lst:
            return None
        try:
            item = _move(client, src, dst, wherefrom, whereto)
        except CommandError as e:
            # Redis unblocks the client with the error and leaves src untouched.
            return resp.error(e.text)
        _propagate(client, rewrite)
        return item

    # The timeout reply is a null array even here: Redis 7.0 answers every
    # timed-out list blocker the same way.
    return Block([src], timeout, retry, NULL_ARRAY)


@command("blmove", 6, "write denyoom noscript blocking", 1, 2, 1, group="list", since="6.2.0")
def blmove(c, argv):
    """Pop an element from a list, push it to another list and return it; or block until one is available"""
    wherefrom = _where(argv[3])
    whereto = _where(argv[4])
    timeout = parse_timeout(argv[5])
    return _bmove(c, argv, wherefrom, whereto, timeout, [b"LMOVE", argv[1], argv[2], argv[3], argv[4]])


@command("brpoplpush", 4, "write denyoom noscript blocking", 1, 2, 1, group="list", since="2.2.0")
def brpoplpush(c, argv):
    """Pop an element from a list, push it to another list and return it; or block until one is available"""
    timeout = parse_timeout(argv[3])
    return _bmove(c, argv, TAIL, HEAD, timeout, [b"RPOPLPUSH", argv[1], argv[2]])
