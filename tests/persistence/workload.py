"""Datasets for the persistence tests and ways to compare two servers' contents.

`fill_mixed` writes every type in every encoding Redis 7.0 has for it (small
and large values: int, embstr/raw and LZF-compressible strings, quicklist
lists with listpack and plain nodes, intset and hashtable sets, listpack and
hashtable hashes, listpack and skiplist zsets), in several databases, some
keys with TTLs. `ENCODINGS` says which key shows which encoding in Redis.
`contents` reads a server's whole dataset back for an exact comparison.
"""

import random

DATABASES = (0, 3, 9)

# key -> the OBJECT ENCODING Redis 7.0 reports for it after fill_mixed.
ENCODINGS = {
    b"str:int": b"int",
    b"str:embstr": b"embstr",
    b"str:raw": b"raw",
    b"str:lzf": b"raw",
    b"list:small": b"quicklist",
    b"list:big": b"quicklist",
    b"list:plain": b"quicklist",
    b"set:intset": b"intset",
    b"set:ht": b"hashtable",
    b"hash:listpack": b"listpack",
    b"hash:ht": b"hashtable",
    b"zset:listpack": b"listpack",
    b"zset:skiplist": b"skiplist",
}


def fill_mixed(client, seed=7, scale=1):
    rnd = random.Random(seed)
    pipe = client.pipeline(transaction=False)
    for db in DATABASES:
        pipe.execute_command("SELECT", db)
        tag = b"%d" % db
        pipe.set(b"str:int", 123456789 + db)
        pipe.set(b"str:embstr", b"short value " + tag)
        pipe.set(b"str:raw", bytes(rnd.getrandbits(8) for _ in range(300)))
        pipe.set(b"str:lzf", b"compressible " * 40 + tag)  # LZF in Redis's dump
        for i, v in enumerate((b"-1", b"0", b"127", b"-128", b"32767", b"-32768", b"2147483647", b"-2147483648", b"9223372036854775807", b"007", b"1e5", b"", b"+1")):
            pipe.set(b"str:edge:%d" % i, v)
        pipe.rpush(b"list:small", b"a", 1, -2, 300, 70000, 2**40, b"x" * 30, b"")
        pipe.rpush(b"list:big", *[(b"item:%d:" % i) * (1 + i % 5) for i in range(3000 * scale)])
        pipe.rpush(b"list:plain", b"p" * 9000, b"q")  # a node over 8 KB is PLAIN in 7.0
        pipe.sadd(b"set:intset", *range(-50, 400, 7))
        pipe.sadd(b"set:intset64", *[2**40 + i for i in range(5)], -(2**62))
        pipe.sadd(b"set:ht", *[b"member:%d" % i for i in range(200 * scale)])
        pipe.hset(b"hash:listpack", mapping={b"f%d" % i: (i * 1000 if i % 3 else b"val:%d" % i) for i in range(30)})
        pipe.hset(b"hash:ht", mapping={b"field:%d" % i: b"v" * (i % 100) for i in range(700 * scale)})
        pipe.zadd(b"zset:listpack", {b"m%d" % i: i / 10 for i in range(40)})
        pipe.zadd(b"zset:edges", {b"inf": float("inf"), b"-inf": float("-inf"), b"big": 1e300, b"tiny": 5e-324, b"int": 3, b"neg": -2.5, b"zero": 0})
        pipe.zadd(b"zset:skiplist", {b"member:%d" % i: rnd.random() * 1000 for i in range(300 * scale)})
        pipe.zadd(b"zset:longmember", {b"L" * 100: 1})
        pipe.set(b"ttl:str", b"expires", px=3_600_000 + db)
        pipe.rpush(b"ttl:list", b"a", b"b")
        pipe.pexpire(b"ttl:list", 7_200_000)
        pipe.hset(b"ttl:hash", b"f", b"v")
        pipe.expire(b"ttl:hash", 10_000)
    pipe.execute_command("SELECT", 0)
    pipe.execute()


def fill_strings(client, count, prefix=b"key", start=0):
    pipe = client.pipeline(transaction=False)
    for i in range(start, start + count):
        pipe.set(b"%s:%d" % (prefix, i), b"value:%d" % i)
        if len(pipe) >= 5000:
            pipe.execute()
    pipe.execute()


def contents(client, databases=range(16)) -> dict:
    """(db, key) -> (type, value, has_ttl) for every key; values in comparable form."""
    out = {}
    for db in databases:
        client.execute_command("SELECT", db)
        for key in client.scan_iter(count=1000):
            kind = client.type(key)
            out[(db, key)] = (kind, _value(client, kind, key), client.pttl(key) > 0)
    client.execute_command("SELECT", 0)
    return out


def _value(client, kind, key):
    if kind == b"string":
        return client.get(key)
    if kind == b"list":
        return tuple(client.lrange(key, 0, -1))
    if kind == b"set":
        return frozenset(client.smembers(key))
    if kind == b"hash":
        return tuple(sorted(client.hgetall(key).items()))
    if kind == b"zset":
        return tuple(client.zrange(key, 0, -1, withscores=True))
    raise AssertionError("unexpected type %r" % kind)


def digest(client) -> bytes:
    return client.execute_command("DEBUG", "DIGEST")


def key_digests(client, databases=range(16)) -> dict:
    out = {}
    for db in databases:
        client.execute_command("SELECT", db)
        keys = list(client.scan_iter(count=1000))
        if keys:
            out.update(((db, k), d) for k, d in zip(keys, client.execute_command("DEBUG", "DIGEST-VALUE", *keys)))
    client.execute_command("SELECT", 0)
    return out
