"""triokv and real redis-server 7.0 replicate with each other, both ways: full sync
(diskless and disk-based), streaming, partial resync after a link cut; the data is
compared at the end with DEBUG DIGEST (the same algorithm on both)."""

import pytest

from tests.replication.conftest import sync_counts, wait_linked, wait_same_data
from tests.replication.workload import write_workload


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_redis_replica_follows_a_triokv_master(nodes, diskless):
    master = nodes("triokv", "--repl-diskless-sync", diskless, name="triokv-master")
    m = master.client()
    m.execute_command("DEBUG", "POPULATE", 50000)  # a snapshot of a few MB: many chunks
    m.set("big", "x" * (3 << 20))
    write_workload(m, seed=20, count=300)
    replica = nodes("redis", replica_of=master, name="redis-replica")
    wait_linked(replica)
    write_workload(master.client(), seed=21, count=300)
    wait_same_data(master, replica)
    assert sync_counts(master)[0] == 1
    # A cut: Redis's replica continues from triokv's backlog.
    m.client_kill_filter(_type="replica")
    write_workload(m, seed=22, count=200)
    wait_linked(replica)
    wait_same_data(master, replica)
    assert sync_counts(master)[:2] == (1, 1)
    assert master.info()["slave0"]["state"] == "online"
    assert m.execute_command("WAIT", 1, 2000) == 1  # triokv's GETACK answered by Redis's ACK


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_triokv_replica_follows_a_redis_master(nodes, diskless):
    master = nodes("redis", "--repl-diskless-sync", diskless, name="redis-master")
    master.client().execute_command("DEBUG", "POPULATE", 50000)
    master.client().set("big", "x" * (3 << 20))
    write_workload(master.client(), seed=30, count=300)
    replica = nodes("triokv", replica_of=master, name="triokv-replica")
    wait_linked(replica)
    write_workload(master.client(), seed=31, count=300)
    wait_same_data(master, replica)
    # WAIT on Redis counts triokv's ACKs (it answers REPLCONF GETACK).
    m = master.client()
    m.set("acked", "1")
    assert m.execute_command("WAIT", 1, 2000) == 1
    full, partial, _ = sync_counts(master)
    replica.client().client_kill_filter(_type="master")
    write_workload(m, seed=32, count=200)
    wait_linked(replica)
    wait_same_data(master, replica)
    assert sync_counts(master)[:2] == (full, partial + 1)


def test_mixed_chain_redis_triokv_redis(nodes):
    """Redis master -> triokv replica -> Redis sub-replica: triokv proxies Redis's stream."""
    master = nodes("redis", name="redis-master")
    middle = nodes("triokv", replica_of=master, name="triokv-middle")
    wait_linked(middle)
    leaf = nodes("redis", replica_of=middle, name="redis-leaf")
    wait_linked(leaf)
    write_workload(master.client(), seed=40, count=300)
    wait_same_data(master, middle, leaf)
    assert leaf.info()["master_replid"] == master.info()["master_replid"]


def test_promoted_triokv_replica_keeps_a_redis_replica_partial(nodes):
    """PSYNC2 across implementations: a Redis replica re-pointed to a promoted triokv
    replica of the same Redis master continues with a partial resync."""
    master = nodes("redis", name="redis-master")
    write_workload(master.client(), seed=50, count=200)
    promoted = nodes("triokv", replica_of=master, name="triokv-replica")
    other = nodes("redis", replica_of=master, name="redis-replica")
    for r in (promoted, other):
        wait_linked(r)
    wait_same_data(master, promoted, other)
    promoted.client().execute_command("REPLICAOF", "NO", "ONE")
    other.client().execute_command("REPLICAOF", promoted.host, promoted.port)
    wait_linked(other)
    write_workload(promoted.client(), seed=51, count=200)
    wait_same_data(promoted, other)
    assert sync_counts(promoted)[:2] == (0, 1)


def test_redis_cli_rdb_and_replica_modes(nodes, tmp_path):
    """redis-cli's replication-based tools work against triokv: --rdb (REPLCONF rdb-only,
    SYNC), --functions-rdb (rdb-filter-only: no data) and --replica (the live stream)."""
    import subprocess

    from node.persistence import rdb
    from tests.support import need_binary

    cli = need_binary("redis-cli")
    master = nodes("triokv", name="master")
    for db in (0, 2):
        client = master.client(db=db)
        for i in range(50 + db):
            client.set("key:%d" % i, i)
    dump = tmp_path / "dump.rdb"
    subprocess.run([cli, "-p", str(master.port), "--rdb", str(dump)], check=True, capture_output=True, timeout=20)
    parsed = rdb.parse(dump.read_bytes())
    assert {i: len(db.data) for i, db in parsed.dbs.items() if db.data} == {0: 50, 2: 52}
    functions = tmp_path / "functions.rdb"
    subprocess.run([cli, "-p", str(master.port), "--functions-rdb", str(functions)], check=True, capture_output=True, timeout=20)
    assert not any(db.data for db in rdb.parse(functions.read_bytes()).dbs.values())
    assert master.info()["connected_slaves"] == 0  # rdb-only replicas leave once served
