"""Request parsing: hiredis for the common case, a strict Python parser for everything else.

Theory of operation
-------------------
hiredis parses well-formed multibulk requests at C speed but knows nothing of
Redis's server-side rules and does not say where a request ended. So:

* The reader tracks *boundaries* itself: where the last request hiredis
  returned ends, exactly (`_requests_end`: hiredis reads only canonical
  headers, so in a chunk without RESP3 type bytes the requests took their
  canonical encoding's bytes; a copy of an encoding inside a payload is never
  taken for the request). A chunk holding such a byte anywhere must hold the
  requests' canonical encoding (`_canonical_end`): after the two bytes a
  payload skips unread, "+x" starts no line yet is a header to Redis.
  Chunks fed since the last boundary are kept (up to WINDOW_LIMIT bytes) with
  the number of requests already returned from them.
* Anything hiredis would get wrong switches to the Python parser
  (`RedisParser`), which implements Redis's processInlineBuffer and
  processMultibulkBuffer byte for byte: a request that does not start with
  `*` at a boundary (inline commands), a non-bulk element, a line starting
  with a RESP3 type byte that hiredis reads like `*` or `$` (`~`, `+`, ...),
  a hiredis protocol error, a suspiciously long header, an unfinished request
  that Redis would already judge. The switch re-parses the kept window,
  skips the requests already returned, and carries on in Python until its
  buffer is empty at a boundary; then hiredis takes over again.
* Unauthenticated clients (when a password is required) always use the Python
  parser, which enforces Redis's tighter limits for them.

`feed` returns the complete requests and, when the stream is broken, a
Failure: the error to send (or None: close silently, as for the query buffer
limit) before closing.
"""

import re
from itertools import chain

import hiredis

from .resp import encode_command

MAX_INLINE = 64 * 1024  # PROTO_INLINE_MAX_SIZE
MAX_MULTIBULK = 2**31 - 1  # INT_MAX
# hiredis preallocates a list of the announced size: larger counts go to the Python
# parser, which (like Redis) only grows the request as elements arrive.
HIREDIS_MAX_MULTIBULK = 1024 * 1024
UNAUTH_MAX_MULTIBULK = 10
UNAUTH_MAX_BULK = 16384
WINDOW_LIMIT = 8 * 1024 * 1024
DRY_RUN_BYTES = 64 * 1024  # of an unfinished request, read by Redis's rules to compare
_SPACE = b" \t\n\v\f\r"
_HEX = b"0123456789abcdefABCDEF"
# Bulk lengths of seven digits or more: hiredis would wait for the data, where Redis may refuse
# them at once (the limits are at least 1 MB). Counts too: see _SHAPE.
_SEVEN_DIGIT_BULK = re.compile(rb"\$\d{7}")
# RESP3 type bytes hiredis accepts where Redis requires "*" (a request) or "$" (an argument).
# ("%", a map, reads as a dict, which passes the bulk-strings check as its keys would.)
_ODD_TYPE_SET = b"+~>|=(%"
# One pass tells a chunk's shape: every digit becomes "0" and every odd type byte "+". Then a
# "+" is an odd byte, and "*0000000" a count of seven digits or more, which hiredis would
# preallocate a list for (Redis refuses a count over its limit, or grows the request).
_SHAPE = bytes.maketrans(b"0123456789" + _ODD_TYPE_SET, b"0" * 10 + b"+" * len(_ODD_TYPE_SET))
_LONG_COUNT_SHAPE = b"*0000000"
_ODD_IN_SHAPE = ord("+")  # (an int: `in` then scans as memchr does, 8x faster than with b"+")
_ARRAY_HEADER_SIZE = [len(b"*%d\r\n" % n) for n in range(1024)]
_BULK_SIZE = [len(b"$%d\r\n" % n) + n + 2 for n in range(1024)]
_ODD_LINE_START = re.compile(rb"\n[" + re.escape(_ODD_TYPE_SET) + rb"]")
_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}


class Failure:
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text  # None: close without a reply


class NeedMore(Exception):
    pass


class RequestReader:
    __slots__ = ("_reader", "_window", "_window_bytes", "_done", "_slow", "_pending_from", "max_bulk", "query_limit", "authenticated")

    def __init__(self, max_bulk: int = 512 * 1024 * 1024, query_limit: int = 1024**3, authenticated: bool = True):
        self._reader = hiredis.Reader()
        self._window = []  # chunks since the last boundary (None: dropped, too large)
        self._window_bytes = 0
        self._done = 0  # requests returned since the last boundary
        self._slow = None  # bytes buffered by the Python parser while it is in charge
        self._pending_from = 0  # where in the window the unfinished request starts
        self.max_bulk = max_bulk
        self.query_limit = query_limit
        self.authenticated = authenticated

    def feed(self, data: bytes):
        """Parse a chunk. Returns (requests, failure or None)."""
        if self._slow is not None or not self.authenticated:
            return self._feed_slow(data)
        if self._window_bytes == 0 and data[0] != 42:
            return self._feed_slow(data)  # inline, or junk: Redis's rules apply
        shape = data.translate(_SHAPE)
        if self._long_count(data, shape):
            # hiredis would preallocate a list of that size: the Python parser grows it as
            # elements arrive (or refuses the count), as Redis does.
            return self._recover([], data)
        self._reader.feed(data)
        window = self._window
        if window is not None:
            window.append(data)
        self._window_bytes += len(data)
        try:
            requests = list(iter(self._reader.gets, False))
        except Exception:  # noqa: BLE001  a protocol error, or a map hiredis cannot build (a list as key)
            # The Python parser reads the window again, past the requests already returned.
            return self._recover([], None)
        # *-1 or *0 (Redis skips them), not a request at all, or an argument that is not a bulk
        # string (join refuses integers, arrays, nulls and a request that is a string): Redis's
        # rules read the chunk again (none of its requests is kept: one before may hold what
        # Redis refuses, "="). A map passes join, but "%" is an odd type byte (below).
        if not all(requests):
            return self._recover([], None)
        try:
            for request in requests:
                _join(request)
        except TypeError:
            return self._recover([], None)
        began = self._window_bytes - len(data)  # where this chunk starts in the window
        # The requests whose "*" this chunk holds (one begun in an earlier chunk comes first).
        headed = len(requests) - 1 if began and requests else len(requests)
        # A RESP3 type byte hiredis reads like "*" (a request: "~", ">", or "|", an attribute
        # it skips) or like "$" (an argument: "+", "=", "("), where Redis reads an inline
        # command or refuses the element. One pass that drops them rules out most chunks.
        # (A window too large to keep was read by Redis's rules as it arrived, in _odd_partial.)
        odd = self._window is not None and _ODD_IN_SHAPE in shape
        if odd and (data[0] in _ODD_TYPE_SET or _ODD_LINE_START.search(data) is not None):
            return self._recover([], None)
        self._done += len(requests)
        if odd:
            end = self._canonical_end(requests)
        elif requests and data.count(b"*") == headed:
            end = self._window_bytes  # the usual chunk, at a boundary (see _requests_end)
        else:
            end = self._requests_end(requests)
        if end is None:
            # Read from bytes that are not the requests' canonical encoding, where an odd byte
            # could be a header (after the two bytes a payload skips unread): Redis's rules decide.
            return self._recover([], None, skip=self._done - len(requests))
        if end == self._window_bytes:
            if self._window_bytes > self.max_bulk and self._long_bulk(data):
                # Only a window this large can hold a complete bulk over the limit.
                return self._recover([], None, skip=self._done - len(requests))
            self._at_boundary()
        else:
            self._pending_from = end
            start = max(end - began, 0)  # the unfinished request, in this chunk
            if self._odd_partial(data, start):
                return self._recover([], None, skip=self._done - len(requests))
            if self._window_bytes > WINDOW_LIMIT:
                self._window = None
        if self._window_bytes > self.query_limit:
            return requests, Failure(None)
        return requests, None

    def _requests_end(self, requests) -> int:
        """Where in the window the last complete request ends (the unfinished one starts), for
        a chunk without RESP3 type bytes: hiredis then read only canonical headers ("$4", never
        "$04") and bulks, so the requests took their canonical encoding's bytes from
        _pending_from on (the two bytes after a payload are skipped unread, whatever they are).
        The usual chunk is told without the sum, in feed: when its only "*" are the headers of the
        complete requests it holds (`headed`: each is a "*", no array is an argument), no
        request began after them, so the chunk ends at a boundary. (A shortcut for a chunk cut
        mid-request, "the last "*" right after the last request's encoding", was dropped: a
        payload ending with a copy of a request's encoding followed by that request with
        unusual skipped bytes fools it.)"""
        return self._pending_from + _encoded_size(requests)

    def _canonical_end(self, requests):
        """_requests_end for a chunk holding RESP3 type bytes (none at a line start): the end,
        if the window holds the requests' canonical encoding from _pending_from on, else None."""
        if not requests:
            return self._pending_from
        encoded = _join(map(encode_command, requests))
        held = _tail(self._window, self._window_bytes, self._pending_from, len(encoded))
        return self._pending_from + len(encoded) if held[: len(encoded)] == encoded else None

    def _at_boundary(self):
        self._pending_from = 0
        self._window = []
        self._window_bytes = 0
        self._done = 0

    def _odd_partial(self, data: bytes, start: int) -> bool:
        """Whether Redis would already judge the unfinished request (from `start` in this
        chunk, from _pending_from in the window), where hiredis waits for more: a bulk length
        over the limit (hiredis reads what follows as its payload), or anything Redis's rules
        refuse or read differently (a line no request can hold, a request not starting with
        "*", a header line ended by a lone "\r")."""
        if self._long_bulk(data, start):
            return True
        window = self._window
        if window is None:
            return False
        unfinished = _tail(window, self._window_bytes, self._pending_from, DRY_RUN_BYTES)
        if not unfinished:
            return False
        parser = RedisParser(unfinished, self.max_bulk, self.authenticated)
        try:
            parser.next_request()
        except NeedMore:
            return False  # Redis waits too
        except ProtocolFailure:
            return True
        return True  # complete for Redis, not for hiredis

    def _long_count(self, data: bytes, shape: bytes) -> bool:
        """A count over what hiredis may preallocate, in a header of the chunk (shape: see
        _SHAPE). A payload that merely looks like such a header only costs the slower parse."""
        pos = shape.find(_LONG_COUNT_SHAPE)
        while pos >= 0:
            if self._too_big(data, pos):
                return True
            pos = shape.find(_LONG_COUNT_SHAPE, pos + 1)
        return False

    def _long_bulk(self, data: bytes, start: int = 0) -> bool:
        """A bulk length over the limit in a header of the chunk from `start` on: Redis refuses
        it at once, where hiredis would wait for its data (or has read it, in a large window).
        A payload that merely looks like such a header only costs the slower parse."""
        for m in _SEVEN_DIGIT_BULK.finditer(data, start):  # the limit is at least 1 MB
            if self._too_big(data, m.start()):
                return True
        return False

    def _too_big(self, data: bytes, pos: int) -> bool:
        end = data.find(b"\r", pos)
        digits = data[pos + 1 : end if end > 0 else len(data)]
        if not digits.isdigit():
            return False
        return int(digits) > (self.max_bulk if data[pos] == 36 else HIREDIS_MAX_MULTIBULK)

    def _recover(self, requests, data, skip=None):
        """Hand the stream since the last boundary to the Python parser, skipping what ran.

        `requests` were parsed in this call and are kept; `skip` says how many
        requests since the boundary the parser must pass over (default: all
        that hiredis returned, these included)."""
        if self._window is None:
            return requests, Failure("Protocol error: invalid request (could not resynchronize)")
        buf = b"".join(self._window) + (data or b"")
        if skip is None:
            skip = self._done
        self._reader = hiredis.Reader()
        self._at_boundary()
        parser = RedisParser(buf, self.max_bulk, self.authenticated)
        for _ in range(skip):
            parser.next_request()
        more, failure = self._run_parser(parser)
        return requests + more, failure

    def _feed_slow(self, data: bytes):
        if self._slow is None:
            self._slow = bytearray(data)
        else:
            self._slow += data  # amortized: a large request arriving in pieces is not re-copied
        return self._run_parser(RedisParser(self._slow, self.max_bulk, self.authenticated))

    def _run_parser(self, parser):
        """Take every complete request the Python parser finds; keep the rest for later.

        The Python parser stays in charge until its buffer empties at a request
        boundary; the next chunk then goes to hiredis again."""
        requests = []
        failure = None
        while True:
            try:
                request = parser.next_request()
            except NeedMore:
                break
            except ProtocolFailure as e:
                failure = Failure(str(e))
                break
            if request is None:
                break
            if request:
                requests.append(request)
            if not self.authenticated and requests:
                # AUTH may lift the limits for what follows: the caller runs this one, then
                # calls feed(b"") for the rest (see `backlog`).
                break
        if failure is not None:
            self._slow = None
            return requests, failure
        buf = parser.buf
        if parser.pos >= len(buf):
            self._slow = None
        else:
            if not isinstance(buf, bytearray):
                buf = bytearray(buf)
            del buf[: parser.pos]
            self._slow = buf
            if len(buf) > self.query_limit:
                return requests, Failure(None)
        return requests, None

    @property
    def backlog(self) -> bool:
        """Unparsed bytes are waiting that may hold complete requests (see feed(b""))."""
        return bool(self._slow)


_join = b"".join


def _tail(window, end: int, offset: int, limit: int) -> bytes:
    """Up to `limit` bytes of the window's chunks from `offset` on (`end`: the window's size).
    Walks back from the last chunk, where an unfinished request usually starts."""
    if offset >= end:
        return b""
    i, pos = len(window), end
    while pos > offset:
        i -= 1
        pos -= len(window[i])
    pieces = [window[i][offset - pos :]]
    got = len(pieces[0])
    for j in range(i + 1, len(window)):
        if got >= limit:
            break
        pieces.append(window[j])
        got += len(window[j])
    return (pieces[0] if len(pieces) == 1 else b"".join(pieces))[:limit]


def _encoded_size(requests) -> int:
    """Bytes of the requests' canonical encoding (as encode_command), without encoding them."""
    try:
        return sum(map(_ARRAY_HEADER_SIZE.__getitem__, map(len, requests))) + sum(map(_BULK_SIZE.__getitem__, map(len, chain.from_iterable(requests))))
    except IndexError:  # a count or an argument of 1024 or more
        return sum(len(encode_command(request)) for request in requests)


class ProtocolFailure(Exception):
    pass


class RedisParser:
    """Redis's request parsing rules (networking.c), over one buffer."""

    __slots__ = ("buf", "pos", "max_bulk", "authenticated")

    def __init__(self, buf: bytes, max_bulk: int, authenticated: bool):
        self.buf = buf
        self.pos = 0
        self.max_bulk = max_bulk
        self.authenticated = authenticated

    def next_request(self):
        """The next complete request (a list, maybe empty), None at the end, NeedMore if partial."""
        if self.pos >= len(self.buf):
            return None
        if self.buf[self.pos] == 42:
            return self._multibulk()
        return self._inline()

    def _inline(self):
        buf, pos = self.buf, self.pos
        nl = buf.find(b"\n", pos)
        if buf.find(b"\x00", pos, nl if nl >= 0 else len(buf)) >= 0:
            nl = -1  # strchr stops at a NUL
        if nl < 0:
            if len(buf) - pos > MAX_INLINE:
                raise ProtocolFailure("Protocol error: too big inline request")
            raise NeedMore()
        line = bytes(buf[pos:nl])
        if line.endswith(b"\r"):
            line = line[:-1]
        self.pos = nl + 1
        args = split_args(line)
        if args is None:
            raise ProtocolFailure("Protocol error: unbalanced quotes in request")
        return args

    def _line(self, too_big: str):
        """(start, end) of the header line at pos; its \\r\\n must be complete."""
        buf, pos = self.buf, self.pos
        cr = buf.find(b"\r", pos)
        if buf.find(b"\x00", pos, cr if cr >= 0 else len(buf)) >= 0:
            cr = -1  # strchr stops at a NUL
        if cr < 0:
            if len(buf) - pos > MAX_INLINE:
                raise ProtocolFailure(too_big)
            raise NeedMore()
        if cr + 1 >= len(buf):
            raise NeedMore()
        return pos, cr

    def _multibulk(self):
        start_pos = self.pos
        start, cr = self._line("Protocol error: too big mbulk count string")
        count = _string2ll(self.buf[start + 1 : cr])
        if count is None or count > MAX_MULTIBULK:
            raise ProtocolFailure("Protocol error: invalid multibulk length")
        if not self.authenticated and count > UNAUTH_MAX_MULTIBULK:
            raise ProtocolFailure("Protocol error: unauthenticated multibulk length")
        self.pos = cr + 2
        args = []
        try:
            for _ in range(max(count, 0)):
                args.append(self._bulk())
        except NeedMore:
            self.pos = start_pos
            raise
        return args

    def _bulk(self):
        start, cr = self._line("Protocol error: too big bulk count string")
        buf = self.buf
        if buf[start] != 36:
            raise ProtocolFailure("Protocol error: expected '$', got '%s'" % _shown(buf[start]))
        size = _string2ll(buf[start + 1 : cr])
        if size is None or size < 0 or size > self.max_bulk:
            raise ProtocolFailure("Protocol error: invalid bulk length")
        if not self.authenticated and size > UNAUTH_MAX_BULK:
            raise ProtocolFailure("Protocol error: unauthenticated bulk length")
        begin = cr + 2
        # Redis skips the two bytes after the payload without checking them.
        if begin + size + 2 > len(buf):
            raise NeedMore()
        self.pos = begin + size + 2
        return bytes(buf[begin : begin + size])


def _shown(byte: int) -> str:
    ch = chr(byte)
    return " " if ch in "\r\n" else ch


def _string2ll(raw: bytes):
    """Redis's string2ll: canonical decimal, optional '-', 64-bit range; None otherwise."""
    if not raw or len(raw) > 20:
        return None
    try:
        value = int(raw)
    except ValueError:
        return None
    if b"%d" % value != raw or not -(2**63) <= value < 2**63:
        return None
    return value


def split_args(line: bytes):
    """sdssplitargs: split an inline line with Redis's quoting rules; None if unbalanced."""
    nul = line.find(b"\x00")
    if nul >= 0:
        line = line[:nul]  # C string semantics: a NUL ends the line
    args, i, n = [], 0, len(line)
    while True:
        while i < n and line[i] in _SPACE:
            i += 1
        if i >= n:
            return args
        current = bytearray()
        in_dq = in_sq = False
        while True:
            if i >= n:
                if in_dq or in_sq:
                    return None
                break
            ch = line[i]
            if in_dq:
                if ch == 92 and i + 3 < n and line[i + 1] == 120 and line[i + 2] in _HEX and line[i + 3] in _HEX:
                    current.append(int(line[i + 2 : i + 4], 16))
                    i += 3
                elif ch == 92 and i + 1 < n:
                    i += 1
                    current.append(_ESCAPES.get(line[i], line[i]))
                elif ch == 34:
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        return None
                    i += 1
                    break
                else:
                    current.append(ch)
            elif in_sq:
                if ch == 92 and i + 1 < n and line[i + 1] == 39:
                    i += 1
                    current.append(39)
                elif ch == 39:
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        return None
                    i += 1
                    break
                else:
                    current.append(ch)
            elif ch in b" \n\r\t":
                break
            elif ch == 34:
                in_dq = True
            elif ch == 39:
                in_sq = True
            else:
                current.append(ch)
            i += 1
        args.append(bytes(current))
