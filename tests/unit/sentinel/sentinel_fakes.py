"""A sentinel without I/O for unit tests: a settable clock, and command connections that
record what would be sent and let the test answer (the pair-harness idea of h11)."""

import random

from sentinel.core import Sentinel
from sentinel.instances import SENTINEL, SLAVE


class Clock:
    def __init__(self, now=1_000_000):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, ms):
        self.now += ms


class FakeConn:
    """Stands for a sentinel.connection.Connection: commands are recorded with their callbacks."""

    def __init__(self):
        self.sent = []  # [args, callback]
        self.closed = False
        self.local_ip = "10.0.1.1"

    def command(self, args, callback=None):
        if self.closed:
            return False
        self.sent.append([[str(a) for a in args], callback])
        return True

    def close(self):
        self.closed = True

    def names(self):
        return [" ".join(args) for args, _ in self.sent]

    def reply_all(self, reply=b"OK"):
        """Answer every pending command with the same reply, in order."""
        pending, self.sent = self.sent, []
        for _, callback in pending:
            if callback is not None:
                callback(reply)


def connect(ri, now):
    """Give an instance a live-looking link with a fake command connection."""
    link = ri.link
    link.cc = FakeConn()
    link.pc = FakeConn() if not ri.flags & SENTINEL else None
    link.disconnected = False
    link.act_ping_time = 0
    link.last_avail_time = now
    link.last_pong_time = now
    link.cc_conn_time = link.pc_conn_time = link.pc_last_activity = now
    return link.cc


def make_sentinel(clock=None, quorum=2, replicas=2, sentinels=2, seed=0):
    """A sentinel monitoring mymaster at 10.0.0.1:6379 with replicas 10.0.0.2.. and other
    sentinels 10.0.1.2.., all connected, with fresh INFO."""
    clock = clock or Clock()
    s = Sentinel(clock=clock, rng=random.Random(seed))
    s.settings.myid = "a" * 40
    events = []
    s.events.listeners.append(lambda type_, message, ri: events.append((type_, message)))
    s.recorded = events
    master = s.monitor("mymaster", "10.0.0.1", 6379, quorum)
    master.down_after_period = 1000
    master.failover_timeout = 5000
    master.runid = "m" * 40
    master.info_refresh = clock.now
    connect(master, clock.now)
    for i in range(replicas):
        r = s.create_instance(None, SLAVE, "10.0.0.%d" % (i + 2), 6379, quorum, master)
        r.runid = "%d" % (i + 1) * 40
        r.info_refresh = clock.now
        r.slave_master_host, r.slave_master_port = "10.0.0.1", 6379
        r.slave_master_link_status = 0
        connect(r, clock.now)
    for i in range(sentinels):
        runid = "%x" % (i + 11) * 20
        si = s.create_instance(runid, SENTINEL, "10.0.1.%d" % (i + 2), 26379, quorum, master)
        si.runid = runid
        connect(si, clock.now)
    return s, master


def types(s):
    return [t for t, _ in s.recorded]
