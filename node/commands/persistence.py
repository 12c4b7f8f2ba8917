"""SAVE, BGSAVE, LASTSAVE, BGREWRITEAOF."""

from ..errors import CommandError, SYNTAX
from ..resp import OK, simple
from .table import command

_BGSAVE_STARTED = simple("Background saving started")
_BGSAVE_SCHEDULED = simple("Background saving scheduled")
_AOF_STARTED = simple("Background append only file rewriting started")
_AOF_SCHEDULED = simple("Background append only file rewriting scheduled")


def _persistence(c):
    persistence = getattr(c.node, "persistence", None)
    if persistence is None:
        raise CommandError("ERR persistence is not available on this node")
    return persistence


@command("save", 1, "admin noscript no_async_loading no_multi", group="server", summary="Synchronously save the dataset to disk", since="1.0.0")
def save(c, argv):
    snapshots = _persistence(c).snapshots
    if snapshots.child_pid is not None and snapshots.child_kind == "rdb":
        raise CommandError("ERR Background save already in progress")
    if not snapshots.save():
        raise CommandError("ERR")
    return OK


@command("bgsave", -1, "admin noscript no_async_loading", group="server", summary="Asynchronously save the dataset to disk", since="1.0.0")
def bgsave(c, argv):
    schedule = False
    if len(argv) > 2:
        raise CommandError(SYNTAX)
    if len(argv) == 2:
        if argv[1].lower() != b"schedule":
            raise CommandError(SYNTAX)
        schedule = True
    snapshots = _persistence(c).snapshots
    if snapshots.child_kind == "rdb":
        raise CommandError("ERR Background save already in progress")
    if snapshots.child_pid is not None or c.in_exec:
        # Redis never forks inside EXEC: the save is scheduled for the cron.
        if not (schedule or c.in_exec):
            raise CommandError("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
        snapshots.scheduled = True
        return _BGSAVE_SCHEDULED
    if snapshots.bgsave():
        raise CommandError("ERR")
    return _BGSAVE_STARTED


@command("lastsave", 1, "random fast loading stale", group="server", summary="Get the UNIX time stamp of the last successful save to disk", since="1.0.0")
def lastsave(c, argv):
    return _persistence(c).snapshots.lastsave


@command("bgrewriteaof", 1, "admin noscript no_async_loading", group="server", summary="Asynchronously rewrite the append-only file", since="1.0.0")
def bgrewriteaof(c, argv):
    persistence = _persistence(c)
    snapshots = persistence.snapshots
    if snapshots.child_kind == "aof":
        raise CommandError("ERR Background append only file rewriting already in progress")
    if snapshots.child_pid is not None or c.in_exec:
        persistence.aof.rewrite_scheduled = True
        return _AOF_SCHEDULED
    if persistence.aof.rewrite():
        raise CommandError("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.")
    return _AOF_STARTED
