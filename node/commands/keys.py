"""Generic key commands: existence, type, iteration, renaming, copying, expiry, OBJECT.

Lookups follow Redis's flavours: commands that read a key as data use
`db.lookup` (records the access for LRU/LFU), the ones that only inspect it
(EXISTS, TYPE, TTL, OBJECT, SCAN's filters) use `db.peek`. Both expire a
logically expired key on a master and only hide it on a replica.
"""

import re

from .. import resp
from ..encoding import key_encoding, refcount_of
from ..errors import CommandError, DB_INDEX, INVALID_EXPIRE, NO_SUCH_KEY, SYNTAX
from ..glob import compile_pattern
from ..keyspace import HashValue, ListValue, SetValue, type_name
from ..scan import scan as scan_items
from .args import INT64_MAX, INT64_MIN, parse_int
from .keys_meta import DOCS, KEY_SPECS, MULTI_KEY_TIPS
from .table import command, run_subcommand, subcommand

_SAME_OBJECT = "ERR source and destination objects are the same"
_INT32_MIN, _INT32_MAX = -(1 << 31), (1 << 31) - 1
_TYPE_REPLIES = {name: resp.simple(name) for name in ("string", "list", "set", "zset", "hash", "none")}


def _sanitize(raw: bytes) -> str:
    """An argument quoted in an error text: Redis turns CR and LF into spaces there."""
    return raw.decode("utf-8", "replace").replace("\r", " ").replace("\n", " ")


def _db_index(c, raw: bytes):
    """The Database a DB argument names (getIntFromObjectOrReply, then selectDb)."""
    index = parse_int(raw)
    if not _INT32_MIN <= index <= _INT32_MAX:
        raise CommandError("ERR value is out of range, value must between -2147483648 and 2147483647")
    dbs = c.node.keyspace.dbs
    if not 0 <= index < len(dbs):
        raise CommandError(DB_INDEX)
    return dbs[index]


# ---- existence and type ---------------------------------------------------


@command("del", -2, "write", 1, -1, 1, group="generic", summary="Delete a key", key_flags="RM delete", tips=MULTI_KEY_TIPS, docs=DOCS["del"])
def del_cmd(c, argv):
    return _delete_keys(c.db, argv)


@command("unlink", -2, "write fast", 1, -1, 1, group="generic", since="4.0.0", summary="Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.", key_flags="RM delete", tips=MULTI_KEY_TIPS, docs=DOCS["unlink"])
def unlink_cmd(c, argv):
    return _delete_keys(c.db, argv)


def _delete_keys(db, argv) -> int:
    if db.space.is_replica:
        # The master's DEL also removes a key this replica only hides as expired.
        return sum(1 for key in argv[1:] if db.delete(key))
    deleted = 0
    for key in argv[1:]:
        # A logically expired key is expired (and propagated as such), not deleted.
        if db.peek(key) is not None:
            db.delete(key)
            deleted += 1
    return deleted


@command("exists", -2, "readonly fast", 1, -1, 1, group="generic", summary="Determine if a key exists", key_flags="RO", tips=MULTI_KEY_TIPS, docs=DOCS["exists"])
def exists_cmd(c, argv):
    peek = c.db.probe
    # A key named twice counts twice.
    return sum(1 for key in argv[1:] if peek(key) is not None)


@command("touch", -2, "readonly fast", 1, -1, 1, group="generic", since="3.2.1", summary="Alters the last access time of a key(s). Returns the number of existing keys specified.", key_flags="RO", tips=MULTI_KEY_TIPS, docs=DOCS["touch"])
def touch_cmd(c, argv):
    lookup = c.db.lookup
    return sum(1 for key in argv[1:] if lookup(key) is not None)


@command("type", 2, "readonly fast", 1, 1, 1, group="generic", summary="Determine the type stored at key", key_flags="RO", docs=DOCS["type"])
def type_cmd(c, argv):
    value = c.db.probe(argv[1])
    return _TYPE_REPLIES["none" if value is None else type_name(value)]


# ---- iteration ------------------------------------------------------------


@command("keys", 2, "readonly", 0, 0, 0, group="generic", summary="Find all keys matching the given pattern", acl="keyspace dangerous", tips="request_policy:all_shards nondeterministic_output_order", docs=DOCS["keys"])
def keys_cmd(c, argv):
    db = c.db
    pattern = argv[1]
    if pattern == b"*":
        found = list(db.data)
    else:
        match = compile_pattern(pattern).match
        found = [key for key in db.data if match(key)]
    if db.expires and found:
        # Expired keys are skipped, not deleted (Redis's keyIsExpired).
        expires, now = db.expires, db.space.clock()
        found = [key for key in found if expires.get(key, INT64_MAX) > now]
    return found


_CURSOR = re.compile(rb"[+-]?[0-9]*\Z")
_ULONG = 1 << 64


def parse_cursor(raw: bytes) -> int:
    """A SCAN cursor as Redis reads it with strtoul: sign allowed, wraps negatives,
    empty means 0, no spaces, at most 2**64-1."""
    raw = raw.split(b"\0", 1)[0]
    if not _CURSOR.match(raw) or raw in (b"+", b"-"):
        raise CommandError("ERR invalid cursor")
    value = int(raw) if raw else 0
    if abs(value) >= _ULONG:
        raise CommandError("ERR invalid cursor")
    return value % _ULONG


def parse_scan_options(argv, start: int, allow_type: bool):
    """(count, pattern or None, type name or None) from SCAN-family options."""
    count, pattern, type_filter = 10, None, None
    i, n = start, len(argv)
    while i < n:
        opt = argv[i].lower()
        if i + 1 >= n:
            raise CommandError(SYNTAX)
        if opt == b"count":
            count = parse_int(argv[i + 1])
            if count < 1:
                raise CommandError(SYNTAX)
        elif opt == b"match":
            pattern = None if argv[i + 1] == b"*" else argv[i + 1]
        elif opt == b"type" and allow_type:
            type_filter = argv[i + 1].decode("latin-1").lower()
        else:
            raise CommandError(SYNTAX)
        i += 2
    return count, pattern, type_filter


@command("scan", -2, "readonly", 0, 0, 0, group="generic", since="2.8.0", summary="Incrementally iterate the keys space", tips="nondeterministic_output request_policy:special", docs=DOCS["scan"])
def scan_cmd(c, argv):
    cursor = parse_cursor(argv[1])
    count, pattern, type_filter = parse_scan_options(argv, 2, True)
    db = c.db
    cursor, batch = scan_items(db.data, cursor, count)
    if pattern is not None:
        match = compile_pattern(pattern).match
        batch = [key for key in batch if match(key)]
    found = []
    # The TYPE filter reads each key as a lookup that counts a hit or miss, as in Redis.
    look = db.peek if type_filter is None else db.probe
    for key in batch:
        value = look(key)
        if value is not None and (type_filter is None or type_name(value) == type_filter):
            found.append(key)
    return [b"%d" % cursor, found]


@command("randomkey", 1, "readonly", 0, 0, 0, group="generic", summary="Return a random key from the keyspace", tips="request_policy:all_shards nondeterministic_output", docs=DOCS["randomkey"])
def randomkey_cmd(c, argv):
    db = c.db
    replica = db.space.is_replica
    tries = 100
    while True:
        picks = db.random_keys(1)
        if not picks:
            return None
        key = picks[0]
        if key not in db.expires or db.peek(key) is not None:
            return key
        # On a master peek deleted the expired pick; a replica only hides it, and
        # when every key is volatile all may be expired: give up after 100 tries.
        if replica and len(db.expires) == len(db.data):
            tries -= 1
            if tries == 0:
                return key


# ---- renaming, copying, moving -------------------------------------------


@command("rename", 3, "write", 1, 2, 1, group="generic", summary="Rename a key", key_specs=KEY_SPECS["rename"], docs=DOCS["rename"])
def rename_cmd(c, argv):
    _rename(c.db, argv[1], argv[2], False)
    return resp.OK


@command("renamenx", 3, "write fast", 1, 2, 1, group="generic", summary="Rename a key, only if the new key does not exist", key_specs=KEY_SPECS["renamenx"], docs=DOCS["renamenx"])
def renamenx_cmd(c, argv):
    return 1 if _rename(c.db, argv[1], argv[2], True) else 0


def _rename(db, src, dst, nx: bool) -> bool:
    """Move src's value and TTL to dst. False when nx and dst exists, or src is dst."""
    value = db.lookup(src)
    if value is None:
        raise CommandError(NO_SUCH_KEY)
    if src == dst:
        # Redis 7: renaming a key to itself changes nothing (RENAMENX replies 0).
        return False
    if db.lookup(dst) is not None:
        if nx:
            return False
        db.delete(dst)
    _relocate(db, src, db, dst, value)
    return True


def _relocate(src_db, src, dst_db, dst, value):
    """Store value at dst with src's TTL and LFU counter, then remove src (RENAME, MOVE:
    Redis moves the object itself, and its access data with it)."""
    expire = src_db.expires.get(src)
    dst_db.set(dst, value)
    if expire is not None:
        dst_db.set_expire(dst, expire)
    _keep_string_encoding(src_db, src, dst_db, dst)
    counter = src_db.freq.get(src)
    if counter is not None:
        dst_db.freq[dst] = counter
        dst_db.freq_time[dst] = src_db.freq_time.get(src, 0)
    src_db.delete(src)


@command("copy", -3, "write denyoom", 1, 2, 1, group="generic", since="6.2.0", summary="Copy a key", key_specs=KEY_SPECS["copy"], docs=DOCS["copy"])
def copy_cmd(c, argv):
    src_db = dst_db = c.db
    replace = False
    i = 3
    while i < len(argv):
        opt = argv[i].lower()
        if opt == b"replace":
            replace = True
        elif opt == b"db" and i + 1 < len(argv):
            i += 1
            dst_db = _db_index(c, argv[i])
        else:
            raise CommandError(SYNTAX)
        i += 1
    key, newkey = argv[1], argv[2]
    if src_db is dst_db and key == newkey:
        raise CommandError(_SAME_OBJECT)
    value = src_db.lookup_read(key)  # COPY reads its source as Redis's lookupKeyRead
    if value is None:
        return 0
    if dst_db.lookup(newkey) is not None:
        if not replace:
            return 0
        dst_db.delete(newkey)
    expire = src_db.expires.get(key)
    dst_db.set(newkey, duplicate(value))
    if expire is not None:
        dst_db.set_expire(newkey, expire)
    _keep_string_encoding(src_db, key, dst_db, newkey)
    return 1


def _keep_string_encoding(src_db, src, dst_db, dst):
    """RENAME, MOVE and COPY keep a string's encoding (Redis moves or duplicates the object)."""
    if src_db.str_encodings:
        how = src_db.str_encodings.get(src)
        if how is not None:
            dst_db.str_encodings[dst] = how


def duplicate(value):
    """A deep copy: collections are mutated in place, so the copy must not share them.
    Their elements are bytes, immutable, so one level of copying is deep enough.
    The copy keeps the original's encoding, as Redis's dup functions do."""
    cls = value.__class__
    if cls is bytes or cls is int:  # (int: a counter, node.keyspace)
        return value
    if cls is ListValue:
        return cls(value)
    if cls is HashValue or cls is SetValue:
        copy = cls(value)
        copy.big = value.big
        return copy
    return value.copy()


@command("move", 3, "write fast", 1, 1, 1, group="generic", summary="Move a key to another database", docs=DOCS["move"])
def move_cmd(c, argv):
    src_db = c.db
    dst_db = _db_index(c, argv[2])
    if dst_db is src_db:
        raise CommandError(_SAME_OBJECT)
    key = argv[1]
    value = src_db.lookup(key)
    if value is None or dst_db.lookup(key) is not None:
        return 0
    _relocate(src_db, key, dst_db, key, value)
    return 1


# ---- expiry ---------------------------------------------------------------

_NX, _XX, _GT, _LT = 1, 2, 4, 8
_EXPIRE_OPTIONS = {b"nx": _NX, b"xx": _XX, b"gt": _GT, b"lt": _LT}
# C's LLONG_MAX / 1000 and LLONG_MIN / 1000 (truncated toward zero).
_SECONDS_MAX = INT64_MAX // 1000
_SECONDS_MIN = -(-INT64_MIN // 1000)


def _expire_options(argv) -> int:
    flags = 0
    for raw in argv[3:]:
        bit = _EXPIRE_OPTIONS.get(raw.lower())
        if bit is None:
            raise CommandError("ERR Unsupported option %s" % _sanitize(raw))
        flags |= bit
    if flags & _NX and flags & (_XX | _GT | _LT):
        raise CommandError("ERR NX and XX, GT or LT options at the same time are not compatible")
    if flags & _GT and flags & _LT:
        raise CommandError("ERR GT and LT options at the same time are not compatible")
    return flags


def _refused_by_options(flags: int, current, when: int) -> bool:
    """NX/XX/GT/LT against the current deadline (None = persistent, an infinite TTL)."""
    if flags & _NX and current is not None:
        return True
    if flags & _XX and current is None:
        return True
    if flags & _GT and (current is None or when <= current):
        return True
    return bool(flags & _LT and current is not None and when >= current)


def _expire_generic(c, argv, name: str, relative: bool, unit_ms: int):
    """EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT (Redis's expireGenericCommand)."""
    flags = _expire_options(argv) if len(argv) > 3 else 0
    when = parse_int(argv[2])
    if unit_ms == 1000:
        if not _SECONDS_MIN <= when <= _SECONDS_MAX:
            raise CommandError(INVALID_EXPIRE % name)
        when *= 1000
    space = c.db.space
    if relative:
        now = space.clock()
        if when > INT64_MAX - now:
            raise CommandError(INVALID_EXPIRE % name)
        when += now
    db, key = c.db, argv[1]
    if db.lookup(key) is None:
        return 0
    if flags and _refused_by_options(flags, db.expires.get(key), when):
        return 0
    if when <= space.clock() and not space.is_replica:
        # Already past: delete now and replicate a DEL. A replica keeps the
        # deadline and waits for its master's DEL.
        db.delete(key)
        verb = b"UNLINK" if c.node.config.values["lazyfree-lazy-expire"] else b"DEL"
        c.propagate_as = [[verb, key]]
        return 1
    db.set_expire(key, when)
    if name != "pexpireat":
        c.propagate_as = [[b"PEXPIREAT", key, b"%d" % when] + argv[3:]]
    return 1


@command("expire", -3, "write fast", 1, 1, 1, group="generic", summary="Set a key's time to live in seconds", key_flags="RW update", docs=DOCS["expire"])
def expire_cmd(c, argv):
    return _expire_generic(c, argv, "expire", True, 1000)


@command("pexpire", -3, "write fast", 1, 1, 1, group="generic", since="2.6.0", summary="Set a key's time to live in milliseconds", key_flags="RW update", docs=DOCS["pexpire"])
def pexpire_cmd(c, argv):
    return _expire_generic(c, argv, "pexpire", True, 1)


@command("expireat", -3, "write fast", 1, 1, 1, group="generic", since="1.2.0", summary="Set the expiration for a key as a UNIX timestamp", key_flags="RW update", docs=DOCS["expireat"])
def expireat_cmd(c, argv):
    return _expire_generic(c, argv, "expireat", False, 1000)


@command("pexpireat", -3, "write fast", 1, 1, 1, group="generic", since="2.6.0", summary="Set the expiration for a key as a UNIX timestamp specified in milliseconds", key_flags="RW update", docs=DOCS["pexpireat"])
def pexpireat_cmd(c, argv):
    return _expire_generic(c, argv, "pexpireat", False, 1)


def _ttl_generic(c, key, absolute: bool, in_ms: bool) -> int:
    """-2 when missing, -1 when persistent, else the TTL or deadline (seconds rounded)."""
    db = c.db
    if db.probe(key) is None:
        return -2
    when = db.expires.get(key)
    if when is None:
        return -1
    ttl = when if absolute else when - db.space.clock()
    if ttl < 0:
        ttl = 0
    return ttl if in_ms else (ttl + 500) // 1000


@command("ttl", 2, "readonly fast", 1, 1, 1, group="generic", summary="Get the time to live for a key in seconds", tips="nondeterministic_output", docs=DOCS["ttl"])
def ttl_cmd(c, argv):
    return _ttl_generic(c, argv[1], False, False)


@command("pttl", 2, "readonly fast", 1, 1, 1, group="generic", since="2.6.0", summary="Get the time to live for a key in milliseconds", tips="nondeterministic_output", docs=DOCS["pttl"])
def pttl_cmd(c, argv):
    return _ttl_generic(c, argv[1], False, True)


@command("expiretime", 2, "readonly fast", 1, 1, 1, group="generic", since="7.0.0", summary="Get the expiration Unix timestamp for a key", docs=DOCS["expiretime"])
def expiretime_cmd(c, argv):
    return _ttl_generic(c, argv[1], True, False)


@command("pexpiretime", 2, "readonly fast", 1, 1, 1, group="generic", since="7.0.0", summary="Get the expiration Unix timestamp for a key in milliseconds", docs=DOCS["pexpiretime"])
def pexpiretime_cmd(c, argv):
    return _ttl_generic(c, argv[1], True, True)


@command("persist", 2, "write fast", 1, 1, 1, group="generic", since="2.2.0", summary="Remove the expiration from a key", key_flags="RW update", docs=DOCS["persist"])
def persist_cmd(c, argv):
    db = c.db
    if db.lookup(argv[1]) is None:
        return 0
    return 1 if db.persist(argv[1]) else 0


# ---- OBJECT ---------------------------------------------------------------

_OBJECT_HELP = [
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
]
_OBJECT_HELP_REPLY = resp.Raw(b"*%d\r\n" % len(_OBJECT_HELP) + b"".join(resp.simple(line) for line in _OBJECT_HELP))
_SWITCH_NOTE = "Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
_NO_LFU = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. " + _SWITCH_NOTE
_LFU_NO_IDLE = "ERR An LFU maxmemory policy is selected, idle time not tracked. " + _SWITCH_NOTE


def _object_value(c, argv):
    """OBJECT looks without touching: its answer must not change the access data."""
    return c.db.probe(argv[2])


def object_encoding(c, argv):
    value = _object_value(c, argv)
    return None if value is None else key_encoding(c.db, argv[2], value, c.node.config.values).encode()


def object_refcount(c, argv):
    value = _object_value(c, argv)
    return None if value is None else refcount_of(value, c.node.config.values)


def object_freq(c, argv):
    if _object_value(c, argv) is None:
        return None
    if not c.node.config.values["maxmemory-policy"].endswith("lfu"):
        raise CommandError(_NO_LFU)
    return c.db.space.lfu_frequency(c.db, argv[2])


def object_idletime(c, argv):
    if _object_value(c, argv) is None:
        return None
    if c.node.config.values["maxmemory-policy"].endswith("lfu"):
        raise CommandError(_LFU_NO_IDLE)
    space = c.db.space
    return max(0, space.lru_clock - c.db.access.get(argv[2], space.lru_clock))


def object_help(c, argv):
    return _OBJECT_HELP_REPLY


@command("object", -2, "", 0, 0, 0, group="generic", since="2.2.3", summary="A container for object introspection commands", docs=DOCS["object"])
def object_cmd(c, argv):
    return run_subcommand(c, argv)


# Registered in the order Redis lists them (its dict order), so COMMAND output matches.
_OBJECT_SUBCOMMANDS = [
    ("encoding", object_encoding, "2.2.3", "Inspect the internal encoding of a Redis object"),
    ("help", object_help, "6.2.0", "Show helpful text about the different subcommands"),
    ("refcount", object_refcount, "2.2.3", "Get the number of references to the value of the key"),
    ("freq", object_freq, "4.0.0", "Get the logarithmic access frequency counter of a Redis object"),
    ("idletime", object_idletime, "2.2.3", "Get the time since a Redis object was last accessed"),
]
for _name, _fn, _since, _summary in _OBJECT_SUBCOMMANDS:
    if _name == "help":
        subcommand("object", _name, 2, "loading stale", summary=_summary, since=_since, fn=_fn, acl="keyspace", docs=DOCS["object|help"])
    else:
        subcommand("object", _name, 3, "readonly", 2, 2, 1, summary=_summary, since=_since, fn=_fn, key_flags="RO", tips="nondeterministic_output", docs=DOCS["object|key"])
