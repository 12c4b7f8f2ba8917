"""Failover side by side: triokv sentinels and nodes vs real Redis Sentinel and redis-server.

Each round, for each implementation: `triokv cluster up --fresh --impl IMPL` (3 nodes, 3
sentinels, quorum 2, down-after-milliseconds 1000) on free ports, then `triokv drill
kill-master --json` (a redis-py Sentinel client writes every 5 ms; the master gets SIGKILL;
the drill waits until the cluster is healthy and reads every write back), then `cluster down`.
Rounds alternate the implementations, so both see the same machine.

Per run it takes from the drill's report:
  first_write_s   kill -> the client's first acknowledged write on the new master
  all_agree_s     kill -> the last sentinel's +switch-master (every sentinel names the new master)
  lost            acknowledged writes missing afterwards
and prints the medians side by side. Target (issue 5): triokv no slower than Redis Sentinel.

    python bench/failover.py [--runs 5] [--impls triokv,redis] [--json out.json]
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile

CLI = [sys.executable, "-m", "sentinel.cli"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_base(count: int, low: int, high: int) -> int:
    """A first port with `count` free ports after it."""
    for base in range(low, high, count + 7):
        if all(_free(base + i) for i in range(count)):
            return base
    raise RuntimeError("no free ports in %d-%d" % (low, high))


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def cli(*args, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + list(args), cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def one_run(impl: str, down_after: int, failover_timeout: int) -> dict:
    workdir = tempfile.mkdtemp(prefix="bench-failover-%s-" % impl)
    cluster = os.path.join(workdir, "cluster")
    up = cli("cluster", "up", "--fresh", "--dir", cluster, "--impl", impl, "--port-base", str(free_base(3, 21000, 23000)),
             "--sentinel-port-base", str(free_base(3, 24000, 26000)), "--down-after-ms", str(down_after), "--failover-timeout-ms", str(failover_timeout))
    try:
        if up.returncode != 0:
            raise RuntimeError("cluster up failed: %s" % (up.stderr or up.stdout)[-2000:])
        drill = cli("drill", "kill-master", "--dir", cluster, "--json")
        try:
            report = json.loads(drill.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise RuntimeError("drill gave no report: %s" % (drill.stderr or drill.stdout)[-2000:]) from None
    finally:
        cli("cluster", "down", "--dir", cluster)
    return dict(summarize(report), report=report)


def summarize(report: dict) -> dict:
    """The three figures from a drill report (times relative to the kill)."""
    switches = {}
    for event in report.get("events", []):
        if event.get("event") == "+switch-master" or event.get("channel") == "+switch-master":
            who = event.get("sentinel")
            t = event.get("t", event.get("t_s"))
            if who not in switches and t is not None:
                switches[who] = t
    timings = report["timings"]
    return {
        "first_write_s": timings.get("writes_resumed_s"),
        "all_agree_s": max(switches.values()) if len(switches) >= 3 else None,
        "lost": report["writes"].get("lost"),
        "healthy": report.get("healthy"),
    }


def median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--impls", default="triokv,redis")
    parser.add_argument("--down-after-ms", type=int, default=1000)
    parser.add_argument("--failover-timeout-ms", type=int, default=10000)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    impls = args.impls.split(",")
    results = {impl: [] for impl in impls}
    for run in range(args.runs):
        for impl in impls:
            r = one_run(impl, args.down_after_ms, args.failover_timeout_ms)
            results[impl].append(r)
            print("run %d %-7s first write %ss, all sentinels agree %ss, lost %s, healthy %s" % (run + 1, impl, r["first_write_s"], r["all_agree_s"], r["lost"], r["healthy"]), flush=True)
    summary = {impl: {key: median([r[key] for r in runs]) for key in ("first_write_s", "all_agree_s")} for impl, runs in results.items()}
    for impl, runs in results.items():
        summary[impl]["lost_total"] = sum(r["lost"] or 0 for r in runs)
    print("\nmedians over %d runs (down-after-milliseconds %d):" % (args.runs, args.down_after_ms))
    print("%-8s %16s %18s %12s" % ("impl", "first write (s)", "all agree (s)", "lost (sum)"))
    for impl, row in summary.items():
        print("%-8s %16s %18s %12s" % (impl, row["first_write_s"], row["all_agree_s"], row["lost_total"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": results, "summary": summary}, f, indent=1)  # with each drill's full report
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
