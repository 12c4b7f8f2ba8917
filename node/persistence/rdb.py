"""Redis's RDB format, both ways, as Redis 7.0 writes and reads it (RDB version 10).

File layout: "REDIS0010", AUX fields (0xFA key value), per database SELECTDB
(0xFE n) and RESIZEDB (0xFB size expires), then entries: an optional
EXPIRETIME_MS (0xFC, 8 bytes little-endian), optional LRU/LFU hints (0xF8/0xF9),
a type byte, the key and the value; EOF (0xFF) and a CRC-64 of everything
before it (8 bytes little-endian; 0 means "not computed").

The writer uses encodings every Redis since 2.x loads: plain strings (with
integer encoding for short numbers), LIST (1), SET (2), HASH (4), ZSET_2 (5).
The reader loads every encoding Redis 7.0 writes or still accepts: integer
and LZF strings, ziplist, listpack, quicklist (1 and 2), intset and zipmap.
"""

import struct

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


class RDBError(ValueError):
    """A dump that fails its checksum or its parse; `offset` says where."""

    def __init__(self, reason: str, offset: int = -1):
        super().__init__("%s (at byte offset %d)" % (reason, offset) if offset >= 0 else reason)
        self.reason = reason
        self.offset = offset


# ---------------------------------------------------------------- writing


def encode_length(n: int) -> bytes:
    if n < 64:
        return bytes((n,))
    if n < 16384:
        return bytes((0x40 | (n >> 8), n & 0xFF))
    if n <= 0xFFFFFFFF:
        return b"\x80" + n.to_bytes(4, "big")
    return b"\x81" + n.to_bytes(8, "big")


_LEN1 = [bytes((n,)) for n in range(64)]


def encode_string(s: bytes) -> bytes:
    n = len(s)
    if n <= 11 and n and (s[0] in b"-0123456789"):
        try:
            v = int(s)
        except ValueError:
            v = None
        if v is not None and b"%d" % v == s:
            if -128 <= v <= 127:
                return b"\xc0" + struct.pack("<b", v)
            if -32768 <= v <= 32767:
                return b"\xc1" + struct.pack("<h", v)
            if -(2**31) <= v <= 2**31 - 1:
                return b"\xc2" + struct.pack("<i", v)
    if n < 64:
        return _LEN1[n] + s
    return encode_length(n) + s


def encode_value(value):
    """(type byte, encoded payload) for one stored value."""
    cls = value.__class__
    if cls is bytes:
        return T_STRING, encode_string(value)
    if cls is ListValue:
        return T_LIST, encode_length(len(value)) + b"".join(map(encode_string, value))
    if cls is SetValue:
        return T_SET, encode_length(len(value)) + b"".join(map(encode_string, value))
    if cls is HashValue:
        parts = [encode_length(len(value))]
        for field, v in value.items():
            parts.append(encode_string(field))
            parts.append(encode_string(v))
        return T_HASH, b"".join(parts)
    # Sorted set: members with binary double scores.
    parts = [encode_length(len(value))]
    for member, score in value.items():
        parts.append(encode_string(member))
        parts.append(_pack_double(score))
    return T_ZSET_2, b"".join(parts)


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

    def flush(self):
        if self._buf:
            data = b"".join(self._buf)
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


def write_snapshot(keyspace, write, aux=None, now_ms=None):
    """Serialize every database of `keyspace` to `write`. Logically expired keys are skipped."""
    out = SnapshotWriter(write)
    out.put(MAGIC)
    for name, value in (aux or {}).items():
        out.put(bytes((OP_AUX,)) + encode_string(name.encode() if isinstance(name, str) else name) + encode_string(value if isinstance(value, bytes) else str(value).encode()))
    now = now_ms if now_ms is not None else keyspace.clock()
    for db in keyspace.dbs:
        if not db.data:
            continue
        write_database(out, db, now)
    out.finish()
    return out.written


def write_database(out, db, now):
    out.put(bytes((OP_SELECTDB,)) + encode_length(db.id))
    out.put(bytes((OP_RESIZEDB,)) + encode_length(len(db.data)) + encode_length(len(db.expires)))
    expires = db.expires
    put = out.put
    for key, value in db.data.items():
        when = expires.get(key) if expires else None
        if when is not None:
            if when <= now:
                continue
            put(b"\xfc" + _pack_ms(when))
        if value.__class__ is bytes:
            n, k = len(value), len(key)
            if n < 64 and k < 64 and not (n <= 11 and value[:1] in b"-0123456789"):
                put(b"\x00" + _LEN1[k] + key + _LEN1[n] + value)
                continue
        kind, payload = encode_value(value)
        put(bytes((kind,)) + encode_string(key) + payload)


# ---------------------------------------------------------------- reading


class Snapshot:
    """What a dump holds: AUX fields and, per database, (key, value, expire_ms or None)."""

    def __init__(self):
        self.aux = {}
        self.databases = {}  # dbnum -> list of (key, value, expire_ms)
        self.version = RDB_VERSION


def read_snapshot(data: bytes, verify_checksum: bool = True, make_zset=None, progress=None) -> Snapshot:
    """Parse a whole RDB image. Raises RDBError naming the offset of the problem."""
    if make_zset is None:
        from ..datatypes.zset import ZSet

        make_zset = _zset_factory(ZSet)
    reader = _Reader(data, make_zset)
    try:
        return reader.read_all(verify_checksum, progress)
    except RDBError:
        raise
    except (IndexError, struct.error, ValueError, lzf.LZFError) as e:
        raise RDBError("unexpected end of file or malformed value (%s)" % e, reader.pos) from None


def _zset_factory(cls, max_entries=128, max_value=64):
    """Build zsets as Redis would hold them after a load (listpack while small)."""

    def make(pairs):
        compact = len(pairs) <= max_entries and all(len(m) <= max_value for m, _ in pairs)
        return cls.build(pairs, compact)

    return make


class _Reader:
    def __init__(self, data, make_zset):
        self.data = data if isinstance(data, (bytes, bytearray)) else bytes(data)
        self.pos = 0
        self.make_zset = make_zset

    def fail(self, reason):
        raise RDBError(reason, self.pos)

    def take(self, n):
        end = self.pos + n
        if end > len(self.data):
            self.fail("unexpected end of file")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def byte(self):
        if self.pos >= len(self.data):
            self.fail("unexpected end of file")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def read_all(self, verify_checksum, progress):
        head = self.take(9)
        if head[:5] != b"REDIS" or not head[5:].isdigit():
            raise RDBError("wrong signature: not an RDB file", 0)
        version = int(head[5:])
        if version < 1 or version > 11:
            raise RDBError("can't handle RDB format version %d" % version, 5)
        snap = Snapshot()
        snap.version = version
        db = snap.databases.setdefault(0, [])
        expire = None
        loaded = 0
        while True:
            op = self.byte()
            if op == OP_EOF:
                break
            if op == OP_SELECTDB:
                db = snap.databases.setdefault(self.length(), [])
            elif op == OP_RESIZEDB:
                self.length()
                self.length()
            elif op == OP_AUX:
                key = self.string()
                snap.aux[key.decode("latin-1")] = self.string()
            elif op == OP_EXPIRETIME_MS:
                expire = struct.unpack("<q", self.take(8))[0]
            elif op == OP_EXPIRETIME:
                expire = struct.unpack("<i", self.take(4))[0] * 1000
            elif op == OP_IDLE:
                self.length()
            elif op == OP_FREQ:
                self.byte()
            elif op in (OP_MODULE_AUX, OP_FUNCTION, OP_FUNCTION2):
                self.fail("modules and functions in RDB are not supported (opcode 0x%02X)" % op)
            else:
                key = self.string()
                db.append((key, self.value(op), expire))
                expire = None
                loaded += 1
                if progress is not None and loaded % 100000 == 0:
                    progress(loaded, self.pos, len(self.data))
        self._check_trailer(version, verify_checksum)
        return snap

    def _check_trailer(self, version, verify_checksum):
        if version < 5:
            return
        end = self.pos
        stored = struct.unpack("<Q", self.take(8))[0]
        if verify_checksum and stored != 0:
            actual = crc64(memoryview(self.data)[:end])
            if actual != stored:
                raise RDBError("RDB CRC error: checksum mismatch (stored %016x, computed %016x)" % (stored, actual), end)
        if self.pos != len(self.data):
            self.fail("trailing bytes after the RDB checksum")

    # -- primitives

    def length_or_encoding(self):
        """(value, is_encoded): a length, or a special string encoding id."""
        first = self.byte()
        kind = first >> 6
        if kind == 0:
            return first & 0x3F, False
        if kind == 1:
            return ((first & 0x3F) << 8) | self.byte(), False
        if kind == 3:
            return first & 0x3F, True
        if first == 0x80:
            return int.from_bytes(self.take(4), "big"), False
        if first == 0x81:
            return int.from_bytes(self.take(8), "big"), False
        self.fail("unknown length encoding 0x%02X" % first)

    def length(self):
        value, encoded = self.length_or_encoding()
        if encoded:
            self.fail("expected a length, found a string encoding")
        return value

    def string(self):
        value, encoded = self.length_or_encoding()
        if not encoded:
            return self.take(value)
        if value == ENC_INT8:
            return b"%d" % struct.unpack("<b", self.take(1))[0]
        if value == ENC_INT16:
            return b"%d" % struct.unpack("<h", self.take(2))[0]
        if value == ENC_INT32:
            return b"%d" % struct.unpack("<i", self.take(4))[0]
        if value == ENC_LZF:
            clen = self.length()
            ulen = self.length()
            return lzf.decompress(self.take(clen), ulen)
        self.fail("unknown string encoding %d" % value)

    def double_string(self):
        """Old ZSET scores: a length byte then ASCII (253 nan, 254 +inf, 255 -inf)."""
        n = self.byte()
        if n == 253:
            return float("nan")
        if n == 254:
            return float("inf")
        if n == 255:
            return float("-inf")
        return float(self.take(n))

    # -- values

    def value(self, kind):
        reader = _VALUE_READERS.get(kind)
        if reader is None:
            self.fail("unknown or unsupported value type %d" % kind)
        return reader(self)

    def read_list(self):
        return ListValue(self.string() for _ in range(self.length()))

    def read_set(self):
        return SetValue(self.string() for _ in range(self.length()))

    def read_hash(self):
        h = HashValue()
        for _ in range(self.length()):
            field = self.string()
            h[field] = self.string()
        return h

    def read_zset(self, binary):
        pairs = []
        for _ in range(self.length()):
            member = self.string()
            score = struct.unpack("<d", self.take(8))[0] if binary else self.double_string()
            pairs.append((member, score))
        return self.make_zset(pairs)

    def read_quicklist(self, version):
        items = ListValue()
        for _ in range(self.length()):
            container = self.length() if version == 2 else 2
            blob = self.string()
            if version == 2 and container == 1:
                items.append(blob)  # a PLAIN node holds one large element
            elif version == 2:
                items.extend(listpack_entries(blob, self.pos))
            else:
                items.extend(ziplist_entries(blob, self.pos))
        return items

    def read_pairs(self, entries):
        if len(entries) % 2:
            self.fail("odd number of elements in a pair encoding")
        return [(entries[i], entries[i + 1]) for i in range(0, len(entries), 2)]

    def read_hash_packed(self, entries_of):
        return HashValue(self.read_pairs(entries_of(self.string(), self.pos)))

    def read_zset_packed(self, entries_of):
        pairs = self.read_pairs(entries_of(self.string(), self.pos))
        return self.make_zset([(m, float(s)) for m, s in pairs])


_VALUE_READERS = {
    T_STRING: lambda r: r.string(),
    T_LIST: _Reader.read_list,
    T_SET: _Reader.read_set,
    T_HASH: _Reader.read_hash,
    T_ZSET: lambda r: r.read_zset(False),
    T_ZSET_2: lambda r: r.read_zset(True),
    T_LIST_ZIPLIST: lambda r: ListValue(ziplist_entries(r.string(), r.pos)),
    T_LIST_QUICKLIST: lambda r: r.read_quicklist(1),
    T_LIST_QUICKLIST_2: lambda r: r.read_quicklist(2),
    T_SET_INTSET: lambda r: SetValue(intset_entries(r.string(), r.pos)),
    T_SET_LISTPACK: lambda r: SetValue(listpack_entries(r.string(), r.pos)),
    T_HASH_ZIPLIST: lambda r: r.read_hash_packed(ziplist_entries),
    T_HASH_LISTPACK: lambda r: r.read_hash_packed(listpack_entries),
    T_HASH_ZIPMAP: lambda r: HashValue(zipmap_entries(r.string(), r.pos)),
    T_ZSET_ZIPLIST: lambda r: r.read_zset_packed(ziplist_entries),
    T_ZSET_LISTPACK: lambda r: r.read_zset_packed(listpack_entries),
}


# ---------------------------------------------------------------- packed encodings


def intset_entries(blob: bytes, offset: int = -1):
    if len(blob) < 8:
        raise RDBError("intset too short", offset)
    width, count = struct.unpack("<II", blob[:8])
    fmt = {2: "h", 4: "i", 8: "q"}.get(width)
    if fmt is None or len(blob) != 8 + width * count:
        raise RDBError("malformed intset", offset)
    return [b"%d" % v for v in struct.unpack("<%d%s" % (count, fmt), blob[8:])]


def ziplist_entries(blob: bytes, offset: int = -1):
    """Decode a ziplist: zlbytes, zltail, zllen, entries (prevlen, encoding, data), 0xFF."""
    if len(blob) < 11 or blob[-1] != 0xFF:
        raise RDBError("malformed ziplist", offset)
    out = []
    i, end = 10, len(blob) - 1
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


def listpack_entries(blob: bytes, offset: int = -1):
    """Decode a listpack: total bytes, count, entries (encoding, data, backlen), 0xFF."""
    if len(blob) < 7 or blob[-1] != 0xFF:
        raise RDBError("malformed listpack", offset)
    out = []
    i, end = 6, len(blob) - 1
    while i < end:
        enc = blob[i]
        if enc < 0x80:
            out.append(b"%d" % enc)
            size = 1
        elif enc >> 6 == 2:
            n = enc & 0x3F
            out.append(blob[i + 1 : i + 1 + n])
            size = 1 + n
        elif enc >> 5 == 6:
            value = ((enc & 0x1F) << 8) | blob[i + 1]
            out.append(b"%d" % (value - 8192 if value >= 4096 else value))
            size = 2
        elif enc >> 4 == 0xE:
            n = ((enc & 0x0F) << 8) | blob[i + 1]
            out.append(blob[i + 2 : i + 2 + n])
            size = 2 + n
        elif enc == 0xF0:
            n = int.from_bytes(blob[i + 1 : i + 5], "little")
            out.append(blob[i + 5 : i + 5 + n])
            size = 5 + n
        elif enc in _LP_INTS:
            width = _LP_INTS[enc]
            out.append(b"%d" % int.from_bytes(blob[i + 1 : i + 1 + width], "little", signed=True))
            size = 1 + width
        else:
            raise RDBError("unknown listpack encoding 0x%02X" % enc, offset)
        i += size + _backlen_size(size)
    if i != end:
        raise RDBError("malformed listpack entry", offset)
    return out


_LP_INTS = {0xF1: 2, 0xF2: 3, 0xF3: 4, 0xF4: 8}


def _backlen_size(entry_size: int) -> int:
    if entry_size < 128:
        return 1
    if entry_size < 16384:
        return 2
    if entry_size < 2097152:
        return 3
    if entry_size < 268435456:
        return 4
    return 5


def zipmap_entries(blob: bytes, offset: int = -1):
    """Decode a zipmap (Redis 2.x hashes): count byte, then (len key len free value)*, 0xFF."""
    out = []
    i = 1
    while blob[i] != 0xFF:
        klen, i = _zipmap_len(blob, i)
        key = blob[i : i + klen]
        i += klen
        vlen, i = _zipmap_len(blob, i)
        free = blob[i]
        i += 1
        out.append((key, blob[i : i + vlen]))
        i += vlen + free
    return out


def _zipmap_len(blob, i):
    if blob[i] < 254:
        return blob[i], i + 1
    return struct.unpack_from("<I", blob, i + 1)[0], i + 5


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
