"""What is compared of a reply, command by command.

Replies are compared as raw RESP bytes, except where Redis itself is not
deterministic; for those commands a rule says what is compared instead:

* unordered   : set/hash/keyspace listings, compared as sorted multisets
                (pairs kept together for field/value replies);
* shape       : random picks (SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER,
                RANDOMKEY) and per-process values (CLIENT ID, MEMORY USAGE):
                RESP types and aggregate lengths only;
* tolerance   : TTL/EXPIRETIME may differ by 1 (s), PTTL/PEXPIRETIME by 1000 (ms),
                since the two servers receive the command a moment apart;
* scan page   : a cursor is an offset into a hash table Redis lays out its own
                way, so one page is compared by shape; the Pair compares the
                union of a whole scan instead (see compare.Pair);
* hello/client: the connection id and address fields are per process.

Everything else, errors included, must match byte for byte: an error reply is
compared exactly under every rule. EXEC applies the rule of each queued command
to its element of the reply.
"""

import re

from tests.resp_wire import Node

# Commands whose first argument is a subcommand that selects the rule.
CONTAINERS = {"object", "config", "client", "command", "memory", "pubsub", "debug", "slowlog", "latency", "function", "script", "acl"}

SCANS = {"scan": 1, "sscan": 2, "hscan": 2, "zscan": 2}  # name -> index of the cursor argument
PAIRED_SCANS = {"hscan", "zscan"}


def text(a) -> str:
    return a.decode("latin-1") if isinstance(a, bytes) else str(a)


def rule_name(args) -> str:
    name = text(args[0]).lower()
    if name in CONTAINERS and len(args) > 1:
        return name + " " + text(args[1]).lower()
    return name


def exact(node: Node, args):
    return node.raw


def shape(node: Node, args):
    if node.kind == "-":
        return node.raw
    if isinstance(node.value, list):
        return (node.kind, tuple(shape(child, args) for child in node.value))
    return (node.kind, node.value is None)


def unordered(node: Node, args):
    if not isinstance(node.value, list):
        return node.raw
    return (node.kind, len(node.value), sorted(child.raw for child in node.value))


def unordered_pairs(node: Node, args):
    """Field/value replies: a RESP3 map or a flat RESP2 array of pairs, in any order."""
    if not isinstance(node.value, list):
        return node.raw
    kids = node.value
    if kids and kids[0].kind == "*" and node.kind != "%":  # RESP3 pairs as [k, v] arrays
        return (node.kind, len(kids), sorted(child.raw for child in kids))
    return (node.kind, len(kids), sorted((kids[i].raw, kids[i + 1].raw) for i in range(0, len(kids) - 1, 2)))


def scan_page(node: Node, args):
    """One SCAN page: [cursor, items]; the cursor's value and the page's content are layout."""
    if node.kind != "*" or not isinstance(node.value, list) or len(node.value) != 2:
        return node.raw
    cursor, page = node.value
    return (node.kind, cursor.kind, page.kind, isinstance(page.value, list))


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
    return (node.kind, tuple((kids[i].raw, b"<id>" if kids[i].value == b"id" else kids[i + 1].raw) for i in range(0, len(kids) - 1, 2)))


# CLIENT INFO/LIST fields whose values depend on the process, the socket or time.
_CLIENT_VOLATILE = {"id", "addr", "laddr", "fd", "age", "idle", "qbuf", "qbuf-free", "argv-mem", "multi-mem", "obl", "oll", "omem", "tot-mem", "events", "rbs", "rbp"}


def client_info(node: Node, args):
    """CLIENT INFO/LIST lines: same field names in the same order, stable values equal."""
    if node.kind not in "$=" or node.value is None:
        return node.raw
    body = node.value.decode("latin-1")
    if node.kind == "=":
        body = body[4:]  # "txt:"
    lines = []
    for line in body.strip("\n").split("\n"):
        fields = []
        for field in line.split(" "):
            key, _, value = field.partition("=")
            fields.append((key, "<v>" if key in _CLIENT_VOLATILE else value))
        lines.append(tuple(fields))
    return (node.kind, sorted(lines))


_MONITOR_LINE = re.compile(rb"^\+\d+\.\d{6} \[(\d+) [^\]]+\] ")


def monitor(node: Node, args):
    """A MONITOR feed line: the time and the client's address are per run."""
    if node.kind != "+":
        return node.raw
    return _MONITOR_LINE.sub(rb"+<time> [\1 <addr>] ", node.raw)


def error_or_not(node: Node, args):
    """Only "both failed the same way" or "both answered" is compared (INFO, COMMAND DOCS...)."""
    return node.raw if node.kind == "-" else "answered"


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
    "pubsub numsub": exact,
    "scan": scan_page,
    "sscan": scan_page,
    "hscan": scan_page,
    "zscan": scan_page,
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
    "info": error_or_not,
    # The whole table differs by the commands we do not implement (scripting,
    # modules, cluster...); COMMAND INFO/DOCS of a named command stay exact.
    "command": error_or_not,
    "command count": shape,
    "command list": shape,
    "dump": shape,
    "slowlog get": shape,
    "role": shape,
    "debug digest": shape,
    "monitor": monitor,
    "lolwut": shape,
    "debug digest-value": shape,
}


def normalise(node: Node, args):
    return RULES.get(rule_name(args), exact)(node, args)


def normalise_exec(node: Node, queued):
    """EXEC's array: each element under the rule of the command that produced it."""
    if node.kind != "*" or node.value is None or len(node.value) != len(queued):
        return node.raw
    return (node.kind, tuple(normalise(child, args) for child, args in zip(node.value, queued)))
