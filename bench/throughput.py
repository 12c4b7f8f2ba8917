"""redis-benchmark side by side: real redis-server vs triokv-node, as throughput ratios.

Both servers are pinned to one CPU and redis-benchmark to another; rounds
alternate between the servers and the median of the rounds is reported.

    python bench/throughput.py [--rounds 3] [--requests 100000] [--tests set,get] [--pipelines 1,16]
"""

import argparse
import csv
import io
import json
import shutil
import statistics
import subprocess
import sys

from servers import start_pair

DEFAULT_TESTS = "set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,mset"
TARGET = {"SET": 0.4, "GET": 0.4, "INCR": 0.4}


def run_benchmark(port, tests, pipeline, requests, clients, cpu):
    argv = ["redis-benchmark", "-p", str(port), "-c", str(clients), "-n", str(requests), "-P", str(pipeline), "-t", tests, "--csv", "-q"]
    if cpu is not None and shutil.which("taskset"):
        argv = ["taskset", "-c", str(cpu)] + argv
    out = subprocess.run(argv, capture_output=True, text=True, timeout=1800).stdout
    result = {}
    for row in csv.reader(io.StringIO(out)):
        if len(row) >= 2 and row[0] != "test":
            name = row[0].split(" ")[0]
            if name == "LPUSH" and "LRANGE" in row[0]:
                continue
            result[row[0].replace(" (first 100 elements)", "").replace(" (10 keys)", "")] = float(row[1])
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=100000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--tests", default=DEFAULT_TESTS)
    parser.add_argument("--pipelines", default="1,16")
    parser.add_argument("--server-cpu", default="0")
    parser.add_argument("--client-cpu", default="1")
    args = parser.parse_args()
    redis_srv, triokv_srv = start_pair(args.server_cpu)
    report = {}
    try:
        for pipeline in [int(p) for p in args.pipelines.split(",")]:
            rounds = {"redis": [], "triokv": []}
            for _ in range(args.rounds):
                for name, srv in (("redis", redis_srv), ("triokv", triokv_srv)):
                    srv.client.flushall()
                    n = args.requests * (4 if pipeline > 1 else 1)
                    rounds[name].append(run_benchmark(srv.port, args.tests, pipeline, n, args.clients, args.client_cpu))
            report["P%d" % pipeline] = summarize(rounds)
    finally:
        redis_srv.stop()
        triokv_srv.stop()
    print_report(report)
    print(json.dumps(report))


def summarize(rounds):
    tests = sorted(set(rounds["redis"][0]) & set(rounds["triokv"][0]))
    summary = {}
    for test in tests:
        r = statistics.median(x[test] for x in rounds["redis"] if test in x)
        t = statistics.median(x[test] for x in rounds["triokv"] if test in x)
        summary[test] = {"redis_rps": r, "triokv_rps": t, "ratio": round(t / r, 3) if r else None}
    return summary


def print_report(report):
    for pipeline, tests in report.items():
        print("\n-P %s   %-12s %12s %12s %7s %7s" % (pipeline[1:], "test", "redis rps", "triokv rps", "ratio", "target"))
        for test, row in tests.items():
            target = TARGET.get(test, 0.3)
            mark = "ok" if row["ratio"] and row["ratio"] >= target else "LOW"
            print("        %-12s %12.0f %12.0f %7.2f %5.1f %s" % (test, row["redis_rps"], row["triokv_rps"], row["ratio"], target, mark))
        ratios = [row["ratio"] for row in tests.values() if row["ratio"]]
        if ratios:
            print("        geometric mean ratio: %.3f" % statistics.geometric_mean(ratios))


if __name__ == "__main__":
    sys.exit(main())
