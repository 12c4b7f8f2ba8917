"""Replica side: receiving the snapshot that follows +FULLRESYNC.

The master announces it with `$<size>` (from a file) or `$EOF:<40 bytes>`
(streamed as it is produced, ending with the same 40 bytes); empty lines
before the announcement are keepalives. `Transfer` keeps the progress that
INFO shows (master_sync_total_bytes, master_sync_read_bytes, ...).
"""

from . import psync


class TransferError(Exception):
    """The master answered something other than a snapshot."""


class Transfer:
    def __init__(self, now, log):
        self.now = now  # the node's clock, unix seconds
        self.log = log
        self.size = -1  # announced size; -1 until known, 0 for an EOF-marked payload
        self.read = 0
        self.last_io = now()
        self.eof_marked = False

    async def receive(self, conn, timeout) -> bytearray:
        """The snapshot's bytes; what follows them stays in conn for the stream."""
        header = await self._header(conn, timeout)
        if header.kind == "eof":
            self.eof_marked = True
            self.size = 0
            self.log("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk")
            return await self._marked(conn, header.mark, timeout)
        self.size = header.size
        self.log("MASTER <-> REPLICA sync: receiving %d bytes from master to disk" % header.size)
        return await self._sized(conn, header.size, timeout)

    async def _header(self, conn, timeout):
        while True:
            header = psync.read_bulk_header(await conn.read_line(timeout))
            self.last_io = self.now()
            if header.kind == "keepalive":
                continue
            if header.kind == "error":
                raise TransferError("MASTER aborted replication with an error: %s" % header.text)
            if header.kind == "bad":
                raise TransferError("Bad protocol from MASTER, the first byte is not '$' (we received '%s'), are you sure the host and port are right?" % header.text)
            return header

    async def _sized(self, conn, size, timeout) -> bytearray:
        data = bytearray()
        while len(data) < size:
            data += await conn.read_some(timeout)
            self.read = min(len(data), size)
            self.last_io = self.now()
        if len(data) > size:
            conn.unread(bytes(data[size:]))  # the stream may follow a sized payload at once
            del data[size:]
        return data

    async def _marked(self, conn, mark, timeout) -> bytearray:
        data = bytearray()
        keep = len(mark) - 1
        while True:
            chunk = await conn.read_some(timeout)
            self.last_io = self.now()
            end = psync.find_eof_mark(bytes(data[-keep:]), chunk, mark)
            if end < 0:
                data += chunk
                self.read = len(data)
                continue
            data += chunk[:end]
            if end < len(chunk):
                conn.unread(chunk[end:])
            del data[-len(mark) :]
            self.read = len(data)
            return data
