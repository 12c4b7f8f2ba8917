"""Choosing the replica to promote when the master runs synchronous replication (triokv's
`synchronous-replicas N`): no acknowledged write may be lost.

Every acknowledged write is on at least N of the R replicas. So the leader sends
`FENCE <failover epoch> <failover-timeout>` to every replica it reaches: a fenced
replica drops its link to the old master and acknowledges nothing more, and replies
with its replication offset, final from then on. Once R-N+1 replicas answered, at
least one of them holds every acknowledged write, and the one with the greatest
offset holds them all: that one is promoted (priority only breaks ties; priority 0
still excludes). Fewer answers within failover-timeout: the failover is abandoned,
as with no good replica. (The node's half is replication.synchronous.)
"""

from hiredis import ReplyError

from . import decide, monitor


class Fence:
    def __init__(self, now):
        self.started = now
        self.offsets = {}  # replica name -> offset it replied to FENCE with


def needed(master) -> int:
    """How many fenced replicas are enough to be sure one has every acknowledged write."""
    return max(len(master.slaves) - master.sync_replicas + 1, 1)


def start(s, master):
    fence = master.fence = Fence(s.now())
    for slave in list(master.slaves.values()):
        if slave.link.disconnected:
            continue
        monitor.send(slave, ["FENCE", str(master.failover_epoch), str(master.failover_timeout)],
                     lambda reply, slave=slave: _on_fenced(master, fence, slave, reply))
    if s.log is not None:
        s.log.notice("Fencing the replicas of %s (synchronous-replicas %d): %d of %d must answer" % (master.name, master.sync_replicas, needed(master), len(master.slaves)))


def _on_fenced(master, fence, slave, reply):
    if master.fence is fence and isinstance(reply, int) and not isinstance(reply, ReplyError):
        fence.offsets[slave.name] = reply
        slave.slave_repl_offset = reply  # final while fenced


def choose(s, master):
    """(done, replica): not done while waiting for answers, or while no replica holding the
    greatest fenced offset may be promoted; then one of those.

    The greatest offset is taken over every answer, not only over the replicas this sentinel
    would otherwise call promotable: a replica that answered FENCE is reachable now (its
    down flag may be a moment stale, say just after a partition healed), and a replica
    behind it would lose the writes in between. Only priority 0 still excludes one; if the
    only holders of the greatest offset have it, the failover waits and is abandoned at
    failover-timeout rather than lose a write."""
    fence = master.fence
    if len(fence.offsets) < needed(master):
        return False, None
    best = max(fence.offsets.values())
    holders = [r for name, r in master.slaves.items() if fence.offsets.get(name) == best and r.slave_priority != 0]
    if not holders:
        return False, None
    return True, min(holders, key=decide.promotion_key)


def timed_out(s, master) -> bool:
    return s.now() - master.fence.started > master.failover_timeout
