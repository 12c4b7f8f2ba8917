"""Request parsing: RESP multibulk through hiredis, inline commands and Redis's errors in Python.

Theory of operation
-------------------
hiredis parses well-formed multibulk requests at C speed. It knows nothing of
Redis's server-side rules, so three things happen around it:

* Inline commands (`PING\\r\\n`, telnet) are split here. A chunk is taken as
  inline when hiredis holds no partial request and the chunk does not start
  with `*` (or `$`, which can only continue a multibulk).
* Sizes are checked before hiredis sees them: a multibulk count above 1M or a
  bulk length above proto-max-bulk-len would otherwise make hiredis wait for
  (or preallocate for) that much. A regex finds long headers in each chunk and
  their values are checked exactly.
* Each parsed request is checked to hold only bulk strings.

Errors carry Redis's text; the caller replies with it and closes the connection.
"""

import re

import hiredis

from .config import split_line, ConfigError
from .errors import ProtocolError

MAX_MULTIBULK = 1024 * 1024
MAX_INLINE = 64 * 1024


class RequestReader:
    __slots__ = ("_reader", "max_bulk", "query_limit", "_pending", "_inline")

    def __init__(self, max_bulk: int = 512 * 1024 * 1024, query_limit: int = 1024**3):
        self._reader = hiredis.Reader()
        self.max_bulk = max_bulk
        self.query_limit = query_limit
        self._pending = 0  # bytes fed since the last complete request
        self._inline = b""  # an incomplete inline line

    def feed(self, data: bytes):
        """Parse a chunk. Returns (requests, error): the requests before any error, and
        the protocol error text (or None)."""
        if self._inline or (data[:1] not in (b"*", b"$") and not self._reader.has_data() and self._pending == 0):
            return self._feed_inline(data)
        error = self._check_headers(data)
        if error:
            return [], error
        self._reader.feed(data)
        return self._drain(len(data))

    def _drain(self, fed: int):
        requests = []
        gets = self._reader.gets
        try:
            while True:
                request = gets()
                if request is False:
                    break
                if request.__class__ is not list:
                    if request is None:
                        continue  # *-1: Redis ignores a null multibulk
                    return requests, "Protocol error: expected '*', got '%s'" % _first_byte(request)
                for arg in request:
                    if arg.__class__ is not bytes:
                        return requests, "Protocol error: expected '$', got '%s'" % _type_byte(arg)
                if request:
                    requests.append(request)
        except hiredis.ProtocolError as e:
            return requests, _redis_error_text(str(e))
        if requests and not self._reader.has_data():
            self._pending = 0
        else:
            self._pending += fed
            if self._pending > self.query_limit:
                return requests, "Protocol error: query buffer limit reached"
        return requests, None

    def _check_headers(self, data: bytes):
        """Refuse oversized multibulk counts and bulk lengths before hiredis waits for them.

        Only the first and last headers of a chunk are looked at (two C-speed
        finds): a request that spans chunks has its header at one of those
        ends. hiredis allocates lazily, so a header hidden in the middle costs
        no memory; its data is bounded by client-query-buffer-limit.
        """
        for pos in (data.find(b"*"), data.rfind(b"*"), data.rfind(b"$")):
            if pos >= 0 and data[pos + 1 : pos + 8].isdigit():
                end = data.find(b"\r", pos)
                digits = data[pos + 1 : end if end > 0 else len(data)]
                if not digits.isdigit():
                    continue
                if data[pos] == 42 and int(digits) > MAX_MULTIBULK:
                    return "Protocol error: invalid multibulk length"
                if data[pos] == 36 and int(digits) > self.max_bulk:
                    return "Protocol error: invalid bulk length"
        return None

    def _feed_inline(self, data: bytes):
        buf = self._inline + data
        requests = []
        while buf:
            if buf[:1] == b"*":
                self._inline = b""
                more, error = self.feed(buf)
                return requests + more, error
            nl = buf.find(b"\n")
            if nl < 0:
                if len(buf) > MAX_INLINE:
                    return requests, "Protocol error: too big inline request"
                self._inline = buf
                return requests, None
            line, buf = buf[:nl], buf[nl + 1 :]
            if line.endswith(b"\r"):
                line = line[:-1]
            try:
                parts = split_inline(line)
            except ValueError:
                return requests, "Protocol error: unbalanced quotes in request"
            if parts:
                requests.append(parts)
        self._inline = b""
        return requests, None


def split_inline(line: bytes):
    """Split an inline request like Redis's sdssplitargs (quotes, escapes)."""
    if b'"' not in line and b"'" not in line:
        return line.split()
    try:
        return [p.encode("latin-1") for p in split_line(line.decode("latin-1"))]
    except ConfigError:
        raise ValueError("unbalanced quotes") from None


def _first_byte(value) -> str:
    if isinstance(value, bytes):
        return "$"
    return _type_byte(value)


def _type_byte(value) -> str:
    if isinstance(value, int):
        return ":"
    if isinstance(value, list):
        return "*"
    if value is None:
        return "$"
    if isinstance(value, float):
        return ","
    return "+"


def _redis_error_text(hiredis_text: str) -> str:
    """Map hiredis's parse errors to the texts Redis sends for the same input."""
    low = hiredis_text.lower()
    if "bulk" in low and "multi" not in low:
        return "Protocol error: invalid bulk length"
    if "multi" in low or "aggregate" in low or "out of range" in low:
        return "Protocol error: invalid multibulk length"
    m = re.search(r'got "(.)"', hiredis_text)
    if m:
        return "Protocol error: expected '$', got '%s'" % m.group(1)
    return "Protocol error: " + hiredis_text
