"""The append-only file, in Redis 7's multi-part layout.

Theory of operation
-------------------
`dir/appenddirname/` holds a manifest and the files it names:

    appendonly.aof.1.base.rdb   a snapshot (RDB preamble) the log starts from
    appendonly.aof.1.incr.aof   every write since, as RESP commands
    appendonly.aof.manifest     "file <name> seq <n> type b|i" lines

Every executed write reaches `feed` in its deterministic form (absolute
expiries) through the node's propagation hook, with SELECT when the database
changes. The buffer is written before replies go out (`flush`); with
`appendfsync always` it is also fsynced then, so a client never sees an
acknowledgement for a write that is not on disk. With `everysec` a background
thread fsyncs once a second; with `no` the kernel decides.

A rewrite (BGREWRITEAOF, or turning the AOF on at run time) forks a child that
writes a new base snapshot; at the fork the parent opens the next incr file,
so writes made meanwhile land there and nothing needs to be buffered. While
the child works, the manifest names the old base, the old incr files and the
new one, so a crash loses nothing. When the child is done, a manifest naming
the new base and the new incr file replaces the old one atomically, and the
old files are deleted. Turning the AOF on writes no manifest until its first
base exists.

Loading replays the files in order with a fake client, no expiry taking place
meanwhile (Redis's rule: the log is replayed as it was written). A last
command cut short by a crash is dropped, with a warning, when
aof-load-truncated is on; anything else malformed stops the start-up with the
file and offset named, and no file is changed.
"""

import os
import re
import time

from ..resp import encode_command
from . import rdb
from .files import fsync_dir, write_all, write_atomically


class AOFError(Exception):
    """A corrupt append-only file: names the file and byte offset; the node refuses to start."""


class AOFTruncated(Exception):
    def __init__(self, offset):
        super().__init__(offset)
        self.offset = offset


def parse_commands(data: bytes, start: int = 0):
    """Yield (argv, begin, end) for each RESP command in an AOF body.

    Raises AOFTruncated(offset of the incomplete command) when the data ends
    inside a command, AOFError for anything that is not a well-formed command.
    """
    pos, n = start, len(data)
    while pos < n:
        begin = pos
        if data[pos] != 42:  # '*'
            raise AOFError("Bad file format reading the append only file at offset %d: expected '*', found %r" % (pos, data[pos : pos + 1]))
        nl = data.find(b"\r\n", pos)
        if nl < 0:
            raise AOFTruncated(begin)
        count = _header_int(data, pos + 1, nl, pos)
        if count < 1:
            raise AOFError("Bad file format reading the append only file at offset %d: a command with no arguments" % pos)
        pos = nl + 2
        argv = []
        for _ in range(count):
            if pos >= n:
                raise AOFTruncated(begin)
            if data[pos] != 36:  # '$'
                raise AOFError("Bad file format reading the append only file at offset %d: expected '$', found %r" % (pos, data[pos : pos + 1]))
            nl = data.find(b"\r\n", pos)
            if nl < 0:
                raise AOFTruncated(begin)
            size = _header_int(data, pos + 1, nl, pos)
            pos = nl + 2
            if pos + size + 2 > n:
                raise AOFTruncated(begin)
            argv.append(data[pos : pos + size])
            pos += size
            if data[pos : pos + 2] != b"\r\n":
                raise AOFError("Bad file format reading the append only file at offset %d: missing CRLF after an argument" % pos)
            pos += 2
        yield argv, begin, pos


def _header_int(data, start, end, at):
    raw = data[start:end]
    if not raw.isdigit() or len(raw) > 12:
        raise AOFError("Bad file format reading the append only file at offset %d: invalid length %r" % (at, raw[:20]))
    return int(raw)


_MANIFEST_FIELD = re.compile(r"(\S+) (\S+)")


class Manifest:
    def __init__(self, base=None, base_seq=0, incrs=None):
        self.base = base  # file name or None
        self.base_seq = base_seq
        self.incrs = incrs or []  # [(name, seq)]

    @classmethod
    def parse(cls, text: str, path: str):
        """Redis's manifest: one "file <name> seq <n> type <b|h|i>" line per file (fields in any order)."""
        manifest = cls()
        lines = 0
        for lineno, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            lines += 1
            fields = dict(_MANIFEST_FIELD.findall(line))
            name, seq, kind = fields.get("file"), fields.get("seq", ""), fields.get("type")
            if not name or not seq.isdigit() or kind not in ("b", "h", "i") or "/" in name:
                raise AOFError("Invalid AOF manifest file format: %s line %d: '%s'" % (path, lineno, line))
            if kind == "b":
                if manifest.base is not None:
                    raise AOFError("Found duplicate base file information in %s line %d" % (path, lineno))
                manifest.base, manifest.base_seq = name, int(seq)
            elif kind == "i":
                if manifest.incrs and int(seq) <= manifest.incrs[-1][1]:
                    raise AOFError("Found a non-monotonic sequence number in %s line %d" % (path, lineno))
                manifest.incrs.append((name, int(seq)))
            # type h: a file a rewrite made history; nothing to load.
        if not lines:
            raise AOFError("Found an empty AOF manifest: %s" % path)
        return manifest

    def render(self) -> str:
        lines = []
        if self.base:
            lines.append("file %s seq %d type b\n" % (self.base, self.base_seq))
        for name, seq in self.incrs:
            lines.append("file %s seq %d type i\n" % (name, seq))
        return "".join(lines)

    def names(self):
        return ([self.base] if self.base else []) + [name for name, _ in self.incrs]

    @property
    def next_incr_seq(self) -> int:
        return self.incrs[-1][1] + 1 if self.incrs else 1


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
        self.rewrite_failures = 0
        self.last_rewrite_ok = True
        self.last_rewrite_seconds = -1
        self.current_size = 0  # INFO aof_current_size: base and incr files together
        self.incr_size = 0  # bytes in the incr file being appended to
        self.rewrite_base_size = 0  # current_size after the last rewrite or the load (auto rewrites)
        self.base_size = 0
        self.enabled = False  # logging writes (also while the first base is being written)
        self.waiting_first_base = False  # turned on at run time: no manifest until the base exists
        self.loaded_commands = 0

    # ---- paths -----------------------------------------------------------

    @property
    def directory(self) -> str:
        return os.path.join(self.node.config["dir"], self.node.config["appenddirname"])

    @property
    def prefix(self) -> str:
        return self.node.config["appendfilename"]

    def _manifest_path(self):
        return os.path.join(self.directory, self.prefix + ".manifest")

    def _path(self, name):
        return os.path.join(self.directory, name)

    # ---- start-up ----------------------------------------------------------

    def exists(self) -> bool:
        return os.path.exists(self._manifest_path())

    def read_manifest(self):
        path = self._manifest_path()
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                self.manifest = Manifest.parse(f.read(), path)
        except OSError as e:
            raise AOFError("Can't open the AOF manifest %s: %s" % (path, e.strerror)) from None

    def load(self) -> int:
        """Replay the base and incr files into the keyspace. Returns the commands replayed."""
        self.read_manifest()
        names = self.manifest.names()
        count = 0
        keyspace = self.node.keyspace
        keyspace.loading = True  # nothing expires while the log replays (Redis's rule)
        try:
            for i, name in enumerate(names):
                count += self._load_file(name, is_base=name == self.manifest.base, is_last=i == len(names) - 1)
        finally:
            keyspace.loading = False
        keyspace.dirty = 0
        self.loaded_commands = count
        if self.manifest.base:
            self.base_size = _size(self._path(self.manifest.base))
        self.current_size = sum(_size(self._path(n)) for n in names)
        self.rewrite_base_size = self.current_size
        return count

    def _load_file(self, name, is_base=False, is_last=False) -> int:
        path = self._path(name)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise AOFError("The AOF file %s doesn't exist" % path) from None
        except OSError as e:
            raise AOFError("Can't read the AOF file %s: %s" % (path, e.strerror)) from None
        start = 0
        count = 0
        if data.startswith(b"REDIS"):
            if not is_base:
                raise AOFError("Bad file format reading the append only file %s: an RDB preamble in an incr file" % path)
            try:
                parsed = rdb.load(self.node.keyspace, data, drop_expired=False, replace=False, trailing_ok=True, make_zset=self.snapshots.zset_factory())
            except rdb.RDBError as e:
                raise AOFError("Bad RDB preamble in the AOF file %s: %s" % (path, e)) from None
            start = parsed.end
            count = parsed.loaded
            if start == len(data):
                self.log.notice("Loading RDB preamble from AOF file %s: %d keys" % (name, count))
                return count
        return count + self._replay(path, data, start, is_last)

    def _replay(self, path, data, start, is_last) -> int:
        from ..session import Client

        client = Client(self.node, 0)  # Redis's fake AOF client: never listed, no reply sent
        client.kind = "master"
        client.authenticated = True
        count = 0
        multi = None  # commands queued after MULTI, applied at EXEC
        multi_begin = 0
        try:
            for argv, begin, _end in parse_commands(data, start):
                name = argv[0].lower()
                if name == b"multi":
                    multi, multi_begin = [], begin
                elif name == b"exec":
                    for queued, at in multi or ():
                        self._apply(client, queued, path, at)
                    multi = None
                elif multi is not None:
                    multi.append((argv, begin))
                else:
                    self._apply(client, argv, path, begin)
                count += 1
            if multi is not None:
                # A transaction the crash cut before its EXEC: it never happened.
                raise AOFTruncated(multi_begin)
        except AOFTruncated as t:
            if not (is_last and self.node.config["aof-load-truncated"]):
                raise AOFError("Unexpected end of file reading the append only file %s at offset %d (aof-load-truncated is off, or this is not the last file)" % (path, t.offset)) from None
            self._truncate(path, t.offset, len(data))
        except AOFError as e:
            raise AOFError("%s, file %s" % (e, path)) from None
        return count

    def _apply(self, client, argv, path, offset):
        from ..commands.table import lookup
        from ..errors import CommandError

        cmd = lookup(argv[0])
        if cmd is None:
            raise AOFError("Unknown command '%s' reading the append only file at offset %d" % (argv[0][:64].decode("latin-1"), offset))
        if (cmd.arity > 0 and len(argv) != cmd.arity) or len(argv) < -cmd.arity:
            raise AOFError("Wrong number of arguments for '%s' reading the append only file at offset %d" % (cmd.name, offset))
        try:
            cmd.fn(client, argv)
        except CommandError:
            pass  # Redis replays the log as it is; a command that failed then fails again
        client.propagate_as = None
        client.out.clear()

    def _truncate(self, path, offset, size):
        self.log.warning("!!! Warning: short read while loading the AOF file %s!!!" % path)
        self.log.warning("!!! Truncating the AOF %s at offset %d (it was %d bytes) !!!" % (path, offset, size))
        with open(path, "r+b") as f:
            f.truncate(offset)
            os.fsync(f.fileno())
        self.log.warning("AOF %s loaded anyway because aof-load-truncated is enabled" % path)

    # ---- opening ----------------------------------------------------------------

    def open(self):
        """Start logging at start-up: into the last incr file (a fresh AOF gets a base of the current data)."""
        os.makedirs(self.directory, exist_ok=True)
        if not self.manifest.base and not self.manifest.incrs:
            self._create_fresh()
        elif not self.manifest.incrs:
            name = "%s.%d.incr.aof" % (self.prefix, self.manifest.next_incr_seq)
            self.manifest.incrs.append((name, self.manifest.next_incr_seq))
            self._open_incr(name, truncate=True)
            self._write_manifest()
            self._start()
            return
        self._open_incr(self.manifest.incrs[-1][0], truncate=False)
        self._start()

    def _start(self):
        self.enabled = True
        self.selected_db = -1
        self.current_size = max(self.current_size, _size(self._path(self.manifest.incrs[-1][0])))

    def _create_fresh(self):
        """A new AOF starts from a base snapshot of the current data (Redis's behaviour)."""
        base = "%s.1.base.rdb" % self.prefix
        self._write_base(self._path(base))
        incr = "%s.1.incr.aof" % self.prefix
        self._open_incr(incr, truncate=True)
        self.manifest = Manifest(base, 1, [(incr, 1)])
        self._write_manifest()
        self.base_size = _size(self._path(base))
        self.current_size = self.rewrite_base_size = self.base_size

    def _write_base(self, path):
        keyspace, aux = self.node.keyspace, self.snapshots.aux_fields()
        aux["aof-base"] = "1"
        limits = self.snapshots.limits()
        write_atomically(path, lambda write: rdb.write_snapshot(keyspace, write, aux, limits=limits))

    def _open_incr(self, name, truncate):
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | (os.O_TRUNC if truncate else 0)
        fd = os.open(self._path(name), flags, 0o644)
        if self.incr_fd is not None:
            os.close(self.incr_fd)
        self.incr_fd = fd
        self.incr_size = os.fstat(fd).st_size

    def _write_manifest(self):
        text = self.manifest.render().encode()
        write_atomically(self._manifest_path(), lambda write: write(text))

    def turn_on(self) -> str:
        """CONFIG SET appendonly yes: log from now on, over a base of the current data
        written by a child (Redis's startAppendOnly). '' or an error text."""
        os.makedirs(self.directory, exist_ok=True)
        if self.exists():
            try:
                self.read_manifest()
            except AOFError:
                self.manifest = Manifest()
        else:
            self.manifest = Manifest()
        self.waiting_first_base = True
        error = self.rewrite()
        if error == "scheduled":
            # Another child runs: the cron forks for the base when it is done; writes
            # made until then queue in the buffer, and that base will hold them.
            return ""
        if error:
            self.waiting_first_base = False
        return error

    def close(self):
        if self.incr_fd is not None:
            self.flush(force_fsync=True)
            os.close(self.incr_fd)
            self.incr_fd = None
        self.enabled = False
        self.waiting_first_base = False
        self.buf = []
        self.buf_bytes = 0

    # ---- logging writes ------------------------------------------------------

    def feed(self, dbnum, argv):
        """The propagation hook: queue one executed write."""
        if dbnum != self.selected_db:
            select = b"*2\r\n$6\r\nSELECT\r\n$%d\r\n%d\r\n" % (len(str(dbnum)), dbnum)
            self.buf.append(select)
            self.buf_bytes += len(select)
            self.selected_db = dbnum
        data = encode_command(argv)
        self.buf.append(data)
        self.buf_bytes += len(data)

    def feed_expired(self, db, key):
        """A key expired (lazily or actively): the log says DEL, as Redis's does."""
        if self.enabled:
            self.feed(db.id, [b"DEL", key])

    def flush(self, force_fsync=False):
        """Write the buffer (before replies are sent); fsync now under appendfsync always."""
        if self.buf and self.incr_fd is not None:
            data = b"".join(self.buf)
            try:
                write_all(self.incr_fd, data)
            except OSError as e:
                self._write_failed(e)
                return
            self.buf = []
            self.buf_bytes = 0
            self.last_write_ok = True
            self.current_size += len(data)
            self.incr_size += len(data)
            self.unsynced = True
        if self.unsynced and (force_fsync or self.node.config["appendfsync"] == "always"):
            os.fsync(self.incr_fd)
            self.unsynced = False
            self.last_fsync = time.time()

    def _write_failed(self, error):
        """Redis's rules: under always the node cannot go on; otherwise the buffer stays
        for the next try, and a partial write is cut back off the file."""
        self.last_write_ok = False
        self.log.warning("Error writing to the AOF file: %s" % error.strerror)
        try:
            os.ftruncate(self.incr_fd, self.incr_size)
        except OSError:
            pass
        if self.node.config["appendfsync"] == "always":
            self.log.warning("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...")
            os._exit(1)

    def fsync_fd(self):
        """everysec, in the event loop: a duplicate of the incr file's fd for the worker
        thread to fsync (a rewrite may close the original meanwhile), or None."""
        if self.incr_fd is None or not self.unsynced or self.node.config["appendfsync"] != "everysec":
            return None
        self.unsynced = False
        return os.dup(self.incr_fd)

    # ---- rewriting ------------------------------------------------------------

    def rewrite(self) -> str:
        """Fork a child that writes a new base; writes continue into a new incr file.
        Returns '' when started, 'scheduled' when another child runs, or an error text.

        With the AOF off (BGREWRITEAOF anyway, as Redis allows) the result is a
        manifest naming the new base alone, ready for when it is turned on."""
        snapshots = self.snapshots
        if snapshots.child_pid is not None:
            if snapshots.child_kind == "aof":
                return "ERR Background append only file rewriting already in progress"
            self.rewrite_scheduled = True
            return "scheduled"
        os.makedirs(self.directory, exist_ok=True)
        logging = self.enabled or self.waiting_first_base
        if self.incr_fd is not None:
            self.flush(force_fsync=True)
        else:
            # Writes queued before the first base exists are in that base.
            self.buf = []
            self.buf_bytes = 0
        old = self.manifest
        base_seq = old.base_seq + 1
        incr_seq = old.next_incr_seq
        new_base = "%s.%d.base.rdb" % (self.prefix, base_seq)
        new_incr = "%s.%d.incr.aof" % (self.prefix, incr_seq) if logging else None
        base_path = self._path(new_base)
        error = snapshots.fork_child(
            "aof",
            lambda: self._write_base(base_path),
            lambda ok: self._rewrite_done(ok, new_base, base_seq, new_incr, incr_seq),
            lambda pid: self._path("temp-%d-%s" % (pid, new_base)),
        )
        if error:
            return error
        self.rewrite_scheduled = False
        self.log.notice("Background append only file rewriting started by pid %d" % snapshots.child_pid)
        if not logging:
            return ""
        # Writes from now on go to the new incr file; the child's base covers the rest.
        self._open_incr(new_incr, truncate=True)
        self.selected_db = -1
        self.enabled = True
        if not self.waiting_first_base:
            # Until the rewrite finishes, the manifest names the new incr file after the old ones.
            self.manifest.incrs.append((new_incr, incr_seq))
            self._write_manifest()
        return ""

    def _rewrite_done(self, ok, new_base, base_seq, new_incr, incr_seq):
        self.last_rewrite_seconds = int(time.time() - self.snapshots.child_started)
        self.last_rewrite_ok = ok
        if not ok:
            self.rewrite_failures += 1
            self.log.warning("Background AOF rewrite terminated with error")
            if self.waiting_first_base:
                # The AOF never got a base: it stays off.
                self._abandon(new_incr)
            return
        self.rewrite_failures = 0
        old = self.manifest
        incrs = [(n, s) for n, s in old.incrs if s >= incr_seq] if new_incr else []
        if new_incr and not incrs:
            incrs = [(new_incr, incr_seq)]
        self.manifest = Manifest(new_base, base_seq, incrs)
        self._write_manifest()
        keep = set(self.manifest.names())
        for name in old.names():
            if name not in keep:
                try:
                    os.unlink(self._path(name))
                except OSError:
                    pass
        fsync_dir(self.directory)
        self.waiting_first_base = False
        self.rewrites += 1
        self.base_size = _size(self._path(new_base))
        self.current_size = self.base_size + sum(_size(self._path(n)) for n, _ in incrs)
        self.rewrite_base_size = self.current_size
        self.log.notice("Background AOF rewrite finished successfully")

    def _abandon(self, new_incr):
        if self.incr_fd is not None:
            os.close(self.incr_fd)
            self.incr_fd = None
        try:
            os.unlink(self._path(new_incr))
        except OSError:
            pass
        self.enabled = False
        self.waiting_first_base = False
        self.buf = []
        self.buf_bytes = 0
        self.node.config.values["appendonly"] = False
        self.log.warning("The AOF could not be started: appendonly is off again")


def _size(path) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
