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

A ZSet records its own state (`compact`), one-way like Redis's conversion.
For the other types the answer is computed from the value's current contents:
Redis's conversions are one-way, so a hash or set that grew past a threshold
and shrank back reports the compact encoding here but the general one in
Redis; likewise a short string built by APPEND or SETRANGE is "raw" in Redis
and "embstr" here.
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


def encoding_of(value, cfg) -> str:
    """OBJECT ENCODING's answer for a stored value; cfg is Config.values."""
    cls = value.__class__
    if cls is bytes:
        return string_encoding(value)
    if cls is ListValue:
        return "quicklist"
    if cls is HashValue:
        return _hash_encoding(value, cfg)
    if cls is SetValue:
        return _set_encoding(value, cfg)
    return _zset_encoding(value, cfg)


def string_encoding(value: bytes) -> str:
    if is_int64(value):
        return "int"
    return "embstr" if len(value) <= _EMBSTR_MAX else "raw"


def _hash_encoding(value, cfg) -> str:
    if len(value) > cfg["hash-max-listpack-entries"]:
        return "hashtable"
    limit = cfg["hash-max-listpack-value"]
    for field, item in value.items():
        if len(field) > limit or len(item) > limit:
            return "hashtable"
    return "listpack"


def _set_encoding(value, cfg) -> str:
    if len(value) > min(cfg["set-max-intset-entries"], _INTSET_HARD_MAX):
        return "hashtable"
    for member in value:
        if not is_int64(member):
            return "hashtable"
    return "intset"


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
