"""`triokv cluster up|down|status`: a local three-node, three-sentinel cluster in one directory.

`up` never leaves a half-started cluster: ports are checked first, and if anything fails on the
way every process started so far is stopped again. `down` stops exactly the processes whose pid
files (and start times) say they are ours.
"""

import fcntl
import json
import os
from contextlib import contextmanager

from . import CliError, launch, layout as layouts, probe, procs
from .layout import HOST
from .progress import NotYet, Progress
from .table import render

DEFAULTS = {"impl": "triokv", "port_base": 7000, "sentinel_port_base": 26379, "down_after_ms": 5000, "failover_timeout_ms": 15000}


@contextmanager
def dir_lock(directory: str):
    """One `cluster` command at a time per directory."""
    with open(os.path.join(directory, ".lock"), "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CliError("another triokv command is working on %s" % directory)
        yield


def running(layout) -> list:
    return ["%s (pid %d)" % (s.name, procs.running_pid(s.pidfile)) for s in layout.procs if launch.is_running(s)]


def up(args, progress: Progress) -> int:
    directory = os.path.abspath(args.dir)
    os.makedirs(directory, exist_ok=True)
    with dir_lock(directory):
        layout, fresh = layout_for_up(args, directory, progress)
        ports = layout.node_ports + layout.sentinel_ports
        taken = [str(p) for p in ports if not procs.port_free(HOST, p)]
        if taken:
            raise CliError("port %s already in use on %s; choose others with --port-base/--sentinel-port-base" % (", ".join(taken), HOST))
        if fresh:
            layouts.write_configs(layout)
            layout.save()
        try:
            start_cluster(layout, fresh, progress, args.timeout)
        except BaseException:
            progress.note("start-up failed: stopping what was started")
            launch.stop_all(list(reversed(layout.procs)), progress)
            raise
    print(ready_text(layout))
    return 0


def layout_for_up(args, directory, progress):
    """(layout, fresh): a new layout, or the stopped one recorded in the directory, restarted as it
    was (config files as the sentinels last rewrote them, data kept)."""
    if layouts.exists(directory):
        old = layouts.load(directory)
        busy = running(old)
        if busy:
            raise CliError("a cluster is already running in %s: %s; stop it with `triokv cluster down --dir %s`" % (directory, ", ".join(busy), args.dir))
        if not args.fresh:
            check_same_options(args, old)
            progress.note("restarting the stopped cluster recorded in %s (--fresh starts a new one)" % directory)
            return old, False
        layouts.remove_files(old)
    opts = {k: getattr(args, k) if getattr(args, k) is not None else v for k, v in DEFAULTS.items()}
    return layouts.plan(directory, **opts), True


def check_same_options(args, old):
    recorded = {"impl": old.impl, "port_base": old.node_ports[0], "sentinel_port_base": old.sentinel_ports[0], "down_after_ms": old.down_after_ms, "failover_timeout_ms": old.failover_timeout_ms}
    for key, value in recorded.items():
        given = getattr(args, key)
        if given is not None and given != value:
            raise CliError("%s holds a stopped cluster made with --%s %s; add --fresh to replace it (its data is deleted) or use another --dir" % (old.dir, key.replace("_", "-"), value))


def start_cluster(layout, fresh: bool, progress: Progress, timeout: float):
    """Nodes first; for a new cluster, replicas in sync before the sentinels start, so that the
    sentinels' first INFO of the master already lists both replicas (the next comes 10 s later)."""
    nodes, sentinels = layout.nodes, layout.sentinels
    started = []

    def check():
        for spec in started:
            launch.ensure_alive(spec)

    for spec in nodes:
        progress.note("starting %s: %s" % (spec.name, " ".join(spec.argv)))
        launch.start(spec)
        started.append(spec)
    launch.wait_serving(nodes, progress)
    if fresh:
        what = "replicas %s to sync with %s" % (", ".join(s.name for s in nodes[1:]), nodes[0].name)
        progress.wait_until(what, lambda: replicas_synced(nodes), timeout, check=check)
    for spec in sentinels:
        progress.note("starting %s: %s" % (spec.name, " ".join(spec.argv)))
        launch.start(spec)
        started.append(spec)
    launch.wait_serving(sentinels, progress)
    what = "every sentinel to know the master, %d replicas and %d other sentinels" % (len(nodes) - 1, len(sentinels) - 1)
    progress.wait_until(what, lambda: launch.cluster_healthy(layout), timeout, interval=0.2, check=check)


def replicas_synced(nodes) -> bool:
    problems = []
    probe.node_views(nodes[0].addr, [s.addr for s in nodes], len(nodes) - 1, problems)
    if problems:
        raise NotYet("; ".join(problems))
    return True


def ready_text(layout) -> str:
    sentinels = ", ".join('("%s", %d)' % s.addr for s in layout.sentinels)
    lines = ["cluster %s is up (%s) in %s" % (layout.master_name, layout.impl, layout.dir), ""]
    lines += ["  %-15s %s:%d" % (s.name, *s.addr) for s in layout.procs]
    lines += [
        "",
        "Connect with redis-py:",
        "",
        "    from redis.sentinel import Sentinel",
        "    sentinel = Sentinel([%s], socket_timeout=0.5)" % sentinels,
        '    master = sentinel.master_for("%s", socket_timeout=0.5)' % layout.master_name,
        '    replica = sentinel.slave_for("%s", socket_timeout=0.5)' % layout.master_name,
        '    master.set("hello", "world"); print(replica.get("hello"))',
        "",
        "Stop it with: triokv cluster down --dir %s" % layout.dir,
    ]
    return "\n".join(lines)


def down(args, progress: Progress) -> int:
    directory = os.path.abspath(args.dir)
    layout = layouts.load(directory)
    with dir_lock(directory):
        # Sentinels first: they must not fail over while the nodes go down.
        stopped = launch.stop_all(list(reversed(layout.procs)), progress)
        left = running(layout)
    if left:
        raise CliError("still running after SIGKILL: %s" % ", ".join(left))
    print("stopped %d processes of the cluster in %s" % (len(stopped), directory) if stopped else "nothing of the cluster in %s was running" % directory)
    return 0


def status(args, progress: Progress) -> int:
    layout = layouts.load(os.path.abspath(args.dir))
    rows = []
    for spec in layout.procs:
        pid = procs.running_pid(spec.pidfile)
        rows.append({"name": spec.name, "port": spec.port, "pid": pid, "alive": pid is not None, "role": probe.role(spec.addr) if pid else "-"})
    if args.json:
        print(json.dumps({"dir": layout.dir, "impl": layout.impl, "master_name": layout.master_name, "processes": rows}))
        return 0
    print("cluster %s (%s) in %s" % (layout.master_name, layout.impl, layout.dir))
    print(render(["NAME", "PORT", "PID", "ALIVE", "ROLE"], [[r["name"], r["port"], r["pid"], "yes" if r["alive"] else "no", r["role"]] for r in rows]))
    return 0
