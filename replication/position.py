"""A replica's durable replication position (synchronous replication with the AOF on).

The problem: a replica that restarts from its AOF holds every write it acknowledged, but the
AOF names no replication offset, so it would report none, and a failover leader comparing
offsets would promote a replica that is behind it, losing writes only it had.

So a replica with `synchronous-replicas` > 0 and `appendonly yes` keeps
`triokv-replica-position.json` ({"replid", "offset"}) beside its data: after each chunk of
the master's stream it applied, it writes the AOF to disk (fsync) and then the position file.
The file therefore never claims more than the AOF holds, and the replica acknowledges no
offset beyond what the file says (`ack_offset`). After a crash the file may claim *less*
than the AOF holds, never more; since every write it acknowledged is within the claim, a
leader that promotes by the greatest claimed offset still keeps every acknowledged write
(replication.synchronous gives the whole argument).

At start the recorded offset is what the replica reports (INFO, ROLE, FENCE) until it syncs
again. It is not used to continue with PSYNC: the AOF may hold more than the claim, and
replaying that difference would apply writes twice, so a restarted replica resyncs in full.
Becoming a master (REPLICAOF NO ONE) removes the file.
"""

import json
import os

from node.persistence.files import write_atomically

FILENAME = "triokv-replica-position.json"


class DurablePosition:
    def __init__(self, state):
        self.state = state
        self.node = state.node
        self.recorded = None  # offset on disk, when enabled
        self.restored = None  # offset read at start, reported until the next sync

    @property
    def enabled(self) -> bool:
        config = self.node.config
        return bool(config["synchronous-replicas"]) and bool(config["appendonly"]) and self.node.persistence is not None

    def _path(self) -> str:
        return os.path.join(os.getcwd(), FILENAME)

    def after_apply(self, offset: int):
        """The stream is applied up to offset: make it durable, then claim it."""
        if not self.enabled or offset == self.recorded:
            return
        aof = self.node.persistence.aof
        aof.flush(force_fsync=True)  # writes what is buffered, fsyncs what is not on disk yet
        if not aof.last_write_ok:
            return  # the AOF is not on disk: claim nothing more
        record = {"replid": self.state.replid, "offset": offset}
        try:
            write_atomically(self._path(), lambda write: write(json.dumps(record).encode()), FILENAME + ".tmp")
        except OSError as e:
            self.state._log("Can't write %s: %s" % (FILENAME, e.strerror), warning=True)
            return
        self.recorded = offset

    def ack_offset(self, applied: int) -> int:
        """What a REPLCONF ACK may claim: nothing beyond the recorded position."""
        if not self.enabled or self.recorded is None:
            return applied
        return min(applied, self.recorded)

    def restore(self):
        """At start, as a replica: the offset the data on disk holds at least."""
        if not self.enabled:
            return
        try:
            with open(self._path(), "rb") as f:
                record = json.loads(f.read())
            self.restored = int(record["offset"])
        except (OSError, ValueError, KeyError, TypeError):
            self.restored = None
            return
        self.state._log("Restored the replication position the AOF holds at least: offset %d (reported until the next sync)" % self.restored)

    def synced(self):
        """A full or partial sync started a new known position."""
        self.restored = None
        self.recorded = None

    def forget(self):
        self.restored = self.recorded = None
        try:
            os.unlink(self._path())
        except OSError:
            pass
