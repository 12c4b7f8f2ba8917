"""The PSYNC rules, both sides, as pure functions (no sockets, no clock).

Master side, `decide`: Redis's masterTryPartialResynchronization. A replica
asks for (replid, offset), offset being the first byte it lacks. It may
continue when
  * replid is our current replication ID, or our previous one (replid2) and
    offset <= second_repl_offset (the previous history is ours only up to
    there), and
  * the backlog still holds the bytes from offset on.
Anything else, "?" included, is a full resynchronization.

Replica side: what the master's reply lines mean (`read_psync_reply`,
`read_bulk_header`), with Redis's tolerance for the empty lines a master sends
to keep the link alive while it prepares the snapshot.
"""

from typing import NamedTuple

CONTINUE = "continue"
FULL = "full"
# Replica-side outcomes of the PSYNC reply, beyond CONTINUE and FULL.
WAIT = "wait"  # an empty keepalive line: read again
TRY_LATER = "try_later"  # -NOMASTERLINK, -LOADING: the master will be able to later
NOT_SUPPORTED = "not_supported"  # an error we do not understand: fall back to SYNC

NO_REPLID2 = "0" * 40


class Decision(NamedTuple):
    kind: str  # CONTINUE or FULL
    reason: str  # for the log: why a full resynchronization (None when continuing)


def decide(replid: str, offset: int, my_replid: str, my_replid2: str, second_offset: int, backlog) -> Decision:
    """May a replica asking for (replid, offset) continue from our backlog (None: we have none)?"""
    if replid.lower() != my_replid and (replid.lower() != my_replid2 or offset > second_offset):
        if replid == "?":
            return Decision(FULL, "requested")
        if replid.lower() not in (my_replid, my_replid2):
            return Decision(FULL, "Replication ID mismatch (Replica asked for '%s', my replication IDs are '%s' and '%s')" % (replid, my_replid, my_replid2))
        return Decision(FULL, "Requested offset for second ID was %d, but I can reply up to %d" % (offset, second_offset))
    if backlog is None or not backlog.contains(offset):
        return Decision(FULL, "lack of backlog")
    return Decision(CONTINUE, None)


def continue_reply(replid: str, psync2: bool) -> bytes:
    """+CONTINUE names the replication ID to a replica that understands PSYNC2."""
    return b"+CONTINUE %s\r\n" % replid.encode() if psync2 else b"+CONTINUE\r\n"


def fullresync_reply(replid: str, offset: int) -> bytes:
    return b"+FULLRESYNC %s %d\r\n" % (replid.encode(), offset)


class PsyncReply(NamedTuple):
    kind: str
    replid: str = None  # FULL: the master's ID; CONTINUE: its ID when it names one
    offset: int = -1  # FULL: the offset the snapshot stands for
    text: str = ""  # the line, for the log


def read_psync_reply(line: bytes) -> PsyncReply:
    """What the master's reply line to PSYNC means (Redis's slaveTryPartialResynchronization)."""
    text = line.decode("latin-1")
    if not line:
        return PsyncReply(WAIT)
    if line.startswith(b"+FULLRESYNC"):
        parts = text.split(" ")
        if len(parts) >= 3 and len(parts[1]) == 40:
            try:
                return PsyncReply(FULL, parts[1], int(parts[2]), text)
            except ValueError:
                pass
        # A malformed +FULLRESYNC: full sync, with an ID no later PSYNC can match.
        return PsyncReply(FULL, None, -1, text)
    if line.startswith(b"+CONTINUE"):
        new = text[10:].strip()
        return PsyncReply(CONTINUE, new if len(new) == 40 else None, -1, text)
    if line.startswith((b"-NOMASTERLINK", b"-LOADING")):
        return PsyncReply(TRY_LATER, text=text)
    return PsyncReply(NOT_SUPPORTED, text=text)


class BulkHeader(NamedTuple):
    kind: str  # "keepalive" | "size" | "eof" | "error" | "bad"
    size: int = 0  # "size": the payload's length
    mark: bytes = b""  # "eof": the 40-byte delimiter that ends the payload
    text: str = ""


def read_bulk_header(line: bytes) -> BulkHeader:
    """The line before the snapshot: `$<size>` (disk) or `$EOF:<40 bytes>` (diskless)."""
    if not line:
        return BulkHeader("keepalive")
    text = line.decode("latin-1")
    if line[:1] == b"-":
        return BulkHeader("error", text=text[1:])
    if line[:1] != b"$":
        return BulkHeader("bad", text=text)
    if line.startswith(b"$EOF:") and len(line) - 5 >= 40:
        return BulkHeader("eof", mark=bytes(line[5:45]))
    try:
        return BulkHeader("size", size=int(line[1:]))
    except ValueError:
        return BulkHeader("bad", text=text)


def find_eof_mark(tail: bytes, chunk: bytes, mark: bytes) -> int:
    """Where the mark ends in tail + chunk (tail: the last len(mark) - 1 bytes seen before
    chunk), as an index into chunk just past it; -1 when it is not there yet."""
    window = tail + chunk
    at = window.find(mark)
    if at < 0:
        return -1
    return at + len(mark) - len(tail)
