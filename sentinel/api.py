"""The commands a sentinel serves, with Redis Sentinel 7.0's replies and errors.

Redis in sentinel mode serves 15 commands: PING, HELLO, AUTH, CLIENT, COMMAND,
SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE, PUNSUBSCRIBE and SHUTDOWN work as on a
node (they come from the node's table), ACL is not implemented here; PUBLISH
(hellos only), INFO (the sentinel's sections), ROLE and SENTINEL are the
sentinel's own, registered in `REGISTRY` and served through a
node.commands.table.CommandTable. `build_table()` makes that table; each
command function finds the sentinel as `client.node.sentinel`.

Instances are described as Redis's addReplySentinelRedisInstance does: a map
under RESP3, a flat field list under RESP2, every value a bulk string.
"""

import node.commands  # noqa: F401  the node's command families, registered before node.info is imported
from node import info as node_info
from node.commands.args import parse_int
from node.commands.table import CommandTable, command, run_subcommand, subcommand
from node.errors import CommandError
from node.resp import NULL_ARRAY, OK, Raw, simple

from . import election, failover, hello, settings_api
from .events import WARNING, announced
from .settings_api import as_text as _text
from .instances import FAILOVER_IN_PROGRESS, FORCE_FAILOVER, HELLO_CHANNEL, MASTER, O_DOWN, S_DOWN, SENTINEL, SLAVE, STATE_NAMES, SentinelError, flags_text

REGISTRY = {}
# The node's commands a sentinel serves unchanged.
FROM_NODE = ("ping", "hello", "auth", "client", "command", "subscribe", "psubscribe", "unsubscribe", "punsubscribe", "shutdown")
_NO_MASTER = "ERR No such master with that name"


def build_table() -> CommandTable:
    table = CommandTable(only=set(FROM_NODE))
    for cmd in REGISTRY.values():
        table.add(cmd)
    return table


def _sentinel(c):
    return c.node.sentinel


def _master(c, name: bytes):
    master = _sentinel(c).master_by_name(_text(name))
    if master is None:
        raise CommandError(_NO_MASTER)
    return master


# ---- PUBLISH, ROLE, INFO ------------------------------------------------------------------


@command("publish", 3, "pubsub loading stale fast", group="pubsub", summary="Post a message to a channel", since="2.0.0", registry=REGISTRY)
def publish(c, argv):
    """Sentinels take hellos from other sentinels this way; nothing else is published here."""
    if argv[1] != HELLO_CHANNEL:
        raise CommandError("ERR Only HELLO messages are accepted by Sentinel instances.")
    hello.process_hello(_sentinel(c), _text(argv[2]))
    return 1


@command("role", 1, "noscript loading stale fast", group="server", since="2.8.12", summary="Return the role of the instance in the context of replication", registry=REGISTRY)
def role(c, argv):
    return [b"sentinel", [name.encode() for name in _sentinel(c).masters]]


_INFO_SECTIONS = ("server", "clients", "stats", "cpu", "sentinel")


@command("info", -1, "loading stale", group="server", summary="Get information and statistics about the server", registry=REGISTRY)
def info(c, argv):
    wanted = _info_sections(argv[1:])
    from_node = [name.encode() for name in _INFO_SECTIONS[:4] if name in wanted]
    text = node_info.generate(c.node, from_node) if from_node else b""
    if "sentinel" in wanted:
        text += (b"\r\n" if text else b"") + sentinel_section(_sentinel(c)).encode()
    return text  # a bulk string under RESP3 too, as Redis's sentinel replies


def _info_sections(args) -> set:
    if not args:
        return set(_INFO_SECTIONS)
    wanted = set()
    for arg in args:
        name = _text(arg).lower()
        if name in ("default", "all", "everything"):
            wanted |= set(_INFO_SECTIONS)
        elif name in _INFO_SECTIONS:
            wanted.add(name)
    return wanted


def sentinel_section(s) -> str:
    settings = s.settings
    since = (s.now() - settings.tilt_start_time) // 1000 if settings.tilt else -1
    lines = [
        "# Sentinel",
        "sentinel_masters:%d" % len(s.masters),
        "sentinel_tilt:%d" % int(settings.tilt),
        "sentinel_tilt_since_seconds:%d" % since,
        "sentinel_running_scripts:%d" % s.scripts.running,
        "sentinel_scripts_queue_length:%d" % len(s.scripts.queue),
        "sentinel_simulate_failure_flags:%d" % settings.simfailure_flags,
    ]
    for i, master in enumerate(s.masters.values()):
        addr = hello.current_master_addr(master)
        lines.append("master%d:name=%s,status=%s,address=%s:%d,slaves=%d,sentinels=%d" % (
            i, master.name, s.master_status(master), announced(addr, settings), addr.port, len(master.slaves), len(master.sentinels) + 1))
    return "\r\n".join(lines) + "\r\n"


# ---- SENTINEL -------------------------------------------------------------------------


@command("sentinel", -2, "admin loading stale", group="sentinel", since="2.8.4", summary="A container for Redis Sentinel commands", registry=REGISTRY)
def sentinel(c, argv):
    return run_subcommand(c, argv)


def _sub(name, arity, flags="admin loading stale"):
    def register(fn):
        subcommand("sentinel", name, arity, flags, fn=fn, summary=(fn.__doc__ or "").strip().split("\n")[0], registry=REGISTRY)
        return fn

    return register


def describe_instance(s, ri) -> dict:
    """The fields of one instance, in Redis's order (addReplySentinelRedisInstance)."""
    now = s.now()
    link = ri.link
    fields = [("name", ri.name), ("ip", announced(ri.addr, s.settings)), ("port", ri.addr.port), ("runid", ri.runid or ""),
              ("flags", flags_text(ri)), ("link-pending-commands", link.pending_commands), ("link-refcount", 1)]
    if ri.flags & FAILOVER_IN_PROGRESS:
        fields.append(("failover-state", STATE_NAMES[ri.failover_state]))
    fields += [("last-ping-sent", now - link.act_ping_time if link.act_ping_time else 0), ("last-ok-ping-reply", now - link.last_avail_time),
               ("last-ping-reply", now - link.last_pong_time)]
    if ri.flags & S_DOWN:
        fields.append(("s-down-time", now - ri.s_down_since_time))
    if ri.flags & O_DOWN:
        fields.append(("o-down-time", now - ri.o_down_since_time))
    fields.append(("down-after-milliseconds", ri.down_after_period))
    if ri.flags & (MASTER | SLAVE):
        fields += [("info-refresh", now - ri.info_refresh if ri.info_refresh else 0), ("role-reported", "master" if ri.role_reported == MASTER else "slave"),
                   ("role-reported-time", now - ri.role_reported_time)]
    if ri.flags & MASTER:
        fields += [("config-epoch", ri.config_epoch), ("num-slaves", len(ri.slaves)), ("num-other-sentinels", len(ri.sentinels)), ("quorum", ri.quorum),
                   ("failover-timeout", ri.failover_timeout), ("parallel-syncs", ri.parallel_syncs)]
        if ri.notification_script:
            fields.append(("notification-script", ri.notification_script))
        if ri.client_reconfig_script:
            fields.append(("client-reconfig-script", ri.client_reconfig_script))
    if ri.flags & SLAVE:
        fields += [("master-link-down-time", ri.master_link_down_time), ("master-link-status", "ok" if ri.slave_master_link_status == 0 else "err"),
                   ("master-host", ri.slave_master_host or "?"), ("master-port", ri.slave_master_port), ("slave-priority", ri.slave_priority),
                   ("slave-repl-offset", ri.slave_repl_offset), ("replica-announced", ri.replica_announced)]
    if ri.flags & SENTINEL:
        fields += [("last-hello-message", now - ri.last_hello_time), ("voted-leader", ri.leader or "?"), ("voted-leader-epoch", ri.leader_epoch)]
    return {name.encode(): str(value).encode() for name, value in fields}


def _instances(s, instances) -> list:
    # Replicas configured with replica-announced no stay out of the list.
    return [describe_instance(s, ri) for ri in instances if not (ri.flags & SLAVE and not ri.replica_announced)]


@_sub("masters", 2)
def sentinel_masters(c, argv):
    """Show a list of monitored masters and their state."""
    s = _sentinel(c)
    return _instances(s, s.masters.values())


@_sub("master", 3)
def sentinel_master(c, argv):
    """Show the state and info of the specified master."""
    return describe_instance(_sentinel(c), _master(c, argv[2]))


@_sub("replicas", 3)
def sentinel_replicas(c, argv):
    """Show a list of replicas for this master and their state."""
    return _instances(_sentinel(c), _master(c, argv[2]).slaves.values())


@_sub("slaves", 3)
def sentinel_slaves(c, argv):
    """Show a list of replicas for this master and their state."""
    return sentinel_replicas(c, argv)


@_sub("sentinels", 3)
def sentinel_sentinels(c, argv):
    """Show a list of Sentinel instances for this master and their state."""
    return _instances(_sentinel(c), _master(c, argv[2]).sentinels.values())


@_sub("myid", 2)
def sentinel_myid(c, argv):
    """Return the ID of the Sentinel instance."""
    return _sentinel(c).settings.myid.encode()


@_sub("get-master-addr-by-name", 3, "admin loading stale fast")
def sentinel_get_master_addr_by_name(c, argv):
    """Return the ip and port number of the master with that name."""
    s = _sentinel(c)
    master = s.master_by_name(_text(argv[2]))
    if master is None:
        return NULL_ARRAY
    addr = hello.current_master_addr(master)
    return [announced(addr, s.settings).encode(), str(addr.port).encode()]


@_sub("is-master-down-by-addr", 6, "admin loading stale fast")
def sentinel_is_master_down_by_addr(c, argv):
    """Check if the master specified by ip:port is down from current Sentinel's point of view."""
    s = _sentinel(c)
    port = parse_int(argv[3])
    req_epoch = parse_int(argv[4])
    host = _text(argv[2])
    master = next((m for m in s.masters.values() if m.addr.same(host, port) or (m.addr.ip == host and m.addr.port == port)), None)
    down = int(not s.settings.tilt and master is not None and bool(master.flags & S_DOWN))
    leader, leader_epoch = None, 0
    if master is not None and argv[5] != b"*":
        leader, leader_epoch = election.vote_leader(s, master, req_epoch, _text(argv[5]))
    return [down, (leader or "*").encode(), leader_epoch]


@_sub("failover", 3)
def sentinel_failover(c, argv):
    """Manually failover a master node without asking for agreement from other Sentinels"""
    s = _sentinel(c)
    master = _master(c, argv[2])
    if master.flags & FAILOVER_IN_PROGRESS:
        raise CommandError("INPROG Failover already in progress")
    if failover.decide.select_slave(master, s.now(), s.settings) is None:
        raise CommandError("NOGOODSLAVE No suitable replica to promote")
    if s.log is not None:
        s.log.warning("Executing user requested FAILOVER of '%s'" % master.name)
    failover.start(s, master)
    master.flags |= FORCE_FAILOVER
    return OK


@_sub("ckquorum", 3)
def sentinel_ckquorum(c, argv):
    """Check if the current Sentinel configuration is able to reach the quorum needed to failover a master and the majority needed to authorize the failover."""
    master = _master(c, argv[2])
    usable = 1 + sum(1 for ri in master.sentinels.values() if not ri.flags & (S_DOWN | O_DOWN))
    voters = len(master.sentinels) + 1
    no_quorum, no_auth = usable < master.quorum, usable < voters // 2 + 1
    if not no_quorum and not no_auth:
        return simple("OK %d usable Sentinels. Quorum and failover authorization can be reached" % usable)
    reasons = []
    if no_quorum:
        reasons.append("Not enough available Sentinels to reach the specified quorum for this master")
    if no_auth:
        reasons.append("Not enough available Sentinels to reach the majority and authorize a failover")
    raise CommandError("NOQUORUM %d usable Sentinels. %s" % (usable, ". ".join(reasons)))


@_sub("monitor", 6)
def sentinel_monitor(c, argv):
    """Start monitoring a new master with the specified name, ip, port and quorum."""
    s = _sentinel(c)
    quorum = parse_int(argv[5], "ERR Invalid quorum")
    port = parse_int(argv[4], "ERR Invalid port")
    if quorum <= 0:
        raise CommandError("ERR Quorum must be 1 or greater.")
    try:
        s.make_addr(_text(argv[3]), 1)
        master = s.monitor(_text(argv[2]), _text(argv[3]), port, quorum)
    except SentinelError as e:
        raise CommandError(str(e)) from None
    s.flush_config()
    s.event(WARNING, "+monitor", master, "%@ quorum %d", master.quorum)
    return OK


@_sub("remove", 3)
def sentinel_remove(c, argv):
    """Remove master from Sentinel's monitor list."""
    s = _sentinel(c)
    master = _master(c, argv[2])
    s.remove(master.name)
    s.flush_config()
    return OK


@_sub("reset", 3)
def sentinel_reset(c, argv):
    """Reset masters for specific master name matching this pattern."""
    return _sentinel(c).reset_masters(argv[2])


@_sub("flushconfig", 2)
def sentinel_flushconfig(c, argv):
    """Force Sentinel to rewrite its configuration on disk, including the current Sentinel state."""
    _sentinel(c).flush_config()
    return OK


@_sub("info-cache", -3)
def sentinel_info_cache(c, argv):
    """Return last cached INFO output from masters and all its replicas."""
    s = _sentinel(c)
    now = s.now()
    names = list(dict.fromkeys(_text(a) for a in argv[2:]))
    masters = [s.masters[n] for n in names if n in s.masters]
    out = []
    for master in masters:
        entries = [[now - ri.info_refresh if ri.info_refresh else 0, ri.info or None] for ri in [master, *master.slaves.values()]]
        out += [master.name.encode(), entries]
    return out


@_sub("pending-scripts", 2)
def sentinel_pending_scripts(c, argv):
    """Get pending scripts information."""
    return _sentinel(c).scripts.pending_reply()


@_sub("simulate-failure", -3)
def sentinel_simulate_failure(c, argv):
    """Simulate a Sentinel crash."""
    s = _sentinel(c)
    flags = 0
    for arg in argv[2:]:
        name = _text(arg).lower()
        if name == "crash-after-election":
            flags |= failover.SIMFAILURE_CRASH_AFTER_ELECTION
            if s.log is not None:
                s.log.warning("Failure simulation: this Sentinel will crash after being successfully elected as failover leader")
        elif name == "crash-after-promotion":
            flags |= failover.SIMFAILURE_CRASH_AFTER_PROMOTION
            if s.log is not None:
                s.log.warning("Failure simulation: this Sentinel will crash after promoting the selected replica to master")
        elif name == "help":
            return [b"crash-after-election", b"crash-after-promotion"]
        else:
            raise CommandError("ERR Unknown failure simulation specified")
    s.settings.simfailure_flags = flags
    return OK


@_sub("debug", -2)
def sentinel_debug(c, argv):
    """Show a list of configurable time parameters and their values (milliseconds)."""
    return settings_api.debug(_sentinel(c), argv[2:])


@_sub("set", -5)
def sentinel_set(c, argv):
    """Set configuration parameters for certain masters."""
    return settings_api.set_master_options(_sentinel(c), _master(c, argv[2]), argv[3:])


@_sub("config", -3)
def sentinel_config(c, argv):
    """Configure Sentinel."""
    sub = argv[2].lower()
    if sub == b"set" and len(argv) == 5:
        return settings_api.config_set(_sentinel(c), _text(argv[3]), _text(argv[4]))
    if sub == b"get" and len(argv) == 4:
        return settings_api.config_get(_sentinel(c), argv[3])
    raise CommandError("ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.")


_HELP = [
    "SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CKQUORUM <master-name>",
    "    Check if the current Sentinel configuration is able to reach the quorum",
    "    needed to failover a master and the majority needed to authorize the",
    "    failover.",
    "CONFIG SET <param> <value>",
    "    Set a global Sentinel configuration parameter.",
    "CONFIG GET <param>",
    "    Get global Sentinel configuration parameter.",
    "DEBUG [<param> <value> ...]",
    "    Show a list of configurable time parameters and their values (milliseconds).",
    "    Or update current configurable parameters values (one or more).",
    "GET-MASTER-ADDR-BY-NAME <master-name>",
    "    Return the ip and port number of the master with that name.",
    "FAILOVER <master-name>",
    "    Manually failover a master node without asking for agreement from other",
    "    Sentinels",
    "FLUSHCONFIG",
    "    Force Sentinel to rewrite its configuration on disk, including the current",
    "    Sentinel state.",
    "INFO-CACHE <master-name>",
    "    Return last cached INFO output from masters and all its replicas.",
    "IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
    "    Check if the master specified by ip:port is down from current Sentinel's",
    "    point of view.",
    "MASTER <master-name>",
    "    Show the state and info of the specified master.",
    "MASTERS",
    "    Show a list of monitored masters and their state.",
    "MONITOR <name> <ip> <port> <quorum>",
    "    Start monitoring a new master with the specified name, ip, port and quorum.",
    "MYID",
    "    Return the ID of the Sentinel instance.",
    "PENDING-SCRIPTS",
    "    Get pending scripts information.",
    "REMOVE <master-name>",
    "    Remove master from Sentinel's monitor list.",
    "REPLICAS <master-name>",
    "    Show a list of replicas for this master and their state.",
    "RESET <pattern>",
    "    Reset masters for specific master name matching this pattern.",
    "SENTINELS <master-name>",
    "    Show a list of Sentinel instances for this master and their state.",
    "SET <master-name> <option> <value> [<option> <value> ...]",
    "    Set configuration parameters for certain masters.",
    "SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]",
    "    Simulate a Sentinel crash.",
    "HELP",
    "    Prints this help.",
]


@_sub("help", 2, "loading stale")
def sentinel_help(c, argv):
    """Show helpful text about the different subcommands."""
    return Raw(b"*%d\r\n" % len(_HELP) + b"".join(simple(line) for line in _HELP))

