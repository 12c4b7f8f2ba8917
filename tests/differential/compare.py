"""Send the same commands to real Redis and to triokv; compare the replies.

A `Pair` holds numbered connections to both servers (connection 1 unless told
otherwise). `run(args)` sends one command on both, reads one reply from each
and compares them under the rule of normalise.py. A mismatch is recorded with
the command and both raw replies; `assert_clean()` fails with all of them and
the commands that led there.

Two things need more than comparing one reply:

* SCAN, SSCAN, HSCAN, ZSCAN started at cursor 0 are driven to the end on each
  server separately, and the unions of the pages are compared: Redis lets a
  cursor be any value, only the set of elements a full scan returns is its
  contract.
* SPOP removes random members, so after it the two sets may hold different
  members; the triokv set is made equal to Redis's (SREM/SADD on triokv alone)
  so that later commands compare the same data again.
"""

import shlex
import time

from node.resp import encode_command
from tests.resp_wire import Conn

from .normalise import PAIRED_SCANS, SCANS, normalise, normalise_exec, rule_name, text

READ_TIMEOUT = 5.0


class Mismatch(AssertionError):
    pass


class Side:
    """One server's connections, and what each connection has queued in MULTI."""

    def __init__(self, name, server):
        self.name = name
        self.server = server
        self.conns = {}
        self.queued = {}  # conn index -> list of args queued since MULTI, or None

    def conn(self, index):
        c = self.conns.get(index)
        if c is None:
            c = self.conns[index] = Conn(self.server.host, self.server.port, timeout=READ_TIMEOUT)
        return c

    def in_multi(self, index):
        return self.queued.get(index) is not None

    def drop(self, index):
        c = self.conns.pop(index, None)
        if c is not None:
            c.close()
        self.queued.pop(index, None)

    def close(self):
        for index in list(self.conns):
            self.drop(index)


class Pair:
    """Redis and triokv side by side. `stop_at_first` raises on the first mismatch."""

    def __init__(self, redis_server, triokv_server, resp3=False, stop_at_first=False):
        self.redis = Side("redis", redis_server)
        self.triokv = Side("triokv", triokv_server)
        self.resp3 = resp3
        self.stop_at_first = stop_at_first
        self.history = []  # (conn index, args) for the report
        self.pending = {}  # conn index -> args sent and not yet read
        self.mismatches = []
        self.failed = []  # the args of each mismatching command, in order
        self.opened = set()

    def close(self):
        self.redis.close()
        self.triokv.close()

    def sides(self):
        return (self.redis, self.triokv)

    def _open(self, index):
        if index in self.opened:
            return
        self.opened.add(index)
        if self.resp3:
            self.run(["HELLO", "3"], index)

    # -- sending and reading -------------------------------------------------

    def send(self, args, index=1):
        self._open(index)
        args = [a if isinstance(a, bytes) else str(a).encode("latin-1") for a in args]
        self.history.append((index, args))
        for side in self.sides():
            side.conn(index).send(*args)
        self.pending[index] = args
        return args

    def send_raw(self, data: bytes, index=1):
        """Bytes as they are (inline commands, broken protocol); read the replies with read()."""
        self._open(index)
        self.history.append((index, [b"<raw>", data]))
        for side in self.sides():
            side.conn(index).send_raw(data)
        self.pending[index] = [b"<raw>", data]

    def run_pipelined(self, commands, index=1):
        """Send all commands in one write, as a pipelining client does, then compare the
        replies one by one (no scans driven to the end or sets resynced: see the callers)."""
        self._open(index)
        sent = [[a if isinstance(a, bytes) else str(a).encode("latin-1") for a in args] for args in commands]
        data = b"".join(encode_command(args) for args in sent)
        for side in self.sides():
            side.conn(index).send_raw(data)
        for args in sent:
            self.history.append((index, args))
            self.pending[index] = args
            self.read(index)

    def read(self, index=1, timeout=READ_TIMEOUT):
        """One reply from each side for what `index` sent last; compared; returns both nodes."""
        args = self.pending.get(index) or [b"<push>"]
        r = self._read_one(self.redis, index, timeout)
        t = self._read_one(self.triokv, index, timeout)
        if isinstance(r, Exception):
            raise RuntimeError("redis-server itself did not answer %s: %s" % (show(args), r))
        if isinstance(t, Exception):
            self.mismatch(index, args, r.raw, self._failure(t), fatal=True)
        self._compare(index, args, r, t)
        return r, t

    def _failure(self, error):
        """What triokv did instead of answering; its log when the process died."""
        server = self.triokv.server
        text = "<%s: %s>" % (type(error).__name__, error)
        time.sleep(0.05)
        if hasattr(server, "alive") and not server.alive():
            text += "\n    triokv died; log tail:\n" + server.log_tail(15)
        return text

    @staticmethod
    def _read_one(side, index, timeout):
        try:
            return side.conn(index).read(timeout)
        except (AssertionError, OSError) as e:
            return e

    def run(self, args, index=1, timeout=READ_TIMEOUT):
        args = self.send(args, index)
        return self.read(index, timeout)

    def expect_closed(self, index=1, timeout=READ_TIMEOUT):
        """Both servers close the connection; what each sent before closing must be equal."""
        got = []
        for side in self.sides():
            try:
                got.append(side.conn(index).read_until_closed(timeout))
            except AssertionError as e:
                got.append("<still open: %s>" % e)
        if isinstance(got[0], str):
            raise RuntimeError("redis-server did not close connection %d: %s" % (index, got[0]))
        if got[0] != got[1]:
            self.mismatch(index, [b"<expect close>"], got[0], got[1])
        self.drop(index)

    def expect_silence(self, index=1, seconds=0.1):
        """Neither server sends anything on `index` for `seconds`."""
        time.sleep(seconds)
        got = [self._drain(side.conn(index)) for side in self.sides()]
        if got[0]:
            raise RuntimeError("redis-server sent %r on %d where silence was expected" % (got[0], index))
        if got[1]:
            self.mismatch(index, [b"<expect silence>"], b"", got[1])

    @staticmethod
    def _drain(conn):
        conn.sock.setblocking(False)
        data = conn.buf
        try:
            while True:
                chunk = conn.sock.recv(1 << 16)
                if not chunk:
                    break
                data += chunk
        except BlockingIOError:
            pass
        finally:
            conn.sock.setblocking(True)
        conn.buf = b""
        return data

    def drop(self, index=1):
        """Forget connection `index` on both sides (closed); a later use opens a new one."""
        for side in self.sides():
            side.drop(index)
        self.opened.discard(index)
        self.pending.pop(index, None)

    # -- comparing -----------------------------------------------------------

    def _compare(self, index, args, r, t):
        name = rule_name(args)
        in_multi = self.redis.in_multi(index)
        if name == "exec" and in_multi:
            queued = self.redis.queued[index]
            a, b = normalise_exec(r, queued), normalise_exec(t, self.triokv.queued.get(index) or [])
        else:
            queued = None
            a, b = normalise(r, args), normalise(t, args)
        for side, node in ((self.redis, r), (self.triokv, t)):
            track_multi(side, index, name, args, node)
        if a != b:
            self.mismatch(index, args, r.raw, t.raw)
            return
        if not in_multi:
            self._after(index, name, args, r)
        elif queued is not None and r.kind == "*" and r.value is not None:
            for queued_args in queued:
                if rule_name(queued_args) == "spop" and len(queued_args) > 1:
                    self.resync_set(index, queued_args[1])

    def _after(self, index, name, args, r):
        if r.kind == "-":
            return
        if name in SCANS and len(args) > SCANS[name] and args[SCANS[name]] == b"0":
            self.compare_full_scan(index, name, args, r)
        elif name == "spop" and len(args) > 1:
            self.resync_set(index, args[1])

    def compare_full_scan(self, index, name, args, first_redis):
        at = SCANS[name]
        results = []
        for side in self.sides():
            conn = side.conn(index)
            results.append(full_scan(conn, args, at, name in PAIRED_SCANS))
        if results[0] != results[1]:
            self.mismatch(index, [b"<full scan>"] + args, repr(results[0]), repr(results[1]))

    def resync_set(self, index, key):
        """After a random pop: make triokv's set hold what Redis's holds."""
        want = _members(self.redis.conn(index), key)
        have = _members(self.triokv.conn(index), key)
        if want is None or have is None or want == have:
            return
        conn = self.triokv.conn(index)
        extra, missing = have - want, want - have
        # Add first: removing first could empty the set, and a new key starts a new encoding.
        if missing:
            conn.call(b"SADD", key, *sorted(missing))
        if extra:
            conn.call(b"SREM", key, *sorted(extra))

    def mismatch(self, index, args, redis_raw, triokv_raw, fatal=False):
        entry = "%s%s\n    redis : %s\n    triokv: %s" % (
            "@%d " % index if index != 1 else "",
            show(args),
            clip(redis_raw),
            clip(triokv_raw),
        )
        self.mismatches.append(entry)
        self.failed.append(args)
        if fatal or self.stop_at_first:
            raise Mismatch(self.report())

    def report(self) -> str:
        proto = "RESP3" if self.resp3 else "RESP2"
        lines = ["%d mismatch(es) with redis-server in %s:" % (len(self.mismatches), proto)]
        lines += ["  " + m for m in self.mismatches]
        lines.append("  commands sent: " + " | ".join(("@%d " % i if i != 1 else "") + show(a) for i, a in self.history[-40:]))
        return "\n".join(lines)

    def assert_clean(self):
        if self.mismatches:
            raise Mismatch(self.report())


def track_multi(side, index, name, args, node):
    """Follow MULTI on one side: what was queued, so EXEC's elements get their rules."""
    if name == "multi":
        if node.raw == b"+OK\r\n":
            side.queued[index] = []
    elif name in ("exec", "discard", "reset"):
        side.queued[index] = None
    elif side.queued.get(index) is not None and node.raw == b"+QUEUED\r\n":
        side.queued[index].append(args)


def full_scan(conn, args, at, paired, limit=100000):
    """Every element a scan from cursor 0 returns (pairs for HSCAN/ZSCAN), or the error met."""
    args = list(args)
    found = set()
    for _ in range(limit):
        node = conn.call(*args)
        if node.kind == "-":
            return node.raw
        cursor, page = node.value
        items = [child.raw for child in page.value]
        if paired:
            items = list(zip(items[0::2], items[1::2]))
        found.update(items)
        if cursor.value == b"0":
            return sorted(found)
        args[at] = cursor.value
    return "<scan did not end after %d calls>" % limit


def _members(conn, key):
    node = conn.call(b"SMEMBERS", key)
    if node.kind == "-" or not isinstance(node.value, list):
        return None
    return {child.value for child in node.value}


def show(args) -> str:
    """A command as a shell-like line; control bytes as Python escapes, long ones as their size."""
    return " ".join(_show_arg(a) for a in args)


def _show_arg(a: bytes) -> str:
    if len(a) >= 60:
        return "<%d bytes>" % len(a)
    if any(b < 32 or b > 126 for b in a):
        return repr(a)[1:]
    return shlex.quote(text(a))


def clip(raw) -> str:
    if isinstance(raw, str):
        return raw if len(raw) < 600 else raw[:500] + "...(%d chars)" % len(raw)
    shown = repr(raw)
    return shown if len(shown) < 600 else shown[:500] + "...(%d bytes)" % len(raw)
