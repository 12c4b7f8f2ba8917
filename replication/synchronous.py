"""Synchronous replication: `synchronous-replicas N` (triokv's own; 0 = Redis's asynchronous
behaviour).

The guarantee: a client sees a write succeed only once at least N replicas acknowledged a
replication offset that includes it. How the parts uphold it:

  * Node.call marks the reply of every command that fed the replication stream
    (`Client.sync_marks`, indexes into `client.out`) and the offset right after it
    (`Client.woff`). Writes inside MULTI mark the EXEC reply as a whole.
  * The connection (node.server) never sends a marked reply by itself: before any write to
    the socket it awaits `SynchronousReplicas.settle(client)`, which asks the replicas for an
    ACK (one REPLCONF GETACK per round of the event loop, however many clients wait) and waits
    until N of them acknowledged the client's last offset, at most
    `synchronous-replicas-timeout` ms. On a timeout every marked reply becomes an error: the
    write was applied here but may be lost by a failover, so it must not look acknowledged.
  * Before running a write, a master that does not see N replicas acknowledging within
    `min-replicas-max-lag` seconds refuses it at once (NOREPLICAS, naming the setting), so a
    master cut off from its replicas fails fast instead of timing out every write.
  * A replica fenced by a sentinel (the FENCE command, replication.replica) drops its link
    and sends no ACK until it is given a master again: an old master cut off by a failover
    cannot collect acknowledgements for writes the new master never saw.

Why nothing acknowledged is lost (with one master, R replicas, N synchronous acks): every
acknowledged write is on at least N replicas. The failover leader fences the replicas it
reaches before reading their offsets, and promotes only when it reached R-N+1 of them, so at
least one of those holds every acknowledged write; it picks the greatest offset among them,
which therefore holds them all; the fence keeps the old master from acknowledging anything
after the offsets were read. (sentinel/ implements the leader's half.)
"""

import trio

from .state import ONLINE

TIMEOUT_ERROR = b"-NOREPLICAS Write not acknowledged by %d replica(s) within synchronous-replicas-timeout (%d ms); it may or may not survive a failover\r\n"
REFUSAL = "NOREPLICAS Not enough good replicas to write: synchronous-replicas is %d and %d replica(s) acknowledged within min-replicas-max-lag."


class SynchronousReplicas:
    def __init__(self, state):
        self.state = state
        self.config = state.config
        self.waiters = []  # (offset, trio.Event)

    @property
    def required(self) -> int:
        return self.config.values["synchronous-replicas"] if self.state.node.role == "master" else 0

    def refusal(self):
        """The error for a write that cannot be acknowledged anyway, or None."""
        needed = self.required
        if not needed:
            return None
        max_lag = self.config.values["min-replicas-max-lag"] or 10
        now = self.state.now()
        live = sum(1 for r in self.state.replicas if r.state == ONLINE and now - r.ack_time <= max_lag)
        return REFUSAL % (needed, live) if live < needed else None

    async def settle(self, client):
        """Hold the client's marked replies until N replicas acknowledged its last write; turn
        them into errors if that does not happen in time."""
        marks = client.sync_marks
        if not marks:
            return
        needed = self.required
        if needed and not await self._acknowledged(client.woff, needed):
            error = TIMEOUT_ERROR % (needed, self.config.values["synchronous-replicas-timeout"])
            for index in marks:
                if index < len(client.out):
                    client.out[index] = error
            self.state.node.stats["total_error_replies"] += len(marks)
        marks.clear()

    async def _acknowledged(self, offset, needed) -> bool:
        if self.state.master.acked(offset) >= needed:
            return True
        done = trio.Event()
        entry = (offset, needed, done)
        self.waiters.append(entry)
        self.state.master.want_ack()
        try:
            with trio.move_on_after(self.config.values["synchronous-replicas-timeout"] / 1000.0):
                await done.wait()
        finally:
            if entry in self.waiters:
                self.waiters.remove(entry)
        return done.is_set()

    def on_ack(self):
        """A replica acknowledged: wake the writers it satisfied."""
        if not self.waiters:
            return
        still = []
        for entry in self.waiters:
            offset, needed, done = entry
            if self.state.master.acked(offset) >= needed:
                done.set()
            else:
                still.append(entry)
        self.waiters = still
