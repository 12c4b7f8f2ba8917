"""A master that restarts without its whole dataset must not act as master on its own
(synchronous replication, `synchronous-replicas` > 0).

The danger: a master restarts empty (no persistence) or older (a crash lost its last writes);
its replicas reconnect, find a new history, and resynchronize to what it holds, wiping
acknowledged writes that only they still had. So a master under synchronous replication
keeps a small record, `triokv-mastership.json` in its directory:

    {"replid": ..., "offset": ..., "clean": true|false}

written when it becomes master (clean false: it could crash from now on) and on a clean
shutdown once its data is on disk (clean true, with the history it ends with). At start, a
node that finds the record and is not configured as a replica is *confirmed* only if the
shutdown was clean and the dataset it loaded names that same history (an RDB's repl-id and
repl-offset; with the AOF, which names none, a clean shutdown had fsynced everything).
Otherwise it starts *unconfirmed*: it refuses writes, PING and replica synchronization with
an error naming why, so sentinels see it down and fail over to a replica, then turn it into a
replica of the new master (REPLICAOF host port), which resynchronizes it. An operator
without sentinels confirms it with REPLICAOF NO ONE. Becoming a replica removes the record.
"""

import json
import os

from node.persistence.files import write_atomically

FILENAME = "triokv-mastership.json"
UNCONFIRMED = "UNCONFIRMED This node was master and restarted without its full dataset; it serves again once a sentinel (or REPLICAOF NO ONE) confirms it"
# What an unconfirmed node still answers: enough to be inspected and reconfigured.
ALLOWED = frozenset(("info", "role", "replicaof", "slaveof", "config", "shutdown", "client", "command", "hello", "auth", "debug", "monitor", "slowlog", "time", "lastsave", "save", "quit", "reset", "select", "dbsize", "get", "exists", "scan", "keys", "type", "ttl", "pttl"))


class Mastership:
    def __init__(self, state):
        self.state = state
        self.node = state.node
        self.unconfirmed = False

    @property
    def enabled(self) -> bool:
        return bool(self.node.config["synchronous-replicas"])

    def _path(self) -> str:
        return os.path.join(os.getcwd(), FILENAME)

    def _read(self):
        try:
            with open(self._path(), "rb") as f:
                record = json.loads(f.read())
            return record if isinstance(record, dict) else {}
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # unreadable: as good as a crash record

    def _write(self, clean: bool):
        state = self.state
        record = {"replid": state.replid, "offset": state.master_repl_offset, "clean": clean}
        try:
            write_atomically(self._path(), lambda write: write(json.dumps(record).encode()), FILENAME + ".tmp")
        except OSError as e:
            state._log("Can't write %s: %s" % (FILENAME, e.strerror), warning=True)

    def forget(self):
        try:
            os.unlink(self._path())
        except OSError:
            pass

    # ---- the life cycle -------------------------------------------------------------

    def on_start(self):
        """After the dataset is loaded, before serving."""
        if not self.enabled:
            return
        if self.node.role != "master":
            self.forget()
            return
        record = self._read()
        if record is not None and not self._continues(record):
            self._set_unconfirmed(True)
            self.state._log("This node was master and restarted without the dataset it had (%s): refusing to serve as master until confirmed" % self._why(record), warning=True)
            return
        self._write(clean=False)

    def _continues(self, record) -> bool:
        if not record.get("clean"):
            return False
        if self.node.config["appendonly"]:
            return True
        return self.state.loaded_history == (record.get("replid"), record.get("offset"))

    def _why(self, record) -> str:
        if not record.get("clean"):
            return "it did not shut down cleanly"
        return "its snapshot does not hold the history it ended with"

    def on_shutdown(self):
        """After the final save of a clean shutdown."""
        if self.enabled and self.node.role == "master" and not self.unconfirmed:
            self.state.master.flush()
            self._write(clean=True)

    def on_promoted(self):
        """REPLICAOF NO ONE: confirmed, or a new master."""
        self._set_unconfirmed(False)
        if self.enabled:
            self._write(clean=False)

    def on_demoted(self):
        """REPLICAOF host port: the new master's data replaces ours."""
        self._set_unconfirmed(False)
        self.forget()

    def _set_unconfirmed(self, value: bool):
        self.unconfirmed = value
        self.node.refresh_gate()
