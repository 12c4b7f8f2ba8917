"""Gossip: hello messages on `__sentinel__:hello`.

Every publish-period each sentinel publishes, on every instance it monitors
(masters, replicas, and the other sentinels, which take it through PUBLISH):

    ip,port,runid,current_epoch,master_name,master_ip,master_port,master_config_epoch

From the hellos of others a sentinel learns them (+sentinel), catches up with a
newer epoch (+new-epoch), and adopts a master configuration with a greater
config epoch (+config-update-from, +switch-master).
"""

from hiredis import ReplyError

from . import monitor, scripts
from .events import NOTICE, WARNING, announced
from .instances import FAILOVER_IN_PROGRESS, HELLO_CHANNEL, MASTER, SENTINEL, STATE_RECONF_SLAVES, SentinelError


def current_master_addr(master):
    """The address to announce: the promoted replica's once the failover reached
    reconf-slaves (it has accepted the new role and config epoch), else the master's."""
    if master.flags & FAILOVER_IN_PROGRESS and master.promoted_slave is not None and master.failover_state >= STATE_RECONF_SLAVES:
        return master.promoted_slave.addr
    return master.addr


def hello_payload(s, ri, ip: str) -> str:
    settings = s.settings
    master = ri if ri.flags & MASTER else ri.master
    addr = current_master_addr(master)
    port = settings.announce_port or s.port
    return "%s,%d,%s,%d,%s,%s,%d,%d" % (ip, port, settings.myid, settings.current_epoch, master.name, announced(addr, settings), addr.port, master.config_epoch)


def send_hello(s, ri) -> bool:
    """PUBLISH our hello on the instance (sentinelSendHello). Our IP is announce-ip, else our
    address on the connection; without either there is nothing to announce."""
    link = ri.link
    if link.disconnected or link.cc is None:
        return False
    ip = s.settings.announce_ip or link.cc.local_ip
    if not ip:
        return False
    payload = hello_payload(s, ri, ip)

    def on_reply(reply):
        # Only a successful PUBLISH counts; otherwise it is retried on the next tick.
        if not isinstance(reply, ReplyError):
            ri.last_pub_time = s.now()

    return monitor.send(ri, ["PUBLISH", HELLO_CHANNEL, payload], on_reply)


def force_hello_update(s, master):
    """Make every instance of the master due for a hello on the next tick."""
    period = s.settings.publish_period + 1
    for ri in [master, *master.instances()]:
        ri.last_pub_time = s.now() - period


def receive(s, ri, reply):
    """A message on an instance's pub/sub connection (sentinelReceiveHelloMessages)."""
    link = ri.link
    link.pc_last_activity = s.now()
    if not isinstance(reply, list) or len(reply) != 3 or not all(isinstance(part, bytes) for part in reply):
        return
    if reply[0] != b"message":
        return
    text = reply[2].decode("utf-8", "replace")
    if s.settings.myid in text:
        return  # our own hello
    process_hello(s, text)


def process_hello(s, text: str):
    """Learn from another sentinel's hello (sentinelProcessHelloMessage)."""
    token = text.split(",")
    if len(token) != 8:
        return
    try:
        port, current_epoch, master_port, master_config_epoch = int(token[1]), int(token[3]), int(token[6]), int(token[7])
    except ValueError:
        return
    ip, runid, master_name, master_ip = token[0], token[2], token[4], token[5]
    master = s.master_by_name(master_name)
    if master is None:
        return
    si = _known_sentinel(s, master, ip, port, runid)
    if current_epoch > s.settings.current_epoch:
        s.settings.current_epoch = current_epoch
        s.flush_config()
        s.event(WARNING, "+new-epoch", master, "%d", current_epoch)
    if si is not None and master.config_epoch < master_config_epoch:
        _adopt_config(s, master, si, master_ip, master_port, master_config_epoch)
    if si is not None:
        si.last_hello_time = s.now()


def _adopt_config(s, master, si, master_ip, master_port, config_epoch):
    """A newer configuration of the master: switch to its address (unless it is one we cannot
    use, such as a host name while resolve-hostnames is off)."""
    if master_port != master.addr.port or announced(master.addr, s.settings) != master_ip:
        try:
            s.make_addr(master_ip, master_port)
        except SentinelError:
            if s.log is not None:
                s.log.warning("Ignoring the configuration of %s from %s: bad master address %s:%d" % (master.name, si.name, master_ip, master_port))
            return
        master.config_epoch = config_epoch
        s.event(WARNING, "+config-update-from", si, "%@")
        s.event(WARNING, "+switch-master", master, "%s %s %d %s %d", master.name, announced(master.addr, s.settings), master.addr.port, master_ip, master_port)
        old_addr = master.addr
        s.reset_master_and_change_address(master, master_ip, master_port)
        scripts.client_reconfig(s, master, "observer", old_addr, master.addr)
    else:
        master.config_epoch = config_epoch


def _known_sentinel(s, master, ip, port, runid):
    """The sentinel that sent the hello, added if new. A known run id at a new address
    moves (+sentinel-address-switch); another sentinel at that address is dropped
    everywhere (+sentinel-invalid-addr), as its address cannot be its own any more."""
    for si in master.sentinels.values():
        if si.runid == runid and si.addr.same(ip, port):
            return si
    removed = _remove_sentinel(s, master, runid)
    if removed:
        s.event(NOTICE, "+sentinel-address-switch", master, "%@ ip %s port %d for %s", ip, port, runid)
    else:
        other = next((si for si in master.sentinels.values() if si.addr.same(ip, port)), None)
        if other is not None:
            s.event(NOTICE, "+sentinel-invalid-addr", other, "%@")
            for m in s.masters.values():
                _remove_sentinel(s, m, other.runid)
    try:
        si = s.create_instance(runid, SENTINEL, ip, port, master.quorum, master)
    except SentinelError:
        return None
    si.runid = runid
    if not removed:
        s.event(NOTICE, "+sentinel", si, "%@")
    else:
        _update_address_everywhere(s, si)
    s.flush_config()
    return si


def _remove_sentinel(s, master, runid) -> int:
    gone = [name for name, si in master.sentinels.items() if si.runid == runid]
    for name in gone:
        monitor.close_link(master.sentinels.pop(name))
    return len(gone)


def _update_address_everywhere(s, si):
    """The same sentinel monitors other masters too: give it the new address there as well."""
    for master in s.masters.values():
        for other in master.sentinels.values():
            if other is not si and other.runid == si.runid and not other.addr.same(si.addr.host, si.addr.port):
                monitor.close_link(other)
                other.addr = si.addr
