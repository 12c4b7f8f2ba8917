"""Persistence side by side: real redis-server vs triokv-node.

For two datasets, 1,000,000 small string keys ("key:<i>" -> a 16-byte value)
and 100,000 ten-field hashes (the shapes of bench/memory.py), it measures on
each server:

  save     the time of a foreground SAVE (write, fsync, rename), client side
  size     the size of the dump.rdb it wrote
  load     the time to load that dump at start-up (the server's own
           "DB loaded from disk: X seconds" log line)
  bgsave   the worst GET latency a client sees while a BGSAVE runs (a
           client issues GETs back to back from before the fork until the
           child is done), next to the worst GET latency without a BGSAVE

and prints triokv/Redis ratios against the targets: save and load within 5x
of Redis's time, file size within 1.2x, worst GET latency during BGSAVE under
50 ms.

    python bench/persistence.py [--keys 1000000] [--hashes 100000] [--rounds 3] [--json out.json]

Times are the best of --rounds (the machine's noise only ever adds time).
"""

import argparse
import json
import os
import random
import re
import shutil
import socket
import sys
import tempfile
import time

import hiredis

from servers import Proc, redis_command, triokv_command

TARGETS = {"save": 5.0, "load": 5.0, "size": 1.2}
LATENCY_TARGET_MS = 50.0
_LOADED = re.compile(rb"DB loaded from disk: ([0-9.]+) seconds")


# ---- talking to a server ---------------------------------------------------


class Raw:
    """A blocking RESP connection that pipelines encoded commands in batches."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = hiredis.Reader()

    def call(self, *args):
        self.sock.sendall(encode(args))
        return self.replies(1)[0]

    def pipeline(self, commands, batch=2000):
        for start in range(0, len(commands), batch):
            chunk = commands[start : start + batch]
            self.sock.sendall(b"".join(chunk))
            for reply in self.replies(len(chunk)):
                if isinstance(reply, hiredis.ReplyError):
                    raise RuntimeError("server error while filling: %s" % reply)

    def replies(self, count):
        out = []
        while len(out) < count:
            reply = self.reader.gets()
            if reply is False:
                data = self.sock.recv(1 << 20)
                if not data:
                    raise ConnectionError("server closed the connection")
                self.reader.feed(data)
                continue
            out.append(reply)
        return out

    def close(self):
        self.sock.close()


def encode(args) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        arg = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


# ---- datasets (the shapes of bench/memory.py) ----------------------------------


def string_commands(count):
    return [encode((b"SET", b"key:%d" % i, b"v%015d" % i)) for i in range(count)]


def hash_commands(count):
    commands = []
    for i in range(count):
        args = [b"HSET", b"hash:%d" % i]
        for j in range(10):
            args += [b"field%d" % j, (b"v%09d-%05d" % (i, j))[:16]]
        commands.append(encode(args))
    return commands


def sample_keys(label, count):
    prefix = b"key:%d" if label == "strings" else b"hash:%d"
    return [prefix % random.randrange(count) for _ in range(1000)]


# ---- one server, one dataset ----------------------------------------------------


def with_dir(make_argv, workdir):
    """An argv maker that runs the server in `workdir` (where the dump is) instead of Proc's own."""
    return lambda port, _own: make_argv(port, workdir)


def measure(kind, make_argv, label, commands, rounds):
    workdir = tempfile.mkdtemp(prefix="triokv-bench-persist-%s-" % kind)
    try:
        proc = Proc(kind, with_dir(make_argv, workdir))
        try:
            conn = Raw(proc.port)
            conn.pipeline(commands)
            saves = []
            for _ in range(rounds):
                start = time.perf_counter()
                reply = conn.call("SAVE")
                saves.append(time.perf_counter() - start)
                if reply != b"OK":
                    raise RuntimeError("%s SAVE answered %r" % (kind, reply))
            size = os.path.getsize(os.path.join(workdir, "dump.rdb"))
            worst_idle, worst_bgsave, bgsave_seconds = bgsave_latency(proc.port, sample_keys(label, len(commands)))
            conn.close()
        finally:
            proc.stop()
        loads = [load_seconds(kind, make_argv, workdir) for _ in range(rounds)]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {"save": min(saves), "size": size, "load": min(loads), "worst_get_ms_idle": worst_idle, "worst_get_ms_bgsave": worst_bgsave, "bgsave_seconds": bgsave_seconds}


def load_seconds(kind, make_argv, workdir):
    """Start a server on the dump and read its own account of the load time."""
    proc = Proc(kind, with_dir(make_argv, workdir))
    try:
        with open(proc.log.name, "rb") as f:
            found = _LOADED.search(f.read())
        if not found:
            raise RuntimeError("%s logged no load time (see %s)" % (kind, proc.log.name))
        return float(found.group(1))
    finally:
        proc.stop()


def bgsave_latency(port, keys, idle_seconds=1.0):
    """(worst GET ms without a BGSAVE, worst GET ms from the fork to the child's end, BGSAVE seconds)."""
    getter, control = Raw(port), Raw(port)
    try:
        idle_end = time.perf_counter() + idle_seconds
        worst_idle = _worst_get(getter, keys, lambda: time.perf_counter() > idle_end)
        state = {"started": None, "done": False, "next_check": 0.0}

        def finished():
            now = time.perf_counter()
            if state["started"] is None:
                reply = control.call("BGSAVE")
                if reply != b"Background saving started":
                    raise RuntimeError("BGSAVE answered %r" % reply)
                state["started"] = now
                return False
            if now < state["next_check"]:
                return False
            state["next_check"] = now + 0.02
            info = control.call("INFO", "persistence").decode()
            return "rdb_bgsave_in_progress:0" in info

        worst_bgsave = _worst_get(getter, keys, finished)
        return worst_idle, worst_bgsave, time.perf_counter() - state["started"]
    finally:
        getter.close()
        control.close()


def _worst_get(conn, keys, done):
    """GET (HGET for hashes) back to back until done(); the slowest round trip in ms."""
    requests = [encode((b"GET", key)) if key.startswith(b"key:") else encode((b"HGET", key, b"field3")) for key in keys]
    worst = 0.0
    i = 0
    while not done():
        request = requests[i % len(requests)]
        i += 1
        start = time.perf_counter()
        conn.sock.sendall(request)
        conn.replies(1)
        worst = max(worst, time.perf_counter() - start)
    return worst * 1000


# ---- report --------------------------------------------------------------------


def report(results):
    print()
    print("%-8s %-8s %12s %12s %8s   %s" % ("dataset", "metric", "redis", "triokv", "ratio", "target"))
    ok = True
    for label, row in results.items():
        redis_row, triokv_row = row["redis"], row["triokv"]
        for metric, unit in (("save", "s"), ("load", "s"), ("size", "B")):
            ratio = triokv_row[metric] / max(redis_row[metric], 1e-9)
            good = ratio <= TARGETS[metric]
            ok &= good
            row.setdefault("ratios", {})[metric] = round(ratio, 2)
            fmt = "%12.3f" if unit == "s" else "%12d"
            print(("%-8s %-8s " + fmt + " " + fmt + " %7.2fx   <= %.1fx %s") % (label, metric, redis_row[metric], triokv_row[metric], ratio, TARGETS[metric], "ok" if good else "MISSED"))
        for name in ("redis", "triokv"):
            r = row[name]
            good = name == "redis" or r["worst_get_ms_bgsave"] < LATENCY_TARGET_MS
            ok &= good
            print("%-8s %-8s worst GET during BGSAVE %.1f ms (idle %.1f ms, BGSAVE took %.2f s)%s" % (
                label, name, r["worst_get_ms_bgsave"], r["worst_get_ms_idle"], r["bgsave_seconds"],
                "" if name == "redis" else ("   < %.0f ms %s" % (LATENCY_TARGET_MS, "ok" if good else "MISSED"))))
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--hashes", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--datasets", default="strings,hashes", help="which datasets to run (strings,hashes)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    random.seed(1)
    results = {}
    for label, count, make in (("strings", args.keys, string_commands), ("hashes", args.hashes, hash_commands)):
        if label not in args.datasets.split(","):
            continue
        commands = make(count)
        results[label] = {}
        for kind, make_argv in (("redis", redis_command), ("triokv", triokv_command)):
            sys.stderr.write("%s: %s...\n" % (label, kind))
            results[label][kind] = measure(kind, make_argv, label, commands, args.rounds)
    ok = report(results)
    print(json.dumps(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
