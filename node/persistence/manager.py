"""Persistence for a running node: what to load at start, when to save, what to do at shutdown.

The rules are Redis's: with `appendonly yes` the AOF is the source of truth at
start-up (a missing AOF starts empty, with a fresh base), otherwise the RDB
file is; save points trigger BGSAVE from the cron; SHUTDOWN (and SIGTERM)
saves when save points are configured, and always flushes and fsyncs the AOF;
nothing is saved while the dataset is still loading.
"""

import os
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
        node.keyspace.expired_listeners.append(self.aof.feed_expired)

    # ---- start-up -------------------------------------------------------

    def load_at_startup(self):
        """Load the AOF (when on) or the RDB file. StartupError if a file is corrupt."""
        self.loading_started = time.time()
        if self.node.config["appendonly"]:
            self._load_aof()
        else:
            self._load_rdb()

    def _load_rdb(self):
        path = self.snapshots.path
        try:
            self.snapshots.load()
        except RDBError as e:
            raise StartupError("Bad RDB file %s: %s. Fix or move the file away; it was left untouched" % (path, e)) from None
        except OSError as e:
            raise StartupError("Can't read the RDB file %s: %s" % (path, e.strerror)) from None

    def _load_aof(self):
        aof = self.aof
        if aof.exists():
            start = time.time()
            try:
                count = aof.load()
            except AOFError as e:
                raise StartupError("%s. Fix the AOF (redis-check-aof) or move it away; nothing was changed" % e) from None
            self.log.notice("DB loaded from append only file: %.3f seconds (%d commands)" % (time.time() - start, count))
        try:
            aof.open()
        except OSError as e:
            raise StartupError("Can't open the append only file in %s: %s" % (aof.directory, e.strerror)) from None
        self._attach_aof()

    def _attach_aof(self):
        if self.aof.feed not in self.node.propagate_listeners:
            self.node.propagate_listeners.append(self.aof.feed)

    def _detach_aof(self):
        if self.aof.feed in self.node.propagate_listeners:
            self.node.propagate_listeners.remove(self.aof.feed)

    # ---- while running ------------------------------------------------------

    def before_reply(self):
        """Called before replies are sent: the AOF reaches the file (and disk, under always) first."""
        aof = self.aof
        if aof.buf:
            aof.flush()

    def cron(self):
        if self.node.loading:
            return
        self.snapshots.cron()
        aof = self.aof
        if self.snapshots.child_pid is None and aof.rewrite_scheduled:
            aof.rewrite_scheduled = False
            aof.rewrite()
        if aof.buf:
            aof.flush()  # writes made outside any client's command (active expiry)
        if self.snapshots.child_pid is None and aof.enabled and not aof.waiting_first_base:
            self._auto_rewrite()

    def _auto_rewrite(self):
        """auto-aof-rewrite-percentage / -min-size: rewrite once the log has grown enough
        since the last rewrite (or the start), as Redis's serverCron does."""
        config = self.node.config
        percentage = config["auto-aof-rewrite-percentage"]
        aof = self.aof
        if not percentage or aof.current_size <= config["auto-aof-rewrite-min-size"]:
            return
        growth = aof.current_size * 100 // (aof.rewrite_base_size or 1) - 100
        if growth >= percentage:
            self.log.notice("Starting automatic rewriting of AOF on %d%% growth" % growth)
            aof.rewrite()

    def fsync_fd(self):
        """everysec: a duplicate fd to fsync off the event loop, or None (see AppendOnly.fsync_fd)."""
        return self.aof.fsync_fd()

    def fsync_everysec(self, fd=None):
        """In a worker thread: fsync (and close) the fd from fsync_fd()."""
        if fd is None:
            return
        try:
            os.fsync(fd)
            self.aof.last_fsync = time.time()
        finally:
            os.close(fd)

    def _on_config_set(self, name, value):
        if name != "appendonly" or self.node.loading:
            return
        aof = self.aof
        if value and not aof.enabled and not aof.waiting_first_base:
            self._attach_aof()
            error = aof.turn_on()
            if error:
                self._detach_aof()
                self.log.warning("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation: %s" % error)
        elif not value and (aof.enabled or aof.waiting_first_base):
            if aof.waiting_first_base and self.snapshots.child_kind == "aof":
                self.snapshots.kill_child()
            aof.close()
            self._detach_aof()

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
    def rdb_last_load_keys_loaded(self):
        return self.snapshots.last_load_loaded

    @property
    def rdb_last_load_keys_expired(self):
        return self.snapshots.last_load_expired

    @property
    def aof_enabled(self):
        return int(self.aof.enabled and not self.aof.waiting_first_base)

    @property
    def aof_rewrite_in_progress(self):
        return int(self.snapshots.child_kind == "aof")

    @property
    def aof_rewrite_scheduled(self):
        return int(self.aof.rewrite_scheduled)

    @property
    def aof_last_rewrite_time_sec(self):
        return self.aof.last_rewrite_seconds

    @property
    def aof_current_rewrite_time_sec(self):
        return int(time.time() - self.snapshots.child_started) if self.snapshots.child_kind == "aof" else -1

    @property
    def aof_last_bgrewrite_status(self):
        return "ok" if self.aof.last_rewrite_ok else "err"

    @property
    def aof_rewrites(self):
        return self.aof.rewrites

    @property
    def aof_rewrites_consecutive_failures(self):
        return self.aof.rewrite_failures

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
    def aof_buffer_bytes(self):
        return self.aof.buf_bytes

    @property
    def loading(self):
        return int(self.node.loading)

    # INFO's loading_* fields, shown while a load runs.

    @property
    def loading_start_time(self):
        return self.snapshots.loading_info()["loading_start_time"]

    @property
    def loading_total_bytes(self):
        return self.snapshots.loading_info()["loading_total_bytes"]

    @property
    def loading_rdb_used_mem(self):
        return self.snapshots.loading_info()["loading_rdb_used_mem"]

    @property
    def loading_loaded_bytes(self):
        return self.snapshots.loading_info()["loading_loaded_bytes"]

    @property
    def loading_loaded_perc(self):
        return self.snapshots.loading_info()["loading_loaded_perc"]

    @property
    def loading_eta_seconds(self):
        return self.snapshots.loading_info()["loading_eta_seconds"]

    # ---- shutdown -----------------------------------------------------------

    def shutdown(self, mode: str = "") -> bool:
        """Before exit: kill a child, fsync the AOF, save if asked or if save points are set.

        Returns False when the requested save failed (SHUTDOWN then refuses to exit,
        and everything keeps running as before)."""
        if self.aof.waiting_first_base and self.snapshots.child_kind == "aof":
            # Redis's rule: the data would be lost with the AOF on and no base written yet.
            self.log.warning("Writing initial AOF, can't exit.")
            return False
        self.snapshots.kill_child()
        if self.aof.enabled and self.aof.incr_fd is not None:
            self.log.notice("Calling fsync() on the AOF file.")
            self.aof.flush(force_fsync=True)
        if self.node.loading:
            # Redis's rule: a half-loaded dataset is never saved over the file it came from.
            return True
        want_save = mode == "save" or (mode != "nosave" and bool(self.node.config["save"]))
        if want_save:
            self.log.notice("Saving the final RDB snapshot before exiting.")
            if not self.snapshots.save(force=True):
                self.log.warning("Error trying to save the DB, can't exit.")
                return False
        return True
