"""The node without I/O: keyspace, clients, pub/sub registry, stats, and command dispatch.

`Node.execute(client, argv)` runs one command to completion and appends its
encoded reply to `client.out`. It never awaits. A blocking command that finds
nothing to serve leaves `client.blocked` set; the I/O layer then waits for
`serve_blocked` to answer it or for the timeout. `Node.run_ready(client,
requests)` runs a pipeline's batch the same way, with a fast path for plain
data commands when no gate applies.
"""

import os
import time
from time import perf_counter_ns as _perf_counter_ns
from collections import deque

from . import resp
from .commands import table
from .errors import CommandError, NOAUTH, READONLY, OOM
from .keyspace import Keyspace
from .resp import encode, Raw
from .reprs import sds_repr
from .session import Block


_QUEUED = resp.QUEUED
_SMALL_INTS = resp.SMALL_INTS
_BULK_HEADERS = resp.BULK_HEADERS
_int_replies = resp.int_replies
# From this slowlog threshold up, a run of fast commands is timed as a whole (Node._run_plain):
# a fast command alone does not take a millisecond, a stall of the host can.
_RUN_TIMING_FLOOR_NS = 1_000_000
_NO_RUN = object()  # no command looks up to it
_IN_MULTI_OK = {"exec", "discard", "multi", "watch", "quit", "reset"}
_NOT_IN_MULTI = "ERR Command not allowed inside a transaction"
_MASTERDOWN = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
# Redis keeps these out of MONITOR: too dangerous to show (admin) or flagged so.
_NOT_MONITORED = frozenset(("admin", "skip_monitor"))


def _queue_ints(append, ints) -> list:
    """Queue the integer replies _run_plain held back, formatted together; an empty list."""
    append(_int_replies(ints))
    return []


class SlowlogEntry:
    __slots__ = ("id", "time", "usec", "argv", "addr", "name")

    def __init__(self, id_, when, usec, argv, addr, name):
        self.id, self.time, self.usec, self.argv, self.addr, self.name = id_, when, usec, argv, addr, name


class Node:
    def __init__(self, config, clock=None, log=None, open_stream=None, commands=None):
        import node.commands  # noqa: F401  registers every command family

        # This node's commands (a sentinel passes its own set); counters are per node.
        self.table = commands if commands is not None else table.CommandTable()
        self._by_bytes_get = self.table.by_bytes.get
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
        self.shard_channels = {}  # shard channel -> set of clients (SSUBSCRIBE)
        self.monitors = []
        self.slowlog = deque()
        self.slowlog_next_id = 0
        self.pause_until = 0.0  # unix seconds
        self.pause_writes_only = False
        self.stats = _new_stats()
        self.error_counts = {}  # error code (ERR, WRONGTYPE, ...) -> replies sent, for INFO errorstats
        self.shutdown_requested = None  # set to a mode ('save'/'nosave'/'') by SHUTDOWN
        self.shutdown_options = frozenset()  # "now" / "force" given to SHUTDOWN
        self.loading = False  # True while the dataset loads at start-up (-LOADING replies)
        self.persistence = None  # set by the persistence layer (RDB/AOF) once it exists
        self._reply_mode_client = None  # client whose command runs under CLIENT REPLY OFF/SKIP
        self.propagate_listeners = []  # called with (dbnum, argv) for each executed write
        self.repl_listeners = []  # called with (dbnum, argv) for what only replicas get (PUBLISH)
        self.exec_ops = None  # (dbnum, argv, repl_only) held while EXEC runs: see flush_exec_ops
        self.eviction = None  # set by node.eviction when maxmemory applies
        self.replication = None  # replication.state.ReplicationState, attached below
        self.current_client = None  # the client whose command runs (replication's WAIT offsets)
        # A replica whose link is down, with replica-serve-stale-data no: only "stale" commands run.
        self.masterdown = False
        self.role = "master"
        self.slowlog_ns = _slowlog_ns(config["slowlog-log-slower-than"])
        config.listeners.append(self._on_config_set)
        from .eviction import Eviction

        self.eviction = Eviction(self)
        from replication import attach

        attach(self, open_stream)

    def _on_config_set(self, name, value):
        if name == "slowlog-log-slower-than":
            self.slowlog_ns = _slowlog_ns(value)
        self.refresh_write_checks()

    @property
    def total_commands_processed(self) -> int:
        # A call refused for an unknown subcommand or a subcommand's arity was never processed.
        total = 0
        for cmd in self.table.values():
            if table.counts_through_subcommands(cmd):
                total += sum(sub.calls for sub in cmd.subcommands.values())
            else:
                total += cmd.calls
        return total

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
        if self.replication is not None:
            self.replication.client_gone(client)

    def unsubscribe_all(self, client):
        """Drop every subscription of client (disconnect, RESET): it leaves the pubsub state."""
        registries = ((self.channels, client.channels), (self.patterns, client.patterns), (self.shard_channels, client.shard_channels))
        for registry, names in registries:
            for name in names:
                subs = registry.get(name)
                if subs is not None:
                    subs.discard(client)
                    if not subs:
                        del registry[name]
            names.clear()
        if client.kind == "pubsub":
            client.kind = "normal"

    # ---- dispatch ----------------------------------------------------

    def execute(self, c, argv):
        """Run one command for client c; its reply goes to c.out. The checks come in Redis's
        order (processCommand): the command and its subcommand with their arity, NOAUTH,
        LOADING, queueing inside MULTI, then the write rules, the RESP2 subscribe context
        and MASTERDOWN."""
        if c.reply_mode is not None and self._run_with_reply_mode(c, argv):
            return
        cmd = self._by_bytes_get(argv[0])
        if cmd is None:
            cmd = self.table.lookup(argv[0])
            if cmd is None:
                self._reply_error(c, _unknown_command(argv))
                return
        n = len(argv)
        arity = cmd.arity
        if arity != n and (arity > 0 or n < -arity):
            self._reply_error(c, "ERR wrong number of arguments for '%s' command" % cmd.name, cmd)
            return
        counted = cmd  # where a refusal is counted: on the subcommand, once Redis resolved it
        if cmd.subcommands and n > 1:
            refusal, sub = table.subcommand_refusal(cmd, argv)
            if refusal is not None:
                # Redis's lookup found no command (counted nowhere), or the subcommand with
                # the wrong arity (counted on it).
                self._reply_error(c, refusal, sub)
                return
            if sub.fn is not None:  # (a container counted by its subcommands: table.run_subcommand)
                counted = sub
        if not c.authenticated and not cmd.no_auth:
            self._reply_error(c, NOAUTH, counted)
            return
        if self.loading and not cmd.loading_ok:
            self._reply_error(c, "LOADING Redis is loading the dataset in memory", counted)
            return
        if c.multi is not None and cmd.name not in _IN_MULTI_OK:
            self._queue(c, cmd, argv, counted)
            return
        if cmd.is_write and self.write_checks and (c.kind != "master" or self.config.values["maxmemory"]):
            # Our master's stream is obeyed (Redis's mustObeyClient): no READONLY, no
            # min-replicas rules (a replica has none); only maxmemory can still apply.
            refusal = self.refuse_write(c, cmd)
            if refusal:
                self._reply_error(c, refusal, counted)
                return
        if c.kind == "pubsub" and not c.resp3 and not cmd.allowed_in_subscribe:
            self._reply_error(c, "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context" % _full_name(cmd, argv), counted)
            return
        if self.masterdown:
            refusal = self._gate_refusal(cmd)
            if refusal:
                self._reply_error(c, refusal, counted)
                return
        self.call(c, cmd, argv)

    def refresh_gate(self):
        """masterdown: commands pass a gate first (a replica whose link is down with
        replica-serve-stale-data no, or an unconfirmed master: replication.mastership)."""
        repl = self.replication
        self.masterdown = bool(repl.link.stale_gate or (repl.mastership is not None and repl.mastership.unconfirmed))

    def _gate_refusal(self, cmd):
        repl = self.replication
        if repl.mastership is not None and repl.mastership.unconfirmed:
            from replication.mastership import ALLOWED, UNCONFIRMED

            return None if cmd.name in ALLOWED else UNCONFIRMED
        return None if "stale" in cmd.flags else _MASTERDOWN

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
        replication = self.replication
        self.write_checks = self._role != "master" or bool(self.config.values["maxmemory"]) or (replication is not None and replication.checks_writes)
        # The batch fast path's lookup: a write on such a node goes through execute.
        self.plain_lookup = (self.table.plain_reads_by_bytes if self.write_checks else self.table.plain_by_bytes).get
        self.sync_writes = self._role == "master" and bool(self.config.values["synchronous-replicas"])

    def _run_with_reply_mode(self, c, argv):
        """CLIENT REPLY OFF/SKIP: run the command, then drop its reply (Redis's rules).

        Returns False for the inner run, which executes normally.
        """
        if self._reply_mode_client is c:
            return False
        mode = c.reply_mode
        if mode == "skip_next":  # CLIENT REPLY SKIP came just before: this command is silenced
            mode = c.reply_mode = "skip"
        mark = len(c.out)
        self._reply_mode_client = c
        try:
            self.execute(c, argv)
        finally:
            self._reply_mode_client = None
        new = c.reply_mode
        if mode in ("off", "skip") and new != "on":
            del c.out[mark:]
        if new in ("on", "skip"):
            c.reply_mode = None
        return True

    def call(self, c, cmd, argv):
        """Run a command that passed the checks; time it, encode, feed monitors, propagate."""
        keyspace = self.keyspace
        dirty_before = keyspace.dirty
        self.current_client = c
        keyspace.count_stats = not cmd.is_write
        start = _perf_counter_ns()
        try:
            reply = cmd.fn(c, argv)
        except CommandError as e:
            reply = self._failed(cmd, e)
        except Exception as e:  # noqa: BLE001  a bug in one command must not kill the connection
            reply = self._internal_error(cmd, e)
        nsec = _perf_counter_ns() - start
        cmd.calls += 1
        cmd.nsec += nsec
        c.last_cmd = cmd.name if not cmd.subcommands else _full_name(cmd, argv)
        if nsec >= self.slowlog_ns and "skip_slowlog" not in cmd.flags:
            self.record_slow(c, argv, nsec // 1000)
        if reply.__class__ is Block:
            c.blocked = reply
            self.block(c, reply)
            if self.monitors:
                self.feed_monitors(c, cmd, argv)
            return
        c.out.append(encode(reply, c.resp3))
        # Fed after the call and its reply, as Redis: SELECT shows its new db, AUTH its
        # redacted password, and a MONITOR client sees its own reply before its own line.
        if self.monitors:
            self.feed_monitors(c, cmd, argv)
        if keyspace.dirty != dirty_before:
            self._after_change(c, cmd, argv)
        if c.propagate_as is not None:
            # A rewrite not sent (no listener yet) must not leak into a later command.
            c.propagate_as = None

    def _after_change(self, c, cmd, argv):
        """The command changed the dataset: propagate it, serve clients blocked on its keys."""
        if self.propagate_listeners and cmd.is_write:
            self.propagate(c, argv)
        # Inside EXEC, blocked clients are served after the whole transaction.
        if self.keyspace.ready_keys and not c.in_exec:
            self.serve_blocked()
        if self.sync_writes and c.woff > c.sync_held and not c.in_exec:
            # Synchronous replication: this reply waits for the replicas' ACKs (replication.synchronous).
            c.sync_held = c.woff
            c.sync_marks.append(len(c.out) - 1)

    # ---- the batch fast path -------------------------------------------

    def run_ready(self, c, requests, now):
        """Run a batch of requests for client c. Returns the index of the first request
        left for its connection task (it blocked, CLIENT PAUSE holds it, it closes, ...),
        or None when all ran."""
        i, n = 0, len(requests)
        while i < n:
            # None of the gates execute applies to a plain command (table._is_plain) now.
            # (Written out: a call per batch costs more than the test.)
            if (
                not (self.loading or self.masterdown or self.monitors or self.sync_writes or self.pause_until > now)
                and c.multi is None
                and c.reply_mode is None
                and c.authenticated
                and c.kind == "normal"
            ):
                i = self._run_plain(c, requests, i)
                if i == n:
                    return None
            if self.pause_until > now:
                return i
            self.execute(c, requests[i])
            i += 1
            if c.blocked is not None or c.closing or c.sync_marks or c.kind == "replica":
                return i
        return None

    def _run_plain(self, c, requests, i):
        """Run plain commands from requests[i] on, doing what execute and call do for them;
        returns the index of the first request that needs execute.

        This is the hot path of a pipelining client: no call per command beyond the
        command itself. Commands are timed by the run (consecutive calls of one command),
        from the previous run's end: INFO commandstats gets the same sums as from timing
        each call, for one clock read per run. A run of fast commands that reaches the
        slowlog threshold is logged as its last command with the run's time. A command
        that may be slow (not flagged fast), or any command while the threshold is under
        _RUN_TIMING_FLOOR_NS, is timed alone for the slowlog; SET, slow only when it frees
        a large value it replaced, is timed by the run, which ends at a SET that did."""
        get_cmd = self.plain_lookup
        keyspace = self.keyspace
        append = c.out.append
        extend = c.out.extend
        listeners = self.propagate_listeners
        slow_ns = self.slowlog_ns
        by_run = slow_ns >= _RUN_TIMING_FLOOR_NS
        self.current_client = c
        run = _NO_RUN  # the command whose run is being timed
        run_name = None  # the spelling it was last looked up by
        run_from = j = i
        n = len(requests)
        start = began = _perf_counter_ns()  # the last call's end, the run's start
        # Integer replies past the precomputed ones (counters, list lengths) wait here and are
        # formatted together, before any other reply goes out and when the batch ends.
        ints = []
        while j < n:
            argv = requests[j]
            name = argv[0]
            if name != run_name:  # (cheaper than the lookup while a run goes on)
                cmd = get_cmd(name)
                if cmd is not run:
                    if cmd is None:
                        break
                    if j > run_from:
                        start = began = self._end_run(c, run, j - run_from, requests[j - 1], began, start if alone else 0)
                    run, run_from = cmd, j
                    arity, fn, is_write = cmd.arity, cmd.fn, cmd.is_write
                    # What follows each call, one test each: a write is propagated when it
                    # changed something (`tracked`); `timed` calls are checked for the slowlog
                    # alone, or may cut the run.
                    tracked = is_write and listeners
                    alone = not (by_run and (cmd.is_fast or cmd.cut_on_free))
                    timed = alone or (by_run and cmd.cut_on_free)
                    keyspace.count_stats = not is_write
                run_name = name
            if arity != len(argv) and (arity > 0 or len(argv) < -arity):
                break
            if tracked:
                dirty = keyspace.dirty
            try:
                reply = fn(c, argv)
            except CommandError as e:
                reply = self._failed(cmd, e)
            except Exception as e:  # noqa: BLE001  a bug in one command must not kill the connection
                reply = self._internal_error(cmd, e)
            # (Each branch queues the waiting integers before its reply: one test on each path.)
            t = reply.__class__
            if t is bytes:
                if ints:
                    ints = _queue_ints(append, ints)
                size = len(reply)
                if size < 1024:
                    # Three pieces, joined once when sent: cheaper than two concatenations.
                    # (The batch path's replies need not be one entry each: CLIENT REPLY and
                    # synchronous replication, which index c.out, go through call().)
                    extend((_BULK_HEADERS[size], reply, b"\r\n"))
                else:
                    append(b"$%d\r\n%s\r\n" % (size, reply))
            elif t is Raw:
                if ints:
                    ints = _queue_ints(append, ints)
                append(reply)
            elif t is int:
                if reply >= 10000 or reply < 0:
                    ints.append(reply)
                else:
                    if ints:
                        ints = _queue_ints(append, ints)
                    append(_SMALL_INTS[reply])
            else:
                if ints:
                    ints = _queue_ints(append, ints)
                append((b"_\r\n" if c.resp3 else b"$-1\r\n") if reply is None else encode(reply, c.resp3))
            j += 1
            if is_write:
                if tracked:
                    if keyspace.dirty != dirty:
                        self._after_change(c, cmd, argv)
                    if c.propagate_as is not None:
                        c.propagate_as = None
                elif keyspace.ready_keys:  # only a change wakes a blocked client
                    self._after_change(c, cmd, argv)
            if timed:
                if alone:  # timed for the slowlog; commandstats still add up by the run
                    end = _perf_counter_ns()
                    if end - start >= slow_ns:
                        self.record_slow(c, argv, (end - start) // 1000)
                    start = end
                elif keyspace.freed_large:
                    # The run ends with this call, which freed a large value: if the run
                    # reaches the slowlog threshold, the entry is this call's, with at most
                    # the few microseconds of the calls before it added.
                    keyspace.freed_large = False
                    start = began = self._end_run(c, cmd, j - run_from, argv, began, 0)
                    run_from = j
        if ints:
            _queue_ints(append, ints)
        if j > run_from:
            self._end_run(c, run, j - run_from, requests[j - 1], began, start if alone else 0)
        # With no listener, a rewrite for propagation (SET ... EX as PXAT, SPOP as SREM) was
        # left in place: it must not leak into a later batch.
        c.propagate_as = None
        if j > i:
            # Other clients see it only between batches: set once, for the last one.
            c.last_cmd = get_cmd(requests[j - 1][0]).name
        return j

    def _end_run(self, c, cmd, calls, last_argv, began, lapped) -> int:
        """Account for a run of calls of cmd that began at `began`; returns its end. `lapped`:
        the end of its last call, when each call was timed alone (and checked for the slowlog
        then), or 0."""
        if lapped:
            end = lapped
        else:
            end = _perf_counter_ns()
            if end - began >= self.slowlog_ns:
                self.record_slow(c, last_argv, (end - began) // 1000)
        cmd.calls += calls
        cmd.nsec += end - began
        return end

    def _failed(self, cmd, error):
        """The reply to a command that raised CommandError, counted as Redis counts it."""
        cmd.failed_calls += 1
        self.stats["total_error_replies"] += 1
        count_error(self.error_counts, error.text)
        return Raw(b"-" + error.text.encode() + b"\r\n")

    def _internal_error(self, cmd, error):
        """A command raised something other than CommandError: log it, reply an error."""
        import traceback

        cmd.failed_calls += 1
        self.stats["total_error_replies"] += 1
        if self.log is not None:
            self.log.warning("Internal error running '%s': %s" % (cmd.name, traceback.format_exc()))
        text = "ERR internal error in '%s': %s" % (cmd.name, type(error).__name__)
        count_error(self.error_counts, text)
        return Raw(b"-" + text.encode() + b"\r\n")

    def _reply_error(self, c, text, cmd=None):
        if cmd is not None:
            cmd.rejected_calls += 1
            if cmd.name == "exec":
                text = _abort_exec(c, text)
        self.stats["total_error_replies"] += 1
        raw = text if isinstance(text, bytes) else text.encode("utf-8", "replace")
        count_error(self.error_counts, raw.decode("latin-1"))
        if c.multi is not None:
            c.multi_error = True
        c.out.append(b"-" + raw + b"\r\n")

    def _queue(self, c, cmd, argv, counted):
        """Queue a command inside MULTI. A refusal here (no-multi command, OOM,
        READONLY, ...) is an error reply that also dooms the transaction (EXECABORT);
        it is counted on `counted` (cmd, or its subcommand)."""
        refusal = _NOT_IN_MULTI if "no_multi" in cmd.flags else self.refuse_queued(c, cmd)
        if refusal:
            self._reply_error(c, refusal, counted)
            return
        c.multi.append((cmd, argv))
        c.out.append(_QUEUED)

    def refuse_queued(self, c, cmd):
        """Redis 7 runs its command checks before queueing: when over maxmemory,
        every command but EXEC/DISCARD/QUIT/RESET is refused in MULTI, since
        the queue itself grows memory; writes also meet READONLY and the rest."""
        if self.config.values["maxmemory"] and self.eviction is not None and not self.eviction.make_room():
            return OOM
        if cmd.is_write and self.write_checks:
            return self.refuse_write(c, cmd)
        return None

    def refuse_write(self, c, cmd):
        """Why a write must be refused now (READONLY, OOM, ...), or None."""
        replica = self._role == "slave"
        if replica and self.config.values["replica-read-only"] and c.kind != "master":
            return READONLY
        if cmd.denyoom and self.config.values["maxmemory"] and self.eviction is not None:
            if not self.eviction.make_room():
                return OOM
        if self.replication is not None and not replica:  # its rules are a master's
            return self.replication.refuse_write(c, cmd)
        return None

    def propagate(self, c, argv):
        argvs = c.propagate_as
        if argvs is None and self.exec_ops is None:  # the usual write: sent as it came
            dbnum = c.dbnum
            for listener in self.propagate_listeners:
                listener(dbnum, argv)
            return
        if argvs is not None:
            c.propagate_as = None
        else:
            argvs = (argv,)
        if self.exec_ops is not None:
            self.exec_ops.extend((c.dbnum, one, False) for one in argvs)
            return
        for listener in self.propagate_listeners:
            for one in argvs:
                listener(c.dbnum, one)

    def emit(self, dbnum, argv, repl_only=False):
        """Feed one command to AOF and replicas (repl_only: to replicas alone, as
        Redis does for PUBLISH); held back while an EXEC runs."""
        if self.exec_ops is not None:
            self.exec_ops.append((dbnum, argv, repl_only))
            return
        for listener in self.repl_listeners if repl_only else self.propagate_listeners:
            listener(dbnum, argv)

    def flush_exec_ops(self):
        """Send what an EXEC produced. Redis 7.0 wraps it in MULTI ... EXEC when it is
        more than one command (one command is atomic by itself)."""
        ops, self.exec_ops = self.exec_ops, None
        if not ops:
            return
        if len(ops) > 1:
            ops = [(ops[0][0], [b"MULTI"], False), *ops, (ops[-1][0], [b"EXEC"], False)]
        for dbnum, argv, repl_only in ops:
            self.emit(dbnum, argv, repl_only)

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
            if not waiters:
                continue
            # A waiter that cannot be served (it waits for another type) is
            # skipped, not a stop: the ones behind it may be servable.
            for client in list(waiters):
                if db.data.get(key) is None:
                    break
                blk = client.blocked
                if blk is None:
                    continue
                blk.ready_key = key
                reply = blk.retry(client)
                if reply is None:
                    continue
                self.cancel_block(client)
                if client.propagate_as is not None:
                    self.propagate(client, None)
                client.blocked_reply = encode(reply, client.resp3)
                if client.unblock is not None:
                    client.unblock()

    def timeout_block(self, c):
        """The blocked client's timeout passed: its reply is the command's timeout reply."""
        blk = c.blocked
        self.cancel_block(c)
        return encode(blk.on_timeout, c.resp3)

    # ---- pub/sub, monitor, slowlog -------------------------------------

    def feed_monitors(self, c, cmd, argv):
        """Show a command that ran to MONITOR clients, unless Redis hides it (admin commands,
        judged by the subcommand for a container: CONFIG GET is hidden, CLIENT ID is not)."""
        if cmd.subcommands and len(argv) > 1:
            refusal, cmd = table.subcommand_refusal(cmd, argv)
            if refusal is not None:
                return  # Redis rejects it before it runs: nothing to show
        if cmd.flags & _NOT_MONITORED:
            return
        now = time.time()
        args = " ".join(sds_repr(a) for a in argv)
        line = b"+%.6f [%d %s] %s\r\n" % (now, c.dbnum, c.addr.encode(), args.encode())
        for m in list(self.monitors):
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


def _slowlog_ns(usec) -> int:
    """slowlog-log-slower-than in nanoseconds; negative (off) never matches."""
    return usec * 1000 if usec >= 0 else 1 << 127


def count_error(counts, text):
    """Count an error reply under its code: the text before the first space (Redis looks
    at most 31 characters in), or ERR when there is none."""
    space = text.find(" ", 0, 31)
    code = text[:space] if space >= 0 else "ERR"
    counts[code] = counts.get(code, 0) + 1


def _full_name(cmd, argv) -> str:
    """`client|list` for a container command's subcommand, as Redis names it."""
    if len(argv) > 1:
        sub = argv[1].lower().decode("utf-8", "replace")
        if sub in cmd.subcommands:
            return "%s|%s" % (cmd.name, sub)
    return cmd.name


def _abort_exec(c, text) -> str:
    """A refused EXEC (arity, NOAUTH, subscribe context...) discards the transaction
    and says why, as Redis's execCommandAbort: the reason loses its ERR prefix."""
    c.multi = None
    c.multi_error = False
    c.unwatch_all()
    return "EXECABORT Transaction discarded because of: " + (text[4:] if text.startswith("ERR ") else text)


def _unknown_command(argv) -> bytes:
    # Redis shows each argument as "'arg' " until 128 bytes are shown, the last
    # one cut to fit, and the name cut at 128; CR and LF would break the reply line.
    # It formats them with %s, so each one also ends at its first NUL byte.
    args = b""
    for arg in argv[1:]:
        if len(args) >= 128:
            break
        args += b"'%s' " % _c_string(arg[: 128 - len(args)])
    text = b"ERR unknown command '%s', with args beginning with: %s" % (_c_string(argv[0][:128]), args)
    # Bytes, not text: the name and arguments are echoed exactly as sent.
    return text.replace(b"\r", b" ").replace(b"\n", b" ")


def _c_string(arg: bytes) -> bytes:
    """What C's %s prints of arg: up to its first NUL byte."""
    end = arg.find(b"\0")
    return arg if end < 0 else arg[:end]
