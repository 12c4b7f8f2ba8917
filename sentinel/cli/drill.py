"""`triokv drill KIND`: a fault under write load, measured from the client's and the sentinels' side.

Stages: the cluster must be healthy; a watcher subscribes on every sentinel and a writer starts
(redis-py Sentinel client); after a warm-up the fault is injected (t0); we wait for what the
fault should cause (+switch-master, or +sdown of the victim); every process of the cluster that
is not running is restarted with its recorded command line; we wait until the cluster is healthy
again; the writer stops and the final master is asked which acknowledged writes it holds.

Ctrl-C at any stage stops the writer and restarts what the drill killed before exiting.
"""

import json
import os
import time
import uuid

import redis

from . import CliError, faults, launch, layout as layouts, metrics, probe, report
from .events import Watcher
from .writer import Writer, keys

KINDS = faults.KINDS
DESCRIPTION = """Inject a fault into the cluster in --dir while a redis-py Sentinel client writes, and measure:
time to detect (+sdown, +odown), to promote (+switch-master), until clients write again, writes
attempted / acknowledged / failed, acknowledged writes lost, and whether the cluster ended healthy.

kinds:
  kill-master     SIGKILL the master; it is restarted afterwards as a replica of the new master
  pause-master    freeze the master (DEBUG SLEEP, or --pause-with client-pause) past down-after
  kill-replica    SIGKILL a replica, then restart it
  kill-sentinel   SIGKILL a sentinel, then restart it
  restart-master  SIGTERM the master and start it again at once (same command line)"""

SUBSCRIBE_TIMEOUT = 5.0
TAIL = 0.3  # seconds of writes after the cluster is healthy again, so the timeline shows them


def run(args, progress) -> int:
    layout = layouts.load(os.path.abspath(args.dir))
    if args.interval_ms <= 0:
        raise CliError("--interval-ms must be positive")
    drill = Drill(layout, args, progress)
    result = drill.run()
    if args.report:
        report.write(args.report, result, drill.writer.writes, drill.t0)
        progress.note("report written to %s" % args.report)
    print(json.dumps(result) if args.json else summary(result))
    return 0 if result["healthy"] else 1


class Drill:
    def __init__(self, layout, args, progress):
        self.layout, self.args, self.progress = layout, args, progress
        self.sentinels = layout.sentinel_addrs
        self.run_id = uuid.uuid4().hex[:8]
        self.watcher = Watcher(self.sentinels)
        self.writer = None
        self.t0 = None
        self.injected = False

    def wait_healthy(self, what: str, timeout: float = None):
        return self.progress.wait_until(what, lambda: launch.cluster_healthy(self.layout), timeout or self.args.timeout)

    def run(self) -> dict:
        before = self.wait_healthy("the cluster to be healthy before the drill").master
        fault = faults.choose(self.args.kind, self.layout, before)
        self.watcher.start()
        try:
            self.watcher.wait_subscribed(self.progress, SUBSCRIBE_TIMEOUT)
            self.writer = Writer(self.sentinels, self.layout.master_name, self.run_id, self.args.interval_ms / 1000)
            self.writer.start()
            time.sleep(self.args.warmup)
            return self.stages(fault, before)
        except BaseException:
            self.abort()
            raise
        finally:
            self.watcher.stop()

    def abort(self):
        """Leave the cluster as it was: stop writing, bring back what the drill killed."""
        if self.writer is not None:
            self.writer.stop()
        if self.injected:
            self.progress.note("drill stopped: restarting what it killed")
            try:
                launch.heal(self.layout, self.progress, self.args.timeout)
            except CliError as e:
                self.progress.note("could not restart everything: %s" % e)

    def stages(self, fault, before) -> dict:
        self.t0 = time.monotonic()
        fault_wall = time.time()
        self.injected = True
        try:
            action = faults.inject(fault, self.layout, self.args, self.progress)
        except (redis.RedisError, OSError) as e:
            raise CliError("injecting %s failed: %s" % (fault.kind, e))
        self.progress.note("fault injected: %s" % action)
        problems = self.await_effect(fault)
        problems += self.casualties(fault)
        try:
            restarted = launch.heal(self.layout, self.progress, self.args.timeout)
            after = self.wait_healthy("the cluster to be healthy again").master
        except CliError as e:
            restarted = []
            after = probe.master_addr(self.sentinels, self.layout.master_name)
            problems.append(str(e))
        healthy_s = round(time.monotonic() - self.t0, 3)
        time.sleep(TAIL)
        self.writer.stop()
        result = self.result(fault, action, before, after, problems, restarted, fault_wall)
        result["timings"]["healthy_s"] = None if problems else healthy_s
        return result

    def casualties(self, fault) -> list:
        """Processes that died although the fault did not aim at them: a finding, not a detail."""
        return ["%s died during the drill (see %s)" % (s.name, s.out) for s in self.layout.procs if s is not fault.target and not launch.is_running(s)]

    def await_effect(self, fault) -> list:
        """Wait for what the fault must cause; a list of what did not happen."""
        name = self.layout.master_name
        if fault.expects_failover:
            what = "+switch-master"
            pred = lambda e: e.channel == "+switch-master" and e.payload.split()[:1] == [name]  # noqa: E731
        elif fault.kind == "restart-master":
            return []  # the restart is part of the fault; the health wait covers the rest
        else:
            what = "+sdown of %s" % fault.target.name
            pred = lambda e: e.channel == "+sdown" and e.about(fault.target_type, fault.target.addr)  # noqa: E731
        self.progress.note("waiting for %s (up to %.0fs)" % (what, self.args.timeout))
        deadline = time.monotonic() + self.args.timeout
        event = None
        while event is None and time.monotonic() < deadline:
            event = self.watcher.wait_for(pred, 0.5, since=self.t0)
            alive = sum(launch.is_running(s) for s in self.layout.sentinels)
            if event is None and alive < self.layout.quorum:
                return ["no %s: only %d sentinels are running" % (what, alive)]
        if event is None:
            return ["no %s within %.0fs" % (what, self.args.timeout)]
        self.progress.note("  %s after %.2fs (from %s)" % (what, event.t - self.t0, event.sentinel))
        return []

    def result(self, fault, action, before, after, problems, restarted, fault_wall) -> dict:
        writes = self.writer.writes
        timings = metrics.detection(self.watcher.events, self.t0, self.layout.master_name, fault.target_type, fault.target.addr)
        timings.update(metrics.outage(writes, self.t0))
        timings["longest_gap_s"] = metrics.longest_gap(writes)
        counted = metrics.counts(writes)
        try:
            if after is None:
                raise CliError("no master named by the sentinels")
            counted.update(self.read_back(after, writes))
            self.drop_keys(after, writes)
        except (CliError, redis.RedisError, OSError) as e:
            problems.append("could not read the writes back: %s" % e)
        return {
            "kind": fault.kind,
            "impl": self.layout.impl,
            "master_name": self.layout.master_name,
            "action": action,
            "target": fault.target.name,
            "master_before": probe.fmt(before),
            "master_after": probe.fmt(after) if after else None,
            "fault_at": fault_wall,
            "timings": timings,
            "writes": counted,
            "target_role_after": probe.role(fault.target.addr),
            "restarted": restarted,
            "healthy": not problems,
            "problems": problems,
            "events": [e.as_json(self.t0) for e in self.watcher.events],
        }

    def read_back(self, master, writes) -> dict:
        """Which writes the final master holds: the log list and the keys, which one MULTI wrote
        together (so they must agree: `torn` counts writes where they do not)."""
        prefix, log_key = keys(self.run_id)
        with probe.client(master, timeout=10) as c:
            logged = {int(n) for n in c.lrange(log_key, 0, -1)}
            ns = [w.n for w in writes]
            present = set()
            for i in range(0, len(ns), 1000):
                chunk = ns[i : i + 1000]
                present.update(n for n, v in zip(chunk, c.mget([prefix + str(n) for n in chunk])) if v is not None)
        out = metrics.losses(writes, logged)
        out["torn"] = len(logged ^ present)
        out["replicas_agree"] = self.replicas_agree(master, log_key, len(logged))
        return out

    def replicas_agree(self, master, log_key, length) -> bool:
        """Every replica holds as many logged writes as the master, once caught up."""
        try:
            self.wait_healthy("replicas to apply the last writes", timeout=10)
            lengths = [probe.call(s.addr, "LLEN", log_key) for s in self.layout.nodes if s.addr != tuple(master)]
        except (CliError, redis.RedisError, OSError):
            return False
        return all(n == length for n in lengths)

    def drop_keys(self, master, writes):
        """Remove the drill's keys, so drills do not grow the dataset (best effort)."""
        prefix, log_key = keys(self.run_id)
        names = [prefix + str(w.n) for w in writes] + [log_key]
        try:
            with probe.client(master, timeout=10) as c:
                for i in range(0, len(names), 1000):
                    c.delete(*names[i : i + 1000])
        except (redis.RedisError, OSError) as e:
            self.progress.note("could not delete the drill's keys: %s" % e)


def fmt_s(value) -> str:
    return "-" if value is None else "%.2fs" % value


def failing(t: dict) -> str:
    if t["first_failure_s"] is None:
        return "never"
    return "from %s, resumed at %s (unavailable %s)" % (fmt_s(t["first_failure_s"]), fmt_s(t["writes_resumed_s"]), fmt_s(t["unavailable_s"]))


def summary(r: dict) -> str:
    t, w = r["timings"], r["writes"]
    lines = [
        "drill %s on %s (%s): master %s -> %s" % (r["kind"], r["master_name"], r["impl"], r["master_before"], r["master_after"] or "?"),
        "  fault             %s" % r["action"],
        "  +sdown            %s" % fmt_s(t["sdown_s"]),
        "  +odown            %s" % fmt_s(t["odown_s"]),
        "  +switch-master    %s%s" % (fmt_s(t["switch_master_s"]), " -> %s" % t["new_master"] if t["new_master"] else ""),
        "  writes failing    %s (longest gap between acks %s)" % (failing(t), fmt_s(t["longest_gap_s"])),
        "  healthy again     %s" % fmt_s(t.get("healthy_s")),
        "  writes            %d attempted, %d acknowledged, %d failed (%d timeouts)" % (w["attempted"], w["acknowledged"], w["failed"], w["timeouts"]),
        "  acknowledged lost %s%s" % (w.get("lost", "?"), " (e.g. %s)" % w["lost_sample"][:5] if w.get("lost") else ""),
        "  failed but applied %s, torn %s, replicas agree: %s" % (w.get("failed_but_applied", "?"), w.get("torn", "?"), "yes" if w.get("replicas_agree") else "no"),
        "  %-17s %s" % (r["target"] + " now", r["target_role_after"]),
    ]
    lines += ["  restarted         %s" % x for x in r["restarted"]]
    lines.append("  cluster healthy   %s" % ("yes" if r["healthy"] else "NO: " + "; ".join(r["problems"])))
    return "\n".join(lines)
