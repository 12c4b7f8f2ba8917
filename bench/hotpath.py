"""The batch hot path in-process: microseconds per request, without sockets or Redis.

    python bench/hotpath.py [--pipeline 16] [--rounds 20000] [--repeat 7] [get set incr ...]

Each round feeds one chunk of `--pipeline` identical requests (as redis-benchmark sends them)
to a RequestReader, runs them with Node.run_ready, and joins the replies: the per-request
work of a pipelining client, minus the kernel and trio. The best of `--repeat` timings is
printed. Steadier than throughput ratios on a shared machine, but a timing all the same:
for a change of a few percent, count instructions instead, e.g.

    valgrind --tool=callgrind python bench/hotpath.py --rounds 3000 --repeat 1 incr

and subtract a run with --rounds 0 (startup), divided by rounds x pipeline.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from node.config import Config  # noqa: E402
from node.core import Node  # noqa: E402
from node.protocol import RequestReader  # noqa: E402
from node.resp import encode_command  # noqa: E402

# The requests redis-benchmark sends for its tests (without -r, every key is the literal name).
REQUESTS = {
    "get": [b"GET", b"key:__rand_int__"],
    "set": [b"SET", b"key:__rand_int__", b"xxx"],
    "incr": [b"INCR", b"counter:__rand_int__"],
    "lpush": [b"LPUSH", b"mylist", b"xxx"],
    "rpop": [b"RPOP", b"mylist"],
    "sadd": [b"SADD", b"myset", b"element:__rand_int__"],
    "hset": [b"HSET", b"myhash", b"element:__rand_int__", b"xxx"],
    "zadd": [b"ZADD", b"myzset", b"0", b"element:__rand_int__"],
    "mset": [b"MSET"] + [b"key:__rand_int__", b"xxx"] * 10,
}


def measure(name: str, pipeline: int, rounds: int, repeat: int) -> float:
    """Best microseconds per request over `repeat` timings of `rounds` rounds (0 with none:
    the startup-only run to subtract under callgrind)."""
    node = Node(Config())
    client = node.new_client("127.0.0.1:1")
    reader = RequestReader()
    node.execute(client, [b"SET", b"key:__rand_int__", b"xxx"])
    if name == "rpop":  # a list that lasts the whole measurement
        node.execute(client, [b"RPUSH", b"mylist"] + [b"x"] * (rounds * pipeline * repeat + 1))
    client.out.clear()
    if not rounds:
        return 0.0
    chunk = encode_command(REQUESTS[name]) * pipeline
    replies = _one_round(reader, node, client, chunk)
    if (b"\r\n" + replies).count(b"\r\n-"):
        raise SystemExit("%s replies with an error, not worth timing: %r" % (name, replies[:200]))
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(rounds):
            _one_round(reader, node, client, chunk)
        best = min(best, (time.perf_counter() - started) / (rounds * pipeline) * 1e6)
    return best


def _one_round(reader, node, client, chunk) -> bytes:
    """One chunk read, run and answered: the replies, joined as they would be sent."""
    requests, _failure = reader.feed(chunk)
    node.run_ready(client, requests, 0.0)
    replies = b"".join(client.out)
    client.out.clear()
    return replies


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # (No `choices`: Python 3.11's argparse checks an empty "*" list against them and fails.)
    parser.add_argument("tests", nargs="*", help="of: %s (default: get set incr)" % " ".join(sorted(REQUESTS)))
    parser.add_argument("--pipeline", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    unknown = [name for name in args.tests if name not in REQUESTS]
    if unknown:
        parser.error("unknown test(s) %s; known: %s" % (", ".join(unknown), " ".join(sorted(REQUESTS))))
    for name in args.tests or ["get", "set", "incr"]:
        print("%-6s %.3f us a request (-P %d, in-process)" % (name.upper(), measure(name, args.pipeline, args.rounds, args.repeat), args.pipeline))


if __name__ == "__main__":
    main()
