"""Replication, both sides, as Redis 7.0 does it (PSYNC2).

    state.py      the node's replication state (node.replication): IDs, offsets, INFO, ROLE, NOREPLICAS
    backlog.py    the backlog: a ring of the stream's last bytes, by global offset
    psync.py      the PSYNC rules, pure: may a replica continue? what does a master's reply mean?
    master.py     master side: the stream, attached replicas, PSYNC/REPLCONF/WAIT, the cron
    fullsync.py   master side: snapshots (forked, to a pipe or to disk) and their transfer
    replica.py    replica side: the link to our master, a state machine (REPLICAOF)
    receive.py    replica side: receiving the snapshot (sized or EOF-marked)
    applier.py    replica side: applying the stream, offsets, proxying to our own replicas
    resp_client.py  the small trio RESP client shared with the sentinel
    service.py    wiring: attach(node), and the background task the server starts
"""

from .service import attach

__all__ = ["attach"]
