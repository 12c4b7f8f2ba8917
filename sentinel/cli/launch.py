"""Starting, stopping and restarting the processes of a cluster layout.

Shared by `cluster up/down` and the drills (which kill processes and must bring them back).
"""

import os
import signal

import redis

from . import CliError, probe, procs
from .layout import Layout, ProcSpec
from .progress import NotYet, Progress

START_TIMEOUT = 20.0


def log_tail(spec: ProcSpec, lines: int = 5) -> str:
    """The last lines the process wrote, for error messages: from its log or its stdout (where a
    server complains before its log is open), whichever was written last."""
    written = [p for p in (spec.log, spec.out) if os.path.exists(p) and os.path.getsize(p)]
    if not written:
        return "(no output)"
    with open(max(written, key=os.path.getmtime), "rb") as f:
        text = f.read().decode("utf-8", "replace").strip().splitlines()
    return " | ".join(text[-lines:])


def is_running(spec: ProcSpec) -> bool:
    return procs.running_pid(spec.pidfile) is not None


def ensure_alive(spec: ProcSpec):
    """CliError naming the process and its last words if it is no longer running."""
    if not is_running(spec):
        raise CliError("%s exited: %s" % (spec.name, log_tail(spec)))


def start(spec: ProcSpec, extra=()) -> int:
    """Start a process of the layout detached; its pid. The argv is the recorded one (plus extra)."""
    os.makedirs(spec.workdir, exist_ok=True)
    return procs.start_detached(list(spec.argv) + list(extra), spec.workdir, spec.out, spec.pidfile)


def wait_serving(specs, progress: Progress, timeout: float = START_TIMEOUT):
    """Until every process answers PING; CliError at once if one of them exits."""
    names = ", ".join(s.name for s in specs)

    def check():
        for s in specs:
            ensure_alive(s)

    def all_pong():
        pending = [s.name for s in specs if not probe.answers_ping(s.addr)]
        if pending:
            raise NotYet("no PONG yet from " + ", ".join(pending))
        return True

    progress.wait_until("%s to answer PING" % names, all_pong, timeout, interval=0.05, check=check)


def cluster_healthy(layout: Layout) -> probe.Health:
    """A wait condition: every process of the layout in its place (see probe.health)."""
    nodes = [s.addr for s in layout.nodes]
    return probe.healthy(layout.sentinel_addrs, layout.master_name, len(nodes) - 1, nodes)


def stop_all(specs, progress: Progress) -> list:
    """SIGTERM (then SIGKILL) each running process, in the order given; the names stopped."""
    stopped = []
    for spec in specs:
        pid = procs.stop(spec.pidfile)
        if pid is not None:
            progress.note("stopped %s (pid %d)" % (spec.name, pid))
            stopped.append(spec.name)
    return stopped


def kill(spec: ProcSpec, sig=signal.SIGKILL) -> int:
    """Signal a process of the layout (verified to be ours) and wait until it is gone; its pid."""
    pid = procs.signal_pid(spec.pidfile, sig)
    if pid is None:
        raise CliError("%s is not running (pid file %s)" % (spec.name, spec.pidfile))
    if not procs.wait_gone(spec.pidfile, procs.STOP_DEADLINE):
        raise CliError("%s (pid %d) is still running %.0fs after signal %s" % (spec.name, pid, procs.STOP_DEADLINE, sig))
    return pid


def agreed_master(layout: Layout, progress: Progress, timeout: float) -> tuple:
    """The master every answering sentinel names (a quorum of them must answer). Right after a
    failover they disagree for a moment: the leader switches at failover-end, after the others."""
    name = layout.master_name

    def agree():
        answers = []
        for addr in layout.sentinel_addrs:
            try:
                reply = probe.call(addr, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)
            except (redis.RedisError, OSError):
                continue
            answers.append((reply[0], int(reply[1])) if reply else None)
        if len(answers) < layout.quorum:
            raise NotYet("only %d sentinels answer" % len(answers))
        if len(set(answers)) != 1 or answers[0] is None:
            raise NotYet("sentinels name %s" % ", ".join(sorted(probe.fmt(a) if a else "none" for a in set(answers))))
        return answers[0]

    return progress.wait_until("the sentinels to agree on the master", agree, timeout)


def restart_node_args(layout: Layout, spec: ProcSpec, progress: Progress, timeout: float) -> list:
    """Extra arguments for a node brought back: `--replicaof <current master>` unless it is the
    master the sentinels name. An init script asking the sentinels does the same; without it a
    former master would come back as a master and serve stale writes until the sentinels
    convert it (Redis waits 8 s before it does)."""
    current = agreed_master(layout, progress, timeout)
    if tuple(current) == spec.addr:
        return []
    return ["--replicaof", current[0], str(current[1])]


def persist_role(spec: ProcSpec):
    """CONFIG REWRITE, so the node's config file keeps the role it was restarted with."""
    try:
        probe.call(spec.addr, "CONFIG", "REWRITE")
    except (redis.RedisError, OSError):
        pass  # the role is still right for this run; only a later `cluster up` would start it stale


def heal(layout: Layout, progress: Progress, timeout: float = START_TIMEOUT * 3) -> list:
    """Restart every process of the layout that is not running; what was done, as lines.
    Sentinels first: a node's restart asks them who the master is."""
    done = []
    for spec in layout.sentinels + layout.nodes:
        if is_running(spec):
            continue
        extra = restart_node_args(layout, spec, progress, timeout) if spec.kind == "node" else []
        pid = start(spec, extra)
        wait_serving([spec], progress)
        if extra:
            persist_role(spec)
        done.append("restarted %s (pid %d)%s" % (spec.name, pid, " as replica of %s:%s" % (extra[1], extra[2]) if extra else ""))
        progress.note(done[-1])
    return done

