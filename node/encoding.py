"""The internal encoding Redis 7.0 would use for a value (OBJECT ENCODING, DEBUG OBJECT).

Redis keeps small values in compact encodings and converts them to the general
one once a size threshold (the *-max-* directives) is passed:

    string   int (canonical signed 64-bit integer), embstr (<= 44 bytes), raw
    list     quicklist, always in 7.0 (the listpack list encoding is 7.2's)
    hash     listpack while entries <= hash-max-listpack-entries and every field
             and value <= hash-max-listpack-value bytes, else hashtable
    set      intset while every member is an integer and members <=
             set-max-intset-entries, else hashtable (7.0 has no listpack sets)
    zset     listpack while entries <= zset-max-listpack-entries and every
             member <= zset-max-listpack-value bytes, else skiplist

Redis's conversions are one-way: a hash or set that grew past a threshold
keeps the general encoding when it shrinks back. The commands record that at
insertion time (`hash_grown`, `set_grown` set the value's `big` flag); a value
whose flag is still None (loaded from a dump) is judged by its contents, as
Redis's loader does, and settled before its first change. A ZSet records its
own state (`compact`).

Strings are judged by their contents (Redis's tryObjectEncoding) unless the
database records otherwise for the key (Database.str_encodings): APPEND and
SETRANGE leave a "raw" string, INCRBYFLOAT an "embstr" even when it looks
like an integer.
"""

from .keyspace import HashValue, ListValue, SetValue

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_EMBSTR_MAX = 44
_INTSET_HARD_MAX = 1 << 30  # intset's own limit, whatever the directive says
# Redis shares one object for each integer 0..9999 and reports this refcount for it.
SHARED_REFCOUNT = 2147483647
_SHARED_INTEGERS = 10000


def is_int64(raw: bytes) -> bool:
    """True if raw is a canonical signed 64-bit integer (Redis's string2ll)."""
    if not raw or len(raw) > 20:
        return False
    try:
        value = int(raw)
    except ValueError:
        return False
    # int() also takes spaces, '+', '_' and leading zeros; string2ll does not.
    return b"%d" % value == raw and _INT64_MIN <= value <= _INT64_MAX


def encoding_of(value, cfg, string_hint=None) -> str:
    """OBJECT ENCODING's answer for a stored value; cfg is Config.values, string_hint
    the key's entry in Database.str_encodings."""
    cls = value.__class__
    if cls is bytes:
        return string_hint or string_encoding(value)
    if cls is int:  # a counter (node.keyspace)
        return "int"
    if cls is ListValue:
        return "quicklist"
    if cls is HashValue:
        return "hashtable" if hash_is_big(value, cfg) else "listpack"
    if cls is SetValue:
        return "hashtable" if set_is_big(value, cfg) else "intset"
    return _zset_encoding(value, cfg)


def string_encoding(value: bytes) -> str:
    if is_int64(value):
        return "int"
    return "embstr" if len(value) <= _EMBSTR_MAX else "raw"


def key_encoding(db, key, value, cfg) -> str:
    """encoding_of for the value stored at key in db."""
    return encoding_of(value, cfg, db.str_encodings.get(key) if db.str_encodings else None)


def mark_string(db, key, value: bytes, how: str):
    """Record what a command left at key: "raw" (APPEND, SETRANGE) or "embstr"
    (INCRBYFLOAT: createStringObject, never an integer encoding)."""
    if how == "embstr":
        if not is_int64(value):
            return  # its contents already say embstr (or raw, past 44 bytes)
    db.str_encodings[key] = how


# ---- hashes and sets: one-way conversions ---------------------------------


def hash_is_big(h, cfg) -> bool:
    """Whether the hash has left listpack (settling a loaded one from its contents)."""
    big = h.big
    if big is None:
        big = h.big = not _hash_fits(h, h.items(), cfg)
    return big


def hash_grown(h, items, cfg):
    """After fields/values `items` were written into h (settled before the write):
    Redis converts when an entry is too long or there are too many."""
    h.big = not _hash_fits(h, items, cfg)


def _hash_fits(h, items, cfg) -> bool:
    if len(h) > cfg["hash-max-listpack-entries"]:
        return False
    limit = cfg["hash-max-listpack-value"]
    for item in items:
        if item.__class__ is tuple:
            if len(item[0]) > limit or len(item[1]) > limit:
                return False
        elif len(item) > limit:
            return False
    return True


def set_is_big(s, cfg) -> bool:
    """Whether the set has left intset (settling a loaded one from its contents)."""
    big = s.big
    if big is None:
        big = s.big = not _set_fits(s, s, cfg)
    return big


def set_grown(s, members, cfg):
    """After `members` were added to s (settled before): a non-integer or one member
    too many converts it."""
    s.big = not _set_fits(s, members, cfg)


def _set_fits(s, members, cfg) -> bool:
    if len(s) > min(cfg["set-max-intset-entries"], _INTSET_HARD_MAX):
        return False
    for member in members:
        if not is_int64(member):
            return False
    return True


def _zset_encoding(value, cfg) -> str:
    # A ZSet tracks its own listpack state: ZSCAN and -0 scores depend on it too.
    return "listpack" if value.compact else "skiplist"


def refcount_of(value, cfg) -> int:
    """OBJECT REFCOUNT: small integers are one shared object unless an LRU/LFU policy
    with maxmemory needs per-key access data (then every value is its own object)."""
    if value.__class__ is bytes and len(value) <= 4 and is_int64(value) and 0 <= int(value) < _SHARED_INTEGERS:
        policy = cfg["maxmemory-policy"]
        if not cfg["maxmemory"] or not (policy.endswith("lru") or policy.endswith("lfu")):
            return SHARED_REFCOUNT
    return 1
