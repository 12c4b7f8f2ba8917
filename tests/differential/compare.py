"""Send the same commands to real Redis and to triokv; compare the replies.

Replies are compared as raw RESP bytes, except where Redis itself is not
deterministic; for those commands a rule says what is compared instead:

* unordered   : set/hash/keyspace listings, compared as sorted multisets
                (pairs kept together for field/value and member/score replies);
* scan        : the cursor exactly, the page as a sorted multiset;
* shape       : random picks (SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER,
                RANDOMKEY) and per-process values (CLIENT ID, MEMORY USAGE):
                RESP types and aggregate lengths only;
* tolerance   : TTL/EXPIRETIME may differ by 1 (s), PTTL/PEXPIRETIME by 1000 (ms),
                since the two servers receive the command a moment apart;
* hello/client: the connection id and address fields are per process.

Everything else, errors included, must match byte for byte. EXEC applies the
rule of each queued command to its element of the reply.
"""

import re
import shlex

from tests.resp_wire import Conn, Node

# Commands whose first argument is a subcommand that selects the rule.
_CONTAINERS = {"object", "config", "client", "command", "memory", "pubsub", "debug", "slowlog", "latency"}


def rule_name(args) -> str:
    name = _text(args[0]).lower()
    if name in _CONTAINERS and len(args) > 1:
        return name + " " + _text(args[1]).lower()
    return name


def _text(a) -> str:
    return a.decode("latin-1") if isinstance(a, bytes) else str(a)


# ---- normalisers: Node -> something comparable with == ----------------------


def exact(node: Node, args):
    return node.raw


def shape(node: Node, args):
    if node.kind == "-":
        return node.raw  # an error is deterministic even where the value is not
    if isinstance(node.value, list):
        return (node.kind, tuple(shape(child, args) for child in node.value))
    return (node.kind, node.value is None)


def unordered(node: Node, args):
    if not isinstance(node.value, list):
        return node.raw
    return (node.kind, len(node.value), sorted(child.raw for child in node.value))


def _pairs(children):
    return sorted((children[i].raw, children[i + 1].raw) for i in range(0, len(children) - 1, 2))


def unordered_pairs(node: Node, args):
    """Field/value replies: a RESP3 map or a flat RESP2 array of pairs, in any order."""
    if not isinstance(node.value, list):
        return node.raw
    children = node.value
    if children and children[0].kind == "*" and node.kind != "%":  # RESP3 pairs as [k, v] arrays
        return (node.kind, len(children), sorted(child.raw for child in children))
    return (node.kind, len(children), _pairs(children))


def scan(node: Node, args):
    """[cursor, page]: the cursor exactly, the page in any order (pairs for HSCAN/ZSCAN)."""
    if node.kind != "*" or not node.value or len(node.value) != 2:
        return node.raw
    cursor, page = node.value
    paired = rule_name(args) in ("hscan", "zscan")
    return (cursor.raw, (unordered_pairs if paired else unordered)(page, args))


def tolerance(delta):
    def compare(node: Node, args):
        if node.kind != ":" or int(node.value) < 0:
            return node.raw
        return ToleratedInt(int(node.value), delta)

    return compare


class ToleratedInt:
    """Equal to another ToleratedInt within `delta`; a non-negative TTL never equals -1/-2."""

    def __init__(self, value, delta):
        self.value, self.delta = value, delta

    def __eq__(self, other):
        return isinstance(other, ToleratedInt) and abs(self.value - other.value) <= self.delta

    def __repr__(self):
        return "%d(+-%d)" % (self.value, self.delta)


def hello(node: Node, args):
    """HELLO's map with the connection id left out."""
    if node.kind not in "*%" or not isinstance(node.value, list):
        return node.raw
    kids = node.value
    return (node.kind, tuple((kids[i].raw, b"<id>" if kids[i].value == b"id" else kids[i + 1].raw) for i in range(0, len(kids), 2)))


# CLIENT INFO/LIST fields whose values depend on the process, the socket or time.
_CLIENT_VOLATILE = {"id", "addr", "laddr", "fd", "age", "idle", "qbuf", "qbuf-free", "argv-mem", "multi-mem", "obl", "oll", "omem", "tot-mem", "events"}


def client_info(node: Node, args):
    """CLIENT INFO/LIST lines: same field names in the same order, stable values equal."""
    if node.kind not in "$=" or node.value is None:
        return node.raw
    text = node.value.decode("latin-1")
    if node.kind == "=":
        text = text[4:]  # "txt:"
    lines = []
    for line in text.strip("\n").split("\n"):
        fields = []
        for field in line.split(" "):
            key, _, value = field.partition("=")
            fields.append((key, "<v>" if key in _CLIENT_VOLATILE else value))
        lines.append(tuple(fields))
    return (node.kind, sorted(lines))


def skip(node: Node, args):
    return node.kind == "-"  # only "both failed" or "both answered" is compared


RULES = {
    "smembers": unordered,
    "sunion": unordered,
    "sinter": unordered,
    "sdiff": unordered,
    "hkeys": unordered,
    "hvals": unordered,
    "keys": unordered,
    "hgetall": unordered_pairs,
    "config get": unordered_pairs,
    "pubsub channels": unordered,
    "pubsub shardchannels": unordered,
    "scan": scan,
    "sscan": scan,
    "hscan": scan,
    "zscan": scan,
    "spop": shape,
    "srandmember": shape,
    "hrandfield": shape,
    "zrandmember": shape,
    "randomkey": shape,
    "ttl": tolerance(1),
    "expiretime": tolerance(1),
    "pttl": tolerance(1000),
    "pexpiretime": tolerance(1000),
    "object idletime": tolerance(2),
    "memory usage": shape,
    "client id": shape,
    "client info": client_info,
    "client list": client_info,
    "hello": hello,
    "time": shape,
    "lastsave": shape,
    "info": skip,
    "command": skip,
    "command docs": skip,
    "command count": shape,
    "command list": shape,
    "dump": shape,
    "slowlog get": shape,
    "role": shape,
}


def normalise(node: Node, args):
    return RULES.get(rule_name(args), exact)(node, args)


def normalise_exec(node: Node, queued):
    """EXEC's array: each element under the rule of the command that produced it."""
    if node.kind != "*" or node.value is None or len(node.value) != len(queued):
        return node.raw
    return (node.kind, tuple(normalise(child, args) for child, args in zip(node.value, queued)))


# ---- running the same thing on both servers -----------------------------------


class Mismatch(AssertionError):
    pass


class Side:
    """One server's connections in one protocol, and what each connection has queued in MULTI."""

    def __init__(self, server, resp3):
        self.server = server
        self.resp3 = resp3
        self.conns = {}
        self.queued = {}  # conn index -> list of args queued since MULTI, or None

    def conn(self, index):
        c = self.conns.get(index)
        if c is None:
            c = self.conns[index] = Conn(self.server.host, self.server.port)
        return c

    def close(self):
        for c in self.conns.values():
            c.close()
        self.conns.clear()


class Pair:
    """Redis and triokv side by side; `run(args)` sends to both and compares."""

    def __init__(self, redis_server, triokv_server, resp3=False):
        self.redis = Side(redis_server, resp3)
        self.triokv = Side(triokv_server, resp3)
        self.resp3 = resp3
        self.history = []  # (conn index, args) for the report
        self.pending = {}  # conn index -> args sent and not yet read
        self.mismatches = []
        self.opened = set()

    def close(self):
        self.redis.close()
        self.triokv.close()

    def _open(self, index):
        if index in self.opened:
            return
        self.opened.add(index)
        if self.resp3:
            self.run(["HELLO", "3"], index)

    # -- sending and reading

    def send(self, args, index=1):
        self._open(index)
        args = [a if isinstance(a, bytes) else str(a).encode("latin-1") for a in args]
        self.history.append((index, args))
        for side in (self.redis, self.triokv):
            side.conn(index).send(*args)
        self.pending[index] = args
        return args

    def read(self, index=1, timeout=10.0):
        """Read one reply on each side for what `index` sent last; compare; return both nodes."""
        args = self.pending.get(index) or [b"<push>"]
        replies = []
        for side in (self.redis, self.triokv):
            try:
                replies.append(side.conn(index).read(timeout))
            except (AssertionError, OSError) as e:
                replies.append(e)
        self._compare(index, args, *replies)
        return replies

    def run(self, args, index=1, timeout=10.0):
        args = self.send(args, index)
        return self.read(index, timeout)

    def _compare(self, index, args, r, t):
        if isinstance(r, Exception):
            raise RuntimeError("redis-server itself did not answer %s: %s" % (_show(args), r))
        if isinstance(t, Exception):
            self._mismatch(index, args, r.raw, "<%s: %s>" % (type(t).__name__, t), fatal=True)
        name = rule_name(args)
        queued_r = self.redis.queued.get(index)
        if name == "exec" and queued_r is not None:
            a, b = normalise_exec(r, queued_r), normalise_exec(t, self.triokv.queued.get(index) or [])
        else:
            a, b = normalise(r, args), normalise(t, args)
        self._track_multi(self.redis, index, name, args, r)
        self._track_multi(self.triokv, index, name, args, t)
        if a != b:
            self._mismatch(index, args, r.raw, t.raw)

    @staticmethod
    def _track_multi(side, index, name, args, node):
        if isinstance(node, Exception):
            return
        if name == "multi":
            if node.raw == b"+OK\r\n":
                side.queued[index] = []
        elif name in ("exec", "discard", "reset"):
            side.queued[index] = None
        elif side.queued.get(index) is not None and node.raw == b"+QUEUED\r\n":
            side.queued[index].append(args)

    def _mismatch(self, index, args, redis_raw, triokv_raw, fatal=False):
        text = "%s%s\n    redis : %s\n    triokv: %s" % (
            "@%d " % index if index != 1 else "",
            _show(args),
            _clip(redis_raw),
            _clip(triokv_raw),
        )
        self.mismatches.append(text)
        if fatal:
            raise Mismatch(self.report())

    def report(self) -> str:
        proto = "RESP3" if self.resp3 else "RESP2"
        lines = ["%d mismatch(es) in %s:" % (len(self.mismatches), proto)]
        lines += ["  " + m for m in self.mismatches]
        lines.append("  after: " + " | ".join(("@%d " % i if i != 1 else "") + _show(a) for i, a in self.history[-40:]))
        return "\n".join(lines)

    def assert_clean(self):
        if self.mismatches:
            raise Mismatch(self.report())


def _show(args) -> str:
    return " ".join(shlex.quote(_text(a)) if len(a) < 60 else "<%d bytes>" % len(a) for a in args)


def _clip(raw) -> str:
    if isinstance(raw, str):
        return raw
    text = repr(raw)
    return text if len(text) < 400 else text[:300] + "...(%d bytes)" % len(raw)


# ---- the script format used by the table cases --------------------------------

_HEX = re.compile(r"\\x([0-9a-fA-F]{2})")


def parse_line(line: str):
    """`[@N] [>]CMD args` (send only) or `[@N] <` (read one reply) or `[@N] .op args`."""
    index = 1
    if line.startswith("@"):
        head, line = line.split(None, 1)
        index = int(head[1:])
    mode = "run"
    if line.startswith(">"):
        mode, line = "send", line[1:]
    elif line == "<":
        return index, "read", []
    elif line.startswith("."):
        op, *rest = line.split()
        return index, op[1:], rest
    args = [_HEX.sub(lambda m: chr(int(m.group(1), 16)), a).encode("latin-1") for a in shlex.split(line)]
    return index, mode, args


def parse_cases(text: str, family: str):
    """Blank-line separated cases; a leading `# name` line names one."""
    cases = []
    for block in re.split(r"\n\s*\n", text.strip("\n")):
        lines = [l.strip() for l in block.strip().splitlines() if l.strip()]
        if not lines:
            continue
        name = "%s-%d" % (family, len(cases) + 1)
        if lines[0].startswith("#"):
            name = "%s: %s" % (family, lines[0].lstrip("# "))
            lines = lines[1:]
        lines = [l for l in lines if not l.startswith("#")]
        cases.append((name, lines))
    return cases
