"""Redis's RDB format, both ways, as Redis 7.0 writes and reads it (RDB version 10).

File layout: "REDIS0010", AUX fields (0xFA key value), per database SELECTDB
(0xFE n) and RESIZEDB (0xFB size expires), then entries: an optional
EXPIRETIME_MS (0xFC, 8 bytes little-endian), optional LRU/LFU hints (0xF8/0xF9),
a type byte, the key and the value; EOF (0xFF) and a CRC-64 of everything
before it (8 bytes little-endian; 0 means "not computed").

Writing follows Redis's choices where they matter for size: integer-encoded
short numbers, LZF for strings over 20 bytes, listpacks (LZF-compressed as a
whole) for hashes and sorted sets small enough to be listpacks in Redis,
intsets for small integer sets, and lists as quicklists of listpack nodes.

Reading loads every encoding Redis 7.0 writes or still accepts: integer and
LZF strings, ziplist, listpack, quicklist (1 and 2), intset and zipmap. The
whole file is parsed into fresh dictionaries and checked (structure, CRC,
duplicates) before anything reaches the keyspace: a bad file changes nothing.
Small plain strings, the bulk of most datasets, are parsed inline in the main
loop; everything else goes through one reader function per type.
"""

import gc
import heapq
import struct
from operator import itemgetter
from itertools import chain

from ..keyspace import HashValue, ListValue, SetValue
from . import lzf
from .crc64 import crc64

RDB_VERSION = 10
MAGIC = b"REDIS%04d" % RDB_VERSION

# Opcodes
OP_FUNCTION2 = 0xF5
OP_FUNCTION = 0xF6
OP_MODULE_AUX = 0xF7
OP_IDLE = 0xF8
OP_FREQ = 0xF9
OP_AUX = 0xFA
OP_RESIZEDB = 0xFB
OP_EXPIRETIME_MS = 0xFC
OP_EXPIRETIME = 0xFD
OP_SELECTDB = 0xFE
OP_EOF = 0xFF

# Value types
T_STRING, T_LIST, T_SET, T_ZSET, T_HASH, T_ZSET_2 = 0, 1, 2, 3, 4, 5
T_HASH_ZIPMAP, T_LIST_ZIPLIST, T_SET_INTSET, T_ZSET_ZIPLIST, T_HASH_ZIPLIST = 9, 10, 11, 12, 13
T_LIST_QUICKLIST, T_STREAM_LISTPACKS, T_HASH_LISTPACK, T_ZSET_LISTPACK, T_LIST_QUICKLIST_2 = 14, 15, 16, 17, 18
T_SET_LISTPACK = 20

ENC_INT8, ENC_INT16, ENC_INT32, ENC_LZF = 0, 1, 2, 3

_pack_ms = struct.Struct("<q").pack
_pack_double = struct.Struct("<d").pack
_unpack_q = struct.Struct("<q").unpack_from
_unpack_d = struct.Struct("<d").unpack_from

_INT_FIRST = frozenset(b"-0123456789")
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


class RDBError(ValueError):
    """A dump that fails its checksum or its parse; `offset` says where."""

    def __init__(self, reason: str, offset: int = -1):
        super().__init__("%s (at byte offset %d)" % (reason, offset) if offset >= 0 else reason)
        self.reason = reason
        self.offset = offset


def _int64(s: bytes):
    """The value of a canonical signed 64-bit integer string (Redis's string2ll), else None."""
    if not s or len(s) > 20 or s[0] not in _INT_FIRST:
        return None
    try:
        v = int(s)
    except ValueError:
        return None
    if b"%d" % v != s or not _INT64_MIN <= v <= _INT64_MAX:
        return None
    return v


# ---------------------------------------------------------------- writing: strings


def encode_length(n: int) -> bytes:
    if n < 64:
        return bytes((n,))
    if n < 16384:
        return bytes((0x40 | (n >> 8), n & 0xFF))
    if n <= 0xFFFFFFFF:
        return b"\x80" + n.to_bytes(4, "big")
    return b"\x81" + n.to_bytes(8, "big")


_LEN1 = [bytes((n,)) for n in range(64)]


def encode_string(s: bytes, compress: bool = False) -> bytes:
    """A string as Redis's rdbSaveRawString: integer-encoded when it is a short
    canonical integer, LZF-compressed over 20 bytes when asked and worth it."""
    n = len(s)
    if n <= 11 and n and s[0] in _INT_FIRST:
        v = _int64(s)
        if v is not None:
            if -128 <= v <= 127:
                return b"\xc0" + struct.pack("<b", v)
            if -32768 <= v <= 32767:
                return b"\xc1" + struct.pack("<h", v)
            if -(2**31) <= v <= 2**31 - 1:
                return b"\xc2" + struct.pack("<i", v)
    if compress and n > 20:
        packed = lzf.compress(s)
        if packed is not None:
            return b"\xc3" + encode_length(len(packed)) + encode_length(n) + packed
    if n < 64:
        return _LEN1[n] + s
    return encode_length(n) + s


# ---------------------------------------------------------------- writing: listpacks and intsets

_LP_STR6 = [bytes((0x80 | n,)) for n in range(64)]
_LP_BACK6 = [bytes((n + 1,)) for n in range(64)]


def _lp_backlen(size: int) -> bytes:
    """listpack's lpEncodeBacklen: the entry size, readable from its end."""
    if size <= 127:
        return bytes((size,))
    if size < 16383:
        return bytes((size >> 7, (size & 127) | 128))
    if size < 2097151:
        return bytes((size >> 14, ((size >> 7) & 127) | 128, (size & 127) | 128))
    if size < 268435455:
        return bytes((size >> 21, ((size >> 14) & 127) | 128, ((size >> 7) & 127) | 128, (size & 127) | 128))
    return bytes((size >> 28, ((size >> 21) & 127) | 128, ((size >> 14) & 127) | 128, ((size >> 7) & 127) | 128, (size & 127) | 128))


def _lp_entry(s: bytes) -> bytes:
    """One listpack entry (encoding, data, backlen) for any element, integers as Redis stores them."""
    v = _int64(s)
    if v is not None:
        if 0 <= v <= 127:
            body = bytes((v,))
        elif -4096 <= v <= 4095:
            u = v & 0x1FFF
            body = bytes((0xC0 | (u >> 8), u & 0xFF))
        elif -32768 <= v <= 32767:
            body = b"\xf1" + v.to_bytes(2, "little", signed=True)
        elif -(1 << 23) <= v < (1 << 23):
            body = b"\xf2" + v.to_bytes(3, "little", signed=True)
        elif -(1 << 31) <= v < (1 << 31):
            body = b"\xf3" + v.to_bytes(4, "little", signed=True)
        else:
            body = b"\xf4" + v.to_bytes(8, "little", signed=True)
    else:
        n = len(s)
        if n < 64:
            body = _LP_STR6[n] + s
        elif n < 4096:
            body = bytes((0xE0 | (n >> 8), n & 0xFF)) + s
        else:
            body = b"\xf0" + n.to_bytes(4, "little") + s
    return body + _lp_backlen(len(body))


def build_listpack(elements, max_len: int = -1):
    """A listpack of the elements (a list), or None when one is longer than max_len (when >= 0).

    Elements under 64 bytes are stored as 6-bit strings, even numbers (which
    Redis's lpAppend would store as integers): Redis reads, finds and compares
    string entries by their bytes, so both load the same, and building the
    whole listpack from tables in one join is what keeps saving fast."""
    lens = tuple(map(len, elements))
    known = _LP_FORMATS.get(lens)
    if known is not None:
        # A shape seen before (records of one schema): one %-format makes the whole listpack.
        if known[1] > max_len >= 0:
            return None
        return known[0] % tuple(elements)
    longest = max(lens, default=0)
    if longest > max_len >= 0:
        return None
    if longest >= 64:
        body = b"".join(map(_lp_entry, elements))
        return struct.pack("<IH", len(body) + 7, min(len(elements), 65535)) + body + b"\xff"
    heads = list(map(_LP_STR6.__getitem__, lens))
    tails = list(map(_LP_BACK6.__getitem__, lens))
    body = b"".join(chain.from_iterable(zip(heads, elements, tails)))
    header = struct.pack("<IH", len(body) + 7, min(len(elements), 65535))
    _learn_format(lens, longest, header, heads, tails)
    return header + body + b"\xff"


# Listpack shapes (element lengths, all under 64) -> (%-format of the whole
# listpack, longest element); a shape becomes a format the second time it is seen.
_LP_FORMATS = {}
_LP_SEEN = set()
_LP_CACHE_MAX = 4096


def _learn_format(lens, longest, header, heads, tails):
    if lens not in _LP_SEEN:
        if len(_LP_SEEN) >= _LP_CACHE_MAX:
            _LP_SEEN.clear()
        _LP_SEEN.add(lens)
        return
    if len(_LP_FORMATS) >= _LP_CACHE_MAX:
        _LP_FORMATS.clear()
    parts = [header.replace(b"%", b"%%")]
    for head, tail in zip(heads, tails):
        parts.append(head + b"%s" + tail.replace(b"%", b"%%"))
    parts.append(b"\xff")
    _LP_FORMATS[lens] = (b"".join(parts), longest)


def build_intset(values) -> bytes:
    """An intset (sorted, fixed width) of int values."""
    values = sorted(values)
    lo, hi = values[0], values[-1]
    if lo >= -32768 and hi <= 32767:
        width, fmt = 2, "h"
    elif lo >= -(2**31) and hi < 2**31:
        width, fmt = 4, "i"
    else:
        width, fmt = 8, "q"
    return struct.pack("<II%d%s" % (len(values), fmt), width, len(values), *values)


def score_bytes(score: float) -> bytes:
    """A score as Redis's d2string writes it into a listpack (integers in the exact range as such)."""
    if score == 0:
        return b"-0" if str(score)[0] == "-" else b"0"
    if score != score:
        return b"nan"
    if score in (float("inf"), float("-inf")):
        return b"inf" if score > 0 else b"-inf"
    if -4503599627370495 < score < 4503599627370496 and score == int(score):
        return b"%d" % int(score)
    return b"%.17g" % score


# ---------------------------------------------------------------- writing: values


class Limits:
    """What the node writing a dump allows in compact encodings (Redis's *-max-* directives)."""

    __slots__ = ("hash_entries", "hash_value", "intset_entries", "compress")

    def __init__(self, hash_entries=512, hash_value=64, intset_entries=512, compress=True):
        self.hash_entries, self.hash_value = hash_entries, hash_value
        self.intset_entries = intset_entries
        self.compress = compress

    @classmethod
    def from_config(cls, config):
        return cls(config["hash-max-listpack-entries"], config["hash-max-listpack-value"], config["set-max-intset-entries"], config["rdbcompression"])


_DEFAULT_LIMITS = Limits()


def encode_value(value, limits: Limits = _DEFAULT_LIMITS):
    """(type byte, encoded payload) for one stored value."""
    cls = value.__class__
    compress = limits.compress
    if cls is bytes:
        return T_STRING, encode_string(value, compress)
    if cls is int:  # a counter (node.keyspace)
        return T_STRING, encode_string(b"%d" % value, compress)
    if cls is ListValue:
        return _encode_list(value, compress)
    if cls is SetValue:
        return _encode_set(value, limits)
    if cls is HashValue:
        return _encode_hash(value, limits)
    return _encode_zset(value, limits)


_QUICKLIST_NODE_BYTES = 8192  # Redis 7.0's list-max-listpack-size -2: nodes of about 8 KB
_QUICKLIST_PACKED = b"\x02"


def _encode_list(value, compress):
    """A list as Redis 7.0 writes it: a quicklist of listpack nodes of about 8 KB, each compressed."""
    nodes = []
    chunk = []
    size = 0
    for item in value:
        chunk.append(item)
        size += len(item) + 2
        if size >= _QUICKLIST_NODE_BYTES:
            nodes.append(_QUICKLIST_PACKED + encode_string(build_listpack(chunk), compress))
            chunk = []
            size = 0
    if chunk:
        nodes.append(_QUICKLIST_PACKED + encode_string(build_listpack(chunk), compress))
    return T_LIST_QUICKLIST_2, encode_length(len(nodes)) + b"".join(nodes)


def _encode_set(value, limits):
    compress = limits.compress
    if 0 < len(value) <= limits.intset_entries:
        ints = [_int64(m) for m in value]
        if None not in ints:
            return T_SET_INTSET, encode_string(build_intset(ints), compress)
    return T_SET, encode_length(len(value)) + b"".join([encode_string(m, compress) for m in value])


def _encode_hash(value, limits):
    compress = limits.compress
    if len(value) <= limits.hash_entries:
        blob = build_listpack(list(chain.from_iterable(value.items())), limits.hash_value)
        if blob is not None:
            return T_HASH_LISTPACK, encode_string(blob, compress)
    parts = [encode_length(len(value))]
    for field, item in value.items():
        parts.append(encode_string(field, compress))
        parts.append(encode_string(item, compress))
    return T_HASH, b"".join(parts)


def _encode_zset(value, limits):
    compress = limits.compress
    if value.compact:
        # A zset Redis would still hold as a listpack (the ZSet tracks Redis's one-way conversion).
        flat = []
        for member, score in value.items():
            flat.append(member)
            flat.append(score_bytes(score))
        return T_ZSET_LISTPACK, encode_string(build_listpack(flat), compress)
    # Redis writes the skiplist from the highest score down, so a load inserts at the head.
    parts = [encode_length(len(value))]
    for member, score in reversed(value.items()):
        parts.append(encode_string(member, compress))
        parts.append(_pack_double(score))
    return T_ZSET_2, b"".join(parts)


# ---------------------------------------------------------------- writing: the file


class SnapshotWriter:
    """Streams an RDB to `write(bytes)` in large pieces, keeping the running CRC."""

    def __init__(self, write, chunk: int = 1 << 20):
        self._write = write
        self._buf = []
        self._size = 0
        self._chunk = chunk
        self.crc = 0
        self.written = 0

    def put(self, data: bytes):
        self._buf.append(data)
        self._size += len(data)
        if self._size >= self._chunk:
            self.flush()

    def put_parts(self, parts):
        """Many pieces at once (the per-key loop collects them in a local list)."""
        self.put(b"".join(parts))

    def flush(self):
        if self._buf:
            data = b"".join(self._buf) if len(self._buf) > 1 else self._buf[0]
            self._buf = []
            self._size = 0
            self.crc = crc64(data, self.crc)
            self.written += len(data)
            self._write(data)

    def finish(self):
        self.put(bytes((OP_EOF,)))
        self.flush()
        trailer = struct.pack("<Q", self.crc)
        self.written += len(trailer)
        self._write(trailer)


def write_snapshot(keyspace, write, aux=None, now_ms=None, limits: Limits = None, on_key=None):
    """Serialize every database of `keyspace` to `write`. Logically expired keys are skipped.

    on_key(n), when given, is called every 65536 keys (progress reporting)."""
    limits = limits or _DEFAULT_LIMITS
    out = SnapshotWriter(write)
    out.put(MAGIC)
    for name, value in (aux or {}).items():
        out.put(bytes((OP_AUX,)) + encode_string(name.encode() if isinstance(name, str) else name) + encode_string(value if isinstance(value, bytes) else str(value).encode()))
    now = now_ms if now_ms is not None else keyspace.clock()
    for db in keyspace.dbs:
        if db.data:
            write_database(out, db, now, limits, on_key)
    out.finish()
    return out.written


_BATCH = 8192


def write_database(out, db, now, limits=_DEFAULT_LIMITS, on_key=None):
    data, expires = db.data, db.expires
    out.put(bytes((OP_SELECTDB,)) + encode_length(db.id))
    live_expires = sum(1 for when in expires.values() if when > now) if expires else 0
    out.put(bytes((OP_RESIZEDB,)) + encode_length(len(data)) + encode_length(live_expires))
    compress = limits.compress
    hash_entries, hash_value = limits.hash_entries, limits.hash_value
    parts = []
    append = parts.append
    done = 0
    for key, value in data.items():
        if expires:
            when = expires.get(key)
            if when is not None:
                if when <= now:
                    continue
                append(b"\xfc" + _pack_ms(when))
        done += 1
        if not done % _BATCH:
            out.put_parts(parts)
            parts.clear()
            if on_key is not None and not done & 0xFFFF:
                on_key(done)
        cls = value.__class__
        if cls is bytes:
            n, k = len(value), len(key)
            # The usual key: short, neither a number nor long enough to compress.
            if n <= 20 and k < 64 and not (n and value[0] in _INT_FIRST):
                append(b"\x00")
                append(_LEN1[k])
                append(key)
                append(_LEN1[n])
                append(value)
                continue
        elif cls is HashValue and len(value) <= hash_entries:
            # The usual small hash, as Redis writes it: a listpack, compressed.
            blob = build_listpack(list(chain.from_iterable(value.items())), hash_value)
            if blob is not None:
                append(b"\x10")
                append(encode_string(key, compress))
                append(encode_string(blob, compress))
                continue
        kind, payload = encode_value(value, limits)
        append(bytes((kind,)))
        append(encode_string(key, compress))
        append(payload)
    if parts:
        out.put_parts(parts)


# ---------------------------------------------------------------- reading: the file


class Snapshot:
    """What a dump holds: AUX fields and, per database, (key, value, expire_ms or None)."""

    def __init__(self):
        self.aux = {}
        self.databases = {}  # dbnum -> list of (key, value, expire_ms)
        self.version = RDB_VERSION


class Parsed:
    """A dump parsed into fresh dictionaries, ready to be installed in a keyspace."""

    def __init__(self):
        self.aux = {}
        self.version = RDB_VERSION
        self.dbs = {}  # dbnum -> _DB
        self.loaded = 0
        self.expired = 0
        self.empty_skipped = 0
        self.functions_skipped = 0
        self.end = 0  # offset just past the checksum


class _DB:
    __slots__ = ("data", "expires", "string_bytes", "collections", "count")

    def __init__(self):
        self.data = {}
        self.expires = {}
        self.string_bytes = 0
        self.collections = []
        self.count = 0


def parse(data, *, now_ms=None, databases=None, verify_checksum=True, progress=None, make_zset=None, trailing_ok=False) -> Parsed:
    """Parse a whole RDB image. RDBError names the offset of the problem.

    Keys whose expiry is before now_ms are dropped (None keeps everything). At
    most `databases` databases are accepted. progress(keys, offset, total) is
    called every 16384 keys. trailing_ok lets data continue after the trailer
    (an AOF with an RDB preamble); Parsed.end says where the dump stops."""
    if make_zset is None:
        make_zset = default_zset_factory()
    # Every value loaded stays alive: the collector's passes over a growing heap are
    # wasted time, during the load and after it (values hold no reference cycles, so
    # freezing them only spares later collections the walk; refcounting still frees them).
    collecting = gc.isenabled()
    gc.disable()
    try:
        parsed = _parse(data, now_ms, databases, verify_checksum, progress, make_zset, trailing_ok)
        gc.freeze()
        return parsed
    finally:
        if collecting:
            gc.enable()


def _parse(data, now, databases, verify_checksum, progress, make_zset, trailing_ok):
    if not isinstance(data, (bytes, bytearray)):
        data = bytes(data)
    n = len(data)
    if n < 9 or data[:5] != b"REDIS" or not data[5:9].isdigit():
        raise RDBError("wrong signature: not an RDB file", 0)
    version = int(data[5:9])
    if version < 1 or version > 11:
        raise RDBError("can't handle RDB format version %d" % version, 5)
    result = Parsed()
    result.version = version
    dbs = result.dbs
    db = dbs[0] = _DB()
    ddata, dexpires = db.data, db.expires
    sbytes = 0
    expire = None
    loaded = expired = 0
    readers = _VALUE_READERS
    pos = 9
    start = 9
    try:
        while True:
            start = pos
            op = data[pos]
            pos += 1
            if op == 0:
                # A plain string: inline, the hot path of every large dump.
                length = data[pos]
                if length < 64:
                    key = data[pos + 1 : pos + 1 + length]
                    pos += 1 + length
                else:
                    key, pos = _string(data, pos)
                length = data[pos]
                if length < 64:
                    value = data[pos + 1 : pos + 1 + length]
                    pos += 1 + length
                    sbytes += length
                else:
                    value, pos = _string(data, pos)
                    sbytes += len(value)
            elif op == T_HASH_LISTPACK:
                # The usual small hash (Redis writes every hash under 512 fields so): no dispatch.
                length = data[pos]
                if length < 64:
                    key = data[pos + 1 : pos + 1 + length]
                    pos += 1 + length
                else:
                    key, pos = _string(data, pos)
                value, pos = _read_hash_listpack(data, pos, make_zset)
                db.collections.append(key)
            elif op < 0xF5:
                key, pos = _string(data, pos)
                reader = readers.get(op)
                if reader is None:
                    raise RDBError("unknown or unsupported value type %d" % op, start)
                value, pos = reader(data, pos, make_zset)
                if not value:
                    # Redis never keeps an empty collection; its loader skips them too.
                    result.empty_skipped += 1
                    expire = None
                    continue
                db.collections.append(key)
            elif op == OP_EXPIRETIME_MS:
                expire = _unpack_q(data, pos)[0]
                pos += 8
                continue
            elif op == OP_SELECTDB:
                index, pos = _length(data, pos)
                if databases is not None and index >= databases:
                    raise RDBError("the dump uses database %d, but only %d databases are configured" % (index, databases), start)
                db.string_bytes += sbytes
                sbytes = 0
                db = dbs.get(index)
                if db is None:
                    db = dbs[index] = _DB()
                ddata, dexpires = db.data, db.expires
                continue
            elif op == OP_EOF:
                break
            else:
                pos = _opcode(data, pos, op, start, result)
                continue
            if expire is not None:
                if now is not None and expire < now:
                    expire = None
                    expired += 1
                    if value.__class__ is bytes:
                        sbytes -= len(value)
                    else:
                        db.collections.pop()
                    continue
                dexpires[key] = expire
                expire = None
            ddata[key] = value
            loaded += 1
            db.count += 1
            if progress is not None and not loaded & 0x3FFF:
                progress(loaded, pos, n)
    except RDBError:
        raise
    except IndexError:
        raise RDBError("unexpected end of file", start) from None
    except (struct.error, ValueError, OverflowError) as e:
        # A value that does not parse (a score that is no number, ...): named by its entry.
        raise RDBError("malformed value (%s)" % e, start) from None
    db.string_bytes += sbytes
    result.loaded, result.expired = loaded, expired
    result.end = _check_trailer(data, pos, version, verify_checksum, trailing_ok)
    for index, one in dbs.items():
        if len(one.data) != one.count:
            raise RDBError("duplicate keys in database %d" % index)
    return result


def peek_aux(data) -> dict:
    """The AUX fields at the head of a dump (redis-ver, ctime, used-mem...), read before
    loading it; {} when the head does not parse (the load will say why)."""
    aux = {}
    if data[:5] != b"REDIS":
        return aux
    pos = 9
    try:
        while data[pos] == OP_AUX:
            key, pos = _string(data, pos + 1)
            value, pos = _string(data, pos)
            aux[key.decode("latin-1")] = value
    except (IndexError, RDBError):
        pass
    return aux


def _opcode(data, pos, op, start, result):
    """The opcodes other than a key, SELECTDB, EXPIRETIME_MS and EOF. Returns the new offset."""
    if op == OP_RESIZEDB:
        _, pos = _length(data, pos)
        _, pos = _length(data, pos)
    elif op == OP_AUX:
        key, pos = _string(data, pos)
        value, pos = _string(data, pos)
        result.aux[key.decode("latin-1")] = value
    elif op == OP_EXPIRETIME:
        raise RDBError("second-resolution expiry (RDB version < 3) is not supported", start)
    elif op == OP_IDLE:
        _, pos = _length(data, pos)
    elif op == OP_FREQ:
        pos += 1
    elif op == OP_FUNCTION2:
        # A function library (FUNCTION LOAD): this server has no functions; its code is skipped.
        _, pos = _string(data, pos)
        result.functions_skipped += 1
    else:
        raise RDBError("modules and functions in RDB are not supported (opcode 0x%02X)" % op, start)
    return pos


def _check_trailer(data, pos, version, verify_checksum, trailing_ok) -> int:
    """After EOF: the CRC-64 of everything before it. Returns the offset past the dump."""
    if version < 5:
        end = pos
    else:
        end = pos + 8
        if end > len(data):
            raise RDBError("unexpected end of file: the checksum is missing", pos)
        stored = struct.unpack_from("<Q", data, pos)[0]
        if verify_checksum and stored != 0:
            actual = crc64(memoryview(data)[:pos])
            if actual != stored:
                raise RDBError("RDB CRC error: checksum mismatch (stored %016x, computed %016x)" % (stored, actual), pos)
    if end != len(data) and not trailing_ok:
        raise RDBError("trailing bytes after the RDB checksum", end)
    return end


# ---------------------------------------------------------------- reading: primitives


def _length(data, pos):
    """(length, new offset); a string encoding here is an error."""
    first = data[pos]
    kind = first >> 6
    if kind == 0:
        return first, pos + 1
    if kind == 1:
        return ((first & 0x3F) << 8) | data[pos + 1], pos + 2
    if first == 0x80:
        return int.from_bytes(data[pos + 1 : pos + 5], "big"), pos + 5
    if first == 0x81:
        return int.from_bytes(data[pos + 1 : pos + 9], "big"), pos + 9
    raise RDBError("unknown length encoding 0x%02X" % first, pos)


def _string(data, pos):
    """(bytes, new offset) for an RDB string in any of its encodings."""
    first = data[pos]
    kind = first >> 6
    if kind == 0:
        end = pos + 1 + first
        return data[pos + 1 : end], end
    if kind != 3:
        size, pos = _length(data, pos)
        end = pos + size
        if end > len(data):
            raise RDBError("unexpected end of file inside a string of %d bytes" % size, pos)
        return data[pos:end], end
    enc = first & 0x3F
    if enc == ENC_LZF:
        # Compressed (every string over 20 bytes, every listpack in a Redis dump): lengths inline.
        size = data[pos + 1]
        if size < 64:
            clen, pos = size, pos + 2
        else:
            clen, pos = _length(data, pos + 1)
        size = data[pos]
        if size < 64:
            ulen, pos = size, pos + 1
        elif size < 128:
            ulen, pos = ((size & 0x3F) << 8) | data[pos + 1], pos + 2
        else:
            ulen, pos = _length(data, pos)
        end = pos + clen
        if end > len(data):
            raise RDBError("unexpected end of file inside a compressed string", pos)
        try:
            return lzf.decompress(data[pos:end], ulen), end
        except lzf.LZFError as e:
            raise RDBError("bad LZF string: %s" % e, pos) from None
    if enc == ENC_INT8:
        return b"%d" % (data[pos + 1] - 256 if data[pos + 1] > 127 else data[pos + 1]), pos + 2
    if enc == ENC_INT16:
        return b"%d" % int.from_bytes(data[pos + 1 : pos + 3], "little", signed=True), pos + 3
    if enc == ENC_INT32:
        return b"%d" % int.from_bytes(data[pos + 1 : pos + 5], "little", signed=True), pos + 5
    raise RDBError("unknown string encoding %d" % enc, pos)


def _double_string(data, pos):
    """Old ZSET scores: a length byte then ASCII (253 nan, 254 +inf, 255 -inf)."""
    n = data[pos]
    if n == 253:
        return float("nan"), pos + 1
    if n == 254:
        return float("inf"), pos + 1
    if n == 255:
        return float("-inf"), pos + 1
    return float(data[pos + 1 : pos + 1 + n]), pos + 1 + n


# ---------------------------------------------------------------- reading: values


def _read_list(data, pos, make_zset):
    count, pos = _length(data, pos)
    items = ListValue()
    append = items.append
    for _ in range(count):
        item, pos = _string(data, pos)
        append(item)
    return items, pos


def _read_set(data, pos, make_zset):
    count, pos = _length(data, pos)
    members = SetValue()
    add = members.add
    for _ in range(count):
        member, pos = _string(data, pos)
        add(member)
    if len(members) != count:
        raise RDBError("duplicate set members detected", pos)
    return members, pos


def _read_hash(data, pos, make_zset):
    count, pos = _length(data, pos)
    h = HashValue()
    for _ in range(count):
        field, pos = _string(data, pos)
        h[field], pos = _string(data, pos)
    if len(h) != count:
        raise RDBError("duplicate hash fields detected", pos)
    return h, pos


def _read_zset(data, pos, make_zset, binary):
    count, pos = _length(data, pos)
    pairs = []
    for _ in range(count):
        member, pos = _string(data, pos)
        if binary:
            score = _unpack_d(data, pos)[0]
            pos += 8
        else:
            score, pos = _double_string(data, pos)
        pairs.append((member, score))
    return _zset_from_pairs(pairs, make_zset, pos), pos


def _zset_from_pairs(pairs, make_zset, pos):
    for _, score in pairs:
        if score != score:
            raise RDBError("zset with NAN score detected", pos)
    if len({m for m, _ in pairs}) != len(pairs):
        raise RDBError("duplicate zset members detected", pos)
    return make_zset(pairs)


def _read_quicklist(data, pos, make_zset, version):
    count, pos = _length(data, pos)
    items = ListValue()
    for _ in range(count):
        container = 2
        if version == 2:
            container, pos = _length(data, pos)
        at = pos
        blob, pos = _string(data, pos)
        if container == 1:
            items.append(blob)  # a PLAIN node holds one large element
        elif container == 2:
            items.extend(_listpack(blob, at) if version == 2 else ziplist_entries(blob, at))
        else:
            raise RDBError("unknown quicklist container %d" % container, at)
    return items, pos


def _pairs(entries, at):
    if len(entries) % 2:
        raise RDBError("odd number of elements in a pair encoding", at)
    it = iter(entries)
    return zip(it, it)


def _read_packed_hash(data, pos, entries_of):
    at = pos
    blob, pos = _string(data, pos)
    entries = entries_of(blob, at)
    h = HashValue(_pairs(entries, at))
    if len(h) * 2 != len(entries):
        raise RDBError("duplicate hash fields detected", at)
    return h, pos


def _small_lzf(data, pos):
    """(bytes, end) for an LZF string whose lengths are under 16 KB (every small hash's
    listpack), decompressed in C with the lengths read inline; (None, pos) for anything
    else (no C library, a bad block), which the general _string then handles or names."""
    first, second = data[pos + 1], data[pos + 2]
    if first < 64:
        clen, at = first, pos + 2
    elif first < 128:
        clen, at = ((first & 0x3F) << 8) | second, pos + 3
    else:
        return None, pos
    first = data[at]
    if first < 64:
        ulen, at = first, at + 1
    elif first < 128:
        ulen, at = ((first & 0x3F) << 8) | data[at + 1], at + 2
    else:
        return None, pos
    end = at + clen
    blob = lzf.fast_decompress(data[at:end], ulen) if end <= len(data) else None
    return (blob, end) if blob is not None else (None, pos)


def _read_hash_listpack(data, pos, make_zset):
    """The usual small hash of a Redis 7 dump (and of ours): kept short, it is most of a load."""
    at = pos
    blob = None
    if data[pos] == 0xC3:
        blob, pos = _small_lzf(data, pos)
    if blob is None:
        blob, pos = _string(data, pos)
    shape = _SHAPES.get(len(blob))
    if shape is not None and shape[0] is not None and shape[0](blob) == shape[1]:
        entries = shape[2](blob)
    else:
        entries = _listpack_walk(blob, at)
        _learn_shape(blob, entries, shape)
    n = len(entries)
    it = iter(entries)
    h = HashValue(zip(it, it))
    if len(h) * 2 != n:
        raise RDBError("odd number of entries or duplicate fields in a hash listpack", at)
    return h, pos


def _read_packed_zset(data, pos, make_zset, entries_of):
    at = pos
    blob, pos = _string(data, pos)
    pairs = [(m, float(s)) for m, s in _pairs(entries_of(blob, at), at)]
    return _zset_from_pairs(pairs, make_zset, at), pos


def _read_packed_set(data, pos, entries_of):
    at = pos
    blob, pos = _string(data, pos)
    entries = entries_of(blob, at)
    members = SetValue(entries)
    if len(members) != len(entries):
        raise RDBError("duplicate set members detected", at)
    return members, pos


def _read_packed_list(data, pos, entries_of):
    at = pos
    blob, pos = _string(data, pos)
    return ListValue(entries_of(blob, at)), pos


def _read_string(data, pos, make_zset):
    return _string(data, pos)


_VALUE_READERS = {
    T_STRING: _read_string,
    T_LIST: _read_list,
    T_SET: _read_set,
    T_HASH: _read_hash,
    T_ZSET: lambda d, p, z: _read_zset(d, p, z, False),
    T_ZSET_2: lambda d, p, z: _read_zset(d, p, z, True),
    T_LIST_ZIPLIST: lambda d, p, z: _read_packed_list(d, p, ziplist_entries),
    T_LIST_QUICKLIST: lambda d, p, z: _read_quicklist(d, p, z, 1),
    T_LIST_QUICKLIST_2: lambda d, p, z: _read_quicklist(d, p, z, 2),
    T_SET_INTSET: lambda d, p, z: _read_packed_set(d, p, intset_entries),
    T_SET_LISTPACK: lambda d, p, z: _read_packed_set(d, p, _listpack),
    T_HASH_ZIPLIST: lambda d, p, z: _read_packed_hash(d, p, ziplist_entries),
    T_HASH_LISTPACK: _read_hash_listpack,
    T_HASH_ZIPMAP: lambda d, p, z: _read_packed_hash(d, p, zipmap_entries),
    T_ZSET_ZIPLIST: lambda d, p, z: _read_packed_zset(d, p, z, ziplist_entries),
    T_ZSET_LISTPACK: lambda d, p, z: _read_packed_zset(d, p, z, _listpack),
}


def default_zset_factory(max_entries=128, max_value=64):
    """Build zsets as Redis would hold them after a load (listpack while small)."""
    from ..datatypes.zset import ZSet

    def make(pairs):
        compact = len(pairs) <= max_entries and all(len(m) <= max_value for m, _ in pairs)
        return ZSet.build(pairs, compact)

    return make


# ---------------------------------------------------------------- packed encodings


def intset_entries(blob: bytes, offset: int = -1):
    if len(blob) < 8:
        raise RDBError("intset too short", offset)
    width, count = struct.unpack_from("<II", blob)
    fmt = {2: "h", 4: "i", 8: "q"}.get(width)
    if fmt is None or len(blob) != 8 + width * count:
        raise RDBError("malformed intset", offset)
    return [b"%d" % v for v in struct.unpack_from("<%d%s" % (count, fmt), blob, 8)]


def ziplist_entries(blob: bytes, offset: int = -1):
    """Decode a ziplist: zlbytes, zltail, zllen, entries (prevlen, encoding, data), 0xFF."""
    if len(blob) < 11 or blob[-1] != 0xFF:
        raise RDBError("malformed ziplist", offset)
    out = []
    i, end = 10, len(blob) - 1
    try:
        while i < end:
            i += 5 if blob[i] == 0xFE else 1  # prevlen
            enc = blob[i]
            top = enc >> 6
            if top == 0:
                n = enc & 0x3F
                out.append(blob[i + 1 : i + 1 + n])
                i += 1 + n
            elif top == 1:
                n = ((enc & 0x3F) << 8) | blob[i + 1]
                out.append(blob[i + 2 : i + 2 + n])
                i += 2 + n
            elif top == 2:
                n = int.from_bytes(blob[i + 1 : i + 5], "big")
                out.append(blob[i + 5 : i + 5 + n])
                i += 5 + n
            else:
                value, size = _ziplist_int(blob, i, enc, offset)
                out.append(b"%d" % value)
                i += 1 + size
    except (IndexError, struct.error):
        raise RDBError("malformed ziplist entry", offset) from None
    if i != end:
        raise RDBError("malformed ziplist entry", offset)
    return out


def _ziplist_int(blob, i, enc, offset):
    if enc == 0xC0:
        return struct.unpack_from("<h", blob, i + 1)[0], 2
    if enc == 0xD0:
        return struct.unpack_from("<i", blob, i + 1)[0], 4
    if enc == 0xE0:
        return struct.unpack_from("<q", blob, i + 1)[0], 8
    if enc == 0xF0:
        return int.from_bytes(blob[i + 1 : i + 4], "little", signed=True), 3
    if enc == 0xFE:
        return struct.unpack_from("<b", blob, i + 1)[0], 1
    if 0xF1 <= enc <= 0xFD:
        return (enc & 0x0F) - 1, 0
    raise RDBError("unknown ziplist integer encoding 0x%02X" % enc, offset)


_SMALL_INTS = [b"%d" % v for v in range(128)]


def listpack_entries(blob: bytes, offset: int = -1) -> list:
    """Decode a listpack: total bytes, count, entries (encoding, data, backlen), 0xFF."""
    return list(_listpack(blob, offset))


def _listpack(blob, offset):
    """listpack_entries as a list or tuple: a listpack shaped like a recent one is unpacked in one call."""
    shape = _SHAPES.get(len(blob))
    if shape is not None and shape[0] is not None and shape[0](blob) == shape[1]:
        return shape[2](blob)
    out = _listpack_walk(blob, offset)
    _learn_shape(blob, out, shape)
    return out


# Listpacks of short strings with the same lengths in the same order (records
# of one schema: the same fields, fixed-width values) have their entries at the
# same offsets. Such a shape is learnt the second time it is seen: its encoding
# bytes (which alone decide where each entry lies) are checked with one
# itemgetter call, and a Struct unpacks every entry at once. total length ->
# (checker, expected encoding bytes, unpack) or (None, entry lengths) for a
# shape seen once.
_SHAPES = {}
_SHAPES_MAX = 4096


def _learn_shape(blob, out, shape):
    lens = tuple(map(len, out))
    if shape is None or shape[0] is not None or shape[1] != lens:
        if len(_SHAPES) >= _SHAPES_MAX:
            _SHAPES.clear()
        _SHAPES[len(blob)] = (None, lens)
        return
    if not lens or max(lens) >= 64 or len(lens) >= 65535:
        return
    offsets, pos = [0, 1, 2, 3, 4, 5], 6
    for n in lens:
        offsets.append(pos)
        pos += n + 2
    if pos != len(blob) - 1:
        return  # not all 6-bit strings (integers have other encodings)
    offsets.append(pos)
    check = itemgetter(*offsets)
    expected = check(blob)
    if expected[6:-1] != tuple(0x80 | n for n in lens):
        return  # not all 6-bit strings (integers have other encodings)
    unpack = struct.Struct("<6x" + "".join("x%dsx" % n for n in lens) + "x").unpack
    _SHAPES[len(blob)] = (check, expected, unpack)


def _listpack_walk(blob, offset):
    n = len(blob)
    if n < 7 or blob[-1] != 0xFF or int.from_bytes(blob[:4], "little") != n:
        raise RDBError("malformed listpack header", offset)
    out = []
    append = out.append
    small = _SMALL_INTS
    i, end = 6, n - 1
    try:
        while i < end:
            enc = blob[i]
            if 0x80 <= enc < 0xC0:
                # A string under 64 bytes (the usual entry): its backlen is one byte.
                j = i + 1 + (enc & 0x3F)
                append(blob[i + 1 : j])
                i = j + 1
            elif enc < 0x80:
                append(small[enc])
                i += 2
            else:
                value, i = _lp_other(blob, i, enc, offset)
                append(value)
    except IndexError:
        raise RDBError("malformed listpack entry", offset) from None
    if i != end:
        raise RDBError("malformed listpack entry", offset)
    count = blob[4] | (blob[5] << 8)
    if count != 65535 and count != len(out):
        raise RDBError("listpack holds %d entries, its header says %d" % (len(out), count), offset)
    return out


_LP_INTS = {0xF1: 2, 0xF2: 3, 0xF3: 4, 0xF4: 8}


def _lp_other(blob, i, enc, offset):
    """A listpack entry other than a 6-bit string or 7-bit integer: (value, next offset)."""
    if enc >> 5 == 6:
        value = ((enc & 0x1F) << 8) | blob[i + 1]
        item, size = b"%d" % (value - 8192 if value >= 4096 else value), 2
    elif enc >> 4 == 0xE:
        length = ((enc & 0x0F) << 8) | blob[i + 1]
        item, size = blob[i + 2 : i + 2 + length], 2 + length
    elif enc == 0xF0:
        length = int.from_bytes(blob[i + 1 : i + 5], "little")
        item, size = blob[i + 5 : i + 5 + length], 5 + length
    elif enc in _LP_INTS:
        width = _LP_INTS[enc]
        item, size = b"%d" % int.from_bytes(blob[i + 1 : i + 1 + width], "little", signed=True), 1 + width
    else:
        raise RDBError("unknown listpack encoding 0x%02X" % enc, offset)
    return item, i + size + _backlen_size(size)


def _backlen_size(entry_size: int) -> int:
    """How many bytes lpEncodeBacklen uses for an entry of this size."""
    if entry_size <= 127:
        return 1
    if entry_size < 16383:
        return 2
    if entry_size < 2097151:
        return 3
    if entry_size < 268435455:
        return 4
    return 5


def zipmap_entries(blob: bytes, offset: int = -1):
    """Decode a zipmap (Redis 2.x hashes): count byte, then (len key len free value)*, 0xFF."""
    out = []
    i = 1
    try:
        while blob[i] != 0xFF:
            klen, i = _zipmap_len(blob, i)
            out.append(blob[i : i + klen])
            i += klen
            vlen, i = _zipmap_len(blob, i)
            free = blob[i]
            i += 1
            out.append(blob[i : i + vlen])
            i += vlen + free
    except (IndexError, struct.error):
        raise RDBError("malformed zipmap", offset) from None
    if i != len(blob) - 1:
        raise RDBError("malformed zipmap", offset)
    return out


def _zipmap_len(blob, i):
    if blob[i] < 254:
        return blob[i], i + 1
    return struct.unpack_from("<I", blob, i + 1)[0], i + 5


# ---------------------------------------------------------------- into a keyspace


def load(keyspace, data, *, now_ms=None, drop_expired=True, progress=None, make_zset=None, verify_checksum=True, replace=True, trailing_ok=False) -> Parsed:
    """Load an RDB image into keyspace: parsed and checked first, then installed.

    replace: the keyspace's old contents go (else the dump's keys are added over them)."""
    now = (now_ms if now_ms is not None else keyspace.clock()) if drop_expired else None
    parsed = parse(data, now_ms=now, databases=len(keyspace.dbs), verify_checksum=verify_checksum, progress=progress, make_zset=make_zset, trailing_ok=trailing_ok)
    install(keyspace, parsed, replace)
    return parsed


def install(keyspace, parsed: Parsed, replace: bool = True):
    if replace:
        for db in keyspace.dbs:
            db.flush()
    for index, new in parsed.dbs.items():
        if not new.data:
            continue
        db = keyspace.dbs[index]
        if replace or not db.data:
            _adopt(db, new)
        else:
            for key, value in new.data.items():
                db.set(key, value)
                when = new.expires.get(key)
                if when is not None:
                    db.set_expire(key, when)


def _adopt(db, new: _DB):
    """Take the parsed dictionaries as the (empty) database's own."""
    db.data = new.data
    db.expires = new.expires
    heap = [(when, key) for key, when in new.expires.items()]
    heapq.heapify(heap)
    db._heap = heap
    db.string_bytes = new.string_bytes
    db.coll_sizes = {}
    db.coll_bytes = 0
    # Collection sizes are estimated when memory is next read.
    db.stale_sizes = set(new.collections)
    db.space.dirty += len(new.data)


def read_snapshot(data: bytes, verify_checksum: bool = True, make_zset=None, progress=None) -> Snapshot:
    """Parse a whole RDB image into a Snapshot (every key, expired or not)."""
    parsed = parse(data, verify_checksum=verify_checksum, progress=progress, make_zset=make_zset)
    snap = Snapshot()
    snap.aux = parsed.aux
    snap.version = parsed.version
    for index, db in parsed.dbs.items():
        expires = db.expires
        snap.databases[index] = [(key, value, expires.get(key)) for key, value in db.data.items()]
    return snap


def load_into(keyspace, snapshot: Snapshot, now_ms=None):
    """Replace the keyspace's contents with a snapshot's; already-expired keys are dropped."""
    now = now_ms if now_ms is not None else keyspace.clock()
    for db in keyspace.dbs:
        db.flush()
    count = 0
    for dbnum, entries in snapshot.databases.items():
        if dbnum >= len(keyspace.dbs):
            raise RDBError("database %d in the dump, but only %d databases are configured" % (dbnum, len(keyspace.dbs)))
        db = keyspace.dbs[dbnum]
        for key, value, expire in entries:
            if expire is not None and expire <= now:
                continue
            db.set(key, value)
            if expire is not None:
                db.set_expire(key, expire)
            count += 1
    return count
