"""The monitoring half: links to every instance, PING, INFO, and SDOWN.

Every instance gets a command connection; masters and replicas also a pub/sub
one subscribed to `__sentinel__:hello` (sentinel.hello reads it). Each tick an
instance is PINGed when its last reply is older than the ping period, sent INFO
every info-period (every second while its master is down or failing over), and
sent our hello every publish-period. Replies only update observed fields; the
decisions read them later (sentinel.decide).
"""

from hiredis import ReplyError

from . import decide, hello, refresh
from .connection import Connection
from .events import WARNING, announced
from .instances import HELLO_CHANNEL, MASTER, MAX_PENDING_COMMANDS, SCRIPT_KILL_SENT, SENTINEL, SLAVE, S_DOWN, MASTER_REBOOT


# ---- connections --------------------------------------------------------------------


def reconnect(s, ri):
    """Open the missing connections of a link that is down, at most once per ping period."""
    link = ri.link
    if not link.disconnected or ri.addr.port == 0:
        return
    now = s.now()
    if now - link.last_reconn_time < s.settings.ping_period:
        return
    link.last_reconn_time = now
    if link.cc is None:
        link.cc = _open(s, ri, None)
        link.pending_commands = 0
        link.cc_conn_time = now
        _prepare(s, ri, link.cc, "cmd")
        send_ping(s, ri)  # a PING at once on a new connection
    if ri.flags & (MASTER | SLAVE) and link.pc is None:
        link.pc = _open(s, ri, lambda reply: hello.receive(s, ri, reply))
        link.pc_conn_time = now
        link.pc_last_activity = now
        _prepare(s, ri, link.pc, "pubsub")
        link.pc.command(_mapped(ri, ["SUBSCRIBE", HELLO_CHANNEL]))
    if link.cc is not None and (ri.flags & SENTINEL or link.pc is not None):
        link.disconnected = False


def _open(s, ri, on_push):
    timeout = min(max(ri.down_after_period, 1000), s.settings.min_link_reconnect_period) / 1000.0
    # With resolve-hostnames a name is resolved at each connection: a container that comes
    # back with another IP is found again.
    host = ri.addr.host if s.settings.resolve_hostnames else ri.addr.ip
    conn = Connection(host, ri.addr.port, s.open_stream, timeout, lambda c: connection_lost(ri, c), on_push, s.log)
    s.nursery.start_soon(conn.run)
    return conn


def _prepare(s, ri, conn, kind):
    """AUTH when a password applies, then a client name other tools recognize."""
    user, password = _credentials(s, ri)
    if password:
        args = ["AUTH", user, password] if user else ["AUTH", password]
        _queue(ri, conn, args)
    _queue(ri, conn, ["CLIENT", "SETNAME", "sentinel-%s-%s" % (s.settings.myid[:8], kind)])


def _credentials(s, ri):
    if ri.flags & SENTINEL:
        return s.settings.sentinel_user, s.settings.sentinel_pass
    master = ri if ri.flags & MASTER else ri.master
    return master.auth_user, master.auth_pass


def _queue(ri, conn, args):
    """A command whose reply does not matter (it still counts as pending on the command link)."""
    if conn is ri.link.cc:
        if conn.command(_mapped(ri, args), lambda reply: _done(ri, conn)):
            ri.link.pending_commands += 1
    else:
        conn.command(_mapped(ri, args))


def _done(ri, conn):
    if ri.link.cc is conn:
        ri.link.pending_commands -= 1


def connection_lost(ri, conn):
    """A connection failed or the peer closed it: the link is down until reconnected."""
    link = ri.link
    if link.cc is conn:
        link.cc = None
        link.pending_commands = 0
    elif link.pc is conn:
        link.pc = None
    else:
        return  # an old connection, already replaced
    link.disconnected = True


def close_connection(ri, conn):
    if conn is None:
        return
    conn.close()
    connection_lost(ri, conn)


def close_link(ri):
    close_connection(ri, ri.link.cc)
    close_connection(ri, ri.link.pc)


# ---- sending ------------------------------------------------------------------------


def _mapped(ri, args):
    """The command under its renamed name on this master's instances (sentinel rename-command)."""
    master = ri if ri.flags & MASTER else ri.master
    if master is None or not master.renamed_commands:
        return args
    name = master.renamed_commands.get(str(args[0]).lower())
    return [name, *args[1:]] if name else args


def send(ri, args, callback=None) -> bool:
    """Send a command on the instance's command connection; `callback(reply)` gets the reply.
    False when there is no connection (a connection still being opened queues it)."""
    link = ri.link
    conn = link.cc
    if conn is None:
        return False

    def on_reply(reply):
        if link.cc is conn:
            link.pending_commands -= 1
        if callback is not None:
            callback(reply)

    if not conn.command(_mapped(ri, args), on_reply):
        return False
    link.pending_commands += 1
    return True


def send_periodic_commands(s, ri):
    """INFO, PING and hello when each is due (sentinelSendPeriodicCommands)."""
    link = ri.link
    if link.disconnected or link.pending_commands >= MAX_PENDING_COMMANDS:
        return
    now = s.now()
    settings = s.settings
    if not ri.flags & SENTINEL and (ri.info_refresh == 0 or now - ri.info_refresh > decide.info_period_for(ri, settings)):
        send(ri, ["INFO"], lambda reply: on_info_reply(s, ri, reply))
        if ri.flags & MASTER:
            send(ri, ["CONFIG", "GET", "synchronous-replicas"], lambda reply: on_sync_replicas_reply(ri, reply))
    ping_period = decide.ping_period_for(ri, settings)
    if now - link.last_pong_time > ping_period and now - link.last_ping_time > ping_period / 2:
        send_ping(s, ri)
    # No hello to a master whose writes we paused: PUBLISH would wait behind the pause, and
    # every command after it on this connection with it.
    if now - ri.last_pub_time > settings.publish_period and not (ri.flags & MASTER and ri.catchup is not None):
        hello.send_hello(s, ri)


def send_ping(s, ri) -> bool:
    if not send(ri, ["PING"], lambda reply: on_ping_reply(s, ri, reply)):
        return False
    link = ri.link
    link.last_ping_time = s.now()
    # The active ping time is the oldest PING still unanswered.
    if link.act_ping_time == 0:
        link.act_ping_time = link.last_ping_time
    return True


def on_ping_reply(s, ri, reply):
    """PONG, -LOADING and -MASTERDOWN mean the instance is up; -BUSY while SDOWN gets a
    SCRIPT KILL; any reply at all shows the link is alive."""
    link = ri.link
    now = s.now()
    text = str(reply) if isinstance(reply, ReplyError) else reply.decode("utf-8", "replace") if isinstance(reply, bytes) else None
    if text is not None:
        ri.unconfirmed = text.startswith("UNCONFIRMED")
        if text.startswith(("PONG", "LOADING", "MASTERDOWN")):
            link.last_avail_time = now
            link.act_ping_time = 0
            if ri.flags & MASTER_REBOOT and text.startswith("PONG"):
                ri.flags &= ~MASTER_REBOOT
        elif text.startswith("BUSY") and ri.flags & S_DOWN and not ri.flags & SCRIPT_KILL_SENT:
            if send(ri, ["SCRIPT", "KILL"]):
                ri.flags |= SCRIPT_KILL_SENT
    link.last_pong_time = now


def on_info_reply(s, ri, reply):
    if isinstance(reply, bytes):
        refresh.refresh_from_info(s, ri, reply)


def on_sync_replicas_reply(ri, reply):
    """triokv's synchronous-replicas N (a failover must then fence the replicas); a Redis
    master has no such setting and answers an empty list."""
    if isinstance(reply, list) and len(reply) == 2 and isinstance(reply[1], bytes) and reply[1].isdigit():
        ri.sync_replicas = int(reply[1])
    elif isinstance(reply, list) and not reply:
        ri.sync_replicas = 0


def send_slaveof(s, ri, addr) -> bool:
    """REPLICAOF host port (or NO ONE for addr None) in a transaction that also rewrites the
    instance's config and disconnects its clients, so that they ask the sentinels again
    (sentinelSendSlaveOf). Replies are not checked: the next INFO shows the effect."""
    if addr is None:
        host, port = "NO", "ONE"
    else:
        host, port = announced(addr, s.settings), str(addr.port)
    for args in (["MULTI"], ["SLAVEOF", host, port], ["CONFIG", "REWRITE"], ["CLIENT", "KILL", "TYPE", "normal"], ["CLIENT", "KILL", "TYPE", "pubsub"], ["EXEC"]):
        if not send(ri, args):
            return False
    return True


# ---- SDOWN ------------------------------------------------------------------------------


def check_subjectively_down(s, ri):
    """Reopen dead-looking connections, then set or clear SDOWN (sentinelCheckSubjectivelyDown)."""
    now = s.now()
    close_cc, close_pc = decide.stale_connections(ri, now, s.settings)
    if close_cc:
        close_connection(ri, ri.link.cc)
    if close_pc:
        close_connection(ri, ri.link.pc)
    if decide.is_sdown(ri, now, s.settings):
        if not ri.flags & S_DOWN:
            s.event(WARNING, "+sdown", ri, "%@")
            ri.s_down_since_time = now
            ri.flags |= S_DOWN
    elif ri.flags & S_DOWN:
        s.event(WARNING, "-sdown", ri, "%@")
        ri.flags &= ~(S_DOWN | SCRIPT_KILL_SENT)
