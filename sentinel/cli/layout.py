"""The local cluster's layout: which processes, their ports, files and command lines.

One directory holds it all: `cluster.json` (the layout, including every process's argv so a
killed process can be restarted exactly as it was), and one folder per process with its config
file, log, pid file and data. Nothing here starts a process; cluster.py does.

    triokv-cluster/
      cluster.json
      node-7000/      node.conf  node.log  node.pid  node.start  stdout.log  (AOF, RDB)
      sentinel-26379/ sentinel.conf  sentinel.log  sentinel.pid ...
"""

import importlib.util
import json
import os
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import CliError

HOST = "127.0.0.1"
LAYOUT_FILE = "cluster.json"
IMPLS = ("triokv", "redis")


@dataclass
class ProcSpec:
    name: str  # node-7000, sentinel-26379
    kind: str  # node | sentinel
    port: int
    workdir: str
    argv: list

    @property
    def conf(self) -> str:
        return os.path.join(self.workdir, self.kind + ".conf")

    @property
    def log(self) -> str:
        return os.path.join(self.workdir, self.kind + ".log")

    @property
    def pidfile(self) -> str:
        return os.path.join(self.workdir, self.kind + ".pid")

    @property
    def out(self) -> str:
        return os.path.join(self.workdir, "stdout.log")

    @property
    def addr(self) -> tuple:
        return (HOST, self.port)


@dataclass
class Layout:
    dir: str
    impl: str
    master_name: str
    quorum: int
    node_ports: list
    sentinel_ports: list
    down_after_ms: int
    failover_timeout_ms: int
    procs: list = field(default_factory=list)

    @property
    def nodes(self) -> list:
        return [p for p in self.procs if p.kind == "node"]

    @property
    def sentinels(self) -> list:
        return [p for p in self.procs if p.kind == "sentinel"]

    @property
    def sentinel_addrs(self) -> list:
        return [p.addr for p in self.sentinels]

    def node_at(self, addr):
        """The node process listening on addr (host, port), or None."""
        return next((p for p in self.nodes if p.addr == (addr[0], int(addr[1]))), None)

    def save(self):
        data = asdict(self)
        tmp = os.path.join(self.dir, LAYOUT_FILE + ".tmp")
        with open(tmp, "w") as f:
            json.dump(data, f, indent=2)
        os.replace(tmp, os.path.join(self.dir, LAYOUT_FILE))


def load(directory: str) -> Layout:
    """The layout recorded in directory; CliError if there is none."""
    path = os.path.join(directory, LAYOUT_FILE)
    try:
        with open(path) as f:
            data = json.load(f)
    except FileNotFoundError:
        raise CliError("no cluster in %s (no %s); start one with `triokv cluster up --dir %s`" % (directory, LAYOUT_FILE, directory))
    except (OSError, ValueError) as e:
        raise CliError("cannot read %s: %s" % (path, e))
    data["procs"] = [ProcSpec(**p) for p in data["procs"]]
    return Layout(**data)


def exists(directory: str) -> bool:
    return os.path.exists(os.path.join(directory, LAYOUT_FILE))


def plan(directory, impl, port_base, sentinel_port_base, down_after_ms, failover_timeout_ms, master_name="mymaster", quorum=2) -> Layout:
    """A fresh three-node, three-sentinel layout; the first node is the master."""
    directory = os.path.abspath(directory)
    layout = Layout(directory, impl, master_name, quorum, [port_base + i for i in range(3)], [sentinel_port_base + i for i in range(3)], down_after_ms, failover_timeout_ms)
    for port in layout.node_ports:
        workdir = os.path.join(directory, "node-%d" % port)
        spec = ProcSpec("node-%d" % port, "node", port, workdir, [])
        spec.argv = node_command(impl) + [spec.conf]
        layout.procs.append(spec)
    for port in layout.sentinel_ports:
        workdir = os.path.join(directory, "sentinel-%d" % port)
        spec = ProcSpec("sentinel-%d" % port, "sentinel", port, workdir, [])
        spec.argv = sentinel_command(impl, spec.conf)
        layout.procs.append(spec)
    return layout


def write_configs(layout: Layout):
    """Write every process's config file (redis.conf / sentinel.conf syntax, read by both impls)."""
    master = layout.nodes[0]
    for spec in layout.procs:
        os.makedirs(spec.workdir, exist_ok=True)
        text = node_conf(layout, spec, master) if spec.kind == "node" else sentinel_conf(layout, spec, master)
        with open(spec.conf, "w") as f:
            f.write(text)


def node_conf(layout: Layout, spec: ProcSpec, master: ProcSpec) -> str:
    lines = [
        "# triokv cluster node (%s); the sentinels may rewrite this file (CONFIG REWRITE)" % layout.impl,
        "port %d" % spec.port,
        "bind %s" % HOST,
        'dir "%s"' % spec.workdir,
        'logfile "%s"' % spec.log,
        "daemonize no",
        'save ""',
        "appendonly yes",
        # Replicas sync at once instead of waiting 5 s for others to join a diskless transfer.
        "repl-diskless-sync-delay 0",
        # pause-master drills freeze the master with DEBUG SLEEP from this machine.
        "enable-debug-command local",
    ]
    if spec is not master:
        lines.append("replicaof %s %d" % master.addr)
    return "\n".join(lines) + "\n"


def sentinel_conf(layout: Layout, spec: ProcSpec, master: ProcSpec) -> str:
    name = layout.master_name
    lines = [
        "# triokv cluster sentinel (%s); the sentinel rewrites this file with what it learns" % layout.impl,
        "port %d" % spec.port,
        "bind %s" % HOST,
        'dir "%s"' % spec.workdir,
        'logfile "%s"' % spec.log,
        "daemonize no",
        "sentinel monitor %s %s %d %d" % (name, master.addr[0], master.port, layout.quorum),
        "sentinel down-after-milliseconds %s %d" % (name, layout.down_after_ms),
        "sentinel failover-timeout %s %d" % (name, layout.failover_timeout_ms),
        "sentinel parallel-syncs %s 1" % name,
    ]
    return "\n".join(lines) + "\n"


def remove_files(layout: Layout):
    """Delete a stopped cluster's folders and record (only what the layout names)."""
    for spec in layout.procs:
        shutil.rmtree(spec.workdir, ignore_errors=True)
    try:
        os.unlink(os.path.join(layout.dir, LAYOUT_FILE))
    except FileNotFoundError:
        pass


# ---- executables -------------------------------------------------------------------------


def _script(name: str, module: str) -> list:
    """A console script of ours: next to this interpreter, on PATH, or `python -m module`."""
    script = Path(sys.executable).parent / name
    if script.exists():
        return [str(script)]
    found = shutil.which(name)
    return [found] if found else [sys.executable, "-m", module]


def _redis_server() -> str:
    found = shutil.which("redis-server")
    if not found:
        raise CliError("redis-server not found on PATH: install Redis 7 or use --impl triokv")
    return found


def node_command(impl: str) -> list:
    return [_redis_server()] if impl == "redis" else _script("triokv-node", "node")


def sentinel_available() -> bool:
    """Whether triokv's own sentinel (`python -m sentinel`, triokv-sentinel) is installed."""
    try:
        return importlib.util.find_spec("sentinel.__main__") is not None
    except ImportError:
        return False


def sentinel_command(impl: str, conf: str) -> list:
    if impl == "redis":
        return [_redis_server(), conf, "--sentinel"]
    if not sentinel_available():
        raise CliError("triokv-sentinel is not available in this installation (no sentinel/__main__.py); use --impl redis")
    return _script("triokv-sentinel", "sentinel") + [conf]
