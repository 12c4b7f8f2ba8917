"""One connection from the sentinel to an instance, used like a hiredis async context.

`command(args, callback)` queues a command at once, without awaiting (the
sentinel's tick is synchronous, as Redis's timer is); a writer task sends what
is queued, in order, and a reader task hands each reply to its callback, in
order. A pub/sub connection hands every message to `on_push` instead.

When the connection fails or is closed, callbacks still pending are dropped
(as hiredis calls them with no reply, which the sentinel ignores) and
`on_close(connection)` tells the owner once.

Bytes go through replication.resp_client.RespClient over a stream from the
injected `open_stream`, so the same code runs on TCP and on in-memory streams.
"""

import traceback
from collections import deque

import hiredis
import trio

from replication.resp_client import RespClient, encode_command

SEND_TIMEOUT = 10.0  # seconds a send may block before the connection is given up
# What ends a connection: the network, or a peer that does not speak RESP.
_LOST = (OSError, ConnectionError, trio.BrokenResourceError, trio.ClosedResourceError, hiredis.ProtocolError)


class Connection:
    def __init__(self, host, port, open_stream=None, connect_timeout=10.0, on_close=None, on_push=None, log=None):
        self.host = host
        self.port = port
        self.open_stream = open_stream
        self.connect_timeout = connect_timeout
        self.on_close = on_close
        self.on_push = on_push  # pub/sub: called with every reply
        self.log = log
        self.out = []  # encoded commands not sent yet
        self.callbacks = deque()
        self.closed = False
        self.connected = False
        self.local_ip = None  # our address on this connection, once connected
        self._wake = trio.Event()
        self._scope = trio.CancelScope()
        self._client = None

    # ---- used by the sentinel's synchronous code -----------------------------------

    def command(self, args, callback=None) -> bool:
        """Queue a command; `callback(reply)` gets its reply. False when closed."""
        if self.closed:
            return False
        self.out.append(encode_command(args))
        self.callbacks.append(callback)
        self._wake.set()
        return True

    def close(self):
        """Close now; the tasks end at their next checkpoint."""
        if not self.closed:
            self.closed = True
            self._scope.cancel()

    # ---- the tasks -------------------------------------------------------------------

    async def run(self):
        try:
            with self._scope:
                try:
                    self._client = await RespClient.connect(self.host, self.port, self.connect_timeout, self.open_stream)
                except (OSError, ConnectionError, trio.TooSlowError):
                    return
                self._client.timeout = SEND_TIMEOUT
                self.connected = True
                self.local_ip = _local_ip(self._client.stream)
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._write_loop, nursery.cancel_scope)
                    await self._read_loop()
                    nursery.cancel_scope.cancel()
        finally:
            await self._finish()

    async def _write_loop(self, scope):
        """Send what is queued; a failure ends the connection (the reader with it)."""
        client = self._client
        try:
            while True:
                await self._wake.wait()
                self._wake = trio.Event()
                while self.out:
                    data = b"".join(self.out)
                    self.out.clear()
                    await client.send_raw(data)
        except _LOST:
            scope.cancel()

    async def _read_loop(self):
        """Hand each reply to its callback until the connection fails."""
        client = self._client
        try:
            while True:
                reply = await client.read_reply(timeout=0)
                if self.on_push is not None:
                    self._dispatch(self.on_push, reply)
                elif self.callbacks:
                    callback = self.callbacks.popleft()
                    if callback is not None:
                        self._dispatch(callback, reply)
        except _LOST:
            return

    def _dispatch(self, callback, reply):
        try:
            callback(reply)
        except Exception:  # noqa: BLE001  a bug in one handler must not drop the link silently
            if self.log is not None:
                self.log.warning("Sentinel reply handler failed for %s:%d:\n%s" % (self.host, self.port, traceback.format_exc()))

    async def _finish(self):
        was_open = not self.closed
        self.closed = True
        self.connected = False
        self.callbacks.clear()
        self.out.clear()
        if self._client is not None:
            await self._client.aclose()
        if self.on_close is not None:
            on_close, self.on_close = self.on_close, None
            if was_open:
                on_close(self)


def _local_ip(stream):
    """Our side's address of a TCP stream (what a hello announces), None for other streams."""
    sock = getattr(stream, "socket", None)
    if sock is None:
        return None
    try:
        return sock.getsockname()[0]
    except OSError:
        return None
