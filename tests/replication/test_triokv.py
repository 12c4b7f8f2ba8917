"""Replication between triokv processes: full sync, streaming, partial resync, WAIT,
min-replicas, READONLY, chained replicas, promotion with PSYNC2, restarts."""

import os
import signal
import time

import pytest
import redis as redis_py

from tests.replication.conftest import sync_counts, wait_caught_up, wait_linked, wait_same_data
from tests.replication.workload import write_workload
from tests.support import wait_until


@pytest.fixture
def trio_of(nodes):
    """A triokv master with data, and two triokv replicas in sync with it."""
    master = nodes("triokv", name="master")
    write_workload(master.client(), seed=1, count=200)
    replicas = [nodes("triokv", replica_of=master, name="replica%d" % i) for i in (1, 2)]
    for r in replicas:
        wait_linked(r)
    wait_same_data(master, *replicas)
    return master, replicas


def test_full_sync_then_streaming(trio_of):
    master, replicas = trio_of
    assert sync_counts(master)[0] == 2
    write_workload(master.client(), seed=2, count=300)
    digest = wait_same_data(master, *replicas)
    for r in replicas:
        assert r.digest() == digest
    info = master.info()
    assert info["connected_slaves"] == 2
    for name in ("slave0", "slave1"):
        assert info[name]["state"] == "online"
    role = master.client().execute_command("ROLE")
    assert role[0] == b"master" and len(role[2]) == 2


def test_replica_is_read_only_and_serves_reads(trio_of):
    master, (r1, _) = trio_of
    master.client().set("k", "v")
    wait_caught_up(master, r1)
    c = r1.client()
    assert c.get("k") == b"v"
    with pytest.raises(redis_py.exceptions.ReadOnlyError, match="You can't write against a read only replica."):
        c.set("k", "other")
    role = c.execute_command("ROLE")
    assert role[:4] == [b"slave", b"127.0.0.1", master.port, b"connected"]


def test_expired_keys_reach_replicas_as_deletions(trio_of):
    master, replicas = trio_of
    m = master.client()
    m.set("short", "v", px=100)
    wait_caught_up(master, *replicas)
    time.sleep(0.3)
    assert m.get("short") is None  # the master expires it: the DEL goes down the stream
    wait_caught_up(master, *replicas)
    for r in replicas:
        assert r.client().exists("short") == 0
    wait_same_data(master, *replicas)


def test_partial_resync_after_a_link_cut(trio_of):
    master, (r1, r2) = trio_of
    full, partial, _ = sync_counts(master)
    m = master.client()
    m.client_kill_filter(_type="replica")
    write_workload(m, seed=3, count=200)
    for r in (r1, r2):
        wait_linked(r)
    wait_same_data(master, r1, r2)
    full_after, partial_after, _ = sync_counts(master)
    assert full_after == full  # no snapshot moved
    assert partial_after == partial + 2


def test_replica_side_cut_resumes_too(trio_of):
    master, (r1, r2) = trio_of
    full, partial, _ = sync_counts(master)
    r1.client().client_kill_filter(_type="master")
    write_workload(master.client(), seed=4, count=100)
    wait_linked(r1)
    wait_same_data(master, r1, r2)
    assert sync_counts(master)[:2] == (full, partial + 1)


def test_wait_counts_acknowledging_replicas(trio_of):
    master, _ = trio_of
    m = master.client()
    m.set("w", "1")
    assert m.execute_command("WAIT", 2, 2000) == 2
    start = time.monotonic()
    m.set("w", "2")
    assert m.execute_command("WAIT", 3, 300) == 2  # only two exist: the timeout answers
    assert 0.25 < time.monotonic() - start < 3


def test_min_replicas_to_write(trio_of):
    master, _ = trio_of
    m = master.client()
    m.config_set("min-replicas-to-write", 3)
    with pytest.raises(redis_py.exceptions.ResponseError, match="NOREPLICAS Not enough good replicas to write."):
        m.set("k", "v")
    m.config_set("min-replicas-to-write", 2)
    wait_until(lambda: _writes(m), 5, "writes accepted with 2 good replicas")
    assert master.info()["min_slaves_good_slaves"] == 2


def _writes(client) -> bool:
    try:
        return client.set("k", "v")
    except redis_py.exceptions.ResponseError:
        return False


def test_chained_replica(nodes):
    master = nodes("triokv", name="master")
    middle = nodes("triokv", replica_of=master, name="middle")
    wait_linked(middle)
    leaf = nodes("triokv", replica_of=middle, name="leaf")
    wait_linked(leaf)
    write_workload(master.client(), seed=5, count=300)
    wait_same_data(master, middle, leaf)
    # The middle proxies its master's stream: same ID, same offsets all the way down.
    ids = {n.info()["master_replid"] for n in (master, middle, leaf)}
    assert len(ids) == 1
    assert master.info()["master_repl_offset"] == leaf.info()["master_repl_offset"]


def test_promotion_and_repointing_continue_with_psync2(trio_of):
    master, (r1, r2) = trio_of
    old_id = master.info()["master_replid"]
    write_workload(master.client(), seed=6, count=100)
    wait_same_data(master, r1, r2)
    r1.client().execute_command("REPLICAOF", "NO", "ONE")
    promoted = r1.info()
    assert promoted["role"] == "master"
    assert promoted["master_replid2"] == old_id
    # The old master and the other replica follow the promoted one, without a snapshot.
    for node in (r2, master):
        node.client().execute_command("REPLICAOF", r1.host, r1.port)
    for node in (r2, master):
        wait_linked(node)
    write_workload(r1.client(), seed=7, count=100)
    wait_same_data(r1, r2, master)
    full, partial, _ = sync_counts(r1)
    assert (full, partial) == (0, 2)


def test_replica_restart_from_its_snapshot_resumes(nodes):
    master = nodes("triokv", name="master")
    replica = nodes("triokv", replica_of=master, name="replica")
    wait_linked(replica)
    write_workload(master.client(), seed=8, count=200)
    wait_same_data(master, replica)
    replica.client().execute_command("SAVE")  # its snapshot carries repl-id / repl-offset
    replica.stop_process()
    write_workload(master.client(), seed=9, count=100)
    full, partial, _ = sync_counts(master)
    replica.start()
    wait_linked(replica)
    wait_same_data(master, replica)
    assert sync_counts(master)[:2] == (full, partial + 1)


@pytest.mark.parametrize("kind", ["triokv", "redis"])
def test_master_restart_from_its_snapshot_lets_replicas_continue(nodes, kind):
    """Redis 7.0: a master restarted from a snapshot naming its history takes it back as its
    previous replication ID, so its replicas resynchronize partially (the same with a real
    redis-server master, which is the reference)."""
    master = nodes(kind, "--save", "3600 1", name="master")
    replica = nodes("triokv", replica_of=master, name="replica")
    wait_linked(replica)
    write_workload(master.client(), seed=11, count=200)
    wait_same_data(master, replica)
    old_id = master.info()["master_replid"]
    master.stop_process()  # SIGTERM: the final snapshot carries repl-id / repl-offset
    master.start()
    wait_linked(replica)
    wait_same_data(master, replica)
    info = master.info()
    assert info["master_replid2"] == old_id
    assert sync_counts(master)[:2] == (0, 1)
    master.client().set("after-restart", 1)
    wait_same_data(master, replica)


def test_disk_based_sync(nodes):
    master = nodes("triokv", "--repl-diskless-sync", "no", name="master")
    write_workload(master.client(), seed=10, count=200)
    replica = nodes("triokv", replica_of=master, name="replica")
    wait_linked(replica)
    write_workload(master.client(), seed=11, count=100)
    wait_same_data(master, replica)
    assert "Starting BGSAVE for SYNC with target: disk" in master.log_text()


def test_replicas_arriving_together_share_one_snapshot(nodes):
    master = nodes("triokv", "--repl-diskless-sync-delay", "1", name="master")
    write_workload(master.client(), seed=12, count=100)
    replicas = [nodes("triokv", replica_of=master, name="replica%d" % i) for i in (1, 2)]
    for r in replicas:
        wait_linked(r)
    wait_same_data(master, *replicas)
    assert master.log_text().count("Starting BGSAVE for SYNC") == 1
    assert sync_counts(master)[0] == 2


def test_writes_during_the_snapshot_arrive_after_it(nodes):
    master = nodes("triokv", name="master")
    m = master.client()
    pipe = m.pipeline(transaction=False)
    for i in range(30000):
        pipe.set("big:%d" % i, "x" * 50)
    pipe.execute()
    replica = nodes("triokv", replica_of=master, name="replica")
    deadline = time.monotonic() + 10
    n = 0
    while replica.info().get("master_link_status") != "up" and time.monotonic() < deadline:
        m.incr("counter")  # written while the snapshot is made and sent
        n += 1
    assert n > 0, "no write landed while the snapshot was made and sent"
    wait_linked(replica)
    wait_same_data(master, replica)
    assert int(replica.client().get("counter")) == n


def test_a_replica_too_far_behind_is_dropped(nodes):
    master = nodes("triokv", "--client-output-buffer-limit", "replica 256kb 0 0", name="master")
    replica = nodes("triokv", replica_of=master, name="replica")
    wait_linked(replica)
    os.kill(replica.pid, signal.SIGSTOP)
    try:
        m = master.client()
        pipe = m.pipeline(transaction=False)
        for i in range(400):
            pipe.set("fill:%d" % i, "x" * 20000)  # 8 MB: more than the socket buffers hold
        pipe.execute()
        wait_until(lambda: master.info()["connected_slaves"] == 0, 10, "the replica to be dropped")
    finally:
        os.kill(replica.pid, signal.SIGCONT)
    assert "overcoming of output buffer limits" in master.log_text()
    wait_linked(replica)
    wait_same_data(master, replica)


def test_masterauth_and_announced_address(nodes):
    master = nodes("triokv", "--requirepass", "secret", name="master")
    replica = nodes("triokv", "--masterauth", "secret", "--replica-announce-ip", "10.1.2.3", "--replica-announce-port", 6390, replica_of=master, name="replica")
    wait_linked(replica)
    with master.client(password="secret") as m:
        assert m.info("replication")["slave0"]["ip"] == "10.1.2.3"
        assert m.info("replication")["slave0"]["port"] == 6390
        assert m.execute_command("ROLE")[2][0][:2] == [b"10.1.2.3", b"6390"]


def test_wrong_masterauth_keeps_the_link_down(nodes):
    master = nodes("triokv", "--requirepass", "secret", name="master")
    replica = nodes("triokv", "--masterauth", "wrong", replica_of=master, name="replica")
    wait_until(lambda: "Unable to AUTH to MASTER" in replica.log_text(), 10, "the AUTH failure to be logged")
    assert replica.info()["master_link_status"] == "down"
