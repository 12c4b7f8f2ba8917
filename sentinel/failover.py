"""The failover state machine (Redis's sentinelFailoverStateMachine), one step per tick.

    wait_start          wait to be elected leader of the failover epoch (abort after the
                        election timeout); a manual SENTINEL FAILOVER skips the vote
    select_slave        pick the replica to promote (sentinel.decide.select_slave); under
                        synchronous replication, fence the replicas first (sentinel.fencing)
    send_slaveof_noone  REPLICAOF NO ONE to it; a manual failover of a reachable master
                        first pauses writes there and waits until the replica has every
                        byte of the master's stream (Catchup), so that no write is lost
    wait_promotion      until its INFO says master (the config epoch is then ours)
    reconf_slaves       REPLICAOF the new master to the others, parallel-syncs at a time
    update_config       switch the master address (+switch-master), done by the timer

Aborting is possible until the promotion is seen; after that the failover only
moves forward (a timeout ends it with the replicas that made it).
"""

import time

from . import decide, election, fencing, hello, monitor, scripts
from .events import NOTICE, WARNING, announced
from .info_parse import parse_info
from .instances import (FAILOVER_IN_PROGRESS, FORCE_FAILOVER, O_DOWN, PROMOTED, RECONF_DONE, RECONF_INPROG, RECONF_SENT,
                        STATE_NONE, STATE_RECONF_SLAVES, STATE_SELECT_SLAVE, STATE_SEND_SLAVEOF_NOONE,
                        STATE_UPDATE_CONFIG, STATE_WAIT_PROMOTION, STATE_WAIT_START, S_DOWN)

SIMFAILURE_CRASH_AFTER_ELECTION = 1  # SENTINEL SIMULATE-FAILURE flags
SIMFAILURE_CRASH_AFTER_PROMOTION = 2
CATCHUP_TIMEOUT = 10000  # ms a manual failover waits for the replica to catch up (at most failover-timeout)


def start_if_needed(s, master) -> bool:
    """Start a failover of an ODOWN master, unless one runs or the last attempt is too recent."""
    if not master.flags & O_DOWN or master.flags & FAILOVER_IN_PROGRESS:
        return False
    now = s.now()
    if not decide.failover_allowed(master, now):
        if master.failover_delay_logged != master.failover_start_time:
            master.failover_delay_logged = master.failover_start_time
            if s.log is not None:
                s.log.warning("Next failover delay: I will not start a failover before %s" % _ctime(master.failover_start_time + master.failover_timeout * 2))
        return False
    start(s, master)
    return True


def start(s, master):
    """A new epoch for this failover; +try-failover. The start time gets up to a second of
    random delay, so that competing sentinels rarely ask for votes at the same moment."""
    settings = s.settings
    master.failover_state = STATE_WAIT_START
    master.flags |= FAILOVER_IN_PROGRESS
    settings.current_epoch += 1
    master.failover_epoch = settings.current_epoch
    s.event(WARNING, "+new-epoch", master, "%d", settings.current_epoch)
    s.event(WARNING, "+try-failover", master, "%@")
    now = s.now()
    master.failover_start_time = now + s.rng.randrange(1000)
    master.failover_state_change_time = now


def run_state_machine(s, master):
    if not master.flags & FAILOVER_IN_PROGRESS:
        return
    step = _STEPS.get(master.failover_state)
    if step is not None:
        step(s, master)


def _set_state(s, master, state):
    master.failover_state = state
    master.failover_state_change_time = s.now()


def wait_start(s, master):
    """Go on once elected leader of the failover epoch (or forced); give up after the
    election timeout (bounded by failover-timeout)."""
    leader = election.get_leader(s, master, master.failover_epoch)
    is_leader = leader is not None and leader.lower() == s.settings.myid.lower()
    if not is_leader and not master.flags & FORCE_FAILOVER:
        timeout = min(s.settings.election_timeout, master.failover_timeout)
        if s.now() - master.failover_start_time > timeout:
            s.event(WARNING, "-failover-abort-not-elected", master, "%@")
            abort(s, master)
        return
    s.event(WARNING, "+elected-leader", master, "%@")
    if s.settings.simfailure_flags & SIMFAILURE_CRASH_AFTER_ELECTION:
        s.simulated_crash()
        return
    _set_state(s, master, STATE_SELECT_SLAVE)
    s.event(WARNING, "+failover-state-select-slave", master, "%@")


def select_slave(s, master):
    """Pick the replica to promote; under synchronous replication, among fenced replicas
    by their final offsets (sentinel.fencing)."""
    if master.sync_replicas and not master.flags & FORCE_FAILOVER:
        if master.fence is None:
            fencing.start(s, master)
        done, slave = fencing.choose(s, master)
        if not done and not fencing.timed_out(s, master):
            return
        master.fence = None
    else:
        slave = decide.select_slave(master, s.now(), s.settings)
    if slave is None:
        s.event(WARNING, "-failover-abort-no-good-slave", master, "%@")
        abort(s, master)
        return
    s.event(WARNING, "+selected-slave", slave, "%@")
    slave.flags |= PROMOTED
    master.promoted_slave = slave
    _set_state(s, master, STATE_SEND_SLAVEOF_NOONE)
    s.event(NOTICE, "+failover-state-send-slaveof-noone", slave, "%@")


def send_slaveof_noone(s, master):
    """REPLICAOF NO ONE to the chosen replica, retried while its link is down, until
    failover-timeout. A manual failover of a live master catches up first."""
    promoted = master.promoted_slave
    if promoted.link.disconnected:
        if s.now() - master.failover_state_change_time > master.failover_timeout:
            s.event(WARNING, "-failover-abort-slave-timeout", master, "%@")
            abort(s, master)
        return
    if master.flags & FORCE_FAILOVER and not _caught_up(s, master, promoted):
        return
    if not monitor.send_slaveof(s, promoted, None):
        return
    s.event(NOTICE, "+failover-state-wait-promotion", promoted, "%@")
    _set_state(s, master, STATE_WAIT_PROMOTION)


def wait_promotion(s, master):
    """The move on is made by the INFO handler (promotion_seen); here only the timeout."""
    if s.now() - master.failover_state_change_time > master.failover_timeout:
        s.event(WARNING, "-failover-abort-slave-timeout", master, "%@")
        abort(s, master)


def promotion_seen(s, master, promoted, now):
    """The promoted replica reports the master role: the master's config epoch becomes the
    failover epoch, which makes every other sentinel adopt the new configuration."""
    master.config_epoch = master.failover_epoch
    _set_state(s, master, STATE_RECONF_SLAVES)
    s.flush_config()
    s.event(WARNING, "+promoted-slave", promoted, "%@")
    if s.settings.simfailure_flags & SIMFAILURE_CRASH_AFTER_PROMOTION:
        s.simulated_crash()
        return
    s.event(WARNING, "+failover-state-reconf-slaves", master, "%@")
    hello.force_hello_update(s, master)
    scripts.client_reconfig(s, master, "leader", master.addr, promoted.addr)
    if master.catchup is not None:
        _demote_paused_master(s, master, promoted)


def reconf_next_slave(s, master):
    """REPLICAOF the promoted replica to the others, parallel-syncs at a time; a replica
    that makes no progress within slave-reconf-timeout counts as done (it is fixed later)."""
    slaves = list(master.slaves.values())
    in_progress = sum(1 for r in slaves if r.flags & (RECONF_SENT | RECONF_INPROG))
    now = s.now()
    for slave in slaves:
        if in_progress >= master.parallel_syncs:
            break
        if slave.flags & (PROMOTED | RECONF_DONE):
            continue
        if slave.flags & RECONF_SENT and now - slave.slave_reconf_sent_time > s.settings.slave_reconf_timeout:
            s.event(NOTICE, "-slave-reconf-sent-timeout", slave, "%@")
            slave.flags = (slave.flags & ~RECONF_SENT) | RECONF_DONE
        if slave.flags & (RECONF_SENT | RECONF_INPROG) or slave.link.disconnected:
            continue
        if monitor.send_slaveof(s, slave, master.promoted_slave.addr):
            slave.flags |= RECONF_SENT
            slave.slave_reconf_sent_time = now
            s.event(NOTICE, "+slave-reconf-sent", slave, "%@")
            in_progress += 1
    detect_end(s, master)


def detect_end(s, master):
    """Done when every reachable replica is reconfigured, or on failover-timeout (then the
    rest get a best-effort REPLICAOF)."""
    promoted = master.promoted_slave
    if promoted is None or promoted.flags & S_DOWN:
        return
    pending = [r for r in master.slaves.values() if not r.flags & (PROMOTED | RECONF_DONE) and not r.flags & S_DOWN]
    timed_out = s.now() - master.failover_state_change_time > master.failover_timeout
    if timed_out:
        s.event(WARNING, "+failover-end-for-timeout", master, "%@")
        pending = []
    if not pending:
        s.event(WARNING, "+failover-end", master, "%@")
        _set_state(s, master, STATE_UPDATE_CONFIG)
    if timed_out:
        for slave in list(master.slaves.values()):
            if slave.flags & (PROMOTED | RECONF_DONE | RECONF_SENT) or slave.link.disconnected:
                continue
            if monitor.send_slaveof(s, slave, promoted.addr):
                s.event(NOTICE, "+slave-reconf-sent-be", slave, "%@")
                slave.flags |= RECONF_SENT


def switch_to_promoted(s, master):
    """The failover is over: the promoted replica becomes the monitored master."""
    ref = master.promoted_slave or master
    s.event(WARNING, "+switch-master", master, "%s %s %d %s %d", master.name, announced(master.addr, s.settings), master.addr.port,
            announced(ref.addr, s.settings), ref.addr.port)
    s.reset_master_and_change_address(master, ref.addr.host, ref.addr.port)


def abort(s, master):
    """Give up a failover not yet past the promotion (sentinelAbortFailover)."""
    master.flags &= ~(FAILOVER_IN_PROGRESS | FORCE_FAILOVER)
    master.fence = None
    _set_state(s, master, STATE_NONE)
    if master.promoted_slave is not None:
        master.promoted_slave.flags &= ~PROMOTED
        master.promoted_slave = None
    if master.catchup is not None:
        monitor.send(master, ["CLIENT", "UNPAUSE"])
        master.catchup = None


# ---- the write-safe manual failover ------------------------------------------------------


class Catchup:
    """A manual failover of a reachable master: its writes are paused (CLIENT PAUSE WRITE),
    then the replica must reach the master's replication offset before it is promoted;
    the old master is turned into a replica while still paused (and its clients
    disconnected), then unpaused. Redis promotes at once and loses what the replica had
    not received yet (redis#6062)."""

    def __init__(self, now):
        self.started = now
        self.paused = False  # the pause was acknowledged
        self.refused = False  # the master cannot pause writes (no CLIENT PAUSE ... WRITE)
        self.target = None  # the master's offset, read after the pause took effect
        self.asked = 0  # when INFO was last requested from both


def _caught_up(s, master, promoted) -> bool:
    """True when the promotion may go ahead: the replica has all the master's writes, or
    the master cannot be paused (it is down or refuses) so there is nothing to wait for."""
    now = s.now()
    catchup = master.catchup
    if catchup is None:
        if master.flags & S_DOWN or master.link.disconnected:
            return True
        catchup = master.catchup = Catchup(now)
        pause_ms = min(master.failover_timeout, CATCHUP_TIMEOUT) + s.settings.ping_period
        if not monitor.send(master, ["CLIENT", "PAUSE", str(pause_ms), "WRITE"], lambda reply: _on_paused(s, master, catchup, reply)):
            master.catchup = None
            return True
        return False
    if now - catchup.started > min(master.failover_timeout, CATCHUP_TIMEOUT):
        s.event(WARNING, "-failover-abort-slave-timeout", master, "%@")
        abort(s, master)
        return False
    if catchup.refused:
        return True
    if not catchup.paused:
        return False
    # Any reading of the replica's offset will do: offsets only grow, and the target was read
    # once no write could run any more.
    if catchup.target is not None and promoted.slave_repl_offset >= catchup.target:
        if s.log is not None:
            s.log.notice("Replica %s reached the paused master's offset %d" % (promoted.name, catchup.target))
        return True
    if now - catchup.asked >= 100:
        catchup.asked = now
        monitor.send(master, ["INFO", "replication"], lambda reply: _on_master_offset(s, master, catchup, reply))
        monitor.send(promoted, ["INFO"], lambda reply: monitor.on_info_reply(s, promoted, reply))
    return False


def _on_paused(s, master, catchup, reply):
    if master.catchup is not catchup:
        return
    if isinstance(reply, bytes):
        catchup.paused = True
    else:  # a server without CLIENT PAUSE WRITE: go on as Redis does
        catchup.refused = True


def _on_master_offset(s, master, catchup, reply):
    if master.catchup is not catchup or not isinstance(reply, bytes):
        return
    offset = parse_info(reply.decode("utf-8", "replace")).master_repl_offset
    if offset is not None:
        catchup.target = offset


def _demote_paused_master(s, master, promoted):
    """The old master, still paused, becomes a replica of the promoted one; its clients are
    disconnected by the same transaction, then the pause is lifted."""
    monitor.send_slaveof(s, master, promoted.addr)
    monitor.send(master, ["CLIENT", "UNPAUSE"])
    master.catchup = None
    if s.log is not None:
        s.log.notice("Old master %s:%d turned into a replica of %s while paused" % (master.addr.host, master.addr.port, promoted.name))


def _ctime(ms: int) -> str:
    return time.strftime("%a %b %e %H:%M:%S %Y", time.localtime(ms / 1000))


_STEPS = {
    STATE_WAIT_START: wait_start,
    STATE_SELECT_SLAVE: select_slave,
    STATE_SEND_SLAVEOF_NOONE: send_slaveof_noone,
    STATE_WAIT_PROMOTION: wait_promotion,
    STATE_RECONF_SLAVES: reconf_next_slave,
}
