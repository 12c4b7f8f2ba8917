"""Replication commands: PSYNC, SYNC, REPLCONF, WAIT, ROLE, REPLICAOF/SLAVEOF.

The work is done by the node's replication state (replication.state, with
its master side and its link); these functions parse and answer as Redis 7.0.
"""

import time

from ..errors import CommandError
from ..resp import OK, simple
from .args import parse_int
from .connection import info_line
from .table import command

_ALREADY = simple("OK Already connected to specified master")
_WAIT_ON_REPLICA = "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated."
_INVALID_PORT = "ERR Invalid master port"
_SYNC_FLAGS = "admin noscript no_async_loading no_multi"
_REPLICAOF_FLAGS = "admin noscript stale no_async_loading"
_REPLICAOF_ARGS = [{"name": "args", "type": "oneof", "arguments": [
    {"name": "host-port", "type": "block", "arguments": [{"name": "host", "type": "string"}, {"name": "port", "type": "integer"}]},
    {"name": "no-one", "type": "block", "arguments": [{"name": "no", "type": "pure-token", "token": "NO"}, {"name": "one", "type": "pure-token", "token": "ONE"}]},
]}]


@command("psync", -3, _SYNC_FLAGS, group="server", since="2.8.0", summary="Internal command used for replication",
         docs={"arguments": [{"name": "replicationid", "type": "string"}, {"name": "offset", "type": "integer"}]})
def psync(c, argv):
    return c.node.replication.master.psync(c, argv)


@command("sync", 1, _SYNC_FLAGS, group="server", since="1.0.0", summary="Internal command used for replication")
def sync(c, argv):
    return c.node.replication.master.psync(c, argv)


@command("replconf", -1, "admin noscript loading stale allow_busy", group="server", since="3.0.0",
         summary="An internal command for configuring the replication stream", docs={"complexity": "O(1)", "doc_flags": ["syscmd"]})
def replconf(c, argv):
    return c.node.replication.master.replconf(c, argv)


@command("wait", 3, "noscript", group="generic", since="3.0.0", acl="connection", tips="request_policy:all_shards response_policy:agg_min",
         summary="Wait for the synchronous replication of all the write commands sent in the context of the current connection",
         docs={"complexity": "O(1)", "arguments": [{"name": "numreplicas", "type": "integer"}, {"name": "timeout", "type": "integer"}]})
def wait(c, argv):
    node = c.node
    if node.role != "master":
        raise CommandError(_WAIT_ON_REPLICA)
    numreplicas = parse_int(argv[1])
    timeout = parse_int(argv[2], "ERR timeout is not an integer or out of range")
    if timeout < 0:
        raise CommandError("ERR timeout is negative")
    return node.replication.master.wait(c, numreplicas, timeout)


@command("role", 1, "noscript loading stale fast", group="server", since="2.8.12", acl="admin dangerous",
         summary="Return the role of the instance in the context of replication", docs={"complexity": "O(1)"})
def role(c, argv):
    return c.node.replication.role_reply()


@command("replicaof", 3, _REPLICAOF_FLAGS, group="server", since="5.0.0", summary="Make the server a replica of another instance, or promote it as master.",
         docs={"complexity": "O(1)", "arguments": _REPLICAOF_ARGS})
def replicaof(c, argv):
    return _replicaof(c, argv)


@command("slaveof", 3, _REPLICAOF_FLAGS, group="server", since="1.0.0", summary="Make the server a replica of another instance, or promote it as master.",
         docs={"complexity": "O(1)", "doc_flags": ["deprecated"], "deprecated_since": "5.0.0", "replaced_by": "`REPLICAOF`", "arguments": _REPLICAOF_ARGS})
def slaveof(c, argv):
    return _replicaof(c, argv)


def _replicaof(c, argv):
    link = c.node.replication.link
    if argv[1].lower() == b"no" and argv[2].lower() == b"one":
        if link.host is not None:
            link.unset_master()
            _log(c, "MASTER MODE enabled (user request from '%s')" % _who(c))
        return OK
    if c.kind == "replica":
        raise CommandError("ERR Command is not valid when client is a replica.")
    port = _port(argv[2])
    host = argv[1].decode("utf-8", "replace")
    same_master = link.host is not None and link.host.lower() == host.lower() and link.port == port
    if same_master and link.fenced:
        link.unfence()  # a failover given up: back to the same master, continuing where we were
        _log(c, "REPLICAOF %s:%d ends the failover fence (user request from '%s')" % (host, port, _who(c)))
        return OK
    if same_master:
        _log(c, "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.")
        return _ALREADY
    link.set_master(host, port)
    _log(c, "REPLICAOF %s:%d enabled (user request from '%s')" % (host, port, _who(c)))
    return OK


def _port(raw: bytes) -> int:
    try:
        port = parse_int(raw)
    except CommandError:
        raise CommandError(_INVALID_PORT) from None
    if not 0 <= port <= 65535:
        raise CommandError(_INVALID_PORT)
    return port


def _who(c) -> str:
    return info_line(c, time.time()).decode("utf-8", "replace").rstrip("\n")


def _log(c, text):
    log = c.node.log
    if log is not None:
        log.notice(text)


@command("fence", 3, "admin noscript loading stale", group="server", since="7.0.15", summary="triokv: stop following and acknowledging the master until given one again (failover fencing)",
         docs={"arguments": [{"name": "epoch", "type": "integer"}, {"name": "milliseconds", "type": "integer"}]})
def fence(c, argv):
    """FENCE epoch milliseconds: a failover leader (sentinel) fences a replica before it reads
    its offset. The replica drops its master link and neither reconnects nor acknowledges
    anything until REPLICAOF gives it a master, or the time runs out (a failover that was
    abandoned). The reply is the replication offset it holds, final while fenced."""
    epoch = parse_int(argv[1], "ERR invalid epoch")
    ms = parse_int(argv[2], "ERR invalid fence time")
    if epoch < 0 or ms <= 0:
        raise CommandError("ERR invalid epoch or fence time")
    link = c.node.replication.link
    if link.host is None:
        raise CommandError("ERR FENCE is for replicas: this node is a master")
    link.fence(epoch, ms)
    return link.reploff
