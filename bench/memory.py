"""Memory per key side by side: real redis-server vs triokv-node.

Loads --keys small string keys ("key:<i>" -> a 16-byte value) and --hashes
ten-field hashes into a fresh server of each kind, and reports the RSS growth
per key (and INFO used_memory growth) with the triokv/Redis ratio.

    python bench/memory.py [--keys 1000000] [--hashes 100000]
"""

import argparse
import json
import sys
import time

from servers import Proc, redis_command, triokv_command


def load(proc, count, make, batch=2000):
    client = proc.client
    for start in range(0, count, batch):
        pipe = client.pipeline(transaction=False)
        for i in range(start, min(start + batch, count)):
            make(pipe, i)
        pipe.execute()


def set_string(pipe, i):
    pipe.set("key:%d" % i, "v%015d" % i)


def set_hash(pipe, i):
    pipe.hset("hash:%d" % i, mapping={"field%d" % j: ("v%09d-%05d" % (i, j))[:16] for j in range(10)})


def measure(name, make_argv, count, make):
    proc = Proc(name, make_argv)
    try:
        time.sleep(0.5)
        base_rss = proc.rss_bytes()
        base_used = int(proc.client.info("memory")["used_memory"])
        start = time.time()
        load(proc, count, make)
        elapsed = time.time() - start
        time.sleep(0.5)
        rss = proc.rss_bytes()
        used = int(proc.client.info("memory")["used_memory"])
        return {"rss_per_item": round((rss - base_rss) / count, 1), "used_memory_per_item": round((used - base_used) / count, 1), "load_seconds": round(elapsed, 2)}
    finally:
        proc.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--hashes", type=int, default=100_000)
    args = parser.parse_args()
    report = {}
    for label, count, make in (("strings", args.keys, set_string), ("hashes", args.hashes, set_hash)):
        row = {}
        for name, make_argv in (("redis", redis_command), ("triokv", triokv_command)):
            row[name] = measure(name, make_argv, count, make)
        row["rss_ratio"] = round(row["triokv"]["rss_per_item"] / row["redis"]["rss_per_item"], 2)
        report[label] = row
        print("%-8s redis %7.1f B/item   triokv %7.1f B/item   ratio %.2f  (target for strings: <= 2.0)" % (label, row["redis"]["rss_per_item"], row["triokv"]["rss_per_item"], row["rss_ratio"]))
    print(json.dumps(report))


if __name__ == "__main__":
    sys.exit(main())
