"""Per-connection state: selected db, auth, MULTI queue, WATCHes, subscriptions, output buffer."""

import time


class Block:
    """Returned by a blocking command that found nothing to serve.

    `retry(client)` re-runs the command's serving half; it returns a reply value
    when it could serve, or None to stay blocked. `on_timeout` is the reply
    when the timeout passes.
    """

    __slots__ = ("keys", "timeout", "retry", "on_timeout", "ready_key")

    def __init__(self, keys, timeout, retry, on_timeout):
        self.keys = keys
        self.timeout = timeout  # seconds, 0 = forever
        self.retry = retry
        self.on_timeout = on_timeout
        # The key serve_blocked is serving when it calls retry: Redis 7.0 serves
        # a client blocked on several keys from the one that became ready.
        self.ready_key = None


class Client:
    """One connected client. The I/O layer owns the socket; this holds everything else."""

    def __init__(self, node, cid: int, addr: str = "", laddr: str = "", fd: int = -1):
        self.node = node
        self.id = cid
        self.addr = addr
        self.laddr = laddr
        self.fd = fd
        self.dbnum = 0
        self.db = node.keyspace.dbs[0]
        self.resp3 = False
        self.authenticated = not node.config["requirepass"]
        self.user = "default"
        self.name = b""
        self.lib_name = b""
        self.lib_ver = b""
        self.multi = None  # list of (command, argv) while in MULTI
        self.multi_error = False
        self.in_exec = False  # running queued commands inside EXEC: blocking commands must not block
        self.propagate_as = None  # argvs to propagate instead of the command as sent
        self.watched = []  # (db, key) WATCHed keys; db.watched[key][client] holds expired-at-WATCH
        self.dirty_cas = False
        # Subscriptions as insertion-ordered sets (dicts of None): UNSUBSCRIBE and
        # PUNSUBSCRIBE without arguments reply in subscription order.
        self.channels = {}
        self.patterns = {}
        self.shard_channels = {}
        self.kind = "normal"  # normal | pubsub | replica | master
        self.monitor = False
        self.no_evict = False
        self.out = []
        self.out_bytes = 0
        self.out_soft_since = 0.0
        self.created = time.time()
        self.last_interaction = self.created
        self.last_cmd = "NULL"
        self.blocked = None  # Block while waiting
        self.unblock = None  # callback set by the I/O layer to wake a blocked client
        self.blocked_reply = None
        self.closing = False  # set by QUIT / CLIENT KILL / limits: close after flushing
        self.kill = None  # callback set by the I/O layer to close the connection now
        self.wake = None  # callback set by the I/O layer: out has data from another client
        self.query_buf = 0
        self.read_buf_size = 0  # set by the I/O layer: bytes it reads at a time (CLIENT LIST rbs)
        self.read_buf_peak = 0  # set by the I/O layer: largest read so far (CLIENT LIST rbp)
        self.reply_mode = None  # CLIENT REPLY: None (on), "off", "skip" (this command), "on" (just re-enabled)
        self.repl = None  # replication.state.Replica once it talks replication (REPLCONF, PSYNC)
        self.woff = 0  # replication offset right after its last write (WAIT waits for it)
        self.sync_held = 0  # the last woff whose reply was marked (synchronous replication)
        self.sync_marks = []  # indexes in out of replies held until replicas acknowledge
        self.wait_flushed = None  # set by the I/O layer: await until the output is sent
        self.flags_extra = ""

    @property
    def subscriptions(self) -> int:
        return len(self.channels) + len(self.patterns)

    def select(self, index: int):
        self.dbnum = index
        self.db = self.node.keyspace.dbs[index]

    def push(self, data: bytes):
        """Queue bytes for this client from elsewhere (pub/sub, MONITOR, unblocking)."""
        if self.reply_mode == "off":
            return  # CLIENT REPLY OFF silences everything, pushed messages included
        self.out.append(data)
        self.out_bytes += len(data)
        self.node.check_output_limits(self)
        if self.wake is not None:
            self.wake()

    def unwatch_all(self):
        for db, key in self.watched:
            clients = db.watched.get(key)
            if clients is not None:
                clients.pop(self, None)
                if not clients:
                    del db.watched[key]
        self.watched = []
        self.dirty_cas = False
