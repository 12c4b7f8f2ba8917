"""The sentinel's decisions, as pure functions of observed state (Redis's sentinel.c rules).

Nothing here sends, awaits or changes an instance: callers (sentinel.monitor,
sentinel.election, sentinel.failover) read the verdicts and act. `now` is the
sentinel's clock in milliseconds; `settings` is sentinel.instances.Settings.
"""

from .instances import FAILOVER_IN_PROGRESS, MASTER, MASTER_DOWN, MASTER_REBOOT, O_DOWN, PROMOTED, S_DOWN, SLAVE, STATE_WAIT_PROMOTION


def unanswered_for(ri, now: int) -> int:
    """How long the instance has gone without a valid reply: since the oldest PING still
    unanswered, or since it last answered when the link is down (sentinelCheckSubjectivelyDown)."""
    link = ri.link
    if link.act_ping_time:
        return now - link.act_ping_time
    if link.disconnected:
        return now - link.last_avail_time
    return 0


def is_sdown(ri, now: int, settings) -> bool:
    """SDOWN: no valid reply for down-after-milliseconds; or a master that keeps reporting
    itself a replica for down-after plus two INFO periods; or a master that rebooted and
    has not answered PONG for master-reboot-down-after-period."""
    if unanswered_for(ri, now) > ri.down_after_period:
        return True
    if ri.flags & MASTER and ri.role_reported == SLAVE and now - ri.role_reported_time > ri.down_after_period + settings.info_period * 2:
        return True
    return bool(ri.flags & MASTER_REBOOT and now - ri.master_reboot_since_time > ri.master_reboot_down_after_period)


def stale_connections(ri, now: int, settings):
    """(close the command connection?, close the pub/sub one?): a connection that looks
    connected but carries nothing is reopened, once it is old enough.

    Commands: a PING pending for half of down-after with no reply at all meanwhile.
    Pub/sub: nothing heard for three hello periods (our own hellos come back to us)."""
    link, half = ri.link, ri.down_after_period / 2
    old_cc = link.cc is not None and now - link.cc_conn_time > settings.min_link_reconnect_period
    close_cc = old_cc and link.act_ping_time != 0 and now - link.act_ping_time > half and now - link.last_pong_time > half
    old_pc = link.pc is not None and now - link.pc_conn_time > settings.min_link_reconnect_period
    close_pc = old_pc and now - link.pc_last_activity > settings.publish_period * 3
    return close_cc, close_pc


def odown_votes(master) -> int:
    """How many sentinels, me included, think the master is down (I do: it is SDOWN here)."""
    return 1 + sum(1 for ri in master.sentinels.values() if ri.flags & MASTER_DOWN)


def is_odown(master) -> bool:
    """ODOWN: SDOWN here and at least `quorum` sentinels agreeing."""
    return bool(master.flags & S_DOWN) and odown_votes(master) >= master.quorum


def may_vote(master_leader_epoch: int, current_epoch: int, req_epoch: int) -> bool:
    """One vote per epoch: grant it when the request's epoch is newer than my last vote for
    this master and not older than my current epoch (sentinelVoteLeader)."""
    return master_leader_epoch < req_epoch and current_epoch <= req_epoch


def count_votes(master, epoch: int) -> dict:
    """runid -> votes from the other sentinels' last replies, for this epoch only."""
    counts = {}
    for ri in master.sentinels.values():
        if ri.leader is not None and ri.leader_epoch == epoch:
            counts[ri.leader] = counts.get(ri.leader, 0) + 1
    return counts


def most_voted(counts: dict):
    """The candidate with most votes (the first one seen wins a tie), or None."""
    winner, best = None, 0
    for runid, votes in counts.items():
        if votes > best:
            winner, best = runid, votes
    return winner


def elected(counts: dict, voters: int, quorum: int):
    """The winner when it has an absolute majority of all known sentinels (me included)
    and at least `quorum` votes; else None (sentinelGetLeader)."""
    winner = most_voted(counts)
    if winner is None:
        return None
    votes = counts[winner]
    return winner if votes >= voters // 2 + 1 and votes >= quorum else None


def failover_allowed(master, now: int) -> bool:
    """A new attempt waits twice the failover timeout after the previous one started."""
    return now - master.failover_start_time >= master.failover_timeout * 2


def no_down_for(ri, ms: int, now: int) -> bool:
    """Neither SDOWN nor ODOWN started within the last `ms` (sentinelRedisInstanceNoDownFor)."""
    most_recent = max(ri.s_down_since_time, ri.o_down_since_time)
    return most_recent == 0 or now - most_recent > ms


def master_looks_sane(master, now: int, settings) -> bool:
    """The master is up, says it is a master, and its INFO is fresh: safe to reconfigure
    replicas against it (sentinelMasterLooksSane)."""
    return (
        bool(master.flags & MASTER)
        and master.role_reported == MASTER
        and not master.flags & (S_DOWN | O_DOWN)
        and now - master.info_refresh < settings.info_period * 2
    )


def promotion_key(slave):
    """Lower sorts first: lower priority, then greater replication offset, then smaller run id
    (compared case-blind; an unknown run id sorts last)."""
    runid = slave.runid
    return (slave.slave_priority, -slave.slave_repl_offset, runid is None, (runid or "").lower())


def promotable(slave, master, now: int, settings) -> bool:
    """A replica that may be promoted: up, connected, answering lately, not priority 0, with
    fresh INFO, and not cut off from the master much longer than the master has been down."""
    if slave.flags & (S_DOWN | O_DOWN) or slave.link.disconnected:
        return False
    if now - slave.link.last_avail_time > settings.ping_period * 5:
        return False
    if slave.slave_priority == 0:
        return False
    # With the master SDOWN its replicas' INFO comes every second; otherwise every info-period.
    validity = settings.ping_period * 5 if master.flags & S_DOWN else settings.info_period * 3
    if now - slave.info_refresh > validity:
        return False
    max_down = master.down_after_period * 10
    if master.flags & S_DOWN:
        max_down += now - master.s_down_since_time
    return slave.master_link_down_time <= max_down


def select_slave(master, now: int, settings):
    """The replica to promote, or None (sentinelSelectSlave)."""
    candidates = [s for s in master.slaves.values() if promotable(s, master, now, settings)]
    return min(candidates, key=promotion_key) if candidates else None


PROMOTION_INFO_PERIOD = 100  # ms between INFOs to the replica being promoted


def info_period_for(ri, settings) -> int:
    """INFO every second for the replicas of a master that is ODOWN or failing over, or that
    lost their link to it; else every info-period. The replica being promoted is asked every
    100 ms (Redis: every second), so that the failover goes on as soon as it is master."""
    if ri.flags & PROMOTED and ri.master.failover_state == STATE_WAIT_PROMOTION:
        return PROMOTION_INFO_PERIOD
    if ri.flags & SLAVE and (ri.master.flags & (O_DOWN | FAILOVER_IN_PROGRESS) or ri.master_link_down_time != 0):
        return 1000
    return settings.info_period


def ping_period_for(ri, settings) -> int:
    return min(ri.down_after_period, settings.ping_period)

