"""The comparison itself: rules that forgive only what they should, and a Pair that notices."""

import pytest

from tests.resp_wire import parse

from .compare import Mismatch, Pair
from .normalise import normalise


def node(raw: bytes):
    return parse(raw)[0]


def same(args, a: bytes, b: bytes) -> bool:
    return normalise(node(a), args) == normalise(node(b), args)


def test_exact_by_default():
    assert same([b"GET", b"k"], b"$1\r\nv\r\n", b"$1\r\nv\r\n")
    assert not same([b"GET", b"k"], b"$1\r\nv\r\n", b"+v\r\n")
    assert not same([b"LRANGE", b"l", b"0", b"-1"], b"*2\r\n$1\r\na\r\n$1\r\nb\r\n", b"*2\r\n$1\r\nb\r\n$1\r\na\r\n")


def test_unordered_listings_keep_content_and_type():
    args = [b"SMEMBERS", b"s"]
    assert same(args, b"*2\r\n$1\r\na\r\n$1\r\nb\r\n", b"*2\r\n$1\r\nb\r\n$1\r\na\r\n")
    assert not same(args, b"*2\r\n$1\r\na\r\n$1\r\nb\r\n", b"*2\r\n$1\r\na\r\n$1\r\nc\r\n")
    assert not same(args, b"~1\r\n$1\r\na\r\n", b"*1\r\n$1\r\na\r\n")


def test_hgetall_keeps_pairs_together():
    args = [b"HGETALL", b"h"]
    assert same(args, b"*4\r\n$1\r\nf\r\n$1\r\n1\r\n$1\r\ng\r\n$1\r\n2\r\n", b"*4\r\n$1\r\ng\r\n$1\r\n2\r\n$1\r\nf\r\n$1\r\n1\r\n")
    assert not same(args, b"*4\r\n$1\r\nf\r\n$1\r\n1\r\n$1\r\ng\r\n$1\r\n2\r\n", b"*4\r\n$1\r\nf\r\n$1\r\n2\r\n$1\r\ng\r\n$1\r\n1\r\n")


def test_random_picks_compare_shape_and_errors_exactly():
    args = [b"SRANDMEMBER", b"s", b"2"]
    assert same(args, b"*2\r\n$1\r\na\r\n$1\r\nb\r\n", b"*2\r\n$1\r\nc\r\n$1\r\nd\r\n")
    assert not same(args, b"*2\r\n$1\r\na\r\n$1\r\nb\r\n", b"*1\r\n$1\r\nc\r\n")
    assert not same(args, b"-ERR a\r\n", b"-ERR b\r\n")


def test_ttl_tolerance_never_confuses_missing_and_persistent():
    args = [b"TTL", b"k"]
    assert same(args, b":100\r\n", b":99\r\n")
    assert not same(args, b":100\r\n", b":98\r\n")
    assert not same(args, b":-1\r\n", b":-2\r\n")
    assert not same(args, b":0\r\n", b":-1\r\n")


def test_pair_reports_a_difference(redis, triokv):
    pair = Pair(redis, triokv)
    try:
        pair.triokv.conn(1).call("SET", "k", "only-on-triokv")
        pair.run(["GET", "k"])
        with pytest.raises(Mismatch, match="only-on-triokv"):
            pair.assert_clean()
    finally:
        pair.close()


def test_full_scan_compares_the_union(redis, triokv):
    pair = Pair(redis, triokv)
    try:
        pair.run(["MSET"] + [x for i in range(40) for x in ("k%d" % i, "v")])
        pair.run(["SCAN", "0", "COUNT", "3"])
        pair.assert_clean()
        pair.triokv.conn(1).call("SET", "extra", "v")
        pair.run(["SCAN", "0", "COUNT", "3"])
        with pytest.raises(Mismatch, match="full scan"):
            pair.assert_clean()
    finally:
        pair.close()


def test_spop_leaves_both_sets_equal(redis, triokv):
    pair = Pair(redis, triokv)
    try:
        pair.run(["SADD", "s"] + ["m%d" % i for i in range(20)])
        pair.run(["SPOP", "s", "7"])
        pair.run(["SPOP", "s"])
        pair.run(["SMEMBERS", "s"])
        pair.assert_clean()
    finally:
        pair.close()
