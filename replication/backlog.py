"""The replication backlog: the last `size` bytes of the replication stream, by global offset.

Offsets are Redis's: the stream's bytes are numbered from 1, `end` is the
offset of the last byte produced (master_repl_offset), `first` the offset of
the oldest byte still held (repl_backlog_first_byte_offset). A replica that
has everything up to offset N asks for N + 1; the backlog can serve it when
`first <= N + 1 <= end + 1` (asking for end + 1 means "nothing is missing").

The buffer grows as bytes arrive until it reaches `size`, then it becomes a
ring: a big repl-backlog-size costs nothing until the stream fills it.
"""


class Backlog:
    __slots__ = ("size", "buf", "idx", "histlen", "end")

    def __init__(self, size: int, end: int = 0):
        self.size = max(int(size), 1)
        self.buf = bytearray()
        self.idx = 0  # ring mode: where the next byte goes (the oldest byte is there too once full)
        self.histlen = 0
        self.end = end  # offset of the last byte produced, held or not

    @property
    def first(self) -> int:
        """Offset of the oldest byte held (end + 1 when empty, as Redis reports it)."""
        return self.end - self.histlen + 1

    @property
    def memory(self) -> int:
        return len(self.buf)

    def append(self, data):
        n = len(data)
        self.end += n
        buf, size = self.buf, self.size
        idx = self.idx
        if len(buf) == size and n <= size - idx:
            buf[idx : idx + n] = data  # the common case once full: no wrap
            self.idx = (idx + n) % size
            return
        if not n:
            return
        if len(buf) < size:
            buf += data
            extra = len(buf) - size
            if extra > 0:
                del buf[:extra]  # just full: the oldest bytes go, the ring starts at 0
            self.idx = len(buf) % size
            self.histlen = len(buf)
            return
        self._ring_write(data, n)

    def _ring_write(self, data, n):
        buf, size, idx = self.buf, self.size, self.idx
        if n >= size:
            view = memoryview(data)
            buf[:] = view[n - size :]
            self.idx = 0
            return
        room = size - idx
        if n <= room:
            buf[idx : idx + n] = data
            idx += n
        else:
            view = memoryview(data)
            buf[idx:] = view[:room]
            buf[: n - room] = view[room:]
            idx = n - room
        self.idx = idx % size

    def contains(self, offset: int) -> bool:
        """Can a replica asking for `offset` (the first byte it lacks) be served from here?"""
        return self.first <= offset <= self.end + 1

    def read_from(self, offset: int) -> bytes:
        """The bytes from `offset` to the end. ValueError when they are no longer held."""
        if not self.contains(offset):
            raise ValueError("offset %d is outside the backlog [%d, %d]" % (offset, self.first, self.end + 1))
        length = self.end + 1 - offset
        if not length:
            return b""
        buf = self.buf
        if len(buf) < self.size:
            return bytes(buf[len(buf) - length :])
        start = (self.idx - length) % self.size
        if start + length <= self.size:
            return bytes(buf[start : start + length])
        return bytes(buf[start:]) + bytes(buf[: start + length - self.size])

    def resize(self, size: int):
        """CONFIG SET repl-backlog-size: keep the most recent bytes that still fit."""
        size = max(int(size), 1)
        if size == self.size:
            return
        keep = min(self.histlen, size)
        data = self.read_from(self.end + 1 - keep) if keep else b""
        self.size = size
        self.buf = bytearray(data)
        self.histlen = len(data)
        self.idx = len(data) % size
