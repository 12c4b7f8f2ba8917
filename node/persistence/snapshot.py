"""RDB snapshots of a running node: SAVE, BGSAVE (forked child), save points, loading at start.

BGSAVE forks, as Redis does: the child holds a copy-on-write image of the
keyspace at the moment of the fork, so the snapshot is a consistent
point-in-time image while the parent keeps serving. The parent polls for the
child's exit from the server cron (Redis's checkChildrenDone). The child
turns the garbage collector off (a collection would touch, and so copy, every
page of the image) and dies with its parent, so a node killed by SIGKILL
leaves no writer behind; the parent's collector leaves the shared objects
alone (gc.freeze) until the child is done.
"""

import ctypes
import gc
import os
import signal
import time

from . import rdb
from .files import write_atomically

_BGSAVE_RETRY_DELAY = 5  # seconds before a save point retries after a failed BGSAVE (Redis's)
_PR_SET_PDEATHSIG = 1

try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # pragma: no cover - not Linux
    _prctl = None


class Snapshots:
    def __init__(self, node, log):
        self.node = node
        self.log = log
        self.lastsave = int(time.time())
        self.dirty_at_save = 0
        self.dirty_before_child = 0
        self.child_pid = None
        self.child_kind = None  # "rdb" | "aof"
        self.child_started = 0.0
        self.child_done = None  # callback(ok: bool) for the running child
        self.child_temp = None  # the child's temporary file, removed if it fails
        self.scheduled = False
        self.last_bgsave_ok = True
        self.last_bgsave_try = 0
        self.last_save_seconds = -1
        self.rdb_saves = 0
        # Loading, for INFO (loading_*) and rdb_last_load_*.
        self.load_started = 0
        self.load_total_bytes = 0
        self.load_loaded_bytes = 0
        self.load_used_mem = 0
        self.last_load_loaded = 0
        self.last_load_expired = 0

    # ---- paths, AUX, encodings ------------------------------------------

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

    def limits(self):
        return rdb.Limits.from_config(self.node.config)

    def zset_factory(self):
        config = self.node.config
        return rdb.default_zset_factory(config["zset-max-listpack-entries"], config["zset-max-listpack-value"])

    # ---- saving ---------------------------------------------------------

    def save(self, force: bool = False) -> bool:
        """SAVE: write the snapshot in the foreground (the server waits, as Redis's does).
        Refused while a BGSAVE child runs, unless forced (DEBUG RELOAD, shutdown)."""
        if self.child_kind == "rdb" and not force:
            return False
        start = time.time()
        try:
            self.write_rdb(self.path)
        except OSError as e:
            self.log.warning("Failed opening the temp RDB file temp-%d.rdb (in server root dir %s) for saving: %s" % (os.getpid(), os.getcwd(), e.strerror))
            self.last_bgsave_ok = False
            return False
        self.dirty_at_save = self.node.keyspace.dirty
        self.lastsave = int(time.time())
        self.last_save_seconds = int(time.time() - start)
        self.last_bgsave_ok = True
        self.rdb_saves += 1
        self.log.notice("DB saved on disk")
        return True

    def write_rdb(self, path: str):
        keyspace = self.node.keyspace
        aux = self.aux_fields()
        limits = self.limits()
        write_atomically(path, lambda write: rdb.write_snapshot(keyspace, write, aux, limits=limits), "temp-%d.rdb" % os.getpid())

    def bgsave(self, on_done=None) -> str:
        """BGSAVE: fork a child that writes the snapshot. Returns '' or an error text."""
        if self.child_pid is not None:
            return "ERR Background save already in progress" if self.child_kind == "rdb" else "busy"
        path = self.path
        self.last_bgsave_try = int(time.time())
        return self.fork_child("rdb", lambda: self.write_rdb(path), on_done, lambda pid: os.path.join(os.path.dirname(path), "temp-%d.rdb" % pid))

    def fork_child(self, kind: str, work, on_done=None, temp_for=None) -> str:
        """Run work() in a forked child; on_done(ok) runs in the parent when it exits.
        temp_for(pid) names the file a failed child leaves behind."""
        start = time.time()
        parent = os.getpid()
        # While the child runs, the parent's collector leaves every object that exists now
        # alone: a full collection would write to each one's header, copying every page
        # the child shares (a pause of a hundred milliseconds for a few hundred MB).
        gc.freeze()
        try:
            pid = os.fork()
        except OSError as e:
            gc.unfreeze()
            if kind == "rdb":
                self.last_bgsave_ok = False
            self.log.warning("Can't save in background: fork: %s" % e.strerror)
            return "ERR Can't fork: %s" % e.strerror
        if pid == 0:
            _run_child(work, parent)
        self.child_pid, self.child_kind, self.child_started = pid, kind, start
        self.child_done = on_done
        self.child_temp = temp_for(pid) if temp_for is not None else None
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
        self._child_exited(ok)

    def _child_exited(self, ok):
        kind, done, temp = self.child_kind, self.child_done, self.child_temp
        self.child_pid = self.child_kind = self.child_done = self.child_temp = None
        gc.unfreeze()
        if not ok and temp:
            _unlink(temp)
        if kind == "rdb":
            if ok:
                self.dirty_at_save = self.dirty_before_child
                self.lastsave = int(time.time())
                self.rdb_saves += 1
                self.log.notice("Background saving terminated with success")
            else:
                self.log.warning("Background saving error")
            self.last_save_seconds = int(time.time() - self.child_started)
            self.last_bgsave_ok = ok
        if done is not None:
            done(ok)

    def kill_child(self):
        """Stop a running child and remove its temporary file (SHUTDOWN, FLUSHALL...)."""
        if self.child_pid is None:
            return
        what = "RDB" if self.child_kind == "rdb" else "AOF rewriting"
        self.log.warning("There is a child %s process. Killing it!" % what)
        try:
            os.kill(self.child_pid, signal.SIGUSR1)
            os.waitpid(self.child_pid, 0)
        except (OSError, ChildProcessError):
            pass
        temp = self.child_temp
        self.child_done = None  # killed on purpose: nothing to report
        self.child_pid = self.child_kind = self.child_temp = None
        gc.unfreeze()
        if temp:
            _unlink(temp)

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
        now = int(time.time())
        changes = self.node.keyspace.dirty - self.dirty_at_save
        for seconds, needed in self.node.config["save"]:
            # Redis's rule: enough changes, strictly more seconds, and after a
            # failure a pause before retrying.
            if changes >= needed and now - self.lastsave > seconds:
                if not self.last_bgsave_ok and now - self.last_bgsave_try <= _BGSAVE_RETRY_DELAY:
                    continue
                self.log.notice("%d changes in %d seconds. Saving..." % (needed, seconds))
                self.bgsave()
                return

    @property
    def changes_since_save(self) -> int:
        return self.node.keyspace.dirty - self.dirty_at_save

    # ---- loading ------------------------------------------------------

    def load(self, path: str = None, replace: bool = True) -> bool:
        """Load the snapshot. False if there is none; RDBError if it is bad (nothing changed then)."""
        path = path or self.path
        start = time.time()
        self.load_started = int(start)
        self.load_loaded_bytes = 0
        try:
            self.load_total_bytes = os.path.getsize(path)
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return False
        self._log_origin(rdb.peek_aux(data))
        parsed = rdb.load(self.node.keyspace, data, progress=self._progress(start), make_zset=self.zset_factory(), replace=replace)
        self.load_loaded_bytes = len(data)
        self._log_loaded(parsed, start)
        if replace:
            self.node.keyspace.dirty = 0
            self.dirty_at_save = 0
        hook = getattr(self.node, "on_rdb_loaded", None)
        if hook is not None:
            hook(parsed.aux)
        return True

    def _log_origin(self, aux):
        """What the dump says about itself, logged before loading it (as Redis does)."""
        log = self.log
        if "redis-ver" in aux:
            log.notice("Loading RDB produced by version %s" % aux["redis-ver"].decode("latin-1"))
        if aux.get("ctime", b"").isdigit():
            log.notice("RDB age %d seconds" % max(0, int(time.time()) - int(aux["ctime"])))
        if aux.get("used-mem", b"").isdigit():
            self.load_used_mem = int(aux["used-mem"])
            log.notice("RDB memory usage when created %.2f Mb" % (self.load_used_mem / (1024 * 1024)))

    def _log_loaded(self, parsed, start):
        log = self.log
        if parsed.functions_skipped:
            log.warning("The RDB holds %d function libraries; this server has no functions: skipped" % parsed.functions_skipped)
        if parsed.empty_skipped:
            log.notice("Done loading RDB, keys loaded: %d, keys expired: %d, empty keys skipped: %d." % (parsed.loaded, parsed.expired, parsed.empty_skipped))
        else:
            log.notice("Done loading RDB, keys loaded: %d, keys expired: %d." % (parsed.loaded, parsed.expired))
        self.last_load_loaded, self.last_load_expired = parsed.loaded, parsed.expired
        log.notice("DB loaded from disk: %.3f seconds" % (time.time() - start))

    def _progress(self, start):
        last = [start]

        def report(keys, offset, total):
            self.load_loaded_bytes = offset
            now = time.time()
            if now - last[0] >= 1.0:
                last[0] = now
                rate = keys / max(now - start, 1e-6)
                self.log.notice("Loading RDB: %d keys loaded, %.1f%% done, %.0f keys/sec" % (keys, 100.0 * offset / max(total, 1), rate))

        return report

    def loading_info(self) -> dict:
        """INFO's loading_* fields while a load runs."""
        total, done = self.load_total_bytes, self.load_loaded_bytes
        elapsed = max(time.time() - self.load_started, 1e-6)
        rate = done / elapsed
        eta = int((total - done) / rate) if rate > 0 else 1
        return {
            "loading_start_time": self.load_started,
            "loading_total_bytes": total,
            "loading_rdb_used_mem": self.load_used_mem,
            "loading_loaded_bytes": done,
            "loading_loaded_perc": "%.2f" % (100.0 * done / total if total else 0.0),
            "loading_eta_seconds": eta,
        }


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _run_child(work, parent):
    """The forked child: write, then leave without running the parent's cleanup."""
    code = 1
    try:
        gc.disable()
        if _prctl is not None:
            _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)  # the parent died before the death signal was armed
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
