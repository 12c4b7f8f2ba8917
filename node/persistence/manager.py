"""Persistence for a running node: what to load at start, when to save, what to do at shutdown.

The rules are Redis's: with `appendonly yes` the AOF is the source of truth at
start-up, otherwise the RDB file is; save points trigger BGSAVE from the cron;
SHUTDOWN (and SIGTERM) saves when save points are configured, and always
flushes and fsyncs the AOF.
"""

import time

from .aof import AOFError, AppendOnly
from .rdb import RDBError
from .snapshot import Snapshots


class StartupError(Exception):
    """A data file that cannot be loaded: the node must not start (and must not overwrite it)."""


class Persistence:
    def __init__(self, node, log):
        self.node = node
        self.log = log
        self.snapshots = Snapshots(node, log)
        self.aof = AppendOnly(node, log, self.snapshots)
        self.loading_started = 0.0
        node.persistence = self
        node.config.listeners.append(self._on_config_set)

    # ---- start-up -------------------------------------------------------

    def load_at_startup(self):
        """Load the AOF (when on) or the RDB file. StartupError if a file is corrupt."""
        self.loading_started = time.time()
        if self.node.config["appendonly"]:
            self._load_aof()
        else:
            self._load_rdb()

    def _load_rdb(self):
        try:
            self.snapshots.load()
        except RDBError as e:
            raise StartupError("Short read or OOM loading DB. Unrecoverable error, aborting now. %s: %s" % (self.snapshots.path, e)) from None
        except OSError as e:
            raise StartupError("Can't read %s: %s" % (self.snapshots.path, e.strerror)) from None

    def _load_aof(self):
        aof = self.aof
        if aof.exists():
            start = time.time()
            try:
                count = aof.load()
            except AOFError as e:
                raise StartupError(str(e)) from None
            self.log.notice("DB loaded from append only file: %.3f seconds (%d commands)" % (time.time() - start, count))
        aof.open()
        self.node.propagate_listeners.append(aof.feed)

    # ---- while running ------------------------------------------------------

    def before_reply(self):
        """Called before replies are sent: the AOF reaches the file (and disk, under always) first."""
        aof = self.aof
        if aof.buf:
            aof.flush()

    def cron(self):
        self.snapshots.cron()
        if self.snapshots.child_pid is None and self.aof.rewrite_scheduled and self.aof.enabled:
            self.aof.rewrite_scheduled = False
            self.aof.rewrite()

    def fsync_everysec(self):
        self.aof.fsync_if_due()

    def _on_config_set(self, name, value):
        if name != "appendonly" or self.node.loading:
            return
        if value and not self.aof.enabled:
            # Turning the AOF on at run time starts it from a base of the current data.
            self.aof.manifest = type(self.aof.manifest)()
            self.aof.open()
            self.node.propagate_listeners.append(self.aof.feed)
        elif not value and self.aof.enabled:
            self.aof.close()
            if self.aof.feed in self.node.propagate_listeners:
                self.node.propagate_listeners.remove(self.aof.feed)

    # ---- INFO persistence fields (names are Redis's) ----------------------------

    @property
    def rdb_changes_since_last_save(self):
        return self.snapshots.changes_since_save

    @property
    def rdb_bgsave_in_progress(self):
        return int(self.snapshots.child_kind == "rdb")

    @property
    def rdb_last_save_time(self):
        return self.snapshots.lastsave

    @property
    def rdb_last_bgsave_status(self):
        return "ok" if self.snapshots.last_bgsave_ok else "err"

    @property
    def rdb_last_bgsave_time_sec(self):
        return self.snapshots.last_save_seconds

    @property
    def rdb_current_bgsave_time_sec(self):
        return int(time.time() - self.snapshots.child_started) if self.snapshots.child_kind == "rdb" else -1

    @property
    def rdb_saves(self):
        return self.snapshots.rdb_saves

    @property
    def aof_rewrite_in_progress(self):
        return int(self.snapshots.child_kind == "aof")

    @property
    def aof_rewrite_scheduled(self):
        return int(self.aof.rewrite_scheduled)

    @property
    def aof_rewrites(self):
        return self.aof.rewrites

    @property
    def aof_last_write_status(self):
        return "ok" if self.aof.last_write_ok else "err"

    @property
    def aof_current_size(self):
        return self.aof.current_size

    @property
    def aof_base_size(self):
        return self.aof.base_size

    @property
    def aof_buffer_length(self):
        return self.aof.buf_bytes

    @property
    def loading(self):
        return int(self.node.loading)

    # ---- shutdown -----------------------------------------------------------

    def shutdown(self, mode: str = "") -> bool:
        """Before exit: kill a child, fsync the AOF, save if asked or if save points are set.

        Returns False when the requested save failed (SHUTDOWN then refuses to exit)."""
        self.snapshots.kill_child()
        if self.aof.enabled:
            self.aof.close()
        want_save = mode == "save" or (mode != "nosave" and bool(self.node.config["save"]))
        if want_save:
            self.log.notice("Saving the final RDB snapshot before exiting.")
            if not self.snapshots.save():
                self.log.warning("Error trying to save the DB, can't exit.")
                return False
        return True
