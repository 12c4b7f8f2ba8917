"""Server administration: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME, SHUTDOWN, SLOWLOG, MONITOR, LOLWUT.

DEBUG lives in node.commands.debug (imported here so it registers with this family).
"""

import time

from ..errors import CommandError, DB_INDEX, SYNTAX
from ..resp import OK, Raw, Verbatim
from . import debug  # noqa: F401  registers DEBUG
from .args import parse_int
from .connection import REDIS_VERSION, help_reply
from .lolwut import lolwut5, lolwut6
from .table import command, run_subcommand, subcommand

_NOTHING = Raw(b"")  # no reply at all (a SHUTDOWN that goes ahead, a repeated MONITOR)


# ---- DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME ---------------------------------


@command("dbsize", 1, "readonly fast", group="server", acl="keyspace", tips="request_policy:all_shards response_policy:agg_sum", summary="Return the number of keys in the selected database")
def dbsize(c, argv):
    # Like Redis, this counts keys that expired but were not reclaimed yet.
    return len(c.db)


def _check_flush_mode(argv):
    """FLUSHDB/FLUSHALL take ASYNC or SYNC. Freeing is immediate either way here."""
    if len(argv) > 2 or (len(argv) == 2 and argv[1].lower() not in (b"async", b"sync")):
        raise CommandError(SYNTAX)


@command("flushdb", -1, "write", group="server", acl="keyspace dangerous", tips="request_policy:all_shards response_policy:all_succeeded", summary="Remove all keys from the current database")
def flushdb(c, argv):
    _check_flush_mode(argv)
    c.db.flush()
    # Propagated even when the db was already empty (Redis forces it).
    c.node.keyspace.dirty += 1
    return OK


@command("flushall", -1, "write", group="server", acl="keyspace dangerous", tips="request_policy:all_shards response_policy:all_succeeded", summary="Remove all keys from all databases")
def flushall(c, argv):
    _check_flush_mode(argv)
    keyspace = c.node.keyspace
    for db in keyspace.dbs:
        db.flush()
    _reset_dump(c.node)
    keyspace.dirty += 1
    return OK


def _reset_dump(node):
    """As Redis's FLUSHALL: a BGSAVE in flight would write the old data back to the dump, so it
    is killed; with save points set the (now empty) dataset is saved at once, so a restart
    cannot resurrect what was flushed."""
    persistence = node.persistence
    if persistence is None:
        return
    snapshots = persistence.snapshots
    if snapshots.child_kind == "rdb":
        snapshots.kill_child()
    if node.config["save"]:
        snapshots.save()


def _db_index(raw: bytes, error: str) -> int:
    index = parse_int(raw, error)
    if not -(1 << 31) <= index < (1 << 31):
        raise CommandError(error)
    return index


@command("swapdb", 3, "write fast", group="server", since="4.0.0", acl="keyspace dangerous", summary="Swaps two Redis databases")
def swapdb(c, argv):
    first = _db_index(argv[1], "ERR invalid first DB index")
    second = _db_index(argv[2], "ERR invalid second DB index")
    keyspace = c.node.keyspace
    count = len(keyspace.dbs)
    if not (0 <= first < count and 0 <= second < count):
        raise CommandError(DB_INDEX)
    if first != second:
        keyspace.swap(first, second)
    keyspace.dirty += 1  # propagated, even swapping a db with itself
    return OK


@command("time", 1, "loading stale fast", group="server", since="2.6.0", tips="nondeterministic_output", summary="Return the current server time")
def time_cmd(c, argv):
    usec = time.time_ns() // 1000
    return [b"%d" % (usec // 1_000_000), b"%d" % (usec % 1_000_000)]


# ---- SHUTDOWN ----------------------------------------------------------------------

_SHUTDOWN_WORDS = (b"nosave", b"save", b"now", b"force")


def _shutdown_options(argv):
    options = set()
    abort = False
    for raw in argv[1:]:
        word = raw.lower()
        if word in _SHUTDOWN_WORDS:
            options.add(word.decode())
        elif word == b"abort":
            abort = True
        else:
            raise CommandError(SYNTAX)
    if (abort and options) or {"save", "nosave"} <= options:
        raise CommandError(SYNTAX)
    return options, abort


@command("shutdown", -1, "admin noscript loading stale no_multi allow_busy", group="server", summary="Synchronously save the dataset to disk and then shut down the server")
def shutdown(c, argv):
    """Prepare persistence as Redis does inside SHUTDOWN (final save, AOF flush), then ask
    the I/O layer to exit: node.shutdown_requested holds 'save', 'nosave' or '' (save
    when save points are configured), node.shutdown_options NOW/FORCE."""
    options, abort = _shutdown_options(argv)
    node = c.node
    if abort:
        if node.shutdown_requested is None:
            raise CommandError("ERR No shutdown in progress.")
        node.shutdown_requested = None
        node.shutdown_options = frozenset()
        return OK
    mode = "save" if "save" in options else "nosave" if "nosave" in options else ""
    if not _prepare_shutdown(node, mode) and "force" not in options:
        _log(node, "Errors trying to shut down the server. Check the logs for more information.")
        raise CommandError("ERR Errors trying to SHUTDOWN. Check logs.")
    node.shutdown_requested = mode
    node.shutdown_options = frozenset(options - {"save", "nosave"})
    c.closing = True  # Redis exits inside the command: nothing after it runs, no reply
    return _NOTHING


def _prepare_shutdown(node, mode) -> bool:
    """False when the save the shutdown needs failed (FORCE exits anyway)."""
    if node.persistence is not None:
        return node.persistence.shutdown(mode)
    if mode == "save":
        # Nothing here can write the snapshot SAVE asks for.
        _log(node, "Error trying to save the DB, can't exit.")
        return False
    return True


def _log(node, message):
    if node.log is not None:
        node.log.warning(message)


# ---- MONITOR ----------------------------------------------------------------------


@command("monitor", 1, "admin noscript loading stale", group="server", summary="Listen for all requests received by the server in real time")
def monitor(c, argv):
    """From now on c receives a line for every command run (node.core feeds node.monitors)."""
    if c.in_exec:
        raise CommandError("ERR MONITOR isn't allowed for DENY BLOCKING client")
    if c.monitor or c.kind == "replica":
        return _NOTHING  # Redis ignores it, without a reply
    c.monitor = True
    c.node.monitors.append(c)
    return OK


# ---- SLOWLOG ----------------------------------------------------------------------


@command("slowlog", -2, "", group="server", since="2.2.12", summary="A container for slow log commands")
def slowlog(c, argv):
    return run_subcommand(c, argv)


def slowlog_get(c, argv):
    if len(argv) > 3:
        raise CommandError("ERR unknown subcommand or wrong number of arguments for '%s'. Try SLOWLOG HELP." % argv[1].decode("utf-8", "replace"))
    entries = c.node.slowlog
    count = 10
    if len(argv) == 3:
        count = parse_int(argv[2], "ERR count should be greater than or equal to -1")
        if count < -1:
            raise CommandError("ERR count should be greater than or equal to -1")
        if count == -1:
            count = len(entries)
    shown = []
    for entry in entries:  # newest first
        if len(shown) == count:
            break
        shown.append([entry.id, entry.time, entry.usec, list(entry.argv), entry.addr.encode(), entry.name])
    return shown


def slowlog_len(c, argv):
    return len(c.node.slowlog)


def slowlog_reset(c, argv):
    c.node.slowlog.clear()
    return OK


_SLOWLOG_HELP = help_reply("SLOWLOG", [
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
])


def slowlog_help(c, argv):
    return _SLOWLOG_HELP


subcommand("slowlog", "get", -2, "admin loading stale", summary="Get the slow log's entries", since="2.2.12", fn=slowlog_get, tips="request_policy:all_nodes nondeterministic_output")
subcommand("slowlog", "len", 2, "admin loading stale", summary="Get the slow log's length", since="2.2.12", fn=slowlog_len, tips="request_policy:all_nodes response_policy:agg_sum nondeterministic_output")
subcommand("slowlog", "reset", 2, "admin loading stale", summary="Clear all entries from the slow log", since="2.2.12", fn=slowlog_reset, tips="request_policy:all_nodes response_policy:all_succeeded")
subcommand("slowlog", "help", 2, "loading stale", summary="Show helpful text about the different subcommands", since="6.2.0", fn=slowlog_help)


# ---- LOLWUT ------------------------------------------------------------------------


@command("lolwut", -1, "readonly fast", group="server", since="5.0.0", summary="Display some computer art and the Redis version")
def lolwut(c, argv):
    args = argv[1:]
    version = REDIS_VERSION
    if len(argv) >= 3 and argv[1].lower() == b"version":
        version = "%d.0.0" % (parse_int(argv[2]) & 0xFFFFFFFF)  # Redis prints it as unsigned
        args = argv[3:]
    if version.startswith("5."):
        cols, per_row, per_col = _lolwut_numbers(args, (66, 8, 12))
        return Verbatim(lolwut5(cols, per_row, per_col, REDIS_VERSION))
    if version.startswith("6."):
        cols, rows = _lolwut_numbers(args, (80, 20))
        return Verbatim(lolwut6(cols, rows, REDIS_VERSION))
    return Verbatim(b"Redis ver. %s\n" % REDIS_VERSION.encode())


def _lolwut_numbers(args, defaults):
    """The art's optional numeric arguments; extra arguments are ignored, as in Redis."""
    given = [parse_int(raw) for raw in args[: len(defaults)]]
    return given + list(defaults[len(given):])
