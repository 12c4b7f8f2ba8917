"""A tiny raw RESP client for tests that compare servers byte for byte.

`Conn.call(*args)` sends one multibulk request and returns a `Reply`: the exact
bytes of one reply and its parsed tree. The tree keeps RESP types apart (a
double is not a bulk, a set is not an array) so normalised comparisons stay
strict about everything but what they normalise. Every reply is also fed to
hiredis, which must accept it: what a real client cannot parse is a bug even
when two servers agree on it.
"""

import socket
import time

import hiredis

CRLF = b"\r\n"
_LINE_TYPES = b"+-:,_#("  # one line, no payload
_BLOB_TYPES = b"$!="  # length line, then payload
_AGGREGATE_TYPES = b"*~>%|"  # counted children (% and | count pairs)


class Incomplete(Exception):
    pass


class Node:
    """One parsed RESP value: `kind` is the type byte as a str, `value` bytes/None/list."""

    __slots__ = ("kind", "value", "raw")

    def __init__(self, kind, value, raw):
        self.kind, self.value, self.raw = kind, value, raw

    def __repr__(self):
        return "Node(%r, %r)" % (self.kind, self.value)


def parse(buf: bytes, pos: int = 0):
    """Parse one reply at buf[pos:]; returns (Node, end). Raises Incomplete."""
    end = buf.find(CRLF, pos)
    if end < 0:
        raise Incomplete
    kind = buf[pos : pos + 1]
    line = buf[pos + 1 : end]
    after = end + 2
    if kind[0] in _LINE_TYPES:
        return Node(kind.decode(), line, buf[pos:after]), after
    if kind[0] in _BLOB_TYPES:
        n = int(line)
        if n < 0:
            return Node(kind.decode(), None, buf[pos:after]), after
        if len(buf) < after + n + 2:
            raise Incomplete
        if buf[after + n : after + n + 2] != CRLF:
            raise ValueError("bulk payload not followed by CRLF at %d" % (after + n))
        return Node(kind.decode(), buf[after : after + n], buf[pos : after + n + 2]), after + n + 2
    if kind[0] in _AGGREGATE_TYPES:
        n = int(line)
        if n < 0:
            return Node(kind.decode(), None, buf[pos:after]), after
        count = n * 2 if kind in (b"%", b"|") else n
        children = []
        cur = after
        for _ in range(count):
            child, cur = parse(buf, cur)
            children.append(child)
        node = Node(kind.decode(), children, buf[pos:cur])
        if kind == b"|":  # an attribute precedes the real reply
            reply, cur = parse(buf, cur)
            node = Node("|", children + [reply], buf[pos:cur])
        return node, cur
    raise ValueError("not a RESP type byte %r at %d in %r" % (kind, pos, buf[max(0, pos - 40) : pos + 40]))


def encode_command(args) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    """A blocking socket speaking RESP; every read has a deadline."""

    def __init__(self, host: str, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = b""
        self.closed = False

    def send(self, *args):
        self.sock.sendall(encode_command(args))

    def send_raw(self, data: bytes):
        self.sock.sendall(data)

    def read(self, timeout: float = None) -> Node:
        """One complete reply; AssertionError if none arrives before the deadline."""
        end = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while True:
            try:
                node, used = parse(self.buf)
            except Incomplete:
                self._fill(end)
                continue
            self.buf = self.buf[used:]
            _check_with_hiredis(node.raw)
            return node

    def _fill(self, end: float):
        left = end - time.monotonic()
        if left <= 0:
            raise AssertionError("no complete reply before the deadline; have %r" % self.buf[:200])
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            raise AssertionError("no complete reply before the deadline; have %r" % self.buf[:200]) from None
        if not chunk:
            self.closed = True
            raise ConnectionError("connection closed; pending %r" % self.buf[:200])
        self.buf += chunk

    def call(self, *args, timeout: float = None) -> Node:
        self.send(*args)
        return self.read(timeout)

    def read_until_closed(self, timeout: float = 5.0) -> bytes:
        """Everything the server sends until it closes; AssertionError if it does not close in time."""
        end = time.monotonic() + timeout
        while True:
            try:
                self._fill(end)
            except ConnectionError:  # EOF or reset: closed either way
                data, self.buf = self.buf, b""
                return data

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _check_with_hiredis(raw: bytes):
    reader = hiredis.Reader()
    reader.feed(raw)
    try:
        reply = reader.gets()
    except hiredis.ProtocolError as e:
        raise AssertionError("hiredis cannot parse reply %r: %s" % (raw[:200], e)) from None
    if reply is False or reader.has_data():
        raise AssertionError("hiredis does not see exactly one reply in %r" % raw[:200])
