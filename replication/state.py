"""The node's replication state, installed as `node.replication`.

What INFO replication and ROLE report, built exactly as Redis 7.0.15 does,
and the checks the command layer asks for (NOREPLICAS). The moving parts live
beside it: `master` (replication.master: propagation, replicas, PSYNC, WAIT)
and `link` (replication.replica: the link to our own master).

Replication IDs and offsets are Redis's PSYNC2 ones: `replid` names the
current history, `master_repl_offset` counts its bytes; after a promotion the
previous ID stays valid as `replid2` up to `second_repl_offset`, so replicas
of the old master can continue with us.
"""

import os

from .psync import NO_REPLID2

# A replica's state as the master sees it (Redis's SLAVE_STATE_*).
HANDSHAKE = "handshake"  # sent REPLCONF, not PSYNC yet: not a replica yet
WAIT_BGSAVE_START = "wait_bgsave_start"  # needs a snapshot that has not started
WAIT_BGSAVE_END = "wait_bgsave_end"  # its snapshot is being made; the stream is held for it
SEND_BULK = "send_bulk"  # the snapshot file is being sent
ONLINE = "online"

_INFO_STATE = {WAIT_BGSAVE_START: "wait_bgsave", WAIT_BGSAVE_END: "wait_bgsave", SEND_BULK: "send_bulk", ONLINE: "online"}
_NOREPLICAS = "NOREPLICAS Not enough good replicas to write."


def rdb_history(aux: dict):
    """(replid, offset, db) from a snapshot's repl-id/repl-offset/repl-stream-db, or None."""
    try:
        replid = aux["repl-id"].decode("latin-1")
        offset = int(aux["repl-offset"])
        db = int(aux["repl-stream-db"])
    except (KeyError, ValueError, AttributeError):
        return None
    if len(replid) != 40 or offset < 0 or db < 0:
        return None
    return replid, offset, db


def new_replid() -> str:
    return os.urandom(20).hex()


class Replica:
    """One replica attached to this node (the master side of a link)."""

    __slots__ = ("client", "out", "listening_port", "announced_ip", "capa_eof", "capa_psync2", "pre_psync", "state", "ack_off", "ack_time", "initial_offset", "wait_since", "rdb_only", "rdb_filtered", "start_on_ack", "streaming", "pending", "pending_bytes", "soft_since", "gone")

    def __init__(self, client):
        self.client = client
        self.out = client.out  # the connection's output list, even while a command swaps client.out
        self.listening_port = 0
        self.announced_ip = None
        self.capa_eof = False
        self.capa_psync2 = False
        self.pre_psync = False  # came with SYNC: no +FULLRESYNC, no ACKs expected
        self.rdb_only = False  # REPLCONF rdb-only 1: the snapshot, then goodbye (redis-cli --rdb)
        self.rdb_filtered = False  # REPLCONF rdb-filter-only: a snapshot without the data
        self.state = HANDSHAKE
        self.ack_off = 0
        self.ack_time = 0.0
        self.initial_offset = -1  # the offset its snapshot stands for
        self.wait_since = 0.0  # when it started waiting for a snapshot (the diskless delay counts from it)
        self.start_on_ack = False  # diskless: hold the stream until its first ACK
        self.streaming = False  # the stream goes straight to its connection (else to pending)
        self.pending = []  # stream bytes held until its snapshot is delivered
        self.pending_bytes = 0
        self.soft_since = 0.0
        self.gone = False

    @property
    def ip(self) -> str:
        return self.announced_ip or self.client.addr.rsplit(":", 1)[0]

    @property
    def name(self) -> str:
        """ip:port as Redis names a replica in its log."""
        if self.listening_port:
            return "%s:%d" % (self.ip, self.listening_port)
        return "%s:<unknown-replica-port>" % self.ip


class ReplicationState:
    def __init__(self, node):
        self.node = node
        self.config = node.config
        self.now = lambda: node.clock_ms() / 1000.0  # unix seconds, from the node's injected clock
        self.replid = new_replid()
        self.replid2 = NO_REPLID2
        self.master_repl_offset = 0
        self.second_repl_offset = -1
        self.backlog = None
        self.stream_db = -1  # the db the stream last SELECTed (-1: emit SELECT before the next command)
        self.replicas = []  # Replica records past PSYNC, in attach order
        self.good_replicas = 0
        self.no_replicas_since = self.now()
        self.master = None  # replication.master.Master
        self.link = None  # replication.replica.ReplicaLink
        self.synchronous = None  # replication.synchronous.SynchronousReplicas
        self.mastership = None  # replication.mastership.Mastership
        self.position = None  # replication.position.DurablePosition
        self.loaded_history = None  # (replid, offset) of the snapshot loaded at start, if it named one
        self.run = None  # the service coroutine (replication.service), started with the server

    # ---- IDs ---------------------------------------------------------------

    def change_replid(self):
        self.replid = new_replid()

    def clear_replid2(self):
        self.replid2 = NO_REPLID2
        self.second_repl_offset = -1

    def shift_replid(self):
        """Promotion (PSYNC2): our history so far stays valid under the old ID, up to here."""
        self.replid2 = self.replid
        self.second_repl_offset = self.master_repl_offset + 1
        self.change_replid()
        self._log("Setting secondary replication ID to %s, valid up to offset: %d. New replication ID is %s" % (self.replid2, self.second_repl_offset, self.replid), warning=True)

    # ---- the backlog -----------------------------------------------------------

    def create_backlog(self):
        from .backlog import Backlog

        self.backlog = Backlog(self.config["repl-backlog-size"], self.master_repl_offset)

    def free_backlog(self):
        self.backlog = None

    @property
    def backlog_bytes(self) -> int:
        return self.backlog.memory if self.backlog is not None else 0

    # ---- write checks ----------------------------------------------------------

    @property
    def checks_writes(self) -> bool:
        """min-replicas-to-write applies (a master with both settings on)."""
        values = self.config.values
        if self.node.role != "master":
            return False
        return bool(values["synchronous-replicas"]) or (bool(values["min-replicas-to-write"]) and bool(values["min-replicas-max-lag"]))

    def refuse_write(self, c, cmd):
        if self.mastership is not None and self.mastership.unconfirmed:
            from .mastership import UNCONFIRMED

            return UNCONFIRMED
        values = self.config.values
        to_write = values["min-replicas-to-write"]
        if to_write and values["min-replicas-max-lag"] and self.node.role == "master" and self.good_replicas < to_write:
            return _NOREPLICAS
        return self.synchronous.refusal()

    def refresh_good_replicas(self):
        """Replicas online that acknowledged within min-replicas-max-lag seconds."""
        max_lag = self.config["min-replicas-max-lag"]
        if not self.config["min-replicas-to-write"] or not max_lag:
            return
        now = int(self.now())
        self.good_replicas = sum(1 for r in self.replicas if r.state == ONLINE and now - int(r.ack_time) <= max_lag)

    # ---- RDB AUX fields ----------------------------------------------------------

    def rdb_aux(self) -> dict:
        """repl-stream-db/repl-id/repl-offset for a snapshot, when there is a history to
        continue (Redis's rdbPopulateSaveInfo): a master with a backlog, or a replica."""
        link = self.link
        if self.node.role == "master":
            if self.backlog is None:
                return {}
            db = max(self.stream_db, 0)
        elif link is not None and link.stream_db_known:
            db = link.stream_db
        else:
            return {}
        return {"repl-stream-db": str(db), "repl-id": self.replid, "repl-offset": str(self.master_repl_offset)}

    def on_started(self):
        """The dataset is loaded, serving starts: a master checks it is still one, a replica
        takes back the position its AOF holds (synchronous replication)."""
        self.mastership.on_start()
        if self.node.role != "master":
            self.position.restore()

    def on_rdb_loaded(self, aux: dict):
        """Restarted from a snapshot that names its replication history: take it back, so that
        replicas continue with a partial resync (Redis 7.0's loadDataFromDisk)."""
        link = self.link
        if link is None:
            return
        history = rdb_history(aux)
        if history is None:
            return
        replid, offset, db = history
        self.loaded_history = (replid, offset)
        if link.host is not None:
            # A replica: the history is what PSYNC asks its master to continue.
            self.replid = replid
            self.master_repl_offset = offset
            link.cache_myself(db)
            return
        # A master: the loaded history stays valid as our previous one, up to here.
        self.replid2 = replid
        self.second_repl_offset = offset + 1
        self.master_repl_offset = offset
        self.create_backlog()
        self.master.sync_listening()  # the stream is recorded from here on
        self.no_replicas_since = self.now()

    # ---- INFO replication and ROLE --------------------------------------------------

    def info_fields(self) -> list:
        if self.master is not None:
            self.master.flush()  # the backlog figures include every write so far
        node, link = self.node, self.link
        fields = [("role", "master" if node.role == "master" else "slave")]
        if node.role != "master" and link is not None:
            fields.extend(link.info_fields())
        fields.append(("connected_slaves", len(self.replicas)))
        values = self.config.values
        if values["min-replicas-to-write"] and values["min-replicas-max-lag"]:
            fields.append(("min_slaves_good_slaves", self.good_replicas))
        now = int(self.now())
        shown = 0
        for r in self.replicas:
            state = _INFO_STATE.get(r.state)
            if state is None:
                continue
            lag = now - int(r.ack_time) if r.state == ONLINE else 0
            fields.append(("slave%d" % shown, "ip=%s,port=%d,state=%s,offset=%d,lag=%d" % (r.ip, r.listening_port, state, r.ack_off, lag)))
            shown += 1
        backlog = self.backlog
        fields.extend((
            ("master_failover_state", "no-failover"),
            ("master_replid", self.replid),
            ("master_replid2", self.replid2),
            ("master_repl_offset", self.master_repl_offset),
            ("second_repl_offset", self.second_repl_offset),
            ("repl_backlog_active", int(backlog is not None)),
            ("repl_backlog_size", self.config["repl-backlog-size"]),
            ("repl_backlog_first_byte_offset", backlog.first if backlog is not None else 0),
            ("repl_backlog_histlen", backlog.histlen if backlog is not None else 0),
        ))
        return fields

    def role_reply(self) -> list:
        if self.node.role == "master":
            online = [[r.ip.encode(), b"%d" % r.listening_port, b"%d" % r.ack_off] for r in self.replicas if r.state == ONLINE]
            return [b"master", self.master_repl_offset, online]
        link = self.link
        return [b"slave", link.host.encode(), link.port, link.role_state.encode(), link.reploff if link.connected else -1]

    # ---- plumbing ------------------------------------------------------------------

    def client_gone(self, client):
        """The I/O layer dropped a client: forget it as a replica or as a WAITing client."""
        if self.master is not None:
            self.master.client_gone(client)

    def _log(self, text, warning=False):
        log = self.node.log
        if log is not None:
            (log.warning if warning else log.notice)(text)
