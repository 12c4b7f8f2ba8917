"""A deterministic mixed write workload: every data type, several databases, TTLs,
commands that propagate in a rewritten form (INCRBYFLOAT, SPOP, EXPIRE), transactions."""

import random


def write_workload(client, seed: int, count: int = 300, prefix: str = "k"):
    """Send `count` writes (pipelined in batches); the same seed sends the same writes."""
    rng = random.Random(seed)
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        _one(pipe, rng, "%s%d" % (prefix, rng.randrange(40)), i)
        if i % 50 == 49:
            pipe.execute()
    pipe.execute()


def _one(pipe, rng, key, i):
    kind = rng.randrange(12)
    if kind == 0:
        pipe.set(key + ":s", "v%d" % i)
    elif kind == 1:
        pipe.set(key + ":t", "t%d" % i, px=rng.randrange(50, 100000))
    elif kind == 2:
        pipe.incrbyfloat(key + ":f", rng.random())
    elif kind == 3:
        pipe.hset(key + ":h", mapping={"f%d" % rng.randrange(5): i})
    elif kind == 4:
        pipe.rpush(key + ":l", *["e%d" % j for j in range(rng.randrange(1, 4))])
    elif kind == 5:
        pipe.lpop(key + ":l")
    elif kind == 6:
        pipe.sadd(key + ":set", *["m%d" % rng.randrange(20) for _ in range(3)])
    elif kind == 7:
        pipe.spop(key + ":set")
    elif kind == 8:
        pipe.zadd(key + ":z", {"m%d" % rng.randrange(10): rng.random() * 100})
    elif kind == 9:
        pipe.execute_command("SELECT", rng.randrange(3))
        pipe.set(key + ":db", i)
        pipe.execute_command("SELECT", 0)
    elif kind == 10:
        pipe.expire(key + ":s", rng.randrange(100, 1000))
    else:
        pipe.execute_command("MULTI")
        pipe.incr(key + ":n")
        pipe.delete(key + ":h")
        pipe.execute_command("EXEC")
