"""One Jepsen-style drill on a running Cluster: healthy start, writer, warmup, nemesis, heal,
settle, read back, check.

    result = run_drill(cluster, nemesis.kill_master, "kill_master", Plan())
    result.verdict.acknowledged_lost   # 0 is the durable mode's promise

Steps and their bounds (Timing; the whole drill within `budget` seconds, 30 by default): the
cluster must be healthy and in sync first (start_deadline); the writer (writer.py, in the client
namespace) must get acknowledgements before the warmup; the nemesis runs and heals; the cluster must settle (settle_deadline: sentinels agree on one master
with no failover running, every node reachable, the old master a replica again, links up) and
the writer must get new acknowledgements after that (the client follows the failover); then the
writer stops, the replicas catch up with the master, the writer reads its list and keys back
from the master, and every node must hold the same dataset (DEBUG DIGEST).
"""

import itertools
import json
import os
import select
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from tests.durability import writer as writer_module
from tests.durability.checker import Verdict, check
from tests.durability.cluster import CLIENT, SENTINELS

_serial = itertools.count(1)


@dataclass
class Timing:
    budget: float = 30.0  # the whole drill, start to verdict; each wait below is also capped by it
    start_deadline: float = 10.0
    warmup: float = 1.0
    settle_deadline: float = 20.0
    recover_deadline: float = 5.0
    sync_deadline: float = 5.0
    client_timeout: float = 1.5  # socket timeout of each write: above synchronous-replicas-timeout


class Budget:
    """What is left of the drill's time: a step gets its own deadline or the rest, if shorter."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def cap(self, seconds: float) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise AssertionError("the drill used up its time budget")
        return min(seconds, left)


@dataclass
class DrillResult:
    nemesis: str
    implementation: str
    mode: str
    verdict: Verdict
    seconds: float = 0.0
    settle_seconds: float = 0.0
    errors: Counter = field(default_factory=Counter)  # error texts of failed writes, by kind
    events: list = field(default_factory=list)  # (seconds since the writer started, text)
    lost: list = field(default_factory=list)  # (seconds since the writer started, kind, value)

    def summary(self) -> str:
        v = self.verdict
        return "%s/%s %-38s attempted %5d  acked %5d  lost %4d  unacked-present %3d  dup %d  unknown %d  (%.1fs, settled in %.1fs)" % (
            self.implementation, self.mode, self.nemesis, v.attempted, v.acknowledged, v.acknowledged_lost,
            v.unacknowledged_present, v.duplicates, v.unknown_present, self.seconds, self.settle_seconds)

    def explain(self) -> str:
        """What happened when: the nemesis's steps and the lost writes, for reading a loss."""
        lines = ["%7.2fs  %s" % event for event in self.events]
        if self.lost:
            first, last = self.lost[0], self.lost[-1]
            lines.append("lost %d acknowledged writes, acknowledged between %.2fs and %.2fs; first %s" % (len(self.lost), first[0], last[0], self.lost[:5]))
        lines += ["errors: %d x %s" % (n, text) for text, n in self.errors.most_common(5)]
        return "\n".join(lines)


class Writer:
    """The writer process in the client namespace, driven over its stdin and stdout."""

    def __init__(self, cluster, prefix: str, timeout: float):
        self.path = cluster.net.workdir / CLIENT / ("history-%s.jsonl" % prefix)
        sentinels = ["%s:%d" % item for item in SENTINELS.items()]
        argv = [sys.executable, "-u", os.path.abspath(writer_module.__file__), self.path, prefix, timeout, *sentinels]
        self.process = cluster.net.spawn(CLIENT, argv, log_name="writer", pipes=True)
        self._buffer = b""
        self.started_at = time.time()
        self._line(10.0)  # "started"

    def ask(self, command: str, deadline: float = 10.0) -> str:
        self.process.popen.stdin.write((command + "\n").encode())
        self.process.popen.stdin.flush()
        return self._line(deadline)

    def status(self) -> dict:
        return json.loads(self.ask("status"))

    def _line(self, deadline: float) -> str:
        end = time.monotonic() + deadline
        fd = self.process.popen.stdout.fileno()
        while b"\n" not in self._buffer:
            left = end - time.monotonic()
            if left <= 0 or not self.process.alive():
                raise AssertionError("writer gave no answer (exit status %s):\n%s" % (self.process.popen.poll(), self.process.log_tail()))
            if select.select([fd], [], [], left)[0]:
                self._buffer += os.read(fd, 65536)
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def wait_ack_after(self, moment: float, deadline: float, what: str):
        """Until the writer has an acknowledgement later than `moment` (time.time())."""
        end = time.monotonic() + deadline
        while (self.status()["last_ok"] or 0) <= moment:
            if time.monotonic() > end:
                raise AssertionError("the writer got no acknowledgement within %.0fs %s: %s" % (deadline, what, self.status()))
            time.sleep(0.1)

    def finish(self, cluster, timing: Timing, budget: Budget):
        """Stop writing, let the replicas catch up, read everything back: (history, final)."""
        self.ask("stop", budget.cap(timing.client_timeout + 5))
        cluster.wait_healthy(budget.cap(timing.sync_deadline), "the writer stopped", synced=True)
        reply = self.ask("read", budget.cap(15.0))
        if reply != "done":
            raise AssertionError("writer read failed: %r\n%s" % (reply, self.process.log_tail()))
        lines = [json.loads(line) for line in self.path.read_text().splitlines()]
        return lines[:-1], lines[-1]["final"]


def run_drill(cluster, nemesis, name: str, plan, timing: Timing = None) -> DrillResult:
    """The whole drill; raises AssertionError (with the cluster's logs) when the cluster does not
    start healthy, the client never recovers, or the cluster never settles or converges."""
    timing = timing or Timing()
    began, budget = time.monotonic(), Budget(timing.budget)
    cluster.wait_healthy(budget.cap(timing.start_deadline), "the previous drill", synced=True)
    roles = cluster.roles()
    prefix = "%s-%d" % (name, next(_serial))
    cluster.note("drill %s: master %s" % (prefix, roles["master"]))
    writer = Writer(cluster, prefix, timing.client_timeout)
    writer.wait_ack_after(writer.started_at, budget.cap(timing.start_deadline), "at the start")
    time.sleep(timing.warmup)
    nemesis(cluster, roles, plan)
    settle = cluster.wait_healthy(budget.cap(timing.settle_deadline), "the nemesis healed")
    cluster.note("settled: master %s" % cluster.agreed_master())
    writer.wait_ack_after(time.time(), budget.cap(timing.recover_deadline), "after the cluster settled")
    history, final = writer.finish(cluster, timing, budget)
    digests = cluster.digests()
    if len(set(digests.values())) != 1:
        raise AssertionError("nodes hold different datasets after settling: %s" % digests)
    verdict = check(history, final["list"], final["keys"])
    result = DrillResult(name, cluster.implementation, cluster.mode, verdict, time.monotonic() - began, settle)
    _annotate(result, cluster, writer.started_at, history)
    return result


def _annotate(result: DrillResult, cluster, start: float, history):
    result.events = [(t - start, text) for t, text in cluster.events if t >= start - 1]
    lost = set(result.verdict.lost_values)
    result.lost = sorted((op["t1"] - start, op["kind"], op["value"]) for op in history if (op["kind"], op["value"]) in lost)
    result.errors = Counter(_error_class(op) for op in history if op["result"] != "ok")


def _error_class(op) -> str:
    """An error text without its variable parts, so the same cause counts once."""
    text = (op.get("error") or "").split(" within ")[0].split(" (")[0]
    return "%s %s" % (op["result"], text[:90])
