"""The drill's client: writes through redis-py's Sentinel support, as an application would, and
records the outcome of every attempt.

Each write is one MULTI/EXEC of `SET drill:<run>:<n> <n>` and `RPUSH drill:<run>:log <n>`, with n
unique, so afterwards the final master can be asked which acknowledged writes survived. The
client does not retry by itself (retries would hide the outage being measured): every attempt
is recorded as ok, error or timeout, with its start and end times.
"""

import threading
import time
from dataclasses import dataclass

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

SOCKET_TIMEOUT = 0.5


@dataclass
class Write:
    n: int
    start: float  # time.monotonic()
    end: float
    outcome: str  # ok | error | timeout
    error: str = ""


def keys(run_id: str):
    return "drill:%s:" % run_id, "drill:%s:log" % run_id


class Writer(threading.Thread):
    def __init__(self, sentinels, master_name: str, run_id: str, interval: float):
        super().__init__(name="drill-writer", daemon=True)
        self.prefix, self.log_key = keys(run_id)
        self.interval = interval
        self.writes = []
        self.stopping = threading.Event()
        no_retry = Retry(NoBackoff(), 0)
        self.sentinel = Sentinel(sentinels, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT)
        self.client = self.sentinel.master_for(master_name, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT, retry=no_retry)

    def run(self):
        n = 0
        while not self.stopping.is_set():
            n += 1
            self.writes.append(self.write_one(n))
            pause = self.interval - (time.monotonic() - self.writes[-1].start)
            if pause > 0:
                self.stopping.wait(pause)

    def write_one(self, n: int) -> Write:
        start = time.monotonic()
        try:
            pipe = self.client.pipeline(transaction=True)
            pipe.set(self.prefix + str(n), n)
            pipe.rpush(self.log_key, n)
            pipe.execute()
            return Write(n, start, time.monotonic(), "ok")
        except redis.TimeoutError as e:
            return Write(n, start, time.monotonic(), "timeout", "TimeoutError: %s" % e)
        except (redis.RedisError, OSError) as e:
            return Write(n, start, time.monotonic(), "error", "%s: %s" % (type(e).__name__, e))

    def stop(self):
        self.stopping.set()
        self.join(timeout=5.0)
        self.client.close()
        self.sentinel.close()
