"""Replica side: the link to our master, as an explicit state machine.

    none ──REPLICAOF host port──> connect ──> connecting ──> handshake ──> transfer ──> connected
                                     ^             │              │     (full sync)       │
                                     └──── link lost, after a backoff ───────────────────┘
                                           (handshake ──+CONTINUE──> connected, no transfer)

handshake: PING, AUTH (masterauth/masteruser), REPLCONF listening-port
(replica-announce-port), REPLCONF ip-address (replica-announce-ip), REPLCONF
capa eof capa psync2, then PSYNC with what we know of our master's history
(the "cached master": its replication ID and our offset, or ? -1).

transfer: the snapshot comes sized (`$<n>`) or EOF-marked (`$EOF:<mark>`),
is parsed off the event loop, and replaces the dataset at once; old data is
served until then (replica-serve-stale-data).

connected: the stream is applied by replication.applier as the master client;
what is applied is proxied byte for byte into our backlog and to our own
replicas (chained replication). REPLCONF ACK <offset> goes back every second
and on GETACK.

The I/O is injected (`open_stream(host, port)`, trio's TCP by default), so a
link can run over in-memory streams in simulations.
"""

import time
import traceback

import trio

from node.persistence import rdb
from node.persistence.files import write_atomically

from . import psync
from .applier import StreamApplier, StreamError
from .receive import Transfer, TransferError
from .resp_client import RespClient, RespTimeout, encode_command

NONE = "none"
CONNECT = "connect"
CONNECTING = "connecting"
HANDSHAKE = "handshake"
TRANSFER = "transfer"
CONNECTED = "connected"

# What ROLE calls each state.
_ROLE_STATE = {NONE: "none", CONNECT: "connect", CONNECTING: "connecting", HANDSHAKE: "handshake", TRANSFER: "sync", CONNECTED: "connected"}
_UNBLOCKED = b"-UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)\r\n"
_BACKOFF_FIRST, _BACKOFF_MAX = 0.05, 1.0


class LinkError(Exception):
    """This attempt failed (the message is logged); the link retries after a backoff."""


class ReplicaLink:
    def __init__(self, state, open_stream=None):
        self.repl = state
        self.node = state.node
        self.open_stream = open_stream
        self.host = None
        self.port = 0
        self._link_state = NONE
        self.cached = None  # (replid, offset) of the history we hold: what PSYNC asks to continue
        self.stream_db = 0  # the db the master stream has selected
        self.master_client = None
        self.applier = None
        self.last_io = 0.0
        self.down_since = 0.0
        self.transfer = None  # receive.Transfer while a snapshot comes in
        self.master_replid = None  # from +FULLRESYNC, until the snapshot is in
        self.initial_offset = -1
        self._scope = None
        self._kick = trio.Event()
        self._ack_event = trio.Event()
        self._ack_at = None  # offset a GETACK asked us to report
        self._pre_psync = False  # the master answered SYNC, not PSYNC: it expects no ACKs
        self._reconfigured = False  # REPLICAOF changed the master: connect without a backoff
        self._laddr = ""
        self.stale_gate = False  # link down with replica-serve-stale-data no: only "stale" commands run
        self.fenced_until = 0.0  # FENCE: no link (and so no ACK) before this time, unless REPLICAOF

    # ---- what INFO and ROLE show -------------------------------------------------

    @property
    def link_state(self) -> str:
        return self._link_state

    @link_state.setter
    def link_state(self, value: str):
        self._link_state = value
        self.refresh_stale_gate()

    def refresh_stale_gate(self):
        """replica-serve-stale-data no: while the link is not up, refuse what is not "stale"."""
        node = self.node
        self.stale_gate = self.host is not None and self._link_state != CONNECTED and not node.config["replica-serve-stale-data"]
        node.refresh_gate()

    @property
    def connected(self) -> bool:
        return self.link_state == CONNECTED

    @property
    def role_state(self) -> str:
        return _ROLE_STATE[self.link_state]

    @property
    def reploff(self) -> int:
        if self.applier is not None:
            return self.applier.applied
        if self.cached:
            return self.cached[1]
        restored = self.repl.position.restored
        return restored if restored is not None else 1

    @property
    def stream_db_known(self) -> bool:
        return self.applier is not None or self.cached is not None

    def info_fields(self) -> list:
        now = int(self.repl.now())
        connected = self.link_state == CONNECTED
        read = self.applier.read_offset if self.applier is not None else self.reploff
        fields = [
            ("master_host", self.host),
            ("master_port", self.port),
            ("master_link_status", "up" if connected else "down"),
            ("master_last_io_seconds_ago", now - int(self.last_io) if connected else -1),
            ("master_sync_in_progress", int(self.link_state == TRANSFER)),
            ("slave_read_repl_offset", read),
            ("slave_repl_offset", self.reploff),
        ]
        transfer = self.transfer
        if self.link_state == TRANSFER and transfer is not None:
            size, done = max(transfer.size, 0), transfer.read
            fields.extend((
                ("master_sync_total_bytes", size),
                ("master_sync_read_bytes", done),
                ("master_sync_left_bytes", size - done),
                ("master_sync_perc", "%.2f" % (done * 100.0 / size if size else 0.0)),
                ("master_sync_last_io_seconds_ago", now - int(transfer.last_io)),
            ))
        if not connected:
            fields.append(("master_link_down_since_seconds", now - int(self.down_since) if self.down_since else -1))
        config = self.node.config
        fields.extend((("slave_priority", config["replica-priority"]), ("slave_read_only", int(config["replica-read-only"])), ("replica_announced", int(config["replica-announced"]))))
        return fields

    # ---- configuration (REPLICAOF, the replicaof directive) ----------------------------

    def configure(self, host: str, port: int):
        """The replicaof directive at start-up: a replica from the beginning, nothing to continue
        (unless the dataset loaded from disk says otherwise, see cache_myself)."""
        self.host, self.port = host, port
        self.link_state = CONNECT
        self._become_replica()

    def fence(self, epoch: int, ms: int):
        """Stop following the master: a failover is choosing among the replicas by offset, and
        the old master must collect no acknowledgement meanwhile (replication.synchronous)."""
        self.fenced_until = max(self.fenced_until, self.repl.now() + ms / 1000.0)
        self._log("Fenced by a failover (epoch %d) for %d ms: the link to MASTER %s:%d stays down" % (epoch, ms, self.host, self.port))
        self._stop_session()

    def unfence(self):
        self.fenced_until = 0.0
        self._wake()

    @property
    def fenced(self) -> bool:
        return self.fenced_until > self.repl.now()

    def set_master(self, host: str, port: int):
        """REPLICAOF host port."""
        self.unfence()
        self.repl.mastership.on_demoted()
        was_master = self.host is None
        self._stop_session()
        _unblock_all(self.node)
        self.host, self.port = host, port
        self._reconfigured = True
        if was_master:
            # Our own history, to continue with a master that was our replica (PSYNC2).
            self.cached = None
            self._log("Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.")
            self.cache_myself(-1)
        self._become_replica()
        self.link_state = CONNECT
        self._log("Connecting to MASTER %s:%d" % (host, port))
        self._wake()

    def unset_master(self):
        """REPLICAOF NO ONE: promotion. Our history stays valid under replid2 (PSYNC2)."""
        self.unfence()
        if self.host is None:
            self.repl.mastership.on_promoted()  # an unconfirmed master is confirmed
            return
        self.host = None
        self._stop_session()
        self.cached = None
        repl = self.repl
        repl.shift_replid()
        repl.master.disconnect_replicas()  # they must learn the new ID: they will PSYNC at once
        repl.stream_db = -1
        self.link_state = NONE
        self.down_since = 0.0
        repl.no_replicas_since = self.repl.now()
        node = self.node
        node.role = "master"
        node.keyspace.is_replica = False
        node.config.values["replicaof"] = ""
        if node.log is not None:
            node.log.role = "M"
        repl.master.sync_listening()
        repl.mastership.on_promoted()
        repl.position.forget()

    def cache_myself(self, db: int):
        """Our own replication ID and offset, as the history a master may let us continue."""
        self.cached = (self.repl.replid, self.repl.master_repl_offset)
        self.stream_db = max(db, 0)

    def _become_replica(self):
        node = self.node
        node.role = "slave"
        node.keyspace.is_replica = True
        node.config.values["replicaof"] = "%s %d" % (self.host, self.port)
        if node.log is not None:
            node.log.role = "S"
        self.repl.master.sync_listening()

    def drop(self):
        """Close the link now (CLIENT KILL TYPE master, a timeout): it reconnects."""
        if self._scope is not None:
            self._scope.cancel()

    def _stop_session(self):
        self._teardown()
        self.drop()

    def _wake(self):
        self._kick.set()

    def request_ack(self):
        """REPLCONF GETACK: report the offset applied before it, now."""
        if self.applier is not None:
            self._ack_at = self.applier.position
            self._ack_event.set()

    # ---- the task ------------------------------------------------------------------------

    async def run(self):
        """Keep a link to the configured master, reconnecting with a growing backoff."""
        backoff = 0.0
        while True:
            if self.host is None or self.node.loading or self.fenced:
                await self._idle()
                continue
            host, port = self.host, self.port
            with trio.CancelScope() as scope:
                self._scope = scope
                try:
                    await self._session(host, port)
                except (OSError, LinkError, StreamError, TransferError, rdb.RDBError) as e:
                    if str(e):
                        self._log(str(e), warning=True)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    self._log("Connection with master lost (connection reset).", warning=True)
                except Exception:  # noqa: BLE001  a bug in the link must not take the node down
                    self._log("Replication link failed:\n%s" % traceback.format_exc(), warning=True)
                except BaseExceptionGroup as group:
                    # A failure raised while the session was being cancelled (REPLICAOF, FENCE)
                    # comes bundled with trio.Cancelled: log it, and let the cancellation end.
                    cancelled, rest = group.split(trio.Cancelled)
                    if rest is not None:
                        self._log("Replication link failed:\n%s" % "".join(traceback.format_exception(rest)), warning=True)
                    if cancelled is not None:
                        raise cancelled from None
            self._scope = None
            lost = self.link_state == CONNECTED
            self._teardown()
            if self.host is None:
                continue
            if lost or self._reconfigured:
                self._reconfigured = False
                backoff = 0.0  # Redis reconnects at once when an established link drops
            else:
                backoff = min(max(backoff * 2, _BACKOFF_FIRST), _BACKOFF_MAX)
                await trio.sleep(backoff)

    async def _idle(self):
        self._kick = trio.Event()
        with trio.move_on_after(0.05 if self.node.loading or self.fenced else 3600):
            await self._kick.wait()

    def _teardown(self):
        """The session is over: keep what PSYNC needs to continue, drop the master client."""
        if self.link_state == CONNECTED and self.applier is not None:
            self._log("Connection with master lost.", warning=True)
            self._log("Caching the disconnected master state.")
            self.cached = (self.repl.replid, self.applier.applied)
            self.stream_db = self.master_client.dbnum
            self.down_since = self.repl.now()
        if self.master_client is not None:
            self.node.remove_client(self.master_client)
            self.master_client = None
        self.applier = None
        if self.link_state != NONE:
            self.link_state = CONNECT if self.host is not None else NONE

    # ---- one session: connect, handshake, sync, stream ------------------------------------------

    async def _session(self, host, port):
        config = self.node.config
        timeout = config["repl-timeout"]
        self.link_state = CONNECTING
        self._log("MASTER <-> REPLICA sync started")
        conn = await RespClient.connect(host, port, timeout, self.open_stream)
        self._laddr = _local_address(conn.stream)
        try:
            self.link_state = HANDSHAKE
            self._log("Non blocking connect for SYNC fired the event.")
            await self._handshake(conn)
            reply = await self._psync(conn)
            if reply.kind == psync.CONTINUE:
                self._resume(reply)
            else:
                await self._full_sync(conn, reply)
            await self._stream(conn)
        finally:
            await conn.aclose()

    async def _handshake(self, conn):
        await conn.send("PING")
        line = await conn.read_line()
        if not line.startswith((b"+", b"-NOAUTH", b"-NOPERM", b"-ERR operation not permitted")):
            raise LinkError("Error reply to PING from master: '%s'" % line.decode("latin-1"))
        self._log("Master replied to PING, replication can continue...")
        config = self.node.config
        commands = []
        if config["masterauth"]:
            auth = ["AUTH", config["masteruser"], config["masterauth"]] if config["masteruser"] else ["AUTH", config["masterauth"]]
            commands.append(("auth", auth))
        port = config["replica-announce-port"] or config["port"]
        commands.append(("listening-port", ["REPLCONF", "listening-port", str(port)]))
        if config["replica-announce-ip"]:
            commands.append(("ip-address", ["REPLCONF", "ip-address", config["replica-announce-ip"]]))
        commands.append(("capa", ["REPLCONF", "capa", "eof", "capa", "psync2"]))
        await conn.send_raw(b"".join(encode_command(args) for _, args in commands))
        for what, _ in commands:
            line = await conn.read_line()
            if line[:1] != b"-":
                continue
            text = line.decode("latin-1")
            if what == "auth":
                raise LinkError("Unable to AUTH to MASTER: %s" % text)
            self._log("(Non critical) Master does not understand REPLCONF %s: %s" % (what, text))

    async def _psync(self, conn):
        if self.cached is not None:
            replid, offset = self.cached[0], self.cached[1] + 1
            self._log("Trying a partial resynchronization (request %s:%d)." % (replid, offset))
        else:
            replid, offset = "?", -1
            self._log("Partial resynchronization not possible (no cached master)")
        await conn.send("PSYNC", replid, str(offset))
        while True:
            reply = psync.read_psync_reply(await conn.read_line())
            if reply.kind != psync.WAIT:
                break  # else an empty line: a keepalive while the master prepares the snapshot
        if reply.kind == psync.TRY_LATER:
            raise LinkError("Master is currently unable to PSYNC but should be in the future: %s" % reply.text)
        if reply.kind == psync.NOT_SUPPORTED:
            self._log("Master does not support PSYNC or is in error state (reply: %s)" % reply.text)
            self._log("Retrying with SYNC...")
            await conn.send_raw(b"SYNC\r\n")
            self._pre_psync = True
            return psync.PsyncReply(psync.FULL, None, 0, "SYNC")
        self._pre_psync = False
        return reply

    def _resume(self, reply):
        """+CONTINUE: the master streams on from our offset."""
        repl = self.repl
        self._log("Successful partial resynchronization with master.")
        old_replid, offset = self.cached
        if reply.replid and reply.replid != old_replid:
            self._log("Master replication ID changed to %s" % reply.replid, warning=True)
            repl.replid2 = old_replid
            repl.second_repl_offset = repl.master_repl_offset + 1
            repl.replid = reply.replid
            self.cached = (reply.replid, offset)
            repl.master.disconnect_replicas()  # they must learn the new ID
        if repl.backlog is None:
            repl.create_backlog()
        self._attach_master(offset)
        self._log("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.")

    # ---- full sync --------------------------------------------------------------------------------

    async def _full_sync(self, conn, reply):
        if reply.replid is not None:
            self._log("Full resync from master: %s:%d" % (reply.replid, reply.offset))
        self.master_replid, self.initial_offset = reply.replid, reply.offset
        self.transfer = Transfer(self.repl.now, self._log)
        self.link_state = TRANSFER
        data = await self.transfer.receive(conn, self.node.config["repl-timeout"])
        await self._load(data)

    async def _load(self, data):
        node, repl = self.node, self.repl
        self._attach_to_new_master()
        self._log("MASTER <-> REPLICA sync: Loading DB in memory")
        repl.position.synced()
        persistence = node.persistence
        zsets = persistence.snapshots.zset_factory() if persistence is not None else None
        databases = len(node.keyspace.dbs)
        parse = lambda: rdb.parse(bytes(data), databases=databases, make_zset=zsets)  # noqa: E731
        try:
            # Off the event loop, so clients keep being served meanwhile; inline without
            # persistence (simulations on a MockClock, where a thread would let time jump).
            parsed = await trio.to_thread.run_sync(parse, abandon_on_cancel=True) if persistence is not None else parse()
        except rdb.RDBError as e:
            raise LinkError("Failed trying to load the MASTER synchronization DB from socket: %s" % e) from None
        if persistence is not None:
            self._kill_save_child(persistence)
        self._log("MASTER <-> REPLICA sync: Flushing old data")
        rdb.install(node.keyspace, parsed, replace=True)
        self._log("Done loading RDB, keys loaded: %d, keys expired: %d." % (parsed.loaded, parsed.expired))
        try:
            self.stream_db = max(int(parsed.aux.get("repl-stream-db", b"0")), 0)
        except ValueError:
            self.stream_db = 0
        # The master's history is ours now; a new one for anything before it.
        repl.replid = self.master_replid or "0" * 40
        repl.master_repl_offset = self.initial_offset
        repl.clear_replid2()
        repl.create_backlog()
        self._attach_master(self.initial_offset)
        self._log("MASTER <-> REPLICA sync: Finished with success")
        if self.transfer.eof_marked:
            self.request_ack()  # the master starts streaming after our first ACK
        if persistence is not None:
            await self._keep_on_disk(persistence, data)

    def _attach_to_new_master(self):
        """A different dataset: our own replicas must resync with us, and our backlog no
        longer describes what we hold."""
        self.cached = None
        self.repl.master.disconnect_replicas()
        self.repl.free_backlog()

    def _kill_save_child(self, persistence):
        snapshots = persistence.snapshots
        if snapshots.child_kind in ("rdb", "repl"):
            self._log("Replica is about to load the RDB file received from the master, but there is a pending RDB child running. Killing process %d and removing its temp file to avoid any race" % snapshots.child_pid)
            snapshots.kill_child()

    async def _keep_on_disk(self, persistence, data):
        """As Redis's disk-based load: the received snapshot becomes our dump file; then an AOF
        in use is rewritten from the new dataset."""
        path = persistence.snapshots.path
        try:
            await trio.to_thread.run_sync(lambda: write_atomically(path, lambda write: write(data), "temp-sync.rdb"))
        except OSError as e:
            self._log("Failed trying to save the MASTER synchronization DB on disk: %s" % e.strerror, warning=True)
        aof = persistence.aof
        if aof.enabled and persistence.snapshots.child_pid is None:
            aof.rewrite()

    # ---- connected: the stream ----------------------------------------------------------------

    def _attach_master(self, offset):
        node = self.node
        client = node.new_client("%s:%d" % (self.host, self.port), self._laddr)
        client.kind = "master"
        client.authenticated = True
        client.select(min(self.stream_db, len(node.keyspace.dbs) - 1))
        client.kill = self.drop
        self.master_client = client
        self.applier = StreamApplier(node, client, offset, self.repl.master.feed_raw)
        self.cached = None
        self.link_state = CONNECTED
        self.down_since = 0.0
        self.last_io = self.repl.now()

    async def _stream(self, conn):
        timeout = self.node.config["repl-timeout"]
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._ack_loop, conn)
            while True:
                try:
                    data = await conn.read_some(timeout)
                except RespTimeout:
                    raise LinkError("MASTER timeout: no data nor PING received...") from None
                if self.master_client is None:
                    return  # REPLICAOF tore this session down while the read completed: drop the data
                self.last_io = self.repl.now()
                self.master_client.last_interaction = time.time()
                self.applier.feed(data)
                self.repl.position.after_apply(self.applier.applied)

    async def _ack_loop(self, conn):
        """REPLCONF ACK every second, and at once when a GETACK asked for one."""
        if self._pre_psync:
            return
        while True:
            with trio.move_on_after(1.0):
                await self._ack_event.wait()
            self._ack_event = trio.Event()
            applier = self.applier
            if applier is None:
                return
            offset = self._ack_at if self._ack_at is not None else applier.applied
            offset = self.repl.position.ack_offset(offset)  # never beyond what is on disk
            self._ack_at = None
            await conn.send("REPLCONF", "ACK", str(offset))

    def _log(self, text, warning=False):
        self.repl._log(text, warning)


def _local_address(stream) -> str:
    """ip:port of our end of a TCP stream (CLIENT LIST laddr of the master client)."""
    try:
        host, port = stream.socket.getsockname()[:2]
        return "%s:%d" % (host, port)
    except (AttributeError, OSError, ValueError):
        return ""


def _unblock_all(node):
    """Clients blocked on a master get an error and are closed when it becomes a replica."""
    for client in list(node.clients.values()):
        if client.blocked is None:
            continue
        node.cancel_block(client)
        client.blocked_reply = _UNBLOCKED
        client.closing = True
        if client.unblock is not None:
            client.unblock()
