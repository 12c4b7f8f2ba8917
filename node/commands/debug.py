"""DEBUG: the subcommands that mean something for this server.

HELP, OBJECT, SLEEP, SET-ACTIVE-EXPIRE, POPULATE, DIGEST, DIGEST-VALUE,
PROTOCOL, RELOAD, ERROR and LOG behave as in Redis 7.0. The rest of Redis's DEBUG
(memory allocator, encodings we do not have, crashes, LOADAOF) answers
Redis's unknown-subcommand error.

DEBUG DIGEST uses Redis's algorithm, so a dataset gives the same digest here
and in Redis: each value is hashed from its elements (ordered types by chaining
SHA1, unordered ones by XOR), mixed with its key, and XORed into the total.
"""

import hashlib
import math
import re
import time

from .. import resp
from ..encoding import key_encoding, refcount_of
from ..errors import CommandError
from ..keyspace import HashValue, ListValue, SetValue, as_string
from ..persistence.rdb import RDBError, encode_value
from ..resp import OK, Raw, Verbatim
from .args import parse_int
from .connection import help_reply, shown
from .table import command

_NOT_ALLOWED = (
    "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", "
    "you can run it from a local connection, otherwise you need to set this option in the "
    "configuration file, and then restart the server."
)


def _allowed(c) -> bool:
    setting = c.node.config["enable-debug-command"]
    if setting == "local":
        host = c.addr.rsplit(":", 1)[0]
        return host in ("127.0.0.1", "::1") or host.startswith("/") or not c.addr
    return setting == "yes"


@command("debug", -2, "admin noscript loading stale", group="server", summary="A container for debugging commands")
def debug(c, argv):
    if not _allowed(c):
        raise CommandError(_NOT_ALLOWED)
    entry = _SUBCOMMANDS.get(argv[1].lower())
    if entry is None or not entry[0](len(argv)):
        raise CommandError("ERR unknown subcommand or wrong number of arguments for '%s'. Try DEBUG HELP." % shown(argv[1][:128]))
    return entry[1](c, argv)


# ---- OBJECT ----------------------------------------------------------------------


def debug_object(c, argv):
    """Low-level facts about a value. serializedlength is its size in this server's RDB
    encoding; lists have no quicklist here, so the ql_* fields are not shown."""
    key = argv[2]
    value = as_string(c.db.data.get(key))  # logically expired keys too, as Redis's dictFind
    if value is None:
        raise CommandError("ERR no such key")
    cfg = c.node.config.values
    space = c.db.space
    access = c.db.access.get(key, space.lru_clock)
    return resp.simple(
        "Value at:0x%x refcount:%d encoding:%s serializedlength:%d lru:%d lru_seconds_idle:%d"
        % (id(value), refcount_of(value, cfg), key_encoding(c.db, key, value, cfg), len(encode_value(value)[1]), access & 0xFFFFFF, max(0, space.lru_clock - access))
    )


# ---- SLEEP, SET-ACTIVE-EXPIRE, LOG, ERROR --------------------------------------------

_STRTOD_PREFIX = re.compile(rb"\s*[+-]?(inf(inity)?|nan|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)", re.I)
_ATOI_PREFIX = re.compile(rb"\s*[+-]?\d+")


def c_strtod(raw: bytes) -> float:
    """C's strtod: the longest numeric prefix, 0 when there is none."""
    m = _STRTOD_PREFIX.match(raw)
    return float(m.group(0)) if m else 0.0


def c_atoi(raw: bytes) -> int:
    m = _ATOI_PREFIX.match(raw)
    return int(m.group(0)) if m else 0


def debug_sleep(c, argv):
    """Stop the whole server, as Redis does: this runs inside the event loop on purpose."""
    usec = c_strtod(argv[2]) * 1_000_000
    # Redis's nanosleep refuses negative and non-finite durations: no sleep at all.
    if math.isfinite(usec) and usec > 0:
        time.sleep(int(usec) / 1_000_000)
    return OK


def debug_set_active_expire(c, argv):
    c.node.keyspace.active_expire_enabled = c_atoi(argv[2]) != 0
    return OK


def debug_log(c, argv):
    if c.node.log is not None:
        c.node.log.warning("DEBUG LOG: %s" % argv[2].decode("utf-8", "replace"))
    return OK


def debug_error(c, argv):
    raise CommandError(shown(argv[2]))


# ---- POPULATE ------------------------------------------------------------------


def _positive(raw: bytes) -> int:
    try:
        value = parse_int(raw)
    except CommandError:
        value = -1
    if value < 0:
        raise CommandError("ERR value is out of range, must be positive")
    return value


def debug_populate(c, argv):
    """Create key:0..key:N-1 (or <prefix>:N) holding value:N, skipping existing keys.
    Not propagated, and not counted as changes for save points (Redis's dbAdd)."""
    count = _positive(argv[2])
    size = _positive(argv[4]) if len(argv) == 5 else 0
    prefix = argv[3] if len(argv) >= 4 else b"key"
    db = c.db
    dirty = db.space.dirty
    for j in range(count):
        key = (b"%s:%d" % (prefix, j))[:127]  # Redis formats into a 128-byte buffer
        if db.lookup(key) is not None:
            continue
        value = b"value:%d" % j
        if size:
            value = value[:size].ljust(size, b"\0")
        db.set(key, value)
    db.space.dirty = dirty
    return OK


# ---- DIGEST, DIGEST-VALUE ------------------------------------------------------------

_ZERO = bytes(20)
_TYPE_CODES = {bytes: 0, ListValue: 1, SetValue: 2, HashValue: 4}  # anything else is a zset (3)


def _sha1(data: bytes) -> bytes:
    return hashlib.sha1(data).digest()


def _xor(digest: bytes, data: bytes) -> bytes:
    """Redis's xorDigest: XOR in the SHA1 of data (order does not matter)."""
    return (int.from_bytes(digest, "big") ^ int.from_bytes(_sha1(data), "big")).to_bytes(20, "big")


def _mix(digest: bytes, data: bytes) -> bytes:
    """Redis's mixDigest: XOR in, then hash the result (order matters)."""
    return _sha1(_xor(digest, data))


def value_digest(db, key, value, digest: bytes = _ZERO) -> bytes:
    """Redis's xorObjectDigest, continuing from digest."""
    cls = value.__class__
    digest = _mix(digest, _TYPE_CODES.get(cls, 3).to_bytes(4, "big"))
    if cls is bytes:
        digest = _mix(digest, value)
    elif cls is ListValue:
        for item in value:
            digest = _mix(digest, item)
    elif cls is SetValue:
        for member in value:
            digest = _xor(digest, member)
    elif cls is HashValue:
        for field, item in value.items():
            digest = _xor(digest, _mix(_mix(_ZERO, field), item))
    else:
        for member, score in value.items():
            digest = _xor(digest, _mix(_mix(_ZERO, member), b"%.17g" % score))
    if key in db.expires:
        digest = _xor(digest, b"!!expire!!")
    return digest


def dataset_digest(keyspace) -> bytes:
    final = _ZERO
    for index, db in enumerate(keyspace.dbs):
        if not db.data:
            continue
        final = _mix(final, index.to_bytes(4, "big"))
        for key, value in db.data.items():
            final = _xor(final, value_digest(db, key, as_string(value), _mix(_ZERO, key)))
    return final


def debug_digest(c, argv):
    return resp.simple(dataset_digest(c.node.keyspace).hex())


def debug_digest_value(c, argv):
    db = c.db
    digests = []
    for key in argv[2:]:
        value = as_string(db.data.get(key))  # expired or not, as Redis's dictFind
        digests.append(value_digest(db, key, value) if value is not None else _ZERO)
    return Raw(b"*%d\r\n" % len(digests) + b"".join(b"+%s\r\n" % d.hex().encode() for d in digests))


# ---- RELOAD --------------------------------------------------------------------


def debug_reload(c, argv):
    """Save the RDB file and load it back (NOSAVE: just load it; NOFLUSH: over the current
    data, where keys from the file replace existing ones, as with MERGE). A file that does
    not load leaves the data as it was."""
    flush = save = True
    for raw in argv[2:]:
        option = raw.lower()
        if option == b"noflush":
            flush = False
        elif option == b"nosave":
            save = False
        elif option != b"merge":
            raise CommandError("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
    persistence = c.node.persistence
    if persistence is None or (save and not persistence.snapshots.save(force=True)):
        raise CommandError("ERR")  # Redis's reply when the save fails
    try:
        loaded = persistence.snapshots.load(replace=flush)
    except (RDBError, OSError) as e:
        if c.node.log is not None:
            c.node.log.warning("DEBUG RELOAD: %s" % e)
        loaded = False
    if not loaded:
        raise CommandError("ERR Error trying to load the RDB dump, check server logs.")
    if c.node.log is not None:
        c.node.log.warning("DB reloaded by DEBUG RELOAD")
    return OK


# ---- PROTOCOL --------------------------------------------------------------------

_AFTER_ATTRIBUTE = b"$39\r\nSome real reply following the attribute\r\n"
_AFTER_PUSH = b"$40\r\nSome real reply following the push reply\r\n"
_BIGNUM = b"1234567999999999999999999999999999999"


def _protocol_reply(name: bytes, resp3: bool):
    """DEBUG PROTOCOL's sample of each reply type, in the client's protocol."""
    if name == b"string":
        return b"Hello World"
    if name == b"integer":
        return 12345
    if name == b"double":
        return 3.141
    if name == b"bignum":
        return Raw(b"(%s\r\n" % _BIGNUM) if resp3 else _BIGNUM
    if name == b"null":
        return None
    if name == b"array":
        return [0, 1, 2]
    if name == b"set":
        return Raw(b"~3\r\n:0\r\n:1\r\n:2\r\n") if resp3 else [0, 1, 2]
    if name == b"map":
        return {0: False, 1: True, 2: False}
    if name == b"attrib":
        attribute = b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n" if resp3 else b""
        return Raw(attribute + _AFTER_ATTRIBUTE)
    if name == b"push":
        if not resp3:
            raise CommandError("ERR RESP2 is not supported by this command")
        return Raw(b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n" + _AFTER_PUSH)
    if name == b"verbatim":
        return Verbatim(b"This is a verbatim\nstring")
    if name in (b"true", b"false"):
        return name == b"true"
    raise CommandError(
        "ERR Wrong protocol type name. Please use one of the following: "
        "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"
    )


def debug_protocol(c, argv):
    return _protocol_reply(argv[2].lower(), c.resp3)


# ---- HELP and the table ------------------------------------------------------------

_HELP = help_reply("DEBUG", [
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load;",
    "      conflicting keys are loaded from RDB, as with MERGE.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
])


def debug_help(c, argv):
    return _HELP


def _exactly(n):
    return lambda argc: argc == n


# name -> (accepts this argument count, function); counts include DEBUG and the name.
_SUBCOMMANDS = {
    b"help": (_exactly(2), debug_help),
    b"object": (_exactly(3), debug_object),
    b"sleep": (_exactly(3), debug_sleep),
    b"set-active-expire": (_exactly(3), debug_set_active_expire),
    b"log": (_exactly(3), debug_log),
    b"error": (_exactly(3), debug_error),
    b"populate": (lambda argc: 3 <= argc <= 5, debug_populate),
    b"digest": (_exactly(2), debug_digest),
    b"digest-value": (lambda argc: argc >= 2, debug_digest_value),
    b"protocol": (_exactly(3), debug_protocol),
    b"reload": (lambda argc: argc >= 2, debug_reload),
}
