"""The command table: the one description of every command.

Each entry gives the name, arity (Redis's convention: N exact, -N at least N,
counting the command name), flags, key positions (first, last, step; last -1
means "to the end"), and the function. Dispatch, COMMAND, replication, READONLY
and ACL checks all read it.

A command function is synchronous: `fn(client, argv) -> reply value` (see
node.resp for the values). It runs atomically between awaits, like a command
in Redis's single thread. It raises node.errors.CommandError for error replies.
"""

import time
from dataclasses import dataclass, field, replace

from ..errors import CommandError

# Flags, as COMMAND INFO reports them.
WRITE = "write"
READONLY = "readonly"
DENYOOM = "denyoom"
ADMIN = "admin"
PUBSUB = "pubsub"
NOSCRIPT = "noscript"
BLOCKING = "blocking"
LOADING = "loading"
STALE = "stale"
SKIP_MONITOR = "skip_monitor"
SKIP_SLOWLOG = "skip_slowlog"
FAST = "fast"
NO_AUTH = "no_auth"
MAY_REPLICATE = "may_replicate"
NO_MULTI = "no_multi"
ALLOW_BUSY = "allow_busy"
MOVABLEKEYS = "movablekeys"


@dataclass(eq=False)
class Command:
    name: str
    fn: object
    arity: int
    flags: frozenset
    first_key: int = 0
    last_key: int = 0
    step: int = 0
    group: str = "generic"
    summary: str = ""
    since: str = "1.0.0"
    subcommands: dict = field(default_factory=dict)
    # Called with argv to list key indexes when positions are not fixed (movablekeys).
    key_finder: object = None
    # Metadata for COMMAND INFO / DOCS and ACLs (rendered by node.commands.meta).
    acl: tuple = None  # explicit ACL categories without '@'; None derives them from the group
    tips: tuple = ()  # Redis's command tips ("nondeterministic_output", "request_policy:...")
    key_flags: tuple = None  # flags of the key spec derived from first/last/step ("RW", "insert", ...)
    key_specs: list = None  # full key specs in COMMAND INFO's shape, when derivation is not enough
    docs: dict = None  # complexity, history, arguments, doc_flags, deprecated_since, replaced_by
    # Precomputed for the hot path.
    is_write: bool = False
    is_fast: bool = False
    # Not flagged fast only because it may free a large value it replaces (SET): Node._run_plain
    # times it by the run like a fast command, and ends the run where such a value was freed.
    cut_on_free: bool = False
    denyoom: bool = False
    no_auth: bool = False
    loading_ok: bool = False
    allowed_in_subscribe: bool = False
    calls: int = 0
    nsec: int = 0  # time spent running it, in nanoseconds (INFO commandstats shows usec)
    rejected_calls: int = 0
    failed_calls: int = 0

    def key_indexes(self, argv) -> list:
        """Indexes in argv that hold key names."""
        if self.key_finder is not None:
            return self.key_finder(argv)
        if self.first_key == 0:
            return []
        last = self.last_key if self.last_key >= 0 else len(argv) + self.last_key
        last = min(last, len(argv) - 1)
        return list(range(self.first_key, last + 1, self.step or 1))


# name (lower-case str) -> Command
COMMANDS: dict = {}
# Commands of triokv's own, which Redis lacks (differential tests leave them out).
TRIOKV_ONLY = {"fence"}
# Lookup by the raw argv[0] bytes as clients send them (lower and upper case);
# dispatch falls back to .lower() for mixed case.
BY_BYTES: dict = {}

# Commands that only read and write the keyspace and their own reply. They cannot change
# what the dispatch gates look at (MULTI, auth, pub/sub, pause, role, monitors, ...), so a
# batch of them runs without those gates when none applies (Node.run_ready).
_PLAIN_GROUPS = frozenset(("string", "generic", "list", "hash", "set", "sorted-set"))
_PLAIN_EXTRA = frozenset(("ping", "echo"))
_NOT_PLAIN = frozenset(("wait",))  # generic, but it waits for replicas

_SUBSCRIBE_CONTEXT = {"subscribe", "psubscribe", "unsubscribe", "punsubscribe", "ping", "quit", "reset", "ssubscribe", "sunsubscribe"}


def command(name, arity, flags="", first=0, last=0, step=0, group="generic", summary="", since="1.0.0", key_finder=None, acl=None, tips="", key_flags=None, key_specs=None, docs=None, registry=None):
    """Register a command. `flags`, `acl`, `tips` and `key_flags` are space-separated strings.
    `registry`: a dict of name -> Command to register into instead of the node's commands
    (the sentinel keeps its own, served through a CommandTable built from it)."""
    flag_set = frozenset(flags.split())

    def register(fn):
        cmd = Command(
            name=name,
            fn=fn,
            arity=arity,
            flags=flag_set,
            first_key=first,
            last_key=last,
            step=step,
            group=group,
            summary=summary or (fn.__doc__ or "").strip().split("\n")[0],
            since=since,
            key_finder=key_finder,
        )
        _set_meta(cmd, acl, tips, key_flags, key_specs, docs)
        cmd.is_write = WRITE in flag_set
        cmd.is_fast = FAST in flag_set
        cmd.denyoom = DENYOOM in flag_set
        cmd.no_auth = NO_AUTH in flag_set
        cmd.loading_ok = LOADING in flag_set
        cmd.allowed_in_subscribe = name in _SUBSCRIBE_CONTEXT
        if registry is not None:
            registry[name] = cmd
            return fn
        COMMANDS[name] = cmd
        BY_BYTES[name.encode()] = cmd
        BY_BYTES[name.upper().encode()] = cmd
        return fn

    return register


def subcommand(parent, name, arity, flags="", first=0, last=0, step=0, summary="", since=None, fn=None, acl=None, tips="", key_flags=None, key_specs=None, docs=None, key_finder=None, registry=None):
    """Describe a subcommand (for COMMAND INFO/DOCS). The parent's function dispatches it,
    itself or (when `fn` is given) through run_subcommand."""
    cmd = (COMMANDS if registry is None else registry)[parent]
    sub = Command(name="%s|%s" % (parent, name), fn=fn, arity=arity, flags=frozenset(flags.split()), first_key=first, last_key=last, step=step, group=cmd.group, summary=summary, since=since or cmd.since, key_finder=key_finder)
    _set_meta(sub, acl, tips, key_flags, key_specs, docs)
    sub.is_write = WRITE in sub.flags
    cmd.subcommands[name] = sub
    return sub


def _set_meta(cmd, acl, tips, key_flags, key_specs, docs):
    cmd.acl = tuple(acl.split()) if acl is not None else None
    cmd.tips = tuple(tips.split())
    cmd.key_flags = tuple(key_flags.split()) if key_flags else None
    cmd.key_specs = key_specs
    cmd.docs = docs


def counts_through_subcommands(cmd) -> bool:
    """A container whose subcommands run (and are counted) through run_subcommand: as in
    Redis, its calls are its subcommands' calls."""
    return any(sub.fn is not None for sub in cmd.subcommands.values())


def subcommand_refusal(cmd, argv):
    """(The error Redis's lookup gives for an unknown subcommand or a wrong argument count,
    or None; the subcommand, or None when unknown). argv holds a subcommand name."""
    sub = cmd.subcommands.get(argv[1].decode("utf-8", "replace").lower())
    if sub is None:
        # Redis turns CR and LF into spaces in error texts (addReplyErrorFormat).
        shown = argv[1][:128].decode("utf-8", "replace").replace("\r", " ").replace("\n", " ")
        return "ERR unknown subcommand '%s'. Try %s HELP." % (shown, cmd.name.upper()), None
    n = len(argv)
    if (sub.arity > 0 and n != sub.arity) or n < -sub.arity:
        return "ERR wrong number of arguments for '%s' command" % sub.name, sub
    return None, sub


def run_subcommand(c, argv):
    """Run a container command's subcommand registered with `fn`, with Redis's checks
    (unknown subcommand, the subcommand's arity) and its own INFO commandstats. Node.execute
    has made these checks already; EXEC's queued commands were checked when queued."""
    refusal, sub = subcommand_refusal(c.node.table.lookup(argv[0]), argv)
    if refusal is not None:
        if sub is not None:
            sub.rejected_calls += 1
        raise CommandError(refusal)
    start = time.perf_counter_ns()
    try:
        return sub.fn(c, argv)
    except CommandError:
        sub.failed_calls += 1
        raise
    finally:
        sub.calls += 1
        sub.nsec += time.perf_counter_ns() - start


def lookup(name: bytes, commands=None, by_bytes=None):
    """The command named by argv[0] (any case), or None."""
    cmd = (by_bytes if by_bytes is not None else BY_BYTES).get(name)
    if cmd is None:
        try:
            cmd = (commands if commands is not None else COMMANDS).get(name.decode("utf-8", "replace").lower())
        except AttributeError:
            return None
    return cmd


class CommandTable:
    """One node's commands: copies of the registered entries, so that each node (several
    live in one process in simulations) keeps its own INFO commandstats counters, and a
    sentinel can serve a different set of commands through the same dispatch."""

    def __init__(self, registry=None, only=None):
        registry = COMMANDS if registry is None else registry
        self.commands = {}
        self.by_bytes = {}
        # The plain commands (see _is_plain) by argv[0] as clients send it: all of them, and
        # the reads alone (for a node whose writes need checks).
        self.plain_by_bytes = {}
        self.plain_reads_by_bytes = {}
        for name, cmd in registry.items():
            if only is None or name in only:
                self.add(cmd)

    def add(self, cmd):
        own = replace(cmd, subcommands={name: replace(sub) for name, sub in cmd.subcommands.items()})
        self.commands[own.name] = own
        for spelling in (own.name.encode(), own.name.upper().encode()):
            self.by_bytes[spelling] = own
            if _is_plain(own):
                self.plain_by_bytes[spelling] = own
                if not own.is_write:
                    self.plain_reads_by_bytes[spelling] = own
        return own

    def lookup(self, name: bytes):
        return lookup(name, self.commands, self.by_bytes)

    def get(self, name: str):
        return self.commands.get(name)

    def values(self):
        return self.commands.values()

    def __len__(self):
        return len(self.commands)


def _is_plain(cmd) -> bool:
    if cmd.subcommands or BLOCKING in cmd.flags or cmd.name in _NOT_PLAIN:
        return False
    return cmd.group in _PLAIN_GROUPS or cmd.name in _PLAIN_EXTRA
