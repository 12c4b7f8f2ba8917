"""What an INFO reply changes (sentinelRefreshInstanceInfo's acting half).

Discover replicas from a master's INFO, track each replica's view of its master,
notice reboots and role changes, and act on them: a promoted replica reaching the
master role moves the failover on; a replica that turned master on its own, or
that follows the wrong master, is reconfigured once the situation is stable; a
replica being reconfigured moves from reconf-sent to in-progress to done.
"""

from . import decide, failover, monitor
from .events import NOTICE, VERBOSE
from .info_parse import parse_info
from .instances import (FAILOVER_IN_PROGRESS, LINK_UP, MASTER, MASTER_REBOOT, PROMOTED, RECONF_DONE, RECONF_INPROG,
                        RECONF_SENT, SLAVE, STATE_WAIT_PROMOTION, SentinelError)


def refresh_from_info(s, ri, raw: bytes):
    text = raw.decode("utf-8", "replace")
    facts = parse_info(text)
    ri.info = raw
    now = s.now()
    _record(s, ri, facts, now)
    ri.info_refresh = now
    role = facts.role
    if role and role != ri.role_reported:
        ri.role_reported_time = now
        ri.role_reported = role
        if role == SLAVE:
            ri.slave_conf_change_time = now
        coherent = (ri.flags & (MASTER | SLAVE)) == role
        s.event(VERBOSE, "+role-change" if coherent else "-role-change", ri, "%@ new reported role is %s", "master" if role == MASTER else "slave")
    if s.settings.tilt:
        return  # in TILT nothing below is acted upon
    if ri.flags & SLAVE and role == MASTER:
        _slave_became_master(s, ri, now)
    if ri.flags & SLAVE and role == SLAVE:
        _check_slave_master(s, ri, now)
        _advance_reconf(s, ri)


def _record(s, ri, facts, now):
    """Store what INFO says; +reboot on a new run id, +slave for each new replica."""
    ri.master_link_down_time = facts.master_link_down_time
    if facts.run_id is not None:
        if ri.runid is not None and ri.runid != facts.run_id:
            s.event(NOTICE, "+reboot", ri, "%@")
            if ri.flags & MASTER and ri.master_reboot_down_after_period:
                ri.flags |= MASTER_REBOOT
                ri.master_reboot_since_time = now
        ri.runid = facts.run_id
    if ri.flags & MASTER:
        if facts.master_repl_offset is not None:
            ri.master_repl_offset = facts.master_repl_offset
        for ip, port in facts.replicas:
            _discover_replica(s, ri, ip, port)
    if facts.role == SLAVE:
        _record_replica_view(ri, facts, now)


def _discover_replica(s, master, ip, port):
    if s.lookup_slave(master, ip, port) is not None:
        return
    try:
        replica = s.create_instance(None, SLAVE, ip, port, master.quorum, master)
    except SentinelError:
        return
    s.event(NOTICE, "+slave", replica, "%@")
    s.flush_config()


def _record_replica_view(ri, facts, now):
    if facts.master_host is not None and (ri.slave_master_host is None or facts.master_host.lower() != ri.slave_master_host.lower()):
        ri.slave_master_host = facts.master_host
        ri.slave_conf_change_time = now
    if facts.master_port is not None and facts.master_port != ri.slave_master_port:
        ri.slave_master_port = facts.master_port
        ri.slave_conf_change_time = now
    if facts.link_status is not None:
        ri.slave_master_link_status = facts.link_status
    if facts.slave_priority is not None:
        ri.slave_priority = facts.slave_priority
    if facts.slave_repl_offset is not None:
        ri.slave_repl_offset = facts.slave_repl_offset
    if facts.replica_announced is not None:
        ri.replica_announced = facts.replica_announced


def _slave_became_master(s, ri, now):
    """Our promoted replica made it: the failover moves to reconfiguring the others. Any other
    replica claiming the master role is turned back into a replica, once the master looks
    sane and things have been stable a while (time for a newer config to reach us first)."""
    master = ri.master
    if ri.flags & PROMOTED and master.flags & FAILOVER_IN_PROGRESS and master.failover_state == STATE_WAIT_PROMOTION:
        failover.promotion_seen(s, master, ri, now)
        return
    wait_time = s.settings.publish_period * 4
    # A triokv node that restarted without its data says so (-UNCONFIRMED) and waits to be
    # made a replica: it is no master to wait for, though it looks down.
    stable = ri.unconfirmed or (decide.no_down_for(ri, wait_time, now) and now - ri.role_reported_time > wait_time)
    # INFO replies queued while it was away arrive together: one REPLICAOF per period is enough.
    recently = now - ri.converted_time < s.settings.ping_period
    if not ri.flags & PROMOTED and not recently and decide.master_looks_sane(master, now, s.settings) and stable:
        ri.converted_time = now
        if monitor.send_slaveof(s, ri, master.addr):
            s.event(NOTICE, "+convert-to-slave", ri, "%@")


def _check_slave_master(s, ri, now):
    """A replica following another address than our master's is pointed at ours, after
    failover-timeout of stability (+fix-slave-config)."""
    master = ri.master
    if ri.slave_master_port == master.addr.port and ri.slave_master_host is not None and _same_host(master.addr, ri.slave_master_host):
        return
    wait_time = master.failover_timeout
    if decide.master_looks_sane(master, now, s.settings) and decide.no_down_for(ri, wait_time, now) and now - ri.slave_conf_change_time > wait_time:
        if monitor.send_slaveof(s, ri, master.addr):
            s.event(NOTICE, "+fix-slave-config", ri, "%@")


def _advance_reconf(s, ri):
    """reconf-sent -> in progress once it follows the promoted replica; -> done once its link is up."""
    if not ri.flags & (RECONF_SENT | RECONF_INPROG):
        return
    promoted = ri.master.promoted_slave
    if ri.flags & RECONF_SENT and promoted is not None and ri.slave_master_host is not None \
            and _same_host(promoted.addr, ri.slave_master_host) and ri.slave_master_port == promoted.addr.port:
        ri.flags = (ri.flags & ~RECONF_SENT) | RECONF_INPROG
        s.event(NOTICE, "+slave-reconf-inprog", ri, "%@")
    if ri.flags & RECONF_INPROG and ri.slave_master_link_status == LINK_UP:
        ri.flags = (ri.flags & ~RECONF_INPROG) | RECONF_DONE
        s.event(NOTICE, "+slave-reconf-done", ri, "%@")


def _same_host(addr, host: str) -> bool:
    """An address matches a host as a replica reports it: by name or by IP, case-blind."""
    host = host.lower()
    return addr.host.lower() == host or addr.ip.lower() == host

