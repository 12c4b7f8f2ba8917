"""The RDB codec in-process: every encoding both ways, the listpack fast paths, LZF, damaged files.

The fast paths (short strings parsed inline, listpacks of a known shape unpacked
in one call, listpack formats reused when saving) must give exactly what the
general code gives; a damaged or truncated dump must be refused with an offset
and leave the keyspace as it was.
"""

import io
import random
import struct

import pytest

from node.datatypes.zset import ZSet
from node.keyspace import HashValue, Keyspace, ListValue, SetValue
from node.persistence import lzf, rdb
from node.persistence.crc64 import crc64

NOW = 1_700_000_000_000


def keyspace():
    return Keyspace(16, clock=lambda: NOW)


def mixed(ks, rnd, big=True):
    """Every type in its encodings; big=False leaves out the large values (damage tests parse it thousands of times)."""
    db = ks.dbs[0]
    db.set(b"s:short", b"abc")
    db.set(b"s:int", b"-123")
    db.set(b"s:int64", b"9223372036854775807")
    db.set(b"s:notint", b"0123")
    db.set(b"s:lzf", b"abcdefgh" * 100)
    db.set(b"s:random", bytes(rnd.getrandbits(8) for _ in range(500)))
    db.set(b"s:empty", b"")
    db.set(b"k" * 200, b"long key")
    db.set(b"12345", b"numeric key")
    db.set(b"l", ListValue([b"a", b"1", b"-70000", b"x" * 300, b""]))
    if big:
        db.set(b"l:big", ListValue((b"item:%d" % i) * (1 + i % 9) for i in range(5000)))  # many quicklist nodes
        db.set(b"set:many", SetValue(b"%d" % i for i in range(1000)))
        db.set(b"h:many", HashValue((b"f%d" % i, b"v%d" % i) for i in range(600)))
        db.set(b"z:big", ZSet.build([(b"m%d" % i, rnd.random()) for i in range(300)], False))
    db.set(b"set:ints", SetValue({b"1", b"-5", b"70000", b"9223372036854775807"}))
    db.set(b"set:mixed", SetValue({b"1", b"a"}))
    db.set(b"h:small", HashValue({b"f": b"v", b"n": b"7", b"e": b"", b"big": b"123456789012"}))
    db.set(b"h:wide", HashValue({b"f": b"x" * 100}))
    db.set(b"z:small", ZSet.build([(b"a", 1.5), (b"b", -2.0), (b"c", float("inf")), (b"d", 0.1), (b"e", 3.0), (b"f", -1e300)], True))
    db.set(b"ttl", b"v")
    db.set_expire(b"ttl", NOW + 60_000)
    db.set(b"gone", b"v")
    db.set_expire(b"gone", NOW - 1)
    ks.dbs[7].set(b"other", b"db7")


def dump(ks, limits=None):
    buf = io.BytesIO()
    rdb.write_snapshot(ks, buf.write, {"redis-ver": "7.0.15"}, limits=limits)
    return buf.getvalue()


def contents(ks):
    out = {}
    for db in ks.dbs:
        for key, value in db.data.items():
            if isinstance(value, ZSet):
                value = ("zset", tuple(value.items()))
            elif isinstance(value, SetValue):
                value = ("set", frozenset(value))
            elif isinstance(value, ListValue):
                value = ("list", tuple(value))
            elif isinstance(value, HashValue):
                value = ("hash", tuple(sorted(value.items())))
            out[(db.id, key)] = (value, db.expires.get(key))
    return out


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("compact", [True, False])
def test_every_type_round_trips(compress, compact):
    ks = keyspace()
    mixed(ks, random.Random(1))
    limits = rdb.Limits(compress=compress) if compact else rdb.Limits(hash_entries=0, intset_entries=0, compress=compress)
    data = dump(ks, limits)
    loaded = keyspace()
    parsed = rdb.load(loaded, data)
    expected = contents(ks)
    del expected[(0, b"gone")]
    assert contents(loaded) == expected
    assert parsed.loaded == len(expected) and parsed.expired == 0  # the writer skips expired keys
    later = rdb.load(keyspace(), data, now_ms=NOW + 120_000)
    assert later.expired == 1 and later.loaded == len(expected) - 1
    # What the keyspace keeps beside the values: expiry heap, string bytes, sizes to estimate.
    db = loaded.dbs[0]
    assert db._heap == [(NOW + 60_000, b"ttl")]
    assert db.string_bytes == sum(len(v) for v in db.data.values() if v.__class__ is bytes)
    assert loaded.memory() > 0


def test_compact_encodings_are_written_as_redis_does():
    ks = keyspace()
    mixed(ks, random.Random(2))
    data = dump(ks)
    kinds = {}
    for key, value in ks.dbs[0].data.items():
        kinds[key] = rdb.encode_value(value)[0]
    assert kinds[b"l"] == kinds[b"l:big"] == rdb.T_LIST_QUICKLIST_2
    assert rdb.encode_value(ks.dbs[0].data[b"l:big"])[1][0] > 1  # nodes of about 8 KB
    assert kinds[b"h:small"] == rdb.T_HASH_LISTPACK
    assert kinds[b"h:wide"] == rdb.T_HASH  # a value over hash-max-listpack-value
    assert kinds[b"h:many"] == rdb.T_HASH  # 600 fields > hash-max-listpack-entries
    assert kinds[b"set:ints"] == rdb.T_SET_INTSET
    assert kinds[b"set:mixed"] == rdb.T_SET
    assert kinds[b"z:small"] == rdb.T_ZSET_LISTPACK
    assert kinds[b"z:big"] == rdb.T_ZSET_2
    # LZF: the 800-byte repetitive string takes a few dozen bytes.
    if lzf.AVAILABLE:
        assert len(rdb.encode_string(b"abcdefgh" * 100, True)) < 60
        assert len(data) < len(dump(ks, rdb.Limits(compress=False))) / 2


def test_scores_in_a_listpack_are_d2string():
    assert rdb.score_bytes(3.0) == b"3"
    assert rdb.score_bytes(-0.0) == b"-0"
    assert rdb.score_bytes(0.1) == b"0.10000000000000001"
    assert rdb.score_bytes(float("inf")) == b"inf"
    assert rdb.score_bytes(float("-inf")) == b"-inf"
    assert rdb.score_bytes(4503599627370496.0) == b"4503599627370496"  # %.17g past the exact range


def _random_element(rnd):
    choice = rnd.random()
    if choice < 0.3:
        return b"%d" % rnd.choice([0, 127, 128, -1, 4095, -4096, 32767, -32768, 2**23 - 1, -(2**23), 2**31 - 1, -(2**31), 2**63 - 1, -(2**63), rnd.randrange(-10**6, 10**6)])
    if choice < 0.4:
        return bytes(rnd.getrandbits(8) for _ in range(rnd.choice([64, 100, 4095, 4096, 5000])))
    return bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 64)))


def test_listpacks_of_every_entry_kind_round_trip():
    rnd = random.Random(3)
    for _ in range(300):
        elements = [_random_element(rnd) for _ in range(rnd.randrange(0, 40))]
        blob = rdb.build_listpack(elements)
        assert struct.unpack_from("<I", blob)[0] == len(blob)
        assert rdb.listpack_entries(blob) == elements
        assert list(rdb._listpack(blob, 0)) == elements


def test_listpack_shape_cache_never_confuses_listpacks_of_one_length():
    """Listpacks of the same total length but other entries must not be read with a learnt shape."""
    rnd = random.Random(4)
    for _ in range(2000):
        # Few lengths, so that the cache keeps hitting and missing.
        count = rnd.randrange(1, 5)
        elements = [bytes(rnd.choice(b"ab19-") for _ in range(rnd.randrange(0, 6))) for _ in range(count)]
        if rnd.random() < 0.3:
            elements[rnd.randrange(count)] = b"%d" % rnd.randrange(0, 200)
        body = b"".join(rdb._lp_entry(e) if rnd.random() < 0.5 else rdb._LP_STR6[len(e)] + e + rdb._LP_BACK6[len(e)] for e in elements)
        blob = struct.pack("<IH", len(body) + 7, len(elements)) + body + b"\xff"
        assert list(rdb._listpack(blob, 0)) == elements
        # The save side: formats learnt for one shape give the same bytes as the general path.
        built = rdb.build_listpack(elements)
        assert rdb.listpack_entries(built) == elements


def test_listpack_integers_are_decoded():
    blob = rdb.build_listpack([b"0", b"127", b"-4096", b"-32768", b"8388607", b"-2147483648", b"9223372036854775807", b"x" * 70])
    # Short numbers go in as strings (Redis reads those by their bytes); long elements through _lp_entry.
    assert rdb.listpack_entries(blob)[-1] == b"x" * 70
    for value in (0, 127, -4096, -32768, 8388607, -2147483648, 9223372036854775807, -9223372036854775808):
        entry = rdb._lp_entry(b"%d" % value)
        blob = struct.pack("<IH", len(entry) + 7, 1) + entry + b"\xff"
        assert rdb.listpack_entries(blob) == [b"%d" % value]


def test_lzf_python_fallback_reads_what_liblzf_writes():
    rnd = random.Random(5)
    for _ in range(50):
        text = bytes(rnd.choice(b"abcab ") for _ in range(rnd.randrange(30, 3000)))
        packed = lzf.compress(text)
        if packed is None:
            continue
        assert lzf._decompress_py(packed, len(text)) == text
        assert lzf.decompress(packed, len(text)) == text
        with pytest.raises(lzf.LZFError):
            lzf.decompress(packed, len(text) + 1)
    with pytest.raises(lzf.LZFError):
        lzf.decompress(b"\x00a", 10**9)  # a declared length no block of 2 bytes can reach


def test_every_flipped_byte_is_refused_and_nothing_is_loaded():
    ks = keyspace()
    mixed(ks, random.Random(6), big=False)
    ks.dbs[0].delete(b"s:random")
    data = dump(ks, rdb.Limits(compress=True))
    target = keyspace()
    target.dbs[2].set(b"before", b"kept")
    for position in range(9, len(data), 7):
        damaged = bytearray(data)
        damaged[position] ^= 0x5A
        with pytest.raises(rdb.RDBError) as err:
            rdb.load(target, bytes(damaged))
        assert "offset" in str(err.value)
        assert contents(target) == {(2, b"before"): (b"kept", None)}


def test_every_truncation_is_refused():
    ks = keyspace()
    mixed(ks, random.Random(7), big=False)
    data = dump(ks)
    for cut in range(0, len(data) - 1, 13):
        with pytest.raises(rdb.RDBError):
            rdb.parse(data[:cut])
    with pytest.raises(rdb.RDBError, match="trailing"):
        rdb.parse(data + b"x")


def test_a_dump_without_checksum_loads():
    ks = keyspace()
    ks.dbs[0].set(b"a", b"1")
    data = dump(ks)
    unchecked = data[:-8] + bytes(8)  # rdbchecksum no writes a zero checksum
    assert rdb.read_snapshot(unchecked).databases[0][0][:2] == (b"a", b"1")


def test_duplicate_keys_and_empty_collections():
    body = bytearray(b"REDIS0010\xfe\x00")
    body += b"\x00\x01a\x01x" + b"\x00\x01a\x01y"
    data = bytes(body) + b"\xff" + struct.pack("<Q", crc64(bytes(body) + b"\xff"))
    with pytest.raises(rdb.RDBError, match="duplicate"):
        rdb.parse(data)
    body = bytearray(b"REDIS0010\xfe\x00")
    body += b"\x01\x01l\x00" + b"\x00\x01k\x01v"  # an empty list is skipped, as Redis does
    data = bytes(body) + b"\xff" + struct.pack("<Q", crc64(bytes(body) + b"\xff"))
    parsed = rdb.parse(data)
    assert parsed.empty_skipped == 1 and list(parsed.dbs[0].data) == [b"k"]


def test_too_many_databases_is_refused_with_the_offset():
    ks = keyspace()
    ks.dbs[12].set(b"k", b"v")
    data = dump(ks)
    with pytest.raises(rdb.RDBError, match="database 12") as err:
        rdb.load(Keyspace(4), data)
    assert err.value.offset > 0
