"""Master side: the replication stream, the replicas attached to us, PSYNC, WAIT.

Every write the node executes reaches `feed_command` (a node propagate
listener) as (dbnum, argv) in its deterministic form; expired keys arrive as
a DEL (UNLINK under lazyfree-lazy-expire). Each is encoded as RESP, preceded
by a SELECT when the stream's database changes, and counted in
master_repl_offset at once; the bytes are batched and delivered once per
round of the event loop (`flush`: into the backlog, queued for every
replica), as Redis writes to its replicas in beforeSleep. Whatever reads the
backlog or changes what a replica is fed (PSYNC, a snapshot starting, INFO,
PING, GETACK) flushes first. A replica whose snapshot is still being made
holds the stream in `pending`; one online gets it on its connection's output
list, which the I/O layer sends.

A node that is itself a replica does not encode anything: it proxies the
exact bytes it applies from its master (replication.replica calls feed_raw),
so its sub-replicas and its backlog share its master's offsets and ID.
"""

import trio

from node.errors import CommandError, NOT_INTEGER, SYNTAX
from node.resp import OK, Raw, encode_command
from node.session import Block

from . import psync
from .fullsync import FullSync
from .state import HANDSHAKE, ONLINE, WAIT_BGSAVE_END, WAIT_BGSAVE_START, Replica

NO_REPLY = Raw(b"")
_PING = b"*1\r\n$4\r\nPING\r\n"
_GETACK = b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n"
_SELECT = [b"*2\r\n$6\r\nSELECT\r\n$1\r\n%d\r\n" % i for i in range(10)]
_NET_HOST_STR_LEN = 256


def select_command(dbnum: int) -> bytes:
    if dbnum < 10:
        return _SELECT[dbnum]
    index = b"%d" % dbnum
    return b"*2\r\n$6\r\nSELECT\r\n$%d\r\n%s\r\n" % (len(index), index)


class Master:
    def __init__(self, state):
        self.state = state
        self.node = state.node
        self.fullsync = FullSync(self)
        self.waiting = []  # clients blocked in WAIT: (client, offset, numreplicas)
        self.listening = False
        self.nursery = None  # set by the replication service: where transfers run
        self.cron_loops = 0
        self.obuf_check_at = 0  # output held for a replica beyond this is checked against its limits
        self.batch = []  # encoded writes not yet in the backlog nor queued for replicas
        self.flush_wanted = None  # trio.Event the flusher task waits on
        self.ack_wanted = False  # a GETACK follows the next flush (synchronous replication)
        self.refresh_output_limits()

    def spawn(self, fn, *args):
        if self.nursery is not None:
            self.nursery.start_soon(fn, *args)

    # ---- the stream ------------------------------------------------------------

    def sync_listening(self):
        """Encode writes only as a master with a backlog (Redis feeds nothing before the
        first replica asks, and a replica proxies its master's stream instead)."""
        want = self.node.role == "master" and self.state.backlog is not None
        if want == self.listening:
            return
        self.flush()
        node = self.node
        if want:
            node.propagate_listeners.append(self.feed_command)
            node.repl_listeners.append(self.feed_command)
            node.keyspace.expired_listeners.append(self.feed_expired)
        else:
            node.propagate_listeners.remove(self.feed_command)
            node.repl_listeners.remove(self.feed_command)
            node.keyspace.expired_listeners.remove(self.feed_expired)
        self.listening = want

    def feed_command(self, dbnum, argv):
        """A write, encoded and counted at once; its bytes join the batch that `flush`
        delivers once per round of the event loop (as Redis writes to replicas in beforeSleep)."""
        state = self.state
        if dbnum != state.stream_db:
            state.stream_db = dbnum
            data = select_command(dbnum) + encode_command(argv)
        else:
            data = encode_command(argv)
        state.master_repl_offset += len(data)
        batch = self.batch
        if not batch and self.flush_wanted is not None:
            self.flush_wanted.set()
        batch.append(data)
        # Redis's c->woff: the offset right after the last write this client caused (for WAIT).
        client = self.node.current_client
        if client is not None:
            client.woff = state.master_repl_offset

    def feed_expired(self, db, key):
        name = b"UNLINK" if self.node.config["lazyfree-lazy-expire"] else b"DEL"
        self.feed_command(db.id, [name, key])

    def feed_raw(self, data):
        """Bytes of the stream delivered now, after the batch (PING, GETACK, what a replica
        proxies from its own master)."""
        self.flush()
        self.state.master_repl_offset += len(data)
        self._deliver(data)

    def flush(self):
        """Deliver the batched writes: everything that reads the backlog or changes what a
        replica is fed calls this first."""
        batch = self.batch
        if batch:
            self.batch = []
            self._deliver(b"".join(batch) if len(batch) > 1 else batch[0])

    async def flusher(self):
        """The batch goes out once the tasks already runnable (other clients' writes) ran."""
        while True:
            self.flush_wanted = trio.Event()
            await self.flush_wanted.wait()
            await trio.lowlevel.cancel_shielded_checkpoint()
            self.flush()
            if self.ack_wanted:
                self.ack_wanted = False
                self.request_acks()

    def want_ack(self):
        """One GETACK per round of the event loop, after the writes of that round."""
        self.ack_wanted = True
        if self.flush_wanted is not None:
            self.flush_wanted.set()

    def _deliver(self, data):
        """Into the backlog, and to every replica past WAIT_BGSAVE_START (on its connection
        when it streams, else held for after its snapshot). The offset is already counted."""
        state = self.state
        n = len(data)
        backlog = state.backlog
        if backlog is not None:
            backlog.append(data)
        check_at = self.obuf_check_at
        for r in state.replicas:
            client = r.client
            if r.streaming:
                r.out.append(data)
                client.out_bytes += n
                if client.out_bytes > check_at:
                    self._check_output_limit(r)
                if client.wake is not None:
                    client.wake()
            elif r.state != WAIT_BGSAVE_START and not r.rdb_only:
                r.pending.append(data)
                r.pending_bytes += n
                if r.pending_bytes + client.out_bytes > check_at:
                    self._check_output_limit(r)

    def refresh_output_limits(self):
        """The smallest replica limit set: below it, no check is needed (the cron resets soft timers)."""
        hard, soft, _ = self.node.config.values["client-output-buffer-limit"]["slave"]
        self.obuf_check_at = min([limit for limit in (hard, soft) if limit] or [1 << 62])

    def _check_output_limit(self, r):
        """client-output-buffer-limit replica: a replica that falls too far behind is dropped,
        rather than the stream held for it growing without bound."""
        hard, soft, seconds = self.node.config.values["client-output-buffer-limit"]["slave"]
        size = r.client.out_bytes + r.pending_bytes
        if hard and size > hard:
            over = True
        elif soft and size > soft:
            now = self.state.now()
            if not r.soft_since:
                r.soft_since = now
            over = now - r.soft_since > seconds
        else:
            r.soft_since = 0.0
            return
        if over and not r.gone:
            stats = self.node.stats
            stats["client_output_buffer_limit_disconnections"] = stats.get("client_output_buffer_limit_disconnections", 0) + 1
            self.state._log("Client id=%d addr=%s scheduled to be closed ASAP for overcoming of output buffer limits." % (r.client.id, r.client.addr), warning=True)
            self.drop(r)

    # ---- replicas joining ------------------------------------------------------------

    def replica_record(self, c) -> Replica:
        r = c.repl
        if r is None:
            r = c.repl = Replica(c)
        return r

    def psync(self, c, argv):
        """PSYNC replid offset / SYNC: continue from the backlog or start a full resync."""
        if c.kind == "replica":
            return NO_REPLY  # already one: Redis ignores it
        node = self.node
        if node.role != "master" and not self.state.link.connected:
            raise CommandError("NOMASTERLINK Can't SYNC while not connected with my master")
        if c.out:
            raise CommandError("ERR SYNC and PSYNC are invalid with pending output")
        r = self.replica_record(c)
        self.state._log("Replica %s asks for synchronization" % r.name)
        stats = node.stats
        if argv[0].lower() == b"psync":
            try:
                offset = _parse_long(argv[2])
            except CommandError:
                self.state._log("Replica %s asks for synchronization but with a wrong offset" % r.name, warning=True)
                raise
            replid = argv[1].decode("latin-1")
            if self._try_partial(r, replid, offset):
                stats["sync_partial_ok"] = stats.get("sync_partial_ok", 0) + 1
                return NO_REPLY
            if replid != "?":
                stats["sync_partial_err"] = stats.get("sync_partial_err", 0) + 1
        else:
            r.pre_psync = True
        stats["sync_full"] = stats.get("sync_full", 0) + 1
        self._attach(r, WAIT_BGSAVE_START)
        r.wait_since = self.state.now()
        if self.state.backlog is None:
            self._start_history()
        self.fullsync.request(r)
        return NO_REPLY

    def _start_history(self):
        """The first replica of a master without a backlog: a new history begins (nothing
        before it could be continued), and from now on the stream is recorded."""
        state = self.state
        state.change_replid()
        state.clear_replid2()
        state.create_backlog()
        self.sync_listening()
        state._log("Replication backlog created, my new replication IDs are '%s' and '%s'" % (state.replid, state.replid2))

    def _try_partial(self, r, replid, offset) -> bool:
        self.flush()
        state = self.state
        decision = psync.decide(replid, offset, state.replid, state.replid2, state.second_repl_offset, state.backlog)
        if decision.kind != psync.CONTINUE:
            if decision.reason == "requested":
                state._log("Full resync requested by replica %s" % r.name)
            elif decision.reason == "lack of backlog":
                state._log("Unable to partial resync with replica %s for lack of backlog (Replica request was: %d)." % (r.name, offset))
                if offset > state.master_repl_offset:
                    state._log("Warning: replica %s tried to PSYNC with an offset that is greater than the master replication offset." % r.name, warning=True)
            else:
                state._log("Partial resynchronization not accepted: %s" % decision.reason)
            return False
        self._attach(r, ONLINE)
        r.ack_time = self.state.now()
        r.streaming = True
        data = state.backlog.read_from(offset)
        r.out.append(psync.continue_reply(state.replid, r.capa_psync2))
        if data:
            r.out.append(data)
            r.client.out_bytes += len(data)
        state._log("Partial resynchronization request from %s accepted. Sending %d bytes of backlog starting from offset %d." % (r.name, len(data), offset))
        state.refresh_good_replicas()
        return True

    def _attach(self, r, replica_state):
        r.state = replica_state
        r.client.kind = "replica"
        self.state.replicas.append(r)

    def setup_full_resync(self, r, offset):
        """The snapshot for r stands for `offset`: say so, and hold the stream from here.
        (The batch was flushed before the snapshot was taken: it is in the snapshot.)"""
        r.initial_offset = offset
        r.state = WAIT_BGSAVE_END
        r.streaming = False
        self.state.stream_db = -1  # the stream restarts with a SELECT
        if not r.pre_psync:
            r.out.append(psync.fullresync_reply(self.state.replid, offset))
            if r.client.wake is not None:
                r.client.wake()

    def put_online(self, r):
        r.state = ONLINE
        r.ack_time = self.state.now()
        self.state.refresh_good_replicas()
        self.state._log("Synchronization with replica %s succeeded" % r.name)

    def start_stream(self, r):
        """Release what the stream held for r while its snapshot was on the way."""
        if r.rdb_only:
            self.state._log("Close the connection with replica %s as RDB transfer is complete" % r.name)
            self.drop(r)
            return
        r.start_on_ack = False
        r.streaming = True
        if r.pending:
            r.out.extend(r.pending)
            r.client.out_bytes += r.pending_bytes
            r.pending = []
            r.pending_bytes = 0
            if r.client.wake is not None:
                r.client.wake()

    def drop(self, r, last_words=b""):
        """Close a replica's connection (after a last error line, when there is one)."""
        client = r.client
        self._forget(r)
        if last_words and client.wait_flushed is not None and self.nursery is not None:
            r.out.append(last_words)
            client.wake()
            self.spawn(self._close_when_flushed, client)
            return
        client.closing = True
        if client.kill is not None:
            client.kill()

    async def _close_when_flushed(self, client):
        with trio.move_on_after(self.node.config["repl-timeout"]):
            await client.wait_flushed()
        client.closing = True
        if client.kill is not None:
            client.kill()

    def _forget(self, r):
        if r.gone:
            return
        r.gone = True
        replicas = self.state.replicas
        if r in replicas:
            replicas.remove(r)
            if not replicas:
                self.state.no_replicas_since = self.state.now()
        self.state.refresh_good_replicas()

    def client_gone(self, client):
        r = client.repl
        if r is not None and not r.gone:
            if r.state != HANDSHAKE:
                self.state._log("Connection with replica %s lost." % r.name)
            self._forget(r)
        if self.waiting:
            self.waiting = [w for w in self.waiting if w[0] is not client]

    def disconnect_replicas(self):
        for r in list(self.state.replicas):
            self.drop(r)

    # ---- REPLCONF ----------------------------------------------------------------------

    def replconf(self, c, argv):
        if len(argv) % 2 == 0:
            raise CommandError(SYNTAX)
        for j in range(1, len(argv), 2):
            option, value = argv[j].lower(), argv[j + 1]
            if option == b"listening-port":
                self.replica_record(c).listening_port = _parse_long(value)
            elif option == b"ip-address":
                if len(value) >= _NET_HOST_STR_LEN:
                    raise CommandError("ERR REPLCONF ip-address provided by replica instance is too long: %d bytes" % len(value))
                self.replica_record(c).announced_ip = value.decode("latin-1")
            elif option == b"capa":
                capa = value.lower()
                if capa == b"eof":
                    self.replica_record(c).capa_eof = True
                elif capa == b"psync2":
                    self.replica_record(c).capa_psync2 = True
            elif option == b"rdb-only":
                self.replica_record(c).rdb_only = _parse_flag(value)
            elif option == b"rdb-filter-only":
                self.replica_record(c).rdb_filtered = _parse_filters(value)
            elif option == b"ack":
                self._ack(c, value)
                return NO_REPLY
            elif option == b"getack":
                link = self.state.link
                if self.node.role != "master" and link.connected:
                    link.request_ack()
                return NO_REPLY
            else:
                raise CommandError("ERR Unrecognized REPLCONF option: %s" % argv[j].decode("utf-8", "replace"))
        return OK

    def _ack(self, c, raw):
        r = c.repl
        if c.kind != "replica" or r is None:
            return
        try:
            offset = int(raw)
        except ValueError:
            return
        if offset > r.ack_off:
            r.ack_off = offset
        r.ack_time = self.state.now()
        if r.start_on_ack:
            self.start_stream(r)
        if self.waiting:
            self.serve_waiting()
        self.state.synchronous.on_ack()

    # ---- WAIT ------------------------------------------------------------------------------

    def acked(self, offset) -> int:
        return sum(1 for r in self.state.replicas if r.state == ONLINE and r.ack_off >= offset)

    def wait(self, c, numreplicas, timeout_ms):
        offset = c.woff
        count = self.acked(offset)
        if count >= numreplicas or c.in_exec:
            return count
        self.waiting.append((c, offset, numreplicas))
        self.request_acks()
        return Block((), timeout_ms / 1000.0, _never, count)

    def request_acks(self):
        """REPLCONF GETACK * on the stream: replicas answer with their offset at once."""
        if self.state.replicas and self.node.role == "master":
            self.feed_raw(_GETACK)

    def serve_waiting(self):
        still = []
        node = self.node
        for entry in self.waiting:
            client, offset, needed = entry
            blk = client.blocked
            if blk is None:
                continue
            count = self.acked(offset)
            blk.on_timeout = count  # what the timeout replies with, should it come first
            if count < needed:
                still.append(entry)
                continue
            node.cancel_block(client)
            client.blocked_reply = b":%d\r\n" % count
            if client.unblock is not None:
                client.unblock()
        self.waiting = still

    # ---- cron ------------------------------------------------------------------------------

    def cron(self):
        """Once a second: PING replicas, keep pre-sync links alive, drop silent replicas,
        refresh the good-replica count, free an unused backlog."""
        state, config = self.state, self.node.config
        period = config["repl-ping-replica-period"]
        if self.cron_loops % period == 0 and state.replicas and self.node.role == "master":
            self.feed_raw(_PING)
        self.cron_loops += 1
        now = self.state.now()
        for r in list(state.replicas):
            self._check_output_limit(r)
            if r.gone:
                continue
            if self.fullsync.presync_keepalive(r):
                r.out.append(b"\n")
                if r.client.wake is not None:
                    r.client.wake()
            elif r.state == ONLINE and not r.pre_psync and now - r.ack_time > config["repl-timeout"]:
                state._log("Disconnecting timedout replica (streaming sync): %s" % r.name, warning=True)
                self.drop(r)
        state.refresh_good_replicas()
        self._expire_backlog(now)

    def _expire_backlog(self, now):
        state, ttl = self.state, self.node.config["repl-backlog-ttl"]
        if state.replicas or not ttl or state.backlog is None or self.node.role != "master":
            return
        if now - state.no_replicas_since > ttl:
            state.change_replid()
            state.clear_replid2()
            state.free_backlog()
            self.sync_listening()
            state._log("Replication backlog freed after %d seconds without connected replicas." % ttl)


def _never(client):
    return None


def _parse_flag(raw: bytes) -> bool:
    value = _parse_long(raw)
    if not 0 <= value <= 1:
        raise CommandError("ERR value is out of range, value must between 0 and 1")
    return bool(value)


def _parse_filters(raw: bytes) -> bool:
    """rdb-filter-only: what to include; "functions" is the only thing there is (we have no
    functions, so a filtered snapshot holds no data at all)."""
    from node.config import ConfigError, split_line

    try:
        filters = split_line(raw.decode("latin-1"))
    except ConfigError:
        raise CommandError("ERR Missing rdb-filter-only values") from None
    for name in filters:
        if name.lower() != "functions":
            raise CommandError("ERR Unsupported rdb-filter-only option: %s" % name)
    return True


def _parse_long(raw: bytes) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise CommandError(NOT_INTEGER) from None
    if b"%d" % value != raw or not -(1 << 63) <= value < (1 << 63):
        raise CommandError(NOT_INTEGER)
    return value
