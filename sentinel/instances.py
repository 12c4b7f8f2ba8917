"""What a sentinel knows: the masters it monitors, their replicas and the other sentinels.

One `Instance` class for all three kinds, as Redis's sentinelRedisInstance: a master
holds its replicas and the other sentinels watching it; every instance has a `Link`
(the timestamps of its connections; the connections themselves live in
sentinel.connection). Times are milliseconds on the sentinel's clock.

`Settings` holds the global state (my id, the current epoch, TILT, announce
settings) and the periods Redis makes tunable with SENTINEL DEBUG.
"""

# Instance flags (Redis's SRI_*).
MASTER = 1 << 0
SLAVE = 1 << 1
SENTINEL = 1 << 2
S_DOWN = 1 << 4
O_DOWN = 1 << 5
MASTER_DOWN = 1 << 6  # a sentinel with this flag said our master is down
FAILOVER_IN_PROGRESS = 1 << 7
PROMOTED = 1 << 8
RECONF_SENT = 1 << 9
RECONF_INPROG = 1 << 10
RECONF_DONE = 1 << 11
FORCE_FAILOVER = 1 << 12
SCRIPT_KILL_SENT = 1 << 13
MASTER_REBOOT = 1 << 14

# Failover states, in order (Redis's SENTINEL_FAILOVER_STATE_*).
STATE_NONE = 0
STATE_WAIT_START = 1
STATE_SELECT_SLAVE = 2
STATE_SEND_SLAVEOF_NOONE = 3
STATE_WAIT_PROMOTION = 4
STATE_RECONF_SLAVES = 5
STATE_UPDATE_CONFIG = 6
STATE_NAMES = ("none", "wait_start", "select_slave", "send_slaveof_noone", "wait_promotion", "reconf_slaves", "update_config")

LINK_UP = 0
LINK_DOWN = 1

HELLO_CHANNEL = b"__sentinel__:hello"
DEFAULT_PARALLEL_SYNCS = 1
DEFAULT_SLAVE_PRIORITY = 100
MAX_PENDING_COMMANDS = 100
MAX_DESYNC = 1000  # ms of random delay added to failover start times

# SENTINEL DEBUG's parameters: name -> (attribute, default ms).
DEBUG_PARAMS = (
    ("info-period", "info_period", 10000),
    ("ping-period", "ping_period", 1000),
    ("ask-period", "ask_period", 1000),
    ("publish-period", "publish_period", 2000),
    ("default-down-after", "default_down_after", 30000),
    ("default-failover-timeout", "default_failover_timeout", 180000),
    ("tilt-trigger", "tilt_trigger", 2000),
    ("tilt-period", "tilt_period", 30000),
    ("slave-reconf-timeout", "slave_reconf_timeout", 10000),
    ("min-link-reconnect-period", "min_link_reconnect_period", 15000),
    ("election-timeout", "election_timeout", 10000),
    ("script-max-runtime", "script_max_runtime", 60000),
    ("script-retry-delay", "script_retry_delay", 30000),
)


class SentinelError(Exception):
    """A request the sentinel refuses; the text is the error reply (without the '-')."""


class Addr:
    """An instance's address: the host as configured or announced, and the IP it resolves
    to (the same text unless resolve-hostnames is on and the host is a name)."""

    __slots__ = ("host", "port", "ip")

    def __init__(self, host: str, port: int, ip: str = None):
        self.host = host
        self.port = port
        self.ip = ip or host

    def __eq__(self, other):
        return isinstance(other, Addr) and self.port == other.port and self.host.lower() == other.host.lower()

    def __hash__(self):
        return hash((self.host.lower(), self.port))

    def __repr__(self):
        return "%s:%d" % (self.host, self.port)

    def same(self, host: str, port: int) -> bool:
        return self.port == port and self.host.lower() == host.lower()


class Link:
    """The state of an instance's connections (Redis's instanceLink), without the I/O."""

    def __init__(self, now: int):
        self.cc = None  # sentinel.connection.Connection for commands
        self.pc = None  # and for pub/sub (masters and replicas only)
        self.disconnected = True
        self.pending_commands = 0
        self.cc_conn_time = 0
        self.pc_conn_time = 0
        self.pc_last_activity = 0
        self.last_avail_time = now  # last valid PING reply
        self.act_ping_time = now  # time of the oldest PING still unanswered, 0 if none
        self.last_ping_time = 0
        self.last_pong_time = now  # last reply of any kind to a PING
        self.last_reconn_time = 0


class Settings:
    """Global sentinel state and tunables."""

    def __init__(self):
        self.myid = ""
        self.current_epoch = 0
        self.tilt = False
        self.tilt_start_time = 0
        self.previous_time = 0
        self.announce_ip = ""
        self.announce_port = 0
        self.announce_hostnames = False
        self.resolve_hostnames = False
        self.sentinel_user = ""
        self.sentinel_pass = ""
        self.deny_scripts_reconfig = True
        self.simfailure_flags = 0
        for _, attr, default in DEBUG_PARAMS:
            setattr(self, attr, default)


class Instance:
    """A master, a replica (kind SLAVE, named "ip:port") or another sentinel (named by its run id)."""

    def __init__(self, name: str, flags: int, addr: Addr, quorum: int, master, now: int, settings: Settings):
        self.name = name
        self.flags = flags
        self.addr = addr
        self.master = master  # the master, for replicas and sentinels
        self.runid = None
        self.config_epoch = 0
        self.link = Link(now)
        self.last_pub_time = 0
        self.last_hello_time = now
        self.last_master_down_reply_time = now
        self.s_down_since_time = 0
        self.o_down_since_time = 0
        self.down_after_period = master.down_after_period if master is not None else settings.default_down_after
        self.master_reboot_down_after_period = 0
        self.master_reboot_since_time = 0
        self.info_refresh = 0
        self.info = b""  # the last INFO text (SENTINEL INFO-CACHE)
        self.role_reported = flags & (MASTER | SLAVE)
        self.role_reported_time = now
        self.slave_conf_change_time = now
        # Master only.
        self.sentinels = {}  # name (run id) -> Instance
        self.slaves = {}  # "ip:port" -> Instance
        self.quorum = quorum
        self.parallel_syncs = DEFAULT_PARALLEL_SYNCS
        self.auth_pass = ""
        self.auth_user = ""
        self.notification_script = ""
        self.client_reconfig_script = ""
        self.renamed_commands = {}
        self.master_repl_offset = 0  # from a master's INFO: the manual failover waits for it
        # Replica only.
        self.master_link_down_time = 0
        self.slave_priority = DEFAULT_SLAVE_PRIORITY
        self.replica_announced = 1
        self.slave_reconf_sent_time = 0
        self.slave_master_host = None
        self.slave_master_port = 0
        self.slave_master_link_status = LINK_DOWN
        self.slave_repl_offset = 0
        self.unconfirmed = False  # a triokv node refusing PING with -UNCONFIRMED (replication.mastership)
        self.converted_time = 0  # when we last sent it REPLICAOF to make it a replica (+convert-to-slave)
        # Failover.
        self.leader = None  # master: the sentinel we voted for; sentinel: the one it voted for
        self.leader_epoch = 0
        self.failover_epoch = 0
        self.failover_state = STATE_NONE
        self.failover_state_change_time = 0
        self.failover_start_time = 0
        self.failover_timeout = master.failover_timeout if master is not None else settings.default_failover_timeout
        self.failover_delay_logged = 0
        self.promoted_slave = None
        self.catchup = None  # sentinel.failover.Catchup during a write-safe manual failover
        self.sync_replicas = 0  # the master's synchronous-replicas (triokv), read with CONFIG GET
        self.fence = None  # sentinel.fencing.Fence while the replicas of a synchronous master are fenced

    @property
    def kind(self) -> str:
        if self.flags & MASTER:
            return "master"
        return "slave" if self.flags & SLAVE else "sentinel"

    def instances(self):
        """A master's replicas and sentinels (a copy: handlers may add or remove some)."""
        return list(self.slaves.values()) + list(self.sentinels.values())


def slave_name(host: str, port: int) -> str:
    """A replica's name, as Redis's anetFormatAddr: "[ipv6]:port" or "host:port"."""
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)


def flags_text(ri: Instance) -> str:
    """The flags field of SENTINEL MASTER/REPLICAS/SENTINELS, in Redis's order."""
    names = []
    f = ri.flags
    for bit, name in ((S_DOWN, "s_down"), (O_DOWN, "o_down"), (MASTER, "master"), (SLAVE, "slave"), (SENTINEL, "sentinel")):
        if f & bit:
            names.append(name)
    if ri.link.disconnected:
        names.append("disconnected")
    for bit, name in ((MASTER_DOWN, "master_down"), (FAILOVER_IN_PROGRESS, "failover_in_progress"), (PROMOTED, "promoted"),
                      (RECONF_SENT, "reconf_sent"), (RECONF_INPROG, "reconf_inprog"), (RECONF_DONE, "reconf_done"),
                      (FORCE_FAILOVER, "force_failover"), (SCRIPT_KILL_SENT, "script_kill_sent"), (MASTER_REBOOT, "master_reboot")):
        if f & bit:
            names.append(name)
    return ",".join(names)
