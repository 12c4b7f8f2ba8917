"""A drill's client: writes unique values through redis-py's Sentinel support and records
what it was told, run inside the drill network's client namespace (names resolve there).

    python writer.py HISTORY.jsonl PREFIX TIMEOUT sentinel1:26379 sentinel2:26380 ...

Two threads write until "stop" arrives on stdin: one RPUSHes increasing integers onto
`PREFIX:list`, the other SETs `PREFIX:key:<n>` (a prefix per drill, so drills can share a
cluster). Each operation is one attempt, no retries (a retried write could be applied twice
and hide a loss), with a socket timeout of TIMEOUT seconds; its result is ok, error (the
server said no, or no master was found) or timeout.

Commands on stdin, each answered by one line on stdout:
  status   {"ok": acknowledged so far, "total": attempted, "last_ok": time of the last ack}
  stop     the threads finish their current attempt; "stopped N"
  read     reads the final contents from the master the sentinels name, writes the history
           and {"final": {"list": [...], "keys": [...]}} as JSON lines to HISTORY.jsonl; "done"
"""

import json
import sys
import threading
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

MASTER = "mymaster"
PAUSE = 0.005  # between two attempts of one thread: a steady stream, not a flood
READ_DEADLINE = 20.0


def connect(addresses, timeout):
    sentinels = [(a.rsplit(":", 1)[0], int(a.rsplit(":", 1)[1])) for a in addresses]
    options = dict(socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0))
    sentinel = Sentinel(sentinels, sentinel_kwargs=dict(options), **options)
    return sentinel, sentinel.master_for(MASTER, **options)


def attempt(fn):
    """(result, error text): one try, classified as a Jepsen client would."""
    try:
        fn()
        return "ok", None
    except (redis.TimeoutError, TimeoutError) as exc:
        return "timeout", str(exc)[:80]
    except (redis.RedisError, OSError) as exc:
        return "error", ("%s: %s" % (type(exc).__name__, exc))[:120]


def write_loop(master, prefix, kind, stop, history):
    value = 1
    while not stop.is_set():
        if kind == "rpush":
            write = lambda: master.rpush(prefix + ":list", value)  # noqa: E731
        else:
            write = lambda: master.set("%s:key:%d" % (prefix, value), value)  # noqa: E731
        start = time.time()
        result, error = attempt(write)
        history.append({"kind": kind, "value": value, "result": result, "t0": start, "t1": time.time(), "error": error})
        value += 1
        time.sleep(PAUSE)


def read_final(sentinel, prefix, timeout) -> dict:
    end = time.time() + READ_DEADLINE
    while True:
        try:
            master = sentinel.master_for(MASTER, socket_timeout=max(timeout, 5.0))
            items = [int(v) for v in master.lrange(prefix + ":list", 0, -1)]
            keys = [int(k.rsplit(b":", 1)[1]) for k in master.scan_iter(match=prefix + ":key:*", count=1000)]
            return {"list": items, "keys": keys}
        except (redis.RedisError, OSError):
            if time.time() > end:
                raise
            time.sleep(0.2)


def status(history) -> dict:
    acked = [op for op in list(history) if op["result"] == "ok"]
    return {"ok": len(acked), "total": len(history), "last_ok": acked[-1]["t1"] if acked else None}


def main(argv):
    out, prefix, timeout, addresses = argv[0], argv[1], float(argv[2]), argv[3:]
    sentinel, master = connect(addresses, timeout)
    stop = threading.Event()
    history = []  # list.append is atomic: both threads share it
    threads = [threading.Thread(target=write_loop, args=(master, prefix, kind, stop, history), daemon=True) for kind in ("rpush", "set")]
    for t in threads:
        t.start()
    print("started", flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "status":
            print(json.dumps(status(history)), flush=True)
        elif command == "stop":
            stop.set()
            for t in threads:
                t.join(timeout + 5)
            print("stopped %d" % len(history), flush=True)
        elif command == "read":
            final = read_final(sentinel, prefix, timeout)
            with open(out, "w") as f:
                for op in history:
                    f.write(json.dumps(op) + "\n")
                f.write(json.dumps({"final": final}) + "\n")
            print("done", flush=True)
            return 0
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
