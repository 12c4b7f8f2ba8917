"""RDB encoding and decoding without sockets: round trips, packed encodings, corrupt files."""

import io
import struct

import pytest

from node.datatypes.zset import ZSet
from node.keyspace import HashValue, Keyspace, ListValue, SetValue
from node.persistence import lzf, rdb
from node.persistence.crc64 import crc64

NOW = 1_700_000_000_000


def make_keyspace():
    ks = Keyspace(16, clock=lambda: NOW)
    db = ks.dbs[0]
    db.set(b"str", b"hello")
    db.set(b"int", b"-12345")
    db.set(b"bigint", b"12345678901234567890")
    db.set(b"long", b"x" * 20000)
    db.set(b"list", ListValue([b"a", b"1", b"c" * 300]))
    db.set(b"hash", HashValue({b"f": b"v", b"n": b"7"}))
    db.set(b"set", SetValue({b"a", b"b", b"3"}))
    db.set(b"zset", ZSet.build([(b"m", 1.5), (b"n", -2.0), (b"inf", float("inf"))], True))
    db.set(b"ttl", b"v")
    db.set_expire(b"ttl", NOW + 60_000)
    db.set(b"gone", b"v")
    db.set_expire(b"gone", NOW - 1)
    ks.dbs[5].set(b"other", b"db5")
    return ks


def dump(ks, aux=None):
    buf = io.BytesIO()
    rdb.write_snapshot(ks, buf.write, aux or {"redis-ver": "7.0.15"})
    return buf.getvalue()


def contents(ks):
    out = {}
    for db in ks.dbs:
        for key, value in db.data.items():
            if isinstance(value, ZSet):
                value = list(value.items())
            elif isinstance(value, (SetValue,)):
                value = sorted(value)
            elif isinstance(value, ListValue):
                value = list(value)
            elif isinstance(value, HashValue):
                value = dict(value)
            out[(db.id, key)] = (value, db.expires.get(key))
    return out


def test_round_trip_keeps_every_type_database_and_expiry():
    ks = make_keyspace()
    data = dump(ks)
    assert data.startswith(b"REDIS0010")
    loaded = Keyspace(16, clock=lambda: NOW)
    rdb.load_into(loaded, rdb.read_snapshot(data))
    expected = contents(ks)
    del expected[(0, b"gone")]  # already expired when saved
    assert contents(loaded) == expected


def test_trailer_is_crc64_of_the_body():
    data = dump(make_keyspace())
    assert struct.unpack("<Q", data[-8:])[0] == crc64(data[:-8])
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA


@pytest.mark.parametrize("position", [9, 40, -20, -3])
def test_a_flipped_byte_is_refused_with_an_offset(position):
    data = bytearray(dump(make_keyspace()))
    data[position] ^= 0x55
    with pytest.raises(rdb.RDBError) as err:
        rdb.read_snapshot(bytes(data))
    assert "offset" in str(err.value)


def test_every_truncation_is_refused():
    data = dump(make_keyspace())
    for cut in range(0, len(data) - 1, 97):
        with pytest.raises(rdb.RDBError):
            rdb.read_snapshot(data[:cut])


def test_not_an_rdb_file():
    with pytest.raises(rdb.RDBError, match="signature"):
        rdb.read_snapshot(b"hello world, not a dump")


def test_lzf_literal_and_back_reference():
    # "abcabcabc": literal "abc" then a back reference of length 6 at distance 3.
    block = bytes([2]) + b"abc" + bytes([(4 << 5) | 0, 2])
    assert lzf.decompress(block, 9) == b"abcabcabc"
    with pytest.raises(lzf.LZFError):
        lzf.decompress(block, 10)


def _listpack(entries):
    body = b""
    for e in entries:
        if isinstance(e, int) and 0 <= e < 128:
            enc = bytes([e])
        elif isinstance(e, int):
            enc = b"\xf3" + struct.pack("<i", e)
        else:
            enc = bytes([0x80 | len(e)]) + e
        body += enc + bytes([len(enc)])
    total = 6 + len(body) + 1
    return struct.pack("<IH", total, len(entries)) + body + b"\xff"


def test_listpack_and_intset_decoding():
    assert rdb.listpack_entries(_listpack([b"a", 5, -70000, b"zz"])) == [b"a", b"5", b"-70000", b"zz"]
    intset = struct.pack("<II", 2, 3) + struct.pack("<3h", -1, 2, 300)
    assert rdb.intset_entries(intset) == [b"-1", b"2", b"300"]


def _ziplist(entries):
    body = b""
    for e in entries:
        if isinstance(e, int):
            enc = b"\xc0" + struct.pack("<h", e)
        else:
            enc = bytes([len(e)]) + e
        body += b"\x00" + enc
    return struct.pack("<IIH", 10 + len(body) + 1, 0, len(entries)) + body + b"\xff"


def test_ziplist_decoding_and_hash_from_ziplist():
    blob = _ziplist([b"f1", b"v1", b"f2", 1234])
    assert rdb.ziplist_entries(blob) == [b"f1", b"v1", b"f2", b"1234"]
    body = b"REDIS0009" + bytes([rdb.T_HASH_ZIPLIST]) + rdb.encode_string(b"h") + rdb.encode_string(blob) + b"\xff"
    snap = rdb.read_snapshot(body + struct.pack("<Q", crc64(body)))
    key, value, _ = snap.databases[0][0]
    assert key == b"h" and dict(value) == {b"f1": b"v1", b"f2": b"1234"}
