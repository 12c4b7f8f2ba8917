"""Replication side by side: real redis-server vs triokv-node.

  sync        full sync time of --keys keys (DEBUG POPULATE on the master): from
              REPLICAOF on an empty replica to master_link_status:up with every key in
  throughput  redis-benchmark SET -P 16 on the master with no replica, then with two
              attached (ratio with/without), and the master's own CPU time per
              request both ways (what the replicas cost the master itself, whatever
              the replicas and the benchmark take from a small machine)
  lag         while redis-benchmark -P 16 loads the master for --lag-seconds, a probe
              writes a key on the master every 20 ms and times until the replica
              serves it: p50/p99

Targets (issue 4): full sync within 5x of Redis, master throughput with two replicas at
least 0.8x of its throughput with none, lag p99 below 100 ms.

    python bench/replication.py [--keys 1000000] [--requests 400000] [--rounds 3]
                                [--lag-seconds 5] [--json out.json]

Rounds alternate Redis and triokv; each figure is the median over the rounds.

The master is pinned to CPU 0, replicas and redis-benchmark to CPU 1 (taskset).
"""

import argparse
import json
import statistics
import subprocess
import time

import redis

from servers import Proc, redis_command, triokv_command

COMMANDS = {"redis": redis_command, "triokv": triokv_command}
NO_DELAY = ["--repl-diskless-sync-delay", "0"]


def start(kind, cpu, *extra):
    extra = list(NO_DELAY) + list(extra) + (["--enable-debug-command", "yes"] if kind == "redis" else [])
    return Proc(kind, COMMANDS[kind], cpu, extra)


def wait(condition, deadline=120.0, interval=0.01):
    end = time.time() + deadline
    while time.time() < end:
        if condition():
            return True
        time.sleep(interval)
    raise RuntimeError("timed out")


def linked(replica, keys=None) -> bool:
    info = replica.client.info("replication")
    if info.get("master_link_status") != "up":
        return False
    return keys is None or replica.client.dbsize() >= keys


def full_sync(kind, keys) -> float:
    master = start(kind, 0)
    replica = start(kind, 1)
    try:
        master.client.execute_command("DEBUG", "POPULATE", keys)
        began = time.time()
        replica.client.execute_command("REPLICAOF", "127.0.0.1", master.port)
        wait(lambda: linked(replica, keys), interval=0.005)
        return time.time() - began
    finally:
        replica.stop()
        master.stop()


def cpu_seconds(pid) -> float:
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0


def benchmark(port, requests) -> float:
    out = subprocess.run(["taskset", "-c", "1", "redis-benchmark", "-p", str(port), "-t", "set", "-P", "16", "-c", "50", "-n", str(requests), "-q"],
                         capture_output=True, text=True, check=True).stdout
    return float(out.replace("\r", "\n").strip().splitlines()[-1].split()[1])


def measured(master, requests):
    before = cpu_seconds(master.proc.pid)
    rate = benchmark(master.port, requests)
    return rate, requests / max(cpu_seconds(master.proc.pid) - before, 1e-6)


def throughput(kind, requests) -> dict:
    master = start(kind, 0)
    replicas = []
    try:
        alone, alone_cpu = measured(master, requests)
        replicas = [start(kind, 1) for _ in range(2)]
        for r in replicas:
            r.client.execute_command("REPLICAOF", "127.0.0.1", master.port)
        for r in replicas:
            wait(lambda r=r: linked(r))
        both, both_cpu = measured(master, requests)
        return {"alone": alone, "with_2": both, "ratio": both / alone, "cpu_alone": alone_cpu, "cpu_with_2": both_cpu, "cpu_ratio": both_cpu / alone_cpu}
    finally:
        for proc in replicas + [master]:
            proc.stop()


def lag(kind, seconds) -> dict:
    """The probe runs for `seconds` under a load that lasts as long, whatever the server's speed."""
    master = start(kind, 0)
    replica = start(kind, 1)
    load = None
    try:
        replica.client.execute_command("REPLICAOF", "127.0.0.1", master.port)
        wait(lambda: linked(replica))
        load = subprocess.Popen(["taskset", "-c", "1", "redis-benchmark", "-p", str(master.port), "-t", "set", "-P", "16", "-c", "50", "-n", "100000000", "-q"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # the load is up before the first probe
        samples = []
        probe, reader = redis.Redis(port=master.port), redis.Redis(port=replica.port)
        i, end = 0, time.time() + seconds
        while time.time() < end:
            key = "probe:%d" % i
            began = time.perf_counter()
            probe.set(key, 1)
            while reader.get(key) is None and time.perf_counter() - began < 5:
                time.sleep(0.0005)
            samples.append((time.perf_counter() - began) * 1000)
            i += 1
            time.sleep(0.02)
        samples.sort()
        return {"samples": len(samples), "p50_ms": statistics.median(samples), "p99_ms": samples[max(int(len(samples) * 0.99) - 1, 0)]}
    finally:
        if load is not None:
            load.kill()
            load.wait(10)
        replica.stop()
        master.stop()


def median_of(runs: list) -> dict:
    """Per field, the median over the rounds (each round's figures are kept beside it)."""
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=400_000)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are reported")
    parser.add_argument("--lag-seconds", type=float, default=5.0)
    parser.add_argument("--json")
    args = parser.parse_args()
    kinds = ("redis", "triokv")
    runs = {kind: {"sync_seconds": [], "throughput": [], "lag": []} for kind in kinds}
    for _ in range(args.rounds):
        for kind in kinds:
            runs[kind]["sync_seconds"].append(full_sync(kind, args.keys))
            runs[kind]["throughput"].append(throughput(kind, args.requests))
            runs[kind]["lag"].append(lag(kind, args.lag_seconds))
            print(kind, json.dumps({name: values[-1] for name, values in runs[kind].items()}), flush=True)
    results = {kind: {"sync_seconds": statistics.median(runs[kind]["sync_seconds"]), "throughput": median_of(runs[kind]["throughput"]),
                      "lag": median_of(runs[kind]["lag"]), "rounds": runs[kind]} for kind in kinds}
    r, t = results["redis"], results["triokv"]
    print("medians of %d rounds" % args.rounds)
    print("full sync of %d keys: Redis %.2fs, triokv %.2fs (%.2fx; target <= 5x)" % (args.keys, r["sync_seconds"], t["sync_seconds"], t["sync_seconds"] / r["sync_seconds"]))
    for kind in kinds:
        tp = results[kind]["throughput"]
        print("%s master SET -P 16: %.0f/s alone, %.0f/s with 2 replicas (%.2fx); per master CPU-second %.0f vs %.0f (%.2fx); target >= 0.8x"
              % (kind, tp["alone"], tp["with_2"], tp["ratio"], tp["cpu_alone"], tp["cpu_with_2"], tp["cpu_ratio"]))
        lg = results[kind]["lag"]
        print("%s replication lag under -P 16 load: p50 %.1f ms, p99 %.1f ms (%d probes; target p99 < 100 ms)" % (kind, lg["p50_ms"], lg["p99_ms"], lg["samples"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
