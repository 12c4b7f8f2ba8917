"""Replica side: applying the master's command stream.

Each command runs through node.execute as the master client (kind "master":
writes pass READONLY; replies are dropped). While it runs the keyspace treats
no key as expired, as Redis does for its master client: the master decides
what exists, and a replica's clock must not make it diverge.

Offsets are counted in bytes of whole commands. A master sends canonical
RESP multibulk, so a command's size follows from its arguments. Inside a
MULTI the offset moves only at EXEC: the transaction is applied, acknowledged
and passed on to our own replicas as one unit, as Redis does.
"""

import hiredis


class StreamError(Exception):
    """The master sent something that is not a command stream."""


def command_length(argv) -> int:
    """Bytes of the canonical RESP encoding of argv: *<n>CRLF, then $<len>CRLF<arg>CRLF each.
    StreamError when argv is not a command (an element that is not a bulk string): checked
    in the same pass, as this runs for every command a replica applies."""
    count = len(argv)
    n = (4 if count < 10 else 3 + _digits(count)) + 5 * count
    for arg in argv:
        if arg.__class__ is not bytes:
            raise StreamError("not a command: %r" % (argv,))
        size = len(arg)
        n += size + (1 if size < 10 else 2 if size < 100 else _digits(size))
    return n


def _digits(value: int) -> int:
    return len(b"%d" % value)


class StreamApplier:
    def __init__(self, node, client, offset: int, proxy):
        self.node = node
        self.client = client
        self.proxy = proxy  # called with the bytes of each applied unit (our backlog, our replicas)
        self.reader = hiredis.Reader()
        self.raw = bytearray()  # received, not yet applied as a whole unit
        self.read_offset = offset  # Redis's read_reploff
        self.applied = offset  # Redis's reploff, as of the last call to feed
        self.ready = 0  # bytes run in this feed, in whole units, not yet passed on
        self.uncommitted = 0  # bytes of commands run inside a MULTI still open

    def feed(self, data: bytes):
        self.read_offset += len(data)
        self.reader.feed(data)
        self.raw += data
        node, client, space = self.node, self.client, self.node.keyspace
        execute, gets = node.execute, self.reader.gets
        space.loading = True
        try:
            while True:
                try:
                    argv = gets()
                except hiredis.ProtocolError as e:
                    raise StreamError(str(e)) from None
                if argv is False:
                    break
                if argv.__class__ is not list or not argv:
                    raise StreamError("not a command: %r" % (argv,))
                self.uncommitted += command_length(argv)
                execute(client, argv)
                if client.blocked is not None:
                    node.cancel_block(client)  # nothing from a master should block
                if client.multi is None:
                    self.ready += self.uncommitted
                    self.uncommitted = 0
        finally:
            space.loading = False
            client.out.clear()
            self._commit()

    @property
    def position(self) -> int:
        """The offset applied so far, mid-feed included (what a GETACK reports)."""
        return self.applied + self.ready

    def _commit(self):
        """Whole units applied in this feed move the offset and go on to our backlog and
        replicas as one piece."""
        n = self.ready
        if not n:
            return
        chunk = bytes(self.raw[:n])
        del self.raw[:n]
        self.ready = 0
        self.applied += n
        self.proxy(chunk)
