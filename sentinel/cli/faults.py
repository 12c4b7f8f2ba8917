"""The faults a drill injects: which process is hit, and how.

kill-master / kill-replica / kill-sentinel: SIGKILL through the cluster's pid file (verified ours).
restart-master: SIGTERM (a clean shutdown), then the same command line again at once.
pause-master: the master freezes (DEBUG SLEEP, or CLIENT PAUSE ALL) longer than down-after.
--inject CMD replaces the built-in action with a shell command told the target in its environment.
"""

import os
import signal
import subprocess
import threading
from dataclasses import dataclass

import redis

from . import CliError, launch, probe, procs
from .layout import Layout, ProcSpec

KINDS = ("kill-master", "pause-master", "kill-replica", "kill-sentinel", "restart-master")
# Sentinel's own word for each target, as it appears in event payloads (`+sdown slave ...`).
TARGET_TYPE = {"kill-master": "master", "pause-master": "master", "restart-master": "master", "kill-replica": "slave", "kill-sentinel": "sentinel"}


@dataclass
class Fault:
    kind: str
    target: ProcSpec
    master: tuple  # the master's address when the drill started

    @property
    def target_type(self) -> str:
        return TARGET_TYPE[self.kind]

    @property
    def expects_failover(self) -> bool:
        return self.kind in ("kill-master", "pause-master")


def choose(kind: str, layout: Layout, master) -> Fault:
    """The process the fault hits: the current master, a replica, or a sentinel."""
    if TARGET_TYPE[kind] == "master":
        target = layout.node_at(master)
        if target is None:
            raise CliError("the master %s is not one of this cluster's nodes" % probe.fmt(master))
    elif kind == "kill-replica":
        target = next(s for s in layout.nodes if s.addr != tuple(master))
    else:
        target = layout.sentinels[-1]
    return Fault(kind, target, tuple(master))


def default_pause_ms(layout: Layout) -> int:
    """Long enough for the sentinels to notice (down-after), agree and promote a replica."""
    return 3 * layout.down_after_ms + 2000


def inject(fault: Fault, layout: Layout, args, progress) -> str:
    """Apply the fault; a line saying what was done."""
    if args.inject:
        return run_custom(args.inject, fault, layout, args.timeout)
    spec = fault.target
    if fault.kind == "pause-master":
        return pause(spec, args.pause_ms or default_pause_ms(layout), args.pause_with)
    if fault.kind == "restart-master":
        pid = launch.kill(spec, signal.SIGTERM)
        done = launch.heal(layout, progress, args.timeout)
        return "SIGTERM %s (pid %d), then %s" % (spec.name, pid, "; ".join(done) or "nothing to restart")
    pid = launch.kill(spec, signal.SIGKILL)
    return "SIGKILL %s (pid %d)" % (spec.name, pid)


def pause(spec: ProcSpec, pause_ms: int, how: str) -> str:
    """Freeze the master. DEBUG SLEEP answers only when the sleep is over, so it is sent from a
    thread; a refusal (DEBUG disabled) comes back at once and is raised here."""
    if how == "client-pause":
        probe.call(spec.addr, "CLIENT", "PAUSE", pause_ms, "ALL")
        return "CLIENT PAUSE %d ALL on %s" % (pause_ms, spec.name)
    failure = []

    def sleep():
        try:
            probe.call(spec.addr, "DEBUG", "SLEEP", "%.3f" % (pause_ms / 1000), timeout=pause_ms / 1000 + 10)
        except (redis.RedisError, OSError) as e:
            failure.append(e)

    thread = threading.Thread(target=sleep, name="debug-sleep", daemon=True)
    thread.start()
    thread.join(timeout=0.3)
    if failure:
        raise CliError("DEBUG SLEEP on %s failed: %s" % (spec.name, failure[0]))
    return "DEBUG SLEEP %.3f on %s" % (pause_ms / 1000, spec.name)


def run_custom(command: str, fault: Fault, layout: Layout, timeout: float) -> str:
    spec = fault.target
    env = dict(os.environ)
    env.update({
        "TRIOKV_TARGET_NAME": spec.name,
        "TRIOKV_TARGET_HOST": spec.addr[0],
        "TRIOKV_TARGET_PORT": str(spec.port),
        "TRIOKV_TARGET_PID": str(procs.running_pid(spec.pidfile) or ""),
        "TRIOKV_MASTER_HOST": fault.master[0],
        "TRIOKV_MASTER_PORT": str(fault.master[1]),
        "TRIOKV_DIR": layout.dir,
    })
    try:
        done = subprocess.run(command, shell=True, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise CliError("--inject command still running after %.0fs: %s" % (timeout, command))
    if done.returncode != 0:
        raise CliError("--inject command exited with status %d: %s" % (done.returncode, (done.stderr or done.stdout).strip()[-300:]))
    return "ran: %s" % command
