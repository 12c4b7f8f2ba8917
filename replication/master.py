"""Master side: the replication stream, the replicas attached to us, PSYNC, WAIT.

Every write the node executes reaches `feed_command` (a node propagate
listener) as (dbnum, argv) in its deterministic form; expired keys arrive as
a DEL (UNLINK under lazyfree-lazy-expire). Each is encoded as RESP, preceded
by a SELECT when the stream's database changes, appended to the backlog and
queued for every replica (`feed_raw`). A replica whose snapshot is still
being made holds the stream in `pending`; one online gets it on its
connection's output list, which the I/O layer flushes.

A node that is itself a replica does not encode anything: it proxies the
exact bytes it applies from its master (replication.replica calls feed_raw),
so its sub-replicas and its backlog share its master's offsets and ID.
"""

import time

from node.errors import CommandError, NOT_INTEGER, SYNTAX
from node.resp import OK, Raw
from node.session import Block

from . import psync
from .fullsync import FullSync
from .state import HANDSHAKE, ONLINE, WAIT_BGSAVE_END, WAIT_BGSAVE_START, Replica

NO_REPLY = Raw(b"")
_PING = b"*1\r\n$4\r\nPING\r\n"
_GETACK = b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n"
_SELECT = [b"*2\r\n$6\r\nSELECT\r\n$1\r\n%d\r\n" % i for i in range(10)]
_NET_HOST_STR_LEN = 256


def encode_command(argv) -> bytes:
    return b"*%d\r\n" % len(argv) + b"".join([b"$%d\r\n%s\r\n" % (len(a), a) for a in argv])


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
        state = self.state
        if dbnum != state.stream_db:
            state.stream_db = dbnum
            data = select_command(dbnum) + encode_command(argv)
        else:
            data = encode_command(argv)
        self.feed_raw(data)
        # Redis's c->woff: the offset right after the last write this client caused (for WAIT).
        client = self.node.current_client
        if client is not None:
            client.woff = state.master_repl_offset

    def feed_expired(self, db, key):
        name = b"UNLINK" if self.node.config["lazyfree-lazy-expire"] else b"DEL"
        self.feed_command(db.id, [name, key])

    def feed_raw(self, data):
        """Bytes of the stream: into the backlog, and to every replica past WAIT_BGSAVE_START."""
        state = self.state
        state.master_repl_offset += len(data)
        backlog = state.backlog
        if backlog is not None:
            backlog.append(data)
        for r in state.replicas:
            if r.state == WAIT_BGSAVE_START:
                continue
            self._queue(r, data)

    def _queue(self, r, data):
        client = r.client
        if r.streaming:
            r.out.append(data)
            client.out_bytes += len(data)
            if client.wake is not None:
                client.wake()
        else:
            r.pending.append(data)
            r.pending_bytes += len(data)
        self._check_output_limit(r)

    def _check_output_limit(self, r):
        """client-output-buffer-limit replica: a replica that falls too far behind is dropped,
        rather than the stream held for it growing without bound."""
        hard, soft, seconds = self.node.config.values["client-output-buffer-limit"]["slave"]
        size = r.client.out_bytes + r.pending_bytes
        if hard and size > hard:
            over = True
        elif soft and size > soft:
            now = time.time()
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
        state = self.state
        if len(state.replicas) == 1 and state.backlog is None:
            # A new history: nothing before it can be continued.
            state.change_replid()
            state.clear_replid2()
            state.create_backlog()
            self.sync_listening()
            state._log("Replication backlog created, my new replication IDs are '%s' and '%s'" % (state.replid, state.replid2))
        self.fullsync.request(r)
        return NO_REPLY

    def _try_partial(self, r, replid, offset) -> bool:
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
        r.ack_time = time.time()
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
        """The snapshot for r stands for `offset`: say so, and hold the stream from here."""
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
        r.ack_time = time.time()
        self.state.refresh_good_replicas()
        self.state._log("Synchronization with replica %s succeeded" % r.name)

    def start_stream(self, r):
        """Release what the stream held for r while its snapshot was on the way."""
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
        """Close a replica's connection (with a last error line, maybe)."""
        client = r.client
        if last_words:
            r.out.append(last_words)
        client.closing = True
        self._forget(r)
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
                self.state.no_replicas_since = time.time()
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
        r.ack_time = time.time()
        if r.start_on_ack:
            self.start_stream(r)
        if self.waiting:
            self.serve_waiting()

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
        now = time.time()
        for r in list(state.replicas):
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


def _parse_long(raw: bytes) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise CommandError(NOT_INTEGER) from None
    if b"%d" % value != raw or not -(1 << 63) <= value < (1 << 63):
        raise CommandError(NOT_INTEGER)
    return value
