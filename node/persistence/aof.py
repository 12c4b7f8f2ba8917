"""The append-only file, in Redis 7's multi-part layout.

Theory of operation
-------------------
`dir/appenddirname/` holds a manifest and the files it names:

    appendonly.aof.1.base.rdb   a snapshot (RDB preamble) the log starts from
    appendonly.aof.1.incr.aof   every write since, as RESP commands
    appendonly.aof.manifest     "file <name> seq <n> type b|i" lines

Every executed write reaches `feed` in its deterministic form (absolute
expiries) through the node's propagation hook, with SELECT when the database
changes. The buffer is written before replies go out (`flush_before_reply`);
with `appendfsync always` it is also fsynced then, so a client never sees an
acknowledgement for a write that is not on disk. With `everysec` a background
thread fsyncs once a second; with `no` the kernel decides.

BGREWRITEAOF forks a child that writes a new base snapshot; at the fork the
parent opens the next incr file, so writes made meanwhile land there and
nothing needs to be buffered. When the child is done, a new manifest naming
the new base and the new incr file replaces the old one atomically, and the
old files are deleted.
"""

import os
import re
import time

from . import rdb
from .files import fsync_dir, write_atomically


class AOFError(Exception):
    """A corrupt append-only file: names the file and byte offset; the node refuses to start."""


class AOFTruncated(Exception):
    def __init__(self, offset):
        super().__init__(offset)
        self.offset = offset


def encode_command(argv) -> bytes:
    parts = [b"*%d\r\n" % len(argv)]
    for arg in argv:
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


def parse_commands(data: bytes, start: int = 0):
    """Yield (argv, end_offset) for each RESP command in an AOF body.

    Raises AOFTruncated(offset of the incomplete command) when the data ends
    inside a command, AOFError for anything that is not a well-formed command.
    """
    pos, n = start, len(data)
    while pos < n:
        begin = pos
        if data[pos] != 42:  # '*'
            raise AOFError("Bad file format reading the append only file at offset %d: expected '*'" % pos)
        nl = data.find(b"\r\n", pos)
        if nl < 0:
            raise AOFTruncated(begin)
        count = _header_int(data, pos + 1, nl, begin)
        pos = nl + 2
        argv = []
        for _ in range(count):
            if pos >= n:
                raise AOFTruncated(begin)
            if data[pos] != 36:  # '$'
                raise AOFError("Bad file format reading the append only file at offset %d: expected '$'" % pos)
            nl = data.find(b"\r\n", pos)
            if nl < 0:
                raise AOFTruncated(begin)
            size = _header_int(data, pos + 1, nl, begin)
            pos = nl + 2
            if pos + size + 2 > n:
                raise AOFTruncated(begin)
            argv.append(data[pos : pos + size])
            pos += size
            if data[pos : pos + 2] != b"\r\n":
                raise AOFError("Bad file format reading the append only file at offset %d: missing CRLF" % pos)
            pos += 2
        yield argv, pos


def _header_int(data, start, end, begin):
    raw = data[start:end]
    if not raw.isdigit():
        raise AOFError("Bad file format reading the append only file at offset %d: invalid length '%s'" % (begin, raw[:20].decode("latin-1")))
    return int(raw)


_MANIFEST_LINE = re.compile(r"file (\S+) seq (\d+) type ([bhi])")


class Manifest:
    def __init__(self, base=None, base_seq=0, incrs=None):
        self.base = base  # file name or None
        self.base_seq = base_seq
        self.incrs = incrs or []  # [(name, seq)]

    @classmethod
    def parse(cls, text: str, path: str):
        manifest = cls()
        for lineno, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = _MANIFEST_LINE.fullmatch(line)
            if not m:
                raise AOFError("Invalid AOF manifest file format: %s line %d: '%s'" % (path, lineno, line))
            name, seq, kind = m.group(1), int(m.group(2)), m.group(3)
            if kind == "b":
                manifest.base, manifest.base_seq = name, seq
            elif kind == "i":
                manifest.incrs.append((name, seq))
        return manifest

    def render(self) -> str:
        lines = []
        if self.base:
            lines.append("file %s seq %d type b\n" % (self.base, self.base_seq))
        for name, seq in self.incrs:
            lines.append("file %s seq %d type i\n" % (name, seq))
        return "".join(lines)


class AppendOnly:
    def __init__(self, node, log, snapshots):
        self.node = node
        self.log = log
        self.snapshots = snapshots
        self.buf = []
        self.buf_bytes = 0
        self.selected_db = -1
        self.incr_fd = None
        self.manifest = Manifest()
        self.unsynced = False
        self.last_fsync = time.time()
        self.last_write_ok = True
        self.rewrite_scheduled = False
        self.rewrites = 0
        self.current_size = 0
        self.base_size = 0
        self.enabled = False

    # ---- paths -----------------------------------------------------------

    @property
    def directory(self) -> str:
        return os.path.join(self.node.config["dir"], self.node.config["appenddirname"])

    @property
    def prefix(self) -> str:
        return self.node.config["appendfilename"]

    def _manifest_path(self):
        return os.path.join(self.directory, self.prefix + ".manifest")

    # ---- start-up ----------------------------------------------------------

    def exists(self) -> bool:
        return os.path.exists(self._manifest_path())

    def load(self) -> int:
        """Replay the base and incr files into the keyspace. Returns commands replayed."""
        path = self._manifest_path()
        with open(path, encoding="utf-8") as f:
            self.manifest = Manifest.parse(f.read(), path)
        count = 0
        if self.manifest.base:
            count += self._load_file(self.manifest.base, is_base=True)
        for i, (name, _) in enumerate(self.manifest.incrs):
            count += self._load_file(name, is_last=i == len(self.manifest.incrs) - 1)
        self.node.keyspace.dirty = 0
        return count

    def _load_file(self, name, is_base=False, is_last=False) -> int:
        path = os.path.join(self.directory, name)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise AOFError("The AOF file %s doesn't exist" % path) from None
        if data.startswith(b"REDIS"):
            try:
                snap = rdb.read_snapshot(data)
            except rdb.RDBError as e:
                raise AOFError("Bad RDB preamble in %s: %s" % (path, e)) from None
            return rdb.load_into(self.node.keyspace, snap)
        return self._replay(path, data, is_last)

    def _replay(self, path, data, is_last) -> int:
        client = self.node.new_client("", "")
        client.kind = "master"  # replayed writes pass READONLY checks, as Redis's fake client
        client.authenticated = True
        count = 0
        try:
            for argv, _end in parse_commands(data):
                self.node.execute(client, argv)
                client.out.clear()
                count += 1
        except AOFTruncated as t:
            if not (is_last and self.node.config["aof-load-truncated"]):
                raise AOFError("Unexpected end of file reading the append only file %s at offset %d" % (path, t.offset)) from None
            self.log.warning("!!! Warning: short read while loading the AOF file %s!!!" % path)
            self.log.warning("!!! Truncating the AOF %s at offset %d !!!" % (path, t.offset))
            with open(path, "r+b") as f:
                f.truncate(t.offset)
                os.fsync(f.fileno())
            self.log.warning("AOF %s loaded anyway because aof-load-truncated is enabled" % path)
        except AOFError as e:
            raise AOFError("%s (file %s)" % (e, path)) from None
        finally:
            self.node.remove_client(client)
        return count

    def open(self):
        """Start logging: open the last incr file, or create base + incr for a fresh AOF."""
        os.makedirs(self.directory, exist_ok=True)
        if not self.manifest.base and not self.manifest.incrs:
            self._create_fresh()
        self.incr_fd = os.open(os.path.join(self.directory, self.manifest.incrs[-1][0]), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.current_size = os.fstat(self.incr_fd).st_size
        self.enabled = True
        self.selected_db = -1

    def _create_fresh(self):
        """A new AOF starts from a base snapshot of the current data (Redis's behaviour)."""
        base = "%s.1.base.rdb" % self.prefix
        keyspace, aux = self.node.keyspace, self.snapshots.aux_fields()
        aux["aof-base"] = "1"
        write_atomically(os.path.join(self.directory, base), lambda write: rdb.write_snapshot(keyspace, write, aux))
        incr = "%s.1.incr.aof" % self.prefix
        open(os.path.join(self.directory, incr), "ab").close()
        self.manifest = Manifest(base, 1, [(incr, 1)])
        self._write_manifest()

    def _write_manifest(self):
        text = self.manifest.render().encode()
        write_atomically(self._manifest_path(), lambda write: write(text))

    def close(self):
        if self.incr_fd is not None:
            self.flush(force_fsync=True)
            os.close(self.incr_fd)
            self.incr_fd = None
        self.enabled = False

    # ---- logging writes ------------------------------------------------------

    def feed(self, dbnum, argv):
        """The propagation hook: queue one executed write."""
        if dbnum != self.selected_db:
            select = b"*2\r\n$6\r\nSELECT\r\n$%d\r\n%d\r\n" % (len(str(dbnum)), dbnum)
            self.buf.append(select)
            self.selected_db = dbnum
        data = encode_command(argv)
        self.buf.append(data)
        self.buf_bytes += len(data)

    def flush(self, force_fsync=False):
        """Write the buffer (before replies are sent); fsync now under appendfsync always."""
        if self.buf and self.incr_fd is not None:
            data = b"".join(self.buf)
            self.buf = []
            self.buf_bytes = 0
            try:
                _write_all(self.incr_fd, data)
                self.last_write_ok = True
            except OSError as e:
                self.last_write_ok = False
                self.log.warning("Error writing to the AOF file: %s" % e.strerror)
                raise
            self.current_size += len(data)
            self.unsynced = True
        if self.unsynced and (force_fsync or self.node.config["appendfsync"] == "always"):
            os.fsync(self.incr_fd)
            self.unsynced = False
            self.last_fsync = time.time()

    def fsync_if_due(self):
        """everysec: called from a worker thread once a second."""
        fd = self.incr_fd
        if fd is not None and self.unsynced and self.node.config["appendfsync"] == "everysec":
            self.unsynced = False
            os.fsync(fd)
            self.last_fsync = time.time()

    # ---- rewriting ------------------------------------------------------------

    def rewrite(self) -> str:
        """BGREWRITEAOF: fork a child for the new base; writes continue into a new incr file."""
        if self.snapshots.child_pid is not None:
            if self.snapshots.child_kind == "aof":
                return "ERR Background append only file rewriting already in progress"
            self.rewrite_scheduled = True
            return "scheduled"
        self.flush(force_fsync=True)
        seq = self.manifest.base_seq + 1
        next_incr_seq = (self.manifest.incrs[-1][1] + 1) if self.manifest.incrs else 1
        new_incr = "%s.%d.incr.aof" % (self.prefix, next_incr_seq)
        new_base = "%s.%d.base.rdb" % (self.prefix, seq)
        base_path = os.path.join(self.directory, new_base)
        keyspace, aux = self.node.keyspace, self.snapshots.aux_fields()
        aux["aof-base"] = "1"
        error = self.snapshots.fork_child("aof", lambda: write_atomically(base_path, lambda write: rdb.write_snapshot(keyspace, write, aux)), lambda ok: self._rewrite_done(ok, new_base, seq, new_incr, next_incr_seq))
        if error:
            return error
        # Writes from now on go to the new incr file; the child's base covers the rest.
        os.close(self.incr_fd)
        self.incr_fd = os.open(os.path.join(self.directory, new_incr), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.selected_db = -1
        self.pending_incrs = self.manifest.incrs + [(new_incr, next_incr_seq)]
        # Until the rewrite finishes, the manifest must also name the new incr file.
        self.manifest.incrs = list(self.pending_incrs)
        self._write_manifest()
        self.log.notice("Background append only file rewriting started by pid %d" % self.snapshots.child_pid)
        return ""

    def _rewrite_done(self, ok, new_base, seq, new_incr, incr_seq):
        if not ok:
            self.log.warning("Background AOF rewrite terminated with error")
            return
        old = self.manifest
        self.manifest = Manifest(new_base, seq, [(n, s) for n, s in old.incrs if s >= incr_seq])
        self._write_manifest()
        for name in [old.base] + [n for n, s in old.incrs if s < incr_seq]:
            if name and name != new_base:
                try:
                    os.unlink(os.path.join(self.directory, name))
                except OSError:
                    pass
        fsync_dir(self.directory)
        self.rewrites += 1
        self.base_size = os.path.getsize(os.path.join(self.directory, new_base))
        self.log.notice("Background AOF rewrite finished successfully")


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
