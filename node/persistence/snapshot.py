"""RDB snapshots of a running node: SAVE, BGSAVE (forked child), save points, loading at start.

BGSAVE forks, as Redis does: the child holds a copy-on-write image of the
keyspace at the moment of the fork, so the snapshot is a consistent
point-in-time image while the parent keeps serving. The parent polls for the
child's exit from the server cron (Redis's checkChildrenDone).
"""

import os
import signal
import time

from . import rdb
from .files import write_atomically


class Snapshots:
    def __init__(self, node, log):
        self.node = node
        self.log = log
        self.lastsave = int(time.time())
        self.dirty_at_save = 0
        self.child_pid = None
        self.child_kind = None  # "rdb" | "aof"
        self.child_started = 0.0
        self.child_done = None  # callback(ok: bool) for the running child
        self.scheduled = False
        self.last_bgsave_ok = True
        self.last_save_seconds = -1
        self.loading = False
        self.loading_progress = (0, 0)
        self.last_cow = 0
        self.rdb_saves = 0

    # ---- paths and AUX -------------------------------------------------

    @property
    def path(self) -> str:
        config = self.node.config
        return os.path.join(config["dir"], config["dbfilename"])

    def aux_fields(self) -> dict:
        node = self.node
        aux = {"redis-ver": "7.0.15", "redis-bits": "64", "ctime": str(int(time.time())), "used-mem": str(node.keyspace.memory()), "aof-base": "0"}
        info = getattr(node, "replication_aux", None)
        if info is not None:
            aux.update(info())
        return aux

    # ---- saving ---------------------------------------------------------

    def save(self) -> bool:
        """SAVE: write the snapshot in the foreground (the server waits, as Redis's does)."""
        if self.child_pid is not None and self.child_kind == "rdb":
            return False
        start = time.time()
        try:
            self.write_rdb(self.path)
        except OSError as e:
            self.log.warning("Failed saving the DB: %s" % e)
            self.last_bgsave_ok = False
            return False
        self._saved(start)
        self.log.notice("DB saved on disk")
        return True

    def write_rdb(self, path: str):
        keyspace = self.node.keyspace
        aux = self.aux_fields()
        write_atomically(path, lambda write: rdb.write_snapshot(keyspace, write, aux), "temp-%d.rdb" % os.getpid())

    def _saved(self, start):
        self.dirty_at_save = self.node.keyspace.dirty
        self.lastsave = int(time.time())
        self.last_save_seconds = int(time.time() - start)
        self.last_bgsave_ok = True
        self.rdb_saves += 1

    def bgsave(self, on_done=None) -> str:
        """BGSAVE: fork a child that writes the snapshot. Returns '' or an error text."""
        if self.child_pid is not None:
            return "ERR Background save already in progress" if self.child_kind == "rdb" else "busy"
        return self.fork_child("rdb", lambda: self.write_rdb(self.path), on_done)

    def fork_child(self, kind: str, work, on_done=None) -> str:
        """Run work() in a forked child; on_done(ok) runs in the parent when it exits."""
        start = time.time()
        try:
            pid = os.fork()
        except OSError as e:
            self.last_bgsave_ok = False
            return "ERR Can't fork: %s" % e.strerror
        if pid == 0:
            _run_child(work)
        self.child_pid, self.child_kind, self.child_started = pid, kind, start
        self.child_done = on_done
        self.dirty_before_child = self.node.keyspace.dirty
        if kind == "rdb":
            self.log.notice("Background saving started by pid %d" % pid)
        return ""

    def poll_child(self):
        """From the cron: collect a finished child and report its outcome."""
        if self.child_pid is None:
            return
        try:
            pid, status = os.waitpid(self.child_pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.child_pid, 1 << 8
        if pid == 0:
            return
        ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        kind, done = self.child_kind, self.child_done
        self.child_pid = self.child_kind = self.child_done = None
        if kind == "rdb":
            if ok:
                self.dirty_at_save = self.dirty_before_child
                self.lastsave = int(time.time())
                self.last_save_seconds = int(time.time() - self.child_started)
                self.rdb_saves += 1
                self.log.notice("Background saving terminated with success")
            else:
                self.log.warning("Background saving error")
            self.last_bgsave_ok = ok
        if done is not None:
            done(ok)

    def kill_child(self):
        if self.child_pid is not None:
            try:
                os.kill(self.child_pid, signal.SIGUSR1)
                os.waitpid(self.child_pid, 0)
            except (OSError, ChildProcessError):
                pass
            self.child_pid = self.child_kind = self.child_done = None

    # ---- save points ------------------------------------------------------

    def cron(self):
        """Start a BGSAVE when a save point is reached, or one scheduled by BGSAVE SCHEDULE."""
        self.poll_child()
        if self.child_pid is not None:
            return
        if self.scheduled:
            self.scheduled = False
            self.bgsave()
            return
        changes = self.node.keyspace.dirty - self.dirty_at_save
        elapsed = time.time() - self.lastsave
        for seconds, needed in self.node.config["save"]:
            if changes >= needed and elapsed >= seconds:
                if not self.last_bgsave_ok and elapsed < 5:
                    return  # Redis waits before retrying a failed save
                self.log.notice("%d changes in %d seconds. Saving..." % (changes, seconds))
                self.bgsave()
                return

    @property
    def changes_since_save(self) -> int:
        return self.node.keyspace.dirty - self.dirty_at_save

    # ---- loading ------------------------------------------------------

    def load(self, path: str = None) -> bool:
        """Load the snapshot at start-up. False if there is none; RDBError if it is bad."""
        path = path or self.path
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return False
        start = time.time()
        self.loading = True
        try:
            snap = rdb.read_snapshot(data, progress=self._progress(start))
            count = rdb.load_into(self.node.keyspace, snap)
        finally:
            self.loading = False
        self.node.keyspace.dirty = 0
        self.dirty_at_save = 0
        hook = getattr(self.node, "on_rdb_loaded", None)
        if hook is not None:
            hook(snap.aux)
        self.log.notice("Done loading RDB, keys loaded: %d, keys expired: %d." % (count, sum(len(e) for e in snap.databases.values()) - count))
        self.log.notice("DB loaded from disk: %.3f seconds" % (time.time() - start))
        return True

    def _progress(self, start):
        def report(keys, offset, total):
            self.loading_progress = (offset, total)
            elapsed = max(time.time() - start, 1e-6)
            self.log.notice("Loading RDB: %d keys loaded, %.1f%% done, %.0f keys/sec" % (keys, 100.0 * offset / max(total, 1), keys / elapsed))

        return report


def _run_child(work):
    """The forked child: write, then leave without running the parent's cleanup."""
    code = 1
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGUSR1, signal.SIG_DFL)
        work()
        code = 0
    except BaseException as e:  # noqa: BLE001  the child must always exit here
        try:
            os.write(2, ("Background child failed: %s\n" % e).encode())
        except OSError:
            pass
    finally:
        os._exit(code)
