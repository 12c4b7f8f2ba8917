"""Wiring: the replication state installed on a node, and its background task.

`attach(node)` installs `node.replication` (replication.state), with its
master side and its link, and the hooks persistence and the command layer
call. `node.replication.run` is started by the server with its other tasks:
it runs the link and the snapshot transfers, and the periodic work (Redis's
replicationCron: pings, ACK timeouts, min-replicas, the diskless delay).
"""

import trio

from .master import Master
from .replica import ReplicaLink
from .state import ReplicationState
from .mastership import Mastership
from .position import DurablePosition
from .synchronous import SynchronousReplicas

_TICK = 0.1  # pending snapshots are started on this beat; the rest runs once a second
_BACKLOG_MIN = 16 * 1024  # CONFIG_REPL_BACKLOG_MIN_SIZE


def attach(node, open_stream=None) -> ReplicationState:
    state = ReplicationState(node)
    state.master = Master(state)
    state.synchronous = SynchronousReplicas(state)
    state.mastership = Mastership(state)
    state.position = DurablePosition(state)
    node.shutdown_hooks = getattr(node, "shutdown_hooks", []) + [state.mastership.on_shutdown]
    state.link = ReplicaLink(state, open_stream)
    state.run = _Service(state).run
    node.replication = state
    node.replication_aux = state.rdb_aux
    node.on_rdb_loaded = state.on_rdb_loaded
    node.config.listeners.append(_ConfigWatcher(state))
    replicaof = node.config["replicaof"]
    if replicaof:
        host, port = replicaof.rsplit(" ", 1)
        state.link.configure(host, int(port))
    node.refresh_write_checks()
    return state


class _ConfigWatcher:
    def __init__(self, state):
        self.state = state

    def __call__(self, name, value):
        state = self.state
        if name == "repl-backlog-size":
            if value < _BACKLOG_MIN:
                value = state.config.values[name] = _BACKLOG_MIN  # Redis's floor, CONFIG GET shows it
            if state.backlog is not None:
                state.backlog.resize(value)
        elif name in ("min-replicas-to-write", "min-replicas-max-lag", "synchronous-replicas"):
            state.refresh_good_replicas()
            state.node.refresh_write_checks()
        elif name == "client-output-buffer-limit":
            state.master.refresh_output_limits()
        elif name == "replica-serve-stale-data":
            state.link.refresh_stale_gate()


class _Service:
    def __init__(self, state):
        self.state = state

    async def run(self):
        state = self.state
        master = state.master
        async with trio.open_nursery() as nursery:
            master.nursery = nursery
            nursery.start_soon(master.flusher)
            nursery.start_soon(state.link.run)
            ticks = 0
            while True:
                await trio.sleep(_TICK)
                master.flush()
                master.fullsync.cron()
                ticks += 1
                if ticks % 10 == 0:
                    master.cron()
