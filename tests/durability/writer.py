"""A drill's client: writes unique values through redis-py's Sentinel support and records
what it was told, run inside the drill network's client namespace (names resolve there).

    python -m tests.durability.writer HISTORY.jsonl sentinel1:26379 sentinel2:26380 ...

Two threads write until a line "stop" arrives on stdin: one RPUSHes increasing integers onto
`drill:list`, the other SETs `drill:key:<n>`. Each operation is one attempt, no retries (a
retried write could be applied twice and hide a loss), with a short socket timeout; its
result is ok, error (the server said no, or no master was found) or timeout. After "stop",
the line "read" makes it read the final contents from the master the sentinels name, and
write the history and those contents as JSON lines to HISTORY.jsonl, then print "done".
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
PAUSE = 0.005
TIMEOUT = 0.5
LIST, KEY = "drill:list", "drill:key:%d"


def connect(addresses):
    sentinels = [(a.rsplit(":", 1)[0], int(a.rsplit(":", 1)[1])) for a in addresses]
    sentinel = Sentinel(sentinels, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
    return sentinel, sentinel.master_for(MASTER, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT, retry=Retry(NoBackoff(), 0))


def attempt(fn) -> str:
    try:
        fn()
        return "ok"
    except (redis.TimeoutError, TimeoutError):
        return "timeout"
    except (redis.RedisError, OSError):
        return "error"


def write_loop(master, kind, stop, history, start):
    value = start
    while not stop.is_set():
        if kind == "rpush":
            result = attempt(lambda: master.rpush(LIST, value))
        else:
            result = attempt(lambda: master.set(KEY % value, value))
        history.append({"kind": kind, "value": value, "result": result, "t": time.time()})
        value += 1
        time.sleep(PAUSE)


def read_final(sentinel, deadline=20.0) -> dict:
    end = time.time() + deadline
    while True:
        try:
            master = sentinel.master_for(MASTER, socket_timeout=5)
            items = [int(v) for v in master.lrange(LIST, 0, -1)]
            keys = [int(k.rsplit(b":", 1)[1]) for k in master.scan_iter(match="drill:key:*", count=1000)]
            return {"list": items, "keys": keys}
        except (redis.RedisError, OSError):
            if time.time() > end:
                raise
            time.sleep(0.2)


def main(argv):
    out, addresses = argv[0], argv[1:]
    sentinel, master = connect(addresses)
    stop = threading.Event()
    history = []
    threads = [threading.Thread(target=write_loop, args=(master, kind, stop, history, 1), daemon=True) for kind in ("rpush", "set")]
    for t in threads:
        t.start()
    print("started", flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "stop":
            stop.set()
            for t in threads:
                t.join(10)
            print("stopped %d" % len(history), flush=True)
        elif command == "read":
            final = read_final(sentinel)
            with open(out, "w") as f:
                for op in history:
                    f.write(json.dumps(op) + "\n")
                f.write(json.dumps({"final": final}) + "\n")
            print("done", flush=True)
            return 0
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
