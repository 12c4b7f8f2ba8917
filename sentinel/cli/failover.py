"""`triokv failover`: SENTINEL FAILOVER through a sentinel, then wait for +switch-master.

The watcher subscribes on every sentinel before the failover is asked for, so the switch cannot
be missed however fast it is.
"""

import json
import time

import redis

from . import CliError, probe, target
from .events import Watcher

SUBSCRIBE_TIMEOUT = 5.0


def switch_of(name: str):
    """A predicate: +switch-master for this master name."""
    return lambda e: e.channel == "+switch-master" and e.payload.split()[:1] == [name]


def ask_failover(sentinels, name: str) -> tuple:
    """Send SENTINEL FAILOVER to the first sentinel that answers; (that sentinel, the master before).
    A refusal (-NOGOODSLAVE, -INPROG, unknown master) is a CliError carrying the sentinel's words."""
    errors = []
    for addr in sentinels:
        try:
            before = probe.call(addr, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)
            if not before:
                raise CliError("sentinel %s does not monitor a master named %r" % (probe.fmt(addr), name))
            probe.call(addr, "SENTINEL", "FAILOVER", name)
            return addr, (before[0], int(before[1]))
        except redis.ResponseError as e:
            raise CliError("sentinel %s refused the failover: %s" % (probe.fmt(addr), e))
        except (redis.RedisError, OSError) as e:
            errors.append("%s: %s" % (probe.fmt(addr), e))
    raise CliError("no sentinel answered (%s)" % "; ".join(errors))


def run(args, progress) -> int:
    sentinels, name = target.resolve(args)
    with Watcher(sentinels) as watcher:
        watcher.wait_subscribed(progress, SUBSCRIBE_TIMEOUT)
        start = time.monotonic()
        asked, before = ask_failover(sentinels, name)
        progress.note("failover of %s requested through %s (master was %s)" % (name, probe.fmt(asked), probe.fmt(before)))
        progress.note("waiting for +switch-master (up to %.0fs)" % args.timeout)
        event = watcher.wait_for(switch_of(name), args.timeout, since=start)
    if event is None:
        raise CliError("no +switch-master for %s within %.0fs (see `triokv status`)" % (name, args.timeout))
    parts = event.payload.split()
    after = (parts[3], int(parts[4]))
    took = event.t - start
    if args.json:
        print(json.dumps({"master_name": name, "old_master": probe.fmt(before), "new_master": probe.fmt(after), "seconds": round(took, 3), "sentinel": event.sentinel}))
    else:
        print("%s failed over from %s to %s in %.2fs (+switch-master from %s)" % (name, probe.fmt(before), probe.fmt(after), took, event.sentinel))
    return 0
