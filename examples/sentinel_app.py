"""A small application on a Sentinel-managed Redis (or triokv) master that rides out failovers.

Writes go to the master (`master_for`), reads to a replica (`slave_for`); redis-py asks the
sentinels where they are whenever it (re)connects. The retry policy below turns a failover into
a pause of a few seconds instead of a crash. See examples/README.md for why each setting is there.

    triokv cluster up                      # or any Sentinel deployment
    python examples/sentinel_app.py        # Ctrl-C to stop; run `triokv failover` meanwhile
    python examples/sentinel_app.py --sentinel 127.0.0.1:26379 --master mymaster --count 50
"""

import argparse
import time

from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError, ReadOnlyError, RedisError, TimeoutError
from redis.retry import Retry
from redis.sentinel import Sentinel

# Give up on an operation only after the sentinels had time to notice the failure and promote
# a replica: down-after-milliseconds plus an election, about 6-8 s with down-after at 5 s.
# Exponential backoff with jitter (50 ms doubling, capped at 1 s) keeps thousands of clients
# from reconnecting in lockstep; 12 attempts wait up to about 9 s in all.
RETRY = Retry(ExponentialWithJitterBackoff(cap=1.0, base=0.05), retries=12)
# Errors that mean "the master moved or is moving": retry them (with a fresh connection, which
# asks the sentinels again). ReadOnlyError: we reached a demoted master that is now a replica.
RETRY_ON = [ConnectionError, TimeoutError, ReadOnlyError]
# A frozen server must not freeze us: short socket timeouts turn a hang into a retry.
TIMEOUTS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}


def connect(sentinels, name):
    """(master client, replica client) that follow failovers."""
    sentinel = Sentinel(sentinels, sentinel_kwargs=dict(TIMEOUTS), **TIMEOUTS)
    options = dict(TIMEOUTS, retry=RETRY, retry_on_error=RETRY_ON, health_check_interval=5, decode_responses=True)
    return sentinel.master_for(name, **options), sentinel.slave_for(name, **options)


def parse_args():
    p = argparse.ArgumentParser(description="Count up on the master, read back from a replica, through failovers.")
    p.add_argument("--sentinel", action="append", metavar="HOST:PORT", help="a sentinel (repeatable; default 127.0.0.1:26379-26381)")
    p.add_argument("--master", default="mymaster", help="the master name the sentinels monitor")
    p.add_argument("--count", type=int, help="stop after this many rounds (default: until Ctrl-C)")
    p.add_argument("--interval", type=float, default=0.2, help="seconds between rounds")
    args = p.parse_args()
    addrs = args.sentinel or ["127.0.0.1:26379", "127.0.0.1:26380", "127.0.0.1:26381"]
    args.sentinels = [(a.rpartition(":")[0], int(a.rpartition(":")[2])) for a in addrs]
    return args


def main():
    args = parse_args()
    master, replica = connect(args.sentinels, args.master)
    rounds = 0
    try:
        while args.count is None or rounds < args.count:
            rounds += 1
            started = time.monotonic()
            try:
                value = master.incr("example:counter")
                # A replica may lag a little behind the master: reads can be slightly stale.
                seen = replica.get("example:counter")
                where = "%s:%s" % master.connection_pool.get_master_address()
                print("round %d: wrote %d on %s, replica has %s (%.0f ms)" % (rounds, value, where, seen, (time.monotonic() - started) * 1000), flush=True)
            except RedisError as e:
                # Retries exhausted: the failover took longer than our budget. Report and go on.
                print("round %d: failed after retries: %s: %s" % (rounds, type(e).__name__, e), flush=True)
            time.sleep(args.interval)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
