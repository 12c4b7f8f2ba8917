"""What the sentinels and nodes say, read with redis-py as any client would, and the health check.

Every call has a short socket timeout: an unreachable or frozen instance is reported, never
waited on.
"""

from dataclasses import dataclass, field

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .progress import NotYet

TIMEOUT = 1.0


def client(addr, timeout: float = TIMEOUT) -> redis.Redis:
    """A one-shot-friendly client: no retries (a failure is an answer), decoded replies."""
    return redis.Redis(host=addr[0], port=int(addr[1]), socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=True, retry=Retry(NoBackoff(), 0))


def fmt(addr) -> str:
    return "%s:%s" % (addr[0], addr[1])


def parse_addr(text: str, default_host: str = "127.0.0.1") -> tuple:
    """'host:port' or 'port' -> (host, port); ValueError on anything else."""
    host, _, port = text.rpartition(":")
    port = int(port)
    if not 0 < port < 65536:
        raise ValueError("port out of range: %d" % port)
    return (host or default_host, port)


def as_dict(reply) -> dict:
    """A flat [field, value, ...] reply (or what redis-py already made of it) as a dict."""
    if isinstance(reply, dict):
        return reply
    return dict(zip(reply[::2], reply[1::2]))


def call(addr, *args, timeout: float = TIMEOUT):
    with client(addr, timeout) as c:
        return c.execute_command(*args)


def sentinel_master(addr, name: str) -> dict:
    return as_dict(call(addr, "SENTINEL", "MASTER", name))


def sentinel_list(addr, what: str, name: str) -> list:
    """SENTINEL REPLICAS|SENTINELS name, each entry as a dict."""
    return [as_dict(entry) for entry in call(addr, "SENTINEL", what, name)]


def master_addr(sentinels, name: str):
    """The master's address as the first reachable sentinel gives it, or None."""
    for addr in sentinels:
        try:
            reply = call(addr, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)
        except (redis.RedisError, OSError):
            continue
        if reply:
            return (reply[0], int(reply[1]))
    return None


def info(addr, section: str = "replication", timeout: float = TIMEOUT) -> dict:
    with client(addr, timeout) as c:
        return c.info(section)


def answers_ping(addr) -> bool:
    """True when the server answered PING with PONG (not -LOADING, not refused)."""
    try:
        with client(addr, 0.5) as c:
            return bool(c.ping())
    except (redis.RedisError, OSError):
        return False


def role(addr) -> str:
    """What the process says it is: master, 'slave of HOST:PORT (link up|down)', sentinel, or 'unreachable'."""
    try:
        with client(addr, 0.5) as c:
            reply = c.execute_command("ROLE")
    except (redis.RedisError, OSError):
        return "unreachable"
    kind = reply[0]
    if kind == "slave":
        return "replica of %s:%s (link %s)" % (reply[1], reply[2], "up" if reply[3] == "connected" else reply[3])
    return kind


def replica_entries(master_info: dict) -> list:
    """The slaveN entries of a master's INFO replication, as dicts (ip, port, state, offset, lag)."""
    return [v for k, v in sorted(master_info.items()) if k.startswith("slave") and k[5:].isdigit() and isinstance(v, dict)]


@dataclass
class Health:
    master: tuple = None
    problems: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.master is not None and not self.problems


def sentinel_views(sentinels, name, replicas, problems) -> set:
    """Check each sentinel's view (flags, counts); the set of master addresses they name."""
    masters = set()
    for addr in sentinels:
        try:
            m = sentinel_master(addr, name)
            known = sentinel_list(addr, "REPLICAS", name)
        except (redis.RedisError, OSError) as e:
            problems.append("sentinel %s: %s" % (fmt(addr), e))
            continue
        masters.add((m["ip"], int(m["port"])))
        if m["flags"] != "master":
            problems.append("sentinel %s sees the master with flags %s" % (fmt(addr), m["flags"]))
        if int(m["num-slaves"]) != replicas:
            problems.append("sentinel %s knows %s replicas (want %d)" % (fmt(addr), m["num-slaves"], replicas))
        if int(m["num-other-sentinels"]) != len(sentinels) - 1:
            problems.append("sentinel %s knows %s other sentinels (want %d)" % (fmt(addr), m["num-other-sentinels"], len(sentinels) - 1))
        for r in known:
            if r["flags"] != "slave":
                problems.append("sentinel %s sees replica %s:%s with flags %s" % (fmt(addr), r["ip"], r["port"], r["flags"]))
    if len(masters) > 1:
        problems.append("sentinels disagree on the master: %s" % ", ".join(sorted(fmt(a) for a in masters)))
    return masters


def node_views(master, nodes, replicas, problems):
    """The master has every replica online; each replica is linked and has applied the master's
    stream as of the moment we asked the master (read first: offsets only grow)."""
    minfo = info(master)
    if minfo.get("role") != "master":
        problems.append("%s reports role %s" % (fmt(master), minfo.get("role")))
        return
    offset = minfo["master_repl_offset"]
    online = [e for e in replica_entries(minfo) if e.get("state") == "online"]
    if len(online) < replicas:
        problems.append("master %s has %d online replicas (want %d)" % (fmt(master), len(online), replicas))
    for addr in nodes or [(e["ip"], int(e["port"])) for e in online]:
        if tuple(addr) == tuple(master):
            continue
        rinfo = info(addr)
        if rinfo.get("role") != "slave" or (rinfo.get("master_host"), int(rinfo.get("master_port", 0))) != tuple(master):
            problems.append("%s is not a replica of %s (role %s)" % (fmt(addr), fmt(master), rinfo.get("role")))
        elif rinfo.get("master_link_status") != "up" or rinfo.get("master_sync_in_progress"):
            problems.append("%s: link to the master is %s" % (fmt(addr), rinfo.get("master_link_status")))
        elif rinfo.get("slave_repl_offset", -1) < offset:
            problems.append("%s is behind the master (offset %s < %s)" % (fmt(addr), rinfo.get("slave_repl_offset"), offset))


def health(sentinels, name: str, replicas: int = 2, nodes=None) -> Health:
    """Healthy: every sentinel reachable and agreeing on a master that is not down, knowing
    `replicas` replicas (none down) and every other sentinel; the master sees its replicas
    online; every other node (of `nodes`, when given) replicates it and has caught up."""
    result = Health()
    masters = sentinel_views(sentinels, name, replicas, result.problems)
    if len(masters) != 1:
        if not masters:
            result.problems.append("no sentinel answered")
        return result
    result.master = masters.pop()
    try:
        node_views(result.master, nodes, replicas, result.problems)
    except (redis.RedisError, OSError) as e:
        result.problems.append("node: %s" % e)
    return result


def healthy(sentinels, name, replicas=2, nodes=None) -> Health:
    """A wait condition: the Health when healthy, else NotYet with the first problems."""
    h = health(sentinels, name, replicas, nodes)
    if not h.ok:
        raise NotYet("; ".join(h.problems[:3]))
    return h
