"""MULTI/EXEC/DISCARD and WATCH/UNWATCH, with Redis 7.0's semantics.

Queueing lives in node.core: while `c.multi` is a list, commands other than
EXEC/DISCARD/MULTI/WATCH/QUIT/RESET are checked (arity, OOM, READONLY, ...) and
queued; a refusal sets `c.multi_error`, and EXEC then aborts with EXECABORT.

EXEC runs the queue atomically (nothing here awaits) through Node.call, so each
command is counted, timed, fed to MONITOR and propagated as if sent alone; its
reply goes into the EXEC array, errors included. `c.in_exec` tells blocking
commands to answer at once with their timeout reply. What the transaction
propagates is held and sent as one MULTI ... EXEC block (Node.flush_exec_ops).

WATCH is optimistic locking: Database.modified (via its watcher hook) marks the
watching clients `dirty_cas`, and EXEC of a dirty client replies with a null
array. Redis 7.0 also treats a WATCHed key that expired since WATCH as touched;
each watch records whether the key was already expired when watched, in
db.watched[key][client], since an expired key's deletion is then no change.
"""

from .. import resp
from ..errors import CommandError
from .table import command

_EXECABORT = "EXECABORT Transaction discarded because of previous errors."


def discard_transaction(c):
    """Leave MULTI: forget the queue and its errors, and every WATCH (RESET uses it too)."""
    c.multi = None
    c.multi_error = False
    c.unwatch_all()


@command("multi", 1, "noscript loading stale fast allow_busy", group="transactions", summary="Start a transaction block", since="1.2.0")
def multi(c, argv):
    if c.multi is not None:
        raise CommandError("ERR MULTI calls can not be nested")
    c.multi = []
    c.multi_error = False
    return resp.OK


@command("discard", 1, "noscript loading stale fast allow_busy", group="transactions", summary="Discard all commands issued after MULTI", since="2.0.0")
def discard(c, argv):
    if c.multi is None:
        raise CommandError("ERR DISCARD without MULTI")
    discard_transaction(c)
    return resp.OK


@command("exec", 1, "noscript loading stale skip_slowlog", group="transactions", summary="Execute all commands issued after MULTI", since="1.2.0")
def exec_(c, argv):
    queue = c.multi
    if queue is None:
        raise CommandError("ERR EXEC without MULTI")
    refusal = _refusal(c, queue)
    if refusal:
        discard_transaction(c)
        raise CommandError("EXECABORT Transaction discarded because of: " + refusal)
    if c.multi_error:
        discard_transaction(c)
        raise CommandError(_EXECABORT)
    if c.dirty_cas or _watched_key_expired(c):
        discard_transaction(c)
        return resp.NULL_ARRAY
    discard_transaction(c)
    return resp.Raw(_run(c, queue))


def _refusal(c, queue):
    """Redis checks EXEC as the sum of what it queued: over maxmemory with a
    denyoom command queued, or a write queued on a node that now refuses
    writes (it became a read-only replica since), the whole EXEC is refused."""
    node = c.node
    if node.config.values["maxmemory"] and node.eviction is not None and any(cmd.denyoom for cmd, _ in queue):
        if not node.eviction.make_room():
            return "OOM command not allowed when used memory > 'maxmemory'."
    if node.write_checks:
        for cmd, _ in queue:
            if cmd.is_write:
                return node.refuse_write(c, cmd)
    return None


def _run(c, queue) -> bytes:
    """Run the queued commands; the encoded EXEC array of their replies."""
    node = c.node
    saved_out = c.out
    c.out = replies = []
    c.in_exec = True
    node.exec_ops = []
    try:
        for cmd, argv in queue:
            node.call(c, cmd, argv)
            if c.blocked is not None:
                # A blocking command that ignored in_exec: answer as its timeout would.
                replies.append(node.timeout_block(c))
    finally:
        c.in_exec = False
        c.out = saved_out
        node.flush_exec_ops()
    return b"*%d\r\n" % len(queue) + b"".join(replies)


# ---- WATCH ---------------------------------------------------------------


@command("watch", -2, "noscript loading stale fast allow_busy", 1, -1, 1, group="transactions", summary="Watch the given keys to determine execution of the MULTI/EXEC block", since="2.2.0")
def watch(c, argv):
    if c.multi is not None:
        raise CommandError("ERR WATCH inside MULTI is not allowed")
    # No point watching more: the next EXEC fails anyway.
    if c.dirty_cas:
        return resp.OK
    db = c.db
    for key in argv[1:]:
        clients = db.watched.get(key)
        if clients is None:
            clients = db.watched[key] = {}
        elif c in clients:
            continue
        clients[c] = db.key_is_expired(key)
        c.watched.append((db, key))
    return resp.OK


@command("unwatch", 1, "noscript loading stale fast allow_busy", group="transactions", summary="Forget about all watched keys", since="2.2.0")
def unwatch(c, argv):
    c.unwatch_all()
    return resp.OK


def _watched_key_expired(c) -> bool:
    """Redis's isWatchedKeyExpired: a key live when WATCHed that has expired since
    (but not yet been deleted, which would have touched it) fails the EXEC."""
    for db, key in c.watched:
        if not db.watched.get(key, {}).get(c, True) and db.key_is_expired(key):
            return True
    return False
