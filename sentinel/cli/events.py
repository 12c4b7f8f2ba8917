"""Sentinel events as they happen: PSUBSCRIBE * on every sentinel, merged into one list.

redis-py is synchronous, so each sentinel gets a thread. Events are stamped and appended under
one lock, so the list is in arrival order across sentinels. A lost subscription is retried;
losing and regaining it is recorded as `watch:lost` / `watch:subscribed`, so a watcher outlives
a sentinel that is killed and restarted and the reader sees the gap.

Sentinel payloads name an instance as `<type> <name> <ip> <port>`, followed by
`@ <master-name> <master-ip> <master-port>` when it is not a master; `+switch-master` says
`<master-name> <old-ip> <old-port> <new-ip> <new-port>`.
"""

import threading
import time
from dataclasses import dataclass

import redis

from . import probe
from .progress import NotYet, Progress

RECONNECT_DELAY = 0.2
LINK_CHANNELS = ("watch:subscribed", "watch:lost")


@dataclass
class Event:
    t: float  # time.monotonic() at arrival
    wall: float  # time.time() at arrival
    sentinel: str  # host:port
    channel: str  # +sdown, +switch-master, ... or one of LINK_CHANNELS
    payload: str

    def instance(self):
        """(type, name, ip, port) of the instance the event is about, or None."""
        parts = self.payload.split()
        if len(parts) >= 4 and parts[0] in ("master", "slave", "sentinel") and parts[3].isdigit():
            return parts[0], parts[1], parts[2], int(parts[3])
        return None

    def about(self, kind: str, addr) -> bool:
        """Whether the event is about the instance of this type at addr (host, port)."""
        inst = self.instance()
        return inst is not None and inst[0] == kind and (inst[2], inst[3]) == (addr[0], int(addr[1]))

    def line(self) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(self.wall)) + ".%03d" % (self.wall % 1 * 1000)
        return "%s  %-15s  %-24s %s" % (stamp, self.sentinel, self.channel, self.payload)

    def as_json(self, t0: float = None) -> dict:
        out = {"time": self.wall, "sentinel": self.sentinel, "event": self.channel, "payload": self.payload}
        if t0 is not None:
            out["t"] = round(self.t - t0, 4)
        return out


class Watcher:
    def __init__(self, sentinels):
        self.sentinels = [tuple(a) for a in sentinels]
        self.events = []
        self.cond = threading.Condition()
        self.stopping = threading.Event()
        self.subscribed = set()
        self.threads = []

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        for addr in self.sentinels:
            thread = threading.Thread(target=self._follow, args=(addr,), name="watch-%s" % probe.fmt(addr), daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=2.0)

    def _follow(self, addr):
        name = probe.fmt(addr)
        while not self.stopping.is_set():
            pubsub = None
            try:
                pubsub = probe.client(addr, timeout=2.0).pubsub()
                pubsub.psubscribe("*")
                while not self.stopping.is_set():
                    msg = pubsub.get_message(timeout=0.2)
                    if msg is None:
                        continue
                    if msg["type"] == "psubscribe":
                        self._linked(name, True, "")
                    elif msg["type"] == "pmessage":
                        self._add(name, msg["channel"], msg["data"])
            except (redis.RedisError, OSError) as e:
                self._linked(name, False, str(e) or type(e).__name__)
                self.stopping.wait(RECONNECT_DELAY)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except (redis.RedisError, OSError):
                        pass

    def _linked(self, name: str, up: bool, reason: str):
        """Record a change of our subscription's state (not every failed retry)."""
        with self.cond:
            if up and name not in self.subscribed:
                self.subscribed.add(name)
                self._append(name, "watch:subscribed", "psubscribe *")
            elif not up and (name in self.subscribed or not any(e.sentinel == name for e in self.events)):
                self.subscribed.discard(name)
                self._append(name, "watch:lost", reason)

    def _add(self, name, channel, payload):
        with self.cond:
            self._append(name, channel, payload)

    def _append(self, name, channel, payload):
        self.events.append(Event(time.monotonic(), time.time(), name, channel, payload))
        self.cond.notify_all()

    def wait_subscribed(self, progress: Progress, timeout: float):
        def all_subscribed():
            missing = [probe.fmt(a) for a in self.sentinels if probe.fmt(a) not in self.subscribed]
            if missing:
                raise NotYet("not subscribed yet to " + ", ".join(missing))
            return True

        progress.wait_until("a subscription on every sentinel", all_subscribed, timeout, interval=0.02)

    def read_from(self, index: int, timeout: float) -> list:
        """Events from position index on, waiting up to timeout for the first of them."""
        with self.cond:
            self.cond.wait_for(lambda: len(self.events) > index, timeout)
            return self.events[index:]

    def first(self, predicate, since: float = 0.0):
        """The first event at or after monotonic time `since` that satisfies predicate, or None."""
        with self.cond:
            return next((e for e in self.events if e.t >= since and predicate(e)), None)

    def wait_for(self, predicate, timeout: float, since: float = 0.0):
        """The first matching event (see first), waiting up to timeout; None if none came."""
        with self.cond:
            self.cond.wait_for(lambda: self.first(predicate, since) is not None, timeout)
            return self.first(predicate, since)
