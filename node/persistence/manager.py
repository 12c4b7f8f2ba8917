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
        self.loading = False
        self.loading_started = 0.0
        node.persistence = self
        node.config.listeners.append(self._on_config_set)

    # ---- start-up -------------------------------------------------------

    def load_at_startup(self):
        """Load the AOF (when on) or the RDB file. StartupError if a file is corrupt."""
        self.loading, self.loading_started = True, time.time()
        try:
            if self.node.config["appendonly"]:
                self._load_aof()
            else:
                self._load_rdb()
        finally:
            self.loading = False

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
        if name != "appendonly" or self.loading:
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
