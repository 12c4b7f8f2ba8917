"""The node without I/O: keyspace, clients, pub/sub registry, stats, and command dispatch.

`Node.execute(client, argv)` runs one command to completion and appends its
encoded reply to `client.out`. It never awaits. A blocking command that finds
nothing to serve leaves `client.blocked` set; the I/O layer then waits for
`serve_blocked` to answer it or for the timeout.
"""

import os
import time
from time import perf_counter as _perf_counter
from collections import deque

from . import resp
from .commands import table
from .commands.table import lookup
from .errors import CommandError, NOAUTH, READONLY, OOM
from .keyspace import Keyspace
from .resp import encode, Raw
from .session import Block

_BY_BYTES_GET = table.BY_BYTES.get

_QUEUED = resp.QUEUED
_IN_MULTI_OK = {"exec", "discard", "multi", "watch", "quit", "reset"}

def _no_multi(name):
    return name in ("watch", "multi")


class SlowlogEntry:
    __slots__ = ("id", "time", "usec", "argv", "addr", "name")

    def __init__(self, id_, when, usec, argv, addr, name):
        self.id, self.time, self.usec, self.argv, self.addr, self.name = id_, when, usec, argv, addr, name


class Node:
    def __init__(self, config, clock=None, log=None):
        import node.commands  # noqa: F401  registers every command family

        self.config = config
        self.clock_ms = clock or (lambda: int(time.time() * 1000))
        self.keyspace = Keyspace(config["databases"], self.clock_ms)
        self.log = log
        self.run_id = os.urandom(20).hex()
        self.start_time = time.time()
        self.clients = {}  # id -> Client
        self.next_client_id = 1
        self.channels = {}  # channel -> set of clients
        self.patterns = {}  # pattern -> set of clients
        self.monitors = []
        self.slowlog = deque()
        self.slowlog_next_id = 0
        self.pause_until = 0.0  # unix seconds
        self.pause_writes_only = False
        self.stats = _new_stats()
        self.shutdown_requested = None  # set to a mode ('save'/'nosave'/'') by SHUTDOWN
        self.propagate_listeners = []  # called with (dbnum, argv) for each executed write
        self.eviction = None  # set by node.eviction when maxmemory applies
        self.replication = None
        self.role = "master"
        self.slowlog_threshold = config["slowlog-log-slower-than"]
        config.listeners.append(self._on_config_set)

    def _on_config_set(self, name, value):
        if name == "slowlog-log-slower-than":
            self.slowlog_threshold = value
        self.refresh_write_checks()

    @property
    def total_commands_processed(self) -> int:
        return sum(cmd.calls for cmd in table.COMMANDS.values())

    # ---- clients -----------------------------------------------------

    def new_client(self, addr="", laddr="", fd=-1):
        from .session import Client

        client = Client(self, self.next_client_id, addr, laddr, fd)
        self.next_client_id += 1
        self.clients[client.id] = client
        self.stats["total_connections_received"] += 1
        return client

    def remove_client(self, client):
        self.clients.pop(client.id, None)
        client.unwatch_all()
        self.unsubscribe_all(client)
        self.cancel_block(client)
        if client.monitor and client in self.monitors:
            self.monitors.remove(client)

    def unsubscribe_all(self, client):
        for registry, names in ((self.channels, client.channels), (self.patterns, client.patterns)):
            for name in names:
                subs = registry.get(name)
                if subs is not None:
                    subs.discard(client)
                    if not subs:
                        del registry[name]
            names.clear()

    # ---- dispatch ----------------------------------------------------

    def execute(self, c, argv):
        """Run one command for client c; its reply goes to c.out."""
        cmd = _BY_BYTES_GET(argv[0])
        if cmd is None:
            cmd = lookup(argv[0])
            if cmd is None:
                self._reply_error(c, _unknown_command(argv))
                return
        n = len(argv)
        arity = cmd.arity
        if arity != n and (arity > 0 or n < -arity):
            self._reply_error(c, "ERR wrong number of arguments for '%s' command" % cmd.name, cmd)
            return
        if c.multi is not None or not c.authenticated or c.kind == "pubsub":
            if not self._check_client_state(c, cmd, argv):
                return
        if cmd.is_write and self.write_checks:
            refusal = self.refuse_write(c, cmd)
            if refusal:
                self._reply_error(c, refusal, cmd)
                return
        self.call(c, cmd, argv)

    def _check_client_state(self, c, cmd, argv) -> bool:
        """Auth, MULTI queueing and the RESP2 subscribe context; False if handled here."""
        if not c.authenticated and not cmd.no_auth:
            self._reply_error(c, NOAUTH, cmd)
            return False
        if c.multi is not None and cmd.name not in _IN_MULTI_OK:
            self._queue(c, cmd, argv)
            return False
        if c.kind == "pubsub" and not c.resp3 and not cmd.allowed_in_subscribe:
            self._reply_error(c, "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context" % cmd.name.lower(), cmd)
            return False
        return True

    @property
    def role(self) -> str:
        return self._role

    @role.setter
    def role(self, value: str):
        self._role = value
        self.refresh_write_checks()

    def refresh_write_checks(self):
        """Whether writes need refuse_write at all (replica, maxmemory, replication rules).

        Kept as a plain attribute so the write hot path pays one attribute read."""
        self.write_checks = self._role != "master" or bool(self.config.values["maxmemory"]) or self.replication is not None

    def call(self, c, cmd, argv):
        """Run a command that passed the checks; time it, encode, feed monitors, propagate."""
        if self.monitors:
            self.feed_monitors(c, argv)
        keyspace = self.keyspace
        dirty_before = keyspace.dirty
        start = _perf_counter()
        try:
            reply = cmd.fn(c, argv)
        except CommandError as e:
            cmd.failed_calls += 1
            self.stats["total_error_replies"] += 1
            reply = Raw(b"-" + e.text.encode() + b"\r\n")
        usec = int((_perf_counter() - start) * 1_000_000)
        cmd.calls += 1
        cmd.usec += usec
        c.last_cmd = cmd.name
        if usec >= self.slowlog_threshold >= 0:
            self.record_slow(c, argv, usec)
        t = reply.__class__
        if t is Raw:
            c.out.append(reply)
        elif t is bytes:
            c.out.append(b"$%d\r\n%s\r\n" % (len(reply), reply))
        elif t is Block:
            c.blocked = reply
            self.block(c, reply)
            return
        else:
            c.out.append(encode(reply, c.resp3))
        if keyspace.dirty != dirty_before:
            if self.propagate_listeners and cmd.is_write:
                self.propagate(c, argv)
            if keyspace.ready_keys:
                self.serve_blocked()

    def _reply_error(self, c, text, cmd=None):
        self.stats["total_error_replies"] += 1
        if cmd is not None:
            cmd.rejected_calls += 1
        if c.multi is not None:
            c.multi_error = True
        c.out.append(b"-" + text.encode("utf-8", "replace") + b"\r\n")

    def _queue(self, c, cmd, argv):
        if _no_multi(cmd.name):
            self._reply_error(c, "ERR %s inside MULTI is not allowed" % cmd.name.upper(), cmd)
            return
        c.multi.append((cmd, argv))
        c.out.append(_QUEUED)

    def refuse_write(self, c, cmd):
        """Why a write must be refused now (READONLY, OOM, ...), or None."""
        if self.role == "slave" and self.config.values["replica-read-only"] and c.kind != "master":
            return READONLY
        if cmd.denyoom and self.config.values["maxmemory"] and self.eviction is not None:
            if not self.eviction.make_room():
                return OOM
        if self.replication is not None:
            return self.replication.refuse_write(c, cmd)
        return None

    def propagate(self, c, argv):
        argvs = getattr(c, "propagate_as", None)
        if argvs is not None:
            c.propagate_as = None
        else:
            argvs = (argv,)
        for listener in self.propagate_listeners:
            for one in argvs:
                listener(c.dbnum, one)

    # ---- blocking ----------------------------------------------------

    def block(self, c, blk: Block):
        for key in blk.keys:
            c.db.blocking.setdefault(key, deque()).append(c)
        self.stats["blocked_clients"] = self.blocked_count() 

    def blocked_count(self):
        return sum(1 for cl in self.clients.values() if cl.blocked is not None)

    def cancel_block(self, c):
        blk = c.blocked
        if blk is None:
            return
        db = c.db
        for key in blk.keys:
            waiters = db.blocking.get(key)
            if waiters is not None:
                try:
                    waiters.remove(c)
                except ValueError:
                    pass
                if not waiters:
                    del db.blocking[key]
        c.blocked = None

    def serve_blocked(self):
        """Serve clients blocked on keys that became ready, in the order they blocked."""
        ready = self.keyspace.ready_keys
        while ready:
            db, key = ready.pop(0)
            waiters = db.blocking.get(key)
            while waiters:
                client = waiters[0]
                if db.data.get(key) is None:
                    break
                reply = client.blocked.retry(client)
                if reply is None:
                    break
                self.cancel_block(client)
                client.blocked_reply = encode(reply, client.resp3)
                if client.unblock is not None:
                    client.unblock()
                waiters = db.blocking.get(key)

    def timeout_block(self, c):
        """The blocked client's timeout passed: its reply is the command's timeout reply."""
        blk = c.blocked
        self.cancel_block(c)
        return encode(blk.on_timeout, c.resp3)

    # ---- pub/sub, monitor, slowlog -------------------------------------

    def feed_monitors(self, c, argv):
        now = time.time()
        args = " ".join('"%s"' % _monitor_escape(a) for a in argv)
        line = b"+%.6f [%d %s] %s\r\n" % (now, c.dbnum, c.addr.encode(), args.encode())
        for m in list(self.monitors):
            if m is not c:
                m.push(line)

    def record_slow(self, c, argv, usec):
        max_len = self.config.values["slowlog-max-len"]
        shown = [a if len(a) <= 128 else a[:128] + b"... (%d more bytes)" % (len(a) - 128) for a in argv[:32]]
        if len(argv) > 32:
            shown[-1] = b"... (%d more arguments)" % (len(argv) - 31)
        self.slowlog.appendleft(SlowlogEntry(self.slowlog_next_id, int(time.time()), usec, shown, c.addr, c.name))
        self.slowlog_next_id += 1
        while len(self.slowlog) > max_len:
            self.slowlog.pop()

    def check_output_limits(self, c):
        """Disconnect a client whose pending output passed its class's hard or soft limit."""
        cls = "pubsub" if c.kind == "pubsub" else ("slave" if c.kind == "replica" else "normal")
        hard, soft, seconds = self.config.values["client-output-buffer-limit"][cls]
        size = c.out_bytes
        over = hard and size > hard
        if not over and soft and size > soft:
            now = time.time()
            if not c.out_soft_since:
                c.out_soft_since = now
            over = now - c.out_soft_since > seconds
        elif soft and size <= soft:
            c.out_soft_since = 0.0
        if over and not c.closing:
            c.closing = True
            self.stats["client_output_buffer_limit_disconnections"] = self.stats.get("client_output_buffer_limit_disconnections", 0) + 1
            if self.log:
                self.log.warning("Client id=%d addr=%s scheduled to be closed ASAP for overcoming of output buffer limits." % (c.id, c.addr))
            if c.kill is not None:
                c.kill()


def _new_stats():
    return {
        "total_connections_received": 0,
        "rejected_connections": 0,
        "total_error_replies": 0,
        "total_net_input_bytes": 0,
        "total_net_output_bytes": 0,
        "expired_keys": 0,
        "evicted_keys": 0,
        "blocked_clients": 0,
        "pubsub_messages": 0,
    }


def _monitor_escape(arg: bytes) -> str:
    out = []
    for b in arg:
        ch = chr(b)
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif 32 <= b < 127:
            out.append(ch)
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


def _unknown_command(argv) -> str:
    name = argv[0].decode("utf-8", "replace")
    args = " ".join("'%s'" % a.decode("utf-8", "replace") for a in argv[1:])
    # Redis cuts the shown args at 128 characters.
    if len(args) > 128:
        args = args[:128]
    return "ERR unknown command '%s', with args beginning with: %s" % (name, args)
