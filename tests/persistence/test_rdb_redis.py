"""RDB both ways against real Redis 7.0, and DEBUG DIGEST against Redis's on the same data.

A dump written by triokv loads in redis-server with identical data, and a
dump written by redis-server from a mixed workload (every encoding Redis 7.0
has: checked with OBJECT ENCODING on the Redis side) loads in triokv with
identical data. Identical means the same DEBUG DIGEST (Redis's algorithm, which
this file also checks against Redis directly) and the same contents key by key.
"""

import os
import shutil
import time


from tests.persistence.workload import DATABASES, ENCODINGS, contents, digest, fill_mixed, key_digests


def _copy_dump(src_dir, dst_dir):
    os.makedirs(dst_dir, exist_ok=True)
    shutil.copy(os.path.join(src_dir, "dump.rdb"), os.path.join(dst_dir, "dump.rdb"))


def test_digest_is_redis_algorithm(tmp_path, spawn):
    """The same commands on both servers give the same DEBUG DIGEST and DIGEST-VALUEs."""
    ours = spawn("triokv", tmp_path / "t").client()
    theirs = spawn("redis", tmp_path / "r").client()
    assert digest(ours) == digest(theirs) == b"0" * 40  # an empty dataset
    for client in (ours, theirs):
        fill_mixed(client, scale=1)
        client.zadd(b"zset:fractions", {b"a": 0.1, b"b": 1 / 3, b"c": -0.0, b"d": 2.5e-7, b"e": 123456789.125})
        client.set(b"binary", bytes(range(256)))
    assert key_digests(ours) == key_digests(theirs)
    assert digest(ours) == digest(theirs)
    ours.delete(b"str:int")
    assert digest(ours) != digest(theirs)


def test_triokv_dump_loads_in_redis(tmp_path, spawn):
    node = spawn("triokv", tmp_path / "t")
    ours = node.client()
    fill_mixed(ours)
    expected, expected_digest = contents(ours), digest(ours)
    assert ours.save()
    _copy_dump(tmp_path / "t", tmp_path / "r")
    redis = spawn("redis", tmp_path / "r").wait_loaded()
    theirs = redis.client()
    assert "Done loading RDB, keys loaded: %d" % len(expected) in redis.log_text()
    assert digest(theirs) == expected_digest
    assert contents(theirs) == expected
    # Redis picked its own encodings from what we wrote (listpacks stayed compact).
    theirs.execute_command("SELECT", DATABASES[0])
    for key, encoding in ENCODINGS.items():
        assert theirs.object("encoding", key) == encoding, key


def test_redis_dump_loads_in_triokv(tmp_path, spawn):
    redis = spawn("redis", tmp_path / "r")
    theirs = redis.client()
    fill_mixed(theirs)
    theirs.execute_command("SELECT", DATABASES[0])
    for key, encoding in ENCODINGS.items():
        assert theirs.object("encoding", key) == encoding, key
    expected, expected_digest = contents(theirs), digest(theirs)
    assert theirs.save()
    with open(tmp_path / "r" / "dump.rdb", "rb") as f:
        dump = f.read()
    assert dump.startswith(b"REDIS0010")
    _copy_dump(tmp_path / "r", tmp_path / "t")
    node = spawn("triokv", tmp_path / "t").wait_loaded()
    ours = node.client()
    assert digest(ours) == expected_digest
    assert contents(ours) == expected
    assert "keys loaded: %d" % len(expected) in node.log_text()


def test_expired_keys_in_a_dump_are_not_loaded(tmp_path, spawn):
    redis = spawn("redis", tmp_path / "r")
    theirs = redis.client()
    theirs.set(b"soon", b"x", px=300)
    theirs.set(b"stays", b"y")
    theirs.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    theirs.save()
    time.sleep(0.4)
    _copy_dump(tmp_path / "r", tmp_path / "t")
    node = spawn("triokv", tmp_path / "t").wait_loaded()
    ours = node.client()
    assert ours.keys(b"*") == [b"stays"]
    assert "keys loaded: 1, keys expired: 1" in node.log_text()
