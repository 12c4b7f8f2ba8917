#!/usr/bin/env python3
"""Capture what Redis says about our commands into node/commands/redis_commands.json.

COMMAND INFO and COMMAND DOCS are long, hand-written tables in Redis (its
commands/*.json); rather than retyping them, this asks a real redis-server for
every command and subcommand triokv registers and keeps Redis's answer:

    name -> {"arity", "flags", "first", "last", "step"   (checked against our table)
             "acl", "tips", "key_specs", "docs"}          (served by node.commands.meta)

Run it against the Redis version we match (7.0.15) whenever a command is added:

    python scripts/capture_command_docs.py              # starts redis-server on a free port
    python scripts/capture_command_docs.py --port 6379  # or asks a running one
"""

import argparse
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from node.commands.table import COMMANDS  # noqa: E402
import node.commands  # noqa: E402,F401  (registers every command)

OUTPUT = ROOT / "node" / "commands" / "redis_commands.json"


# ---- a minimal RESP3 client -------------------------------------------------


class Set(list):
    """A RESP3 set, kept apart from an array."""


class Resp3:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.file = self.sock.makefile("rb")
        self.call("HELLO", "3")

    def call(self, *args):
        out = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args)
        self.sock.sendall(out)
        return self._read()

    def _read(self):
        line = self.file.readline()[:-2]
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"("):
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"_":
            return None
        if kind in (b"$", b"="):
            data = self.file.read(int(rest) + 2)[:-2]
            return data.decode()
        if kind in (b"*", b"~"):
            items = [self._read() for _ in range(int(rest))]
            return Set(items) if kind == b"~" else items
        if kind == b"%":
            return {self._read(): self._read() for _ in range(int(rest))}
        raise RuntimeError("unexpected reply %r" % line)


# ---- conversion -------------------------------------------------------------


def info_entry(info):
    """One COMMAND INFO array as a dict (subcommands by name, in Redis's order)."""
    name, arity, flags, first, last, step, acl, tips, specs, subs = info
    return {
        "arity": arity,
        "flags": list(flags),
        "first": first,
        "last": last,
        "step": step,
        "acl": [c[1:] for c in acl],
        "tips": list(tips),
        "key_specs": [key_spec(s) for s in specs],
        "_subinfo": {s[0]: s for s in subs},
    }


def key_spec(spec):
    out = {}
    if "notes" in spec:
        out["notes"] = spec["notes"]
    out["flags"] = list(spec["flags"])
    for part in ("begin_search", "find_keys"):
        out[part] = {"type": spec[part]["type"], "spec": dict(spec[part]["spec"])}
    return out


_DOC_FIELDS = ("summary", "since", "group", "complexity", "doc_flags", "deprecated_since", "replaced_by", "history", "arguments")


def docs_entry(docs):
    out = {}
    for field in _DOC_FIELDS:
        if field not in docs:
            continue
        value = docs[field]
        if field == "doc_flags":
            value = list(value)
        elif field == "history":
            value = [list(pair) for pair in value]
        elif field == "arguments":
            value = [argument(a) for a in value]
        out[field] = value
    return out


def argument(arg):
    out = {}
    for field, value in arg.items():
        if field == "flags":
            value = list(value)
        elif field == "arguments":
            value = [argument(a) for a in value]
        out[field] = value
    return out


def capture(conn):
    data = {}
    for name in sorted(COMMANDS):
        infos = conn.call("COMMAND", "INFO", name)
        if not infos or infos[0] is None:
            print("redis has no command %r: left out" % name, file=sys.stderr)
            continue
        entry = info_entry(infos[0])
        subinfo = entry.pop("_subinfo")
        docs = conn.call("COMMAND", "DOCS", name)[name]
        entry["docs"] = docs_entry(docs)
        subdocs = docs.get("subcommands", {})
        data[name] = entry
        for sub in COMMANDS[name].subcommands.values():
            if sub.name not in subinfo:
                print("redis has no subcommand %r: left out" % sub.name, file=sys.stderr)
                continue
            sub_entry = info_entry(subinfo[sub.name])
            del sub_entry["_subinfo"]
            sub_entry["docs"] = docs_entry(subdocs[sub.name])
            data[sub.name] = sub_entry
    return data


# ---- a server to ask -------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis():
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            return proc, Resp3(port)
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.05)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, help="a running redis-server (default: start one)")
    opts = parser.parse_args()
    proc = None
    if opts.port:
        conn = Resp3(opts.port)
    else:
        proc, conn = start_redis()
    try:
        version = conn.call("HELLO")["version"]
        data = {"_redis_version": version}
        data.update(capture(conn))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait()
    # One command per line: a compact file whose diffs still show which commands changed.
    lines = ["%s: %s" % (json.dumps(name), json.dumps(entry, ensure_ascii=False)) for name, entry in data.items()]
    OUTPUT.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
    print("%d commands from redis %s -> %s" % (len(data) - 1, version, OUTPUT.relative_to(ROOT)))


if __name__ == "__main__":
    main()
