"""deploy/docker-compose.yml, run without Docker: each service's own command in a namespace
named after it, every service name resolvable. The cluster comes up as `docker compose up`
would bring it up; then the master's host dies, the sentinels fail over, and a redis-py
Sentinel client in a "client" namespace follows: writes succeed on the new master.

The same file runs three ways: unchanged (all triokv); with redis-server substituted for
triokv-sentinel (triokv nodes driven by real Redis Sentinel); and with redis-server for
both (the reference behaviour, real Redis 7 throughout).
"""

from pathlib import Path

import pytest

from tests.faults import compose
from tests.faults.probe import Probe, ProbeError
from tests.support import need_binary, wait_until

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SENTINELS = {"sentinel1": 26379, "sentinel2": 26380, "sentinel3": 26381}
NODES = {"node1": 7000, "node2": 7001, "node3": 7002}
# What the test sets through the compose file's variables: a lean failover.
VARIABLES = {"DOWN_AFTER_MS": "1000", "FAILOVER_TIMEOUT_MS": "3000", "REPL_DISKLESS_SYNC_DELAY": "0"}
UP_DEADLINE = 40.0
FAILOVER_DEADLINE = 30.0
# Which programs real Redis stands in for, per variant.
VARIANTS = {"triokv": {}, "triokv-nodes+redis-sentinels": compose.REDIS_SENTINEL, "redis": compose.REDIS_SUBSTITUTES}


def start_cluster(net, kind, tmp_path) -> compose.ComposeRun:
    services = compose.load(DEPLOY / "docker-compose.yml", VARIABLES)
    substitutes = None
    if VARIANTS[kind]:
        need_binary("redis-server")
        substitutes = compose.write_substitutes(tmp_path / "substitutes", VARIANTS[kind])
    run = compose.ComposeRun(net, services, compose.image_workdir(DEPLOY / "Dockerfile"), substitutes)
    run.up(UP_DEADLINE)
    return run


def cluster_settled(probe) -> bool:
    """Master with two online replicas; every sentinel sees both replicas and the two others."""
    info = probe.ok("node1", NODES["node1"], "info", "replication") or {}
    online = [k for k, v in info.items() if k.startswith("slave") and isinstance(v, dict) and v.get("state") == "online"]
    if info.get("role") != "master" or len(online) != 2:
        return False
    for host, port in SENTINELS.items():
        master = probe.ok(host, port, "sentinel_master", "mymaster") or {}
        if master.get("num-slaves") != 2 or master.get("num-other-sentinels") != 2:
            return False
    return True


def master_by_sentinels(probe) -> set:
    """The (host, port) each answering sentinel gives for mymaster."""
    answers = (probe.ok(host, port, "sentinel_get_master_addr_by_name", "mymaster") for host, port in SENTINELS.items())
    return {tuple(a) for a in answers if a}


def master_write(probe, key, value) -> bool:
    try:
        return probe.master("app", "set", key, value) is True
    except ProbeError:
        return False  # mid-failover: the client rediscovers the master on its next call


@pytest.mark.parametrize("kind", list(VARIANTS))
def test_compose_cluster_fails_over_and_a_sentinel_client_follows(network, tmp_path, kind):
    net = network([*NODES, *SENTINELS, "client"])
    run = start_cluster(net, kind, tmp_path)
    probe = Probe.start(net, "client")
    try:
        wait_until(lambda: run.assert_running() and cluster_settled(probe), UP_DEADLINE, "replicas in sync and sentinels knowing each other", interval=0.2)
        probe.sentinel("app", list(SENTINELS.items()), "mymaster")
        assert probe.master("app", "set", "before", "1") is True
        assert probe.call("node1", NODES["node1"], "wait", 2, 5000, timeout=7) == 2

        net.kill("node1")

        def failed_over():
            return run.assert_running("node1") and master_by_sentinels(probe) in ({("node2", 7001)}, {("node3", 7002)})

        wait_until(failed_over, FAILOVER_DEADLINE, "all sentinels to name node2 or node3", interval=0.2)
        (new_host, new_port), = master_by_sentinels(probe)
        wait_until(lambda: master_write(probe, "after", "2"), FAILOVER_DEADLINE, "the Sentinel client to write on the new master", interval=0.2)

        assert probe.call(new_host, new_port, "role")[0] == "master"
        assert probe.call(new_host, new_port, "mget", "before", "after") == ["1", "2"]
        other = "node3" if new_host == "node2" else "node2"
        wait_until(lambda: (probe.ok(other, NODES[other], "info", "replication") or {}).get("master_host") == new_host, FAILOVER_DEADLINE, "%s to replicate from %s" % (other, new_host), interval=0.2)
    except BaseException:
        print(run.logs())
        raise
