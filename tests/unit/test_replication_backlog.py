"""The replication backlog: a ring of the stream's last bytes, addressed by global offset."""

import random

import pytest

from replication.backlog import Backlog


def test_empty_backlog_reports_like_redis():
    b = Backlog(16, end=0)
    assert (b.first, b.histlen, b.end) == (1, 0, 0)
    assert b.contains(1)  # "nothing missing" is always servable
    assert not b.contains(0) and not b.contains(2)
    assert b.read_from(1) == b""


def test_backlog_created_at_an_offset_starts_after_it():
    b = Backlog(16, end=50)
    assert b.first == 51
    b.append(b"abc")
    assert (b.first, b.end) == (51, 53)
    assert b.read_from(52) == b"bc"


def test_ring_keeps_the_last_size_bytes():
    b = Backlog(8)
    b.append(b"0123456")
    b.append(b"789ab")
    assert (b.first, b.end, b.histlen) == (5, 12, 8)
    assert b.read_from(5) == b"456789ab"
    assert b.read_from(12) == b"b"
    assert b.read_from(13) == b""
    assert not b.contains(4)
    with pytest.raises(ValueError):
        b.read_from(4)


def test_an_append_larger_than_the_ring():
    b = Backlog(4)
    b.append(b"xy")
    b.append(b"abcdefgh")
    assert (b.first, b.end) == (7, 10)
    assert b.read_from(7) == b"efgh"


def test_matches_a_plain_model_under_random_appends():
    rng = random.Random(7)
    for size in (1, 5, 64):
        b = Backlog(size, end=100)
        stream = b""
        for _ in range(300):
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 3 * size)))
            b.append(data)
            stream += data
            held = stream[-size:] if stream else b""
            assert b.end == 100 + len(stream)
            assert b.histlen == len(held)
            offset = rng.randrange(b.first, b.end + 2)
            assert b.read_from(offset) == stream[offset - 101 :]


def test_resize_keeps_the_newest_bytes():
    b = Backlog(10)
    b.append(b"0123456789abc")
    b.resize(4)
    assert (b.first, b.end) == (10, 13)
    assert b.read_from(10) == b"9abc"
    b.resize(100)
    b.append(b"d")
    assert b.read_from(10) == b"9abcd"
    assert b.memory == 5
