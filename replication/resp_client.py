"""One small trio RESP client, for the replication link and the sentinel.

It speaks to a node over any trio stream (TCP, or in-memory streams in
simulations: `open_stream` is injected), with a deadline on every read.

Two ways to read, over one buffer:
  * replies (`call`, `read_reply`): RESP2/RESP3 values parsed by hiredis;
    error replies come back as hiredis.ReplyError values, not exceptions;
  * raw (`read_line`, `read_exact`, `read_some`): what the replication
    handshake and the snapshot transfer need (status lines, `$EOF:` payloads,
    then the command stream itself).
Raw reads must come before the first reply read: hiredis keeps what it was
fed, and cannot give back the bytes past its last reply.
"""

import hiredis
import trio

from node.resp import encode_command as encode_bytes_command

READ_SIZE = 64 * 1024


class RespTimeout(ConnectionError):
    """No answer within the deadline."""


class ConnectionClosed(ConnectionError):
    """The peer closed the connection."""


class RespClient:
    def __init__(self, stream, timeout: float = 10.0):
        self.stream = stream
        self.timeout = timeout
        self._buf = bytearray()
        self._reader = None  # hiredis.Reader once replies are read
        self._send_lock = trio.Lock()
        self.bytes_read = 0

    @classmethod
    async def connect(cls, host: str, port: int, timeout: float = 10.0, open_stream=None):
        opener = open_stream or trio.open_tcp_stream
        try:
            with trio.fail_after(timeout):
                stream = await opener(host, port)
        except trio.TooSlowError:
            raise RespTimeout("timed out connecting to %s:%d" % (host, port)) from None
        return cls(stream, timeout)

    # ---- sending ---------------------------------------------------------------

    async def send(self, *args):
        await self.send_raw(encode_command(args))

    async def send_raw(self, data: bytes):
        """Concurrent senders (a periodic ACK and a requested one) take turns."""
        async with self._send_lock:
            try:
                with trio.fail_after(self.timeout):
                    await self.stream.send_all(data)
            except trio.TooSlowError:
                raise RespTimeout("timed out sending") from None
            except (trio.BrokenResourceError, trio.ClosedResourceError) as e:
                raise ConnectionClosed(str(e) or "connection lost") from None

    # ---- replies -----------------------------------------------------------------

    async def call(self, *args, timeout: float = None):
        await self.send(*args)
        return await self.read_reply(timeout)

    async def read_reply(self, timeout: float = None):
        if self._reader is None:
            self._reader = hiredis.Reader()
            if self._buf:
                self._reader.feed(bytes(self._buf))
                self._buf.clear()
        reader = self._reader
        with self._deadline(timeout):
            while True:
                reply = reader.gets()
                if reply is not False:
                    return reply
                reader.feed(await self._receive())

    # ---- raw ---------------------------------------------------------------------

    async def read_line(self, timeout: float = None) -> bytes:
        """One line without its terminator (CRLF, or a lone LF: a master's keepalive)."""
        buf = self._buf
        with self._deadline(timeout):
            while True:
                end = buf.find(b"\n")
                if end >= 0:
                    line = bytes(buf[: end - 1 if end and buf[end - 1] == 13 else end])
                    del buf[: end + 1]
                    return line
                buf += await self._receive()

    async def read_exact(self, n: int, timeout: float = None) -> bytes:
        buf = self._buf
        with self._deadline(timeout):
            while len(buf) < n:
                buf += await self._receive()
        data = bytes(buf[:n])
        del buf[:n]
        return data

    async def read_some(self, timeout: float = None) -> bytes:
        """What is buffered, else the next bytes to arrive."""
        if self._buf:
            data = bytes(self._buf)
            self._buf.clear()
            return data
        with self._deadline(timeout):
            return await self._receive()

    def unread(self, data: bytes):
        """Give back bytes read past what the caller needed."""
        self._buf[:0] = data

    async def _receive(self) -> bytes:
        try:
            data = await self.stream.receive_some(READ_SIZE)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as e:
            raise ConnectionClosed(str(e) or "connection lost") from None
        if not data:
            raise ConnectionClosed("connection lost")
        self.bytes_read += len(data)
        return data

    def _deadline(self, timeout):
        return _Deadline(self.timeout if timeout is None else timeout)

    async def aclose(self):
        with trio.CancelScope(shield=True):
            try:
                await self.stream.aclose()
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                pass


class _Deadline:
    """trio.fail_after, raising RespTimeout (a ConnectionError) instead of TooSlowError."""

    __slots__ = ("scope", "seconds")

    def __init__(self, seconds):
        self.seconds = seconds
        self.scope = None

    def __enter__(self):
        self.scope = trio.move_on_after(self.seconds) if self.seconds else trio.CancelScope()
        self.scope.__enter__()
        return self

    def __exit__(self, *exc):
        suppressed = self.scope.__exit__(*exc)
        if self.scope.cancelled_caught:
            raise RespTimeout("no reply within %.1f seconds" % self.seconds)
        return suppressed


def encode_command(args) -> bytes:
    """A command from str, int or bytes arguments."""
    return encode_bytes_command([arg if isinstance(arg, bytes) else str(arg).encode() for arg in args])
